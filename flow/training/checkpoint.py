"""A trained model on disk: the config it came from, the data facts it needs, weights, metrics."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_models.builder import build_model
from keras_models.export import integer_parameters

from .binary_points import points_yaml, with_points
from ..config import ConfigError, dump_config, load_config
from ..precision import resolve_precisions

WEIGHTS = "model.weights.h5"
INTEGER_PARAMS = "integer_params.npz"
POINTS = "binary_points.yaml"  # the integer bits chosen for `integer: auto` (flow.training.binary_points)


@dataclass
class Trained:
    cfg: object  # the configuration as given (auto binary points left auto)
    model: object
    quantized: bool
    data: dict  # features, target, target_index, scaler, rows
    resolved: object = None  # cfg with the chosen binary points: what the model, reference and C++ use


def save_trained(folder: Path, cfg, ds, result) -> None:
    folder = Path(folder)
    (folder / "config.yaml").write_text(dump_config(cfg))
    if result.points:
        (folder / POINTS).write_text(points_yaml(result.points))
    data = {"name": ds.name, "features": ds.features, "target": ds.target, "target_index": ds.target_index,
            "scaler": ds.scaler.to_dict(), "rows": ds.rows}
    (folder / "dataset.json").write_text(json.dumps(data, indent=2))
    result.model.save_weights(str(folder / WEIGHTS))
    if result.quantized:
        save_integer_params(folder, result.model)
    metrics = dict(result.metrics)
    metrics["quantized"] = result.quantized
    metrics["bits"] = result.precisions.summary() if result.quantized else "float32"
    metrics["training_seconds"] = result.seconds
    metrics["best_epoch"] = {phase: h["best_epoch"] for phase, h in result.history.items()}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (folder / "history.json").write_text(json.dumps(result.history, indent=2))


def save_integer_params(folder: Path, model) -> None:
    """``integer_params.npz``: the integer weights, biases and tables of ``model``, derived from its weights
    (a build reusing a model writes it again, so it never carries a damaged or stale copy along)."""
    params = integer_parameters(model)
    np.savez(Path(folder) / INTEGER_PARAMS, **{f"{k}/{r}": v for k, d in params.items() for r, v in d.items()})


def load_trained(folder: Path) -> Trained:
    folder = Path(folder)
    if (folder / "FAILED").exists() or folder.name.endswith(".partial"):
        raise ConfigError(f"{folder} is the folder of a run that did not finish; train again")
    if not (folder / WEIGHTS).is_file():
        raise ConfigError(f"{folder} holds no trained model ({WEIGHTS} missing); run 'tsflow train' first")
    missing = [name for name in ("config.yaml", "dataset.json") if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"{folder} holds an incomplete trained model ({', '.join(missing)} missing); "
                          f"train (or build) it again")
    damaged = f"the trained model in {folder} is damaged; train (or build) it again"
    cfg = load_config(folder / "config.yaml")
    try:
        data = json.loads((folder / "dataset.json").read_text())
        features, target_index = len(data["features"]), int(data["target_index"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{folder / 'dataset.json'}: cannot be read ({type(exc).__name__}: {exc}); "
                          f"{damaged}") from None
    quantized = cfg.quantization.enabled
    resolved = resolved_config(folder, cfg, damaged)
    model = build_model(resolved, resolve_precisions(resolved), quantized, features, target_index)
    try:
        model.load_weights(str(folder / WEIGHTS))
    except (OSError, ValueError) as exc:  # not HDF5, truncated, or weights of another shape
        reason = " ".join(str(exc).split())[:300]
        raise ConfigError(f"{folder / WEIGHTS}: cannot be read ({reason}); {damaged}") from None
    return Trained(cfg, model, quantized, data, resolved)


def resolved_config(folder: Path, cfg, damaged: str = ""):
    """``cfg`` of the trained model in ``folder`` with the binary points training chose for its ``integer:
    auto`` tensors (``binary_points.yaml``): the types the model, the reference and the C++ use."""
    if not cfg.quantization.enabled or not resolve_precisions(cfg).auto:
        return cfg
    return with_points(cfg, read_points(Path(folder) / POINTS,
                                        damaged or f"the trained model in {folder} is damaged; train it again"))


def read_points(path: Path, damaged: str) -> dict:
    """(layer, role) -> integer bits from a ``binary_points.yaml``."""
    import yaml

    try:
        layers = yaml.safe_load(path.read_text())["layers"]
        return {(layer, role): int(spec["integer"]) for layer, roles in layers.items() for role, spec in roles.items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError):
        raise ConfigError(f"{path}: missing or unreadable (the binary points of integer: auto); {damaged}") from None
