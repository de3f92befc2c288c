"""Per-layer fixed-point types resolved from the quantization section (mixed precision lives here).

Every tensor that crosses a layer boundary, every weight, bias, table and norm constant gets a
``FixedType``.  Defaults follow the global ``bits``; ``quantization.layers.<name>.<role>``
overrides any of them.  The Keras builder, the reference forward and the HLS writer all read the
same ``Precisions`` object.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConfigError, shown_key
from .fixedpoint import FixedType
from .tables import SoftmaxSpec, default_index_frac

DENSE_ROLES = ("weight", "bias", "output")
# roles of each layer kind; "table" is the positional ROM or the softmax exp table
KIND_ROLES = {
    "input": ("output",),
    "dense": DENSE_ROLES,
    "pos": ("table", "output"),
    "act": ("output",),
    "softmax": ("table", "output"),
    "norm": ("scale", "shift", "output"),
}

# TensorSpec fields a role's type carries but its values never go through (flow.tables.softmax_int): set by a user,
# they would be accepted and do nothing, so they are refused with the reason
IGNORED_FIELDS = {
    ("softmax", "table"): {
        "rounding": "the exp table's entries are rounded half to even when the table is made (flow.tables.exp_table), "
                    "whatever this says",
        "overflow": "the exp table's entries never overflow (each is at most exp(0) = 1, which integer >= 1 holds)",
    },
    ("softmax", "output"): {
        "rounding": "each probability is the quotient e / sum rounded to nearest (flow.tables.softmax_int), whatever "
                    "this says",
        "overflow": "each probability is saturated at the type's largest value (flow.tables.softmax_int), whatever "
                    "this says",
    },
}

# integer bits an ``auto`` tensor has until its point is chosen (flow.training.binary_points, after float training):
# what the estimate of an untrained configuration prices
PRIOR_INTEGER = {"weight": 1, "act": 3, "input": 4, "output": 6}


@dataclass(frozen=True)
class Precisions:
    """Resolved types: ``types[layer][role] -> FixedType`` and the layer kinds in model order; ``auto``:
    the (layer, role) whose integer bits are ``auto`` (their types hold ``PRIOR_INTEGER`` until chosen)."""

    types: dict
    kinds: dict
    softmax: dict  # encoder index -> SoftmaxSpec
    auto: frozenset = frozenset()

    def __getitem__(self, layer: str) -> dict:
        return self.types[layer]

    def summary(self) -> dict:
        return {name: {role: t.describe() for role, t in roles.items()} for name, roles in self.types.items()}


def layer_kinds(cfg) -> dict[str, str]:
    """Layer name -> kind, in forward order, for the configured model shape."""
    kinds = {"input": "input", "embed": "dense", "pos": "pos"}
    for i in range(cfg.model.layers):
        p = f"enc{i}."
        kinds.update({p + "q": "dense", p + "k": "dense", p + "v": "dense", p + "scores": "act",
                      p + "softmax": "softmax", p + "context": "act", p + "o": "dense",
                      p + "add1": "act", p + "norm1": "norm", p + "ffn1": "dense", p + "ffn2": "dense",
                      p + "add2": "act", p + "norm2": "norm"})
    if cfg.model.head != "flatten":  # the flatten head reads every token: no mean
        kinds["pool"] = "act"
    kinds["head"] = "dense"
    if cfg.model.predict_delta:
        kinds["delta"] = "act"
    return kinds


def probability_bits(bits: int, tokens: int) -> int:
    """Default width of the attention probabilities: ``bits``, but never fewer fraction bits than hold
    1/tokens in 8 steps (ceil(log2 tokens) + 3). A row of near-equal probabilities narrower than that
    rounds mostly to 0 or one step; on every series measured it was the tensor whose rounding alone
    cost the most (docs/numerics.md)."""
    return max(bits, math.ceil(math.log2(tokens)) + 3)


def _integer(value, source: str) -> int:
    return PRIOR_INTEGER[source] if value == "auto" else value


def _auto_sources(cfg) -> set[str]:
    """Which default integer settings are ``auto``: weight, act, input, output."""
    q = cfg.quantization
    found = {"weight": q.weight_integer, "act": q.act_integer, "input": q.input.integer, "output": q.output.integer}
    return {source for source, value in found.items() if value == "auto"}


def _source(name: str, kind: str, role: str) -> str | None:
    """The default integer setting a tensor's type follows (None: fixed by the contract)."""
    if kind == "input":
        return "input"
    if role == "output" and name in ("head", "delta"):
        return "output"
    if kind == "softmax" or (kind == "pos" and role == "table"):
        return None
    return "weight" if role in ("weight", "scale") else "act"


def _defaults(cfg, name: str, kind: str) -> dict[str, FixedType]:
    q = cfg.quantization
    b, wi, ai = q.bits, _integer(q.weight_integer, "weight"), _integer(q.act_integer, "act")
    mode = {"rounding": q.rounding, "overflow": q.overflow}
    io_in = FixedType(q.input.bits, _integer(q.input.integer, "input"), True, **mode)
    io_out = FixedType(q.output.bits, _integer(q.output.integer, "output"), True, **mode)
    act = FixedType(b, ai, True, **mode)
    if kind == "input":
        return {"output": io_in}
    if kind == "dense":
        out = act
        if name.endswith("ffn1"):  # ReLU output: unsigned, same range, one more fraction bit
            out = FixedType(b, ai - 1, False, **mode)
        if name == "head":
            out = io_out
        return {"weight": FixedType(b, wi, True, **mode), "bias": FixedType(2 * b, ai, True, **mode), "output": out}
    if kind == "pos":
        return {"table": FixedType(b, 2, True, **mode), "output": act}
    if kind == "softmax":
        exp_bits = q.softmax.exp_bits or b
        prob_bits = q.softmax.prob_bits or probability_bits(b, cfg.tokens)
        return {"table": FixedType(exp_bits, 1, False, **mode), "output": FixedType(prob_bits, 0, False, **mode)}
    if kind == "norm":
        return {"scale": FixedType(b, wi + 1, True, **mode), "shift": FixedType(2 * b, ai, True, **mode), "output": act}
    if name.endswith("scores"):
        return {"output": FixedType(b, ai + 1, True, **mode)}
    if name == "delta":
        return {"output": io_out}
    return {"output": act}


def _default_keys(name: str, kind: str, role: str) -> str:
    """The quantization keys ``_defaults`` builds a tensor's type from, for messages."""
    if kind == "input":
        return "quantization.input.bits and quantization.input.integer"
    if role == "output" and name in ("head", "delta"):
        return "quantization.output.bits and quantization.output.integer"
    if kind == "softmax":
        if role == "table":
            return "quantization.softmax.exp_bits (or quantization.bits)"
        return ("quantization.softmax.prob_bits (or quantization.bits and the tokens: data.window, or its patches with "
                "model.patch; flow.precision.probability_bits)")
    if kind == "pos" and role == "table":
        return "quantization.bits"
    width = "quantization.bits" + (" (twice it)" if role in ("bias", "shift") else "")
    integer = "quantization.weight_integer" if role in ("weight", "scale") else "quantization.act_integer"
    return f"{width} and {integer}"


# what a default type takes of its integer setting, where it is not the setting itself: (kind, role) -> (words, offset)
_DERIVED = {("norm", "scale"): ("the LayerNorm scales", 1), ("act", "scores"): ("the attention scores", 1),
            ("dense", "ffn1"): ("the ReLU outputs of the FFN (unsigned)", -1)}
_SETTINGS = {"weight": ("quantization.weight_integer", "quantization.bits", (-4, 8)),
             "act": ("quantization.act_integer", "quantization.bits", (-4, 10)),
             "input": ("quantization.input.integer", "quantization.input.bits", (1, 16)),
             "output": ("quantization.output.integer", "quantization.output.bits", (1, 16))}


def _setting_message(cfg, kinds: dict, name: str, kind: str, role: str, t: FixedType) -> str | None:
    """A default type left with fewer than 0 or more than 30 fraction bits by an integer setting (weight_integer,
    act_integer, input / output integer): the setting, what this tensor takes of it (the norm scales one integer
    bit more), and the range of the setting that every tensor following it allows at these widths."""
    source = _source(name, kind, role)
    if source is None or source not in _SETTINGS:
        return None
    key, width_key, (lo, hi) = _SETTINGS[source]
    q = cfg.quantization
    value = {"weight": q.weight_integer, "act": q.act_integer, "input": q.input.integer, "output": q.output.integer}[
        source]
    if value == "auto":
        return None
    overrides = cfg.quantization.layers
    for other, other_kind in kinds.items():  # the setting's range: every default type that follows it
        ov = overrides.get(other)
        for r, d in _defaults(cfg, other, other_kind).items():
            if _source(other, other_kind, r) != source or (ov is not None and getattr(ov, r) is not None):
                continue
            offset = d.integer - value
            lo, hi = max(lo, d.width - 30 - offset), min(hi, d.width - offset)
    offset = t.integer - value
    short = key.rsplit(".", 1)[1]
    derived = next((words for (k, part), (words, off) in _DERIVED.items()
                    if k == kind and off == offset and (part == role or name.endswith(part))), None)
    their = "their" if derived and offset else "its"
    takes = (f"{derived} ({name}.{role}, ...) take {short} {'+' if offset > 0 else '-'} {abs(offset)} = {t.integer} "
             f"integer bits" if derived and offset else f"quantization.layers.{name}.{role} takes {t.integer} integer "
                                                        f"bits")
    room = (f"more than {their} {t.width} bits" if t.frac < 0
            else f"leaving {t.frac} fraction bits of {their} {t.width}, more than the 30 a type may have")
    width = q.bits if width_key == "quantization.bits" else t.width
    allowed = (f"{key} from {lo} to {hi} at {width} bits" if lo <= hi
               else f"no {key} at {width_key} = {width}: change {width_key}")
    return (f"invalid configuration: {key} = {value} with {width_key} = {width}: {takes}, {room}; allowed: "
            f"{allowed}, or set quantization.layers.{name}.{role}.integer")


def _apply(base: FixedType, spec) -> FixedType:
    if spec is None:
        return base
    return FixedType(
        width=spec.bits if spec.bits is not None else base.width,
        integer=spec.integer if spec.integer not in (None, "auto") else base.integer,
        signed=base.signed,
        rounding=spec.rounding or base.rounding,
        overflow=spec.overflow or base.overflow,
    )


def _section_keys(cfg, name: str, kind: str, role: str) -> dict[str, str]:
    """The section keys a tensor's default type takes each field from: TensorSpec field -> quantization key (the
    keys ``_defaults`` reads; a softmax's width follows exp_bits / prob_bits where they are set, else bits)."""
    q = cfg.quantization
    if kind == "input":
        width = "quantization.input.bits"
    elif role == "output" and name in ("head", "delta"):
        width = "quantization.output.bits"
    elif kind == "softmax":
        own = "quantization.softmax." + ("exp_bits" if role == "table" else "prob_bits")
        width = own if getattr(q.softmax, own.rsplit(".", 1)[1]) is not None else "quantization.bits"
    else:
        width = "quantization.bits"
    source = _source(name, kind, role)
    keys = {"bits": width}
    if source is not None:
        keys["integer"] = _SETTINGS[source][0]
    for field in ("rounding", "overflow"):
        if field not in IGNORED_FIELDS.get((kind, role), {}):
            keys[field] = f"quantization.{field}"
    return keys


def _written(cfg) -> dict:
    """The quantization keys the user wrote (dotted) -> value; none for a configuration tsflow dumped (every key
    written, so none tells what the user meant)."""
    q = cfg.quantization
    if q.model_fields_set >= set(type(q).model_fields):
        return {}
    out = {f"quantization.{k}": getattr(q, k) for k in ("bits", "weight_integer", "act_integer", "rounding",
                                                         "overflow") if k in q.model_fields_set}
    for section in ("input", "output", "softmax"):
        if section in q.model_fields_set:
            sub = getattr(q, section)
            out |= {f"quantization.{section}.{k}": getattr(sub, k) for k in sub.model_fields_set
                    if getattr(sub, k) is not None}
    return out


def _check_shadowed(cfg, kinds: dict) -> None:
    """A quantization key every tensor it sets has overridden (``quantization.input.bits`` beside
    ``layers.input.output.bits``) does nothing: refused, naming the overrides, as other keys that would do nothing."""
    feeds: dict[str, list] = {}
    for name, kind in kinds.items():
        for role in _defaults(cfg, name, kind):
            for field, key in _section_keys(cfg, name, kind, role).items():
                feeds.setdefault(key, []).append((name, role, field))
    overrides = cfg.quantization.layers
    for key, value in _written(cfg).items():
        tensors = feeds.get(key)
        if not tensors or not all(getattr(getattr(overrides.get(n), r, None), f, None) is not None
                                  for n, r, f in tensors):
            continue
        shown = [f"quantization.layers.{n}.{r}.{f} = {getattr(getattr(overrides[n], r), f)!r}" for n, r, f in tensors]
        which = f"the only tensor it sets ({tensors[0][0]}.{tensors[0][1]})" if len(tensors) == 1 else \
            f"every tensor it sets ({', '.join(f'{n}.{r}' for n, r, _ in tensors)})"
        raise ConfigError(f"invalid configuration: {key} = {value!r} is set, but {', '.join(shown)} "
                          f"{'overrides' if len(shown) == 1 else 'override'} it in {which}, so {key} does nothing; "
                          f"remove one of them")


def resolve_precisions(cfg) -> Precisions:

    kinds = layer_kinds(cfg)
    overrides = cfg.quantization.layers
    unknown = sorted(set(overrides) - set(kinds))
    if unknown:
        raise ConfigError(
            f"invalid configuration: quantization.layers.{shown_key(unknown[0])}: unknown layer name; "
            f"allowed for this model: {', '.join(kinds)}")
    _check_shadowed(cfg, kinds)
    types, auto = {}, set()
    auto_sources = _auto_sources(cfg)
    for name, kind in kinds.items():
        roles = _defaults(cfg, name, kind)
        auto |= {(name, role) for role in roles if _source(name, kind, role) in auto_sources}
        ov = overrides.get(name)
        if ov is not None:
            for role in ("weight", "bias", "output", "scale", "shift", "table"):
                spec = getattr(ov, role)
                if spec is None:
                    continue
                if role not in roles:
                    raise ConfigError(
                        f"invalid configuration: quantization.layers.{name}.{role}: layer '{name}' "
                        f"({kind}) has no {role}; allowed: {', '.join(roles)}")
                for field, why in IGNORED_FIELDS.get((kind, role), {}).items():
                    if getattr(spec, field) is not None:
                        raise ConfigError(
                            f"invalid configuration: quantization.layers.{name}.{role}.{field} = "
                            f"{getattr(spec, field)!r}: has no effect, {why}; allowed keys here: bits, integer")
                roles[role] = _apply(roles[role], spec)
                if spec.integer == "auto":
                    auto.add((name, role))
                elif spec.integer is not None:
                    auto.discard((name, role))
        for role, t in roles.items():
            if (name, role) in auto and t.frac < 0:  # a prior wider than a narrow type: whole numbers until chosen
                roles[role] = t = FixedType(t.width, t.width, t.signed, t.rounding, t.overflow)
            if t.frac < 0 or t.frac > 30:
                overridden = ov is not None and getattr(ov, role) is not None
                if not overridden:
                    setting = _setting_message(cfg, kinds, name, kind, role, t)
                    if setting:
                        raise ConfigError(setting)
                raise ConfigError(
                    f"invalid configuration: quantization.layers.{name}.{role}: bits {t.width} with "
                    f"integer {t.integer} leaves {t.frac} fraction bits; allowed: 0..30"
                    + ("" if overridden else f" (the default type of this tensor, set by {_default_keys(name, kind, role)}:"
                       f" change those, or set quantization.layers.{name}.{role}.bits / .integer)"))
        types[name] = roles
    softmax = {}
    for i in range(cfg.model.layers):
        score = types[f"enc{i}.scores"]["output"]
        sm = types[f"enc{i}.softmax"]
        if sm["table"].integer < 1:
            raise ConfigError(
                f"invalid configuration: quantization.layers.enc{i}.softmax.table: integer "
                f"{sm['table'].integer} cannot hold exp(0) = 1; allowed: integer >= 1")
        size = cfg.quantization.softmax.table_size
        idx_frac = cfg.quantization.softmax.index_frac
        softmax[i] = SoftmaxSpec(score=score, prob=sm["output"], exp_frac=sm["table"].frac,
                                 index_frac=default_index_frac(score, size) if idx_frac is None else idx_frac,
                                 table_size=size)
    _check_float64_exact(cfg, types)
    return Precisions(types=types, kinds=kinds, softmax=softmax, auto=frozenset(auto))


def _span(t_in: FixedType, t_w: FixedType, fan_in: int, t_b: FixedType) -> int:
    """Bits between the lowest fraction bit and the top of an exact sum x.w + b."""
    top = max(t_in.integer + t_w.integer + math.ceil(math.log2(max(fan_in, 1))), t_b.integer) + 1
    return top + max(t_in.frac + t_w.frac, t_b.frac)


def _check_float64_exact(cfg, types) -> None:
    """The quantized Keras model computes in float64: every exact sum must fit in 53 bits."""

    d, ffn, tokens = cfg.model.d_model, cfg.model.ffn_width, cfg.tokens
    dh = d // cfg.model.heads
    n_features = len(cfg.data.features) if cfg.data.features else 64
    per_token = n_features * (cfg.model.patch.length if cfg.model.patch else 1)
    checks = [("embed", types["input"]["output"], types["embed"]["weight"], per_token, types["embed"]["bias"])]
    prev = types["pos"]["output"]
    for i in range(cfg.model.layers):
        p = f"enc{i}."
        for n in ("q", "k", "v"):
            checks.append((p + n, prev, types[p + n]["weight"], d, types[p + n]["bias"]))
        q, k = types[p + "q"]["output"], types[p + "k"]["output"]
        checks.append((p + "scores", q, k, dh, FixedType(2, 1)))
        checks.append((p + "context", types[p + "softmax"]["output"], types[p + "v"]["output"], tokens, FixedType(2, 1)))
        checks.append((p + "o", types[p + "context"]["output"], types[p + "o"]["weight"], d, types[p + "o"]["bias"]))
        checks.append((p + "ffn1", types[p + "norm1"]["output"], types[p + "ffn1"]["weight"], d, types[p + "ffn1"]["bias"]))
        checks.append((p + "ffn2", types[p + "ffn1"]["output"], types[p + "ffn2"]["weight"], ffn, types[p + "ffn2"]["bias"]))
        prev = types[p + "norm2"]["output"]
    checks.append(("head", prev, types["head"]["weight"], 2 * d, types["head"]["bias"]))
    for name, t_in, t_w, fan_in, t_b in checks:
        span = _span(t_in, t_w, fan_in, t_b)
        if span > 53:
            raise ConfigError(
                f"invalid configuration: quantization.layers.{name}: the exact sum of this layer needs "
                f"{span} bits (operand and bias types too far apart); allowed: at most 53. "
                f"Narrow the fraction or integer bits of its weight, bias or input (quantization.bits, "
                f"quantization.weight_integer, quantization.act_integer, or quantization.layers.<layer>).")
