"""Each quantized layer on a small example worked out by hand (ties and saturation included)."""
import numpy as np
import pytest
import tensorflow as tf

from flow.fixedpoint import FixedType
from keras_models.builder import set_float_precision
from keras_models.layers import QAvgPool, SeqDense, QNorm

W = FixedType(8, 1)     # weights, lsb 1/128
B = FixedType(16, 3)    # bias, lsb 1/8192


@pytest.fixture(autouse=True)
def float64():
    set_float_precision(True)


def built(layer, shape):
    """Build by calling (Keras re-initialises a layer built by hand on its first call)."""
    layer(tf.zeros(shape, tf.float64))
    return layer


@pytest.mark.parametrize("rounding, expected", [("conv", 0.0), ("rnd", 0.25), ("trn", 0.0)])
def test_dense_rounds_the_exact_sum_once(rounding, expected):
    # 0.5*0.5 + (-0.25)*0.75 + 0.0625 = 0.125: exactly half an lsb of the 4-bit output (lsb 0.25)
    layer = SeqDense(1, {"weight": W, "bias": B, "output": FixedType(4, 2, rounding=rounding)})
    built(layer, (1, 2))
    layer.set_weights([np.array([[0.5], [0.75]]), np.array([0.0625])])
    assert layer(tf.constant([[0.5, -0.25]], tf.float64)).numpy()[0, 0] == expected


def test_dense_quantizes_weights_in_the_forward_pass():
    # 0.3 is not on the 1/128 grid: the layer must use round(0.3*128)/128 = 38/128
    layer = SeqDense(1, {"weight": W, "bias": B, "output": FixedType(16, 4)})
    built(layer, (1, 1))
    layer.set_weights([np.array([[0.3]]), np.array([0.0])])
    assert layer(tf.constant([[1.0]], tf.float64)).numpy()[0, 0] == 38 / 128


def test_relu_dense_output_clips_at_zero_and_saturates():
    layer = SeqDense(2, {"weight": W, "bias": B, "output": FixedType(4, 1, signed=False)}, relu=True)
    built(layer, (1, 1))
    layer.set_weights([np.array([[-0.5, 0.75]]), np.array([0.0, 0.0])])
    # -1.5 -> 0; 2.25 -> saturates at the top of u4.1: 15/8
    assert layer(tf.constant([[3.0]], tf.float64)).numpy()[0].tolist() == [0.0, 15 / 8]


def test_norm_is_the_quantized_affine():
    types = {"scale": FixedType(8, 3), "shift": FixedType(16, 3), "output": FixedType(4, 2)}
    layer = QNorm(types, epsilon=1e-3)
    built(layer, (1, 3, 2))
    # var + eps = 4 -> scale = gamma / 2; shift = beta - mean * scale
    layer.set_weights([np.array([1.0, 4.0]), np.array([0.0, 0.0]), np.array([0.5, 0.0]), np.array([3.999, 3.999])])
    x = tf.constant([[[1.0, 0.25], [0.0, 3.0], [-3.0, -0.5]]], tf.float64)
    y = layer(x).numpy()[0]
    # channel 0: x*0.5 - 0.25 -> 0.25, -0.25, -1.75; channel 1: x*2 -> 0.5, 6 (saturates to 1.75), -1
    assert y[:, 0].tolist() == [0.25, -0.25, -1.75]
    assert y[:, 1].tolist() == [0.5, 1.75, -1.0]


def test_average_pool_uses_the_reciprocal_constant():
    # sum 2.5 times round(2^16/3) = 21845 / 2^16 = 0.833328..., on a 1/32 grid: 26.67 -> 27/32
    layer = QAvgPool(FixedType(8, 3))
    x = tf.constant([[[1.0], [1.0], [0.5]]], tf.float64)
    assert layer(x).numpy()[0, 0] == 27 / 32


def test_norm_constants_same_in_graph_and_eager():
    """predict() runs graphs, export runs eagerly: both must give the same scale and shift."""
    types = {"scale": FixedType(8, 2), "shift": FixedType(16, 3), "output": FixedType(8, 3)}
    layer = built(QNorm(types), (1, 1, 4096))
    rng = np.random.default_rng(0)
    layer.set_weights([rng.uniform(0.2, 3, 4096), rng.normal(0, 1, 4096), rng.normal(0, 1, 4096),
                       rng.uniform(0.01, 4, 4096)])
    eager = [v.numpy() for v in layer.affine()]
    graph = [v.numpy() for v in tf.function(layer.affine)()]
    assert all(np.array_equal(a, b) for a, b in zip(eager, graph))


def test_relu_holds_under_wrap_overflow():
    layer = built(SeqDense(1, {"weight": W, "bias": B, "output": FixedType(4, 2, signed=False, overflow="wrap")},
                         relu=True), (1, 1))
    layer.set_weights([np.array([[-0.25]]), np.array([0.0])])
    assert layer(tf.constant([[1.0]], tf.float64)).numpy()[0, 0] == 0.0
