"""Builds the reference time-series Transformer from a flow config.

input quantizer -> embed (Dense F->d over each step, or over each patch of steps) -> + positional table -> N x [attention -> add -> norm ->
FFN (ReLU) -> add -> norm] -> mean over the tokens (and the last token), or every token (flatten) -> head
(Dense -> data.steps) [-> + last observed target,
added to every step].
Layer names are the names used by ``flow.precision`` and the HLS writer.
"""
from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from flow.fixedpoint import union_type
from flow.precision import Precisions

from .layers import FixedQuant, HeadInput, LastStep, PositionalAdd, QAdd, QAttention, QAvgPool, SeqDense, QNorm


def set_float_precision(quantized: bool) -> None:
    """Quantized models run in float64, where every fixed-point step is exact; float ones in float32."""
    keras.backend.set_floatx("float64" if quantized else "float32")


def build_model(cfg, prec: Precisions, quantized: bool, n_features: int, target_index: int) -> keras.Model:
    set_float_precision(quantized)
    m, d = cfg.model, cfg.model.d_model
    t = prec.types
    inp = keras.Input((cfg.data.window, n_features), name="window")
    x_in = FixedQuant(t["input"]["output"], quantized, name="input_quant")(inp)  # "input" is reserved in hls4ml
    patch = (m.patch.length, m.patch.stride) if m.patch else None
    h = SeqDense(d, t["embed"], quantized=quantized, patch=patch, name="embed")(x_in)
    h = PositionalAdd(t["pos"], quantized, name="pos")(h)
    for i in range(m.layers):
        p = f"enc{i}."
        attn_types = {k: t[p + k] for k in ("q", "k", "v", "o", "scores", "context")}
        a = QAttention(d, m.heads, attn_types, prec.softmax[i], quantized, prefix=p, name=p + "attn")(h)
        h = QAdd(t[p + "add1"]["output"], quantized, name=p + "add1")([h, a])
        h = QNorm(t[p + "norm1"], quantized, name=p + "norm1")(h)
        f = SeqDense(m.ffn_width, t[p + "ffn1"], relu=True, quantized=quantized, name=p + "ffn1")(h)
        f = SeqDense(d, t[p + "ffn2"], quantized=quantized, name=p + "ffn2")(f)
        h = QAdd(t[p + "add2"]["output"], quantized, name=p + "add2")([h, f])
        h = QNorm(t[p + "norm2"], quantized, name=p + "norm2")(h)
    if m.head == "flatten":
        head_in = h
    else:
        head_in = QAvgPool(t["pool"]["output"], quantized, name="pool")(h)
    if m.head == "mean_last":
        both = union_type(t["pool"]["output"], t[f"enc{m.layers - 1}.norm2"]["output"])
        head_in = HeadInput(both, name="head_in")([head_in, LastStep(name="last")(h)])
    # with predict_delta the head starts at zero, so an untrained model is exactly persistence
    init = "zeros" if m.predict_delta else "glorot_uniform"
    y = SeqDense(cfg.data.steps, t["head"], quantized=quantized, kernel_initializer=init, flatten=m.head == "flatten",
                 name="head")(head_in)
    if m.predict_delta:
        last = LastStep(channel=target_index, name="last_target")(x_in)
        y = QAdd(t["delta"]["output"], quantized, name="delta")([y, last])
    model = keras.Model(inp, y, name=cfg.name)
    model.tsflow_config = cfg  # what the hls4ml backends plan the hardware from (flow.hls.settings)
    from flow.hls.backend import ensure_registered

    ensure_registered()  # hls4ml's config_from_keras_model / convert_from_keras_model know these layers
    return model


def copy_weights(src: keras.Model, dst: keras.Model) -> None:
    """Float -> quantized model: same layers, same variables, different forward."""
    dst.set_weights([tf.cast(w, dst.dtype).numpy() for w in src.get_weights()])
