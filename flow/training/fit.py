"""Float training then quantization-aware training, reproducible by seed, early stopping on val."""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import tensorflow as tf
from tensorflow import keras

from keras_models.builder import build_model, copy_weights

from .binary_points import fixed_outputs, float_values, output_saturation
from .saturation import tell_far_worse, tell_saturation, user_clips, wrap_fix
from .weight_clipping import clipped_parameters, parameters
from ..metrics import errors, linear_forecast, persistence_forecast, split_metrics
from ..precision import Precisions, resolve_precisions
from ..tables import table_coverage


@dataclass
class TrainResult:
    model: keras.Model
    quantized: bool
    precisions: Precisions
    history: dict
    seconds: dict
    metrics: dict
    config: object = None  # the configuration trained, with the binary points chosen for `integer: auto`
    points: dict = field(default_factory=dict)  # (layer, role) -> integer bits chosen (flow.training.binary_points)


class KeepBest(keras.callbacks.Callback):
    """Early stopping on validation loss that always ends with the best epoch's weights; ``start``
    (validation loss, weights) is a candidate before the first epoch (best epoch -1 if it stays best)."""

    def __init__(self, patience: int, report=None, start=(np.inf, None)):
        super().__init__()
        self.patience, self.report = patience, report
        (self.best, self.best_weights), self.wait, self.best_epoch = start, 0, -1

    def on_epoch_end(self, epoch, logs=None):
        val = logs["val_loss"]
        if self.report:
            self.report(epoch, logs)
        if val < self.best:
            self.best, self.best_weights, self.wait, self.best_epoch = val, self.model.get_weights(), 0, epoch
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class CtrlC(keras.callbacks.Callback):
    """Ctrl-C during ``fit`` ends training for sure. Python raises KeyboardInterrupt wherever the main
    thread is, and where that is a ``__del__`` (any object Python deletes during ``fit``, TensorFlow's
    among them) the interpreter prints it and carries on; the signal is also recorded here and raised again at the next
    batch or epoch end."""

    def __init__(self, seen: threading.Event):
        super().__init__()
        self.seen = seen

    def _check(self, *_):
        if self.seen.is_set():
            raise KeyboardInterrupt

    on_train_batch_end = on_test_batch_end = on_epoch_end = _check


@contextmanager
def ctrl_c_recorded():
    """The Event a SIGINT sets while the block runs. Only where Python's own Ctrl-C handler is in place
    (a caller with its own handler, as ``tsflow search``, keeps it) and in the main thread."""
    seen = threading.Event()
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield seen
        return

    def on_sigint(signum, frame):
        seen.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def seed_everything(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _fit(model, ds, epochs, lr, batch, patience, phase, report, note, keep_start=False):
    """``keep_start``: the model as it starts (QAT: the float weights quantized) competes with the epochs,
    so a phase never ends with a higher validation loss than it began with."""
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
    start = (model.evaluate(ds.val.x, ds.val.y, batch_size=1024, verbose=0), model.get_weights()) if keep_start \
        else (np.inf, None)
    cb = KeepBest(patience, (lambda e, logs: report(phase, e, epochs, logs)) if report else None, start)
    with ctrl_c_recorded() as interrupted:
        hist = model.fit(ds.train.x, ds.train.y, validation_data=(ds.val.x, ds.val.y), epochs=epochs,
                         batch_size=batch, shuffle=True, verbose=0, callbacks=[CtrlC(interrupted), cb])
    ran = len(hist.history["loss"])
    if note:
        stopped = f"stopped early after epoch {ran} ({patience} epochs without a lower val_loss); " if ran < epochs else ""
        kept = f"epoch {cb.best_epoch + 1}" if cb.best_epoch >= 0 else "its starting point, no epoch did better"
        note(f"{phase}: {stopped}kept {kept} (val_loss {cb.best:.5g})")
    return {"loss": [float(v) for v in hist.history["loss"]],
            "val_loss": [float(v) for v in hist.history["val_loss"]], "best_epoch": cb.best_epoch}


def _tell_one_batch(batch: int, windows: int, note) -> None:
    """A batch larger than the training set is one batch of all of it: valid (full-batch training), but every epoch
    is then a single step, which the epochs and the patience of early stopping count without saying so."""
    if batch <= windows:
        return
    note(f"warning: training.batch_size = {batch:,} is more than the {windows:,} training windows: every epoch is "
         f"one step on one batch of all {windows:,} (as batch_size {windows:,} would be), so the epochs and the "
         f"patience of early stopping count single steps; a batch_size below {windows:,} (the default is 64) makes "
         f"several steps an epoch")


def predict(model, x) -> np.ndarray:
    return model.predict(x, batch_size=1024, verbose=0).reshape(-1)


def train(cfg, ds, report=None, float_model=None, note=None, splits=("val", "test")) -> TrainResult:
    """Train the configured model on ``ds``; ``report(phase, epoch, epochs, logs)`` sees each epoch and
    ``note(text)`` how each phase ended (early stop, the epoch kept).

    ``float_model``: an already trained float model of the same shape; the float phase is skipped
    and QAT starts from its weights (the benchmark shares one float run across bit widths). The float
    model's errors are kept in ``metrics["float"]`` (what quantization costs). ``splits``: where errors
    are measured (a search scores on ``("val",)`` only; the baselines come with the test split).
    """
    seed_everything(cfg.training.seed)
    prec = resolve_precisions(cfg)
    tr = cfg.training
    n_features = ds.train.x.shape[2]
    history, seconds = {}, {}
    model = float_model or build_model(cfg, prec, False, n_features, ds.target_index)
    if not tr.float_epochs and float_model is None and cfg.quantization.enabled and note:
        note("warning: training.float_epochs = 0: quantization-aware training starts from the untrained model"
             + (", and integer: auto places its binary points from that model's ranges" if prec.auto else "")
             + "; a float phase (training.float_epochs) gives both a trained start")
    fits = (tr.float_epochs and float_model is None) or (cfg.quantization.enabled and tr.qat_epochs)
    if fits and note:
        _tell_one_batch(tr.batch_size, len(ds.train.y), note)
    if tr.float_epochs and float_model is None:
        t0 = time.perf_counter()
        history["float"] = _fit(model, ds, tr.float_epochs, tr.learning_rate, tr.batch_size, tr.patience, "float",
                                report, note)
        seconds["float"] = time.perf_counter() - t0
    quantized = cfg.quantization.enabled
    float_metrics = {name: split_metrics(predict(model, getattr(ds, name).x), getattr(ds, name), ds)
                     for name in splits}
    points = {}
    fixed = fixed_outputs(prec) if quantized else []  # forecast types whose integer bits the user set
    given, auto = cfg, prec.auto  # the tensors whose integer bits the user did not set
    if quantized and prec.auto:  # the binary points of `integer: auto`, from the float model on train windows
        from .binary_points import choose, with_points

        points = choose(cfg, prec, model, ds.train.x)
        cfg = with_points(cfg, points)
        prec = resolve_precisions(cfg)
        if note:
            note(f"binary points: {len(points)} tensors with integer: auto placed from the float model "
                 f"on the training windows")
        if note:  # the softmax table against the scores' binary point just placed (explicit ones: the estimate)
            for i, spec in prec.softmax.items():
                told = (f"enc{i}.scores", "output") in points and table_coverage(spec, f"enc{i}.scores")
                if told and cfg.quantization.softmax.index_frac is not None:
                    note(f"warning: {told}")
    set_by_user = quantized and any("output" in roles and (layer, "output") not in auto
                                    for layer, roles in prec.types.items()
                                    if layer not in ("head", "delta") and not layer.endswith("softmax"))
    train_values = float_values(cfg, model, ds.train.x) if fixed or (set_by_user and note) else None
    saturated = output_saturation(given, prec, train_values, fixed) if fixed else None
    if saturated and note:
        note(f"warning: {saturated}")
    clips = user_clips(given, replace(prec, auto=auto), train_values) if set_by_user and note else []
    for told in clips:
        note(f"warning: {told}")
    float_net = model
    if quantized:
        qmodel = build_model(cfg, prec, True, n_features, ds.target_index)
        copy_weights(model, qmodel)
        model = qmodel
        if tr.qat_epochs:
            t0 = time.perf_counter()
            history["qat"] = _fit(model, ds, tr.qat_epochs, tr.qat_learning_rate, tr.batch_size, tr.qat_patience, "qat",
                                  report, note, keep_start=True)
            seconds["qat"] = time.perf_counter() - t0
        if note:  # hand-set binary points of the parameters against the values they carry, as QAT began and ended
            for told in clipped_parameters(given, prec, auto, parameters(float_net), parameters(model),
                                           cfg.model.predict_delta):
                note(f"warning: {told}")
    metrics = {name: split_metrics(predict(model, getattr(ds, name).x), getattr(ds, name), ds)
               for name in splits}
    if quantized and note:
        _tell_wraps(cfg, prec, model, ds, splits, note, auto)
    if "test" in splits:
        metrics["baselines"] = baselines(ds)
    if quantized:
        metrics["float"] = float_metrics
        already = {layer for layer, _ in fixed} if saturated else set()  # the forecast types told before QAT
        if note and not tell_saturation(given, prec, float_net, ds, splits, metrics, note, auto, already):
            tell_far_worse(metrics, splits, note, clips)
    return TrainResult(model, quantized, prec, history, seconds, metrics, cfg, points)


def _tell_wraps(cfg, prec: Precisions, model, ds, splits, note, auto=frozenset()) -> None:
    """With overflow wrap, a value past its type's range lands at the other end of it: the binary points are placed
    on the training windows, and validation or test windows can go past them. Told when it happened: the same
    weights with every type saturating instead forecast those windows differently (nothing else differs)."""
    wrapping = [(layer, role) for layer, roles in prec.types.items() for role, t in roles.items() if t.overflow == "wrap"]
    if not wrapping:
        return
    sat = Precisions({layer: {role: replace(t, overflow="sat") for role, t in roles.items()}
                      for layer, roles in prec.types.items()}, prec.kinds, prec.softmax, prec.auto)
    saturating = build_model(cfg, sat, True, ds.train.x.shape[2], ds.target_index)
    copy_weights(model, saturating)
    told = []
    for name in (*splits, "train"):
        split = getattr(ds, name)
        got, instead = (predict(m, split.x).reshape(len(split.y), -1) for m in (model, saturating))
        differ = int(np.count_nonzero(np.any(got != instead, axis=1)))
        if differ:
            mse, mse_sat = (split_metrics(p, split, ds)["mse"] for p in (got, instead))
            ratio = mse / mse_sat if mse_sat > 0 else 1.0
            told.append((ratio, f"{name}: {differ:,} of the {len(split.y):,} windows, MSE {mse:.4g} against "
                                f"{mse_sat:.4g}{f' ({ratio:.3g} times)' if ratio >= 1.5 else ''}"))
    if not told:
        return
    told.sort(key=lambda t: -t[0])
    q = cfg.quantization
    keys = (["quantization.overflow = 'wrap'"] if q.overflow == "wrap" else []) + \
        [f"quantization.layers.{layer}.{role}.overflow = 'wrap'" for layer, spec in q.layers.items()
         for role in ("weight", "bias", "output", "scale", "shift", "table")
         if getattr(getattr(spec, role, None), "overflow", None) == "wrap"]
    placed = any(tensor in auto for tensor in wrapping)
    points = ("the binary points were placed for the training windows, and windows that go beyond them wrap" if placed
              else "the binary points set in the configuration do not hold every window, and the values past them wrap")
    note(f"warning: {' and '.join(keys)} (on {len(wrapping)} of the model's types): values past their type's range wrapped "
         f"around to the other end of it, and the quantized model forecast otherwise than the same weights with "
         f"overflow sat on {'; '.join(text for _, text in told)}; {points}: {wrap_fix(cfg)}, or give the tensors more "
         f"integer bits")


def baselines(ds) -> dict:
    """Persistence and a linear model on the same windows, de-normalised, for val and test."""
    out = {}
    for name in ("val", "test"):
        split = getattr(ds, name)
        truth = ds.denormalise(split.y)
        out[name] = {"persistence": errors(ds.denormalise(persistence_forecast(split)), truth),
                     "linear": errors(ds.denormalise(linear_forecast(ds.train, split)), truth)}
    return out
