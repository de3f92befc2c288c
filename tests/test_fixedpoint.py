"""The rounding contract on hand-worked examples, in numpy, TensorFlow, QKeras and real ap_fixed."""
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from flow.fixedpoint import FixedType, quantization_mse, quantize, requantize

T83 = dict(width=8, integer=3)  # lsb 1/32, range [-4, 4)


@pytest.mark.parametrize("value, conv, rnd, trn", [
    (1 / 64, 0, 1, 0),      # +half lsb: tie
    (3 / 64, 2, 2, 1),      # +1.5 lsb: tie, even is 2
    (5 / 64, 2, 3, 2),      # +2.5 lsb: tie, even is 2
    (-1 / 64, 0, 0, -1),    # -half lsb
    (-3 / 64, -2, -1, -2),  # -1.5 lsb
    (0.04, 1, 1, 1),        # 1.28 lsb: no tie
])
def test_rounding_modes_on_ties(value, conv, rnd, trn):
    for mode, expected in (("conv", conv), ("rnd", rnd), ("trn", trn)):
        assert quantize(np.array([value]), FixedType(**T83, rounding=mode))[0] == expected


def test_saturation_and_wrap():
    sat = FixedType(**T83, overflow="sat")
    wrap = FixedType(**T83, overflow="wrap")
    assert quantize(np.array([5.0, -5.0, 3.96875]), sat).tolist() == [127, -128, 127]
    # 4.0 is mantissa 128: one past the top wraps to the bottom, -4.0 - lsb wraps to the top
    assert quantize(np.array([4.0, -4.03125]), wrap).tolist() == [-128, 127]
    unsigned = FixedType(8, 0, signed=False)  # [0, 255/256]
    assert quantize(np.array([-0.3, 1.0]), unsigned).tolist() == [0, 255]


def test_requantize_integer_mantissas():
    # 1.5, 2.5, -1.5 with one fraction bit -> integers
    m = np.array([3, 5, -3])
    t = dict(width=8, integer=8)
    assert requantize(m, 1, FixedType(**t, rounding="conv")).tolist() == [2, 2, -2]
    assert requantize(m, 1, FixedType(**t, rounding="rnd")).tolist() == [2, 3, -1]
    assert requantize(m, 1, FixedType(**t, rounding="trn")).tolist() == [1, 2, -2]
    # widening is exact
    assert requantize(np.array([3]), 1, FixedType(8, 4)).tolist() == [3 << 3]


def test_cpp_spelling():
    assert FixedType(8, 3).cpp() == "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"
    assert FixedType(6, 0, signed=False, rounding="trn", overflow="wrap").cpp() == "ap_ufixed<6,0,AP_TRN,AP_WRAP>"


@pytest.mark.parametrize("rounding", ["conv", "rnd", "trn"])
@pytest.mark.parametrize("overflow", ["sat", "wrap"])
def test_tensorflow_quantizer_equals_numpy(rounding, overflow):
    import tensorflow as tf

    from keras_models.quantizers import fixed_quantize

    t = FixedType(6, 2, rounding=rounding, overflow=overflow)
    x = np.concatenate([np.arange(-200, 200) / 64.0, np.random.default_rng(0).normal(0, 3, 5000)])
    got = fixed_quantize(tf.constant(x, tf.float64), t).numpy()
    assert np.array_equal(got * 2 ** t.frac, quantize(x, t))


def test_qkeras_quantized_bits_is_the_same_conv_sat_quantizer():
    """A QKeras user's quantized_bits(W, I-1, alpha=1) is our ap_fixed<W,I,AP_RND_CONV,AP_SAT>."""
    from qkeras.quantizers import quantized_bits

    x = np.concatenate([np.arange(-300, 300) / 64.0, np.random.default_rng(1).normal(0, 2, 5000)]).astype(np.float32)
    for width, integer in ((8, 3), (6, 1), (4, 2)):
        q = quantized_bits(width, integer - 1, keep_negative=True, alpha=1)
        got = np.asarray(q(x), dtype=np.float64)
        assert np.array_equal(got * 2 ** (width - integer), quantize(x, FixedType(width, integer)))


def test_real_ap_fixed_casts_match(tmp_path):
    """Compile a cast loop against hls4ml's bundled ap_types and compare every mode with numpy."""
    import hls4ml

    ap_types = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    src = tmp_path / "cast.cpp"
    modes = [(r, o) for r in ("conv", "rnd", "trn") for o in ("sat", "wrap")]
    types = {m: FixedType(6, 2, rounding=m[0], overflow=m[1]) for m in modes}
    lines = ["#include <cstdio>", '#include "ap_fixed.h"', "int main(){",
             "  for (int i = -4000; i <= 4000; ++i) { ap_fixed<24,12> x; x.range() = i; /* i / 2^12 */"]
    for m, t in types.items():
        lines.append(f"    {{ {t.cpp()} y = x; std::printf(\"%d \", (int)y.range().to_int() "
                     f"- ((int)y.range().to_int() >= {1 << (t.width - 1)} ? {1 << t.width} : 0)); }}")
    lines += ['    std::printf("\\n"); }', "}"]
    src.write_text("\n".join(lines))
    exe = tmp_path / "cast"
    subprocess.run(["g++", "-O1", f"-I{ap_types}", str(src), "-o", str(exe)], check=True)
    out = np.array([list(map(int, ln.split())) for ln in subprocess.run(
        [str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()])
    x = np.arange(-4000, 4001) / 4096.0
    for col, (m, t) in enumerate(types.items()):
        assert np.array_equal(out[:, col], quantize(x, t)), f"ap_fixed and numpy differ for {m}"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.integers(-4096, 4096).map(lambda k: k / 64)), min_size=1,
                max_size=50),
       st.integers(1, 32), st.integers(-8, 16), st.booleans(), st.sampled_from(["conv", "rnd", "trn"]),
       st.sampled_from(["sat", "wrap"]))
def test_the_quantization_error_integer_auto_minimises_is_the_one_quantize_gives(values, width, integer, signed,
                                                                                  rounding, overflow):
    """integer: auto picks binary points by this error; its fast path must give the same numbers bit for bit
    (ties between candidate points are decided on them), half-lsb ties and values past the range included."""
    t = FixedType(width, integer, signed and width > 1, rounding, overflow)
    x = np.array(values)
    assert quantization_mse(x, t) == float(np.mean((quantize(x, t) * t.lsb - x) ** 2))
