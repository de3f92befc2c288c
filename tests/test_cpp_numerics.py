"""The C++ numerics: overflowing ap_fixed casts and accumulators at their worst-case bounds.

What these tests prove:

* Casts. The generated C++ rounds only by assigning one ap_fixed to another, and the Python side
  (keras quantizers, integer reference) rounds with ``requantize`` / ``quantize``. One compiled
  table of cases assigns a wide signed and a wide unsigned source to signed and unsigned targets in
  every rounding and overflow mode, on inputs far outside, exactly at and one LSB past both ends of
  the target, on half-LSB ties (even, odd, negative) and on ties that round past the top; every
  target mantissa the real ap_fixed.h produces equals ``requantize`` (and ``quantize`` of the same
  real value). A good share of the inputs overflow, so saturation and wrap-around are both checked.
* Accumulators. ``exact_sum_type``, ``product_accumulator`` and ``dense_accumulator`` return types
  that hold every extreme (partial) sum and are tight: one bit narrower cannot hold an extreme.
  In C simulation, ``tsflow::dense_seq``, the score dot product of ``tsflow::attention`` and the
  window sum of ``tsflow::average_pool``, driven to the accumulator's maximum and minimum, give the
  exact Python integer sums; the same harness with an accumulator one bit narrower gives the
  wrapped sums, so these tests would see an accumulator sized one bit too small. The multiplying
  layers run twice: on private multiply lanes (a ``lanes_struct`` of their own) and on the shared
  engine of ``engine_header`` (``tsflow_mac``), wider and with more lanes than most of its users; the
  lanes never divide the terms evenly, and nonzero guard words follow every operand array, so an idle
  lane left on changes a result. The attention's value (stored transposed), probabilities and context
  are checked too.
* Softmax. ``tsflow::softmax_rows`` equals ``flow.tables.softmax_int`` on one-hot rows (whose quotient
  2^prob_frac must saturate to prob_max), ties, the table's last entry and first miss, and differences
  one bit wider than a score; the one-hot rows also equal the hand-known prob_max and 0.
* Dense output chains. ``tsflow::dense_add_norm`` (and ``dense_add``) round y = x.w + b, s = y + a and
  z = s * scale + shift exactly like ``requantize`` at each point, saturating at both ends of each.

Expected values are Python integers computed here from the inputs (``fractions`` rounding, brute
force over small ranges), never copied from the code under test. Three programs (the cast table,
the private-lanes and the shared-lanes harnesses), one g++ run each, compiled in parallel.
"""
from __future__ import annotations

import itertools
import random
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from math import floor
from pathlib import Path

import numpy as np
import pytest

from flow.fixedpoint import (OVERFLOW_MODES, ROUNDING_MODES, FixedType, exact_sum_type, product_accumulator,
                             quantize, requantize)

REPO = Path(__file__).resolve().parents[1]
HLS_TEMPLATES = REPO / "hls_templates"

PRELUDE = r"""
#include <cstdio>
#include "ap_fixed.h"
#include "tsflow_layers.h"

// integer mantissa of an ap_fixed / ap_ufixed, read from its bits as the project does (tsflow::bits_of)
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
long long mantissa(const ap_fixed_base<W, I, S, Q, O, N> &v) {
    return tsflow::bits_of<ap_fixed_base<W, I, S, Q, O, N>, ap_int_base<W, S> >(v).to_int64();
}
// value = m * 2^-frac, written into the bits (the two's complement of m, truncated to W bits)
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
void set_mantissa(ap_fixed_base<W, I, S, Q, O, N> &v, long long m) {
    v.range() = ap_uint<W>(m);
}
template <class T> void set_all(T *v, const long long *m, unsigned n) {
    for (unsigned i = 0; i < n; i++) set_mantissa(v[i], m[i]);
}
// operand arrays are GUARD words longer than the layer reads; the extra words hold a nonzero mantissa,
// so a lane left on past the end of its operand changes the result
static const unsigned GUARD = 8;
template <class T> void guard(T *v, unsigned n, long long m) {
    for (unsigned i = n; i < n + GUARD; i++) set_mantissa(v[i], m);
}
template <class T> void print_all(const char *tag, const T *v, unsigned n) {
    std::printf("%s", tag);
    for (unsigned i = 0; i < n; i++) std::printf(" %lld", mantissa(v[i]));
    std::printf("\n");
}
"""


# ---- helpers: compiler, independent integer arithmetic ----------------------------------------

def _ap_types() -> Path:
    import hls4ml

    return Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"


def _build_and_run(sources: dict[str, str], folder: Path) -> dict[str, str]:
    """Compile each C++ source (in parallel) with g++ -std=c++14 -O1 and return each program's stdout."""
    if shutil.which("g++") is None:
        pytest.fail("g++ is required for the C++ numerics tests (install a C++ compiler, e.g. apt-get install g++)")
    ap_types = _ap_types()

    def one(name: str) -> str:
        src, exe = folder / f"{name}.cpp", folder / name
        src.write_text(sources[name])
        cc = subprocess.run(["g++", "-std=c++14", "-O1", f"-I{ap_types}", f"-I{HLS_TEMPLATES}", f"-I{folder}", str(src),
                             "-o", str(exe)], capture_output=True, text=True)
        assert cc.returncode == 0, f"g++ failed on {src}:\n{cc.stderr[-4000:]}"
        run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, f"{exe} failed:\n{run.stderr[-2000:]}"
        return run.stdout

    with ThreadPoolExecutor(len(sources)) as pool:
        return dict(zip(sources, pool.map(one, sources)))


def _round(v: Fraction, mode: str) -> int:
    """v rounded to an integer: conv = half to even, rnd = half up, trn = floor."""
    if mode == "trn":
        return floor(v)
    if mode == "rnd":
        return floor(v + Fraction(1, 2))
    return round(v)  # Fraction.__round__ rounds half to even


def _fits(m: int, t: FixedType) -> bool:
    lo = -(1 << (t.width - 1)) if t.signed else 0
    hi = (1 << (t.width - 1)) - 1 if t.signed else (1 << t.width) - 1
    return lo <= m <= hi


def _wrap_signed(m: int, width: int) -> int:
    """Two's complement value of the low ``width`` bits of m."""
    m &= (1 << width) - 1
    return m - (1 << width) if m >> (width - 1) else m


def _narrower(t: FixedType) -> FixedType:
    """One bit less at the top, same fraction bits."""
    return FixedType(t.width - 1, t.integer - 1, t.signed, t.rounding, t.overflow)


def _struct(name: str, consts: dict, types: dict) -> str:
    lines = [f"struct {name} {{"]
    for k, v in consts.items():
        kind = "bool" if isinstance(v, bool) else ("int" if v < 0 else "unsigned")
        lines.append(f"    static const {kind} {k} = {str(v).lower() if isinstance(v, bool) else v};")
    lines += [f"    typedef {v} {k};" for k, v in types.items()]
    return "\n".join(lines) + "\n};\n"


def _ll(values) -> str:
    return "{" + ", ".join(f"{int(v)}LL" for v in values) + "}"


# ---- part 1: casts that overflow ----------------------------------------------------------------

CAST_SOURCES = (FixedType(20, 10), FixedType(20, 10, signed=False))
# (width, integer): fewer fraction bits than the source (rounding), integer > width (negative
# fraction), more fraction bits than the source (a left shift that overflows), no integer bits
CAST_SHAPES = ((8, 3), (6, 8), (12, 1), (7, 0))
CAST_TARGETS = tuple(FixedType(w, i, s, r, o) for w, i in CAST_SHAPES for s in (True, False)
                     for r in ROUNDING_MODES for o in OVERFLOW_MODES)


def _cast_inputs(src: FixedType, t: FixedType) -> list[int]:
    """Source mantissas around every edge of t: its ends, one LSB past them, half-LSB ties, far outside."""
    shift = src.frac - t.frac
    anchors = ({t.min_int + d for d in (-2, -1, 0, 1)} | {t.max_int + d for d in (-1, 0, 1, 2)}
               | set(range(-4, 5)) | {2 * t.max_int, 2 * t.min_int - 1, 3 * t.max_int + 3, -t.max_int - 5})
    ms = set()
    for a in anchors:
        if shift > 0:  # a in source units, and one source LSB / half a target LSB either side
            half = 1 << (shift - 1)
            ms.update((a << shift) + off for off in (-half - 1, -half, -half + 1, -1, 0, 1, half - 1, half, half + 1))
        else:  # the source mantissas next to a
            base = a >> -shift
            ms.update((base - 1, base, base + 1))
    rng = random.Random(f"{src.describe()} -> {t.describe()}")
    ms.update(rng.randint(src.min_int, src.max_int) for _ in range(40))
    ms.update((src.min_int, src.min_int + 1, src.max_int - 1, src.max_int))
    return sorted(m for m in ms if src.min_int <= m <= src.max_int)


def _cast_program() -> tuple[str, list]:
    cases = [(src, t, _cast_inputs(src, t)) for src in CAST_SOURCES for t in CAST_TARGETS]
    code = [PRELUDE, """
template <class S, class T> void run(int k, const long long *in, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        S x;
        set_mantissa(x, in[i]);
        T y;
        y = x;  // the conversion every generated cast relies on
        std::printf("%d %lld %lld\\n", k, mantissa(x), mantissa(y));
    }
}
"""]
    calls = []
    for k, (src, t, ms) in enumerate(cases):
        code.append(f"static const long long in{k}[] = {_ll(ms)};")
        calls.append(f"    run<{src.cpp()}, {t.cpp()} >({k}, in{k}, {len(ms)});")
    code += ["int main() {", *calls, "    return 0;", "}"]
    return "\n".join(code), cases


@pytest.fixture(scope="module")
def cast_table(programs):
    """[(source type, target type, source mantissas, C++ target mantissas)] from the compiled table."""
    cases, stdout = programs["casts"]
    rows = np.array([list(map(int, ln.split())) for ln in stdout.splitlines()], dtype=np.int64)
    table = []
    for k, (src, t, ms) in enumerate(cases):
        mine = rows[rows[:, 0] == k]
        assert mine[:, 1].tolist() == ms, f"case {k}: the source mantissas did not survive .range()"
        table.append((src, t, np.array(ms, dtype=np.int64), mine[:, 2]))
    return table


def _exact_cast(m: int, src: FixedType, t: FixedType) -> int:
    """The target mantissa before overflow handling, from the real value m * 2^-src.frac."""
    return _round(Fraction(m) * Fraction(2) ** (t.frac - src.frac), t.rounding)


def test_cast_table_overflows_both_ends_and_hits_every_tie(cast_table):
    """The inputs are the hard ones: far outside, at and past both ends, even/odd/negative ties."""
    total = overflowed = 0
    for src, t, ms, _ in cast_table:
        exact = [_exact_cast(int(m), src, t) for m in ms]
        above = sum(e > t.max_int for e in exact)
        below = sum(e < t.min_int for e in exact)
        total += len(ms)
        overflowed += above + below
        assert above >= 3, f"{src.describe()} -> {t.describe()}: nothing above the top"
        if src.signed:  # (an unsigned source has no value below an unsigned target or below zero)
            assert below >= 3, f"{src.describe()} -> {t.describe()}: nothing below the bottom"
        shift = src.frac - t.frac
        values = {Fraction(int(m), 1 << src.frac) for m in ms}
        for edge in (t.min_int - 1, t.min_int, t.max_int, t.max_int + 1):  # at both ends and one target LSB past
            v = Fraction(edge, 1 << t.frac) if t.frac >= 0 else Fraction(edge << -t.frac)
            on_source_grid = (v * (1 << src.frac)).denominator == 1
            if on_source_grid and (src.signed or v >= 0):
                assert v in values, f"{src.describe()} -> {t.describe()}: mantissa {edge} not in the inputs"
        if shift > 0 and src.signed:
            half = 1 << (shift - 1)
            ties = [(int(m) >> shift) for m in ms if int(m) & ((1 << shift) - 1) == half]
            assert any(q >= 0 and q % 2 == 0 for q in ties) and any(q >= 0 and q % 2 for q in ties)
            assert any(q < 0 and q % 2 == 0 for q in ties) and any(q < 0 and q % 2 for q in ties)
            # a tie half an LSB above the top: rounds past it in rnd and (odd top) in conv
            assert any(q == t.max_int for q in ties) and any(q == t.min_int - 1 for q in ties)
    assert total >= 10000
    assert overflowed / total >= 0.4, f"only {overflowed} of {total} inputs overflow"


def test_ap_fixed_assignment_equals_requantize_for_every_mode(cast_table):
    compared = 0
    mismatches = []
    for src, t, ms, cpp in cast_table:
        py = requantize(ms, src.frac, t)
        compared += len(ms)
        for m, c, p in zip(ms[py != cpp], cpp[py != cpp], py[py != cpp]):
            mismatches.append(f"{src.cpp()} m={m} -> {t.cpp()}: ap_fixed {c}, requantize {p}")
    assert compared == sum(len(ms) for _, _, ms, _ in cast_table) and compared >= 10000
    assert not mismatches, f"{len(mismatches)} of {compared} casts differ:\n" + "\n".join(mismatches[:20])


def test_quantize_of_the_real_value_equals_ap_fixed(cast_table):
    mismatches = []
    for src, t, ms, cpp in cast_table:
        py = quantize(ms / 2.0 ** src.frac, t)  # exact in float64: 20-bit mantissas
        for m, c, p in zip(ms[py != cpp], cpp[py != cpp], py[py != cpp]):
            mismatches.append(f"{m} * 2^-{src.frac} -> {t.cpp()}: ap_fixed {c}, quantize {p}")
    assert not mismatches, f"{len(mismatches)} values differ:\n" + "\n".join(mismatches[:20])


# ---- part 2a: accumulator sizing, in Python --------------------------------------------------------

def _smallest_signed_width(lo: int, hi: int) -> int:
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


@pytest.mark.parametrize("k", [1, 3, 7, 12])
def test_exact_sum_type_is_the_smallest_signed_type_at_power_of_two_edges(k):
    p = 1 << k
    # (lo, hi, bits a two's complement integer needs), worked by hand
    for lo, hi, bits in ((0, p - 1, k + 1), (0, p, k + 2), (-p, 0, k + 1), (-p - 1, 0, k + 2),
                         (-p, p - 1, k + 1), (-p - 1, p - 1, k + 2), (-p, p, k + 2), (-5 * p, 3, k + 4)):
        t = exact_sum_type(lo, hi, frac=0)
        assert t.signed and t.frac == 0
        assert (t.width, _fits(lo, t), _fits(hi, t)) == (bits, True, True), (lo, hi, t)
        assert not (_fits(lo, _narrower(t)) and _fits(hi, _narrower(t)))
        # the fraction bits are kept whatever the magnitude
        t4 = exact_sum_type(lo, hi, frac=4)
        assert (t4.frac, t4.width) == (4, max(bits, 5)) and _fits(lo, t4) and _fits(hi, t4)


def test_exact_sum_type_keeps_every_fraction_bit_when_frac_exceeds_the_magnitude():
    """A sum smaller than 1.0 in magnitude: all fraction bits plus the sign (integer = 1), never rounded."""
    for lo, hi, frac in ((-3, 3, 10), (0, 1, 8), (-4, 0, 6), (-100, 99, 12)):
        t = exact_sum_type(lo, hi, frac)
        assert t.frac == frac and t.signed and _fits(lo, t) and _fits(hi, t)
        assert t.integer == 1 and t.width == frac + 1
        assert t.width >= _smallest_signed_width(lo, hi)


PRODUCT_TYPES = [
    (FixedType(6, 3), FixedType(5, 1), 3),                 # signed x signed: the top is min * min
    (FixedType(8, 0, signed=False), FixedType(8, 3), 24),  # probability x value (context sum)
    (FixedType(4, 2), FixedType(6, 4, signed=False), 5),   # signed x unsigned
    (FixedType(5, 5, signed=False), FixedType(3, 1, signed=False), 16),
    (FixedType(7, 2), FixedType(7, 2), 1),
]


@pytest.mark.parametrize("a, b, terms", PRODUCT_TYPES,
                         ids=lambda v: v.describe() if isinstance(v, FixedType) else str(v))
def test_product_accumulator_holds_terms_extreme_products_and_no_more(a, b, terms):
    prods = [p * q for p in range(a.min_int, a.max_int + 1) for q in range(b.min_int, b.max_int + 1)]
    lo, hi = terms * min(prods), terms * max(prods)
    t = product_accumulator(a, b, terms)
    assert t.signed and t.frac == a.frac + b.frac
    assert _fits(lo, t) and _fits(hi, t)
    assert t.width == _smallest_signed_width(lo, hi) > t.frac + 1  # (these cases are sized by their magnitude)
    assert not (_fits(lo, _narrower(t)) and _fits(hi, _narrower(t)))  # one bit narrower loses an extreme


def _dense_partial_sum_range(x: FixedType, w: np.ndarray, b: np.ndarray, tw: FixedType, tb: FixedType):
    """Brute force: min and max of b + x_0 w_0 + ... + x_k w_k over every input vector and every k."""
    f = max(x.frac + tw.frac, tb.frac)
    lo = hi = None
    xs = range(x.min_int, x.max_int + 1)
    for o in range(w.shape[1]):
        col = [int(v) for v in w[:, o]]
        bias = int(b[o]) << (f - tb.frac)
        for vec in itertools.product(xs, repeat=len(col)):
            s = bias
            lo = s if lo is None else min(lo, s)
            hi = s if hi is None else max(hi, s)
            for xi, wi in zip(vec, col):
                s += (xi * wi) << (f - x.frac - tw.frac)
                lo, hi = min(lo, s), max(hi, s)
    return lo, hi, f


DENSE_CASES = {  # x type, weight type, bias type, weights [n_in][n_out] (the Keras kernel), biases
    # signed input, bias with fewer fraction bits than the products
    "signed-x": (FixedType(3, 1), FixedType(6, 2), FixedType(8, 4),
                 [[31, -32, 5, 0], [-32, -32, -7, 31], [31, -1, 17, 31]], [127, -128, 3, -100]),
    # unsigned (ReLU) input, bias with more fraction bits than the products
    "unsigned-x": (FixedType(3, 2, signed=False), FixedType(5, 1), FixedType(12, 2),
                   [[15, -16, 3], [-16, -16, 0], [15, 9, -16]], [2047, -2048, 5]),
    # negative weights only: the top sum is negative weights times the most negative inputs
    "negative-w": (FixedType(3, 1), FixedType(5, 2), FixedType(4, 2), [[-16], [-16], [-16], [-16]], [0]),
}


@pytest.mark.parametrize("case", DENSE_CASES)
def test_dense_accumulator_holds_every_partial_sum_and_no_more(case):
    import hls4ml  # noqa: F401  (hls4ml first: it loads the tsflow plugin, which imports flow.hls.layers)

    from flow.hls.layers import dense_accumulator

    x, tw, tb, w, b = DENSE_CASES[case]
    w, b = np.array(w, dtype=np.int64), np.array(b, dtype=np.int64)
    lo, hi, f = _dense_partial_sum_range(x, w, b, tw, tb)
    t = dense_accumulator(x, w, b, tw, tb)
    assert t.signed and t.frac == f
    assert _fits(lo, t) and _fits(hi, t), (lo, hi, t)
    assert t.width > t.frac + 1  # the constructed case is sized by its magnitude
    assert not (_fits(lo, _narrower(t)) and _fits(hi, _narrower(t))), (lo, hi, t)


# ---- part 2b: the same accumulators in C simulation, on private and on shared multiply lanes -----
#
# Every harness below is compiled twice: in the "private" program each layer multiplies on lanes of its
# own (a ``lanes_struct`` exactly as wide as its operands, CONFIG_T::shared = false); in the "shared"
# program every multiplying layer runs on the one engine of firmware/tsflow_engine.h (``engine_header``,
# tsflow_mac, CONFIG_T::shared = true), whose lanes and operands are the widest of its users, so most
# layers leave some of its lanes idle and sign-extend their operands into it. The lanes never divide
# the terms evenly (the last chunk of a sum has idle lanes), and every operand array is followed by
# GUARD nonzero words, so a lane that is not switched off in a tail chunk changes the result.

LANE_PROGRAMS = ("private", "shared")
# dense_seq: weights (w[o][i], as the C++ stores them) at their type's extremes with mixed signs, and
# both bias extremes; 5 inputs on 2 lanes and 7 inputs on 3 lanes (tail chunks with 1 and 2 idle lanes)
CSIM_DENSE = {
    # the bias (2 fraction bits fewer than the products) is what takes the minimum past -2^11
    "dense_s": dict(x=FixedType(5, 2), tw=FixedType(6, 2), tb=FixedType(8, 3), lanes=2, mapping="auto",
                    w=[[31, -32, 31, -20, 5], [-32, -32, -32, -32, 0], [31, 0, -1, 17, -32]], b=[127, -128, 3]),
    # unsigned input: a 5-bit signed operand on the lanes
    "dense_u": dict(x=FixedType(4, 1, signed=False), tw=FixedType(5, 1), tb=FixedType(12, 2), lanes=3, mapping="lut",
                    w=[[15, -16, 15, -16, 15, -16, 15], [-16, -16, 7, -16, -16, -16, -1], [15, 15, 15, 15, 15, 15, 15]],
                    b=[2047, -2048, -2048]),
}
# attention: q = k = v = x through identity projections (k saturates into k_t); 6 = 4 + 2 projection
# inputs, head_dim 3 = 2 + 1 score terms, 3 = 2 + 1 context terms
ATT = dict(x=FixedType(6, 3), q=FixedType(6, 3), k=FixedType(5, 1), v=FixedType(6, 3), d=6, heads=2, steps=3,
           proj_w=FixedType(4, 2), proj_b=FixedType(4, 2), prob=FixedType(8, 0, signed=False),
           context=FixedType(12, 4), index_frac=4, table_size=64, exp_frac=7, proj_lanes=4, score_lanes=2,
           context_lanes=2, mapping="auto",
           # step 0 at the bottom of x, step 1 at the top, step 2 mixed
           xm=[[-32] * 6, [31] * 6, [3, -5, 0, 31, -32, 1]])
# average_pool: a window of 6 (2^16 / 6 rounds), 5 channels on 2 lanes: at the top, at the bottom, mixed
POOL = dict(x=FixedType(8, 3), steps=6, ch=5, lanes=2, mul_impl=1)
# dense_add / dense_add_norm: y = round(x.w + b) (conv), s = round(y + a) (rnd), z = round(s * scale +
# shift) (trn), every one of them saturating at both ends somewhere
ADD_NORM = dict(x=FixedType(6, 3), tw=FixedType(5, 2), tb=FixedType(7, 3), y=FixedType(7, 4),
                a=FixedType(6, 4), s=FixedType(6, 4, rounding="rnd"), scale=FixedType(6, 3), shift=FixedType(8, 4),
                z=FixedType(7, 4, rounding="trn"), steps=12, n_in=7, n_out=4, lanes=3, mapping="lut",
                norm_mul_impl={"private": 1, "shared": 2}, scale_m=[31, -32, 3, -1], shift_m=[127, -128, 5, 0])
# softmax_rows on its own: index shift 2 (a right shift of the score difference), -2 (a left shift), and
# the flow's default index precision (flow.tables.default_index_frac), at which the table spans the score
# range (all but the differences within half an index step of the widest, which round past its end):
# there, a difference one bit wider than a score (max - s >= 2^(width-1)) still finds a nonzero entry
SOFTMAX = {"sm_right": dict(score=FixedType(10, 4), index_frac=4, lanes=2),
           "sm_left": dict(score=FixedType(8, 6), index_frac=4, lanes=3),
           "sm_span": dict(score=FixedType(8, 3), index_frac=None),
           # one probability bit: the rounding term sum >> 1 is wider than e << prob_frac
           "sm_narrow_p": dict(score=FixedType(8, 3), index_frac=None, prob=FixedType(1, 0, signed=False)),
           # a probability type wider than the quotient (8-bit exponentials << 6 fraction bits: 14 bits into
           # 16): its bits are set from the quotient widened, not from a range past the quotient's top bit
           "sm_wide_p": dict(score=FixedType(8, 3), index_frac=None, prob=FixedType(16, 10, signed=False))}
SOFTMAX_COMMON = dict(prob=FixedType(8, 0, signed=False), table_size=64, exp_frac=7, n=6)
WIDE_OUT = 48  # output types this wide hold every sum exactly, so the C++ output shows the accumulator


def _signed_width(t: FixedType) -> int:
    """The width of t's mantissas as a signed lane operand (an unsigned one takes a bit more)."""
    return t.width + (0 if t.signed else 1)


def _lanes_sum_width(lanes: int, a_width: int, b_width: int) -> int:
    """Width of the lanes' sum_t, as the lanes are specified: A + B + clog2(lanes)."""
    return a_width + b_width + (lanes - 1).bit_length()


def _lanes_extreme_sums(lanes: int, a_width: int, b_width: int) -> tuple[int, int]:
    """The lowest and highest sum of `lanes` products of a_width x b_width signed operands."""
    a_ends = (-(1 << (a_width - 1)), (1 << (a_width - 1)) - 1)
    b_ends = (-(1 << (b_width - 1)), (1 << (b_width - 1)) - 1)
    prods = [p * q for p in a_ends for q in b_ends]
    return lanes * min(prods), lanes * max(prods)


def _psum_type(sum_width: int, frac: int) -> FixedType:
    """The lanes' exact sum (an integer of sum_width bits) read as a value with `frac` fraction bits."""
    return FixedType(sum_width, sum_width - frac, True, "trn", "wrap")


def _lane_users() -> list[tuple[int, FixedType, FixedType]]:
    """(lanes, a type, b type) of every layer the harnesses run on multiply lanes."""
    users = [(s["lanes"], s["x"], s["tw"]) for s in CSIM_DENSE.values()]
    a = ATT
    users += [(a["proj_lanes"], a["x"], a["proj_w"])] * 3 + [(a["score_lanes"], a["q"], a["k"]),
                                                            (a["context_lanes"], a["prob"], a["v"])]
    users.append((ADD_NORM["lanes"], ADD_NORM["x"], ADD_NORM["tw"]))
    return users


def _engine() -> dict:
    """The shared program's engine: as many lanes and as wide operands as its widest user."""
    users = _lane_users()
    return dict(lanes=max(u[0] for u in users), a_width=max(_signed_width(u[1]) for u in users),
                b_width=max(_signed_width(u[2]) for u in users), mapping="dsp")


class _Lanes:
    """The multiply lanes of one program: each layer's own (private) or the one engine (shared)."""

    def __init__(self, kind: str):
        import hls4ml  # noqa: F401  (loads the tsflow plugin, which imports flow.hls.layers)

        from flow.hls.engine import LANES_STRUCT
        from flow.hls.layers import lanes_struct

        self.shared = kind == "shared"
        self._engine_name, self._lanes_struct = LANES_STRUCT, lanes_struct

    def of(self, name: str, lanes: int, a: FixedType, b: FixedType, mapping: str) -> tuple[str, str, int]:
        """(struct text, lanes type name, width of the lanes' sum) for a layer multiplying a x b."""
        aw, bw = _signed_width(a), _signed_width(b)
        if self.shared:
            e = _engine()
            assert lanes <= e["lanes"] and aw <= e["a_width"] and bw <= e["b_width"]
            return "", self._engine_name, _lanes_sum_width(e["lanes"], e["a_width"], e["b_width"])
        return self._lanes_struct(name, lanes, aw, bw, mapping), name, _lanes_sum_width(lanes, aw, bw)


def _dense_config(lanes_of: _Lanes, name: str, dims: tuple, lanes: int, x: FixedType, tw: FixedType,
                  tb: FixedType, accum: FixedType, mapping: str, transpose_out: bool = False,
                  consts: dict | None = None, types: dict | None = None) -> str:
    """A dense layer's config struct (dims = n_steps, n_in, n_out), with its lanes struct if private."""
    text, lanes_t, sum_width = lanes_of.of(name + "_lanes", lanes, x, tw, mapping)
    n_steps, n_in, n_out = dims
    return text + _struct(
        name, {"n_steps": n_steps, "n_in": n_in, "n_out": n_out, "lanes": lanes, "shared": lanes_of.shared,
               "relu": False, "transpose_out": transpose_out, "word": 1, "x_stride": n_in, "a_stride": n_out,
               "out_stride": n_steps if transpose_out else n_out, "w_stride": n_in,
               **(consts or {})},
        {"weight_t": tw.cpp(), "bias_t": tb.cpp(), "accum_t": accum.cpp(), "lanes_t": lanes_t,
         "psum_t": _psum_type(sum_width, x.frac + tw.frac).cpp(), **(types or {})})


def _engine_of(tag: str, lanes_of: _Lanes, layers: list[tuple], params: list[tuple]) -> str:
    """The engine function ``eng_<tag>`` that flow.hls.engine writes for these layers: (name, kind, out,
    config, counts, arrays) each, on the program's lanes; params (element type, name, size) its arrays."""
    from flow.hls.engine import LANES_STRUCT, EngineLayer, Program, engine_function

    described = tuple(EngineLayer(name, kind, out, config, LANES_STRUCT if lanes_of.shared else config + "_lanes",
                                  lanes_of.shared, counts, arrays)
                      for name, kind, out, config, counts, arrays in layers)
    return engine_function(Program(described, params=tuple(params)), name=f"eng_{tag}")


def _array(tag: str, ctype: str, name: str, n: int, values=None, guard: int | None = None) -> str:
    """C++ lines: `ctype name[n + GUARD]`, its first n mantissas set from values, the rest to guard."""
    lines = [f"        {ctype} {name}[{n} + GUARD];"]
    if values is not None:
        values = list(values)
        assert len(values) == n, (tag, name, len(values), n)
        lines.append(f"        static const long long {name}_m[] = {_ll(values)};")
        lines.append(f"        set_all({name}, {name}_m, {n});")
    if guard is not None:
        lines.append(f"        guard({name}, {n}, {guard}LL);")
    return "\n".join(lines) + "\n"


def _dense_setup(spec: dict):
    import hls4ml  # noqa: F401

    from flow.hls.layers import dense_accumulator

    x, tw, tb = spec["x"], spec["tw"], spec["tb"]
    w = np.array(spec["w"], dtype=np.int64).T  # (n_in, n_out) as the Keras kernel
    b = np.array(spec["b"], dtype=np.int64)
    n_in, n_out = w.shape
    assert n_in % spec["lanes"] != 0  # the last chunk has idle lanes
    f = max(x.frac + tw.frac, tb.frac)
    rows, expected = [], []
    for o in range(n_out):  # one step driving output o to its maximum, one to its minimum
        for sign in (1, -1):
            rows.append([(x.max_int if sign * int(wi) > 0 else x.min_int) for wi in w[:, o]])
    for row in rows:
        expected.append([(int(b[o]) << (f - tb.frac)) + sum((xi * int(wi)) << (f - x.frac - tw.frac)
                                                              for xi, wi in zip(row, w[:, o])) for o in range(n_out)])
    acc = dense_accumulator(x, w, b, tw, tb)
    return dict(w=w, b=b, rows=rows, expected=expected, accum=acc, frac=f)


def _dense_code(lanes_of: _Lanes, tag: str, spec: dict, setup: dict, accum: FixedType) -> tuple[str, str]:
    x, tw, w = spec["x"], spec["tw"], setup["w"]
    n_in, n_out = w.shape
    n_steps = len(setup["rows"])
    f = setup["frac"]
    struct = _dense_config(lanes_of, f"cfg_{tag}", (n_steps, n_in, n_out), spec["lanes"], x, tw, spec["tb"], accum,
                           spec["mapping"])
    y_t = FixedType(WIDE_OUT, WIDE_OUT - f, True, "trn", "wrap").cpp()
    engine = _engine_of(tag, lanes_of, [(tag, "dense", "store", f"cfg_{tag}", (-(-n_in // spec["lanes"]), n_out, n_steps, 1),
                                         {"x": "x", "w": "w", "b": "b", "y": "y"})],
                        [(x.cpp(), "x", f"{n_steps * n_in} + GUARD"), (f"cfg_{tag}::weight_t", "w", f"{n_in * n_out} + GUARD"),
                         (f"cfg_{tag}::bias_t", "b", f"{n_out} + GUARD"), (y_t, "y", n_steps * n_out)])
    body = ("    {\n"
            + _array(tag, x.cpp(), "x", n_steps * n_in, np.ravel(setup["rows"]), guard=x.max_int)
            + _array(tag, f"cfg_{tag}::weight_t", "w", n_in * n_out, w.T.ravel(), guard=tw.max_int)
            + _array(tag, f"cfg_{tag}::bias_t", "b", n_out, setup["b"], guard=spec["tb"].max_int)
            + f"""        {y_t} y[{n_steps * n_out}];
        eng_{tag}(0, x, w, b, y);
        print_all("{tag}", y, {n_steps * n_out});
    }}""")
    return struct + engine, body


def _identity_dense(lanes_of: _Lanes, tag: str, x: FixedType, transpose_out: bool):
    """Config of a d x d identity projection (weight 1.0, bias 0) and its weight / bias mantissas."""
    import hls4ml  # noqa: F401

    from flow.hls.layers import dense_accumulator

    a = ATT
    tw, tb, d = a["proj_w"], a["proj_b"], a["d"]
    w = np.eye(d, dtype=np.int64) << tw.frac
    b = np.zeros(d, dtype=np.int64)
    struct = _dense_config(lanes_of, tag, (a["steps"], d, d), a["proj_lanes"], x, tw, tb,
                           dense_accumulator(x, w, b, tw, tb), a["mapping"], transpose_out=transpose_out)
    return struct, w.T.ravel(), b


def _attention_types(score_accum: FixedType) -> dict:
    from flow.tables import SoftmaxSpec, score_shift

    a = ATT
    dh = a["d"] // a["heads"]
    shift = score_shift(dh)
    # a scores buffer as wide as the exact accumulator: it shows the accumulator's bits, wrapped or not
    score_t = FixedType(score_accum.width, score_accum.integer - shift, True, "trn", "wrap")
    spec = SoftmaxSpec(score=score_t, prob=a["prob"], exp_frac=a["exp_frac"], index_frac=a["index_frac"],
                       table_size=a["table_size"])
    return dict(score_t=score_t, shift=shift, softmax=spec)


def _attention_code(lanes_of: _Lanes, tag: str, score_accum: FixedType) -> tuple[str, str]:
    """q, k, v, the scores and the context on the engine (as the design runs them), the softmax between."""
    from flow.tables import exp_table

    a = ATT
    steps, d, heads = a["steps"], a["d"], a["heads"]
    dh = d // heads
    at = _attention_types(_exact_score_accum())
    score_t, shift = at["score_t"], at["shift"]
    structs, weights = [], {}
    for role in "qkv":
        s, wm, bm = _identity_dense(lanes_of, f"{tag}_{role}", a["x"], transpose_out=role == "v")
        structs.append(s)
        weights[role] = (wm, bm)
    exp_t = FixedType(a["exp_frac"] + 1, 1, signed=False)
    structs.append(_struct(f"{tag}_softmax", {"rows": heads * steps, "n": steps, "p_stride": steps, "lanes": 1,
                                              "table_size": a["table_size"],
                                              "index_shift": score_t.frac - a["index_frac"],
                                              "sum_extra_bits": steps.bit_length(), "prob_frac": a["prob"].frac,
                                              "prob_max": a["prob"].max_int},
                           {"score_t": score_t.cpp(), "prob_t": a["prob"].cpp(), "exp_t": exp_t.cpp()}))
    score_text, score_lanes_t, score_sum = lanes_of.of(f"{tag}_scores_lanes", a["score_lanes"], a["q"], a["k"],
                                                       a["mapping"])
    ctx_text, ctx_lanes_t, ctx_sum = lanes_of.of(f"{tag}_context_lanes", a["context_lanes"], a["prob"], a["v"],
                                                 a["mapping"])
    structs += [t for t in (score_text, ctx_text) if t]
    common = {"n_steps": steps, "d": d, "heads": heads, "head_dim": dh}
    structs.append(_struct(f"{tag}_scores", {**common, "lanes": a["score_lanes"], "shared": lanes_of.shared},
                           {"q_t": a["q"].cpp(), "k_t": a["k"].cpp(), "score_t": score_t.cpp(),
                            "accum_t": score_accum.cpp(),
                            "scaled_t": FixedType(score_accum.width, score_accum.integer - shift, True, "trn",
                                                  "wrap").cpp(),
                            "lanes_t": score_lanes_t,
                            "psum_t": _psum_type(score_sum, a["q"].frac + a["k"].frac).cpp()}))
    structs.append(_struct(f"{tag}_context", {**common, "lanes": a["context_lanes"], "shared": lanes_of.shared,
                                              "p_stride": steps, "v_stride": steps, "ctx_stride": d},
                           {"prob_t": a["prob"].cpp(), "v_t": a["v"].cpp(), "context_t": a["context"].cpp(),
                            "accum_t": product_accumulator(a["prob"], a["v"], steps).cpp(), "lanes_t": ctx_lanes_t,
                            "psum_t": _psum_type(ctx_sum, a["prob"].frac + a["v"].frac).cpp()}))
    x = a["x"]
    n, sq = steps * d, heads * steps * steps
    chunks = lambda terms, lanes: -(-terms // lanes)  # noqa: E731
    layers = [(f"{tag}_{r}", "dense", "store", f"{tag}_{r}", (chunks(d, a["proj_lanes"]), d, steps, 1),
               {"x": "x", "w": f"w{r}", "b": f"b{r}", "y": r}) for r in "qkv"]
    layers += [(f"{tag}_scores", "scores", "scores", f"{tag}_scores", (chunks(dh, a["score_lanes"]), steps, steps, heads),
                {"q": "q", "k": "k", "scores": "scores", "row_max": "row_max"}),
               (f"{tag}_context", "context", "context", f"{tag}_context",
                (chunks(steps, a["context_lanes"]), dh, steps, heads), {"p": "probs", "v": "v", "ctx": "ctx"})]
    params = [(x.cpp(), "x", f"{n} + GUARD")]
    for r in "qkv":
        params += [(f"{tag}_{r}::weight_t", f"w{r}", f"{d * d} + GUARD"), (f"{tag}_{r}::bias_t", f"b{r}", f"{d} + GUARD")]
    params += [(a["q"].cpp(), "q", f"{n} + GUARD"), (a["k"].cpp(), "k", f"{n} + GUARD"),
               (a["v"].cpp(), "v", f"{n} + GUARD"), (score_t.cpp(), "scores", f"{sq} + GUARD"),
               (score_t.cpp(), "row_max", heads * steps), (a["prob"].cpp(), "probs", f"{sq} + GUARD"),
               (a["context"].cpp(), "ctx", f"{n} + GUARD")]
    engine = _engine_of(tag, lanes_of, layers, params)
    decl = "".join(_array(tag, f"{tag}_{r}::weight_t", f"w{r}", d * d, weights[r][0], guard=1)
                   + _array(tag, f"{tag}_{r}::bias_t", f"b{r}", d, weights[r][1], guard=1) for r in "qkv")
    args = ", ".join(name for _, name, _ in params)
    body = ("    {\n" + _array(tag, x.cpp(), "x", n, np.ravel(a["xm"]), guard=x.max_int)
            + _array(tag, f"{tag}_softmax::exp_t", "table", a["table_size"],
                     exp_table(a["table_size"], a["index_frac"], a["exp_frac"]), guard=1)
            + "".join(_array(tag, t, buf, size, guard=1) for t, buf, size in (
                (a["q"].cpp(), "q", n), (a["k"].cpp(), "k", n), (a["v"].cpp(), "v", n), (score_t.cpp(), "scores", sq),
                (a["prob"].cpp(), "probs", sq), (a["context"].cpp(), "ctx", n)))
            + decl + f"""        {score_t.cpp()} row_max[{heads * steps}];
        ap_uint<{tag}_softmax::exp_t::width> ring[{2 * steps}];
        for (unsigned layer = 0; layer < 4; layer++) eng_{tag}(layer, {args});
        tsflow::softmax_rows<{tag}_softmax >(scores, row_max, ring, probs, table);
        eng_{tag}(4, {args});
        print_all("{tag}_q", q, {n});
        print_all("{tag}_k", k, {n});
        print_all("{tag}_v", v, {n});
        print_all("{tag}_scores", scores, {sq});
        print_all("{tag}_probs", probs, {sq});
        print_all("{tag}_ctx", ctx, {n});
    }}""")
    return "\n".join(structs) + engine, body


def _exact_score_accum() -> FixedType:
    return product_accumulator(ATT["q"], ATT["k"], ATT["d"] // ATT["heads"])


def _pool_setup():
    p = POOL
    x, steps, ch = p["x"], p["steps"], p["ch"]
    assert ch % p["lanes"] != 0
    rng = random.Random(7)
    cols = [[x.max_int] * steps, [x.min_int] * steps] + [[rng.randint(x.min_int, x.max_int) for _ in range(steps)]
                                                       for _ in range(ch - 2)]
    xm = [cols[c][t] for t in range(steps) for c in range(ch)]  # [step][channel]
    recip = round(Fraction(2 ** 16, steps))  # half to even
    sums = [sum(col) for col in cols]
    return dict(xm=xm, sums=sums, recip=recip,
                accum=exact_sum_type(steps * x.min_int, steps * x.max_int, x.frac))


def _pool_code(tag: str, setup: dict, accum: FixedType) -> tuple[str, str]:
    p = POOL
    x, steps, ch = p["x"], p["steps"], p["ch"]
    recip_t = FixedType(16, 0, signed=False)
    struct = _struct(tag, {"n_steps": steps, "n_ch": ch, "x_stride": ch, "lanes": p["lanes"], "mul_impl": p["mul_impl"],
                           "recip_mantissa": setup["recip"]}, {"accum_t": accum.cpp(), "recip_t": recip_t.cpp()})
    y_t = FixedType(WIDE_OUT, WIDE_OUT - x.frac - recip_t.frac, True, "trn", "wrap").cpp()
    body = ("    {\n" + _array(tag, x.cpp(), "x", steps * ch, setup["xm"], guard=x.max_int) + f"""        {y_t} y[{ch}];
        tsflow::average_pool<{x.cpp()}, {y_t}, {tag} >(x, y);
        print_all("{tag}", y, {ch});
    }}""")
    return struct, body


# ---- softmax_rows: the table softmax with the row maxima given ------------------------------------

def _softmax_spec(name: str):
    from flow.tables import SoftmaxSpec, default_index_frac

    c, score = SOFTMAX_COMMON, SOFTMAX[name]["score"]
    index_frac = SOFTMAX[name]["index_frac"]
    if index_frac is None:
        index_frac = default_index_frac(score, c["table_size"])
    return SoftmaxSpec(score=score, prob=SOFTMAX[name].get("prob", c["prob"]), exp_frac=c["exp_frac"], index_frac=index_frac,
                       table_size=c["table_size"])


def _first_past_the_table(spec) -> int:
    """The smallest score difference (mantissa units) whose table index is past the table's end (a right
    shift rounds to the nearest index: half a step before size << s already reaches index size)."""
    s, size = spec.index_shift, spec.table_size
    if s > 0:
        return (size << s) - (1 << (s - 1))
    return size if s == 0 else -(-size // (1 << -s))


def _softmax_rows(name: str) -> dict:
    """Rows of score mantissas, each row's maximum, and which rows are one-hot (their argmax)."""
    spec = _softmax_spec(name)
    n, lo, hi = SOFTMAX_COMMON["n"], spec.score.min_int, spec.score.max_int
    past = _first_past_the_table(spec)
    m = hi - 3
    rng = random.Random(name)
    half = 1 << (spec.score.width - 1)
    if m - past - 1 < lo:  # the table spans (nearly) every difference: no one-hot rows, the widest instead
        rows = [
            [lo, lo, hi, lo, lo, lo],                              # the widest difference there is
            [hi, hi - half, hi, hi - half - 22, hi - 1, lo],      # a tie; differences a score cannot hold
            [5] * n,                                               # all equal
            [lo, lo + 1, lo, lo + 2, lo + 3, lo],                  # the maximum near the bottom
            *([rng.randint(lo, hi) for _ in range(n)] for _ in range(3)),
        ]
        return dict(spec=spec, rows=rows, row_max=[max(row) for row in rows], one_hot={}, past=past)
    rows = [
        [lo, lo, hi, lo, lo, lo],                                  # one-hot: the widest difference there is
        [m - past, m, m - past, m - past - 1, lo, m - past],       # one-hot: the others just past the table
        [m, m - (past - 1), m - past, lo, m - 1, m - past + 1],    # one element on the table's last entry
        [lo, m, lo, lo, m, lo],                                    # a tie of two, the others past the table
        [5] * n,                                                   # all equal
        [m, m - 1, m, m - 2, m, m - past // 2],                    # a tie of three at the top
        [lo + 3, lo, lo + 1, lo + 3, lo + 2, lo + 7],              # the maximum near the bottom, ties
        [rng.randint(m - past, m) for _ in range(n)],              # ordinary rows: differences in the table
        [rng.randint(lo, lo + past) for _ in range(n)],
        [rng.randint(lo, hi) for _ in range(n)],
    ]
    assert all(lo <= v <= hi for row in rows for v in row)
    row_max = [max(row) for row in rows]
    one_hot = {0: 2, 1: 1}
    return dict(spec=spec, rows=rows, row_max=row_max, one_hot=one_hot, past=past)


def _softmax_code(name: str, setup: dict) -> tuple[str, str]:
    from flow.tables import exp_table

    spec, rows = setup["spec"], setup["rows"]
    c = SOFTMAX_COMMON
    n, r = c["n"], len(rows)
    exp_t = FixedType(c["exp_frac"] + 1, 1, signed=False)
    assert spec.exp_table().tolist() == exp_table(c["table_size"], spec.index_frac, c["exp_frac"]).tolist()
    lanes = SOFTMAX[name].get("lanes", 1)
    struct = _struct(name, {"rows": r, "n": n, "p_stride": n, "lanes": lanes, "table_size": c["table_size"],
                            "index_shift": spec.index_shift,
                            "sum_extra_bits": n.bit_length(), "prob_frac": spec.prob.frac,
                            "prob_max": spec.prob.max_int},
                     {"score_t": spec.score.cpp(), "prob_t": spec.prob.cpp(), "exp_t": exp_t.cpp()})
    body = ("    {\n"
            + _array(name, f"{name}::score_t", "s", r * n, np.ravel(rows), guard=spec.score.max_int)
            + _array(name, f"{name}::score_t", "row_max", r, setup["row_max"], guard=spec.score.max_int)
            + _array(name, f"{name}::exp_t", "table", c["table_size"], spec.exp_table(), guard=100)
            + _array(name, f"{name}::prob_t", "p", r * n, guard=1)
            + f"""        ap_uint<{name}::exp_t::width> ring[{2 * n}];
        tsflow::softmax_rows<{name} >(s, row_max, ring, p, table);
        print_all("{name}_p", p, {r * n});
    }}""")
    return struct, body


# ---- dense_add and dense_add_norm: the rounding points at a dense layer's output -----------------

def _add_norm_setup() -> dict:
    import hls4ml  # noqa: F401

    from flow.hls.layers import dense_accumulator

    p = ADD_NORM
    x, tw, tb, steps, n_in, n_out = p["x"], p["tw"], p["tb"], p["steps"], p["n_in"], p["n_out"]
    assert n_in % p["lanes"] != 0
    rng = random.Random(11)
    w = np.array([[rng.randint(tw.min_int, tw.max_int) for _ in range(n_out)] for _ in range(n_in)], dtype=np.int64)
    w[:, 0] = [tw.max_int, tw.min_int] * 3 + [tw.max_int]  # output 0 reaches both extremes of its sum
    b = np.array([tb.max_int, tb.min_int, rng.randint(tb.min_int, tb.max_int), 0], dtype=np.int64)
    xs = [[x.max_int if wi > 0 else x.min_int for wi in w[:, 0]],
          [x.min_int if wi > 0 else x.max_int for wi in w[:, 0]]]
    xs += [[rng.randint(x.min_int, x.max_int) for _ in range(n_in)] for _ in range(steps - 2)]
    a_t = p["a"]
    am = [[rng.choice([a_t.min_int, a_t.max_int, rng.randint(a_t.min_int, a_t.max_int)]) for _ in range(n_out)]
          for _ in range(steps)]
    y_t, s_t, scale_t, shift_t, z_t = p["y"], p["s"], p["scale"], p["shift"], p["z"]
    f = max(x.frac + tw.frac, tb.frac)
    # the exact values before each rounding point, then requantize to each type
    acc = [[(int(b[o]) << (f - tb.frac))
            + sum((xi * int(w[i, o])) << (f - x.frac - tw.frac) for i, xi in enumerate(row)) for o in range(n_out)]
           for row in xs]
    y = [requantize(np.array(r, dtype=np.int64), f, y_t).tolist() for r in acc]
    fs = max(y_t.frac, a_t.frac)
    s_exact = [[(y[t][o] << (fs - y_t.frac)) + (am[t][o] << (fs - a_t.frac)) for o in range(n_out)]
               for t in range(steps)]
    s = [requantize(np.array(r, dtype=np.int64), fs, s_t).tolist() for r in s_exact]
    fz = max(s_t.frac + scale_t.frac, shift_t.frac)
    z_exact = [[((s[t][o] * p["scale_m"][o]) << (fz - s_t.frac - scale_t.frac))
                + (p["shift_m"][o] << (fz - shift_t.frac)) for o in range(n_out)] for t in range(steps)]
    z = [requantize(np.array(r, dtype=np.int64), fz, z_t).tolist() for r in z_exact]
    return dict(w=w, b=b, xs=xs, am=am, accum=dense_accumulator(x, w, b, tw, tb),
                exact={"y": (acc, f, y_t), "s": (s_exact, fs, s_t), "z": (z_exact, fz, z_t)},
                y=y, s=s, z=z)


def _add_norm_code(lanes_of: _Lanes, kind: str, tag: str, setup: dict) -> tuple[str, str]:
    p = ADD_NORM
    x, tw, tb, steps, n_in, n_out = p["x"], p["tw"], p["tb"], p["steps"], p["n_in"], p["n_out"]
    struct = _dense_config(lanes_of, tag, (steps, n_in, n_out), p["lanes"], x, tw, tb, setup["accum"], p["mapping"],
                           consts={"mul_impl": p["norm_mul_impl"][kind]},
                           types={"scale_t": p["scale"].cpp(), "shift_t": p["shift"].cpp()})
    n = steps * n_out
    y_t, a_t, s_t, z_t = (p[k].cpp() for k in "yasz")
    counts = (-(-n_in // p["lanes"]), n_out, steps, 1)
    params = [(x.cpp(), "x", f"{steps * n_in} + GUARD"), (f"{tag}::weight_t", "w", f"{n_in * n_out} + GUARD"),
              (f"{tag}::bias_t", "b", f"{n_out} + GUARD"), (a_t, "a", f"{n} + GUARD"),
              (f"{tag}::scale_t", "scale", f"{n_out} + GUARD"), (f"{tag}::shift_t", "shift", f"{n_out} + GUARD"),
              (z_t, "z", n), (y_t, "y", n), (s_t, "s", n), (y_t, "y2", n), (s_t, "s2", n)]
    weights = {"x": "x", "w": "w", "b": "b", "a": "a"}
    engine = _engine_of(tag, lanes_of, [
        ("add_norm", "dense", "add_norm", tag, counts,
         {**weights, "scale": "scale", "shift": "shift", "z": "z", "y_trace": "y", "s_trace": "s"}),
        ("add", "dense", "add", tag, counts, {**weights, "s": "s2", "y_trace": "y2"})], params)
    args = ", ".join(name for _, name, _ in params)
    body = ("    {\n"
            + _array(tag, x.cpp(), "x", steps * n_in, np.ravel(setup["xs"]), guard=x.max_int)
            + _array(tag, f"{tag}::weight_t", "w", n_in * n_out, setup["w"].T.ravel(), guard=tw.max_int)
            + _array(tag, f"{tag}::bias_t", "b", n_out, setup["b"], guard=tb.max_int)
            + _array(tag, a_t, "a", n, np.ravel(setup["am"]), guard=p["a"].max_int)
            + _array(tag, f"{tag}::scale_t", "scale", n_out, p["scale_m"], guard=1)
            + _array(tag, f"{tag}::shift_t", "shift", n_out, p["shift_m"], guard=1)
            + f"""        {z_t} z[{n}];
        {y_t} y[{n}], y2[{n}];
        {s_t} s[{n}], s2[{n}];
        eng_{tag}(0, {args});
        print_all("{tag}_z", z, {n});
        print_all("{tag}_y", y, {n});
        print_all("{tag}_s", s, {n});
        eng_{tag}(1, {args});
        print_all("{tag}_add_s", s2, {n});
        print_all("{tag}_add_y", y2, {n});
    }}""")
    return struct + engine, body


# ---- the programs --------------------------------------------------------------------------------

def _setups() -> dict:
    out = {name: _dense_setup(spec) for name, spec in CSIM_DENSE.items()}
    out["attention"] = dict(accum=_exact_score_accum(), **_attention_types(_exact_score_accum()))
    out["pool"] = _pool_setup()
    out["add_norm"] = _add_norm_setup()
    out.update({name: _softmax_rows(name) for name in SOFTMAX})
    return out


def _lanes_program(kind: str, setups: dict) -> tuple[str, str | None]:
    """The C++ of one lanes program (and the text of its tsflow_engine.h when shared)."""
    lanes_of = _Lanes(kind)
    structs, bodies = [], []

    def add(pair):
        structs.append(pair[0])
        bodies.append(pair[1])

    for name, spec in CSIM_DENSE.items():
        for variant, acc in (("exact", setups[name]["accum"]), ("narrow", _narrower(setups[name]["accum"]))):
            add(_dense_code(lanes_of, f"{name}_{variant}", spec, setups[name], acc))
    score_acc = setups["attention"]["accum"]
    for variant, acc in (("exact", score_acc), ("narrow", _narrower(score_acc))):
        add(_attention_code(lanes_of, f"att_{variant}", acc))
    add(_add_norm_code(lanes_of, kind, "add_norm", setups["add_norm"]))
    engine = None
    if kind == "private":  # the layers without lanes: once is enough
        pool = setups["pool"]
        for variant, acc in (("exact", pool["accum"]), ("narrow", _narrower(pool["accum"]))):
            add(_pool_code(f"pool_{variant}", pool, acc))
        for name in SOFTMAX:
            add(_softmax_code(name, setups[name]))
    else:
        import hls4ml  # noqa: F401

        from flow.hls.layers import lanes_file

        engine = lanes_file(_engine())
    include = '#include "tsflow_lanes.h"\n' if engine else ""
    code = "\n".join([PRELUDE, include, *structs, "int main() {", *bodies, "    return 0;", "}"])
    return code, engine


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """The cast table and both lanes programs, compiled in parallel (one g++ run each) and run."""
    folder = tmp_path_factory.mktemp("cpp_numerics")
    # firmware/tsflow_lanes.h includes "nnet_utils/tsflow_layers.h", as in an hls4ml project
    (folder / "nnet_utils").mkdir()
    (folder / "nnet_utils" / "tsflow_layers.h").symlink_to(HLS_TEMPLATES / "tsflow_layers.h")
    setups = _setups()
    casts = _cast_program()
    sources = {"casts": casts[0]}
    for kind in LANE_PROGRAMS:
        code, engine = _lanes_program(kind, setups)
        sources[kind] = code
        if engine is not None:
            (folder / "tsflow_lanes.h").write_text(engine)
    out = _build_and_run(sources, folder)
    return {"casts": (casts[1], out["casts"]), "lanes": (setups, {k: out[k] for k in LANE_PROGRAMS})}


@pytest.fixture(scope="module")
def accumulators(programs):
    """(setups, {program: {tag: mantissas}})."""
    setups, stdout = programs["lanes"]
    results = {}
    for kind, text in stdout.items():
        mine = results.setdefault(kind, {})
        for line in text.splitlines():
            tag, *values = line.split()
            assert tag not in mine, f"{kind}: {tag} printed twice"
            mine[tag] = [int(v) for v in values]
    return setups, results


@pytest.mark.parametrize("lanes, a_width, b_width", [(1, 6, 5), (2, 5, 6), (3, 5, 5), (4, 9, 6), (5, 8, 8)])
def test_lanes_struct_products_and_sum_are_exact(lanes, a_width, b_width):
    """The lanes' sum_t holds every sum of `lanes` products (each an exact ap_int<A + B>), with no bit more
    than A + B + clog2(lanes)."""
    import hls4ml  # noqa: F401

    from flow.hls.layers import lanes_struct

    text = lanes_struct("l", lanes, a_width, b_width, "dsp")
    width = {m.group(2): int(m.group(1)) for m in re.finditer(r"typedef ap_int<(\d+)> (\w+);", text)}
    assert (width["a_t"], width["b_t"]) == (a_width, b_width)
    assert f"static const unsigned lanes = {lanes};" in text and "static const unsigned mul_impl = 1;" in text
    lo1, hi1 = _lanes_extreme_sums(1, a_width, b_width)
    assert _smallest_signed_width(lo1, hi1) == a_width + b_width
    lo, hi = _lanes_extreme_sums(lanes, a_width, b_width)
    assert _smallest_signed_width(lo, hi) <= width["sum_t"] == _lanes_sum_width(lanes, a_width, b_width)


def test_the_shared_engine_is_wider_than_its_users():
    """The shared program exercises idle engine lanes (a layer with fewer lanes) and sign extension."""
    e, users = _engine(), _lane_users()
    assert any(u[0] < e["lanes"] for u in users) and any(u[0] == e["lanes"] for u in users)
    assert any(_signed_width(u[1]) < e["a_width"] for u in users)
    assert any(_signed_width(u[2]) < e["b_width"] for u in users)
    assert any(not u[1].signed for u in users)  # an unsigned operand entering the signed lanes


@pytest.mark.parametrize("kind", LANE_PROGRAMS)
@pytest.mark.parametrize("name", CSIM_DENSE)
def test_dense_seq_sums_exactly_at_the_accumulator_bound(accumulators, name, kind):
    setups, results = accumulators
    s = setups[name]
    expected = [v for row in s["expected"] for v in row]
    acc = s["accum"]
    # the constructed inputs reach the extreme sums over every input vector
    x, tw, tb = CSIM_DENSE[name]["x"], CSIM_DENSE[name]["tw"], CSIM_DENSE[name]["tb"]
    bound_hi = max(int(s["b"][o] << (s["frac"] - tb.frac)) + sum(
        max(int(wi) * x.max_int, int(wi) * x.min_int) << (s["frac"] - x.frac - tw.frac) for wi in s["w"][:, o])
        for o in range(s["w"].shape[1]))
    bound_lo = min(int(s["b"][o] << (s["frac"] - tb.frac)) + sum(
        min(int(wi) * x.max_int, int(wi) * x.min_int) << (s["frac"] - x.frac - tw.frac) for wi in s["w"][:, o])
        for o in range(s["w"].shape[1]))
    assert (max(expected), min(expected)) == (bound_hi, bound_lo)
    assert all(_fits(v, acc) for v in expected)
    assert results[kind][f"{name}_exact"] == expected


@pytest.mark.parametrize("kind", LANE_PROGRAMS)
@pytest.mark.parametrize("name", CSIM_DENSE)
def test_dense_seq_with_a_one_bit_narrower_accumulator_wraps(accumulators, name, kind):
    """The harness can fail: one bit less and the extreme sums come out wrapped."""
    setups, results = accumulators
    s = setups[name]
    expected = [v for row in s["expected"] for v in row]
    narrow = _narrower(s["accum"])
    got = results[kind][f"{name}_narrow"]
    assert got == [_wrap_signed(v, narrow.width) for v in expected]
    assert got != expected
    assert max(expected) > narrow.max_int or min(expected) < narrow.min_int


def _expected_q_k_v():
    a = ATT
    x = np.array(a["xm"], dtype=np.int64)  # [step][d]
    q, k, v = (requantize(x, a["x"].frac, a[r]) for r in "qkv")  # the identity, then the cast to q_t / k_t / v_t
    return q, k, v


def _expected_scores(q: list[int], k: list[int]) -> list[int]:
    a = ATT
    steps, d, heads = a["steps"], a["d"], a["heads"]
    dh = d // heads
    return [sum(q[i * d + h * dh + e] * k[j * d + h * dh + e] for e in range(dh))
            for h in range(heads) for i in range(steps) for j in range(steps)]


@pytest.mark.parametrize("kind", LANE_PROGRAMS)
def test_attention_scores_sum_exactly_at_the_product_bound(accumulators, kind):
    setups, results = accumulators
    r = results[kind]
    a = ATT
    d = a["d"]
    q, k, v = _expected_q_k_v()
    # the identity projections saturate step 0 to the bottom and step 1 to the top of k_t
    assert q[:2].ravel().tolist() == [a["q"].min_int] * d + [a["q"].max_int] * d
    assert k[:2].ravel().tolist() == [a["k"].min_int] * d + [a["k"].max_int] * d
    assert r["att_exact_q"] == q.ravel().tolist() and r["att_exact_k"] == k.ravel().tolist()
    assert r["att_exact_v"] == v.T.ravel().tolist()  # v is stored transposed, [d][step]
    expected = _expected_scores(r["att_exact_q"], r["att_exact_k"])
    dh = d // a["heads"]
    prods = [p * s for p in range(a["q"].min_int, a["q"].max_int + 1)
             for s in range(a["k"].min_int, a["k"].max_int + 1)]
    assert (max(expected), min(expected)) == (dh * max(prods), dh * min(prods))  # both worst cases reached
    assert all(_fits(v, setups["attention"]["accum"]) for v in expected)
    assert r["att_exact_scores"] == expected


@pytest.mark.parametrize("kind", LANE_PROGRAMS)
def test_attention_scores_with_a_one_bit_narrower_accumulator_wrap(accumulators, kind):
    """The harness can fail: the same q and k, one bit less in the score accumulator, wrapped scores."""
    setups, results = accumulators
    r = results[kind]
    assert (r["att_narrow_q"], r["att_narrow_k"], r["att_narrow_v"]) == (
        r["att_exact_q"], r["att_exact_k"], r["att_exact_v"])
    expected = _expected_scores(r["att_narrow_q"], r["att_narrow_k"])
    narrow = _narrower(setups["attention"]["accum"])
    got = r["att_narrow_scores"]
    assert got == [_wrap_signed(v, narrow.width) for v in expected]
    assert got != expected


@pytest.mark.parametrize("kind", LANE_PROGRAMS)
@pytest.mark.parametrize("variant", ["exact", "narrow"])
def test_attention_probabilities_and_context_follow_the_scores(accumulators, kind, variant):
    """The probabilities of each row of scores by the contract, worked here (``_nearest_probabilities``: the
    exponentials, then e * 2^prob_frac / sum to nearest, at most prob_max), and ctx = round(P_h . V_h) from the
    transposed v, on both lanes."""
    setups, results = accumulators
    r = results[kind]
    a = ATT
    steps, d, heads = a["steps"], a["d"], a["heads"]
    dh = d // heads
    scores = np.array(r[f"att_{variant}_scores"], dtype=np.int64).reshape(heads * steps, steps).tolist()
    probs = r[f"att_{variant}_probs"]
    expected_probs = _nearest_probabilities(scores, setups["attention"]["softmax"])
    assert probs == [p for row in expected_probs for p in row]
    assert any(0 < p < a["prob"].max_int for p in probs)  # not only one-hot rows
    v = np.array(r[f"att_{variant}_v"], dtype=np.int64).reshape(d, steps)  # [d][step]
    prob, ctx_t = a["prob"], a["context"]
    exact = [sum(probs[(h * steps + i) * steps + j] * int(v[h * dh + e, j]) for j in range(steps))
             for i in range(steps) for h in range(heads) for e in range(dh)]
    expected = requantize(np.array(exact, dtype=np.int64), prob.frac + a["v"].frac, ctx_t).tolist()
    assert r[f"att_{variant}_ctx"] == expected
    assert len(set(expected)) > 2  # not all zero or saturated


def test_average_pool_window_sum_is_exact_at_both_ends(accumulators):
    setups, results = accumulators
    s = setups["pool"]
    x, steps = POOL["x"], POOL["steps"]
    assert s["sums"][:2] == [steps * x.max_int, steps * x.min_int]
    assert all(_fits(v, s["accum"]) for v in s["sums"])
    # the output is as wide as sum * recip: its mantissa is the exact window sum times the reciprocal
    assert results["private"]["pool_exact"] == [v * s["recip"] for v in s["sums"]]


def test_average_pool_with_a_one_bit_narrower_accumulator_wraps(accumulators):
    """The harness can fail: one bit less and the window sums at both ends come out wrapped."""
    setups, results = accumulators
    s = setups["pool"]
    narrow = _narrower(s["accum"])
    got = results["private"]["pool_narrow"]
    assert got == [_wrap_signed(v, narrow.width) * s["recip"] for v in s["sums"]]
    assert got != results["private"]["pool_exact"]


# ---- softmax_rows ------------------------------------------------------------------------------

def _exp_mantissas(row: list[int], row_max: int, spec) -> list[int]:
    """e of each score, worked here: the difference to the row maximum, shifted to the nearest table index
    (half a step added before a right shift)."""
    table = spec.exp_table()
    out = []
    for v in row:
        diff = row_max - v
        s = spec.index_shift
        idx = (diff + (1 << (s - 1))) >> s if s > 0 else diff << -s
        out.append(int(table[idx]) if idx < spec.table_size else 0)
    return out


def _nearest_probabilities(rows: list[list[int]], spec) -> list[list[int]]:
    """Each probability mantissa by docs/numerics.md, from the exponentials worked here and their exact row
    sum: e * 2^prob_frac / sum rounded to nearest (floor of it plus 1/2, in exact fractions), at most prob_max."""
    out = []
    for row in rows:
        e = _exp_mantissas(row, max(row), spec)
        total = sum(e)
        out.append([min(floor(Fraction(v << spec.prob.frac, total) + Fraction(1, 2)), spec.prob.max_int) for v in e])
    return out


@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_rows_rows_are_the_hard_ones(name):
    """One-hot rows whose raw quotient is one past prob_max, ties, and the table's last entry and first
    miss; with the table spanning the scores, the widest difference (one bit wider than a score)."""
    s = _softmax_rows(name)
    spec, past, rows = s["spec"], s["past"], s["rows"]
    table = spec.exp_table()
    assert table[0] == 1 << spec.exp_frac  # exp(0) = 1
    assert any(row.count(max(row)) >= 2 for row in rows)  # ties at the top
    shift = {"sm_right": 2, "sm_left": -2}.get(name)
    if shift is None:  # the table covers every difference but those within half an index step of the widest
        half_step = 1 << (spec.index_shift - 1) if spec.index_shift > 0 else 0
        assert spec.score.max_int - spec.score.min_int < past + half_step
        # differences a signed integer as wide as a score cannot hold, with a nonzero table entry
        wide = [e for row, m in zip(rows, s["row_max"]) for v, e in zip(row, _exp_mantissas(row, m, spec))
                if m - v >= 1 << (spec.score.width - 1)]
        assert sum(e > 0 for e in wide) >= 2 and 0 in wide
        return
    assert spec.index_shift == shift
    assert table[-1] > 0  # the last entry is not zero: the first index past the end is seen
    assert set(s["one_hot"]) == {0, 1}
    for r, top in s["one_hot"].items():
        row, m = rows[r], s["row_max"][r]
        e = _exp_mantissas(row, m, spec)
        assert e == [(1 << spec.exp_frac) if j == top else 0 for j in range(len(row))]
        assert ((e[top] << spec.prob.frac) + (sum(e) >> 1)) // sum(e) == spec.prob.max_int + 1  # saturates
    # row 1 has an element exactly one table index past the end, row 2 one exactly on the last entry
    assert min(s["row_max"][1] - v for v in rows[1] if v != s["row_max"][1]) == past
    assert sorted(s["row_max"][2] - v for v in rows[2])[:3] == [0, 1, past - 1]


@pytest.mark.parametrize("name", SOFTMAX)
def test_softmax_rows_equals_softmax_int_and_saturates_one_hot_rows(accumulators, name):
    from flow.tables import softmax_int

    setups, results = accumulators
    s = setups[name]
    spec, rows, n = s["spec"], s["rows"], SOFTMAX_COMMON["n"]
    got = np.array(results["private"][f"{name}_p"], dtype=np.int64).reshape(len(rows), n)
    assert s["row_max"] == np.max(rows, axis=1).tolist()
    assert got.tolist() == softmax_int(np.array(rows, dtype=np.int64), spec).tolist()
    # the exponentials worked out here, and each probability from them and their row sum: e * 2^prob_frac /
    # sum rounded to nearest, at most prob_max (on 1, 2 and 3 lanes: the sums are of the lanes' parts)
    exps = [_exp_mantissas(row, m, spec) for row, m in zip(rows, s["row_max"])]
    pmax = spec.prob.max_int
    half = Fraction(1, 2)
    assert got.tolist() == [[min(floor(Fraction(e << spec.prob.frac, sum(row)) + half), pmax) for e in row]
                            for row in exps]
    # by hand: a one-hot row is prob_max at its maximum and 0 elsewhere; a tie of two with the rest past
    # the table is a half each; six equal scores are 2^prob_frac / 6 rounded to nearest each
    equal = rows.index([5] * n)
    assert got[equal].tolist() == [floor(Fraction(1 << spec.prob.frac, 6) + half)] * n
    if not s["one_hot"]:
        return
    for r, top in s["one_hot"].items():
        assert got[r].tolist() == [pmax if j == top else 0 for j in range(n)]
    assert got[3].tolist() == [0, 1 << (spec.prob.frac - 1), 0, 0, 1 << (spec.prob.frac - 1), 0]


# ---- dense_add / dense_add_norm ------------------------------------------------------------------

def test_add_norm_values_saturate_and_round_at_every_point():
    """Each rounding point of the harness sees both saturations, in-range values and rounding."""
    s = _add_norm_setup()
    for point, (exact, frac, t) in s["exact"].items():
        values = [Fraction(v, 1 << frac) for row in exact for v in row]
        lo, hi = Fraction(t.min_int, 1 << t.frac), Fraction(t.max_int, 1 << t.frac)
        assert any(v > hi for v in values) and any(v < lo for v in values), point
        inside = [v for v in values if lo <= v <= hi]
        assert len(inside) >= 5, point
        assert any((v * (1 << t.frac)).denominator != 1 for v in inside), point  # values that round


@pytest.mark.parametrize("kind", LANE_PROGRAMS)
def test_dense_add_norm_rounds_at_each_point_like_requantize(accumulators, kind):
    setups, results = accumulators
    s = setups["add_norm"]
    r = results[kind]
    flat = lambda m: [v for row in m for v in row]  # noqa: E731
    assert r["add_norm_y"] == flat(s["y"])
    assert r["add_norm_s"] == flat(s["s"])
    assert r["add_norm_z"] == flat(s["z"])
    # dense_add: the same dense layer and residual add, without the norm
    assert (r["add_norm_add_y"], r["add_norm_add_s"]) == (flat(s["y"]), flat(s["s"]))
