"""Several columns, the target not the first, several channels a step: an ETTh1-shaped CSV written here
(date, HUFL, HULL, MUFL, MULL, LUFL, LULL, OT; the target OT the last column, as in ETTh1).

* One build, ``hls.interface: axis`` with 3 input channels (HUFL, OT, LULL: the target the middle
  channel), window 8, d_model 8, 1 float + 1 QAT epoch: bit-exact in C simulation over every test window,
  the window arriving as 8 x 3 stream beats; the same behind ``s_axilite`` (24 window registers) and
  ``ap_vld``; the report's figures read the target in its units.
* Its reported errors (``model/metrics.json``): the de-normalised test and validation MSE, RMSE and MAE
  equal what this file computes from the model's scaled predictions, the mean and standard deviation of
  OT over the training rows (Python's ``statistics``, from the CSV's values) and the raw OT values of the
  CSV; the persistence baseline from the raw OT values alone.
* The default ``inputs: differences`` with all seven columns: the de-normalised targets are the CSV's
  raw OT values, and the persistence baseline's error is computed from them.
"""
from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest

COLUMNS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
ROWS = {"train": 300, "val": 100, "test": 100}
WINDOW = 8
FEATURES = ["HUFL", "OT", "LULL"]


def raw_rows() -> list[list[float]]:
    """Quarter steps (exact in binary and in the CSV text): a daily cycle, a slow drift, some jitter; OT
    (oil temperature) around 20 with a spread of a few degrees, the loads around 0 to 12."""
    rows = []
    for i in range(sum(ROWS.values())):
        day = [0, 1, 2, 4, 6, 7, 8, 8, 7, 6, 4, 2][(i // 2) % 12]
        rows.append([4 + day + (7 * i % 5) / 4, 1 + (3 * i % 7) / 4, 3 + day / 2 + (i % 3) / 4,
                     (5 * i % 9) / 4, 2 + day / 4 + (i % 4) / 4, (11 * i % 13) / 4,
                     16 + day / 2 + (i // 50) + (13 * i % 11) / 4])
    return rows


def write_csv(path, rows) -> None:
    stamps = np.datetime64("2016-07-01T00") + np.arange(len(rows)).astype("timedelta64[h]")
    path.write_text("date," + ",".join(COLUMNS) + "\n"
                    + "".join(f"{t}," + ",".join(repr(v) for v in r) + "\n" for t, r in zip(stamps, rows)))


def column(rows, name) -> list[float]:
    return [r[COLUMNS.index(name)] for r in rows]


def split_rows(rows, name):
    start = {"train": 0, "val": ROWS["train"], "test": ROWS["train"] + ROWS["val"]}[name]
    return rows[start:start + ROWS[name]]


def errors_by_hand(pred, truth) -> dict:
    d = [float(p) - float(t) for p, t in zip(pred, truth)]
    mse = statistics.fmean(v * v for v in d)
    return {"mse": mse, "rmse": math.sqrt(mse), "mae": statistics.fmean(abs(v) for v in d)}


def assert_errors(reported: dict, expected: dict) -> None:
    for key in ("mse", "rmse", "mae"):
        assert reported[key] == pytest.approx(expected[key], rel=1e-9), key


def _build(tmp_path_factory, interface: str):
    from flow.build import build
    from flow.config import parse_config

    folder = tmp_path_factory.mktemp(f"etth1shape-{interface}")
    rows = raw_rows()
    csv = folder / "etth1_shape.csv"
    write_csv(csv, rows)
    raw = {"name": "etth1shape",
           "data": {"source": "csv", "path": str(csv), "date_column": "date", "features": FEATURES, "target": "OT",
                    "window": WINDOW, "inputs": "levels", "split": dict(ROWS)},
           "model": {"d_model": 8, "heads": 1, "layers": 1, "ffn": 16, "predict_delta": False},
           "quantization": {"bits": 8},
           "training": {"float_epochs": 1, "qat_epochs": 1, "batch_size": 64, "seed": 1},
           "hls": {"interface": interface}}
    cfg = parse_config(raw)
    stage = folder / "build"
    stage.mkdir()
    result = build(cfg, stage, allow_overflow=True)
    return cfg, stage, result, rows


@pytest.fixture(scope="module")
def axis_build(tmp_path_factory):
    return _build(tmp_path_factory, "axis")


@pytest.mark.parametrize("interface, port", [
    ("s_axilite", "void tsflow_ip(const ap_int<32> window[8*3], ap_int<32> forecast[1])"),  # 24 registers
    ("ap_vld", "#pragma HLS INTERFACE ap_vld port=window,head"),  # one wide word of 24 elements; no delta head
])
def test_the_other_interfaces_with_three_channels_a_step_are_bit_exact(tmp_path_factory, interface, port):
    """The same data and model behind AXI4-Lite registers (24 window words a forecast, 8 steps x 3
    channels, time-major) and behind the plain ap_vld ports: every test window bit-exact."""
    _, stage, result, _ = _build(tmp_path_factory, interface)
    assert result.csim.samples == ROWS["test"] - WINDOW and result.csim.mismatches == 0 and result.csim.bit_exact
    assert port in (stage / "hls" / "firmware" / "tsflow_model.cpp").read_text()


def test_an_axis_build_with_three_channels_a_step_is_bit_exact(axis_build):
    cfg, stage, result, _ = axis_build
    csim = result.csim
    assert csim.samples == ROWS["test"] - WINDOW  # 92 test windows
    assert csim.mismatches == 0 and csim.boundary_mismatches == 0 and csim.bit_exact
    assert csim.boundaries_compared == 3 + 13 + 2  # input, embed, pos; one encoder; pool, head
    boundaries = json.loads((stage / "hls" / "boundaries.json").read_text())
    assert boundaries["input"]["per_sample"] == WINDOW * 3  # 24 beats a window: 8 steps x 3 channels
    top = (stage / "hls" / "firmware" / "tsflow_model.cpp").read_text()
    assert "#pragma HLS INTERFACE axis port=window" in top
    inputs = np.fromfile(stage / "hls" / "tb_data" / "inputs.bin", dtype=np.int32)
    assert inputs.size == csim.samples * WINDOW * 3


def test_the_reported_denormalised_errors_are_the_scaled_predictions_in_the_targets_units(axis_build):
    from flow.data import load_dataset
    from flow.training.checkpoint import load_trained

    cfg, stage, _, rows = axis_build
    metrics = json.loads((stage / "model" / "metrics.json").read_text())
    model = load_trained(stage / "model").model
    ds = load_dataset(cfg)
    train_ot = column(split_rows(rows, "train"), "OT")
    mu, sigma = statistics.fmean(train_ot), statistics.pstdev(train_ot)
    assert sigma > 1.5 and mu > 15  # far from 0 and 1: a de-normalisation with the wrong column shows
    for name in ("val", "test"):
        part = split_rows(rows, name)
        ot = column(part, "OT")
        truth = ot[WINDOW:]  # OT one step after each window
        # the windows the model read are the CSV's rows scaled by the training rows' statistics
        stats = {f: (statistics.fmean(column(split_rows(rows, "train"), f)),
                     statistics.pstdev(column(split_rows(rows, "train"), f))) for f in FEATURES}
        by_hand = np.array([[[(r[COLUMNS.index(f)] - stats[f][0]) / stats[f][1] for f in FEATURES]
                             for r in part[t:t + WINDOW]] for t in range(len(truth))])
        x = getattr(ds, name).x
        assert x.shape == by_hand.shape and np.allclose(x, by_hand, rtol=1e-9, atol=1e-12)
        scaled = model.predict(x, batch_size=1024, verbose=0).reshape(-1).astype(np.float64)
        assert_errors(metrics[name], errors_by_hand([p * sigma + mu for p in scaled], truth))
        assert_errors(metrics[name]["scaled"], errors_by_hand(scaled, [(t - mu) / sigma for t in truth]))
        # persistence: the last OT of each window
        assert_errors(metrics["baselines"][name]["persistence"], errors_by_hand(ot[WINDOW - 1:-1], truth))


def test_differenced_inputs_of_seven_columns_denormalise_to_the_raw_target(tmp_path):
    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.training.fit import baselines

    rows = raw_rows()
    csv = tmp_path / "etth1_shape.csv"
    write_csv(csv, rows)
    raw = {"name": "etth1shape-diff",
           "data": {"source": "csv", "path": str(csv), "date_column": "date", "target": "OT", "window": WINDOW,
                    "split": dict(ROWS)}}  # every numeric column, inputs: differences (the defaults)
    ds = load_dataset(parse_config(raw))
    assert ds.features == [f"d_{c}" for c in COLUMNS] + ["OT"] and ds.target_index == 7
    for name in ("train", "val", "test"):
        ot = column(split_rows(rows, name), "OT")
        assert np.allclose(ds.denormalise(getattr(ds, name).y), ot[WINDOW:], rtol=0, atol=1e-9)
        assert np.allclose(ds.denormalise(getattr(ds, name).x[:, -1, 7]), ot[WINDOW - 1:-1], rtol=0, atol=1e-9)
    test_ot = column(split_rows(rows, "test"), "OT")
    assert_errors(baselines(ds)["test"]["persistence"], errors_by_hand(test_ot[WINDOW - 1:-1], test_ot[WINDOW:]))


def test_the_report_plots_the_target_in_its_units(axis_build):
    """The report's forecast figure and error table read the test split as the build did: the truth is the
    CSV's raw OT one step after each window, persistence each window's last raw OT, the model's forecast
    its C simulation's outputs de-normalised with OT's training statistics (worked here from the CSV)."""
    from flow.report import load_predictions

    cfg, stage, _, rows = axis_build
    pred = load_predictions(stage, cfg)
    ot = column(split_rows(rows, "test"), "OT")
    train_ot = column(split_rows(rows, "train"), "OT")
    mu, sigma = statistics.fmean(train_ot), statistics.pstdev(train_ot)
    assert np.allclose(pred.truth, ot[WINDOW:], rtol=0, atol=1e-9)
    assert np.allclose(pred.persistence, ot[WINDOW - 1:-1], rtol=0, atol=1e-9)
    metrics = json.loads((stage / "model" / "metrics.json").read_text())
    assert_errors(metrics["test"], errors_by_hand(pred.model, ot[WINDOW:]))  # the plotted forecast's errors
    assert np.all(np.abs(pred.model - mu) < 6 * sigma)  # in OT's units (about 20), not scaled ones (about 0)
    report = (stage / "report.html").read_text()
    assert "in the units of <code>OT</code>" in report
