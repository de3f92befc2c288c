"""The accuracy suite (flow.benchmarks.suite) run for real, one seed and 1+1 epochs, on one series that ships
in a registry package (statsmodels' co2, written to a CSV; the built-in series load as every build's do, and
one series keeps the default suite's time down): every variant is printed,
the printed test MSEs are the runs it wrote (one seed: no spread), the summary's ratios are those of the means and
its goals are not judged on a quick one-seed run, TensorFlow's retracing notes stay out of the output; its user
errors are one line naming the flag, before any training."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from .conftest import REPO

ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
SERIES = ["co2"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    folder = tmp_path_factory.mktemp("suite")
    done = subprocess.run([sys.executable, "-m", "flow.benchmarks.suite", "--series", "co2",
                           "--seeds", "1", "--quick", "--json-out", "runs.json"], cwd=folder, env=ENV,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads((folder / "runs.json").read_text()), done.stderr


def _tables(out: str) -> dict:
    """Each series' rows (model -> test MSE cell) and the summary's rows (series -> cells)."""
    tables, current = {}, None
    for line in out.splitlines():
        if line.startswith("### "):
            current = line[4:].split(":")[0].split(" (")[0]
            tables[current] = {}
        elif line.startswith("| ") and current and not line.startswith(("| model", "| series")):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            tables[current][cells[0]] = cells[1:]
    return tables


def test_the_header_says_the_run_is_quick(smoke):
    out, doc, _ = smoke
    assert "quick: 1+1 epochs, not the suite's protocol" in out.splitlines()[:3]
    assert doc["quick"] is True and doc["seeds"] == 1


def test_every_series_prints_every_variant_and_both_baselines_as_the_runs_recorded(smoke):
    from flow.benchmarks.training import VARIANTS

    out, doc, _ = smoke
    tables = _tables(out)
    assert list(doc["series"]) == SERIES
    for name in SERIES:
        entry, rows = doc["series"][name], tables[name]
        assert [r["variant"] for r in entry["runs"]] == [label for label, _, _ in VARIANTS]
        assert rows["persistence (last value)"] == [f"{entry['baselines']['persistence']['mse']:.4g}"]
        assert rows["linear model on the window"] == [f"{entry['baselines']['linear']['mse']:.4g}"]
        for r in entry["runs"]:
            assert np.isfinite(r["mse"]) and r["mse"] > 0
            assert rows[r["variant"]] == [f"{r['mse']:.4g}"]  # one seed: no '± 0' as if a spread were measured
    assert "| model | test MSE (one seed: no spread) |" in out and "±" not in out


def test_the_summary_ratios_are_those_of_the_means(smoke):
    from flow.benchmarks.suite import RATIOS

    out, doc, _ = smoke
    summary = _tables(out)["Summary"]
    assert list(summary) == SERIES
    for name in SERIES:
        runs = doc["series"][name]["runs"]
        mean = {v: np.mean([r["mse"] for r in runs if r["variant"] == v]) for v in {r["variant"] for r in runs}}
        cells = summary[name]
        assert cells[:len(RATIOS)] == [f"{mean[a] / mean[b]:.3f}" for _, a, b in RATIOS]
        persistence = doc["series"][name]["baselines"]["persistence"]["mse"]
        assert cells[len(RATIOS)] == "/".join("yes" if mean[q] < persistence else "no"
                                              for q in ("8-bit", "6-bit", "4-bit", "mixed 4/8"))
        assert cells[-1] == "not judged (1 seed, --quick)"


def test_tensorflows_retracing_notes_stay_out_of_the_output(smoke):
    out, _, err = smoke
    assert "WARNING:tensorflow" not in out + err and "retracing" not in out + err


@pytest.mark.parametrize("args, message", [
    (["--series", "co2,nile"], "error: --series 'co2,nile': no such series 'nile'; give names separated by commas (or "
                               "--series repeated), each one of etth1, seattle-temps, sf-temps, seattle-weather, co2, "
                               "sunspots, taylor"),
    (["--seeds", "0"], "error: --seeds 0: at least 1 seed"),
    (["--force"], "error: --force: it replaces an existing --json-out file, and no --json-out is given; leave it out"),
    (["--series", "etth1", "--etth1", "nowhere.csv"], "error: --etth1 nowhere.csv: file not found; give ETTh1's CSV, "
                                                      "or leave --etth1 out"),
    (["--json-out", "taken.json"], "error: --json-out taken.json: the file exists, and the runs would replace it "
                                   "(checked before any training); choose another file, or pass --force to replace it"),
])
def test_a_bad_flag_is_one_line_naming_it_and_exit_2(tmp_path, monkeypatch, args, message):
    from flow.benchmarks.suite import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken.json").write_text("{}")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert not result.stdout
