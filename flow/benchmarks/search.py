"""Benchmark: deployability. Of the ``tsflow sweep`` grid's uniform configurations that do not fit the
part, how many a per-buffer / per-layer search makes fit, and at what error.

    python -m flow.benchmarks.search configs/etth1.yaml [--trials 60]

For each grid point (d_model x bits x heads x storage policy, as ``tsflow sweep``; FFN 4 x d_model)
whose estimate does not fit ``target.part`` within ``target.headroom``, an Optuna study (TPE, estimate
only, minimising how far past the headroom the estimate is, stopped at the first candidate that fits)
searches that point's architecture with the ``tsflow search`` machinery (``flow.search``):

1. the storage of every buffer (the point's policy, LUTRAM or BRAM) and of every dense weight table
   (LUT ROM or BRAM). Storage does not change a single number the model computes, so a point made to
   fit here has exactly its uniform counterpart's validation and test error;
2. if storage alone cannot, the same plus the weight bits of every dense layer (the point's bits or 4).
   Those candidates compute other numbers: the uniform counterpart and the candidate are both trained
   (``search.float_epochs`` float, then ``search.qat_epochs`` QAT from that float model) and their
   validation and test MSE compared.

Everything is an estimate of the generated design until synthesised. Prints the figures; not a test.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from flow.config import ConfigError, load_config, parse_config  # noqa: E402
from flow.estimate import RESOURCES, estimate, n_features_of  # noqa: E402
from flow.sweep import sweep  # noqa: E402


def _overflow(est, headroom: float) -> float:
    return sum(max(0.0, est.total[r] - (1 - headroom) * est.budget[r]) / est.budget[r]
               for r in RESOURCES if est.budget[r])


def point_config(cfg, row: dict):
    raw = cfg.model_dump(mode="json")
    raw.pop("search")
    raw["model"].update(d_model=row["d_model"], heads=row["heads"], ffn=None)
    raw["quantization"]["bits"] = row["bits"]
    raw["hls"].update(default_storage=row["storage"], storage={})
    return parse_config(raw)


def space(point, with_bits: bool) -> dict:
    from flow.hls.plan import allowed_names
    from flow.precision import layer_kinds

    names = allowed_names(point)
    policy = point.hls.default_storage
    out = {f"hls.storage.{b}": list(dict.fromkeys([policy, "lutram", "bram"])) for b in names["storage"]
           if b not in ("input", "head", "delta")}
    out.update({f"hls.rom.{t}": ["lutrom", "bram"] for t in names["rom"] if t.endswith(".weight")})
    if with_bits and point.quantization.bits > 4:
        dense = [n for n, kind in layer_kinds(point).items() if kind == "dense"]
        out.update({f"quantization.layers.{n}.weight.bits": [point.quantization.bits, 4] for n in dense})
    return out


def find_fitting(point, with_bits: bool, trials: int, n_features: int, seed: int):
    """The first candidate of the space that fits within the headroom (estimate), or None."""
    import optuna

    from flow.search.space import candidate_raw

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    keys = space(point, with_bits)
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
    from flow.training import predict, train

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
    ap.add_argument("--trials", type=int, default=60, help="estimate-only trials per point and stage")
    args = ap.parse_args()
    import tempfile

    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    cfg = load_config(args.config)
    n_features = n_features_of(cfg)
    t0 = time.perf_counter()
    grid = sweep(cfg, n_features)
    rows, trained = [], {}
    with tempfile.TemporaryDirectory(prefix="tsflow-deploy-") as work:
        for row in grid:
            point = point_config(cfg, row)
            est = estimate(point, n_features=n_features)
            if _overflow(est, point.target.headroom) == 0:
                continue
            over = [r for r in RESOURCES if est.budget[r] and est.total[r] > (1 - point.target.headroom) * est.budget[r]]
            found, stage = find_fitting(point, False, args.trials, n_features, cfg.search.seed), "storage"
            if found is None:
                found, stage = find_fitting(point, True, args.trials, n_features, cfg.search.seed), "storage + bits"
            result = {**row, "over": over, "stage": stage if found else None, "errors": None}
            if found:
                changed = {k: v for k, v in found["choice"].items() if not k.startswith("hls.")}
                uniform = {**{f"hls.storage.{n}": row["storage"] for n in est.plan.buffers},
                           **{f"hls.rom.{n}": m.storage for n, m in est.plan.roms.items()}}
                result["changes"] = sum(1 for k, v in found["choice"].items() if uniform.get(k, row["bits"]) != v)
                result["latency"] = found["est"].latency_cycles
                if changed:  # other numbers than the uniform model: train both
                    key = (row["d_model"], row["bits"], row["heads"])
                    if key not in trained:
                        trained[key] = trained_errors(point, Path(work))
                    result["errors"] = {"uniform": trained[key], "searched": trained_errors(found["cand"], Path(work)),
                                        "bits": changed}
            rows.append(result)
    console = Console(width=200)
    table = Table(title=f"{cfg.name} on {cfg.target.part}: uniform sweep points that do not fit within "
                        f"{100 * (1 - cfg.target.headroom):.0f}% of every resource, and the search (estimates)")
    for col in ("d_model", "bits", "heads", "storage policy", "over the headroom", "made to fit by",
                "settings changed", "latency cycles", "val MSE uniform / searched", "test MSE uniform / searched"):
        table.add_column(col, justify="right")
    for r in rows:
        e = r["errors"]
        same = "same numbers" if r["stage"] == "storage" else "-"
        table.add_row(str(r["d_model"]), str(r["bits"]), str(r["heads"]), r["storage"], ", ".join(r["over"]),
                      r["stage"] or "[red]not found[/]", str(r.get("changes", "-")), f"{r.get('latency', 0):,}" if r["stage"] else "-",
                      f"{e['uniform']['val']:.4g} / {e['searched']['val']:.4g}" if e else same,
                      f"{e['uniform']['test']:.4g} / {e['searched']['test']:.4g}" if e else same)
    console.print(table)
    made = [r for r in rows if r["stage"]]
    console.print(f"{len(made)} of {len(rows)} uniform configurations that do not fit were made to fit "
                  f"({sum(r['stage'] == 'storage' for r in made)} by storage alone, "
                  f"{sum(r['stage'] == 'storage + bits' for r in made)} with fewer weight bits); "
                  f"{time.perf_counter() - t0:.0f} s", highlight=False)


if __name__ == "__main__":
    main()
