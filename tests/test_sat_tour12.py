"""Tour 12 (a45, a57, a58, a60, a62-a64, a80, a81, a83, a112): the warnings after training name the setting that
causes a quantized model to differ from the float model, by the key the user wrote, and advise a key that takes
effect with a value the configuration check accepts, and that holds the values measured."""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from flow.config import parse_config
from flow.precision import resolve_precisions
from flow.training import saturation
from flow.training.binary_points import outside
from flow.training.saturation import beyond, edited, refusal, tell_saturation, user_clips, wrap_fix

from .conftest import small_raw


def _cfg(quantization: dict, model=None, **data):
    raw = small_raw(**(model or {}))
    raw["quantization"] = quantization
    raw["data"].update(data)
    return parse_config(raw)


def _given(text: str) -> dict:
    """The keys and values a warning says to give: 'give k: v, k: v (' -> {k: v}."""
    advice = text.split("give ", 1)[1].split(" (", 1)[0]
    return {key: int(value) for key, value in re.findall(r"(quantization\.[\w.]+): (-?\d+)", advice)}


def test_one_global_key_is_one_warning_quoting_it_as_written_with_one_value_that_holds_all():
    """a45: act_integer 1 gave 14 warnings, three values for the key, and quoted 'act_integer = 0' for ffn1."""
    cfg = _cfg({"bits": 8, "act_integer": 1})
    prec = resolve_precisions(cfg)
    train = {("embed", "output"): np.linspace(-4.17, 5.17, 500), ("enc0.add1", "output"): np.linspace(-6.33, 7.76, 500),
             ("enc0.ffn1", "output"): np.linspace(0, 4.59, 500)}
    clips = user_clips(cfg, prec, train)
    assert len(clips) == 1 and clips[0].startswith("quantization.act_integer = 1 (set in the configuration): ")
    assert "act_integer - 1 = 0, unsigned): enc0.ffn1" in clips[0] and "= 0 (set in" not in clips[0]
    assert len(set(re.findall(r"give quantization.act_integer: (\d+)", clips[0]))) == 1
    value = _given(clips[0])["quantization.act_integer"]
    assert refusal(cfg, {"quantization.act_integer": value}) is None
    wider = resolve_precisions(_cfg({"bits": 8, "act_integer": value}))
    assert all(outside(v, wider.types[layer][role]) == 0 for (layer, role), v in train.items())  # enough
    # at 4 bits no act_integer holds them (the scores take one more): the check's refusal is said, and auto offered
    four = _cfg({"bits": 4, "act_integer": 1})
    told = user_clips(four, resolve_precisions(four), train)
    assert len(told) == 1 and "would hold them, but the configuration check refuses it" in told[0]
    assert told[0].endswith("leave it auto (each tensor then gets its own binary point)")


def _told(monkeypatch, cfg, train: dict, test: dict, metrics=None, auto=None):
    monkeypatch.setattr(saturation, "float_values", lambda c, m, x: {"train": train, "test": test}[x])
    ds = SimpleNamespace(train=SimpleNamespace(x="train"), test=SimpleNamespace(x="test"))
    prec = resolve_precisions(cfg)
    metrics = metrics or {"test": {"mse": 9.0}, "float": {"test": {"mse": 1.0}},
                          "baselines": {"test": {"persistence": {"mse": 1.5}}}}
    said = []
    told = tell_saturation(cfg, prec, None, ds, ("test",), metrics, said.append, prec.auto if auto is None else auto)
    return told, said, prec


def test_the_forecast_types_are_advised_by_their_own_keys_which_the_check_accepts(monkeypatch):
    """a63/a64: 'quantization.output.integer: -1' was advised for the head, and the check refuses it."""
    cfg = _cfg({"bits": 8}, {"predict_delta": True}, inputs="differences")
    rng = np.random.default_rng(0)
    train = {("head", "output"): rng.uniform(-0.08, 0.1, 1000), ("delta", "output"): rng.uniform(-2.6, 2.7, 1000)}
    test = {("head", "output"): rng.uniform(-0.1, 0.4, 500), ("delta", "output"): rng.uniform(3.5, 6.7, 500)}
    points = {("head", "output"): -2, ("delta", "output"): 2}  # what auto placed on the training values
    from flow.training.binary_points import with_points

    placed = with_points(cfg, points)
    monkeypatch.setattr(saturation, "float_values", lambda c, m, x: {"train": train, "test": test}[x])
    ds = SimpleNamespace(train=SimpleNamespace(x="train"), test=SimpleNamespace(x="test"))
    prec = resolve_precisions(placed)
    said = []
    metrics = {"test": {"mse": 81.3}, "float": {"test": {"mse": 1.4}}}
    assert tell_saturation(cfg, prec, None, ds, ("test",), metrics, said.append, resolve_precisions(cfg).auto)
    assert len(said) == 1 and "quantization.output.integer" not in said[0]
    edits = _given(said[0])
    assert set(edits) == {"quantization.layers.head.output.integer", "quantization.layers.delta.output.integer"}
    assert refusal(cfg, edits) is None
    fixed = resolve_precisions(parse_config(edited(cfg, edits)))
    assert all(beyond(test[k], fixed.types[k[0]][k[1]], train[k]) == 0 for k in test)  # the warning's cause gone


def test_a_level_past_its_own_training_range_is_named_by_channel_and_by_the_key_the_user_wrote(monkeypatch):
    """a60: layers.input.output {bits 6, integer 2} clipped the level of the target on test (34x the float error);
    the input's pooled training range (the scaled changes reach further) hid it, and enc0.q was blamed."""
    cfg = _cfg({"layers": {"input": {"output": {"bits": 6, "integer": 2}}}}, inputs="differences")
    rng = np.random.default_rng(1)
    train_x = np.stack([rng.uniform(-5.1, 5.4, (900, 8)), rng.uniform(-1.9, 1.9, (900, 8))], axis=2)
    test_x = np.stack([rng.uniform(-1, 1, (300, 8)), rng.uniform(-4.8, -1.6, (300, 8))], axis=2)
    pooled = resolve_precisions(cfg).types["input"]["output"]
    assert beyond(test_x, pooled, train_x) == 0  # pooled, the level is inside the changes' range: not seen
    told, said, prec = _told(monkeypatch, cfg, {("input", "output"): train_x}, {("input", "output"): test_x})
    assert told and said[0].startswith("warning: quantization.layers.input.output.integer = 2: on the test split ")
    assert "of the values of the level of temp in the scaled window are outside the range -2 .. 1.938" in said[0]
    edits = _given(said[0])
    assert list(edits) == ["quantization.layers.input.output.integer"] and refusal(cfg, edits) is None
    wider = resolve_precisions(parse_config(edited(cfg, edits))).types["input"]["output"]
    assert beyond(test_x[..., 1], wider, train_x[..., 1]) == 0


def test_a_coarse_hand_set_width_is_named_when_the_model_is_far_worse(monkeypatch):
    """a58 / a80 / a112: input.bits 2 or 3 made the quantized model 3x to 24x the float error; the warning blamed
    enc0.q or named nothing."""
    cfg = _cfg({"input": {"bits": 2}})
    window = np.random.default_rng(2).normal(0, 1, (500, 8, 1)).clip(-1.9, 1.9)
    values = {("input", "output"): window}
    told, said, _ = _told(monkeypatch, cfg, values, values)
    assert told and len(said) == 1 and said[0].startswith("warning: quantization.input.bits = 2 (set in the "
                                                          "configuration) holds the scaled window in steps of ")
    assert said[0].endswith("give quantization.input.bits: 12 (the default) or leave it out")
    assert refusal(cfg, {"quantization.input.bits": 12}) is None
    told, said, _ = _told(monkeypatch, _cfg({"input": {"bits": 12}}), values, values)  # the advice: nothing coarse
    assert (told, said) == (False, [])
    near = {"test": {"mse": 1.1}, "float": {"test": {"mse": 1.0}}}  # near the float model: not the cause told
    assert _told(monkeypatch, cfg, values, values, near)[:2] == (False, [])


def test_a_wrap_set_per_layer_is_fixed_by_its_own_key():
    """a81 / a83: the advice 'set quantization.overflow: sat' changed nothing, the per-layer wrap overrides it."""
    cfg = _cfg({"overflow": "sat", "layers": {"input": {"output": {"integer": 2, "overflow": "wrap"}}}})
    fix = wrap_fix(cfg)
    assert fix == "set quantization.layers.input.output.overflow: sat"
    assert refusal(cfg, {"quantization.layers.input.output.overflow": "sat"}) is None
    raw = cfg.model_dump(mode="json")
    raw["quantization"]["layers"]["input"]["output"]["overflow"] = "sat"
    prec = resolve_precisions(parse_config(raw))
    assert not [t for roles in prec.types.values() for t in roles.values() if t.overflow == "wrap"]


@pytest.fixture(scope="module")
def shifted(tmp_path_factory):
    """A series whose target moves past its training range on the test rows (a62), trained with the defaults and
    again with the keys the warning gives."""
    from flow.data import load_dataset
    from flow.training.fit import train

    rng = np.random.default_rng(3)
    n = 500
    a = np.cumsum(rng.normal(0, 1, n))
    y = np.sin(np.arange(n) / 6) + 0.1 * rng.normal(0, 1, n)
    y[int(n * 0.8):] += 6  # the test rows: several training spreads above
    path = tmp_path_factory.mktemp("shift") / "shift.csv"
    path.write_text("a,y\n" + "".join(f"{u:.5f},{v:.5f}\n" for u, v in zip(a, y)))
    raw = small_raw(predict_delta=True)
    raw["data"] = {"source": "csv", "path": str(path), "features": ["a", "y"], "target": "y", "window": 8,
                   "date_column": None}
    raw["training"].update(float_epochs=1, qat_epochs=1)
    runs = []
    for _ in range(2):
        cfg = parse_config(raw)
        said = []
        result = train(cfg, load_dataset(cfg), note=said.append, splits=("test",))
        runs.append((cfg, [s for s in said if "saturate" in s], result.metrics["test"]["mse"]))
        if len(runs) == 1:
            placed = [s for s in runs[0][1] if "placed for the training windows" in s]
            raw = edited(cfg, _given(placed[0])) if placed else raw
    return runs


def test_a_level_shift_is_told_once_with_the_keys_that_remove_it(shifted):
    (cfg, said, mse), (_, said_after, mse_after) = shifted
    assert len(said) == 1, said
    assert said[0].startswith("warning: on the test split 100.0% of the values of the level of y in the scaled window")
    edits = _given(said[0])  # the window, and the forecast that adds its last level back
    assert {"quantization.input.integer", "quantization.layers.delta.output.integer"} <= set(edits)
    assert "quantization.output.integer" not in said[0]
    assert refusal(cfg, edits) is None
    assert said_after == []  # applied: nothing saturates
    assert mse_after < mse / 2
