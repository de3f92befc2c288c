"""Benchmark: YAML -> verified C simulation, time per stage, csim throughput against hls4ml predict().

    python -m flow.benchmarks.hls configs/default.yaml configs/etth1.yaml [--trained-dir DIR]

For each config: trains (or reuses ``DIR/<config name>``, an earlier ``tsflow train`` or ``tsflow build``), builds
and verifies the project, then runs the same firmware four ways over the whole test split: our
testbench binary in one process, the testbench as one shard per core, the same shards also writing
the trace of every boundary (what ``tsflow build`` and ``tsflow csim`` run), and hls4ml's
``predict()`` on the library from ``hls_model.compile()`` of a model converted as an hls4ml user
converts it (``config_from_keras_model``, ``convert_from_keras_model``; one C call per window), each
the fastest of three runs. Both binaries are compiled with -O3, so the one-process ratio shows
what ``predict()``'s Python loop costs beside the firmware itself. Prints the figures; not a test.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from flow.build import build  # noqa: E402
from flow.config import ConfigError  # noqa: E402
from flow.benchmarks import load_config_or_exit  # noqa: E402
from flow.csim import default_jobs, run_testbench  # noqa: E402
from flow.reference import output_of  # noqa: E402


REPEATS = 3  # each throughput figure is the fastest of this many runs (runs of a second are noisy)


def _best_seconds(run) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def _testbench(hls: Path, n: int, jobs: int, traced: bool = False):
    with tempfile.TemporaryDirectory(prefix="tsflow-bench-trace-") as trace:
        verdict, _ = run_testbench(hls, n, jobs, Path(trace) if traced else None)
    if verdict["mismatches"]:
        raise SystemExit(f"{hls}: testbench reports {verdict['mismatches']} mismatching windows")


def _throughput(folder: Path, hls_model, reference: dict) -> dict:
    hls = folder / "hls"
    n = reference["input"].mantissa.shape[0]
    jobs = default_jobs()
    tb_seconds = _best_seconds(lambda: _testbench(hls, n, 1))
    sharded_seconds = _best_seconds(lambda: _testbench(hls, n, jobs))
    traced_seconds = _best_seconds(lambda: _testbench(hls, n, jobs, traced=True))
    t0 = time.perf_counter()
    hls_model.compile()
    compile_seconds = time.perf_counter() - t0
    x = reference["input"].values.reshape(n, -1)
    predictions = []
    predict_seconds = _best_seconds(lambda: predictions.append(np.asarray(hls_model.predict(x)).reshape(n, -1)))
    out = output_of(reference).values.reshape(n, -1)
    predict_mismatches = max(int(np.sum(y != out)) for y in predictions)
    return {"windows": n, "jobs": jobs, "testbench_s": tb_seconds, "sharded_s": sharded_seconds,
            "traced_s": traced_seconds,
            "predict_s": predict_seconds, "predict_compile_s": compile_seconds,
            "predict_mismatches": predict_mismatches}


def trained_run(trained_dir: Path | None, name: str) -> Path | None:
    """The trained model ``trained_dir/name`` holds, as ``tsflow build --trained`` takes it: a ``tsflow train``
    folder, or a finished build folder (its ``model/``); None (said) when there is no such run, ConfigError
    for anything else there."""
    from flow.runs import trained_model

    if trained_dir is None:
        return None
    trained = Path(trained_dir) / name
    if not trained.exists():
        print(f"--trained-dir {trained_dir}: no run named {name!r} in it ({trained}): training it",
              file=sys.stderr, flush=True)
        return None
    try:
        return trained_model(trained)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(f"--trained {trained}", f"--trained-dir {trained_dir}: {trained}", 1)) \
            from None


def run(config: Path, trained_dir: Path | None, work: Path) -> dict:
    import hls4ml

    from flow.training.checkpoint import load_trained
    from flow.data import load_dataset
    from flow.hls.backend import BACKENDS, ensure_registered

    cfg = load_config_or_exit(config)
    stage = work / cfg.name
    stage.mkdir(parents=True)
    trained = trained_run(trained_dir, cfg.name)
    t0 = time.perf_counter()
    result = build(cfg, stage, trained)
    total = time.perf_counter() - t0
    checkpoint = load_trained(stage / "model")
    ds = load_dataset(cfg)
    from flow.build import reference_trace

    ref = reference_trace(checkpoint.resolved, checkpoint.model, ds.target_index, ds)  # the points training chose
    ensure_registered()  # an hls4ml user's session: config_from_keras_model, convert, compile, predict
    backend = BACKENDS[cfg.hls.tool]
    hls_model = hls4ml.converters.convert_from_keras_model(
        checkpoint.model, output_dir=str(work / f"{cfg.name}-predict"), backend=backend,
        hls_config=hls4ml.utils.config_from_keras_model(checkpoint.model, granularity="name", backend=backend))
    speed = _throughput(stage, hls_model, ref)
    s = result.seconds
    return {"config": str(config), "bit_exact": result.csim.bit_exact, "samples": result.csim.samples,
            "values_compared": result.csim.values_compared, "seconds": s, "total_s": total,
            "build_csim_s": total - s["train"] - s["data"], "cpp_lines": result.cpp_lines, **speed}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", type=Path)
    ap.add_argument("--trained-dir", default=None,
                    help="folder holding 'tsflow train' (or 'tsflow build') runs named after each config's name, to skip "
                         "training")
    args = ap.parse_args()
    trained_dir = None if args.trained_dir is None else Path(args.trained_dir)
    if trained_dir is not None and (not args.trained_dir or not trained_dir.is_dir()):  # a typo: every config trained
        what = ("an empty path (an unset variable?)" if not args.trained_dir else
                "a file, not a folder" if trained_dir.exists() else "no such folder")
        print(f"error: --trained-dir {args.trained_dir!r}: {what}; give the folder that holds the runs named after each "
              f"config's name (DIR/NAME: a 'tsflow train' or 'tsflow build' --out), or leave --trained-dir out to "
              f"train each config", file=sys.stderr)
        return 2
    names = {}
    for config in args.configs:  # each config builds into (and reuses a --trained-dir run under) its name
        cfg = load_config_or_exit(config)
        if cfg.name in names:
            print(f"error: {names[cfg.name]} and {config} are both named {cfg.name!r}; give each config its own name "
                  f"(each builds into a folder, and reuses a --trained-dir run, under its name)", file=sys.stderr)
            return 2
        names[cfg.name] = config
    console = Console(width=220)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tsflow-bench-") as tmp:
        for config in args.configs:
            try:
                rows.append(run(config, trained_dir, Path(tmp)))
            except ConfigError as exc:  # a run in --trained-dir of another configuration, data that changed, ...
                print(f"error: {exc}", file=sys.stderr)
                return 2
    table = Table(title=f"YAML -> verified C simulation (wall time, {default_jobs()} cores)")
    for col in ("config", "train s", "reference s", "convert s", "g++ s", "csim run s", "build+csim s",
                "bit-exact", "C++ lines"):
        table.add_column(col, justify="right")
    speed = Table(title="C simulation throughput over the whole test split (windows/s)")
    for col in ("config", "testbench, 1 process", "1 shard per core", "shards + trace (tsflow csim)", "predict()",
                "speed-up vs predict(): 1 process / shards / shards + trace"):
        speed.add_column(col, justify="right")
    for r in rows:
        s = r["seconds"]
        table.add_row(r["config"], f"{s['train']:.1f}", f"{s['reference']:.2f}", f"{s['convert']:.2f}",
                      f"{s['csim_compile']:.1f}", f"{s['csim_run']:.2f}", f"{r['build_csim_s']:.1f}",
                      f"{r['bit_exact']} ({r['samples']} windows, {r['values_compared']} values)", str(r["cpp_lines"]))
        n = r["windows"]
        speed.add_row(r["config"], f"{n / r['testbench_s']:,.0f}", f"{n / r['sharded_s']:,.0f} ({r['jobs']} shards)",
                      f"{n / r['traced_s']:,.0f}", f"{n / r['predict_s']:,.0f}",
                      " / ".join(f"{r['predict_s'] / r[k]:.2f}x" for k in ("testbench_s", "sharded_s", "traced_s")))
    console.print(table)
    console.print(speed)
    for r in rows:
        console.print(f"{r['config']}: predict() output mismatches vs reference: {r['predict_mismatches']} "
                      f"of {r['windows']}; hls_model.compile() took {r['predict_compile_s']:.1f} s, the testbench "
                      f"compile {r['seconds']['csim_compile']:.1f} s ({r['predict_compile_s'] / r['seconds']['csim_compile']:.2f}x)",
                      highlight=False)


if __name__ == "__main__":
    sys.exit(main())
