"""Per-resource corrections of the estimate, fitted to real tool reports of the same design.

``factor[r] = measured[r] / estimated[r]`` for LUT, LUTRAM, FF, BRAM18, DSP and latency. Vivado
``report_utilization`` (after synthesis) is preferred over the HLS tool's own estimate in
``csynth.xml`` / ``csynth.rpt`` for resources; latency comes from the HLS report. Several reports of
one kind are averaged. The corrections are stored as JSON and applied by ``tsflow estimate`` /
``tsflow build`` with ``--calibration``.

Per layer, where the reports give it: the pipelined loops of ``csynth.xml`` and of its modules' reports
(Vitis HLS 2022 and later report each pipelined loop in a module of its own) are set beside the
estimated layers by trip count (``match_loops``), and a matched layer's cycles get their own factor;
the latency factor then covers the layers left.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from warnings import warn

from .config import ConfigError
from .estimate import RESOURCES, estimate
from .estimate.energy import STATIC_SOURCES, STATIC_W, VIVADO_DEFAULT_TOGGLE, dynamic_power
from .hls.interface import top_function
from .parts import parse_part, same_part
from .reports import HLSReport, PowerReport, ReportError, detect_and_parse, ip_name_only, of_design

HLS_RESOURCES = ("lut", "ff", "bram18", "dsp")
# report_power rows that are the IP's own dynamic power: not the I/O, clock managers or processor around it
IP_POWER_ROWS = ("Clocks", "Slice Logic", "Signals", "Block RAM", "DSPs")
SOURCE = "tsflow_model"  # the core; hls.interface may wrap it (flow/hls/interface.py)


def match_loops(layers: list[dict], loops: list[dict]) -> list[dict]:
    """Each estimated layer that runs loops (``layers``: estimate.json's, with ``loops``, their trip counts)
    beside the reports' pipelined loops that are its own, where the trip counts leave no doubt: for each
    of its trip counts, the reports hold exactly as many pipelined loops with it as the estimate has
    loops with it, all of this layer's. Layers sharing a trip count (q, k and v) stay unmatched
    (``loops: None``): the tool names the loops, and no name is guessed."""
    wanted: dict[int, list[str]] = {}
    for layer in layers:
        for trip in layer.get("loops") or []:
            wanted.setdefault(trip, []).append(layer["name"])
    found: dict[int, list[dict]] = {}
    for lp in loops:
        if lp.get("ii") is not None and lp.get("trip_max") is not None and lp["trip_min"] == lp["trip_max"]:
            found.setdefault(lp["trip_max"], []).append(lp)
    out = []
    for layer in layers:
        trips = layer.get("loops") or []
        if not trips:
            continue
        entry = {"layer": layer["name"], "cycles": layer["cycles"], "trips": trips, "loops": None, "latency": None,
                 "ii": None, "ratio": None}
        own = all(set(wanted[t]) == {layer["name"]} and len(found.get(t, [])) == len(wanted[t]) for t in trips)
        group = [lp for t in dict.fromkeys(trips) for lp in found.get(t, [])] if own else []
        if group and all(lp.get("latency_max") is not None for lp in group):
            latency = sum(lp["latency_max"] for lp in group)
            entry.update(loops=[f"{lp['module']}/{lp['name']}" if lp.get("module") else lp["name"] for lp in group],
                         latency=latency, ii=[lp["ii"] for lp in group],
                         ratio=round(latency / layer["cycles"], 4) if layer["cycles"] else None)
        out.append(entry)
    return out


def _module_of(top: str | None, cfg) -> bool:
    """A report of one module inside the design (a pipelined loop's, the core's under a wrapper)."""
    design = top_function(cfg.hls.interface, SOURCE)
    return top is not None and top != design and top.startswith((f"{design}_", SOURCE))


def _identity(path: Path) -> str:
    """What makes two named reports one measurement: the same bytes (a copy kept beside the original), else
    the same file (a folder, or one that cannot be read, which its parse then names)."""
    try:
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return f"path:{path.resolve()}"


def fit(cfg, reports: list[Path]) -> dict:
    """Corrections for ``cfg``'s design from its synthesis reports; raises ConfigError on bad input.
    HLS reports of the design's modules (by top name, or found in a ``modules`` folder) give loops only:
    their resources are part of the design's."""
    est = estimate(cfg)
    warnings = []
    given: dict[str, list] = {}  # one report named twice (a glob and its name, or a copy) is one measurement, not two
    for path in reports:
        given.setdefault(_identity(Path(path)), []).append(path)
    reports = [paths[0] for paths in given.values()]
    for paths in given.values():
        if len({Path(p).resolve() for p in paths}) > 1:
            names = list(dict.fromkeys(map(str, paths)))
            warnings.append(f"REPORTS: {', '.join(names[:-1])} and {names[-1]} have the same content (one report, "
                            f"copied); read once")
        elif len(paths) > 1:
            names = list(dict.fromkeys(map(str, paths)))
            also = f" (as {', '.join(names)})" if len(names) > 1 else ""
            warnings.append(f"REPORTS: {paths[0]} given {len(paths)} times{also}; read once")
    measured: dict[str, list[tuple[float, str]]] = {r: [] for r in (*RESOURCES, "latency")}
    hls_only: dict[str, list[tuple[float, str]]] = {r: [] for r in HLS_RESOURCES}
    loops: list[dict] = []
    modules: list[str] = []  # HLS reports of modules inside the top: their loops only
    power: list[tuple[PowerReport, str]] = []
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
        if isinstance(rep, HLSReport):
            loops += [{**asdict(lp), "module": rep.top} for lp in rep.loops]
            if _module_of(rep.top, cfg) or Path(path).parent.name == "modules":  # export's reports/modules/
                modules.append(f"{path} (top {rep.top})")
                continue
        if not of_design(rep, expected, cfg.export.ip_name):
            raise ConfigError(f"{path}: report of another design: its top is {top} (on {rep.part}), this "
                              f"configuration's is {expected} (hls.interface: {cfg.hls.interface}, IP "
                              f"{cfg.export.ip_name}){ip_name_only(rep, expected, cfg.export.ip_name)}; calibrate with the "
                              f"reports of this design ('tsflow export --run' writes them into the build folder)")
        if isinstance(rep, PowerReport):
            power.append((rep, str(path)))
        elif isinstance(rep, HLSReport):
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
    if not factors and not power:
        inside = (f"; {', '.join(modules)} {'is the report' if len(modules) == 1 else 'are reports'} of a module "
                  f"inside this design's top function {top_function(cfg.hls.interface, SOURCE)} (hls.interface: "
                  f"{cfg.hls.interface}), which gives loops only: add the report of the top function ('tsflow export "
                  f"--run' writes it into the build folder)") if modules else ""
        raise ConfigError(f"no resource or latency figure found in the reports given{inside}")
    _check_plausible(est, values, factors, sources, estimated, warnings)
    layers = _layer_factors(est, loops, values.get("latency"), factors, warnings)
    out = {"part": cfg.target.part, "config": cfg.name, "design": design_of(cfg), "factors": factors, "layers": layers,
           "estimated": {r: round(v, 2) for r, v in estimated.items()},
           "measured": values, "sources": sources, "warnings": warnings, "dsp_bound_cycles": est.dsp_bound_cycles}
    if power:
        out["power"] = _power(cfg, est, power, warnings)
    return out


def _power(cfg, est, power: list, warnings: list) -> dict:
    """The static power report_power gives and the ratio of the IP's dynamic power it gives to the estimate's
    (the rows of ``IP_POWER_ROWS``; a row below 1 mW counts 0), averaged over the reports."""
    estimated = sum(dynamic_power(est.total, est.clock_mhz, cfg.target.toggle_rate).values())
    statics, dynamics = [], []
    for rep, path in power:
        statics.append(rep.static_w)
        dynamics.append(sum(c.power_w or 0.0 for c in rep.components if c.indent == 0 and c.name in IP_POWER_ROWS))
        if rep.activity_file is None:
            same = ("as the estimate's is" if cfg.target.toggle_rate == VIVADO_DEFAULT_TOGGLE else
                    f"while the estimate's is at target.toggle_rate {cfg.target.toggle_rate:g} %, so the fitted "
                    f"scale also holds the ratio of the two activities")
            warnings.append(f"{path}: report_power ran without a simulation activity file, so its dynamic power is "
                            f"Vivado's vectorless guess (12.5 % toggle on inputs), {same}; a SAIF from C/RTL "
                            f"co-simulation measures this design's own activity")
    static, dynamic = sum(statics) / len(statics), sum(dynamics) / len(dynamics)
    device, low, high = parse_part(cfg.target.part).device, *PLAUSIBLE
    known = STATIC_W.get(device)
    if known is not None and not low * known <= static <= high * known:  # as load_calibration would refuse it
        raise ConfigError(f"{', '.join(p for _, p in power)}: Device Static (W) {static:g} W, {static / known:.3g} "
                          f"times the {known:g} W of the {device} ({STATIC_SOURCES[device]}): outside {low:g}..{high:g} "
                          f"times it, not a static power of this part near 25 C; give the report_power output of this "
                          f"design on this part")
    if not dynamic:
        raise ConfigError(f"{', '.join(p for _, p in power)}: the design's own rows ({', '.join(IP_POWER_ROWS)}) "
                          f"read 0 W (each below report_power's 1 mW), so no dynamic power can be fitted; give the "
                          f"report of the synthesised or routed IP")
    if not low <= dynamic / estimated <= high:
        warnings.append(f"the dynamic power factor is {dynamic / estimated:.3g} (measured {dynamic:.4g} W in "
                        f"{', '.join(p for _, p in power)}, estimated {estimated:.4g} W), outside {low:g}..{high:g}: "
                        f"check that the report is of this design before using it")
    if len(dynamics) > 1 and max(dynamics) > 1.5 * min(dynamics):
        warnings.append(f"the reports' dynamic power differs {max(dynamics) / min(dynamics):.2g}x "
                        f"({', '.join(f'{d:.4g} W' for d in dynamics)}); their mean is used: check that they are all "
                        f"of this design")
    return {"static_w": static, "dynamic_w": dynamic, "estimated_dynamic_w": estimated,
            "dynamic_scale": dynamic / estimated, "sources": [p for _, p in power]}


PLAUSIBLE = (0.1, 10.0)  # a factor outside this range says the reports are of another design more likely than not


def _check_plausible(est, values: dict, factors: dict, sources: dict, estimated: dict, warnings: list) -> None:
    """A measured latency below the design's DSP bound (its MACs on every DSP of the part, each clock) is not a
    synthesis of this design: refused. A factor outside ``PLAUSIBLE`` is said loudly, naming its reports."""
    latency, bound = values.get("latency"), est.dsp_bound_cycles
    if latency is not None and bound and latency < bound:
        raise ConfigError(f"{', '.join(sources['latency'])}: the report{'s give' if len(sources['latency']) > 1 else ' gives'} "
                          f"a latency of {latency:,.0f} cycles, below this design's DSP bound of {bound:,} cycles "
                          f"({est.macs:,} MACs on the part's DSPs, all busy every clock): no synthesis of this design "
                          f"is that fast, so the reports are not of it (another tsflow build?); calibrate with this "
                          f"design's reports ('tsflow export DIR --run' writes them into its build folder)")
    low, high = PLAUSIBLE
    for r, f in factors.items():
        if not low <= f <= high:
            warnings.append(f"the {r} factor is {f:.3g} (measured {values[r]:,.0f} in {', '.join(sources[r])}, "
                            f"estimated {estimated[r]:,.0f}), outside {low:g}..{high:g}: check that the report is of "
                            f"this design before using it")


def _layer_factors(est, loops: list[dict], latency: float | None, factors: dict, warnings: list) -> dict:
    """Cycle factors of the layers whose loops the reports give (``match_loops``); the latency factor
    becomes that of the layers left, so the calibrated latency of this design is the measured one."""
    layers = [{"name": e.name, "cycles": e.cycles, "loops": list(e.loops)} for e in est.layers]
    matched = {m["layer"]: m for m in match_loops(layers, loops) if m["latency"] is not None and m["cycles"]}
    if not matched or latency is None:
        return {}
    rest_estimated = sum(e.cycles for e in est.layers if e.name not in matched)
    rest_measured = latency - sum(m["latency"] for m in matched.values())
    if rest_estimated <= 0 or rest_measured <= 0:
        warnings.append("the matched loops take as long as the whole design: per-layer factors not used")
        return {}
    factors["latency"] = rest_measured / rest_estimated
    return {name: m["latency"] / m["cycles"] for name, m in matched.items()}


def layer_names(cfg) -> list[str]:
    """The layers of ``cfg``'s estimate, the names a calibration file's ``layers`` may hold."""
    return [e.name for e in estimate(cfg).layers]


def check_out(path: Path, force: bool) -> None:
    """Refuse (ConfigError) an ``--out`` for ``tsflow calibrate`` before any report is read: a file a tsflow run
    wrote (a build's estimate.json or manifest.json: replacing it would falsify that run's record, so not even
    with ``force``), or an existing file without ``force``."""
    from .runs import as_given, written_by_run

    path = Path(path)
    found = written_by_run(path.resolve())
    if found:
        folder, kind, why = found
        raise ConfigError(f"--out {path} is a file of {as_given(folder, path)}, {kind} ({why}); the calibration would "
                          f"replace what that run wrote, which --force does not allow: choose an --out outside that "
                          f"folder")
    _check_new(path, force)


def _check_new(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to replace it")


def save_calibration(calibration: dict, path: Path, force: bool) -> None:
    path = Path(path)
    _check_new(path, force)
    try:
        path.write_text(json.dumps(calibration, indent=2))
    except OSError as exc:  # no such folder, a file in the way, no permission
        raise ConfigError(f"--out {path}: cannot write the calibration file ({exc.strerror or exc}); "
                          f"choose a path in an existing, writable folder") from None


def design_of(cfg) -> dict:
    """What makes one design's ratios of synthesis to estimate another's: its shape, its widths, its hardware
    settings (a calibration carries it; one fitted on another design is refused)."""
    m, h = cfg.model, cfg.hls
    return {"data.window": cfg.data.window, "data.steps": cfg.data.steps, "model.d_model": m.d_model,
            "model.heads": m.heads, "model.layers": m.layers, "model.ffn": m.ffn_width, "model.head": m.head,
            "model.predict_delta": m.predict_delta, "model.patch": [m.patch.length, m.patch.stride] if m.patch else None,
            "quantization.bits": cfg.quantization.bits,
            "hls.default_parallelism": h.default_parallelism, "hls.default_storage": h.default_storage,
            "hls.default_multiplier": h.default_multiplier, "hls.interface": h.interface}


def _check_latency(path: Path, calibration: dict, factors: dict) -> None:
    """A calibration whose latency no synthesis of its design can have (below the DSP bound it records, or,
    in a file without it, a latency factor below ``PLAUSIBLE``) is refused: the estimate it makes is absurd."""
    measured = calibration.get("measured") if isinstance(calibration.get("measured"), dict) else {}
    sources = calibration.get("sources") if isinstance(calibration.get("sources"), dict) else {}
    latency, bound = measured.get("latency"), calibration.get("dsp_bound_cycles")
    factor = factors.get("latency")
    reports = ", ".join(map(str, sources.get("latency") or [])) or "its reports"
    if isinstance(latency, (int, float)) and isinstance(bound, (int, float)) and latency < bound:
        why = (f"its latency, {latency:,.0f} cycles from {reports}, is below the design's DSP bound of {bound:,.0f} "
               f"cycles: no synthesis of this design is that fast")
    elif isinstance(factor, (int, float)) and factor < PLAUSIBLE[0]:
        estimated = calibration.get("estimated") if isinstance(calibration.get("estimated"), dict) else {}
        shown = (f" ({latency:,.0f} cycles from {reports}, {estimated['latency']:,.0f} estimated)"
                 if isinstance(latency, (int, float)) and isinstance(estimated.get("latency"), (int, float))
                 else f" ({reports})")
        why = (f"its latency factor is {factor:.3g}{shown}, a latency {1 / factor:,.0f} times below the estimate's: "
               f"not plausible for this design (below {PLAUSIBLE[0]:g}), its reports are likely of another design")
    else:
        return
    raise ConfigError(f"--calibration {path}: {why}; run 'tsflow calibrate' with this design's reports ('tsflow "
                      f"export DIR --run' writes them into its build folder)")


class CalibrationWarning(Warning):
    """A calibration applied although a factor of it is outside ``PLAUSIBLE`` (its text names the factor, the
    file and its reports): tsflow's own message, shown by Python's default filters where no ``note`` is given."""


def _implausible(path: Path, calibration: dict, factors: dict) -> list[str]:
    """What applying a factor outside ``PLAUSIBLE`` means, one line for each: ``calibrate`` warns of it when
    it writes the file, and the estimate it scales says it again (a latency factor below the range is refused
    by ``_check_latency``)."""
    low, high = PLAUSIBLE
    sources = calibration.get("sources") if isinstance(calibration.get("sources"), dict) else {}
    texts = []
    for r, f in factors.items():
        if low <= f <= high:
            continue
        reports = sources.get(r) if isinstance(sources.get(r), list) else []
        made = f" (made from {', '.join(map(str, reports))})" if reports else ""
        texts.append(f"--calibration {path}: its {r} factor is {f:.3g}{made}, outside {low:g}..{high:g}: the "
                     f"reports are likely of another design, yet this estimate's {r} is scaled by it; check that they "
                     f"are of this design, or run 'tsflow calibrate' again with this design's reports")
    power = calibration.get("power") if isinstance(calibration.get("power"), dict) else {}
    scale = power.get("dynamic_scale")
    if isinstance(scale, (int, float)) and not low <= scale <= high:
        reports = power.get("sources") if isinstance(power.get("sources"), list) else []
        made = f" (made from {', '.join(map(str, reports))})" if reports else ""
        texts.append(f"--calibration {path}: its dynamic power factor (power.dynamic_scale) is {scale:.3g}{made}, "
                     f"outside {low:g}..{high:g}: the report is likely of another design, yet this estimate's dynamic "
                     f"power is scaled by it; check that it is of this design, or run 'tsflow calibrate' again with "
                     f"this design's report_power output")
    return texts


def _check_static(path: Path, calibration: dict, part: str) -> None:
    """A static power far from the part's own (``STATIC_W``, where one is known) is not a report_power of this
    part near 25 C (a hand edit, or a typing slip of W for mW): refused, as the energy it gives would be absurd."""
    device = parse_part(part).device
    static, known = calibration["power"]["static_w"], STATIC_W.get(device)
    low, high = PLAUSIBLE
    if known is not None and not low * known <= static <= high * known:
        raise ConfigError(f"--calibration {path}: power.static_w is {static:g} W, {static / known:.3g} times the "
                          f"{known:g} W of the {device} ({STATIC_SOURCES[device]}): outside {low:g}..{high:g} times "
                          f"it, not a static power of this part; run 'tsflow calibrate' again with this design's "
                          f"report_power output (its Device Static (W))")


def load_calibration(path: Path, part: str, layer_names=None, design: dict | None = None, note=None) -> dict:
    """The calibration file at ``path`` (its content, and ``path``), checked against ``part``, (given) the estimate's layer names and the
    design it was fitted on (``design_of``); ConfigError naming the file and what is wrong. A factor outside
    ``PLAUSIBLE`` that is applied is told to ``note(text)`` as ``warning: ...``, else a ``CalibrationWarning``."""
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
    layers = calibration.get("layers", {})
    if not isinstance(layers, dict) or not all(isinstance(f, (int, float)) and not isinstance(f, bool)
                                               and 0 < f < float("inf") for f in layers.values()):
        raise ConfigError(f"--calibration {path}: layers is not a mapping of layer to a positive factor "
                          f"(run 'tsflow calibrate' again to rewrite the file)")
    if layer_names is not None:
        unknown = sorted(set(layers) - set(layer_names))
        if unknown:
            raise ConfigError(f"--calibration {path}: unknown layer {unknown[0]!r} (not a layer of this "
                              f"configuration's estimate); allowed: {', '.join(layer_names) or 'none'}. Run "
                              f"'tsflow calibrate' again with this design's reports")
    power = calibration.get("power")
    if power is not None and not (isinstance(power, dict) and all(
            isinstance(power.get(k), (int, float)) and not isinstance(power.get(k), bool) and 0 < power[k] < float("inf")
            for k in ("static_w", "dynamic_scale"))):
        raise ConfigError(f"--calibration {path}: power is not a mapping with a positive static_w and dynamic_scale "
                          f"(run 'tsflow calibrate' again to rewrite the file)")
    if not isinstance(calibration.get("part"), str):
        raise ConfigError(f"--calibration {path}: names no part; not a file written by 'tsflow calibrate'")
    if not same_part(calibration["part"], part):
        raise ConfigError(f"--calibration {path} was fitted on {calibration.get('part')}, the configuration "
                          f"targets {part} (target.part)")
    if power is not None:
        _check_static(path, calibration, part)
    _check_latency(path, calibration, factors)
    fitted = calibration.get("design")
    if design is not None and isinstance(fitted, dict):
        differ = [k for k in design if k in fitted and fitted[k] != design[k]]
        if differ:
            shown = ", ".join(f"{k} {fitted[k]!r} (this configuration: {design[k]!r})" for k in differ)
            raise ConfigError(f"--calibration {path} was fitted on another design ({calibration.get('config')!r}: "
                              f"{shown}); its factors are that design's ratios of synthesis to estimate: run "
                              f"'tsflow calibrate' with this design's reports")
    for text in _implausible(path, calibration, factors):
        if note is not None:
            note(f"warning: {text}")
        else:
            warn(text, CalibrationWarning, stacklevel=2)
    return {**calibration, "path": str(path)}  # what a message about the calibrated estimate names
