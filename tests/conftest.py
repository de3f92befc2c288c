import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ETTH1 = SHARED_DATA / "ETTh1.csv"


def small_raw(**model) -> dict:
    """A config that trains in seconds: the built-in series, short window, tiny model."""
    return {
        "name": "small",
        "data": {"source": "builtin", "dataset": "seattle-temps", "features": ["temp"], "target": "temp",
                 "window": 8, "split": {"train": 0.6, "val": 0.2, "test": 0.2}},
        "model": {"d_model": 8, "heads": 1, "layers": 1, "ffn": 16, **model},
        "quantization": {"bits": 8},
        "training": {"float_epochs": 2, "qat_epochs": 2, "batch_size": 256, "seed": 1},
    }


@pytest.fixture(scope="session")
def small_trained(tmp_path_factory):
    """One trained quantized model shared by the tests that need a trained model."""
    from flow.checkpoint import save_trained
    from flow.config import parse_config
    from flow.data import load_dataset
    from flow.training import train

    cfg = parse_config(small_raw(heads=2, head="mean_last", predict_delta=True))
    ds = load_dataset(cfg)
    result = train(cfg, ds)
    folder = tmp_path_factory.mktemp("trained")
    save_trained(folder, cfg, ds, result)
    return cfg, ds, result, folder
