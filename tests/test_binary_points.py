"""``integer: auto`` (flow/training/binary_points.py, flow/precision.py): the rule on hand-made tensors, which
tensors are auto, and that a trained run keeps the points it chose and gives them back."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from flow.training.binary_points import best_integer, points_yaml, with_points
from flow.config import parse_config
from flow.fixedpoint import FixedType, quantization_mse
from flow.precision import resolve_precisions

from .conftest import small_raw


def test_the_rule_picks_the_point_of_least_squared_error_checked_by_hand():
    # values 0.3, -0.7, 2.9 in 4 signed bits, convergent rounding, saturation:
    #   I=4 (lsb 1, [-8, 7]):     0, -1, 3        errors .3 .3 .1  -> (.09 + .09 + .01) / 3 = .0633
    #   I=3 (lsb .5, [-4, 3.5]):  .5, -.5, 3      errors .2 .2 .1  -> (.04 + .04 + .01) / 3 = .03
    #   I=2 (lsb .25, [-2, 1.75]): .25, -.75, 1.75 errors .05 .05 1.15 -> (.0025 + .0025 + 1.3225) / 3 = .4425
    #   fewer integer bits clip 2.9 harder still
    values = np.array([0.3, -0.7, 2.9])
    t = FixedType(4, 0, True, "conv", "sat")
    assert quantization_mse(values, FixedType(4, 4, True, "conv", "sat")) == pytest.approx(0.19 / 3)
    assert quantization_mse(values, FixedType(4, 3, True, "conv", "sat")) == pytest.approx(0.09 / 3)
    assert quantization_mse(values, FixedType(4, 2, True, "conv", "sat")) == pytest.approx(1.3275 / 3)
    assert best_integer(values, t) == 3


def test_a_tie_keeps_more_integer_bits():
    # 0.5 and -0.5 are exact with any frac >= 1: I = 7 .. 1 for 8 bits tie at zero error; the largest wins
    assert best_integer(np.array([0.5, -0.5]), FixedType(8, 0, True, "conv", "sat")) == 7
    # small values want few integer bits: I = -4 (range [-2^-5, 2^-5), lsb 2^-12) holds 0.01, -0.02, 0.015
    # within half an lsb; I = -5 (range [-2^-6, 2^-6)) clips -0.02 and 0.015; every I above rounds coarser
    small = np.array([0.01, -0.02, 0.015])
    assert best_integer(small, FixedType(8, 0, True, "conv", "sat")) == -4


def test_wrap_around_counts_as_error_too():
    # 3.0 in 4 signed bits with I = 2 wraps to -1.0 (error 4) rather than clipping to 1.75 (error 1.25);
    # I = 4 rounds 0.5 to 0 (half to even: error .5); I = 3 holds both exactly
    values = np.array([3.0, 0.5])
    assert quantization_mse(values, FixedType(4, 2, True, "conv", "wrap")) == pytest.approx(16 / 2)
    assert quantization_mse(values, FixedType(4, 4, True, "conv", "wrap")) == pytest.approx(0.25 / 2)
    assert best_integer(values, FixedType(4, 0, True, "conv", "wrap")) == 3


@pytest.mark.parametrize("bits", [2, 3])
def test_a_narrow_bits_only_configuration_resolves_before_its_points_are_chosen(bits):
    # the priors (activations 3 integer bits, scores 4) are wider than a 2- or 3-bit type: until training
    # chooses the points those types hold whole numbers, instead of the config being refused
    raw = small_raw()
    raw["quantization"]["bits"] = bits
    prec = resolve_precisions(parse_config(raw))
    for layer, role in prec.auto:
        t = prec.types[layer][role]
        assert 0 <= t.frac and t.integer <= t.width, (layer, role, t)
    assert prec.types["enc0.scores"]["output"].integer == bits  # prior 4 > width: whole numbers


# The tensors of a one-layer model (small_raw()) whose integer bits are ``auto`` by default, written out by hand
# from docs/numerics.md ("Binary points"): every weight, bias, activation, attention score, norm scale and shift,
# the window and the forecast; not the positional table, the exp table or the probabilities (enc0.softmax has
# neither role here). In forward order: the window, the embedding, the positional add, the attention (q, k, v,
# the scores, the context, the o projection), add1, norm1, the FFN, add2, norm2, the pooling, the head.
AUTO_ONE_LAYER = [
    ("input", "output"),
    ("embed", "weight"), ("embed", "bias"), ("embed", "output"),
    ("pos", "output"),
    ("enc0.q", "weight"), ("enc0.q", "bias"), ("enc0.q", "output"),
    ("enc0.k", "weight"), ("enc0.k", "bias"), ("enc0.k", "output"),
    ("enc0.v", "weight"), ("enc0.v", "bias"), ("enc0.v", "output"),
    ("enc0.scores", "output"),
    ("enc0.context", "output"),
    ("enc0.o", "weight"), ("enc0.o", "bias"), ("enc0.o", "output"),
    ("enc0.add1", "output"),
    ("enc0.norm1", "scale"), ("enc0.norm1", "shift"), ("enc0.norm1", "output"),
    ("enc0.ffn1", "weight"), ("enc0.ffn1", "bias"), ("enc0.ffn1", "output"),
    ("enc0.ffn2", "weight"), ("enc0.ffn2", "bias"), ("enc0.ffn2", "output"),
    ("enc0.add2", "output"),
    ("enc0.norm2", "scale"), ("enc0.norm2", "shift"), ("enc0.norm2", "output"),
    ("pool", "output"),
    ("head", "weight"), ("head", "bias"), ("head", "output"),
]
assert len(set(AUTO_ONE_LAYER)) == 37


def test_integer_auto_is_the_default_and_an_integer_set_by_hand_is_not_auto():
    assert resolve_precisions(parse_config(small_raw())).auto == set(AUTO_ONE_LAYER)
    raw = small_raw()
    raw["quantization"].update(weight_integer=1, layers={"pos": {"table": {"integer": "auto"}},
                                                         "embed": {"output": {"integer": 2}}})
    prec = resolve_precisions(parse_config(raw))
    # weight_integer: 1 fixes the weights and the norm scales (a scale's integer bits follow weight_integer);
    # the embedding's output set by hand is fixed; the positional table asked for is auto
    fixed = {pair for pair in AUTO_ONE_LAYER if pair[1] in ("weight", "scale")} | {("embed", "output")}
    assert len(fixed) == 8 + 2 + 1  # embed, q, k, v, o, ffn1, ffn2, head; norm1, norm2; embed's output
    assert prec.auto == (set(AUTO_ONE_LAYER) - fixed) | {("pos", "table")}
    assert prec.types["embed"]["output"].integer == 2


def test_the_chosen_points_pasted_into_a_yaml_give_the_same_types_and_nothing_auto():
    cfg = parse_config(small_raw())
    prec = resolve_precisions(cfg)
    points = {key: (i % 5) - 1 for i, key in enumerate(sorted(prec.auto))}
    resolved = resolve_precisions(with_points(cfg, points))
    raw = small_raw()
    raw["quantization"].update(yaml.safe_load(points_yaml(points)))
    pasted = resolve_precisions(parse_config(raw))
    assert pasted.types == resolved.types and not pasted.auto and not resolved.auto
    assert all(resolved.types[layer][role].integer == i for (layer, role), i in points.items())


def test_a_trained_run_keeps_its_points_and_loading_it_gives_the_same_model(small_trained):
    from flow.training.checkpoint import POINTS, load_trained, read_points
    from flow.training.fit import predict

    cfg, ds, result, folder = small_trained
    # small_trained: one layer, two heads, mean_last, predict_delta: the one-layer tensors and the delta add's
    # output (the forecast), by hand (AUTO_ONE_LAYER)
    assert (cfg.model.layers, cfg.model.predict_delta) == (1, True)
    expected = AUTO_ONE_LAYER + [("delta", "output")]
    assert set(result.points) == set(expected)
    assert not resolve_precisions(result.config).auto
    assert read_points(folder / POINTS, "") == result.points
    # listed as the data flows (the window first, the forecast last), not alphabetically
    listed = list(dict.fromkeys(layer for layer, _ in read_points(folder / POINTS, "")))
    assert listed == list(dict.fromkeys(layer for layer, _ in expected))
    loaded = load_trained(folder)
    assert loaded.cfg == cfg and loaded.resolved == result.config
    np.testing.assert_array_equal(predict(loaded.model, ds.test.x[:64]), predict(result.model, ds.test.x[:64]))
