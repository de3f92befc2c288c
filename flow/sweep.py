"""Deployability sweep: which model sizes, bit widths, head counts and storage policies fit the part.

Every point is the estimator's answer for the configuration given with ``model.d_model``,
``model.heads``, ``quantization.bits`` and ``hls.default_storage`` replaced (FFN width 4 x d_model,
per-buffer storage overrides dropped). Everything else is the configuration's, its lanes too: with
``hls.default_parallelism: auto`` each point is the fastest design auto finds, with explicit lanes each has
those (``lanes`` says which). Nothing is trained or synthesised.
"""
from __future__ import annotations

import itertools
import time

from .config import ConfigError, parse_config
from .estimate import estimate

D_MODELS = (8, 16, 32, 64)
BITS = (4, 6, 8)
HEADS = (1, 2)
STORAGES = ("registers", "lutram", "bram", "auto")


def lanes(cfg) -> str:
    """How every point's lanes are set, in words for the sweep's heading: auto, or the configuration's explicit
    lanes, which the sweep keeps (a point is the design that configuration would build)."""
    h = cfg.hls
    per_layer = ", ".join(f"{name} {n}" for name, n in h.parallelism.items())
    if h.default_parallelism == "auto":
        return f"lanes auto except hls.parallelism {per_layer} (from the configuration)" if per_layer else "lanes auto"
    also = f" and hls.parallelism {per_layer}" if per_layer else ""
    return f"lanes hls.default_parallelism {h.default_parallelism}{also} from the configuration at every point, not auto"


def sweep(cfg, n_features: int, d_models=D_MODELS, bits=BITS, heads=HEADS, storages=STORAGES,
          step=None, note=None) -> list[dict]:
    """Every point's estimate; ``step(done, total)`` after each, and ``note(text)`` with the point's verdict
    and its seconds (a long window makes a point take seconds, and a sweep minutes)."""
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
        start = time.perf_counter()
        try:
            est = estimate(parse_config(raw), n_features=n_features)
        except ConfigError as exc:  # e.g. a per-layer override that does not fit this width
            raise ConfigError(f"sweep point d_model {d}, bits {b}, heads {h}, storage {s}: {exc} (the sweep sets "
                              f"model.d_model, model.heads and quantization.bits at each point; the configuration's "
                              f"per-tensor integer bits and lanes must suit every point: remove those that do not)"
                              ) from None
        engine = est.plan.engine
        rows.append({"d_model": d, "bits": b, "heads": h, "storage": s, "total": est.total, "budget": est.budget,
                     "fits": est.fits, "overflowing": est.overflowing, "over_headroom": est.over_headroom,
                     "latency_us": est.latency_us, "parallelism": cfg.hls.default_parallelism,
                     "shared_lanes": engine.lanes if engine else 0})
        if note:
            verdict = ("fits" + (", over the headroom: " + ", ".join(est.over_headroom) if est.over_headroom else "")
                       if est.fits else "does not fit: " + ", ".join(est.overflowing))
            note(f"sweep point {len(rows)} of {len(points)} (d_model {d}, bits {b}, heads {h}, all {s}): {verdict}, "
                 f"{est.latency_us:,.1f} us; estimated in {time.perf_counter() - start:.1f} s")
        if step:
            step(len(rows), len(points))
    return rows
