"""A trained model on disk: the config it came from, the data facts it needs, weights, metrics."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from keras_models.builder import build_model
from keras_models.export import integer_parameters

from .config import ConfigError, dump_config, parse_config
from .precision import resolve_precisions

WEIGHTS = "model.weights.h5"


@dataclass
class Trained:
    cfg: object
    model: object
    quantized: bool
    data: dict  # features, target, target_index, scaler, rows


def save_trained(folder: Path, cfg, ds, result) -> None:
    folder = Path(folder)
    (folder / "config.yaml").write_text(dump_config(cfg))
    data = {"name": ds.name, "features": ds.features, "target": ds.target, "target_index": ds.target_index,
            "scaler": ds.scaler.to_dict(), "rows": ds.rows}
    (folder / "dataset.json").write_text(json.dumps(data, indent=2))
    result.model.save_weights(str(folder / WEIGHTS))
    if result.quantized:
        params = integer_parameters(result.model)
        np.savez(folder / "integer_params.npz", **{f"{k}/{r}": v for k, d in params.items() for r, v in d.items()})
    metrics = dict(result.metrics)
    metrics["quantized"] = result.quantized
    metrics["bits"] = result.precisions.summary() if result.quantized else "float32"
    metrics["training_seconds"] = result.seconds
    metrics["best_epoch"] = {phase: h["best_epoch"] for phase, h in result.history.items()}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (folder / "history.json").write_text(json.dumps(result.history, indent=2))


def load_trained(folder: Path) -> Trained:
    folder = Path(folder)
    if (folder / "FAILED").exists() or folder.name.endswith(".partial"):
        raise ConfigError(f"{folder} is the folder of a run that did not finish; train again")
    if not (folder / WEIGHTS).is_file():
        raise ConfigError(f"{folder} holds no trained model ({WEIGHTS} missing); run 'tsflow train' first")
    cfg = parse_config(yaml.safe_load((folder / "config.yaml").read_text()), str(folder / "config.yaml"))
    data = json.loads((folder / "dataset.json").read_text())
    quantized = cfg.quantization.enabled
    model = build_model(cfg, resolve_precisions(cfg), quantized, len(data["features"]), data["target_index"])
    model.load_weights(str(folder / WEIGHTS))
    return Trained(cfg, model, quantized, data)
