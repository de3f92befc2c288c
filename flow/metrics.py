"""Forecast error metrics and the two naive baselines every model is compared with."""
from __future__ import annotations

import numpy as np


def errors(pred: np.ndarray, truth: np.ndarray) -> dict:
    diff = np.asarray(pred, dtype=np.float64).ravel() - np.asarray(truth, dtype=np.float64).ravel()
    mse = float(np.mean(diff ** 2))
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(diff)))}


def split_metrics(pred_scaled: np.ndarray, split, dataset) -> dict:
    """Errors on de-normalised values (the user's units) plus the same on the scaled values; with several
    forecast steps, over all of them and (``steps``) each step's own."""
    pred_scaled = np.asarray(pred_scaled, dtype=np.float64).reshape(split.y.shape)
    out = errors(dataset.denormalise(pred_scaled), dataset.denormalise(split.y))
    out["scaled"] = errors(pred_scaled, split.y)
    if split.y.ndim == 2:
        out["steps"] = [{**errors(dataset.denormalise(pred_scaled[:, k]), dataset.denormalise(split.y[:, k])),
                         "scaled": errors(pred_scaled[:, k], split.y[:, k])} for k in range(split.y.shape[1])]
    return out


def persistence_forecast(split) -> np.ndarray:
    """The last observed value of the target, for every forecast step (the shape of ``split.y``)."""
    return split.last if split.y.ndim == 1 else np.repeat(split.last[:, None], split.y.shape[1], axis=1)


def linear_forecast(train, split, ridge: float = 1e-6) -> np.ndarray:
    """Least-squares linear model on the flattened window, fitted on the training windows (one per forecast
    step: the columns of ``train.y``)."""
    def design(s):
        flat = s.x.reshape(len(s.x), -1)
        return np.hstack([flat, np.ones((len(flat), 1))])

    a = design(train)
    coef = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ train.y)
    return design(split) @ coef


def nlinear_forecast(train, split, ridge: float = 1e-6) -> np.ndarray:
    """NLinear (arXiv 2205.13504) in closed form: each channel less its last value in the window, a
    least-squares linear map to the target's change from its last value, the last value added back."""
    def last(s):
        return s.last if s.y.ndim == 1 else s.last[:, None]

    def less_last(s):
        return type(s)(x=s.x - s.x[:, -1:, :], y=s.y - last(s), last=s.last)

    return linear_forecast(less_last(train), less_last(split), ridge) + last(split)
