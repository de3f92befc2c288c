"""The accuracy benchmark run for real on a tiny config: its table is the runs it wrote, and --merge
prints the same table from those runs (the two-process recipe its docstring gives); the long-horizon
benchmark's protocol on a series in ETTh1's layout."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from .conftest import REPO, small_raw

ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}


def _run(args, cwd):
    done = subprocess.run([sys.executable, "-m", "flow.benchmarks.training", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def benchmark_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accuracy")
    # a date-less CSV (data.date_column: null must survive the benchmark's re-dumped configs) of a series with
    # small values, like an exchange rate: its errors must still print their digits, not 0.0000
    from vega_datasets import local_data

    temps = local_data.seattle_temps()["temp"].to_numpy()[:3000]
    (folder / "small.csv").write_text("rate\n" + "".join(f"{v / 1000:.6f}\n" for v in temps))
    raw = small_raw(predict_delta=True)
    raw["data"] = {**raw["data"], "source": "csv", "path": "small.csv", "date_column": None, "features": ["rate"],
                   "target": "rate"}
    raw["training"] = {**raw["training"], "float_epochs": 1, "qat_epochs": 1}
    (folder / "tiny.yaml").write_text(yaml.safe_dump(raw))
    table = _run(["tiny.yaml", "--seeds", "1", "--heads", "4", "--json-out", "runs.json"], folder)
    return folder, table, json.loads((folder / "runs.json").read_text())


def _rows(table: str) -> dict:
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("model", "---"):
            rows[cells[0], cells[1]] = cells[2]
    return rows


def test_the_table_prints_every_variant_and_baseline_the_runs_recorded(benchmark_run):
    _, table, written = benchmark_run
    runs = written["runs"]
    # the benchmark's variants, in the order docs/benchmarks-accuracy.md tabulates them
    assert [r["variant"] for r in runs] == ["float32", "8-bit", "6-bit", "4-bit", "mixed 4/8"]
    rows = _rows(table)
    head = "the configuration's own model and inputs"
    for r in runs:  # one seed: the run's value alone, no spread measured (not '± 0')
        assert np.isfinite(r["mse"]) and r["mse"] > 0
        assert rows[head, r["variant"]] == f"{r['mse']:.4g}"
        assert not rows[head, r["variant"]].startswith("0.0000")
    for name, e in written["baselines"].items():
        assert rows[name, "-"] == f"{e['mse']:.4g}"
    mse = {r["variant"]: r["mse"] for r in runs}
    persistence = written["baselines"]["persistence (last value)"]["mse"]
    quantized = [v for k, v in mse.items() if k != "float32"]
    assert (f"8-bit/float {mse['8-bit'] / mse['float32']:.3f}, 4-bit/8-bit {mse['4-bit'] / mse['8-bit']:.3f}, "
            f"best quantized/persistence {min(quantized) / persistence:.3f}, "
            f"worst quantized/persistence {max(quantized) / persistence:.3f}") in table


def test_the_baselines_are_persistence_and_the_linear_model_of_the_same_test_windows(benchmark_run):
    """Both worked here from the CSV's rows (in its units, as the benchmark reports them), not through the
    flow's scaler: rows in file order, 0.6 / 0.2 / 0.2 split rounded down, windows of 8 inside each split."""
    folder, _, written = benchmark_run
    temp = np.loadtxt(folder / "small.csv", skiprows=1, dtype=np.float64)
    n = len(temp)
    train, test = temp[:int(n * 0.6)], temp[int(n * 0.6) + int(n * 0.2):int(n * 0.6) + 2 * int(n * 0.2)]
    window = 8

    def windows(rows):
        t = np.arange(len(rows) - window)
        return rows[t[:, None] + np.arange(window)], rows[t + window]

    (x_test, truth), (x_train, y_train) = windows(test), windows(train)
    persistence = written["baselines"]["persistence (last value)"]
    assert persistence["mse"] == pytest.approx(float(np.mean((x_test[:, -1] - truth) ** 2)), rel=1e-12)
    # least squares on the window and a constant, without the ridge; on the raw values its forecasts are
    # those of the same fit on the scaled values (an affine change of the inputs and the target)
    def design(x):
        return np.hstack([x, np.ones((len(x), 1))])

    coef = np.linalg.lstsq(design(x_train), y_train, rcond=None)[0]
    linear = design(x_test) @ coef
    assert written["baselines"]["linear model on the window"]["mse"] == pytest.approx(
        float(np.mean((linear - truth) ** 2)), rel=1e-4)


def test_merge_prints_the_same_table_from_the_written_runs(benchmark_run):
    folder, table, _ = benchmark_run
    merged = _run(["tiny.yaml", "--merge", "runs.json"], folder)
    assert merged == table


def test_the_per_seed_ratios_are_each_seeds_own_4_bit_over_8_bit(benchmark_run):
    """Two seeds written by hand: the mean's ratio hides how far apart the seeds are, the per-seed line
    does not (4-bit/8-bit 0.5/0.4 = 1.250 and 0.3/0.6 = 0.500). A third seed that stopped after its 8-bit
    run (a file --json-out was still writing) counts in the 8-bit mean, (0.4 + 0.6 + 1.0) / 3, so the
    means give 0.4/0.6667 = 0.600, and has no per-seed ratio."""
    folder, _, written = benchmark_run
    head = "the configuration's own model and inputs"
    mse = {(0, "8-bit"): 0.4, (0, "4-bit"): 0.5, (1, "8-bit"): 0.6, (1, "4-bit"): 0.3}
    runs = [{"head": head, "variant": label, "seed": seed, "seconds": 1.0, "mse": mse.get((seed, label), 0.7),
             "rmse": mse.get((seed, label), 0.7) ** 0.5} for seed in (0, 1) for label in
            ("float32", "8-bit", "6-bit", "4-bit", "mixed 4/8")]
    runs += [{"head": head, "variant": label, "seed": 2, "seconds": 1.0, "mse": mse, "rmse": mse ** 0.5}
             for label, mse in (("float32", 0.7), ("8-bit", 1.0))]
    (folder / "two_seeds.json").write_text(json.dumps({"baselines": written["baselines"], "runs": runs}))
    table = _run(["tiny.yaml", "--merge", "two_seeds.json"], folder)
    assert "4-bit/8-bit 0.600," in table
    assert "4-bit/8-bit per seed (the spread behind the mean's ratio): 1.250, 0.500\n" in table


def test_the_long_horizon_benchmark_follows_the_protocol(tmp_path):
    """A series in ETTh1's layout (date, OT; 14,400 hours): look-back 8, horizon 4. The test split is rows
    11,520..14,399 and every row of it is forecast: 2,880 - 4 + 1 = 2,877 windows; the three baselines are
    the ones flow.metrics computes on those windows."""
    import pandas as pd

    t = np.arange(14_400)
    ot = 10 + np.sin(2 * np.pi * t / 24) + 0.01 * t + np.random.default_rng(0).normal(0, 0.1, t.size)
    pd.DataFrame({"date": pd.date_range("2016-07-01", periods=t.size, freq="h"), "OT": ot}).to_csv(
        tmp_path / "ETTh1.csv", index=False)
    # a config of patch tokens (2 steps, 2 apart: the look-back of 8 is 4 tokens), trained with two seeds
    raw = small_raw(patch={"length": 2, "stride": 2})
    raw["training"].update(float_epochs=1, qat_epochs=1, seed=3)
    (tmp_path / "patch.yaml").write_text(yaml.safe_dump(raw))
    done = subprocess.run([sys.executable, "-m", "flow.benchmarks.longhorizon", "patch.yaml", "--data",
                           str(tmp_path / "ETTh1.csv"), "--lookbacks", "8", "--steps", "4", "--seeds", "2"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in done.stdout.splitlines() if line.startswith("│")]
    assert [r[3] for r in rows] == ["persistence", "linear = DLinear, closed form", "NLinear, closed form",
                                    "small: float", "small: quantized, 8 bits"]
    assert all(r[:3] == ["8", "4", "2,877"] for r in rows)
    for row in rows[3:]:  # the mean of the two seeds' MSEs (seeds 3 and 4), each printed
        assert row[6].startswith("seeds 3, 4: ") and row[6].endswith("(estimate)"), row
        per_seed = [float(v) for v in row[6].removeprefix("seeds 3, 4: ").split(";")[0].split(" / ")]
        assert len(per_seed) == 2 and per_seed[0] != per_seed[1]
        assert float(row[4]) == pytest.approx(sum(per_seed) / 2, abs=1e-4)

    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.benchmarks.longhorizon import protocol_data
    from flow.metrics import errors, persistence_forecast

    ds = load_dataset(parse_config({"data": protocol_data(tmp_path / "ETTh1.csv", 8, 4)}), note=lambda text: None)
    assert ds.rows == {"train": 8_640, "val": 2_880, "test": 2_880}
    assert rows[0][4] == f"{errors(persistence_forecast(ds.test), ds.test.y)['mse']:.4f}"


def test_the_latency_benchmark_reads_a_home_relative_data_path_as_tsflow_does(tmp_path, monkeypatch):
    """``data.path: ~/...`` is the user's home, not a folder named '~' beside the config the benchmark copies."""
    from flow.benchmarks.latency import _absolute_config

    home = tmp_path / "home"
    (home / "series").mkdir(parents=True)
    (home / "series" / "s.csv").write_text("date,v\n")
    monkeypatch.setenv("HOME", str(home))
    config = tmp_path / "configs" / "c.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump({"data": {"source": "csv", "path": "~/series/s.csv", "target": "v"}}))
    work = tmp_path / "work"
    work.mkdir()
    copied = yaml.safe_load(_absolute_config(config, work).read_text())
    assert copied["data"]["path"] == str(home / "series" / "s.csv")


# --------------------------------------------------------------------------------- the benchmarks' user errors

def _refused(module: str, args, cwd, **kwargs) -> str:
    done = subprocess.run([sys.executable, "-m", f"flow.benchmarks.{module}", *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300, **kwargs)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(errors) == 1, done.stderr
    assert not done.stdout.strip(), done.stdout  # no table, no training
    return errors[0]


def test_merge_refuses_runs_of_another_configuration_or_series(benchmark_run, tmp_path):
    """b97: runs of sf-temps merged under the seattle-temps config printed the one series' baselines beside the
    other's runs. A file names its configuration and data now; an older one is judged by its baselines."""
    folder, _, written = benchmark_run
    assert (written["config"], written["dataset"]) == ("small", "small")  # what --json-out records now
    other = {**written, "config": "tinysf", "dataset": "sf-temps"}
    (folder / "sf.json").write_text(json.dumps(other))
    assert _refused("training", ["tiny.yaml", "--merge", "sf.json"], folder) == (
        "error: --merge sf.json: runs of 'tinysf' (sf-temps), not of tiny.yaml ('small', small); merge the files "
        "written with this configuration, or give its own configuration to print them")
    older = {"baselines": {name: {**e, "mse": 2 * e["mse"]} for name, e in written["baselines"].items()},
             "runs": written["runs"]}
    (folder / "older.json").write_text(json.dumps(older))
    message = _refused("training", ["tiny.yaml", "--merge", "older.json"], folder)
    assert message.startswith("error: --merge older.json: its runs were scored on other test windows than tiny.yaml's "
                              "data gives (persistence (last value): MSE "), message


def test_a_json_out_that_cannot_be_written_is_refused_before_any_training(tmp_path):
    """b95: --json-out into a folder that could not be written failed after the first training, with a
    PermissionError traceback."""
    from .conftest import as_unprivileged, require_mode_bits

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(small_raw()))
    (tmp_path / "notes.txt").write_text("")
    assert _refused("training", ["c.yaml", "--seeds", 1, "--heads", 0, "--json-out", "notes.txt/runs.json"],
                    tmp_path) == ("error: --json-out notes.txt/runs.json: notes.txt is a file, not a folder (checked "
                                  "before any training); choose another file")
    require_mode_bits()
    (tmp_path / "imm").mkdir(mode=0o555)
    assert _refused("training", ["c.yaml", "--seeds", 1, "--heads", 0, "--json-out", "imm/runs.json"], tmp_path,
                    preexec_fn=as_unprivileged) == (
        "error: --json-out imm/runs.json: cannot write there (Permission denied; checked before any training); "
        "choose a file in a folder you can write")


def test_an_existing_json_out_is_replaced_only_with_force(tmp_path):
    """b50: --json-out over a file the user keeps replaced it with the runs, unasked."""
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(small_raw()))
    notes = '{"my": "notes the user keeps"}'
    (tmp_path / "notes.json").write_text(notes)
    assert _refused("training", ["c.yaml", "--seeds", 1, "--heads", 0, "--json-out", "notes.json"], tmp_path) == (
        "error: --json-out notes.json: the file exists, and the runs would replace it (checked before any "
        "training); choose another file, or pass --force to replace it")
    assert (tmp_path / "notes.json").read_text() == notes
    # with --force the file is past that check: the next one (a configuration that cannot be read) refuses
    (tmp_path / "bad.yaml").write_text("data: {window: 1}\n")
    assert _refused("training", ["bad.yaml", "--json-out", "notes.json", "--force"], tmp_path).startswith(
        "error: invalid configuration")
    assert (tmp_path / "notes.json").read_text() == notes
    assert _refused("training", ["c.yaml", "--force"], tmp_path) == (
        "error: --force: it replaces an existing --json-out file, and no --json-out is given; leave it out")


def test_merge_refuses_the_flags_it_would_ignore(tmp_path):
    """b81: --merge with --seeds 5 --heads 1 printed the merged files' table (head 0, one seed), the flags
    ignored."""
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(small_raw()))
    (tmp_path / "runs.json").write_text("{}")
    assert _refused("training", ["c.yaml", "--merge", "runs.json", "--seeds", 5, "--heads", 1], tmp_path) == (
        "error: --seeds, --heads: not used with --merge (the table is that of the merged files; nothing is trained "
        "or written); leave them out, or run without --merge to train")
    assert _refused("training", ["c.yaml", "--merge", "runs.json", "--json-out", "all.json"], tmp_path) == (
        "error: --json-out: not used with --merge (the table is that of the merged files; nothing is trained or "
        "written); leave it out, or run without --merge to train")
    assert not (tmp_path / "all.json").exists()


def test_a_look_back_the_model_cannot_take_names_the_flag_before_any_training(tmp_path):
    """b49: --lookbacks 12 with a config of patches 8 steps long, 8 apart (its own data.window 16) was blamed
    on data.window."""
    import pandas as pd

    pd.DataFrame({"date": pd.date_range("2016-07-01", periods=14_400, freq="h"), "OT": np.arange(14_400.0)}).to_csv(
        tmp_path / "ETTh1.csv", index=False)
    raw = small_raw(patch={"length": 8, "stride": 8})
    raw["data"]["window"] = 16
    (tmp_path / "patch8.yaml").write_text(yaml.safe_dump(raw))
    assert _refused("longhorizon", ["patch8.yaml", "--data", "ETTh1.csv", "--lookbacks", 16, 12, "--steps", 4],
                    tmp_path) == (
        "error: --lookbacks 12 with patch8.yaml: the look-back is the model's data.window, and model.patch: "
        "data.window = 12 leaves its last 4 step(s) out of every patch (patches of 8 steps, 8 apart); data.window "
        "must be model.patch.length plus a whole number of strides, e.g. 8 or 16; choose values that model takes, "
        "or leave patch8.yaml out")


def _argparse_refused(module: str, args, cwd) -> str:
    """The one ``error:`` line of a benchmark whose flags argparse refuses (after its usage), nothing run."""
    done = subprocess.run([sys.executable, "-m", f"flow.benchmarks.{module}", *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr and not done.stdout.strip(), done.stderr
    return done.stderr.strip().splitlines()[-1]


def test_long_horizon_flags_of_a_config_are_refused_without_one_and_a_url_is_named(tmp_path):
    """tour 8 b28: --seeds 2 without a CONFIG printed the baselines, the flag ignored without a word (as
    training's --force without --json-out is refused); b59: a URL as --data was 'no such file' with its '//'
    collapsed."""
    import pandas as pd

    pd.DataFrame({"date": pd.date_range("2016-07-01", periods=14_400, freq="h"), "OT": np.arange(14_400.0)}).to_csv(
        tmp_path / "ETTh1.csv", index=False)
    assert _argparse_refused("longhorizon", ["--data", "ETTh1.csv", "--lookbacks", 8, "--steps", 4, "--seeds", 2],
                             tmp_path) == (
        "longhorizon.py: error: --seeds 2: it sets the seeds each CONFIG is trained with, and no CONFIG is given (the "
        "baselines are closed-form, the same for every seed); leave it out, or name the configs to train")
    assert _argparse_refused("longhorizon", ["--data", "https://example.com/ETTh1.csv", "--lookbacks", 8], tmp_path) \
        == ("longhorizon.py: error: --data 'https://example.com/ETTh1.csv' is a URL; tsflow reads local files only: "
            "download it first (curl -LO https://example.com/ETTh1.csv) and give the downloaded file's path")


def test_the_search_benchmark_says_it_does_not_use_the_configs_space_and_keeps_its_training_recipe(tmp_path,
                                                                                                  monkeypatch, capsys):
    """tour 8 b91: a config with its own search.space and objectives was run through the benchmark's own
    weight-bits search without a word, and its search.float_epochs / qat_epochs were dropped for the defaults
    (10 + 3 epochs of training a point) although the docstring says the benchmark trains by them."""
    from flow.benchmarks import search as bench
    from flow.config import parse_config

    raw = {**small_raw(), "search": {"space": {"quantization.bits": [4, 8]}, "objectives": ["val_mse", "latency"],
                                     "float_epochs": 1, "qat_epochs": 2, "seed": 5}}
    (tmp_path / "s42.yaml").write_text(yaml.safe_dump(raw))
    point = bench.point_config(parse_config(raw), {"d_model": 16, "heads": 2, "bits": 6, "storage": "bram"})
    assert (point.search.float_epochs, point.search.qat_epochs, point.search.seed) == (1, 2, 5)
    assert point.search.space == {} and (point.model.d_model, point.quantization.bits) == (16, 6)
    monkeypatch.setattr(bench, "sweep", lambda cfg, n_features: [])  # no point over the part: nothing trained
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["search", "s42.yaml", "--trials", "2"])
    bench.main()
    assert capsys.readouterr().err.splitlines()[0] == (
        "note: search.space and search.objectives of s42.yaml are not used: this benchmark searches the 'tsflow "
        "sweep' grid points that do not fit xc7s15ftgb196-2, first by storage per buffer, then by the weight bits of "
        "each dense layer (estimates); a point made to fit by weight bits is trained with its uniform counterpart "
        "(search.float_epochs 1, search.qat_epochs 2)")
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(small_raw()))
    monkeypatch.setattr(sys, "argv", ["search", "plain.yaml"])
    bench.main()
    assert "note:" not in capsys.readouterr().err


def test_two_configs_of_one_name_are_refused_before_any_build(tmp_path):
    """b93: the second config's build folder (named after the config) existed: a FileExistsError traceback
    after the first config's whole benchmark."""
    raw = small_raw()
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(raw))
    raw["data"]["window"] = 12
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(raw))
    assert _refused("hls", ["a.yaml", "b.yaml"], tmp_path) == (
        "error: a.yaml and b.yaml are both named 'small'; give each config its own name (each builds into a folder, "
        "and reuses a --trained-dir run, under its name)")


def test_the_trained_dir_takes_a_build_folder_as_build_trained_does(tmp_path):
    """b94: a build folder in --trained-dir (its model/ inside) was refused as holding no trained model."""
    from flow.benchmarks.hls import trained_run
    from flow.config import ConfigError

    (tmp_path / "td" / "tiny" / "model").mkdir(parents=True)  # a build folder: its model/ is the trained model
    (tmp_path / "td" / "tr").mkdir()
    (tmp_path / "td" / "tr" / "model.weights.h5").write_bytes(b"")  # a 'tsflow train' folder: as it is
    (tmp_path / "td" / "junk").mkdir()
    assert trained_run(tmp_path / "td", "tiny") == tmp_path / "td" / "tiny" / "model"
    assert trained_run(tmp_path / "td", "tr") == tmp_path / "td" / "tr"
    assert trained_run(tmp_path / "td", "absent") is None and trained_run(None, "tiny") is None
    with pytest.raises(ConfigError, match=r"^--trained-dir .*/td: .*/td/junk: holds no trained model"):
        trained_run(tmp_path / "td", "junk")


@pytest.mark.parametrize("given, what", [("runz", "no such folder"), ("a.yaml", "a file, not a folder"),
                                         ("", "an empty path (an unset variable?)")], ids=["typo", "file", "empty"])
def test_a_trained_dir_that_is_not_a_folder_is_refused_before_any_training(tmp_path, given, what):
    """b48: a mistyped --trained-dir was taken as a folder holding no run of the config: every config was trained,
    with a note that read as if the folder were there."""
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(small_raw()))
    assert _refused("hls", ["a.yaml", "--trained-dir", given], tmp_path) == (
        f"error: --trained-dir {given!r}: {what}; give the folder that holds the runs named after each config's name "
        f"(DIR/NAME: a 'tsflow train' or 'tsflow build' --out), or leave --trained-dir out to train each config")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml"]


def test_the_benchmarks_package_lists_every_benchmark_with_its_purpose(tmp_path):
    """b97: 'python -m flow.benchmarks --help' said the package cannot be executed; it lists each benchmark module
    (every one that 'python -m flow.benchmarks.NAME' runs) with the first paragraph of its docstring."""
    from pathlib import Path

    import flow.benchmarks

    modules = sorted(p.stem for p in Path(flow.benchmarks.__file__).parent.glob("*.py") if not p.stem.startswith("_"))
    assert {"hls", "latency", "longhorizon", "random_builds", "search", "sensitivity", "training"} <= set(modules)
    for args in (["--help"], []):
        done = subprocess.run([sys.executable, "-m", "flow.benchmarks", *args], cwd=tmp_path, env=ENV,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and not done.stderr, done.stderr
        rows = {line.split()[0]: " ".join(line.split()[1:]) for line in done.stdout.splitlines()
                if line.startswith("  ")}
        assert sorted(rows) == modules, done.stdout
        assert rows["hls"] == ("Benchmark: YAML -> verified C simulation, time per stage, csim throughput against "
                               "hls4ml predict().")
        assert "'python -m flow.benchmarks.NAME --help' tells one's arguments" in done.stdout
    done = subprocess.run([sys.executable, "-m", "flow.benchmarks", "hls", "a.yaml"], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith(
        "error: python -m flow.benchmarks takes no arguments (given: hls a.yaml): it lists the benchmarks; run one as "
        "python -m flow.benchmarks.NAME (here: python -m flow.benchmarks.hls a.yaml)"), done.stderr
    assert not done.stdout
