"""What one piece of 7-series fabric costs: multipliers, adders, casts, RAM and ROM banks.

Device facts (``shared/notes/target-and-model-facts.md``, DS180, UG473/UG474, UG901):

* DSP48E1: one signed 25x18 product; wider products are split into 24x17 unsigned pieces, one DSP per
  pair of pieces (2 for 26..49 x 18, 4 for 35x35).
* LUT multiplier: about 400 LUTs for 18x18, growing with W1*W2 -> ``1.25 * W1 * W2`` LUTs.
* A W-bit adder or comparator: W LUTs (carry chain). Rounding on a cast: one adder of the output width;
  saturation: a compare over the dropped integer bits plus a W-bit mux.
* A k:1 multiplexer: one LUT6 per bit selects among 4, F7/F8 muxes among 16, so ``ceil((k - 1) / 3)``
  LUTs per bit.
* RAMB18E1 shapes 16Kx1, 8Kx2, 4Kx4, 2Kx9, 1Kx18, 512x36 (simple dual port: one write, one read); a
  bank of a banked buffer is read at most once a clock, so every shape is open to it.
* LUTRAM (UG474, distributed RAM configurations): RAM32M = 4 LUTs for 32x6 and RAM64M = 4 LUTs for
  64x3 simple dual port (one write, one read port), RAM64X1D = 2 LUTs for 64x1; deeper banks are
  64-word pieces behind a read multiplexer.
* DSP multiply-add: the tool puts an add fed by a product that nothing else reads into that product's
  DSP48E1 post-adder (UG1399, DSP multi-operation matching; 48-bit P): in a tree over the lanes'
  products the first level of adds, one per pair of lanes, costs no LUTs. LUT ROM: a LUT6 holds 64x1, or 32x2 as two LUT5
  with shared inputs.
* Registers: W flip-flops per word.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..fixedpoint import FixedType

RESOURCES = ("lut", "lutram", "ff", "bram18", "dsp")
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
LUT_MUL_PER_BIT_PRODUCT = 1.25
READ_LATENCY = {"registers": 0, "port": 0, "lutram": 1, "lutrom": 1, "bram": 2}
MUL_STAGES = {"dsp": 3, "lut": 2}


@dataclass(slots=True)
class Cost:
    lut: float = 0.0  # every LUT: logic and LUTRAM (Vivado's "Slice LUTs")
    lutram: float = 0.0  # the part of ``lut`` used as memory
    ff: float = 0.0
    bram18: float = 0.0
    dsp: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.lut + other.lut, self.lutram + other.lutram, self.ff + other.ff,
                    self.bram18 + other.bram18, self.dsp + other.dsp)

    def times(self, n: float) -> "Cost":
        return Cost(self.lut * n, self.lutram * n, self.ff * n, self.bram18 * n, self.dsp * n)

    def rounded(self) -> dict:
        return {r: int(math.ceil(getattr(self, r))) for r in RESOURCES}


def clog2(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 2))))


def adder(width: int) -> Cost:
    return Cost(lut=width, ff=width)


def counter(trips: int) -> Cost:
    bits = clog2(trips + 1)
    return Cost(lut=bits + 1, ff=bits)


def lane_tree(lanes: int, wa: int, wb: int, sum_width: int, mapping: str) -> Cost:
    """The adders summing the products of ``lanes`` multipliers: a tree of lanes - 1 adds of the sum's
    width, less one add per pair of lanes on single-DSP products (each in its DSP's post-adder)."""
    adds = lanes - 1
    if mapping == "dsp" and min(dsp_tiles(wa, wb), dsp_tiles(wb, wa)) == 1 and sum_width <= 48:
        adds -= lanes // 2
    return adder(sum_width).times(adds)


def mux(inputs: int, width: int) -> Cost:
    """A ``inputs``:1 multiplexer of ``width`` bits."""
    return Cost(lut=width * math.ceil(max(0, inputs - 1) / 3))


def dsp_tiles(wa: int, wb: int) -> int:
    """DSP48E1s for a signed wa x wb product: ``wa`` split into a signed 25-bit top and unsigned 24-bit
    pieces, ``wb`` into a signed 18-bit top and unsigned 17-bit pieces, one DSP per pair."""
    return (1 + math.ceil(max(0, wa - 25) / 24)) * (1 + math.ceil(max(0, wb - 18) / 17))


def multiplier(wa: int, wb: int, mapping: str) -> Cost:
    """One pipelined signed wa x wb multiplier on DSP48E1s or in LUTs."""
    if mapping == "lut":
        return Cost(lut=LUT_MUL_PER_BIT_PRODUCT * wa * wb, ff=wa + wb)
    dsps = min(dsp_tiles(wa, wb), dsp_tiles(wb, wa))
    return Cost(dsp=dsps, ff=wa + wb if dsps > 1 else 0)


def cast(src: FixedType, dst: FixedType) -> Cost:
    """Rounding and overflow logic of converting ``src`` to ``dst``, and the result register."""
    cost = Cost()
    if dst.rounding != "trn" and src.frac > dst.frac:
        cost += Cost(lut=dst.width)
    if dst.overflow == "sat" and src.integer > dst.integer:
        cost += Cost(lut=(src.integer - dst.integer) + dst.width)
    return cost + Cost(ff=dst.width)


def bram18_count(words: int, width: int) -> int:
    """RAMB18E1s for one bank of ``words`` x ``width`` (the cheapest shape, tiled)."""
    return min(math.ceil(words / d) * math.ceil(width / w) for d, w in BRAM18_SHAPES)


def lutram_bank(words: int, width: int) -> Cost:
    """One LUTRAM bank with a write port and a read port."""
    if words <= 32:
        mem = 4 * math.ceil(width / 6)
        return Cost(lut=mem, lutram=mem)
    pieces = math.ceil(words / 64)
    mem = min(2 * width, 4 * math.ceil(width / 3)) * pieces  # RAM64X1D or RAM64M, the fewer LUTs
    return Cost(lut=mem, lutram=mem) + mux(pieces, width)


def lut_rom_bank(words: int, width: int) -> Cost:
    """One constant bank in LUTs: a one-word bank is wiring; up to 32 words a LUT6 gives two bits (two
    LUT5 with shared inputs); deeper banks are 64x1 LUT6 pieces behind a read multiplexer."""
    if words <= 1:
        return Cost()
    if words <= 32:
        return Cost(lut=math.ceil(width / 2))
    pieces = math.ceil(words / 64)
    return Cost(lut=width * pieces) + mux(pieces, width)


def register_bank(words: int, width: int, readers: int, writers: int) -> Cost:
    """Words in flip-flops; written ``writers`` words a clock, with a write enable per word (after a
    shared address predecode) unless every word is written at once; each of the ``readers`` lanes reads
    consecutive words, so lane l only ever selects among every readers-th word."""
    enables = words if writers < words else 0
    return Cost(ff=words * width, lut=enables) + mux(math.ceil(words / readers), width).times(readers)


def memory_cost(storage: str, banks: int, bank_words: int, width: int, readers: int, rom: bool,
                writers: int = 1, reshaped: bool = False) -> Cost:
    """Every bank of one buffer or constant table (``reshaped``: the banks side by side in one wide word)."""
    if storage == "fused":  # computed on the way to another buffer: no storage
        return Cost()
    if storage == "port":
        return Cost(ff=bank_words * banks * width)
    if storage == "registers":
        if rom:  # constants in registers are logic: the read multiplexer over constant inputs
            return lut_rom_bank(bank_words * banks, width).times(max(1, readers))
        return register_bank(bank_words * banks, width, max(1, readers), writers)
    if storage == "bram":
        if reshaped:
            return Cost(bram18=bram18_count(bank_words, width * banks))
        return Cost(bram18=bram18_count(bank_words, width)).times(banks)
    if storage == "lutram":
        return lutram_bank(bank_words, width).times(banks)
    return lut_rom_bank(bank_words, width).times(banks)  # lutrom
