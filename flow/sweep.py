"""Deployability sweep: which model sizes, bit widths, head counts and storage policies fit the part.

Every point is the estimator's answer for the configuration given with ``model.d_model``,
``model.heads``, ``quantization.bits`` and ``hls.default_storage`` replaced (FFN width 4 x d_model,
per-buffer storage overrides dropped). Nothing is trained or synthesised.
"""
from __future__ import annotations

import itertools

from .config import ConfigError, parse_config
from .estimate import estimate

D_MODELS = (8, 16, 32, 64)
BITS = (4, 6, 8)
HEADS = (1, 2)
STORAGES = ("registers", "lutram", "bram", "auto")


def sweep(cfg, n_features: int, d_models=D_MODELS, bits=BITS, heads=HEADS, storages=STORAGES,
          step=None) -> list[dict]:
    """Every point's estimate; ``step(done, total)`` after each (a long window makes a point take seconds)."""
    if not cfg.quantization.enabled:
        raise ConfigError("invalid configuration: quantization.enabled = False: the sweep estimates the quantized "
                          "design at each width (quantization.bits 4, 6, 8); a float model has no design to "
                          "estimate: remove quantization.enabled: false")
    base = cfg.model_dump(mode="json")
    rows = []
    points = list(itertools.product(d_models, bits, heads, storages))
    for d, b, h, s in points:
        raw = {**base, "model": {**base["model"], "d_model": d, "heads": h, "ffn": None},
               "quantization": {**base["quantization"], "bits": b},
               "hls": {**base["hls"], "default_storage": s, "storage": {}}}
        try:
            est = estimate(parse_config(raw), n_features=n_features)
        except ConfigError as exc:  # e.g. a per-layer override that does not fit this width
            raise ConfigError(f"sweep point d_model {d}, bits {b}, heads {h}, storage {s}: {exc} (the sweep sets "
                              f"model.d_model, model.heads and quantization.bits at each point; the configuration's "
                              f"per-tensor integer bits and lanes must suit every point: remove those that do not)"
                              ) from None
        rows.append({"d_model": d, "bits": b, "heads": h, "storage": s, "total": est.total, "budget": est.budget,
                     "fits": est.fits, "overflowing": est.overflowing, "latency_us": est.latency_us})
        if step:
            step(len(rows), len(points))
    return rows
