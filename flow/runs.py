"""Output folders that are either complete or clearly marked failed, never silently overwritten.

Work goes into ``DIR.partial`` (with a ``RUNNING`` marker while the run works); only a finished stage
renames it to ``DIR``. A run that fails leaves ``DIR.partial`` with a ``FAILED`` file naming the error.

What an existing folder may be replaced with:

* ``DIR`` that tsflow made (a build folder or a train folder) only with ``force``; an empty ``DIR`` is
  simply used; anything else is never touched, even with ``force``.
* ``DIR.partial`` of tsflow's own failed run (``FAILED``), or of a run on this machine whose process
  no longer exists, is replaced by the rerun without ``force`` (``note`` is told so). One whose run may
  still be working (``RUNNING``) needs ``force``; one without either marker is never touched.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from .config import ConfigError

FAILED = "FAILED"
RUNNING = "RUNNING"
# what flow.training.checkpoint.save_trained writes (not imported from there: that would load TensorFlow)
TRAINED_FILES = ("metrics.json", "model.weights.h5", "config.yaml")
BUILD_RESULTS = ("build.json", "csim.json")  # beside hls/ in a build folder
# what re-running the C simulation reads of a build folder (flow/training/checkpoint.py and flow/hls/project.py write them)
CSIM_NEEDS = ("model/config.yaml", "model/dataset.json", "model/model.weights.h5", "hls/firmware/tsflow_model.cpp",
              "hls/tsflow_tb.cpp", "hls/tb_data/inputs.bin", "hls/tb_data/expected.bin")

BUILD, TRAIN, FAILED_RUN, RUNNING_RUN, ABANDONED_RUN, EMPTY = (
    "a tsflow build folder", "a tsflow train folder", "a failed tsflow run", "a tsflow run in progress",
    "a tsflow run that ended without finishing", "empty")


class OutputExists(ConfigError):
    """The output folder holds earlier work and no --force was given."""


class NotTsflowFolder(OutputExists):
    """The output folder holds something tsflow did not make: never replaced, even with --force."""


class OutputNotWritable(ConfigError):
    """The output folder cannot be created where it was asked for."""


def _running_info(folder: Path) -> dict:
    try:
        info = json.loads((folder / RUNNING).read_text())
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


def _process_gone(info: dict) -> bool:
    """True only when the run's process certainly no longer exists (same machine, no such pid)."""
    pid = info.get("pid")
    if info.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def folder_kind(folder: Path, partial: bool = False) -> str | None:
    """What an existing folder is, as far as tsflow is concerned; None: not a folder tsflow made.

    ``partial``: the folder is a ``DIR.partial`` staging folder (judged by its FAILED / RUNNING markers).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    if not any(folder.iterdir()):
        return EMPTY
    if partial:
        if (folder / FAILED).is_file():
            return FAILED_RUN
        if (folder / RUNNING).is_file():
            return ABANDONED_RUN if _process_gone(_running_info(folder)) else RUNNING_RUN
        return None
    if (folder / "hls").is_dir() and any((folder / name).is_file() for name in BUILD_RESULTS):
        return BUILD
    if all((folder / name).is_file() for name in TRAINED_FILES):
        return TRAIN
    return None


def _not_tsflow(folder: Path) -> NotTsflowFolder:
    if folder.exists() and not folder.is_dir():
        return NotTsflowFolder(f"output folder {folder} exists and is not a folder; it is left untouched, even "
                               f"with --force: choose another --out")
    what = ("no FAILED or RUNNING marker of a tsflow run" if folder.name.endswith(".partial") else
            "neither hls/ with build.json or csim.json, nor a trained model with metrics.json")
    return NotTsflowFolder(f"output folder {folder} already exists and does not look like a tsflow folder ({what}); "
                           f"it is left untouched, even with --force: choose another --out, or move it away yourself")


def check_build_folder(folder: Path) -> None:
    """Refuse (ConfigError) a folder that is not a finished, complete build folder; reads nothing big."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder; give the folder 'tsflow build --out' wrote")
    if folder.name.endswith(".partial") or (folder / FAILED).is_file():
        reason = _first_line(folder / FAILED)
        raise ConfigError(f"{folder} is the folder of a build that did not finish" + (f" ({reason})" if reason else "")
                          + "; run 'tsflow build' again")
    if not (folder / "hls").is_dir():
        raise ConfigError(f"{folder} is not a build folder (no hls/ project); run 'tsflow build' first")
    missing = [name for name in CSIM_NEEDS if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"{folder} is an incomplete build folder (missing: {', '.join(missing)}); run "
                          f"'tsflow build' again (--force replaces this folder)")
    _check_vectors(folder / "hls")


def _check_vectors(hls: Path) -> None:
    """The test vectors hold the same number of whole windows of inputs and outputs (int32 each)."""
    import json

    try:
        boundaries = json.loads((hls / "boundaries.json").read_text())
        n_in = boundaries["input"]["per_sample"]
        n_out = boundaries["delta" if "delta" in boundaries else "head"]["per_sample"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # an older build without the description: the testbench checks the vectors itself
    sizes = {name: (hls / "tb_data" / name).stat().st_size for name in ("inputs.bin", "expected.bin")}
    windows = {name: size / (4 * n) for (name, size), n in zip(sizes.items(), (n_in, n_out))}
    if len(set(windows.values())) != 1 or any(w != int(w) or w == 0 for w in windows.values()):
        shown = ", ".join(f"{name} {size:,} bytes" for name, size in sizes.items())
        raise ConfigError(f"{hls / 'tb_data'}: the test vectors are damaged ({shown}; expected whole windows of "
                          f"{n_in} input and {n_out} output int32 values, the same number of each); run "
                          f"'tsflow build' again (--force replaces this folder)")


def _first_line(path: Path) -> str:
    try:
        lines = path.read_text().strip().splitlines()
    except OSError:
        return ""
    return lines[0] if lines else ""


def check_output(out: Path, force: bool) -> list[str]:
    """Refuse (raise) unless ``out`` and ``out.partial`` may be written; returns the notes for the user
    about what will be replaced. Touches nothing."""
    out = Path(out)
    staging = out.with_name(out.name + ".partial")
    notes = []
    kind = folder_kind(out)
    if out.exists() or out.is_symlink():
        if kind is None:
            raise _not_tsflow(out)
        if kind != EMPTY:
            if not force:
                raise OutputExists(f"output folder {out} already exists; pass --force to replace it")
            notes.append(f"replacing {kind} {out} (--force); it stays as it is until this run finishes")
    if staging.exists() or staging.is_symlink():
        kind = folder_kind(staging, partial=True)
        if kind is None:
            raise _not_tsflow(staging)
        if kind == FAILED_RUN:
            reason = _first_line(staging / FAILED)
            notes.append(f"replacing {staging}, left by a failed run" + (f" ({reason})" if reason else ""))
        elif kind == ABANDONED_RUN:
            notes.append(f"replacing {staging}, left by a run whose process (pid {_running_info(staging)['pid']}) "
                         f"no longer exists")
        elif kind == RUNNING_RUN:
            info = _running_info(staging)
            who = f" (pid {info.get('pid')} on {info.get('host')}, since {info.get('started')})" if info else ""
            if not force:
                raise OutputExists(f"output folder {staging} already exists: another tsflow run may still be "
                                   f"writing it{who}; if none is, pass --force to replace it")
            notes.append(f"replacing {staging}, of a run that may still be working{who} (--force)")
    return notes


def _remove(folder: Path) -> None:
    if folder.is_symlink() or not folder.is_dir():
        folder.unlink()
    else:
        shutil.rmtree(folder)


@contextmanager
def staged_output(out: Path, force: bool, note=None):
    """Yield a staging folder; on success it becomes ``out``; on failure it stays ``out.partial``
    with a FAILED file naming the error.

    ``note(text)`` is told what is replaced (a failed run's folder, or with ``force`` earlier work).
    """
    out = Path(out).resolve()
    staging = out.with_name(out.name + ".partial")
    for text in check_output(out, force):
        if note:
            note(text)
    try:
        if staging.exists() or staging.is_symlink():
            _remove(staging)
        staging.mkdir(parents=True)
        (staging / RUNNING).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                   "started": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
    except OSError as exc:  # a parent that is a file, or not writable: a user error, not a traceback
        raise OutputNotWritable(f"cannot create the output folder {out}: {exc.filename}: "
                                f"{exc.strerror or exc}") from None
    try:
        yield staging
    except BaseException as exc:
        _mark_failed(staging, f"{type(exc).__name__}: {exc}")
        raise
    (staging / RUNNING).unlink(missing_ok=True)
    if out.exists() or out.is_symlink():  # checked again: the folder may have changed while the run worked
        kind = folder_kind(out)
        if not (kind == EMPTY or (force and kind in (BUILD, TRAIN))):
            what = ("appeared or changed while this run worked and does not look like a tsflow folder" if force
                    else "appeared while this run worked")
            _mark_failed(staging, f"OutputExists: {out} {what}; the finished result is in this folder")
            raise OutputExists(f"output folder {out} {what}; its result stays in {staging}")
    try:
        if out.exists() or out.is_symlink():
            _remove(out)
        staging.rename(out)
    except OSError as exc:
        _mark_failed(staging, f"OutputNotWritable: {out} could not be replaced; the finished result is in this "
                              f"folder")
        raise OutputNotWritable(f"cannot replace the output folder {out}: {exc.filename}: "
                                f"{exc.strerror or exc}; the result stays in {staging}") from None


def _mark_failed(staging: Path, text: str) -> None:
    try:
        (staging / FAILED).write_text(text + "\n")
        (staging / RUNNING).unlink(missing_ok=True)
    except OSError:  # the staging folder was removed under the run: the run's own error is the one to report
        pass
