"""Output folders that are either complete or clearly marked failed, never silently overwritten, and
that one process at a time writes.

Work goes into ``DIR.partial`` (with a ``RUNNING`` marker while the run works); only a finished stage
renames it to ``DIR``. A run that fails leaves ``DIR.partial`` with a ``FAILED`` file naming the error.

One owner at a time: a process that writes a folder holds an OS lock on it (``flow.locks``).
A run holds ``DIR.partial`` from before it exists (it is made under a hidden name, locked, then
renamed), and ``DIR`` when it replaces one; ``tsflow csim`` and ``tsflow export`` hold the build folder
they write into (``using_folder``). A folder another process holds is never taken, even with ``force``:
the refusal names the holder (its pid from ``/proc/locks`` where there is one, with its ``RUNNING``
marker's start time when it has one).

What an existing folder may be replaced with:

* ``DIR`` that tsflow made (a build folder or a train folder) only with ``force``; an empty ``DIR`` is
  simply used; anything else is never touched, even with ``force``. A run writes ``DIR/manifest.json``,
  the files it wrote; with ``force`` it refuses a folder holding files that tsflow did not write
  (``foreign_files``), naming them, and one whose manifest is damaged (it tells nothing). A folder
  without a manifest (made before there was one) is judged by its top-level names: what a build or a
  training writes, and the vendor tools' outputs of ``tsflow export --run``. A search's folder is never
  replaced by a build or a training, and no run writes inside another run's folder (``check_not_inside``).
* ``DIR.partial`` of tsflow's own failed run (``FAILED``), or of a run whose process no longer exists
  (the lock is free and, on this machine, no such pid), is replaced by the rerun without ``force``
  (``note`` is told so). One whose marker names a live process but that nobody locks (a run of an older
  tsflow, or a reused pid) needs ``force``; one without either marker is never touched.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import shutil
from contextlib import ExitStack, contextmanager
from pathlib import Path

from .config import ConfigError
from .locks import (RUNNING, FolderBusy, describe, hold, lock_holder, pinned, process_gone, running_info,
                    running_marker, stop_hint)

FAILED = "FAILED"
MANIFEST = "manifest.json"  # the files tsflow wrote in a build or train folder
MARKERS = (FAILED, RUNNING, MANIFEST)
# what flow.training.checkpoint.save_trained writes (not imported from there: that would load TensorFlow)
TRAINED_FILES = ("metrics.json", "model.weights.h5", "config.yaml")
BUILD_RESULTS = ("build.json", "csim.json")  # beside hls/ in a build folder
# what re-running the C simulation reads of a build folder (flow/training/checkpoint.py and flow/hls/project.py write them)
# (and what those two sources include, followed by csim_includes_missing); plan.json and estimate.json: the plan the C++
# was written from, which the report, export and verify read
CSIM_NEEDS = ("model/config.yaml", "model/dataset.json", "model/model.weights.h5", "hls/firmware/tsflow_model.cpp",
              "hls/tsflow_tb.cpp", "hls/tb_data/inputs.bin", "hls/tb_data/expected.bin", "plan.json", "estimate.json")
CSIM_SOURCES = ("hls/tsflow_tb.cpp", "hls/firmware/tsflow_model.cpp")  # what g++ compiles (flow/csim.py)
# a folder without a manifest: the top-level names tsflow train / build / csim / export (and the vendor tools
# export --run starts) write; what is below them is taken as theirs
KNOWN_NAMES = (
    *TRAINED_FILES, "binary_points.yaml", "dataset.json", "integer_params.npz", "history.json",  # train
    "model", "hls", "estimate.json", "plan.json", "csim.json", "build.json", "report.html", "report",  # build, csim
    "vivado_scripts", "sw", "system_estimate.json", "synthesis.json", "calibration.json", "logs", "reports",
    "hls_prj", "vivado_ip", "block_design", ".Xil", *MARKERS)  # export (--run, --block-design)
KNOWN_PATTERNS = ("vivado*.jou", "vivado*.log", "vivado*.str", "vitis_hls*.log", "vivado_hls*.log")  # the tools' own
SHOWN = 5  # foreign files named in a refusal; the rest are counted

SEARCH_MARKER = "search.json"  # what flow.search.study writes first into a search's --out (its MARKER)

BUILD, TRAIN, SEARCH, FAILED_RUN, RUNNING_RUN, ABANDONED_RUN, EMPTY = (
    "a tsflow build folder", "a tsflow train folder", "a tsflow search folder", "a failed tsflow run",
    "a tsflow run in progress", "a tsflow run that ended without finishing", "empty")


class OutputExists(ConfigError):
    """The output folder holds earlier work and no --force was given."""


class NotTsflowFolder(OutputExists):
    """The output folder holds something tsflow did not make: never replaced, even with --force."""


class OutputNotWritable(ConfigError):
    """The output folder cannot be created where it was asked for."""


class NotRecorded(ConfigError):
    """A command finished its work but could not write its result into the folder (read-only, full, ...);
    ``result`` is what it computed."""

    def __init__(self, message: str, result=None):
        super().__init__(message)
        self.result = result


# ------------------------------------------------------------------------------ what a folder holds

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
            return ABANDONED_RUN if process_gone(running_info(folder)) else RUNNING_RUN
        return None
    if (folder / "hls").is_dir() and any((folder / name).is_file() for name in BUILD_RESULTS):
        return BUILD
    if all((folder / name).is_file() for name in TRAINED_FILES):
        return TRAIN
    if _is_search(folder):
        return SEARCH
    return None


def _is_search(folder: Path) -> bool:
    """The --out of a 'tsflow search': its search.json records the study and the storage (a file of that name
    the user wrote does not make the folder one)."""
    try:
        doc = json.loads((folder / SEARCH_MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and {"study", "storage"} <= doc.keys()


def enclosing_run(path: Path) -> tuple[Path, str] | None:
    """The nearest folder above ``path`` that a tsflow run wrote (a build, train or search folder, or a run's
    ``DIR.partial``), and what it is; None where there is none."""
    for parent in Path(path).absolute().parents:
        if not parent.name:
            continue
        if parent.name.endswith(".partial"):
            kind = folder_kind(parent, partial=True)
            if kind is not None:
                return parent, kind if kind != EMPTY else "an empty folder named as a tsflow run's unfinished one"
        kind = folder_kind(parent)
        if kind in (BUILD, TRAIN, SEARCH):
            return parent, kind
    return None


def as_given(folder: Path, shown: Path | None) -> Path | str:
    """An absolute ``folder`` as the user would read it beside the path they gave (``shown``): relative to the
    working folder when theirs was relative and it lies below, absolute otherwise."""
    relative = os.path.relpath(folder)
    return folder if shown is None or Path(shown).is_absolute() or relative.startswith("..") else relative


def written_by_run(path: Path) -> tuple[Path, str, str] | None:
    """The run folder ``path`` is one of the files of, what that folder is, and how that is known; None: ``path``
    is in no run's folder, or is a new name there that the run does not write. A file a run wrote is its
    record (the build's manifest holds the digests of plan.json and estimate.json): no other command may
    replace it, not even with --force."""
    found = enclosing_run(path)
    if found is None:
        return None
    folder, kind = found
    relative = Path(path).absolute().relative_to(folder).as_posix()
    if kind in (BUILD, TRAIN):
        doc, damage = _manifest(folder)
        if relative in MARKERS:
            return folder, kind, "tsflow's own record of the run"
        if damage:
            if Path(path).exists() or relative.split("/")[0] in KNOWN_NAMES:
                return folder, kind, f"its {MANIFEST} is damaged ({damage}), so which files tsflow wrote is unknown"
            return None
        if doc is None:
            from fnmatch import fnmatch

            if relative.split("/")[0] in KNOWN_NAMES or any(fnmatch(relative, p) for p in KNOWN_PATTERNS):
                return folder, kind, "a name tsflow writes there"
            return None
        if _recorded(doc, relative):
            return folder, kind, f"its {MANIFEST} lists it as written by tsflow"
        return None
    if kind == SEARCH:
        return (folder, kind, "a file already there; a search keeps no list of the files it wrote") \
            if Path(path).exists() else None
    return folder, kind, "the folder of a run that did not finish"  # DIR.partial: all of it is that run's


def check_not_inside(out: Path, shown: Path | None = None) -> None:
    """Refuse (OutputExists) an ``--out`` inside another run's folder: that run's files are what it wrote and
    checks, and its --force replaces only those."""
    found = enclosing_run(out)
    if found:
        parent, kind = found
        raise OutputExists(f"output folder {shown or out} is inside {as_given(parent, shown)}, {kind}; a run never "
                           f"writes into another run's folder (its files are what that run wrote and checks): choose "
                           f"an --out outside it")


def check_not_staged(out: Path, shown: Path | None = None) -> None:
    """Refuse (FolderBusy) an ``out`` whose ``out.partial`` a running tsflow run holds: that run renames it into
    ``out`` when it finishes, so a command that took ``out`` meanwhile (a search) would strand its result."""
    out = Path(out)
    staging = out.with_name(out.name + ".partial")
    holder = lock_holder(staging) if staging.is_dir() and not staging.is_symlink() else None
    if holder is not None:
        given = Path(shown) if shown is not None else out
        raise FolderBusy(f"output folder {given}: another tsflow run is writing it ({given.name}.partial beside it, "
                         f"{describe(holder)}), and makes it {given.name} when it finishes; taking the folder now "
                         f"would leave that run's result in {given.name}.partial: choose another --out, or "
                         f"{stop_hint(holder)}, then run this again", holder)


def _files(folder: Path) -> list[str]:
    """Every file (and symlink) below ``folder``, relative, in POSIX form, sorted."""
    out = []
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        out += [(base / n).relative_to(folder).as_posix() for n in names]
        out += [(base / d).relative_to(folder).as_posix() for d in dirs if (base / d).is_symlink()]
    return sorted(out)


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest; None where there is none, or where it is damaged (``manifest_damage``)."""
    doc, damage = _manifest(folder)
    return None if damage else doc


def manifest_damage(folder: Path) -> str | None:
    """What is wrong with a folder's ``manifest.json`` (None: there is none, or it is sound). A damaged one
    cannot tell tsflow's files from the user's: judging the folder by its top-level names instead would
    take a user's file below ``hls/`` for tsflow's."""
    return _manifest(folder)[1]


def _manifest(folder: Path) -> tuple[dict | None, str | None]:
    path = Path(folder) / MANIFEST
    if not (path.exists() or path.is_symlink()):
        return None, None
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    except ValueError:
        return None, "not JSON"
    if not isinstance(doc, dict):
        return None, f"a JSON {type(doc).__name__}, not an object"
    for key in ("files", "trees"):
        entries = doc.get(key, [] if key == "trees" else None)
        if not isinstance(entries, list):
            return None, f"{key!r} is {'missing' if entries is None else f'{entries!r}'}, not a list of paths"
        for entry in entries:  # a tree as foreign_files reads it: a trailing '/' is allowed
            if not _inside_path(entry.rstrip("/") if key == "trees" and isinstance(entry, str) else entry):
                return None, f"{key!r} holds {entry!r}, not a relative path inside the folder"
    return doc, None


def _inside_path(entry) -> bool:
    """A path as the manifest records one: relative, POSIX, without '.', '..' or empty parts."""
    return isinstance(entry, str) and bool(entry) and all(p not in ("", ".", "..") for p in entry.split("/"))


# the files a synthesis report is judged against (tsflow verify, export): their digests go into the manifest,
# so an edit after the build shows even where the files still agree with each other
SEALED = ("plan.json", "estimate.json", "hls/boundaries.json")  # export reads the boundaries for sw/
# what the C simulation compiles, as the build wrote and checked it: their digests ('sources') let 'tsflow csim'
# refuse a project another writer replaced (an hls4ml write() into hls/) rather than judge other C++ as the build's
SOURCES = ("hls/firmware/", "hls/tsflow_tb.cpp")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(folder: Path) -> None:
    """``folder/manifest.json``: every file now below ``folder`` (the run wrote them all), and the digests of
    the ``SEALED`` ones."""
    files = [f for f in _files(folder) if f not in MARKERS]
    sealed = {name: _digest(Path(folder, name)) for name in SEALED if Path(folder, name).is_file()}
    sources = {name: _digest(Path(folder, name)) for name in files if name.startswith(SOURCES)}
    _dump_manifest(folder, {"files": files, "trees": [], "sha256": sealed, "sources": sources})


def _dump_manifest(folder: Path, doc: dict) -> None:
    doc = {"about": "the files tsflow wrote in this folder; 'tsflow build/train --force' replaces the folder "
                    "only when it holds nothing else ('trees': folders written as a whole); 'sha256': the "
                    "digests of the files 'tsflow verify' and 'tsflow export' trust as the build wrote them; "
                    "'sources': those of the C++ 'tsflow csim' compiles",
           "files": sorted(set(doc["files"])), "trees": sorted(set(doc.get("trees", []))),
           **{key: doc[key] for key in ("sha256", "sources") if isinstance(doc.get(key), dict)}}
    Path(folder, MANIFEST).write_text(json.dumps(doc, indent=0) + "\n")


def edited_since_written(folder: Path) -> list[str]:
    """The ``SEALED`` files of a folder whose digest differs from the one its manifest records (none for a
    folder whose manifest records no digests: one made before there were any)."""
    sealed = (read_manifest(folder) or {}).get("sha256")
    if not isinstance(sealed, dict):
        return []
    return [name for name, digest in sealed.items()
            if Path(folder, name).is_file() and _digest(Path(folder, name)) != digest]


def sources_changed(folder: Path) -> list[str]:
    """The C++ files of a build folder (``SOURCES``) that differ from, or are missing against, the digests its
    manifest records (none where it records none: a build from before there were any)."""
    sources = (read_manifest(folder) or {}).get("sources")
    if not isinstance(sources, dict):
        return []
    return [name for name, digest in sorted(sources.items())
            if not Path(folder, name).is_file() or _digest(Path(folder, name)) != digest]


def record_written(folder: Path, files=(), trees=()) -> None:
    """Add what a command wrote into an existing folder (``files``: relative paths, ``trees``: folders
    written as a whole) to its manifest. A folder without one (an older build) is left without one: its
    top-level names keep telling what tsflow wrote. Best effort: a folder that cannot be written keeps
    its manifest as it was."""
    doc = read_manifest(folder)
    if doc is None:
        return
    doc["files"] += [Path(f).as_posix() for f in files]
    doc["trees"] = doc.get("trees", []) + [Path(t).as_posix().rstrip("/") for t in trees]
    try:
        _dump_manifest(folder, doc)
    except OSError:
        pass


def foreign_files(folder: Path) -> list[str]:
    """The files below a tsflow folder that tsflow did not write: not in its manifest (nor below a folder
    the manifest holds as a whole); without a manifest, those whose top-level name tsflow never writes. A
    damaged manifest tells nothing: ``_not_replaceable`` refuses the folder before this is asked."""
    from fnmatch import fnmatch

    folder = Path(folder)
    doc = read_manifest(folder)
    files = _files(folder)
    if doc is None:
        return [f for f in files if f.split("/")[0] not in KNOWN_NAMES
                and not any(fnmatch(f, p) for p in KNOWN_PATTERNS)]
    return [f for f in files if f not in MARKERS and not _recorded(doc, f)]


def _recorded(doc: dict, relative: str) -> bool:
    """Whether a sound manifest records ``relative`` as written by tsflow: listed, or below a folder it holds as
    a whole ('trees': the vendor tools' projects). The report's figure folder, which 'tsflow csim' recorded as a
    whole before its figures were recorded one by one, holds only the figures the report draws: a user's file
    put there (notes, a calibration) is never taken for tsflow's."""
    from .report_files import FIGURE_DIR, FIGURES

    if relative in doc["files"]:
        return True
    for tree in (str(t).rstrip("/") for t in doc.get("trees", [])):
        if tree == FIGURE_DIR:
            if relative in {f"{FIGURE_DIR}/{name}" for name in FIGURES}:
                return True
        elif relative.startswith(tree + "/"):
            return True
    return False


def _not_replaceable(folder: Path) -> str | None:
    """Why ``--force`` may not replace a tsflow folder: its manifest is damaged, or it holds files tsflow did not
    write (None: it may be replaced)."""
    damage = manifest_damage(folder)
    if damage:
        return (f"output folder {folder}: its {MANIFEST} is damaged ({damage}); tsflow cannot tell the files it "
                f"wrote from yours, so --force does not replace the folder: repair {MANIFEST}, or move the folder "
                f"away (or choose another --out)")
    foreign = foreign_files(folder)
    return _foreign_message(folder, foreign) if foreign else None


def _foreign_message(folder: Path, foreign: list[str]) -> str:
    shown = ", ".join(foreign[:SHOWN]) + (f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else "")
    return (f"output folder {folder} holds {'a file' if len(foreign) == 1 else f'{len(foreign)} files'} tsflow did "
            f"not write ({shown}); --force replaces only what tsflow wrote: move "
            f"{'it' if len(foreign) == 1 else 'them'} out of {folder} (or choose another --out) and run again")


def trained_model(path: Path) -> Path:
    """The model folder ``--trained PATH`` names: a ``tsflow train`` folder (or a build's ``model/``) as
    it is, a finished build folder's ``model/``. Refuses (ConfigError) a build that did not finish and
    anything else, saying what is wanted."""
    path = Path(path)
    weights = TRAINED_FILES[1]
    if not path.is_dir():
        raise ConfigError(f"--trained {path}: no such folder; give the --out of 'tsflow train' or of a 'tsflow "
                          f"build'")
    if (path / weights).is_file():
        return path  # a trained model: flow.training.checkpoint.load_trained checks the rest
    if not (path / "model").is_dir():
        raise ConfigError(f"--trained {path}: holds no trained model (neither {weights} of a 'tsflow train' folder "
                          f"nor model/ of a build folder); run 'tsflow train' first, or give a build's --out")
    if path.name.endswith(".partial") or (path / FAILED).exists() or (path / RUNNING).exists():
        raise ConfigError(f"--trained {path}: the folder of a build that did not finish; its model/ may be "
                          f"incomplete: build again, or pass --trained {path / 'model'} if its training finished")
    return path / "model"


# --------------------------------------------------------------------------------- the build folder

def check_build_folder(folder: Path) -> None:
    """Refuse (ConfigError) a folder that is not a finished, complete build folder; reads nothing big."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder; give the folder 'tsflow build --out' wrote")
    check_finished(folder)
    if not (folder / "hls").is_dir():
        raise ConfigError(f"{folder} is not a build folder (no hls/ project); run 'tsflow build' first")
    missing = [name for name in CSIM_NEEDS if not (folder / name).is_file()]
    if not missing:
        missing = _grouped(folder, csim_includes_missing(folder))
    if missing:
        raise ConfigError(f"{folder} is an incomplete build folder (missing: {', '.join(missing)}); run "
                          f"'tsflow build' again (--force replaces this folder)")
    _check_vectors(folder / "hls")


def build_holding(folder: Path) -> Path | None:
    """The build folder ``folder`` is a subfolder of (its ``hls/``, ``model/``, ``report/``, ...), where a command
    that takes a build folder was given that subfolder; None when ``folder`` is a build folder itself (it holds
    ``hls/``) or lies in none."""
    folder = Path(folder)
    if (folder / "hls").is_dir():
        return None
    return next((p for p in folder.parents if folder_kind(p) == BUILD), None)


def subfolder_said(folder: Path, holder: Path, rerun: str) -> str:
    """What csim, export and the report say when given a build's subfolder for the build: the folder to give
    instead and the command (``rerun``) that gives it, rather than 'not a build folder, build first'."""
    return f"{folder} is {Path(folder).relative_to(holder)}/ inside the build folder {holder}; give that folder: {rerun}"


def sources_changed_said(folder: Path) -> str:
    """What a C simulation of a build whose C++ was changed after the build (by hand, or by another writer)
    says before it runs: the verdict is the changed C++'s, which an expert editing pragmas wants; '' when
    nothing changed."""
    damage = manifest_damage(folder)
    if damage:
        return (f"warning: {folder / MANIFEST} is damaged ({damage}): the C++ in {folder / 'hls'} cannot be checked "
                f"against what the build wrote, so this C simulation is of whatever it now holds; restore "
                f"{MANIFEST}, or build again into another --out (--force does not replace a folder whose "
                f"{MANIFEST} is damaged)")
    changed = sources_changed(folder)
    if not changed:
        return ""
    shown = ", ".join(changed[:SHOWN]) + (f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else "")
    return (f"warning: {folder / 'hls'} differs from what the build wrote and checked ({shown} changed since; "
            f"their digests are in {folder / MANIFEST}): this C simulation is of the changed C++, not the build's; "
            f"'tsflow build' again (--force replaces this folder) writes the build's back")


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"', re.M)


def csim_includes_missing(folder: Path) -> list[str]:
    """The files the C simulation's sources include (``#include "..."``, followed through every file of the
    build folder they reach) that are not there, relative to ``folder``: where g++ looks first (the including
    file's folder). Headers found in hls4ml's ap_types (installed, or the build's copy) are not followed."""
    folder = Path(folder)
    firmware = folder / "hls" / "firmware"
    outside = [firmware / "ap_types"]
    from .csim import CSimError, _ap_types_dir

    try:
        outside.insert(0, _ap_types_dir())
    except CSimError:  # hls4ml not installed: the C simulation names it when it compiles
        pass
    seen, missing = set(), []
    todo = [folder / name for name in CSIM_SOURCES]
    while todo:
        source = todo.pop()
        if source in seen:
            continue
        seen.add(source)
        try:
            text = source.read_text(errors="replace")
        except OSError:
            continue  # unreadable: g++ names it
        for name in _INCLUDE.findall(text):
            first = source.parent / name
            found = next((c for c in (first, firmware / name) if c.is_file()), None)
            if found is not None:
                todo.append(Path(os.path.normpath(found)))
            elif not any((base / name).is_file() for base in outside):
                where = Path(os.path.normpath(first))
                try:
                    missing.append(where.relative_to(folder).as_posix())
                except ValueError:  # an include that leaves the folder: as written
                    missing.append(name)
    return sorted(set(missing))


def _grouped(folder: Path, missing: list[str]) -> list[str]:
    """Missing files, those below a folder that is gone as one entry (``hls/firmware/weights/ (22 files)``)."""
    out, groups = [], {}
    for name in missing:
        parts = name.split("/")
        gone = next((i for i in range(1, len(parts)) if not (folder / "/".join(parts[:i])).is_dir()), None)
        key = "/".join(parts[:gone]) + "/" if gone is not None else name
        groups.setdefault(key, []).append(name)
    for key, names in groups.items():
        out.append(f"{key} ({len(names)} file{'s' if len(names) > 1 else ''})" if key.endswith("/") else key)
    return out


def check_finished(folder: Path) -> None:
    """Refuse (ConfigError) the folder of a build that did not finish (``DIR.partial``, or marked FAILED): what
    it holds may be of a design the build then refused."""
    if folder.name.endswith(".partial") or (folder / FAILED).is_file():
        reason = _first_line(folder / FAILED)
        raise ConfigError(f"{folder} is the folder of a build that did not finish" + (f" ({reason})" if reason else "")
                          + "; run 'tsflow build' again")


def _check_vectors(hls: Path) -> None:
    """The test vectors hold the same number of whole windows of inputs and outputs (int32 each)."""
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


# ------------------------------------------------------------------------------------ output folders

def _not_tsflow(folder: Path) -> NotTsflowFolder:
    if folder.exists() and not folder.is_dir():
        return NotTsflowFolder(f"output folder {folder} exists and is not a folder; it is left untouched, even "
                               f"with --force: choose another --out")
    if folder_kind(folder) == SEARCH:
        return NotTsflowFolder(f"output folder {folder} is a tsflow search folder ({SEARCH_MARKER}); a build or a "
                               f"training never replaces it, even with --force: choose another --out")
    what = ("no FAILED or RUNNING marker of a tsflow run" if folder.name.endswith(".partial") else
            "neither hls/ with build.json or csim.json, nor a trained model with metrics.json")
    return NotTsflowFolder(f"output folder {folder} already exists and does not look like a tsflow folder ({what}); "
                           f"it is left untouched, even with --force: choose another --out, or move it away yourself")


def _busy_out(folder: Path):
    def busy(holder):
        return FolderBusy(f"output folder {folder} is in use by another process ({describe(holder)}); it is "
                          f"left untouched, even with --force: {stop_hint(holder)}, then run this again", holder)
    return busy


def _busy_staging(staging: Path):
    def busy(holder):
        return FolderBusy(f"output folder {staging} is being written by another tsflow run ({describe(holder)}); "
                          f"it is left untouched, even with --force: {stop_hint(holder)}, then run this again",
                          holder)
    return busy


def check_output(out: Path, force: bool, shown: Path | None = None) -> list[str]:
    """Refuse (raise) unless ``out`` and ``out.partial`` may be written; returns the notes for the user
    about what will be replaced. Touches nothing (but for a probe file made and removed at once). With
    ``force``, a tsflow folder that holds files tsflow did not write is refused (``foreign_files``); one that
    cannot be removed (immutable, read-only) is refused too, as is a place the run cannot make its folder in:
    before the run does any work. ``shown``: the path as the user gave it, for the messages."""
    out = Path(out)
    staging = out.with_name(out.name + ".partial")
    notes = []
    check_not_inside(out)
    kind = folder_kind(out)
    if out.exists() or out.is_symlink():
        if kind in (None, SEARCH):
            raise _not_tsflow(out)
        _check_not_working_folder(out, shown if shown is not None else out)
        holder = lock_holder(out)
        if holder is not None:
            raise _busy_out(out)(holder)
        if kind != EMPTY:
            if not force:
                raise OutputExists(f"output folder {out} already exists; pass --force to replace it (from "
                                   f"flow.api: force=True)")
            refused = _not_replaceable(out)
            if refused:
                raise OutputExists(refused)
            notes.append(f"replacing {kind} {out} (--force); it stays as it is until this run finishes")
    if staging.exists() or staging.is_symlink():
        holder = lock_holder(staging)
        if holder is not None:
            raise _busy_staging(staging)(holder)
        kind = folder_kind(staging, partial=True)
        if kind is None:
            raise _not_tsflow(staging)
        if kind == FAILED_RUN:
            reason = _first_line(staging / FAILED)
            notes.append(f"replacing {staging}, left by a failed run" + (f" ({reason})" if reason else ""))
        elif kind == ABANDONED_RUN:
            notes.append(f"replacing {staging}, left by a run whose process (pid {running_info(staging)['pid']}) "
                         f"no longer exists")
        elif kind == RUNNING_RUN:
            info = running_info(staging)
            who = f" (pid {info.get('pid')} on {info.get('host')}, since {info.get('started')})" if info else ""
            if not force:
                raise OutputExists(f"output folder {staging} already exists: another tsflow run may still be "
                                   f"writing it{who}; if none is, pass --force to replace it (from flow.api: "
                                   f"force=True)")
            notes.append(f"replacing {staging}, of a run that may still be working{who} (--force)")
    _check_writable(out, shown if shown is not None else out)
    return notes


def _check_not_working_folder(out: Path, shown: Path) -> None:
    """Refuse (OutputExists) to replace the folder the command runs in, or one that holds it: the run renames
    its result into place, so the shell would be left in a removed folder that looks empty."""
    try:
        cwd = Path.cwd().resolve()
        here = out.resolve()
    except OSError:
        return
    if cwd == here:
        raise OutputExists(f"output folder {shown} is the current folder: a run replaces its output folder as a whole, "
                           f"which would leave the shell in a removed folder; nothing was done: cd .. and give --out "
                           f"{here.name}, or choose another --out")
    if here in cwd.parents:
        raise OutputExists(f"output folder {shown} holds the current folder ({cwd}): a run replaces its output folder "
                           f"as a whole, which would leave the shell in a removed folder; nothing was done: run the "
                           f"command from outside {shown}, or choose another --out")


def _check_writable(out: Path, shown: Path) -> None:
    """Before any work: the folder the staging folder is made in can be written, and an ``out`` the run will
    replace (an empty one, or earlier work with --force) can be removed: every folder below it written, nothing
    in it immutable or append-only. Else OutputNotWritable, one line with the fix."""
    from .locks import not_writable

    out = Path(out)
    place = out.absolute().parent
    while not place.exists() and place != place.parent:
        place = place.parent
    if place.is_dir():  # a file on the way: making the folder names it
        reason = pinned(place)
        relative = os.path.relpath(place)
        where = place if Path(shown).is_absolute() or relative.startswith("..") else relative
        if reason:
            consequence = ("nothing can be made in it" if reason == "immutable" else
                           "the run's folder could be made in it but not renamed into place")
            raise OutputNotWritable(f"cannot create the output folder {shown}: {where} is {reason} (chattr "
                                    f"+{reason[0]}), so {consequence}; make it writable (chattr "
                                    f"-{reason[0]} {where}), or choose another --out")
        blocked = not_writable(place)
        if blocked is not None:
            raise OutputNotWritable(f"cannot create the output folder {shown}: {where} cannot be written "
                                    f"({blocked.strerror or blocked}); make it writable, or choose another --out")
    if not out.is_dir() or out.is_symlink():
        return

    def named(path: Path) -> Path:  # as the user would write it
        return Path(shown, path.relative_to(out)) if path != out else Path(shown)

    for root, dirs, names in os.walk(out):
        base = Path(root)
        for path in [base, *(base / n for n in names)]:
            reason = pinned(path)
            if reason:
                raise OutputNotWritable(
                    f"cannot replace the output folder {shown}: {named(path)} is {reason} (chattr +{reason[0]}), so it "
                    f"cannot be removed; nothing was done: make it removable (chattr -R -{reason[0]} {shown}), or "
                    f"choose another --out")
        blocked = not_writable(base) if dirs or names else None  # an empty folder needs no writing to go
        if blocked is not None:
            raise OutputNotWritable(
                f"cannot replace the output folder {shown}: {named(base)} cannot be written ({blocked.strerror or blocked}), "
                f"so what it holds cannot be removed; nothing was done: make it writable, or choose another --out")


def _remove(folder: Path) -> None:
    if folder.is_symlink() or not folder.is_dir():
        folder.unlink()
    else:
        shutil.rmtree(folder)


def _claim(staging: Path, out: Path, locks: ExitStack) -> None:
    """Make ``staging`` already locked and marked RUNNING: built under a hidden name, then renamed into
    place, so no other process ever sees it unlocked (it replaces an earlier staging folder this process
    holds)."""
    tmp = staging.with_name(f".{staging.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        try:
            tmp.mkdir()
        except FileNotFoundError:
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
    except OSError as exc:  # a parent that is a file, or not writable: a user error, not a traceback
        raise OutputNotWritable(f"cannot create the output folder {out}: {tmp.parent}: "
                                f"{exc.strerror or exc}") from None
    try:
        locks.enter_context(hold(tmp, _busy_staging(staging)))
        (tmp / RUNNING).write_text(running_marker())
        if staging.exists() or staging.is_symlink():
            _remove(staging)  # held by this process (or a symlink / file check_output let through: none is)
        os.rename(tmp, staging)
    except FileExistsError:
        _remove(tmp)
        raise _busy_staging(staging)(lock_holder(staging) or {}) from None
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):  # another run renamed its own into place first
            raise _busy_staging(staging)(lock_holder(staging) or {}) from None
        raise OutputNotWritable(f"cannot create the output folder {out}: {exc.filename}: "
                                f"{exc.strerror or exc}") from None


@contextmanager
def staged_output(out: Path, force: bool, note=None):
    """Yield a staging folder; on success it becomes ``out``; on failure it stays ``out.partial``
    with a FAILED file naming the error. The process holds both folders' locks until it returns.

    ``note(text)`` is told what is replaced (a failed run's folder, or with ``force`` earlier work).
    ``out/manifest.json`` lists the files the run wrote; with ``force``, a folder holding files tsflow did
    not write is refused.
    """
    given, out = out, Path(out).resolve()
    if out.name.endswith(".partial"):
        raise OutputNotWritable(f"output folder {given}: a name ending in .partial is what tsflow gives a run that has "
                                f"not finished (commands refuse such folders); choose a name without it")
    if len(os.fsencode(out.name + ".partial")) > 255:  # NAME_MAX of every file system tsflow writes on
        raise OutputNotWritable(f"output folder {given}: its name is {len(os.fsencode(out.name))} bytes long, too long "
                                f"for the file system with the .partial tsflow adds while it works (255 at most); "
                                f"choose a shorter name")
    if not out.name:
        raise OutputNotWritable(f"output folder {given}: the root of the file system cannot be an output folder "
                                f"(its work goes beside it, into NAME.partial); give a folder to create, such as "
                                f"runs/NAME")
    staging = out.with_name(out.name + ".partial")
    with ExitStack() as locks:
        for folder, busy in ((out, _busy_out(out)), (staging, _busy_staging(staging))):
            if folder.is_dir():  # held before it is judged: no other run changes it meanwhile
                try:
                    locks.enter_context(hold(folder, busy))
                except FileNotFoundError:  # removed meanwhile
                    pass
        for text in check_output(out, force, given):
            if note:
                note(text)
        _claim(staging, out, locks)
        try:
            yield staging
        except BaseException as exc:
            _mark_failed(staging, f"{type(exc).__name__}: {exc}")
            raise
        (staging / RUNNING).unlink(missing_ok=True)
        write_manifest(staging)
        if out.exists() or out.is_symlink():  # checked again: the folder may have changed while the run worked
            try:
                if out.is_dir():
                    locks.enter_context(hold(out, _busy_out(out)))
            except FolderBusy as exc:
                _mark_failed(staging, f"FolderBusy: {out} was taken by another process while this run worked; the "
                                      f"finished result is in this folder")
                raise FolderBusy(f"{exc}; this run's result stays in {staging}", exc.holder) from None
            kind = folder_kind(out)
            if not (kind == EMPTY or (force and kind in (BUILD, TRAIN))):
                what = ("appeared or changed while this run worked and does not look like a tsflow folder" if force
                        else "appeared while this run worked")
                _mark_failed(staging, f"OutputExists: {out} {what}; the finished result is in this folder")
                raise OutputExists(f"output folder {out} {what}; its result stays in {staging}")
            refused = _not_replaceable(out) if kind != EMPTY else None
            if refused:
                _mark_failed(staging, f"OutputExists: {out} holds files tsflow did not write (or a damaged "
                                      f"{MANIFEST}); the finished result is in this folder")
                raise OutputExists(f"{refused}; this run's result stays in {staging}")
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
