"""Hand-set binary points of the parameters (weights, biases, the norms' scales and shifts, the positional table):
the share of each tensor they clip at its type's range and the share of its nonzero values they round to 0.

``integer: auto`` places a parameter's binary point from its own float values (flow.training.binary_points); a point
set in the configuration (``quantization.weight_integer``, ``act_integer`` for the biases and shifts, or
``quantization.layers.<layer>.<role>.integer``) is taken as written, and nothing else holds it against the values it
has to carry. Too few integer bits saturate the large values, too many round the small ones to 0: weight_integer 6 at
8 bits leaves steps of 0.5 and every head weight 0, so the forecast is the head's bias whatever the window. QAT does
not undo either (a saturated value gets no gradient through the clipped straight-through estimator, a small one moves
inside the step around 0), so the float parameters QAT starts from and the trained ones are both measured.
"""
from __future__ import annotations

import numpy as np

from keras_models.layers import PositionalAdd, QAttention, QNorm, SeqDense

from ..fixedpoint import FixedType, quantize
from .binary_points import INTEGER_RANGE, covering, outside
from .saturation import share_text

CLIPPED_WARNED = 0.01  # share of a hand-set tensor's values outside its type's range that is told
ZEROED_WARNED = 0.5  # share of a hand-set tensor's nonzero values rounded to 0 that is told (all of them: any tensor)
FRAC_MAX = 30  # fraction bits a type may have (flow.precision)
# the setting a parameter's integer bits follow when its layer has no override, and the values it allows
# (flow.config.QuantConfig)
GLOBAL_KEYS = {"weight": "quantization.weight_integer", "scale": "quantization.weight_integer",
               "bias": "quantization.act_integer", "shift": "quantization.act_integer"}
KEY_RANGES = {"quantization.weight_integer": (-4, 8), "quantization.act_integer": (-4, 10)}
NOUNS = {"weight": "weights", "scale": "norm scales", "bias": "biases", "shift": "norm shifts",
         "table": "table entries", "quantization.weight_integer": "weights and norm scales",
         "quantization.act_integer": "biases and norm shifts"}


def parameters(model) -> dict:
    """(layer, role) -> the values of every parameter of ``model``, a float or a quantized one (the values its
    quantizers read), named as ``Precisions.types`` names them."""
    out = {}

    def dense(layer):
        out[(layer.name, "weight")] = np.asarray(layer.kernel.numpy(), dtype=np.float64)
        out[(layer.name, "bias")] = np.asarray(layer.bias.numpy(), dtype=np.float64)

    for layer in model.layers:
        if isinstance(layer, SeqDense):
            dense(layer)
        elif isinstance(layer, QAttention):
            for sub in layer.proj.values():
                dense(sub)
        elif isinstance(layer, QNorm):
            scale = layer.gamma.numpy() / np.sqrt(layer.moving_var.numpy() + layer.epsilon)
            out[(layer.name, "scale")] = np.asarray(scale, dtype=np.float64)
            out[(layer.name, "shift")] = np.asarray(layer.beta.numpy() - layer.moving_mean.numpy() * scale,
                                                    dtype=np.float64)
        elif isinstance(layer, PositionalAdd):
            out[(layer.name, "table")] = np.asarray(layer.table.numpy(), dtype=np.float64)
    return out


def shares(values: np.ndarray, t: FixedType, negligible: float = 0.0) -> tuple[float, float]:
    """(share of ``values`` outside the type's range, share of the nonzero ones that round to 0 in it). Values below
    ``negligible`` in magnitude are not counted as rounded to 0: a bias or shift under half a step of the output it
    is added to moves no output when it drops."""
    v = np.asarray(values, dtype=np.float64).ravel()
    nonzero = v[(v != 0) & (np.abs(v) >= negligible)]
    zeroed = float(np.mean(quantize(nonzero, t) == 0)) if nonzero.size else 0.0
    return outside(v, t), zeroed


def _setting(given, auto, layer: str, role: str):
    """(key, value) the user wrote that sets this parameter's integer bits; None: ``integer: auto`` placed it, or it
    keeps a fixed default (the positional table's)."""
    spec = getattr(given.quantization.layers.get(layer), role, None)
    if spec is not None and spec.integer not in (None, "auto"):
        return f"quantization.layers.{layer}.{role}.integer", spec.integer
    if (layer, role) in auto or role not in GLOBAL_KEYS:
        return None
    key = GLOBAL_KEYS[role]
    return key, getattr(given.quantization, key.rsplit(".", 1)[1])


def _need(allowed: tuple, value: int, tensors: list) -> tuple[int | None, int]:
    """The value of a setting (``allowed``: the values the configuration takes; ``value``: the one written) that holds
    the values of every tensor it sets (``tensors``: (type, values)), or None when no allowed one does; and the
    highest allowed at these widths (at most 30 fraction bits and none below 0, flow.precision)."""
    lo, hi = allowed
    need = lo
    for t, v in tensors:
        offset = t.integer - value  # the norm scales take weight_integer + 1
        lo, hi = max(lo, t.width - FRAC_MAX - offset), min(hi, t.width - offset)
        fewest = covering(t, v, lowest=-64, highest=64)  # 65: none does
        need = max(need, (65 if fewest is None else fewest) - offset)
    return (max(need, lo) if max(need, lo) <= hi else None), hi


def _told(layer: str, role: str, v: np.ndarray, now: tuple, before: tuple) -> str:
    """One tensor: what its type does to the trained values (and to the float ones QAT began with, if other)."""
    def said(clip, zero):
        parts = []
        if clip:
            parts.append(f"all {v.size:,} clipped" if clip == 1 else f"{share_text(clip)} of {v.size:,} clipped")
        if zero:
            parts.append("all nonzero rounded to 0" if zero == 1 else f"{share_text(zero)} of the nonzero rounded to 0")
        return ", ".join(parts) or "none clipped or rounded to 0"

    was = f"; before QAT {said(*before)}" if said(*before) != said(*now) else ""
    return f"{layer}.{role} {said(*now)} (values {v.min():.3g} .. {v.max():.3g}{was})"


def clipped_parameters(given, prec, auto, start: dict, trained: dict, predict_delta: bool = False) -> list[str]:
    """The warnings, one per key: the parameters whose integer bits the configuration sets (``given``, with
    ``auto`` the (layer, role) ``integer: auto`` placed) and that clip ``CLIPPED_WARNED`` or round to 0
    ``ZEROED_WARNED`` of their values, trained (``trained``: ``parameters`` of the trained model) or as QAT started
    (``start``: of the float model), with the key, its value and the integer bits that hold the values; and any
    parameter, however set, whose nonzero values all round to 0. ``prec``: the types trained with."""
    found: dict = {}  # (key, value) or None -> [(layer, role, type, trained values, (shares now, at the start))]
    holds: dict = {}  # (key, value) -> [(type, values)] of every tensor the key sets
    for layer, roles in prec.types.items():
        for role, t in roles.items():
            if (layer, role) not in trained:
                continue
            v, v0 = trained[(layer, role)].ravel(), start.get((layer, role), trained[(layer, role)]).ravel()
            set_by = _setting(given, auto, layer, role)
            if set_by is not None:
                holds.setdefault(set_by, []).append((t, np.concatenate([v, v0])))
            additive = role in ("bias", "shift") and "output" in roles
            negligible = roles["output"].lsb / 2 if additive else 0.0
            both = shares(v, t, negligible), shares(v0, t, negligible)
            if any(z == 1 for _, z in both) or (set_by is not None and any(
                    c >= CLIPPED_WARNED or z >= ZEROED_WARNED for c, z in both)):
                found.setdefault(set_by, []).append((layer, role, t, v, v0, both))
    return [_warning(set_by, tensors, holds.get(set_by), predict_delta) for set_by, tensors in found.items()]


def _clip_effect(tensors: list) -> str:
    if any(t.overflow == "wrap" for _, _, t, *_ in tensors):
        return "a value past the range saturates or wraps around to its other end"
    trained = any(role != "table" for _, role, *_ in tensors)  # the positional table is a fixed sinusoid
    return "a clipped value stops at the range" + (" (and gets no gradient in QAT)" if trained else "")


def _warning(set_by, tensors: list, holds: list | None, predict_delta: bool) -> str:
    """The warning of one key (``set_by``: (key, value); None: tensors no key the user wrote sets), its tensors
    grouped by type."""
    groups: dict = {}
    for layer, role, t, v, v0, (now, then) in tensors:
        groups.setdefault(t, []).append(_told(layer, role, v, now, then))
    entries = "; ".join(f"at {t.width} bits, integer {t.integer} ({t.min_value:.4g} .. {t.max_value:.4g} in steps of "
                        f"{t.lsb:.4g}): {', '.join(told)}" for t, told in groups.items())
    clips = any(c >= CLIPPED_WARNED for *_, both in tensors for c, _ in both)
    zeroes = any(z >= ZEROED_WARNED for *_, both in tensors for _, z in both)
    head = any(layer == "head" and role == "weight" and not np.any(quantize(v, t)) for layer, role, t, v, *_ in tensors)
    bias = "the head's bias added to the last value" if predict_delta else "the head's bias"
    effect = "; ".join(text for text, on in (
        (f"the head's weights are all 0, so the forecast is {bias} whatever the window", head),
        (_clip_effect(tensors), clips),
        ("a value rounded to 0 drops out of its sum", zeroes)) if on)
    if set_by is None:  # placed by integer: auto or a fixed default: its own key is the fix, where one is
        advice = []
        for layer, role, t, v, *_ in tensors:
            need, _ = _need(INTEGER_RANGE, t.integer, [(t, v)])
            finer = FixedType(t.width, need, t.signed, t.rounding) if need is not None else t
            key = f"quantization.layers.{layer}.{role}.integer"
            advice.append(f"give {key}: {need} (fewer integer bits, finer steps)" if shares(v, finer)[1] < 1 else
                          f"no {key} keeps {layer}.{role} from 0 at {t.width} bits (the finest step, at integer "
                          f"{finer.integer}, is {finer.lsb:.3g}): these values are too small for the format")
        return f"{entries}: {effect}; {'; '.join(advice)}"
    key, value = set_by
    need, hi = _need(KEY_RANGES.get(key, INTEGER_RANGE), value, holds)
    every = NOUNS[key] if key in KEY_RANGES else NOUNS[tensors[0][1]]
    verb = " and ".join(word for word, on in (("clips", clips), ("rounds to 0", zeroes)) if on) or "rounds to 0"
    if need == value:  # the key already holds its largest tensor: the small ones need their own, finer points
        own = []
        for layer, role, t, v, *_ in tensors:
            fine, _ = _need(INTEGER_RANGE, t.integer, [(t, v)])
            own.append(f"quantization.layers.{layer}.{role}.integer: {fine}" if fine is not None else
                       f"quantization.layers.{layer}.{role}.integer: auto")
        return (f"{key} = {value} (set in the configuration) {verb} the {every}: {entries}; {effect}; {value} is "
                f"what the largest of the {every} it sets need, so the small ones need their own binary point: give "
                f"{', '.join(own)}")
    advice = (f"give {key}: {need} (the fewest integer bits that hold all the {every} it sets) or "
              if need is not None else
              f"no {key} up to {hi} holds the {every} it sets at these widths: give them more bits, or ")
    advice += "leave it auto (a binary point for each tensor from its own values)" if key in KEY_RANGES else \
        "set it to auto (placed from the tensor's own values)"
    return f"{key} = {value} (set in the configuration) {verb} the {every}: {entries}; {effect}; {advice}"
