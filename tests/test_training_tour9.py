"""Tour 9: what training says about the quantized model on data the training split did not cover (a41 / a79), and
about a softmax table too fine for the scores' binary point (a18)."""
from __future__ import annotations

import json

import numpy as np
from flow.fixedpoint import FixedType
from flow.tables import SoftmaxSpec, default_index_frac, softmax_int, table_coverage
from flow.training.saturation import tell_far_worse

from .conftest import small_raw


def _spec(index_frac, size, score=FixedType(8, 5, True)):
    return SoftmaxSpec(score, FixedType(8, 0, False), 7, index_frac, size)


def test_a_table_index_finer_than_the_scores_is_said_to_make_a_hard_max():
    spec = _spec(16, 4096)
    scores = np.array([[8, 7, 0]])  # mantissas: one step apart, then far
    assert softmax_int(scores, spec).tolist() == [[spec.prob.max_int, 0, 0]]  # what is told: a hard max
    told = table_coverage(spec, "enc0.scores")
    assert told.startswith("quantization.softmax.index_frac = 16 with table_size = 4096: enc0.scores has 3 fraction")
    assert "8,192 table indexes" in told and "hard max" in told and "at most 12" in told


def test_a_table_spanning_less_than_one_score_unit_is_told_and_the_default_never_is():
    told = table_coverage(_spec(13, 4096), "enc0.scores")
    assert "spans score differences below 0.5 of the up to 32" in told
    for size in (8, 64, 4096):
        for score in (FixedType(8, 5, True), FixedType(8, 0, True), FixedType(12, 9, True)):
            assert table_coverage(_spec(default_index_frac(score, size), size, score), "s") is None
    assert table_coverage(_spec(12, 4096), "s") is None


def test_a_quantized_model_far_worse_than_float_and_persistence_is_told():
    metrics = {"test": {"mse": 9.0}, "float": {"test": {"mse": 0.5}},
               "baselines": {"test": {"persistence": {"mse": 1.5}}}}
    said = []
    tell_far_worse(metrics, ("test",), said.append)
    assert len(said) == 1 and "test MSE is 9 against the float model's 0.5 (persistence 1.5)" in said[0]
    said.clear()
    metrics["test"]["mse"] = 1.4  # worse than float but better than persistence: the usual cost of quantizing
    tell_far_worse(metrics, ("test",), said.append)
    assert said == []


def test_test_values_past_the_training_range_are_told_with_the_key_and_the_error(tmp_path):
    """tour 9 a41: a trend that leaves the training range saturated the quantized input on the test split (MSE
    2.1e5 against the float model's 0.0088), without a word."""
    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.training.fit import train

    t = np.arange(1200, dtype=np.float64)
    y = (t / 400.0) ** 3 + 0.1 * np.sin(t / 5)  # the test third climbs far above the training rows
    path = tmp_path / "growth.csv"
    path.write_text("t,y\n" + "".join(f"{i},{v:.6f}\n" for i, v in enumerate(y)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(path), "features": ["y"], "target": "y", "window": 8,
                   "date_column": None, "inputs": "levels"}
    raw["training"].update(float_epochs=1, qat_epochs=1)
    cfg = parse_config(raw)
    said = []
    result = train(cfg, load_dataset(cfg), note=said.append)
    told = [s for s in said if "of the input values" in s]
    assert len(told) == 1, said
    assert "outside the range" in told[0] and "give quantization.input.integer: " in told[0]
    assert f"test MSE is {result.metrics['test']['mse']:.4g}" in told[0]


def test_a_share_of_a_few_values_never_reads_as_none_or_all():
    """A share rounded to 0.0% beside values past the range (tour 10 re-run of a37) read as a contradiction."""
    from flow.training.saturation import share_text

    assert [share_text(x) for x in (0.0, 0.0001, 0.0005, 0.0123, 0.9999, 1.0)] == \
        ["0.0%", "under 0.05%", "0.1%", "1.2%", "over 99.95%", "100.0%"]


def test_a_table_index_coarser_than_the_scores_is_said_to_make_a_plain_mean():
    """tour 10 a44: index_frac -4 made one table step 16 score units, every score read exp(0) and the attention a
    plain mean, without a word (only the fine-index failures were told)."""
    spec = _spec(-4, 256, FixedType(8, 3, True))
    scores = np.array([[120, 0, -120]])  # 3.75, 0, -3.75: exp weights 1, 0.02, 0.0006 in float
    assert softmax_int(scores, spec).tolist() == [[85, 85, 85]]  # what is told: a plain mean
    told = table_coverage(spec, "enc0.scores")
    assert told.startswith("quantization.softmax.index_frac = -4: one step of the exp table is 16 score units")
    assert "within 8 of its row's maximum reads exp(0) = 1" in told and "every score reads it" in told
    assert "plain mean" in told and "(for these scores it is 5) or use at least 0" in told
    assert table_coverage(_spec(0, 256, FixedType(8, 3, True)), "s") is None  # one unit a step: fine enough
    unplaced = table_coverage(spec, "enc0.scores", placed=False)  # scores auto: the step alone is told
    assert "16 score units" in unplaced and "every score reads it" not in unplaced


def test_the_estimate_tells_a_coarse_index_before_the_scores_are_placed(tmp_path):
    from click.testing import CliRunner
    from flow.cli import cli

    raw = small_raw()
    raw["quantization"] = {"softmax": {"index_frac": -4}}
    path = tmp_path / "coarse.yaml"
    path.write_text(json.dumps(raw))
    out = CliRunner().invoke(cli, ["estimate", str(path)])
    assert out.exit_code == 0 and "warning: quantization.softmax.index_frac = -4: one step of the exp table is 16 " \
        "score units" in out.output


def _saturation_of(monkeypatch, train, test, t=FixedType(4, 1, True), auto=None):
    """``tell_saturation`` on enc0.scores with these float values (train / test), and what it said."""
    from types import SimpleNamespace

    from flow.config import parse_config
    from flow.training import saturation

    ds = SimpleNamespace(train=SimpleNamespace(x="train"), test=SimpleNamespace(x="test"))
    monkeypatch.setattr(saturation, "float_values",
                        lambda cfg, model, x: {("enc0.scores", "output"): {"train": train, "test": test}[x]})
    prec = SimpleNamespace(types={"enc0.scores": {"output": t}})
    metrics = {"test": {"mse": 0.355}, "float": {"test": {"mse": 0.3511}}}
    said = []
    told = saturation.tell_saturation(parse_config(small_raw()), prec, None, ds, ("test",), metrics, said.append,
                                      auto)
    return told, said


def test_test_values_inside_the_training_range_that_auto_clips_on_purpose_are_not_told(monkeypatch):
    """tour 10 c05: at 4 bits auto clipped the scores' tails (-1 .. 0.875 of training values reaching -0.572 .. 1.36);
    2.5% of the test values in that tail were told as a split 'that does not cover the range'."""
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.uniform(-0.572, 0.8, 9980), np.linspace(0.9, 1.36, 20)])
    test = np.concatenate([rng.uniform(-0.416, 0.8, 975), np.linspace(0.9, 1.34, 25)])  # 2.5% clipped, all inside
    assert _saturation_of(monkeypatch, train, test) == (False, [])
    past = np.concatenate([test[:975], np.linspace(1.5, 3.0, 25)])  # the same share past the training range: told
    told, said = _saturation_of(monkeypatch, train, past)
    assert told and "2.5% of the enc0.scores values are outside the range -1 .. 0.875" in said[0]
    assert "past the -0.572 .. 1.36 the training windows reach" in said[0]
    assert said[0].endswith("give quantization.layers.enc0.scores.output.integer: 3 (a range that holds the test "
                            "values and the training windows'), or a data.split whose training rows cover the range "
                            "the model will see")
    # set in the configuration (tour 10 a43 re-run): the fix holds the training windows too, and auto is offered
    wide = np.concatenate([train, [2.5]])  # training windows past the hand-set range as well
    told, said = _saturation_of(monkeypatch, wide, np.concatenate([past, [-1.6] * 30]), auto=set())
    assert told and "(4 bits, integer 1, set in the configuration, " in said[0]
    assert said[0].endswith("give quantization.layers.enc0.scores.output.integer: 3 (a range that holds the test "
                            "values and the training windows'), or leave it auto")


def test_a_hand_set_range_that_clips_the_training_windows_is_told_with_its_key():
    """tour 10 a43: quantization.input.integer: 1 clipped the window on every split, training included, so the
    saturation check kept quiet and the far-worse warning blamed the automatic binary points."""
    from flow.config import parse_config
    from flow.precision import resolve_precisions
    from flow.training.saturation import user_clips

    raw = small_raw()
    raw["quantization"] = {"bits": 8, "input": {"integer": 1}}
    cfg = parse_config(raw)
    prec = resolve_precisions(cfg)
    window = np.linspace(-1.41, 2.5, 1000)  # half the scaled window past -1 .. 1
    clips = user_clips(cfg, prec, {("input", "output"): window})
    assert len(clips) == 1 and clips[0].startswith("quantization.input.integer = 1 (set in the configuration): ")
    t = prec.types["input"]["output"]
    assert f"48.9% of the training scaled window values are outside -1 .. {t.max_value:.4g} ({t.width} bits, " \
        "integer 1; they reach -1.41 .. 2.5)" in clips[0]
    assert clips[0].endswith("give quantization.input.integer: 3 or leave it auto")
    assert user_clips(cfg, prec, {("input", "output"): np.linspace(-0.9, 0.9, 1000)}) == []  # inside: nothing
    metrics = {"val": {"mse": 18.49}, "float": {"val": {"mse": 1.791}}, "baselines": {"val": {"persistence": {"mse": 1.992}}}}
    said = []
    tell_far_worse(metrics, ("val",), said.append, clips)
    assert len(said) == 1 and "worse than repeating the last value; quantization.input.integer = 1, set in the " \
        "configuration, clips the training windows too (told above): widen it or leave it auto" in said[0]
