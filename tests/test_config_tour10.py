"""Tour 10's configuration and data messages that named the wrong fix: a per-name mapping given one value (the
default_ key meant), a pattern said as a regex, a target varying below float32's resolution at its level called
constant, a logger's preamble above the header blamed on decimal commas."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml
from pydantic import BaseModel

from flow import config as config_module
from flow.config import ConfigError, FlowConfig, parse_config
from flow.data import load_dataset

from .conftest import small_raw
from .test_data_tour9 import _error as _data_error, _raw as _data_raw

N = 60


def _raw(**sections) -> dict:
    raw = small_raw()
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return raw


def _config_error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, "c.yaml")
    return str(exc.value)


@pytest.mark.parametrize("section, key, value, meant", [
    ("hls", "parallelism", 16, "default_parallelism: 16 under hls (hls.default_parallelism)"),
    ("hls", "storage", "bram", "default_storage: bram under hls (hls.default_storage)"),
    ("hls", "rom", "lutrom", "default_rom: lutrom under hls (hls.default_rom)"),
    ("hls", "multiplier", "dsp", "default_multiplier: dsp under hls (hls.default_multiplier)"),
    ("quantization", "layers", 4, "bits: 4 under quantization (quantization.bits)"),
    ("quantization", "layers", "trn", "rounding: trn under quantization (quantization.rounding)"),
])
def test_a_mapping_by_name_given_one_value_names_the_key_for_every_name(section, key, value, meant):
    """a13 / a14: hls.parallelism: 16 was refused as 'a mapping, not a single value', without the key meant."""
    msg = _config_error(_raw(**{section: {key: value}}))
    assert f"{section}.{key} = {value!r}: " in msg and "not a single value" in msg and "such as {enc0.ffn1" in msg
    assert f"write {meant}" in msg
    written = meant.split(" under ")[0]
    name, given = written.split(": ")
    parse_config(_raw(**{section: {name: yaml.safe_load(given)}}))  # the key named takes the value


def test_a_mapping_given_a_value_its_every_key_does_not_take_says_what_that_key_takes():
    msg = _config_error(_raw(hls={"storage": "fast"}))
    assert ("hls.storage = 'fast': the storage of each buffer, a mapping of buffer names such as {enc0.ffn1: bram}, "
            "not a single value; one value for every buffer is hls.default_storage, which takes 'registers' or "
            "'lutram' or 'bram' or 'auto'") in msg
    msg = _config_error(_raw(search={"space": "model.d_model"}))
    assert "search.space = 'model.d_model': the choices of each free key" in msg and "[8, 16]" in msg
    assert "for every" not in msg


def test_the_examples_of_the_mappings_are_valid():
    """Each example a message shows is a valid entry of its mapping (the names exist in a one-layer model)."""
    from flow.hls.plan import check_names

    raw = _raw()
    for section, model in (("hls", config_module.HLSConfig), ("quantization", config_module.QuantConfig),
                           ("search", config_module.SearchConfig)):
        for key, field in model.model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if "example" in extra and "each" in extra:
                raw.setdefault(section, {})[key] = extra["example"]
    raw["search"]["space"] = {"model.d_model": [8, 16]}
    check_names(parse_config(raw))


def _pattern_fields():
    """(dotted key, FieldInfo) of every text key of the schema with a pattern."""
    def walk(model: type[BaseModel], prefix: str):
        for key, field in model.model_fields.items():
            inner = config_module._model_in(field.annotation)
            if inner is not None:
                yield from walk(inner, f"{prefix}{key}.")
            elif any(getattr(m, "pattern", None) for m in field.metadata):
                yield f"{prefix}{key}", field
    return list(walk(FlowConfig, ""))


def test_every_key_with_a_pattern_says_it_in_words_with_a_valid_example():
    """a23 / a92: the pattern keys were refused with pydantic's regex text."""
    fields = _pattern_fields()
    assert {k for k, _ in fields} >= {"export.vendor", "export.library", "export.ip_name", "export.version"}
    for dotted, field in fields:
        section, key = dotted.split(".")
        msg = _config_error(_raw(**{section: {key: "9 x"}}))
        assert f"{dotted} = '9 x': allowed: {field.json_schema_extra['words']}; e.g. " in msg, msg
        assert "String should match pattern" not in msg
        parse_config(_raw(**{section: {key: field.json_schema_extra["example"]}}))


@pytest.mark.parametrize("key, value, said", [
    ("version", "1.0.0", "export.version = '1.0.0': allowed: MAJOR.MINOR, two whole numbers joined by one dot, as "
                         "the IP catalog numbers versions (no third part, no 'v'); e.g. version: '1.0'"),
    ("library", "my-lib", "export.library = 'my-lib': allowed: letters, digits and _, starting with a letter (no "
                          "'-', '.' or space); e.g. library: my_lib"),
    ("ip_name", "my forecaster", "e.g. ip_name: my_forecaster"),
    ("vendor", "my company", "export.vendor = 'my company': allowed: letters, digits, _, '.' and '-', starting with "
                             "a letter (no space); e.g. vendor: my_company"),
])
def test_a_pattern_refusal_gives_the_value_mended_where_it_can(key, value, said):
    assert said in _config_error(_raw(export={key: value}))


def _stamps(n: int = N) -> list[str]:
    return [f"2021-01-{1 + h // 24:02d} {h % 24:02d}:00:00" for h in range(n)]


def _csv(tmp_path, lines: list[str], name: str = "d.csv"):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_a_target_varying_below_float32_resolution_at_its_level_is_said_to_vary_with_the_offset_to_remove(tmp_path):
    """a36: OT + 1e9 (varying by 29) was called constant, with 'choose a target that varies'."""
    wave = [float(v) for v in 15 * np.sin(np.arange(N) / 3)]
    path = _csv(tmp_path, ["date,w,v"] + [f"{t},{i % 7},{1e9 + x!r}" for i, (t, x) in enumerate(zip(_stamps(), wave))])
    msg = _data_error(_data_raw(path))
    spread = max(wave[:36]) - min(wave[:36])
    assert f"data.target = 'v': on the 36 training rows of data.path = {str(path)!r} the column varies by " \
           f"{spread:.3g} around 1e+09" in msg
    assert "below float32's resolution there" in msg and "near 1e+09 only in steps of 64" in msg
    assert "write v - 1000000000 as the column" in msg and "the column is constant" not in msg
    # the offset subtracted as said: the file loads
    mended = _csv(tmp_path, ["date,w,v"] + [f"{t},{i % 7},{x!r}" for i, (t, x) in enumerate(zip(_stamps(), wave))],
                  "m.csv")
    load_dataset(parse_config(_data_raw(mended)), note=lambda text: None)


def _data_lines() -> list[str]:
    return ["date,w,v"] + [f"{t},{i % 7}.5,{i % 5}.25" for i, t in enumerate(_stamps())]


def test_a_loggers_preamble_above_the_header_is_named_not_blamed_on_decimal_commas(tmp_path):
    """a40: 'Station: TX-7' and 'Exported: 2024-01-01' above the header read as 'a decimal comma, as in 2,5?'."""
    path = _csv(tmp_path, ["Station: TX-7", "Exported: 2024-01-01"] + _data_lines())
    msg = _data_error(_data_raw(path))
    assert (f"data.path = {str(path)!r}: lines 1-2 come before the header (line 3: date,w,v), as a logger's "
            f"preamble: line 1 ('Station: TX-7') has 1 field, where the header and the data lines below it have 3; "
            f"the header is expected on line 1: remove them (pandas: pd.read_csv(path, skiprows=2)") in msg
    assert "decimal comma" not in msg
    one = _csv(tmp_path, ["Logger,TX-7,v2,x"] + _data_lines(), "one.csv")
    msg = _data_error(_data_raw(one))
    assert "line 1 comes before the header (line 2: date,w,v)" in msg and "has 4 fields" in msg
    assert "remove it (pandas: pd.read_csv(path, skiprows=1)" in msg


def test_a_header_short_of_a_name_is_not_taken_for_a_preamble(tmp_path):
    """A header naming fewer columns than the data lines have keeps its own message (no later line of names)."""
    path = _csv(tmp_path, ["date,v"] + [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())])
    msg = _data_error(_data_raw(path))
    assert "before the header" not in msg and "names 2 columns" in msg


def test_cli_preamble_refusal_exits_2_without_traceback(tmp_path):
    path = _csv(tmp_path, ["Station: TX-7", "Exported: 2024-01-01"] + _data_lines())
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(_data_raw(path)))
    proc = subprocess.run([sys.executable, "-m", "flow", "estimate", str(cfg)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "lines 1-2 come before the header (line 3" in proc.stderr
