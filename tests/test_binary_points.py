"""``integer: auto`` (flow/training/binary_points.py, flow/precision.py): the rule on hand-made tensors, which
tensors are auto, and that a trained run keeps the points it chose and gives them back."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from flow.training.binary_points import best_integer, points_yaml, quantisation_mse, with_points
from flow.config import parse_config
from flow.fixedpoint import FixedType
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
    assert quantisation_mse(values, FixedType(4, 4, True, "conv", "sat")) == pytest.approx(0.19 / 3)
    assert quantisation_mse(values, FixedType(4, 3, True, "conv", "sat")) == pytest.approx(0.09 / 3)
    assert quantisation_mse(values, FixedType(4, 2, True, "conv", "sat")) == pytest.approx(1.3275 / 3)
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
    assert quantisation_mse(values, FixedType(4, 2, True, "conv", "wrap")) == pytest.approx(16 / 2)
    assert quantisation_mse(values, FixedType(4, 4, True, "conv", "wrap")) == pytest.approx(0.25 / 2)
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


def test_integer_auto_is_the_default_and_an_integer_set_by_hand_is_not_auto():
    prec = resolve_precisions(parse_config(small_raw()))
    auto = prec.auto
    for name in ("embed", "enc0.q", "enc0.ffn1", "head"):
        assert {(name, "weight"), (name, "bias"), (name, "output")} <= auto
    assert {("input", "output"), ("enc0.scores", "output"), ("enc0.norm1", "scale"), ("enc0.norm1", "shift"),
            ("pool", "output")} <= auto
    # fixed by the contract unless asked: the positional table, the exp table, the probabilities
    assert not {("pos", "table"), ("enc0.softmax", "table"), ("enc0.softmax", "output")} & auto
    raw = small_raw()
    raw["quantization"].update(weight_integer=1, layers={"pos": {"table": {"integer": "auto"}},
                                                         "embed": {"output": {"integer": 2}}})
    prec = resolve_precisions(parse_config(raw))
    assert not any(role == "weight" for _, role in prec.auto)
    assert ("pos", "table") in prec.auto and ("embed", "output") not in prec.auto
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
    assert set(result.points) == set(resolve_precisions(cfg).auto)
    assert not resolve_precisions(result.config).auto
    assert read_points(folder / POINTS, "") == result.points
    # listed as the data flows (the window first, the forecast last), not alphabetically
    from flow.precision import layer_kinds

    listed = list(dict.fromkeys(layer for layer, _ in read_points(folder / POINTS, "")))
    assert listed == [layer for layer in layer_kinds(cfg) if layer in listed]
    assert listed[0] == "input" and listed[-1] == ("delta" if cfg.model.predict_delta else "head")
    loaded = load_trained(folder)
    assert loaded.cfg == cfg and loaded.resolved == result.config
    np.testing.assert_array_equal(predict(loaded.model, ds.test.x[:64]), predict(result.model, ds.test.x[:64]))
