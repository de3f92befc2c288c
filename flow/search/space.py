"""The search space of ``tsflow search``: ``search.space`` maps config keys (dotted) to their choices.

A key is any setting of the YAML: ``model.d_model``, ``quantization.bits``,
``quantization.layers.enc0.ffn1.weight.bits`` (layer names hold dots: the last two parts are the tensor
and its field), ``hls.storage.enc0.ffn1`` (the name is the rest), ``hls.default_parallelism``,
``data.inputs``, ... A candidate is the configuration with one choice per key. A per-tensor key must end in
the tensor's field (``...weight.bits``, not ``...weight``); keys that change nothing a trial is scored on are
refused (``NO_EFFECT``), and so are ``training.float_epochs`` / ``training.qat_epochs``, which the search's own
recipe (``search.float_epochs`` / ``search.qat_epochs``) replaces (``RECIPE``). Every choice is categorical:
the space has ``size`` points.
"""
from __future__ import annotations

import copy
import itertools
import json
import random

from ..config import ConfigError, FlowConfig, LayerOverride, TensorSpec, parse_config

NAMED = {("hls", "storage"), ("hls", "rom"), ("hls", "parallelism"), ("hls", "multiplier")}
PRECHECK = 64  # candidates tried before any work: one must be valid and fit


def key_path(key: str) -> tuple:
    """A space key as the path of mapping keys in the YAML."""
    parts = key.split(".")
    if len(parts) >= 3 and (parts[0], parts[1]) in NAMED:
        return parts[0], parts[1], ".".join(parts[2:])
    if len(parts) >= 5 and parts[:2] == ["quantization", "layers"]:
        return "quantization", "layers", ".".join(parts[2:-2]), parts[-2], parts[-1]
    return tuple(parts)


def base_raw(cfg: FlowConfig) -> dict:
    """The configuration every candidate starts from, without its search section."""
    raw = cfg.model_dump(mode="json")
    raw.pop("search")
    return raw


def candidate_raw(raw: dict, choice: dict) -> dict:
    out = copy.deepcopy(raw)
    for key, value in choice.items():
        node = out
        *parents, last = key_path(key)
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"invalid configuration: search.space.{key}: {part} is not a section")
        node[last] = value
    return out


def candidate(cfg: FlowConfig, choice: dict) -> FlowConfig:
    """The validated configuration of one choice per key (``ConfigError`` if it is not one)."""
    return parse_config(candidate_raw(base_raw(cfg), choice))


# top-level keys whose choices change nothing a candidate is scored on
NO_EFFECT = {"name": "the name only names the run", "search": "the search's own settings are not a candidate's",
             "export": "export settings only shape the vendor scripts"}
# keys the search's training recipe sets itself, whatever the candidate says: -> what to search instead
RECIPE = {"training.float_epochs": "search.float_epochs", "training.qat_epochs": "search.qat_epochs"}
TENSORS, FIELDS = tuple(LayerOverride.model_fields), tuple(TensorSpec.model_fields)


def shown_choices(choices: list) -> str:
    return json.dumps(choices, default=str)


def check_layer_key(key: str, choices: list) -> None:
    """A per-tensor key names the layer, the tensor and one of its fields (layer names hold dots, so the
    last two parts are read as the tensor and the field: a key without its field would be misread)."""
    parts = key.split(".")
    if parts[:2] != ["quantization", "layers"] or len(parts) == 2:
        return
    if parts[-1] in TENSORS and len(parts) >= 4:
        raise ConfigError(f"invalid configuration: search.space.{key} = {shown_choices(choices)}: a tensor override "
                          f"is a mapping ({', '.join(FIELDS)}), so the space key must name the field it searches: "
                          f"{key}.bits: {shown_choices(choices)} (or .{', .'.join(FIELDS[1:])})")
    if len(parts) < 5 or parts[-2] not in TENSORS or parts[-1] not in FIELDS:
        raise ConfigError(f"invalid configuration: search.space.{key}: a per-tensor key is "
                          f"quantization.layers.LAYER.TENSOR.FIELD, TENSOR one of {', '.join(TENSORS)} and FIELD one "
                          f"of {', '.join(FIELDS)}, e.g. quantization.layers.enc0.ffn1.weight.bits: [4, 8]")


def check_space(cfg: FlowConfig) -> None:
    """Every key exists and every choice is valid on its own, before any work."""
    space = cfg.search.space
    if not space:
        raise ConfigError("invalid configuration: search.space is empty; give the settings to search and their "
                          "choices, e.g. search: {space: {model.d_model: [8, 16, 32], quantization.bits: [4, 6, 8]}}")
    raw = base_raw(cfg)
    for key in space:
        section = key.split(".")[0]
        if section in NO_EFFECT:
            raise ConfigError(f"invalid configuration: search.space.{key}: {NO_EFFECT[section]}; search what sets the "
                              f"model or the design: data, model, quantization, training, target or hls keys")
        if key in RECIPE:
            recipe = RECIPE[key]
            raise ConfigError(f"invalid configuration: search.space.{key} = {shown_choices(space[key])}: the search "
                              f"trains every candidate with its own recipe ({recipe} = "
                              f"{getattr(cfg.search, recipe.split('.')[1])}), so {key} changes nothing a trial is "
                              f"scored on; set {recipe} instead (one value for the whole search)")
        check_layer_key(key, space[key])
    for key, choices in space.items():
        seen = set()
        for value in choices:
            shown = repr(value)
            if shown in seen:
                raise ConfigError(f"invalid configuration: search.space.{key}: {shown} is listed twice")
            seen.add(shown)
            try:
                parse_config(candidate_raw(raw, {key: value}))
            except ConfigError as exc:
                reason = str(exc).removeprefix("invalid configuration:").strip()
                raise ConfigError(f"invalid configuration: search.space.{key} = {shown}: not a valid choice: "
                                  f"{reason}") from None


def size(cfg: FlowConfig) -> int:
    n = 1
    for choices in cfg.search.space.values():
        n *= len(choices)
    return n


def sample(cfg: FlowConfig, n: int, seed: int) -> list[dict]:
    """Up to ``n`` choices: every one if the space is that small, else the smallest (each key's first
    choice) and a seeded random draw."""
    keys, lists = list(cfg.search.space), list(cfg.search.space.values())
    if size(cfg) <= n:
        return [dict(zip(keys, combo)) for combo in itertools.product(*lists)]
    rng = random.Random(seed)
    return [dict(zip(keys, (c[0] for c in lists)))] + [dict(zip(keys, (rng.choice(c) for c in lists)))
                                                        for _ in range(n - 1)]
