"""The integer softmax: table properties and one definition shared by Keras and the reference."""
import math

import numpy as np
import pytest

from flow.fixedpoint import FixedType
from flow.tables import SoftmaxSpec, exp_table, softmax_int, table_index


def spec(bits=8, table_size=256, index_frac=None):
    score = FixedType(bits, 4)
    return SoftmaxSpec(score=score, prob=FixedType(bits, 0, signed=False), exp_frac=bits - 1,
                       index_frac=score.frac if index_frac is None else index_frac, table_size=table_size)


def test_exp_table_monotone_and_anchored():
    t = exp_table(256, 4, 7)
    assert t[0] == 128  # exp(0) = 1.0 with 7 fraction bits
    assert np.all(np.diff(t) <= 0)
    # index 16 is a difference of 1.0 with 4 index bits: exp(-1) * 128 = 128 / 2.71828 = 47.09, worked by
    # hand, to the nearest mantissa 47
    assert t[16] == 47


def test_a_coarser_index_rounds_each_difference_to_the_nearest_step():
    # index shift 2: a step is 4 score mantissas; d / 4 to the nearest, half up: 0.25 -> 0, 0.5 -> 1,
    # 1.25 -> 1, 1.5 -> 2 (a floor would give 0 0 0 0 1 1 1 1 2)
    assert table_index(np.arange(9), 2).tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 2]
    # no shift or a left shift: every difference is already on a step
    assert table_index(np.arange(4), 0).tolist() == [0, 1, 2, 3]
    assert table_index(np.arange(4), -2).tolist() == [0, 4, 8, 12]


def test_looked_up_exponentials_are_within_half_an_index_step_of_exact():
    """Scores of 1/32, a table of 1/8 steps: every looked-up exponential is the exact one times at most
    e^(1/16) either way (half a step), plus half a table mantissa; a floored index is up to 3/4 of a step off."""
    s = SoftmaxSpec(score=FixedType(8, 3), prob=FixedType(16, 0, signed=False), exp_frac=15, index_frac=3,
                    table_size=64)
    assert s.index_shift == 2
    d = np.arange(0, 64 * 4 - 2)  # every difference whose nearest step is inside the table
    looked_up = s.exp_table()[table_index(d, s.index_shift)] / 2.0 ** s.exp_frac
    exact = np.exp(-d / 32.0)
    half_step = np.exp(1 / 16) - 1
    assert np.all(np.abs(looked_up - exact) <= exact * half_step + 2.0 ** -(s.exp_frac + 1))
    # on average: over the 4 residues of a step, the looked-up difference is off by (0 - 1 + 2 + 1) / 4 =
    # +1/2 mantissa (1/64 in the exponent): exponentials 1.6 % low (a floor: -3/2 mantissas, 4.7 % high)
    assert abs(np.mean(looked_up / exact) - 1) < 0.02


@pytest.mark.parametrize("bits", [4, 6, 8])
def test_rows_sum_within_bound(bits):
    s = spec(bits)
    rng = np.random.default_rng(bits)
    L = 24
    scores = rng.integers(s.score.min_int, s.score.max_int + 1, size=(500, L))
    p = softmax_int(scores, s)
    error = p.sum(axis=-1) - (1 << s.prob.frac)  # in probability steps
    # each probability is within half a step of e / sum (the top one may saturate one step lower)
    assert np.all(np.abs(error) <= L / 2 + 1)
    # and rounded to nearest, so the rows are not short on average: a floored quotient is L/2 steps short
    assert abs(error.mean()) < 1.5


def test_each_probability_is_the_nearest_step_to_its_share_of_the_row():
    s = spec(8)
    rng = np.random.default_rng(11)
    scores = rng.integers(-64, 64, size=(300, 10))
    p = softmax_int(scores, s)
    diff = scores.max(axis=-1, keepdims=True) - scores
    # index_frac = score frac (4): the difference is the index, all inside 256 entries; entry k is
    # exp(-k / 16) with 7 fraction bits, rounded to nearest (Python's round; no entry is a tie)
    table = np.array([round(math.exp(-k / 16) * 128) for k in range(256)])
    e = table[diff]
    share = e * 256 / e.sum(axis=-1, keepdims=True)
    assert np.all(np.abs(np.minimum(share, 255) - p) <= 0.5)


def test_larger_score_never_gets_smaller_probability():
    s = spec(8)
    rng = np.random.default_rng(0)
    scores = rng.integers(-128, 128, size=(300, 16))
    p = softmax_int(scores, s)
    order = np.argsort(scores, axis=-1, kind="stable")
    assert np.all(np.diff(np.take_along_axis(p, order, axis=-1), axis=-1) >= 0)


def test_hand_worked_row():
    # scores 1.0, 0.0 with 4 fraction bits: differences 0 and 16 -> exp 128 and round(128/e) = 47, sum 175;
    # 128 * 256 / 175 = 187.25 -> 187 and 47 * 256 / 175 = 68.75 -> 69 (a floor would give 68)
    s = spec(8)
    p = softmax_int(np.array([[16, 0]]), s)
    assert p.tolist() == [[187, 69]]


@pytest.mark.parametrize("index_frac", [None, 0, 4])  # scores s6.4 (frac 2): index shift 0, 2 (rounded), -2
def test_keras_layer_uses_the_same_table(index_frac):
    import tensorflow as tf

    from keras_models.layers import table_softmax

    s = spec(6, table_size=64, index_frac=index_frac)
    rng = np.random.default_rng(3)
    m = rng.integers(s.score.min_int, s.score.max_int + 1, size=(200, 3, 12))
    got = table_softmax(tf.constant(m * s.score.lsb, tf.float64), s).numpy()
    assert np.array_equal(got * 2 ** s.prob.frac, softmax_int(m, s))


# (score width, score integer bits, table size) -> the default index precision, worked by hand from the rule
# "the table spans the score range": a score of I integer bits spans differences below 2^I, the table's first
# 2^n entries (n = floor(log2 size)) at steps of 2^-f span 2^(n - f), so f = n - I, at most the score's own
# fraction bits (W - I)
DEFAULT_INDEX_FRAC = {
    (6, 3, 16): 1,     # min(3, 4 - 3)
    (6, 3, 256): 3,    # min(3, 8 - 3 = 5): capped at the score's 3 fraction bits
    (4, 4, 256): 0,    # min(0, 8 - 4)
    (6, 4, 256): 2,    # min(2, 4)
    (8, 4, 256): 4,    # min(4, 4): an 8-bit score is an index already
    (12, 4, 256): 4,   # min(8, 4): 4 score bits dropped
    (16, 4, 256): 4,   # min(12, 4)
    (8, 3, 64): 3,     # min(5, 6 - 3)
    (8, 4, 100): 2,    # floor(log2 100) = 6: min(4, 6 - 4)
    (8, 4, 4096): 4,   # min(4, 12 - 4 = 8)
    (12, 9, 256): -1,  # min(3, 8 - 9): index steps of 2, coarser than a whole score
}


@pytest.mark.parametrize("width, integer, size", DEFAULT_INDEX_FRAC)
def test_the_default_index_precision_spans_the_score_range(width, integer, size):
    from flow.tables import default_index_frac

    assert default_index_frac(FixedType(width, integer), size) == DEFAULT_INDEX_FRAC[width, integer, size]


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_default_table_spans_the_score_range(bits):
    """Wide score types still see the whole exp curve: scores 0, -1, -4, -8 keep their order. The index
    precision is the default for s<bits>.4 scores and 256 entries, 4 (DEFAULT_INDEX_FRAC, by hand)."""
    score = FixedType(bits, 4)
    s = SoftmaxSpec(score=score, prob=FixedType(bits, 0, signed=False), exp_frac=bits - 1,
                    index_frac=DEFAULT_INDEX_FRAC[bits, 4, 256], table_size=256)
    p = softmax_int(np.array([[0, -1, -4, -8]]) << score.frac, s)[0] * 2.0 ** -s.prob.frac
    assert p[0] > p[1] > p[2] >= p[3]
    assert abs(p[0] - np.exp(0) / np.exp([0, -1, -4, -8]).sum()) < 0.01


@pytest.mark.parametrize("bits, window, width", [(4, 24, 8), (8, 24, 8), (4, 8, 6), (6, 96, 10), (8, 96, 10),
                                                 (12, 24, 12), (2, 2, 4)])
def test_default_probabilities_hold_one_over_the_window_in_eight_steps(bits, window, width):
    """Widths worked by hand: max(bits, ceil(log2 window) + 3); 1/window then rounds by at most 1/16 of itself,
    so a near-uniform row of a narrow model keeps its mass instead of rounding to 0 or one step."""
    from flow.config import parse_config
    from flow.precision import resolve_precisions

    from .conftest import small_raw

    raw = small_raw()
    raw["data"]["window"], raw["quantization"]["bits"] = window, bits
    prob = resolve_precisions(parse_config(raw))["enc0.softmax"]["output"]
    assert (prob.width, prob.integer, prob.signed) == (width, 0, False)
    assert prob.lsb / 2 <= (1 / window) / 16
    raw["quantization"]["softmax"] = {"prob_bits": bits}  # a width the user sets is kept
    assert resolve_precisions(parse_config(raw))["enc0.softmax"]["output"].width == bits
