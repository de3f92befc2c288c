"""Issue 30, "nothing silently wrong": configurations and data that used to build without a word.

Each case runs the user's path (``load_config`` on a file, ``parse_config`` on a mapping, ``load_dataset`` on a
CSV, or ``tsflow`` as a subprocess where the message has to reach the command line) and checks what the user
reads: a refusal names the key, the value and what to do; a warning states its consequence. Expected counts
(rows unused, rows filled, gaps, windows) are worked out by hand in the comments, never taken from the code
under test.
"""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from flow.config import ConfigError, dump_config, load_config, parse_config

from .conftest import CLI_ENV, REPO, TINY, small_raw


def _refusal(path) -> str:
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    return str(exc.value)


def _parse_error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, "c.yaml")
    return str(exc.value)


def _tsflow(cwd, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flow", *args], cwd=cwd, env=CLI_ENV, capture_output=True,
                          text=True, timeout=600)


def _refused_by_build(tmp_path, text: str | bytes) -> str:
    """``tsflow build c.yaml --out b`` on this file: exit 2, one error line, no traceback, no folder made; the
    message (from 'error:' on)."""
    body = text.encode() if isinstance(text, str) else text
    (tmp_path / "c.yaml").write_bytes(body)
    done = _tsflow(tmp_path, "build", "c.yaml", "--out", "b")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] != []
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()
    return done.stderr[done.stderr.index("error:"):]


# --- 1. an empty configuration file ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, what", [("", "is empty"), ("\n\n", "is empty"),
                                        ("# my settings, to do\n", "sets nothing"), ("---\n", "sets nothing")])
def test_an_empty_configuration_file_is_refused_and_points_to_an_example(tmp_path, text, what):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    msg = _refusal(path)
    assert f"configuration {path} {what}" in msg
    assert "configs/default.yaml" in msg and "{}" in msg


def test_an_explicit_empty_mapping_builds_the_defaults_on_purpose(tmp_path):
    path = tmp_path / "defaults.yaml"
    path.write_text("{}  # the defaults, on purpose\n")
    cfg = load_config(path)
    assert (cfg.name, cfg.data.dataset, cfg.data.window, cfg.model.d_model) == ("default", "seattle-temps", 24, 16)


def test_the_cli_refuses_an_empty_configuration_before_any_folder(tmp_path):
    msg = _refused_by_build(tmp_path, "# nothing yet\n")
    assert "c.yaml sets nothing" in msg and "configs/default.yaml" in msg


def test_every_shipped_configuration_still_loads():
    configs = sorted((REPO / "configs").glob("*.yaml"))
    assert len(configs) >= 10
    for path in configs:  # parsing needs no data file (etth1's CSV is read by load_dataset)
        load_config(path)


# --- 2. a key given twice ---------------------------------------------------------------------------------------

def test_a_key_given_twice_names_the_key_and_both_lines(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: twice\n"          # line 1
                    "data:\n"                # line 2
                    "  window: 8\n"          # line 3
                    "  horizon: 1\n"         # line 4
                    "  window: 16\n")        # line 5
    msg = _refusal(path)
    assert msg.startswith(f"invalid configuration {path}: data.window is given twice, on line 3 (window: 8) "
                          f"and on line 5 (window: 16)")
    assert "keep one of them" in msg


def test_a_section_given_twice_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("training: {seed: 1}\n"   # line 1
                    "model: {d_model: 8}\n"   # line 2
                    "training:\n"             # line 3
                    "  float_epochs: 2\n")
    msg = _refusal(path)
    assert "training is given twice, on line 1" in msg and "on line 3" in msg
    assert "merge the two sections into one" in msg


def test_the_same_key_in_different_sections_and_merge_keys_are_fine(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("quantization:\n"
                    "  bits: 6\n"
                    "  input: {bits: 10}\n"       # 'bits' again, but in another mapping
                    "  layers:\n"
                    "    enc0.q: &narrow {weight: {bits: 4}, output: {bits: 4}}\n"
                    "    enc0.k:\n"
                    "      <<: *narrow\n"
                    "      output: {bits: 5}\n")  # overrides the merged key, as YAML intends
    cfg = load_config(path)
    assert cfg.quantization.bits == 6 and cfg.quantization.input.bits == 10
    assert cfg.quantization.layers["enc0.k"].weight.bits == 4 and cfg.quantization.layers["enc0.k"].output.bits == 5


def test_the_cli_refuses_a_key_given_twice_before_any_folder(tmp_path):
    text = yaml.safe_dump(TINY) + "training: {seed: 5}\n"  # a second training section at the end
    msg = _refused_by_build(tmp_path, text)
    first = 1 + yaml.safe_dump(TINY).splitlines().index("training:")
    last = len(text.splitlines())
    assert f"training is given twice, on line {first}" in msg and f"on line {last}" in msg


# --- 3. the split (the configuration's half; the data's half is below) -----------------------------------------

@pytest.mark.parametrize("split, total, share", [({"train": 0.6, "val": 0.2, "test": 0.1}, "0.9", "10%"),
                                                 ({"train": 0.5, "val": 0.2, "test": 0.2}, "0.9", "10%"),
                                                 ({"train": 0.7, "val": 0.2, "test": 0.2}, "1.1", None)])
def test_split_fractions_must_sum_to_one(split, total, share):
    raw = small_raw()
    raw["data"]["split"] = split
    msg = _parse_error(raw)
    assert f"data.split = {{...}}: fractions sum to {total}, not 1" in msg
    assert (f"{share} of the rows would be in no split" in msg) if share else "more rows than the data has" in msg
    assert "give row counts" in msg


def test_fractions_that_sum_to_one_in_floating_point_are_accepted():
    raw = small_raw()
    raw["data"]["split"] = {"train": 0.7, "val": 0.15, "test": 0.15}  # 1.0000000000000002 in binary
    assert parse_config(raw).data.split.train == 0.7


# --- 6. keys the source makes the flow ignore -------------------------------------------------------------------

def test_a_csv_path_with_the_builtin_source_is_refused(tmp_path):
    raw = small_raw()
    del raw["data"]["source"]  # left at its default, builtin
    raw["data"]["path"] = "series.csv"
    msg = _parse_error(raw)
    assert "data.path = 'series.csv' is set, but data.source is 'builtin' (the default)" in msg
    assert "set data.source: csv" in msg


def test_a_dataset_with_the_csv_source_is_refused(tmp_path):
    raw = small_raw()
    raw["data"].update(source="csv", path=str(tmp_path / "series.csv"), dataset="sf-temps")
    msg = _parse_error(raw)
    assert "data.dataset = 'sf-temps' is set, but data.source is 'csv'" in msg and "remove data.dataset" in msg


def test_a_dumped_csv_configuration_reads_back(tmp_path):
    """A dump writes every key (dataset at its default too); tsflow reads its own dumps back (build folders)."""
    raw = small_raw()
    raw["data"].update(source="csv", path=str(tmp_path / "series.csv"), target="v", features=None)
    del raw["data"]["dataset"]
    cfg = parse_config(raw)
    again = parse_config(yaml.safe_load(dump_config(cfg)))
    assert again == cfg


def test_the_cli_refuses_a_csv_path_left_with_the_builtin_source(tmp_path):
    (tmp_path / "s.csv").write_text("date,v\n2020-01-01 00:00,1\n")
    raw = {**TINY, "data": {**TINY["data"], "path": "s.csv"}}
    msg = _refused_by_build(tmp_path, yaml.safe_dump(raw))
    assert "data.path = 's.csv' is set, but data.source is 'builtin'" in msg and "data.source: csv" in msg


# --- 7. the model's name -----------------------------------------------------------------------------------------

# TensorFlow 2.14's root scope names (tensorflow/python/framework/ops.py, _VALID_SCOPE_NAME_REGEX)
TF_ROOT_SCOPE = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*")


@pytest.mark.parametrize("name", ["mön", "my model", "_private", "-dash", "a/b", "x>y", "...", "", "tab\t"])
def test_a_name_tensorflow_or_a_folder_would_not_take_is_refused(name):
    raw = {**small_raw(), "name": name}
    msg = _parse_error(raw)
    assert f"name = {name!r}: allowed: ASCII letters, digits, '-', '_' and '.'" in msg


@pytest.mark.parametrize("name", ["default", "etth1-d32", "v1.2_a", "1st", ".hidden", "A-Z_0.9"])
def test_a_name_of_the_allowed_characters_is_accepted_and_tensorflow_takes_it(name):
    assert parse_config({**small_raw(), "name": name}).name == name
    assert TF_ROOT_SCOPE.fullmatch(name)


def test_the_cli_refuses_a_non_ascii_name_before_tensorflow_sees_it(tmp_path):
    msg = _refused_by_build(tmp_path, yaml.safe_dump({**TINY, "name": "mön"}, allow_unicode=True))
    assert "name = 'mön': allowed: ASCII letters" in msg and "root scope" not in msg


# --- 8. per-tensor keys a role's type carries but nothing reads --------------------------------------------------

@pytest.mark.parametrize("role, field, value, why", [
    ("table", "rounding", "trn", "rounded half to even when the table is made"),
    ("table", "overflow", "wrap", "never overflow"),
    ("output", "rounding", "rnd", "rounded to nearest"),
    ("output", "overflow", "wrap", "saturated at the type's largest value"),
])
def test_softmax_rounding_and_overflow_keys_that_do_nothing_are_refused(role, field, value, why):
    raw = small_raw()
    raw["quantization"]["layers"] = {"enc0.softmax": {role: {"bits": 10, field: value}}}
    msg = _parse_error(raw)
    assert f"quantization.layers.enc0.softmax.{role}.{field} = {value!r}: has no effect" in msg
    assert why in msg and "allowed keys here: bits, integer" in msg


def test_softmax_widths_and_other_layers_rounding_are_still_accepted():
    raw = small_raw()
    raw["quantization"]["layers"] = {"enc0.softmax": {"table": {"bits": 10, "integer": 1}, "output": {"bits": 9}},
                                     "enc0.scores": {"output": {"rounding": "trn", "overflow": "wrap"}}}
    cfg = parse_config(raw)
    from flow.precision import resolve_precisions

    prec = resolve_precisions(cfg)
    assert prec["enc0.softmax"]["output"].width == 9 and prec["enc0.softmax"]["table"].frac == 9
    assert (prec["enc0.scores"]["output"].rounding, prec["enc0.scores"]["output"].overflow) == ("trn", "wrap")


def test_the_cli_refuses_a_softmax_rounding_key(tmp_path):
    raw = {**TINY, "quantization": {"bits": 8, "layers": {"enc0.softmax": {"output": {"rounding": "trn"}}}}}
    msg = _refused_by_build(tmp_path, yaml.safe_dump(raw))
    assert "quantization.layers.enc0.softmax.output.rounding = 'trn': has no effect" in msg


# --- the data: a CSV of hourly rows, value v and a second column w -----------------------------------------------

def _hours(n: int, start: str = "2020-01-01T00") -> list:
    return list(np.datetime64(start) + np.arange(n).astype("timedelta64[h]"))


def _csv(path, stamps, v, w=None, header="date,v,w"):
    """date,v,w rows (w: the row number mod 5 unless given); written in the order given."""
    w = [i % 5 for i in range(len(v))] if w is None else w
    path.write_text(header + "\n" + "".join(f"{str(t).replace('T', ' ')},{a},{b}\n" for t, a, b in zip(stamps, v, w)))
    return path


def _raw(path, **data) -> dict:
    raw = small_raw()
    raw["data"] = {"source": "csv", "inputs": "levels", "path": str(path), "target": "v", "features": None,
                   "window": 8, **data}
    return raw


def _load(raw):
    """load_dataset through a note: (dataset, the notes it was told)."""
    from flow.data import load_dataset

    notes = []
    ds = load_dataset(parse_config(raw), note=notes.append)
    return ds, notes


def _data_error(raw) -> str:
    from flow.data import load_dataset

    with pytest.raises(ConfigError) as exc:
        load_dataset(parse_config(raw), note=lambda text: None)
    return str(exc.value)


# --- 3. the split's rows -----------------------------------------------------------------------------------------

def test_row_counts_that_leave_rows_unused_say_how_many(tmp_path):
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)])
    ds, notes = _load(_raw(csv, split={"train": 100, "val": 40, "test": 40}))
    assert ds.rows == {"train": 100, "val": 40, "test": 40}
    # 200 rows, 180 in the splits: the last 20 are in none
    assert len(notes) == 1 and notes[0].startswith("warning: data.split:")
    assert "100 + 40 + 40 = 180 use 180 of the 200 rows" in notes[0] and "the last 20 rows" in notes[0]
    assert str(csv) in notes[0] and ds.warnings == [notes[0].removeprefix("warning: ")]


def test_without_a_note_the_warning_is_a_python_warning(tmp_path):
    from flow.data import DataWarning, load_dataset

    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)])
    with pytest.warns(DataWarning, match="the last 20 rows"):
        load_dataset(parse_config(_raw(csv, split={"train": 100, "val": 40, "test": 40})))


def test_row_counts_that_use_every_row_and_fractions_say_nothing(tmp_path):
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)])
    for split in ({"train": 120, "val": 40, "test": 40}, {"train": 0.6, "val": 0.2, "test": 0.2}):
        ds, notes = _load(_raw(csv, split=split))
        assert notes == [] and ds.warnings == [] and ds.rows == {"train": 120, "val": 40, "test": 40}


def test_row_counts_that_look_like_percentages_are_refused_with_the_fractions_to_write():
    """The issue's case: the built-in series (8,759 rows) with {train: 60, val: 20, test: 20}."""
    raw = small_raw()
    raw["data"]["split"] = {"train": 60, "val": 20, "test": 20}
    msg = _data_error(raw)
    assert "data.split = {train: 60, val: 20, test: 20}: row counts (integers) that sum to 100" in msg
    assert "of the 8,759 rows the data has, so 8,659 rows would be unused" in msg  # 8,759 - 100
    assert "write fractions: {train: 0.6, val: 0.2, test: 0.2}" in msg


def test_a_hundred_rows_of_a_short_file_are_row_counts(tmp_path):
    """100 of 999 rows: not taken for percentages (the data is under 1,000 rows), but told: 899 rows unused."""
    csv = _csv(tmp_path / "s.csv", _hours(999), [(i * 7) % 13 for i in range(999)])
    ds, notes = _load(_raw(csv, split={"train": 60, "val": 20, "test": 20}))
    assert ds.rows == {"train": 60, "val": 20, "test": 20}
    assert len(notes) == 1 and "the last 899 rows" in notes[0]


# --- 4. columns that never change ----------------------------------------------------------------------------------

def test_a_constant_target_is_refused_naming_the_column_file_and_value(tmp_path):
    # v is 5 on the 120 training rows (0.6 of 200) and varies after them
    csv = _csv(tmp_path / "s.csv", _hours(200), [5] * 120 + list(range(80)))
    msg = _data_error(_raw(csv))
    assert "data.target = 'v': the column is constant on the 120 training rows" in msg
    assert f"data.path = {str(csv)!r}" in msg and "(every value is 5)" in msg


@pytest.mark.parametrize("command", ["build", "train"])
def test_the_cli_refuses_bad_data_before_any_folder(tmp_path, command):
    """A refusal of the data (here a constant target) comes before the output folder is made: no b, no
    b.partial marked FAILED."""
    csv = _csv(tmp_path / "s.csv", _hours(200), [5] * 120 + list(range(80)))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(_raw(csv)))
    done = _tsflow(tmp_path, command, "c.yaml", "--out", "b")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "error: " in done.stderr and "the column is constant on the 120 training rows" in done.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()


@pytest.mark.parametrize("factor, squares", [(1e-310, True), (1e-45, False)])
def test_a_target_below_float32s_range_is_refused_as_a_constant_one_is(tmp_path, factor, squares):
    """tour 8 a50: a target scaled by 1e-310 (subnormal) trained with every error 0, baselines included, and exit
    0; values below float32's normal range are refused naming data.target, the magnitude and the power of ten to
    multiply by (their squares, the errors, underflow float64 too only far enough below)."""
    v = [((i * 7) % 13 + 1) * factor for i in range(200)]
    csv = _csv(tmp_path / "s.csv", _hours(200), v)
    msg = _data_error(_raw(csv))
    largest = f"{max(v):.4g}"
    assert msg.startswith(f"invalid configuration: data.target = 'v': its values in data.path = {str(csv)!r} are all "
                          f"below float32's normal range (the largest magnitude is {largest}; the smallest normal "
                          f"float32 is 1.18e-38): in float32, "), msg
    assert ("every error would read 0" in msg) == squares, msg
    assert msg.endswith(f"multiply the column by a power of ten in the file (by 1e{309 if squares else 44}, for values "
                        f"of order 1)"), msg


@pytest.mark.parametrize("features", [None, ["v", "w"]])
def test_a_feature_below_float32s_range_is_refused_naming_the_key_that_made_it_one(tmp_path, features):
    """The class of a50: any feature column whose every value is below float32's normal range, not only the
    target; 1e-30 (inside the range) is fine."""
    w = [((i * 3) % 7) * 1e-320 for i in range(200)]
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)], w=w)
    msg = _data_error(_raw(csv, features=features))
    key = ("data.features is not given, so every numeric column is a feature, but column 'w'" if features is None
           else "data.features: column 'w'")
    assert msg.startswith(f"invalid configuration: {key}: its values in data.path = {str(csv)!r} are all below "
                          f"float32's normal range"), msg
    assert "so it carries nothing; multiply the column by a power of ten in the file (by 1e320" in msg, msg
    fine = _csv(tmp_path / "f.csv", _hours(200), [(i * 7) % 13 for i in range(200)],
                w=[((i * 3) % 7) * 1e-30 for i in range(200)])
    ds, _ = _load(_raw(fine, features=features))
    assert ds.features == ["v", "w"]


def test_a_target_constant_outside_the_training_rows_is_fine(tmp_path):
    csv = _csv(tmp_path / "s.csv", _hours(200), list(range(120)) + [7] * 80)
    ds, notes = _load(_raw(csv))
    assert notes == [] and ds.rows["train"] == 120


def test_a_constant_feature_is_told_and_kept(tmp_path):
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)], w=[2.5] * 200)
    ds, notes = _load(_raw(csv))
    assert ds.features == ["v", "w"]
    assert len(notes) == 1 and "data.features: column 'w'" in notes[0]
    assert "constant on the 120 training rows (every value is 2.5)" in notes[0]
    assert "carries no information" in notes[0] and "remove it from data.features" in notes[0]


@pytest.mark.parametrize("inputs", ["levels", "differences"])
def test_a_feature_constant_on_the_training_rows_only_is_told_to_reach_the_model_unscaled(tmp_path, inputs):
    """Tour 7 a83: HULL, 2 on the training rows and 167 .. 764 after them, was told to carry no information, while
    its values reached the model unscaled (scale 1) and the float test MSE was 15.3 against 0.76."""
    w = [2.0] * 120 + [100 + 5 * i for i in range(40)] + [50 - i for i in range(40)]  # val 100 .. 295, test 11 .. 50
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)], w=w)
    ds, notes = _load(_raw(csv, inputs=inputs))
    assert len(notes) == 1 and "data.features: column 'w'" in notes[0]
    assert "constant on the 120 training rows (every value is 2) but not after them (validation rows 100 .. 295 " \
           "and test rows 11 .. 50): its scale is taken as 1" in notes[0]
    reach = "its changes reach the model unscaled (up to 5 a step)" if inputs == "differences" else \
        "those values reach the model unscaled, as 9 .. 293 (less the training rows' 2)"
    assert reach in notes[0] and "carries no information" not in notes[0]
    assert "remove it from data.features, or give data.split.train rows where it varies" in notes[0]
    assert ds.scaler.scale[1] == 1.0  # what the warning says: the run goes on with the column unscaled


def test_a_fill_value_among_the_training_rows_is_told_with_what_it_does_to_the_scale(tmp_path):
    """Tour 7 a39: one HULL value 1e20 (a logger's fill value) among the training rows went through without a word;
    its scale became 2.9e18 and every other value of the column scaled to one number."""
    w = [float(i % 5) for i in range(200)]  # 0 .. 4: median 2, inter-quartile range 2
    text_w = [f"{x:g}" for x in w]
    text_w[30] = "1e20"  # line 32, a training row (the first 120)
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)], w=text_w)
    ds, notes = _load(_raw(csv, inputs="levels"))
    assert len(notes) == 1, notes
    assert f"data.features: column 'w' of data.path = {str(csv)!r}: line 32 holds '1e20' (on the training rows), " \
           "5e+19 times the column's inter-quartile range (2) from its median (2)" in notes[0]
    assert "a fill value a logger writes for a missing reading?" in notes[0]
    # the scale is that of the training rows with it: the standard deviation of 119 values in 0 .. 4 and one 1e20
    assert f"It sets the column's standard scale, {ds.scaler.scale[1]:.3g} instead of 1.4" in notes[0]
    assert 1e18 < ds.scaler.scale[1] < 1e19 and "the column carries almost nothing to the model" in notes[0]
    assert "Replace it with a reading in the file, or remove that row" in notes[0]


def test_a_fill_value_on_the_test_rows_is_told_with_what_the_model_reads(tmp_path):
    w = [f"{i % 5}" for i in range(200)]
    w[180] = w[190] = "-9999"  # lines 182 and 192, test rows (the last 40)
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)], w=w)
    ds, notes = _load(_raw(csv, inputs="levels"))
    assert len(notes) == 1, notes
    assert "line 182 holds '-9999' and 1 other row so far out (on the test rows)" in notes[0]
    # the training rows 0 .. 4, mean 2 and standard deviation sqrt(2): -9999 scales to (-9999 - 2) / 1.414
    assert "The training rows' scale takes it to -7.07e+03 (the training rows scale to -1.41 .. 1.41)" in notes[0]
    assert "its test forecasts of the windows holding it are meaningless" in notes[0]
    assert "Replace them with readings in the file, or remove those rows" in notes[0]


def test_rain_and_other_long_tailed_columns_are_not_told_as_fill_values(tmp_path):
    rain = [0.0] * 200
    for i, r in zip(range(3, 200, 11), [0.2, 1.5, 7.0, 0.4, 22.0, 3.1, 0.8, 12.5, 0.1, 5.5, 2.0, 9.0, 0.3, 4.2, 1.1,
                                       6.6, 0.9, 15.0]):
        rain[i] = r
    csv = _csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)], w=rain)
    _, notes = _load(_raw(csv, inputs="levels"))
    assert notes == []


# --- 5. the time stamps: gaps, repeats, UTC offsets ---------------------------------------------------------------

def _with_a_gap(tmp_path, v=None):
    """200 hourly rows less the 10 hours 2020-01-03 02:00 .. 11:00 (rows 50..59): 190 rows, one gap between
    line 51 (2020-01-03 01:00) and line 52 (2020-01-03 12:00)."""
    keep = [i for i in range(200) if not 50 <= i < 60]
    stamps = _hours(200)
    v = [(i * 7) % 13 for i in range(200)] if v is None else v
    return _csv(tmp_path / "gaps.csv", [stamps[i] for i in keep], [v[i] for i in keep], [i % 5 for i in keep])


def test_a_gap_is_allowed_by_default_and_told_with_the_windows_that_span_it(tmp_path):
    ds, notes = _load(_raw(_with_a_gap(tmp_path)))
    assert ds.rows == {"train": 114, "val": 38, "test": 38}  # 0.6, 0.2, 0.2 of 190 rows
    assert len(notes) == 1
    note = notes[0]
    assert "1 gap, 10 missing steps in all" in note and "is 1 hour" in note
    assert "2020-01-03 01:00:00 (line 51) is followed by 2020-01-03 12:00:00 (line 52), 10 steps missing" in note
    # a window is 9 rows (window 8, horizon 1); the gap precedes sorted row 50, in the training rows 0..113: the
    # windows starting at rows 42..49 span it (8); windows: 114 - 8 + 38 - 8 + 38 - 8 = 166
    assert "8 of the 166 windows span a gap" in note and "data.gaps: fill" in note


def test_gaps_refuse_names_the_first_gap_the_count_and_the_options(tmp_path):
    msg = _data_error(_raw(_with_a_gap(tmp_path), gaps="refuse"))
    assert msg.startswith("invalid configuration: data.gaps = 'refuse': the time stamps of data.path")
    assert "1 gap, 10 missing steps in all" in msg
    assert "2020-01-03 01:00:00 (line 51) is followed by 2020-01-03 12:00:00 (line 52)" in msg
    assert "data.gaps: fill" in msg and "data.gaps: allow" in msg


def test_gaps_fill_interpolates_the_missing_rows_and_says_how_many(tmp_path):
    ramp = [float(3 * i) for i in range(200)]  # a straight line: linear interpolation gives the missing rows back
    ds, notes = _load(_raw(_with_a_gap(tmp_path, v=ramp), gaps="fill"))
    assert ds.rows == {"train": 120, "val": 40, "test": 40}  # 190 rows + 10 filled = 200
    assert len(notes) == 1 and "filled in 10 rows by linear interpolation" in notes[0]
    assert "the data has 200 rows instead of 190" in notes[0]
    # training targets: rows 8..119 of the complete ramp, the filled ones (50..59) included
    assert np.allclose(ds.denormalise(ds.train.y), ramp[8:120])


def _typo(tmp_path, year: str):
    """200 hourly rows from 2020-01-01 00:00 whose row 120 (line 122, 2020-01-06 00:00) has its year mistyped."""
    stamps = _hours(200)
    stamps[120] = np.datetime64(str(stamps[120]).replace("2020", year))
    return _csv(tmp_path / "typo.csv", stamps, [(i * 7) % 13 for i in range(200)])


def test_a_mistyped_year_is_named_by_its_line(tmp_path):
    """2120: sorted last, it leaves a 1-hour gap where it stood (lines 121 to 123) and a century's gap after the
    last row (line 201, 2020-01-09 07:00); both gaps named, and the line that causes them."""
    ds, notes = _load(_raw(_typo(tmp_path, "2120")))
    [note] = notes
    assert "2 gaps" in note
    assert "the first: 2020-01-05 23:00:00 (line 121) is followed by 2020-01-06 01:00:00 (line 123), 1 step" in note
    assert "the largest: 2020-01-09 07:00:00 (line 201) is followed by 2120-01-06 00:00:00 (line 122)" in note
    assert ("line 122 ('2120-01-06 00') is out of the file's time order (beside line 121 '2020-01-05 23' and "
            "line 123 '2020-01-06 01'): a mistyped time stamp?") in note
    # 2002: sorted first, the gap is before line 2; the stray is line 122 again, not its neighbour
    msg = _data_error(_raw(_typo(tmp_path, "2002"), gaps="refuse"))
    assert "the first: 2002-01-06 00:00:00 (line 122) is followed by 2020-01-01 00:00:00 (line 2)" in msg
    assert "line 122 ('2002-01-06 00') is out of the file's time order" in msg


def test_fill_refuses_to_make_up_more_rows_than_the_data_holds(tmp_path):
    """2120 - 2020: 100 years of hours to fill (876,497 rows) from 200 rows: refused, not interpolated."""
    msg = _data_error(_raw(_typo(tmp_path, "2120"), gaps="fill"))
    assert msg.startswith("invalid configuration: data.gaps = 'fill': ")
    assert "line 122 ('2120-01-06 00') is out of the file's time order" in msg
    assert "filling in would make up 876,497 rows, more than the 200 the data holds: correct the time stamps" in msg


def test_a_monthly_calendar_has_no_gaps(tmp_path):
    """Months of 28 to 31 days, leap year included: the step is 31 days, no difference is 1.5 steps."""
    stamps = [np.datetime64(f"{2019 + m // 12}-{m % 12 + 1:02d}-01") for m in range(60)]
    ds, notes = _load(_raw(_csv(tmp_path / "m.csv", stamps, [(i * 7) % 13 for i in range(60)]), window=4,
                           gaps="refuse"))
    assert notes == [] and ds.rows["train"] == 36


def test_no_gap_check_without_a_date_column(tmp_path):
    csv = tmp_path / "plain.csv"
    csv.write_text("v,w\n" + "".join(f"{(i * 7) % 13},{i % 5}\n" for i in range(200)))
    ds, notes = _load(_raw(csv, date_column=None))
    assert notes == [] and ds.rows["train"] == 120


def test_a_repeated_time_stamp_is_refused_naming_both_lines(tmp_path):
    stamps = _hours(200)
    stamps[30] = stamps[20]  # line 32 repeats line 22's stamp (the header is line 1)
    msg = _data_error(_raw(_csv(tmp_path / "s.csv", stamps, [(i * 7) % 13 for i in range(200)])))
    assert "column 'date': line 22 ('2020-01-01 20') and line 32 ('2020-01-01 20') hold the same time stamp, " \
           "2020-01-01 20:00:00" in msg
    assert "remove or merge the repeated rows" in msg


def test_two_utc_offsets_of_one_instant_are_refused(tmp_path):
    """02:00+01:00 is 01:00 UTC: the same instant as the row before it."""
    csv = tmp_path / "tz.csv"
    rows = [f"2020-01-01 {h:02d}:00+00:00,{(h * 7) % 13},{h % 5}" for h in range(2)]
    rows += ["2020-01-01 02:00+01:00,4,4"]
    rows += [f"2020-01-{1 + h // 24:02d} {h % 24:02d}:00+00:00,{(h * 7) % 13},{h % 5}" for h in range(2, 60)]
    csv.write_text("date,v,w\n" + "\n".join(rows) + "\n")
    msg = _data_error(_raw(csv, window=4))
    assert "line 3 ('2020-01-01 01:00+00:00') and line 4 ('2020-01-01 02:00+01:00') hold the same time stamp, " \
           "2020-01-01 01:00:00+00:00 once converted to UTC" in msg


def test_utc_offsets_that_do_not_collide_are_put_in_time_order(tmp_path):
    csv = tmp_path / "tz.csv"
    # 60 hours in UTC, every other one written in UTC+02:00 (the same instant two hours later on the clock)
    rows = [(f"2020-01-{1 + h // 24:02d} {h % 24:02d}:00+00:00" if h % 2 else
             f"2020-01-{1 + (h + 2) // 24:02d} {(h + 2) % 24:02d}:00+02:00") + f",{h},{h % 5}" for h in range(60)]
    csv.write_text("date,v,w\n" + "\n".join(rows) + "\n")
    ds, notes = _load(_raw(csv, window=4))
    assert notes == []
    assert np.rint(ds.denormalise(ds.train.y)).astype(int).tolist() == list(range(4, 36))  # v = the hour, in order


def test_the_builtin_series_miss_one_hour_and_say_so():
    """seattle-temps has no 2010-03-14 03:00 (the change to summer time): 1 gap; the default build goes on."""
    from flow.data import load_dataset

    notes = []
    ds = load_dataset(load_config(REPO / "configs" / "default.yaml"), note=notes.append)
    assert ds.rows == {"train": 5255, "val": 1751, "test": 1751}  # as before the check: nothing filled
    assert len(notes) == 1
    # 8,759 rows; rows 1,731 and 1,732 (02:00, 04:00); windows of 25 rows starting at 0-based rows 1,707..1,730
    # span it (24); windows: 5,255 - 24 + 2 * (1,751 - 24) = 8,685
    assert "2010-03-14 02:00:00 (row 1731) is followed by 2010-03-14 04:00:00 (row 1732)" in notes[0]
    assert "24 of the 8,685 windows span a gap" in notes[0]


def test_gaps_with_no_date_column_is_refused_as_doing_nothing(tmp_path):
    msg = _parse_error(_raw(tmp_path / "x.csv", date_column=None, gaps="fill"))
    assert "data.gaps = 'fill' is set, but data.date_column is null" in msg


# --- what the command line shows -----------------------------------------------------------------------------------

def test_tsflow_build_prints_the_data_warnings(tmp_path):
    """The warnings come before anything else can stop the build (here the estimate: 32 DSP lanes)."""
    keep = [i for i in range(200) if not 50 <= i < 60]
    stamps = _hours(200)
    _csv(tmp_path / "s.csv", [stamps[i] for i in keep], [(i * 7) % 13 for i in keep])
    raw = {**TINY, "data": {"source": "csv", "path": "s.csv", "target": "v", "window": 8, "inputs": "levels",
                            "split": {"train": 100, "val": 40, "test": 40}},
           "model": {"d_model": 16, "heads": 1, "layers": 1, "ffn": 64, "predict_delta": False},
           "hls": {"default_multiplier": "dsp", "default_parallelism": 32}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    done = _tsflow(tmp_path, "build", "c.yaml", "--out", "b")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "does not fit" in done.stderr
    assert "the last 10 rows (in time order) are in no split" in done.stderr  # 190 rows, 180 used
    assert "1 gap, 10 missing steps in all" in done.stderr
    assert done.stderr.index("in no split") < done.stderr.index("error:")


# --- the user tour: a CSV's header and its dates --------------------------------------------------------------

def _header_csv(path, header: str, rows: list[str]):
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def _tour_raw(path, **data) -> dict:
    return _raw(path, target="load", **data)


def test_a_row_index_column_written_by_pandas_is_refused(tmp_path):
    csv = _header_csv(tmp_path / "i.csv", ",date,load,temp",
                      [f"{i},2021-01-01 00:{i:02d}:00,{i % 7},{i % 5}" for i in range(60)])
    msg = _data_error(_tour_raw(csv))
    assert f"data.path = {str(csv)!r}: column 1 of the header (,date,load,temp) has no name" in msg
    assert "row index" in msg and "index=False" in msg and "Unnamed" not in msg


def test_trailing_commas_are_named_as_an_unnamed_empty_column(tmp_path):
    csv = _header_csv(tmp_path / "t.csv", "date,load,temp,",
                      [f"2021-01-01 00:{i:02d}:00,{i % 7},{i % 5}," for i in range(60)])
    msg = _data_error(_tour_raw(csv))
    assert "column 4 of the header (date,load,temp,) has no name and no values" in msg
    assert "trailing commas" in msg and "Unnamed" not in msg and "fill in or remove that row" not in msg


def test_an_unnamed_column_in_the_middle_is_refused(tmp_path):
    csv = _header_csv(tmp_path / "m.csv", "date,,load",
                      [f"2021-01-01 00:{i:02d}:00,{i % 3},{i % 7}" for i in range(60)])
    assert "column 2 of the header (date,,load) has no name; every column needs a name" in _data_error(_tour_raw(csv))


def test_a_column_name_given_twice_in_the_header_is_refused(tmp_path):
    csv = _header_csv(tmp_path / "d.csv", "date,temp,temp",
                      [f"2021-01-01 00:{i:02d}:00,{i % 7},{i % 5}" for i in range(60)])
    msg = _data_error(_raw(csv, target="temp"))
    assert "the header names column 'temp' twice, columns 2 and 3" in msg and "temp.1" in msg


def test_a_date_column_that_mixes_formats_names_both(tmp_path):
    rows = [f"2021-01-01 00:{i:02d}:00,{i % 7},{i % 5}" for i in range(60)]
    rows[1] = "01/01/2021 00:01,1,1"  # line 3 of the file
    csv = _header_csv(tmp_path / "f.csv", "date,load,temp", rows)
    msg = _data_error(_tour_raw(csv))
    assert "column 'date' (data.date_column): the time stamps mix date formats" in msg
    assert "line 2 '2021-01-01 00:00:00' (%Y-%m-%d %H:%M:%S) and line 3 '01/01/2021 00:01' (%m/%d/%Y %H:%M)" in msg
    assert "write every time stamp in one format" in msg and "fill in or remove that row" not in msg


def test_a_cell_that_is_no_date_at_all_is_still_named_by_its_line(tmp_path):
    rows = [f"2021-01-01 00:{i:02d}:00,{i % 7},{i % 5}" for i in range(60)]
    rows[2] = "soon,1,1"  # line 4
    csv = _header_csv(tmp_path / "n.csv", "date,load,temp", rows)
    msg = _data_error(_tour_raw(csv))
    assert "line 4, column 'date': 'soon' is not a date" in msg and "mix date formats" not in msg


# --- the user tour, data loading: what stands above the header, damaged cells, dates, decimal commas, the grid ----

def _hourly(n: int = 300, start: str = "2021-01-01", fmt: str = "%Y-%m-%d %H:%M:%S") -> list[str]:
    """n hourly time stamps from ``start``, written in ``fmt``."""
    from datetime import datetime, timedelta

    t0 = datetime.fromisoformat(start)
    return [(t0 + timedelta(hours=h)).strftime(fmt) for h in range(n)]


def _temps(stamps: list[str], above: str = "", temp=None) -> str:
    """The tour's file: ``above`` (lines before the header), then date,temp,load with temp = (i * 7) % 13 + 0.5
    unless given, load = i % 5."""
    temp = [f"{(i * 7) % 13 + 0.5}" for i in range(len(stamps))] if temp is None else temp
    return above + "date,temp,load\n" + "".join(f"{t},{v},{i % 5}\n" for i, (t, v) in enumerate(zip(stamps, temp)))


def _temps_raw(tmp_path, text: str | bytes, **data) -> dict:
    path = tmp_path / "temps.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return _raw(path, features=["temp", "load"], target="temp", **data)


def _temps_error(tmp_path, text, **data) -> str:
    msg = _data_error(_temps_raw(tmp_path, text, **data))
    assert msg.isprintable(), msg  # every control character escaped, as repr writes it
    return msg


def test_a_comment_line_above_the_header_is_named_as_a_comment(tmp_path):
    """e06: pandas took '# exported from logger v2' for the header, and data.date_column was not found."""
    msg = _temps_error(tmp_path, _temps(_hourly(), above="# exported from logger v2\n"))
    assert f"data.path = {str(tmp_path / 'temps.csv')!r}: line 1 ('# exported from logger v2') looks like a " \
           f"comment; the header (the column names) is expected on line 1" in msg
    assert "remove that line" in msg and "no such column" not in msg
    msg = _temps_error(tmp_path, _temps(_hourly(), above="# logger v2\n# site 4\n"))
    assert "lines 1 to 2 look like comments (they start with '#'; the first: '# logger v2')" in msg
    assert "remove those lines" in msg
    # numpy.savetxt(..., header='date,temp,load') writes the header itself as a comment: the '#' is what to remove
    msg = _temps_error(tmp_path, _temps(_hourly()).replace("date,temp,load", "# date,temp,load", 1))
    assert "line 1 ('# date,temp,load') looks like the header written as a comment" in msg
    assert "remove the '#' at the start of line 1" in msg
    # a header whose first column is named '#' (a row number) is a header, read as written
    text = "#,date,temp,load\n" + "".join(f"{i},{t},{i % 7},{i % 5}\n" for i, t in enumerate(_hourly()))
    ds, notes = _load(_temps_raw(tmp_path, text))
    assert notes == [] and ds.rows == {"train": 180, "val": 60, "test": 60}


def test_excels_separator_line_is_named_and_line_1_to_delete(tmp_path):
    """e45: 'sep=,' was read as the header, 'column 2 of the header (sep=,) has no name'."""
    msg = _temps_error(tmp_path, _temps(_hourly(), above="sep=,\n"))
    assert "line 1 ('sep=,') is Excel's separator line" in msg and "delete line 1" in msg
    assert "has no name" not in msg and "comma-separated" not in msg
    msg = _temps_error(tmp_path, _temps(_hourly(), above="sep=;\n").replace(",", ";").replace("sep=;", "sep=;"))
    assert "line 1 ('sep=;') is Excel's separator line" in msg and "save the file as comma-separated CSV" in msg


def test_a_nul_byte_is_named_escaped_as_a_damaged_cell(tmp_path):
    """e35: a NUL inside a time stamp was printed raw and called a mix of date formats; in a value, pandas ends the
    cell at the NUL, so '1\\x007' was silently read as 1."""
    stamps = _hourly()
    stamps[50] = stamps[50][:5] + "\0" + stamps[50][5:]  # line 52
    msg = _temps_error(tmp_path, _temps(stamps))
    assert "line 52, column 'date' (data.date_column): '2021-\\x0001-03 02:00:00' holds a control character " \
           "('\\x00', a NUL byte)" in msg
    assert "the file looks damaged" in msg and "mix date formats" not in msg
    temp = [f"{(i * 7) % 13 + 0.5}" for i in range(300)]
    temp[20] = "1\x007"  # line 22
    msg = _temps_error(tmp_path, _temps(_hourly(), temp=temp))
    assert "line 22, column 'temp' (data.target): '1\\x007' holds a control character ('\\x00', a NUL byte)" in msg
    # another control character, which pandas keeps in the cell: named the same way
    stamps = _hourly()
    stamps[7] = stamps[7].replace(" ", "\x1b")  # line 9: an escape, which would drive the terminal if printed raw
    msg = _temps_error(tmp_path, _temps(stamps))
    assert "line 9, column 'date' (data.date_column): '2021-01-01\\x1b07:00:00' holds a control character " \
           "('\\x1b', a control character)" in msg


def test_the_cli_prints_a_nul_byte_escaped_on_one_error_line(tmp_path):
    stamps = _hourly()
    stamps[50] = stamps[50][:5] + "\0" + stamps[50][5:]
    (tmp_path / "temps.csv").write_text(_temps(stamps))
    msg = _refused_by_build(tmp_path, yaml.safe_dump({"data": {"source": "csv", "path": "temps.csv", "target": "temp",
                                                               "features": ["temp", "load"]}}))
    assert "\0" not in msg and "'2021-\\x0001-03 02:00:00' holds a control character" in msg
    assert len(msg.splitlines()) == 1 and "Warning" not in msg


def test_day_first_dates_are_read_day_first_without_a_pandas_warning(tmp_path):
    """e32: 01.01.2021 00:00 ... 13.01.2021 00:00 (dd.mm.yyyy): pandas read the first stamps month first, warned,
    then failed at the 13th day, and the message called one format a mix of two."""
    import warnings

    v = [float(i) for i in range(300)]  # v = the hour: read day first, the rows stay in file order, no gap
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds, notes = _load(_temps_raw(tmp_path, _temps(_hourly(fmt="%d.%m.%Y %H:%M"), temp=v)))
    assert [str(w.message) for w in caught] == [] and notes == []
    assert ds.rows == {"train": 180, "val": 60, "test": 60}
    assert np.rint(ds.denormalise(ds.train.y)).astype(int).tolist() == list(range(8, 180))
    # 100 hours (01.01 to 05.01): no day above 12, but only the day-first reading has no gaps
    ds, notes = _load(_temps_raw(tmp_path, _temps(_hourly(100, fmt="%d.%m.%Y %H:%M"), temp=v[:100]), window=4))
    assert notes == [] and np.rint(ds.denormalise(ds.train.y)).astype(int).tolist() == list(range(4, 60))
    # month first (US), a day above 12: read month first as before
    ds, notes = _load(_temps_raw(tmp_path, _temps(_hourly(fmt="%m/%d/%Y %H:%M"), temp=v)))
    assert notes == [] and np.rint(ds.denormalise(ds.train.y)).astype(int).tolist() == list(range(8, 180))
    # a real mix in a day-first file: the day-first format is the one named and suggested
    stamps = _hourly(fmt="%d.%m.%Y %H:%M")
    stamps[299] = "2021-01-13 11:00"
    msg = _temps_error(tmp_path, _temps(stamps))
    assert "line 2 '01.01.2021 00:00' (%d.%m.%Y %H:%M) and line 301 '2021-01-13 11:00' (%Y-%m-%d %H:%M)" in msg
    assert "(such as %d.%m.%Y %H:%M)" in msg


def test_numbers_in_the_date_column_are_refused_not_read_as_nanoseconds(tmp_path):
    """e48: integer years were read as nanoseconds since 1970 (1970-01-01 00:00:00.000001699)."""
    text = "date,temp,load\n" + "".join(f"{1600 + i},{(i * 7) % 13},{i % 5}\n" for i in range(400))
    msg = _temps_error(tmp_path, text)
    assert "line 2, column 'date' (data.date_column = 'date'): the time stamps are numbers ('1600')" in msg
    assert "nanoseconds since 1970" in msg and "1600-01-01" in msg and "data.date_column: null" in msg
    assert "1970-01-01 00:00" not in msg
    text = "date,temp,load\n" + "".join(f"202101{1 + i % 28:02d},{i},{i % 5}\n" for i in range(28))
    assert "write them as dates (2021-01-01 for 20210101)" in _temps_error(tmp_path, text, window=4)


def test_a_decimal_comma_is_named_with_its_line_and_the_number_to_write(tmp_path):
    """e51: quoted "10,063" made the target 'not a numeric column (most of its cells are not numbers)'."""
    temp = [f'"{10 + i % 7},0{i % 9}3"' for i in range(300)]
    msg = _temps_error(tmp_path, _temps(_hourly(), temp=temp))
    assert msg.startswith("invalid configuration: data.target = 'temp': not a numeric column: data.path = ")
    assert "line 2, column 'temp' (the first of 300 such cells of the 300): '10,003' looks like a number written " \
           "with a decimal comma" in msg
    assert "write 10.003 (or 10003 if the comma separates thousands)" in msg
    # one such cell among numbers: named by its line as well
    temp = [f"{(i * 7) % 13 + 0.5}" for i in range(300)]
    temp[40] = '"2,5"'  # line 42
    msg = _temps_error(tmp_path, _temps(_hourly(), temp=temp))
    assert "line 42, column 'temp' (data.target): '2,5' looks like a number written with a decimal comma" in msg
    assert "write 2.5," in msg and "thousands" not in msg
    temp = [f"{(i * 7) % 13 + 0.5}" for i in range(300)]
    load = [f"{i % 5}" for i in range(300)]
    load[9] = '"-0,25"'  # line 11, a feature that is not the target
    text = _temps(_hourly(), temp=temp).splitlines()
    text = "\n".join([text[0]] + [f"{r.rsplit(',', 1)[0]},{v}" for r, v in zip(text[1:], load)]) + "\n"
    assert "line 11, column 'load' (data.features): '-0,25' looks like a number written with a decimal comma; " \
           "tsflow reads a decimal point only: write -0.25," in _temps_error(tmp_path, text)


@pytest.mark.parametrize("gaps", ["refuse", "fill", "allow"])
def test_a_time_stamp_off_the_grid_is_refused_in_every_gaps_mode(tmp_path, gaps):
    """e53: 08:30 between 07:00 and 09:00 of hourly stamps was told as a gap (1 step missing) and never named;
    data.gaps: fill invented 08:00 and kept the half step."""
    stamps = _hourly()
    stamps[200] = "2021-01-09 08:30:00"  # line 202; 08:00 is gone
    stamps[250] = "2021-01-11 10:15:00"  # line 252
    msg = _temps_error(tmp_path, _temps(stamps), gaps=gaps)
    assert "line 202, column 'date' (data.date_column): '2021-01-09 08:30:00' is off the grid of the time step, " \
           "1 hour" in msg
    assert "it lies 30 minutes after a step" in msg and "2 rows of the 300 are off the grid" in msg
    assert "correct or remove that row" in msg and "missing" not in msg


def test_the_grid_is_the_stamps_not_the_first_one(tmp_path):
    stamps = _hourly()
    stamps[0] = "2021-01-01 00:10:00"  # line 2 is off, not the 299 others
    msg = _temps_error(tmp_path, _temps(stamps))
    assert "line 2, column 'date' (data.date_column): '2021-01-01 00:10:00' is off the grid" in msg
    assert "it lies 10 minutes after a step" in msg and "it is the only row off the grid" in msg


def test_stamps_a_logger_clock_scatters_around_the_hour_are_told_to_be_rounded(tmp_path):
    """Tour 7 a38: hourly stamps jittered by up to 40 s were refused as off the grid of a 3603 s step (their most
    common difference), with the advice to resample to one row every 3603 seconds."""
    from datetime import datetime, timedelta

    jitter = [((i * 37) % 81) - 40 for i in range(300)]  # -40 .. +40 seconds; i = 0 is -40, i = 1 is -3
    t0 = datetime(2021, 1, 1)
    stamps = [(t0 + timedelta(hours=h, seconds=j)).strftime("%Y-%m-%d %H:%M:%S") for h, j in enumerate(jitter)]
    msg = _temps_error(tmp_path, _temps(stamps))
    assert "line 2, column 'date' (data.date_column): '2020-12-31 23:59:20' is 40 seconds before the grid of a " \
           "1 hour step" in msg
    assert "scatter around a step of 1 hour by up to 40 seconds" in msg
    assert "round the time stamps to the step of 1 hour (pandas: pd.to_datetime(df['date']).dt.round('1h'))" in msg
    assert "resample" not in msg
    # one late stamp among exact ones: the same advice, naming it
    stamps = _hourly()
    stamps[5] = "2021-01-01 05:00:28"  # line 7
    msg = _temps_error(tmp_path, _temps(stamps))
    assert "line 7, column 'date' (data.date_column): '2021-01-01 05:00:28' is 28 seconds after the grid of a " \
           "1 hour step" in msg and "(1 of the 300 are off it)" in msg and ".dt.round('1h')" in msg
    # hourly at half past: no pandas round to the hour, which would move every stamp
    stamps = [(t0 + timedelta(hours=h, minutes=30, seconds=j)).strftime("%Y-%m-%d %H:%M:%S")
              for h, j in enumerate(jitter)]
    msg = _temps_error(tmp_path, _temps(stamps))
    assert "the grid of a 1 hour step" in msg and msg.endswith("round the time stamps to the step of 1 hour")


def test_local_days_across_summer_time_are_on_the_grid(tmp_path):
    """Days written with their UTC offset (+01:00, then +02:00 from 28 March) are 23 hours apart once in UTC."""
    from datetime import date, timedelta

    stamps = [f"{date(2021, 3, 1) + timedelta(days=d)} 00:00{'+01:00' if d < 27 else '+02:00'}" for d in range(60)]
    ds, notes = _load(_temps_raw(tmp_path, _temps(stamps), window=4, gaps="refuse"))
    assert notes == [] and ds.rows == {"train": 36, "val": 12, "test": 12}


# --- the tour's last cases: parts of other families, a configuration through a pipe, search keys that do nothing

@pytest.mark.parametrize("part, family", [("xczu3eg-sbva484-1-e", "a Zynq UltraScale+"),
                                          ("xc7k325tffg900-2", "a Kintex-7")])
def test_a_part_of_a_family_tsflow_does_not_price_is_named_as_such(part, family):
    msg = _parse_error({"target": {"part": part}})
    assert f"target.part = {part!r}" in msg and f"is {family} part" in msg and "xc7s15" in msg


def test_a_configuration_given_through_a_pipe_is_read(tmp_path):
    script = f"{sys.executable} -m flow estimate <(cat {REPO / 'configs' / 'default.yaml'})"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=CLI_ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "latency" in done.stdout + done.stderr and "not found" not in done.stderr


@pytest.mark.parametrize("key, why", [("name", "the name only names the run"),
                                      ("search.float_epochs", "the search's own settings are not a candidate's"),
                                      ("export.cosim", "export settings only shape the vendor scripts")])
def test_a_search_key_that_changes_no_candidate_is_refused(key, why):
    from flow.search.space import check_space

    values = {"name": ["a", "b"], "search.float_epochs": [1, 2], "export.cosim": [True, False]}[key]
    with pytest.raises(ConfigError) as err:
        check_space(parse_config({"search": {"space": {key: values}}}))
    assert f"search.space.{key}: {why}" in str(err.value)


# --- tour 6: a batch larger than the training set; the long-horizon benchmark's own split ------------------------

@pytest.mark.parametrize("batch, told", [(113, True), (112, False)])
def test_a_batch_size_above_the_training_windows_is_told_as_one_step_an_epoch(tmp_path, batch, told):
    """a80: batch_size 4096 on 1,792 training windows trained without a word, one step an epoch."""
    from flow.data import load_dataset
    from flow.training.fit import train

    # 200 rows, the default split: 120 training rows, windows of 8 steps and the 1 forecast: 120 - 9 + 1 = 112
    raw = _raw(_csv(tmp_path / "s.csv", _hours(200), [(i * 7) % 13 for i in range(200)]))
    raw["training"].update(float_epochs=1, qat_epochs=1, batch_size=batch)
    cfg = parse_config(raw)
    ds = load_dataset(cfg, note=lambda text: None)
    notes = []
    train(cfg, ds, note=notes.append)
    warned = [n for n in notes if "training.batch_size" in n]
    if not told:
        assert warned == []
        return
    assert warned == ["warning: training.batch_size = 113 is more than the 112 training windows: every epoch is one "
                      "step on one batch of all 112 (as batch_size 112 would be), so the epochs and the patience of "
                      "early stopping count single steps; a batch_size below 112 (the default is 64) makes several "
                      "steps an epoch"]


@pytest.mark.parametrize("overflow", ["wrap", "sat"])
def test_values_that_wrap_around_are_told_with_the_windows_and_the_error_they_cost(tmp_path, overflow):
    """Tour 7 a62: overflow: wrap gave a test MSE of 25 against 0.72 with sat, and nothing said so."""
    from flow.data import load_dataset
    from flow.training.fit import train

    # training rows 0 .. 12; the test rows (the last 40) 40 higher: their windows go past the binary points the
    # training windows placed, and wrap. 40 test rows, windows of 8 and the forecast: 40 - 9 + 1 = 32 windows
    v = [(i * 7) % 13 for i in range(160)] + [40 + (i * 7) % 13 for i in range(40)]
    raw = _raw(_csv(tmp_path / "s.csv", _hours(200), v), inputs="levels")
    raw["training"].update(float_epochs=1, qat_epochs=1)
    raw["quantization"] = {"bits": 6, "rounding": "trn", "overflow": overflow}
    cfg = parse_config(raw)
    ds = load_dataset(cfg, note=lambda text: None)
    notes = []
    result = train(cfg, ds, note=notes.append)
    warned = [n for n in notes if "wrapped around" in n]
    if overflow == "sat":
        assert warned == []
        return
    assert len(warned) == 1 and warned[0].startswith("warning: quantization.overflow = 'wrap' (on ")
    found = re.search(r"test: (\d+) of the 32 windows, MSE (\S+) against (\S+?)[ ;]", warned[0])
    assert found and int(found[1]) > 0, warned[0]
    assert found[2] == f"{result.metrics['test']['mse']:.4g}"  # the quantized test MSE the run reports
    assert "the same weights with overflow sat" in warned[0] and "set quantization.overflow: sat" in warned[0]


def test_the_long_horizon_benchmark_names_its_own_split_for_a_short_file(tmp_path):
    """b50: a 2,000-row ETTh1 was refused as 'data.split asks for 14400 rows', a key the user never set."""
    rows = "".join(f"{t},{i % 7}.5,{i % 5},1,2,3,4,{i % 11}\n"
                   for i, t in enumerate(str(s).replace("T", " ") for s in _hours(2000)))
    (tmp_path / "short.csv").write_text("date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n" + rows)
    done = subprocess.run([sys.executable, "-m", "flow.benchmarks.longhorizon", "--data", "short.csv", "--lookbacks",
                           "8", "--steps", "4"], cwd=tmp_path, env=CLI_ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr, done.stderr
    msg = " ".join(done.stderr.split())
    assert "--data short.csv: 2,000 rows below its header; the long-horizon protocol takes rows 0-14,399 of ETTh1 " \
           "(8,640 train, 2,880 validation, 2,880 test: 14,400 rows" in msg
    assert "give the full ETTh1.csv" in msg and "data.split" not in msg
