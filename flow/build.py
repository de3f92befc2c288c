"""The build stage: trained model (new or reused) -> HLS project -> verified C simulation.

A build folder holds ``estimate.json`` (resources and latency on the target part), ``model/`` (the
checkpoint, as ``tsflow train`` writes it), ``hls/`` (the project), ``csim.json`` and ``build.json``
(wall time per stage). The estimate comes first: a design that does not fit is refused before any
training, unless overflow is allowed.
"""
from __future__ import annotations

import json
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml

from keras_models.export import integer_parameters

from .training.checkpoint import load_trained, save_integer_params, save_trained
from .training.summary import data_line
from .config import ConfigError, dump_config
from .hls.project import write_project
from .report import write_report
from .report_files import written_files as report_files
from .csim import ChangedSourcesWarning, CSimError, CSimReport, check_compiler, run_csim
from .data import load_dataset
from .estimate import Estimate, estimate
from .precision import resolve_precisions
from .reference import reference_forward
from .runs import check_build_folder
from .vectors import check_same_data, check_vectors_match

TRAINING_SECTIONS = ("data", "model", "quantization", "training")


@dataclass
class BuildResult:
    estimate: Estimate
    csim: CSimReport
    seconds: dict
    cpp_lines: int
    hls_model: object = None  # the hls4ml ModelGraph of DIR/hls: compile(), predict(x), build()


def _training_part(cfg) -> dict:
    raw = yaml.safe_load(dump_config(cfg))
    return {k: raw[k] for k in TRAINING_SECTIONS}


def with_target(trained_cfg, cfg):
    """The trained configuration (its binary points) with this build's target, hls and export sections."""
    from .config import parse_config

    raw = trained_cfg.model_dump(mode="json")
    mine = cfg.model_dump(mode="json")
    raw.update({k: v for k, v in mine.items() if k not in TRAINING_SECTIONS})
    return parse_config(raw)


def check_same_training(cfg, trained_cfg, source: Path) -> None:
    """A checkpoint is reused only if data, model, quantization and training are those of ``cfg``."""
    want, have = _training_part(cfg), _training_part(trained_cfg)
    differ = _differences(have, want)
    if differ:
        shown = "; ".join(f"{key} = {_shown(then)} in that run, {_shown(now)} in this configuration"
                          for key, then, now in differ[:4])
        more = f" (and {len(differ) - 4} more)" if len(differ) > 4 else ""
        raise ConfigError(f"--trained {source}: that model was trained from a different configuration: {shown}{more}; "
                          f"train it again with this configuration, or pass the run trained from it")


def _differences(have, want, path: str = "") -> list[tuple[str, object, object]]:
    """(dotted key, value in ``have``, value in ``want``) for every leaf that differs, in key order."""
    if isinstance(have, dict) and isinstance(want, dict):
        found = []
        for key in list(dict.fromkeys([*have, *want])):
            found += _differences(have.get(key), want.get(key), f"{path}.{key}" if path else str(key))
        return found
    return [] if have == want else [(path, have, want)]


def _shown(value) -> str:
    return "{...}" if isinstance(value, dict) else repr(value) if isinstance(value, str) else \
        json.dumps(value) if value is None or isinstance(value, bool) else str(value)


def reference_trace(cfg, model, data_target_index: int, ds) -> dict:
    prec = resolve_precisions(cfg)
    return reference_forward(ds.test.x, integer_parameters(model), prec, cfg.model, data_target_index)


def cpp_lines(folder: Path) -> int:
    """Lines of C++ written for this model: top function, types, configs, weights, tsflow headers
    (hls4ml's unused nnet_utils headers and the vendor ap_types are not counted)."""
    fw = Path(folder, "firmware")
    files = [*fw.glob("*.cpp"), *fw.glob("*.h"), *fw.glob("weights/*.h"), *fw.glob("nnet_utils/tsflow_*.h"),
             Path(folder, "tsflow_tb.cpp")]
    return sum(len(p.read_text().splitlines()) for p in files)


class DoesNotFit(ConfigError):
    """The estimate exceeds the target part and overflow was not allowed."""


def _calibrated(est, calibration: dict | None) -> str:
    """What a calibration did to the resources that overflow: the design is judged by a calibrated estimate,
    and factors fitted on another design's reports can make any design overflow (tour 8 b88)."""
    factors = (calibration or {}).get("factors", {})
    scaled = [r for r in est.overflowing if r in factors]
    if not scaled:
        return ""
    source = calibration.get("path", "the calibration given")
    by = ", ".join(f"{r} by {factors[r]:.3g}" for r in scaled)
    plain = ", ".join(f"{r} {est.uncalibrated[r]:,.0f}" for r in scaled)
    fits = all(est.uncalibrated[r] <= est.budget[r] for r in scaled)
    return (f" (a calibrated estimate: {source} scales {by}; uncalibrated: {plain}, which "
            f"{'fit' if fits else 'do not fit either'}); if those factors are not this design's, build without the "
            f"calibration or run 'tsflow calibrate' again with this design's reports")


def build(cfg, stage: Path, trained: Path | None = None, report=None, allow_overflow: bool = False,
          calibration: dict | None = None, jobs: int | None = None, note=None, checked=None, ds=None) -> BuildResult:
    """Estimate, train (or reuse), convert, write the HLS project into ``stage`` and C-simulate it.

    ``report(phase, epoch, epochs, logs)`` sees each epoch, ``note(text)`` each stage as it starts and
    how training ended, ``checked(estimate)`` the estimate when the fit check runs (before training).
    ``ds``: the data, when the caller loaded it before making the folder (bad data refused before any).
    """
    note = note or (lambda text: None)
    if not cfg.quantization.enabled:
        raise ConfigError("invalid configuration: quantization.enabled = false: an HLS build needs the "
                          "quantized model; allowed: true")
    check_compiler("the build compiles its C simulation with it, after the training", then="; nothing was trained")
    seconds = {}
    t0 = time.perf_counter()
    ds = ds if ds is not None else load_dataset(cfg, note=note)
    seconds["data"] = time.perf_counter() - t0
    note(data_line(ds, cfg))
    est = estimate(cfg, n_features=len(ds.features), calibration=calibration)
    (stage / "estimate.json").write_text(json.dumps(est.to_dict(), indent=2))
    (stage / "plan.json").write_text(json.dumps(est.plan_dict(), indent=1))
    if checked:
        checked(est)
    if not est.fits and not allow_overflow:
        over = ", ".join(f"{r} {est.total[r]} > {est.budget[r]}" for r in est.overflowing)
        raise DoesNotFit(f"the design does not fit {cfg.target.part} (estimate): {over}{_calibrated(est, calibration)}; "
                         f"see {stage / 'estimate.json'}; change hls.parallelism / hls.storage / hls.multiplier / "
                         f"quantization, or pass --allow-overflow")
    t0 = time.perf_counter()
    if trained is not None:
        checkpoint = load_trained(trained)
        check_same_training(cfg, checkpoint.cfg, trained)
        check_same_data(ds, trained)
        shutil.copytree(trained, stage / "model")
        save_integer_params(stage / "model", checkpoint.model)  # from the weights, not the copied file
        # same data/model/quantization/training (checked above); target, hls and export are this build's
        (stage / "model" / "config.yaml").write_text(dump_config(cfg))
        model = checkpoint.model
        trained_cfg = with_target(checkpoint.resolved, cfg)
    else:
        from .training.fit import train

        note("training: float, then quantization-aware")
        result = train(cfg, ds, report=report, note=note)
        (stage / "model").mkdir()
        save_trained(stage / "model", cfg, ds, result)
        model = result.model
        trained_cfg = result.config
    seconds["train"] = time.perf_counter() - t0
    if trained_cfg != cfg:  # integer: auto placed binary points: the hardware is that of the chosen types
        cfg = trained_cfg
        est = estimate(cfg, n_features=len(ds.features), calibration=calibration)
        (stage / "estimate.json").write_text(json.dumps(est.to_dict(), indent=2))
        (stage / "plan.json").write_text(json.dumps(est.plan_dict(), indent=1))
        note("estimate again with the binary points training chose (the types set the accumulator widths)")
        if not est.fits and not allow_overflow:
            over = ", ".join(f"{r} {est.total[r]} > {est.budget[r]}" for r in est.overflowing)
            raise DoesNotFit(f"with the binary points training chose, the design does not fit {cfg.target.part} "
                             f"(estimate): {over}{_calibrated(est, calibration)}; see {stage / 'estimate.json'}; set quantization integer bits, "
                             f"hls.parallelism / hls.storage / hls.multiplier, or pass --allow-overflow")
    t0 = time.perf_counter()
    note(f"integer reference forward over the {len(ds.test.y):,} test windows")
    ref = reference_trace(cfg, model, ds.target_index, ds)
    seconds["reference"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    note(f"hls4ml conversion into {stage / 'hls'}")
    project = write_project(cfg, model, resolve_precisions(cfg), ref, stage / "hls", est.plan_dict())
    seconds["convert"] = time.perf_counter() - t0
    note("C simulation: compiling the testbench with g++, then every test window, every boundary compared")
    csim = run_csim(stage / "hls", ref, jobs=jobs)
    seconds.update({f"csim_{k}": v for k, v in csim.seconds.items()})
    (stage / "csim.json").write_text(json.dumps(csim.to_dict(), indent=2))
    lines = cpp_lines(stage / "hls")
    (stage / "build.json").write_text(json.dumps({"seconds": seconds, "cpp_lines": lines}, indent=2))
    write_report(stage)
    return BuildResult(est, csim, seconds, lines, project.hls_model)


def rerun_csim(folder: Path, jobs: int | None = None, verdict=None, note=None) -> CSimReport:
    """Re-run the C simulation of a built project against a freshly computed reference.

    ``verdict(report)`` sees the result as soon as the simulation ends, before anything is written. A
    project that must be compiled again in a folder that cannot be written is simulated in a temporary
    copy of ``hls/`` (``note`` is told). Writing ``csim.json`` and the report comes last; when that fails
    (read-only, full) ``NotRecorded`` says so and carries the result.
    """
    import shutil
    import tempfile

    from .csim import testbench_is_current
    from .locks import not_writable
    from .runs import NotRecorded, record_written, sources_changed, sources_changed_said

    folder = Path(folder)
    check_build_folder(folder)  # every file it reads, plan.json and estimate.json, what the C++ includes
    changed = sources_changed_said(folder)
    if changed and note is None:  # an API caller without note: a Python warning, as a calibration's is
        warnings.warn(changed.removeprefix("warning: "), ChangedSourcesWarning, stacklevel=3)
    note = note or (lambda text: None)
    if changed:
        note(changed)
    checkpoint = load_trained(folder / "model")
    try:
        ds = load_dataset(checkpoint.cfg, note=lambda text: None)  # told when the folder was built
    except ConfigError as exc:
        raise ConfigError(f"{exc} (the data {folder / 'model' / 'config.yaml'} names: the C simulation computes its "
                          f"reference from it again)") from None
    check_same_data(ds, folder / "model", built=True)
    ref = reference_trace(checkpoint.resolved, checkpoint.model, ds.target_index, ds)
    check_vectors_match(folder, ref, checkpoint.cfg.data)
    with tempfile.TemporaryDirectory(prefix="tsflow-csim-") as tmp:
        hls = folder / "hls"
        blocked = None if testbench_is_current(hls) else not_writable(hls)
        if blocked is not None:
            note(f"{hls} cannot be written ({blocked.strerror or blocked}): the testbench is compiled and run in a "
                 f"temporary copy of it")
            hls = Path(tmp, "hls")
            shutil.copytree(folder / "hls", hls, symlinks=True)
            for path in [hls, *hls.rglob("*")]:  # the copy keeps the modes: make it writable
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o200)
        try:
            csim = run_csim(hls, ref, jobs=jobs)
        except CSimError as exc:  # the earlier verdict no longer holds for this folder
            try:
                (folder / "csim.json").write_text(json.dumps({"bit_exact": False, "error": str(exc)}, indent=2))
                write_report(folder)
            except OSError as written:
                raise CSimError(f"{exc}\n(and {folder / 'csim.json'} could not be updated: {written.filename}: "
                                f"{written.strerror or written}; it still holds the earlier verdict)") from None
            raise
        except OSError as exc:  # the project folder, written under the run (or a file of it unreadable)
            raise ConfigError(f"the C simulation of {folder} could not run: {exc.filename}: {exc.strerror or exc}") \
                from None
    csim.changed_sources = sources_changed(folder)
    if verdict:
        verdict(csim)
    try:
        (folder / "csim.json").write_text(json.dumps(csim.to_dict(), indent=2))
    except OSError as exc:
        raise NotRecorded(f"the verdict above was not recorded: {folder / 'csim.json'} could not be written "
                          f"({exc.strerror or exc}); it still holds the earlier verdict, and report.html too. Make "
                          f"{folder} writable and run 'tsflow csim' again, or copy it (cp -r) and run it on the "
                          f"copy", csim) from None
    try:
        write_report(folder)
    except OSError as exc:
        raise NotRecorded(f"{folder / 'csim.json'} holds the verdict above, but the report could not be written "
                          f"({exc.filename}: {exc.strerror or exc}); run 'python -m flow.report {folder}' once the "
                          f"folder can be written", csim) from None
    record_written(folder, ["csim.json", "hls/csim.bin", "hls/csim.bin.stamp", *report_files(folder)])
    return csim
