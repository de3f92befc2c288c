"""The estimator's figures for whole designs, derived by hand from its documented model.

Every expected number below is a literal worked out on paper from the model of ``flow/estimate/costs.py``
(device facts, module docstring) and ``flow/estimate/design.py`` (assumptions, module docstring), the
hardware plan of ``flow/hls/plan.py`` (one pipelined loop per layer, shared multiply lanes, banked
buffers and constant tables) and the design's fixed-point types. Nothing is recomputed with the code
under test: the only project code called is the estimator API (``estimate`` and ``estimate_plan`` on
``hls_plan``). The derivation of each literal is the comment next to it, so a change to any formula
(cycles, pipeline depth, cast logic, ROM, LUTRAM, registers, divider, control, engine) shows up as a
named layer or buffer and figure.

Notation: ``sW.I`` / ``uW.I`` signed / unsigned fixed point of W bits with I integer bits (frac = W - I);
a multiplier sees an unsigned operand one bit wider (u8 -> 9). ``bl(n)`` = n.bit_length().
``clog2(n)`` = ceil(log2 n), at least 1 (clog2(1) = clog2(2) = 1).

The model, in the words of the comments below:

* adder / comparator / accumulator of W bits: W LUT + W FF.  counter of N trips: b = clog2(N + 1) FF,
  b + 1 LUT.  k:1 mux of W bits: W x ceil((k - 1) / 3) LUT (a 1:1 mux is a wire).
* cast src -> dst: rounding (dst not trn and src.frac > dst.frac) = dst.W LUT; saturation (dst sat
  and src.I > dst.I) = (src.I - dst.I) + dst.W LUT; always dst.W FF (the result register).
* multiplier Wa x Wb: DSP = one DSP48E1 up to 25 x 18 (every product here), no FF;
  LUT = 1.25 x Wa x Wb LUT + (Wa + Wb) FF.  Stages: DSP 3, LUT 2.
* exact type of [lo, hi] at frac f: bits = max(bl(hi), bl(-lo - 1)) + 1 (at least f + 1).
  product accumulator of N products a x b: [N x min(0, products), N x max(0, products)] at a.f + b.f.
  dense accumulator: that type's FULL range plus the bias's full range at f = max of both fracs.
* control of a loop: 24 LUT + 16 FF, plus one counter per nest level: a MAC loop (outputs,
  trips / outputs), any other loop (trips).
* MAC loop (trips = outputs x ceil(terms / lanes)): control + accumulator adder + cast(acc -> out)
  (+ acc.W LUT for the ReLU of ffn1); on its own lanes also lanes x multiplier and (lanes - 1) adders of
  Wa + Wb + clog2(lanes) bits; on the shared lanes nothing more (the engine has them).  Writing a
  reshaped buffer of k banks: a row of k x W FF collected before each whole-word write + counter(k).
  cycles = trips + depth, depth = read latency (max over the buffers it reads and its residual:
  registers / port 0, LUTRAM 1, BRAM 2) + multiplier stages + tree levels bl(lanes - 1) (0 for one lane,
  1 for 2, 2 for 3-4, 3 for 5-8, 4 for 9-16) + 1 + epilogue stages + 1 (write).
* scores (MAC): the cast to the score type rounds from the accumulator read with the 1/sqrt(DH) shift
  s = bl(DH) // 2: the exact product accumulator sW.I is read as sW.(I - s) (f + s), so the saturation
  compare covers s integer bits fewer and the rounding is from f + s fraction bits.
* epilogue at a dense layer's output, one value a clock: the add (positional table or residual):
  adder of (max(y.I, other.I) + 1) + max(y.f, other.f) bits and cast of it to the add's output, 1 stage;
  the norm: multiplier (signed add output x signed scale, the norm's own mapping), f = add.f + scale.f,
  top = max(Wa + Wb - f, shift.I) + 1, adder of top + max(f, shift.f) bits, cast s(that).(top) -> norm
  output; multiplier stages + 1 more stages.
* element-wise loop (trips = ceil(elements / lanes)): control + lanes x per lane; cycles = trips + read
  latency + 1 + 1.  delta per lane: adder(W + 1) + cast s(W+1).(I+1) -> out.  input per lane: the
  port word's select, mux(ceil(elements / lanes), W).
* pool (trips = ceil(D / lanes) x T + D): control + lanes x adder(acc) + one multiplier acc x u16.0
  reciprocal (17 bits signed) + cast s(acc.W + 16).(acc.I) -> pool out; cycles = trips + read latency
  + multiplier stages + 2 + 1.  acc = exact type of T x the input range.
* head_in (concatenation, mean_last): control only (its 2D x W FF are the head_in register buffer's,
  counted there); it reads pool and the last norm2: cycles = trips + read latency (max of the two) + 1.
* softmax (trips = 2 x H x T x T): exp_w = exp_frac + 1, sum_w = exp_w + bl(T), num_w = max(exp_w + prob.f,
  sum_w - 1) + 1 (the numerator (e << prob.f) + (sum >> 1) of the rounded quotient);
  control + 2 adders of score.W + 1 (the difference to the row maximum, in each pass; 4 when the table
  index drops score bits: the add that rounds it, in each pass) + adder(sum_w) + adder(num_w) (the rounding
  add) + divider
  (num_w x sum_w LUT, num_w x (sum_w + num_w) FF) + cast u(num_w).(num_w - prob.f) -> prob; cycles = trips + sum fill (1 + 3) + divide fill (1 + 3 + num_w + 1)
  (it reads scores, but these fills are fixed: the scores buffer's read latency does not enter them).
* engine (the shared lanes): per lane multiplier + mux(users, Wa) + mux(users, Wb) + (Wa + Wb) operand
  FF; (lanes - 1) tree adders of Wa + Wb + ceil(log2 lanes) bits, less lanes // 2 (the first level, in
  the DSPs' post-adders) on single-DSP products; 0 cycles of its own.
* buffers, each bank of n = ceil(words / banks) words: fused 0; port words x W FF; registers: words x W
  FF + one write enable LUT per word unless every word is written at once + readers x mux(ceil(words /
  readers), W); LUTRAM: n <= 32 RAM32M 4 x ceil(W / 6), else ceil(n / 64) pieces of min(2 x W RAM64X1D,
  4 x ceil(W / 3) RAM64M) + mux(ceil(n / 64), W) (LUTRAM counts only the memory LUTs); BRAM: the cheapest RAMB18 shape,
  ceil(n / depth) x ceil(W / width) of 16Kx1 8Kx2 4Kx4 2Kx9 1Kx18 512x36; a reshaped BRAM buffer or table is ONE
  bank of n words x (W x banks).  Constant tables: LUT ROM per bank: 1 word 0, <= 32 words ceil(W / 2),
  else W x ceil(n / 64) + mux(ceil(n / 64), W); in registers: one LUT ROM of all its words.
* top level: 48 LUT + 32 FF.  Totals: the sum of everything, then the ceiling.  Latency: the sum of the
  layers' cycles (one after another).
"""
import pytest

from flow.config import load_config, parse_config
from flow.estimate import estimate, estimate_plan
from flow.hls.plan import Choice, hls_plan
from flow.precision import resolve_precisions

from .conftest import REPO, small_raw

FIGURES = ("lut", "lutram", "ff", "bram18", "dsp")


def layer_table(est) -> dict:
    """Layer name -> (lut, lutram, ff, bram18, dsp, cycles), unrounded."""
    return {e.name: tuple(getattr(e.cost, r) for r in FIGURES) + (e.cycles,) for e in est.layers}


def buffer_table(est) -> dict:
    """Buffer / table name -> (storage, words, width, banks, lut, lutram, ff, bram18, dsp), unrounded."""
    return {b.name: (b.storage, b.words, b.width, b.banks) + tuple(getattr(b.cost, r) for r in FIGURES)
            for b in est.buffers}


def loop_table(est) -> dict:
    """Loop name -> (lanes, trips, shared, mapping) of the plan the estimate priced."""
    return {n: (lp.lanes, lp.trips, lp.shared, lp.mapping) for n, lp in est.plan.loops.items()}


def assert_tables_equal(got: dict, want: dict):
    assert list(got) == list(want)  # same layers / buffers, in execution order
    wrong = {name: {"got": got[name], "want": want[name]} for name in want if got[name] != want[name]}
    assert not wrong, wrong


# =================================================================================================
# Design A: small_raw(heads=2, head="mean_last", predict_delta=True): T = 8, n_features 1, D = 8, H = 2
# (DH = 4), F = 16, bits 8.  hls: default_parallelism 4; parallelism input 8, q 3 (does not divide D),
# context 8, ffn2 2, pool 2; default multiplier DSP, ffn1 LUT (its own lanes), norm2 LUT; storage input
# registers, v BRAM, ffn1 LUTRAM; ROMs q.weight BRAM (3 lanes, 8 % 3 != 0: 3 banks), k.weight BRAM (4
# lanes divide n_in 8: reshaped), pos.table BRAM, exp table and head.weight in registers.
# Types: input s12.4 (f 8); weights s8.1 (f 7); biases s16.3 (f 13); activations s8.3 (f 5); pos table
# s8.2 (f 6); scores s8.4 (f 4); exp table u8.1 (exp_frac 7); prob u8.0 (f 8, signed 9); ffn1 out u8.2
# (f 6, signed 9); norm scale s8.2 (f 6), shift s16.3 (f 13); head / delta s16.6 (f 10).
# The plan: engine = the 9 MAC layers whose multiplier is DSP (all but ffn1): 8 lanes (the most, context),
# 12 x 8 (embed's input is 12 bits) DSP.  Buffers are banked by their readers' lanes (or the writer's).
# Accumulators:
#  embed: 1 x s12.4 x s8.1: products [-262016, 262144] -> bl 19 + 1 = s20 (f 15); full +-2^19 + bias
#         +-32768 x 2^2 = [-655360, 655355] -> bl 20 + 1 = s21.6 (f 15)
#  8-term s8.3 x s8.1 (q k v o, and ffn1 on norm1): [-130048, 131072] -> s19 (f 12); +-2^18 x 2 + 32768
#         = [-557056, 557053] -> s21.8 (f 13)
#  16-term u8.2 x s8.1 (ffn2): [-522240, 518160] -> s20 (f 13); +-2^19 + 32768 -> s21.8 (f 13)
#  16-term s8.3 x s8.1 (head on head_in = union(s8.3, s8.3) = s8.3): [-260096, 262144] -> s20 (f 12);
#         +-2^19 x 2 + 32768 = [-1081344, 1081341] -> s22.9 (f 13)
#  scores: 4 x s8.3 x s8.3: [-65024, 65536] -> s18.8 (f 10); read with the shift bl(4) // 2 = 1: s18.7 (f 11)
#  context: 8 x u8.0 x s8.3: [-261120, 259080] -> s19.6 (f 13)
#  pool: 8 x s8.3: [-1024, 1016] -> s11.6 (f 5), signed width 11
# =================================================================================================

def design_a():
    raw = small_raw(heads=2, head="mean_last", predict_delta=True)
    raw["hls"] = {"default_parallelism": 4, "default_multiplier": "dsp",
                  "parallelism": {"input": 8, "enc0.q": 3, "enc0.context": 8, "enc0.ffn2": 2, "pool": 2},
                  "multiplier": {"enc0.ffn1": "lut", "enc0.norm2": "lut"},
                  "storage": {"input": "registers", "enc0.v": "bram", "enc0.ffn1": "lutram"},
                  "rom": {"enc0.q.weight": "bram", "enc0.k.weight": "bram", "pos.table": "bram",
                          "enc0.exp_table": "registers", "head.weight": "registers"}}
    return parse_config(raw)


@pytest.fixture(scope="module")
def est_a():
    # every setting explicit: the plan is the YAML's, no search (estimate prices hls_plan as is)
    return estimate(design_a(), n_features=1)


DESIGN_A_LOOPS = {  # (lanes, trips, shared, mapping)
    "input": (8, 1, False, None),  # 8 elements / 8 lanes
    "embed": (4, 64, True, "dsp"),  # 64 outputs x ceil(1 term / 4)
    "enc0.q": (3, 192, True, "dsp"),  # 64 x ceil(8 / 3) = 64 x 3
    "enc0.k": (4, 128, True, "dsp"),  # 64 x 2
    "enc0.v": (4, 128, True, "dsp"),
    "enc0.scores": (4, 128, True, "dsp"),  # 2 x 8 x 8 = 128 outputs x ceil(4 / 4)
    "enc0.softmax": (1, 256, False, None),  # 2 passes x 128
    "enc0.context": (8, 64, True, "dsp"),  # 2 x 8 x 4 = 64 outputs x ceil(8 / 8)
    "enc0.o": (4, 128, True, "dsp"),
    "enc0.ffn1": (4, 256, False, "lut"),  # 8 x 16 = 128 outputs x 2, its own LUT lanes
    "enc0.ffn2": (2, 512, True, "dsp"),  # 64 x ceil(16 / 2)
    "pool": (2, 40, False, "dsp"),  # ceil(8 / 2) x 8 + 8
    "head_in": (1, 16, False, None),  # 2 x D
    "head": (4, 4, True, "dsp"),  # 1 x ceil(16 / 4)
    "delta": (4, 1, False, None),  # the default 4 lanes on 1 element: ceil(1 / 4)
}

DESIGN_A_LAYERS = {  # (lut, lutram, ff, bram18, dsp, cycles)
    # 8 lanes x (DSP 12x8: 1 DSP, no FF; mux(9 users, 12) = 12 x ceil(8/3) = 36 + mux(9, 8) = 8 x 3 = 24 LUT;
    # operand FF 12 + 8 = 20) = 480 LUT, 160 FF, 8 DSP; tree 7 adds less 8 // 2 = 4 in the DSPs' post-adders
    # (one DSP per product, sum 23 <= 48 bits): 3 x adder(12 + 8 + log2(8) = 23) = 69 / 69
    # LUT 480 + 69 = 549; FF 160 + 69 = 229
    "engine": (549, 0, 229, 0, 8, 0),
    # 8 lanes x mux(ceil(8/8) = 1, 12) = 0; control 24/16 + counter(1) clog2(2) = 1 -> 2/1
    # LUT 26; FF 17; cycles 1 trip + read 0 + 1 + 1 = 3
    "input": (26, 0, 17, 0, 0, 3),
    # control 24/16 + counter(64) clog2(65) = 7 -> 8/7 + counter(1) 2/1 = 34/24; acc adder 21/21;
    # cast s21.6 (f 15) -> s8.3: round 8 + sat (6-3) + 8 = 19 LUT, 8 FF;
    # epilogue pos: s8.3 + s8.2 table -> wide 3+1 = 4, f 6: adder(10) 10/10, cast s10.4 (f 6) -> s8.3:
    # round 8 + sat 1 + 8 = 17 LUT, 8 FF.  LUT 34+21+19+10+17 = 101; FF 24+21+8+10+8 = 71
    # cycles 64 + depth (read 0 (input registers) + DSP 3 + tree bl(3) = 2 + 1 + epilogue 1 + write 1 = 8) = 72
    "embed": (101, 0, 71, 0, 0, 72),
    # control 24/16 + counter(64) 8/7 + counter(3) clog2(4) = 2 -> 3/2 = 35/25; acc 21/21;
    # cast s21.8 (f 13) -> s8.3: round 8 + sat (8-3) + 8 = 21 LUT, 8 FF.  LUT 35+21+21 = 77; FF 25+21+8 = 54
    # cycles 192 + (read 1 (pos LUTRAM) + DSP 3 + bl(2) = 2 + 1 + 0 + 1 = 8) = 200
    "enc0.q": (77, 0, 54, 0, 0, 200),
    # as q with counter(2) 3/2 (trips / outputs = 2): 77 / 54; cycles 128 + (1 + 3 + bl(3) = 2 + 1 + 1) = 136
    "enc0.k": (77, 0, 54, 0, 0, 136),
    "enc0.v": (77, 0, 54, 0, 0, 136),  # as k (its BRAM write costs no read latency)
    # control 24/16 + counter(128) clog2(129) = 8 -> 9/8 + counter(1) 2/1 = 35/25; acc 18/18;
    # cast s18.7 (f 11, the acc read with the shift 1) -> s8.4: round 8 + sat (7-4) + 8 = 19 LUT, 8 FF.
    # LUT 35+18+19 = 72; FF 25+18+8 = 51
    # cycles 128 + (read 1 (q, k LUTRAM) + 3 + bl(3) = 2 + 1 + 1 = 8) = 136
    "enc0.scores": (72, 0, 51, 0, 0, 136),
    # exp_w 8, sum_w 8 + bl(8) = 12, num_w max(8 + 8, 12 - 1) + 1 = 17; control 24/16 + counter(256)
    # clog2(257) = 9 -> 10/9 = 34/25; 2 x adder(8 + 1) = 18/18; adder(12) 12/12; rounding adder(17) 17/17;
    # divider 17 x 12 = 204 LUT, 17 x (12 + 17) = 493 FF; cast u17.9 -> u8.0: no round (f 8 = 8),
    # sat 9 + 8 = 17 LUT, 8 FF
    # LUT 34+18+12+17+204+17 = 302; FF 25+18+12+17+493+8 = 573; cycles 256 + (1 + 3) + (1 + 3 + 17 + 1) = 282
    # (it reads scores, LUTRAM: the fixed fills do not take its read latency)
    "enc0.softmax": (302, 0, 573, 0, 0, 282),
    # control 24/16 + counter(64) 8/7 + counter(1) 2/1 = 34/24; acc 19/19; cast s19.6 (f 13) -> s8.3:
    # round 8 + sat 3 + 8 = 19 LUT, 8 FF.  LUT 34+19+19 = 72; FF 24+19+8 = 51
    # cycles 64 + (read max(softmax LUTRAM 1, v BRAM 2) = 2 + 3 + bl(7) = 3 + 1 + 1 = 10) = 74
    "enc0.context": (72, 0, 51, 0, 0, 74),
    # as q: control 35/25 (counter(2)), acc 21/21, cast 21/8;
    # epilogue add1: s8.3 + residual pos s8.3 -> adder(4 + 5 = 9) 9/9, cast s9.4 (f 5) -> s8.3 sat 1 + 8 = 9
    # LUT, 8 FF; norm1 on DSP 8x8 (1 DSP): f = 5 + 6 = 11, top = max(16 - 11, 3) + 1 = 6, adder(6 + max(11,
    # 13) = 19) 19/19, cast s19.6 (f 13) -> s8.3: round 8 + sat 3 + 8 = 19 LUT, 8 FF; stages 1 + 3 + 1 = 5
    # LUT 35+21+21 + 9+9+19+19 = 133; FF 25+21+8 + 9+8+19+8 = 98; DSP 1
    # cycles 128 + (read 1 (context, pos LUTRAM) + 3 + 2 + 1 + 5 + 1 = 13) = 141
    "enc0.o": (133, 0, 98, 0, 1, 141),
    # own LUT lanes: 4 x 8x8 LUT multiplier 1.25 x 64 = 80 LUT, 16 FF -> 320 / 64; 3 tree adders of
    # 8 + 8 + clog2(4) = 18 bits -> 54 / 54; control 24/16 + counter(128) 9/8 + counter(2) 3/2 = 36/26;
    # acc 21/21; ReLU 21 LUT; cast s21.8 (f 13) -> u8.2: round 8 + sat (8-2) + 8 = 22 LUT, 8 FF
    # LUT 36+21+22+21+320+54 = 474; FF 26+21+8+64+54 = 173
    # cycles 256 + (read 1 (norm1 LUTRAM) + LUT 2 + bl(3) = 2 + 1 + 1 = 7) = 263
    "enc0.ffn1": (474, 0, 173, 0, 0, 263),
    # control 24/16 + counter(64) 8/7 + counter(8) clog2(9) = 4 -> 5/4 = 37/27; acc 21/21; cast 21/8;
    # epilogue add2 as add1 (9 + 9 LUT, 9 + 8 FF); norm2 on LUT 8x8: 80 LUT, 16 FF, adder(19) 19/19,
    # cast 19/8; stages 1 + 2 + 1 = 4.  LUT 37+21+21 + 9+9+80+19+19 = 215; FF 27+21+8 + 9+8+16+19+8 = 116
    # cycles 512 + (read 1 (ffn1, residual norm1 LUTRAM) + 3 + bl(1) = 1 + 1 + 4 + 1 = 11) = 523
    "enc0.ffn2": (215, 0, 116, 0, 0, 523),
    # control 24/16 + counter(40) clog2(41) = 6 -> 7/6 = 31/22; 2 lanes x adder(11) = 22/22;
    # DSP 11 x 17 = 1 DSP; cast s27.6 (f 21) -> s8.3: round 8 + sat 3 + 8 = 19 LUT, 8 FF
    # LUT 31+22+19 = 72; FF 22+22+8 = 52; cycles 40 + read 1 (norm2 LUTRAM) + 3 + 2 + 1 = 47
    "pool": (72, 0, 52, 0, 1, 47),
    # control 24/16 + counter(16) clog2(17) = 5 -> 6/5 = 30/21 (the 16 x 8 = 128 FF are the head_in
    # buffer's, counted there).  LUT 30; FF 21
    # cycles 16 + read max(pool LUTRAM 1, norm2 LUTRAM 1) = 1 + 0 + 1 = 18
    "head_in": (30, 0, 21, 0, 0, 18),
    # control 24/16 + counter(1) 2/1 + counter(4) clog2(5) = 3 -> 4/3 = 30/20; acc 22/22;
    # cast s22.9 (f 13) -> s16.6 (f 10): round 16 + sat 3 + 16 = 35 LUT, 16 FF
    # LUT 30+22+35 = 87; FF 20+22+16 = 58
    # cycles 4 + (read 0 (head_in registers) + 3 + bl(3) = 2 + 1 + 1 = 7) = 11
    "head": (87, 0, 58, 0, 0, 11),
    # 4 lanes x (adder(17) 17/17 + cast s17.7 (f 10) -> s16.6: no round, sat 1 + 16 = 17 LUT, 16 FF)
    # = 136 / 132; control 24/16 + counter(1) 2/1.  LUT 26 + 136 = 162; FF 17 + 132 = 149
    # cycles 1 + 0 + 1 + 1 = 3
    "delta": (162, 0, 149, 0, 0, 3),
}

DESIGN_A_BUFFERS = {  # (storage, words, width, banks, lut, lutram, ff, bram18, dsp)
    # registers (8 banks), read by embed's 4 lanes, written all 8 at once: 96 FF, no enables,
    # 4 x mux(ceil(8/4) = 2, 12) = 4 x 12 = 48 LUT
    "input": ("registers", 8, 12, 8, 48, 0, 96, 0, 0),
    "embed": ("fused", 64, 8, 1, 0, 0, 0, 0, 0),  # computed on its way to pos
    # 4 banks (q 3, k 4, v 4 lanes read it) of 16 words: RAM32M 4 x ceil(8/6) = 8 each -> 32
    "pos": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),
    "enc0.q": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),  # scores 4 lanes: 4 x 8
    "enc0.k": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),
    # BRAM, 8 banks (context 8 lanes) of 8 words x 8: one RAMB18 (512x36) each
    "enc0.v": ("bram", 64, 8, 8, 0, 0, 0, 8, 0),
    # 2 x 8 x 8 = 128 words, softmax's 1 lane reads it: 1 bank; 128 x 8 = 1024 bits -> LUTRAM, deeper than 64:
    # 2 pieces of min(RAM64X1D 2 x 8 = 16, RAM64M 4 x ceil(8/3) = 12) = 12: 24 + mux(2, 8) = 8 x ceil(1/3) = 8
    # -> 32 LUT, 24 LUTRAM
    "enc0.scores": ("lutram", 128, 8, 1, 32, 24, 0, 0, 0),
    "enc0.softmax": ("lutram", 128, 8, 8, 64, 64, 0, 0, 0),  # 8 banks (context) of 16: 8 x 8
    "enc0.context": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),  # o 4 lanes
    "enc0.o": ("fused", 64, 8, 1, 0, 0, 0, 0, 0),
    "enc0.add1": ("fused", 64, 8, 1, 0, 0, 0, 0, 0),
    "enc0.norm1": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),  # ffn1 4 lanes
    # 2 banks (ffn2) of 64 words: 1 piece, RAM64M 4 x ceil(8/3) = 12, mux(1) = 0 -> 24
    "enc0.ffn1": ("lutram", 128, 8, 2, 24, 24, 0, 0, 0),
    "enc0.ffn2": ("fused", 64, 8, 1, 0, 0, 0, 0, 0),
    "enc0.add2": ("fused", 64, 8, 1, 0, 0, 0, 0, 0),
    "enc0.norm2": ("lutram", 64, 8, 2, 16, 16, 0, 0, 0),  # pool 2 lanes: 2 x 8
    "pool": ("lutram", 8, 8, 1, 8, 8, 0, 0, 0),  # 1 bank: RAM32M 8
    # 1 word -> registers: 16 FF, written at once (1 of 1): no enable, mux(1) = 0
    "head": ("registers", 1, 16, 1, 0, 0, 16, 0, 0),
    "delta": ("port", 1, 16, 1, 0, 0, 16, 0, 0),  # the model output: 16 FF
    "enc0.rowmax": ("lutram", 16, 8, 1, 8, 8, 0, 0, 0),  # H x T = 16 words x s8: RAM32M 8
    "enc0.rowsum": ("lutram", 16, 12, 1, 8, 8, 0, 0, 0),  # sum_w 12: 4 x ceil(12/6) = 8
    # 8 x s11: 88 FF + 8 enables + mux(8, 11) = 11 x ceil(7/3) = 33 -> 41 LUT
    "pool.sum": ("registers", 8, 11, 8, 41, 0, 88, 0, 0),
    # 16 x 8: 128 FF + 16 enables + 4 readers (head) x mux(ceil(16/4) = 4, 8) = 4 x 8 = 32 -> 48 LUT
    "head_in": ("registers", 16, 8, 16, 48, 0, 128, 0, 0),
    # constant tables
    "embed.weight": ("lutrom", 8, 8, 4, 16, 0, 0, 0, 0),  # 4 banks of 2 words: ceil(8/2) = 4 each
    "embed.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),  # ceil(16/2) = 8
    "pos.table": ("bram", 64, 8, 1, 0, 0, 0, 1, 0),  # 64 x 8: one RAMB18
    # 3 banks (not reshaped, 8 % 3 != 0) of ceil(64/3) = 22 words: one RAMB18 each
    "enc0.q.weight": ("bram", 64, 8, 3, 0, 0, 0, 3, 0),
    "enc0.q.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    # reshaped: 4 banks side by side, one 16-word x 32-bit bank: one 512x36 RAMB18 (not 4)
    "enc0.k.weight": ("bram", 64, 8, 4, 0, 0, 0, 1, 0),
    "enc0.k.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    "enc0.v.weight": ("lutrom", 64, 8, 4, 16, 0, 0, 0, 0),  # 4 banks of 16 words: 4 each
    "enc0.v.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    # registers: one LUT ROM of 256 x 8: 4 pieces 8 x 4 = 32 + mux(4, 8) = 8 -> 40
    "enc0.exp_table": ("registers", 256, 8, 256, 40, 0, 0, 0, 0),
    "enc0.o.weight": ("lutrom", 64, 8, 4, 16, 0, 0, 0, 0),
    "enc0.o.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    "enc0.norm1.scale": ("lutrom", 8, 8, 1, 4, 0, 0, 0, 0),
    "enc0.norm1.shift": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    "enc0.ffn1.weight": ("lutrom", 128, 8, 4, 16, 0, 0, 0, 0),  # 4 banks of 32 words: 4 each
    "enc0.ffn1.bias": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    # 2 banks of 64 words: 1 piece 8 x 1 + mux(1) 0 = 8 each
    "enc0.ffn2.weight": ("lutrom", 128, 8, 2, 16, 0, 0, 0, 0),
    "enc0.ffn2.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    "enc0.norm2.scale": ("lutrom", 8, 8, 1, 4, 0, 0, 0, 0),
    "enc0.norm2.shift": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    "head.weight": ("registers", 16, 8, 16, 4, 0, 0, 0, 0),  # one LUT ROM of 16 x 8: ceil(8/2) = 4
    "head.bias": ("lutrom", 1, 16, 1, 0, 0, 0, 0, 0),  # one word: wiring
}


def test_design_a_plan_is_the_yamls(est_a):
    # the 9 DSP MAC layers share 8 lanes (context's), 12 (embed's input) x 8 bits
    e = est_a.plan.engine
    assert (e.lanes, e.a_width, e.b_width, e.mapping) == (8, 12, 8, "dsp")
    assert e.users == ("embed", "enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.context", "enc0.o",
                       "enc0.ffn2", "head")
    assert_tables_equal(loop_table(est_a), DESIGN_A_LOOPS)


def test_design_a_every_layer_by_hand(est_a):
    assert_tables_equal(layer_table(est_a), DESIGN_A_LAYERS)


def test_design_a_every_buffer_and_table_by_hand(est_a):
    assert_tables_equal(buffer_table(est_a), DESIGN_A_BUFFERS)


def test_design_a_totals_by_hand(est_a):
    # LUT layers 549+26+101+77x3+72+302+72+133+474+215+72+30+87+162 = 2526
    #     buffers 48+32x3+32+64+32+32+24+16+8+8+8+41+48 = 457
    #     tables 16+8+8+8+16+8+40+16+8+4+8+16+8+16+8+4+8+4 = 204; top 48 -> 2526+457+204+48 = 3235
    # LUTRAM 32x3 + 24 + 64 + 32x3 + 16 + 8 + 8 + 8 = 312
    # FF layers 229+17+71+54x3+51+573+51+98+173+116+52+21+58+149 = 1821
    #    buffers input 96 + head 16 + delta 16 + pool.sum 88 + head_in 128 = 344; top 32 -> 2197
    # BRAM18 v 8 + pos.table 1 + q.weight 3 + k.weight 1 = 13.  DSP engine 8 + norm1 1 + pool 1 = 10
    assert est_a.total == {"lut": 3235, "lutram": 312, "ff": 2197, "bram18": 13, "dsp": 10}
    # 3+72+200+136+136+136+282+74+141+263+523+47+18+11+3
    assert est_a.latency_cycles == 2045
    # MACs 64x1 + 3x64x8 + 128x4 + 64x8 + 64x8 + 128x8 + 64x16 + 16 = 5200; 20 DSPs: ceil(5200/20)
    assert (est_a.macs, est_a.dsp_bound_cycles) == (5200, 260)


def test_design_a_softmax_that_rounds_its_table_index_by_hand(est_a):
    """quantization.softmax.index_frac 2 on design A's s8.4 scores (f 4): the index drops 2 score bits, so
    each of the two passes adds half a step before the shift (flow.tables.table_index)."""
    cfg = design_a().model_dump(mode="json", exclude_none=True)
    cfg["quantization"]["softmax"] = {"index_frac": 2}
    est = estimate(parse_config(cfg), n_features=1)
    assert resolve_precisions(parse_config(cfg)).softmax[0].index_shift == 2
    # design A's 302 / 573 / 282 plus 2 rounding adders of 8 + 1 bits: 18 LUT, 18 FF; no stage of their own
    assert layer_table(est)["enc0.softmax"] == (320, 0, 591, 0, 0, 282)
    # the exp table keeps its 256 words of 8 bits; nothing else changes
    assert est.total == {**est_a.total, "lut": 3235 + 18, "ff": 2197 + 18}
    assert est.latency_cycles == est_a.latency_cycles


# =================================================================================================
# Design B: small_raw(d_model=6, heads=2, ffn=12), bits 6: T = 8, n_features 1, D = 6, H = 2 (DH = 3),
# F = 12, head mean (reads pool), no delta (head is the output port).  hls: default_parallelism 2;
# parallelism input 3 (does not divide 8), scores 3, pool 4; multipliers auto, norm1 LUT; storage q BRAM,
# k registers, pos LUTRAM, the rest auto; ROMs o.weight BRAM (2 lanes divide n_in 6: reshaped),
# ffn1.weight registers, head.bias BRAM.  Settled by an explicit Choice: shared lanes LUT, auto layers
# off them DSP (pool, norm2), the auto buffer ffn1 in BRAM.
# Types: input s12.4 (f 8); weights s6.1 (f 5); biases s12.3 (f 9); activations s6.3 (f 3); pos table
# s6.2 (f 4); scores s6.4 (f 2); exp table u6.1 (exp_frac 5); prob u6.0 (f 6, signed 7); ffn1 out u6.2
# (f 4, signed 7); norm scale s6.2 (f 4), shift s12.3 (f 9); head s16.6 (f 10).
# The plan: engine = all 10 MAC layers, 3 lanes (scores'), 12 x 6 LUT.
# Accumulators:
#  embed: 1 x s12.4 x s6.1: [-65504, 65536] -> s18 (f 13); +-2^17 + bias +-2048 x 2^4 = [-163840, 163823]
#         -> s19.6 (f 13)
#  6-term s6.3 x s6.1 (q k v o, ffn1 on norm1, head on pool): [-5952, 6144] -> s14 (f 8); +-2^13 x 2 +
#         2048 = [-18432, 18429] -> s16.7 (f 9)
#  12-term u6.2 x s6.1 (ffn2): [-24192, 23436] -> s16 (f 9); +-2^15 + 2048 = [-34816, 34814] -> s17.8 (f 9)
#  scores: 3 x s6.3 x s6.3: [-2976, 3072] -> s13.7 (f 6); read with the shift bl(3) // 2 = 1: s13.6 (f 7)
#  context: 8 x u6.0 x s6.3: [-16128, 15624] -> s15.6 (f 9)
#  pool: 8 x s6.3: [-256, 248] -> s9.6 (f 3), signed width 9
# =================================================================================================

def design_b():
    raw = small_raw(d_model=6, heads=2, ffn=12)
    raw["quantization"] = {"bits": 6}
    raw["hls"] = {"default_parallelism": 2,
                  "parallelism": {"input": 3, "enc0.scores": 3, "pool": 4},
                  "multiplier": {"enc0.norm1": "lut"},
                  "storage": {"enc0.q": "bram", "enc0.k": "registers", "pos": "lutram"},
                  "rom": {"enc0.o.weight": "bram", "enc0.ffn1.weight": "registers", "head.bias": "bram"}}
    return parse_config(raw)


DESIGN_B_CHOICE = Choice(engine_mapping="lut", private_mapping="dsp", storage={"enc0.ffn1": "bram"})


@pytest.fixture(scope="module")
def est_b():
    cfg = design_b()
    prec = resolve_precisions(cfg)
    return estimate_plan(cfg, prec, hls_plan(cfg, prec, 1, DESIGN_B_CHOICE))


DESIGN_B_LOOPS = {  # (lanes, trips, shared, mapping)
    "input": (3, 3, False, None),  # ceil(8 / 3)
    "embed": (2, 48, True, "lut"),  # 8 x 6 = 48 outputs x ceil(1 / 2)
    "enc0.q": (2, 144, True, "lut"),  # 48 x ceil(6 / 2)
    "enc0.k": (2, 144, True, "lut"),
    "enc0.v": (2, 144, True, "lut"),
    "enc0.scores": (3, 128, True, "lut"),  # 2 x 8 x 8 x ceil(3 / 3)
    "enc0.softmax": (1, 256, False, None),
    "enc0.context": (2, 192, True, "lut"),  # 2 x 8 x 3 = 48 x ceil(8 / 2)
    "enc0.o": (2, 144, True, "lut"),
    "enc0.ffn1": (2, 288, True, "lut"),  # 8 x 12 = 96 x 3
    "enc0.ffn2": (2, 288, True, "lut"),  # 48 x ceil(12 / 2)
    "pool": (4, 22, False, "dsp"),  # ceil(6 / 4) x 8 + 6
    "head": (2, 3, True, "lut"),  # 1 x ceil(6 / 2)
}

DESIGN_B_LAYERS = {  # (lut, lutram, ff, bram18, dsp, cycles)
    # 3 lanes x (LUT 12x6: 1.25 x 72 = 90 LUT, 18 FF; mux(10 users, 12) = 12 x ceil(9/3) = 36 + mux(10, 6)
    # = 18 LUT; operand FF 12 + 6 = 18) = 3 x 144 LUT, 3 x 36 FF; tree 2 x adder(12 + 6 + ceil(log2 3) = 20)
    # LUT 432 + 40 = 472; FF 108 + 40 = 148
    "engine": (472, 0, 148, 0, 0, 0),
    # 3 lanes x mux(ceil(8/3) = 3, 12) = 12 x 1 = 36; control 24/16 + counter(3) clog2(4) = 2 -> 3/2
    # LUT 27 + 36 = 63; FF 18; cycles 3 + read 0 + 1 + 1 = 5
    "input": (63, 0, 18, 0, 0, 5),
    # control 24/16 + counter(48) clog2(49) = 6 -> 7/6 + counter(1) 2/1 = 33/23; acc 19/19;
    # cast s19.6 (f 13) -> s6.3: round 6 + sat 3 + 6 = 15 LUT, 6 FF; epilogue pos: s6.3 + s6.2 -> wide 4, f 4:
    # adder(8) 8/8, cast s8.4 (f 4) -> s6.3: round 6 + sat 1 + 6 = 13 LUT, 6 FF
    # LUT 33+19+15+8+13 = 88; FF 23+19+6+8+6 = 62
    # cycles 48 + (read 1 (input LUTRAM) + LUT 2 + tree bl(1) = 1 + 1 + 1 + 1 = 7) = 55
    "embed": (88, 0, 62, 0, 0, 55),
    # control 24/16 + counter(48) 7/6 + counter(3) 3/2 = 34/24; acc 16/16; cast s16.7 (f 9) -> s6.3:
    # round 6 + sat 4 + 6 = 16 LUT, 6 FF; it writes q reshaped in words of 3: a row of 3 x 6 = 18 FF and
    # counter(3) 3/2.  LUT 34+16+16+3 = 69; FF 24+16+6+18+2 = 66
    # cycles 144 + (read 1 (pos LUTRAM) + 2 + bl(1) = 1 + 1 + 1 = 6) = 150
    "enc0.q": (69, 0, 66, 0, 0, 150),
    "enc0.k": (66, 0, 46, 0, 0, 150),  # as q without the row (writes registers)
    "enc0.v": (66, 0, 46, 0, 0, 150),
    # control 24/16 + counter(128) 9/8 + counter(1) 2/1 = 35/25; acc 13/13; cast s13.6 (f 7, the acc read
    # with the shift 1) -> s6.4: round 6 + sat (6-4) + 6 = 14 LUT, 6 FF.  LUT 35+13+14 = 62; FF 25+13+6 = 44
    # cycles 128 + (read max(q BRAM 2, k registers 0) = 2 + 2 + bl(2) = 2 + 1 + 1 = 8) = 136
    "enc0.scores": (62, 0, 44, 0, 0, 136),
    # exp_w 6, sum_w 6 + bl(8) = 10, num_w max(6 + 6, 10 - 1) + 1 = 13; control 24/16 + counter(256) 10/9
    # = 34/25; 2 x adder(7) 14/14; adder(10) 10/10; rounding adder(13) 13/13; divider 13 x 10 = 130 LUT,
    # 13 x 23 = 299 FF; cast u13.7 -> u6.0: sat 7 + 6 = 13 LUT, 6 FF
    # LUT 34+14+10+13+130+13 = 214; FF 25+14+10+13+299+6 = 367; cycles 256 + 4 + (1 + 3 + 13 + 1) = 278
    # (it reads scores, LUTRAM: the fixed fills do not take its read latency)
    "enc0.softmax": (214, 0, 367, 0, 0, 278),
    # control 24/16 + counter(48) 7/6 + counter(4) clog2(5) = 3 -> 4/3 = 35/25; acc 15/15;
    # cast s15.6 (f 9) -> s6.3: round 6 + sat 3 + 6 = 15 LUT, 6 FF.  LUT 35+15+15 = 65; FF 25+15+6 = 46
    # cycles 192 + (read 1 (softmax, v LUTRAM) + 2 + 1 + 1 + 1 = 6) = 198
    "enc0.context": (65, 0, 46, 0, 0, 198),
    # as q: 34/24, acc 16/16, cast 16/6; epilogue add1: s6.3 + pos s6.3 -> adder(4 + 3 = 7) 7/7, cast s7.4
    # (f 3) -> s6.3 sat 1 + 6 = 7 LUT, 6 FF; norm1 on LUT 6x6: 1.25 x 36 = 45 LUT, 12 FF; f = 3 + 4 = 7,
    # top = max(12 - 7, 3) + 1 = 6, adder(6 + max(7, 9) = 15) 15/15, cast s15.6 (f 9) -> s6.3: round 6 +
    # sat 3 + 6 = 15 LUT, 6 FF; stages 1 + 2 + 1 = 4
    # LUT 34+16+16 + 7+7+45+15+15 = 155; FF 24+16+6 + 7+6+12+15+6 = 92
    # cycles 144 + (read 1 (context, pos LUTRAM) + 2 + 1 + 1 + 4 + 1 = 10) = 154
    "enc0.o": (155, 0, 92, 0, 0, 154),
    # control 24/16 + counter(96) clog2(97) = 7 -> 8/7 + counter(3) 3/2 = 35/25; acc 16/16; ReLU 16;
    # cast s16.7 (f 9) -> u6.2: round 6 + sat (7-2) + 6 = 17 LUT, 6 FF; it writes ffn1 reshaped in words
    # of 2: a row of 2 x 6 = 12 FF and counter(2) clog2(3) = 2 -> 3/2
    # LUT 35+16+16+17+3 = 87; FF 25+16+6+12+2 = 61
    # cycles 288 + (read 1 (norm1 LUTRAM) + 2 + 1 + 1 + 1 = 6) = 294
    "enc0.ffn1": (87, 0, 61, 0, 0, 294),
    # control 24/16 + counter(48) 7/6 + counter(6) clog2(7) = 3 -> 4/3 = 35/25; acc 17/17; cast s17.8 (f 9)
    # -> s6.3: round 6 + sat 5 + 6 = 17 LUT, 6 FF; epilogue add2 as add1 (7 + 7 LUT, 7 + 6 FF);
    # norm2 on DSP 6x6 (1 DSP), adder(15) 15/15, cast 15/6; stages 1 + 3 + 1 = 5
    # LUT 35+17+17 + 7+7+15+15 = 113; FF 25+17+6 + 7+6+15+6 = 82; DSP 1
    # cycles 288 + (read max(ffn1 BRAM 2, residual norm1 LUTRAM 1) = 2 + 2 + 1 + 1 + 5 + 1 = 12) = 300
    "enc0.ffn2": (113, 0, 82, 0, 1, 300),
    # control 24/16 + counter(22) clog2(23) = 5 -> 6/5 = 30/21; 4 lanes x adder(9) = 36/36; DSP 9 x 17 =
    # 1 DSP; cast s25.6 (f 19) -> s6.3: round 6 + sat 3 + 6 = 15 LUT, 6 FF
    # LUT 30+36+15 = 81; FF 21+36+6 = 63; cycles 22 + read 1 (norm2 LUTRAM) + 3 + 2 + 1 = 29
    "pool": (81, 0, 63, 0, 1, 29),
    # control 24/16 + counter(1) 2/1 + counter(3) 3/2 = 29/19; acc 16/16; cast s16.7 (f 9) -> s16.6 (f 10):
    # no round, sat 1 + 16 = 17 LUT, 16 FF.  LUT 29+16+17 = 62; FF 19+16+16 = 51
    # cycles 3 + (read 1 (pool LUTRAM) + 2 + 1 + 1 + 1 = 6) = 9
    "head": (62, 0, 51, 0, 0, 9),
}

DESIGN_B_BUFFERS = {  # (storage, words, width, banks, lut, lutram, ff, bram18, dsp)
    # 3 banks (written 3 a clock) of 3 words: RAM32M 4 x ceil(12/6) = 8 each -> 24
    "input": ("lutram", 8, 12, 3, 24, 24, 0, 0, 0),
    "embed": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "pos": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),  # 2 banks of 24: 4 x ceil(6/6) = 4 each
    # 3 banks (scores 3 lanes, DH 3: aligned; written by q in order) reshaped: one bank of 16 x 18, one RAMB18
    "enc0.q": ("bram", 48, 6, 3, 0, 0, 0, 1, 0),
    # 48 x 6 = 288 FF; written one a clock: 48 enables; 3 readers x mux(ceil(48/3) = 16, 6) = 6 x 5 = 30
    # -> 48 + 90 = 138 LUT
    "enc0.k": ("registers", 48, 6, 48, 138, 0, 288, 0, 0),
    "enc0.v": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),
    # 128 words in 1 bank, 768 bits -> LUTRAM: 2 pieces of min(RAM64X1D 2 x 6 = 12, RAM64M 4 x ceil(6/3) = 8)
    # = 8: 16 + mux(2, 6) = 6 -> 22 LUT, 16 LUTRAM
    "enc0.scores": ("lutram", 128, 6, 1, 22, 16, 0, 0, 0),
    "enc0.softmax": ("lutram", 128, 6, 2, 16, 16, 0, 0, 0),  # 2 banks of 64: RAM64M 8 each
    "enc0.context": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),
    "enc0.o": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.add1": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.norm1": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),
    # the Choice: BRAM, 2 banks (ffn2 2 lanes, 12 terms: aligned) reshaped: one bank of 48 x 12, one RAMB18
    "enc0.ffn1": ("bram", 96, 6, 2, 0, 0, 0, 1, 0),
    "enc0.ffn2": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.add2": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.norm2": ("lutram", 48, 6, 4, 16, 16, 0, 0, 0),  # 4 banks (pool) of 12: 4 each
    "pool": ("lutram", 6, 6, 2, 8, 8, 0, 0, 0),  # 2 banks (head) of 3: 4 each
    "head": ("port", 1, 16, 1, 0, 0, 16, 0, 0),  # the model output
    "enc0.rowmax": ("lutram", 16, 6, 1, 4, 4, 0, 0, 0),  # 4 x ceil(6/6)
    "enc0.rowsum": ("lutram", 16, 10, 1, 8, 8, 0, 0, 0),  # sum_w 10: 4 x ceil(10/6)
    # 6 x s9: 54 FF + 6 enables + mux(6, 9) = 9 x ceil(5/3) = 18 -> 24 LUT
    "pool.sum": ("registers", 6, 9, 6, 24, 0, 54, 0, 0),
    # constant tables
    "embed.weight": ("lutrom", 6, 6, 2, 6, 0, 0, 0, 0),  # 2 banks of 3 words: ceil(6/2) = 3 each
    "embed.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),  # ceil(12/2)
    "pos.table": ("lutrom", 48, 6, 1, 6, 0, 0, 0, 0),  # 48 words: 1 piece 6 x 1, mux(1) 0
    "enc0.q.weight": ("lutrom", 36, 6, 2, 6, 0, 0, 0, 0),  # 2 banks of 18: 3 each
    "enc0.q.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.k.weight": ("lutrom", 36, 6, 2, 6, 0, 0, 0, 0),
    "enc0.k.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.v.weight": ("lutrom", 36, 6, 2, 6, 0, 0, 0, 0),
    "enc0.v.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.exp_table": ("lutrom", 256, 6, 1, 30, 0, 0, 0, 0),  # 4 pieces 6 x 4 = 24 + mux(4, 6) = 6
    # reshaped: one bank of 18 words x 12 bits: one RAMB18 (not 2)
    "enc0.o.weight": ("bram", 36, 6, 2, 0, 0, 0, 1, 0),
    "enc0.o.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.norm1.scale": ("lutrom", 6, 6, 1, 3, 0, 0, 0, 0),
    "enc0.norm1.shift": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    # registers: one LUT ROM of 72 x 6: 2 pieces 6 x 2 = 12 + mux(2, 6) = 6 -> 18
    "enc0.ffn1.weight": ("registers", 72, 6, 72, 18, 0, 0, 0, 0),
    "enc0.ffn1.bias": ("lutrom", 12, 12, 1, 6, 0, 0, 0, 0),
    "enc0.ffn2.weight": ("lutrom", 72, 6, 2, 12, 0, 0, 0, 0),  # 2 banks of 36: 1 piece 6 each
    "enc0.ffn2.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.norm2.scale": ("lutrom", 6, 6, 1, 3, 0, 0, 0, 0),
    "enc0.norm2.shift": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "head.weight": ("lutrom", 6, 6, 2, 6, 0, 0, 0, 0),
    "head.bias": ("bram", 1, 12, 1, 0, 0, 0, 1, 0),  # asked for BRAM: one RAMB18 for one word
}


def test_design_b_plan_follows_the_yaml_and_the_choice(est_b):
    e = est_b.plan.engine  # every MAC layer on the shared LUT lanes: 3 (scores'), 12 x 6
    assert (e.lanes, e.a_width, e.b_width, e.mapping) == (3, 12, 6, "lut")
    assert e.users == ("embed", "enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.context", "enc0.o",
                       "enc0.ffn1", "enc0.ffn2", "head")
    assert_tables_equal(loop_table(est_b), DESIGN_B_LOOPS)
    assert (est_b.plan.loops["enc0.o"].norm_mapping, est_b.plan.loops["enc0.ffn2"].norm_mapping) == ("lut", "dsp")


def test_design_b_every_layer_by_hand(est_b):
    assert_tables_equal(layer_table(est_b), DESIGN_B_LAYERS)


def test_design_b_every_buffer_and_table_by_hand(est_b):
    assert_tables_equal(buffer_table(est_b), DESIGN_B_BUFFERS)


def test_design_b_totals_by_hand(est_b):
    # LUT layers 472+63+88+69+66x2+62+214+65+155+87+113+81+62 = 1663
    #     buffers 24+8+138+8+22+16+8+8+16+8+4+8+24 = 292
    #     tables 6x9 (embed w/b, pos, q/k/v w/b) + 30 + 6 + 3+6 + 18+6 + 12+6 + 3+6 + 6 = 156; top 48
    #     -> 1663+292+156+48 = 2159
    # LUTRAM 24+8+8+16+16+8+8+16+8+4+8 = 124
    # FF layers 148+18+62+66+46x2+44+367+46+92+61+82+63+51 = 1192; buffers k 288 + head 16 + pool.sum 54
    #    = 358; top 32 -> 1582
    # BRAM18 q 1 + ffn1 1 + o.weight 1 + head.bias 1 = 4.  DSP norm2 1 + pool 1 = 2
    assert est_b.total == {"lut": 2159, "lutram": 124, "ff": 1582, "bram18": 4, "dsp": 2}
    # 5+55+150x3+136+278+198+154+294+300+29+9
    assert est_b.latency_cycles == 1908
    # MACs 48 + 3x48x6 + 128x3 + 48x8 + 48x6 + 96x6 + 48x12 + 6 = 3126; ceil(3126 / 20)
    assert (est_b.macs, est_b.dsp_bound_cycles) == (3126, 157)


# =================================================================================================
# configs/default.yaml, n_features 1, through estimate() (parallelism auto: the search): T = 24, D = 16,
# H = 1 (DH = 16), F = 64, bits 8 (types as design A), head mean, predict_delta, xc7s15 (20 DSP), 20 %
# headroom.  What auto settles to (hard-coded below): 16 shared DSP lanes, 9 x 8, used by every MAC layer
# but embed (1 term: 1 lane, so it keeps a LUT multiplier of its own); the layers off the shared lanes
# (embed, the norms, pool) on LUTs; input captured at once (24 lanes, registers); 12 lanes for context
# (24 terms); pool 16 lanes; every buffer LUTRAM except scores (576 words in one bank: BRAM) and the
# one-word-a-bank ones (registers); every table a LUT ROM.
# Accumulators:
#  embed: s21.6 (f 15) as design A
#  16-term s8.3 x s8.1 (q k v o ffn1 head): s22.9 (f 13) as design A's head
#  64-term u8.2 x s8.1 (ffn2): [-2088960, 2072640] -> s22 (f 13); +-2^21 + 32768 = [-2129920, 2129918]
#         -> s23.10 (f 13)
#  scores: 16 x s8.3 x s8.3: [-260096, 262144] -> s20.10 (f 10); read with the shift bl(16) // 2 = 2:
#         s20.8 (f 12)
#  context: 24 x u8.0 x s8.3: [-783360, 777240] -> s21.8 (f 13)
#  pool: 24 x s8.3: [-3072, 3048] -> s13.8 (f 5), signed width 13
# =================================================================================================

@pytest.fixture(scope="module")
def est_default():
    return estimate(load_config(REPO / "configs" / "default.yaml"), n_features=1)


DEFAULT_LOOPS = {  # (lanes, trips, shared, mapping)
    "input": (24, 1, False, None),
    "embed": (1, 384, False, "lut"),  # 24 x 16 outputs of 1 term
    "enc0.q": (16, 384, True, "dsp"),
    "enc0.k": (16, 384, True, "dsp"),
    "enc0.v": (16, 384, True, "dsp"),
    "enc0.scores": (16, 576, True, "dsp"),  # 24 x 24
    "enc0.softmax": (1, 1152, False, None),
    "enc0.context": (12, 768, True, "dsp"),  # 384 x ceil(24 / 12)
    "enc0.o": (16, 384, True, "dsp"),
    "enc0.ffn1": (16, 1536, True, "dsp"),  # 24 x 64
    "enc0.ffn2": (16, 1536, True, "dsp"),  # 384 x ceil(64 / 16)
    "pool": (16, 40, False, "lut"),  # ceil(16 / 16) x 24 + 16
    "head": (16, 1, True, "dsp"),
    "delta": (1, 1, False, None),
}

DEFAULT_LAYERS = {  # (lut, lutram, ff, bram18, dsp, cycles)
    # 16 lanes x (DSP 9x8: 1 DSP, no FF; mux(9 users, 9) = 9 x ceil(8/3) = 27 + mux(9, 8) = 24 LUT; operand
    # FF 9 + 8 = 17) = 816 LUT, 272 FF, 16 DSP; tree 15 adds less 16 // 2 = 8 in the DSPs' post-adders:
    # 7 x adder(9 + 8 + log2(16) = 21) = 147 / 147.  LUT 816 + 147 = 963; FF 272 + 147 = 419
    "engine": (963, 0, 419, 0, 16, 0),
    # 24 lanes x mux(1, 12) = 0; control 24/16 + counter(1) 2/1; cycles 1 + 0 + 1 + 1 = 3
    "input": (26, 0, 17, 0, 0, 3),
    # own LUT 12x8: 1.25 x 96 = 120 LUT, 20 FF (1 lane, no tree); control 24/16 + counter(384) clog2(385) = 9
    # -> 10/9 + counter(1) 2/1 = 36/26; acc 21/21; cast 19/8; epilogue pos as design A 10 + 17 LUT, 10 + 8 FF
    # LUT 36+21+19+120+10+17 = 223; FF 26+21+8+20+10+8 = 93
    # cycles 384 + (read 0 (input registers) + LUT 2 + tree bl(0) = 0 (one lane) + 1 + 1 + 1 = 5) = 389
    "embed": (223, 0, 93, 0, 0, 389),
    # control 24/16 + counter(384) 10/9 + counter(1) 2/1 = 36/26; acc 22/22; cast s22.9 (f 13) -> s8.3:
    # round 8 + sat 6 + 8 = 22 LUT, 8 FF.  LUT 36+22+22 = 80; FF 26+22+8 = 56
    # cycles 384 + (read 1 (pos LUTRAM) + DSP 3 + bl(15) = 4 + 1 + 1 = 10) = 394
    "enc0.q": (80, 0, 56, 0, 0, 394),
    "enc0.k": (80, 0, 56, 0, 0, 394),
    "enc0.v": (80, 0, 56, 0, 0, 394),
    # control 24/16 + counter(576) clog2(577) = 10 -> 11/10 + counter(1) 2/1 = 37/27; acc 20/20;
    # cast s20.8 (f 12, the acc read with the shift 2) -> s8.4: round 8 + sat (8-4) + 8 = 20 LUT, 8 FF.
    # LUT 37+20+20 = 77; FF 27+20+8 = 55
    # cycles 576 + (read 1 (q, k LUTRAM) + 3 + bl(15) = 4 + 1 + 1 = 10) = 586
    "enc0.scores": (77, 0, 55, 0, 0, 586),
    # exp_w 8, sum_w 8 + bl(24) = 13, num_w max(16, 12) + 1 = 17; control 24/16 + counter(1152) clog2(1153)
    # = 11 -> 12/11 = 36/27; 2 x adder(9) 18/18; adder(13) 13/13; rounding adder(17) 17/17; divider
    # 17 x 13 = 221 LUT, 17 x 30 = 510 FF; cast u17.9 -> u8.0: sat 9 + 8 = 17 LUT, 8 FF
    # LUT 36+18+13+17+221+17 = 322; FF 27+18+13+17+510+8 = 593; cycles 1152 + 4 + (1 + 3 + 17 + 1) = 1178
    # (it reads scores, BRAM 2: the fixed fills do not take its read latency)
    "enc0.softmax": (322, 0, 593, 0, 0, 1178),
    # control 24/16 + counter(384) 10/9 + counter(2) 3/2 = 37/27; acc 21/21; cast s21.8 (f 13) -> s8.3:
    # round 8 + sat 5 + 8 = 21 LUT, 8 FF.  LUT 37+21+21 = 79; FF 27+21+8 = 56
    # cycles 768 + (read 1 (softmax, v LUTRAM) + 3 + bl(11) = 4 + 1 + 1 = 10) = 778
    "enc0.context": (79, 0, 56, 0, 0, 778),
    # as q 36/26, 22/22, 22/8; epilogue add1 9 + 9 LUT, 9 + 8 FF; norm1 on LUT 8x8 80 LUT 16 FF, adder(19)
    # 19/19, cast 19/8; stages 1 + 2 + 1 = 4.  LUT 36+22+22 + 9+9+80+19+19 = 216; FF 26+22+8 + 9+8+16+19+8 = 116
    # cycles 384 + (read 1 (context, pos LUTRAM) + 3 + 4 + 1 + 4 + 1 = 14) = 398
    "enc0.o": (216, 0, 116, 0, 0, 398),
    # control 24/16 + counter(1536) clog2(1537) = 11 -> 12/11 + counter(1) 2/1 = 38/28; acc 22/22; ReLU 22;
    # cast s22.9 (f 13) -> u8.2: round 8 + sat 7 + 8 = 23 LUT, 8 FF.  LUT 38+22+22+23 = 105; FF 28+22+8 = 58
    # cycles 1536 + (1 + 3 + 4 + 1 + 1 = 10) = 1546
    "enc0.ffn1": (105, 0, 58, 0, 0, 1546),
    # control 24/16 + counter(384) 10/9 + counter(4) 4/3 = 38/28; acc 23/23; cast s23.10 (f 13) -> s8.3:
    # round 8 + sat 7 + 8 = 23 LUT, 8 FF; epilogue as o (136 LUT, 60 FF)
    # LUT 38+23+23+136 = 220; FF 28+23+8+60 = 119
    # cycles 1536 + (read 1 (ffn1, norm1 LUTRAM) + 3 + 4 + 1 + 4 + 1 = 14) = 1550
    "enc0.ffn2": (220, 0, 119, 0, 0, 1550),
    # control 24/16 + counter(40) 7/6 = 31/22; 16 lanes x adder(13) = 208/208; LUT 13 x 17: 1.25 x 221 =
    # 276.25 LUT, 30 FF; cast s29.8 (f 21) -> s8.3: round 8 + sat 5 + 8 = 21 LUT, 8 FF
    # LUT 31+208+276.25+21 = 536.25; FF 22+208+30+8 = 268
    # cycles 40 + read 1 (norm2 LUTRAM) + LUT 2 + 2 + 1 = 46
    "pool": (536.25, 0, 268, 0, 0, 46),
    # control 24/16 + 2 x counter(1) 2/1 = 28/18; acc 22/22; cast s22.9 -> s16.6: round 16 + sat 3 + 16 = 35,
    # 16 FF.  LUT 28+22+35 = 85; FF 18+22+16 = 56
    # cycles 1 + (read 0 (pool registers) + 3 + 4 + 1 + 1 = 9) = 10
    "head": (85, 0, 56, 0, 0, 10),
    # adder(17) + cast s17.7 -> s16.6 sat 17 LUT / 16 FF + control 24/16 + counter(1) 2/1
    # LUT 17+17+26 = 60; FF 17+16+17 = 50; cycles 1 + 0 + 1 + 1 = 3
    "delta": (60, 0, 50, 0, 0, 3),
}

DEFAULT_BUFFERS = {  # (storage, words, width, banks, lut, lutram, ff, bram18, dsp)
    # 24 x 12 = 288 FF, written all at once: no enables; 1 reader (embed) x mux(24, 12) = 12 x ceil(23/3) = 96
    "input": ("registers", 24, 12, 24, 96, 0, 288, 0, 0),
    "embed": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "pos": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),  # 16 banks (q k v) of 24: 8 each
    "enc0.q": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    "enc0.k": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    "enc0.v": ("lutram", 384, 8, 12, 96, 96, 0, 0, 0),  # 12 banks (context) of 32: 8 each
    # 1 bank of 576 x 8 = 4608 bits -> BRAM: 2Kx9, one RAMB18
    "enc0.scores": ("bram", 576, 8, 1, 0, 0, 0, 1, 0),
    # 12 banks of 48: 1 piece, min(RAM64X1D 2 x 8 = 16, RAM64M 4 x ceil(8/3) = 12) = 12 each
    "enc0.softmax": ("lutram", 576, 8, 12, 144, 144, 0, 0, 0),
    "enc0.context": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    "enc0.o": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.add1": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.norm1": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    # 16 banks of 96 (768 bits: LUTRAM): 2 RAM64M pieces 12 x 2 = 24 + mux(2, 8) = 8 -> 32 LUT, 24 LUTRAM each
    "enc0.ffn1": ("lutram", 1536, 8, 16, 512, 384, 0, 0, 0),
    "enc0.ffn2": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.add2": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.norm2": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    # 16 banks of 1 word (head reads 16 a clock) -> registers: 128 FF, 16 enables, 16 x mux(1) = 0
    "pool": ("registers", 16, 8, 16, 16, 0, 128, 0, 0),
    "head": ("registers", 1, 16, 1, 0, 0, 16, 0, 0),  # 16 FF, written at once: no enable
    "delta": ("port", 1, 16, 1, 0, 0, 16, 0, 0),
    "enc0.rowmax": ("lutram", 24, 8, 1, 8, 8, 0, 0, 0),
    "enc0.rowsum": ("lutram", 24, 13, 1, 12, 12, 0, 0, 0),  # sum_w 13: 4 x ceil(13/6) = 12
    # 16 x s13: 208 FF + 16 enables + mux(16, 13) = 13 x 5 = 65 -> 81 LUT
    "pool.sum": ("registers", 16, 13, 16, 81, 0, 208, 0, 0),
    # constant tables, every one a LUT ROM
    "embed.weight": ("lutrom", 16, 8, 1, 4, 0, 0, 0, 0),
    "embed.bias": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    # 384 words: 6 pieces 8 x 6 = 48 + mux(6, 8) = 8 x ceil(5/3) = 16 -> 64
    "pos.table": ("lutrom", 384, 8, 1, 64, 0, 0, 0, 0),
    "enc0.q.weight": ("lutrom", 256, 8, 16, 64, 0, 0, 0, 0),  # 16 banks of 16 words: 4 each
    "enc0.q.bias": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    "enc0.k.weight": ("lutrom", 256, 8, 16, 64, 0, 0, 0, 0),
    "enc0.k.bias": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    "enc0.v.weight": ("lutrom", 256, 8, 16, 64, 0, 0, 0, 0),
    "enc0.v.bias": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    "enc0.exp_table": ("lutrom", 256, 8, 1, 40, 0, 0, 0, 0),  # 8 x 4 + mux(4, 8) 8
    "enc0.o.weight": ("lutrom", 256, 8, 16, 64, 0, 0, 0, 0),
    "enc0.o.bias": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    "enc0.norm1.scale": ("lutrom", 16, 8, 1, 4, 0, 0, 0, 0),
    "enc0.norm1.shift": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    "enc0.ffn1.weight": ("lutrom", 1024, 8, 16, 128, 0, 0, 0, 0),  # 16 banks of 64: 1 piece 8 each
    "enc0.ffn1.bias": ("lutrom", 64, 16, 1, 16, 0, 0, 0, 0),  # 1 piece 16 x 1
    "enc0.ffn2.weight": ("lutrom", 1024, 8, 16, 128, 0, 0, 0, 0),
    "enc0.ffn2.bias": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    "enc0.norm2.scale": ("lutrom", 16, 8, 1, 4, 0, 0, 0, 0),
    "enc0.norm2.shift": ("lutrom", 16, 16, 1, 8, 0, 0, 0, 0),
    "head.weight": ("lutrom", 16, 8, 16, 0, 0, 0, 0, 0),  # 16 banks of one word: wiring
    "head.bias": ("lutrom", 1, 16, 1, 0, 0, 0, 0, 0),
}


def test_default_config_auto_chooses_this_plan(est_default):
    e = est_default.plan.engine
    assert (e.lanes, e.a_width, e.b_width, e.mapping) == (16, 9, 8, "dsp")
    assert e.users == ("enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.context", "enc0.o", "enc0.ffn1",
                       "enc0.ffn2", "head")
    assert_tables_equal(loop_table(est_default), DEFAULT_LOOPS)
    assert (est_default.plan.loops["enc0.o"].norm_mapping, est_default.plan.loops["enc0.ffn2"].norm_mapping) \
        == ("lut", "lut")
    # storage and banks of every buffer and table: the first four columns of DEFAULT_BUFFERS
    assert {b.name: (b.storage, b.words, b.width, b.banks) for b in est_default.buffers} \
        == {n: row[:4] for n, row in DEFAULT_BUFFERS.items()}


def test_default_config_every_layer_by_hand(est_default):
    assert_tables_equal(layer_table(est_default), DEFAULT_LAYERS)


def test_default_config_every_buffer_and_table_by_hand(est_default):
    assert_tables_equal(buffer_table(est_default), DEFAULT_BUFFERS)


def test_default_config_totals_and_latency_by_hand(est_default):
    # LUT layers 963+26+223+80x3+77+322+79+216+105+220+536.25+85+60 = 3152.25
    #     buffers 96+128x3+96+144+128+128+512+128+16+8+12+81 = 1733
    #     tables 4+8+64+(64+8)x3+40+(64+8)+4+8+128+16+128+8+4+8 = 708; top 48
    #     -> 3152.25 + 1733 + 708 + 48 = 5641.25 -> 5642
    # LUTRAM 128x3 + 96 + 144 + 128 + 128 + 384 + 128 + 8 + 12 = 1412
    # FF layers 419+17+93+56x3+55+593+56+116+58+119+268+56+50 = 2068
    #    buffers input 288 + pool 128 + head 16 + delta 16 + pool.sum 208 = 656; top 32 -> 2756
    # BRAM18 scores 1.  DSP the 16 shared lanes (the norms and pool are on LUTs)
    assert est_default.total == {"lut": 5642, "lutram": 1412, "ff": 2756, "bram18": 1, "dsp": 16}
    # 3+389+394x3+586+1178+778+398+1546+1550+46+10+3
    assert est_default.latency_cycles == 7669
    # MACs 384x1 + 3x384x16 + 576x16 + 384x24 + 384x16 + 1536x16 + 384x64 + 16 = 92560; ceil(92560 / 20)
    assert (est_default.macs, est_default.dsp_bound_cycles) == (92560, 4628)


# =================================================================================================
# The interfaces of configs/default.yaml (hls.interface, flow/estimate/interface.py): the same core as
# above (window 24 x 1 channel of s12.4, forecast 1 word), plus, for s_axilite and axis:
#  capture: control 24 LUT + 16 FF, counter(24) b = clog2(25) = 5 -> 6 LUT + 5 FF, 24 x 12-bit registers
#           written one a clock = 288 FF + 24 enable LUT -> 54 LUT, 309 FF; 24 trips + fill (AXI4-Lite
#           memory: LUTRAM read latency 1; stream: its register slice 1) + 1 write = 26 cycles
#  forecast: control 24 + 16, counter(1) b = clog2(2) = 1 -> 2 LUT + 1 FF, mux(1, 32) = 0 -> 26 LUT, 17 FF;
#           1 + 1 write = 2 cycles
#  AXI4-Lite slave with arrays {window: 24, forecast: 1}: map 16 control bytes + window 96 B aligned to 128
#           + forecast 4 B -> 148 B, address bits clog2(148) = 8; read mux over control + 2 arrays = 3:1 of
#           32 bits = 32 x ceil(2 / 3) = 32 LUT; + 2 x 8 + 24 = 72 LUT; FF 8 + 32 + 10 + 16 = 66.
#           Memories, LUTRAM <= 32 words: 4 x ceil(32 / 6) = 24 LUT (all LUTRAM) each.
#  axis: the AXI4-Lite slave with only forecast: map 16 + 4 = 20 B -> 5 address bits; 2:1 read mux
#           32 x ceil(1 / 3) = 32 LUT; 32 + 10 + 24 = 66 LUT; FF 5 + 32 + 10 + 16 = 63; register slice
#           32 + 4 = 36 LUT, 2 x 33 + 2 = 68 FF -> adapter 102 LUT, 131 FF; one 24-LUT memory.
# =================================================================================================

@pytest.mark.parametrize("interface, adapter, memories", [
    ("s_axilite", (72, 0, 66, 0, 0, 0), {"s_axi_control.window": ("lutram", 24, 32, 1, 24, 24, 0, 0, 0),
                                         "s_axi_control.forecast": ("lutram", 1, 32, 1, 24, 24, 0, 0, 0)}),
    ("axis", (102, 0, 131, 0, 0, 0), {"s_axi_control.forecast": ("lutram", 1, 32, 1, 24, 24, 0, 0, 0)}),
])
def test_each_interface_adds_its_loops_and_adapter_by_hand(est_default, interface, adapter, memories):
    cfg = load_config(REPO / "configs" / "default.yaml")
    est = estimate(cfg.model_copy(update={"hls": cfg.hls.model_copy(update={"interface": interface})}),
                   n_features=1)
    layers = layer_table(est)
    assert list(layers)[0] == "capture" and list(layers)[-2:] == ["forecast", "adapter"]
    assert layers["capture"] == (54, 0, 309, 0, 0, 26)
    assert layers["forecast"] == (26, 0, 17, 0, 0, 2)
    assert layers["adapter"] == adapter
    core = {n: row for n, row in layers.items() if n not in ("capture", "forecast", "adapter")}
    assert core == layer_table(est_default)  # the core is the ap_vld design's, layer for layer
    buffers = buffer_table(est)
    assert {n: buffers[n] for n in memories} == memories
    assert {n: row for n, row in buffers.items() if n not in memories} == buffer_table(est_default)
    assert est.latency_cycles == 7669 + 26 + 2
    added_lut = 54 + 26 + adapter[0] + 24 * len(memories)
    assert est.total["lut"] == 5642 + added_lut  # 5641.25 + an integer: the same ceiling
    assert est.total["lutram"] == 1412 + 24 * len(memories)
    assert est.total["ff"] == 2756 + 309 + 17 + adapter[2]
