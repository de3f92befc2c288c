"""The commands as a user types them: ``tsflow ...`` as real processes, started from a working
directory of their own, with relative paths for the configuration and the output folders.

One tiny build (window 8, d_model 8, one float and one QAT epoch) is shared by the module; the
other builds reuse its trained model with ``--trained`` wherever the command allows it.
"""
import json
import math
import re
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
import yaml

from .conftest import CLI_ENV as ENV, PART, TINY

RESOURCE_COLUMNS = {"lut": "LUT", "lutram": "LUTRAM", "ff": "FF", "bram18": "BRAM18", "dsp": "DSP"}


def tsflow(cwd, *args, timeout=300):
    """``tsflow ARGS`` run from ``cwd``; no command may ever print a traceback."""
    done = subprocess.run([sys.executable, "-m", "flow", *map(str, args)], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=timeout)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
    return done


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def table_rows(text: str) -> dict[str, list[str]]:
    """Body rows of a rich table, by their first cell."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            rows[cells[0]] = cells[1:]
    return rows


def header(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [c.strip() for c in line.strip("┃").split("┃")]


def snapshot(folder):
    """Content and mtime of every file below ``folder``."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """``tsflow build tiny.yaml --out runs/x`` run once, from a folder that is not the project's."""
    cwd = tmp_path_factory.mktemp("e2e") / "elsewhere"
    cwd.mkdir()
    (cwd / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    done = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/x")
    assert done.returncode == 0, done.stderr  # every test of the module starts from this build
    return cwd, done


def test_build_writes_a_complete_folder_and_prints_the_summary(shared):
    cwd, done = shared
    assert done.returncode == 0, done.stderr
    x = cwd / "runs" / "x"
    assert sorted(p.name for p in (cwd / "runs").iterdir()) == ["x"]  # nothing .partial left beside it
    assert (x / "hls").is_dir() and (x / "hls" / "firmware" / "tsflow_model.cpp").is_file()
    assert not (x / "FAILED").exists()
    csim = json.loads((x / "csim.json").read_text())
    # every window of the test split: 20% of 8,759 hourly rows, less the window
    assert csim["bit_exact"] is True and csim["samples"] == int(8759 * 0.2) - 8 and csim["mismatches"] == 0
    build = json.loads((x / "build.json").read_text())
    assert build["cpp_lines"] > 0 and {"train", "convert", "csim_compile", "csim_run"} <= set(build["seconds"])
    est = json.loads((x / "estimate.json").read_text())
    assert est["part"] == PART and est["fits"] is True
    metrics = json.loads((x / "model" / "metrics.json").read_text())
    assert metrics["quantized"] is True and math.isfinite(metrics["test"]["mse"])
    # the summary: one epoch line per phase, the estimate, the C simulation verdict, the errors, the folder
    err = done.stderr
    assert re.search(r"float epoch +1/1 ", err) and re.search(r"qat +epoch +1/1 ", err)
    # before training: the estimate of the YAML as given (integer: auto at its prior types), the table the
    # fit check printed; after: estimate.json, with the binary points training chose, in the last lines
    before = _estimate_json(cwd)
    assert f"latency {before['latency_cycles']:,} cycles" in err
    total = table_rows(err)["total"]
    assert [int(v) for v in total[1:6]] == [before["total"][r] for r in RESOURCE_COLUMNS]
    assert "estimate again with the binary points training chose" in err
    assert f"latency {est['latency_cycles']:,} cycles = " in err.splitlines()[-3]
    energy = est["energy"]
    assert err.splitlines()[-2] == (f"energy per inference (estimate): {energy['energy_uj']:,.2f} uJ = "
                                    f"{energy['energy_uj'] / 1000:.4g} mJ: {energy['total_w']:.3f} W (static "
                                    f"{energy['static_w']:.3f} W, dynamic {energy['total_w'] - energy['static_w']:.3f} W at "
                                    f"a 12.5 % toggle rate) x {energy['latency_us']:,.1f} us")
    assert "integer bits chosen for integer: auto (copy from runs/x/model/binary_points.yaml)" in err
    assert (f"C simulation: {csim['samples']} test windows, 0 output mismatches, {csim['values_compared']} values "
            f"over {csim['boundaries_compared']} boundaries, 0 differ: bit-exact") in err
    rows = table_rows(err)
    assert rows["quantized, test"][0].startswith(f"{metrics['test']['mse']:.4g}")
    assert rows["float, test"][0].startswith(f"{metrics['float']['test']['mse']:.4g}")  # what quantization costs
    assert rows["persistence, test"][0] == f"{metrics['baselines']['test']['persistence']['mse']:.4g}"
    # the estimate is printed when it is checked, before the first epoch; training's end is announced
    assert err.index(f"latency {before['latency_cycles']:,} cycles") < err.index("float epoch")
    assert re.search(r"> qat: kept epoch 1 \(val_loss", err)
    assert f"build written to runs/x ({build['cpp_lines']} lines of C++;" in err


def test_csim_of_a_relative_build_folder_is_bit_exact(shared):
    cwd, _ = shared
    before = json.loads((cwd / "runs" / "x" / "csim.json").read_text())
    done = tsflow(cwd, "csim", "runs/x", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert f"C simulation: {before['samples']} test windows, 0 output mismatches" in done.stderr
    assert done.stderr.rstrip().endswith("bit-exact") and "NOT bit-exact" not in done.stderr
    after = json.loads((cwd / "runs" / "x" / "csim.json").read_text())
    assert after["bit_exact"] is True and after["samples"] == before["samples"]


def _estimate_json(cwd, *extra):
    done = tsflow(cwd, "estimate", "tiny.yaml", "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _check_table_matches(table: str, est: dict) -> None:
    """The printed table carries exactly the figures of ``--json``."""
    assert header(table)[2:8] == [*RESOURCE_COLUMNS.values(), "cycles"]
    rows = table_rows(table)
    total, budget, used = rows["total"], rows["budget"], rows["used"]
    assert [int(v) for v in total[1:6]] == [est["total"][r] for r in RESOURCE_COLUMNS]
    assert int(total[6].replace(",", "")) == est["latency_cycles"]
    assert budget[0].startswith(PART[:10])
    assert [int(v) for v in budget[1:6]] == [est["budget"][r] for r in RESOURCE_COLUMNS]
    assert used[1:6] == [f"{100 * est['total'][r] / est['budget'][r]:.0f}%" for r in RESOURCE_COLUMNS]
    assert used[0] == ("DOES NOT FIT: " + ", ".join(est["overflowing"]) if not est["fits"] else
                       "fits, over the headroom: " + ", ".join(est["over_headroom"]) if est["over_headroom"] else "fits")
    latency = re.search(r"at 100 MHz: latency ([\d,]+) cycles = ([\d,.]+) us", table)
    assert int(latency.group(1).replace(",", "")) == est["latency_cycles"]
    assert abs(float(latency.group(2).replace(",", "")) - est["latency_us"]) <= 0.05


def test_estimate_prints_the_figures_of_its_json(shared):
    cwd, _ = shared
    est = _estimate_json(cwd)
    done = tsflow(cwd, "estimate", "tiny.yaml")
    assert done.returncode == 0, done.stderr
    assert "estimate (not calibrated against synthesis) on xc7s15ftgb196-2" in done.stdout
    _check_table_matches(done.stdout, est)
    # one row per layer and per buffer, the same the build recorded for this configuration
    built = json.loads((cwd / "runs" / "x" / "estimate.json").read_text())
    rows = table_rows(done.stdout)
    assert all(layer["name"] in rows for layer in built["layers"])
    assert all(f"{b['name']} (buffer)" in rows for b in built["buffers"])
    assert est["calibrated"] is False
    # the build estimated the binary points training chose: pasted into the YAML, they give its figures
    raw = yaml.safe_load((cwd / "tiny.yaml").read_text())
    raw["quantization"].update(yaml.safe_load((cwd / "runs" / "x" / "model" / "binary_points.yaml").read_text()))
    (cwd / "tiny-points.yaml").write_text(yaml.safe_dump(raw))
    pasted = json.loads(tsflow(cwd, "estimate", "tiny-points.yaml", "--json").stdout)
    assert pasted["total"] == built["total"] and pasted["latency_cycles"] == built["latency_cycles"]


def test_estimate_with_a_calibration_file_scales_the_totals(shared):
    cwd, _ = shared
    base = _estimate_json(cwd)
    factors = {"lut": 1.25, "ff": 0.5, "dsp": 2.0, "latency": 3.0}
    estimated = {**base["total"], "latency": base["latency_cycles"]}
    (cwd / "cal.json").write_text(json.dumps({  # as 'tsflow calibrate' writes it
        "part": PART, "config": "tiny", "factors": factors, "estimated": estimated,
        "measured": {r: f * estimated[r] for r, f in factors.items()},
        "sources": {r: ["reports/vivado_utilization.rpt"] for r in factors}, "warnings": []}))
    cal = _estimate_json(cwd, "--calibration", "cal.json")
    assert cal["calibrated"] is True
    for r, b in base["total"].items():
        f = factors.get(r, 1.0)  # the estimate rounds up once, after scaling its unrounded sum
        assert math.ceil(f * (b - 1)) <= cal["total"][r] <= math.ceil(f * b), r
    assert cal["total"]["lutram"] == base["total"]["lutram"] and cal["total"]["bram18"] == base["total"]["bram18"]
    assert cal["latency_cycles"] == 3 * base["latency_cycles"]
    assert cal["latency_us"] == pytest.approx(3 * base["latency_us"], abs=2e-3)
    # 13 DSPs doubled exceed the XC7S15's 20: the corrected estimate no longer fits
    assert cal["total"]["dsp"] > cal["budget"]["dsp"] and cal["fits"] is False and cal["overflowing"] == ["dsp"]
    done = tsflow(cwd, "estimate", "tiny.yaml", "--calibration", "cal.json")
    assert done.returncode == 0, done.stderr
    assert "calibrated estimate on xc7s15ftgb196-2" in done.stdout and "not calibrated" not in done.stdout
    _check_table_matches(done.stdout, cal)
    # corrections fitted on another part are refused, naming both parts
    (cwd / "other.json").write_text(json.dumps({"part": "xc7a35tcpg236-1", "factors": {"lut": 2.0}}))
    bad = tsflow(cwd, "estimate", "tiny.yaml", "--calibration", "other.json")
    assert bad.returncode == 2 and not bad.stdout
    [line] = error_lines(bad.stderr)
    assert "xc7a35tcpg236-1" in line and PART in line and "target.part" in line


def test_sweep_rows_are_the_estimates_of_their_points(shared):
    """Wiring: each cell is the estimate of its point (the estimator is pinned by hand in
    test_estimate_by_hand), the points the grid the docs give, with an FFN of 4 x d_model."""
    from flow.config import parse_config
    from flow.estimate import estimate

    cwd, _ = shared
    done = tsflow(cwd, "sweep", "tiny.yaml")
    assert done.returncode == 0, done.stderr
    assert header(done.stdout) == ["d_model", "bits", "heads", "all registers", "all lutram", "all bram", "all auto",
                                   "latency us, slowest policy"]
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in done.stdout.splitlines()
            if line.startswith("│")]
    assert len(rows) == 4 * 3 * 2
    fitting = 0
    for d, b, h, *cells, latency in rows:
        raw = json.loads(json.dumps(TINY))
        raw["model"].update(d_model=int(d), heads=int(h))
        raw["model"]["ffn"] = 4 * int(d)  # the sweep's FFN is 4 x d_model (flow/sweep.py)
        raw["quantization"]["bits"] = int(b)
        points = {s: estimate(parse_config({**raw, "hls": {"default_storage": s}}))
                  for s in ("registers", "lutram", "bram", "auto")}
        for cell, est in zip(cells, points.values()):
            used = {r: 100 * est.total[r] / est.budget[r] for r in est.total if est.budget[r]}
            if est.fits:
                fitting += 1
                over, name, pct = re.fullmatch(r"fits(, over the headroom)? \((\w+) (\d+)%\)", cell).groups()
                assert bool(over) == bool(est.over_headroom), (d, b, h, cell)
                assert f"{used[name]:.0f}" == pct == f"{max(used.values()):.0f}", (d, b, h, cell)
            else:
                listed = dict(re.findall(r"(\w+) (\d+)%", re.fullmatch(r"NO: (.*)", cell).group(1)))
                assert list(listed) == est.overflowing, (d, b, h, cell)
                assert all(pct == f"{used[r]:.0f}" for r, pct in listed.items()), (d, b, h, cell)
        assert latency == f"{max(e.latency_us for e in points.values()):,.0f}"
    assert 0 < fitting < 96  # the tiny window fits small models and refuses the largest
    assert f"{fitting} of 96 points fit {PART}" in done.stderr
    # TINY leaves its lanes to auto and sets no per-layer bits
    assert "FFN 4 x d_model, lanes auto, every tensor at the point's bits)" in " ".join(done.stdout.split())
    told = [line for line in done.stderr.splitlines() if line.startswith("> sweep point ")]
    assert [line.split(" (")[0] for line in told] == [f"> sweep point {i} of 96" for i in range(1, 97)]


def test_export_writes_the_scripts_export_names(shared):
    """The four files, with the build's facts in them worked out from TINY (the Tcl itself is run under
    tclsh in test_export): the part, 100 MHz as a 10 ns period, the ap_vld top function."""
    from flow.export import HLS_SCRIPT, HOWTO, SCRIPTS, VIVADO_SCRIPT, XDC

    cwd, _ = shared
    done = tsflow(cwd, "export", "runs/x")
    assert done.returncode == 0, done.stderr
    scripts = cwd / "runs" / "x" / SCRIPTS
    assert sorted(p.name for p in scripts.iterdir()) == sorted(
        ["tsflow_hls.tcl", "tsflow_vivado.tcl", "tsflow_clock.xdc", "HOWTO.md"])
    hls = (scripts / HLS_SCRIPT).read_text()
    assert re.search(r'^set tsflow_part\s+"xc7s15ftgb196-2"$', hls, re.M)
    assert re.search(r"^set tsflow_period\s+10\.000$", hls, re.M)
    assert re.search(r"^set tsflow_top\s+tsflow_model\b", hls, re.M)
    assert "add_files hls/firmware/tsflow_model.cpp" in hls
    assert re.search(r"create_clock -period 10\.000\b", (scripts / XDC).read_text())
    assert (f"written in runs/x: {SCRIPTS}/{HLS_SCRIPT}, {SCRIPTS}/{VIVADO_SCRIPT}, {SCRIPTS}/{XDC}, {SCRIPTS}/{HOWTO}"
            in done.stderr)
    # the commands printed work from where the user is: cd into the build folder, then the HLS script
    assert "  cd runs/x\n" in done.stderr and f"-f {SCRIPTS}/{HLS_SCRIPT}" in done.stderr


def test_build_refuses_an_existing_folder_and_force_replaces_it(shared):
    cwd, _ = shared
    x = cwd / "runs" / "x"
    before = snapshot(x)
    refused = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/x", "--trained", "runs/x/model")
    assert refused.returncode == 2
    [line] = error_lines(refused.stderr)
    assert f"output folder {x} already exists; pass --force to replace it" in line
    assert snapshot(x) == before and not (cwd / "runs" / "x.partial").exists()

    z = cwd / "runs" / "z"
    shutil.copytree(x, z)
    (z / "notes.txt").write_text("from the earlier build")
    old_build = (z / "build.json").read_text()
    # a file tsflow did not write (not in manifest.json) is never deleted, even with --force: it is named
    kept = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/z", "--force", "--trained", "runs/x/model")
    assert kept.returncode == 2
    [line] = error_lines(kept.stderr)
    assert f"output folder {z} holds a file tsflow did not write (notes.txt); --force replaces only" in line
    assert (z / "notes.txt").exists() and not (cwd / "runs" / "z.partial").exists()
    (z / "notes.txt").unlink()
    done = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/z", "--force", "--trained", "runs/x/model")
    assert done.returncode == 0, done.stderr
    assert "epoch" not in done.stderr  # the trained model was reused, not trained again
    assert not (cwd / "runs" / "z.partial").exists()
    assert (z / "build.json").read_text() != old_build  # timings of this build
    assert json.loads((z / "csim.json").read_text())["bit_exact"] is True
    assert (z / "model" / "model.weights.h5").read_bytes() == (x / "model" / "model.weights.h5").read_bytes()
    assert "build written to runs/z" in done.stderr


def test_an_interrupted_build_leaves_a_failed_partial_folder_and_can_be_rerun(shared):
    cwd, _ = shared
    # started as a terminal starts it: Ctrl-C interrupts it even where the test runner ignores SIGINT (a
    # suite started in the background does, and an ignored signal is inherited)
    proc = subprocess.Popen([sys.executable, "-m", "flow", "build", "tiny.yaml", "--out", "runs/int"], cwd=cwd,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    watchdog = threading.Timer(240, proc.kill)
    watchdog.start()
    try:
        seen = []
        for line in proc.stderr:  # the first epoch line: training has started
            seen.append(line)
            if "epoch" in line:
                proc.send_signal(signal.SIGINT)
                break
        out, err = proc.communicate(timeout=240)
    finally:
        watchdog.cancel()
    err = "".join(seen) + err
    assert any("epoch" in line for line in seen), err
    assert proc.returncode > 0, (proc.returncode, err)  # an exit code, not death by the signal
    assert "Traceback" not in err and "Traceback" not in out
    assert "Aborted!" in err and "build written" not in err
    assert not (cwd / "runs" / "int").exists()
    assert (cwd / "runs" / "int.partial" / "FAILED").read_text().startswith("KeyboardInterrupt")
    # the same command again, corrected: tsflow's own failed folder does not block it, and it says so
    rerun = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/int", "--trained", "runs/x/model")
    assert rerun.returncode == 0, rerun.stderr
    assert "left by a failed run (KeyboardInterrupt" in rerun.stderr
    assert not (cwd / "runs" / "int.partial").exists() and not (cwd / "runs" / "int" / "FAILED").exists()
    assert json.loads((cwd / "runs" / "int" / "csim.json").read_text())["bit_exact"] is True
    # a folder tsflow did not make is never replaced, even with --force
    mine = cwd / "runs" / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    refused = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/mine", "--force", "--trained", "runs/x/model")
    assert refused.returncode == 2 and "does not look like a tsflow folder" in refused.stderr
    assert "Traceback" not in refused.stderr and (mine / "notes.txt").read_text() == "keep me"


def test_minmax_scaling_and_a_horizon_of_3_build_bit_exact_and_forecast_3_steps_ahead(shared):
    """data.scaling: minmax maps the training rows onto [0, 1]; data.horizon: 3 forecasts the target
    three steps after the window's last row (checked against the raw series)."""
    from vega_datasets import local_data

    from flow.config import load_config
    from flow.data import load_dataset

    cwd, _ = shared
    raw = json.loads(json.dumps(TINY))
    raw["name"] = "minmax-h3"
    raw["data"].update(scaling="minmax", horizon=3)
    (cwd / "opt.yaml").write_text(yaml.safe_dump(raw))
    done = tsflow(cwd, "build", "opt.yaml", "--out", "runs/opt")
    assert done.returncode == 0, done.stderr

    temp = local_data.seattle_temps().sort_values("date", kind="stable")["temp"].to_numpy(dtype=np.float64)
    n = len(temp)
    n_train, n_val, n_test = int(n * 0.6), int(n * 0.2), int(n * 0.2)
    train, test = temp[:n_train], temp[n_train + n_val:n_train + n_val + n_test]
    window, horizon = 8, 3
    windows = n_test - window - horizon + 1
    # the scaler the model was trained with: min and range of the training rows
    scaler = json.loads((cwd / "runs" / "opt" / "model" / "dataset.json").read_text())["scaler"]
    assert scaler["offset"] == [pytest.approx(train.min())]
    assert scaler["scale"] == [pytest.approx(train.max() - train.min())]
    # every test window was simulated, bit for bit
    csim = json.loads((cwd / "runs" / "opt" / "csim.json").read_text())
    assert csim["bit_exact"] is True and csim["samples"] == windows
    # the persistence baseline reported is the error of "the last value of the window, 3 steps later"
    metrics = json.loads((cwd / "runs" / "opt" / "model" / "metrics.json").read_text())
    t = np.arange(windows)
    persistence = np.mean((test[t + window + horizon - 1] - test[t + window - 1]) ** 2)
    assert metrics["baselines"]["test"]["persistence"]["mse"] == pytest.approx(persistence, rel=1e-9)
    assert math.isfinite(metrics["test"]["mse"]) and metrics["bits"] != "float32"
    # the windows themselves: x is rows [t, t + 8) scaled, y the raw target at t + 8 + 3 - 1
    ds = load_dataset(load_config(cwd / "opt.yaml"))
    assert ds.test.y.shape == (windows,)
    np.testing.assert_allclose(ds.denormalise(ds.test.y), test[t + window + horizon - 1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ds.denormalise(ds.test.x[:, :, 0]), test[t[:, None] + np.arange(window)],
                               rtol=0, atol=1e-9)
    assert ds.train.x.min() == pytest.approx(0.0) and ds.train.x.max() == pytest.approx(1.0)


def test_a_bad_value_exits_2_with_one_line_naming_the_key(shared):
    cwd, _ = shared
    raw = json.loads(json.dumps(TINY))
    raw["data"]["window"] = 1
    (cwd / "bad.yaml").write_text(yaml.safe_dump(raw))
    for command in (["build", "bad.yaml", "--out", "runs/bad"], ["estimate", "bad.yaml"]):
        done = tsflow(cwd, *command)
        assert done.returncode == 2 and not done.stdout, command
        [line] = [line for line in done.stderr.splitlines() if "data.window" in line]
        assert line.strip() == "data.window = 1: allowed: >= 2 and <= 512", command
        assert len(done.stderr.strip().splitlines()) == 2  # "error: invalid configuration bad.yaml:" and that line
    assert not (cwd / "runs" / "bad").exists() and not (cwd / "runs" / "bad.partial").exists()


def test_an_output_folder_that_cannot_be_created_is_a_clean_error(shared):
    cwd, _ = shared
    (cwd / "afile").write_text("not a folder")
    cases = [("build", "afile/sub", "Not a directory")]
    locked = cwd / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        try:  # root writes through the mode bits: the path under a file covers that case
            (locked / "probe").mkdir()
            (locked / "probe").rmdir()
        except PermissionError:
            cases.append(("train", "locked/sub", "Permission denied"))
        for command, out, reason in cases:
            done = tsflow(cwd, command, "tiny.yaml", "--out", out)
            assert done.returncode == 2, (command, done.stderr)
            [line] = error_lines(done.stderr)
            assert f"cannot create the output folder {cwd / out}" in line and reason in line, line
            assert "Traceback" not in done.stderr and not done.stderr.strip().splitlines()[-1].startswith(">")
        assert (cwd / "afile").read_text() == "not a folder"
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
