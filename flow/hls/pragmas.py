"""The pragma lines that place one buffer or constant table of the plan: its banks and their storage.

Shared by the writer (buffers declared in the top function) and the engine (the tables its loop reads).
"""
from __future__ import annotations

STORAGE_PRAGMA = {
    "vitis": {"bram": "#pragma HLS BIND_STORAGE variable={v} type=ram_2p impl=bram",
              "lutram": "#pragma HLS BIND_STORAGE variable={v} type=ram_2p impl=lutram",
              "rom:bram": "#pragma HLS BIND_STORAGE variable={v} type=rom_1p impl=bram",
              "rom:lutrom": "#pragma HLS BIND_STORAGE variable={v} type=rom_1p impl=lutram"},
    "vivado": {"bram": "#pragma HLS RESOURCE variable={v} core=RAM_2P_BRAM",
               "lutram": "#pragma HLS RESOURCE variable={v} core=RAM_2P_LUTRAM",
               "rom:bram": "#pragma HLS RESOURCE variable={v} core=ROM_1P_BRAM",
               "rom:lutrom": "#pragma HLS RESOURCE variable={v} core=ROM_1P_LUTRAM"},
}


def memory_pragmas(dialect: str, variable: str, memory: dict | None) -> list[str]:
    """The pragma lines of one buffer or constant table of the plan: its banks and their storage."""
    if memory is not None and memory["storage"] == "fused":
        return [f"// {variable}: computed at a dense layer's output and not stored (kept for the C simulation trace)"]
    if memory is None or memory["storage"] == "registers":  # wires and register buffers: one word a register
        return [f"#pragma HLS ARRAY_PARTITION variable={variable} complete dim=0"]
    lines = []
    if memory["banks"] > 1:
        how = "ARRAY_RESHAPE" if memory.get("reshaped") else "ARRAY_PARTITION"
        lines.append(f"#pragma HLS {how} variable={variable} cyclic factor={memory['banks']} dim=1")
    key = ("rom:" if memory["rom"] else "") + memory["storage"]
    lines.append(STORAGE_PRAGMA[dialect][key].format(v=variable))
    return lines
