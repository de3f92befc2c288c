"""The HLS stage: the hardware description (plan), the hls4ml extension (layers, backend, plugin) and
the written project with its bit-exact testbench."""
