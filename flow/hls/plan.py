"""Which buffers the generated design has, where each is stored, and how parallel each layer is.

Buffer names are the boundary names of the reference trace (``flow.reference``): every layer
output plus the attention internals (q, k, v, scores, softmax, context). ``parallelism`` is the
number of multiply-accumulates (or elements) a layer handles per clock; ``multiplier`` maps each
layer that multiplies to ``dsp``, ``lut`` or ``auto`` (the tool's choice by operand width).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import ConfigError
from ..precision import layer_kinds

# layers whose loops have a parallelism knob: everything but the wires
_NO_PARALLELISM = ("softmax",)


@dataclass(frozen=True)
class HLSPlan:
    tool: str
    storage: dict  # buffer name -> registers | lutram | bram | auto
    parallelism: dict  # layer name -> multiply-accumulates (or elements) per clock
    multiplier: dict  # multiplying layer name -> dsp | lut | auto


def buffer_names(cfg) -> list[str]:
    """Every intermediate buffer of the design, in execution order."""
    return list(layer_kinds(cfg))


def multiplying_layers(cfg) -> list[str]:
    """Layers whose loops multiply: dense, norm (scale), attention scores and context, pooling (1/n)."""
    return [n for n, kind in layer_kinds(cfg).items()
            if kind in ("dense", "norm") or n.endswith((".scores", ".context")) or n == "pool"]


def hls_plan(cfg) -> HLSPlan:
    names = buffer_names(cfg)
    h = cfg.hls
    multiplying = multiplying_layers(cfg)
    for key, given, allowed in (("storage", h.storage, names),
                                ("parallelism", h.parallelism, [n for n in names if not n.endswith(_NO_PARALLELISM)]),
                                ("multiplier", h.multiplier, multiplying)):
        unknown = sorted(set(given) - set(allowed))
        if unknown:
            raise ConfigError(f"invalid configuration: hls.{key}.{unknown[0]}: unknown name; "
                              f"allowed for this model: {', '.join(allowed)}")
    storage = {n: h.storage.get(n, h.default_storage) for n in names}
    parallelism = {n: h.parallelism.get(n, h.default_parallelism) for n in names if not n.endswith(_NO_PARALLELISM)}
    multiplier = {n: h.multiplier.get(n, h.default_multiplier) for n in multiplying}
    return HLSPlan(tool=h.tool, storage=storage, parallelism=parallelism, multiplier=multiplier)
