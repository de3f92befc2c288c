"""A build folder's recorded inputs and outputs against what the data and ``model/`` give now.

``tsflow csim`` runs the C++ again and ``python -m flow.report`` draws the forecast again from the data and
the model; both first check that these are still the build's, so a verdict or a figure never blames the
C++ (or shows a forecast) for data or files that changed since the build.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .config import ConfigError
from .reference import output_of


def check_same_data(ds, trained: Path, built: bool = False) -> None:
    """A checkpoint is reused only on the data it was trained on: the scaler fitted on the training rows now
    must be the one it was trained with (a host scales the IP's inputs with ``model/dataset.json``). ``built``:
    the model of a build folder, whose test vectors were scaled with it (``tsflow csim``)."""
    try:
        saved = json.loads(Path(trained, "dataset.json").read_text())["scaler"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # a damaged or incomplete model: load_trained names it
    now = ds.scaler.to_dict()
    if set(saved) != set(now) or any(not np.allclose(saved[k], now[k], rtol=1e-9, atol=0) for k in now):
        scalers = (f"scaler offset {saved.get('offset')}, scale {saved.get('scale')}; the data's training rows give "
                   f"offset {now['offset']}, scale {now['scale']}")
        if built:
            raise ConfigError(f"{Path(trained) / 'dataset.json'} holds another scaler than the data gives ({scalers}): "
                              f"a host scales the IP's inputs with that file, so it must be the build's; the file or "
                              f"the data changed since the build: run 'tsflow build' again")
        raise ConfigError(f"--trained {trained}: the data is not what that model was trained on (its {scalers}); "
                          f"train it again on this data")


def check_vectors_match(folder: Path, ref: dict, data_cfg, consequence: str = "the C++ was not run") -> None:
    """Before a C simulation is run again (or a report drawn): the test windows and outputs computed now from
    ``model/`` and the data are the ones the build wrote into ``hls/tb_data`` (else the data, the model or the
    vectors changed since the build, and a verdict would blame the C++ for it). ``consequence``: what was not
    done, said in the error."""
    tb = folder / "hls" / "tb_data"
    rebuild = f"{consequence}; run 'tsflow build' again (--force replaces the folder)"
    for name, boundary, what in (("inputs.bin", ref["input"], "test windows made from the data now"),
                                 ("expected.bin", output_of(ref), "outputs model/ computes now")):
        now = boundary.mantissa.reshape(boundary.mantissa.shape[0], -1).astype(np.int32)
        stored = np.fromfile(tb / name, dtype=np.int32)
        if stored.size != now.size:
            raise ConfigError(f"{folder}: the {what} ({now.shape[0]:,} windows of {now.shape[1]} values) are not "
                              f"those hls/tb_data/{name} holds ({stored.size:,} values): model/ or the data changed "
                              f"since the build; {rebuild}")
        differ = np.flatnonzero((stored.reshape(now.shape) != now).any(axis=1))
        if differ.size:
            w = int(differ[0])
            if name == "expected.bin":
                cause = "model/ or hls/tb_data/expected.bin changed since the build"
            elif data_cfg.source == "csv":
                cause = f"the data changed since the build ({data_cfg.path_origin()}), or hls/tb_data/inputs.bin did"
            else:  # a built-in series does not change: the file did
                cause = (f"hls/tb_data/inputs.bin changed since the build (the built-in {data_cfg.dataset} it was "
                         f"written from is the same)")
            raise ConfigError(f"{folder}: the {what} differ from hls/tb_data/{name} in {differ.size:,} of "
                              f"{now.shape[0]:,} windows, the first window {w}: {cause}; {rebuild}")
