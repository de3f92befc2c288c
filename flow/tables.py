"""Non-linear functions as integer tables and constants, defined once here.

The Keras layers look these tables up during training and inference, the integer reference uses
them, and the HLS writer emits them verbatim as C++ arrays, so all three compute the same function.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .fixedpoint import FixedType, quantize

# fraction bits of the unsigned constant round(2**f / window) that turns a window sum into a mean
POOL_RECIPROCAL_FRAC = 16


@dataclass(frozen=True)
class SoftmaxSpec:
    """Integer softmax over one row of scores.

    ``diff = max(row) - score`` in score mantissa units (>= 0) indexes the exp table after a shift
    to ``index_frac`` fractional bits (to the nearest step, ``table_index``); ``e = exp_table[idx]``, or 0 past the table's end;
    is unsigned with ``exp_frac`` fractional bits (exp(0) = 1 is ``1 << exp_frac``); the row sum is
    exact; the probability mantissa is ``floor(((e << prob.frac) + (sum >> 1)) / sum)``, the quotient rounded
    to nearest (a floor would shrink every row's sum by half a step per element on average, and with it every
    context), saturated to ``prob``.
    """

    score: FixedType
    prob: FixedType
    exp_frac: int
    index_frac: int
    table_size: int

    @property
    def index_shift(self) -> int:
        """Right shift from score mantissa to table index (negative = left shift)."""
        return self.score.frac - self.index_frac

    def exp_table(self) -> np.ndarray:
        return exp_table(self.table_size, self.index_frac, self.exp_frac)


def exp_table(table_size: int, index_frac: int, exp_frac: int) -> np.ndarray:
    """exp(-k * 2**-index_frac) for k in [0, table_size), as unsigned mantissas with exp_frac bits.

    Rounded half to even; monotone non-increasing by construction of exp and rounding.
    """
    k = np.arange(table_size, dtype=np.float64)
    return np.round(np.exp(-k * 2.0 ** -index_frac) * 2.0 ** exp_frac).astype(np.int64)


def table_index(diff: np.ndarray, index_shift: int) -> np.ndarray:
    """Table index of a score difference (mantissa units): the nearest index step, half up.

    Rounded, not floored: a floored index looks up exp of the step's low end for every difference in
    it, so each non-maximal exponential came out too large by up to one step (half a step on average),
    a systematic bias that flattened every row and did not shrink with wider types.
    """
    if index_shift > 0:
        return (diff + (1 << (index_shift - 1))) >> index_shift
    return diff << (-index_shift)


def softmax_int(scores_m: np.ndarray, spec: SoftmaxSpec) -> np.ndarray:
    """Integer softmax along the last axis: score mantissas -> probability mantissas."""
    scores_m = np.asarray(scores_m, dtype=np.int64)
    diff = scores_m.max(axis=-1, keepdims=True) - scores_m
    idx = table_index(diff, spec.index_shift)
    e = np.where(idx < spec.table_size, spec.exp_table()[np.minimum(idx, spec.table_size - 1)], 0)
    total = e.sum(axis=-1, keepdims=True)
    p = ((e << spec.prob.frac) + (total >> 1)) // total
    return np.minimum(p, spec.prob.max_int)


def default_index_frac(score: FixedType, table_size: int) -> int:
    """Index precision at which the table spans the whole score range (at most the score's own)."""
    return min(score.frac, int(math.floor(math.log2(table_size))) - score.integer)


COARSE_STEP = 2.0  # score units one table index may span at most: past it, differences below one unit all read exp(0)


def table_coverage(spec: SoftmaxSpec, scores: str, placed: bool = True) -> str | None:
    """What a ``quantization.softmax.index_frac`` too fine or too coarse for the scores (``scores``: their tensor's
    name) does, or None: where one score step indexes at or past the table's end, every score below its row's maximum
    looks up 0 and the softmax is a hard max; where the table spans less than one score unit (exp(-1)) of a wider score
    range, every difference past its end gets probability 0 though its exponential is still a good part of the
    maximum's; where one index spans ``COARSE_STEP`` score units or more (coarser than the default), every difference
    below half of it reads exp(0) and the attention is a plain mean. ``placed``: the scores' binary point is known (an
    ``auto`` one is not before training: only the coarse step, which is in score units whatever the point, is told)."""
    s, size = spec.score, spec.table_size
    default = default_index_frac(s, size)
    unit = 2.0 ** -spec.index_frac  # score units one index step spans
    if unit >= COARSE_STEP and (spec.index_frac < default or not placed):
        return _coarse(spec, scores, unit, default if placed else None)
    if not placed:
        return None
    span = size * 2.0 ** -spec.index_frac  # score differences the table covers
    reach = 2.0 ** s.integer  # the largest difference two scores of the type can have (signed)
    step = int(table_index(np.int64(1), spec.index_shift))
    most = min(int(math.floor(math.log2(size))), s.frac + math.ceil(math.log2(size)) - 1)  # spans >= 1, step inside
    fix = (f"leave quantization.softmax.index_frac out (for these scores it is {default}, the table then spans the "
           f"whole score range), or use at most {most}")
    head = (f"quantization.softmax.index_frac = {spec.index_frac} with table_size = {size}: {scores} has {s.frac} "
            f"fraction bits ({s.width} bits, integer {s.integer})")
    if step >= size:
        return (f"{head}, so one score step is {step:,} table indexes, at or past the table's {size:,} entries: every "
                f"score below its row's maximum gets probability 0 and the attention is a hard max (the largest score "
                f"takes it all); {fix}")
    if span < 1 and reach > span:
        return (f"{head}, so the table spans score differences below {span:.4g} of the up to {reach:g} the scores "
                f"reach: every larger difference gets probability 0, though exp(-{span:.4g}) = "
                f"{math.exp(-span):.2f} of the row maximum's weight; {fix}")
    return None


def _coarse(spec: SoftmaxSpec, scores: str, unit: float, default: int | None) -> str:
    """The coarse-index warning of ``table_coverage``: ``unit`` score units per index; ``default``: the index_frac
    the scores' placed binary point gets (None: not placed yet)."""
    s = spec.score
    table = spec.exp_table()
    second = table[1] / table[0] if len(table) > 1 else 0.0  # the weight of the next entry against exp(0)
    whole = (f"; {scores} ({s.width} bits, integer {s.integer}) differ by less than {2.0 ** s.integer:g}, so "
             f"every score reads it" if default is not None and 2.0 ** s.integer <= unit / 2 else "")
    least = min(default, 0) if default is not None else 0
    left = (f"leave quantization.softmax.index_frac out (for these scores it is {default}) or use at least {least}"
            if default is not None else f"leave quantization.softmax.index_frac out (the default is placed with the "
            f"scores' binary point) or use at least {least}")
    return (f"quantization.softmax.index_frac = {spec.index_frac}: one step of the exp table is {unit:g} score units, "
            f"so every score within {unit / 2:g} of its row's maximum reads exp(0) = 1 and the next entry is "
            f"exp(-{unit:g}) ({second:.3g} of it){whole}: the attention becomes a plain mean of the values whose "
            f"scores are near the maximum (of the whole row where they all are) instead of weighting them by score; "
            f"{left}")


def score_shift(head_dim: int) -> int:
    """1/sqrt(head_dim) as a power of two: the shift s nearest to log2(sqrt(head_dim)).

    A tie (head_dim an odd power of two) goes to the larger shift, whose 2**-s is the nearer on the real
    values; in integers, s is the one with 2**(2s-1) <= head_dim < 2**(2s+1).
    """
    return (head_dim.bit_length()) // 2


def reciprocal_constant(n: int, frac: int) -> int:
    """round_half_even(2**frac / n): the unsigned multiplier that turns an exact window sum into a mean."""
    return int(np.round(2.0 ** frac / n))


def positional_encoding(length: int, d_model: int) -> np.ndarray:
    """Fixed sine/cosine encoding (Vaswani et al.), shape (length, d_model), float64."""
    pos = np.arange(length, dtype=np.float64)[:, None]
    i = np.arange(d_model, dtype=np.float64)[None, :]
    angle = pos / np.power(10000.0, (2 * (i // 2)) / d_model)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))


def positional_table(length: int, d_model: int, t: FixedType) -> np.ndarray:
    """The positional encoding as mantissas of type ``t`` (what the HLS ROM holds)."""
    return quantize(positional_encoding(length, d_model), t)
