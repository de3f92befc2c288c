"""Benchmark: the long-horizon protocol on ETTh1, univariate ("S": OT in, OT out).

    python -m flow.benchmarks.longhorizon [CONFIG ...] [--data ETTh1.csv] [--lookbacks 96 336] [--steps 24 96 336]
        [--seeds 1]

The protocol of the LTSF-Linear and PatchTST repositories (``data_provider/data_loader.py``,
``Dataset_ETT_hour``): rows 0-8639 train, 8640-11519 validation, 11520-14399 test, the validation and test
windows taking their look-back from the rows before their border (``data.split.lookback: previous``), the
scaler fitted on the training rows, windows at stride 1; MSE and MAE on the scaled values, averaged over
every window and every step. For each look-back L and horizon H: persistence (the last value repeated),
the least-squares linear map of the window (which is also DLinear in closed form: its trend and remainder
maps are linear in the window, so the least-squares fit of the two is that of the window), NLinear in
closed form, each CONFIG's float and quantized model trained on the same windows (its data section
replaced by the protocol's, its model, quantization and training kept; with ``--seeds N`` N times, the mean
printed with each seed's MSE) with its estimate, and the published figures. Prints the figures; not a test.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from flow.benchmarks import load_config_or_exit  # noqa: E402
from flow.cli_types import WholeNumber  # noqa: E402
from flow.config import ConfigError, parse_config, url_given, url_refusal  # noqa: E402
from flow.data import load_dataset  # noqa: E402
from flow.metrics import errors, linear_forecast, nlinear_forecast, persistence_forecast  # noqa: E402

SHARED_ETTH1 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ETTh1.csv"
SPLIT = {"train": 12 * 30 * 24, "val": 4 * 30 * 24, "test": 4 * 30 * 24, "lookback": "previous"}
# published test MSE on ETTh1, univariate, scaled: (model, look-back, horizon) -> (MSE, source)
PUBLISHED = {
    ("NLinear", 336, 96): (0.053, "arXiv 2205.13504, Table 9"), ("DLinear", 336, 96): (0.056, "arXiv 2205.13504, Table 9"),
    ("NLinear", 336, 336): (0.081, "arXiv 2205.13504, Table 9"),
    ("DLinear", 336, 336): (0.098, "arXiv 2205.13504, Table 9"),
    ("PatchTST/42", 336, 96): (0.055, "arXiv 2211.14730, Table 8"),
    ("PatchTST/42", 336, 336): (0.081, "arXiv 2211.14730, Table 8"),
}


def protocol_data(path: Path, lookback: int, steps: int) -> dict:
    return {"source": "csv", "path": str(path), "date_column": "date", "features": ["OT"], "target": "OT",
            "window": lookback, "horizon": 1, "steps": steps, "inputs": "levels", "split": dict(SPLIT)}


def baselines(path: Path, lookback: int, steps: int) -> tuple[int, dict]:
    """(test windows, name -> (MSE, MAE) on the scaled test split)."""
    ds = load_dataset(parse_config({"data": protocol_data(path, lookback, steps)}), note=lambda text: None)
    out = {}
    for name, pred in (("persistence", persistence_forecast(ds.test)), ("linear = DLinear, closed form",
                       linear_forecast(ds.train, ds.test)), ("NLinear, closed form", nlinear_forecast(ds.train, ds.test))):
        e = errors(pred, ds.test.y)
        out[name] = (e["mse"], e["mae"])
    return len(ds.test.y), out


def protocol_config(given, path: Path, lookback: int, steps: int) -> dict:
    """The raw configuration of ``given`` trained on the protocol: its data section replaced by the protocol's."""
    raw = given.model_dump(mode="json")
    raw["data"] = {**protocol_data(path, lookback, steps), "inputs": given.data.inputs, "scaling": "standard"}
    return raw


def _check_protocol(config: Path, path: Path, lookbacks: list[int], steps: list[int]) -> None:
    """Every look-back and horizon is one ``config``'s model takes as its data.window and data.steps; else one
    ``error:`` line naming the flag and its value (the configuration's own data section is not the one used)."""
    given = load_config_or_exit(config)
    for lookback in lookbacks:
        for horizon in steps:
            try:
                parse_config(protocol_config(given, path, lookback, horizon))
            except ConfigError as exc:
                if _takes(given, path, given.data.window, horizon):
                    flag, role = f"--lookbacks {lookback}", "the look-back is the model's data.window"
                elif _takes(given, path, lookback, given.data.steps):
                    flag, role = f"--steps {horizon}", "the horizon is the model's data.steps"
                else:
                    flag, role = (f"--lookbacks {lookback} --steps {horizon}",
                                  "the look-back and the horizon are the model's data.window and data.steps")
                lines = [line.strip() for line in str(exc).splitlines()]
                why = "; ".join(line for line in lines if line and line != "invalid configuration:")
                print(f"error: {flag} with {config}: {role}, and {why}; choose values that model takes, or leave "
                      f"{config} out", file=sys.stderr)
                sys.exit(2)


def _takes(given, path: Path, window: int, steps: int) -> bool:
    """``given``'s model takes this look-back and horizon."""
    try:
        parse_config(protocol_config(given, path, window, steps))
        return True
    except ConfigError:
        return False


def model_rows(config: Path, path: Path, lookback: int, steps: int, seeds: int = 1) -> dict:
    """A config's float and quantized models on the protocol's windows, trained with ``seeds`` seeds (the
    config's, then the next ones): label -> [(MSE, MAE) a seed]; and the estimate of its design."""
    from flow.estimate import estimate
    from flow.training.fit import train

    given = load_config_or_exit(config)
    raw = protocol_config(given, path, lookback, steps)
    rows: dict[str, list] = {}
    for k in range(seeds):
        raw["training"]["seed"] = given.training.seed + k
        cfg = parse_config(raw)
        ds = load_dataset(cfg, note=lambda text: None)
        result = train(cfg, ds, note=lambda text: None)
        for label, metrics in ((f"{given.name}: float", result.metrics.get("float", {}).get("test")),
                               (f"{given.name}: quantized, {cfg.quantization.bits} bits"
                                + (" (mixed)" if cfg.quantization.layers else ""), result.metrics["test"])):
            if metrics:
                rows.setdefault(label, []).append((metrics["scaled"]["mse"], metrics["scaled"]["mae"]))
    est = estimate(result.config, n_features=len(ds.features))
    fits = "fits" if est.fits else "does not fit: " + ", ".join(est.overflowing)
    return {"rows": rows, "estimate": f"{fits} {cfg.target.part}, {est.latency_us:,.1f} us (estimate)",
            "seeds": [given.training.seed + k for k in range(seeds)]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="*", type=Path, help="tsflow configs whose models are trained on the protocol")
    ap.add_argument("--data", type=Path, default=SHARED_ETTH1, help="ETTh1.csv (date, HUFL, ..., OT)")
    ap.add_argument("--lookbacks", type=WholeNumber("look-back steps (data.window)", 2, 512).for_argparse(), nargs="+",
                    default=[96, 336])
    ap.add_argument("--steps", type=WholeNumber("horizon steps (data.steps)", 1, 720).for_argparse(), nargs="+",
                    default=[24, 96, 336])
    ap.add_argument("--seeds", type=WholeNumber("seeds").for_argparse(), default=None, help="seeds each CONFIG is trained with (the config's, then "
                                                            "the next ones; default 1); the table gives their mean "
                                                            "and each seed's MSE")
    args = ap.parse_args()
    if args.seeds is not None and not args.configs:  # the baselines are closed-form: no seed to vary
        ap.error(f"--seeds {args.seeds}: it sets the seeds each CONFIG is trained with, and no CONFIG is given (the "
                 f"baselines are closed-form, the same for every seed); leave it out, or name the configs to train")
    args.seeds = 1 if args.seeds is None else args.seeds
    if not args.data.is_file() and url_given(args.data):
        ap.error(url_refusal("--data", url_given(args.data)))
    if not args.data.is_file():
        ap.error(f"--data {args.data}: no such file; give the path of ETTh1.csv")
    header = args.data.open(errors="replace").readline().strip().split(",")
    missing = sorted({"date", "OT"} - set(header))
    if missing:
        ap.error(f"--data {args.data}: its header ({', '.join(header)}) has no {' or '.join(missing)} column; give "
                 f"ETTh1.csv (date, HUFL, HULL, MUFL, MULL, LUFL, LULL, OT)")
    with args.data.open(newline="", errors="replace") as f:
        rows = sum(1 for cells in csv.reader(f) if any(c.strip() for c in cells)) - 1  # below the header
    need = SPLIT["train"] + SPLIT["val"] + SPLIT["test"]
    if rows < need:
        ap.error(f"--data {args.data}: {rows:,} rows below its header; the long-horizon protocol takes rows 0-"
                 f"{need - 1:,} of ETTh1 ({SPLIT['train']:,} train, {SPLIT['val']:,} validation, {SPLIT['test']:,} "
                 f"test: {need:,} rows, whatever the look-back and horizon): give the full ETTh1.csv (17,420 rows)")
    for config in args.configs:  # before any training: a look-back or horizon a model cannot take, named
        _check_protocol(config, args.data, args.lookbacks, args.steps)
    table = Table(title=f"ETTh1, univariate (OT), test split of the long-horizon protocol ({args.data.name})")
    for col in ("look-back L", "horizon H", "test windows", "forecaster", "MSE", "MAE", "estimate / source"):
        table.add_column(col, justify="left" if col in ("forecaster", "estimate / source") else "right")
    try:
        for lookback in args.lookbacks:
            for steps in args.steps:
                n, rows = baselines(args.data, lookback, steps)
                for name, (mse, mae) in rows.items():
                    table.add_row(str(lookback), str(steps), f"{n:,}", name, f"{mse:.4f}", f"{mae:.4f}", "this run")
                for config in args.configs:
                    got = model_rows(config, args.data, lookback, steps, args.seeds)
                    for name, runs in got["rows"].items():
                        mse, mae = (sum(r[i] for r in runs) / len(runs) for i in (0, 1))
                        each = ("" if len(runs) == 1 else "seeds " + ", ".join(map(str, got["seeds"])) + ": "
                                + " / ".join(f"{r[0]:.4f}" for r in runs) + "; ")
                        table.add_row(str(lookback), str(steps), f"{n:,}", name, f"{mse:.4f}", f"{mae:.4f}",
                                      each + got["estimate"])
                for (model, pl, ph), (mse, source) in PUBLISHED.items():
                    if (pl, ph) == (lookback, steps):
                        table.add_row(str(lookback), str(steps), "", f"{model} (published)", f"{mse:.3f}", "", source)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
