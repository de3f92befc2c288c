"""Fixed-point types and integer rounding: the single definition of every rounding point.

A value of type ``FixedType(width=W, integer=I, signed=s)`` is ``m * 2**-(W-I)`` with an integer
mantissa ``m``; ``integer`` counts the sign bit, exactly as in ``ap_fixed<W,I>``.  The Keras
layers, the integer reference forward and the generated C++ all round through the functions here
(or through C++ types whose semantics these functions reproduce), so there is one contract.

Rounding modes (ap_fixed names): ``conv`` = AP_RND_CONV (half to even, what ``tf.round`` does),
``rnd`` = AP_RND (half towards +inf), ``trn`` = AP_TRN (floor).  Overflow: ``sat`` = AP_SAT,
``wrap`` = AP_WRAP (two's complement wrap-around).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROUNDING_MODES = ("conv", "rnd", "trn")
OVERFLOW_MODES = ("sat", "wrap")
_AP_ROUNDING = {"conv": "AP_RND_CONV", "rnd": "AP_RND", "trn": "AP_TRN"}
_AP_OVERFLOW = {"sat": "AP_SAT", "wrap": "AP_WRAP"}


@dataclass(frozen=True)
class FixedType:
    """A power-of-two-scaled fixed-point type with its rounding and overflow behaviour."""

    width: int
    integer: int
    signed: bool = True
    rounding: str = "conv"
    overflow: str = "sat"

    def __post_init__(self):
        if self.width < 1:
            raise ValueError(f"fixed-point width must be >= 1, got {self.width}")
        if self.rounding not in ROUNDING_MODES:
            raise ValueError(f"rounding {self.rounding!r} not in {ROUNDING_MODES}")
        if self.overflow not in OVERFLOW_MODES:
            raise ValueError(f"overflow {self.overflow!r} not in {OVERFLOW_MODES}")

    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        return 2.0 ** -self.frac

    @property
    def min_int(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min_value(self) -> float:
        return self.min_int * self.lsb

    @property
    def max_value(self) -> float:
        return self.max_int * self.lsb

    def cpp(self) -> str:
        """The ap_fixed / ap_ufixed spelling with explicit rounding and overflow modes."""
        base = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{base}<{self.width},{self.integer},{_AP_ROUNDING[self.rounding]},{_AP_OVERFLOW[self.overflow]}>"

    def describe(self) -> str:
        sign = "s" if self.signed else "u"
        return f"{sign}{self.width}.{self.integer} {self.rounding}/{self.overflow}"

    def to_dict(self) -> dict:
        return {"width": self.width, "integer": self.integer, "signed": self.signed,
                "rounding": self.rounding, "overflow": self.overflow}


def round_shift(m: np.ndarray, shift: int, rounding: str) -> np.ndarray:
    """Divide integer mantissas by 2**shift (shift >= 0) with the given rounding mode."""
    m = np.asarray(m, dtype=np.int64)
    if shift <= 0:
        return m << (-shift)
    q = m >> shift  # floor
    if rounding == "trn":
        return q
    rem = m - (q << shift)
    half = np.int64(1) << (shift - 1)
    if rounding == "rnd":
        return q + (rem >= half)
    # conv: round half to even
    return q + ((rem > half) | ((rem == half) & ((q & 1) == 1)))


def apply_overflow(m: np.ndarray, t: FixedType) -> np.ndarray:
    m = np.asarray(m, dtype=np.int64)
    if t.overflow == "sat":
        return np.clip(m, t.min_int, t.max_int)
    span = np.int64(1) << t.width
    return ((m - t.min_int) % span) + t.min_int


def requantize(m: np.ndarray, frac_in: int, t: FixedType) -> np.ndarray:
    """Integer mantissas with ``frac_in`` fractional bits -> mantissas of type ``t``."""
    return apply_overflow(round_shift(m, frac_in - t.frac, t.rounding), t)


def quantize(x: np.ndarray, t: FixedType) -> np.ndarray:
    """Real values -> mantissas of type ``t``; exact for float64 inputs (scaling by 2**f is exact)."""
    scaled = np.asarray(x, dtype=np.float64) * (2.0 ** t.frac)
    if t.rounding == "conv":
        r = np.round(scaled)  # numpy rounds half to even
    elif t.rounding == "rnd":
        r = np.floor(scaled + 0.5)
    else:
        r = np.floor(scaled)
    big = float(1 << 62)
    r = np.clip(r, -big, big)
    return apply_overflow(r.astype(np.int64), t)


def quantization_mse(x: np.ndarray, t: FixedType) -> float:
    """Mean squared error of representing ``x`` in ``t``: ``mean((quantize(x, t) * t.lsb - x) ** 2)``, bit for
    bit. ``integer: auto`` computes it for every candidate binary point of every tensor over every training
    value, so for finite inputs it rounds, clips or wraps in place in float64, where every integer below 2**52,
    every mantissa of a type up to 52 bits and every scaling by a power of two is exact: the same numbers, 3.7 times
    faster with saturation and 2.4 times with wrap-around on 4M values (measured on a loaded 2-core machine)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    if t.width > 52 or not np.isfinite(x).all():
        return _quantization_mse_integer(x, t)
    s = x * (2.0 ** t.frac)
    if t.rounding == "conv":
        np.round(s, out=s)  # half to even, as quantize
    else:
        if t.rounding == "rnd":
            s += 0.5
        np.floor(s, out=s)
    if t.overflow == "sat":
        np.clip(s, float(t.min_int), float(t.max_int), out=s)
    else:  # wrap: (m - min) mod 2**width + min, as apply_overflow, exact while every m is below 2**52
        if s.size and np.abs(s).max() >= 2.0 ** 52:
            return _quantization_mse_integer(x, t)
        span, low = 2.0 ** t.width, float(t.min_int)
        s -= low
        s -= np.floor(s * (1 / span)) * span
        s += low
    s *= t.lsb
    s -= x
    np.square(s, out=s)
    return float(np.mean(s))


def _quantization_mse_integer(x: np.ndarray, t: FixedType) -> float:
    return float(np.mean((quantize(x, t) * t.lsb - x) ** 2))


def exact_sum_type(lo: int, hi: int, frac: int) -> FixedType:
    """Smallest signed type with at least one integer bit (the sign) holding every mantissa in [lo, hi] at
    ``frac`` fraction bits (never rounds)."""
    lo, hi = int(lo), int(hi)
    bits = max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1
    width = max(bits, frac + 1)
    return FixedType(width, width - frac, True, "trn", "wrap")


def product_accumulator(a: FixedType, b: FixedType, terms: int) -> FixedType:
    """Accumulator for a sum of ``terms`` products a*b over the full ranges of both types."""
    prods = [p * q for p in (a.min_int, a.max_int) for q in (b.min_int, b.max_int)]
    return exact_sum_type(terms * min(0, *prods), terms * max(0, *prods), a.frac + b.frac)


def union_type(a: FixedType, b: FixedType) -> FixedType:
    """Smallest type holding every value of ``a`` and of ``b`` exactly (a concatenation of both)."""
    signed = a.signed or b.signed
    integer = max(t.integer + (1 if signed and not t.signed else 0) for t in (a, b))
    frac = max(a.frac, b.frac)
    return FixedType(integer + frac, integer, signed, "trn", "wrap")
