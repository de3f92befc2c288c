"""hls4ml's own way in, as its test suite uses it: config_from_keras_model, convert_from_keras_model with
a tsflow backend, compile(), predict() compared with the Keras model exactly; the config round trip;
build() where the vendor tools are and are not.

The models come from ``keras_models.builder.build_model`` with their initial weights (no training: the
C++ must equal the quantized Keras model whatever the weights), run on real windows of the built-in
series.
"""
import re

import numpy as np
import pytest

from .conftest import small_raw
from .test_export import fake_tools, prelude  # noqa: F401 (fixtures: fake vendor tools on PATH)

SHAPES = {  # name -> small_raw model settings and window
    "d8-h1-w8-mean": (dict(), 8),
    "d8-h2-w8-meanlast-delta": (dict(heads=2, head="mean_last", predict_delta=True), 8),
    "d16-h2-l2-w12-delta": (dict(d_model=16, heads=2, layers=2, ffn=32, predict_delta=True), 12),
}


def _model(shape: str, tool: str = "vitis", **hls):
    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.precision import resolve_precisions
    from keras_models.builder import build_model

    settings, window = SHAPES[shape]
    raw = small_raw(**settings)
    raw["data"]["window"] = window
    raw["hls"] = {"tool": tool, **hls}
    cfg = parse_config(raw)
    ds = load_dataset(cfg)
    model = build_model(cfg, resolve_precisions(cfg), True, len(ds.features), ds.target_index)
    return cfg, model, np.ascontiguousarray(ds.test.x[:300])


def _config(model, backend: str) -> dict:
    import hls4ml

    from flow.hls.backend import ensure_registered

    ensure_registered()
    return hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)


def _convert(model, config, backend, folder):
    import hls4ml

    return hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend=backend,
                                                      output_dir=str(folder))


def test_config_from_keras_model_gives_each_tsflow_layer_its_keys_at_auto():
    _, model, _ = _model("d8-h2-w8-meanlast-delta")
    names = _config(model, "TSFlowVitis")["LayerName"]
    keys = {"Storage", "Parallelism", "Multiplier", "WeightStorage"}
    assert keys <= set(names["enc0.attn"]) and keys <= set(names["embed"]) and keys <= set(names["enc0.ffn1"])
    assert {"Storage", "Multiplier", "WeightStorage"} <= set(names["enc0.norm1"]) and "Parallelism" not in names["enc0.norm1"]
    assert {"Storage", "Parallelism"} <= set(names["input_quant"])
    assert {"Storage", "Parallelism", "Multiplier"} <= set(names["pool"])
    assert not keys & set(names["enc0.add1"]) and not keys & set(names["last"])  # nothing of their own to set
    assert all(v == "auto" for layer in names.values() for k, v in layer.items() if k in keys)


@pytest.mark.parametrize("backend", ["TSFlowVitis", "TSFlowVivado"])
@pytest.mark.parametrize("shape", SHAPES)
def test_convert_compile_predict_equals_keras_exactly(tmp_path, shape, backend):
    """hls4ml's test pattern: convert, compile, predict, compare with Keras (here: every output bit)."""
    _, model, x = _model(shape, "vitis" if backend == "TSFlowVitis" else "vivado")
    hls_model = _convert(model, _config(model, backend), backend, tmp_path / "prj")
    hls_model.compile()
    y_hls = np.asarray(hls_model.predict(x)).reshape(len(x), -1)
    y_keras = model.predict(x, verbose=0).reshape(len(x), -1)
    assert y_hls.shape == y_keras.shape == (300, 1)
    assert np.array_equal(y_hls, y_keras), np.abs(y_hls - y_keras).max()
    assert len(np.unique(y_keras)) > 10  # the windows reach many outputs, not one saturated value
    top = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    assert "tsflow_engine(layer, " in top and "tsflow::" in top  # the tsflow design, not hls4ml's layers


def test_edited_storage_lanes_and_multipliers_reach_the_cpp(tmp_path):
    """config_from_keras_model -> edit -> convert: the pragmas, lanes and types follow the edits."""
    _, model, _ = _model("d8-h1-w8-mean", default_parallelism=2)
    config = _config(model, "TSFlowVitis")
    names = config["LayerName"]
    names["enc0.attn"]["Storage"] = "bram"
    names["enc0.ffn1"]["WeightStorage"] = "bram"
    names["enc0.ffn2"]["Parallelism"] = 4
    names["enc0.ffn1"]["Multiplier"] = "lut"
    names["enc0.norm1"]["Precision"]["result"] = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"  # the trained type: accepted
    hls_model = _convert(model, config, "TSFlowVitis", tmp_path / "prj")
    plan = next(n.get_attr("tsflow_plan") for n in hls_model.get_layers() if n.get_attr("tsflow_plan"))
    assert all(plan["buffers"][f"enc0.{b}"]["storage"] == "bram" for b in ("q", "k", "v", "scores", "softmax", "context"))
    assert plan["roms"]["enc0.ffn1.weight"]["storage"] == plan["roms"]["enc0.ffn1.bias"]["storage"] == "bram"
    assert plan["layers"]["enc0.ffn2"]["lanes"] == 4 and plan["layers"]["enc0.q"]["lanes"] == 2  # the YAML's default
    assert plan["layers"]["enc0.ffn1"]["mapping"] == "lut" and not plan["layers"]["enc0.ffn1"]["shared"]
    hls_model.write()
    top = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    engine = (tmp_path / "prj" / "firmware" / "tsflow_engine.h").read_text()  # the tables the engine reads
    assert "#pragma HLS BIND_STORAGE variable=enc0_scores type=ram_2p impl=bram" in top
    assert "#pragma HLS BIND_STORAGE variable=enc0_ffn1_weight type=rom_1p impl=bram" in engine
    params = (tmp_path / "prj" / "firmware" / "parameters.h").read_text()
    ffn2 = re.search(r"struct config\d+ \{[^}]*n_in = 16;[^}]*\}", params).group(0)
    assert "static const unsigned lanes = 4;" in ffn2
    assert "typedef ap_fixed<8,3,AP_RND_CONV,AP_SAT,0> enc0_norm1_t;" in \
        (tmp_path / "prj" / "firmware" / "defines.h").read_text()


@pytest.mark.parametrize("layer, key, value, message", [
    ("enc0.attn", "Storage", "flash", "LayerName.enc0.attn.Storage = 'flash': allowed: auto, registers, lutram, bram"),
    ("enc0.ffn1", "Parallelism", 0, "LayerName.enc0.ffn1.Parallelism = 0: allowed: auto or a lane count >= 1"),
    ("enc0.ffn1", "Multiplier", "dsp48", "LayerName.enc0.ffn1.Multiplier = 'dsp48': allowed: auto, dsp, lut"),
    ("enc0.ffn2", "Storage", "bram", "LayerName.enc0.ffn2.Storage = 'bram': this layer has nothing it sets"),
    ("enc0.norm1", "Precision", {"result": "ap_fixed<10,3>"},
     "LayerName.enc0.norm1.Precision.result = 'ap_fixed<10,3>': the trained model computes "
     "ap_fixed<8,3,AP_RND_CONV,AP_SAT> here"),
    ("window", "Precision", {"result": "ap_fixed<16,6>"},
     "LayerName.window.Precision.result = 'ap_fixed<16,6>': the trained model computes"),
])
def test_an_edit_the_design_cannot_take_is_refused_naming_the_key(tmp_path, layer, key, value, message):
    from flow.config import ConfigError

    _, model, _ = _model("d8-h1-w8-mean")
    config = _config(model, "TSFlowVitis")
    config["LayerName"][layer][key] = value
    with pytest.raises(ConfigError) as caught:
        _convert(model, config, "TSFlowVitis", tmp_path / "prj")
    assert message in str(caught.value)


def test_part_and_clock_come_from_the_model_unless_hls4ml_is_given_them(tmp_path):
    """Without part / clock_period the design is planned for the model's target; given them (as an hls4ml
    user does), for that part: the XC7S6 has 10 DSPs, so fewer shared lanes fit within the headroom."""
    import hls4ml

    from flow.config import ConfigError

    cfg, model, _ = _model("d8-h1-w8-mean")
    config = _config(model, "TSFlowVitis")

    def lanes(m):
        return next(n.get_attr("tsflow_plan") for n in m.get_layers() if n.get_attr("tsflow_plan"))["engine"]["lanes"]

    default = _convert(model, config, "TSFlowVitis", tmp_path / "a")
    assert (default.config.get_config_value("Part"), default.config.get_config_value("ClockPeriod")) == \
        (cfg.target.part, 10.0)
    small = hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="TSFlowVitis",
                                                       output_dir=str(tmp_path / "b"), part="xc7s6cpga196-1",
                                                       clock_period=5)
    assert small.config.get_config_value("Part") == "xc7s6cpga196-1"
    assert lanes(default) == 16 and lanes(small) < 10
    with pytest.raises(ConfigError, match="(?s)part 'xcvu13p-flga2577-2-e'.*known devices: xc7s6"):
        hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="TSFlowVitis",
                                                   output_dir=str(tmp_path / "c"), part="xcvu13p-flga2577-2-e")


def test_build_where_the_vendor_tools_are_not_says_what_is_missing(tmp_path, monkeypatch):
    from flow.export import ExportError, ToolsMissing

    from flow import api

    _, model, _ = _model("d8-h1-w8-mean")
    bare = _convert(model, _config(model, "TSFlowVitis"), "TSFlowVitis", tmp_path / "prj")
    with pytest.raises(ExportError, match="not the hls/ project of one. Make one with flow.api.build"):
        bare.build(csim=True, synth=True, export=True)
    raw = small_raw()
    raw["training"].update(float_epochs=1, qat_epochs=1)
    result = api.build(raw, tmp_path / "b")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolsMissing, match="vitis_hls or vitis-run and vivado not on PATH"):
        result.hls_model.build(csim=True, synth=True, export=True)


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    from flow import api

    raw = small_raw()
    raw["training"].update(float_epochs=1, qat_epochs=1)
    out = tmp_path_factory.mktemp("build") / "b"
    return api.build(raw, out), out


def test_build_runs_the_tsflow_scripts_on_the_build_folder(tiny_build, fake_tools):  # noqa: F811
    """With (fake, recording) vendor tools on PATH, hls_model.build() runs the tsflow scripts there."""
    result, out = tiny_build
    log = fake_tools("vitis_hls", "vivado")
    synthesis = result.hls_model.build(csim=True, synth=True, export=True)
    assert synthesis["commands"] == ["vitis_hls -f vivado_scripts/tsflow_hls.tcl",
                                     "vivado -mode batch -source vivado_scripts/tsflow_vivado.tcl"]
    assert (out / "synthesis.json").is_file() and log.read_text()
