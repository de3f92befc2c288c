"""The IP's ports (``hls.interface``): which function Vitis HLS synthesises and how the testbench drives it.

* ``ap_vld``: hls4ml's top function ``tsflow_model`` itself: the window is one wide input with
  ``window_ap_vld`` (every element side by side), the forecast an output with its own valid, ``ap_ctrl_hs``.
* ``s_axilite``: ``tsflow_ip`` around it: window, forecast and the block control are registers of one
  AXI4-Lite slave (``s_axi_control``), so ``export_design`` writes a driver (``xtsflow_ip.h``).
* ``axis``: ``tsflow_ip`` with the window as an AXI4-Stream (``window_TDATA``, 32 bits, one element a
  beat) and the forecast and control as AXI4-Lite registers.

In both wrappers every element travels as one 32-bit word holding its mantissa (value x 2^frac of its
fixed-point type, sign-extended), window elements in time-major order (``window[t * channels + c]``).
The wrapper captures the whole window into registers before the first layer starts, so the bus is
free once the capture loop has read it; the forecast words are written after the last layer.
The core keeps hls4ml's signature, so ``hls_model.compile()`` / ``predict()`` call the same function.
"""
from __future__ import annotations

import math

from .plan import WRAPPER_FUNCTION

WRAPPER = WRAPPER_FUNCTION


def top_function(interface: str, core: str) -> str:
    """The function the HLS tool synthesises (``set_top``) for ``interface``."""
    return core if interface == "ap_vld" else WRAPPER


def driver_prefix(interface: str, core: str) -> str:
    """The name the generated driver gives the IP's instance type (``XTsflow_ip``)."""
    top = top_function(interface, core)
    return "X" + top[:1].upper() + top[1:]


def core_port_pragmas(interface: str, lines: list[str], ports: list[str]) -> list[str]:
    """The core's port pragmas for ``interface``: unchanged for ``ap_vld``; inside a wrapper the core's
    arguments are the wrapper's register arrays, so no INTERFACE and no reshape (a complete partition,
    as the wrapper declares them)."""
    if interface == "ap_vld":
        return lines
    out = []
    for line in lines:
        text = line.strip()
        if text.startswith("#pragma HLS INTERFACE"):
            continue
        for port in ports:
            if text.startswith(f"#pragma HLS ARRAY_RESHAPE variable={port} "):
                line = line.replace("ARRAY_RESHAPE", "ARRAY_PARTITION")
        out.append(line)
    return out


def prototype(interface: str, n_in: str, n_out: str) -> str:
    """The wrapper's declaration, for the top function's header (empty for ``ap_vld``)."""
    if interface == "ap_vld":
        return ""
    window = "hls::stream<ap_int<32> > &window" if interface == "axis" else f"const ap_int<32> window[{n_in}]"
    return (f"\n// hls.interface: {interface}; the function Vitis HLS synthesises (flow/hls/interface.py)\n"
            f"void {WRAPPER}({window}, ap_int<32> forecast[{n_out}]);\n")


def wrapper(interface: str, core: str, n_in: str, n_out: str, input_t: str, result_t: str) -> str:
    """The wrapper's definition, appended to the core's source file (empty for ``ap_vld``)."""
    if interface == "ap_vld":
        return ""
    if interface == "axis":
        ports = ("    #pragma HLS INTERFACE axis port=window\n"
                 "    #pragma HLS INTERFACE s_axilite port=forecast bundle=control\n"
                 "    #pragma HLS INTERFACE s_axilite port=return bundle=control\n")
        head = "hls::stream<ap_int<32> > &window"
        read = "window.read()"
        what = ("The window arrives as an AXI4-Stream of 32-bit beats, one element a beat, time-major; no TLAST\n"
                f"// is needed (the IP reads exactly {n_in} beats a forecast). The forecast words and the block control\n"
                "// (ap_start, ap_done, ap_idle, ap_ready) are AXI4-Lite registers (s_axi_control).")
    else:
        ports = ("    #pragma HLS INTERFACE s_axilite port=window bundle=control\n"
                 "    #pragma HLS INTERFACE s_axilite port=forecast bundle=control\n"
                 "    #pragma HLS INTERFACE s_axilite port=return bundle=control\n")
        head = f"const ap_int<32> window[{n_in}]"
        read = "window[i]"
        what = ("Window words, forecast words and the block control (ap_start, ap_done, ap_idle, ap_ready) are\n"
                "// registers of one AXI4-Lite slave (s_axi_control); export_design writes its driver.")
    return f"""
// hls.interface: {interface}. {what}
// Each word is one element's mantissa (value x 2^frac), sign-extended: window[t * channels + c] in
// {input_t}'s low bits, forecast[j] from {result_t}. The window is captured into registers before the
// first layer runs.
void {WRAPPER}({head}, ap_int<32> forecast[{n_out}]) {{
{ports}    {input_t} x[{n_in}];
    #pragma HLS ARRAY_PARTITION variable=x complete dim=0
    {result_t} y[{n_out}];
    #pragma HLS ARRAY_PARTITION variable=y complete dim=0
Capture:
    for (unsigned i = 0; i < {n_in}; i++) {{
        #pragma HLS PIPELINE II=1
        x[i] = tsflow::of_word<{input_t}>({read});
    }}
    {core}(x, y);
{_forecast(n_out)}}}
"""


def _forecast(n_out: str) -> str:
    """The forecast words written one a clock; a single word is a wire (a one-trip loop is no loop)."""
    if math.prod(int(k) for k in n_out.split("*")) == 1:
        return "    forecast[0] = tsflow::word_of(y[0]);\n"
    return f"""Forecast:
    for (unsigned j = 0; j < {n_out}; j++) {{
        #pragma HLS PIPELINE II=1
        forecast[j] = tsflow::word_of(y[j]);
    }}
"""


def testbench_drive(interface: str, core: str, input_t: str, output_t: str) -> str:
    """C++ of the testbench loop body that runs window ``s`` through the top function as a system
    would and fills ``got[j]`` with the forecast mantissas."""
    if interface == "ap_vld":
        return f"""        {input_t} x[n_in];
        {output_t} y[n_out];
        for (unsigned i = 0; i < n_in; i++)
            x[i] = std::ldexp((double)inputs[(size_t)s * n_in + i], -({input_t}::width - {input_t}::iwidth));
        {core}(x, y);
        for (unsigned j = 0; j < n_out; j++) got[j] = tsflow::mantissa(y[j]);
"""
    if interface == "axis":
        return f"""        // what a DMA or stream FIFO does: the window's words as beats, then start; the forecast registers
        hls::stream<ap_int<32> > window;
        ap_int<32> forecast[n_out];
        for (unsigned i = 0; i < n_in; i++) window.write(inputs[(size_t)s * n_in + i]);
        {WRAPPER}(window, forecast);
        if (!window.empty()) {{
            std::fprintf(stderr, "window %ld: the IP left beats of its stream unread\\n", s);
            return 2;
        }}
        for (unsigned j = 0; j < n_out; j++) got[j] = forecast[j].to_int();
"""
    return f"""        // what the processor does through the driver: write the window words, start, read the forecast words
        ap_int<32> window[n_in], forecast[n_out];
        for (unsigned i = 0; i < n_in; i++) window[i] = inputs[(size_t)s * n_in + i];
        {WRAPPER}(window, forecast);
        for (unsigned j = 0; j < n_out; j++) got[j] = forecast[j].to_int();
"""
