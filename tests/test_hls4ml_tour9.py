"""Tour 9 (b95 b96 b97 b105 b106 b108 b109): what an hls4ml user does with a tsflow model that tsflow must
refuse or say, through hls4ml's own API (config_from_keras_model, convert_from_keras_model, write, compile,
predict)."""
import json
import shutil

import numpy as np
import pytest

from .conftest import small_raw
from .test_hls4ml_conventions import _config, _convert, _model


@pytest.mark.parametrize("backend, ours", [("Vitis", "TSFlowVitis"), ("Vivado", "TSFlowVivado")])
def test_a_stock_backend_is_refused_naming_it_and_the_tsflow_one(tmp_path, backend, ours):
    """b105/b106: hls4ml's Vitis backend converted and compiled the tsflow layers and predicted other numbers."""
    from flow.config import ConfigError

    _, model, _ = _model("d8-h1-w8-mean")
    with pytest.raises(ConfigError) as caught:
        _convert(model, _config(model, backend), backend, tmp_path / "prj")
    message = str(caught.value)
    assert message.startswith(f"backend '{backend}': the tsflow layers of this model (")
    assert "TSAttention" in message and "TSDense" in message
    assert "convert only through the backends TSFlowVitis / TSFlowVivado" in message
    assert message.endswith(f"pass backend='{ours}' to convert_from_keras_model (and to config_from_keras_model)")
    assert not (tmp_path / "prj").exists()


def test_a_stock_backend_still_converts_a_model_without_tsflow_layers(tmp_path):
    import hls4ml
    from tensorflow import keras

    _model("d8-h1-w8-mean")  # the tsflow pass is registered
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    config = hls4ml.utils.config_from_keras_model(plain, granularity="name", backend="Vitis")
    hls_model = _convert(plain, config, "Vitis", tmp_path / "prj")
    assert [layer.class_name for layer in hls_model.get_layers()][-1] == "Dense"


def test_a_model_level_precision_is_refused_naming_the_key(tmp_path):
    """b109: Model.Precision = 'ap_fixed<16,6>' was ignored; hls4ml's default as config_from_keras_model
    writes it converts."""
    import hls4ml

    from flow.config import ConfigError

    _, model, _ = _model("d8-h1-w8-mean")
    config = hls4ml.utils.config_from_keras_model(model, granularity="model", backend="TSFlowVitis")
    _convert(model, config, "TSFlowVitis", tmp_path / "a")
    config["Model"]["Precision"] = "ap_fixed<16,6>"
    with pytest.raises(ConfigError) as caught:
        _convert(model, config, "TSFlowVitis", tmp_path / "b")
    message = str(caught.value)
    assert message.startswith("invalid hls4ml configuration: Model.Precision = 'ap_fixed<16,6>': a tsflow model's "
                              "types are the trained model's")
    assert "change quantization in the tsflow configuration and train again" in message


@pytest.mark.parametrize("layer, names", [("enc0.ffn1", "hls.parallelism.enc0.ffn1"),
                                          ("enc0.attn", "hls.parallelism.enc0.k")])
def test_a_lane_count_the_design_refuses_names_the_hls4ml_key(tmp_path, layer, names):
    """b95: Parallelism 3 was refused naming hls.parallelism.enc0.ffn1, a YAML key the user never wrote."""
    from flow.config import ConfigError

    _, model, _ = _model("d8-h1-w8-mean")
    config = _config(model, "TSFlowVitis")
    config["LayerName"][layer]["Parallelism"] = 3
    with pytest.raises(ConfigError) as caught:
        _convert(model, config, "TSFlowVitis", tmp_path / "prj")
    message = str(caught.value)
    assert message.startswith(f"invalid hls4ml configuration: LayerName.{layer}.Parallelism = 3 (the tsflow setting ")
    assert names in message and message.count("the lanes must be a power of two") == 1, message


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from flow import api

    raw = small_raw()
    raw["training"].update(float_epochs=1, qat_epochs=1)
    out = tmp_path_factory.mktemp("build") / "b"
    return api.build(raw, out), out


def _digests(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_builds_model_compiles_in_its_folder_and_refuses_windows_of_another_shape(built):
    """result.hls_model.compile() rewrites the build's hls/ with the same C++: nothing changes; b108: predict()
    with windows of the wrong length said hls4ml's 'Input size mismatch, got ()'."""
    from flow.runs import sources_changed

    result, out = built
    result.hls_model.compile()
    assert sources_changed(out) == []
    one = np.zeros((8, 1), np.float32)
    assert np.shape(result.hls_model.predict(one)) in ((1,), (1, 1))
    windows = np.random.default_rng(0).normal(size=(5, 8, 1)).astype(np.float32)
    flat = result.hls_model.predict(windows.reshape(5, 8))  # hls4ml's convention: one flat row a window
    assert np.array_equal(np.ravel(flat), np.ravel(result.hls_model.predict(windows)))
    with pytest.raises(ValueError) as caught:
        result.hls_model.predict(np.zeros((5, 12, 1), np.float32))
    assert str(caught.value) == ("predict(x): x has shape (5, 12, 1); this model takes (N, 8, 1): windows of "
                                 "data.window = 8 steps, 1 input value each (or one window, (8, 1); or flat, (N, 8))")


@pytest.mark.parametrize("where, said", [("hls", "is the hls/ project of {out}, a tsflow build folder"),
                                         (".", "is {out}, a tsflow build folder"),
                                         ("sub/hls", "is inside {out}, a tsflow build folder"),
                                         ("model/hls", "is inside {out}/model, a tsflow train folder")])
def test_writing_into_a_build_folder_is_refused_and_changes_nothing(built, tmp_path, where, said):
    """b96: write() into a build's hls/ replaced the C++ the build wrote and checked, without a word."""
    from flow.runs import OutputExists
    from flow.training.checkpoint import load_trained

    _, out = built
    before = _digests(out)
    model = load_trained(out / "model").model
    config = _config(model, "TSFlowVitis")
    config["LayerName"]["enc0.ffn1"]["WeightStorage"] = "bram"
    hls_model = _convert(model, config, "TSFlowVitis", out / where)
    with pytest.raises(OutputExists) as caught:
        hls_model.write()
    message = str(caught.value)
    assert said.format(out=out) in message, message
    assert "writing this project there would replace what that run wrote and checked (" in message
    assert message.endswith("): choose another output_dir")
    if where == "hls":
        assert "firmware/tsflow_engine.h" in message.split("would change")[0]
    assert _digests(out) == before


def test_csim_of_a_project_changed_since_the_build_says_so_and_records_it(built, tmp_path):
    """b97: csim of a build whose C++ another writer replaced ran it without a word. A C++ changed after the
    build (by hand: an expert trying a pragma) is simulated, the verdict said to be the changed C++'s, and
    csim.json names the files."""
    from flow import api

    _, out = built
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    engine = copy / "hls" / "firmware" / "tsflow_engine.h"
    engine.write_text(engine.read_text() + "// edited\n")
    notes = []
    report = api.csim(copy, jobs=1, note=notes.append)
    assert report.bit_exact  # a comment changes no number
    assert (f"warning: {copy / 'hls'} differs from what the build wrote and checked (hls/firmware/tsflow_engine.h "
            f"changed since; their digests are in {copy / 'manifest.json'}): this C simulation is of the changed "
            f"C++, not the build's; 'tsflow build' again (--force replaces this folder) writes the build's back") in notes
    assert json.loads((copy / "csim.json").read_text())["changed_sources"] == ["hls/firmware/tsflow_engine.h"]


def test_io_stream_is_refused_at_conversion_naming_io_type(tmp_path):
    """tour 10 b39: io_type='io_stream' converted, then compile() failed with g++'s 'layer16_cpy2 was not
    declared'."""
    import hls4ml

    from flow.config import ConfigError

    _, model, _ = _model("d8-h1-w8-mean")
    with pytest.raises(ConfigError) as caught:
        hls4ml.converters.convert_from_keras_model(model, hls_config=_config(model, "TSFlowVitis"),
                                                   backend="TSFlowVitis", output_dir=str(tmp_path / "prj"),
                                                   io_type="io_stream")
    assert str(caught.value).startswith("io_type='io_stream': tsflow designs convert with io_type='io_parallel'")
    assert "set hls.interface: axis in the tsflow configuration" in str(caught.value)
    assert not (tmp_path / "prj").exists()
