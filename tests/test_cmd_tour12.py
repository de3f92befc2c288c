"""Tour 12, half b: commands, flags and folders (b24 numerically equal search choices, b34 a build without g++,
b44 Ctrl-C in the report, b52-b54 hls4ml keys tsflow does not honour, b80 a search's --out a build holds)."""
import json

import pytest

from flow.config import ConfigError, parse_config
from flow.search.space import check_space

from .conftest import TINY


def _search(space: dict) -> dict:
    raw = json.loads(json.dumps(TINY))
    raw["search"] = {"space": space, "objectives": ["val_mse", "energy"], "float_epochs": 1, "qat_epochs": 1}
    return raw


@pytest.mark.parametrize("choices, said", [
    ([100, 100.0, 2e2], "100 and 100.0 are the same choice (listed twice); list each once"),
    ([100, 200, 100], "100 is listed twice; list each once"),
    ([2e2, 100, 200], "200.0 and 200 are the same choice (listed twice)"),
])
def test_b24_numerically_equal_search_choices_are_one_choice_listed_twice(choices, said):
    with pytest.raises(ConfigError) as exc:
        check_space(parse_config(_search({"target.clock_mhz": choices})))
    assert f"search.space.target.clock_mhz: {said}" in str(exc.value), str(exc.value)


def test_b24_numbers_that_differ_stay_distinct_choices():
    check_space(parse_config(_search({"target.clock_mhz": [100, 100.5, 200]})))


def test_b34_a_build_without_gxx_on_path_is_refused_before_any_training(tmp_path):
    import subprocess
    import sys

    import yaml

    from .conftest import CLI_ENV

    bare = tmp_path / "bin"  # a PATH with python and nothing else
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    done = subprocess.run([sys.executable, "-m", "flow", "build", str(config), "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=300, env={**CLI_ENV, "PATH": str(bare)})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    said = " ".join(done.stderr.split())
    assert ("error: g++ is not on PATH: the build compiles its C simulation with it, after the training; install g++ "
            "(Debian/Ubuntu: apt-get install g++) or put the folder that holds it on PATH; nothing was done") in said
    assert "training: float" not in done.stdout + done.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()  # refused before any folder


def _report_folder(tmp_path):
    folder = tmp_path / "b"
    (folder / "report").mkdir(parents=True)
    (folder / "report.html").write_text("<html>an earlier report</html>\n")
    (folder / "report" / "forecast.png").write_bytes(b"an earlier figure")
    return folder


def test_b44_ctrl_c_before_the_report_writes_anything_leaves_it_and_exits_130(tmp_path, monkeypatch, capsys):
    from flow import report

    def interrupted(folder, note=None):
        raise KeyboardInterrupt

    folder = _report_folder(tmp_path)
    monkeypatch.setattr(report, "write_report", interrupted)
    assert report.main([str(folder)]) == 130
    assert capsys.readouterr().err == f"interrupted: {folder / 'report.html'} not rewritten (the folder is as it was)\n"
    assert (folder / "report.html").read_text() == "<html>an earlier report</html>\n"


def test_b44_ctrl_c_while_the_figures_are_redrawn_removes_the_report_they_no_longer_match(tmp_path, monkeypatch,
                                                                                          capsys):
    from flow import report

    def interrupted(folder, note=None):
        (folder / "report" / "forecast.png").unlink()  # as write_report does before it draws
        raise KeyboardInterrupt

    folder = _report_folder(tmp_path)
    monkeypatch.setattr(report, "write_report", interrupted)
    assert report.main([str(folder)]) == 130
    err = capsys.readouterr().err
    assert err.startswith(f"interrupted: {folder / 'report.html'} removed: its figures were partly redrawn") and \
        f"run 'python -m flow.report {folder}' to write the report again" in err and "Traceback" not in err
    assert not (folder / "report.html").exists()


HOLD_STAGING = """
import sys, time
from pathlib import Path
from flow.runs import staged_output
with staged_output(Path(sys.argv[1]), False):
    print("holding", flush=True)
    time.sleep(120)
"""


def test_b80_a_search_refuses_the_out_a_running_build_will_rename_its_result_to(tmp_path):
    import subprocess
    import sys

    import yaml

    from .conftest import CLI_ENV

    out = tmp_path / "o"
    build = subprocess.Popen([sys.executable, "-c", HOLD_STAGING, str(out)], stdout=subprocess.PIPE, text=True,
                             env=CLI_ENV)  # holds o.partial as a running build does, from its start
    try:
        assert build.stdout.readline() == "holding\n"
        raw = json.loads(json.dumps(TINY))
        raw["search"] = {"space": {"quantization.bits": [4, 8]}, "objectives": ["val_mse", "lut"],
                         "float_epochs": 1, "qat_epochs": 1}
        config = tmp_path / "s.yaml"
        config.write_text(yaml.safe_dump(raw))
        done = subprocess.run([sys.executable, "-m", "flow", "search", "s.yaml", "--trials", "1", "--out", "o"],
                              capture_output=True, text=True, env=CLI_ENV, cwd=tmp_path, timeout=300)
    finally:
        build.kill()
        build.wait()
    said = " ".join(done.stderr.split())
    assert done.returncode == 2 and "Traceback" not in said, said
    assert (f"error: output folder o: another tsflow run is writing it (o.partial beside it, pid {build.pid}, "
            in said), said
    assert "and makes it o when it finishes" in said and "choose another --out" in said and f"kill {build.pid}" in said
    assert not out.exists() and (tmp_path / "o.partial").is_dir()


def _hls4ml_refusal(tmp_path, edit) -> str:
    from .test_hls4ml_conventions import _config, _convert, _model

    _, model, _ = _model("d8-h1-w8-mean")
    config = _config(model, "TSFlowVitis")
    edit(config)
    with pytest.raises(ConfigError) as caught:
        _convert(model, config, "TSFlowVitis", tmp_path / "prj")
    assert not (tmp_path / "prj").exists()
    return str(caught.value)


def test_b52_a_model_reuse_factor_is_refused_naming_the_yaml_keys_that_set_the_lanes(tmp_path):
    said = _hls4ml_refusal(tmp_path, lambda c: c["Model"].update(ReuseFactor=4))
    assert said == ("invalid hls4ml configuration: Model.ReuseFactor = 4: tsflow layers take no ReuseFactor, and it "
                    "would change nothing in the design; their lanes are set by hls.default_parallelism and "
                    "hls.parallelism in the tsflow configuration, or per layer by LayerName.NAME.Parallelism: leave "
                    "it at 1 or remove it")


def test_b52_a_model_strategy_other_than_latency_is_refused(tmp_path):
    said = _hls4ml_refusal(tmp_path, lambda c: c["Model"].update(Strategy="Resource"))
    assert said.startswith("invalid hls4ml configuration: Model.Strategy = 'Resource': tsflow layers take no Strategy")
    assert "leave it at 'Latency' or remove it" in said


@pytest.mark.parametrize("layer, lanes", [("enc0.ffn1", "this layer's lanes are LayerName.enc0.ffn1.Parallelism"),
                                          ("enc0.norm1", "this layer has no lanes of its own")])
def test_b53_a_layer_reuse_factor_is_refused_naming_the_layers_parallelism(tmp_path, layer, lanes):
    said = _hls4ml_refusal(tmp_path, lambda c: c["LayerName"][layer].update(ReuseFactor=2))
    assert said.startswith(f"invalid hls4ml configuration: LayerName.{layer}.ReuseFactor = 2: tsflow layers take no "
                           f"ReuseFactor"), said
    assert said.endswith(f"; {lanes}: remove it"), said


def test_b54_a_misspelt_layer_key_is_refused_with_the_keys_the_layer_takes(tmp_path):
    said = _hls4ml_refusal(tmp_path, lambda c: c["LayerName"]["enc0.ffn1"].update(Paralellism=4))
    assert said == ("invalid hls4ml configuration: LayerName.enc0.ffn1.Paralellism: unknown key, which hls4ml would "
                    "ignore; the keys LayerName.enc0.ffn1 takes are Precision, Trace, Storage, Parallelism, "
                    "Multiplier, WeightStorage (did you mean Parallelism?)")


def test_b52_the_values_config_from_keras_model_writes_still_convert(tmp_path):
    from .test_hls4ml_conventions import _config, _convert, _model

    _, model, _ = _model("d8-h1-w8-mean")
    config = _config(model, "TSFlowVitis")
    config["Model"].update(Strategy="latency", ReuseFactor=1)  # hls4ml reads its strategies in any case
    _convert(model, config, "TSFlowVitis", tmp_path / "prj")


def test_b73_a_config_name_typed_in_the_other_unicode_normalisation_is_said(tmp_path):
    import unicodedata

    from flow.config import load_config

    on_disk = tmp_path / unicodedata.normalize("NFC", "café.yaml")
    on_disk.write_text("name: x\n")
    typed = tmp_path / unicodedata.normalize("NFD", "café.yaml")
    with pytest.raises(ConfigError) as refused:
        load_config(typed)
    assert "differs only in Unicode normalisation: typed in NFD, NFC on disk" in str(refused.value)
    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "cafe.yaml")
    assert str(missing.value) == f"configuration file not found: {tmp_path / 'cafe.yaml'}"
