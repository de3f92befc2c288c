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
  wrapped sums, so these tests would see an accumulator sized one bit too small.

Expected values are Python integers computed here from the inputs (``fractions`` rounding, brute
force over small ranges), never copied from the code under test. Two programs, one g++ run each.
"""
from __future__ import annotations

import itertools
import random
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
        cc = subprocess.run(["g++", "-std=c++14", "-O1", f"-I{ap_types}", f"-I{HLS_TEMPLATES}", str(src), "-o",
                             str(exe)], capture_output=True, text=True)
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


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """Both C++ programs (the cast table and the accumulator harness), compiled in parallel and run."""
    casts = _cast_program()
    accum = _accumulator_program()
    out = _build_and_run({"casts": casts[0], "accumulators": accum[0]}, tmp_path_factory.mktemp("cpp_numerics"))
    return {"casts": (casts[1], out["casts"]), "accumulators": (accum[1], out["accumulators"])}


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


# ---- part 2b: the same accumulators in C simulation ---------------------------------------------

# dense_seq: weights (w[o][i], as the C++ stores them) at their type's extremes with mixed signs, and
# both bias extremes; mul_impl 1 / 2 take the DSP / LUT multiply paths
CSIM_DENSE = {
    # the bias (2 fraction bits fewer than the products) is what takes the minimum past -2^11
    "dense_s": dict(x=FixedType(5, 2), tw=FixedType(6, 2), tb=FixedType(8, 3), parallel=2, mul_impl=0,
                    w=[[31, -32, 31, -20, 5], [-32, -32, -32, -32, 0], [31, 0, -1, 17, -32]], b=[127, -128, 3]),
    "dense_u": dict(x=FixedType(4, 1, signed=False), tw=FixedType(5, 1), tb=FixedType(12, 2), parallel=3, mul_impl=2,
                    w=[[15, -16, 15, -16, 15], [-16, -16, 7, -16, -16], [15, 15, 15, 15, 15]], b=[2047, -2048, -2048]),
}
# attention: q = k = v = x through identity projections that saturate into q_t / k_t
ATT = dict(x=FixedType(6, 3), q=FixedType(6, 3), k=FixedType(5, 1), v=FixedType(6, 3), d=6, heads=2, steps=2,
           proj_w=FixedType(4, 2), proj_b=FixedType(4, 2), prob=FixedType(8, 0, signed=False),
           context=FixedType(12, 4), index_frac=4, table_size=64, exp_frac=7, score_parallel=2)
# average_pool: a window of 6 (2^16 / 6 rounds), channels at the top, at the bottom, and mixed
POOL = dict(x=FixedType(8, 3), steps=6, ch=3, parallel=4, mul_impl=1)
WIDE_OUT = 48  # output types this wide hold every sum exactly, so the C++ output shows the accumulator


def _dense_setup(spec: dict):
    import hls4ml  # noqa: F401

    from flow.hls.layers import dense_accumulator

    x, tw, tb = spec["x"], spec["tw"], spec["tb"]
    w = np.array(spec["w"], dtype=np.int64).T  # (n_in, n_out) as the Keras kernel
    b = np.array(spec["b"], dtype=np.int64)
    n_in, n_out = w.shape
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


def _dense_code(tag: str, spec: dict, setup: dict, accum: FixedType) -> tuple[str, str]:
    x, w = spec["x"], setup["w"]
    n_in, n_out = w.shape
    n_steps = len(setup["rows"])
    f = setup["frac"]
    struct = _struct(f"cfg_{tag}", {"n_steps": n_steps, "n_in": n_in, "n_out": n_out, "parallel": spec["parallel"],
                                    "mul_impl": spec["mul_impl"], "relu": False},
                     {"weight_t": spec["tw"].cpp(), "bias_t": spec["tb"].cpp(), "accum_t": accum.cpp()})
    y_t = FixedType(WIDE_OUT, WIDE_OUT - f, True, "trn", "wrap").cpp()
    body = f"""    {{
        static const long long xm[] = {_ll(np.ravel(setup['rows']))}, wm[] = {_ll(w.T.ravel())},
                               bm[] = {_ll(setup['b'])};
        {x.cpp()} x[{n_steps * n_in}];
        cfg_{tag}::weight_t w[{n_in * n_out}];
        cfg_{tag}::bias_t b[{n_out}];
        {y_t} y[{n_steps * n_out}];
        set_all(x, xm, {n_steps * n_in});
        set_all(w, wm, {n_in * n_out});
        set_all(b, bm, {n_out});
        tsflow::dense_seq<{x.cpp()}, {y_t}, cfg_{tag} >(x, y, w, b);
        print_all("{tag}", y, {n_steps * n_out});
    }}"""
    return struct, body


def _identity_dense(tag: str, n_steps: int, d: int, x: FixedType, tw: FixedType, tb: FixedType):
    """Config of a d x d identity projection (weight 1.0, bias 0) and its weight / bias mantissas."""
    import hls4ml  # noqa: F401

    from flow.hls.layers import dense_accumulator

    w = np.eye(d, dtype=np.int64) << tw.frac
    b = np.zeros(d, dtype=np.int64)
    struct = _struct(tag, {"n_steps": n_steps, "n_in": d, "n_out": d, "parallel": 2, "mul_impl": 0, "relu": False},
                     {"weight_t": tw.cpp(), "bias_t": tb.cpp(), "accum_t": dense_accumulator(x, w, b, tw, tb).cpp()})
    return struct, w.T.ravel(), b


def _attention_code(tag: str, score_accum: FixedType, score_t: FixedType) -> tuple[str, str]:
    from flow.tables import exp_table, score_shift

    a = ATT
    steps, d, heads = a["steps"], a["d"], a["heads"]
    dh = d // heads
    shift = score_shift(dh)
    structs, weights = [], {}
    for role, src in (("q", a["x"]), ("k", a["x"]), ("v", a["x"]), ("o", a["context"])):
        s, wm, bm = _identity_dense(f"{tag}_{role}", steps, d, src, a["proj_w"], a["proj_b"])
        structs.append(s)
        weights[role] = (wm, bm)
    exp_t = FixedType(a["exp_frac"] + 1, 1, signed=False)
    structs.append(_struct(f"{tag}_softmax", {"n": steps, "table_size": a["table_size"],
                                              "index_shift": score_t.frac - a["index_frac"],
                                              "sum_extra_bits": steps.bit_length(), "prob_frac": a["prob"].frac,
                                              "prob_max": a["prob"].max_int},
                           {"score_t": score_t.cpp(), "prob_t": a["prob"].cpp(), "exp_t": exp_t.cpp()}))
    types = {f"{r}_config": f"{tag}_{r}" for r in "qkvo"}
    types.update(softmax_config=f"{tag}_softmax", q_t=a["q"].cpp(), k_t=a["k"].cpp(), v_t=a["v"].cpp(),
                 score_t=score_t.cpp(), prob_t=a["prob"].cpp(), context_t=a["context"].cpp(),
                 score_accum_t=score_accum.cpp(),
                 score_scaled_t=FixedType(score_accum.width, score_accum.integer - shift, True, "trn", "wrap").cpp(),
                 context_accum_t=product_accumulator(a["prob"], a["v"], steps).cpp())
    structs.append(_struct(tag, {"n_steps": steps, "d": d, "heads": heads, "head_dim": dh,
                                 "score_parallel": a["score_parallel"], "context_parallel": 1, "score_mul_impl": 0,
                                 "context_mul_impl": 0}, types))
    x = a["x"]
    xm = [x.min_int] * d + [x.max_int] * d  # step 0 at the bottom, step 1 at the top
    n, sq = steps * d, heads * steps * steps
    decl = "".join(f"        static const long long w{r}m[] = {_ll(weights[r][0])}, b{r}m[] = {_ll(weights[r][1])};\n"
                   f"        {tag}_{r}::weight_t w{r}[{d * d}];\n        {tag}_{r}::bias_t b{r}[{d}];\n"
                   f"        set_all(w{r}, w{r}m, {d * d});\n        set_all(b{r}, b{r}m, {d});\n" for r in "qkvo")
    body = f"""    {{
        static const long long xm[] = {_ll(xm)},
                               em[] = {_ll(exp_table(a['table_size'], a['index_frac'], a['exp_frac']))};
        {x.cpp()} x[{n}];
        {x.cpp()} y[{n}];
        {tag}::q_t q[{n}];
        {tag}::k_t k[{n}];
        {tag}::v_t v[{n}];
        {tag}::score_t scores[{sq}];
        {tag}::prob_t probs[{sq}];
        {tag}::context_t ctx[{n}];
        {tag}_softmax::exp_t table[{a['table_size']}];
        set_all(x, xm, {n});
        set_all(table, em, {a['table_size']});
{decl}        tsflow::attention<{x.cpp()}, {x.cpp()}, {tag} >(x, y, q, k, v, scores, probs, ctx, wq, bq, wk, bk, wv, bv,
                                                       wo, bo, table);
        print_all("{tag}_q", q, {n});
        print_all("{tag}_k", k, {n});
        print_all("{tag}_scores", scores, {sq});
    }}"""
    return "\n".join(structs), body


def _pool_setup():
    p = POOL
    x, steps, ch = p["x"], p["steps"], p["ch"]
    rng = random.Random(7)
    cols = [[x.max_int] * steps, [x.min_int] * steps, [rng.randint(x.min_int, x.max_int) for _ in range(steps)]]
    xm = [cols[c][t] for t in range(steps) for c in range(ch)]  # [step][channel]
    recip = round(Fraction(2 ** 16, steps))  # half to even
    sums = [sum(col) for col in cols]
    return dict(xm=xm, sums=sums, recip=recip,
                accum=exact_sum_type(steps * x.min_int, steps * x.max_int, x.frac))


def _pool_code(tag: str, setup: dict, accum: FixedType) -> tuple[str, str]:
    p = POOL
    x, steps, ch = p["x"], p["steps"], p["ch"]
    recip_t = FixedType(16, 0, signed=False)
    struct = _struct(tag, {"n_steps": steps, "n_ch": ch, "parallel": p["parallel"], "mul_impl": p["mul_impl"],
                           "recip_mantissa": setup["recip"]}, {"accum_t": accum.cpp(), "recip_t": recip_t.cpp()})
    y_t = FixedType(WIDE_OUT, WIDE_OUT - x.frac - recip_t.frac, True, "trn", "wrap").cpp()
    body = f"""    {{
        static const long long xm[] = {_ll(setup['xm'])};
        {x.cpp()} x[{steps * ch}];
        {y_t} y[{ch}];
        set_all(x, xm, {steps * ch});
        tsflow::average_pool<{x.cpp()}, {y_t}, {tag} >(x, y);
        print_all("{tag}", y, {ch});
    }}"""
    return struct, body


def _accumulator_program() -> tuple[str, dict]:
    from flow.tables import score_shift

    structs, bodies, setups = [], [], {}
    for name, spec in CSIM_DENSE.items():
        setup = _dense_setup(spec)
        setups[name] = setup
        for variant, acc in (("exact", setup["accum"]), ("narrow", _narrower(setup["accum"]))):
            s, b = _dense_code(f"{name}_{variant}", spec, setup, acc)
            structs.append(s)
            bodies.append(b)
    dh = ATT["d"] // ATT["heads"]
    score_acc = product_accumulator(ATT["q"], ATT["k"], dh)
    # a scores buffer as wide as the exact accumulator: it shows the accumulator's bits, wrapped or not
    score_t = FixedType(score_acc.width, score_acc.integer - score_shift(dh), True, "trn", "wrap")
    setups["attention"] = dict(accum=score_acc)
    for variant, acc in (("exact", score_acc), ("narrow", _narrower(score_acc))):
        s, b = _attention_code(f"att_{variant}", acc, score_t)
        structs.append(s)
        bodies.append(b)
    pool = _pool_setup()
    setups["pool"] = pool
    for variant, acc in (("exact", pool["accum"]), ("narrow", _narrower(pool["accum"]))):
        s, b = _pool_code(f"pool_{variant}", pool, acc)
        structs.append(s)
        bodies.append(b)
    code = "\n".join([PRELUDE, *structs, "int main() {", *bodies, "    return 0;", "}"])
    return code, setups


@pytest.fixture(scope="module")
def accumulators(programs):
    setups, stdout = programs["accumulators"]
    results = {}
    for line in stdout.splitlines():
        tag, *values = line.split()
        results[tag] = [int(v) for v in values]
    return setups, results


@pytest.mark.parametrize("name", CSIM_DENSE)
def test_dense_seq_sums_exactly_at_the_accumulator_bound(accumulators, name):
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
    assert results[f"{name}_exact"] == expected


@pytest.mark.parametrize("name", CSIM_DENSE)
def test_dense_seq_with_a_one_bit_narrower_accumulator_wraps(accumulators, name):
    """The harness can fail: one bit less and the extreme sums come out wrapped."""
    setups, results = accumulators
    s = setups[name]
    expected = [v for row in s["expected"] for v in row]
    narrow = _narrower(s["accum"])
    got = results[f"{name}_narrow"]
    assert got == [_wrap_signed(v, narrow.width) for v in expected]
    assert got != expected
    assert max(expected) > narrow.max_int or min(expected) < narrow.min_int


def _expected_scores(q: list[int], k: list[int]) -> list[int]:
    a = ATT
    steps, d, heads = a["steps"], a["d"], a["heads"]
    dh = d // heads
    return [sum(q[i * d + h * dh + e] * k[j * d + h * dh + e] for e in range(dh))
            for h in range(heads) for i in range(steps) for j in range(steps)]


def test_attention_scores_sum_exactly_at_the_product_bound(accumulators):
    setups, results = accumulators
    a = ATT
    d = a["d"]
    q, k = results["att_exact_q"], results["att_exact_k"]
    # the identity projections saturate step 0 to the bottom and step 1 to the top of q_t and k_t
    assert q == [a["q"].min_int] * d + [a["q"].max_int] * d
    assert k == [a["k"].min_int] * d + [a["k"].max_int] * d
    expected = _expected_scores(q, k)
    dh = d // a["heads"]
    prods = [p * r for p in range(a["q"].min_int, a["q"].max_int + 1)
             for r in range(a["k"].min_int, a["k"].max_int + 1)]
    assert (max(expected), min(expected)) == (dh * max(prods), dh * min(prods))  # both worst cases reached
    assert all(_fits(v, setups["attention"]["accum"]) for v in expected)
    assert results["att_exact_scores"] == expected


def test_attention_scores_with_a_one_bit_narrower_accumulator_wrap(accumulators):
    """The harness can fail: the same q and k, one bit less in the score accumulator, wrapped scores."""
    setups, results = accumulators
    assert (results["att_narrow_q"], results["att_narrow_k"]) == (results["att_exact_q"], results["att_exact_k"])
    expected = _expected_scores(results["att_narrow_q"], results["att_narrow_k"])
    narrow = _narrower(setups["attention"]["accum"])
    got = results["att_narrow_scores"]
    assert got == [_wrap_signed(v, narrow.width) for v in expected]
    assert got != expected


def test_average_pool_window_sum_is_exact_at_both_ends(accumulators):
    setups, results = accumulators
    s = setups["pool"]
    x, steps = POOL["x"], POOL["steps"]
    assert s["sums"][:2] == [steps * x.max_int, steps * x.min_int]
    assert all(_fits(v, s["accum"]) for v in s["sums"])
    # the output is as wide as sum * recip: its mantissa is the exact window sum times the reciprocal
    assert results["pool_exact"] == [v * s["recip"] for v in s["sums"]]


def test_average_pool_with_a_one_bit_narrower_accumulator_wraps(accumulators):
    """The harness can fail: one bit less and the window sums at both ends come out wrapped."""
    setups, results = accumulators
    s = setups["pool"]
    narrow = _narrower(s["accum"])
    got = results["pool_narrow"]
    assert got == [_wrap_signed(v, narrow.width) * s["recip"] for v in s["sums"]]
    assert got != results["pool_exact"]
