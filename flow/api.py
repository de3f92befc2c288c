"""The Python API: what the ``tsflow`` commands do, from a notebook or a script.

Each function takes a configuration (a ``FlowConfig``, a YAML path or a dict laid out as the YAML) and
returns the result object the command prints: ``TrainResult``, ``Estimate``, ``BuildResult``,
``CSimReport``, the export's files or ``synthesis.json``. Output folders follow the commands' rules: written under ``DIR.partial`` and renamed
when complete, never over earlier work unless ``force=True``. User errors raise ``ConfigError`` (the
message names the key, the bad value and what is allowed); the CLI is a thin layer over these
functions and prints the same message. ``docs/python-api.md`` shows them at work.
"""
from __future__ import annotations

import inspect
import numbers
import os
import shlex
from pathlib import Path
from typing import Callable, Union

from .config import ConfigError, FlowConfig, load_config as _load_yaml, parse_config  # noqa: F401 (ConfigError: api.ConfigError)
from .csim import CSimReport
from .estimate import Estimate
from .locks import FolderBusy  # noqa: F401 (raised by csim, export, build: api.FolderBusy)
from .runs import NotRecorded, NotTsflowFolder, OutputExists, OutputNotWritable  # noqa: F401 (api.OutputExists, ...)

ConfigSource = Union[FlowConfig, str, Path, dict]
Report = Callable[[str, int, int, dict], None]  # (phase, epoch, epochs, logs) after each epoch
Note = Callable[[str], None]  # a stage starting, how training ended
REPORT_TAKES, NOTE_TAKES = "(phase, epoch, epochs, logs)", "(text)"  # how a refused callback is described


class NotBitExact(Exception):
    """The generated C++ does not compute what the integer reference computes (``result.csim`` says where)."""

    def __init__(self, message: str, result):
        super().__init__(message)
        self.result = result


def _flags(**flags) -> tuple[bool, ...]:
    """The flags as Python bools, in order: True or False, numpy's too (``np.bool_``, what a comparison of
    arrays gives); a string such as "no" would be read as true, and is refused by its type."""
    import numpy as np

    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(f"{name}={value!r}: {name} takes True or False, not a {type(value).__name__}")
    return tuple(bool(value) for value in flags.values())


def _jobs(jobs) -> int | None:
    """``jobs`` as an int: any integer type (numpy's too, as in a config dict) is a whole number; a bool, a float
    or text is said by its type, not as a number below 1."""
    if jobs is None:
        return None
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral):
        raise ConfigError(f"jobs={jobs!r}: the number of testbench processes is an int (or None: one per core), not "
                          f"a {type(jobs).__name__}")
    if jobs < 1:
        raise ConfigError(f"jobs={jobs!r}: the number of testbench processes is at least 1 (or None: one per core)")
    return int(jobs)


def _callables(**callbacks) -> None:
    """A callback is a function of the arguments it will be called with, or None: a string, or a function of
    other arguments, would fail deep inside the run, after its folder was made."""
    for name, (value, takes) in callbacks.items():
        if value is None:
            continue
        if not callable(value):
            raise ConfigError(f"{name}={value!r}: {name} takes a function {takes} or None, not a "
                              f"{type(value).__name__}")
        try:
            signature = inspect.signature(value)
        except (TypeError, ValueError):  # a builtin without a signature: called as it is
            continue
        arguments = takes.strip("()").split(", ")
        try:
            signature.bind(*arguments)
        except TypeError:
            raise ConfigError(f"{name}={getattr(value, '__name__', value)!r}: {name} is called with "
                              f"{len(arguments)} argument{'s' if len(arguments) > 1 else ''} {takes}, which a "
                              f"function of {signature} does not take") from None


def whitespace_slip(path: str) -> str | None:
    """What is wrong with a path a name of which starts or ends with whitespace (``'o/run '``, ``'o/ run'``):
    a quoting slip more often than a name, and invisible in a message. None for a path that exists so named
    (made on purpose), or one without such a name. The commands' paths and the API's are read alike."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        ends = [end for end, ch in (("starts", part[:1]), ("ends", part[-1:])) if ch.isspace()]
        if ends and not os.path.lexists("/".join(parts[:i + 1])):
            return f"the name {part!r} {' and '.join(ends)} with whitespace (a quoting slip?); remove it"
    return None


def _path(path, name: str, what: str, optional: bool = False) -> Path:
    """A path argument as the commands read theirs: a leading ``~`` is the home folder (as in data.path).
    Refused naming the argument: another type (pathlib's TypeError would name neither), an empty string,
    which ``Path('')`` would take for the working folder, and a name with whitespace at an end (the commands
    refuse both too)."""
    alternative = ", or None" if optional else ""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"{name}={path!r}: give {what} as a str or Path{alternative}, not a {type(path).__name__}")
    if isinstance(path, str) and not path.strip():
        raise ConfigError(f"{name}={path!r}: an empty path (an unset variable?); give {what}{alternative}")
    expanded = Path(path).expanduser()
    slip = whitespace_slip(str(expanded))
    if slip:
        raise ConfigError(f"{name}={str(path)!r}: {slip}")
    return expanded


def load_config(source: ConfigSource, config_dir: str | Path | None = None) -> FlowConfig:
    """A validated configuration from a YAML path, a dict (relative ``data.path`` read from
    ``config_dir``, default the working folder) or an existing ``FlowConfig``. ``config_dir`` with a YAML
    path or a ``FlowConfig`` is refused: their ``data.path`` was read from the YAML's own folder."""
    return _configuration(source, "source", config_dir)


def _configuration(source, name: str, config_dir=None) -> FlowConfig:
    if config_dir is not None:
        if not isinstance(source, dict):
            raise ConfigError(f"config_dir={config_dir!r} applies to a dict only (the folder its relative data.path "
                              f"is read from); a YAML's relative data.path is read from the YAML's own folder: leave "
                              f"config_dir out")
        config_dir = _path(config_dir, "config_dir", "the folder a relative data.path is read from", optional=True)
        if not config_dir.is_dir():
            raise ConfigError(f"config_dir={str(config_dir)!r}: no such folder; give the folder the dict's relative "
                              f"data.path is read from, or None (the working folder)")
    if isinstance(source, FlowConfig):  # model_copy(update=...) skips validation: checked again, as a dict is
        checked = parse_config(source.model_dump(exclude_unset=True))
        if checked.data.path == source.data.path:  # how data.path was written, for the messages that name it
            for name in ("_path_given", "_path_base", "_path_base_is_config_dir"):
                setattr(checked.data, name, getattr(source.data, name))
        return checked
    if isinstance(source, dict):
        return parse_config(source, config_dir=config_dir)
    if isinstance(source, str) and "\n" in source.strip():
        raise ConfigError(f"{name}: a string of {len(source.splitlines())} lines, YAML text rather than a path; "
                          f"give the path of the YAML file, or the configuration as a dict (yaml.safe_load(text))")
    if isinstance(source, (str, os.PathLike)):
        return _load_yaml(_path(source, name, "the YAML file"))
    raise ConfigError(f"{name}={source!r}: a configuration is a YAML path, a dict or a FlowConfig, not a "
                      f"{type(source).__name__}")


def calibration_of(path: str | Path | None, cfg: FlowConfig, note: Note | None = None) -> dict | None:
    """The corrections ``tsflow calibrate`` wrote to ``path`` (checked against the target part); a factor
    outside the plausible range is told to ``note`` (else a ``flow.calibration.CalibrationWarning``)."""
    if path is None:
        return None
    from .calibration import design_of, layer_names, load_calibration

    given = _path(path, "calibration", "the file 'tsflow calibrate' wrote", optional=True)
    if given.is_dir():  # the command's --calibration refuses a folder before this
        inside = given / "calibration.json"  # what 'tsflow export --run' writes into a build folder
        such = f" (such as {str(inside)!r})" if inside.is_file() else ""
        raise ConfigError(f"calibration={str(path)!r} is a folder: give the JSON file 'tsflow calibrate' wrote{such}")
    return load_calibration(given, cfg.target.part, layer_names(cfg), design_of(cfg), note=note)


def estimate(config: ConfigSource, calibration: str | Path | None = None, note: Note | None = None) -> Estimate:
    """Resources and latency of the design ``build`` would generate, on ``target.part`` (no training).
    ``note(text)`` is told what the estimate goes on with but the user should know (``warning: ...``)."""
    from .estimate import estimate as run_estimate

    _callables(note=(note, NOTE_TAKES))
    cfg = _configuration(config, "config")
    return run_estimate(cfg, calibration=calibration_of(calibration, cfg, note))


def train(config: ConfigSource, out: str | Path, force: bool = False, report: Report | None = None,
          note: Note | None = None):
    """Float training, then quantization-aware training; the model, metrics.json and the config go to
    ``out``. Returns ``flow.training.fit.TrainResult`` (``model``, ``metrics``, ...)."""
    from .data import load_dataset
    from .runs import staged_output

    (force,) = _flags(force=force)
    _callables(report=(report, REPORT_TAKES), note=(note, NOTE_TAKES))
    out = _path(out, "out", "the folder to write")
    cfg = _configuration(config, "config")
    note = note or (lambda text: None)
    ds = load_dataset(cfg, note=note)  # bad data is refused before any folder
    with staged_output(out, force, note=note) as stage:
        from .training.summary import data_line

        note(data_line(ds, cfg))  # the words build uses
        from .training.checkpoint import save_trained
        from .training.fit import train as run_training

        result = run_training(cfg, ds, report=report, note=note)
        save_trained(stage, cfg, ds, result)
    return result


def build(config: ConfigSource, out: str | Path, trained: str | Path | None = None, force: bool = False,
          allow_overflow: bool = False, calibration: str | Path | None = None, jobs: int | None = None,
          report: Report | None = None, note: Note | None = None, checked: Callable[[Estimate], None] | None = None):
    """Estimate, train (or reuse ``trained``), convert through hls4ml and prove the C++ bit-exact over the
    whole test split. Returns ``flow.build.BuildResult`` (``estimate``, ``csim``, ``seconds``,
    ``cpp_lines``, ``hls_model``: hls4ml's model of ``OUT/hls``). A C simulation that is not bit-exact raises ``NotBitExact`` (its ``result`` holds the
    report) and leaves ``out.partial`` marked FAILED, never a folder that looks complete.
    ``checked(estimate)`` sees the estimate when the fit check runs, before any training."""
    from .runs import staged_output, trained_model

    force, allow_overflow = _flags(force=force, allow_overflow=allow_overflow)
    jobs = _jobs(jobs)
    _callables(report=(report, REPORT_TAKES), note=(note, NOTE_TAKES), checked=(checked, "(estimate)"))
    out = _path(out, "out", "the build folder to write")
    cfg = _configuration(config, "config")
    factors = calibration_of(calibration, cfg, note)
    if trained is not None:
        given = _path(trained, "trained", "the train or build folder", optional=True)
        trained = trained_model(given)
        if trained != given and note:
            note(f"reusing the trained model of the build folder {given} ({trained})")
    from .csim import check_compiler
    from .data import load_dataset

    check_compiler("the build compiles its C simulation with it, after the training", then="; nothing was done")
    ds = load_dataset(cfg, note=note)  # bad data is refused before any folder
    if trained is not None:
        from .vectors import check_same_data

        check_same_data(ds, trained)  # a model reused on other data: refused before any folder too
    with staged_output(out, force, note=note) as stage:
        from .build import build as run_build  # TensorFlow, loaded once config and folder are good

        result = run_build(cfg, stage, trained, report=report, allow_overflow=allow_overflow, calibration=factors,
                           jobs=jobs, note=note, checked=checked, ds=ds)
        if not result.csim.bit_exact:
            raise NotBitExact(f"C simulation is not bit-exact; details in {stage / 'csim.json'}", result)
    result.hls_model.config.config["OutputDir"] = str(out.resolve() / "hls")  # OUT.partial became OUT
    return result


def csim(folder: str | Path, jobs: int | None = None, verdict: Callable[[CSimReport], None] | None = None,
         note: Note | None = None) -> CSimReport:
    """Re-run the C simulation of a build folder over the whole test split, against a freshly computed
    reference; ``report.bit_exact`` is the verdict. ``verdict(report)`` sees it before anything is written
    into the folder; a folder that cannot be written raises ``NotRecorded`` after the simulation (its
    ``result`` is the report). The folder is locked while it runs: a folder another process holds raises
    ``FolderBusy`` naming it."""
    from .locks import using_folder
    from .runs import build_holding, check_build_folder, subfolder_said

    jobs = _jobs(jobs)
    _callables(verdict=(verdict, "(report)"), note=(note, NOTE_TAKES))
    folder = _path(folder, "folder", "the build folder")
    holder = build_holding(folder)  # its hls/ or model/ given for the build folder: said, not 'build first'
    if holder is not None:
        flags = f" --jobs {jobs}" if jobs else ""
        raise ConfigError(subfolder_said(folder, holder, f"'tsflow csim {shlex.quote(str(holder))}{flags}'"))
    check_build_folder(folder)  # before TensorFlow loads: a wrong or damaged folder is refused at once
    with using_folder(folder):
        from .build import rerun_csim

        return rerun_csim(folder, jobs, verdict=verdict, note=note)


def export(folder: str | Path, run: bool = False, force: bool = False, report: Note | None = None,
           block_design: bool = False, allow_over_headroom: bool = False) -> dict:
    """Write the vendor Tcl scripts of a build folder (``FOLDER/vivado_scripts/``; with ``block_design`` also
    the MicroBlaze system's script and its C example in ``FOLDER/sw/``) and, with ``run``, run them
    (Vitis HLS or Vivado HLS, then Vivado, on PATH). Returns ``{"scripts": [paths], "missing_tools":
    [programs not on PATH]}``, with ``block_design`` also ``"system"``: what ``FOLDER/system_estimate.json``
    holds (the IP beside the processor system, estimates), with ``run`` also ``"synthesis"``: what
    ``FOLDER/synthesis.json`` holds. Raises ``flow.export.ExportError`` (``ToolsMissing``, ``StepFailed``,
    ``block_design.OverHeadroom`` when the IP and the system leave less than ``target.headroom`` free and
    not ``allow_over_headroom``; every one a ``ConfigError``) naming what is wrong, and the arguments as given here. With ``run`` also ``"verification"``: the C synthesis
    report against ``FOLDER/plan.json`` (``flow.verify.Verification``, its ``differences`` what does not
    match); a plan.json it cannot read raises ConfigError before any tool runs. The folder is locked while
    the export writes into it (``FolderBusy`` names the process that holds it); one that cannot be written
    raises ``flow.export.NotWritable`` before anything is written."""
    from .export import export as export_stage

    run, force, block_design, allow_over_headroom = _flags(run=run, force=force, block_design=block_design,
                                                          allow_over_headroom=allow_over_headroom)
    _callables(report=(report, NOTE_TAKES))
    folder = _path(folder, "folder", "the build folder")
    if allow_over_headroom and not block_design:  # as the command refuses --allow-over-headroom alone
        raise ConfigError("allow_over_headroom=True only applies with block_design=True (it lets the block design be "
                          "written over target.headroom); pass block_design=True, or leave allow_over_headroom out")
    return export_stage(folder, run, force, report, block_design, allow_over_headroom, api=True)
