"""The names of what ``tsflow build`` writes into ``hls/``: the project (the top function's source), the
testbench and its data; the C simulation and the export read them (neither needs hls4ml to)."""

PROJECT = "tsflow_model"
TB_FILE = "tsflow_tb.cpp"
TB_DATA = "tb_data"
