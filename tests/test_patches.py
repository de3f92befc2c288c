"""Patch tokens (``model.patch``): the tokens are the window's patches, worked out here by hand; the
encoder and its hardware run over the tokens; one step per token computes what no patch computes; a patch
that cannot tile the window is refused naming the keys. Bit-exactness of built patch designs is in the
matrix of ``tests/test_hls.py`` and the oracle cases of ``tests/test_oracle.py``."""
import numpy as np
import pytest
import yaml

from flow.config import ConfigError, parse_config
from flow.estimate import estimate
from flow.precision import resolve_precisions
from keras_models.builder import build_model

from .conftest import small_raw
from .test_cli_e2e import error_lines, tsflow


def patched(window: int, length: int, stride: int, **data) -> dict:
    raw = small_raw()
    raw["data"].update(window=window, **data)
    raw["model"]["patch"] = {"length": length, "stride": stride}
    return raw


def test_the_embedding_reads_each_patch_of_steps_with_every_channel():
    """Window 7 of 2 channels, patches of 3 steps 2 apart: tokens start at steps 0, 2 and 4, so token 1 is
    steps 2, 3, 4 as [x(2,0), x(2,1), x(3,0), x(3,1), x(4,0), x(4,1)]. The embedding of the float model is
    that row times its kernel plus its bias."""
    raw = patched(7, 3, 2, inputs="differences")  # the change and the level: 2 channels
    cfg = parse_config(raw)
    assert cfg.tokens == 3
    model = build_model(cfg, resolve_precisions(cfg), False, n_features=2, target_index=0)
    x = np.arange(14, dtype=np.float32).reshape(1, 7, 2) / 10
    embed = model.get_layer("embed")
    kernel, bias = embed.kernel.numpy(), embed.bias.numpy()
    assert kernel.shape == (6, 8)
    token1 = np.array([0.4, 0.5, 0.6, 0.7, 0.8, 0.9], dtype=np.float32)
    got = embed(x).numpy()
    assert got.shape == (1, 3, 8)
    np.testing.assert_allclose(got[0, 1], token1 @ kernel + bias, rtol=1e-6)
    assert model.output_shape == (None, 1)


def test_one_step_per_token_is_the_model_without_patches():
    """``patch: {length: 1, stride: 1}`` is a step per token: the same weights give the same forecasts, and
    the hardware is the same."""
    plain, ones = small_raw(), patched(8, 1, 1)
    for raw in (plain, ones):
        raw["quantization"] = {"bits": 6}
    a, b = parse_config(plain), parse_config(ones)
    ma = build_model(a, resolve_precisions(a), True, 1, 0)
    mb = build_model(b, resolve_precisions(b), True, 1, 0)
    mb.set_weights(ma.get_weights())
    x = np.random.default_rng(0).normal(size=(16, 8, 1))
    assert np.array_equal(ma.predict(x, verbose=0), mb.predict(x, verbose=0))
    ea, eb = estimate(a, n_features=1).to_dict(), estimate(b, n_features=1).to_dict()
    assert ea["layers"] == eb["layers"] and ea["total"] == eb["total"]


def test_the_attention_runs_over_the_tokens():
    """L = 336 in patches of 16, 8 apart: (336 - 16) / 8 + 1 = 41 tokens. The scores are 41 x 41 per head,
    the embedding 41 rows of 16 steps of its one channel, and the window port still takes 336 values."""
    raw = patched(336, 16, 8)
    raw["model"].update(d_model=16, ffn=32)
    cfg = parse_config(raw)
    plan = estimate(cfg, n_features=1).plan_dict()
    loops = plan["layers"]
    assert loops["enc0.scores"]["outputs"] == 41 * 41
    assert loops["embed"]["outputs"] == 41 * 16 and loops["embed"]["terms"] == 16
    assert plan["buffers"]["input"]["words"] == 336
    lanes = loops["enc0.context"]["lanes"]  # the probabilities' rows padded to whole chunks of the context's lanes
    assert plan["buffers"]["enc0.softmax"]["words"] == 41 * (-(-41 // lanes) * lanes)


@pytest.mark.parametrize("window, length, stride, message", [
    (16, 20, 4, "model.patch.length = 20 is longer than data.window = 16; allowed: 1 .. 16"),
    (16, 4, 6, "model.patch.stride = 6 is longer than model.patch.length = 4, so the steps between two patches "
               "would be left out; allowed: 1 .. 4"),
    (18, 4, 4, "model.patch: data.window = 18 leaves its last 2 step(s) out of every patch (patches of 4 steps, 4 "
               "apart); data.window must be model.patch.length plus a whole number of strides, e.g. 16 or 20"),
])
def test_a_patch_that_cannot_tile_the_window_is_refused_naming_the_keys(tmp_path, window, length, stride, message):
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(patched(window, length, stride)))
    done = tsflow(tmp_path, "estimate", "c.yaml")
    assert done.returncode == 2
    assert message in done.stderr
    assert error_lines(done.stderr)


@pytest.mark.parametrize("patch", [{"length": 0, "stride": 1}, {"length": 4}, {"size": 4, "stride": 2}])
def test_a_patch_without_its_keys_is_refused(patch):
    raw = small_raw()
    raw["model"]["patch"] = patch
    with pytest.raises(ConfigError, match=r"model\.patch\.(length|stride|size)"):
        parse_config(raw)


def test_the_flatten_head_reads_every_token_and_has_no_mean():
    """41 tokens of d_model 16 to 96 steps: 656 weights a step, 62,976 in all; its lanes divide d_model so
    that every token's row starts on bank 0 of the last norm's buffer, which is therefore not padded."""
    raw = patched(336, 16, 8, steps=96)
    raw["model"].update(d_model=16, ffn=32, head="flatten")
    cfg = parse_config(raw)
    plan = estimate(cfg, n_features=1).plan_dict()
    head = plan["layers"]["head"]
    assert head["terms"] == 41 * 16 and head["outputs"] == 96 and 16 % head["lanes"] == 0
    assert head["trips"] == 96 * (41 * 16 // head["lanes"])
    assert "pool" not in plan["layers"] and "pool" not in plan["buffers"]
    assert plan["roms"]["head.weight"]["words"] == 96 * 41 * 16
    assert plan["buffers"]["enc0.norm2"]["words"] == 41 * 16
    with pytest.raises(ConfigError, match=r"hls\.multiplier\.pool: unknown name"):
        parse_config({**raw, "hls": {"multiplier": {"pool": "dsp"}}})


def test_the_search_space_takes_patches_and_heads_and_checks_each_choice():
    from flow.search.space import candidate, check_space

    raw = {"data": {"window": 32}, "search": {"space": {
        "model.patch": [None, {"length": 8, "stride": 8}, {"length": 8, "stride": 4}], "model.head": ["mean", "flatten"]}}}
    cfg = parse_config(raw)
    check_space(cfg)
    assert candidate(cfg, {"model.patch": {"length": 8, "stride": 4}, "model.head": "flatten"}).tokens == 7
    raw["search"]["space"]["model.patch"].append({"length": 8, "stride": 5})
    with pytest.raises(ConfigError, match=r"search\.space\.model\.patch = \{'length': 8, 'stride': 5\}: not a valid "
                                          r"choice: model\.patch: data\.window = 32 leaves its last 4 step"):
        check_space(parse_config(raw))


def test_explicit_embedding_lanes_past_a_patch_are_refused_when_the_design_is_planned():
    """A patch of 2 steps of 1 channel is 2 words a token: 4 lanes would read only padding past them. The
    embedding's row depends on the data's channels, so the plan refuses it (estimate with the channels)."""
    raw = patched(8, 2, 2)
    raw["hls"] = {"parallelism": {"embed": 4}}
    with pytest.raises(ConfigError, match=r"hls\.parallelism\.embed = 4: more lanes than the 2 value\(s\) its reads "
                                          r"run along a clock .* allowed: 1, 2$"):
        estimate(parse_config(raw), n_features=1)
    raw["hls"] = {"parallelism": {"embed": 2}}
    assert estimate(parse_config(raw), n_features=1).plan_dict()["layers"]["embed"]["lanes"] == 2


@pytest.mark.parametrize("length, stride", [(8, 1), (8, 8)])
def test_a_patch_that_makes_the_window_one_token_is_refused(length, stride):
    """Tour 6 (a86): a window that is one patch is one token: a mean of one came out 0 in the C++. As a window
    of one step is refused, so is one token."""
    with pytest.raises(ConfigError, match=rf"model\.patch = \{{length: {length}, stride: {stride}\}} makes data\.window "
                                          rf"= 8 one token: .* allowed: at least 2 tokens, model\.patch\.length \+ "
                                          rf"model\.patch\.stride at most 8 \(e\.g\. \{{length: 4, stride: 4\}}\)"):
        parse_config(patched(8, length, stride))
