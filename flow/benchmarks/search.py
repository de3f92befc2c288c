"""Benchmark: deployability. Of the ``tsflow sweep`` grid's uniform configurations that do not fit the
part, how many the per-buffer / per-layer choices of a search make fit, and at what error.

    python -m flow.benchmarks.search configs/etth1.yaml [--trials 24]

Each grid point (d_model x bits x heads x uniform storage policy, as ``tsflow sweep``; FFN 4 x d_model)
whose estimate does not fit ``target.part`` within ``target.headroom`` is searched within its own
architecture and bit width:

1. storage per buffer and per table: the point with every storage left to the allocator
   (``hls.default_storage: auto``, which moves each buffer and table between LUTRAM, BRAM and registers
   to fit). Storage does not change a single number the model computes, so a point made to fit here
   has exactly its uniform counterpart's validation and test error;
2. if storage alone cannot, the weight bits of each dense layer (the point's bits or 4), searched with
   Optuna (TPE, estimate only, ``--trials`` candidates, stopped at the first that fits) over
   ``flow.search`` candidates. These compute other numbers: the uniform counterpart and the candidate
   are both trained (``search.float_epochs`` float, then ``search.qat_epochs`` QAT from that float
   model, as ``tsflow search`` trains) and their validation and test MSE compared.

Points that share d_model, bits and heads share the result of both stages. Everything is an estimate
of the generated design until synthesised. Prints the figures; not a test.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from flow.benchmarks import load_config_or_exit  # noqa: E402
from flow.cli_types import WholeNumber  # noqa: E402
from flow.config import ConfigError, parse_config  # noqa: E402
from flow.estimate import RESOURCES, estimate, n_features_of  # noqa: E402
from flow.search.space import key_path  # noqa: E402
from flow.sweep import sweep  # noqa: E402


def _overflow(est, headroom: float) -> float:
    return sum(max(0.0, est.total[r] - (1 - headroom) * est.budget[r]) / est.budget[r]
               for r in RESOURCES if est.budget[r])


def point_config(cfg, row: dict):
    """The grid point ``row`` of ``cfg``: its search section keeps the training recipe and seed, not the space
    or objectives (this benchmark searches its own)."""
    raw = cfg.model_dump(mode="json")
    raw["search"] = {k: raw["search"][k] for k in ("float_epochs", "qat_epochs", "seed")}
    raw["model"].update(d_model=row["d_model"], heads=row["heads"], ffn=None)
    raw["quantization"]["bits"] = row["bits"]
    raw["hls"].update(default_storage=row["storage"], storage={})
    return parse_config(raw)


def bits_space(point) -> dict:
    from flow.precision import layer_kinds

    dense = [n for n, kind in layer_kinds(point).items() if kind == "dense"]
    return {f"quantization.layers.{n}.weight.bits": [point.quantization.bits, 4] for n in dense}


def auto_storage(point):
    raw = point.model_dump(mode="json")
    raw["hls"].update(default_storage="auto", storage={})
    return parse_config(raw)


def find_fitting(point, trials: int, n_features: int, seed: int):
    """The first candidate of the weight-bits space (storage left to the allocator) that fits within the
    headroom (estimate), or None."""
    import optuna

    from flow.search.space import candidate_raw

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    keys = bits_space(point)
    raw = point.model_dump(mode="json")
    found = {}

    def objective(trial):
        choice = {k: trial.suggest_categorical(k, v) for k, v in keys.items()}
        try:
            cand = parse_config(candidate_raw(raw, choice))
            est = estimate(cand, n_features=n_features)
        except ConfigError:
            return 10.0
        over = _overflow(est, cand.target.headroom)
        if over == 0 and "cand" not in found:
            found.update(cand=cand, est=est, choice=choice)
            trial.study.stop()
        return over

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return found or None


def trained_errors(cfg, out: Path) -> dict:
    """Validation and test MSE of ``cfg`` after the search's float + QAT recipe (float model cached)."""
    from flow.data import load_dataset
    from flow.metrics import split_metrics
    from flow.search.study import float_model
    from flow.training.fit import predict, train

    ds = load_dataset(cfg)
    warm = float_model(cfg, ds, out, cfg.search.float_epochs)
    raw = cfg.model_dump(mode="json")
    raw["training"]["qat_epochs"] = cfg.search.qat_epochs
    model = train(parse_config(raw), ds, float_model=warm, splits=("val",)).model
    return {"val": split_metrics(predict(model, ds.val.x), ds.val, ds)["mse"],
            "test": split_metrics(predict(model, ds.test.x), ds.test, ds)["mse"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", type=Path)
    ap.add_argument("--trials", type=WholeNumber("trials").for_argparse(), default=24,
                    help="candidates of the weight-bits search, each judged by its estimate; the point made to fit "
                         "and its uniform counterpart are then trained (search.float_epochs + search.qat_epochs)")
    args = ap.parse_args()
    import tempfile

    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    cfg = load_config_or_exit(args.config)
    unused = [f"search.{k}" for k in ("space", "objectives") if k in cfg.search.model_fields_set]
    if unused:  # a config written for 'tsflow search': what it asks is not what this benchmark does
        print(f"note: {' and '.join(unused)} of {args.config} {'are' if len(unused) > 1 else 'is'} not used: this "
              f"benchmark searches the 'tsflow sweep' grid points that do not fit {cfg.target.part}, first by storage "
              f"per buffer, then by the weight bits of each dense layer (estimates); a point made to fit by weight "
              f"bits is trained with its uniform counterpart (search.float_epochs {cfg.search.float_epochs}, "
              f"search.qat_epochs {cfg.search.qat_epochs})", file=sys.stderr)
    n_features = n_features_of(cfg)
    t0 = time.perf_counter()
    grid = sweep(cfg, n_features)
    rows = []
    groups = {}  # (d_model, bits, heads) -> what the search found, shared by the storage policies
    with tempfile.TemporaryDirectory(prefix="tsflow-deploy-") as work:
        for row in grid:
            limit = {r: (1 - cfg.target.headroom) * row["budget"][r] for r in RESOURCES if row["budget"][r]}
            over = [r for r in limit if row["total"][r] > limit[r]]  # the sweep's own estimate of the point
            if not over:
                continue
            point = point_config(cfg, row)
            key = (row["d_model"], row["bits"], row["heads"])
            if key not in groups:
                storage = auto_storage(point)
                fitted = estimate(storage, n_features=n_features)
                if _overflow(fitted, storage.target.headroom) == 0:
                    groups[key] = {"stage": "storage", "latency": fitted.latency_cycles, "errors": None}
                else:
                    found = find_fitting(storage, args.trials, n_features, cfg.search.seed)
                    groups[key] = {"stage": None, "latency": None, "errors": None}
                    if found:
                        bits = [key_path(k)[2] for k, v in found["choice"].items() if v != row["bits"]]
                        groups[key] = {"stage": "storage + weight bits", "latency": found["est"].latency_cycles,
                                       "errors": {"uniform": trained_errors(point, Path(work)),
                                                  "searched": trained_errors(found["cand"], Path(work)),
                                                  "bits": bits}}
            rows.append({**row, "over": over, **groups[key]})
    console = Console(width=200)
    table = Table(title=f"{cfg.name} on {cfg.target.part}: uniform sweep points that do not fit within "
                        f"{100 * (1 - cfg.target.headroom):.0f}% of every resource, and the search (estimates)")
    for col in ("d_model", "bits", "heads", "storage policy", "over the headroom", "made to fit by",
                "latency cycles", "val MSE uniform / searched", "test MSE uniform / searched", "4-bit weights"):
        table.add_column(col, justify="right")
    for r in rows:
        e = r["errors"]
        same = "same numbers" if r["stage"] == "storage" else "-"
        table.add_row(str(r["d_model"]), str(r["bits"]), str(r["heads"]), r["storage"], ", ".join(r["over"]),
                      r["stage"] or "[red]not found[/]", f"{r['latency']:,}" if r["latency"] else "-",
                      f"{e['uniform']['val']:.4g} / {e['searched']['val']:.4g}" if e else same,
                      f"{e['uniform']['test']:.4g} / {e['searched']['test']:.4g}" if e else same,
                      ", ".join(e["bits"]) if e else "-")
    console.print(table)
    made = [r for r in rows if r["stage"]]
    console.print(f"{len(made)} of {len(rows)} uniform configurations that do not fit were made to fit "
                  f"({sum(r['stage'] == 'storage' for r in made)} by storage alone, "
                  f"{sum(r['stage'] == 'storage + weight bits' for r in made)} with fewer weight bits); "
                  f"{time.perf_counter() - t0:.0f} s", highlight=False)


if __name__ == "__main__":
    main()
