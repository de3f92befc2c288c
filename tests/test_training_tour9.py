"""Tour 9: what training says about the quantized model on data the training split did not cover (a41 / a79), and
about a softmax table too fine for the scores' binary point (a18)."""
from __future__ import annotations

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
    from flow.training.saturation import _share

    assert [_share(x) for x in (0.0, 0.0001, 0.0005, 0.0123, 0.9999, 1.0)] == \
        ["0.0%", "under 0.05%", "0.1%", "1.2%", "over 99.95%", "100.0%"]
