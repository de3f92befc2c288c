"""Chronological split, train-only scaling, windows that never cross a split boundary."""
import numpy as np
import pytest

from flow.config import parse_config
from flow.data import load_dataset, make_windows

from .conftest import ETTH1, small_raw


def test_windows_and_targets():
    values = np.arange(20, dtype=np.float64).reshape(10, 2)  # row r = (2r, 2r+1)
    s = make_windows(values, target_index=1, window=3, horizon=2)
    assert s.x.shape == (10 - 3 - 2 + 1, 3, 2)
    assert s.x[0, :, 1].tolist() == [1, 3, 5]
    assert s.y[0] == 2 * (3 + 2 - 1) + 1  # target at row window + horizon - 1 = 4
    assert s.last[0] == 5  # persistence: last observed target


def test_split_has_no_leakage_and_scaler_sees_train_only(tmp_path):
    n = 100
    csv = tmp_path / "ramp.csv"
    # the value equals the row number, so every window can be traced back to its rows
    stamps = np.datetime64("2020-01-01T00") + np.arange(n).astype("timedelta64[h]")
    csv.write_text("date,v\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(csv), "target": "v", "window": 5, "horizon": 1,
                   "split": {"train": 60, "val": 20, "test": 20}}
    ds = load_dataset(parse_config(raw))
    rows = {name: np.rint(ds.scaler.inverse_column(getattr(ds, name).x[..., 0], 0)).astype(int)
            for name in ("train", "val", "test")}
    ys = {name: np.rint(ds.denormalise(getattr(ds, name).y)).astype(int) for name in ("train", "val", "test")}
    assert rows["train"].min() == 0 and max(rows["train"].max(), ys["train"].max()) == 59
    assert rows["val"].min() == 60 and max(rows["val"].max(), ys["val"].max()) == 79
    assert rows["test"].min() == 80 and max(rows["test"].max(), ys["test"].max()) == 99
    assert len(ds.train.y) == 60 - 5 and len(ds.test.y) == 20 - 5
    # standard scaling fitted on rows 0..59 only
    assert ds.scaler.offset[0] == pytest.approx(29.5)
    assert ds.scaler.scale[0] == pytest.approx(np.arange(60).std())


def test_builtin_series_loads_without_network(monkeypatch):
    import socket

    def no_network(*a, **k):
        raise AssertionError("the built-in data reached for the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    ds = load_dataset(parse_config(small_raw()))
    assert ds.name == "seattle-temps" and len(ds.train.y) > 4000
    assert np.isfinite(ds.train.x).all()


@pytest.mark.skipif(not ETTH1.exists(), reason="ETTh1.csv is not beside the project (../shared/data)")
@pytest.mark.parametrize("features", [None, ["OT"]])
def test_etth1_csv(features):
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(ETTH1), "date_column": "date", "features": features,
                   "target": "OT", "window": 24, "split": {"train": 8640, "val": 2880, "test": 2880}}
    ds = load_dataset(parse_config(raw))
    assert ds.features == (["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"] if features is None else ["OT"])
    assert ds.train.x.shape == (8640 - 24, 24, len(ds.features))
    assert len(ds.test.y) == 2880 - 24
    # de-normalised persistence error is in degrees: first test target is a real OT reading
    assert 0 < ds.denormalise(ds.test.y).mean() < 40


def test_rows_are_put_in_time_order(tmp_path):
    csv = tmp_path / "newest_first.csv"
    csv.write_text("date,v\n" + "".join(f"2020-01-01T00:00:{59 - i:02d},{59 - i}\n" for i in range(60)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(csv), "target": "v", "window": 4,
                   "split": {"train": 40, "val": 10, "test": 10}}
    ds = load_dataset(parse_config(raw))
    assert np.rint(ds.denormalise(ds.train.y)).astype(int).tolist() == list(range(4, 40))


def test_differenced_inputs_are_changes_plus_the_target_level(tmp_path):
    """inputs: differences: per-step changes of every column (0 at a window's first step) and the
    target's level as a last channel, which persistence and the delta head read."""
    n = 60
    stamps = np.datetime64("2020-01-01T00") + np.arange(n).astype("timedelta64[h]")
    csv = tmp_path / "two.csv"
    # a = row number, b = row number squared: changes 1 and 2r - 1
    csv.write_text("date,a,b\n" + "".join(f"{t},{i},{i * i}\n" for i, t in enumerate(stamps)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(csv), "features": ["a", "b"], "target": "b", "window": 4,
                   "split": {"train": 40, "val": 10, "test": 10}, "inputs": "differences"}
    ds = load_dataset(parse_config(raw))
    levels = load_dataset(parse_config({**raw, "data": {**raw["data"], "inputs": "levels"}}))
    assert ds.features == ["d_a", "d_b", "b"] and ds.target_index == 2
    x = ds.train.x[5]  # rows 5..8
    a = ds.scaler.scale[0] * x[:, 0]
    b = ds.scaler.scale[1] * x[:, 1]
    assert np.allclose(a, [0, 1, 1, 1])
    assert np.allclose(b, [0, 11, 13, 15])  # 6^2-5^2, 7^2-6^2, 8^2-7^2
    assert np.allclose(ds.scaler.inverse_column(x[:, 2], 1), [25, 36, 49, 64])
    # the target, persistence and the de-normalised errors are those of the level inputs
    for split in ("train", "val", "test"):
        assert np.array_equal(getattr(ds, split).y, getattr(levels, split).y)
        assert np.array_equal(getattr(ds, split).last, getattr(levels, split).last)
    assert np.allclose(ds.denormalise(ds.test.y), levels.denormalise(levels.test.y))
