"""The estimator's figures for whole designs, derived by hand from its documented model.

Every expected number below is a literal worked out on paper from the module docstring of
``flow/estimate.py`` (device facts and assumptions), the design's shapes and the resolved fixed-point
types (``flow.precision.resolve_precisions``); nothing is recomputed with the code under test. The
derivation of each literal is the comment next to it, so a change to any formula (cycles, pipeline
depth, cast logic, ROM, divider, control, LUTRAM mux) shows up as a named layer and figure.

Model rules used in the derivations (the notation of the comments):

* ``sXX.I`` / ``uXX.I``: signed / unsigned ap_fixed of XX bits with I integer bits (frac = XX - I).
  An unsigned operand is one bit wider as the DSP48E1 / a signed multiplier sees it.
* multiplier: ``auto`` -> LUT when both signed widths together are <= 12 bits, else DSP. DSP: one
  DSP48E1 per 25x18 piece, no LUT, no FF when one DSP. LUT: 1.25 * Wa * Wb LUTs, Wa + Wb FFs,
  plus one accumulator adder (acc LUTs + acc FFs) per lane.
* adder / comparator of W bits: W LUTs + W FFs. counter of N trips: clog2(N + 1) FFs, one LUT more.
* cast src -> dst: rounding (dst not trn, src.frac > dst.frac) = dst.width LUTs; saturation (dst sat,
  src.int > dst.int) = (src.int - dst.int) + dst.width LUTs; always dst.width FFs.
* dense accumulator: the exact range of ``terms`` products gives the product type; its FULL type
  range plus the bias range gives the accumulator (exact signed type: bits = bit_length + 1).
* MAC loop: lanes x multiplier (+ LUT adders), acc FFs, output cast, control 24 LUT / 16 FF,
  ``levels`` counters of ``terms`` trips (dense 3, attention 4); cycles = outputs x
  (ceil(terms / P) x II + depth + 1), depth = read latency (registers 0, LUTRAM 1, BRAM 2)
  + multiplier stages (DSP 3, LUT 2) + clog2(P) (clog2(1) = 1) + 1.
* elementwise loop: lanes x (adder + extra), control, one counter of rows*per_row trips;
  cycles = rows x (ceil(per_row / P) x II + read latency + 3).
* II: reads of P lanes from a RAM = ceil(P / 2), writes of P lanes into a RAM = P, registers 1.
* ROM of N words x W bits in P cyclic banks (n = ceil(N / P) <= 1024 words per bank):
  P x (W x ceil(n / 64) + W x max(0, ceil(n / 256) - 1)) LUTs.
* softmax: exp_w = exp_frac + 1, sum_w = exp_w + bit_length(T), num_w = exp_w + prob.frac;
  3 comparators/subtractors of score.width + 1, exp ROM, sum adder, divider (num_w x sum_w LUTs,
  num_w x (sum_w + num_w) / 2 FFs), cast of u<num_w>.<exp_w> to prob, control, 2 counters of T;
  cycles = H x T rows x (3 x T + num_w + 8).
* buffers: auto -> LUTRAM when <= 64 words or <= 1024 bits, else BRAM. LUTRAM: <= 32 words
  4 x ceil(W / 6) (RAM32M), else 2 x W x ceil(words / 64) (RAM64X1D), plus a read mux
  W x ceil((ceil(words / 64) - 1) / 3) x min(read lanes, 2). Registers: words x W FFs,
  read lanes x W x ceil(words / 4) + words LUTs. BRAM: cheapest RAMB18 shape (512x36 only for one read).
  The model output is the top port: words x W FFs.
* top level: 2 x control = 48 LUTs, 32 FFs on top of the layers and buffers.
"""
import pytest

from flow.config import load_config, parse_config
from flow.estimate import estimate

from .conftest import REPO, small_raw

FIGURES = ("lut", "lutram", "ff", "bram18", "dsp")


def layer_table(est) -> dict:
    """Layer name -> (lut, lutram, ff, bram18, dsp, cycles), unrounded."""
    return {e.name: tuple(getattr(e.cost, r) for r in FIGURES) + (e.cycles,) for e in est.layers}


def buffer_table(est) -> dict:
    """Buffer name -> (storage, words, width, lut, lutram, ff, bram18, dsp), unrounded."""
    return {b.name: (b.storage, b.words, b.width) + tuple(getattr(b.cost, r) for r in FIGURES) for b in est.buffers}


def assert_tables_equal(got: dict, want: dict):
    assert list(got) == list(want)  # same layers / buffers, in execution order
    wrong = {name: {"got": got[name], "want": want[name]} for name in want if got[name] != want[name]}
    assert not wrong, wrong


# =================================================================================================
# Design A: small_raw() as is: window T=8, n_features 1, d_model D=8, heads H=1 (DH=8), ffn F=16,
# bits 8, every storage / multiplier auto, parallelism 1, head "mean", no delta.
# Types: input s12.4; weights s8.1; biases s16.3; activations s8.3; pos table s8.2;
# scores s8.4; softmax exp table u8.1 (exp_frac 7, 256 entries), prob u8.0; ffn1 out u8.2;
# norm scale s8.2, shift s16.3; head out s16.6.  Every multiplier is >= 8+8 = 16 bits -> DSP.
# Every buffer is LUTRAM (read latency 1) except the output port.
# Accumulators (derived once, used below):
#  embed: 1 product s12.4 x s8.1: range [-262016, 262144] @frac 15 -> s20; full s20 range
#         +-524288 + bias +-32768 x 4 = [-655360, 655355] -> 21 bits: acc s21.6 (frac 15)
#  8-term s8.3 x s8.1: [-130048, 131072] @12 -> s19; +-262144 x 2 + bias +-32768 -> 557056 -> s21.8 (frac 13)
#  16-term u8.2 x s8.1 (ffn2): [-522240, 518160] @13 -> s20; +-524288 + 32768 = 557056 -> s21.8 (frac 13)
#  scores: 8 x s8.3 x s8.3: s19.9 (frac 10); 1/sqrt(8) -> shift 2: scaled s19.7 (frac 12)
#  context: 8 x u8.0 x s8.3: [-261120, 259080] @13 -> s19.6 (frac 13)
#  pool: 8 x s8.3 sum [-1024, 1016] -> s11.6 (frac 5); times u16.0 reciprocal -> 27 bits, int 6
# =================================================================================================

def design_a():
    return parse_config(small_raw())


DESIGN_A_LAYERS = {
    # adder 12 + control 24 + counter(8) clog2(9)=4 -> 5 LUT / 4 FF, port mux 1 lane x 12 bits x ceil(8/4)
    # LUT 12+24+5+24 = 65; FF 12+16+4 = 32; cycles 1 row x (8 x II 1 + read 0 (port) + 3) = 11
    "input": (65, 0, 32, 0, 0, 11),
    # 12x8 DSP 1; acc FF 21; cast s21.6->s8.3: round 8 + sat (6-3)+8 = 11 -> 19 LUT, 8 FF; control 24/16;
    # 3 x counter(1) clog2(2)=1 -> 3 x (2 LUT, 1 FF); ROM 8 weights x 8b = 8 LUT; bias ROM 8 x 16b = 16 LUT
    # LUT 19+24+6+8+16 = 73; FF 21+8+16+3 = 48
    # cycles 64 outputs x (ceil(1/1) x II 1 + depth (read 1 + DSP 3 + clog2(1)=1 + 1) + 1) = 64 x 8 = 512
    "embed": (73, 0, 48, 0, 1, 512),
    # adder 9 + cast s8.2->s8.3 (round 8, no sat, 8 FF) + control + counter(64) clog2(65)=7 -> 8/7;
    # ROM 64 x 8b = 8 x ceil(64/64) = 8 LUT.  LUT 9+8+24+8+8 = 57; FF 9+8+16+7 = 40
    # cycles 1 x (64 + read 1 + 3) = 68
    "pos": (57, 0, 40, 0, 0, 68),
    # 8x8 DSP 1; acc FF 21; cast s21.8->s8.3: 8 + (8-3)+8 = 21 LUT, 8 FF; control; 3 x counter(8) (5/4);
    # weights 64 x 8b = 8 x ceil(64/64) = 8 LUT; bias 8 x 16b = 16 LUT
    # LUT 21+24+15+8+16 = 84; FF 21+8+16+12 = 57; cycles 64 x (8 + (1+3+1+1) + 1) = 64 x 15 = 960
    "enc0.q": (84, 0, 57, 0, 1, 960),
    "enc0.k": (84, 0, 57, 0, 1, 960),
    "enc0.v": (84, 0, 57, 0, 1, 960),
    # 8x8 DSP 1; acc FF 19; cast s19.7 (frac 12) -> s8.4: 8 + (7-4)+8 = 19 LUT, 8 FF; control;
    # 4 x counter(8) = 20 LUT / 16 FF.  LUT 19+24+20 = 63; FF 19+8+16+16 = 59
    # cycles 1x8x8 = 64 outputs x (8 + (1+3+1+1) + 1) = 960
    "enc0.scores": (63, 0, 59, 0, 1, 960),
    # exp_w 8, sum_w 8 + bit_length(8)=4 -> 12, num_w 8 + 8 = 16
    # 3 x adder 9 = 27/27; exp ROM 256 x 8b = 8 x 4 = 32 (+ 8 x (ceil(256/256)-1) = 0); sum adder 12/12;
    # divider 16 x 12 = 192 LUT, 16 x (12+16)/2 = 224 FF; cast u16.8 -> u8.0: no round, sat 8 + 8 = 16 LUT, 8 FF;
    # control 24/16; 2 x counter(8) = 10/8
    # LUT 27+32+12+192+16+24+10 = 313; FF 27+12+224+8+16+8 = 295
    # cycles 8 rows x (3 x 8 + 16 + 8) = 8 x 48 = 384
    "enc0.softmax": (313, 0, 295, 0, 0, 384),
    # 9x8 DSP 1; acc FF 19; cast s19.6 (frac 13) -> s8.3: 8 + 3 + 8 = 19 LUT, 8 FF; control; 4 x counter(8)
    # LUT 19+24+20 = 63; FF 19+8+16+16 = 59; cycles 64 x (8 + 6 + 1) = 960
    "enc0.context": (63, 0, 59, 0, 1, 960),
    "enc0.o": (84, 0, 57, 0, 1, 960),  # as enc0.q (context s8.3 in, 8 x 8 weights)
    # adder 9 + cast s9.4 -> s8.3 (no round, sat 1 + 8 = 9 LUT, 8 FF) + control + counter(64) 8/7
    # LUT 9+9+24+8 = 50; FF 9+8+16+7 = 40; cycles 64 + 1 + 3 = 68
    "enc0.add1": (50, 0, 40, 0, 0, 68),
    # 8x8 DSP 1; adder 10 (out + 2); cast s16.3 -> s8.3 round 8 LUT, 8 FF; control; counter(64) 8/7;
    # scale ROM 8 x 8b = 8, shift ROM 8 x 16b = 16
    # LUT 10+8+24+8+8+16 = 74; FF 10+8+16+7 = 41; cycles 8 rows x (8 + 1 + 3) = 96
    "enc0.norm1": (74, 0, 41, 0, 1, 96),
    # as enc0.q but cast s21.8 -> u8.2: 8 + (8-2)+8 = 22 LUT; weights 128 x 8b = 8 x 2 = 16; bias 16 x 16b = 16
    # LUT 22+24+15+16+16 = 93; FF 21+8+16+12 = 57; cycles 8x16 = 128 outputs x 15 = 1920
    "enc0.ffn1": (93, 0, 57, 0, 1, 1920),
    # 9x8 DSP 1; acc FF 21; cast s21.8 -> s8.3 = 21 LUT, 8 FF; control; 3 x counter(16) clog2(17)=5 -> 18/15;
    # weights 128 x 8b = 16; bias 8 x 16b = 16.  LUT 21+24+18+16+16 = 95; FF 21+8+16+15 = 60
    # cycles 64 x (16 + 6 + 1) = 1472
    "enc0.ffn2": (95, 0, 60, 0, 1, 1472),
    "enc0.add2": (50, 0, 40, 0, 0, 68),  # as enc0.add1
    "enc0.norm2": (74, 0, 41, 0, 1, 96),  # as enc0.norm1
    # 11 x 17 (u16.0 reciprocal) DSP 1; adder 11 + control + counter(64) 8/7; cast 27.6 (frac 21) -> s8.3:
    # 8 + 3 + 8 = 19 LUT, 8 FF.  LUT 11+24+8+19 = 62; FF 11+16+7+8 = 42
    # cycles 8 rows x (8 + 1 + 3) + 8 x DSP 3 = 96 + 24 = 120
    "pool": (62, 0, 42, 0, 1, 120),
    # 8x8 DSP 1; acc FF 21; cast s21.8 -> s16.6: round 16 + sat 2 + 16 = 34 LUT, 16 FF; control; 3 x counter(8);
    # weights 8 x 8b = 8; bias 1 x 16b = 16.  LUT 34+24+15+8+16 = 97; FF 21+16+16+12 = 65
    # cycles 1 output x (8 + 6 + 1) = 15
    "head": (97, 0, 65, 0, 1, 15),
}

DESIGN_A_BUFFERS = {
    "input": ("lutram", 8, 12, 8, 8, 0, 0, 0),  # <= 32 words: RAM32M 4 x ceil(12/6) = 8
    # 64 words x 8: RAM64X1D 2 x 8 x ceil(64/64) = 16, mux 8 x ceil(0/3) = 0
    "embed": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "pos": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.q": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.k": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.v": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.scores": ("lutram", 64, 8, 16, 16, 0, 0, 0),  # 1 x 8 x 8 scores
    "enc0.softmax": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.context": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.o": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.add1": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.norm1": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    # 8 x 16 = 128 words x 8 = 1024 bits -> auto LUTRAM; 2 x 8 x 2 = 32, mux 8 x ceil(1/3) x min(1, 2) = 8
    "enc0.ffn1": ("lutram", 128, 8, 40, 32, 0, 0, 0),
    "enc0.ffn2": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.add2": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "enc0.norm2": ("lutram", 64, 8, 16, 16, 0, 0, 0),
    "pool": ("lutram", 8, 8, 8, 8, 0, 0, 0),  # RAM32M 4 x ceil(8/6) = 8
    "head": ("output_port", 1, 16, 0, 0, 16, 0, 0),  # the model output: 16 FFs
}


def test_design_a_every_layer_by_hand():
    assert_tables_equal(layer_table(estimate(design_a(), n_features=1)), DESIGN_A_LAYERS)


def test_design_a_every_buffer_by_hand():
    assert_tables_equal(buffer_table(estimate(design_a(), n_features=1)), DESIGN_A_BUFFERS)


def test_design_a_totals_by_hand():
    est = estimate(design_a(), n_features=1)
    # LUT layers 65+73+57+84x3+63+313+63+84+50+74+93+95+50+74+62+97 = 1565
    #     buffers 8 + 14 x 16 + 40 + 8 = 280; top 2 x 24 = 48 -> 1893
    # LUTRAM 8 + 14 x 16 + 32 + 8 = 272
    # FF layers 32+48+40+57x3+59+295+59+57+40+41+57+60+40+41+42+65 = 1147; output port 16; top 2 x 16 = 32 -> 1195
    # DSP: embed, q, k, v, scores, context, o, norm1, ffn1, ffn2, norm2, pool, head = 13
    assert est.total == {"lut": 1893, "lutram": 272, "ff": 1195, "bram18": 0, "dsp": 13}
    # 11 + 512 + 68 + 3 x 960 + 960 + 384 + 960 + 960 + 68 + 96 + 1920 + 1472 + 68 + 96 + 120 + 15
    assert est.latency_cycles == 10590


# =================================================================================================
# Design B: T=8, D=8, H=2 (DH=4), F=64, bits 4, head mean_last, predict_delta; storage ffn1 LUTRAM
# (512 words: 8 banks, read by 4 lanes -> the bank mux), scores BRAM, v registers, the rest auto;
# parallelism k 2, add1 2, ffn2 4; multipliers ffn1 and norm2 forced to DSP, the rest auto.
# Types: input s12.4; weights s4.1; biases s8.3; activations s4.3; pos table s4.2; scores s4.4;
# exp table u4.1 (exp_frac 3, 256 entries, index_frac 0), prob u4.0; ffn1 out u4.2;
# norm scale s4.2, shift s8.3; head and delta out s16.6.
# auto multipliers: 4x4 = 8 and 5x4 = 9 bits -> LUT (20 and 25 LUTs); 12x4 (embed) and pool -> DSP.
# Accumulators:
#  embed: 1 x s12.4 x s4.1: [-16376, 16384] @11 -> s16; +-32768 + bias +-128 x 64 = 40960 -> s17.6 (frac 11)
#  8-term s4.3 x s4.1: [-448, 512] @4 -> s11; +-1024 x 2 + 128 = 2176 -> s13.8 (frac 5)
#  64-term u4.2 x s4.1 (ffn2): [-7680, 6720] @5 -> s14; +-8192 + 128 = 8320 -> s15.10 (frac 5)
#  16-term s4.3 x s4.1 (head): [-896, 1024] @4 -> s12; +-2048 x 2 + 128 = 4224 -> s14.9 (frac 5)
#  scores: 4 x s4.3 x s4.3: [-224, 256] @2 -> s10.8; 1/sqrt(4) -> shift 1: scaled s10.7 (frac 3)
#  context: 8 x u4.0 x s4.3: [-960, 840] @5 -> s11.6 (frac 5)
#  pool: 8 x s4.3 sum [-64, 56] -> s7.6 (frac 1); x u16.0 -> 23 bits, int 6
#  head_in: union(s4.3, s4.3) = s4.3
# =================================================================================================

def design_b():
    raw = small_raw(heads=2, ffn=64, head="mean_last", predict_delta=True)
    raw["quantization"] = {"bits": 4}
    raw["hls"] = {"storage": {"enc0.ffn1": "lutram", "enc0.scores": "bram", "enc0.v": "registers"},
                  "parallelism": {"enc0.k": 2, "enc0.add1": 2, "enc0.ffn2": 4},
                  "multiplier": {"enc0.ffn1": "dsp", "enc0.norm2": "dsp"}}
    return parse_config(raw)


DESIGN_B_LAYERS = {
    # as design A: adder 12 + control 24 + counter(8) 5/4 + port mux 12 x ceil(8/4) = 24 -> 65 LUT, 32 FF, 11 cycles
    "input": (65, 0, 32, 0, 0, 11),
    # 12x4 DSP 1; acc FF 17; cast s17.6 (frac 11) -> s4.3: round 4 + sat 3 + 4 = 11 LUT, 4 FF; control 24/16;
    # 3 x counter(1) = 6/3; weights 8 x 4b = 4; bias 8 x 8b = 8.  LUT 11+24+6+4+8 = 53; FF 17+4+16+3 = 40
    # cycles 64 x (1 + (1 + 3 + 1 + 1) + 1) = 512
    "embed": (53, 0, 40, 0, 1, 512),
    # adder 5 + cast s4.2 -> s4.3 (round 4, 4 FF) + control + counter(64) 8/7 + ROM 64 x 4b = 4
    # LUT 5+4+24+8+4 = 45; FF 5+4+16+7 = 32; cycles 64 + 1 + 3 = 68
    "pos": (45, 0, 32, 0, 0, 68),
    # 4x4 LUT mul 1.25 x 16 = 20 LUT, 8 FF; acc adder 13/13; acc FF 13; cast s13.8 (frac 5) -> s4.3:
    # 4 + 5 + 4 = 13 LUT, 4 FF; control; 3 x counter(8) 15/12; weights 64 x 4b = 4; bias 8 x 8b = 8
    # LUT 20+13+13+24+15+4+8 = 97; FF 8+13+13+4+16+12 = 66
    # cycles 64 x (8 x II 1 + (read 1 + LUT 2 + clog2(1)=1 + 1) + 1) = 64 x 14 = 896
    "enc0.q": (97, 0, 66, 0, 0, 896),
    # 2 lanes: 2 x (20 + 13) LUT, 2 x (8 + 13) FF; weights 2 banks of 32 words: 2 x 4 x 1 = 8
    # LUT 66+13+24+15+8+8 = 134; FF 42+13+4+16+12 = 87
    # cycles 64 x (ceil(8/2) x II ceil(2/2)=1 + (1 + 2 + clog2(2)=1 + 1) + 1) = 64 x 10 = 640
    "enc0.k": (134, 0, 87, 0, 0, 640),
    "enc0.v": (97, 0, 66, 0, 0, 896),  # as enc0.q (it writes registers, reads LUTRAM pos)
    # 4x4 LUT mul 20/8; adder 10/10; acc FF 10; cast s10.7 (frac 3) -> s4.4: 4 + 3 + 4 = 11 LUT, 4 FF;
    # control; 4 x counter(4) clog2(5)=3 -> 16/12.  LUT 20+10+11+24+16 = 81; FF 8+10+10+4+16+12 = 60
    # cycles 2x8x8 = 128 x (4 + (1 + 2 + 1 + 1) + 1) = 1280
    "enc0.scores": (81, 0, 60, 0, 0, 1280),
    # exp_w 4, sum_w 4 + 4 = 8, num_w 4 + 4 = 8; 3 x adder 5 = 15/15; exp ROM 256 x 4b = 4 x 4 = 16;
    # sum adder 8/8; divider 8 x 8 = 64 LUT, 8 x 16 / 2 = 64 FF; cast u8.4 -> u4.0: sat 4 + 4 = 8 LUT, 4 FF;
    # control; 2 x counter(8) 10/8.  LUT 15+16+8+64+8+24+10 = 145; FF 15+8+64+4+16+8 = 115
    # cycles 2 x 8 = 16 rows x (3 x 8 + 8 + 8) = 640
    "enc0.softmax": (145, 0, 115, 0, 0, 640),
    # 5x4 LUT mul 25 LUT, 9 FF; adder 11/11; acc FF 11; cast s11.6 (frac 5) -> s4.3: 4 + 3 + 4 = 11, 4 FF;
    # control; 4 x counter(8) 20/16.  LUT 25+11+11+24+20 = 91; FF 9+11+11+4+16+16 = 67
    # cycles 2x8x4 = 64 x (8 + (read max(LUTRAM 1, registers 0) + 2 + 1 + 1) + 1) = 896
    "enc0.context": (91, 0, 67, 0, 0, 896),
    "enc0.o": (97, 0, 66, 0, 0, 896),  # as enc0.q
    # 2 lanes x (adder 5 + cast s5.4 -> s4.3 sat 1 + 4 = 5 LUT, 4 FF) = 20/18; control; counter(64) 8/7
    # LUT 20+24+8 = 52; FF 18+16+7 = 41; II = write of 2 lanes into LUTRAM = 2: 32 x 2 + 1 + 3 = 68
    "enc0.add1": (52, 0, 41, 0, 0, 68),
    # 4x4 LUT mul 20/8; adder 6/6; cast s8.3 -> s4.3 round 4 LUT, 4 FF; control; counter(64) 8/7;
    # scale ROM 8 x 4b = 4; shift ROM 8 x 8b = 8.  LUT 20+6+4+24+8+4+8 = 74; FF 8+6+4+16+7 = 41
    # cycles 8 x (8 + 1 + 3) = 96
    "enc0.norm1": (74, 0, 41, 0, 0, 96),
    # forced DSP 1; acc FF 13; cast s13.8 -> u4.2: 4 + 6 + 4 = 14 LUT, 4 FF; control; 3 x counter(8) 15/12;
    # weights 512 words x 4b in 1 bank: 4 x ceil(512/64) + 4 x (ceil(512/256) - 1) = 32 + 4 = 36; bias 64 x 8b = 8
    # LUT 14+24+15+36+8 = 97; FF 13+4+16+12 = 45; cycles 8x64 = 512 x (8 + (1+3+1+1) + 1) = 7680
    "enc0.ffn1": (97, 0, 45, 0, 1, 7680),
    # 4 lanes x (5x4 LUT mul 25/9 + adder 15/15) = 160/96; acc FF 15; cast s15.10 -> s4.3: 4 + 7 + 4 = 15, 4 FF;
    # control; 3 x counter(64) 3 x 8 / 3 x 7; weights 512 / 4 = 128 per bank: 4 x (4 x 2) = 32; bias 8
    # LUT 160+15+24+24+32+8 = 263; FF 96+15+4+16+21 = 152
    # II = 4 lanes from LUTRAM ffn1 = 2; cycles 64 x (16 x 2 + (1 + 2 + clog2(4)=2 + 1) + 1) = 64 x 39 = 2496
    "enc0.ffn2": (263, 0, 152, 0, 0, 2496),
    # 1 lane: adder 5 + cast 5 LUT / 4 FF + control + counter(64).  LUT 42; FF 32; cycles 68
    "enc0.add2": (42, 0, 32, 0, 0, 68),
    # forced DSP 1; adder 6 + cast 4 LUT / 4 FF + control + counter(64) + ROMs 4 + 8
    # LUT 6+4+24+8+12 = 54; FF 6+4+16+7 = 33; cycles 96
    "enc0.norm2": (54, 0, 33, 0, 1, 96),
    # 7 x 17 DSP 1; adder 7 + control + counter(64); cast 23.6 (frac 17) -> s4.3: 4 + 3 + 4 = 11 LUT, 4 FF
    # LUT 7+24+8+11 = 50; FF 7+16+7+4 = 34; cycles 8 x (8 + 1 + 3) + 8 x 3 = 120
    "pool": (50, 0, 34, 0, 1, 120),
    # adder 4 + control + counter(16) clog2(17)=5 -> 6/5; register file 2 x 8 x 4 = 64 FF
    # LUT 4+24+6 = 34; FF 4+16+5+64 = 89; cycles 1 x (16 + read 1 (LUTRAM pool, norm2) + 3) = 20
    "head_in": (34, 0, 89, 0, 0, 20),
    # 4x4 LUT mul 20/8; adder 14/14; acc FF 14; cast s14.9 (frac 5) -> s16.6: no round, sat 3 + 16 = 19, 16 FF;
    # control; 3 x counter(16) 18/15; weights 16 x 4b = 4; bias 1 x 8b = 8
    # LUT 20+14+19+24+18+4+8 = 107; FF 8+14+14+16+16+15 = 83
    # cycles 1 x (16 + (read 0 (registers head_in) + 2 + 1 + 1) + 1) = 21
    "head": (107, 0, 83, 0, 0, 21),
    # adder 17 + cast s17.7 -> s16.6 (sat 1 + 16 = 17 LUT, 16 FF) + control + counter(1) 2/1
    # LUT 17+17+24+2 = 60; FF 17+16+16+1 = 50; cycles 1 x (1 + read 1 (head in LUTRAM) + 3) = 5
    "delta": (60, 0, 50, 0, 0, 5),
}

DESIGN_B_BUFFERS = {
    "input": ("lutram", 8, 12, 8, 8, 0, 0, 0),  # RAM32M 4 x ceil(12/6)
    "embed": ("lutram", 64, 4, 8, 8, 0, 0, 0),  # 2 x 4 x 1, no mux
    "pos": ("lutram", 64, 4, 8, 8, 0, 0, 0),  # read by 2 lanes, but one bank: no mux
    "enc0.q": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    "enc0.k": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    # registers: 64 x 4 = 256 FF; read mux 1 lane x 4 x ceil(64/4) = 64 + 64 word enables = 128 LUT
    "enc0.v": ("registers", 64, 4, 128, 0, 256, 0, 0),
    # 2 x 8 x 8 = 128 words x 4 in one RAMB18 (4Kx4)
    "enc0.scores": ("bram", 128, 4, 0, 0, 0, 1, 0),
    # 128 x 4 = 512 bits -> auto LUTRAM: 2 x 4 x 2 = 16, mux 4 x ceil(1/3) x 1 read = 4
    "enc0.softmax": ("lutram", 128, 4, 20, 16, 0, 0, 0),
    "enc0.context": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    "enc0.o": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    "enc0.add1": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    "enc0.norm1": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    # 8 x 64 = 512 words x 4: 2 x 4 x 8 = 64; mux 4 x ceil((8-1)/3)=3 x min(4 lanes, 2 ports) = 24
    "enc0.ffn1": ("lutram", 512, 4, 88, 64, 0, 0, 0),
    "enc0.ffn2": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    "enc0.add2": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    "enc0.norm2": ("lutram", 64, 4, 8, 8, 0, 0, 0),
    "pool": ("lutram", 8, 4, 4, 4, 0, 0, 0),  # RAM32M 4 x ceil(4/6)
    "head": ("lutram", 1, 16, 12, 12, 0, 0, 0),  # 1 word -> auto LUTRAM: RAM32M 4 x ceil(16/6) = 12
    "delta": ("output_port", 1, 16, 0, 0, 16, 0, 0),
}


def test_design_b_every_layer_by_hand():
    assert_tables_equal(layer_table(estimate(design_b(), n_features=1)), DESIGN_B_LAYERS)


def test_design_b_every_buffer_by_hand():
    assert_tables_equal(buffer_table(estimate(design_b(), n_features=1)), DESIGN_B_BUFFERS)


def test_design_b_totals_by_hand():
    est = estimate(design_b(), n_features=1)
    # LUT layers 65+53+45+97+134+97+81+145+91+97+52+74+97+263+42+54+50+34+107+60 = 1738
    #     buffers 8x5 + 128 + 20 + 8x4 + 88 + 8x3 + 4 + 12 = 348; top 48 -> 2134
    # LUTRAM 8x5 + 16 + 8x4 + 64 + 8x3 + 4 + 12 = 192
    # FF layers 32+40+32+66+87+66+60+115+67+66+41+41+45+152+32+33+34+89+83+50 = 1231
    #    buffers v 256 + delta port 16 = 272; top 32 -> 1535
    # BRAM18: scores 1.  DSP: embed, ffn1, norm2, pool = 4
    assert est.total == {"lut": 2134, "lutram": 192, "ff": 1535, "bram18": 1, "dsp": 4}
    # 11+512+68+896+640+896+1280+640+896+896+68+96+7680+2496+68+96+120+20+21+5
    assert est.latency_cycles == 17405


# =================================================================================================
# configs/default.yaml: T=24, n_features 1, D=16, H=1 (DH=16), F=4 x 16 = 64, bits 8, head mean,
# predict_delta, everything auto, parallelism 1.  Types as design A (8-bit); every multiplier -> DSP.
# Buffers of 24 x 16 = 384 (and 576, 1536) words of 8 bits exceed 64 words and 1024 bits -> BRAM
# (read latency 2); input (24 words), pool (16) and head (1) -> LUTRAM (read latency 1).
# Accumulators:
#  embed: s21.6 (frac 15) as design A
#  16-term s8.3 x s8.1: [-260096, 262144] @12 -> s20; +-524288 x 2 + 32768 = 1081344 -> s22.9 (frac 13)
#  64-term u8.2 x s8.1 (ffn2): [-2088960, 2072640] @13 -> s22; +-2097152 + 32768 -> s23.10 (frac 13)
#  scores: 16 x s8.3 x s8.3 -> s20.10 (frac 10); 1/sqrt(16) -> shift 2: scaled s20.8 (frac 12)
#  context: 24 x u8.0 x s8.3: [-783360, 777240] @13 -> s21.8
#  pool: 24 x s8.3 sum [-3072, 3048] -> s13.8 (frac 5); x u16.0 -> 29 bits, int 8
# One table row per layer: (lut, lutram, ff, bram18, dsp, cycles)
# =================================================================================================

DEFAULT_LAYERS = {
    # adder 12 + control + counter(24) 6/5 + port mux 12 x ceil(24/4) = 72 -> 114 / 33; 24 + 0 + 3 = 27
    "input": (114, 0, 33, 0, 0, 27),
    # as design A embed (ROMs 16 x 8b = 8, 16 x 16b = 16); 24x16 = 384 x (1 + (1+3+1+1) + 1) = 3072
    "embed": (73, 0, 48, 0, 1, 3072),
    # adder 9 + cast 8/8 + control + counter(384) 10/9 + ROM 384 x 8b: 8 x 6 + 8 x (2 - 1) = 56
    # LUT 9+8+24+10+56 = 107; FF 9+8+16+9 = 42; 384 + read 2 (BRAM) + 3 = 389
    "pos": (107, 0, 42, 0, 0, 389),
    # DSP; acc 22; cast s22.9 -> s8.3 8 + 6 + 8 = 22; 3 x counter(16) 18/15; ROM 256 x 8b 32; bias 16 x 16b 16
    # LUT 22+24+18+32+16 = 112; FF 22+8+16+15 = 61; 384 x (16 + (2+3+1+1) + 1) = 9216
    "enc0.q": (112, 0, 61, 0, 1, 9216),
    "enc0.k": (112, 0, 61, 0, 1, 9216),
    "enc0.v": (112, 0, 61, 0, 1, 9216),
    # DSP; acc 20; cast s20.8 (frac 12) -> s8.4: 8 + 4 + 8 = 20; 4 x counter(16) 24/20
    # LUT 20+24+24 = 68; FF 20+8+16+20 = 64; 576 x (16 + 7 + 1) = 13824
    "enc0.scores": (68, 0, 64, 0, 1, 13824),
    # exp_w 8, sum_w 8 + bit_length(24)=5 -> 13, num_w 16: 3 x adder 9 27/27; ROM 32; adder 13/13;
    # divider 16 x 13 = 208 LUT, 16 x 29 / 2 = 232 FF; cast 16/8; control; 2 x counter(24) 12/10
    # LUT 27+32+13+208+16+24+12 = 332; FF 27+13+232+8+16+10 = 306; 24 rows x (72 + 16 + 8) = 2304
    "enc0.softmax": (332, 0, 306, 0, 0, 2304),
    # DSP 9x8; acc 21; cast s21.8 -> s8.3 8 + 5 + 8 = 21; 4 x counter(24) 24/20
    # LUT 21+24+24 = 69; FF 21+8+16+20 = 65; 384 x (24 + 7 + 1) = 12288
    "enc0.context": (69, 0, 65, 0, 1, 12288),
    "enc0.o": (112, 0, 61, 0, 1, 9216),  # as enc0.q
    # adder 9 + cast sat 9/8 + control + counter(384) 10/9 -> 52 / 42; 384 + 2 + 3 = 389
    "enc0.add1": (52, 0, 42, 0, 0, 389),
    # DSP; adder 10 + cast 8/8 + control + counter(384) + ROMs 8 + 16 -> 76 / 43; 24 x (16 + 2 + 3) = 504
    "enc0.norm1": (76, 0, 43, 0, 1, 504),
    # DSP; acc 22; cast -> u8.2 8 + 7 + 8 = 23; 3 x counter(16); ROM 1024 x 8b: 8 x 16 + 8 x (4 - 1) = 152;
    # bias 64 x 16b 16.  LUT 23+24+18+152+16 = 233; FF 22+8+16+15 = 61; 24x64 = 1536 x 24 = 36864
    "enc0.ffn1": (233, 0, 61, 0, 1, 36864),
    # DSP 9x8; acc 23; cast s23.10 -> s8.3 8 + 7 + 8 = 23; 3 x counter(64) 24/21; ROM 1024 x 8b 152; bias 16
    # LUT 23+24+24+152+16 = 239; FF 23+8+16+21 = 68; 384 x (64 + 7 + 1) = 27648
    "enc0.ffn2": (239, 0, 68, 0, 1, 27648),
    "enc0.add2": (52, 0, 42, 0, 0, 389),
    "enc0.norm2": (76, 0, 43, 0, 1, 504),
    # DSP 13x17; adder 13 + control + counter(384) 10/9; cast 29.8 -> s8.3 8 + 5 + 8 = 21 / 8
    # LUT 13+24+10+21 = 68; FF 13+16+9+8 = 46; 16 rows x (24 + 2 + 3) + 16 x 3 = 512
    "pool": (68, 0, 46, 0, 1, 512),
    # DSP; acc 22; cast s22.9 -> s16.6 16 + 19 = 35 / 16; 3 x counter(16); ROMs 8 + 16
    # LUT 35+24+18+8+16 = 101; FF 22+16+16+15 = 69; 1 x (16 + (1 (LUTRAM pool) + 3 + 1 + 1) + 1) = 23
    "head": (101, 0, 69, 0, 1, 23),
    # as design B delta: 60 / 50; 1 + 1 + 3 = 5
    "delta": (60, 0, 50, 0, 0, 5),
}

DEFAULT_BUFFERS = {
    "input": ("lutram", 24, 12, 8, 8, 0, 0, 0),  # RAM32M 4 x ceil(12/6)
    "embed": ("bram", 384, 8, 0, 0, 0, 1, 0),  # 384 x 8 in one 2Kx9 RAMB18
    "pos": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.q": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.k": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.v": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.scores": ("bram", 576, 8, 0, 0, 0, 1, 0),  # 24 x 24 in 2Kx9
    "enc0.softmax": ("bram", 576, 8, 0, 0, 0, 1, 0),
    "enc0.context": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.o": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.add1": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.norm1": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.ffn1": ("bram", 1536, 8, 0, 0, 0, 1, 0),  # 24 x 64 in 2Kx9
    "enc0.ffn2": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.add2": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "enc0.norm2": ("bram", 384, 8, 0, 0, 0, 1, 0),
    "pool": ("lutram", 16, 8, 8, 8, 0, 0, 0),  # RAM32M 4 x ceil(8/6)
    "head": ("lutram", 1, 16, 12, 12, 0, 0, 0),  # RAM32M 4 x ceil(16/6)
    "delta": ("output_port", 1, 16, 0, 0, 16, 0, 0),
}


@pytest.fixture(scope="module")
def default_estimate():
    return estimate(load_config(REPO / "configs" / "default.yaml"), n_features=1)


def test_default_config_every_layer_by_hand(default_estimate):
    assert_tables_equal(layer_table(default_estimate), DEFAULT_LAYERS)


def test_default_config_every_buffer_by_hand(default_estimate):
    assert_tables_equal(buffer_table(default_estimate), DEFAULT_BUFFERS)


def test_default_config_totals_and_latency_by_hand(default_estimate):
    # LUT layers 114+73+107+112x3+68+332+69+112+52+76+233+239+52+76+68+101+60 = 2168
    #     buffers 8 + 8 + 12 = 28; top 48 -> 2244.  LUTRAM 28
    # FF layers 33+48+42+61x3+64+306+65+61+42+43+61+68+42+43+46+69+50 = 1266; delta port 16; top 32 -> 1314
    # BRAM18: 15 buffers of one RAMB18.  DSP: 13 (every multiplying layer, one lane each)
    assert default_estimate.total == {"lut": 2244, "lutram": 28, "ff": 1314, "bram18": 15, "dsp": 13}
    # 27+3072+389+3x9216+13824+2304+12288+9216+389+504+36864+27648+389+504+512+23+5
    assert default_estimate.latency_cycles == 135606
    assert default_estimate.latency_us == pytest.approx(1356.06)  # at the default 100 MHz
