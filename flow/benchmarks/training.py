"""Accuracy benchmark: float vs uniform 8/6/4-bit vs mixed precision, over seeds, against baselines.

    python -m flow.benchmarks.training configs/etth1.yaml --seeds 3

or, to use both cores, one process per head variant and a merge:

    python -m flow.benchmarks.training configs/etth1.yaml --heads 0 --json-out h0.json &
    python -m flow.benchmarks.training configs/etth1.yaml --heads 1 --json-out h1.json &
    python -m flow.benchmarks.training configs/etth1.yaml --heads 2 --json-out h2.json; wait
    python -m flow.benchmarks.training configs/etth1.yaml --merge h0.json --merge h1.json --merge h2.json

An existing ``--json-out`` file is replaced only with ``--force``; ``--merge`` trains nothing, so it takes
none of ``--seeds``, ``--heads``, ``--json-out``.

Prints a Markdown table (mean +- std over seeds of test MSE / RMSE in the data's units, training
time) next to persistence and a linear model on the same windows, then the ratios of the means and
4-bit/8-bit per seed.  One float run per seed and head is shared by the quantized variants (QAT
starts from it), exactly as ``tsflow train`` would do.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402
import numpy as np  # noqa: E402

from flow.benchmarks import load_config_or_exit  # noqa: E402
from flow.cli_types import WholeNumber  # noqa: E402
from flow.data import load_dataset  # noqa: E402
from flow.training.fit import baselines, train  # noqa: E402

# the mixed configuration: 4-bit everywhere except the attention scores / softmax and the pooled summary
MIXED_OVERRIDES = {
    "enc0.scores": {"output": {"bits": 8}},
    "enc0.softmax": {"table": {"bits": 8}, "output": {"bits": 8}},
    "pool": {"output": {"bits": 8}},
    "head": {"weight": {"bits": 8}},
}
VARIANTS = [("float32", None, {}), ("8-bit", 8, {}), ("6-bit", 6, {}), ("4-bit", 4, {}),
            ("mixed 4/8", 4, MIXED_OVERRIDES)]
# (label, predict_delta, features, inputs): None keeps the config's (features: all 7 ETTh1 columns)
HEADS = [("reference head (mean pool), all features", False, None, "levels"),
         ("delta head (+ last value), all features", True, None, "levels"),
         ("delta head (+ last value), target only", True, "target", "levels"),
         ("delta head, all features differenced", True, None, "differences"),
         ("the configuration's own model and inputs", None, None, None)]


def variant_config(base, bits, overrides, predict_delta, features, inputs, seed):
    raw = base.model_dump(mode="json")
    if predict_delta is not None:
        raw["model"]["predict_delta"] = predict_delta
    if inputs is not None:
        raw["data"]["inputs"] = inputs
    if features == "target":
        raw["data"]["features"] = [raw["data"]["target"]]
    raw["training"]["seed"] = seed
    q = raw["quantization"]
    q["enabled"] = bits is not None
    if bits is not None:
        q["bits"] = bits
        q["layers"] = overrides
    from flow.config import parse_config
    return parse_config(raw, "benchmark variant")


def seed_runs(base, ds, seed, predict_delta=None, features=None, inputs=None):
    """Every variant of one seed, as (label, seconds, test metrics): one float run, then each quantized
    variant's QAT from it, exactly as ``tsflow train`` would do (the float phase's time is counted in each
    quantized model's cost, since it needs it). Shared with the accuracy suite (flow.benchmarks.suite)."""
    float_model = None
    for label, bits, overrides in VARIANTS:
        cfg = variant_config(base, bits, overrides, predict_delta, features, inputs, seed)
        t0 = time.perf_counter()
        res = train(cfg, ds, float_model=float_model)
        seconds = time.perf_counter() - t0
        if bits is None:
            float_model = res.model
            float_seconds = seconds
        else:
            seconds += float_seconds
        yield label, seconds, res.metrics["test"]


def fmt(values, digits=4):
    """Mean ± spread to ``digits`` significant digits: a series with small errors reads too (not 0.0000). One
    value has no spread, and is printed alone (not ± 0)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}g}"
    return f"{np.mean(values):.{digits}g} ± {np.std(values):.2g}"


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--seeds", default=3, show_default=True, type=WholeNumber("seeds"))
@click.option("--json-out", type=click.Path(dir_okay=False), default=None, help="Also write raw results here.")
@click.option("--heads", default=",".join(str(i) for i in range(len(HEADS))), show_default=True,
              help="Comma-separated indices of the head variants to run.")
@click.option("--merge", "merge", type=click.Path(exists=True, dir_okay=False), multiple=True,
              help="Print the table from earlier --json-out files instead of training.")
@click.option("--force", is_flag=True, help="Replace an existing --json-out file.")
@click.pass_context
def main(ctx, config, seeds, json_out, heads, merge, force):
    given = [f"--{name.replace('_', '-')}" for name in ("seeds", "heads", "json_out", "force")
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if merge and given:  # the table is the merged files': nothing is trained, nothing written
        _fail(f"{', '.join(given)}: not used with --merge (the table is that of the merged files; nothing is trained "
              f"or written); leave {'it' if len(given) == 1 else 'them'} out, or run without --merge to train")
    if force and not json_out:
        _fail("--force: it replaces an existing --json-out file, and no --json-out is given; leave it out")
    try:
        chosen = [HEADS[int(i)] for i in heads.split(",")]
        if any(int(i) < 0 for i in heads.split(",")):
            raise IndexError
    except (ValueError, IndexError):
        raise click.BadParameter(f"{heads!r}: comma-separated head variant indices, each 0 to {len(HEADS) - 1}",
                                 param_hint="--heads") from None
    if json_out:
        _check_json_out(Path(json_out), force)
    runs, docs = [], []
    for path in merge:
        try:
            doc = json.loads(Path(path).read_text())
            got = [dict(r) for r in doc["runs"]]
            if not got or any(not {"head", "variant", "seed", "mse"} <= set(r) for r in got):
                raise ValueError("no runs, or a run without head, variant, seed and mse")
            runs += got
            docs.append((path, doc))
        except (OSError, ValueError, KeyError, TypeError):
            raise click.BadParameter(f"{path}: not a file written by --json-out (a JSON object with a list of runs)",
                                     param_hint="--merge") from None
    base = load_config_or_exit(config)
    ds = load_dataset(base)
    test_baselines = baselines(ds)["test"]
    baselines_named = {"persistence (last value)": test_baselines["persistence"],
                       "linear model on the window": test_baselines["linear"]}
    if merge:
        for path, doc in docs:
            _check_same_series(path, doc, config, base, ds, baselines_named)
        print_table(ds, baselines_named, runs, len({r.get("seed") for r in runs}))
        return
    results = []
    datasets = {}
    for head_label, delta, features, inputs in chosen:
        if (features, inputs) not in datasets:
            datasets[features, inputs] = load_dataset(variant_config(base, None, {}, delta, features, inputs, 0))
        for seed in range(seeds):
            for label, seconds, test in seed_runs(base, datasets[features, inputs], seed, delta, features, inputs):
                row = {"head": head_label, "variant": label, "seed": seed, "seconds": seconds, **test}
                results.append(row)
                print(f"{head_label:44s} {label:10s} seed {seed}: test MSE {row['mse']:.4g} RMSE {row['rmse']:.4g} "
                      f"({seconds:.0f} s)", file=sys.stderr, flush=True)
                if json_out:
                    with open(json_out, "w") as f:
                        json.dump({"config": base.name, "dataset": ds.name, "baselines": baselines_named,
                                   "runs": results}, f, indent=2)
    print_table(ds, baselines_named, results, seeds)


def _fail(message: str) -> None:
    """A user error: one ``error:`` line, exit 2, as ``tsflow`` gives it."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when inside it, as the user would write it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _check_json_out(path: Path, force: bool) -> None:
    """``--json-out`` can be written, and an existing file is replaced only with ``--force``: checked
    before any training (the file is written after each run)."""
    from flow.locks import not_writable

    try:
        folder = path.resolve().parent
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a symlink loop
        _fail(f"--json-out {path}: a symlink that leads back to itself (a loop); choose another file")
    if path.is_symlink() and not path.exists() and not folder.is_dir():
        _fail(f"--json-out {path}: a symlink to {path.parent / os.readlink(path)}, whose folder {_shown(folder)} does not "
              f"exist (checked before any training); create it, or choose another file")
    if path.is_dir():
        _fail(f"--json-out {path}: a folder; give a file to write (such as {path / 'runs.json'})")
    if path.exists() and not force:
        _fail(f"--json-out {path}: the file exists, and the runs would replace it (checked before any training); "
              f"choose another file, or pass --force to replace it")
    if folder.exists() and not folder.is_dir():
        _fail(f"--json-out {path}: {path.parent} is a file, not a folder (checked before any training); choose "
              f"another file")
    if not folder.is_dir():
        _fail(f"--json-out {path}: its folder {path.parent} does not exist (checked before any training); create it "
              f"or choose another file")
    blocked = not_writable(folder)
    if blocked is None and path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))  # opened and closed: nothing written
        except OSError as exc:
            blocked = exc
    if blocked is not None:
        _fail(f"--json-out {path}: cannot write there ({blocked.strerror or blocked}; checked before any training); "
              f"choose a file in a folder you can write")


def _check_same_series(path, doc: dict, config, base, ds, baselines_named: dict) -> None:
    """A ``--merge`` file holds runs of this configuration on this data: its baselines would otherwise be
    printed beside runs of another series (the file names its configuration and data since they are
    recorded; an older file is judged by its baselines, those of its data's test windows)."""
    theirs = (doc.get("config"), doc.get("dataset"))
    if theirs != (None, None) and theirs != (base.name, ds.name):
        _fail(f"--merge {path}: runs of {theirs[0]!r} ({theirs[1]}), not of {config} ({base.name!r}, {ds.name}); "
              f"merge the files written with this configuration, or give its own configuration to print them")
    recorded = doc.get("baselines")
    if not isinstance(recorded, dict):
        return
    for name, now in baselines_named.items():
        then = recorded.get(name, {}).get("mse") if isinstance(recorded.get(name), dict) else None
        if isinstance(then, (int, float)) and not np.isclose(then, now["mse"], rtol=1e-6, atol=0):
            _fail(f"--merge {path}: its runs were scored on other test windows than {config}'s data gives ({name}: "
                  f"MSE {then:.4g} there, {now['mse']:.4g} here): runs of another series or split; merge the files "
                  f"written with this configuration")


def print_table(ds, baselines_named, results, seeds):
    print(f"\nETTh1-style benchmark on {ds.name}: {len(ds.test.y)} test windows, target {ds.target}, "
          f"{seeds} seed(s); errors in the target's units (de-normalised)\n")
    print("| model | variant | test MSE | test RMSE | train time (s) |")
    print("|---|---|---|---|---|")
    for name, e in baselines_named.items():
        print(f"| {name} | - | {e['mse']:.4g} | {e['rmse']:.4g} | - |")
    present = [h for h in HEADS if any(r["head"] == h[0] for r in results)]
    for head_label, *_ in present:
        for label, _, _ in VARIANTS:
            runs = [r for r in results if r["head"] == head_label and r["variant"] == label]
            print(f"| {head_label} | {label} | {fmt([r['mse'] for r in runs])} | {fmt([r['rmse'] for r in runs])} "
                  f"| {np.mean([r['seconds'] for r in runs]):.0f} |")
    persistence = baselines_named["persistence (last value)"]["mse"]
    print("\nratios (mean test MSE):")
    for head_label, *_ in present:
        mean = {label: np.mean([r["mse"] for r in results if r["head"] == head_label and r["variant"] == label])
                for label, _, _ in VARIANTS}
        print(f"  {head_label}: 8-bit/float {mean['8-bit'] / mean['float32']:.3f}, "
              f"4-bit/8-bit {mean['4-bit'] / mean['8-bit']:.3f}, "
              f"best quantized/persistence {min(v for k, v in mean.items() if k != 'float32') / persistence:.3f}, "
              f"worst quantized/persistence {max(v for k, v in mean.items() if k != 'float32') / persistence:.3f}")
        by_seed = {(r["seed"], r["variant"]): r["mse"] for r in results if r["head"] == head_label}
        seeds_run = sorted(s for s, v in by_seed if v == "4-bit" and (s, "8-bit") in by_seed)  # a partial file too
        print("    4-bit/8-bit per seed (the spread behind the mean's ratio): "
              + ", ".join(f"{by_seed[s, '4-bit'] / by_seed[s, '8-bit']:.3f}" for s in seeds_run))


if __name__ == "__main__":
    main()
