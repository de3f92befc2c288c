"""The estimator's figures for whole designs, derived by hand from its documented model.

Every expected number below is a literal worked out on paper from the model of ``flow/estimate/costs.py``
(device facts, module docstring) and ``flow/estimate/design.py`` (assumptions, module docstring, the
docstrings of ``_mac``, ``_softmax`` and ``_engine``), the hardware plan of ``flow/hls/plan.py`` (one
engine loop for every multiplying layer, power-of-two lanes, banked buffers and constant tables) and the
design's fixed-point types. Nothing is recomputed with the code under test: the only project code called
is the estimator API (``estimate`` and ``estimate_plan`` on ``hls_plan``). The derivation of each literal
is the comment next to it, so a change to any formula (cycles, pipeline depth, cast logic, ROM, LUTRAM,
registers, divider, control, engine) shows up as a named layer or buffer and figure.

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
* lanes: a power of two that divides the row a layer's reads run along (dense: n_in; scores: head_dim;
  context: the window; pool: d_model; input: the window's words), so lane l always reads bank l; an
  explicit count that is not, or that reads a buffer banked for more lanes than it has, is refused.
  default_parallelism N: the most such lanes up to N.  Padded instead of aligned: the embedding when the
  window is in registers and the context: a power of two up to N, no more than the next power of two of
  the terms (so 1 for the embedding of one channel).  A weight table's rows take ceil(n_in / lanes) x lanes
  words (ROM stride); the context's probabilities and v rows take ceil(T / lanes) x lanes words (buffer
  stride: more words) when its lanes do not divide the window T.
* the engine: every MAC layer runs in ONE pipelined loop, priced once as the "engine" row: control 24 LUT
  + 16 FF, and for each of (the most trips, the most chunks, outputs, rows, groups over the MAC layers;
  a layer's nest = (chunks = ceil(terms / lanes), outputs, rows, groups)) a counter(most) + mux(number of
  MAC layers, clog2(most + 1)) (the limit, loaded per layer at its call).  The shared lanes: per lane
  multiplier + mux(users, Wa) + mux(users, Wb) + (Wa + Wb) operand FF; (lanes - 1) tree adders of
  Wa + Wb + bl(lanes - 1) bits, less lanes // 2 (the first level, in the DSPs' post-adders) on single-DSP
  products.  0 cycles of its own.
* MAC layer (trips = outputs x ceil(terms / lanes)), its case of the engine loop, no control of its own:
  accumulator adder + cast(acc -> out) (+ acc.W LUT for the ReLU of ffn1); on its own lanes also lanes x
  multiplier and (lanes - 1) adders of Wa + Wb + clog2(lanes) bits; on the shared lanes nothing more (the
  engine has them).  Writing a reshaped buffer of k banks: a row of k x W FF collected before each
  whole-word write + counter(k).  cycles = trips + depth + 2 (the engine call), depth = read latency (max
  over the buffers it reads and its residual: registers / port 0, LUTRAM 1, BRAM 2) + multiplier stages +
  tree levels bl(lanes - 1) (0 for one lane, 1 for 2, 2 for 4, 3 for 8, 4 for 16) + 1 + epilogue stages
  + 1 (write).
* scores (MAC): the cast to the score type rounds from the accumulator read with the 1/sqrt(DH) shift
  s = bl(DH) // 2: the exact product accumulator sW.I is read as sW.(I - s) (f + s), so the saturation
  compare covers s integer bits fewer and the rounding is from f + s fraction bits.
* epilogue at a dense layer's output, one value a clock: the add (positional table or residual):
  adder of (max(y.I, other.I) + 1) + max(y.f, other.f) bits and cast of it to the add's output, 1 stage;
  the norm: multiplier (signed add output x signed scale, the norm's own mapping), f = add.f + scale.f,
  top = max(Wa + Wb - f, shift.I) + 1, adder of top + max(f, shift.f) bits, cast s(that).(top) -> norm
  output; multiplier stages + 1 more stages.
* element-wise loop (trips = ceil(elements / lanes)): control of its own 24 LUT + 16 FF + counter(trips),
  + lanes x per lane; cycles = trips + read latency + 1 + 1.  delta per lane: adder(W + 1) + cast
  s(W+1).(I+1) -> out.  input per lane: the port word's select, mux(ceil(elements / lanes), W).
* pool (trips = ceil(D / lanes) x T + D): control + counter(trips) + lanes x adder(acc) + one multiplier
  acc x u16.0 reciprocal (17 bits signed) + cast s(acc.W + 16).(acc.I) -> pool out; cycles = trips + read
  latency + multiplier stages + 2 + 1.  acc = exact type of T x the input range.
* head_in (concatenation, mean_last): control + counter(trips) only (its 2D x W FF are the head_in
  register buffer's, counted there); it reads pool and the last norm2: cycles = trips + read latency (max
  of the two) + 1.
* softmax, p lanes (auto only: aligned lanes of T up to min(4, T // 4), no more than the context's lanes;
  1 when the exp table's storage is set by hand): the exponentials of row r beside the quotients of row
  r - 1, one loop over the H x T rows and one more: trips = (H x T + 1) x T / p.  exp_w = exp_frac + 1,
  sum_w = exp_w + bl(T), num_w = max(exp_w + prob.f, sum_w - 1) + 1 (the numerator (e << prob.f) +
  (sum >> 1) of the rounded quotient).  Per lane: adder(score.W + 1) (the difference to the row maximum;
  a second one, the rounding add, when the table index drops score bits) + divider (num_w x sum_w LUT,
  num_w x (sum_w + num_w) FF) + adder(num_w) (the rounding add) + cast u(num_w).(num_w - prob.f) -> prob;
  besides: control 24 LUT + 16 FF + counter(T / p) + counter(H x T + 1), p adders(sum_w) (the tree into
  the row's exact sum), 2 x sum_w FF (total and divisor).  cycles = trips + 1 + 3 + num_w + 1 (score,
  subtract, table, ring, then the divider: fixed, the scores buffer's read latency does not enter it).
  Its buffers: encN.rowmax (H x T words of score W, LUTRAM, one bank), encN.ring (2 x T words of exp_w,
  LUTRAM, p banks); the scores buffer is banked by p, the probabilities written p a clock.  The exp
  table: with p > 1 in registers (constants as logic): one LUT ROM of all its words per lane reading it.
* buffers, each bank of n = ceil(words / banks) words (banks: the most lanes reading it or writing it a
  clock): fused 0; port words x W FF; registers: words x W FF + one write enable LUT per word unless
  every word is written at once + readers x mux(ceil(words / readers), W); LUTRAM: n <= 32 RAM32M
  4 x ceil(W / 6), else ceil(n / 64) pieces of min(2 x W RAM64X1D, 4 x ceil(W / 3) RAM64M)
  + mux(ceil(n / 64), W) (LUTRAM counts only the memory LUTs); BRAM: the cheapest RAMB18 shape,
  ceil(n / depth) x ceil(W / width) of 16Kx1 8Kx2 4Kx4 2Kx9 1Kx18 512x36; a reshaped BRAM buffer or table
  (a banked weight table, or a buffer a dense layer writes in order and its readers read aligned) is ONE
  bank of n words x (W x banks).  Constant tables (banked by their layer's lanes, read one word a bank a
  clock): LUT ROM per bank: 1 word 0, <= 32 words ceil(W / 2), else W x ceil(n / 64) + mux(ceil(n / 64),
  W); in registers: one LUT ROM of all its words per reader.
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


def nest_table(est) -> dict:
    """MAC layer -> its nest in the engine (chunks, outputs, rows, groups)."""
    return {n: lp.nest for n, lp in est.plan.loops.items() if lp.kind == "mac"}


def stride_table(est) -> dict:
    """Buffer / table -> words a stored row takes, for those padded to whole chunks."""
    return {m.name: m.stride for m in [*est.plan.buffers.values(), *est.plan.roms.values()] if m.stride}


def assert_tables_equal(got: dict, want: dict):
    assert list(got) == list(want)  # same layers / buffers, in execution order
    wrong = {name: {"got": got[name], "want": want[name]} for name in want if got[name] != want[name]}
    assert not wrong, wrong


# =================================================================================================
# Design A: small_raw(heads=2, head="mean_last", predict_delta=True): T = 8, n_features 1, D = 8, H = 2
# (DH = 4), F = 16, bits 8.  hls: default_parallelism 4; parallelism input 8, q 4, context 8, ffn2 2,
# pool 2; default multiplier DSP, ffn1 LUT (its own lanes), norm2 LUT; storage input registers, v BRAM,
# ffn1 LUTRAM; ROMs q.weight BRAM, k.weight BRAM (4 lanes: both reshaped), pos.table BRAM, exp table and
# head.weight in registers.
# What changed with power-of-two lanes: q was 3 (lanes that do not divide D, a BRAM weight table of 3
# unreshaped banks). 3 is now refused (not a power of two), and so is 2 (q would read pos, banked 4 for
# k and v, with fewer lanes than banks), so q takes the nearest allowed count, 4: q.weight becomes a
# reshaped BRAM like k.weight (a banked weight table is always read aligned now); the unreshaped banked
# BRAM is still exercised by v (8 banks, transposed). The embedding, padded (window in registers),
# takes padded_lanes(1 term, 4) = 1 lane: a one-lane layer on the shared lanes. delta: aligned lanes of
# its 1 element: 1. The softmax keeps 1 lane because its exp table is placed by hand (registers).
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
                  "parallelism": {"input": 8, "enc0.q": 4, "enc0.context": 8, "enc0.ffn2": 2, "pool": 2},
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
    "input": (8, 1, False, None),  # 8 elements / 8 lanes (8 divides the window's 8 words)
    "embed": (1, 64, True, "dsp"),  # padded_lanes(1 term, 4) = 1; 64 outputs x ceil(1 / 1)
    "enc0.q": (4, 128, True, "dsp"),  # 64 x ceil(8 / 4)
    "enc0.k": (4, 128, True, "dsp"),  # aligned_lanes(8, 4) = 4
    "enc0.v": (4, 128, True, "dsp"),
    "enc0.scores": (4, 128, True, "dsp"),  # aligned_lanes(DH 4, 4) = 4; 2 x 8 x 8 = 128 outputs x ceil(4 / 4)
    # 1 lane (exp table placed by hand); rows 2 x 8 = 16: (16 + 1) x 8 / 1
    "enc0.softmax": (1, 136, False, None),
    "enc0.context": (8, 64, True, "dsp"),  # 2 x 8 x 4 = 64 outputs x ceil(8 / 8)
    "enc0.o": (4, 128, True, "dsp"),
    "enc0.ffn1": (4, 256, False, "lut"),  # 8 x 16 = 128 outputs x 2, its own LUT lanes
    "enc0.ffn2": (2, 512, True, "dsp"),  # 64 x ceil(16 / 2)
    "pool": (2, 40, False, "dsp"),  # ceil(8 / 2) x 8 + 8
    "head_in": (1, 16, False, None),  # 2 x D
    "head": (4, 4, True, "dsp"),  # aligned_lanes(16, 4) = 4; 1 x ceil(16 / 4)
    "delta": (1, 1, False, None),  # aligned_lanes(1 element, 4) = 1
}

DESIGN_A_NESTS = {  # (chunks = ceil(terms / lanes), outputs, rows, groups)
    "embed": (1, 8, 8, 1),  # (ceil(1/1), D, T, 1)
    "enc0.q": (2, 8, 8, 1),  # (ceil(8/4), D, T, 1)
    "enc0.k": (2, 8, 8, 1),
    "enc0.v": (2, 8, 8, 1),
    "enc0.scores": (1, 8, 8, 2),  # (ceil(4/4), T, T, H)
    "enc0.context": (1, 4, 8, 2),  # (ceil(8/8), DH, T, H)
    "enc0.o": (2, 8, 8, 1),
    "enc0.ffn1": (2, 16, 8, 1),  # (ceil(8/4), F, T, 1)
    "enc0.ffn2": (8, 8, 8, 1),  # (ceil(16/2), D, T, 1)
    "head": (4, 1, 1, 1),  # (ceil(16/4), 1, 1, 1)
}

DESIGN_A_LAYERS = {  # (lut, lutram, ff, bram18, dsp, cycles)
    # control over the 10 MAC layers (ffn1 too: it runs in the engine loop on its own lanes): 24/16
    # + trips max 512 (ffn2): counter clog2(513) = 10 -> 11/10, mux(10, 10) = 10 x ceil(9/3) = 30
    # + chunks max 8 (ffn2): clog2(9) = 4 -> 5/4, mux(10, 4) = 12
    # + outputs max 16 (ffn1): clog2(17) = 5 -> 6/5, mux(10, 5) = 15
    # + rows max 8: 5/4, mux(10, 4) = 12
    # + groups max 2 (H): clog2(3) = 2 -> 3/2, mux(10, 2) = 6
    # -> LUT 24+41+17+21+17+9 = 129; FF 16+10+4+5+4+2 = 41
    # 8 lanes x (DSP 12x8: 1 DSP, no FF; mux(9 users, 12) = 12 x ceil(8/3) = 36 + mux(9, 8) = 8 x 3 = 24 LUT;
    # operand FF 12 + 8 = 20) = 480 LUT, 160 FF, 8 DSP; tree 7 adds less 8 // 2 = 4 in the DSPs' post-adders
    # (one DSP per product, sum 12 + 8 + bl(7) = 23 <= 48 bits): 3 x adder(23) = 69 / 69
    # LUT 129 + 480 + 69 = 678; FF 41 + 160 + 69 = 270
    "engine": (678, 0, 270, 0, 8, 0),
    # 8 lanes x mux(ceil(8/8) = 1, 12) = 0; control 24/16 + counter(1) clog2(2) = 1 -> 2/1
    # LUT 26; FF 17; cycles 1 trip + read 0 + 1 + 1 = 3
    "input": (26, 0, 17, 0, 0, 3),
    # acc adder 21/21; cast s21.6 (f 15) -> s8.3: round 8 + sat (6-3) + 8 = 19 LUT, 8 FF;
    # epilogue pos: s8.3 + s8.2 table -> wide 3+1 = 4, f 6: adder(10) 10/10, cast s10.4 (f 6) -> s8.3:
    # round 8 + sat 1 + 8 = 17 LUT, 8 FF.  LUT 21+19+10+17 = 67; FF 21+8+10+8 = 47
    # cycles 64 + depth (read 0 (input registers) + DSP 3 + tree bl(0) = 0 + 1 + epilogue 1 + write 1 = 6)
    # + call 2 = 72
    "embed": (67, 0, 47, 0, 0, 72),
    # acc 21/21; cast s21.8 (f 13) -> s8.3: round 8 + sat (8-3) + 8 = 21 LUT, 8 FF.  LUT 42; FF 29
    # cycles 128 + (read 1 (pos LUTRAM) + DSP 3 + bl(3) = 2 + 1 + 0 + 1 = 8) + 2 = 138
    "enc0.q": (42, 0, 29, 0, 0, 138),
    "enc0.k": (42, 0, 29, 0, 0, 138),
    "enc0.v": (42, 0, 29, 0, 0, 138),  # as k (its BRAM write costs no read latency; v transposed: no row)
    # acc 18/18; cast s18.7 (f 11, the acc read with the shift 1) -> s8.4: round 8 + sat (7-4) + 8 = 19 LUT,
    # 8 FF.  LUT 18+19 = 37; FF 18+8 = 26
    # cycles 128 + (read 1 (q, k LUTRAM) + 3 + bl(3) = 2 + 1 + 1 = 8) + 2 = 138
    "enc0.scores": (37, 0, 26, 0, 0, 138),
    # p = 1.  exp_w 8, sum_w 8 + bl(8) = 12, num_w max(8 + 8, 12 - 1) + 1 = 17
    # per lane: adder(8 + 1) 9/9; divider 17 x 12 = 204 LUT, 17 x (12 + 17) = 493 FF; rounding adder(17)
    # 17/17; cast u17.9 -> u8.0: no round (f 8 = 8), sat 9 + 8 = 17 LUT, 8 FF -> 247 LUT, 527 FF
    # control 24/16 + counter(8 / 1) clog2(9) = 4 -> 5/4 + counter(16 + 1) clog2(18) = 5 -> 6/5;
    # 1 x adder(12) 12/12; 2 x 12 = 24 FF
    # LUT 24+5+6+247+12 = 294; FF 16+4+5+527+12+24 = 588; cycles 136 + (1 + 3 + 17 + 1 = 22) = 158
    # (the fill starts with the scores' read, LUTRAM 1)
    "enc0.softmax": (294, 0, 588, 0, 0, 158),
    # acc 19/19; cast s19.6 (f 13) -> s8.3: round 8 + sat 3 + 8 = 19 LUT, 8 FF.  LUT 38; FF 27
    # cycles 64 + (read max(softmax LUTRAM 1, v BRAM 2) = 2 + 3 + bl(7) = 3 + 1 + 1 = 10) + 2 = 76
    "enc0.context": (38, 0, 27, 0, 0, 76),
    # as q: acc 21/21, cast 21/8;
    # epilogue add1: s8.3 + residual pos s8.3 -> adder(4 + 5 = 9) 9/9, cast s9.4 (f 5) -> s8.3 sat 1 + 8 = 9
    # LUT, 8 FF; norm1 on DSP 8x8 (1 DSP): f = 5 + 6 = 11, top = max(16 - 11, 3) + 1 = 6, adder(6 + max(11,
    # 13) = 19) 19/19, cast s19.6 (f 13) -> s8.3: round 8 + sat 3 + 8 = 19 LUT, 8 FF; stages 1 + 3 + 1 = 5
    # LUT 21+21 + 9+9+19+19 = 98; FF 21+8 + 9+8+19+8 = 73; DSP 1
    # cycles 128 + (read 1 (context, pos LUTRAM) + 3 + 2 + 1 + 5 + 1 = 13) + 2 = 143
    "enc0.o": (98, 0, 73, 0, 1, 143),
    # own LUT lanes: 4 x 8x8 LUT multiplier 1.25 x 64 = 80 LUT, 16 FF -> 320 / 64; 3 tree adders of
    # 8 + 8 + clog2(4) = 18 bits -> 54 / 54; acc 21/21; ReLU 21 LUT;
    # cast s21.8 (f 13) -> u8.2: round 8 + sat (8-2) + 8 = 22 LUT, 8 FF
    # LUT 21+21+22+320+54 = 438; FF 21+8+64+54 = 147
    # cycles 256 + (read 1 (norm1 LUTRAM) + LUT 2 + bl(3) = 2 + 1 + 1 = 7) + 2 = 265
    "enc0.ffn1": (438, 0, 147, 0, 0, 265),
    # acc 21/21; cast 21/8; epilogue add2 as add1 (9 + 9 LUT, 9 + 8 FF); norm2 on LUT 8x8: 80 LUT, 16 FF,
    # adder(19) 19/19, cast 19/8; stages 1 + 2 + 1 = 4.  LUT 21+21 + 9+9+80+19+19 = 178;
    # FF 21+8 + 9+8+16+19+8 = 89
    # cycles 512 + (read 1 (ffn1, residual norm1 LUTRAM) + 3 + bl(1) = 1 + 1 + 4 + 1 = 11) + 2 = 525
    "enc0.ffn2": (178, 0, 89, 0, 0, 525),
    # control 24/16 + counter(40) clog2(41) = 6 -> 7/6 = 31/22; 2 lanes x adder(11) = 22/22;
    # DSP 11 x 17 = 1 DSP; cast s27.6 (f 21) -> s8.3: round 8 + sat 3 + 8 = 19 LUT, 8 FF
    # LUT 31+22+19 = 72; FF 22+22+8 = 52; cycles 40 + read 1 (norm2 LUTRAM) + 3 + 2 + 1 = 47
    "pool": (72, 0, 52, 0, 1, 47),
    # control 24/16 + counter(16) clog2(17) = 5 -> 6/5 = 30/21 (the 16 x 8 = 128 FF are the head_in
    # buffer's, counted there).  LUT 30; FF 21
    # cycles 16 + read max(pool LUTRAM 1, norm2 LUTRAM 1) = 1 + 0 + 1 = 18
    "head_in": (30, 0, 21, 0, 0, 18),
    # acc 22/22; cast s22.9 (f 13) -> s16.6 (f 10): round 16 + sat 3 + 16 = 35 LUT, 16 FF
    # LUT 22+35 = 57; FF 22+16 = 38
    # cycles 4 + (read 0 (head_in registers) + 3 + bl(3) = 2 + 1 + 1 = 7) + 2 = 13
    "head": (57, 0, 38, 0, 0, 13),
    # 1 lane x (adder(17) 17/17 + cast s17.7 (f 10) -> s16.6: no round, sat 1 + 16 = 17 LUT, 16 FF)
    # = 34 / 33; control 24/16 + counter(1) 2/1.  LUT 26 + 34 = 60; FF 17 + 33 = 50
    # cycles 1 + 0 + 1 + 1 = 3
    "delta": (60, 0, 50, 0, 0, 3),
}

DESIGN_A_BUFFERS = {  # (storage, words, width, banks, lut, lutram, ff, bram18, dsp)
    # registers (8 banks), read by embed's 1 lane, written all 8 at once: 96 FF, no enables,
    # 1 x mux(ceil(8/1) = 8, 12) = 12 x ceil(7/3) = 36 LUT
    "input": ("registers", 8, 12, 8, 36, 0, 96, 0, 0),
    "embed": ("fused", 64, 8, 1, 0, 0, 0, 0, 0),  # computed on its way to pos
    # 4 banks (q, k, v 4 lanes read it) of 16 words: RAM32M 4 x ceil(8/6) = 8 each -> 32
    "pos": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),
    "enc0.q": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),  # scores 4 lanes: 4 x 8
    "enc0.k": ("lutram", 64, 8, 4, 32, 32, 0, 0, 0),
    # BRAM, 8 banks (context 8 lanes, dividing the window: no stride) of 8 words x 8: one RAMB18 each
    # (transposed: not reshaped)
    "enc0.v": ("bram", 64, 8, 8, 0, 0, 0, 8, 0),
    # 2 x 8 x 8 = 128 words, banked by the softmax's 1 lane: 1 bank; 128 x 8 = 1024 bits -> LUTRAM, deeper
    # than 64: 2 pieces of min(RAM64X1D 2 x 8 = 16, RAM64M 4 x ceil(8/3) = 12) = 12: 24 + mux(2, 8) =
    # 8 x ceil(1/3) = 8 -> 32 LUT, 24 LUTRAM
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
    "pool": ("lutram", 8, 8, 1, 8, 8, 0, 0, 0),  # 1 bank (head_in reads it, 1 lane): RAM32M 8
    # 1 word -> registers: 16 FF, written at once (1 of 1): no enable, mux(1) = 0
    "head": ("registers", 1, 16, 1, 0, 0, 16, 0, 0),
    "delta": ("port", 1, 16, 1, 0, 0, 16, 0, 0),  # the model output: 16 FF
    "enc0.rowmax": ("lutram", 16, 8, 1, 8, 8, 0, 0, 0),  # H x T = 16 words x s8: RAM32M 8
    "enc0.ring": ("lutram", 16, 8, 1, 8, 8, 0, 0, 0),  # 2 x T = 16 words x exp_w 8, 1 bank (p 1): RAM32M 8
    # 8 x s11: 88 FF + 8 enables + mux(8, 11) = 11 x ceil(7/3) = 33 -> 41 LUT
    "pool.sum": ("registers", 8, 11, 8, 41, 0, 88, 0, 0),
    # 16 x 8: 128 FF + 16 enables + 4 readers (head) x mux(ceil(16/4) = 4, 8) = 4 x 8 = 32 -> 48 LUT
    "head_in": ("registers", 16, 8, 16, 48, 0, 128, 0, 0),
    # constant tables
    "embed.weight": ("lutrom", 8, 8, 1, 4, 0, 0, 0, 0),  # 1 lane: 1 bank of 8 words (rows of 1: no padding)
    "embed.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),  # ceil(16/2) = 8
    "pos.table": ("bram", 64, 8, 1, 0, 0, 0, 1, 0),  # 64 x 8: one RAMB18
    # 4 lanes dividing n_in 8: reshaped, 4 banks side by side, one 16-word x 32-bit bank: one 512x36 RAMB18
    "enc0.q.weight": ("bram", 64, 8, 4, 0, 0, 0, 1, 0),
    "enc0.q.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    "enc0.k.weight": ("bram", 64, 8, 4, 0, 0, 0, 1, 0),  # as q.weight
    "enc0.k.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    "enc0.v.weight": ("lutrom", 64, 8, 4, 16, 0, 0, 0, 0),  # 4 banks of 16 words: 4 each
    "enc0.v.bias": ("lutrom", 8, 16, 1, 8, 0, 0, 0, 0),
    # registers (by hand): one LUT ROM of 256 x 8 for the softmax's 1 lane: 4 pieces 8 x 4 = 32
    # + mux(4, 8) = 8 -> 40
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
    # registers, read by no loop's lanes (1 reader): one LUT ROM of 16 x 8: ceil(8/2) = 4
    "head.weight": ("registers", 16, 8, 16, 4, 0, 0, 0, 0),
    "head.bias": ("lutrom", 1, 16, 1, 0, 0, 0, 0, 0),  # one word: wiring
}


def test_design_a_plan_is_the_yamls(est_a):
    # the 9 DSP MAC layers share 8 lanes (context's), 12 (embed's input) x 8 bits
    e = est_a.plan.engine
    assert (e.lanes, e.a_width, e.b_width, e.mapping) == (8, 12, 8, "dsp")
    assert e.users == ("embed", "enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.context", "enc0.o",
                       "enc0.ffn2", "head")
    assert_tables_equal(loop_table(est_a), DESIGN_A_LOOPS)
    assert_tables_equal(nest_table(est_a), DESIGN_A_NESTS)
    assert stride_table(est_a) == {}  # every lane count divides its rows (the embedding's rows are 1 word)


def test_design_a_refuses_the_old_lane_counts():
    from flow.config import ConfigError

    raw = design_a().model_dump(mode="json", exclude_none=True)
    for q in (3, 2):  # 3: not a power of two; 2: divides D, but pos is banked 4 for k and v
        raw["hls"]["parallelism"]["enc0.q"] = q
        with pytest.raises(ConfigError, match="enc0.q"):
            estimate(parse_config(raw), n_features=1)


def test_design_a_every_layer_by_hand(est_a):
    assert_tables_equal(layer_table(est_a), DESIGN_A_LAYERS)


def test_design_a_every_buffer_and_table_by_hand(est_a):
    assert_tables_equal(buffer_table(est_a), DESIGN_A_BUFFERS)


def test_design_a_totals_by_hand(est_a):
    # LUT layers 678+26+67+42x3+37+294+38+98+438+178+72+30+57+60 = 2199
    #     buffers 36+32x3+32+64+32+32+24+16+8+8+8+41+48 = 445
    #     tables 4+8+8+8+16+8+40+16+8+4+8+16+8+16+8+4+8+4 = 192; top 48 -> 2199+445+192+48 = 2884
    # LUTRAM 32x3 + 24 + 64 + 32x2 + 24 + 16 + 8 + 8 + 8 = 312
    # FF layers 270+17+47+29x3+26+588+27+73+147+89+52+21+38+50 = 1532
    #    buffers input 96 + head 16 + delta 16 + pool.sum 88 + head_in 128 = 344; top 32 -> 1908
    # BRAM18 v 8 + pos.table 1 + q.weight 1 + k.weight 1 = 11.  DSP engine 8 + norm1 1 + pool 1 = 10
    assert est_a.total == {"lut": 2884, "lutram": 312, "ff": 1908, "bram18": 11, "dsp": 10}
    # 3+72+138x3+138+158+76+143+265+525+47+18+13+3
    assert est_a.latency_cycles == 1875
    # MACs 64x1 + 3x64x8 + 128x4 + 64x8 + 64x8 + 128x8 + 64x16 + 16 = 5200; 20 DSPs: ceil(5200/20)
    assert (est_a.macs, est_a.dsp_bound_cycles) == (5200, 260)


def test_design_a_softmax_that_rounds_its_table_index_by_hand(est_a):
    """quantization.softmax.index_frac 2 on design A's s8.4 scores (f 4): the index drops 2 score bits, so
    the lookup of each lane adds half a step before the shift (flow.tables.table_index)."""
    cfg = design_a().model_dump(mode="json", exclude_none=True)
    cfg["quantization"]["softmax"] = {"index_frac": 2}
    est = estimate(parse_config(cfg), n_features=1)
    assert resolve_precisions(parse_config(cfg)).softmax[0].index_shift == 2
    # design A's 294 / 588 / 158 plus, on its 1 lane, 1 rounding adder of 8 + 1 bits: 9 LUT, 9 FF;
    # no stage of its own (the fill is fixed)
    assert layer_table(est)["enc0.softmax"] == (303, 0, 597, 0, 0, 158)
    # the exp table keeps its 256 words of 8 bits; nothing else changes
    assert est.total == {**est_a.total, "lut": 2884 + 9, "ff": 1908 + 9}
    assert est.latency_cycles == est_a.latency_cycles


# =================================================================================================
# Design B: small_raw(d_model=6, heads=2, ffn=12), bits 6: T = 8, n_features 1, D = 6, H = 2 (DH = 3),
# F = 12, head mean (reads pool), no delta (head is the output port).  hls: default_parallelism 2;
# parallelism input 4, scores 1, pool 2; multipliers auto, norm1 LUT; storage q BRAM, k registers, pos
# LUTRAM, the rest auto; ROMs o.weight BRAM (2 lanes divide n_in 6: reshaped), ffn1.weight registers,
# head.bias BRAM.  Settled by an explicit Choice: shared lanes LUT, auto layers off them DSP (pool,
# norm2), the auto buffer ffn1 in BRAM (reshaped: ffn1 collects rows of 2 before each write).
# What changed with power-of-two lanes: input was 3 (refused: not a power of two): 4, dividing the
# window's 8 words, so the input is still a loop of its own (2 clocks) into LUTRAM banks, each lane
# selecting its element of the port word. scores was 3 (= DH): only 1 divides DH 3, so scores takes 1
# lane; with it the shared lanes are 2 (the rest's), q's BRAM has one bank (no longer reshaped: the
# reshaped buffer with its row is ffn1's) and k's registers one reader. pool was 4: it would now pad
# norm2's rows of 6 to 8 words; 2 (dividing D = 6) keeps every row of this design unpadded. The embedding
# reads a window captured in chunks (input lanes 4), so it pads nothing: 1 lane (1 term). The
# softmax, its exp table left to auto, takes aligned_lanes(8, min(4, 8 // 4)) = 2 lanes (context has 2):
# two dividers, the exp table as logic read by both lanes, the scores buffer in 2 banks, a ring of 2.
# Types: input s12.4 (f 8); weights s6.1 (f 5); biases s12.3 (f 9); activations s6.3 (f 3); pos table
# s6.2 (f 4); scores s6.4 (f 2); exp table u6.1 (exp_frac 5); prob u6.0 (f 6, signed 7); ffn1 out u6.2
# (f 4, signed 7); norm scale s6.2 (f 4), shift s12.3 (f 9); head s16.6 (f 10).
# The plan: engine = all 10 MAC layers, 2 lanes, 12 x 6 LUT.
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
                  "parallelism": {"input": 4, "enc0.scores": 1, "pool": 2},
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
    "input": (4, 2, False, None),  # ceil(8 / 4)
    "embed": (1, 48, True, "lut"),  # padded_lanes(1 term, 2) = 1; 8 x 6 = 48 outputs x ceil(1 / 1)
    "enc0.q": (2, 144, True, "lut"),  # aligned_lanes(6, 2) = 2; 48 x ceil(6 / 2)
    "enc0.k": (2, 144, True, "lut"),
    "enc0.v": (2, 144, True, "lut"),
    "enc0.scores": (1, 384, True, "lut"),  # 2 x 8 x 8 = 128 outputs x ceil(3 / 1)
    "enc0.softmax": (2, 68, False, None),  # (2 x 8 + 1) rows x 8 / 2
    "enc0.context": (2, 192, True, "lut"),  # padded_lanes(8, 2) = 2; 2 x 8 x 3 = 48 x ceil(8 / 2)
    "enc0.o": (2, 144, True, "lut"),
    "enc0.ffn1": (2, 288, True, "lut"),  # 8 x 12 = 96 x 3
    "enc0.ffn2": (2, 288, True, "lut"),  # aligned_lanes(12, 2) = 2; 48 x ceil(12 / 2)
    "pool": (2, 30, False, "dsp"),  # ceil(6 / 2) x 8 + 6
    "head": (2, 3, True, "lut"),  # 1 x ceil(6 / 2)
}

DESIGN_B_NESTS = {  # (chunks, outputs, rows, groups)
    "embed": (1, 6, 8, 1),
    "enc0.q": (3, 6, 8, 1),
    "enc0.k": (3, 6, 8, 1),
    "enc0.v": (3, 6, 8, 1),
    "enc0.scores": (3, 8, 8, 2),  # (ceil(3/1), T, T, H)
    "enc0.context": (4, 3, 8, 2),  # (ceil(8/2), DH, T, H)
    "enc0.o": (3, 6, 8, 1),
    "enc0.ffn1": (3, 12, 8, 1),
    "enc0.ffn2": (6, 6, 8, 1),
    "head": (3, 1, 1, 1),
}

DESIGN_B_LAYERS = {  # (lut, lutram, ff, bram18, dsp, cycles)
    # control over the 10 MAC layers: 24/16
    # + trips max 384 (scores): clog2(385) = 9 -> 10/9, mux(10, 9) = 9 x 3 = 27
    # + chunks max 6 (ffn2): clog2(7) = 3 -> 4/3, mux(10, 3) = 9
    # + outputs max 12 (ffn1): clog2(13) = 4 -> 5/4, mux(10, 4) = 12
    # + rows max 8: 5/4, mux 12
    # + groups max 2: 3/2, mux(10, 2) = 6
    # -> LUT 24+37+13+17+17+9 = 117; FF 16+9+3+4+4+2 = 38
    # 2 lanes x (LUT 12x6: 1.25 x 72 = 90 LUT, 18 FF; mux(10 users, 12) = 12 x ceil(9/3) = 36 + mux(10, 6)
    # = 18 LUT; operand FF 12 + 6 = 18) = 2 x 144 LUT, 2 x 36 FF; tree 1 x adder(12 + 6 + bl(1) = 19)
    # LUT 117 + 288 + 19 = 424; FF 38 + 72 + 19 = 129
    "engine": (424, 0, 129, 0, 0, 0),
    # 4 lanes x mux(ceil(8/4) = 2, 12) = 12 x 1 = 48; control 24/16 + counter(2) clog2(3) = 2 -> 3/2
    # LUT 27 + 48 = 75; FF 18; cycles 2 + read 0 + 1 + 1 = 4
    "input": (75, 0, 18, 0, 0, 4),
    # acc 19/19; cast s19.6 (f 13) -> s6.3: round 6 + sat 3 + 6 = 15 LUT, 6 FF; epilogue pos: s6.3 + s6.2
    # -> wide 4, f 4: adder(8) 8/8, cast s8.4 (f 4) -> s6.3: round 6 + sat 1 + 6 = 13 LUT, 6 FF
    # LUT 19+15+8+13 = 55; FF 19+6+8+6 = 39
    # cycles 48 + (read 1 (input LUTRAM) + LUT 2 + tree bl(0) = 0 + 1 + 1 + 1 = 6) + 2 = 56
    "embed": (55, 0, 39, 0, 0, 56),
    # acc 16/16; cast s16.7 (f 9) -> s6.3: round 6 + sat 4 + 6 = 16 LUT, 6 FF (q's BRAM has 1 bank: not
    # reshaped, no row).  LUT 32; FF 22
    # cycles 144 + (read 1 (pos LUTRAM) + 2 + bl(1) = 1 + 1 + 1 = 6) + 2 = 152
    "enc0.q": (32, 0, 22, 0, 0, 152),
    "enc0.k": (32, 0, 22, 0, 0, 152),  # as q (writes registers)
    "enc0.v": (32, 0, 22, 0, 0, 152),
    # acc 13/13; cast s13.6 (f 7, the acc read with the shift 1) -> s6.4: round 6 + sat (6-4) + 6 = 14 LUT,
    # 6 FF.  LUT 13+14 = 27; FF 13+6 = 19
    # cycles 384 + (read max(q BRAM 2, k registers 0) = 2 + 2 + bl(0) = 0 + 1 + 1 = 6) + 2 = 392
    "enc0.scores": (27, 0, 19, 0, 0, 392),
    # p = 2.  exp_w 6, sum_w 6 + bl(8) = 10, num_w max(6 + 6, 10 - 1) + 1 = 13
    # per lane: adder(7) 7/7; divider 13 x 10 = 130 LUT, 13 x 23 = 299 FF; rounding adder(13) 13/13;
    # cast u13.7 -> u6.0: sat 7 + 6 = 13 LUT, 6 FF -> 163 LUT, 325 FF; x 2 = 326 / 650
    # control 24/16 + counter(8 / 2 = 4) clog2(5) = 3 -> 4/3 + counter(16 + 1) 6/5; 2 x adder(10) 20/20;
    # 2 x 10 = 20 FF
    # LUT 24+4+6+326+20 = 380; FF 16+3+5+650+20+20 = 714; cycles 68 + (1 + 3 + 13 + 1 = 18) = 86
    "enc0.softmax": (380, 0, 714, 0, 0, 86),
    # acc 15/15; cast s15.6 (f 9) -> s6.3: round 6 + sat 3 + 6 = 15 LUT, 6 FF.  LUT 30; FF 21
    # cycles 192 + (read 1 (softmax, v LUTRAM) + 2 + 1 + 1 + 1 = 6) + 2 = 200
    "enc0.context": (30, 0, 21, 0, 0, 200),
    # acc 16/16, cast 16/6; epilogue add1: s6.3 + pos s6.3 -> adder(4 + 3 = 7) 7/7, cast s7.4
    # (f 3) -> s6.3 sat 1 + 6 = 7 LUT, 6 FF; norm1 on LUT 6x6: 1.25 x 36 = 45 LUT, 12 FF; f = 3 + 4 = 7,
    # top = max(12 - 7, 3) + 1 = 6, adder(6 + max(7, 9) = 15) 15/15, cast s15.6 (f 9) -> s6.3: round 6 +
    # sat 3 + 6 = 15 LUT, 6 FF; stages 1 + 2 + 1 = 4
    # LUT 16+16 + 7+7+45+15+15 = 121; FF 16+6 + 7+6+12+15+6 = 68
    # cycles 144 + (read 1 (context, pos LUTRAM) + 2 + 1 + 1 + 4 + 1 = 10) + 2 = 156
    "enc0.o": (121, 0, 68, 0, 0, 156),
    # acc 16/16; ReLU 16; cast s16.7 (f 9) -> u6.2: round 6 + sat (7-2) + 6 = 17 LUT, 6 FF; it writes ffn1
    # reshaped in words of 2: a row of 2 x 6 = 12 FF and counter(2) clog2(3) = 2 -> 3/2
    # LUT 16+16+17+3 = 52; FF 16+6+12+2 = 36
    # cycles 288 + (read 1 (norm1 LUTRAM) + 2 + 1 + 1 + 1 = 6) + 2 = 296
    "enc0.ffn1": (52, 0, 36, 0, 0, 296),
    # acc 17/17; cast s17.8 (f 9) -> s6.3: round 6 + sat 5 + 6 = 17 LUT, 6 FF; epilogue add2 as add1
    # (7 + 7 LUT, 7 + 6 FF); norm2 on DSP 6x6 (1 DSP), adder(15) 15/15, cast 15/6; stages 1 + 3 + 1 = 5
    # LUT 17+17 + 7+7+15+15 = 78; FF 17+6 + 7+6+15+6 = 57; DSP 1
    # cycles 288 + (read max(ffn1 BRAM 2, residual norm1 LUTRAM 1) = 2 + 2 + 1 + 1 + 5 + 1 = 12) + 2 = 302
    "enc0.ffn2": (78, 0, 57, 0, 1, 302),
    # control 24/16 + counter(30) clog2(31) = 5 -> 6/5 = 30/21; 2 lanes x adder(9) = 18/18; DSP 9 x 17 =
    # 1 DSP; cast s25.6 (f 19) -> s6.3: round 6 + sat 3 + 6 = 15 LUT, 6 FF
    # LUT 30+18+15 = 63; FF 21+18+6 = 45; cycles 30 + read 1 (norm2 LUTRAM) + 3 + 2 + 1 = 37
    "pool": (63, 0, 45, 0, 1, 37),
    # acc 16/16; cast s16.7 (f 9) -> s16.6 (f 10): no round, sat 1 + 16 = 17 LUT, 16 FF.  LUT 33; FF 32
    # cycles 3 + (read 1 (pool LUTRAM) + 2 + 1 + 1 + 1 = 6) + 2 = 11
    "head": (33, 0, 32, 0, 0, 11),
}

DESIGN_B_BUFFERS = {  # (storage, words, width, banks, lut, lutram, ff, bram18, dsp)
    # 4 banks (written 4 a clock) of 2 words: RAM32M 4 x ceil(12/6) = 8 each -> 32
    "input": ("lutram", 8, 12, 4, 32, 32, 0, 0, 0),
    "embed": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "pos": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),  # 2 banks (q k v) of 24: 4 x ceil(6/6) = 4 each
    # 1 bank (scores 1 lane): 48 x 6, one RAMB18 (2Kx9); not reshaped
    "enc0.q": ("bram", 48, 6, 1, 0, 0, 0, 1, 0),
    # 48 x 6 = 288 FF; written one a clock: 48 enables; 1 reader x mux(48, 6) = 6 x ceil(47/3) = 96
    # -> 48 + 96 = 144 LUT
    "enc0.k": ("registers", 48, 6, 48, 144, 0, 288, 0, 0),
    "enc0.v": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),  # context 2 lanes dividing the window: no stride
    # 128 words in 2 banks (the softmax's 2 lanes) of 64: 1 piece of min(RAM64X1D 2 x 6 = 12, RAM64M
    # 4 x ceil(6/3) = 8) = 8, mux(1) = 0 -> 8 each
    "enc0.scores": ("lutram", 128, 6, 2, 16, 16, 0, 0, 0),
    "enc0.softmax": ("lutram", 128, 6, 2, 16, 16, 0, 0, 0),  # 2 banks (softmax writes 2, context reads 2)
    "enc0.context": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),
    "enc0.o": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.add1": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.norm1": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),
    # the Choice: BRAM, 2 banks (ffn2 2 lanes, 12 terms: aligned) reshaped: one bank of 48 x 12, one RAMB18
    "enc0.ffn1": ("bram", 96, 6, 2, 0, 0, 0, 1, 0),
    "enc0.ffn2": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.add2": ("fused", 48, 6, 1, 0, 0, 0, 0, 0),
    "enc0.norm2": ("lutram", 48, 6, 2, 8, 8, 0, 0, 0),  # 2 banks (pool) of 24: 4 each
    "pool": ("lutram", 6, 6, 2, 8, 8, 0, 0, 0),  # 2 banks (head) of 3: 4 each
    "head": ("port", 1, 16, 1, 0, 0, 16, 0, 0),  # the model output
    "enc0.rowmax": ("lutram", 16, 6, 1, 4, 4, 0, 0, 0),  # 4 x ceil(6/6)
    "enc0.ring": ("lutram", 16, 6, 2, 8, 8, 0, 0, 0),  # 2 x 8 words x exp_w 6, 2 banks of 8: 4 each
    # 6 x s9: 54 FF + 6 enables + mux(6, 9) = 9 x ceil(5/3) = 18 -> 24 LUT
    "pool.sum": ("registers", 6, 9, 6, 24, 0, 54, 0, 0),
    # constant tables
    "embed.weight": ("lutrom", 6, 6, 1, 3, 0, 0, 0, 0),  # 1 lane: 1 bank of 6 words: ceil(6/2) = 3
    "embed.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),  # ceil(12/2)
    "pos.table": ("lutrom", 48, 6, 1, 6, 0, 0, 0, 0),  # 48 words: 1 piece 6 x 1, mux(1) 0
    "enc0.q.weight": ("lutrom", 36, 6, 2, 6, 0, 0, 0, 0),  # 2 banks of 18: 3 each
    "enc0.q.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.k.weight": ("lutrom", 36, 6, 2, 6, 0, 0, 0, 0),
    "enc0.k.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.v.weight": ("lutrom", 36, 6, 2, 6, 0, 0, 0, 0),
    "enc0.v.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    # the softmax's 2 lanes read it: registers (constants as logic), one LUT ROM of 256 x 6 per lane:
    # 4 pieces 6 x 4 = 24 + mux(4, 6) = 6 -> 30, x 2 readers = 60
    "enc0.exp_table": ("registers", 256, 6, 256, 60, 0, 0, 0, 0),
    # reshaped: one bank of 18 words x 12 bits: one RAMB18 (not 2)
    "enc0.o.weight": ("bram", 36, 6, 2, 0, 0, 0, 1, 0),
    "enc0.o.bias": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    "enc0.norm1.scale": ("lutrom", 6, 6, 1, 3, 0, 0, 0, 0),
    "enc0.norm1.shift": ("lutrom", 6, 12, 1, 6, 0, 0, 0, 0),
    # registers: one LUT ROM of 72 x 6 (1 reader): 2 pieces 6 x 2 = 12 + mux(2, 6) = 6 -> 18
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
    e = est_b.plan.engine  # every MAC layer on the shared LUT lanes: 2 (the most any layer has), 12 x 6
    assert (e.lanes, e.a_width, e.b_width, e.mapping) == (2, 12, 6, "lut")
    assert e.users == ("embed", "enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.context", "enc0.o",
                       "enc0.ffn1", "enc0.ffn2", "head")
    assert_tables_equal(loop_table(est_b), DESIGN_B_LOOPS)
    assert_tables_equal(nest_table(est_b), DESIGN_B_NESTS)
    assert stride_table(est_b) == {}
    assert (est_b.plan.loops["enc0.o"].norm_mapping, est_b.plan.loops["enc0.ffn2"].norm_mapping) == ("lut", "dsp")


def test_design_b_refuses_the_old_lane_counts():
    from flow.config import ConfigError

    for key, value in (("input", 3), ("enc0.scores", 3), ("pool", 3)):  # not powers of two / not dividing DH
        raw = design_b().model_dump(mode="json", exclude_none=True)
        raw["hls"]["parallelism"][key] = value
        with pytest.raises(ConfigError, match=key):
            cfg = parse_config(raw)
            hls_plan(cfg, resolve_precisions(cfg), 1, DESIGN_B_CHOICE)


def test_design_b_every_layer_by_hand(est_b):
    assert_tables_equal(layer_table(est_b), DESIGN_B_LAYERS)


def test_design_b_every_buffer_and_table_by_hand(est_b):
    assert_tables_equal(buffer_table(est_b), DESIGN_B_BUFFERS)


def test_design_b_totals_by_hand(est_b):
    # LUT layers 424+75+55+32x3+27+380+30+121+52+78+63+33 = 1434
    #     buffers 32+8+144+8+16+16+8+8+8+8+4+8+24 = 292
    #     tables 3 + 6x8 (embed.bias, pos, q/k/v w/b) + 60 + 6 + 3+6 + 18+6 + 12+6 + 3+6 + 6 = 183; top 48
    #     -> 1434+292+183+48 = 1957
    # LUTRAM 32+8+8+16+16+8+8+8+8+4+8 = 124
    # FF layers 129+18+39+22x3+19+714+21+68+36+57+45+32 = 1244; buffers k 288 + head 16 + pool.sum 54
    #    = 358; top 32 -> 1634
    # BRAM18 q 1 + ffn1 1 + o.weight 1 + head.bias 1 = 4.  DSP norm2 1 + pool 1 = 2
    assert est_b.total == {"lut": 1957, "lutram": 124, "ff": 1634, "bram18": 4, "dsp": 2}
    # 4+56+152x3+392+86+200+156+296+302+37+11
    assert est_b.latency_cycles == 1996
    # MACs 48 + 3x48x6 + 128x3 + 48x8 + 48x6 + 96x6 + 48x12 + 6 = 3126; ceil(3126 / 20)
    assert (est_b.macs, est_b.dsp_bound_cycles) == (3126, 157)


# =================================================================================================
# configs/default.yaml, n_features 1, through estimate() (parallelism auto: the search): T = 24, D = 16,
# H = 1 (DH = 16), F = 64, bits 8 (types as design A), head mean, predict_delta, xc7s15 (8000 LUT,
# 2400 LUTRAM, 16000 FF, 20 BRAM18, 20 DSP), 20 % headroom: at most 6400 LUT, 1920 LUTRAM, 12800 FF,
# 16 BRAM18, 16 DSP.
# What auto settles to, and why (plan_design, _fit, _moves):
#  lane candidates (_lane_candidates): the terms carrying >= 10 % of the 92560 MACs are 16 (q k v o, scores,
#  ffn1, head: 58384) and 64 (ffn2: 24576; context's 24 terms carry 9216 < 9256): ceil(16 / k) and
#  ceil(64 / k) -> 64, 32, 22, 16, 13, 11, 10, 8, ..., each the power of two the plan makes of it
#  (pow2_floor): 64, 32, 16, 8, 4, 2, 1.  DSP shared lanes first: 64 and 32 lanes (ffn2 aligned
#  to 64 / 32, the context padded) take more than 16 DSPs (no move gives DSPs back); 16 gives every layer
#  16 lanes at most: the plan below, 16 DSPs, but 6460.25 -> 6461 LUT > 6400 (the tables
#  of this plan before the move: the ones below with ffn1 in LUTRAM, 16 banks of 96: 512 LUT, 384 LUTRAM,
#  and ffn1 without its row).  The moves: ffn1, the softmax buffer, v, pos to BRAM (the largest LUTRAM
#  buffers), ffn1.weight, ffn2.weight, pos.table, ffn1.bias to BRAM (LUT ROMs deeper than 32 a bank),
#  pool 16 -> 8 and softmax 4 -> 2 lanes.  ffn1 to BRAM: 16 banks reshaped (ffn2 reads 16 aligned) =
#  ceil(128 / 36) = 4 RAMB18, -512 LUT + its row (6 LUT) -> 5955 LUT: fits; +1 clock (ffn2 reads BRAM).
#  The softmax buffer or v to BRAM: 16 unreshaped banks -> 20 BRAM18 > 16.  pos: fits, but +4 clocks (q k v
#  and o's residual read BRAM).  ffn1.weight (-128 LUT -> fits, +0 clocks) scores the same as ffn1 (the
#  whole overflow over max(1, clocks)); the first in order wins: ffn1.  The lane halvings cost 24 and 150
#  clocks.  So ffn1 goes to BRAM and the design fits.  The LUT shared lanes cannot beat it: 16 LUT lanes
#  add about 1600 LUT (less 556 for the private multipliers moved to DSPs), so they fit, if at all, only
#  after the softmax's lanes are halved (+150 clocks, more than 1 % of the 6685 below).
#  The second start, every auto buffer in registers (_hopeless): their flip-flops alone, 43440 at any lane
#  count (pos q k v norm1 norm2 context 384 x 8 each = 21504, scores and softmax 576 x 8 each = 9216, ffn1
#  1536 x 8 = 12288, input 24 x 12 = 288, pool 16 x 8 = 128, head 1 x 16 = 16), are over the 12800 FF of
#  the headroom, and no move takes a buffer out of registers: never fitted.
#  Hence: 16 shared DSP lanes, 9 x 8, used by every MAC layer but embed (1 term: 1 lane, so it keeps a LUT
#  multiplier of its own); the layers off the shared lanes (embed, the norms, pool) on LUTs; input captured
#  at once (24 lanes, registers); context 16 lanes padded (24 -> 2 chunks of 16: probabilities and v rows
#  of 32 words); softmax 4 lanes (aligned_lanes(24, min(4, 24 // 4))); pool 16 lanes; scores in BRAM (4 banks
#  of 144 words), ffn1 in BRAM (the move), every other buffer LUTRAM except the one-word-a-bank ones
#  (registers); every table a LUT ROM, the exp table as logic (4 readers).
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
    "enc0.softmax": (4, 150, False, None),  # (24 rows + 1) x 24 / 4
    "enc0.context": (16, 768, True, "dsp"),  # 384 x ceil(24 / 16)
    "enc0.o": (16, 384, True, "dsp"),
    "enc0.ffn1": (16, 1536, True, "dsp"),  # 24 x 64
    "enc0.ffn2": (16, 1536, True, "dsp"),  # 384 x ceil(64 / 16)
    "pool": (16, 40, False, "lut"),  # ceil(16 / 16) x 24 + 16
    "head": (16, 1, True, "dsp"),
    "delta": (1, 1, False, None),
}

DEFAULT_NESTS = {  # (chunks, outputs, rows, groups)
    "embed": (1, 16, 24, 1),
    "enc0.q": (1, 16, 24, 1),
    "enc0.k": (1, 16, 24, 1),
    "enc0.v": (1, 16, 24, 1),
    "enc0.scores": (1, 24, 24, 1),
    "enc0.context": (2, 16, 24, 1),
    "enc0.o": (1, 16, 24, 1),
    "enc0.ffn1": (1, 64, 24, 1),
    "enc0.ffn2": (4, 16, 24, 1),
    "head": (1, 1, 1, 1),
}

DEFAULT_LAYERS = {  # (lut, lutram, ff, bram18, dsp, cycles)
    # control over the 10 MAC layers (embed too, on its own lane): 24/16
    # + trips max 1536 (ffn1, ffn2): clog2(1537) = 11 -> 12/11, mux(10, 11) = 11 x 3 = 33
    # + chunks max 4 (ffn2): clog2(5) = 3 -> 4/3, mux(10, 3) = 9
    # + outputs max 64 (ffn1): clog2(65) = 7 -> 8/7, mux(10, 7) = 21
    # + rows max 24: clog2(25) = 5 -> 6/5, mux(10, 5) = 15
    # + groups max 1: clog2(2) = 1 -> 2/1, mux(10, 1) = 3
    # -> LUT 24+45+13+29+21+5 = 137; FF 16+11+3+7+5+1 = 43
    # 16 lanes x (DSP 9x8: 1 DSP, no FF; mux(9 users, 9) = 9 x ceil(8/3) = 27 + mux(9, 8) = 24 LUT; operand
    # FF 9 + 8 = 17) = 816 LUT, 272 FF, 16 DSP; tree 15 adds less 16 // 2 = 8 in the DSPs' post-adders:
    # 7 x adder(9 + 8 + bl(15) = 21) = 147 / 147.  LUT 137 + 816 + 147 = 1100; FF 43 + 272 + 147 = 462
    "engine": (1100, 0, 462, 0, 16, 0),
    # 24 lanes x mux(1, 12) = 0; control 24/16 + counter(1) 2/1; cycles 1 + 0 + 1 + 1 = 3
    "input": (26, 0, 17, 0, 0, 3),
    # own LUT 12x8: 1.25 x 96 = 120 LUT, 20 FF (1 lane, no tree); acc 21/21; cast 19/8; epilogue pos as
    # design A 10 + 17 LUT, 10 + 8 FF.  LUT 21+19+120+10+17 = 187; FF 21+8+20+10+8 = 67
    # cycles 384 + (read 0 (input registers) + LUT 2 + tree bl(0) = 0 (one lane) + 1 + 1 + 1 = 5) + 2 = 391
    "embed": (187, 0, 67, 0, 0, 391),
    # acc 22/22; cast s22.9 (f 13) -> s8.3: round 8 + sat 6 + 8 = 22 LUT, 8 FF.  LUT 44; FF 30
    # cycles 384 + (read 1 (pos LUTRAM) + DSP 3 + bl(15) = 4 + 1 + 1 = 10) + 2 = 396
    "enc0.q": (44, 0, 30, 0, 0, 396),
    "enc0.k": (44, 0, 30, 0, 0, 396),
    "enc0.v": (44, 0, 30, 0, 0, 396),
    # acc 20/20; cast s20.8 (f 12, the acc read with the shift 2) -> s8.4: round 8 + sat (8-4) + 8 = 20 LUT,
    # 8 FF.  LUT 40; FF 28
    # cycles 576 + (read 1 (q, k LUTRAM) + 3 + 4 + 1 + 1 = 10) + 2 = 588
    "enc0.scores": (40, 0, 28, 0, 0, 588),
    # p = 4.  exp_w 8, sum_w 8 + bl(24) = 13, num_w max(16, 12) + 1 = 17
    # per lane: adder(9) 9/9; divider 17 x 13 = 221 LUT, 17 x 30 = 510 FF; rounding adder(17) 17/17;
    # cast u17.9 -> u8.0: sat 9 + 8 = 17 LUT, 8 FF -> 264 LUT, 544 FF; x 4 = 1056 / 2176
    # control 24/16 + counter(24 / 4 = 6) clog2(7) = 3 -> 4/3 + counter(24 + 1) clog2(26) = 5 -> 6/5;
    # 4 x adder(13) 52/52; 2 x 13 = 26 FF
    # LUT 24+4+6+1056+52 = 1142; FF 16+3+5+2176+52+26 = 2278
    # cycles 150 + (read 2 (scores BRAM) + 3 + 17 + 1 = 23) = 173
    "enc0.softmax": (1142, 0, 2278, 0, 0, 173),
    # acc 21/21; cast s21.8 (f 13) -> s8.3: round 8 + sat 5 + 8 = 21 LUT, 8 FF.  LUT 42; FF 29
    # cycles 768 + (read 1 (softmax, v LUTRAM) + 3 + bl(15) = 4 + 1 + 1 = 10) + 2 = 780
    "enc0.context": (42, 0, 29, 0, 0, 780),
    # as q 22/22, 22/8; epilogue add1 9 + 9 LUT, 9 + 8 FF; norm1 on LUT 8x8 80 LUT 16 FF, adder(19)
    # 19/19, cast 19/8; stages 1 + 2 + 1 = 4.  LUT 22+22 + 9+9+80+19+19 = 180; FF 22+8 + 9+8+16+19+8 = 90
    # cycles 384 + (read 1 (context, pos LUTRAM) + 3 + 4 + 1 + 4 + 1 = 14) + 2 = 400
    "enc0.o": (180, 0, 90, 0, 0, 400),
    # acc 22/22; ReLU 22; cast s22.9 (f 13) -> u8.2: round 8 + sat 7 + 8 = 23 LUT, 8 FF; it writes ffn1
    # (BRAM, reshaped) in words of 16: a row of 16 x 8 = 128 FF and counter(16) clog2(17) = 5 -> 6/5
    # LUT 22+22+23+6 = 73; FF 22+8+128+5 = 163
    # cycles 1536 + (read 1 (norm1 LUTRAM) + 3 + 4 + 1 + 1 = 10) + 2 = 1548
    "enc0.ffn1": (73, 0, 163, 0, 0, 1548),
    # acc 23/23; cast s23.10 (f 13) -> s8.3: round 8 + sat 7 + 8 = 23 LUT, 8 FF; epilogue as o (136 LUT,
    # 60 FF).  LUT 23+23+136 = 182; FF 23+8+60 = 91
    # cycles 1536 + (read max(ffn1 BRAM 2, norm1 LUTRAM 1) = 2 + 3 + 4 + 1 + 4 + 1 = 15) + 2 = 1553
    "enc0.ffn2": (182, 0, 91, 0, 0, 1553),
    # control 24/16 + counter(40) 7/6 = 31/22; 16 lanes x adder(13) = 208/208; LUT 13 x 17: 1.25 x 221 =
    # 276.25 LUT, 30 FF; cast s29.8 (f 21) -> s8.3: round 8 + sat 5 + 8 = 21 LUT, 8 FF
    # LUT 31+208+276.25+21 = 536.25; FF 22+208+30+8 = 268
    # cycles 40 + read 1 (norm2 LUTRAM) + LUT 2 + 2 + 1 = 46
    "pool": (536.25, 0, 268, 0, 0, 46),
    # acc 22/22; cast s22.9 -> s16.6: round 16 + sat 3 + 16 = 35, 16 FF.  LUT 57; FF 38
    # cycles 1 + (read 0 (pool registers) + 3 + 4 + 1 + 1 = 9) + 2 = 12
    "head": (57, 0, 38, 0, 0, 12),
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
    # stride 32: 16 rows [d] of 32 words (24 steps padded to 2 chunks of 16) = 512; 16 banks of 32: 8 each
    "enc0.v": ("lutram", 512, 8, 16, 128, 128, 0, 0, 0),
    # 4 banks (the softmax's 4 lanes) of 144 words x 8 = 1152 bits (> 64 words, > 1024 bits) -> BRAM;
    # written by scores (not reshaped): 4 x one RAMB18 (2Kx9)
    "enc0.scores": ("bram", 576, 8, 4, 0, 0, 0, 4, 0),
    # stride 32: 24 rows of 32 = 768 words; 16 banks (context) of 48: 1 piece, min(RAM64X1D 2 x 8 = 16,
    # RAM64M 4 x ceil(8/3) = 12) = 12 each
    "enc0.softmax": ("lutram", 768, 8, 16, 192, 192, 0, 0, 0),
    "enc0.context": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    "enc0.o": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.add1": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.norm1": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    # the move: BRAM, 16 banks (ffn2 16 lanes, 64 terms: aligned) reshaped: one bank of 96 words x 128 bits:
    # 512x36 -> 1 x ceil(128/36) = 4 RAMB18
    "enc0.ffn1": ("bram", 1536, 8, 16, 0, 0, 0, 4, 0),
    "enc0.ffn2": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.add2": ("fused", 384, 8, 1, 0, 0, 0, 0, 0),
    "enc0.norm2": ("lutram", 384, 8, 16, 128, 128, 0, 0, 0),
    # 16 banks of 1 word (head reads 16 a clock) -> registers: 128 FF, 16 enables, 16 x mux(1) = 0
    "pool": ("registers", 16, 8, 16, 16, 0, 128, 0, 0),
    "head": ("registers", 1, 16, 1, 0, 0, 16, 0, 0),  # 16 FF, written at once: no enable
    "delta": ("port", 1, 16, 1, 0, 0, 16, 0, 0),
    "enc0.rowmax": ("lutram", 24, 8, 1, 8, 8, 0, 0, 0),
    "enc0.ring": ("lutram", 48, 8, 4, 32, 32, 0, 0, 0),  # 2 x 24 words, 4 banks of 12: RAM32M 8 each
    # 16 x s13: 208 FF + 16 enables + mux(16, 13) = 13 x 5 = 65 -> 81 LUT
    "pool.sum": ("registers", 16, 13, 16, 81, 0, 208, 0, 0),
    # constant tables, every one a LUT ROM but the exp table
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
    # the softmax's 4 lanes read it: registers, one LUT ROM of 256 x 8 (8 x 4 + mux(4, 8) 8 = 40) per lane
    "enc0.exp_table": ("registers", 256, 8, 256, 160, 0, 0, 0, 0),
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
    assert_tables_equal(nest_table(est_default), DEFAULT_NESTS)
    # the context's operands padded to whole chunks of its 16 lanes: 24 steps -> rows of 32 words
    assert stride_table(est_default) == {"enc0.v": 32, "enc0.softmax": 32}
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
    # LUT layers 1100+26+187+44x3+40+1142+42+180+73+182+536.25+57+60 = 3757.25
    #     buffers 96+128x4+192+128+128+128+16+8+32+81 = 1321
    #     tables 4+8+64+(64+8)x3+160+(64+8)+4+8+128+16+128+8+4+8 = 828; top 48
    #     -> 3757.25 + 1321 + 828 + 48 = 5954.25 -> 5955 (<= 6400: fits)
    # LUTRAM 128x4 + 192 + 128 + 128 + 128 + 8 + 32 = 1128
    # FF layers 462+17+67+30x3+28+2278+29+90+163+91+268+38+50 = 3671
    #    buffers input 288 + pool 128 + head 16 + delta 16 + pool.sum 208 = 656; top 32 -> 4359
    # BRAM18 scores 4 + ffn1 4 = 8.  DSP the 16 shared lanes (the norms and pool are on LUTs)
    assert est_default.total == {"lut": 5955, "lutram": 1128, "ff": 4359, "bram18": 8, "dsp": 16}
    # 3+391+396x3+588+173+780+400+1548+1553+46+12+3
    assert est_default.latency_cycles == 6685
    # MACs 384x1 + 3x384x16 + 576x16 + 384x24 + 384x16 + 1536x16 + 384x64 + 16 = 92560; ceil(92560 / 20)
    assert (est_default.macs, est_default.dsp_bound_cycles) == (92560, 4628)


# =================================================================================================
# The interfaces of configs/default.yaml (hls.interface, flow/estimate/interface.py): the same core as
# above (window 24 x 1 channel of s12.4, forecast 1 word), plus, for s_axilite and axis:
#  capture: control 24 LUT + 16 FF, counter(24) b = clog2(25) = 5 -> 6 LUT + 5 FF, 24 x 12-bit registers
#           written one a clock = 288 FF + 24 enable LUT -> 54 LUT, 309 FF; 24 trips + fill (AXI4-Lite
#           memory: LUTRAM read latency 1; stream: its register slice 1) + 1 write = 26 cycles
#  forecast: one word (n_out 1): written as it is, a wire (no one-trip loop, flow/hls/interface.py
#           _forecast): no LUT, no FF; the write stage, 1 cycle
#  AXI4-Lite slave with arrays {window: 24, forecast: 1}: map 16 control bytes + window 96 B aligned to 128
#           + forecast 4 B -> 148 B, address bits clog2(148) = 8; read mux over control + 2 arrays = 3:1 of
#           32 bits = 32 x ceil(2 / 3) = 32 LUT; + 2 x 8 + 24 = 72 LUT; FF 8 + 32 + 10 + 16 = 66.
#           Memories, LUTRAM <= 32 words: 4 x ceil(32 / 6) = 24 LUT (all LUTRAM) each.
#  axis: the AXI4-Lite slave with only forecast: map 16 + 4 = 20 B -> 5 address bits; 2:1 read mux
#           32 x ceil(1 / 3) = 32 LUT; 32 + 10 + 24 = 66 LUT; FF 5 + 32 + 10 + 16 = 63; register slice
#           32 + 4 = 36 LUT, 2 x 33 + 2 = 68 FF -> adapter 102 LUT, 131 FF; one 24-LUT memory.
# The search settles the core as above: before the move 6460.25 LUT + 54 + 72 + 48 (s_axilite) or
# + 54 + 102 + 24 (axis) = 6634.25 / 6640.25 > 6400; ffn1 to BRAM (-506) fits (6128.25 / 6134.25) at +1
# clock, and is here the only move that removes the whole overflow at <= 1 clock (ffn1.weight's -128 does
# not).
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
    assert layers["forecast"] == (0, 0, 0, 0, 0, 1)
    assert layers["adapter"] == adapter
    core = {n: row for n, row in layers.items() if n not in ("capture", "forecast", "adapter")}
    assert core == layer_table(est_default)  # the core is the ap_vld design's, layer for layer
    buffers = buffer_table(est)
    assert {n: buffers[n] for n in memories} == memories
    assert {n: row for n, row in buffers.items() if n not in memories} == buffer_table(est_default)
    assert est.latency_cycles == 6685 + 26 + 1
    added_lut = 54 + adapter[0] + 24 * len(memories)
    assert est.total["lut"] == 5955 + added_lut  # 5954.25 + an integer: the same ceiling
    assert est.total["lutram"] == 1128 + 24 * len(memories)
    assert est.total["ff"] == 4359 + 309 + adapter[2]
