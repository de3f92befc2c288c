"""The Pareto front of a search: each point scored once on the test split, as a table, a plot and YAMLs.

``DIR/pareto.json`` (every Pareto trial: choices, objectives, validation and test error, estimate,
its YAML), ``DIR/pareto.png`` (the first two objectives of every complete trial, the front marked) and
``DIR/pareto/trial-N.yaml`` (a configuration ``tsflow build`` takes as it is; where that file was edited by hand
while the search ran, the search's own is written beside it as ``trial-N.search.yaml``).
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..config import parse_config
from .study import front_trials, unpack_weights

OBJECTIVE_LABEL = {"val_mse": "validation MSE", "latency": "latency (cycles)", "lut": "LUT", "lutram": "LUTRAM",
                   "ff": "FF", "bram18": "BRAM18", "dsp": "DSP", "resources": "resources (sum of fractions)",
                   "energy": "energy per inference (uJ, estimate)"}


def _test_error(cand, weights: str) -> dict:
    """The candidate's trained model on the test split (what no trial looked at)."""
    from keras_models.builder import build_model

    from ..data import load_dataset
    from ..metrics import split_metrics
    from ..precision import resolve_precisions
    from ..training.fit import predict

    ds = load_dataset(cand, note=lambda text: None)  # told once, before the search starts
    model = build_model(cand, resolve_precisions(cand), True, len(ds.features), ds.target_index)
    model.set_weights(unpack_weights(weights))
    return split_metrics(predict(model, ds.test.x), ds.test, ds)


def pareto(study, cfg, out: Path) -> list[dict]:
    """Write the front's files into ``out``; returns its rows, best first by the first objective."""
    out = Path(out)
    front = sorted(front_trials(study), key=lambda t: t.values)
    (out / "pareto").mkdir(exist_ok=True)
    rows = []
    for t in front:
        text = t.user_attrs["config"]
        cand = parse_config(yaml.safe_load(text))
        path = out / "pareto" / f"trial-{t.number}.yaml"
        if path.is_file() and path.read_text(errors="replace") != text:  # edited while the search ran: kept
            path = path.with_name(f"trial-{t.number}.search.yaml")
        path.write_text(text)
        test = _test_error(cand, t.user_attrs["weights"])
        rows.append({"trial": t.number, "choice": t.params,
                     "objectives": dict(zip(cfg.search.objectives, t.values)),
                     "val_mse": t.user_attrs["val_mse"], "test_mse": test["mse"],
                     "estimate": t.user_attrs["estimate"], "yaml": str(path)})
    (out / "pareto.json").write_text(json.dumps(rows, indent=1))
    _plot(study, cfg, front, out / "pareto.png")
    return rows


def _plot(study, cfg, front, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState

    objectives = cfg.search.objectives
    x_i, y_i = (0, 1) if len(objectives) > 1 else (0, 0)
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if "same_as" not in t.user_attrs]
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    ax.scatter([t.values[x_i] for t in done], [t.values[y_i] for t in done], s=14, color="0.7",
               label=f"trained trials ({len(done)})")
    points = sorted((t.values[x_i], t.values[y_i]) for t in front)
    ax.plot([p[0] for p in points], [p[1] for p in points], "o-", color="tab:red", label=f"Pareto front ({len(front)})")
    ax.set_xlabel(OBJECTIVE_LABEL[objectives[x_i]])
    ax.set_ylabel(OBJECTIVE_LABEL[objectives[y_i]])
    pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    ax.set_title(f"{cfg.name}: {len(done)} trained, {pruned} pruned before training (estimate)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
