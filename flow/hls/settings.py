"""The tsflow layers' keys in an hls4ml configuration, and the pass that plans the hardware from them.

An hls4ml user tunes a conversion per layer: ``config_from_keras_model(model, granularity='name',
backend='TSFlowVitis')``, edit ``config['LayerName'][name]``, ``convert_from_keras_model(...,
hls_config=config)``. A tsflow layer takes up to four keys there, each ``'auto'`` by default, which
leaves the setting to the model's tsflow configuration (its ``hls`` section, itself ``auto`` unless the
YAML says otherwise):

* ``Storage``: where the buffers the layer writes live (``hls.storage``),
* ``Parallelism``: the lanes of the loops the layer runs (``hls.parallelism``),
* ``Multiplier``: DSP or LUT multipliers for its products (``hls.multiplier``),
* ``WeightStorage``: where its constant tables live (``hls.rom``).

A value other than ``'auto'`` applies to every name of that kind the layer owns (the attention layer
owns q, k, v, the scores, the softmax, the context and o). ``plan_model`` runs before hls4ml applies
the layer templates: it merges these keys into the tsflow configuration, takes the part and clock of
the hls4ml configuration, plans the design (``flow.estimate.plan_design``, the plan ``tsflow estimate``
prices) and gives it to every layer.
"""
from __future__ import annotations

import re
from numbers import Integral

from ..config import ConfigError, parse_config
from .keys import KEYS

ATTENTION_PARTS = ("q", "k", "v", "scores", "softmax", "context", "o")


def _candidates(node) -> set:
    """Every name this layer could own in any hls section (the sections' allowed lists pick theirs)."""
    out = node.get_attr("out_name", node.name)
    names = {node.name, out, *node.get_attr("buffers", {}), *node.get_attr("tables", {})}
    if node.class_name == "TSAttention":
        prefix = node.name.removesuffix("attn")
        names |= {prefix + p for p in ATTENTION_PARTS}
    return names


def _value_error(node, key: str, value, allowed) -> ConfigError:
    shown = "auto or a lane count >= 1" if allowed is None else ", ".join(allowed)
    return ConfigError(f"invalid hls4ml configuration: LayerName.{node.name}.{key} = {value!r}: allowed: {shown}")


def with_layer_settings(cfg, layers) -> object:
    """``cfg`` with the layers' hls4ml keys that are not 'auto' written into its ``hls`` section."""
    from .plan import allowed_names

    allowed = allowed_names(cfg)
    raw = cfg.model_dump(mode="json")
    changes = []  # (node, key, value, section, names)
    for node in layers:
        for key, (attr, section, values) in KEYS.items():
            value = node.get_attr(attr, "auto")
            if value == "auto":
                continue
            ok = (isinstance(value, Integral) and not isinstance(value, bool) and value >= 1) if values is None \
                else value in values
            if not ok:
                raise _value_error(node, key, value, values)
            names = sorted(_candidates(node) & set(allowed[section]))
            if not names:
                raise ConfigError(f"invalid hls4ml configuration: LayerName.{node.name}.{key} = {value!r}: this layer "
                                  f"has nothing it sets (no hls.{section} name); allowed: auto")
            raw["hls"][section].update({n: value for n in names})
            changes.append((node, key, value, section, names))
    if not changes:
        return cfg
    try:
        return parse_config(raw)
    except ConfigError as exc:
        raise _named_as_set(exc, cfg, changes) from None


def _named_as_set(exc: ConfigError, cfg, changes) -> ConfigError:
    """The refusal of the tsflow configuration the keys made, naming the hls4ml key the user set (the one
    whose value alone is refused) rather than the ``hls`` key it was written into."""
    for node, key, value, section, names in changes:
        raw = cfg.model_dump(mode="json")
        raw["hls"][section].update({n: value for n in names})
        try:
            parse_config(raw)
        except ConfigError as alone:
            lines = [ln.strip() for ln in str(alone).removeprefix("invalid configuration:").strip().splitlines()]
            reasons = list(dict.fromkeys(re.sub(rf"^hls\.{section}\.\S+ = [^:]*: ", "", ln) for ln in lines if ln))
            keys = ", ".join(f"hls.{section}.{n}" for n in names)
            return ConfigError(f"invalid hls4ml configuration: LayerName.{node.name}.{key} = {value!r} (the tsflow "
                               f"setting {keys}): {'; '.join(reasons)}")
    keys = ", ".join(f"LayerName.{node.name}.{key} = {value!r}" for node, key, value, _, _ in changes)
    return ConfigError(f"invalid hls4ml configuration: {keys} together: {str(exc).removeprefix('invalid configuration: ')}")


LANES = "hls.default_parallelism and hls.parallelism in the tsflow configuration"
# hls4ml keys a tsflow layer does not use: the value config_from_keras_model writes (or hls4ml's default, which
# leaves the design as it is), and what sets that in tsflow
HLS4ML_ONLY_KEYS = {
    "ReuseFactor": (1, f"their lanes are set by {LANES}, or per layer by LayerName.NAME.Parallelism"),
    "Strategy": ("Latency", f"their lanes ({LANES}), buffers (hls.storage) and tables (hls.rom) set that trade"),
    "BramFactor": (1_000_000_000, "where their constant tables live is hls.rom in the tsflow configuration, or "
                                  "LayerName.NAME.WeightStorage"),
    "TargetCycles": (None, f"their latency follows from {LANES} (tsflow estimate)"),
    "Compression": (False, "their products are set by hls.multiplier, or LayerName.NAME.Multiplier"),
    "ConvImplementation": ("LineBuffer", "a tsflow model has no convolution"),
    "PipelineStyle": ("auto", "the layers run one after another, each with its own pipelined loops"),
    "PipelineInterval": (None, "the layers run one after another, each with its own pipelined loops"),
}


def _is_default(value, default) -> bool:
    if isinstance(default, str):
        return isinstance(value, str) and value.replace("_", "").lower() == default.lower()  # as hls4ml reads it
    if default is None:
        return value is None
    if default == 1_000_000_000 and value == float("inf"):  # hls4ml's own default when the key is absent
        return True
    return value == default and not (isinstance(value, bool) and not isinstance(default, bool))


def _not_honoured(where: str, key: str, value, lanes: str = "") -> ConfigError:
    """``lanes``: a layer's own key that sets its lanes (a layer's entry is refused at any value: none is written)."""
    default, instead = HLS4ML_ONLY_KEYS[key]
    leave = "" if default is None or lanes else f"leave it at {default!r} or "
    return ConfigError(f"invalid hls4ml configuration: {where}.{key} = {value!r}: tsflow layers take no {key}, and "
                       f"it would change nothing in the design; {instead}{lanes}: {leave}remove it")


def _unknown(where: str, key: str, known: list[str]) -> ConfigError:
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return ConfigError(f"invalid hls4ml configuration: {where}.{key}: unknown key, which hls4ml would ignore; the keys "
                       f"{where} takes are {', '.join(known)}{hint}")


def _layer_keys(node) -> list[str]:
    from hls4ml.model.attributes import ConfigurableAttribute

    keys = ["Precision"] + [a.config_name for a in node.expected_attributes if isinstance(a, ConfigurableAttribute)]
    return list(dict.fromkeys(keys))


def _honoured_keys(model) -> None:
    """Refuse an hls4ml key a tsflow model would ignore without a word: hls4ml's own knobs (ReuseFactor,
    Strategy, ...) at another value than the one config_from_keras_model writes (in a layer's entry, where it
    writes none, at any), naming what sets that in tsflow, and a key a layer does not take (a misspelt
    ``Paralellism``), naming the keys it takes."""
    hls = model.config.config["HLSConfig"]
    model_cfg = hls.get("Model") or {}
    for key, value in model_cfg.items():  # other keys are hls4ml's own (it adds BitExact): left to it
        if key in HLS4ML_ONLY_KEYS and not _is_default(value, HLS4ML_ONLY_KEYS[key][0]):
            raise _not_honoured("Model", key, value)
    nodes = {node.name: node for node in model.get_layers()}
    by_class = {("InputLayer" if node.class_name == "Input" else node.class_name): node for node in nodes.values()}
    for section, of in (("LayerName", nodes), ("LayerType", by_class)):
        for name, layer_cfg in (hls.get(section) or {}).items():
            node = of.get(name)
            if node is None or not isinstance(layer_cfg, dict):
                continue
            known = _layer_keys(node)
            lanes = (f"; this layer's lanes are {section}.{name}.Parallelism" if "Parallelism" in known
                     else "; this layer has no lanes of its own")
            for key, value in layer_cfg.items():
                if key in HLS4ML_ONLY_KEYS:
                    raise _not_honoured(f"{section}.{name}", key, value, lanes)
                if key not in known:
                    raise _unknown(f"{section}.{name}", key, known)


def _target(cfg, model) -> object:
    """``cfg`` on the part and clock of the hls4ml configuration (filled from ``cfg`` where not given)."""
    config = model.config.config
    part, period = config.get("Part"), config.get("ClockPeriod")
    if part is None:
        config["Part"] = part = cfg.target.part
    if period is None:
        config["ClockPeriod"] = period = round(1000.0 / cfg.target.clock_mhz, 3)
    same_clock = abs(float(period) - round(1000.0 / cfg.target.clock_mhz, 3)) < 1e-9
    if part == cfg.target.part and same_clock:
        return cfg
    raw = cfg.model_dump(mode="json")
    raw["target"].update(part=part, clock_mhz=cfg.target.clock_mhz if same_clock else 1000.0 / float(period))
    try:
        return parse_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"invalid hls4ml configuration: part {part!r}, clock period {period}: {exc}") from None


def _same(a, b) -> bool:
    fields = ("width", "integer", "signed", "rounding_mode", "saturation_mode")
    return all(str(getattr(a, f, None)) == str(getattr(b, f, None)) for f in fields)


HLS4ML_DEFAULT = "fixed<16,6>"  # config_from_keras_model's Model.Precision default, unused by tsflow layers


def _types_from_the_model(model, layers) -> None:
    """The window port takes the model's input type, and no layer type differs from the trained model's:
    an hls4ml ``Precision`` edit on a tsflow layer would make the C++ compute another model than Keras, and
    one of the whole model (``Model.Precision``) would be ignored."""
    from .layers import precision_of

    backend = model.config.backend
    given = (model.config.config["HLSConfig"].get("Model") or {}).get("Precision")
    if given not in (None, HLS4ML_DEFAULT, {"default": HLS4ML_DEFAULT}):
        raise ConfigError(f"invalid hls4ml configuration: Model.Precision = {given!r}: a tsflow model's types are "
                          f"the trained model's, each layer's the one its quantization set (the quantization "
                          f"section of the tsflow configuration), and the C++ computes exactly those (bit-exact); "
                          f"a model-wide Precision would apply to none of its layers: leave it as "
                          f"config_from_keras_model writes it ({{'default': {HLS4ML_DEFAULT!r}}}) or remove it, and "
                          f"for other types change quantization in the tsflow configuration and train again")
    for node in model.get_layers():
        given = model.config.get_layer_config(node).get("Precision")
        given = given.get("result") if isinstance(given, dict) else given
        if node.class_name == "Input":
            trained = next(n for n in layers if n.class_name == "TSCast").get_attr("out_type")
        elif node in layers:
            trained = node.get_attr("out_type")
        else:
            continue
        want = precision_of(trained)
        if given not in (None, "auto") and not _same(backend.convert_precision_string(given), want):
            raise ConfigError(f"invalid hls4ml configuration: LayerName.{node.name}.Precision.result = {given!r}: the "
                              f"trained model computes {trained.cpp()} here, and the C++ must compute the same "
                              f"(bit-exact); change the type in the tsflow configuration (quantization) and train again")
        if node.class_name == "Input":
            node.get_output_variable().type.precision = want


def plan_model(model) -> bool:
    """hls4ml model pass: plan the design once and place it in every tsflow layer (no graph change)."""
    from ..estimate import plan_design
    from .layers import TSLayer

    layers = [node for node in model.get_layers() if isinstance(node, TSLayer)]
    if not layers or all(node.get_attr("tsflow_plan") for node in layers):
        return False
    cfg = next((node.get_attr("tsflow_config") for node in layers if node.get_attr("tsflow_config")), None)
    if cfg is None:
        raise ConfigError("the Keras model carries no tsflow configuration: build it with "
                          "keras_models.builder.build_model (or flow.training.checkpoint.load_trained), which attaches it")
    _honoured_keys(model)
    _types_from_the_model(model, layers)
    cfg = _target(with_layer_settings(cfg, layers), model)
    n_features = int(model.get_input_variables()[0].shape[-1])
    plan = plan_design(cfg, n_features=n_features).plan_dict()
    for node in layers:
        node.place(plan)
    return False
