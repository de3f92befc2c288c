"""Generated configurations and CSV files: each is accepted or refused with a ConfigError, never a traceback.

(a) Mappings shaped like the schema, with valid and invalid values, wrong types, unknown keys and
free-form names at every depth, go through ``parse_config``: a refusal names a key path that is in
the input. (b) Small CSV files (random headers, dates or none, numbers, words, empty cells, blank
lines, short and long rows, stray bytes) go through ``load_dataset``: a refusal names the file or a
``data.`` key.
"""
from __future__ import annotations

import re
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flow.config import ConfigError, FlowConfig, parse_config
from flow.data import load_dataset

SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------------------- (a) configurations

# keys that look like the tags pydantic puts in error locations, and other awkward names
AWKWARD = ["int", "float", "str", "bool", "dict", "list", "literal['auto']", "constrained-int",
           "function-after[_consistent()]", "x[1]", "", " ", "a b", "é", "0"]
names = st.one_of(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=1, max_size=8),
                  st.sampled_from(AWKWARD))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 12), 10 ** 12), st.integers(-5, 600),
                    st.floats(allow_nan=True, allow_infinity=True), st.floats(-2, 2), st.text(max_size=6),
                    st.sampled_from(["auto", "bram", "registers", "lutram", "lutrom", "dsp", "lut", "sat", "wrap",
                                     "conv", "trn", "rnd", "standard", "minmax", "levels", "differences", "mean",
                                     "mean_last", "vitis", "vivado", "builtin", "csv", "temp", "date",
                                     "xc7s15ftgb196-2", "xc7a35tcpg236-1", "xc7z020clg400-1", "seattle-temps",
                                     "sf-temps", "1.0", "true"]))
junk = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(names, inner, max_size=3)), max_leaves=6)


def near(lo, hi):
    """Integers around a range, both sides of its ends."""
    return st.integers(lo - 3, hi + 3)


LAYERS = ["input", "embed", "pos", "enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.softmax", "enc0.context",
          "enc0.o", "enc0.add1", "enc0.norm1", "enc0.ffn1", "enc0.ffn2", "enc0.add2", "enc0.norm2", "enc1.q",
          "enc1.softmax", "pool", "head", "delta"]
TABLES = ["embed.weight", "embed.bias", "pos.table", "enc0.q.weight", "enc0.exp_table", "enc0.norm1.scale",
          "head.bias", "enc1.ffn2.weight"]
layer_names = st.one_of(st.sampled_from(LAYERS), names)
tensor_spec = st.fixed_dictionaries({}, optional={
    "bits": near(2, 16), "integer": near(-8, 16), "rounding": scalars, "overflow": scalars, "bitz": junk})
layer_override = st.dictionaries(st.sampled_from(["weight", "bias", "output", "scale", "shift", "table", "wieght"]),
                                 st.one_of(tensor_spec, junk), max_size=3)


def section(fields: dict):
    """A mapping with some of ``fields`` (each value from its strategy, or junk) and maybe an unknown key."""
    known = st.fixed_dictionaries({}, optional={k: st.one_of(v, v, junk) for k, v in fields.items()})
    return st.one_of(known, st.builds(lambda d, extra: {**d, **extra}, known, st.dictionaries(names, junk, max_size=1)))


SCHEMA = {
    "name": st.one_of(st.text(max_size=8), st.sampled_from(["tiny", "..", "a-b_c.d"])),
    "data": section({
        "source": st.sampled_from(["builtin", "csv", "parquet"]), "dataset": st.sampled_from(["seattle-temps", "x"]),
        "path": st.sampled_from(["x.csv", "~nosuchuser/x.csv", "a\0b", "", "/"]),
        "date_column": st.one_of(st.none(), st.just("date")), "features": st.lists(st.sampled_from(["temp", "v"]),
                                                                                   max_size=3),
        "target": st.just("temp"), "window": near(2, 512), "horizon": near(1, 512),
        "split": section({"train": st.one_of(st.floats(-0.5, 1.5), near(0, 5000)),
                          "val": st.one_of(st.floats(-0.5, 1.5), near(0, 5000)),
                          "test": st.one_of(st.floats(-0.5, 1.5), near(0, 5000))}),
        "scaling": st.sampled_from(["standard", "minmax", "zscore"]),
        "inputs": st.sampled_from(["levels", "differences", "deltas"])}),
    "model": section({"d_model": near(2, 256), "heads": near(1, 16), "layers": near(1, 8), "ffn": near(1, 1024),
                      "head": st.sampled_from(["mean", "mean_last", "last"]), "predict_delta": st.booleans()}),
    "quantization": section({
        "enabled": st.booleans(), "bits": near(2, 16), "weight_integer": near(-4, 8), "act_integer": near(-4, 10),
        "rounding": st.sampled_from(["conv", "trn", "rnd", "nearest"]), "overflow": st.sampled_from(["sat", "wrap", "x"]),
        "input": section({"bits": near(2, 32), "integer": near(1, 16)}),
        "output": section({"bits": near(2, 32), "integer": near(1, 16)}),
        "softmax": section({"table_size": near(4, 4096), "index_frac": near(-4, 16), "exp_bits": near(2, 18),
                            "prob_bits": near(2, 16)}),
        "layers": st.dictionaries(layer_names, st.one_of(layer_override, junk), max_size=3)}),
    "training": section({"float_epochs": near(0, 10000), "qat_epochs": near(0, 10000), "batch_size": near(1, 65536),
                         "learning_rate": st.floats(-1, 2), "qat_learning_rate": st.floats(-1, 2),
                         "seed": st.integers(-1, 2 ** 32), "patience": near(1, 10000),
                         "qat_patience": near(1, 10000)}),
    "target": section({"part": st.sampled_from(["xc7s15ftgb196-2", "xc7a35tcpg236-1", "xc7z999", "xc7s15ftgb196-9",
                                                "XC7A35T-CPG236-1", ""]),
                       "clock_mhz": st.floats(-10, 1000), "headroom": st.floats(-0.5, 1.5)}),
    "hls": section({
        "tool": st.sampled_from(["vitis", "vivado", "quartus"]),
        "default_storage": st.sampled_from(["registers", "lutram", "bram", "auto", "flash"]),
        "storage": st.dictionaries(layer_names, st.sampled_from(["registers", "bram", "flash"]), max_size=3),
        "default_rom": st.sampled_from(["registers", "lutrom", "bram", "auto", "lutram"]),
        "rom": st.dictionaries(st.one_of(st.sampled_from(TABLES), names), st.sampled_from(["lutrom", "bram", "rom"]),
                               max_size=3),
        "default_parallelism": st.one_of(st.just("auto"), near(1, 4096)),
        "parallelism": st.dictionaries(layer_names, near(1, 4096), max_size=3),
        "default_multiplier": st.sampled_from(["dsp", "lut", "auto", "dps"]),
        "multiplier": st.dictionaries(layer_names, st.sampled_from(["dsp", "lut", "auto", "dps"]), max_size=3)}),
    "export": section({"vendor": st.sampled_from(["tsflow", "my co", "a.b-c"]), "library": st.sampled_from(["hls", "1x"]),
                       "ip_name": st.sampled_from(["tsflow_forecaster", "ip-1"]),
                       "version": st.sampled_from(["1.0", "1", "v2"]), "description": st.text(max_size=4),
                       "cosim": st.booleans(), "implementation": junk}),
}
# a configuration that is valid, or nearly: in-range values the checks that need the model shape then see
VALID = st.fixed_dictionaries({}, optional={
    "model": st.fixed_dictionaries({"d_model": st.sampled_from([4, 8, 12, 16]), "heads": st.sampled_from([1, 2, 4])},
                                   optional={"layers": st.integers(1, 2), "ffn": st.integers(1, 64),
                                             "predict_delta": st.booleans(),
                                             "head": st.sampled_from(["mean", "mean_last"])}),
    "data": st.fixed_dictionaries({}, optional={"window": st.integers(2, 32), "horizon": st.integers(1, 4),
                                                "inputs": st.sampled_from(["levels", "differences"])}),
    "quantization": st.fixed_dictionaries({}, optional={
        "bits": st.integers(2, 16), "weight_integer": st.integers(-4, 8), "act_integer": st.integers(-4, 10),
        "input": st.fixed_dictionaries({"bits": st.integers(2, 32), "integer": st.integers(1, 16)}),
        "softmax": st.fixed_dictionaries({}, optional={"table_size": st.integers(4, 4096),
                                                       "index_frac": st.integers(-4, 16),
                                                       "exp_bits": st.integers(2, 18), "prob_bits": st.integers(2, 16)}),
        "layers": st.dictionaries(st.sampled_from(LAYERS[:-3]), st.dictionaries(
            st.sampled_from(["weight", "bias", "output", "table"]),
            st.fixed_dictionaries({}, optional={"bits": st.integers(4, 16), "integer": st.integers(0, 4)}),
            max_size=2), max_size=2)}),
    "hls": st.fixed_dictionaries({}, optional={
        "storage": st.dictionaries(layer_names, st.sampled_from(["registers", "bram", "auto"]), max_size=2),
        "rom": st.dictionaries(st.one_of(st.sampled_from(TABLES), names), st.sampled_from(["lutrom", "bram"]),
                               max_size=2),
        "parallelism": st.dictionaries(layer_names, st.integers(1, 64), max_size=2),
        "multiplier": st.dictionaries(layer_names, st.sampled_from(["dsp", "lut"]), max_size=2)}),
    "target": st.fixed_dictionaries({}, optional={"part": st.sampled_from(["xc7s15ftgb196-2", "xc7a35tcpg236-1"])}),
})


@st.composite
def mutated(draw):
    """A nearly valid configuration with a few values replaced by junk or unknown keys added, at any depth."""
    raw = draw(VALID)
    for _ in range(draw(st.integers(0, 3))):
        node = raw
        while isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node, key=str)))
            if not isinstance(node[key], dict):
                break
            node = node[key]
        if isinstance(node, dict):
            node[draw(st.one_of(names, st.sampled_from(sorted(node, key=str)) if node else names))] = draw(junk)
    return raw


configs = st.one_of(
    mutated(),
    st.fixed_dictionaries({}, optional={k: st.one_of(v, v, v, junk) for k, v in SCHEMA.items()}),
    st.builds(lambda d, extra: {**d, **extra}, st.fixed_dictionaries({}, optional=SCHEMA),
              st.dictionaries(st.one_of(names, st.integers(0, 3)), junk, max_size=2)),
    junk,  # anything at all, the top level included
)


def shown(key) -> str:
    """A key as the messages spell it: as written, or quoted when it would not read as a key."""
    text = str(key)
    return text if text and text.isprintable() and not any(c.isspace() or c == "=" for c in text) else repr(key)


def key_paths(raw, prefix="") -> set[str]:
    """Every key path of ``raw`` as the messages spell it (``a.b.c``; list items by position)."""
    paths = set()
    items = raw.items() if isinstance(raw, dict) else enumerate(raw) if isinstance(raw, list) else ()
    for key, value in items:
        path = f"{prefix}{shown(key)}"
        paths.add(path)
        paths |= key_paths(value, path + ".")
    return paths


def names_a_path(text: str, paths: set[str]) -> bool:
    """``text`` holds one of ``paths`` as a whole key path (not only the start of a longer one)."""
    return any(re.search(rf"(?<![\w.\-]){re.escape(p)}(?![\w\-]|\.\w)", text) for p in paths if p.strip())


@settings(max_examples=400, **SETTINGS)
@given(configs)
def test_a_generated_config_is_accepted_or_refused_naming_a_key_of_it(raw):
    try:
        cfg = parse_config(raw)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("invalid configuration"), message
        if not isinstance(raw, dict):
            assert "top level must be a mapping" in message
            return
        paths = key_paths(raw)
        listed = [line[2:] for line in message.splitlines()[1:] if line.startswith("  ")]
        if listed:  # the schema's format: one "  key.path = value: what is allowed" line per problem
            for line in listed:
                path = line.split(" = ", 1)[0]  # a check across sections names its keys in its sentence
                assert path in paths or names_a_path(line, paths), (path, message)
        else:  # the checks that need the model shape: one line naming the key
            assert names_a_path(message, paths), message
    else:
        assert isinstance(cfg, FlowConfig)


# --------------------------------------------------------------------------------------- (b) CSV files

cells = st.one_of(
    st.integers(-1000, 1000).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-100, 100).map(lambda v: f"{v:.3f}"), st.sampled_from(["", " ", "NA", "NaN", "null", "inf", "-inf", "1e400",
                                                                     "abc", "1,5", '"2"', '"a,b"', "'", "\"", "2020-01-01",
                                                                     "2020-13-45", "12:00", "True", " 7 ", "1e308",
                                                                     "-1e308", "2020-01-01T00:00+05:00", "0x1f"]),
    st.text(alphabet="abc01-:. ", max_size=5))
header_names = st.one_of(st.sampled_from(["date", "v", "w", "temp", "", "v", "1", "2020-01-01"]),
                         st.text(alphabet="abvwxyz_ ", min_size=1, max_size=4))


numbers = st.one_of(st.integers(-1000, 1000).map(str), st.floats(-100, 100).map(lambda v: f"{v:.3f}"))


@st.composite
def csv_files(draw):
    header = draw(st.one_of(st.lists(header_names, min_size=0, max_size=4),
                            st.sampled_from([["date", "v"], ["date", "v", "w"], ["v", "w"], ["date", "temp", "v"]])))
    n = draw(st.integers(0, 40))
    dated = "date" in header and draw(st.integers(0, 3)) > 0
    zones = draw(st.sampled_from([[""], [""], ["Z"], ["", "+01:00"], ["Z", "-05:00"]]))
    ragged = draw(st.integers(0, 4)) == 0  # a file whose rows may be longer or shorter than its header
    odd = draw(st.sampled_from([0, 0, 20, 100, 1]))  # a random cell instead of a number in 1 of ``odd`` (0: none)
    rows = []
    for i in range(n):
        zone = draw(st.sampled_from(zones))
        width = len(header) + (draw(st.sampled_from([0, 0, 0, -1, 1])) if ragged else 0)
        row = [draw(cells) if odd and draw(st.integers(1, odd)) == 1 else draw(numbers) for _ in range(width)]
        if dated and width > header.index("date") and draw(st.integers(0, 19)):  # mostly good dates
            row[header.index("date")] = f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00" + zone
        if draw(st.integers(0, 19)) == 0:
            rows.append("")  # a blank line
        rows.append(",".join(row))
    sep = draw(st.sampled_from([",", ",", ",", ";"]))
    text = "\n".join([sep.join(header)] * draw(st.sampled_from([1, 1, 1, 0])) + rows)
    data = text.encode()
    if draw(st.integers(0, 19)) == 0:
        data = data[:draw(st.integers(0, len(data)))] + draw(st.binary(min_size=1, max_size=4))
    columns = [h for h in header if h] or ["v"]
    data_cfg = {
        "source": "csv",
        "target": draw(st.one_of(st.sampled_from(columns), st.just("temp"))),
        "date_column": draw(st.sampled_from(["date", None, columns[0]])),
        "features": draw(st.one_of(st.none(), st.lists(st.sampled_from(columns), min_size=1, max_size=3, unique=True))),
        "window": draw(st.integers(2, 4)),
        "horizon": draw(st.integers(1, 2)),
        "split": draw(st.one_of(st.just({"train": 0.6, "val": 0.2, "test": 0.2}),
                                st.fixed_dictionaries({"train": st.integers(1, 20), "val": st.integers(1, 10),
                                                       "test": st.integers(1, 10)}))),
        "scaling": draw(st.sampled_from(["standard", "minmax"])),
        "inputs": draw(st.sampled_from(["levels", "differences"])),
    }
    return data, data_cfg


@settings(max_examples=300, **SETTINGS)
@given(csv_files())
def test_a_generated_csv_loads_or_is_refused_naming_the_file_or_key(case):
    data, data_cfg = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "series.csv"
        path.write_bytes(data)
        try:
            cfg = parse_config({"data": {**data_cfg, "path": str(path)},
                                "model": {"d_model": 8, "heads": 1, "layers": 1, "ffn": 16}})
            with warnings.catch_warnings(record=True) as caught:  # nothing on stderr but tsflow's own message
                warnings.simplefilter("always")
                ds = load_dataset(cfg)
            assert not [w for w in caught if issubclass(w.category, (RuntimeWarning, UserWarning))], \
                [str(w.message) for w in caught]
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith("invalid configuration"), message
            assert "series.csv" in message or "data." in message, message
            assert "Traceback" not in message and len(message.splitlines()) <= 3, message
            return
    n = len(ds.train.y) + len(ds.val.y) + len(ds.test.y)
    assert n >= 3 and ds.train.x.shape[1:] == (data_cfg["window"], len(ds.features))
