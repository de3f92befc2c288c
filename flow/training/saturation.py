"""After QAT: what the binary points, placed on the training windows, do to the validation and test windows.

A type's range is fixed before QAT from the training split (``integer: auto``) or by the user. Where the validation or
test values leave both it and the range the training values reached, every value past it saturates, and the quantized
model forecasts something else than the float model, however well both fit the training split (a trend that leaves the
training range is the usual cause). The build then reports bit-exact and the design is useless on that data, so it is
told with its consequence. Values past the type but inside the training range are the tails ``auto`` clips on purpose
(fine steps for the bulk cost less than the clipped tails): QAT trained with that clip, and it is not told.

A range the user set is told when it clips the training windows themselves (``user_clips``): nothing learnt from them
can then undo it, and the far-worse warning names that setting rather than the automatic binary points.
"""
from __future__ import annotations

import numpy as np

from ..fixedpoint import FixedType
from .binary_points import INTEGER_RANGE, covering, float_values, outside

SHARE_WARNED = 0.01  # share of a tensor's validation / test values past its range and the training range that is told
USER_CLIP_WARNED = 0.05  # share of a user-set tensor's training values outside its type that is told
FAR_WORSE = 4.0  # quantized MSE this many times the float model's, and above persistence's: told in any case


def beyond(values: np.ndarray, t: FixedType, train: np.ndarray) -> float:
    """Share of ``values`` outside the type's range and, on the same side, outside ``train``'s min .. max: the values
    that saturate where the training windows never went."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if not v.size:
        return 0.0
    lo, hi = min(t.min_value, float(np.min(train))), max(t.max_value, float(np.max(train)))
    return float(np.mean((v < lo) | (v > hi)))


def _key(given, layer: str) -> str:
    """The key that sets a tensor's output integer bits: the user's override where there is one, else the setting
    the tensor follows (quantization.input / output), else its override to write."""
    spec = given.quantization.layers.get(layer)
    if spec is not None and getattr(spec, "output", None) is not None and spec.output.integer is not None:
        return f"quantization.layers.{layer}.output.integer"
    if layer == "input":
        return "quantization.input.integer"
    if layer in ("head", "delta"):
        return "quantization.output.integer"
    return f"quantization.layers.{layer}.output.integer"


def _set_by(given, layer: str) -> str:
    """The key the user wrote that sets a tensor's output integer bits (its override, else the default it follows)."""
    spec = given.quantization.layers.get(layer)
    if spec is not None and getattr(spec, "output", None) is not None and spec.output.integer is not None:
        return f"quantization.layers.{layer}.output.integer"
    return "quantization.input.integer" if layer == "input" else "quantization.act_integer"


def user_clips(given, prec, train: dict) -> list[str]:
    """The activations (the window included) whose integer bits the user set (not in ``prec.auto``) and whose float
    values on the training windows (``train``: ``float_values``) are outside the type for ``USER_CLIP_WARNED`` of them
    or more, each told with its key, in forward order. The forecast types are ``output_saturation``'s."""
    out = []
    for layer, roles in prec.types.items():
        t = roles.get("output")
        if (t is None or (layer, "output") in prec.auto or layer in ("head", "delta") or layer.endswith("softmax")
                or (layer, "output") not in train):
            continue
        v = np.asarray(train[(layer, "output")], dtype=np.float64).ravel()
        share = outside(v, t)
        if share >= USER_CLIP_WARNED:
            key = _set_by(given, layer)
            need = covering(t, v)
            what = "scaled window values" if layer == "input" else f"{layer} values"
            out.append(f"{key} = {t.integer} (set in the configuration): {_share(share)} of the training {what} are "
                       f"outside {t.min_value:.4g} .. {t.max_value:.4g} ({t.width} bits, integer {t.integer}; they "
                       f"reach {v.min():.3g} .. {v.max():.3g}) and saturate on every split, the training windows "
                       f"included; give {key}: {need if need is not None else INTEGER_RANGE[1]} or leave it auto")
    return out


def saturated(cfg, prec, float_model, ds, splits) -> list[dict]:
    """The activation tensors (the window included) whose float values on a validation or test split are outside
    both their type's range and the training values' range (``beyond``) for ``SHARE_WARNED`` of them or more, in
    forward order; each with its worst split."""
    train = float_values(cfg, float_model, ds.train.x)
    found = []
    for name in splits:
        if name == "train":
            continue
        values = float_values(cfg, float_model, getattr(ds, name).x)
        for (layer, role), v in values.items():
            t = prec.types.get(layer, {}).get(role)
            if role != "output" or t is None or layer.endswith("softmax"):  # probabilities: 0..1 by construction
                continue
            share, seen = beyond(v, t, train[(layer, role)]), outside(train[(layer, role)], t)
            if share >= SHARE_WARNED:
                old = next((f for f in found if f["layer"] == layer), None)
                if old is None or share > old["share"]:
                    entry = {"layer": layer, "split": name, "share": share, "train_share": seen, "type": t,
                             "values": np.asarray(v, dtype=np.float64).ravel(),
                             "train_values": np.asarray(train[(layer, role)], dtype=np.float64).ravel()}
                    found = [entry if f is old else f for f in found] if old is not None else found + [entry]
    order = list(prec.types)
    return sorted(found, key=lambda f: order.index(f["layer"]))


def _share(share: float) -> str:
    """A share of values as a percentage that never reads 0.0% for some values (nor 100.0% for not all)."""
    if 0 < share < 0.0005:
        return "under 0.05%"
    if 0.9995 < share < 1:
        return "over 99.95%"
    return f"{share:.1%}"


def _errors(metrics: dict, name: str) -> str:
    q, f = metrics[name]["mse"], metrics["float"][name]["mse"]
    base = metrics.get("baselines", {}).get(name, {}).get("persistence")
    return (f"the quantized model's {name} MSE is {q:.4g} against the float model's {f:.4g}"
            + (f" (persistence {base['mse']:.4g})" if base else ""))


def tell_saturation(given, prec, float_model, ds, splits, metrics: dict, note, auto=None) -> bool:
    """Warn about the tensors ``saturated`` finds; True if it warned. ``given``: the configuration as the user wrote
    it (the keys to name); ``metrics``: the quantized errors with ``metrics["float"]``; ``auto``: the (layer, role)
    whose integer bits ``integer: auto`` placed (None: all), the others set in the configuration."""
    found = saturated(given, prec, float_model, ds, splits)
    if not found:
        return False
    first = found[0]
    t, v, tv = first["type"], first["values"], first["train_values"]
    what = "input values (the scaled windows)" if first["layer"] == "input" else f"{first['layer']} values"
    others = "; ".join(f"{f['layer']} {_share(f['share'])} on {f['split']}" for f in found[1:4])
    more = f" ({len(found) - 4} more)" if len(found) > 4 else ""
    key = _key(given, first["layer"])
    need = covering(t, np.concatenate([v, tv]))  # the split's values and the training windows' both
    fix = f"{key}: {need}" if need is not None else key
    also = f"; downstream also {others}{more}" if others else ""
    name = first["split"]
    placed = auto is None or (first["layer"], "output") in auto
    where = "placed for the training windows" if placed else "set in the configuration"
    advice = (f"give {fix} (a range that holds the {name} values and the training windows'), or a data.split whose "
              f"training rows cover the range the model will see" if placed else
              f"give {fix} (a range that holds the {name} values and the training windows'), or leave it auto")
    note(f"warning: on the {name} split {_share(first['share'])} of the {what} are outside the range "
         f"{t.min_value:.4g} .. {t.max_value:.4g} of {first['layer']}'s type ({t.width} bits, integer {t.integer}, "
         f"{where}, {_share(first['train_share'])} of the training windows' outside) and past the "
         f"{tv.min():.3g} .. {tv.max():.3g} the training windows reach, and saturate: they reach "
         f"{v.min():.3g} .. {v.max():.3g}{also}; {_errors(metrics, name)}; {advice}")
    return True


def tell_far_worse(metrics: dict, splits, note, clips=()) -> None:
    """Warn when the quantized model is ``FAR_WORSE`` times the float model and worse than persistence on a split:
    whatever the cause, the quantized design is then worse than forecasting the last value. ``clips``: the
    ``user_clips`` found, named first as the likely cause."""
    for name in splits:
        base = metrics.get("baselines", {}).get(name, {}).get("persistence")
        q, f = metrics[name]["mse"], metrics["float"][name]["mse"]
        if base and q >= FAR_WORSE * f and q > base["mse"]:
            keys = [c.split(" (set in", 1)[0] for c in clips]
            cause = (f"{' and '.join(keys)}, set in the configuration, clip{'s' if len(keys) == 1 else ''} the "
                     f"training windows too (told above): widen {'it' if len(keys) == 1 else 'them'} or leave "
                     f"{'it' if len(keys) == 1 else 'them'} auto; else see" if keys else "see")
            note(f"warning: {_errors(metrics, name)}: the quantized model is {q / f:.3g} times the float model's error "
                 f"and worse than repeating the last value; {cause} the binary points above (tsflow train prints them) "
                 f"and give the tensors more bits (quantization.bits, quantization.layers) or more integer bits")
            return
