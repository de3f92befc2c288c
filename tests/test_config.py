"""Bad configuration values: one clear message naming the key, the value and what is allowed."""
import subprocess
import sys

import pytest
import yaml

from flow.config import ConfigError, load_config, parse_config
from flow.data import load_dataset

from .conftest import ETTH1, small_raw


def _error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        cfg = parse_config(raw, "test.yaml")
        load_dataset(cfg)
    return str(exc.value)


def test_default_config_is_valid_and_has_the_windows_the_readme_quotes():
    from flow.config import load_config

    ds = load_dataset(load_config("configs/default.yaml"))
    # by hand: seattle-temps has 8,759 hourly rows; 0.6 / 0.2 / 0.2 of them, rounded down, are 5,255 / 1,751 /
    # 1,751 rows, less the window of 24 in each (docs/getting-started.md: "windows train 5,231, val 1,727, test 1,727")
    assert (len(ds.train.y), len(ds.val.y), len(ds.test.y)) == (5231, 1727, 1727)
    assert ds.features == ["temp"] and ds.train.x.shape[1:] == (24, 1)


def test_d_model_not_divisible_by_heads():
    raw = small_raw(d_model=10, heads=3)
    msg = _error(raw)
    assert "model" in msg and "d_model (10) must be divisible by heads (3)" in msg


def test_window_below_two():
    raw = small_raw()
    raw["data"]["window"] = 1
    msg = _error(raw)
    assert "data.window = 1" in msg and "allowed: >= 2" in msg


@pytest.mark.parametrize("bits", [1, 17])
def test_bits_outside_range(bits):
    raw = small_raw()
    raw["quantization"]["bits"] = bits
    msg = _error(raw)
    assert f"quantization.bits = {bits}: allowed: >= 2 and <= 16" in msg


def test_missing_csv(tmp_path):
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(tmp_path / "nope.csv"), "target": "OT"}
    msg = _error(raw)
    assert "data.path" in msg and "nope.csv" in msg and "not found" in msg


def test_a_url_as_data_path_or_config_is_said_to_be_a_url_not_a_missing_file(tmp_path):
    """tour 8 b59: a CONFIG given as a URL was 'configuration file not found: https:/raw...' (its '//' collapsed,
    nothing saying URLs are not read); a URL as data.path was a missing file under the config's folder."""
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": "https://example.com/data/ETTh1.csv", "target": "OT"}
    msg = _error(raw)
    assert ("data.path 'https://example.com/data/ETTh1.csv' is a URL; tsflow reads local files only: download it "
            "first (curl -LO https://example.com/data/ETTh1.csv) and give the downloaded file's path") in msg, msg
    url = "https://raw.githubusercontent.com/o/r/main/configs/default.yaml?x=1&y"
    proc = subprocess.run([sys.executable, "-m", "flow", "estimate", url], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == (f"error: Invalid value for 'CONFIG': '{url}' is a URL; tsflow reads local files "
                                   f"only: download it first (curl -LO '{url}') and give the downloaded file's path; "
                                   f"see 'tsflow estimate --help'")
    with pytest.raises(ConfigError, match=r"^configuration file 'https://.*' is a URL; tsflow reads local files only"):
        load_config(url)  # the API's answer, which the command's path check now gives first
    (tmp_path / "https:").mkdir()  # a local file whose path reads like a URL is read, not refused
    (tmp_path / "https:" / "c.yaml").write_text(yaml.safe_dump(small_raw()))
    proc = subprocess.run([sys.executable, "-m", "flow", "estimate", "https:/c.yaml"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_target_not_a_column(tmp_path):
    csv = tmp_path / "series.csv"
    csv.write_text("date,a,b\n" + "".join(f"2020-01-01 {i:02d}:00,{i},{2 * i}\n" for i in range(24)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(csv), "target": "OT", "window": 4,
                   "split": {"train": 0.5, "val": 0.25, "test": 0.25}}
    msg = _error(raw)
    assert "data.target = 'OT'" in msg and "a, b" in msg


def test_unknown_key_lists_allowed_keys():
    raw = small_raw()
    raw["model"]["dmodel"] = 16
    msg = _error(raw)
    assert "model.dmodel" in msg and "unknown key" in msg and "d_model" in msg


def test_bad_choice_lists_allowed_values():
    raw = small_raw()
    raw["quantization"]["rounding"] = "nearest"
    msg = _error(raw)
    assert "quantization.rounding = 'nearest'" in msg and "'conv'" in msg and "'trn'" in msg


def test_unknown_layer_override_lists_layer_names():
    raw = small_raw()
    raw["quantization"]["layers"] = {"enc3.ffn1": {"weight": {"bits": 4}}}
    msg = _error(raw)
    assert "quantization.layers.enc3.ffn1" in msg and "enc0.ffn1" in msg


def test_override_role_the_layer_does_not_have():
    raw = small_raw()
    raw["quantization"]["layers"] = {"enc0.add1": {"weight": {"bits": 4}}}
    msg = _error(raw)
    assert "quantization.layers.enc0.add1.weight" in msg and "allowed: output" in msg


def test_mixed_precision_override_reaches_the_layer():
    from flow.precision import resolve_precisions

    raw = small_raw()
    raw["quantization"]["layers"] = {"enc0.ffn1": {"weight": {"bits": 4}, "output": {"bits": 6, "integer": 2}}}
    prec = resolve_precisions(parse_config(raw))
    assert prec["enc0.ffn1"]["weight"].width == 4
    assert (prec["enc0.ffn1"]["output"].width, prec["enc0.ffn1"]["output"].integer) == (6, 2)
    assert prec["enc0.ffn2"]["weight"].width == 8


def test_cli_bad_value_exit_2_no_traceback_nothing_written(tmp_path):
    raw = small_raw(d_model=10, heads=3)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "flow", "train", str(cfg), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "divisible by heads" in proc.stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()


def test_cli_refuses_to_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "mine.txt").write_text("earlier work")
    proc = subprocess.run([sys.executable, "-m", "flow", "train", "configs/default.yaml", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert (out / "mine.txt").read_text() == "earlier work"


@pytest.mark.skipif(not ETTH1.exists(), reason="ETTh1.csv is not beside the project (../shared/data)")
def test_etth1_target_typo_names_the_columns():
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(ETTH1), "target": "oil", "window": 24}
    msg = _error(raw)
    assert "data.target = 'oil'" in msg and "HUFL" in msg and "OT" in msg


def test_sum_too_wide_for_exact_float64():
    raw = small_raw()
    raw["quantization"]["input"] = {"bits": 32, "integer": 2}
    raw["quantization"]["layers"] = {"embed": {"weight": {"bits": 16, "integer": -8}, "bias": {"bits": 16, "integer": 16}}}
    msg = _error(raw)
    assert "quantization.layers.embed" in msg and "at most 53" in msg


def test_softmax_table_must_hold_one():
    raw = small_raw()
    raw["quantization"]["layers"] = {"enc0.softmax": {"table": {"integer": 0}}}
    assert "enc0.softmax.table" in _error(raw)


def test_non_finite_values_are_refused(tmp_path):
    csv = tmp_path / "inf.csv"
    csv.write_text("date,v\n" + "".join(f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00,{'inf' if i == 50 else i}\n"
                                        for i in range(200)))
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(csv), "target": "v", "window": 4}
    assert "infinite" in _error(raw)


def test_left_over_partial_folder_is_not_deleted(tmp_path):
    out = tmp_path / "run"
    partial = tmp_path / "run.partial"
    partial.mkdir()
    (partial / "notes.txt").write_text("mine")
    proc = subprocess.run([sys.executable, "-m", "flow", "train", "configs/default.yaml", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert (partial / "notes.txt").read_text() == "mine"


# --- the user tour: values that read as something else ------------------------------------------------------------

def _tour(**sections) -> dict:
    raw = {"data": {"source": "builtin", "dataset": "seattle-temps", "features": ["temp"], "target": "temp",
                    "window": 8}, "model": {"d_model": 4}}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return raw


def _tour_error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, "c.yaml")
    return str(exc.value)


def test_split_fractions_that_do_not_sum_to_one_name_the_keys_left_at_their_defaults():
    msg = _tour_error(_tour(data={"split": {"train": 0.8, "val": 0.2}}))
    # 0.8 + 0.2 + the default test 0.2 = 1.2
    assert "fractions sum to 1.2, not 1" in msg
    assert "test was not given and took its default 0.2" in msg and "train: 0.8, val: 0.2, test: 0.2" in msg


@pytest.mark.parametrize("value, said", [(float("nan"), "NaN is not a fraction or a row count"),
                                         (True, "a boolean (YAML true / false) is not a fraction")])
def test_a_split_value_that_is_nan_or_a_boolean_is_named(value, said):
    msg = _tour_error(_tour(data={"split": {"train": value, "val": 0.2, "test": 0.2}}))
    assert f"data.split.train = {value!r}: {said}" in msg
    assert "not a mix" not in msg


def test_split_percentages_give_one_line_per_key_with_the_fractions_to_write():
    msg = _tour_error(_tour(data={"split": yaml.safe_load("{train: 60%, val: 20%, test: 20%}")}))
    lines = msg.splitlines()[1:]
    assert len(lines) == 3, msg
    assert "data.split.train = '60%': allowed: a fraction like 0.6" in lines[0] and "0.6 for 60%" in lines[0]
    assert "0.2 for 20%" in lines[1] and "0.2 for 20%" in lines[2]
    assert "an integer" in lines[0] and "allowed: an integer" not in msg


def test_a_mix_of_fractions_and_row_counts_names_each_value():
    msg = _tour_error(_tour(data={"split": {"train": 100, "val": 0.2, "test": 0.2}}))
    assert "train: 100 (a row count), val: 0.2 (a fraction), test: 0.2 (a fraction)" in msg and "not a mix" in msg


def test_an_export_version_written_as_a_yaml_number_says_to_quote_it():
    msg = _tour_error(_tour(export=yaml.safe_load("{version: 1.0}")))
    assert "export.version = 1.0: YAML read this as the number 1.0" in msg and "version: '1.0'" in msg
    assert parse_config(_tour(export={"version": "1.0"})).export.version == "1.0"


def test_a_layer_name_with_its_tensor_glued_on_says_how_to_nest_it():
    msg = _tour_error(_tour(quantization={"layers": {"enc0.q.weight": {"bits": 4}}}))
    assert "quantization.layers.enc0.q.weight: 'enc0.q.weight' is the layer name 'enc0.q' with the tensor " \
           "'weight' glued on by a dot; write it as enc0.q: {weight: {bits: 4}}" in msg
    assert "unknown key" not in msg


@pytest.mark.parametrize("section, key, value, said", [
    ("model", "heads", True, "write an integer >= 1 and <= 16"),
    ("training", "learning_rate", True, "write a number > 0 and <= 1"),
    ("export", "cosim_windows", False, "write an integer >= 1 and <= 1000000"),
    ("data", "window", True, "write an integer >= 2 and <= 512")])
def test_a_boolean_is_not_a_number_anywhere(section, key, value, said):
    msg = _tour_error(_tour(**{section: {key: value}}))
    assert f"{section}.{key} = {value!r}: {str(value).lower()} is a boolean (YAML true / false), not a number" in msg
    assert said in msg


def test_a_boolean_in_a_mapping_of_numbers_is_named():
    msg = _tour_error(_tour(hls={"parallelism": {"enc0.q": True}}))
    assert "hls.parallelism = {...}: enc0.q: true is a boolean" in msg


@pytest.mark.parametrize("layers, where", [({"enc0.q": {"weight": {}}}, "quantization.layers.enc0.q.weight"),
                                           ({"enc0.q": {}}, "quantization.layers.enc0.q")])
def test_an_empty_override_is_refused(layers, where):
    msg = _tour_error(_tour(quantization={"layers": layers}))
    assert f"{where} = {{...}}:" in msg and "would do nothing" in msg


def test_quantization_settings_with_quantization_off_are_refused():
    msg = _tour_error(_tour(quantization={"enabled": False, "bits": 4,
                                          "layers": {"enc0.q": {"weight": {"bits": 6}}}}))
    assert "quantization.enabled = False, but quantization.bits, quantization.layers are set" in msg
    assert "ignored" in msg


def test_quantization_off_alone_and_a_dumped_config_set_to_float_are_accepted():
    assert not parse_config(_tour(quantization={"enabled": False})).quantization.enabled
    raw = parse_config(_tour(quantization={"bits": 4})).model_dump(mode="json")  # every key, as tsflow dumps
    raw["quantization"]["enabled"] = False  # what the search's float models and the benchmarks do
    assert parse_config(raw).quantization.bits == 4


# ------------------------------------------------------------------ tour 5: keys, numbers and types a user mistakes

@pytest.mark.parametrize("section, key, value, said", [
    ("data", "lookback", "previous", "data.lookback = 'previous': unknown key (lookback is a key of data.split: write "
                                     "split: {lookback: previous} under data)"),
    ("data", "train", 0.6, "data.train = 0.6: unknown key (train is a key of data.split: write split: {train: 0.6} "
                           "under data)"),
    ("quantization", "exp_bits", 8, "quantization.exp_bits = 8: unknown key (exp_bits is a key of "
                                    "quantization.softmax: write softmax: {exp_bits: 8} under quantization)"),
    ("quantization", "integer", 4, "(integer is a key of quantization.input and quantization.output: write input: "
                                   "{integer: 4} or output: {integer: 4} under quantization)"),
    ("model", "window", 8, "model.window = 8: unknown key (window is a key of data, not of model: move it there)"),
])
def test_a_key_written_in_the_wrong_section_says_where_it_belongs(section, key, value, said):
    """Tour 5 a04: the hint for a top-level key that belongs to a section, for keys of every depth."""
    msg = _tour_error(_tour(**{section: {key: value}}))
    assert said in msg, msg
    assert "allowed keys here:" in msg


def test_weight_integer_too_wide_for_the_norm_scales_names_the_setting_and_its_range():
    """Tour 5 d14: the LayerNorm scales take weight_integer + 1 integer bits: said, with the range that fits."""
    msg = _tour_error(_tour(quantization={"bits": 4, "weight_integer": 4}))
    assert ("quantization.weight_integer = 4 with quantization.bits = 4: the LayerNorm scales (enc0.norm1.scale, ...) "
            "take weight_integer + 1 = 5 integer bits, more than their 4 bits; allowed: quantization.weight_integer "
            "from -4 to 3 at 4 bits, or set quantization.layers.enc0.norm1.scale.integer") in msg, msg
    assert parse_config(_tour(quantization={"bits": 4, "weight_integer": 3})).quantization.weight_integer == 3
    msg = _tour_error(_tour(quantization={"bits": 4, "act_integer": 4}))  # the scores: act_integer + 1
    assert "the attention scores (enc0.scores.output, ...) take act_integer + 1 = 5 integer bits" in msg
    assert "quantization.act_integer from -4 to 3 at 4 bits" in msg


@pytest.mark.parametrize("layers, said", [
    ({"enc0.q.weight.bits": 4}, "quantization.layers.enc0.q.weight.bits: 'enc0.q.weight.bits' is the layer name "
                                "'enc0.q' with the tensor 'weight' and its field 'bits' glued on by dots; write it "
                                "as enc0.q: {weight: {bits: 4}}"),
    ({"enc0.q": {"weight.bits": 4}}, "'weight.bits' is the tensor 'weight' with its field 'bits' glued on by a dot; "
                                     "write it as enc0.q: {weight: {bits: 4}}"),
    ({"enc0.q.bits": 4}, "'enc0.q.bits' is the layer name 'enc0.q' with the field 'bits' glued on by a dot"),
    ({"enc0.q": 4}, "quantization.layers.enc0.q = 4: a section, not a value: its keys go indented below it (bias, "
                    "output, scale, shift, table, weight)"),
])
def test_a_fully_dotted_layer_key_says_how_to_nest_it_and_never_names_a_class(layers, said):
    """Tour 5 d16: no pydantic class name (LayerOverride) in any message."""
    msg = _tour_error(_tour(quantization={"layers": layers}))
    assert said in msg, msg
    assert "LayerOverride" not in msg and "Input should be" not in msg


def test_an_orderable_part_number_is_refused_with_the_vivado_part_string():
    """Tour 5 f02: XC7S50-1CSGA324C (speed grade before the package, temperature grade C) is xc7s50csga324-1."""
    msg = _tour_error(_tour(target={"part": "XC7S50-1CSGA324C"}))
    assert "target.part = 'XC7S50-1CSGA324C'" in msg and "orderable part number of xc7s50csga324-1" in msg, msg
    assert "write xc7s50csga324-1" in msg
    from flow.parts import reordered

    assert reordered("XC7A35T-L1CSG324I") == "xc7a35ticsg324-1L" and reordered("XC7Z020-1CLG400C") == "xc7z020clg400-1"
    assert reordered("xc7s50csga324-1") is None and reordered("XC7S50-3CSGA324C") is None  # a part string; no -3


def test_scientific_notation_without_a_dot_is_a_number_in_every_key(tmp_path):
    """Tour 5 o17: YAML 1.1 reads 6e-1 and 1e-3 as text; tsflow's loader reads them as numbers everywhere (pydantic
    took learning_rate: 1e-3 as a number already, the split refused 6e-1), so the two agree."""
    from flow.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text("data:\n  window: 8\n  split: {train: 6e-1, val: 2e-1, test: 2E-1}\nmodel: {d_model: 4}\n"
                    "training: {learning_rate: 1e-3, qat_learning_rate: 3.0e-4, batch_size: 1e2}\n")
    cfg = load_config(path)
    assert (cfg.data.split.train, cfg.data.split.val, cfg.data.split.test) == (0.6, 0.2, 0.2)
    assert cfg.training.learning_rate == 0.001 and cfg.training.qat_learning_rate == 3e-4
    assert cfg.training.batch_size == 100
    path.write_text("data:\n  split: {train: '6e-1', val: 0.2, test: 0.2}\n")  # quoted: text, as every quoted number
    with pytest.raises(ConfigError, match=r"data.split.train = '6e-1': a string \(quoted in the YAML\), not a number; "
                                          r"write it without the quotes \(6e-1\)"):
        load_config(path)


def test_qat_settings_with_quantization_off_are_refused():
    """Tour 5 v02: as the same keys with qat_epochs: 0 are; a dumped configuration set to float is not refused."""
    msg = _tour_error(_tour(quantization={"enabled": False},
                            training={"qat_epochs": 5, "qat_learning_rate": 1e-4, "qat_patience": 3}))
    assert ("quantization.enabled = False, but training.qat_epochs, training.qat_learning_rate, training.qat_patience "
            "are set: without quantization there is no quantization-aware phase, so they do nothing") in msg, msg
    assert not parse_config(_tour(quantization={"enabled": False}, training={"qat_epochs": 0})).quantization.enabled
    raw = parse_config(_tour(training={"qat_patience": 3})).model_dump(mode="json")
    raw["quantization"]["enabled"] = False  # the search's float models: every key written
    assert parse_config(raw).training.qat_patience == 3


def test_a_yaml_set_of_features_is_refused_with_the_list_to_write():
    """Tour 5 r14: !!set {HUFL, OT} has the order of string hashes; the features' order is the IP's input layout."""
    from flow.config import load_yaml

    msg = _tour_error(_tour(data=load_yaml("features: !!set {temp, dew}")))
    assert ("data.features = !!set {dew, temp}: a YAML set (!!set) has no order, and the order of data.features is "
            "the IP's input layout") in msg, msg
    assert "write a list in the order you mean, such as [dew, temp]" in msg


@pytest.mark.parametrize("value", [0.125, 0.5])
def test_a_clock_uncertainty_below_one_percent_is_refused_as_a_fraction(value):
    """Tour 5 f10: target.clock_uncertainty is a percentage; below 1 it is a fraction (or ns) written where percent is
    meant, which would leave the scheduler next to no margin: refused (chosen over a warning: no HLS flow keeps
    under 1 % of the period free on purpose). 0, no margin at all, is allowed."""
    msg = _tour_error(_tour(target={"clock_uncertainty": value}))
    assert f"target.clock_uncertainty = {value}: a percentage of the clock period" in msg, msg
    assert f"write {value * 100:g} for {value * 100:g} %" in msg
    assert "allowed: 0, a number from 5 to below 100 (percent), or the value with its unit" in msg
    assert parse_config(_tour(target={"clock_uncertainty": 0})).target.clock_uncertainty == 0
    assert parse_config(_tour(target={"clock_uncertainty": "1%"})).target.clock_uncertainty == 1  # said: tour 6 a77


def test_a_model_trained_from_another_configuration_names_the_keys_that_differ(tmp_path):
    """Tour 5 j01 / j02: not only the section (data), the keys and both values."""
    from flow.build import check_same_training

    trained = parse_config(_tour())
    for change, said in [({"steps": 3}, "data.steps = 1 in that run, 3 in this configuration"),
                         ({"split": {"lookback": "previous"}},
                          "data.split.lookback = 'own' in that run, 'previous' in this configuration")]:
        with pytest.raises(ConfigError) as exc:
            check_same_training(parse_config(_tour(data=change)), trained, tmp_path / "run")
        assert f"--trained {tmp_path / 'run'}: that model was trained from a different configuration: {said}" in \
            str(exc.value), str(exc.value)


# ------------------------------------------------------------------ tour 6: pydantic's wording, keys that do nothing

def test_a_patch_without_its_stride_names_the_length_given_and_the_strides_allowed():
    """Tour 6 a01: was 'model.patch.stride = {...}: Field required' (the patch mapping shown as stride's value)."""
    msg = _tour_error(_tour(data={"window": 16}, model={"patch": {"length": 4}}))
    assert ("model.patch.stride: required with model.patch.length = 4: the steps from the start of one patch to the "
            "next, 1 .. 4 (the length: patches that do not overlap; less: patches that overlap)") in msg, msg
    assert "Field required" not in msg and "{...}" not in msg


@pytest.mark.parametrize("data, said", [
    ({"date_column": 0}, ["data.date_column = 0: a column is named as the header row (the first line of e.csv) has "
                          "it, not by its position: write its name; for a file without time stamps (rows in file "
                          "order) write date_column: null"]),
    ({"features": [1, 7], "target": 7},
     ["data.features.0 = 1: a column is named as the header row (the first line of e.csv) has it, not by its "
      "position: write its name", "data.features.1 = 7: a column", "data.target = 7: a column is named"]),
    ({"date_column": False}, ["data.date_column = False: false is YAML's boolean (so are no and off, unquoted), not a "
                              "column name; for a file without time stamps (rows in file order) write date_column: "
                              "null"]),
    ({"features": "all"}, ["data.features = 'all': 'all' is no keyword here: for every numeric column of the file but "
                           "the date column leave data.features out (or write features: null)"]),
], ids=["date-column-a-position", "features-and-target-positions", "date-column-false", "features-all"])
def test_a_column_key_given_a_position_a_boolean_or_all_says_how_columns_are_named(data, said):
    """Tour 6 a17, a18, a72, a73: was pydantic's 'Input should be a valid string', and for false / 'all' a fix that
    fails again (quote 'false', write [all])."""
    msg = _tour_error(_tour(data={"source": "csv", "path": "e.csv", "features": ["OT"], "target": "OT", **data}))
    for text in said:
        assert text in msg, msg
    assert "Input should be" not in msg and "[all]; " not in msg and "quote it" not in msg


def test_a_key_other_tools_name_a_setting_by_names_the_setting():
    """Tour 6 a69: data.lookback: 96 was sent to data.split.lookback, which takes own or previous; a value that
    fits data.split.lookback is still sent there (tour 5 a04, above)."""
    msg = _tour_error(_tour(data={"lookback": 96}))
    assert ("data.lookback = 96: unknown key (a look-back length is data.window: write window: 96 instead; "
            "data.split.lookback is another setting, which takes 'own' or 'previous')") in msg, msg
    assert "split: {lookback: 96}" not in msg
    msg = _tour_error(_tour(model={"n_heads": 2}))
    assert "model.n_heads = 2: unknown key (the number of attention heads is model.heads: write heads: 2" in msg, msg


def test_dotted_keys_where_the_yaml_nests_get_the_nesting_to_write():
    """Tour 6 a91: 'model.d_model = 8: unknown key' read as 'd_model is not a key of model'."""
    raw = _tour()
    del raw["model"]
    raw.update({"model.d_model": 8, "model.patch.length": 4, "model.patch.stride": 4})
    msg = _tour_error(raw)
    assert ("'model.d_model', 'model.patch.length', 'model.patch.stride': keys with dots in their names, which YAML "
            "reads as one key each, not as a path (dotted keys are the form of search.space); sections are nested: "
            "write model: {d_model: 8, patch: {length: 4, stride: 4}}") in msg, msg
    assert "unknown key" not in msg
    msg = _tour_error(_tour(data={"split.train": 0.5, "split.val": 0.25, "split.test": 0.25}))
    assert "write split: {train: 0.5, val: 0.25, test: 0.25} under data" in msg, msg


def test_layer_names_split_at_their_dot_into_nested_keys_get_the_layer_names_to_write():
    """Tour 6 a92: 'quantization.layers.enc0.q = {...}: unknown key' named the very layer the user meant."""
    msg = _tour_error(_tour(quantization={"layers": {"enc0": {"q": {"weight": {"bits": 4}},
                                                              "k": {"weight": {"bits": 4}}}}}))
    assert ("quantization.layers.enc0: not a layer: layer names hold their dot (enc0.q, enc0.k) and are one key each; "
            "write enc0.q: {weight: {bits: 4}} and enc0.k: {weight: {bits: 4}} directly under "
            "quantization.layers") in msg, msg
    assert "unknown key" not in msg
    msg = _tour_error(_tour(quantization={"layers": {"embed": {"weights": {"bits": 4}}}}))  # a typo stays one
    assert "quantization.layers.embed.weights = {...}: unknown key" in msg and "not a layer" not in msg


@pytest.mark.parametrize("quantization, said", [
    ({"softmax": {"prob_bits": 12}, "layers": {"enc0.softmax": {"output": {"bits": 6}}}},
     "quantization.softmax.prob_bits = 12 is set, but quantization.layers.enc0.softmax.output.bits = 6 overrides it in "
     "the only tensor it sets (enc0.softmax.output), so quantization.softmax.prob_bits does nothing; remove one of "
     "them"),
    ({"input": {"bits": 8}, "layers": {"input": {"output": {"bits": 12}}}},
     "quantization.input.bits = 8 is set, but quantization.layers.input.output.bits = 12 overrides it in the only "
     "tensor it sets (input.output), so quantization.input.bits does nothing"),
    ({"output": {"integer": 4},
      "layers": {"head": {"output": {"integer": "auto"}}, "delta": {"output": {"integer": 3}}}},
     "quantization.output.integer = 4 is set, but quantization.layers.head.output.integer = 'auto', "
     "quantization.layers.delta.output.integer = 3 override it in every tensor it sets (head.output, delta.output)"),
], ids=["prob_bits", "input.bits", "output.integer"])
def test_a_quantization_key_every_tensor_of_which_is_overridden_is_refused(quantization, said):
    """Tour 6 a26, a27: the section key was dropped without a word (docs: keys that would do nothing are refused)."""
    msg = _tour_error(_tour(quantization=quantization))
    assert f"invalid configuration c.yaml: {said}" in msg, msg


def test_a_quantization_key_that_still_sets_a_tensor_and_a_dumped_configuration_are_accepted():
    two_layers = _tour(model={"layers": 2}, quantization={"softmax": {"prob_bits": 12},
                                                          "layers": {"enc0.softmax": {"output": {"bits": 6}}}})
    cfg = parse_config(two_layers)  # enc1's probabilities still take prob_bits
    from flow.precision import resolve_precisions
    assert resolve_precisions(cfg)["enc1.softmax"]["output"].width == 12
    raw = parse_config(_tour(quantization={"layers": {"input": {"output": {"bits": 12}}}})).model_dump(mode="json")
    assert raw["quantization"]["input"]["bits"] == 12  # every key dumped: none tells what the user meant
    assert parse_config(raw).quantization.layers["input"].output.bits == 12


def test_a_clock_uncertainty_that_reads_as_nanoseconds_is_refused_and_a_unit_says_which_is_meant():
    """Tour 6 a77: 1.25 (Vitis HLS's set_clock_uncertainty takes nanoseconds) was taken as 1.25 %, 0.125 ns at
    100 MHz; a plain number below 5 is refused with both readings, a value with its unit is taken as written."""
    msg = _tour_error(_tour(target={"clock_uncertainty": 1.25}))
    assert ("target.clock_uncertainty = 1.25: a percentage of the clock period, so 1.25 keeps 1.25 % of the 10 ns "
            "period (125 ps) free for the tool, far below both tools' defaults (Vivado HLS 12.5 %, Vitis HLS 27 %): "
            "likely nanoseconds written where percent is meant; write 12.5 (or '1.25ns') for 1.25 ns, or '1.25%' for "
            "1.25 % itself") in msg, msg
    assert parse_config(_tour(target={"clock_uncertainty": "1.25ns"})).target.clock_uncertainty == 12.5
    assert parse_config(_tour(target={"clock_mhz": 50, "clock_uncertainty": "2.5 ns"})).target.clock_uncertainty == 12.5
    cfg = parse_config(_tour(target={"clock_uncertainty": "1.25%"}))
    assert cfg.target.clock_uncertainty == 1.25
    dumped = cfg.model_dump(mode="json")  # a run folder's config.yaml reads back as it was meant
    assert dumped["target"]["clock_uncertainty"] == "1.25%" and parse_config(dumped).target.clock_uncertainty == 1.25
    assert parse_config(_tour()).model_dump(mode="json")["target"]["clock_uncertainty"] == 12.5
    assert "10 ns is the whole 10 ns clock period or more" in _tour_error(_tour(target={"clock_uncertainty": "10ns"}))


def test_cli_a_column_position_exits_2_with_the_key_and_leaves_no_folder(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(_tour(data={"source": "csv", "path": "e.csv", "features": ["OT"], "target": 7})))
    proc = subprocess.run([sys.executable, "-m", "flow", "train", str(cfg), "--out", str(tmp_path / "r")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "data.target = 7: a column is named as the header row" in proc.stderr, proc.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.partial").exists()


# --- tour 7: numbers as the user wrote them ------------------------------------------------------------------------

def test_split_row_counts_written_as_whole_floats_are_row_counts_and_a_real_mix_is_said():
    """Tour 7 a04: 1200.0 / 400.0 / 400.0 (as pandas prints row counts) were refused as 'not a mix'."""
    split = parse_config(_tour(data={"split": {"train": 1200.0, "val": 400.0, "test": 400.0}})).data.split
    assert (split.train, split.val, split.test) == (1200, 400, 400) and split.is_rows
    assert all(type(v) is int for v in (split.train, split.val, split.test))
    msg = _tour_error(_tour(data={"split": {"train": 1200.0, "val": 0.2, "test": 0.2}}))
    assert ("train: 1200.0 (a whole number, so a row count), val: 0.2 (a fraction), test: 0.2 (a fraction): use "
            "fractions (all < 1, summing to 1) or row counts (all integers), not a mix") in msg, msg
    msg = _tour_error(_tour(data={"split": {"train": 0.6, "val": 0.2, "test": 1.5}}))
    assert "test: 1.5 (neither a fraction (< 1) nor a row count (not an integer))" in msg and "not a mix" not in msg


def test_a_quoted_clock_uncertainty_is_the_number_as_other_quoted_numbers_are():
    """Tour 7 a10: '12.5' was refused though clock_mhz: '100' and headroom: '0.3' are taken as numbers."""
    target = parse_config(_tour(target={"clock_mhz": "100", "clock_uncertainty": "12.5"})).target
    assert target.clock_uncertainty == 12.5 and target.clock_mhz == 100
    msg = _tour_error(_tour(target={"clock_uncertainty": "1.25"}))  # checked as the number is: unsure, both readings
    assert "target.clock_uncertainty = '1.25': a percentage of the clock period, so 1.25 keeps 1.25 %" in msg, msg
    assert "write 12.5 (or '1.25ns') for 1.25 ns" in msg


@pytest.mark.parametrize("value", ["-1ns", -1, "-5%", "-12.5"])
def test_a_negative_clock_uncertainty_says_it_is_negative_and_the_range(value):
    """Tour 7 a108: '-1ns' was told to be written with its unit, as it was."""
    msg = _tour_error(_tour(target={"clock_uncertainty": value}))
    assert (f"target.clock_uncertainty = {value!r}: negative: it is the part of the clock period the HLS tool keeps "
            f"free, 0 at the least; allowed: 0 to below 100 (percent), or 0 ns to below 10 ns (the period at "
            f"target.clock_mhz = 100)") in msg, msg


@pytest.mark.parametrize("flag", ["M", "S", "ms"])
def test_ltsf_feature_modes_say_what_to_write_instead(flag):
    """Tour 7 a18: features: M (LTSF-Linear's --features) was told to be written [M], which names no column."""
    msg = _tour_error(_tour(data={"source": "csv", "path": "e.csv", "features": flag, "target": "OT"}))
    assert (f"data.features = {flag!r}: {flag!r} reads as the --features flag of LTSF-Linear / Informer (M, S or "
            f"MS), which is no keyword here") in msg, msg
    assert ("for M or MS (every column in) leave data.features out (or write features: null: every numeric column of "
            "the file but the date column), for S (the target alone) write features: [OT]") in msg
    assert f"[{flag}] only for a column named {flag}" in msg and f"write it as [{flag}]" not in msg


def test_a_column_key_given_a_number_says_to_quote_it_if_the_header_has_that_name():
    """Tour 7 a92: the header named columns 1 and 2; the message only said to name columns, not to quote them."""
    msg = _tour_error(_tour(data={"source": "csv", "path": "e.csv", "features": [1, 2, "OT"], "target": "OT"}))
    for n in (1, 2):
        assert (f"data.features.{n - 1} = {n}: a column is named as the header row (the first line of e.csv) has it, "
                f"not by its position: write its name; YAML reads an unquoted {n} as a number: if the header does "
                f"name a column {n}, write '{n}' (quoted)") in msg, msg


def test_an_export_version_is_quoted_as_the_file_writes_it(tmp_path):
    """Tour 7 a57: version: 1.10 (read by YAML as 1.1) was told to be quoted as '1.1', another version."""
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(_tour()) + "export: {version: 1.10}\n")
    proc = subprocess.run([sys.executable, "-m", "flow", "train", str(config), "--out", str(tmp_path / "r")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = len(config.read_text().splitlines())
    assert (f"export.version = 1.1: line {line} writes version: 1.10, which YAML reads as the number 1.1, not as the "
            f"text of a version; quote it as written: version: '1.10'") in proc.stderr, proc.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.partial").exists()
    msg = _tour_error(_tour(export={"version": 1.1}))  # a mapping has no text: what a trailing zero does is said
    assert "quote it: version: '1.1' (as written: a number drops a trailing zero, so 1.10 reads as 1.1" in msg, msg


def test_a_misspelt_section_is_named_and_a_quoted_memory_size_is_the_number():
    """tour 8, a92: a top-level train: {...} was told 'train is a key of data.split, which takes , not ...';
    a45: export.local_memory_kb: '16' was refused with a list holding 16."""
    with pytest.raises(ConfigError, match=r"train = \{\.\.\.\}: unknown key \(the section training: holds keys such as "
                                          r"these: write training: \{float_epochs: 1, qat_epochs: 1\}\)"):
        parse_config({"name": "x", "train": {"float_epochs": 1, "qat_epochs": 1}})
    with pytest.raises(ConfigError, match=r"quantisation = \{\.\.\.\}: unknown key \(the section quantization:"):
        parse_config({"name": "x", "quantisation": {"bits": 4}})
    axi = {"name": "x", "hls": {"interface": "s_axilite"}}
    assert parse_config({**axi, "export": {"local_memory_kb": "16"}}).export.local_memory_kb == 16
    with pytest.raises(ConfigError, match=r"export.local_memory_kb = 12: allowed: 8, 16, 32 or 64"):
        parse_config({**axi, "export": {"local_memory_kb": "12"}})


def test_an_hls_name_split_at_its_dot_says_to_write_it_whole():
    """tour 8, a36: hls.storage: {enc0: {q: bram}} was told only the storage kinds allowed."""
    with pytest.raises(ConfigError, match=r"hls.storage.enc0 = \{\.\.\.\}: names hold their dot and are one key each; "
                                          r"write enc0.q: bram, enc0.k: lutram directly under hls.storage"):
        parse_config({"name": "x", "hls": {"storage": {"enc0": {"q": "bram", "k": "lutram"}}}})
