"""A catalogue of the mistakes a user can make in a first hour, each run through the real ``tsflow``.

Every case starts ``python -m flow ...`` from a fresh working folder of its own, with relative paths, and
checks that the command refuses with one clear message: exit 2 (1 only where a verification fails), no
traceback, exactly one line starting with ``error:`` (a configuration error may list its problems as
indented ``  key = value: ...`` lines under it), and text that names what to fix: the key path, the
file, the line and column, or the flag.

No case trains or compiles: each fails before that, and the build folders the commands check are made
by hand (``_fake_build``) with the files those commands look for.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
import yaml

from .conftest import CLI_ENV as ENV, PART, TINY, as_unprivileged, require_mode_bits



# ------------------------------------------------------------------------------------ what cases write

def _merge(base: dict, change: dict) -> dict:
    out = json.loads(json.dumps(base))
    for key, value in change.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def config(text=None, **change):
    """Setup: ``c.yaml``, TINY with ``change`` merged in section by section, or ``text`` verbatim."""
    def write(cwd: Path):
        body = text if text is not None else yaml.safe_dump(_merge(TINY, change))
        (cwd / "c.yaml").write_bytes(body if isinstance(body, bytes) else body.encode())
    return write


def csv_rows(n: int = 200, header: str = "date,v,w", edit: dict | None = None, name="s.csv") -> Callable:
    """Setup: an hourly CSV of ``n`` rows (file line k + 1 is row k; line 1 the header) with lines
    replaced by ``edit`` {file line: text}, and a config reading it (``c.yaml``)."""
    def write(cwd: Path):
        lines = [header] + [f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00,{(i * 7) % 13 - 6},{i % 5}" for i in range(n)]
        for line, text in (edit or {}).items():
            lines[line - 1] = text
        (cwd / name).write_text("\n".join(lines) + "\n" if lines else "")
        csv_config()(cwd)
    return write


def csv_config(path="s.csv", **data):
    return config(data={"source": "csv", "path": path, "target": "v", "features": None, **data})


def both(*setups):
    def write(cwd: Path):
        for setup in setups:
            setup(cwd)
    return write


def file(name: str, content: str | bytes = "x\n"):
    def write(cwd: Path):
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return write


def folder(name: str):
    def write(cwd: Path):
        (cwd / name).mkdir(parents=True, exist_ok=True)
    return write


def _fake_train(out: Path) -> None:
    """What ``runs.folder_kind`` takes for a train folder."""
    out.mkdir(parents=True)
    for name in ("metrics.json", "model.weights.h5", "config.yaml"):
        (out / name).write_text("{}\n")


def fake_train(name: str):
    return lambda cwd: _fake_train(cwd / name)


def _tiny_points() -> str:
    """binary_points.yaml for TINY: every integer: auto tensor at its prior (the file training writes)."""
    from flow.training.binary_points import points_yaml
    from flow.config import parse_config
    from flow.precision import resolve_precisions

    prec = resolve_precisions(parse_config(TINY))
    return points_yaml({(layer, role): prec.types[layer][role].integer for layer, role in prec.auto})


def fake_build(name: str = "b", without: tuple[str, ...] = (), extra: dict | None = None):
    """Setup: a build folder as ``tsflow build`` leaves it, as far as ``csim`` and ``export`` look
    (the files of ``runs.CSIM_NEEDS``, what the C simulation's sources include, and ``export._check_project``),
    without the files or folders in ``without``; the weights are not a real model."""
    def write(cwd: Path):
        files = {
            "model/config.yaml": yaml.safe_dump(TINY),
            "model/dataset.json": json.dumps({"name": "seattle-temps", "features": ["temp"], "target": "temp",
                                              "target_index": 0}),
            "model/model.weights.h5": "not HDF5\n",
            "model/binary_points.yaml": _tiny_points(),
            "model/metrics.json": "{}\n",
            "hls/firmware/tsflow_model.cpp": '// firmware\n#include "tsflow_model.h"\n#include "parameters.h"\n',
            "hls/firmware/tsflow_model.h": '// firmware\n#include "ap_fixed.h"\n',  # from hls4ml's ap_types
            "hls/firmware/parameters.h": '#include "weights/embed_weight.h"\n#include "weights/embed_bias.h"\n',
            "hls/firmware/weights/embed_weight.h": "// weights\n",
            "hls/firmware/weights/embed_bias.h": "// weights\n",
            "hls/tsflow_tb.cpp": '// testbench\n#include "firmware/tsflow_model.h"\n',
            "plan.json": '{"engine": null, "loops": []}\n',
            "estimate.json": '{"total": {"dsp": 0, "bram18": 0}}\n',
            "hls/tb_data/inputs.bin": b"\0" * 16,
            "hls/tb_data/expected.bin": b"\0" * 16,
            "hls/csim.bin": b"\x7fELF garbage",
            "csim.json": '{"bit_exact": true}\n',
            "build.json": "{}\n",
            **(extra or {}),
        }
        for rel, content in files.items():
            if not any(rel == w or rel.startswith(w.rstrip("/") + "/") for w in without):
                file(f"{name}/{rel}", content)(cwd)
    return write


def running_partial(name: str):
    """Setup: ``NAME.partial`` of a run whose process (this test's) is alive on this machine."""
    def write(cwd: Path):
        p = cwd / f"{name}.partial"
        p.mkdir()
        (p / "RUNNING").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                               "started": "2024-01-01 00:00:00"}))
    return write


def report(name: str, part: str = PART, top: str = "tsflow_model", lut: str = "2000") -> Callable:
    """Setup: a minimal Vitis HLS csynth.xml."""
    return file(name, f"""<profile>
  <ReportVersion><Version>2023.1</Version></ReportVersion>
  <UserAssignments><Part>{part}</Part><TopModelName>{top}</TopModelName>
    <TargetClockPeriod>10.00</TargetClockPeriod><FlowTarget>vivado</FlowTarget></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><EstimatedClockPeriod>7.0</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency><Best-caseLatency>1000</Best-caseLatency><Worst-caseLatency>1200</Worst-caseLatency>
      <Interval-min>1001</Interval-min><Interval-max>1201</Interval-max></SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>2</BRAM_18K><DSP>3</DSP><FF>1000</FF><LUT>{lut}</LUT></Resources>
    <AvailableResources><BRAM_18K>40</BRAM_18K><DSP>20</DSP><FF>16000</FF><LUT>8000</LUT></AvailableResources>
  </AreaEstimates>
</profile>
""")


def calibration(name: str = "cal.json", **content):
    body = {"part": PART, "config": "tiny", "factors": {"lut": 1.1}, **content}
    return file(name, json.dumps(body))


# ---------------------------------------------------------------------------------------- the catalogue

@dataclass
class Case:
    id: str
    args: list[str]
    setup: Callable | None = None
    expect: list[str] = field(default_factory=list)  # each must appear in the error message
    code: int = 2
    free_text: bool = False  # the message may go on in unindented lines (commands to copy)
    mode_bits: bool = False  # needs permissions that bind (as root: its capabilities dropped in the child)



CASES = [
    # --- the configuration file itself
    Case("config-missing", ["train", "nope.yaml", "--out", "r"], None, ["configuration file not found: nope.yaml"]),
    Case("config-is-a-folder", ["estimate", "conf.d"], folder("conf.d"), ["'CONFIG'", "conf.d", "is a directory"]),
    Case("yaml-syntax", ["estimate", "c.yaml"], config(text="model: {d_model: 8\n"),
         ["c.yaml is not valid YAML", "line 2, column 1", "line 1, column 8"]),
    Case("yaml-tab-indent", ["build", "c.yaml", "--out", "b"], config(text="model:\n\td_model: 8\n"),
         ["c.yaml is not valid YAML", "line 2, column 1", "'\\t'"]),
    Case("yaml-not-utf8", ["sweep", "c.yaml"], config(text=b"name: caf\xe9\n"), ["c.yaml is not UTF-8", "byte 9"]),
    Case("top-level-list", ["train", "c.yaml", "--out", "r"], config(text="- model\n- data\n"),
         ["c.yaml", "top level must be a mapping, got list"]),
    Case("top-level-scalar", ["estimate", "c.yaml"], config(text="just words\n"),
         ["c.yaml", "top level must be a mapping, got str"]),
    Case("yaml-octal-number", ["estimate", "c.yaml"], config(text="data:\n  window: 010\n"),
         ["c.yaml", "line 2: 010 is read by YAML as the octal number 8", "write 10, without the leading zero"]),
    Case("yaml-base-60-number", ["estimate", "c.yaml"], config(text="target:\n  clock_mhz: 1:40\n"),
         ["line 2: 1:40 is read by YAML as the base-60 number 100", "write the number without the colon"]),
    Case("qat-keys-without-qat", ["train", "c.yaml", "--out", "r"],
         config(training={"qat_epochs": 0, "qat_learning_rate": 0.01, "qat_patience": 5}),
         ["training.qat_epochs = 0, but training.qat_learning_rate, training.qat_patience are set",
          "they do nothing"]),
    Case("block-design-memory-without-axi-lite", ["build", "c.yaml", "--out", "b"],
         config(export={"local_memory_kb": 64}),
         ["export.local_memory_kb = 64 is set", "needs hls.interface: s_axilite", "'ap_vld'"]),
    Case("clock-negative", ["estimate", "c.yaml"], config(target={"clock_mhz": -100}),
         ["target.clock_mhz = -100: allowed: > 0"]),
    Case("split-quoted-numbers", ["estimate", "c.yaml"],
         config(text="data:\n  split: {train: '0.6', val: '0.2', test: '0.2'}\n"),
         ["data.split.train = '0.6': a string (quoted in the YAML), not a number; write it without the quotes (0.6)"]),
    Case("feature-named-on", ["estimate", "c.yaml"], config(text="data:\n  features: [temp, on]\n"),
         ["data.features.1 = True: YAML reads an unquoted on, yes or true as the boolean True; quote it"]),
    Case("section-keys-not-indented", ["estimate", "c.yaml"], config(text="data:\nwindow: 8\n"),
         ["data = None: the section is empty; its keys", "go indented below it",
          "window = 8: unknown key (window is a key of data: indent it below that section)"]),
    Case("yaml-key-without-space", ["estimate", "c.yaml"], config(text="name: x\ndata:\n  window:8\n  target: t\n"),
         ["line 3 writes 'window:8' without a space after the colon", "write 'window: 8'"]),
    Case("date-column-is-the-target", ["train", "c.yaml", "--out", "r"], config(data={"date_column": "temp"}),
         ["data.target and data.date_column both name the column 'temp'"]),
    Case("sweep-a-float-model", ["sweep", "c.yaml"], config(text="quantization: {enabled: false}\n"),
         ["quantization.enabled = False: the sweep estimates the quantized design"]),
    Case("search-a-float-model", ["search", "c.yaml", "--trials", "2", "--out", "s"],
         config(text="quantization: {enabled: false}\nsearch: {space: {model.d_model: [8, 16]}}\n"),
         ["quantization.enabled = False: the search scores quantized candidates"]),
    Case("out-named-like-a-staging-folder", ["train", "c.yaml", "--out", "r.partial"], config(),
         ["output folder r.partial: a name ending in .partial is what tsflow gives a run that has not finished"]),
    Case("lanes-past-the-row", ["estimate", "c.yaml"], config(hls={"parallelism": {"enc0.ffn1": 4096}}),
         ["hls.parallelism.enc0.ffn1 = 4096: more lanes than the 8 value(s) its reads run along a clock",
          "allowed: 1, 2, 4, 8"]),
    Case("out-name-too-long", ["train", "c.yaml", "--out", "x" * 300], config(),
         ["its name is 300 bytes long, too long for the file system"]),
    Case("search-empty-study-name", ["search", "c.yaml", "--trials", "1", "--out", "s", "--study", ""],
         config(search={"space": {"model.d_model": [8, 16]}}), ["--study '': an empty name"]),
    Case("data-path-a-device", ["estimate", "c.yaml"],
         config(data={"source": "csv", "path": "/dev/null", "features": None, "target": "v"}),
         ["data.path = '/dev/null': not a regular file"]),
    Case("config-empty", ["build", "c.yaml", "--out", "b"], config(text=""),
         ["configuration c.yaml is empty", "configs/default.yaml"]),
    Case("config-only-comments", ["train", "c.yaml", "--out", "r"], config(text="# to do: my settings\n"),
         ["configuration c.yaml sets nothing", "configs/default.yaml"]),
    Case("yaml-duplicate-key", ["estimate", "c.yaml"], config(text="data:\n  window: 8\n  window: 16\n"),
         ["c.yaml", "data.window is given twice, on line 2 (window: 8) and on line 3 (window: 16)"]),
    Case("yaml-duplicate-section", ["build", "c.yaml", "--out", "b"],
         config(text="training: {seed: 1}\nmodel: {d_model: 8}\ntraining: {seed: 2}\n"),
         ["c.yaml", "training is given twice, on line 1", "on line 3", "merge the two sections"]),
    # --- unknown keys, at several depths
    Case("unknown-top-key", ["train", "c.yaml", "--out", "r"], config(modle={"d_model": 8}),
         ["modle = {...}: unknown key", "allowed keys here: data, export, hls, model"]),
    Case("unknown-key-depth-2", ["build", "c.yaml", "--out", "b"], config(model={"dmodel": 8}),
         ["model.dmodel = 8: unknown key", "d_model"]),
    Case("unknown-key-depth-3", ["estimate", "c.yaml"], config(data={"split": {"train": 0.6, "tset": 0.2}}),
         ["data.split.tset = 0.2: unknown key", "allowed keys here: lookback, test, train, val"]),
    Case("unknown-key-depth-5", ["sweep", "c.yaml"],
         config(quantization={"layers": {"embed": {"weight": {"bitz": 4}}}}),
         ["quantization.layers.embed.weight.bitz = 4: unknown key", "bits, integer, overflow, rounding"]),
    Case("unknown-tensor", ["estimate", "c.yaml"], config(quantization={"layers": {"embed": {"weights": {"bits": 4}}}}),
         ["quantization.layers.embed.weights", "unknown key", "weight"]),
    # --- wrong types, ranges, enums
    Case("type-int", ["estimate", "c.yaml"], config(model={"d_model": "eight"}),
         ["model.d_model = 'eight'", "valid integer"]),
    Case("type-list", ["train", "c.yaml", "--out", "r"], config(data={"features": "temp"}),
         ["data.features = 'temp': a list, not a single value; write it as [temp]"]),
    Case("type-section", ["build", "c.yaml", "--out", "b"], config(quantization=[8, 4]),
         ["quantization = [8, 4]", "a section, not a value: its keys go indented below it"]),
    Case("range-window", ["estimate", "c.yaml"], config(data={"window": 1}), ["data.window = 1: allowed: >= 2 and <= 512"]),
    Case("range-learning-rate", ["train", "c.yaml", "--out", "r"], config(training={"learning_rate": 5}),
         ["training.learning_rate = 5: allowed: > 0 and <= 1"]),
    Case("range-clock", ["estimate", "c.yaml"], config(target={"clock_mhz": 0}), ["target.clock_mhz = 0", "> 0"]),
    Case("enum-scaling", ["estimate", "c.yaml"], config(data={"scaling": "zscore"}),
         ["data.scaling = 'zscore': allowed: 'standard' or 'minmax'"]),
    Case("enum-rounding", ["sweep", "c.yaml"], config(quantization={"rounding": "nearest"}),
         ["quantization.rounding = 'nearest'", "allowed:"]),
    Case("enum-parallelism", ["estimate", "c.yaml"], config(hls={"default_parallelism": "fast"}),
         ["hls.default_parallelism = 'fast': allowed: 'auto' or an integer"]),
    Case("enum-storage-value", ["build", "c.yaml", "--out", "b"], config(hls={"storage": {"input": "flash"}}),
         ["hls.storage.input = 'flash': allowed: 'registers', 'lutram', 'bram' or 'auto'"]),
    Case("heads-divide", ["build", "c.yaml", "--out", "b"], config(model={"d_model": 10, "heads": 3}),
         ["model = {...}", "d_model (10) must be divisible by heads (3)"]),
    Case("split-mix", ["train", "c.yaml", "--out", "r"], config(data={"split": {"train": 0.6, "val": 3, "test": 0.2}}),
         ["data.split", "val: 3 (a row count)", "use fractions (all < 1, summing to 1) or row counts (all integers), "
                        "not a mix"]),
    Case("no-epochs", ["train", "c.yaml", "--out", "r"], config(training={"float_epochs": 0, "qat_epochs": 0}),
         ["training = {...}", "float_epochs + qat_epochs must be >= 1"]),
    Case("bad-name", ["estimate", "c.yaml"], config(name="my model"), ["name = 'my model'", "letters, digits"]),
    Case("name-not-ascii", ["build", "c.yaml", "--out", "b"], config(name="mön"),
         ["name = 'mön'", "ASCII letters, digits"]),
    Case("split-fractions-short", ["train", "c.yaml", "--out", "r"],
         config(data={"split": {"train": 0.6, "val": 0.2, "test": 0.1}}),
         ["data.split", "fractions sum to 0.9, not 1", "10% of the rows", "row counts"]),
    Case("csv-path-builtin-source", ["build", "c.yaml", "--out", "b"], config(data={"path": "s.csv"}),
         ["data.path = 's.csv' is set, but data.source is 'builtin'", "data.source: csv"]),
    Case("softmax-rounding-no-effect", ["estimate", "c.yaml"],
         config(quantization={"layers": {"enc0.softmax": {"table": {"overflow": "wrap"}}}}),
         ["quantization.layers.enc0.softmax.table.overflow = 'wrap': has no effect", "bits, integer"]),
    # --- per-layer names
    Case("quant-layer-name", ["estimate", "c.yaml"], config(quantization={"layers": {"enc9.q": {"weight": {"bits": 4}}}}),
         ["c.yaml", "quantization.layers.enc9.q: unknown layer name", "enc0.q"]),
    Case("quant-override-infeasible", ["sweep", "c.yaml"],
         config(quantization={"layers": {"enc0.q": {"weight": {"bits": 4, "integer": 7}}}}),
         ["quantization.layers.enc0.q.weight", "bits 4 with integer 7"]),
    Case("storage-name", ["build", "c.yaml", "--out", "b"], config(hls={"storage": {"enc0.o": "bram"}}),
         ["c.yaml", "hls.storage.enc0.o: unknown name", "allowed for this model: input, pos"]),
    Case("rom-name", ["estimate", "c.yaml"], config(hls={"rom": {"enc0.q.weights": "bram"}}),
         ["hls.rom.enc0.q.weights: unknown name", "enc0.q.weight"]),
    Case("parallelism-name", ["sweep", "c.yaml"], config(hls={"parallelism": {"enc1.q": 2}}),
         ["hls.parallelism.enc1.q: unknown name", "enc0.q"]),
    Case("multiplier-name", ["train", "c.yaml", "--out", "r"], config(hls={"multiplier": {"softmax": "dsp"}}),
         ["hls.multiplier.softmax: unknown name", "enc0.scores"]),
    Case("rom-name-under-storage", ["estimate", "c.yaml"], config(hls={"storage": {"enc0.exp_table": "bram"}}),
         ["hls.storage.enc0.exp_table: unknown name (enc0.exp_table is a name of hls.rom, not of hls.storage: move it "
          "there)"]),
    Case("layer-named-like-a-type", ["estimate", "c.yaml"], config(hls={"storage": {"int": "flash"}}),
         ["hls.storage.int = 'flash'"]),
    # --- the part
    Case("part-unknown-device", ["estimate", "c.yaml"], config(target={"part": "xc7z999"}),
         ["target.part = 'xc7z999'", "known devices", "xc7s15"]),
    Case("part-unknown-package", ["build", "c.yaml", "--out", "b"], config(target={"part": "xc7s15zzzz196-2"}),
         ["target.part = 'xc7s15zzzz196-2'", "ftgb196"]),
    # --- the CSV
    Case("csv-missing", ["train", "c.yaml", "--out", "r"], csv_config("data/nope.csv"),
         ["data.path = 'data/nope.csv'", "relative to the configuration file's folder", "file not found"]),
    Case("csv-is-a-folder", ["train", "c.yaml", "--out", "r"], both(folder("s.csv"), csv_config()),
         ["data.path = 's.csv'", "a folder, not a CSV file"]),
    Case("csv-empty", ["train", "c.yaml", "--out", "r"], both(file("s.csv", ""), csv_config()),
         ["s.csv", "the file is empty", "header row"]),
    Case("csv-header-only", ["train", "c.yaml", "--out", "r"], csv_rows(0), ["s.csv", "no data rows below the header"]),
    Case("csv-no-header", ["train", "c.yaml", "--out", "r"], csv_rows(edit={1: "2019-12-31 23:00,1,2"}),
         ["s.csv", "looks like data, not a header", "header row"]),
    Case("csv-no-date-column", ["train", "c.yaml", "--out", "r"], csv_rows(header="time,v,w"),
         ["data.date_column = 'date'", "columns found: time, v, w", "data.date_column: null"]),
    Case("csv-non-numeric-cell", ["train", "c.yaml", "--out", "r"], csv_rows(edit={11: "2020-01-01 09:00,abc,3"}),
         ["s.csv", "line 11", "column 'v'", "'abc' is not a number"]),
    Case("csv-empty-cell", ["train", "c.yaml", "--out", "r"], csv_rows(edit={7: "2020-01-01 05:00,1,"}),
         ["s.csv", "line 7", "column 'w'", "is empty"]),
    Case("csv-bad-date", ["train", "c.yaml", "--out", "r"], csv_rows(edit={6: "yesterday,1,2"}),
         ["s.csv", "line 6", "column 'date'", "is not a date"]),
    Case("csv-ragged-row", ["train", "c.yaml", "--out", "r"], csv_rows(edit={8: "2020-01-01 06:00,1,2,3,4"}),
         ["s.csv", "cannot read CSV", "line 8"]),
    Case("csv-too-few-rows", ["train", "c.yaml", "--out", "r"], csv_rows(30),
         ["data.split.val: 6 rows", "data.window + data.horizon (9)", "the data has 30 rows"]),
    Case("csv-target-not-a-feature", ["train", "c.yaml", "--out", "r"],
         both(csv_rows(), csv_config(features=["w"])), ["data.target = 'v'", "must also be one of data.features (w)"]),
    Case("csv-target-not-a-column", ["estimate", "c.yaml"], both(csv_rows(), csv_config(target="load")),
         ["data.target = 'load'", "not a column", "v, w"]),
    Case("csv-feature-not-a-column", ["train", "c.yaml", "--out", "r"],
         both(csv_rows(), csv_config(features=["v", "x"])), ["data.features", "'x'", "allowed: v, w"]),
    Case("csv-repeated-stamp", ["train", "c.yaml", "--out", "r"], csv_rows(edit={12: "2020-01-01 05:00,1,2"}),
         ["s.csv", "column 'date': line 7 ('2020-01-01 05:00') and line 12 ('2020-01-01 05:00') hold the same time "
                   "stamp", "remove or merge"]),
    Case("csv-gap-refused", ["train", "c.yaml", "--out", "r"],
         both(file("s.csv", "date,v,w\n" + "".join(f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00,{i % 7},{i % 5}\n"
                                                    for i in range(200) if not 50 <= i < 60)),
              csv_config(gaps="refuse")),
         ["data.gaps = 'refuse'", "s.csv", "1 gap, 10 missing steps",
          "2020-01-03 01:00:00 (line 51) is followed by 2020-01-03 12:00:00 (line 52)", "data.gaps: fill"]),
    Case("csv-constant-target", ["train", "c.yaml", "--out", "r"],
         both(file("s.csv", "date,v,w\n" + "".join(f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00,3.5,{i % 5}\n"
                                                    for i in range(200))), csv_config()),
         ["data.target = 'v'", "constant on the 120 training rows", "s.csv", "every value is 3.5"]),
    Case("split-percent-row-counts", ["train", "c.yaml", "--out", "r"],
         config(data={"split": {"train": 60, "val": 20, "test": 20}}),
         ["data.split = {train: 60, val: 20, test: 20}", "8,659 rows would be unused",
          "write fractions: {train: 0.6, val: 0.2, test: 0.2}"]),
    # --- output folders, interrupted runs
    Case("out-under-a-file", ["train", "c.yaml", "--out", "f/sub"], both(config(), file("f")),
         ["cannot create the output folder", "f/sub", "Not a directory"]),
    Case("out-is-a-file", ["build", "c.yaml", "--out", "f"], both(config(), file("f")), ["'--out'", "'f' is a file"]),
    Case("out-inside-a-build-folder", ["train", "c.yaml", "--out", "b/model/mine"], both(config(), fake_build("b")),
         ["output folder", "b/model/mine is inside", "b/model, a tsflow train folder",
          "a run never writes into another run's folder"]),
    Case("out-is-the-root", ["train", "c.yaml", "--out", "/"], config(),
         ["output folder /: the root of the file system cannot be an output folder", "runs/NAME"]),
    Case("out-exists-no-force", ["train", "c.yaml", "--out", "r"], both(config(), fake_train("r")),
         ["output folder", "r already exists", "pass --force"]),
    Case("out-build-exists-no-force", ["build", "c.yaml", "--out", "b"], both(config(), fake_build("b")),
         ["b already exists", "pass --force"]),
    Case("force-on-a-users-folder", ["build", "c.yaml", "--out", "mine", "--force"],
         both(config(), file("mine/notes.txt", "keep me")),
         ["mine already exists and does not look like a tsflow folder", "even with --force"]),
    Case("partial-of-a-running-run", ["train", "c.yaml", "--out", "r"], both(config(), running_partial("r")),
         ["r.partial already exists", "may still be writing it", f"pid {os.getpid()}", "pass --force"]),
    Case("partial-not-tsflows", ["build", "c.yaml", "--out", "b"], both(config(), file("b.partial/data.bin")),
         ["b.partial", "does not look like a tsflow folder", "left untouched"]),
    Case("out-in-a-read-only-folder", ["train", "c.yaml", "--out", "ro/r"],
         both(config(), folder("ro"), lambda cwd: (cwd / "ro").chmod(0o500)),
         ["cannot create the output folder", "Permission denied"], mode_bits=True),
    Case("config-unreadable", ["estimate", "c.yaml"], both(config(), lambda cwd: (cwd / "c.yaml").chmod(0)),
         ["'CONFIG'", "File 'c.yaml' is not readable"], mode_bits=True),
    # --- flags
    Case("jobs-0-build", ["build", "c.yaml", "--out", "b", "--jobs", "0"], config(), ["'--jobs'", "'0': give a whole number of testbench processes (1 or more)"]),
    Case("jobs-0-csim", ["csim", "b", "--jobs", "0"], fake_build(), ["'--jobs'", "'0': give a whole number of testbench processes (1 or more), or leave --jobs out for one per available core"]),
    Case("jobs-not-a-number", ["csim", "b", "--jobs", "all"], fake_build(), ["'--jobs'", "'all'"]),
    Case("unknown-option", ["sweep", "c.yaml", "--bits", "4"], config(), ["No such option", "--bits", "tsflow sweep --help"]),
    Case("unknown-command", ["simulate", "b"], None, ["No such command 'simulate'", "tsflow --help"]),
    Case("missing-argument", ["csim"], None, ["Missing argument 'FOLDER'", "tsflow csim --help"]),
    Case("missing-out", ["train", "c.yaml"], config(), ["Missing option '--out'"]),
    Case("calibration-garbage", ["build", "c.yaml", "--out", "b", "--calibration", "notes.txt"],
         both(config(), file("notes.txt", "these are my notes\n")),
         ["--calibration notes.txt", "not a file written by 'tsflow calibrate'"]),
    Case("calibration-missing", ["estimate", "c.yaml", "--calibration", "cal.json"], config(),
         ["--calibration cal.json: file not found"]),
    Case("calibration-bad-factor", ["estimate", "c.yaml", "--calibration", "cal.json"],
         both(config(), calibration(factors={"lut": "fast"})), ["--calibration cal.json", "factor of lut is 'fast'"]),
    Case("calibration-other-part", ["estimate", "c.yaml", "--calibration", "cal.json"],
         both(config(), calibration(part="xc7a35tcpg236-1")), ["--calibration cal.json", "xc7a35tcpg236-1", "target.part"]),
    Case("calibration-of-another-design", ["estimate", "c.yaml", "--calibration", "cal.json"],
         both(config(), calibration(config="other", design={"model.d_model": 32, "quantization.bits": 8})),
         ["--calibration cal.json was fitted on another design ('other': model.d_model 32 (this configuration: 8))",
          "run 'tsflow calibrate' with this design's reports"]),
    Case("calibrate-over-its-config", ["calibrate", "notes.txt", "--config", "c.yaml", "--out", "c.yaml", "--force"],
         both(config(), file("notes.txt")),
         ["--out c.yaml is --config this command reads; the calibration would overwrite it"]),
    Case("verify-a-build-that-failed", ["verify", "b.partial", "--synthesis", "notes.txt"],
         both(fake_build("b.partial", extra={"FAILED": "DoesNotFit: the design does not fit\n"}), file("notes.txt")),
         ["b.partial is the folder of a build that did not finish (DoesNotFit: the design does not fit)"]),
    Case("calibration-unknown-layer", ["estimate", "c.yaml", "--calibration", "cal.json"],
         both(config(), calibration(layers={"nonexistent_layer": 3.0})),
         ["--calibration cal.json: unknown layer 'nonexistent_layer'", "allowed: engine, input, embed, enc0.q"]),
    Case("calibration-binary", ["estimate", "c.yaml", "--calibration", "cal.json"],
         both(config(), file("cal.json", b"\xff\xfe\x00\x01")), ["--calibration cal.json", "not a file written by"]),
    Case("trained-is-a-file", ["build", "c.yaml", "--out", "b", "--trained", "c.yaml"], config(),
         ["'--trained'", "'c.yaml' is a file"]),
    # --- csim on folders that are not (complete) builds
    Case("csim-no-such-folder", ["csim", "b"], None, ["b: no such folder", "tsflow build --out"]),
    Case("csim-users-folder", ["csim", "mine"], file("mine/notes.txt"), ["mine is not a build folder", "no hls/"]),
    Case("csim-train-folder", ["csim", "r"], fake_train("r"), ["r is not a build folder", "tsflow build"]),
    Case("csim-hls-deleted", ["csim", "b"], fake_build(without=("hls",)), ["b is not a build folder (no hls/ project)"]),
    Case("csim-tb-data-missing", ["csim", "b"], fake_build(without=("hls/tb_data",)),
         ["b is an incomplete build folder", "hls/tb_data/inputs.bin", "tsflow build"]),
    # 24 input values a window, 1 output: 2 windows of inputs against 3 of outputs
    Case("csim-tb-data-truncated", ["csim", "b"],
         fake_build(extra={"hls/boundaries.json": json.dumps({"input": {"per_sample": 24}, "head": {"per_sample": 1}}),
                           "hls/tb_data/inputs.bin": b"\0" * 4 * 48, "hls/tb_data/expected.bin": b"\0" * 12}),
         ["tb_data: the test vectors are damaged", "inputs.bin 192 bytes", "expected.bin 12 bytes", "tsflow build"]),
    Case("csim-firmware-missing", ["csim", "b"], fake_build(without=("hls/firmware/tsflow_model.cpp",)),
         ["incomplete build folder", "hls/firmware/tsflow_model.cpp"]),
    Case("csim-model-config-missing", ["csim", "b"], fake_build(without=("model/config.yaml",)),
         ["incomplete build folder", "model/config.yaml"]),
    # tour 5 b14: what the C++ includes is checked as the other files are (it was a raw g++ error, exit 1)
    Case("csim-weights-folder-removed", ["csim", "b"], fake_build(without=("hls/firmware/weights",)),
         ["error: b is an incomplete build folder (missing: hls/firmware/weights/ (2 files)); run 'tsflow build' "
          "again (--force replaces this folder)"]),
    Case("csim-included-header-removed", ["csim", "b"], fake_build(without=("hls/firmware/parameters.h",)),
         ["b is an incomplete build folder (missing: hls/firmware/parameters.h)"]),
    Case("csim-plan-removed", ["csim", "b"], fake_build(without=("plan.json", "estimate.json")),
         ["b is an incomplete build folder (missing: plan.json, estimate.json)"]),
    Case("csim-unfinished-build", ["csim", "b.partial"],
         fake_build("b.partial", extra={"FAILED": "KeyboardInterrupt: \n"}), ["b.partial", "did not finish"]),
    Case("csim-model-config-broken", ["csim", "b"], fake_build(extra={"model/config.yaml": "model: {d_model: 8\n"}),
         ["b/model/config.yaml is not valid YAML", "line 2, column 1"]),
    Case("csim-weights-damaged", ["csim", "b"], fake_build(),  # the one case that loads TensorFlow
         ["b/model/model.weights.h5: cannot be read", "damaged", "train (or build) it again"]),
    # --- export
    Case("export-no-such-folder", ["export", "b"], None, ["b is not a folder", "tsflow build --out"]),
    Case("export-users-folder", ["export", "mine"], file("mine/notes.txt"), ["mine is not a build folder", "tsflow build"]),
    Case("export-train-folder", ["export", "r"], fake_train("r"), ["r is not a build folder"]),
    Case("export-unfinished-build", ["export", "b.partial"], fake_build("b.partial", extra={"FAILED": "x\n"}),
         ["b.partial", "did not finish"]),
    Case("export-incomplete-build", ["export", "b"], fake_build(without=("hls/tb_data",)),
         ["no complete HLS project", "hls/tb_data/inputs.bin"]),
    Case("export-edited-scripts-no-force", ["export", "b"],
         fake_build(extra={"vivado_scripts/tsflow_hls.tcl": "# my edits\n"}),
         ["vivado_scripts/tsflow_hls.tcl already exists", "pass --force"]),
    Case("export-run-without-tools", ["export", "b", "--run"],
         fake_build(extra={"plan.json": '{"engine": null, "loops": []}', "estimate.json": '{"total": {"dsp": 0, "bram18": 0}}'}),
         ["cannot run the vendor scripts", "not on PATH", "vitis_hls -f vivado_scripts/tsflow_hls.tcl"],
         free_text=True),
    # --- calibrate
    Case("calibrate-report-missing", ["calibrate", "csynth.xml", "--config", "c.yaml"], config(),
         ["'REPORTS...'", "'csynth.xml' does not exist"]),
    Case("calibrate-not-a-report", ["calibrate", "notes.txt", "--config", "c.yaml"],
         both(config(), file("notes.txt", "my notes\n")), ["notes.txt", "not an HLS csynth.xml"]),
    Case("calibrate-broken-xml", ["calibrate", "csynth.xml", "--config", "c.yaml"],
         both(config(), file("csynth.xml", "<profile><UserAssignments>\n")), ["csynth.xml", "not well-formed XML"]),
    Case("calibrate-bad-number", ["calibrate", "csynth.xml", "--config", "c.yaml"],
         both(config(), report("csynth.xml", lut="many")), ["csynth.xml", "'many'"]),
    Case("calibrate-other-part", ["calibrate", "csynth.xml", "--config", "c.yaml"],
         both(config(), report("csynth.xml", part="xc7a35tcpg236-1")),
         ["csynth.xml", "report is for part xc7a35tcpg236-1", "target.part"]),
    Case("calibrate-out-exists", ["calibrate", "csynth.xml", "--config", "c.yaml", "--out", "cal.json"],
         both(config(), report("csynth.xml"), calibration()), ["cal.json already exists", "pass --force"]),
    Case("calibrate-out-folder-missing", ["calibrate", "csynth.xml", "--config", "c.yaml", "--out", "x/cal.json"],
         both(config(), report("csynth.xml")), ["--out x/cal.json", "cannot write", "No such file or directory"]),
    Case("calibrate-config-missing", ["calibrate", "csynth.xml", "--config", "c.yaml"], report("csynth.xml"),
         ["configuration file not found: c.yaml"]),
    Case("calibrate-no-config-flag", ["calibrate", "csynth.xml"], report("csynth.xml"), ["Missing option '--config'"]),
    Case("calibrate-over-a-builds-file", ["calibrate", "csynth.xml", "--config", "c.yaml", "--out", "b/estimate.json",
                                          "--force"],  # tour 6, b29: it falsified the build's record
         both(config(), report("csynth.xml"), fake_build("b", extra={"manifest.json": json.dumps(
             {"files": ["build.json", "csim.json", "estimate.json", "plan.json"]})})),
         ["--out b/estimate.json is a file of b, a tsflow build folder (its manifest.json lists it as written by "
          "tsflow); the calibration would replace what that run wrote, which --force does not allow: choose an --out "
          "outside that folder"]),
    Case("calibrate-over-a-builds-manifest", ["calibrate", "csynth.xml", "--config", "c.yaml", "--out",
                                              "b/manifest.json"],  # b30: the advice was to pass --force
         both(config(), report("csynth.xml"), fake_build("b", extra={"manifest.json": '{"files": []}'})),
         ["--out b/manifest.json is a file of b, a tsflow build folder (tsflow's own record of the run)",
          "which --force does not allow"]),
    # --- a run's folder inside another's (tour 6, b13)
    Case("search-out-inside-a-build-folder", ["search", "c.yaml", "--trials", "1", "--out", "b/search"],
         both(config(), fake_build("b")),
         ["output folder b/search is inside b, a tsflow build folder; a run never writes into another run's folder",
          "choose an --out outside it"]),
    Case("build-out-inside-a-search-folder", ["build", "c.yaml", "--out", "srch/b1"],
         both(config(), file("srch/search.json", '{"config": "s", "study": "s", "storage": "sqlite (study.db here)"}')),
         ["srch/b1 is inside", "srch, a tsflow search folder", "a run never writes into another run's folder"]),
    Case("build-force-over-a-search-folder", ["build", "c.yaml", "--out", "srch", "--force"],
         both(config(), file("srch/search.json", '{"config": "s", "study": "s", "storage": "sqlite (study.db here)"}')),
         ["srch is a tsflow search folder (search.json); a build or a training never replaces it, even with --force"]),
    Case("force-over-a-damaged-manifest", ["build", "c.yaml", "--out", "b", "--force"],  # b66: NOTES.txt was deleted
         both(config(), fake_build("b", extra={"manifest.json": '{"files": "all"}', "hls/NOTES.txt": "mine\n"})),
         ["b: its manifest.json is damaged ('files' is 'all', not a list of paths); tsflow cannot tell the files it "
          "wrote from yours, so --force does not replace the folder"]),
    # --- tour 5
    Case("key-one-level-too-high", ["estimate", "c.yaml"], config(data={"lookback": "previous"}),
         ["data.lookback = 'previous': unknown key (lookback is a key of data.split: write split: {lookback: previous} "
          "under data)"]),
    Case("norm-scales-wider-than-the-bits", ["estimate", "c.yaml"], config(quantization={"bits": 4, "weight_integer": 4}),
         ["quantization.weight_integer = 4 with quantization.bits = 4: the LayerNorm scales", "weight_integer + 1 = 5",
          "allowed: quantization.weight_integer from -4 to 3 at 4 bits"]),
    Case("layer-key-fully-dotted", ["estimate", "c.yaml"],
         config(text="quantization:\n  layers:\n    enc0.q.weight.bits: 4\n"),
         ["'enc0.q.weight.bits' is the layer name 'enc0.q' with the tensor 'weight' and its field 'bits' glued on by "
          "dots; write it as enc0.q: {weight: {bits: 4}}"]),
    Case("orderable-part-number", ["estimate", "c.yaml"], config(target={"part": "XC7S50-1CSGA324C"}),
         ["target.part = 'XC7S50-1CSGA324C'", "write xc7s50csga324-1"]),
    Case("features-a-yaml-set", ["estimate", "c.yaml"], config(text="data: {features: !!set {temp}}\n"),
         ["data.features = !!set {temp}: a YAML set (!!set) has no order", "write a list"]),
    Case("clock-uncertainty-a-fraction", ["estimate", "c.yaml"], config(target={"clock_uncertainty": 0.125}),
         ["target.clock_uncertainty = 0.125: a percentage of the clock period", "write 12.5 for 12.5 %"]),
    Case("qat-keys-with-quantization-off", ["train", "c.yaml", "--out", "r"],
         config(text="quantization: {enabled: false}\ntraining: {float_epochs: 1, qat_epochs: 5, "
                     "qat_learning_rate: 0.0001, qat_patience: 3}\n"),
         ["quantization.enabled = False, but training.qat_epochs, training.qat_learning_rate, training.qat_patience "
          "are set", "they do nothing"]),
    # tour 5 b63 / b109: a name ending in whitespace or holding a control character was made as given
    Case("out-ends-with-a-space", ["build", "c.yaml", "--out", "o/b63 "], config(),
         ["Invalid value for '--out': 'o/b63 ': the name 'b63 ' ends with whitespace (a quoting slip?); remove it"]),
    Case("out-folder-ends-with-a-space", ["train", "c.yaml", "--out", "o /r"], config(),
         ["Invalid value for '--out': 'o /r': the name 'o ' ends with whitespace"]),
    Case("out-holds-a-newline", ["build", "c.yaml", "--out", "o/b109\nx"], config(),
         ["Invalid value for '--out': 'o/b109\\nx' holds the control character '\\n' (a line break or tab pasted "
          "into it?); give a folder name without control characters"]),
    Case("trained-holds-a-tab", ["build", "c.yaml", "--out", "b", "--trained", "r\t"], both(config(), fake_train("r")),
         ["Invalid value for '--trained': 'r\\t' holds the control character '\\t'"]),
    Case("csim-folder-ends-with-a-space", ["csim", "b "], fake_build(), ["Invalid value for 'FOLDER': 'b ': the name "
                                                                       "'b ' ends with whitespace"]),
    Case("export-folder-holds-a-newline", ["export", "b\n"], fake_build(),
         ["Invalid value for 'FOLDER': 'b\\n' holds the control character '\\n'"]),
    Case("calibration-ends-with-a-space", ["estimate", "c.yaml", "--calibration", "cal.json "],
         both(config(), calibration()), ["Invalid value for '--calibration': 'cal.json ': the name 'cal.json ' ends "
                                         "with whitespace"]),
    # tour 7 b69: the same slip at the start of a name; b29: '-' is standard output to most tools, not a file
    Case("out-starts-with-a-space", ["build", "c.yaml", "--out", "o/ b69"], config(),
         ["Invalid value for '--out': 'o/ b69': the name ' b69' starts with whitespace (a quoting slip?); remove it"]),
    Case("out-folder-starts-and-ends-with-a-space", ["train", "c.yaml", "--out", " o /r"], config(),
         ["Invalid value for '--out': ' o /r': the name ' o ' starts and ends with whitespace"]),
    Case("calibrate-out-a-dash", ["calibrate", "csynth.xml", "--config", "c.yaml", "--out", "-"],
         both(config(), report("csynth.xml")),
         ["Invalid value for '--out': '-' is a dash, which reads as standard input or output, but --out takes a "
          "file name; give one (./- for a file named '-')"]),
    Case("build-out-a-dash", ["build", "c.yaml", "--out", "-"], config(),
         ["Invalid value for '--out': '-' is a dash", "--out takes a folder name; give one (./- for a folder named "
          "'-')"]),
    Case("estimate-config-a-dash", ["estimate", "-"], None,
         ["Invalid value for 'CONFIG': '-' is a dash, which reads as standard input or output, but CONFIG takes a "
          "file name"]),
    # a folder that exists so named was made on purpose: taken as it is
    Case("csim-existing-folder-ending-in-a-space", ["csim", "b "], fake_build("b ", without=("plan.json",)),
         ["error: b  is an incomplete build folder (missing: plan.json)"]),
    *[Case(f"{args[0]}-{args[-2].strip('-')}-empty", args, both(config(), report("csynth.xml")),
           [f"Invalid value for '{args[-2]}': '' is empty (an unset shell variable?); give {args[-2]} a"])
      for args in (["train", "c.yaml", "--out", ""], ["build", "c.yaml", "--out", ""],
                   ["search", "c.yaml", "--trials", "1", "--out", ""],
                   ["calibrate", "csynth.xml", "--config", "c.yaml", "--out", ""],
                   ["build", "c.yaml", "--out", "b", "--trained", ""])],
]


def _id(case) -> str:
    return case.values[0].id if hasattr(case, "values") else case.id


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``tsflow ARGS`` in ``cwd``; as root, with the mode bits binding it as they bind a user (a read-only
    folder or an unreadable file is then what it is for anyone)."""
    return subprocess.run([sys.executable, "-m", "flow", *args], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=300, preexec_fn=as_unprivileged)


def test_the_catalogue_covers_every_command():
    commands = {c.args[0] for c in (p.values[0] if hasattr(p, "values") else p for p in CASES)}
    assert {"train", "build", "csim", "estimate", "sweep", "export", "calibrate"} <= commands
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_users_mistake_is_one_clear_message(case: Case, tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    if case.mode_bits:
        require_mode_bits()
    if case.setup:
        case.setup(cwd)
    done = run(cwd, *case.args)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == case.code, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert not any(line.startswith(("Usage:", "Error:")) for line in output.splitlines()), output
    message = done.stderr[done.stderr.index("error:"):]
    if not case.free_text:  # the message ends the output; what follows its first line is indented under it
        assert all(line.startswith("  ") for line in message.splitlines()[1:] if line.strip()), output
    for text in case.expect:
        assert text in message, f"{text!r} not in the message:\n{message}"


@pytest.mark.parametrize("out", ["-", "o/ b69", "o/b69 "])
def test_a_refused_path_is_made_nowhere(out, tmp_path):
    """Tour 7 b29 / b69: 'calibrate --out -' wrote a file named '-' and '--out "o/ b69"' a folder ' b69'."""
    config()(tmp_path)
    report("csynth.xml")(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for args in (["calibrate", "csynth.xml", "--config", "c.yaml", "--out", out], ["train", "c.yaml", "--out", out]):
        done = run(tmp_path, *args)
        assert done.returncode == 2 and "Invalid value for '--out'" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_path_named_with_a_leading_dot_slash_is_taken_as_named(tmp_path):
    """The way out the refusal of '-' names: './-' is a file so named."""
    config()(tmp_path)
    report("csynth.xml")(tmp_path)
    done = run(tmp_path, "calibrate", "csynth.xml", "--config", "c.yaml", "--out", "./-")
    assert done.returncode == 0, done.stderr
    assert "factors" in json.loads((tmp_path / "-").read_text())


def test_a_config_error_lists_every_problem_under_one_header(tmp_path):
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(_merge(TINY, {"model": {"d_model": 0, "layer": 2},
                                                                  "data": {"window": 1}})))
    done = run(tmp_path, "estimate", "c.yaml")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: invalid configuration c.yaml:"
    assert sorted(lines[1:]) == sorted(["  data.window = 1: allowed: >= 2 and <= 512",
                                        "  model.d_model = 0: allowed: >= 2 and <= 256",
                                        "  model.layer = 2: unknown key; allowed keys here: d_model, ffn, head, heads, "
                                        "layers, patch, predict_delta"])


@pytest.mark.parametrize("args, expect", [
    (["training", "c.yaml", "--heads", "9"], "--heads: '9': comma-separated head variant indices"),
    (["training", "c.yaml", "--seeds", "0"], "'--seeds': '0': give a whole number of seeds (1 or more)"),
    (["training", "c.yaml", "--merge", "runs.json"], "--merge: runs.json: not a file written by --json-out"),
    (["training", "c.yaml", "--seeds", "1", "--json-out", "nowhere/x.json"], "--json-out nowhere/x.json: its folder"),
    (["search", "c.yaml", "--trials", "0"], "argument --trials: '0': give a whole number of trials (1 or more)"),
    (["random_builds", "--n", "1", "--keep", "c.yaml"], "--keep c.yaml: a file, not a folder"),
    (["longhorizon", "--data", "c.yaml"], "--data c.yaml: its header"),
    (["latency", "c.yaml", "--before", "deadbeef"], "--before deadbeef: not a commit"),
], ids=["heads", "seeds", "merge-no-runs", "json-out-folder", "search-trials", "keep-a-file", "data-not-etth1",
        "before-not-a-commit"])
def test_a_benchmark_flag_is_checked_before_any_work(args, expect, tmp_path):
    """Each refused with one line naming the flag, exit 2, no traceback, before any training or checkout."""
    config()(tmp_path)
    (tmp_path / "runs.json").write_text('{"runs": [{}]}')
    done = subprocess.run([sys.executable, "-m", f"flow.benchmarks.{args[0]}", *args[1:]], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout, done.stderr
    assert expect in " ".join(done.stderr.split()), done.stderr


@pytest.mark.parametrize("module", ["training", "sensitivity", "hls", "search", "latency"])
def test_a_benchmark_given_a_bad_config_says_which_key_without_a_traceback(module, tmp_path):
    """The documented benchmark commands read the same YAML as tsflow and refuse a bad value the same way."""
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(_merge(TINY, {"training": {"qat_epochs": -3}})))
    done = subprocess.run([sys.executable, "-m", f"flow.benchmarks.{module}", "c.yaml"], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode != 0
    assert "training.qat_epochs = -3: allowed: >= 0 and <= 10000" in done.stderr, done.stderr


def test_a_damaged_testbench_binary_is_not_trusted(tmp_path):
    """A corrupted csim.bin is never run: its stamp names the binary it was written for, so
    ``tsflow csim`` compiles the testbench again (tests/test_csim.py runs that end to end)."""
    import hashlib

    from flow.csim import CSIM_BINARY, CSIM_STAMP, testbench_is_current, testbench_stamp

    fake_build()(tmp_path)
    hls = tmp_path / "b" / "hls"
    binary = hls / CSIM_BINARY
    (hls / CSIM_STAMP).write_text(json.dumps({"inputs": testbench_stamp(hls),
                                              "binary": hashlib.sha256(binary.read_bytes()).hexdigest()}))
    assert testbench_is_current(hls)
    binary.write_bytes(binary.read_bytes()[:-3] + b"bad")
    assert not testbench_is_current(hls)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, a device every write to fails")
def test_an_output_that_cannot_be_written_is_one_error_line(tmp_path):
    """``tsflow estimate --json > /dev/full``: the disk is full for what the command prints; one line, exit 1."""
    config(text="name: full\n")(tmp_path)
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "flow", "estimate", "c.yaml", "--json"], cwd=tmp_path,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120, env=ENV)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines() == ["error: cannot write the output: No space left on device"]


def test_quantization_aware_training_from_an_untrained_model_is_told():
    """``training.float_epochs: 0``: QAT starts from the initial weights and integer: auto places the binary
    points from that untrained model's ranges; said as a warning, as the run begins."""
    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.training.fit import train

    from .conftest import small_raw

    raw = small_raw()
    raw["training"] = {**raw["training"], "float_epochs": 0, "qat_epochs": 1}
    cfg = parse_config(raw)
    notes = []
    train(cfg, load_dataset(cfg, note=lambda text: None), note=notes.append)
    assert notes[0] == ("warning: training.float_epochs = 0: quantization-aware training starts from the untrained "
                        "model, and integer: auto places its binary points from that model's ranges; a float phase "
                        "(training.float_epochs) gives both a trained start")


def test_forecasts_the_output_type_saturates_are_warned_and_train_and_build_describe_the_data_alike(tmp_path):
    """Tour 5 u01: quantization.output {bits: 8, integer: 1} holds -1 .. 0.99 of the scaled target, which the float
    model's forecasts leave on many training windows: warned with the share, the range and integer: auto. Tour 5 o01:
    with data.inputs: differences train said '1 feature(s)' for 2 input channels; train and build now print one
    line. Tour 5 j01: a build reusing that run with data.steps: 2 names the key."""
    from flow import api
    from flow.config import ConfigError, parse_config

    from .conftest import small_raw

    raw = small_raw(predict_delta=True)
    raw["data"]["inputs"] = "differences"
    raw["quantization"] = {"bits": 8, "output": {"bits": 8, "integer": 1}}
    raw["training"] = {**raw["training"], "float_epochs": 2, "qat_epochs": 0}
    notes = []
    api.train(parse_config(raw), tmp_path / "r", note=notes.append)
    line = ("data seattle-temps: 2 input channel(s) (the changes of 1 feature(s), temp, and the level of temp) -> "
            "temp, window 8, horizon 1")
    assert any(n.startswith(line + "; windows train ") for n in notes), notes
    warned = [n for n in notes if n.startswith("warning: quantization.output")]
    assert len(warned) == 1, notes
    assert warned[0].startswith("warning: quantization.output (8 bits, integer 1: -1 .. 0.9922 on the scaled target) "
                                "saturates ") and "% of the float model's forecasts on the training windows" in warned[0]
    assert "set quantization.output.integer: auto (placed from these values) or at least " in warned[0]
    # the saturation explains the far worse model: the default width of the other tensors is not blamed (tour 12)
    assert not [n for n in notes if n.startswith("warning: quantization.bits = 8")], notes
    raw["data"]["steps"] = 2
    built = []
    with pytest.raises(ConfigError) as exc:
        api.build(parse_config(raw), tmp_path / "b", trained=tmp_path / "r", note=built.append)
    assert any(n.startswith(line + ", steps 2; windows train ") for n in built), built
    assert "data.steps = 1 in that run, 2 in this configuration" in str(exc.value)


def test_a_path_starting_with_a_tilde_is_the_home_folder_as_in_data_path(tmp_path):
    """Tour 5 b56: ``--out '~/b56'`` (quoted, so the shell left the ~) made a folder named ``~`` in the current
    folder and said 'build written to ~/b56'. Every path a command is given reads a leading ~ as data.path does:
    the home folder; a ~NAME without such a user is refused."""
    home, cwd = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    cwd.mkdir()
    config()(home)  # home/c.yaml
    fake_train("r")(home)
    fake_build("b")(home)
    fake_build("inc", without=("plan.json",))(home)  # export and csim refuse it alike (tour 6, b95)
    calibration("cal.json", part="xc7a35tcpg236-1")(home)
    env = {**ENV, "HOME": str(home)}

    def tsflow(*args):
        done = subprocess.run([sys.executable, "-m", "flow", *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=300)
        assert "Traceback" not in done.stdout + done.stderr, done.stderr
        return done

    done = tsflow("estimate", "~/c.yaml", "--json")
    assert done.returncode == 0, done.stderr
    done = tsflow("export", "~/b")
    assert done.returncode == 0 and f"written in {home / 'b'}: " in done.stdout + done.stderr, done.stderr
    assert (home / "b" / "vivado_scripts").is_dir()
    for args, message in (
            (["train", "~/c.yaml", "--out", "~/r"], f"error: output folder {home / 'r'} already exists; pass --force "
                                                    f"to replace it"),
            (["csim", "~/inc"], f"error: {home / 'inc'} is an incomplete build folder (missing: plan.json)"),
            (["build", "~/c.yaml", "--out", "~/new", "--trained", "~/none"],
             f"error: --trained {home / 'none'}: no such folder"),
            (["estimate", "~/c.yaml", "--calibration", "~/cal.json"], f"error: --calibration {home / 'cal.json'}"),
            (["train", "c.yaml", "--out", "~nosuchuser0/r"],
             "error: Invalid value for '--out': '~nosuchuser0/r' starts with ~nosuchuser0, but there is no user "
             "'nosuchuser0' whose home folder it would be; give the path without ~ (or ./~nosuchuser0/r for a folder "
             "named so)")):
        done = tsflow(*args)
        assert done.returncode == 2, (args, done.stderr)
        [line] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert line.startswith(message), (args, line)
    assert not (cwd / "~").exists() and not (cwd / "~nosuchuser0").exists() and not (home / "new").exists()


def test_version_is_an_option_not_an_error(tmp_path):
    """Tour 7 b01: 'tsflow --version' was "error: No such option '--version'"; it prints the installed version."""
    from importlib.metadata import version

    done = run(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout == f"tsflow {version('tsflow')}\n", done.stdout + done.stderr


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("command", ["train", "build"])
def test_the_working_folder_or_one_that_holds_it_is_never_replaced(command, tmp_path):
    """Tour 7 b56: 'cd f/b56 && tsflow train ../../cfg.yaml --out . --force' replaced the folder the shell was in
    (renamed over it): 'ls' then showed nothing. Refused before any work, the folder left as it was."""
    config()(tmp_path)
    _fake_train(tmp_path / "r")
    (tmp_path / "r" / "sub").mkdir()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = run(tmp_path / "r", command, "../c.yaml", "--out", ".", "--force")
    assert done.returncode == 2 and error_lines(done.stderr) == [
        "error: output folder . is the current folder: a run replaces its output folder as a whole, which would leave "
        "the shell in a removed folder; nothing was done: cd .. and give --out r, or choose another --out"], done.stderr
    done = run(tmp_path / "r" / "sub", command, "../../c.yaml", "--out", "..", "--force")
    assert done.returncode == 2 and error_lines(done.stderr) == [
        f"error: output folder .. holds the current folder ({(tmp_path / 'r' / 'sub').resolve()}): a run replaces its "
        f"output folder as a whole, which would leave the shell in a removed folder; nothing was done: run the command "
        f"from outside .., or choose another --out"], done.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_an_implausible_calibration_factor_is_warned_when_applied(tmp_path):
    """Tour 7 b31: a latency factor of 99.7 ('outside 0.1..10' when calibrate wrote it) was applied by estimate
    without a word; only one below 0.1 was refused. Applied, and said, naming the file, factor and reports."""
    config()(tmp_path)
    calibration("far.json", factors={"lut": 0.05, "latency": 40.0}, sources={"latency": ["r.xml"]})(tmp_path)
    calibration("near.json")(tmp_path)
    done = run(tmp_path, "estimate", "c.yaml", "--calibration", "far.json")
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("warning:")] == [
        "warning: --calibration far.json: its lut factor is 0.05, outside 0.1..10: the reports are likely of another "
        "design, yet this estimate's lut is scaled by it; check that they are of this design, or run 'tsflow "
        "calibrate' again with this design's reports",
        "warning: --calibration far.json: its latency factor is 40 (made from r.xml), outside 0.1..10: the reports "
        "are likely of another design, yet this estimate's latency is scaled by it; check that they are of this "
        "design, or run 'tsflow calibrate' again with this design's reports"], done.stderr
    done = run(tmp_path, "estimate", "c.yaml", "--calibration", "near.json")
    assert done.returncode == 0 and "warning: --calibration" not in done.stderr, done.stderr


def test_an_hls_report_whose_top_matches_only_the_ip_name_is_refused(tmp_path):
    """Tour 7 b27, tour 8 b80: with export.ip_name: myproject, hls4ml's report (top myproject_axi) was taken as
    this design's (with a warning since tour 7), while verify compared it figure by figure. No tsflow HLS report
    has a top other than its top function: calibrate and verify refuse it alike (flow.reports.of_design)."""
    config(export={"ip_name": "myproject"})(tmp_path)
    report("theirs.xml", top="myproject_axi")(tmp_path)
    report("ours.xml")(tmp_path)
    done = run(tmp_path, "calibrate", "theirs.xml", "--config", "c.yaml", "--out", "a.json")
    assert done.returncode == 2 and not (tmp_path / "a.json").exists(), done.stderr
    assert ("error: theirs.xml: report of another design: its top is myproject_axi (on xc7s15ftgb196-2), this "
            "configuration's is tsflow_model (hls.interface: ap_vld, IP myproject); its top starts with "
            "export.ip_name (myproject), but the HLS top of this design is always tsflow_model") in done.stderr, \
        done.stderr
    done = run(tmp_path, "calibrate", "ours.xml", "--config", "c.yaml", "--out", "b.json")
    assert done.returncode == 0 and "another design" not in done.stderr, done.stderr
