"""Real time-series data: loading, chronological split, scaling fitted on train, windowing.

Windows are cut inside each split, so no window of one split holds a row of another.  The scaler
sees training rows only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ConfigError


@dataclass
class Scaler:
    """Per-column affine map fitted on training rows: scaled = (x - offset) / scale."""

    offset: np.ndarray
    scale: np.ndarray

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.offset) / self.scale

    def inverse_column(self, v: np.ndarray, col: int) -> np.ndarray:
        return v * self.scale[col] + self.offset[col]

    def to_dict(self) -> dict:
        return {"offset": self.offset.tolist(), "scale": self.scale.tolist()}


@dataclass
class Split:
    x: np.ndarray  # (n, window, features) scaled float64
    y: np.ndarray  # (n,) scaled target
    last: np.ndarray  # (n,) scaled target at the last step of the window (persistence forecast)


@dataclass
class Dataset:
    name: str
    features: list[str]  # the model's input channels
    target: str
    target_index: int  # the input channel holding the target's level (persistence, the delta head)
    scaler: Scaler
    train: Split
    val: Split
    test: Split
    rows: dict
    target_column: int  # the target's column in the scaler

    def denormalise(self, v: np.ndarray) -> np.ndarray:
        return self.scaler.inverse_column(np.asarray(v, dtype=np.float64), self.target_column)


def load_frame(data_cfg) -> tuple[pd.DataFrame, str]:
    """The raw table (rows in time order) and a name for it."""
    if data_cfg.source == "builtin":
        from vega_datasets import local_data  # ships inside the package: no network

        frame = getattr(local_data, data_cfg.dataset.replace("-", "_"))()
        return frame, data_cfg.dataset
    path = Path(data_cfg.path).expanduser()
    if not path.is_file():
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: file not found")
    try:
        frame = pd.read_csv(path)
    except Exception as exc:  # a user file: report, do not trace back
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: cannot read CSV ({exc})") from None
    return frame, path.stem


def _columns(frame: pd.DataFrame, data_cfg) -> list[str]:
    cols = list(frame.columns)
    date = data_cfg.date_column
    if date is not None and date not in cols:
        raise ConfigError(f"invalid configuration: data.date_column = {date!r}: not a column; "
                          f"columns in the file: {', '.join(map(str, cols))}")
    numeric = [c for c in cols if c != date and pd.api.types.is_numeric_dtype(frame[c])]
    if data_cfg.target not in cols:
        raise ConfigError(f"invalid configuration: data.target = {data_cfg.target!r}: not a column; "
                          f"numeric columns in the file: {', '.join(map(str, numeric))}")
    features = list(data_cfg.features) if data_cfg.features else numeric
    for f in features:
        if f not in numeric:
            raise ConfigError(f"invalid configuration: data.features: {f!r} is not a numeric column; "
                              f"allowed: {', '.join(map(str, numeric))}")
    if data_cfg.target not in features:
        raise ConfigError(f"invalid configuration: data.target = {data_cfg.target!r}: must also be one "
                          f"of data.features ({', '.join(features)}); the model reads its past values")
    return features


def split_rows(n: int, split_cfg) -> tuple[int, int, int]:
    if split_cfg.is_rows:
        sizes = (split_cfg.train, split_cfg.val, split_cfg.test)
        if sum(sizes) > n:
            raise ConfigError(f"invalid configuration: data.split asks for {sum(sizes)} rows; the data has {n}")
        return sizes
    n_train = int(n * split_cfg.train)
    n_val = int(n * split_cfg.val)
    n_test = int(n * split_cfg.test)
    return n_train, n_val, n_test


def make_windows(values: np.ndarray, target_index: int, window: int, horizon: int) -> Split:
    """All windows fully inside ``values``: x = rows [t, t+window), y = target at t+window+horizon-1."""
    n = len(values) - window - horizon + 1
    if n <= 0:
        return Split(np.zeros((0, window, values.shape[1])), np.zeros(0), np.zeros(0))
    idx = np.arange(window)[None, :] + np.arange(n)[:, None]
    x = values[idx]
    y = values[np.arange(n) + window + horizon - 1, target_index]
    return Split(x=x, y=y, last=x[:, -1, target_index].copy())


def as_differences(s: Split, target_index: int) -> Split:
    """Each channel's change from the previous step of its window (0 at the first), then the target's
    level as an extra last channel; y and the persistence forecast are unchanged."""
    d = np.diff(s.x, axis=1, prepend=s.x[:, :1, :])
    return Split(x=np.concatenate([d, s.x[:, :, target_index:target_index + 1]], axis=2), y=s.y, last=s.last)


def load_dataset(cfg) -> Dataset:
    data_cfg = cfg.data
    frame, name = load_frame(data_cfg)
    features = _columns(frame, data_cfg)
    if data_cfg.date_column is not None:
        dates = pd.to_datetime(frame[data_cfg.date_column], errors="coerce")
        if dates.isna().any():
            raise ConfigError(f"invalid configuration: data.date_column = {data_cfg.date_column!r}: "
                              f"holds values that are not dates")
        frame = frame.iloc[np.argsort(dates.to_numpy(), kind="stable")]  # time order, whatever the file's
    values = frame[features].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ConfigError(f"invalid configuration: data.features: columns {features} hold missing or "
                          f"infinite values; allowed: finite numbers only")
    n_train, n_val, n_test = split_rows(len(values), data_cfg.split)
    need = data_cfg.window + data_cfg.horizon
    for label, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        if n < need:
            raise ConfigError(f"invalid configuration: data.split.{label}: {n} rows, fewer than "
                              f"data.window + data.horizon ({need})")
    parts = (values[:n_train], values[n_train:n_train + n_val], values[n_train + n_val:n_train + n_val + n_test])
    train = parts[0]
    if data_cfg.scaling == "standard":
        offset, scale = train.mean(axis=0), train.std(axis=0)
    else:
        offset, scale = train.min(axis=0), train.max(axis=0) - train.min(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    scaler = Scaler(offset, scale)
    target_index = features.index(data_cfg.target)
    splits = [make_windows(scaler.transform(p), target_index, data_cfg.window, data_cfg.horizon) for p in parts]
    channels, channel = features, target_index
    if data_cfg.inputs == "differences":
        splits = [as_differences(s, target_index) for s in splits]
        channels, channel = [f"d_{f}" for f in features] + [data_cfg.target], len(features)
    return Dataset(name=name, features=channels, target=data_cfg.target, target_index=channel,
                   scaler=scaler, train=splits[0], val=splits[1], test=splits[2],
                   rows={"train": n_train, "val": n_val, "test": n_test}, target_column=target_index)
