"""search.space keys refused before any work: a key below a section the configuration leaves unset, and keys that
change the forecasting task, so that the candidates' val_mse would not compare (tour 6 a43, a47)."""
import json
import re
import subprocess
import sys

import pytest
import yaml

from flow.config import ConfigError, parse_config
from flow.search.space import check_space

from .conftest import CLI_ENV, TINY


def _config(space: dict, **data) -> dict:
    raw = json.loads(json.dumps(TINY))
    raw["data"].update(data)
    raw["search"] = {"space": space, "float_epochs": 1, "qat_epochs": 1}
    return raw


def _refusal(space: dict, **data) -> str:
    with pytest.raises(ConfigError) as exc:
        check_space(parse_config(_config(space, **data)))
    return str(exc.value)


def test_a_key_below_an_unset_section_says_to_set_the_section_or_search_it_whole():
    msg = _refusal({"model.patch.length": [2, 4]})
    assert ("search.space.model.patch.length: model.patch is not set in this configuration (null, its default), so a "
            "searched length has no section to go in") in msg, msg
    assert "set model.patch in the configuration" in msg and "such as model.patch: [{length: 2, ...}, ...]" in msg
    assert "is not a section" not in msg
    with_patch = _config({"model.patch.length": [2, 4]})
    with_patch["model"]["patch"] = {"length": 2, "stride": 2}
    check_space(parse_config(with_patch))  # each choice replaces the length of the configured patch
    check_space(parse_config(_config({"model.patch": [{"length": 2, "stride": 2}, {"length": 4, "stride": 4}]})))


@pytest.mark.parametrize("space, said", [
    ({"data.steps": [1, 4], "data.horizon": [1, 12]},
     "search.space.data.steps, search.space.data.horizon: data.steps sets how many values are forecast; data.horizon "
     "sets how far ahead the forecast is, so candidates with different choices would be scored on different tasks and "
     "their val_mse could not be compared; set them in the data section and search one task at a time"),
    ({"data.target": ["temp"]}, "search.space.data.target: data.target sets which column is forecast"),
    ({"data.split.lookback": ["own", "previous"]},
     "search.space.data.split.lookback: data.split sets which rows are the validation split"),
    ({"data.gaps": ["allow", "fill"]}, "search.space.data.gaps: data.gaps sets which rows the series has"),
], ids=["steps-horizon", "target", "split", "gaps"])
def test_a_key_that_changes_the_forecasting_task_is_refused(space, said):
    assert said in _refusal(space)


def test_the_window_is_searched_only_where_every_window_forecasts_the_same_validation_rows():
    msg = _refusal({"data.window": [8, 16]})
    assert ("search.space.data.window = [8, 16]: with data.split.lookback: own (the default) the first data.window "
            "rows of the validation split are look-back only") in msg, msg
    assert "set data.split.lookback: previous" in msg
    check_space(parse_config(_config({"data.window": [8, 16]}, split={"lookback": "previous"})))


def test_data_keys_that_leave_the_task_as_it_is_may_be_searched():
    check_space(parse_config(_config({"data.inputs": ["levels", "differences"],
                                      "data.scaling": ["standard", "minmax"]})))


def test_cli_a_search_over_the_task_exits_2_before_any_folder(tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text(yaml.safe_dump(_config({"data.steps": [1, 4]})))
    done = subprocess.run([sys.executable, "-m", "flow", "search", str(config), "--trials", "2", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, env=CLI_ENV, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "search.space.data.steps: data.steps sets how many values are forecast" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_mapping_choices_raise_no_optuna_warning_once_the_storage_is_open(tmp_path):
    """tour 6, a44: search.space choices such as model.patch: [{length: 2, stride: 2}, ...] are YAML values the
    storage keeps as JSON; Optuna's warning about non-primitive choices is not shown to the user."""
    import warnings

    import optuna

    from flow.search.study import open_storage

    def warned() -> bool:
        with warnings.catch_warnings(record=True) as caught:
            optuna.distributions.CategoricalDistribution([{"length": 2, "stride": 2}, {"length": 4, "stride": 4}])
        return any("Choices for a categorical distribution" in str(w.message) for w in caught)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert warned()  # Optuna does warn about such choices
        open_storage(f"sqlite:///{tmp_path / 'study.db'}")
        assert not warned()


def test_a_tensor_key_with_mappings_as_choices_gets_the_field_keys_with_their_values():
    """Tour 7 a115: the fix kept the mappings as choices under .bits ([{"bits": 4}, ...]), refused again."""
    msg = _refusal({"quantization.layers.enc0.q.weight": [{"bits": 4}, {"bits": 8}]})
    assert msg.endswith("so the space key must name the field it searches: quantization.layers.enc0.q.weight.bits: "
                        "[4, 8]"), msg
    fixed = parse_config(_config({"quantization.layers.enc0.q.weight.bits": [4, 8]}))
    check_space(fixed)
    msg = _refusal({"quantization.layers.enc0.q.weight": [{"bits": 4, "integer": 2}, {"bits": 8, "integer": 2}]})
    assert ("quantization.layers.enc0.q.weight.bits: [4, 8], quantization.layers.enc0.q.weight.integer: [2] (each "
            "key's choices are drawn with every choice of the others)") in msg, msg


def test_a_layer_override_for_a_layer_some_choice_of_model_layers_has_is_accepted_with_a_warning():
    """Tour 7 a117: enc1 exists at model.layers 2, a choice of the same space; it was refused as an unknown layer.
    The candidates drawn with model.layers 1 are invalid (pruned): said as a warning."""
    warned = check_space(parse_config(_config({"model.layers": [1, 2],
                                               "quantization.layers.enc1.q.weight.bits": [4, 8]})))
    assert warned == ["search.space.quantization.layers.enc1.q.weight.bits = 4 or 8 is valid only with some choices "
                      "of the other keys (such as model.layers = 2), not with the configuration's own "
                      "(quantization.layers.enc1.q: unknown layer name): the candidates that draw it without such a "
                      "choice are not valid configurations and are pruned untrained (each counts as a trial)"], warned
    assert check_space(parse_config(_config({"model.layers": [1, 2]}))) == []
    msg = _refusal({"model.layers": [1, 2], "quantization.layers.enc2.q.weight.bits": [4, 8]})  # no choice has enc2
    assert ("search.space.quantization.layers.enc2.q.weight.bits = 4: not a valid choice: "
            "quantization.layers.enc2.q: unknown layer name") in msg, msg


@pytest.mark.parametrize("space, said", [
    ({"quantization.enabled": [True, False]},
     "search.space.quantization.enabled = False: not a valid choice: it sets quantization.enabled = False, and the "
     "search scores quantized candidates (their estimate, their QAT): a float candidate has no design to estimate; "
     "remove quantization.enabled from search.space"),
    ({"quantization": [{"bits": 8}, {"enabled": False}]},
     "search.space.quantization = {'enabled': False}: not a valid choice: it sets quantization.enabled = False, and "
     "the search scores quantized candidates (their estimate, their QAT): a float candidate has no design to "
     "estimate; remove enabled: false from this choice"),
], ids=["key", "section"])
def test_a_float_candidate_in_the_space_is_refused(space, said):
    """Tour 7 a30: quantization.enabled: [true, false] trained a float model scored with the 8-bit design's
    estimate."""
    msg = _refusal(space)
    assert said in msg, msg
    check_space(parse_config(_config({"quantization.enabled": [True]})))


def test_cli_a_float_candidate_exits_2_before_any_folder(tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text(yaml.safe_dump(_config({"quantization.enabled": [True, False]})))
    done = subprocess.run([sys.executable, "-m", "flow", "search", str(config), "--trials", "2", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, env=CLI_ENV, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "search.space.quantization.enabled = False: not a valid choice" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key, choices, why", [
    ("target.toggle_rate", [6.25, 12.5], "an assumption about the design's activity, not a choice of design"),
    ("target.clock_uncertainty", ["1.25ns", "12.5%"], "which no estimate, error or energy sees"),
    ("hls.tool", ["vitis", "vivado"], "both tools get the same C++ and the same estimate"),
])
def test_a_space_key_no_objective_can_score_is_refused(key, choices, why):
    """tour 8, b40 b41 b69 a77 b14: each trained the same model once per choice and put equal points on the
    front (toggle_rate: the lowest activity won on energy)."""
    from flow.search.study import precheck

    cfg = parse_config({**TINY, "search": {"space": {key: choices}, "objectives": ["val_mse", "energy"]}})
    with pytest.raises(ConfigError, match=rf"search\.space\.{re.escape(key)}: .*{re.escape(why)}"):
        precheck(cfg)
