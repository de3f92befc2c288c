"""Deployability sweep: which model sizes, bit widths, head counts and storage policies fit the part.

Every point is the estimator's answer for the configuration given with ``model.d_model``,
``model.heads``, ``quantization.bits`` and ``hls.default_storage`` replaced (FFN width 4 x d_model,
per-buffer storage overrides dropped). Everything else is the configuration's, its per-tensor bits
(``quantization.layers``, said as ``kept_bits``) and its lanes too: with
``hls.default_parallelism: auto`` each point is the fastest design auto finds, with explicit lanes each has
those (``lanes`` says which). Nothing is trained or synthesised.
"""
from __future__ import annotations

import itertools
import time

from .config import ConfigError, parse_config
from .estimate import estimate
from .estimate.design import require_quantized

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


def kept_bits(cfg) -> dict:
    """The per-tensor bits of quantization.layers (layer.tensor -> bits), which every point keeps: a point sets
    quantization.bits, the default of the tensors not overridden."""
    return {f"{layer}.{tensor}": spec.bits for layer, override in cfg.quantization.layers.items()
            for tensor, spec in override if spec is not None and spec.bits is not None}


def precision(cfg) -> str:
    """How every point's precision is set, in words for the sweep's heading."""
    kept = kept_bits(cfg)
    if not kept:
        return "every tensor at the point's bits"
    return (f"the point's bits except quantization.layers {', '.join(f'{k} {b}' for k, b in kept.items())} "
            f"(from the configuration) at every point")


def sweep(cfg, n_features: int, d_models=D_MODELS, bits=BITS, heads=HEADS, storages=STORAGES,
          step=None, note=None) -> list[dict]:
    """Every point's estimate; ``step(done, total)`` after each, and ``note(text)`` with the point's verdict
    and its seconds (a long window makes a point take seconds, and a sweep minutes)."""
    require_quantized(cfg, "the sweep estimates the quantized design at each width (quantization.bits 4, 6, 8)")
    kept = kept_bits(cfg)
    if kept and note:
        note(f"warning: quantization.layers sets {', '.join(f'{k} {b} bits' for k, b in kept.items())}, which every "
             f"point keeps: a point's bits ({', '.join(str(b) for b in bits)}) set quantization.bits, the width of the "
             f"other tensors, so a point at other bits is a mixed design; remove those bits from quantization.layers "
             f"to sweep uniform widths")
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
                     "shared_lanes": engine.lanes if engine else 0, "kept_bits": kept})
        if note:
            verdict = ("fits" + (", over the headroom: " + ", ".join(est.over_headroom) if est.over_headroom else "")
                       if est.fits else "does not fit: " + ", ".join(est.overflowing))
            note(f"sweep point {len(rows)} of {len(points)} (d_model {d}, bits {b}, heads {h}, all {s}): {verdict}, "
                 f"{est.latency_us:,.1f} us; estimated in {time.perf_counter() - start:.1f} s")
        if step:
            step(len(rows), len(points))
    return rows
