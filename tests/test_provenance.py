"""Provenance: which rows each decision of training reads, proved by spies on the data it receives.

A small CSV is written here whose test rows carry a huge constant (every column of every test row is
its plain value plus 1,000,000), so a test row is recognisable by value wherever it travels, scaled or
not (scaled, a test value is about 10^5; a training or validation value is within +-4). The decisions
and where they are made:

* the normalisation statistics (``flow.data.load_dataset``, the ``Scaler`` it builds; with
  ``inputs: differences`` also ``flow.data.change_scale``): training rows only;
* early stopping (``flow.training.fit._fit``: ``keras.Model.fit`` with ``validation_data``, and the QAT
  phase's starting point through ``keras.Model.evaluate``): training windows for the loss, validation
  windows for the validation loss that ``KeepBest`` compares;
* ``integer: auto`` (``flow.training.binary_points.choose`` / ``float_values``): training windows only;
* the test split: only the final metrics (``flow.training.fit.predict`` -> ``split_metrics`` and the
  baselines), never any of the above.

Each spy wraps the production function with ``monkeypatch`` and records the arrays it received; the
expected windows are computed here from the CSV's rows (Python floats, ``statistics``), not by the flow.
"""
from __future__ import annotations

import copy
import inspect
import statistics

import numpy as np
import pytest

from .conftest import TINY

MARK = 1_000_000.0  # added to every cell of every test row
ROWS = {"train": 240, "val": 80, "test": 80}
WINDOW = 8
COLUMNS = ["load", "OT", "temp"]  # the target is the second column
TARGET = 1


def raw_rows() -> list[list[float]]:
    """Quarter steps (exact in binary and in the CSV's decimal text), with a daily cycle; test rows marked."""
    n = sum(ROWS.values())
    rows = []
    for i in range(n):
        load = 40 + (37 * i % 29) / 4 + 8 * ((i % 24) >= 12)
        ot = 60 + (i * i % 53) / 4 - 3 * ((i % 24) < 6)
        temp = 20 + (11 * i % 17) / 4
        mark = MARK if i >= ROWS["train"] + ROWS["val"] else 0.0
        rows.append([load + mark, ot + mark, temp + mark])
    return rows


def write_csv(path, rows) -> None:
    stamps = np.datetime64("2021-03-01T00") + np.arange(len(rows)).astype("timedelta64[h]")
    path.write_text("date," + ",".join(COLUMNS) + "\n"
                    + "".join(f"{t}," + ",".join(repr(v) for v in r) + "\n" for t, r in zip(stamps, rows)))


def config(csv, inputs="levels") -> dict:
    raw = copy.deepcopy(TINY)
    raw["name"] = "provenance"
    raw["data"] = {"source": "csv", "path": str(csv), "date_column": "date", "features": COLUMNS, "target": "OT",
                   "window": WINDOW, "inputs": inputs, "split": dict(ROWS)}
    return raw


def by_hand(rows):
    """Per column mean and population standard deviation of the training rows, every row scaled by them,
    and the windows (x: rows t..t+7, y: OT at t+8) of each split, all in plain Python floats."""
    train = rows[:ROWS["train"]]
    mean = [statistics.fmean(r[c] for r in train) for c in range(len(COLUMNS))]
    sd = [statistics.pstdev([r[c] for r in train]) for c in range(len(COLUMNS))]
    scaled = [[(r[c] - mean[c]) / sd[c] for c in range(len(COLUMNS))] for r in rows]
    windows, start = {}, 0
    for name in ("train", "val", "test"):
        part = scaled[start:start + ROWS[name]]
        count = ROWS[name] - WINDOW
        windows[name] = (np.array([part[t:t + WINDOW] for t in range(count)]),
                         np.array([part[t + WINDOW][TARGET] for t in range(count)]))
        start += ROWS[name]
    return mean, sd, windows


def holds_test_rows(a) -> bool:
    a = np.asarray(a, dtype=np.float64)
    return a.size > 0 and float(np.max(np.abs(a))) > 1e4


def same(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-12)


class Spies:
    """Records (who, {argument: array}) for every call of the wrapped functions, in call order."""

    def __init__(self, mp):
        import flow.data
        import flow.training.binary_points as points
        import flow.training.fit as fit
        from tensorflow import keras

        self.calls = []
        self._wrap(mp, flow.data, "Scaler", ("offset", "scale"))
        self._wrap(mp, flow.data, "change_scale", ("train_rows",))
        self._wrap(mp, points, "choose", ("x_train",))
        self._wrap(mp, points, "float_values", ("x_train",))
        self._wrap(mp, fit, "predict", ("x",))
        self._wrap(mp, fit, "split_metrics", ("pred_scaled", "split"))
        self._wrap(mp, fit, "persistence_forecast", ("split",))
        self._wrap(mp, fit, "linear_forecast", ("train", "split"))
        self._wrap(mp, keras.Model, "fit", ("x", "y", "validation_data"), method=True)
        self._wrap(mp, keras.Model, "evaluate", ("x", "y"), method=True)
        self._wrap(mp, keras.Model, "predict", ("x",), method=True)

    def _wrap(self, mp, owner, name, arguments, method=False):
        original = getattr(owner, name)
        signature = inspect.signature(original)
        who = f"keras.Model.{name}" if method else name

        def spy(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            seen = {}
            for arg in arguments:
                value = bound.arguments.get(arg)
                if value is None:
                    continue
                if hasattr(value, "x") and hasattr(value, "y"):  # a Split: what the function can read of it
                    seen[arg + ".x"], seen[arg + ".y"] = np.array(value.x), np.array(value.y)
                elif isinstance(value, tuple):  # validation_data
                    for i, v in enumerate(value):
                        seen[f"{arg}[{i}]"] = np.array(v)
                else:
                    seen[arg] = np.array(value)
            self.calls.append((who, seen))
            return original(*args, **kwargs)

        mp.setattr(owner, name, spy)

    def of(self, who) -> list[dict]:
        return [seen for w, seen in self.calls if w == who]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``train`` (1 float + 1 QAT epoch, integer: auto) on the marked CSV, every decision spied on."""
    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.training.fit import train

    rows = raw_rows()
    csv = tmp_path_factory.mktemp("provenance") / "marked.csv"
    write_csv(csv, rows)
    with pytest.MonkeyPatch.context() as mp:
        spies = Spies(mp)
        cfg = parse_config(config(csv))
        ds = load_dataset(cfg)
        result = train(cfg, ds)
    return spies, rows, ds, result


def test_the_scaler_reads_only_training_rows(trained):
    spies, rows, ds, _ = trained
    mean, sd, _ = by_hand(rows)
    fitted = spies.of("Scaler")
    assert len(fitted) == 1
    # the statistics of rows 0..239 alone; one test row (+10^6) in them would move every mean by 10^6 / 241
    assert same(fitted[0]["offset"], mean) and same(fitted[0]["scale"], sd)
    assert not holds_test_rows(fitted[0]["offset"]) and max(mean) < 100
    assert same(ds.scaler.offset, mean) and same(ds.scaler.scale, sd)


def test_the_change_scale_of_differenced_inputs_reads_only_training_rows(tmp_path, monkeypatch):
    from flow.config import parse_config
    from flow.data import load_dataset

    rows = raw_rows()
    csv = tmp_path / "marked.csv"
    write_csv(csv, rows)
    spies = Spies(monkeypatch)
    load_dataset(parse_config(config(csv, inputs="differences")))
    mean, sd, _ = by_hand(rows)
    (seen,) = spies.of("change_scale")
    scaled_train = [[(r[c] - mean[c]) / sd[c] for c in range(3)] for r in rows[:ROWS["train"]]]
    assert same(seen["train_rows"], scaled_train)  # the 240 training rows, scaled; nothing else


def test_early_stopping_reads_the_validation_windows_and_the_loss_the_training_windows(trained):
    spies, rows, _, _ = trained
    _, _, windows = by_hand(rows)
    fits = spies.of("keras.Model.fit")
    assert len(fits) == 2  # the float phase and the QAT phase
    for seen in fits:
        assert same(seen["x"], windows["train"][0]) and same(seen["y"], windows["train"][1])
        assert same(seen["validation_data[0]"], windows["val"][0])
        assert same(seen["validation_data[1]"], windows["val"][1])
    evaluations = spies.of("keras.Model.evaluate")  # each epoch's val_loss, and QAT's starting point
    assert len(evaluations) >= 3
    for seen in evaluations:
        assert same(seen["x"], windows["val"][0]) and same(seen["y"], windows["val"][1])


def test_integer_auto_binary_points_are_chosen_from_the_training_windows(trained):
    spies, rows, _, result = trained
    _, _, windows = by_hand(rows)
    assert result.points  # TINY leaves every binary point to integer: auto
    (chosen,) = spies.of("choose")
    (values,) = spies.of("float_values")
    assert same(chosen["x_train"], windows["train"][0])
    assert same(values["x_train"], windows["train"][0])  # 232 windows: fewer than MAX_WINDOWS, all of them


def test_the_test_split_is_read_only_for_the_final_metrics(trained):
    spies, rows, _, result = trained
    _, _, windows = by_hand(rows)
    assert holds_test_rows(windows["test"][0]) and not holds_test_rows(windows["val"][0])
    readers = {who for who, seen in spies.calls if any(holds_test_rows(a) for a in seen.values())}
    assert readers == {"predict", "keras.Model.predict", "split_metrics", "persistence_forecast", "linear_forecast"}
    # and those calls are the metrics: the float and the quantized model's errors, each on val and test
    metric_splits = [seen["split.x"] for seen in spies.of("split_metrics")]
    assert len(metric_splits) == 4
    assert sum(same(x, windows["test"][0]) for x in metric_splits) == 2
    assert sum(same(x, windows["val"][0]) for x in metric_splits) == 2
    # the linear baseline is fitted on the training windows and only applied to val and test
    for seen in spies.of("linear_forecast"):
        assert same(seen["train.x"], windows["train"][0])
    assert {"val", "test", "baselines", "float"} <= set(result.metrics)
