"""What the IP's ports add to the design (``hls.interface``, ``flow/hls/interface.py``).

``ap_vld`` adds nothing: the core's own ports are priced with its buffers. The ``s_axilite`` and
``axis`` wrappers add a pipelined loop (capture: one window word a clock into registers), the forecast
(one word a clock out, a wire when it is one word) and the AXI adapters Vitis HLS generates. The adapters are priced from what they
are built of, as the rest of the estimate: an AXI4-Lite slave holds a write-address and a read-data
register, its FSMs and the block-control bits (ap_start/done/idle/ready, auto-restart, the interrupt
enable and status registers of the UG1399 register map), a read multiplexer over the control word
and its memories, and one dual-port memory of 32-bit words per array argument; an AXI4-Stream input
passes a register slice (two data registers and the skid multiplexer). None of the shared reports
gives an adapter's own figures, so these are not calibrated apart from the totals.
"""
from __future__ import annotations

from .costs import READ_LATENCY, Cost, clog2, counter, lutram_bank, mux
from .rows import CONTROL_FF, CONTROL_LUT, WRITE_STAGES, BufferEstimate, LayerEstimate

WORD = 32  # bits of every AXI4-Lite register and stream beat the wrappers use
CONTROL_BITS = 10  # ap_start, ap_done, ap_idle, ap_ready, auto_restart, GIE, IER (2), ISR (2)
CONTROL_AREA = 16  # bytes of the control, GIE, IER and ISR registers before the arguments
READ_SOURCES_FIXED = 1  # the control word, beside one source per array argument


def _region(words: int) -> int:
    """Bytes an array argument takes in the register map: its words, aligned to a power of two."""
    return 2 ** clog2(WORD // 8 * words)


def axi_lite_slave(arrays: dict[str, int]) -> tuple[Cost, list[BufferEstimate]]:
    """An AXI4-Lite slave with the control registers and one memory per array (name -> words)."""
    address_bits = clog2(CONTROL_AREA + sum(_region(w) for w in arrays.values()))
    sources = READ_SOURCES_FIXED + len(arrays)
    logic = Cost(lut=mux(sources, WORD).lut + 2 * address_bits + CONTROL_LUT,
                 ff=address_bits + WORD + CONTROL_BITS + CONTROL_FF)
    memories = [BufferEstimate(f"s_axi_control.{name}", "lutram", words, WORD, 1, lutram_bank(words, WORD))
                for name, words in arrays.items()]
    return logic, memories


def stream_register_slice() -> Cost:
    """The register slice on an AXI4-Stream port: a data register, a skid register and their select."""
    return Cost(lut=WORD + 4, ff=2 * (WORD + 1) + 2)


def interface_estimates(cfg, prec, plan) -> tuple[list[LayerEstimate], list[LayerEstimate], list[BufferEstimate]]:
    """(loops before the core, loops and adapters after it, adapter memories) for ``plan.interface``."""
    if plan.interface == "ap_vld":
        return [], [], []
    output = next(m for m in plan.buffers.values() if m.storage == "port")
    n_in, n_out = plan.buffers["input"].words, output.words
    width_in = prec.types["input"]["output"].width
    loop = Cost(lut=CONTROL_LUT, ff=CONTROL_FF)
    if plan.interface == "s_axilite":
        adapter, memories = axi_lite_slave({"window": n_in, "forecast": n_out})
        fill, source = READ_LATENCY["lutram"], "the AXI4-Lite window memory"
        what = "AXI4-Lite slave s_axi_control (window, forecast and control registers)"
    else:
        adapter, memories = axi_lite_slave({"forecast": n_out})
        adapter += stream_register_slice()
        fill, source = 1, "the AXI4-Stream window (through its register slice)"
        what = "AXI4-Stream register slice on window, AXI4-Lite slave s_axi_control (forecast and control)"
    # the window's registers, each written once (an enable a word), all read at once by the input layer
    capture = LayerEstimate("capture", f"{n_in} window words from {source} into {width_in}-bit registers, "
                            f"one a clock", loop + counter(n_in) + Cost(ff=n_in * width_in, lut=n_in),
                            n_in + fill + WRITE_STAGES, (n_in,))
    if n_out == 1:  # one word: written as it is, no loop
        forecast = LayerEstimate("forecast", "the forecast word into the AXI4-Lite forecast memory", Cost(),
                                 WRITE_STAGES, ())
    else:
        forecast = LayerEstimate("forecast", f"{n_out} forecast words into the AXI4-Lite forecast memory, one a "
                                 f"clock", loop + counter(n_out) + mux(n_out, WORD), n_out + WRITE_STAGES, (n_out,))
    return [capture], [forecast, LayerEstimate("adapter", what, adapter, 0)], memories

