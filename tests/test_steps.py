"""Several future values forecast at once (``data.steps``): the windows, the baselines and metrics per step,
and a build whose IP outputs every step, bit-exact, with the delta head's last level added to each."""
import json

import numpy as np
import pytest
import yaml

from flow.config import ConfigError, parse_config
from flow.data import Split, load_dataset, make_windows
from flow.metrics import errors, linear_forecast, persistence_forecast, split_metrics

from .conftest import TINY, small_raw
from .test_cli_e2e import tsflow


def test_each_window_is_followed_by_its_steps():
    """Rows 0..29 with the target = 10 x the row: window 4, horizon 2, 3 steps. Window i is rows i..i+3; its
    steps are the rows 2, 3 and 4 after its last (i + 5, i + 6, i + 7); 30 - 4 - 2 - 3 + 2 = 23 windows."""
    values = np.column_stack([np.arange(30) * 10.0, np.arange(30) % 3])
    s = make_windows(values, 0, window=4, horizon=2, steps=3)
    assert s.x.shape == (23, 4, 2) and s.y.shape == (23, 3)
    assert s.y[0].tolist() == [50, 60, 70] and s.y[22].tolist() == [270, 280, 290]
    assert s.last[0] == 30  # row 3, the window's last
    one = make_windows(values, 0, window=4, horizon=2)  # one step: as before, y of shape (n,)
    assert one.y.shape == (25,) and one.y[0] == 50


def test_a_split_too_short_for_the_steps_names_them():
    raw = small_raw()
    raw["data"].update(split={"train": 300, "val": 20, "test": 20}, steps=16)  # 8 + 1 + 16 - 1 = 24 rows
    with pytest.raises(ConfigError) as exc:
        load_dataset(parse_config(raw), note=lambda text: None)
    assert "data.split.val: 20 rows, fewer than data.window + data.horizon + data.steps - 1 (24)" in str(exc.value)
    assert "smaller data.window or data.steps" in str(exc.value)


def test_the_baselines_forecast_every_step():
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(size=(400, 2)), axis=0)
    train, test = make_windows(values[:300], 0, 6, 1, 4), make_windows(values[300:], 0, 6, 1, 4)
    persistence = persistence_forecast(test)
    assert persistence.shape == (len(test.y), 4) and (persistence == test.last[:, None]).all()
    linear = linear_forecast(train, test)
    for k in range(4):  # one least-squares fit a step: the same as fitting that step alone
        alone = linear_forecast(Split(train.x, train.y[:, k], train.last), Split(test.x, test.y[:, k], test.last))
        np.testing.assert_allclose(linear[:, k], alone, rtol=0, atol=1e-9)


def test_metrics_over_all_steps_and_each_step():
    ds = load_dataset(parse_config({**small_raw(), "data": {**small_raw()["data"], "steps": 3}}),
                      note=lambda text: None)
    pred = ds.test.y + np.array([0.0, 0.1, -0.2])  # step k off by a known amount (scaled units)
    m = split_metrics(pred.reshape(-1), ds.test, ds)  # flat, as model.predict gives it: read as (n, steps)
    assert [round(s["scaled"]["mae"], 9) for s in m["steps"]] == [0.0, 0.1, 0.2]
    assert m["scaled"] == errors(pred, ds.test.y)  # over every step
    assert m["steps"][1]["mae"] == pytest.approx(0.1 * ds.scaler.scale[ds.target_column], rel=1e-9)


@pytest.fixture(scope="module")
def steps_build(tmp_path_factory):
    """A tiny build forecasting 3 steps, with the delta head, behind the AXI4-Lite interface."""
    cwd = tmp_path_factory.mktemp("steps")
    raw = {**TINY, "name": "steps", "data": {**TINY["data"], "steps": 3},
           "model": {**TINY["model"], "predict_delta": True}, "hls": {"interface": "s_axilite"}}
    (cwd / "steps.yaml").write_text(yaml.safe_dump(raw))
    done = tsflow(cwd, "build", "steps.yaml", "--out", "b", timeout=900)
    assert done.returncode == 0, done.stderr
    return cwd / "b"


def test_the_ip_outputs_every_step_bit_exact(steps_build):
    csim = json.loads((steps_build / "csim.json").read_text())
    assert csim["bit_exact"] and csim["mismatches"] == 0
    expected = np.fromfile(steps_build / "hls" / "tb_data" / "expected.bin", dtype=np.int32)
    assert expected.size == 3 * csim["samples"]  # three forecast words a window, each compared
    wrapper = (steps_build / "hls" / "firmware" / "tsflow_model.h").read_text()
    assert "ap_int<32> forecast[3]" in wrapper  # the AXI4-Lite register map holds the three steps
    est = json.loads((steps_build / "estimate.json").read_text())
    head = next(layer for layer in est["layers"] if layer["name"] == "head")
    assert head["what"].startswith("3 outputs of 8 MACs")


def test_the_report_draws_every_step_and_the_metrics_name_each(steps_build):
    assert (steps_build / "report" / "steps.png").is_file()
    html = (steps_build / "report.html").read_text()
    assert "Every one of the 3 steps forecast (data.steps)" in html
    metrics = json.loads((steps_build / "model" / "metrics.json").read_text())
    assert len(metrics["test"]["steps"]) == 3
    overall = np.mean([s["mse"] for s in metrics["test"]["steps"]])  # equal windows a step: the mean of the steps
    assert metrics["test"]["mse"] == pytest.approx(overall, rel=1e-12)


def test_validation_and_test_windows_may_take_their_look_back_from_the_rows_before(tmp_path):
    """Rows 0..99 (target = the row), split 60 / 20 / 20 rows, window 8, 3 steps: with ``lookback: previous``
    the first validation window is rows 52..59 and forecasts rows 60..62, the first row of its split; a split
    of 20 rows gives 20 - 3 + 1 = 18 windows (LTSF-Linear's Dataset_ETT_hour: (20 + 8) - 8 - 3 + 1)."""
    csv = tmp_path / "ramp.csv"
    csv.write_text("v\n" + "".join(f"{i}\n" for i in range(100)))
    data = {"source": "csv", "path": str(csv), "date_column": None, "target": "v", "window": 8, "steps": 3,
            "inputs": "levels"}

    def load(**split):
        return load_dataset(parse_config({**small_raw(), "data": {**data, "split": {"train": 60, "val": 20,
                                                                                   "test": 20, **split}}}),
                            note=lambda text: None)

    ds, own = load(lookback="previous"), load()
    assert (len(ds.train.y), len(ds.val.y), len(ds.test.y)) == (50, 18, 18)
    assert np.rint(ds.denormalise(ds.val.x[0, :, 0])).tolist() == list(range(52, 60))
    assert np.rint(ds.denormalise(ds.val.y[0])).tolist() == [60, 61, 62]
    assert np.rint(ds.denormalise(ds.test.y[-1])).tolist() == [97, 98, 99]
    assert (len(own.val.y), np.rint(own.denormalise(own.val.y[0])).tolist()) == (10, [68, 69, 70])


def test_nlinear_in_closed_form_follows_a_level_shift():
    """NLinear's map sees the window less its last value: a series shifted by a constant is forecast shifted by
    the same constant, exactly (the linear map's intercept would have to learn the shift)."""
    from flow.metrics import nlinear_forecast

    rng = np.random.default_rng(5)
    values = np.cumsum(rng.normal(size=(300, 1)), axis=0)
    train, test = make_windows(values[:200], 0, 6, 1, 2), make_windows(values[200:], 0, 6, 1, 2)
    shifted = Split(test.x + 40.0, test.y + 40.0, test.last + 40.0)
    np.testing.assert_allclose(nlinear_forecast(train, shifted), nlinear_forecast(train, test) + 40.0, atol=1e-8)
    assert errors(nlinear_forecast(train, test), test.y)["mse"] < errors(persistence_forecast(test), test.y)["mse"]
