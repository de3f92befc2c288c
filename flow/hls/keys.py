"""The four keys a tsflow layer takes in an hls4ml configuration (``flow.hls.settings`` says what they do),
as the attributes its IR class declares."""
from __future__ import annotations

from numbers import Integral

from hls4ml.model.attributes import ConfigurableAttribute

KEYS = {  # hls4ml key -> (layer attribute, tsflow hls section, allowed values; None: auto or a lane count)
    "Storage": ("storage", "storage", ("auto", "registers", "lutram", "bram")),
    "Parallelism": ("parallelism", "parallelism", None),
    "Multiplier": ("multiplier", "multiplier", ("auto", "dsp", "lut")),
    "WeightStorage": ("weight_storage", "rom", ("auto", "registers", "lutrom", "bram")),
}


def settings_attributes(*keys: str) -> list:
    """hls4ml attributes of a tsflow IR layer class: they appear in ``config_from_keras_model``."""
    return [ConfigurableAttribute(KEYS[k][0], value_type=(Integral, str) if KEYS[k][2] is None else str,
                                  default="auto", description=f"tsflow hls.{KEYS[k][1]} of this layer's names")
            for k in keys]
