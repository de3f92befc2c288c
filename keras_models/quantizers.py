"""TensorFlow side of the fixed-point contract: quantize exactly, pass gradients straight through.

The forward value is computed with ``tf.custom_gradient`` so it is exactly the quantized value
(no ``x + stop_gradient(q - x)`` round trip).  In float64 every scaling by a power of two and every
rounding here is exact, so this equals ``flow.fixedpoint.quantize`` bit for bit.
"""
from __future__ import annotations

import tensorflow as tf

from flow.fixedpoint import FixedType


def round_mantissa(scaled: tf.Tensor, rounding: str) -> tf.Tensor:
    if rounding == "conv":
        return tf.round(scaled)  # half to even
    if rounding == "rnd":
        return tf.floor(scaled + 0.5)
    return tf.floor(scaled)


def overflow_mantissa(r: tf.Tensor, t: FixedType) -> tf.Tensor:
    lo, hi = float(t.min_int), float(t.max_int)
    if t.overflow == "sat":
        return tf.clip_by_value(r, lo, hi)
    span = float(1 << t.width)
    return tf.math.floormod(r - lo, span) + lo


def fixed_quantize(x: tf.Tensor, t: FixedType) -> tf.Tensor:
    """Quantize to ``t``; gradient passes inside the representable range (clipped STE for SAT)."""
    scale = 2.0 ** t.frac

    @tf.custom_gradient
    def _q(v):
        y = overflow_mantissa(round_mantissa(v * scale, t.rounding), t) / scale

        def grad(dy):
            if t.overflow == "sat":
                inside = tf.logical_and(v >= t.min_value - t.lsb / 2, v <= t.max_value + t.lsb / 2)
                return dy * tf.cast(inside, dy.dtype)
            return dy

        return y, grad

    return _q(x)


def to_mantissa(x: tf.Tensor, t: FixedType) -> tf.Tensor:
    """Values already of type ``t`` -> their integer mantissas as int64 (exact)."""
    return tf.cast(tf.round(x * (2.0 ** t.frac)), tf.int64)
