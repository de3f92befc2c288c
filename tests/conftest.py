import ctypes
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import shutil  # noqa: E402

import pytest  # noqa: E402

# tools the suite cannot do without: g++ runs every C simulation, tclsh every generated Tcl script
REQUIRED_TOOLS = {"g++": "g++ (Debian/Ubuntu: apt-get install g++)", "tclsh": "tclsh (Debian/Ubuntu: apt-get install tcl)"}


def postgres_bin(program: str) -> str | None:
    """A PostgreSQL server program: on PATH, or where the Debian/Ubuntu package puts it."""
    found = shutil.which(program) or sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))
    return str(found[-1]) if isinstance(found, list) and found else (found or None)


def pytest_configure(config):
    """Stop the whole run, loudly, when a required tool is missing (a quiet skip would look green)."""
    missing = [hint for tool, hint in REQUIRED_TOOLS.items() if shutil.which(tool) is None]
    if postgres_bin("initdb") is None or postgres_bin("pg_ctl") is None:
        missing.append("the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql)")
    if missing:
        pytest.exit("the test suite requires " + " and ".join(missing) + "; install it and rerun", returncode=4)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ETTH1 = SHARED_DATA / "ETTh1.csv"
REPORTS = SHARED_DATA / "reports"


def real_report(name: str) -> Path:
    """A real, unmodified tool report of ../shared/data/reports/. That folder sits beside the repository on
    the development machines and in CI but is not part of a user's clone (the reports are other projects'
    files, kept with their sources in its README), so there the test skips and says which file it lacks."""
    path = REPORTS / name
    if not REPORTS.is_dir():
        pytest.skip(f"real tool reports folder {REPORTS} is absent (shared test data, not part of the repository)")
    if not path.is_file():
        pytest.skip(f"real tool report {name} is absent from {REPORTS}")
    return path


PART = "xc7s15ftgb196-2"
# the smallest config the CLI tests build (trains 1+1 epochs in seconds)
TINY = {
    "name": "tiny",
    "data": {"source": "builtin", "dataset": "seattle-temps", "features": ["temp"], "target": "temp", "window": 8,
             "inputs": "levels"},
    "model": {"d_model": 8, "heads": 1, "layers": 1, "ffn": 16, "predict_delta": False},
    "quantization": {"bits": 8},
    "training": {"float_epochs": 1, "qat_epochs": 1, "batch_size": 256, "seed": 1},
}
# the environment tsflow runs in as a subprocess: no terminal size (rich wraps at 80), no TF chatter
CLI_ENV = {**{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}, "TF_CPP_MIN_LOG_LEVEL": "3"}


def small_raw(**model) -> dict:
    """A config that trains in seconds: the built-in series, short window, tiny model."""
    return {
        "name": "small",
        "data": {"source": "builtin", "dataset": "seattle-temps", "features": ["temp"], "target": "temp",
                 "window": 8, "split": {"train": 0.6, "val": 0.2, "test": 0.2}, "inputs": "levels"},
        "model": {"d_model": 8, "heads": 1, "layers": 1, "ffn": 16, "predict_delta": False, **model},
        "quantization": {"bits": 8},
        "training": {"float_epochs": 2, "qat_epochs": 2, "batch_size": 256, "seed": 1},
    }


@pytest.fixture(scope="session")
def small_trained(tmp_path_factory):
    """One trained quantized model shared by the tests that need a trained model."""
    from flow.training.checkpoint import save_trained
    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.training.fit import train

    cfg = parse_config(small_raw(heads=2, head="mean_last", predict_delta=True))
    ds = load_dataset(cfg)
    result = train(cfg, ds)
    folder = tmp_path_factory.mktemp("trained")
    save_trained(folder, cfg, ds, result)
    return cfg, ds, result, folder


def keras_boundaries(model, x, batch_size: int = 512) -> dict:
    """Every boundary of the reference trace as the quantized Keras model computes it (float64 values).

    Layer outputs come from one multi-output model run like ``predict``; the attention internals from
    ``QAttention.internals`` on that layer's input, traced as a graph as in ``predict``.
    """
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    from keras_models.layers import QAttention

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    outputs = {layer.name: layer.output for layer in layers}
    outputs.update({layer.name + ":input": layer.input for layer in layers if isinstance(layer, QAttention)})
    values = keras.Model(model.input, outputs).predict(x, batch_size=batch_size, verbose=0)
    trace = {("input" if name == "input_quant" else name): v for name, v in values.items()
             if not name.endswith(":input")}
    for layer in layers:
        if isinstance(layer, QAttention):
            graph = tf.function(layer.internals)
            inputs = values[layer.name + ":input"]
            parts = [graph(tf.constant(inputs[i:i + batch_size])) for i in range(0, len(inputs), batch_size)]
            for role in parts[0]:
                trace[layer.prefix + role] = np.concatenate([p[role].numpy() for p in parts])
            del trace[layer.name]  # the attention output is the o projection's
    return trace


def assert_keras_equals_reference(model, x, reference: dict) -> int:
    """Keras and the integer reference agree on every boundary they share; returns the values compared."""
    import numpy as np

    keras_trace = keras_boundaries(model, x)
    compared = 0
    for name, b in reference.items():
        assert name in keras_trace, f"the Keras model has no boundary {name}"
        got = keras_trace[name] * 2.0 ** b.type.frac  # exact: float64 values on a power-of-two grid
        assert got.shape == b.mantissa.shape, name
        bad = int(np.sum(got != b.mantissa))
        assert bad == 0, f"{name}: {bad} of {got.size} values differ between Keras and the reference"
        compared += got.size
    return compared


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def as_unprivileged():
    """``preexec_fn`` for root: drop the capabilities that let it read and write through the mode bits, in the
    child only (the mode bits then bind root as they bind anyone; no user switch, no namespace, nothing to
    undo). Does nothing for another user."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def require_mode_bits() -> None:
    """Skip, saying why, where the mode bits cannot be made to bind this process's children (root without
    the capability to drop its own)."""
    try:
        subprocess.run([sys.executable, "-c", "pass"], preexec_fn=as_unprivileged, capture_output=True, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        # a skip, not a failure: the product is not at fault where the sandbox forbids dropping capabilities
        # (no CAP_SETPCAP); on these machines and CI (root in a container) the drop works and these tests run
        pytest.skip(f"running as root, and the capability to read and write through the mode bits cannot be "
                    f"dropped here ({exc}): a read-only folder or file cannot be made")
