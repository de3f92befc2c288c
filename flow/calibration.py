"""Per-resource corrections of the estimate, fitted to real tool reports of the same design.

``factor[r] = measured[r] / estimated[r]`` for LUT, LUTRAM, FF, BRAM18, DSP and latency. Vivado
``report_utilization`` (after synthesis) is preferred over the HLS tool's own estimate in
``csynth.xml`` / ``csynth.rpt`` for resources; latency comes from the HLS report. Several reports of
one kind are averaged. The corrections are stored as JSON and applied by ``tsflow estimate`` /
``tsflow build`` with ``--calibration``.
"""
from __future__ import annotations

import json
from pathlib import Path

from .config import ConfigError
from .estimate import RESOURCES, estimate
from .hls.interface import top_function
from .parts import same_part
from .reports import HLSReport, ReportError, detect_and_parse

HLS_RESOURCES = ("lut", "ff", "bram18", "dsp")
SOURCE = "tsflow_model"  # the core; hls.interface may wrap it (flow/hls/interface.py)


def fit(cfg, reports: list[Path]) -> dict:
    """Corrections for ``cfg``'s design from its synthesis reports; raises ConfigError on bad input."""
    est = estimate(cfg)
    warnings = []
    measured: dict[str, list[tuple[float, str]]] = {r: [] for r in (*RESOURCES, "latency")}
    hls_only: dict[str, list[tuple[float, str]]] = {r: [] for r in HLS_RESOURCES}
    for path in reports:
        try:
            rep = detect_and_parse(path)
        except ReportError as exc:
            raise ConfigError(str(exc)) from None
        if not same_part(rep.part, cfg.target.part):
            raise ConfigError(f"{path}: report is for part {rep.part}, the configuration targets "
                              f"{cfg.target.part} (target.part); calibrate with reports of the same part")
        top = rep.top if isinstance(rep, HLSReport) else rep.design
        expected = top_function(cfg.hls.interface, SOURCE)
        if top is not None and not top.startswith((expected, cfg.export.ip_name)):
            warnings.append(f"{Path(path).name}: design {top}, not {expected} (the factors describe that design)")
        if isinstance(rep, HLSReport):
            for r in HLS_RESOURCES:
                hls_only[r].append((rep.resources[r], str(path)))
            if rep.latency_max_cycles is not None:
                measured["latency"].append((rep.latency_max_cycles, str(path)))
        else:  # the estimate's LUTRAM is distributed RAM only; Vivado's "LUT as Memory" adds SRLs
            for r in RESOURCES:
                measured[r].append((rep.lutram_ram if r == "lutram" else getattr(rep, r), str(path)))
    for r in HLS_RESOURCES:
        if not measured[r]:
            measured[r] = hls_only[r]
    estimated = est.uncalibrated  # unrounded, so a calibrated estimate of this design gives back the measurement
    factors, sources, values = {}, {}, {}
    for r, found in measured.items():
        found = [(v, src) for v, src in found if v]  # a 0 would silence the fit check for good
        if not found or not estimated[r]:
            continue
        mean = sum(v for v, _ in found) / len(found)
        factors[r] = mean / estimated[r]
        values[r] = mean
        sources[r] = [s for _, s in found]
    if not factors:
        raise ConfigError("no resource or latency figure found in the reports given")
    return {"part": cfg.target.part, "config": cfg.name, "factors": factors,
            "estimated": {r: round(v, 2) for r, v in estimated.items()},
            "measured": values, "sources": sources, "warnings": warnings}


def save_calibration(calibration: dict, path: Path, force: bool) -> None:
    path = Path(path)
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to replace it")
    try:
        path.write_text(json.dumps(calibration, indent=2))
    except OSError as exc:  # no such folder, a file in the way, no permission
        raise ConfigError(f"--out {path}: cannot write the calibration file ({exc.strerror or exc}); "
                          f"choose a path in an existing, writable folder") from None


def load_calibration(path: Path, part: str) -> dict:
    path = Path(path)
    try:
        calibration = json.loads(path.read_text())
        factors = calibration["factors"]
    except FileNotFoundError:
        raise ConfigError(f"--calibration {path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"--calibration {path}: cannot read it ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError):  # not JSON (or not text), or JSON of another shape
        raise ConfigError(f"--calibration {path}: not a file written by 'tsflow calibrate'") from None
    if not isinstance(factors, dict):
        raise ConfigError(f"--calibration {path}: not a file written by 'tsflow calibrate' (factors is not a "
                          f"mapping of resource to factor)")
    unknown = set(factors) - {*RESOURCES, "latency"}
    if unknown:
        raise ConfigError(f"--calibration {path}: unknown resource {sorted(unknown)[0]!r}; "
                          f"allowed: {', '.join((*RESOURCES, 'latency'))}")
    for r, f in factors.items():
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < float("inf"):
            raise ConfigError(f"--calibration {path}: factor of {r} is {f!r}; allowed: a positive number "
                              f"(run 'tsflow calibrate' again to rewrite the file)")
    if not isinstance(calibration.get("part"), str):
        raise ConfigError(f"--calibration {path}: names no part; not a file written by 'tsflow calibrate'")
    if not same_part(calibration["part"], part):
        raise ConfigError(f"--calibration {path} was fitted on {calibration.get('part')}, the configuration "
                          f"targets {part} (target.part)")
    return calibration
