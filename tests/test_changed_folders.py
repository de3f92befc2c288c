"""Work that changed under a build folder, and a current folder that is gone: each named for what it is,
never reported as C++ that is not bit-exact, and nothing recorded over the earlier verdict."""
import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from .conftest import CLI_ENV as ENV, REPO, TINY
from .test_cli_e2e import tsflow


def write_series(path, scale=1.0, offset=0.0):
    """600 hourly rows of a series with a daily and a weekly cycle, no trend (so the test rows stay inside the
    range the input type was fitted to on the training rows: a change there is not saturated away)."""
    rows = [f"2021-01-{1 + h // 24:02d} {h % 24:02d}:00:00" for h in range(600)]
    values = [offset + scale * (10 + 3 * math.sin(2 * math.pi * h / 24) + math.sin(2 * math.pi * h / 168))
              for h in range(600)]
    path.write_text("date,load\n" + "".join(f"{d},{v:.4f}\n" for d, v in zip(rows, values)))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("changed")
    write_series(cwd / "series.csv")
    raw = {**TINY, "data": {"source": "csv", "path": "series.csv", "features": ["load"], "target": "load",
                            "window": 8, "inputs": "levels"}}
    (cwd / "c.yaml").write_text(yaml.safe_dump(raw))
    done = tsflow(cwd, "train", "c.yaml", "--out", "t")
    assert done.returncode == 0, done.stderr
    done = tsflow(cwd, "build", "c.yaml", "--out", "b", "--trained", "t")
    assert done.returncode == 0, done.stderr
    return cwd


def _one_error(done) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    return line


def test_csim_after_the_data_changed_names_the_data_and_keeps_the_verdict(built):
    csim_before = (built / "b" / "csim.json").read_text()
    original = (built / "series.csv").read_text()
    lines = original.splitlines()
    date, value = lines[560].split(",")  # data row 559: inside the test split (rows 480..599)
    lines[560] = f"{date},{float(value) + 0.5:.4f}"
    try:
        (built / "series.csv").write_text("\n".join(lines) + "\n")
        line = _one_error(tsflow(built, "csim", "b"))
    finally:
        (built / "series.csv").write_text(original)
    assert "the test windows made from the data now differ from hls/tb_data/inputs.bin" in line
    assert "the data changed since the build (data.path = " in line and "the C++ was not run" in line
    assert (built / "b" / "csim.json").read_text() == csim_before


def test_csim_after_an_expected_output_changed_names_the_window(built, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(built / "b", copy)
    path = copy / "hls" / "tb_data" / "expected.bin"
    expected = np.fromfile(path, dtype=np.int32)
    expected[17] += 1  # one output a window: window 17
    expected.tofile(path)
    line = _one_error(tsflow(built, "csim", copy))
    assert "the outputs model/ computes now differ from hls/tb_data/expected.bin in 1 of" in line
    assert "the first window 17: model/ or hls/tb_data/expected.bin changed since the build" in line
    assert json.loads((copy / "csim.json").read_text())["bit_exact"] is True


def test_csim_after_the_scaler_file_changed_names_it(built, tmp_path):
    """model/dataset.json is what a host scales the IP's inputs with: a scaler there that is not the data's
    (offset and scale doubled by hand) is named, though the C++ would still match the reference."""
    copy = tmp_path / "b"
    shutil.copytree(built / "b", copy)
    path = copy / "model" / "dataset.json"
    doc = json.loads(path.read_text())
    doc["scaler"] = {k: [2 * v for v in vals] if isinstance(vals, list) else vals for k, vals in doc["scaler"].items()}
    path.write_text(json.dumps(doc))
    line = _one_error(tsflow(built, "csim", copy))
    assert f"{copy / 'model' / 'dataset.json'} holds another scaler than the data gives" in line
    assert "a host scales the IP's inputs with that file" in line and "run 'tsflow build' again" in line


def test_a_reused_model_on_data_that_changed_is_refused_before_any_folder(built):
    original = (built / "series.csv").read_text()
    try:
        write_series(built / "series.csv", scale=10.0, offset=5.0)
        line = _one_error(tsflow(built, "build", "c.yaml", "--out", "b2", "--trained", "t"))
    finally:
        (built / "series.csv").write_text(original)
    assert "--trained t: the data is not what that model was trained on" in line and "train it again" in line
    assert not (built / "b2").exists() and not (built / "b2.partial").exists()


def test_a_current_folder_that_was_removed_is_named(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f"cd {gone} && rmdir {gone} && exec {sys.executable} -m flow estimate {REPO / 'configs' / 'default.yaml'}"
    done = subprocess.run(["bash", "-c", script], env={**ENV, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=300)
    assert "error: the current folder no longer exists" in _one_error(done)


def test_csim_after_the_data_file_was_removed_names_the_build_config(built, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(built / "b", copy)
    cfg = yaml.safe_load((copy / "model" / "config.yaml").read_text())
    cfg["data"]["path"] = str(tmp_path / "moved.csv")  # as if the CSV had been moved away since the build
    (copy / "model" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    line = _one_error(tsflow(built, "csim", copy))
    assert "moved.csv" in line and "file not found" in line
    assert f"(the data {copy / 'model' / 'config.yaml'} names: the C simulation computes its reference" in line
