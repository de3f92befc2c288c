"""Integer parameters of a quantized model: the exact arrays the reference and the C++ use."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from tensorflow import keras

from flow.tables import positional_table

from .layers import PositionalAdd, QAttention, SeqDense, QNorm


def _mantissa(values, t) -> np.ndarray:
    scaled = np.asarray(values, dtype=np.float64) * 2.0 ** t.frac
    m = np.round(scaled).astype(np.int64)
    assert np.array_equal(m, scaled), "value is not on the grid of its type"
    return m


def layer_parameters(layer: keras.layers.Layer) -> dict:
    """name -> {role: int64 mantissas} for one layer (an attention layer gives its four projections)."""
    if isinstance(layer, SeqDense):
        return {layer.name: {"weight": _mantissa(layer.quantized_kernel().numpy(), layer.types["weight"]),
                             "bias": _mantissa(layer.quantized_bias().numpy(), layer.types["bias"])}}
    if isinstance(layer, QAttention):
        return {k: v for sub in layer.proj.values() for k, v in layer_parameters(sub).items()}
    if isinstance(layer, QNorm):
        if not hasattr(layer, "_affine_graph"):  # traced once per layer
            layer._affine_graph = tf.function(layer.affine)
        scale, shift = layer._affine_graph()  # graph mode, as in predict()
        return {layer.name: {"scale": _mantissa(scale.numpy(), layer.types["scale"]),
                             "shift": _mantissa(shift.numpy(), layer.types["shift"])}}
    if isinstance(layer, PositionalAdd):
        length, width = layer.table.shape
        return {layer.name: {"table": positional_table(int(length), int(width), layer.types["table"])}}
    return {}


def integer_parameters(model: keras.Model) -> dict:
    """layer name -> {role: int64 mantissas}, read through the layers' own quantizers."""
    return {k: v for layer in model.layers for k, v in layer_parameters(layer).items()}
