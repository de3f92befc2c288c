"""The shared constants (exp table and its index precision, pooling reciprocal, score shift, positional table)
pinned to their definitions.

Keras, the integer reference and the C++ all take these from ``flow.tables``, so the bit-exact check
cannot see a mistake in them. Here each is computed again from its mathematical definition (Python
integers and ``decimal`` at 40 digits, or by hand, not the project's functions), at points where
round-half-even, round-half-up, floor and ceiling give different answers, and the points are checked to be
such.
"""
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, getcontext

import pytest

from flow.config import parse_config
from flow.precision import resolve_precisions
from flow.tables import POOL_RECIPROCAL_FRAC, exp_table, reciprocal_constant, score_shift

from .conftest import small_raw

getcontext().prec = 40
MODES = (ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_FLOOR, ROUND_CEILING)


def rounded(x: Decimal, mode) -> int:
    return int(x.to_integral_value(rounding=mode))


def exp_entry(k: int, index_frac: int, exp_frac: int) -> Decimal:
    """exp(-k * 2^-index_frac) * 2^exp_frac, the real value the table entry k rounds."""
    return (Decimal(-k) / Decimal(2) ** index_frac).exp() * Decimal(2) ** exp_frac


# (index_frac, exp_frac, k): entries whose fractional part is above one half, so round and floor differ
@pytest.mark.parametrize("index_frac,exp_frac,k", [(3, 8, 1), (3, 8, 6), (2, 8, 13), (4, 15, 3), (0, 8, 2), (4, 8, 21)])
def test_an_exp_table_entry_is_exp_rounded_to_nearest(index_frac, exp_frac, k):
    x = exp_entry(k, index_frac, exp_frac)
    assert rounded(x, ROUND_HALF_EVEN) != rounded(x, ROUND_FLOOR)  # the point tells rounding from truncation
    assert exp_table(k + 1, index_frac, exp_frac)[k] == rounded(x, ROUND_HALF_EVEN)


# bits -> (index_frac, exp_frac) of small_raw()'s default table, worked by hand: 256 entries; the scores are
# s<bits>.4 before training (act prior 3 integer bits, scores one more), so the table spans them at
# min(score fraction bits, log2(256) - 4) = min(bits - 4, 4) index bits: 4 bits 0, 6 bits 2, 8 bits 4; the exp
# table is u<bits>.1 (one integer bit holds exp(0) = 1): bits - 1 fraction bits
DEFAULT_TABLES = {4: (0, 3), 6: (2, 5), 8: (4, 7)}


@pytest.mark.parametrize("bits", DEFAULT_TABLES)
def test_the_exp_tables_a_default_build_ships_match_the_definition_entry_by_entry(bits):
    index_frac, exp_frac = DEFAULT_TABLES[bits]
    cfg = parse_config({**small_raw(), "quantization": {"bits": bits}})
    spec = resolve_precisions(cfg).softmax[0]
    assert (spec.score.width, spec.score.integer, spec.table_size) == (bits, 4, 256)  # the premise above
    assert (spec.index_frac, spec.exp_frac) == (index_frac, exp_frac)
    table = spec.exp_table()
    want = [rounded(exp_entry(k, index_frac, exp_frac), ROUND_HALF_EVEN) for k in range(256)]
    assert table.tolist() == want
    assert table[0] == 2 ** exp_frac  # exp(0) = 1 exactly
    # the table covers entries where truncation would differ: a floor table would be caught above
    assert any(rounded(exp_entry(k, index_frac, exp_frac), ROUND_FLOOR) != w for k, w in enumerate(want))


# windows where 2^16 / n is not an integer and floor, ceiling and nearest do not all agree
@pytest.mark.parametrize("window,expected", [(24, 2731), (10, 6554), (96, 683), (3, 21845), (7, 9362), (48, 1365)])
def test_the_pooling_reciprocal_is_two_to_the_sixteen_over_the_window_to_nearest(window, expected):
    exact = Decimal(2) ** POOL_RECIPROCAL_FRAC / window
    assert rounded(exact, ROUND_HALF_EVEN) == expected  # the literal is the definition, checked here
    assert reciprocal_constant(window, POOL_RECIPROCAL_FRAC) == expected


def nearest_power_of_two_shift(head_dim: int) -> int:
    """The s nearest to log2(sqrt(head_dim)), a tie going to the larger shift (the smaller scale, which is
    the nearer one on the real values): 2^(2s-1) <= head_dim < 2^(2s+1), in integers."""
    s = 0
    while head_dim >= 2 ** (2 * s + 1):
        s += 1
    return s


# head_dim -> the shift, by hand: log2(sqrt(d)) = log2(d) / 2 to the nearest integer, a tie (2, 8, 32, 128:
# an odd power of two, exactly halfway) to the larger shift
SCORE_SHIFTS = {1: 0, 2: 1, 3: 1, 4: 1, 6: 1, 8: 2, 12: 2, 16: 2, 24: 2, 30: 2, 32: 3, 48: 3, 64: 3, 128: 4}


@pytest.mark.parametrize("head_dim,expected", SCORE_SHIFTS.items())
def test_the_score_shift_is_log2_sqrt_head_dim_to_nearest_ties_up(head_dim, expected):
    assert nearest_power_of_two_shift(head_dim) == expected
    assert score_shift(head_dim) == expected


def test_the_score_shift_points_separate_round_floor_and_ceiling():
    """Among the pinned head widths, floor, ceiling and half-to-even rounding of log2(sqrt(d)) each give
    another shift than the pinned one somewhere: the test above fails for each of those rules."""
    import math

    halves = {d: 0.5 * math.log2(d) for d in SCORE_SHIFTS}
    assert any(math.floor(v) != SCORE_SHIFTS[d] for d, v in halves.items())  # 2: floor(0.5) = 0, not 1
    assert any(math.ceil(v) != SCORE_SHIFTS[d] for d, v in halves.items())  # 6: ceil(1.29) = 2, not 1
    assert any(round(v) != SCORE_SHIFTS[d] for d, v in halves.items())  # ties to even: 2 -> 0, 32 -> 2


# entries of the positional table of a 4-wide model (Vaswani: PE(p, 2i) = sin(p / 10000^(2i/4)),
# PE(p, 2i+1) = cos(p / 10000^(2i/4)); columns 2 and 3 have the angle p / 100) as an s8.2 ROM, 6 fraction
# bits (x 64), worked by hand: (position, column, value x 64, conv, rnd, trn)
POSITIONAL = [
    (1, 0, "sin(1) = 0.8414709848 -> 53.854", 54, 54, 53),
    (1, 1, "cos(1) = 0.5403023059 -> 34.579", 35, 35, 34),
    (1, 2, "sin(0.01) = 0.0099998333 -> 0.640", 1, 1, 0),
    (3, 3, "cos(0.03) = 0.9995500337 -> 63.971", 64, 64, 63),
    (5, 0, "sin(5) = -0.9589242747 -> -61.371", -61, -61, -62),
    (7, 2, "sin(0.07) = 0.0699428473 -> 4.476", 4, 4, 4),
    (6, 1, "cos(6) = 0.9601702867 -> 61.451", 61, 61, 61),
    (0, 1, "cos(0) = 1 -> 64", 64, 64, 64),
    (0, 2, "sin(0) = 0 -> 0", 0, 0, 0),
]


@pytest.mark.parametrize("rounding", ["conv", "rnd", "trn"])
def test_the_positional_table_is_the_sinusoid_rounded_by_its_type(rounding):
    from flow.fixedpoint import FixedType
    from flow.tables import positional_table

    table = positional_table(8, 4, FixedType(8, 2, True, rounding, "sat"))
    column = {"conv": 3, "rnd": 4, "trn": 5}[rounding]
    assert [int(table[p, i]) for p, i, *_ in POSITIONAL] == [row[column] for row in POSITIONAL]


@pytest.mark.parametrize("overflow, expected", [("sat", 127), ("wrap", -128)])
def test_a_positional_entry_past_its_type_saturates_or_wraps(overflow, expected):
    """cos(0) = 1 in an s8.1 table (7 fraction bits): 128, one past the largest mantissa 127; wrapped, -128."""
    from flow.fixedpoint import FixedType
    from flow.tables import positional_table

    table = positional_table(4, 4, FixedType(8, 1, True, "conv", overflow))
    assert int(table[0, 1]) == int(table[0, 3]) == expected and int(table[0, 0]) == 0
