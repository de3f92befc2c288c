"""Forecast error metrics and the two naive baselines every model is compared with."""
from __future__ import annotations

import numpy as np


def errors(pred: np.ndarray, truth: np.ndarray) -> dict:
    diff = np.asarray(pred, dtype=np.float64).ravel() - np.asarray(truth, dtype=np.float64).ravel()
    mse = float(np.mean(diff ** 2))
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(diff)))}


def split_metrics(pred_scaled: np.ndarray, split, dataset) -> dict:
    """Errors on de-normalised values (the user's units) plus the same on the scaled values."""
    out = errors(dataset.denormalise(pred_scaled), dataset.denormalise(split.y))
    out["scaled"] = errors(pred_scaled, split.y)
    return out


def persistence_forecast(split) -> np.ndarray:
    """The last observed value of the target."""
    return split.last


def linear_forecast(train, split, ridge: float = 1e-6) -> np.ndarray:
    """Least-squares linear model on the flattened window, fitted on the training windows."""
    def design(s):
        flat = s.x.reshape(len(s.x), -1)
        return np.hstack([flat, np.ones((len(flat), 1))])

    a = design(train)
    coef = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ train.y)
    return design(split) @ coef
