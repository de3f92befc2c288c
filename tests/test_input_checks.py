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
import warnings

import numpy as np
import pytest
import yaml

from flow.config import ConfigError, dump_config, load_config, parse_config

from .conftest import CLI_ENV, ETTH1, REPO, TINY, small_raw


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
