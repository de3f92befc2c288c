"""Chronological split, train-only scaling, windows that never cross a split boundary; where a CSV is
read from, and how a CSV that cannot be used is refused (file, line, column, what to change)."""
import math
import statistics
import subprocess
import sys

import numpy as np
import pytest
import yaml

from flow.config import ConfigError, dump_config, load_config, parse_config
from flow.data import DataWarning, load_dataset, make_windows

from .conftest import ETTH1, REPO, small_raw


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
    raw["data"] = {"source": "csv", "inputs": "levels", "path": str(csv), "target": "v", "window": 5, "horizon": 1,
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


@pytest.mark.parametrize("dataset, target, columns, rows", [
    ("seattle-temps", "temp", ["temp"], 8759),
    ("sf-temps", "temp", ["temp"], 8759),
    # daily; its text column (the weather's name) is not a feature
    ("seattle-weather", "temp_max", ["precipitation", "temp_max", "temp_min", "wind"], 1461)])
def test_builtin_series_loads_without_network(monkeypatch, dataset, target, columns, rows):
    import socket

    def no_network(*a, **k):
        raise AssertionError("the built-in data reached for the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    raw = small_raw()
    raw["data"] = {"source": "builtin", "dataset": dataset, "target": target, "inputs": "levels"}
    ds = load_dataset(parse_config(raw))
    assert ds.name == dataset and ds.features == columns
    assert ds.rows == {"train": int(rows * 0.6), "val": int(rows * 0.2), "test": int(rows * 0.2)}  # the default split
    assert np.isfinite(ds.train.x).all()


@pytest.mark.skipif(not ETTH1.exists(), reason="ETTh1.csv is not beside the project (../shared/data)")
@pytest.mark.parametrize("features", [None, ["OT"]])
def test_etth1_csv(features):
    raw = small_raw()
    raw["data"] = {"source": "csv", "inputs": "levels", "path": str(ETTH1), "date_column": "date", "features": features,
                   "target": "OT", "window": 24, "split": {"train": 8640, "val": 2880, "test": 2880}}
    ds = load_dataset(parse_config(raw))
    assert ds.features == (["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"] if features is None else ["OT"])
    assert ds.train.x.shape == (8640 - 24, 24, len(ds.features))
    assert len(ds.test.y) == 2880 - 24
    # de-normalised persistence error is in degrees: first test target is a real OT reading
    assert 0 < ds.denormalise(ds.test.y).mean() < 40


def test_a_single_columns_changes_are_left_as_they_are(tmp_path):
    """One column: its plain changes (scaled to unit spread, the single-column series forecast worse)."""
    csv = tmp_path / "one.csv"
    csv.write_text("v\n" + "".join(f"{i * i}\n" for i in range(60)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(csv), "date_column": None, "target": "v", "window": 4,
                   "split": {"train": 40, "val": 10, "test": 10}, "inputs": "differences"}
    ds = load_dataset(parse_config(raw))
    assert ds.scaler.change_scale.tolist() == [1.0]
    assert np.allclose(ds.scaler.scale[0] * ds.train.x[5, :, 0], [0, 11, 13, 15])


def test_rows_are_put_in_time_order(tmp_path):
    csv = tmp_path / "newest_first.csv"
    csv.write_text("date,v\n" + "".join(f"2020-01-01T00:00:{59 - i:02d},{59 - i}\n" for i in range(60)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "inputs": "levels", "path": str(csv), "target": "v", "window": 4,
                   "split": {"train": 40, "val": 10, "test": 10}}
    ds = load_dataset(parse_config(raw))
    assert np.rint(ds.denormalise(ds.train.y)).astype(int).tolist() == list(range(4, 40))


def test_differenced_inputs_are_changes_plus_the_target_level(tmp_path):
    """inputs: differences: per-step changes of every column (0 at a window's first step), each over its
    spread on the training rows, and the target's level as a last channel, which persistence and the
    delta head read."""
    n = 60
    stamps = np.datetime64("2020-01-01T00") + np.arange(n).astype("timedelta64[h]")
    csv = tmp_path / "three.csv"
    # a = row number (changes all 1), b = row number squared (changes 2r + 1), c = +1, -1, +1, ... (changes -2, +2, ...)
    csv.write_text("date,a,b,c\n" + "".join(f"{t},{i},{i * i},{(-1) ** i}\n" for i, t in enumerate(stamps)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(csv), "features": ["a", "b", "c"], "target": "b", "window": 4,
                   "split": {"train": 40, "val": 10, "test": 10}, "inputs": "differences"}
    ds = load_dataset(parse_config(raw))
    levels = load_dataset(parse_config({**raw, "data": {**raw["data"], "inputs": "levels"}}))
    assert ds.features == ["d_a", "d_b", "d_c", "b"] and ds.target_index == 3
    # worked here from the CSV's 40 training rows (Python's statistics: population standard deviations):
    # the levels' scales: a = r (r = 0..39), b = r^2, c = +-1, 20 of each (mean 0, spread 1)
    scale_a, scale_b = statistics.pstdev(range(40)), statistics.pstdev([r * r for r in range(40)])
    assert ds.scaler.scale.tolist() == pytest.approx([scale_a, scale_b, 1.0])
    # each column's 39 changes in the column's own units: a's all 1 (spread 0: a constant change is left as it
    # is, change scale 1); b's 2r + 1 (r = 0..38); c's -2, +2, ..., -2 (20 of -2, 19 of +2: mean -2/39, mean
    # square 4, spread sqrt(4 - (2/39)^2)); the change scale is each spread over the level's scale
    spread_b, spread_c = statistics.pstdev([2 * r + 1 for r in range(39)]), math.sqrt(4 - (2 / 39) ** 2)
    want = [1.0, spread_b / scale_b, spread_c / 1.0]
    assert ds.scaler.change_scale.tolist() == pytest.approx(want)
    # what the run folder's dataset.json keeps for a host that feeds the IP (levels: nothing to divide by)
    assert ds.scaler.to_dict()["change_scale"] == pytest.approx(want)
    assert "change_scale" not in levels.scaler.to_dict()
    # the inputs of rows 5..8: each change over its level's scale times its change scale, i.e. over the
    # spread of the column's changes (a: over a's scale, its change scale being 1)
    x = ds.train.x[5]
    assert np.allclose(x[:, 0] * scale_a, [0, 1, 1, 1])
    assert np.allclose(x[:, 1] * spread_b, [0, 11, 13, 15])  # 6^2-5^2, 7^2-6^2, 8^2-7^2
    assert np.allclose(x[:, 2] * spread_c, [0, 2, -2, 2])  # rows 5..8: -1, +1, -1, +1
    # the target's level, standard-scaled: b's mean over the training rows sum(r^2, r < 40) / 40 = 20,540 / 40
    assert np.allclose(x[:, 3] * scale_b + 20540 / 40, [25, 36, 49, 64])
    # the target, persistence and the de-normalised errors are those of the level inputs
    for split in ("train", "val", "test"):
        assert np.array_equal(getattr(ds, split).y, getattr(levels, split).y)
        assert np.array_equal(getattr(ds, split).last, getattr(levels, split).last)
    assert np.allclose(ds.denormalise(ds.test.y), levels.denormalise(levels.test.y))


# --- where data.path is read from ---------------------------------------------------------------------


def _series_csv(path, values):
    """A CSV of hourly rows: date, v (one value per row)."""
    stamps = np.datetime64("2020-01-01T00") + np.arange(len(values)).astype("timedelta64[h]")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("date,v\n" + "".join(f"{t},{v}\n" for t, v in zip(stamps, values)))
    return path


def _csv_raw(path, **data) -> dict:
    raw = small_raw()
    raw["data"] = {"source": "csv", "inputs": "levels", "path": str(path), "target": "v", "window": 4,
                   "split": {"train": 40, "val": 10, "test": 10}, **data}
    return raw


def _write_config(path, raw):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    return path


def _first_target(ds) -> int:
    return int(np.rint(ds.scaler.inverse_column(ds.train.x[0, 0, 0], 0)))


def test_relative_path_is_read_from_the_config_files_folder(tmp_path, monkeypatch):
    """A config file's data.path is relative to the config file, whatever the current directory; a
    different file at the same path relative to the current directory is not read."""
    _series_csv(tmp_path / "project" / "data" / "s.csv", range(100, 160))
    _series_csv(tmp_path / "data" / "s.csv", range(500, 560))  # ../data/s.csv seen from tmp/run
    config = _write_config(tmp_path / "project" / "configs" / "c.yaml", _csv_raw("../data/s.csv"))
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    cfg = load_config(config)
    assert cfg.data.path == str((tmp_path / "project" / "data" / "s.csv").resolve())
    assert _first_target(load_dataset(cfg)) == 100
    # the same from the config's own folder, given as a relative config path
    monkeypatch.chdir(tmp_path / "project" / "configs")
    assert _first_target(load_dataset(load_config("c.yaml"))) == 100


def test_dumped_config_holds_the_absolute_path_and_works_from_anywhere(tmp_path, monkeypatch):
    """What a run or build folder keeps (model/config.yaml) finds the data wherever that folder is."""
    _series_csv(tmp_path / "project" / "data" / "s.csv", range(100, 160))
    config = _write_config(tmp_path / "project" / "configs" / "c.yaml", _csv_raw("../data/s.csv"))
    dumped = yaml.safe_load(dump_config(load_config(config)))
    assert dumped["data"]["path"] == str((tmp_path / "project" / "data" / "s.csv").resolve())
    kept = _write_config(tmp_path / "elsewhere" / "build" / "model" / "config.yaml", dumped)
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert _first_target(load_dataset(load_config(kept))) == 100


def test_absolute_and_home_paths_are_not_moved_into_the_config_folder(tmp_path, monkeypatch):
    csv = _series_csv(tmp_path / "data" / "s.csv", range(100, 160))
    monkeypatch.setenv("HOME", str(tmp_path))
    for given in (str(csv), "~/data/s.csv"):
        cfg = load_config(_write_config(tmp_path / "configs" / "c.yaml", _csv_raw(given)))
        assert cfg.data.path == str(csv)
        assert _first_target(load_dataset(cfg)) == 100


def test_config_given_as_a_mapping_reads_from_the_current_directory(tmp_path, monkeypatch):
    _series_csv(tmp_path / "here" / "data" / "s.csv", range(100, 160))
    monkeypatch.chdir(tmp_path / "here")
    cfg = parse_config(_csv_raw("data/s.csv"))
    assert cfg.data.path == str((tmp_path / "here" / "data" / "s.csv").resolve())
    monkeypatch.chdir(tmp_path)  # the validated config keeps the absolute path
    assert _first_target(load_dataset(cfg)) == 100


def test_missing_file_says_path_as_given_where_it_was_resolved_and_the_result(tmp_path, monkeypatch):
    config = _write_config(tmp_path / "configs" / "c.yaml", _csv_raw("../data/nope.csv"))
    monkeypatch.chdir(tmp_path / "configs")
    with pytest.raises(ConfigError) as exc:
        load_dataset(load_config(config))
    msg = str(exc.value)
    assert "'../data/nope.csv'" in msg and "configuration file's folder" in msg
    assert str(tmp_path / "configs") in msg and str((tmp_path / "data" / "nope.csv").resolve()) in msg
    assert "file not found" in msg
    with pytest.raises(ConfigError) as exc:
        load_dataset(parse_config(_csv_raw("nope.csv")))
    msg = str(exc.value)
    assert "'nope.csv'" in msg and "current directory" in msg and str(tmp_path / "configs") in msg
    assert str((tmp_path / "configs" / "nope.csv").resolve()) in msg


@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "configs").glob("etth1*.yaml")))
def test_shipped_etth1_configs_find_shared_data_from_any_directory(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(REPO / "configs" / config).data.path == str(ETTH1.resolve())


def test_cli_reads_the_csv_beside_the_config_from_another_directory(tmp_path):
    """`tsflow estimate` of a config without data.features reads the CSV's columns: it works when run
    from a folder that is not the config's."""
    (tmp_path / "project" / "data").mkdir(parents=True)
    (tmp_path / "project" / "data" / "s.csv").write_text(
        "date,a,v\n" + "".join(f"2020-01-01T{i // 60:02d}:{i % 60:02d},{i},{2 * i}\n" for i in range(60)))
    raw = _csv_raw("../data/s.csv")
    del raw["data"]["split"]
    config = _write_config(tmp_path / "project" / "configs" / "c.yaml", raw)
    (tmp_path / "run").mkdir()
    proc = subprocess.run([sys.executable, "-m", "flow", "estimate", str(config), "--json"], cwd=tmp_path / "run",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert '"fits"' in proc.stdout


# --- CSVs that cannot be used: refused with the file, the place and the fix ---------------------------


def _error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        load_dataset(parse_config(raw))
    return str(exc.value)


@pytest.mark.parametrize("first_column", ["number", "date"])
def test_csv_without_header_row_is_refused(tmp_path, first_column):
    csv = tmp_path / "no_header.csv"
    stamps = np.datetime64("2020-01-01T00") + np.arange(60).astype("timedelta64[h]")
    csv.write_text("".join((f"{t}," if first_column == "date" else f"{i + 0.5},") + f"{2 * i}\n"
                           for i, t in enumerate(stamps)))
    msg = _error(_csv_raw(csv))
    assert str(csv) in msg and "first row" in msg and "looks like data" in msg
    assert "header row naming the columns" in msg


def test_csv_without_date_column_names_the_columns_and_the_fix(tmp_path):
    csv = tmp_path / "no_dates.csv"
    csv.write_text("a,v\n" + "".join(f"{i},{2 * i}\n" for i in range(60)))
    msg = _error(_csv_raw(csv))
    assert "data.date_column = 'date'" in msg and str(csv) in msg
    assert "columns found: a, v" in msg and "data.date_column: null" in msg
    # the fix works: rows in file order
    ds = load_dataset(parse_config(_csv_raw(csv, date_column=None)))
    assert np.rint(ds.denormalise(ds.train.y)).astype(int).tolist() == [2 * i for i in range(4, 40)]


@pytest.mark.parametrize("cell, what", [("", "is empty"), ("abc", "is not a number"), ("NA", "marks a missing value"),
                                        ("inf", "is infinite")])
def test_bad_value_is_refused_with_file_line_column_and_content(tmp_path, cell, what):
    """The line counts the header and blank lines (as an editor shows it); the first bad cell in file
    order is named, though the rows are newest first."""
    csv = tmp_path / "series.csv"
    lines = [f"2020-01-01T00:{59 - i:02d},{i},{2 * i}" for i in range(60)]
    lines[7] = f"2020-01-01T00:{59 - 7:02d},7,{cell}"
    lines[20] = f"2020-01-01T00:{59 - 20:02d},xyz,40"  # a later bad cell, not the one reported
    csv.write_text("date,a,v\n" + "\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n")
    msg = _error(_csv_raw(csv))  # features unset: every numeric column, a and v
    # header line 1, rows 0..2 on lines 2..4, a blank line 5, row 3 on line 6, so row 7 on line 10
    assert str(csv) in msg and "line 10," in msg and "column 'v'" in msg
    assert f": {cell!r} {what}" in msg


def test_short_row_is_a_missing_value(tmp_path):
    csv = _series_csv(tmp_path / "short.csv", range(60))
    text = csv.read_text().splitlines()
    text[12] = text[12].split(",")[0]  # the 12th data row has its date only
    csv.write_text("\n".join(text) + "\n")
    msg = _error(_csv_raw(csv))
    assert str(csv) in msg and "line 13, column 'v': '' is empty" in msg


def test_bad_date_is_refused_with_its_line(tmp_path):
    csv = _series_csv(tmp_path / "dates.csv", range(60))
    text = csv.read_text().splitlines()
    text[30] = "yesterday," + text[30].split(",")[1]
    csv.write_text("\n".join(text) + "\n")
    msg = _error(_csv_raw(csv))
    assert str(csv) in msg and "line 31, column 'date': 'yesterday' is not a date" in msg
    assert "data.date_column: null" in msg


def test_cli_prints_a_csv_error_on_one_line_and_exits_2(tmp_path):
    csv = tmp_path / "no_header.csv"
    csv.write_text("".join(f"{i},{2 * i}\n" for i in range(60)))
    config = _write_config(tmp_path / "c.yaml", _csv_raw("no_header.csv", date_column=None))
    proc = subprocess.run([sys.executable, "-m", "flow", "train", str(config), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "looks like data" in lines[0]
    assert str(csv) in lines[0]


# --- tour 5's mistaken files: each named for what it is, with the fix -----------------------------------


def _rows(n=60, start="2020-01-01T00"):
    """(stamp, a, v) of ``n`` hourly rows: a = the row, v = twice the row."""
    stamps = np.datetime64(start) + np.arange(n).astype("timedelta64[h]")
    return [(str(t).replace("T", " ") + ":00:00", i, 2 * i) for i, t in enumerate(stamps)]


def _write_rows(path, rows, header="date,a,v"):
    path.write_text(header + "\n" + "".join(f"{t},{a},{v}\n" for t, a, v in rows))
    return path


def test_newest_first_stamps_with_date_column_null_are_told(tmp_path):
    """b07: data.date_column: null uses the rows in file order; a column of time stamps running newest first (or
    out of order) is told with the fix, data.date_column naming it, as a warning (the run goes on, as the config
    says): a file in time order is not."""
    told = []
    csv = _write_rows(tmp_path / "newest_first.csv", _rows()[::-1])
    ds = load_dataset(parse_config(_csv_raw(csv, date_column=None)), note=told.append)
    assert ds.rows == {"train": 40, "val": 10, "test": 10}
    assert len(told) == 1 and told[0].startswith("warning: data.date_column is null, but column 'date'")
    assert str(csv) in told[0] and "newest first (line 2: '2020-01-03 11:00:00'; line 61: '2020-01-01 00:00:00')" \
        in told[0] and "set data.date_column: date to sort the rows by it" in told[0]
    # without a note: a DataWarning
    with pytest.warns(DataWarning, match="run backwards in time, newest first"):
        load_dataset(parse_config(_csv_raw(csv, date_column=None)))
    # out of order, not reversed
    rows = _rows()
    rows[10], rows[11] = rows[11], rows[10]
    told.clear()
    load_dataset(parse_config(_csv_raw(_write_rows(tmp_path / "swapped.csv", rows), date_column=None)),
                 note=told.append)
    assert len(told) == 1 and "not in time order (1 row earlier than the row above; the first: line 13, " \
        "'2020-01-01 10:00:00', after line 12, '2020-01-01 11:00:00')" in told[0]
    # in time order: nothing to tell
    told.clear()
    load_dataset(parse_config(_csv_raw(_write_rows(tmp_path / "ordered.csv", _rows()), date_column=None)),
                 note=told.append)
    assert told == []


@pytest.mark.parametrize("lookback", ["own", "previous"])
def test_the_rows_a_split_needs_follow_its_lookback(tmp_path, lookback):
    """c15: with data.split.lookback: previous the windows of val and test look back into the rows before their
    split, so a split needs only the rows one window forecasts (data.steps): val 1, test 1 is one window each;
    with own, the whole window and its forecast. Each refusal says which rule applies."""
    csv = _write_rows(tmp_path / "s.csv", _rows(27))
    raw = _csv_raw(csv, window=8, split={"train": 25, "val": 1, "test": 1, "lookback": lookback})
    if lookback == "previous":
        ds = load_dataset(parse_config(raw))
        assert len(ds.val.y) == 1 and len(ds.test.y) == 1
        assert np.rint(ds.denormalise([ds.val.y[0], ds.test.y[0]])).tolist() == [50, 52]  # rows 25 and 26
        raw["data"].update(steps=2, split={"train": 24, "val": 1, "test": 2, "lookback": "previous"})
        msg = _error(raw)
        assert "data.split.val: 1 row, fewer than data.steps (2), the rows one window forecasts (with " \
               "data.split.lookback: previous" in msg and "use a smaller data.steps" in msg
    else:
        msg = _error(raw)
        assert "data.split.val: 1 row, fewer than data.window + data.horizon (9), the rows one window and its " \
               "forecast take (with data.split.lookback: own, each window" in msg
        assert "or set data.split.lookback: previous" in msg


@pytest.mark.parametrize("kind", ["records", "lines", "html"])
def test_a_json_or_html_file_is_not_read_as_csv(tmp_path, kind):
    """a14: a JSON file given as data.path is named as such (not a header of odd column names), and so are JSON
    Lines and a web page saved in place of the CSV."""
    records = [{"date": t, "a": a, "v": v} for t, a, v in _rows()]
    import json
    path = tmp_path / ("data.html" if kind == "html" else "data.json")
    path.write_text("<!DOCTYPE html>\n<html><body>date,a,v</body></html>\n" if kind == "html" else
                    json.dumps(records) if kind == "records" else "".join(json.dumps(r) + "\n" for r in records))
    msg = _error(_csv_raw(path))
    assert f"data.path = '{path}': not a CSV file" in msg and "header names column" not in msg
    if kind == "html":
        assert "line 1 starts with '<!DOCTYPE html>', HTML or XML" in msg
    else:
        assert "it is JSON (line 1 starts with '" + ("[" if kind == "records" else "") + '{"date": "2020-01-01' in msg
        assert "export the data as CSV" in msg


@pytest.mark.parametrize("sep, name", [(",", "','"), ("\u00a0", "U+00A0 NO-BREAK SPACE"),
                                       ("\u202f", "U+202F NARROW NO-BREAK SPACE"), ("'", '"\'"')])
@pytest.mark.parametrize("cells", ["all", "one"])
def test_thousands_separators_are_named_with_file_line_column_and_cell(tmp_path, sep, name, cells):
    """b11, m04: 5,827.0 (or with a no-break space, as a spreadsheet writes it) is not read as a number: the
    message names the file, line, column, the cell and the separator, and says to remove them; whether every cell
    of the column is so (the column is then not numeric) or one."""
    rows = [(t, f'"{1 + a}{sep}{500 + a:03d}.5"' if cells == "all" or a == 7 else a, v) for t, a, v in _rows()]
    csv = _write_rows(tmp_path / "t.csv", rows)
    msg = _error(_csv_raw(csv, features=["a", "v"]))
    assert f"data.path = '{csv}', line {2 if cells == 'all' else 9}, column 'a'" in msg
    first = 0 if cells == "all" else 7
    assert f"{f'{1 + first}{sep}{500 + first:03d}.5'!r} is not a number: {name} separates its thousands, and " \
           f"tsflow reads no thousands separator: write {1 + first}{500 + first:03d}.5 (remove the separators" in msg
    if cells == "all":
        assert "data.features: 'a' is not a numeric column" in msg and "the first of 60 such cells of the 60" in msg
        # without data.features the column is not silently left out of the features (every numeric column)
        msg = _error(_csv_raw(csv))
        assert "data.features is not given, so every numeric column is a feature, but column 'a' is not a numeric " \
               f"column: data.path = '{csv}', line 2, column 'a'" in msg and "separates its thousands" in msg


@pytest.mark.parametrize("cell, unit, plain", [("{}%", "'%'", "{} (the column then holds percent)"),
                                               ("{} kW", "'kW'", "{}"), ("${}", "'$'", "{}"), ("{}\u00b0C", "'°C'", "{}")])
def test_a_column_of_numbers_with_a_unit_is_refused_not_left_out(tmp_path, cell, unit, plain):
    """tour 8 a60: a column whose every value is written '1.34%' was left out of the default features without a
    word, as a column of text is; numbers with a unit before or after them are refused as thousands separators are,
    naming the column, line, cell and the number to write."""
    rows = [(t, cell.format(f"{1 + a}.5"), v) for t, a, v in _rows()]
    csv = _write_rows(tmp_path / "u.csv", rows)
    msg = _error(_csv_raw(csv))
    assert msg.startswith(f"invalid configuration: data.features is not given, so every numeric column is a feature, "
                          f"but column 'a' is not a numeric column: data.path = '{csv}', line 2, column 'a' (the first "
                          f"of 60 such cells of the 60): {cell.format('1.5')!r} is not a number: it carries the unit "
                          f"{unit}, and tsflow reads plain numbers only: write {plain.format('1.5')}, every such value "
                          f"of the column"), msg
    rows = [(t, a if i != 7 else cell.format("8.5"), v) for i, (t, a, v) in enumerate(_rows())]  # one such cell
    msg = _error(_csv_raw(_write_rows(tmp_path / "one.csv", rows)))
    assert f"line 9, column 'a' (data.features): {cell.format('8.5')!r} is not a number: it carries the unit " \
           f"{unit}" in msg, msg


def test_a_column_of_labels_is_still_left_out_of_the_default_features(tmp_path):
    """Not every number beside letters is a quantity: sensor names (S1, S2) and text that now and then holds a
    number and a word are not numbers, and stay out of the features as before."""
    labels = [(t, f"S{a % 7}", v) for t, a, v in _rows()]
    ds = load_dataset(parse_config(_csv_raw(_write_rows(tmp_path / "l.csv", labels))))
    assert ds.features == ["v"]
    text = [(t, "3 days" if a % 10 == 0 else "late", v) for t, a, v in _rows()]
    ds = load_dataset(parse_config(_csv_raw(_write_rows(tmp_path / "t.csv", text))))
    assert ds.features == ["v"]


@pytest.mark.parametrize("dash, name", [("\u2212", "U+2212 MINUS SIGN"), ("\u2013", "U+2013 EN DASH")])
def test_a_minus_sign_other_than_hyphen_minus_is_named(tmp_path, dash, name):
    """m03: '−8.774' looks like a number; the character that is not the ASCII '-' is named."""
    rows = _rows()
    rows[30] = (rows[30][0], f"{dash}8.774", rows[30][2])
    csv = _write_rows(tmp_path / "m.csv", rows)
    msg = _error(_csv_raw(csv, features=["a", "v"]))
    assert f"data.path = '{csv}', line 32, column 'a' (data.features): '{dash}8.774' is not a number: it starts " \
           f"with {name} ('{dash}'), not the ASCII '-' (hyphen-minus), the only minus sign tsflow reads: write " \
           f"-8.774" in msg


def test_a_time_zone_abbreviation_is_named_with_the_offset_to_write(tmp_path):
    """b13: every stamp ends in 'PST': the column, the cell, that abbreviations are not read and the offset to
    write instead, and how many stamps are so (not 'remove that row')."""
    csv = _write_rows(tmp_path / "pst.csv", [(f"{t} PST", a, v) for t, a, v in _rows()])
    msg = _error(_csv_raw(csv))
    assert f"data.path = '{csv}', line 2, column 'date' (data.date_column): '2020-01-01 00:00:00 PST' ends in a " \
           f"time-zone abbreviation ('PST'), which tsflow does not read" in msg
    assert "write the UTC offset instead (2020-01-01 00:00:00-08:00, PST being UTC-08:00), or drop the suffix" in msg
    assert "all 60 time stamps are written so" in msg and "remove that row" not in msg
    # the fix works: the offset
    csv = _write_rows(tmp_path / "offset.csv", [(f"{t}-08:00", a, v) for t, a, v in _rows()])
    assert load_dataset(parse_config(_csv_raw(csv))).rows["train"] == 40


def test_midnight_written_as_24_00_is_named_with_the_next_day(tmp_path):
    """m19: a logger's '2020-01-01 24:00:00' for midnight: that form is named, with the stamp to write (00:00:00 of
    the next day) and how many rows use it."""
    rows = []
    for t, a, v in _rows():
        day, time = t.split(" ")
        if time == "00:00:00":
            day, time = str(np.datetime64(day) - np.timedelta64(1, "D")), "24:00:00"
        rows.append((f"{day} {time}", a, v))
    csv = _write_rows(tmp_path / "h24.csv", rows)
    msg = _error(_csv_raw(csv))
    assert f"data.path = '{csv}', line 2, column 'date' (data.date_column): '2019-12-31 24:00:00' writes midnight " \
           f"as 24:00, which tsflow does not read" in msg
    assert "write it as 00:00 of the next day (2020-01-01 00:00:00); 3 of the 60 time stamps are written so" in msg
    assert "remove that row" not in msg


@pytest.mark.parametrize("kind", ["zip", "zip2", "xlsx", "gzip"])
def test_archives_and_compressed_files_are_named(tmp_path, kind):
    """c03, c04: a zip archive (of one CSV or two) is named as such, with what it holds and to unzip it, not
    dumped as a damaged line of raw bytes; a gzip file too (tsflow reads plain CSV only, no decompression: it was
    read as a damaged file), and an Excel workbook (a zip archive of xl/...)."""
    import gzip
    import zipfile
    text = "date,a,v\n" + "".join(f"{t},{a},{v}\n" for t, a, v in _rows())
    path = tmp_path / {"zip": "d.zip", "zip2": "two.zip", "xlsx": "book.xlsx", "gzip": "d.csv.gz"}[kind]
    if kind == "gzip":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        with zipfile.ZipFile(path, "w") as z:
            for member in {"zip": ["d.csv"], "zip2": ["a.csv", "b.csv"], "xlsx": ["xl/workbook.xml"]}[kind]:
                z.writestr(member, text)
    msg = _error(_csv_raw(path))
    assert msg.isprintable() and "PK" not in msg and "control character" not in msg
    want = {"zip": f"'{path}': a zip archive (holding d.csv), not a CSV file; tsflow reads plain CSV text, not "
                   f"archives (nor gzip or other compressed files): unzip it (unzip d.zip) and set data.path to the "
                   f"CSV",
            "zip2": "a zip archive (holding 2 files: a.csv, b.csv), not a CSV file",
            "xlsx": "an Excel workbook (.xlsx), not a CSV file; tsflow reads CSV text only: save the sheet as CSV",
            "gzip": "gzip-compressed, not a CSV file; tsflow reads plain CSV text only (no archive or compressed "
                    "file): gunzip it (gunzip -k d.csv.gz) and set data.path to the CSV"}[kind]
    assert want in msg


def test_a_zip_archive_is_refused_by_the_cli_on_one_line(tmp_path):
    import zipfile
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as z:
        z.writestr("d.csv", "date,a,v\n" + "".join(f"{t},{a},{v}\n" for t, a, v in _rows()))
    config = _write_config(tmp_path / "c.yaml", _csv_raw("d.zip"))
    proc = subprocess.run([sys.executable, "-m", "flow", "train", str(config), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "a zip archive (holding d.csv)" in lines[0]


def test_header_names_in_single_quotes_show_their_quotes(tmp_path):
    """m01: a header written 'date','a','v': the columns found are shown as repr shows them ("'date'"), so the
    quote characters are seen, and the message says the names carry them."""
    csv = _write_rows(tmp_path / "q.csv", _rows(), header="'date','a','v'")
    msg = _error(_csv_raw(csv))
    assert "data.date_column = 'date': no such column" in msg
    assert "columns found: \"'date'\", \"'a'\", \"'v'\" (the header's names carry quote characters, such as " \
           "\"'date'\": a CSV quotes with \" only, so other quotes are part of the name; write the header without " \
           "them: date,a,v)" in msg
    msg = _error(_csv_raw(csv, date_column=None))
    assert "data.target = 'v': not a column; numeric columns in the file: \"'a'\", \"'v'\" (the header's names " \
           "carry quote characters" in msg


def test_a_trailing_ctrl_z_is_named_and_refused(tmp_path):
    """m07: a DOS end-of-file mark (Ctrl-Z, 0x1A) after the last line. Refused, not ignored: pandas would read it
    as a row of one cell, and tsflow reads the file as it is, so the byte is named with its line and the fix
    (remove it), instead of the empty cells of that row."""
    csv = _write_rows(tmp_path / "dos.csv", _rows())
    csv.write_bytes(csv.read_bytes() + b"\x1a")
    msg = _error(_csv_raw(csv))
    assert f"data.path = '{csv}', line 62: a Ctrl-Z byte (0x1A, the DOS end-of-file mark) after the last row; " \
           f"tsflow reads no end-of-file mark (pandas would take it for a row): remove it (the file's last byte)" in msg
    assert "is empty" not in msg


def test_a_nul_beside_a_carriage_return_is_named_not_traced_back(tmp_path):
    """A NUL in a line that also holds a lone carriage return (as a gzip file's bytes can): the NUL is named with
    its line; the line used to end in the csv module's 'new-line character seen in unquoted field' traceback."""
    csv = _write_rows(tmp_path / "cr.csv", _rows())
    lines = csv.read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b",4,", b",4\x00\r1,")
    csv.write_bytes(b"\n".join(lines))
    msg = _error(_csv_raw(csv))
    assert f"data.path = '{csv}', line 6: " in msg and "1 other NUL byte" not in msg
