"""The search space of ``tsflow search``: ``search.space`` maps config keys (dotted) to their choices.

A key is any setting of the YAML: ``model.d_model``, ``quantization.bits``,
``quantization.layers.enc0.ffn1.weight.bits`` (layer names hold dots: the last two parts are the tensor
and its field), ``hls.storage.enc0.ffn1`` (the name is the rest), ``hls.default_parallelism``,
``data.inputs``, ... A candidate is the configuration with one choice per key. A per-tensor key must end in
the tensor's field (``...weight.bits``, not ``...weight``); keys that change nothing a trial is scored on are
refused (``NO_EFFECT``), and so are ``training.float_epochs`` / ``training.qat_epochs``, which the search's own
recipe (``search.float_epochs`` / ``search.qat_epochs``) replaces (``RECIPE``); so are the data keys that change
the task, which would make the candidates' val_mse incomparable (``TASK``; ``data.window`` only with
``data.split.lookback: previous``), and a key below a section the configuration leaves unset, and a choice
that makes a candidate float (``quantization.enabled: false``: it has no design to estimate). A choice valid only
with some choice of another key (an override of layer enc1 beside ``model.layers: [1, 2]``) is kept, with a
warning: the other candidates are pruned as invalid. Every choice is categorical: the space has ``size`` points.
"""
from __future__ import annotations

import copy
import itertools
import json
import random
import typing
from typing import Optional

from pydantic import BaseModel

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


# data keys that decide what a candidate is scored on -> what they set: candidates with different choices would
# forecast another value, another step or other rows, and their val_mse would not compare
TASK = {"data.source": "which series is forecast", "data.dataset": "which series is forecast",
        "data.path": "which series is forecast", "data.target": "which column is forecast",
        "data.horizon": "how far ahead the forecast is", "data.steps": "how many values are forecast",
        "data.date_column": "the order of the rows and where the gaps are",
        "data.gaps": "which rows the series has (fill adds rows)", "data.split": "which rows are the validation split"}
# top-level keys whose choices change nothing a candidate is scored on
NO_EFFECT = {"name": "the name only names the run", "search": "the search's own settings are not a candidate's",
             "export": "export settings only shape the vendor scripts"}
# keys the search's training recipe sets itself, whatever the candidate says: -> what to search instead
RECIPE = {"training.float_epochs": "search.float_epochs", "training.qat_epochs": "search.qat_epochs"}
TENSORS, FIELDS = tuple(LayerOverride.model_fields), tuple(TensorSpec.model_fields)


def shown_choices(choices: list) -> str:
    return json.dumps(choices, default=str)


def field_keys(key: str, choices: list) -> str:
    """The space keys that search what a tensor key's choices set: one key per field, with that field's values."""
    if all(isinstance(c, dict) and c and set(c) <= set(FIELDS) for c in choices):
        fields = [f for f in FIELDS if any(f in c for c in choices)]
        keys = {f: list({repr(c[f]): c[f] for c in choices if f in c}.values()) for f in fields}
        written = ", ".join(f"{key}.{f}: {shown_choices(values)}" for f, values in keys.items())
        return written + ("" if len(fields) == 1 else " (each key's choices are drawn with every choice of the "
                                                          "others)")
    return f"{key}.bits: {shown_choices(choices)} (or .{', .'.join(FIELDS[1:])})"


def check_layer_key(key: str, choices: list) -> None:
    """A per-tensor key names the layer, the tensor and one of its fields (layer names hold dots, so the
    last two parts are read as the tensor and the field: a key without its field would be misread)."""
    parts = key.split(".")
    if parts[:2] != ["quantization", "layers"] or len(parts) == 2:
        return
    if parts[-1] in TENSORS and len(parts) >= 4:
        raise ConfigError(f"invalid configuration: search.space.{key} = {shown_choices(choices)}: a tensor override "
                          f"is a mapping ({', '.join(FIELDS)}), so the space key must name the field it searches: "
                          f"{field_keys(key, choices)}")
    if len(parts) < 5 or parts[-2] not in TENSORS or parts[-1] not in FIELDS:
        raise ConfigError(f"invalid configuration: search.space.{key}: a per-tensor key is "
                          f"quantization.layers.LAYER.TENSOR.FIELD, TENSOR one of {', '.join(TENSORS)} and FIELD one "
                          f"of {', '.join(FIELDS)}, e.g. quantization.layers.enc0.ffn1.weight.bits: [4, 8]")


def check_task(cfg: FlowConfig) -> None:
    """Every candidate is scored on the same task: the same values forecast from the same validation rows. A key
    that changes them is refused, and so is data.window with data.split.lookback: own, where each split's first
    rows are look-back only, so a longer window forecasts fewer validation rows."""
    space = cfg.search.space
    task = [(key, t) for key in space for t in TASK if key == t or key.startswith(t + ".")]
    task += [(key, f"{key} (its {', '.join(t.removeprefix(key + '.') for t in TASK if t.startswith(key + '.'))})")
             for key in space if any(t.startswith(key + ".") for t in TASK)]
    if task:
        keys = ", ".join(dict.fromkeys(f"search.space.{key}" for key, _ in task))
        what = "; ".join(dict.fromkeys(f"{t} sets {TASK.get(t, 'what is forecast and from which rows')}"
                                       for _, t in task))
        raise ConfigError(f"invalid configuration: {keys}: {what}, so candidates with different choices would be "
                          f"scored on different tasks and their val_mse could not be compared; set "
                          f"{'it' if len(task) == 1 else 'them'} in the data section and search one task at a time "
                          f"(a search for each)")
    if "data.window" in space and cfg.data.split.lookback == "own":
        raise ConfigError(f"invalid configuration: search.space.data.window = {shown_choices(space['data.window'])}: "
                          f"with data.split.lookback: own (the default) the first data.window rows of the validation "
                          f"split are look-back only, so each window would be scored on other validation rows and "
                          f"their val_mse could not be compared; set data.split.lookback: previous (the validation "
                          f"and test windows look back into the rows before their split: every window forecasts "
                          f"every validation row)")


def is_section(path) -> bool:
    """Whether a path of keys names a section of the schema (a mapping of keys, such as model.patch)."""
    model = FlowConfig
    for part in path:
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return False
        model = next((a for a in (field.annotation, *typing.get_args(field.annotation))
                      if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return model is not None


def check_sections(cfg: FlowConfig, raw: dict) -> None:
    """A key below a section the configuration leaves unset (``model.patch.length`` without ``model.patch``) would
    set one key of a section whose other keys have no value: the section is set in the configuration, or searched
    whole."""
    for key, choices in cfg.search.space.items():
        path, node = key_path(key), raw
        for i, part in enumerate(path[:-1]):
            if not isinstance(node, dict):
                break
            if part in node and node[part] is None and is_section(path[:i + 1]):
                section, leaf = ".".join(path[:i + 1]), path[i + 1]
                raise ConfigError(
                    f"invalid configuration: search.space.{key}: {section} is not set in this configuration (null, "
                    f"its default), so a searched {leaf} has no section to go in, nor values for the section's other "
                    f"keys; set {section} in the configuration (each choice then replaces its {leaf}), or search "
                    f"{section} itself with whole sections as choices, such as {section}: "
                    f"[{{{leaf}: {shown_choices(choices[0])}, ...}}, ...]")
            node = node.get(part)


def valid_with_others(cfg: FlowConfig, raw: dict, key: str, value) -> Optional[dict]:
    """Choices of the other keys with which a choice that is not valid with the configuration's own settings is
    one (a layer override of enc1 beside model.layers: [1, 2]), or None: first one other key at a time, then up
    to ``PRECHECK`` combinations of them all."""
    others = {k: c for k, c in cfg.search.space.items() if k != key}
    tries = [{k: v} for k, c in others.items() for v in c]
    tries += [dict(zip(others, combo)) for combo in itertools.islice(itertools.product(*others.values()), PRECHECK)]
    for other in tries:
        try:
            parse_config(candidate_raw(raw, {**other, key: value}))
        except ConfigError:
            continue
        return other
    return None


def _compared(value):
    """A choice as the search compares it: equal numbers are one choice whatever their type (100, 100.0 and
    YAML's 1e2), a bool is not a number, and lists and mappings compare by their items."""
    if isinstance(value, bool) or not isinstance(value, (int, float, dict, list, tuple)):
        return type(value).__name__, repr(value)
    if isinstance(value, dict):
        return "dict", tuple(sorted((str(k), _compared(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return "list", tuple(_compared(v) for v in value)
    return "number", value  # 100 == 100.0, and their hashes are equal


def check_space(cfg: FlowConfig) -> list[str]:
    """Every key exists and every choice is valid on its own (or with some choice of the other keys), and the
    candidates are scored on one task, before any work. Returns warnings: the choices valid only with some choices
    of other keys, whose other candidates are pruned as invalid configurations."""
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
    check_task(cfg)
    check_sections(cfg, raw)
    partly: dict = {}  # key -> (its choices valid only with other keys' choices, such choices, why not without)
    for key, choices in space.items():
        seen: dict = {}  # compared form -> the choice as first listed
        for value in choices:
            shown = repr(value)
            compared = _compared(value)
            if compared in seen:
                same = seen[compared]
                twice = f"{shown} is listed twice" if repr(same) == shown else \
                    f"{same!r} and {shown} are the same choice (listed twice)"
                raise ConfigError(f"invalid configuration: search.space.{key}: {twice}; list each once")
            seen[compared] = value
            try:
                cand = parse_config(candidate_raw(raw, {key: value}))
            except ConfigError as exc:
                reason = str(exc).removeprefix("invalid configuration:").strip()
                other = valid_with_others(cfg, raw, key, value)
                if other is None:
                    raise ConfigError(f"invalid configuration: search.space.{key} = {shown}: not a valid choice: "
                                      f"{reason}") from None
                partly.setdefault(key, ([], other, reason.split("; ")[0]))[0].append(shown)
                continue
            if not cand.quantization.enabled:
                fix = ("quantization.enabled from search.space" if key == "quantization.enabled"
                       else "enabled: false from this choice")
                raise ConfigError(f"invalid configuration: search.space.{key} = {shown}: not a valid choice: it sets "
                                  f"quantization.enabled = False, and the search scores quantized candidates (their "
                                  f"estimate, their QAT): a float candidate has no design to estimate; remove {fix} "
                                  f"(every candidate is quantized)")
    return [f"search.space.{key} = {' or '.join(shown)} is valid only with some choices of the other keys (such as "
            f"{', '.join(f'{k} = {v!r}' for k, v in other.items())}), not with the configuration's own ({reason}): "
            f"the candidates that draw it without such a choice are not valid configurations and are pruned untrained "
            f"(each counts as a trial)" for key, (shown, other, reason) in partly.items()]


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
