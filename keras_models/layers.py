"""Custom quantized Keras layers of the Transformer forecaster.

Each layer runs in one of two modes: ``quantized=False`` (float training, plain softmax,
BatchNorm with batch statistics) and ``quantized=True`` (QAT and inference: every output,
weight, bias, table and norm constant rounded as in ``flow.fixedpoint``; BatchNorm frozen into a
quantized per-channel affine).  In float64 the quantized mode computes exactly what the integer
reference (``flow.reference``) and the generated C++ compute.
"""
from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from flow.fixedpoint import FixedType
from flow.tables import POOL_RECIPROCAL_FRAC, SoftmaxSpec, positional_encoding, reciprocal_constant, score_shift

from .quantizers import fixed_quantize, to_mantissa


def _ft(d) -> FixedType:
    return d if isinstance(d, FixedType) else FixedType(**d)


def _types_config(types: dict) -> dict:
    return {k: v.to_dict() for k, v in types.items()}


class FixedQuant(keras.layers.Layer):
    """An explicit fixed-point boundary (used for the model input)."""

    def __init__(self, out_type, quantized=True, **kw):
        super().__init__(**kw)
        self.out_type = _ft(out_type)
        self.quantized = quantized

    def call(self, x):
        return fixed_quantize(x, self.out_type) if self.quantized else x

    def get_config(self):
        return {**super().get_config(), "out_type": self.out_type.to_dict(), "quantized": self.quantized}


class SeqDense(keras.layers.Layer):
    """Dense over the last axis with quantized kernel, bias and output; optional ReLU.

    Weights are quantized in the forward pass; the product sum is exact in float64; the only
    rounding is the output quantizer (for ReLU layers the unsigned output type clips at zero).
    With ``flatten`` the input (batch, tokens, d) is one row of tokens x d values (the flatten head).
    With ``patch`` = (length, stride) the input (batch, steps, channels) is read as patches: token n is
    steps n*stride .. n*stride+length-1, all channels, step by step (a wire in hardware: the words of a
    patch are consecutive in the window).
    """

    def __init__(self, units, types, relu=False, quantized=True, kernel_initializer="glorot_uniform", patch=None,
                 flatten=False, **kw):
        super().__init__(**kw)
        self.units = units
        self.patch = tuple(patch) if patch else None
        self.flatten = flatten  # (batch, tokens, d) read as one row of tokens x d values, token after token
        self.kernel_initializer = kernel_initializer
        self.types = {k: _ft(v) for k, v in types.items()}
        self.relu = relu
        self.quantized = quantized

    def build(self, input_shape):
        fan_in = int(input_shape[-1]) * (self.patch[0] if self.patch else int(input_shape[1]) if self.flatten else 1)
        self.kernel = self.add_weight("kernel", (fan_in, self.units), initializer=self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.units,), initializer="zeros")

    def quantized_kernel(self):
        return fixed_quantize(self.kernel, self.types["weight"]) if self.quantized else self.kernel

    def quantized_bias(self):
        return fixed_quantize(self.bias, self.types["bias"]) if self.quantized else self.bias

    def patches(self, x):
        """(batch, tokens, length * channels): each token's steps side by side, as the window stores them."""
        length, stride = self.patch
        framed = tf.signal.frame(x, length, stride, axis=1)  # (batch, tokens, length, channels)
        return tf.reshape(framed, (-1, framed.shape[1], length * int(x.shape[-1])))

    def call(self, x):
        if self.patch:
            x = self.patches(x)
        if self.flatten:
            x = tf.reshape(x, (-1, int(x.shape[1]) * int(x.shape[2])))
        y = tf.tensordot(x, self.quantized_kernel(), axes=[[x.shape.rank - 1], [0]]) + self.quantized_bias()
        if self.relu:
            y = tf.nn.relu(y)  # before the output quantizer, so it holds under wrap-around overflow too
        return fixed_quantize(y, self.types["output"]) if self.quantized else y

    def get_config(self):
        return {**super().get_config(), "units": self.units, "types": _types_config(self.types),
                "relu": self.relu, "quantized": self.quantized, "patch": self.patch,
                "flatten": self.flatten}


class PositionalAdd(keras.layers.Layer):
    """x + sinusoidal table (quantized ROM), requantized to the output type."""

    def __init__(self, types, quantized=True, **kw):
        super().__init__(**kw)
        self.types = {k: _ft(v) for k, v in types.items()}
        self.quantized = quantized

    def build(self, input_shape):
        pe = positional_encoding(int(input_shape[1]), int(input_shape[2]))
        self.table = tf.constant(pe, dtype=self.dtype)

    def call(self, x):
        if not self.quantized:
            return x + self.table
        return fixed_quantize(x + fixed_quantize(self.table, self.types["table"]), self.types["output"])

    def get_config(self):
        return {**super().get_config(), "types": _types_config(self.types), "quantized": self.quantized}


class QAdd(keras.layers.Layer):
    """Residual add with one requantization."""

    def __init__(self, out_type, quantized=True, **kw):
        super().__init__(**kw)
        self.out_type = _ft(out_type)
        self.quantized = quantized

    def call(self, inputs):
        a, b = inputs
        return fixed_quantize(a + b, self.out_type) if self.quantized else a + b

    def get_config(self):
        return {**super().get_config(), "out_type": self.out_type.to_dict(), "quantized": self.quantized}


def table_softmax(scores: tf.Tensor, spec: SoftmaxSpec) -> tf.Tensor:
    """The integer softmax of ``flow.tables.softmax_int`` in TensorFlow; gradient of the float softmax."""
    table = tf.constant(spec.exp_table(), dtype=tf.int64)

    @tf.custom_gradient
    def _sm(s):
        m = to_mantissa(s, spec.score)
        diff = tf.reduce_max(m, axis=-1, keepdims=True) - m
        sh = spec.index_shift  # flow.tables.table_index: the nearest index step
        idx = tf.bitwise.right_shift(diff + (1 << (sh - 1)), sh) if sh > 0 else tf.bitwise.left_shift(diff, -sh)
        e = tf.where(idx < spec.table_size, tf.gather(table, tf.minimum(idx, spec.table_size - 1)), 0)
        total = tf.reduce_sum(e, axis=-1, keepdims=True)
        p = tf.math.floordiv(tf.bitwise.left_shift(e, spec.prob.frac) + tf.bitwise.right_shift(total, 1), total)
        p = tf.minimum(p, spec.prob.max_int)
        y = tf.cast(p, s.dtype) * (2.0 ** -spec.prob.frac)

        def grad(dy):
            pf = tf.nn.softmax(s, axis=-1)
            return pf * (dy - tf.reduce_sum(dy * pf, axis=-1, keepdims=True))

        return y, grad

    return _sm(scores)


class QAttention(keras.layers.Layer):
    """Multi-head scaled dot-product self-attention with a table softmax.

    Q, K, V, O projections are SeqDense; scores = Q.K^T * 2**-shift requantized; probabilities from
    ``table_softmax``; context = P.V requantized; heads concatenated and projected by O.
    """

    def __init__(self, d_model, heads, types, softmax_spec, quantized=True, prefix="", **kw):
        super().__init__(**kw)
        if isinstance(softmax_spec, dict):
            softmax_spec = SoftmaxSpec(**{k: _ft(v) if k in ("score", "prob") else v for k, v in softmax_spec.items()})
        self.prefix = prefix
        self.d_model, self.heads = d_model, heads
        self.head_dim = d_model // heads
        self.shift = score_shift(self.head_dim)
        self.types = {k: {r: _ft(t) for r, t in v.items()} for k, v in types.items()}
        self.softmax_spec = softmax_spec
        self.quantized = quantized
        self.proj = {k: SeqDense(d_model, self.types[k], quantized=quantized, name=prefix + k)
                     for k in ("q", "k", "v", "o")}

    def _split(self, x):
        b, L = tf.shape(x)[0], tf.shape(x)[1]
        return tf.transpose(tf.reshape(x, (b, L, self.heads, self.head_dim)), (0, 2, 1, 3))

    def internals(self, x) -> dict:
        """Every tensor the hardware buffers, named as the reference trace names them (q, k, v and o as
        [batch, step, d]; scores, softmax and context per head)."""
        out = {n: self.proj[n](x) for n in ("q", "k", "v")}
        q, k, v = (self._split(out[n]) for n in ("q", "k", "v"))
        scores = tf.matmul(q, k, transpose_b=True) * (2.0 ** -self.shift)
        if self.quantized:
            scores = fixed_quantize(scores, self.types["scores"]["output"])
            probs = table_softmax(scores, self.softmax_spec)
        else:
            probs = tf.nn.softmax(scores, axis=-1)
        ctx = tf.matmul(probs, v)
        if self.quantized:
            ctx = fixed_quantize(ctx, self.types["context"]["output"])
        out.update(scores=scores, softmax=probs, context=ctx)
        ctx = tf.transpose(ctx, (0, 2, 1, 3))
        ctx = tf.reshape(ctx, (tf.shape(x)[0], tf.shape(x)[1], self.d_model))
        out["o"] = self.proj["o"](ctx)
        return out

    def call(self, x):
        return self.internals(x)["o"]

    def get_config(self):
        spec = self.softmax_spec
        return {**super().get_config(), "d_model": self.d_model, "heads": self.heads,
                "types": {k: _types_config(v) for k, v in self.types.items()},
                "softmax_spec": {"score": spec.score.to_dict(), "prob": spec.prob.to_dict(), "exp_frac": spec.exp_frac,
                                 "index_frac": spec.index_frac, "table_size": spec.table_size},
                "quantized": self.quantized, "prefix": self.prefix}


class QNorm(keras.layers.Layer):
    """BatchNorm for training, deployed as a quantized per-channel affine.

    Float mode: BatchNorm over (batch, time) with moving statistics.  Quantized mode: statistics
    frozen; scale = gamma / sqrt(var + eps) and shift = beta - mean * scale are quantized, and
    y = x * scale_q + shift_q is requantized: exactly the affine the hardware applies.
    """

    def __init__(self, types, quantized=True, momentum=0.99, epsilon=1e-3, **kw):
        super().__init__(**kw)
        self.types = {k: _ft(v) for k, v in types.items()}
        self.quantized = quantized
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.gamma = self.add_weight("gamma", (d,), initializer="ones")
        self.beta = self.add_weight("beta", (d,), initializer="zeros")
        self.moving_mean = self.add_weight("moving_mean", (d,), initializer="zeros", trainable=False)
        self.moving_var = self.add_weight("moving_var", (d,), initializer="ones", trainable=False)

    def affine(self):
        """(scale, shift) the deployed layer multiplies and adds, quantized.

        Written with an explicit rsqrt: TensorFlow's graph optimiser rewrites x / sqrt(y) into
        x * rsqrt(y) in graphs but not eagerly, which rounds differently; one kernel in both modes
        keeps the exported constants equal to the ones the forward pass used.
        """
        scale = self.gamma * tf.math.rsqrt(self.moving_var + self.epsilon)
        shift = self.beta - self.moving_mean * scale
        return fixed_quantize(scale, self.types["scale"]), fixed_quantize(shift, self.types["shift"])

    def call(self, x, training=None):
        if self.quantized:
            scale, shift = self.affine()
            return fixed_quantize(x * scale + shift, self.types["output"])
        if training:
            mean, var = tf.nn.moments(x, axes=[0, 1])
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
            self.moving_var.assign(self.momentum * self.moving_var + (1 - self.momentum) * var)
        else:
            mean, var = self.moving_mean, self.moving_var
        return self.gamma * (x - mean) / tf.sqrt(var + self.epsilon) + self.beta

    def get_config(self):
        return {**super().get_config(), "types": _types_config(self.types), "quantized": self.quantized}


class QAvgPool(keras.layers.Layer):
    """Mean over time as an exact sum times the quantized constant round(2**16 / window)."""

    def __init__(self, out_type, quantized=True, **kw):
        super().__init__(**kw)
        self.out_type = _ft(out_type)
        self.quantized = quantized

    def call(self, x):
        if not self.quantized:
            return tf.reduce_mean(x, axis=1)
        window = int(x.shape[1])
        c = reciprocal_constant(window, POOL_RECIPROCAL_FRAC) * 2.0 ** -POOL_RECIPROCAL_FRAC
        return fixed_quantize(tf.reduce_sum(x, axis=1) * c, self.out_type)

    def get_config(self):
        return {**super().get_config(), "out_type": self.out_type.to_dict(), "quantized": self.quantized}


class HeadInput(keras.layers.Concatenate):
    """[pooled summary, last time step] side by side for the ``mean_last`` head. Exact: ``out_type``
    holds both input types (``union_type``), so the head's accumulator sees the values unrounded."""

    def __init__(self, out_type=None, **kw):
        super().__init__(**kw)
        self.out_type = out_type


class LastStep(keras.layers.Layer):
    """x[:, -1, :] (or one channel of it): a wire in hardware, no rounding."""

    def __init__(self, channel=None, **kw):
        super().__init__(**kw)
        self.channel = channel

    def call(self, x):
        last = x[:, -1, :]
        return last if self.channel is None else last[:, self.channel:self.channel + 1]

    def get_config(self):
        return {**super().get_config(), "channel": self.channel}
