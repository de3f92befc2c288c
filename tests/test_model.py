"""The quantized Keras model, the integer reference and training."""
import json
import signal
import subprocess
import sys

import numpy as np
import pytest
import yaml

from flow.config import parse_config
from flow.data import load_dataset
from flow.precision import resolve_precisions
from flow.reference import output_of, reference_forward
from keras_models.builder import build_model, copy_weights
from keras_models.export import integer_parameters

from .conftest import assert_keras_equals_reference, small_raw

MATRIX = [
    dict(model={}, quant={"bits": 8}),
    dict(model={"heads": 2, "layers": 2}, quant={"bits": 4, "act_integer": 2}),
    dict(model={"head": "mean_last", "predict_delta": True}, quant={"bits": 6, "rounding": "rnd"}),
    dict(model={"heads": 4, "d_model": 16}, quant={"bits": 8, "rounding": "trn", "overflow": "wrap"}),
    dict(model={}, quant={"bits": 4, "layers": {"enc0.scores": {"output": {"bits": 8}},
                                                "enc0.softmax": {"table": {"bits": 10}, "output": {"bits": 8}},
                                                "enc0.ffn1": {"weight": {"bits": 3}}}}),
    # differenced inputs (two channels) and a window of 24, whose pooling reciprocal 2^16/24 rounds
    dict(model={"predict_delta": True}, quant={"bits": 6}, data={"inputs": "differences", "window": 24}),
    dict(model={"head": "mean_last", "predict_delta": True, "heads": 2}, quant={"bits": 8},
         data={"inputs": "differences", "window": 12}),
]


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: f"{c['model']}-{c['quant'].get('bits')}-{c.get('data', {})}")
def test_keras_quantized_forward_equals_integer_reference_at_every_boundary(case):
    raw = small_raw(**case["model"])
    raw["quantization"].update(case["quant"])
    raw["data"].update(case.get("data", {}))
    cfg = parse_config(raw)
    ds = load_dataset(cfg)
    prec = resolve_precisions(cfg)
    n_features = ds.train.x.shape[-1]
    fm = build_model(cfg, prec, False, n_features, ds.target_index)
    qm = build_model(cfg, prec, True, n_features, ds.target_index)
    fm.predict(ds.train.x[:512], verbose=0)
    copy_weights(fm, qm)
    # spread the weights (and the zero-initialised delta head) so outputs exercise saturation too
    qm.set_weights([w * 3 if w.ndim == 2 else w for w in qm.get_weights()])
    head = qm.get_layer("head")
    head.kernel.assign(np.full(head.kernel.shape, 0.5))
    x = ds.test.x
    ref = reference_forward(x, integer_parameters(qm), prec, cfg.model, ds.target_index)
    keras_out = qm.predict(x, batch_size=512, verbose=0)
    assert keras_out.shape == output_of(ref).values.shape
    assert int(np.sum(keras_out != output_of(ref).values)) == 0
    compared = assert_keras_equals_reference(qm, x, ref)
    assert compared > len(x) * len(ref)  # every boundary of every test window


def test_trained_model_equals_reference_on_every_test_window(small_trained):
    cfg, ds, result, _ = small_trained
    keras_out = result.model.predict(ds.test.x, batch_size=512, verbose=0)
    ref = output_of(reference_forward(ds.test.x, integer_parameters(result.model), result.precisions,
                                      cfg.model, ds.target_index))
    assert len(ds.test.y) > 1000
    assert int(np.sum(keras_out != ref.values)) == 0


def test_trace_has_every_boundary_in_forward_order_and_the_contracts_types(small_trained):
    """small_trained (8 bits, window 8, one layer, two heads, mean_last, predict_delta): the boundaries in the
    order the data flows, written out here, and the types docs/numerics.md fixes, worked by hand ("Default
    widths"): the probabilities max(8, ceil(log2 8) + 3 = 6) = 8 bits, all of them fraction bits, unsigned
    (not ``auto``: u8.0); the window quantization.input.bits 12 wide, the head and the forecast
    quantization.output.bits 16, signed, with the integer bits training chose (binary_points.yaml); all
    conv/sat, the YAML's defaults."""
    from flow.fixedpoint import FixedType
    from flow.training.checkpoint import POINTS, read_points

    cfg, ds, result, folder = small_trained
    trace = reference_forward(ds.test.x[:4], integer_parameters(result.model), result.precisions,
                              cfg.model, ds.target_index)
    assert list(trace) == ["input", "embed", "pos", "enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.softmax",
                           "enc0.context", "enc0.o", "enc0.add1", "enc0.norm1", "enc0.ffn1", "enc0.ffn2", "enc0.add2",
                           "enc0.norm2", "pool", "head", "delta"]
    points = read_points(folder / POINTS, "")
    assert trace["enc0.softmax"].type == FixedType(8, 0, False, "conv", "sat")
    assert trace["input"].type == FixedType(12, points["input", "output"], True, "conv", "sat")
    assert trace["head"].type == FixedType(16, points["head", "output"], True, "conv", "sat")
    assert trace["delta"].type == FixedType(16, points["delta", "output"], True, "conv", "sat")
    # 4 windows of 8 steps, 1 channel; 2 heads of 8 x 8 probabilities; one forecast each
    assert (trace["input"].mantissa.shape, trace["enc0.softmax"].mantissa.shape, trace["delta"].mantissa.shape) == \
        ((4, 8, 1), (4, 2, 8, 8), (4, 1))


def test_training_lowers_the_loss(small_trained):
    _, _, result, _ = small_trained
    for phase in ("float", "qat"):
        loss = result.history[phase]["loss"]
        assert loss[-1] < loss[0]


def test_save_reload_identical_outputs(small_trained):
    from flow.training.checkpoint import load_trained

    cfg, ds, result, folder = small_trained
    reloaded = load_trained(folder)
    a = result.model.predict(ds.test.x, batch_size=512, verbose=0)
    b = reloaded.model.predict(ds.test.x, batch_size=512, verbose=0)
    assert np.array_equal(a, b)
    saved = np.load(folder / "integer_params.npz")
    assert np.array_equal(saved["head/weight"], integer_parameters(reloaded.model)["head"]["weight"])


def test_same_seed_same_model():
    from flow.training.fit import train

    raw = small_raw()
    raw["training"].update({"float_epochs": 1, "qat_epochs": 1})
    cfg = parse_config(raw)
    ds = load_dataset(cfg)
    a = train(cfg, ds).metrics["test"]["mse"]
    b = train(cfg, ds).metrics["test"]["mse"]
    assert a == b


def test_qat_never_ends_with_a_higher_validation_loss_than_it_starts():
    """QAT that only makes things worse (a learning rate of 1 throws the weights around) hands back the
    quantized float model it started from, not its best bad epoch."""
    from flow.training.fit import train

    raw = small_raw()
    raw["training"].update({"float_epochs": 2, "qat_epochs": 2})
    ds = load_dataset(parse_config(raw))
    start = train(parse_config({**raw, "training": {**raw["training"], "qat_epochs": 0}}), ds)
    raw["training"]["qat_learning_rate"] = 1.0
    wild = train(parse_config(raw), ds)  # the same seed: the same float model
    assert wild.history["qat"]["best_epoch"] == -1, wild.history["qat"]
    assert min(wild.history["qat"]["val_loss"]) > start.metrics["val"]["scaled"]["mse"]
    assert wild.metrics["val"]["mse"] == start.metrics["val"]["mse"]


def test_qat_waits_its_own_patience_not_the_float_phases():
    """QAT stops after ``training.qat_patience`` epochs without a lower validation loss, however short the
    float phase's ``patience`` is (a learning rate of 1: no QAT epoch beats the start)."""
    from flow.training.fit import train

    raw = small_raw()
    raw["training"].update({"float_epochs": 2, "qat_epochs": 8, "patience": 1, "qat_patience": 3,
                            "qat_learning_rate": 1.0})
    cfg = parse_config(raw)
    qat = train(cfg, load_dataset(cfg)).history["qat"]
    assert qat["best_epoch"] == -1, qat
    assert len(qat["loss"]) == 3, qat


def test_cli_train_writes_metrics_and_model(tmp_path):
    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump(small_raw()))
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "flow", "train", str(cfg), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    for split in ("test", "val"):
        assert set(metrics[split]) >= {"mse", "rmse", "mae", "scaled"}  # the values: tests/test_multichannel.py
    assert metrics["bits"]["enc0.ffn1"]["weight"] == "s8.1 conv/sat"
    assert "persistence" in metrics["baselines"]["test"]
    assert (out / "model.weights.h5").is_file() and (out / "config.yaml").is_file()
    assert not (tmp_path / "run.partial").exists()


CTRL_C_INSIDE_A_DEL = """
import json, signal, sys
from flow.config import parse_config
from flow.data import load_dataset
from flow.training.fit import train

raw = json.loads(sys.argv[1])
cfg = parse_config(raw)
seen = []

class DroppedAtEpochEnd:  # any object deleted while fit runs
    def __del__(self):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C lands inside the __del__: Python prints it and carries on

def report(phase, epoch, epochs, logs):
    seen.append(epoch)
    print("epoch", epoch, file=sys.stderr, flush=True)
    if epoch == 0:
        DroppedAtEpochEnd()

try:
    train(cfg, load_dataset(cfg), report=report)
except KeyboardInterrupt:
    print("interrupted after epochs", seen, file=sys.stderr)
    sys.exit(130)
print("trained to the end:", seen, file=sys.stderr)
"""


def test_ctrl_c_that_lands_in_a_del_still_stops_training(tmp_path):
    """A Ctrl-C the interpreter swallows (raised inside a __del__ of an object deleted while fit runs)
    stops training at the next batch instead of being lost."""
    raw = small_raw()
    raw["training"] = {**raw["training"], "float_epochs": 4, "qat_epochs": 0, "patience": 10}
    done = subprocess.run([sys.executable, "-c", CTRL_C_INSIDE_A_DEL, json.dumps(raw)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600,  # Ctrl-C as in a terminal (see test_search)
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert "Exception ignored" in done.stderr and "KeyboardInterrupt" in done.stderr  # it was swallowed once
    assert done.returncode == 130, done.stderr
    assert "interrupted after epochs [0]" in done.stderr, done.stderr
