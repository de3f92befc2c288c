"""After the binary points and after QAT: which setting makes the quantized model forecast otherwise than the float
model, named by the key that takes effect, with a value the configuration check accepts.

A type's range is fixed before QAT from the training split (``integer: auto``) or by the user. Where the validation or
test values leave both it and the range the training values reached, every value past it saturates, and the quantized
model forecasts something else than the float model, however well both fit the training split (a trend that leaves the
training range is the usual cause). The build then reports bit-exact and the design is useless on that data, so it is
told with its consequence. Values past the type but inside the training range are the tails ``auto`` clips on purpose
(fine steps for the bulk cost less than the clipped tails): QAT trained with that clip, and it is not told.

A setting the user wrote is the first suspect: a range that clips the training windows themselves (``user_clips``, one
warning per key however many tensors it sets), a range that the validation or test values leave, a width that leaves
the values coarse. Each is named by the key the user wrote and its value as written; the automatic binary points that
saturate are told together, with every key to give at once. The window is measured per channel: the scaled changes
reach further than the target's level, so a level that leaves its own training range hides inside the pooled one.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..fixedpoint import FixedType, quantization_mse
from ..precision import _written
from .binary_points import covering, float_values, outside

SHARE_WARNED = 0.01  # share of a tensor's validation / test values past its range and the training range that is told
USER_CLIP_WARNED = 0.05  # share of a user-set tensor's training values outside its type that is told
FAR_WORSE = 4.0  # quantized MSE this many times the float model's, and above persistence's: told in any case
COARSE = 0.05  # rounding error (rms) of a tensor's training values, as a share of their spread, that is coarse
COARSE_NAMED = 2.0  # quantized MSE this many times the float model's: a coarse hand-set width is named as the cause
VERY_COARSE = 0.2  # rounding (rms) as a share of the spread that is named even beside a saturation that explains the error
SMALL_COST = 1.25  # quantized MSE at most this many times the float model's: the saturation is said to cost little


def beyond(values: np.ndarray, t: FixedType, train: np.ndarray) -> float:
    """Share of ``values`` outside the type's range and, on the same side, outside ``train``'s min .. max: the values
    that saturate where the training windows never went."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if not v.size:
        return 0.0
    lo, hi = min(t.min_value, float(np.min(train))), max(t.max_value, float(np.max(train)))
    return float(np.mean((v < lo) | (v > hi)))


def _own(layer: str) -> str:
    return f"quantization.layers.{layer}.output.integer"


def _placed_key(given, layer: str) -> str:
    """The key to write for a tensor ``integer: auto`` placed: the window's own section, else the tensor's override
    (``quantization.output`` sets the head and the delta together, from 1 integer bit up)."""
    spec = given.quantization.layers.get(layer)
    if layer == "input" and getattr(spec, "output", None) is None:
        return "quantization.input.integer"
    return _own(layer)


def _setting(given, layer: str, t: FixedType) -> tuple[str, object, int]:
    """The key that sets a tensor's output integer bits, its value as the configuration writes it, and the offset
    the tensor adds to it (ffn1's unsigned ReLU output takes act_integer - 1, the scores act_integer + 1): the
    tensor's own override, else the default it follows where that is a number, else its own override to write."""
    spec = given.quantization.layers.get(layer)
    own = getattr(spec, "output", None) if spec is not None else None
    if own is not None and own.integer not in (None, "auto"):
        return _own(layer), own.integer, 0
    q = given.quantization
    key, value = (("quantization.input.integer", q.input.integer) if layer == "input" else
                  ("quantization.output.integer", q.output.integer) if layer in ("head", "delta") else
                  ("quantization.act_integer", q.act_integer))
    if value == "auto":
        return _own(layer), t.integer, 0
    return key, value, t.integer - value


def edited(given, edits: dict) -> dict:
    """``given`` as a mapping with ``edits`` (dotted quantization key -> value) applied."""
    raw = given.model_dump(mode="json")
    for dotted, value in edits.items():
        *path, last = dotted.split(".")[1:]  # below quantization
        if path[:1] == ["layers"]:  # quantization.layers.<layer>.<role>: a layer name may hold a dot (enc0.q)
            path = ["layers", ".".join(path[1:-1]), path[-1]]
        node = raw["quantization"]
        for part in path:
            node[part] = node.get(part) or {}
            node = node[part]
        node[last] = value
    return raw


def refusal(given, edits: dict) -> str | None:
    """What the configuration check says of ``given`` with ``edits`` applied (``edited``); None when it accepts
    them: advice is only given in a form the check accepts."""
    from ..config import parse_config

    try:
        parse_config(edited(given, edits))
    except (ConfigError, ValueError) as exc:
        return str(exc).removeprefix("invalid configuration: ")
    return None


def _channel(given, k: int, n: int) -> str:
    """Words for input channel ``k`` of ``n`` (flow.data: the changes of each feature, then the target's level)."""
    d = given.data
    if d.inputs == "differences":
        if k == n - 1:
            return f"the level of {d.target}"
        if d.features and len(d.features) == n - 1:
            return f"the changes of {d.features[k]}"
    elif d.features and len(d.features) == n:
        return d.features[k]
    return f"input channel {k + 1} of {n}"


def _pieces(given, layer: str, values) -> list[tuple[str | None, np.ndarray]]:
    """A tensor's values as told: the window per channel (a level past its own training range hides inside the
    scaled changes' wider one), any other tensor whole."""
    v = np.asarray(values, dtype=np.float64)
    if layer == "input" and v.ndim == 3 and v.shape[2] > 1:
        return [(_channel(given, k, v.shape[2]), v[..., k].ravel()) for k in range(v.shape[2])]
    return [(None, v.ravel())]


def _what(layer: str, label: str | None) -> str:
    if layer == "input":
        return f"values of {label} in the scaled window" if label else "scaled window values"
    return f"{layer} values"


def _taken(key: str, value, offset: int, t: FixedType) -> str:
    """How a tensor's type takes its integer bits from a global key, where it is not the key's value itself."""
    if not offset:
        return f"integer {t.integer}"
    short = key.rsplit(".", 1)[1]
    return f"integer {short} {'+' if offset > 0 else '-'} {abs(offset)} = {t.integer}" + \
        ("" if t.signed else ", unsigned")


def _value_for(given, key: str, needs: list[int | None]) -> tuple[int | None, str | None]:
    """The one value of ``key`` that holds every value told (the largest each tensor needs), and the check's refusal
    of it (None: accepted); (None, None) when no integer bits at these widths hold them."""
    if any(n is None for n in needs):
        return None, None
    value = max(needs)
    return value, refusal(given, {key: value})


def _advice(key: str, value, refused, tail: str) -> str:
    if value is None:
        return f"no {key} holds them at these widths: leave it auto, or give the tensors more bits"
    if refused:
        return (f"{key}: {value} would hold them, but the configuration check refuses it ({refused}): leave it auto "
                f"(each tensor then gets its own binary point)")
    return f"give {key}: {value}{tail}"


def _clip_groups(given, types: dict, auto, train: dict) -> dict:
    """key -> (value as written, [(layer, label, type, values, share, offset)]): the activations (the window per
    channel) whose integer bits the user set (not in ``auto``) with ``USER_CLIP_WARNED`` or more of their training
    values outside the type, by the key that sets them, in forward order."""
    groups: dict = {}
    for layer, roles in types.items():
        t = roles.get("output")
        if (t is None or (layer, "output") in auto or layer in ("head", "delta") or layer.endswith("softmax")
                or (layer, "output") not in train):
            continue
        for label, v in _pieces(given, layer, train[(layer, "output")]):
            share = outside(v, t)
            if share >= USER_CLIP_WARNED:
                key, value, offset = _setting(given, layer, t)
                groups.setdefault(key, (value, []))[1].append((layer, label, t, v, share, offset))
    return groups


def _clip_value(given, key, found) -> tuple[int | None, str | None]:
    return _value_for(given, key, [None if (n := covering(t, v)) is None else n - off for _, _, t, v, _, off in found])


def user_clips(given, prec, train: dict) -> list[str]:
    """One warning per key the user set (integer bits of activations, the window included, not in ``prec.auto``)
    whose tensors have ``USER_CLIP_WARNED`` or more of their float values on the training windows (``train``:
    ``float_values``) outside their types: the key and its value as written, each tensor it clips, and the one
    value of the key that holds them all. The forecast types are ``output_saturation``'s."""
    out = []
    for key, (value, found) in _clip_groups(given, prec.types, prec.auto, train).items():
        need, refused = _clip_value(given, key, found)
        effect = "saturate" if all(t.overflow == "sat" for _, _, t, _, _, _ in found) else "saturate or wrap around"
        if len(found) == 1:
            layer, label, t, v, share, offset = found[0]
            said = (f"{share_text(share)} of the training {_what(layer, label)} are outside {t.min_value:.4g} .. "
                    f"{t.max_value:.4g} ({t.width} bits, {_taken(key, value, offset, t)}; they reach {v.min():.3g} .. "
                    f"{v.max():.3g}) and {effect} on every split, the training windows included")
            tail = ""
        else:
            by_type: dict = {}  # the tensors of one type told after it once
            for layer, label, t, v, share, offset in found:
                by_type.setdefault((t, offset), []).append(
                    f"{layer if label is None else label} {share_text(share)} (they reach {v.min():.3g} .. {v.max():.3g})")
            each = "; ".join(f"outside {t.min_value:.4g} .. {t.max_value:.4g} ({t.width} bits, "
                             f"{_taken(key, value, offset, t)}): {', '.join(told)}" for (t, offset), told in by_type.items())
            said = (f"the training values of {len(found)} tensors it sets are outside their types and {effect} on "
                    f"every split, the training windows included: {each}")
            tail = " (it holds every one's training values)"
        out.append(f"{key} = {value} (set in the configuration): {said}; "
                   f"{_advice(key, need, refused, tail)}{'' if need is None or refused else ' or leave it auto'}")
    return out


def saturated(cfg, prec, float_model, ds, splits, train: dict | None = None) -> list[dict]:
    """The activation tensors (the window per channel) whose float values on a validation or test split are outside
    both their type's range and the training values' range (``beyond``) for ``SHARE_WARNED`` of them or more, in
    forward order; each with its worst split. ``train``: the training windows' ``float_values`` if already taken."""
    train = float_values(cfg, float_model, ds.train.x) if train is None else train
    found: dict = {}
    for name in splits:
        if name == "train":
            continue
        values = float_values(cfg, float_model, getattr(ds, name).x)
        for (layer, role), v in values.items():
            t = prec.types.get(layer, {}).get(role)
            if role != "output" or t is None or layer.endswith("softmax"):  # probabilities: 0..1 by construction
                continue
            for (label, piece), (_, seen) in zip(_pieces(cfg, layer, v), _pieces(cfg, layer, train[(layer, role)])):
                share = beyond(piece, t, seen)
                old = found.get((layer, label))
                if share >= SHARE_WARNED and (old is None or share > old["share"]):
                    found[(layer, label)] = {"layer": layer, "label": label, "split": name, "share": share,
                                             "train_share": outside(seen, t), "type": t, "values": piece,
                                             "train_values": seen}
    order = list(prec.types)
    return sorted(found.values(), key=lambda f: order.index(f["layer"]))


def share_text(share: float) -> str:
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


def _cost(metrics: dict, name: str) -> str:
    """The errors, with what the saturation can cost at most where the quantized model is near the float model."""
    q, f = metrics[name]["mse"], metrics["float"][name]["mse"]
    if q <= f:
        return f"{_errors(metrics, name)}, no more: the saturation costs nothing measurable on this split"
    if q <= SMALL_COST * f:
        return f"{_errors(metrics, name)}, {q / f:.3g} times: the saturation costs at most that"
    return _errors(metrics, name)


def _sentence(f: dict, where: str) -> str:
    """One tensor's saturation: its share, type, training range and the values it meets."""
    t, v, tv = f["type"], f["values"], f["train_values"]
    what = f"values of {f['label']} in the scaled window" if f["label"] else \
        "input values (the scaled windows)" if f["layer"] == "input" else f"{f['layer']} values"
    return (f"on the {f['split']} split {share_text(f['share'])} of the {what} are outside the range "
            f"{t.min_value:.4g} .. {t.max_value:.4g} of {f['layer']}'s type ({t.width} bits, integer {t.integer}, "
            f"{where}, {share_text(f['train_share'])} of the training windows' outside) and past the "
            f"{tv.min():.3g} .. {tv.max():.3g} the training windows reach, and "
            f"{'saturate' if t.overflow == 'sat' else 'wrap around'}: they reach "
            f"{v.min():.3g} .. {v.max():.3g}")


def _others(found: list[dict]) -> str:
    return "; ".join(f"{f['label'] or f['layer']} {share_text(f['share'])} on {f['split']}" for f in found)


def _need(f: dict, offset: int = 0) -> int | None:
    """The integer bits of the key that hold a tensor's split values and its training windows' both."""
    n = covering(f["type"], np.concatenate([f["values"], f["train_values"]]))
    return None if n is None else n - offset


def _left(given, ds, splits, shown: set) -> str:
    """The window's channels that leave their own training range on a split (``SHARE_WARNED`` or more of their
    values), not already told: the data, not the types, is then what moved."""
    x = getattr(ds.train, "x", None)
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        return ""
    said = []
    for k in range(x.shape[2]):
        label = _channel(given, k, x.shape[2])
        if label in shown:
            continue
        lo, hi = float(x[..., k].min()), float(x[..., k].max())
        worst = max(((float(np.mean((v < lo) | (v > hi))), name, v) for name in splits if name != "train"
                     for v in [getattr(ds, name).x[..., k]]), key=lambda w: w[0], default=None)
        if worst and worst[0] >= SHARE_WARNED:
            share, name, v = worst
            said.append(f"{label} (an input channel) leaves its training range {lo:.3g} .. {hi:.3g} on the {name} "
                        f"split for {share_text(share)} of its values, which reach {v.min():.3g} .. {v.max():.3g}")
    return "; the data moved: " + "; ".join(said) if said else ""


def _tell_set(given, found: list[dict], told: dict, metrics, note) -> None:
    """One warning per key the user set whose tensors saturate on a split past the training range, unless
    ``user_clips`` told the key before QAT of these very tensors (``told``: key -> (value advised, (layer, label)
    told)) with a value that holds these values too."""
    groups: dict = {}
    for f in found:
        key, value, offset = _setting(given, f["layer"], f["type"])
        groups.setdefault(key, (value, []))[1].append((f, offset))
    for key, (value, group) in groups.items():
        need, refused = _value_for(given, key, [_need(f, off) for f, off in group])
        said, pieces = told.get(key, (None, set()))
        if said is not None and need is not None and said >= need and \
                {(f["layer"], f["label"]) for f, _ in group} <= pieces:
            continue  # these very tensors said before QAT, with a value that holds these values too
        first, offset = group[0]
        text = _sentence(first, "set in the configuration")
        takes = f"; {first['layer']} takes {_taken(key, value, offset, first['type'])}" if offset else ""
        text = f"{key} = {value}{takes}: {text}"
        also = f"; also {_others([f for f, _ in group[1:]])}" if len(group) > 1 else ""
        tail = " (a range that holds the {0} values and the training windows')".format(first["split"])
        advice = _advice(key, need, refused, tail)
        note(f"warning: {text}{also}; {_cost(metrics, first['split'])}; {advice}"
             f"{'' if need is None or refused else ', or leave it auto'}")


def _tell_placed(given, found: list[dict], ds, splits, metrics, note, shown: set) -> None:
    """One warning for every tensor whose binary point ``integer: auto`` placed and that saturates on a split:
    the first in forward order told in full, the others listed, and all their keys given at once (each is
    independent of the others: widening one leaves the next saturating)."""
    first = found[0]
    give: dict = {}  # the window's channels share one key: the widest need
    for f in found:
        key, n = _placed_key(given, f["layer"]), _need(f)
        give[key] = None if n is None or (key in give and give[key] is None) else max(n, give.get(key, n))
    refused = {key: "no integer bits at this width hold them" if n is None else refusal(given, {key: n})
               for key, n in give.items()}
    ok = {key: n for key, n in give.items() if not refused[key]}
    if ok and (joint := refusal(given, ok)):  # each accepted alone, refused together: none given
        refused |= {key: joint for key in ok}
        ok = {}
    name = first["split"]
    fix = ", ".join(f"{key}: {n}" for key, n in ok.items())
    advice = (f"give {fix} ({'a range' if len(ok) == 1 else 'ranges'} that hold{'s' if len(ok) == 1 else ''} the "
              f"{name} values and the training windows'), or a data.split whose training rows cover the range the "
              f"model will see" if ok else "give the tensors more bits, or a data.split whose training rows cover "
                                           "the range the model will see")
    advice += "".join(f"; no {key} holds them at this width" if give[key] is None else
                      f"; {key}: {give[key]} would hold them, but the configuration check refuses it ({why})"
                      for key, why in refused.items() if why)
    others = _others(found[1:4]) + (f" ({len(found) - 4} more)" if len(found) > 4 else "")
    also = f"; downstream also {others}" if others else ""
    note(f"warning: {_sentence(first, 'placed for the training windows')}{also}{_left(given, ds, splits, shown)}; "
         f"{_cost(metrics, name)}; {advice}")


def _rounding(v: np.ndarray, t: FixedType) -> float:
    """The rms rounding error of the values inside the type's range (the clipped ones are the range's matter)."""
    inside = v[(v >= t.min_value) & (v <= t.max_value)]
    return float(np.sqrt(quantization_mse(inside, t))) if inside.size else 0.0


def _finer(v: np.ndarray, t: FixedType, spread: float) -> int | None:
    """The fewest bits, at the same integer bits, that round the values by less than ``COARSE`` of their spread."""
    for width in range(t.width + 1, 17):
        if _rounding(v, FixedType(width, t.integer, t.signed, t.rounding, t.overflow)) < COARSE * spread:
            return width
    return None


def _coarse(given, types: dict, train: dict) -> list[tuple]:
    """(key, value, layer, role, type, rms, spread, bits): the widths the user wrote whose tensors' training values
    the type rounds by ``COARSE`` of their spread or more (rms, the clipped values aside), with the worst tensor of
    each key and the width that rounds it finely enough."""
    layers = given.quantization.layers
    written = _written(given)

    def own_bits(layer, role):
        return getattr(getattr(layers.get(layer), role, None), "bits", None) is not None

    sets: dict = {}
    for (layer, role), v in train.items():
        if layer not in types or role not in types[layer] or layer.endswith("softmax") or role in ("bias", "shift"):
            continue
        if own_bits(layer, role):
            key = f"quantization.layers.{layer}.{role}.bits"
        elif layer == "input":
            key = "quantization.input.bits"
        elif layer in ("head", "delta") and role == "output":
            key = "quantization.output.bits"
        else:
            key = "quantization.bits"
        if key.startswith("quantization.layers.") or key in written:
            sets.setdefault(key, []).append((layer, role, v))
    out = []
    for key, tensors in sets.items():
        worst = None
        for layer, role, v in tensors:
            v = np.asarray(v, dtype=np.float64).ravel()
            spread = float(np.std(v)) if v.size else 0.0
            if spread <= 0:
                continue
            t = types[layer][role]
            rms = _rounding(v, t)
            if rms >= COARSE * spread and (worst is None or rms / spread > worst[5] / worst[6]):
                worst = (key, written.get(key, t.width), layer, role, t, rms, spread, _finer(v, t, spread))
        if worst:
            out.append(worst)
    return out


def _width_defaults() -> dict:
    from ..config import QuantConfig

    d = QuantConfig()
    return {"quantization.input.bits": d.input.bits, "quantization.output.bits": d.output.bits,
            "quantization.bits": d.bits}


def _tell_coarse(given, coarse: list[tuple], metrics: dict, name: str, note) -> None:
    """One warning per coarse hand-set width, with the error it goes with and the width to give."""
    q, f = metrics[name]["mse"], metrics["float"][name]["mse"]
    base = metrics.get("baselines", {}).get(name, {}).get("persistence")
    worse = " and worse than repeating the last value" if base and q > base["mse"] else ""
    for key, value, layer, role, t, rms, spread, bits in coarse:
        default = _width_defaults().get(key)
        what = "the scaled window" if layer == "input" else f"{layer}.{role}"
        level = (" (the delta head adds the window's last level back in these steps)"
                 if layer == "input" and given.model.predict_delta else "")
        if default is not None and default >= (bits or 17) and refusal(given, {key: default}) is None:
            advice = f"give {key}: {default} (the default) or leave it out"
        elif bits is not None and (refused := refusal(given, {key: bits})) is None:
            advice = f"give {key}: {bits} (rounds them by less than {COARSE:.0%} of their spread)"
        else:
            advice = f"give {key} more bits" + (f" ({bits} bits: {refused})" if bits is not None else "")
        note(f"warning: {key} = {value} (set in the configuration) holds {what} in steps of {t.lsb:.4g} ({t.width} "
             f"bits, integer {t.integer}){level}: rounding alone moves its training values by {rms:.3g} (rms), "
             f"{rms / spread:.0%} of their spread; {_errors(metrics, name)}, {q / f:.3g} times the float model's "
             f"error{worse}; {advice}")


def tell_saturation(given, prec, float_model, ds, splits, metrics: dict, note, auto=None, already=frozenset()) -> bool:
    """Warn about what makes the quantized model differ from the float model on a validation or test split, the
    settings the user wrote first: their ranges the split's values leave (one warning per key), their widths that
    leave the values coarse where the quantized model is ``COARSE_NAMED`` times the float model's error, then the
    tensors ``integer: auto`` placed that saturate (one warning). True if it warned. ``given``: the configuration
    as the user wrote it (the keys to name); ``metrics``: the quantized errors with ``metrics["float"]``;
    ``auto``: the (layer, role) whose integer bits ``integer: auto`` placed (None: all); ``already``: the layers whose
    hand-set range a warning before QAT named (the forecast types, ``output_saturation``), not told again. A width
    is named beside a saturation (which explains a far worse model by itself) only where it rounds by
    ``VERY_COARSE`` of the spread, and a width the user wrote at its default or wider never."""
    train = float_values(given, float_model, ds.train.x)
    found = saturated(given, prec, float_model, ds, splits, train=train)
    placed = [f for f in found if auto is None or (f["layer"], "output") in auto]
    set_ = [f for f in found if f not in placed and f["layer"] not in already]
    if set_:
        told = {key: (_clip_value(given, key, group)[0], {(layer, label) for layer, label, *_ in group})
                for key, (_, group) in _clip_groups(given, prec.types, auto, train).items()}
        _tell_set(given, set_, told, metrics, note)
    measured = [n for n in splits if n != "train" and n in metrics]
    worst = max(measured, key=lambda n: metrics[n]["mse"] / metrics["float"][n]["mse"], default=None)
    coarse = []
    if worst and metrics[worst]["mse"] >= COARSE_NAMED * metrics["float"][worst]["mse"]:
        defaults = _width_defaults()
        coarse = [c for c in _coarse(given, prec.types, train)
                  if (c[0] not in defaults or c[1] < defaults[c[0]])
                  and (not (found or already) or c[5] >= VERY_COARSE * c[6])]
        _tell_coarse(given, coarse, metrics, worst, note)
    if placed:
        _tell_placed(given, placed, ds, splits, metrics, note, {f["label"] for f in found if f["label"]})
    return bool(found or coarse)


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


def wrap_fix(cfg) -> str:
    """The keys that make every wrapping type saturate: a per-layer ``overflow: wrap`` overrides
    ``quantization.overflow``, so it is named itself (the global key alone would change nothing)."""
    q = cfg.quantization
    keys = [f"quantization.layers.{layer}.{role}.overflow: sat" for layer, spec in q.layers.items()
            for role in ("weight", "bias", "output", "scale", "shift", "table")
            if getattr(getattr(spec, role, None), "overflow", None) == "wrap"]
    if q.overflow == "wrap":
        keys.insert(0, "quantization.overflow: sat")
    return f"set {' and '.join(keys)}" if keys else "set quantization.overflow: sat"
