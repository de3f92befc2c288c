"""``integer: auto``: each tensor's binary point, chosen once from the float model before QAT.

The rule: for a tensor of W bits, the integer bits I (the binary point) that minimise the mean squared
quantisation error of the float model's values of that tensor, saturation (or wrap-around) included:
weights, biases, the positional table and the norms' scale and shift from the float parameters;
activations, attention scores, probabilities and the window from the float forward over the training
split (never validation or test); the exp table, whose entries are exp(0) = 1 and below, gets the one
integer bit that holds 1. Few integer bits round finely and clip the tails; many clip nothing
and round coarsely; the minimum is where the two errors balance. Ties go to the larger I (fewer values
clipped on data the training split did not show).

The chosen points are written into the configuration as ``quantization.layers`` entries, so the Keras
model, the integer reference and the C++ all take them from there as if a user had set them; the run
folder keeps them in ``binary_points.yaml`` for copying into a YAML.
"""
from __future__ import annotations

import numpy as np

from ..fixedpoint import FixedType, quantization_mse

MAX_WINDOWS = 4096  # training windows the activations are taken from (evenly spaced)
FRAC_RANGE = (0, 30)  # fraction bits every type keeps (flow.precision)
INTEGER_RANGE = (-8, 16)  # quantization.layers.<layer>.<role>.integer


def best_integer(values: np.ndarray, t: FixedType) -> int:
    """The integer bits of ``t``'s width that minimise ``quantization_mse`` (ties: the larger)."""
    lo = max(INTEGER_RANGE[0], t.width - FRAC_RANGE[1])
    hi = min(INTEGER_RANGE[1], t.width - FRAC_RANGE[0])
    best, best_mse = hi, None
    values = np.asarray(values, dtype=np.float64).ravel()
    for integer in range(hi, lo - 1, -1):  # from the most integer bits down: a tie keeps the larger
        mse = quantization_mse(values, FixedType(t.width, integer, t.signed, t.rounding, t.overflow))
        if best_mse is None or mse < best_mse:
            best, best_mse = integer, mse
    return best


def _windows(x: np.ndarray) -> np.ndarray:
    if len(x) <= MAX_WINDOWS:
        return x
    return x[np.linspace(0, len(x) - 1, MAX_WINDOWS).round().astype(int)]


def float_values(cfg, float_model, x_train: np.ndarray) -> dict:
    """(layer, role) -> the float model's values of that tensor: parameters, and every boundary of the
    forward over (up to ``MAX_WINDOWS``) training windows."""
    from tensorflow import keras

    x = _windows(np.asarray(x_train, dtype=np.float32))
    m = float_model
    values = {("input", "output"): x}
    boundaries = ["embed", "pos", *(["pool"] if cfg.model.head != "flatten" else []), "head"] + \
        (["delta"] if cfg.model.predict_delta else [])
    attn = []
    for i in range(cfg.model.layers):
        p = f"enc{i}."
        boundaries += [p + n for n in ("add1", "norm1", "ffn1", "ffn2", "add2", "norm2")]
        attn.append(p)
    outputs = [m.get_layer(n).output for n in boundaries] + [m.get_layer(p + "attn").input for p in attn]
    got = keras.Model(m.input, outputs)(x, training=False)
    got = [np.asarray(g) for g in got]
    for name, value in zip(boundaries, got):
        values[(name, "output")] = value
    for p, attn_in in zip(attn, got[len(boundaries):]):
        layer = m.get_layer(p + "attn")
        inside = layer.internals(attn_in)
        for n in ("q", "k", "v", "scores", "softmax", "context", "o"):
            values[(p + n, "output")] = np.asarray(inside[n])
        for n in ("q", "k", "v", "o"):
            values[(p + n, "weight")] = layer.proj[n].kernel.numpy()
            values[(p + n, "bias")] = layer.proj[n].bias.numpy()
        for n in ("norm1", "norm2"):
            norm = m.get_layer(p + n)
            scale = norm.gamma.numpy() / np.sqrt(norm.moving_var.numpy() + norm.epsilon)
            values[(p + n, "scale")] = scale
            values[(p + n, "shift")] = norm.beta.numpy() - norm.moving_mean.numpy() * scale
        for n in ("ffn1", "ffn2"):
            values[(p + n, "weight")] = m.get_layer(p + n).kernel.numpy()
            values[(p + n, "bias")] = m.get_layer(p + n).bias.numpy()
    for n in ("embed", "head"):
        values[(n, "weight")] = m.get_layer(n).kernel.numpy()
        values[(n, "bias")] = m.get_layer(n).bias.numpy()
    values[("pos", "table")] = m.get_layer("pos").table.numpy()
    return values


def choose(cfg, prec, float_model, x_train: np.ndarray) -> dict:
    """(layer, role) -> integer bits for every tensor ``prec`` marks ``auto``, in forward order (the
    order ``binary_points.yaml`` and ``tsflow train`` list them in)."""
    values = float_values(cfg, float_model, x_train)
    points = {}
    for layer, role in ((layer, role) for layer, roles in prec.types.items() for role in roles
                        if (layer, role) in prec.auto):
        t = prec.types[layer][role]
        if role == "table" and layer.endswith("softmax"):  # not the model's values: exp of 0 and below
            points[(layer, role)] = 1  # the fewest integer bits holding exp(0) = 1; every other entry is below
            continue
        points[(layer, role)] = best_integer(values[(layer, role)], t)
    return points


def with_points(cfg, points: dict):
    """``cfg`` with each chosen point written as a ``quantization.layers.<layer>.<role>.integer``."""
    from ..config import parse_config

    raw = cfg.model_dump(mode="json")
    layers = raw["quantization"].setdefault("layers", {})
    for (layer, role), integer in points.items():
        override = layers.setdefault(layer, {})
        override[role] = {**(override.get(role) or {}), "integer": int(integer)}  # a role not overridden dumps as None
    return parse_config(raw)


def points_yaml(points: dict) -> str:
    """The chosen points as the ``quantization.layers`` section of a YAML, to copy into a config, in the
    order given (``choose``: forward order)."""
    import yaml

    layers: dict = {}
    for (layer, role), integer in points.items():
        layers.setdefault(layer, {})[role] = {"integer": int(integer)}
    return ("# integer bits chosen by `integer: auto` (flow/training/binary_points.py); paste under quantization:\n"
            + yaml.safe_dump({"layers": layers}, sort_keys=False))


def outside(values: np.ndarray, t: FixedType) -> float:
    """Share of ``values`` below the type's smallest or above its largest value."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(np.mean((v < t.min_value) | (v > t.max_value))) if v.size else 0.0


def covering(t: FixedType, v: np.ndarray, lowest: int | None = None, highest: int = INTEGER_RANGE[1]) -> int | None:
    """The fewest integer bits at this width, from ``lowest`` (default: ``t``'s own) to ``highest``, whose range holds
    every value in ``v`` (None: none does)."""
    for i in range(t.integer if lowest is None else lowest, highest + 1):
        wider = FixedType(t.width, i, t.signed)
        if wider.min_value <= v.min() and wider.max_value >= v.max():
            return i
    return None


SATURATION_WARNED = 0.01  # share of the float model's forecasts outside the output type that gets a warning


def fixed_outputs(prec) -> list[tuple[str, str]]:
    """The forecast tensors (the head's output, and the delta head's sum) whose integer bits the user set: what
    ``output_saturation`` checks (``integer: auto`` places them from these very values)."""
    return [(layer, "output") for layer in ("head", "delta") if layer in prec.types and (layer, "output") not in prec.auto]


def output_saturation(cfg, prec, values: dict, fixed: list) -> str | None:
    """A warning when the float model's forecasts on the training windows (``values``: ``float_values``) fall
    outside the range of an output type whose integer bits were set (``fixed``: ``fixed_outputs``) for
    ``SATURATION_WARNED`` of them or more: the quantized model's forecasts stop at that range. None otherwise."""
    worst = None
    for layer, role in fixed:
        t = prec.types[layer][role]
        v = np.asarray(values[(layer, role)], dtype=np.float64).ravel()
        if not v.size:
            continue
        share = outside(v, t)
        if share >= SATURATION_WARNED and (worst is None or share > worst[0]):
            worst = (share, layer, role, t, v)
    if worst is None:
        return None
    share, layer, role, t, v = worst
    override = cfg.quantization.layers.get(layer)
    spec = getattr(override, role, None) if override is not None else None
    key = f"quantization.layers.{layer}.{role}" if spec is not None and spec.integer is not None else \
        "quantization.output"
    need = covering(t, v)
    what = ("outputs of the head (the forecast change the delta head adds to the last value)"
            if layer == "head" and "delta" in prec.types else "forecasts")
    effect = "saturates" if t.overflow == "sat" else "wraps around"
    least = f" or at least {need}" if need is not None and need <= 16 else ""
    return (f"{key} ({t.width} bits, integer {t.integer}: {t.min_value:.4g} .. {t.max_value:.4g} on the scaled target) "
            f"{effect} {share:.0%} of the float model's {what} on the training windows, which reach {v.min():.3g} .. "
            f"{v.max():.3g}: the quantized model's {what} stop at that range; set {key}.integer: auto (placed from "
            f"these values){least}")
