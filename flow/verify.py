"""What C synthesis built, against what the build planned: ``tsflow verify`` and ``tsflow export --run``.

The estimate, the latency and the shared-lanes design all rest on the plan (``plan.json``): one multiply
engine, called from one place, and every loop pipelined at its planned II. Vitis HLS may do otherwise
without an error (inline or copy the engine, miss an II, bind more DSPs), so this reads the tool's
``csynth.xml`` and the per-module ``*_csynth.xml`` beside it and compares:

- DSP and BRAM18 of the top module with the estimate's totals (``estimate.json``), exactly: both count
  whole DSP slices and RAMB18 halves, and no tolerance is documented for either;
- DSP of each instance of the engine function with ``engine.dsp``, and its instances in the module
  hierarchy with ``engine.call_sites``;
- each planned pipelined loop's achieved II and trip count.

What the report does not say (Vivado HLS writes no module hierarchy) is a difference too: a check that
cannot see its figure does not pass.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError
from .reports import ReportError, ip_name_only, of_design, parse_csynth_design, parse_csynth_xml, rpt_design

REPORT = "csynth.xml"
SOLUTION_REPORT = f"syn/report/{REPORT}"
EXPECTED = (f"expected a C synthesis report: a {REPORT}, or a Vitis HLS / Vivado HLS solution folder holding "
            f"{SOLUTION_REPORT}")


@dataclass(frozen=True)
class Plan:
    """What the build promises: the estimate's totals, the engine (``None`` without shared lanes) and the
    pipelined loops (function, label, trips as (min, max), ii)."""

    dsp: int
    bram18: int
    calibrated: bool
    engine: dict | None
    loops: list


@dataclass(frozen=True)
class Check:
    what: str
    planned: str
    synthesis: str
    ok: bool


@dataclass
class Verification:
    report: Path
    modules: list  # the per-module reports read beside it
    calibrated: bool  # the totals are a calibrated estimate
    checks: list  # Check

    @property
    def differences(self) -> list:
        return [c for c in self.checks if not c.ok]

    def summary(self) -> str:
        if not self.differences:
            return f"C synthesis matches the plan: {len(self.checks)} checks, no difference"
        return (f"C synthesis differs from the plan in {len(self.differences)} of {len(self.checks)} checks: "
                + ", ".join(c.what for c in self.differences))


def _need(doc, key: str, where: str, path: Path):
    if not isinstance(doc, dict) or key not in doc:
        raise ConfigError(f"{path} has no {where}{key} (written by an older tsflow?); run 'tsflow build' again")
    return doc[key]


def _read_json(build_dir: Path, name: str):
    path = build_dir / name
    if not path.is_file():
        raise ConfigError(f"{build_dir} is not a build folder ({name} missing); give the folder 'tsflow build "
                          f"--out' wrote")
    try:
        return json.loads(path.read_text()), path
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); run 'tsflow build' again") from None


def read_plan(build_dir) -> Plan:
    """The plan of a build folder; ConfigError (before any synthesis is waited for) if it cannot be read."""
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise ConfigError(f"{build_dir} is not a folder; give the folder 'tsflow build --out' wrote")
    plan, path = _read_json(build_dir, "plan.json")
    engine = _need(plan, "engine", "", path)
    if engine is not None:
        engine = {key: _need(engine, key, "engine.", path) for key in ("function", "call_sites", "dsp")}
    loops = _need(plan, "loops", "", path)
    if not isinstance(loops, list):
        raise ConfigError(f"{path}: loops is not a list of loops (written by an older tsflow?); run 'tsflow build' "
                          f"again")
    planned = []
    for i, loop in enumerate(loops):
        trips = _need(loop, "trips", f"loops[{i}].", path)
        planned.append({"function": _need(loop, "function", f"loops[{i}].", path),
                        "label": _need(loop, "label", f"loops[{i}].", path),
                        "trips": tuple(_need(trips, key, f"loops[{i}].trips.", path) for key in ("min", "max")),
                        "ii": _need(loop, "ii", f"loops[{i}].", path)})
    estimate, estimate_path = _read_json(build_dir, "estimate.json")
    total = _need(estimate, "total", "", estimate_path)
    out = Plan(dsp=_need(total, "dsp", "total.", estimate_path), bram18=_need(total, "bram18", "total.", estimate_path),
               calibrated=bool(estimate.get("calibrated")), engine=engine, loops=planned)
    check_plan_is_the_builds(build_dir, plan, estimate)
    return out


REBUILD = "it was changed after the build; run 'tsflow build' again (--force replaces the folder)"
# what the plan check reads of the written C++ (flow/hls/check.py); a folder without them (made by hand) is not
# checked against its C++
CHECKED_CPP = ("tsflow_model.cpp", "tsflow_engine.h", "tsflow_lanes.h", "nnet_utils/tsflow_layers.h")


def check_plan_is_the_builds(build_dir, plan: dict, estimate: dict) -> None:
    """Refuse (ConfigError) a ``plan.json`` or ``estimate.json`` that no longer describes the build: the plan
    against the C++ in ``hls/`` (``flow.hls.check``, as the build checked it), the estimate's engine and
    loops against the plan's, and its DSP and BRAM18 totals against its own rows (an uncalibrated estimate's
    totals are their sums). A plan or an estimate edited by hand would otherwise be what a synthesis report
    is judged against."""
    from .hls.check import PlanMismatch, check_written
    from .runs import MANIFEST, edited_since_written, manifest_damage

    build_dir = Path(build_dir)
    plan_path, estimate_path, hls = build_dir / "plan.json", build_dir / "estimate.json", build_dir / "hls"
    damage = manifest_damage(build_dir)
    if damage:  # not skipped as a folder from before there were digests is: this one had them
        raise ConfigError(f"{build_dir / MANIFEST} is damaged ({damage}): the digests of plan.json, estimate.json and "
                          f"the C++ in {hls} cannot be checked against what the build wrote; restore {MANIFEST}, or "
                          f"build again into another --out (--force does not replace a folder whose {MANIFEST} is "
                          f"damaged)")
    edited = edited_since_written(build_dir)
    if edited:
        one = len(edited) == 1
        raise ConfigError(f"{' and '.join(str(build_dir / name) for name in edited)} differ{'s' if one else ''} from "
                          f"what the build wrote ({'its digest' if one else 'their digests'} in {build_dir / MANIFEST}): "
                          f"{REBUILD}")
    firmware = hls / "firmware"
    if all((firmware / name).is_file() for name in CHECKED_CPP):
        try:
            check_written(firmware, plan, "tsflow_model")
        except PlanMismatch as exc:
            found = str(exc).split(": ", 1)[-1]
            raise ConfigError(f"{plan_path} does not describe the C++ in {hls} ({found}): {REBUILD}") from None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            what = f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else "a malformed entry"
            raise ConfigError(f"{plan_path} cannot be checked against the C++ in {hls} ({what}: edited after the "
                              f"build, or written by an older tsflow); run 'tsflow build' again (--force replaces the "
                              f"folder)") from None
        except OSError as exc:
            raise ConfigError(f"{hls} cannot be read ({exc.filename}: {exc.strerror or exc}); run 'tsflow build' "
                              f"again") from None
        unplanned = [f"loops[{i}] ({lp.get('label')}) has II {lp.get('ii')!r}" for i, lp in enumerate(plan["loops"])
                     if isinstance(lp, dict) and lp.get("ii") != 1]
        if unplanned:
            raise ConfigError(f"{plan_path} does not describe the C++ in {hls} ({'; '.join(unplanned)}; the C++ "
                              f"pipelines every planned loop at II=1): {REBUILD}")
    differ = []
    if isinstance(estimate, dict) and "engine" in estimate and estimate["engine"] != plan.get("engine"):
        differ.append("engine (plan.json: engine, estimate.json: engine)")
    if isinstance(estimate, dict) and "pipelined_loops" in estimate and estimate["pipelined_loops"] != plan.get("loops"):
        differ.append("the pipelined loops (plan.json: loops)")
    rows = [r for r in [*(estimate.get("layers") or []), *(estimate.get("buffers") or [])] if isinstance(r, dict)] \
        if isinstance(estimate, dict) else []
    engine_row = next((r for r in rows if r.get("name") == "engine" and "what" in r), None)
    if isinstance(plan.get("engine"), dict) and engine_row is not None and plan["engine"].get("dsp") != engine_row.get("dsp"):
        differ.append(f"the engine's DSP ({plan['engine'].get('dsp')!r} in plan.json, {engine_row.get('dsp')!r} "
                      f"in the estimate's engine row)")
    if differ:
        raise ConfigError(f"{plan_path} and {estimate_path} differ in {'; '.join(differ)}, though the build writes "
                          f"both from one plan: one of them was changed after the build; run 'tsflow build' again "
                          f"(--force replaces the folder)")
    total = estimate.get("total") if isinstance(estimate, dict) else None
    if rows and isinstance(total, dict) and not estimate.get("calibrated"):
        for r in ("dsp", "bram18"):
            summed = sum(row.get(r, 0) for row in rows if isinstance(row.get(r, 0), (int, float)))
            if r in total and total[r] != summed:
                raise ConfigError(f"{estimate_path}: total.{r} is {total[r]!r}, but its layers and buffers add up "
                                  f"to {summed:g}: {REBUILD}")


def find_reports(path) -> tuple[Path, list]:
    """The top report ``path`` names (a csynth.xml, a folder holding one, a solution folder) and the
    per-module reports beside it, or in ``modules/`` beside it (where ``tsflow export --run`` copies them)."""
    path = Path(path)
    if path.is_dir():
        found = next((p for p in (path / SOLUTION_REPORT, path / REPORT) if p.is_file()), None)
        if found is None:
            raise ConfigError(f"{path} holds no {SOLUTION_REPORT} or {REPORT}; {EXPECTED}")
        path = found
    modules = sorted(p for folder in (path.parent, path.parent / "modules") for p in folder.glob("*_csynth.xml")
                     if p != path)
    return path, modules


def _module_names(instances: list) -> set:
    return {name for inst in instances for name in (inst.module, *_module_names(inst.instances))}


def _own_modules(top_path: Path, found: list, named: set) -> list:
    """The module reports of ``found`` that are the top report's: every one in ``modules/`` beside it (export
    --run copies its solution's there) or in a solution's own ``syn/report`` folder, where the tool writes
    them; in any other folder, where reports of other designs may sit beside it, only ``<module>_csynth.xml``
    of a module the top report names."""
    solution = top_path.parent.name == "report" and top_path.parent.parent.name == "syn"
    return [p for p in found
            if solution or p.parent.name == "modules" or p.name[:-len("_csynth.xml")] in named]


def _of(module: str, function: str) -> bool:
    """A module HLS made of ``function``: its own (``f``, or ``f_s``, ``f_1`` for a specialised copy) or one
    it outlined a loop into (Vitis HLS 2021.2+: ``f_Pipeline_<label>``)."""
    return module == function or module.startswith(f"{function}_")


def _instances_of(instances: list, function: str) -> list:
    """The instances of ``function``'s module, outermost only: those inside one are its outlined loops."""
    out = []
    for inst in instances:
        out += [inst] if _of(inst.module, function) else _instances_of(inst.instances, function)
    return out


def _span(low, high) -> str:
    return "undefined" if low is None else str(low) if low == high else f"{low}~{high}"


def _equal(what: str, planned: int, got: int) -> Check:
    return Check(what, str(planned), str(got), planned == got)


def _engine_checks(engine: dict, hierarchy: list | None, resources: dict) -> list:
    f = engine["function"]
    if hierarchy is None:
        absent = "not in the report (no module hierarchy)"
        return [Check(f"instances of {f}", str(engine["call_sites"]), absent, False),
                Check(f"DSP of each {f} instance", str(engine["dsp"]), absent, False)]
    found = _instances_of(hierarchy, f)
    dsp = [(inst.module, resources.get(inst.module, {}).get("dsp")) for inst in found]
    return [Check(f"instances of {f}", str(engine["call_sites"]),
                  str(len(found)) + (f" ({', '.join(inst.name for inst in found)})" if found else ""),
                  len(found) == engine["call_sites"]),
            Check(f"DSP of each {f} instance", str(engine["dsp"]),
                  "; ".join(f"{'not in the report' if d is None else d} ({m})" for m, d in dsp) or "no instance",
                  bool(dsp) and all(d == engine["dsp"] for _, d in dsp))]


def _loop_checks(planned: dict, loops: dict) -> list:
    f, label = planned["function"], planned["label"]
    where, trips = f"{f}/{label}", _span(*planned["trips"])
    found = [(module, lp) for (module, name), lp in loops.items() if name.split("/")[-1] == label and _of(module, f)]
    if not found:
        return [Check(where, f"II {planned['ii']}, trips {trips}",
                      f"not in the report (modules {f}, {f}_*)", False)]
    return [Check(f"{where}: II", str(planned["ii"]),
                  "; ".join(f"{'not pipelined' if lp.ii is None else lp.ii} ({m})" for m, lp in found),
                  all(lp.ii == planned["ii"] for _, lp in found)),
            Check(f"{where}: trips", trips, "; ".join(f"{_span(lp.trip_min, lp.trip_max)} ({m})" for m, lp in found),
                  all((lp.trip_min, lp.trip_max) == planned["trips"] for _, lp in found))]


def check_config_is_the_builds(build_dir, cfg) -> None:
    """Refuse (ConfigError) a build folder whose ``model/config.yaml`` no longer names the design its C++ and
    plan were made for: ``hls.tool`` and ``hls.interface`` (``plan.json``), ``target.part`` (``estimate.json``).
    Export writes its scripts, and verify judges a report, from that file; a folder without those files (made
    by hand) is not checked."""
    from .parts import same_part

    build_dir = Path(build_dir)
    config = build_dir / "model" / "config.yaml"
    differ = []
    for name, keys in (("plan.json", (("hls.tool", "tool", cfg.hls.tool), ("hls.interface", "interface",
                                                                          cfg.hls.interface))),
                       ("estimate.json", (("target.part", "part", cfg.target.part),))):
        try:
            doc = json.loads((build_dir / name).read_text())
        except (OSError, ValueError):
            continue  # missing or unreadable: what reads it says so
        if not isinstance(doc, dict):
            continue
        for key, field, now in keys:
            built = doc.get(field)
            if isinstance(built, str) and not (same_part(built, now) if field == "part" else built == now):
                differ.append(f"{key} is {now} there, but the C++ and {name} were made for {built}")
    if differ:
        raise ConfigError(f"{config} differs from the build ({'; '.join(differ)}): it was edited after the build; "
                          f"set it back, or build again with the new configuration ('tsflow build YOUR.yaml --out NEW --trained "
                          f"{build_dir}' reuses the trained model)")


def _same_design(build_dir: Path, top_path: Path, top) -> None:
    """Refuse a report of another design (another top function, or another part) than the build folder's,
    before its figures are set beside the plan. A folder without its configuration is not checked."""
    config = build_dir / "model" / "config.yaml"
    if not config.is_file():
        return
    from .config import load_config
    from .hls.interface import top_function
    from .parts import same_part

    cfg = load_config(config)
    check_config_is_the_builds(build_dir, cfg)
    expected = top_function(cfg.hls.interface, "tsflow_model")
    if not of_design(top, expected, cfg.export.ip_name) or (top.part and not same_part(top.part, cfg.target.part)):
        raise ConfigError(f"{top_path} is a report of another design: top {top.top} on {top.part}, not this "
                          f"build's top {expected} on {cfg.target.part} ({config})"
                          f"{ip_name_only(top, expected, cfg.export.ip_name)}; give the C synthesis report "
                          f"of this build ('tsflow export {build_dir} --run' writes it into the build folder)")


def verify(build_dir, synthesis, plan: Plan | None = None, same_design: bool = True) -> Verification:
    """Check the C synthesis report at ``synthesis`` against the plan of ``build_dir`` (``plan``: already read).
    A report of another top function or part than the build's is refused first, unless ``same_design`` is
    False (export --run: the report its own scripts just wrote of this build)."""
    plan = plan or read_plan(build_dir)
    top_path, candidates = find_reports(synthesis)
    try:
        top = parse_csynth_xml(top_path)
        if same_design:  # before a module report beside it is read
            _same_design(Path(build_dir), top_path, top)
        hierarchy, modules = parse_csynth_design(top_path)
        rpt_resources = {}
        if hierarchy is None:  # Vivado HLS: the hierarchy of its text reports beside the XML
            hierarchy, rpt_resources = rpt_design(top_path.parent, top.top)
        module_paths = _own_modules(top_path, candidates, {*_module_names(hierarchy or []),
                                                           *(m.name for m in modules), *rpt_resources})
        others = [parse_csynth_xml(p) for p in module_paths]
    except ReportError as exc:
        raise ConfigError(f"{exc}; {EXPECTED}") from None
    loops, resources = {}, {**rpt_resources, **{m.name: m.resources for m in modules}}
    for module, found in [(top.top, top.loops), *((m.name, m.loops) for m in modules), *((r.top, r.loops) for r in others)]:
        for lp in found:  # a loop the top report and its module's own report both give is one loop
            loops.setdefault((module, lp.name), lp)
    for r in others:
        resources.setdefault(r.top, r.resources)
    checks = [_equal(f"DSP of {top.top} (top)", plan.dsp, top.resources["dsp"]),
              _equal(f"BRAM18 of {top.top} (top)", plan.bram18, top.resources["bram18"])]
    if plan.engine is not None:
        checks += _engine_checks(plan.engine, hierarchy, resources)
    for planned in plan.loops:
        checks += _loop_checks(planned, loops)
    return Verification(top_path, module_paths, plan.calibrated, checks)


def table(result: Verification):
    """The plan-vs-synthesis table, every check, the differences in bold red."""
    from rich.table import Table
    from rich.text import Text

    modules = f" and {len(result.modules)} module reports beside it" if result.modules else ""
    table = Table(title=f"plan against C synthesis: {result.report}{modules}")
    table.add_column("check")
    table.add_column(f"plan (DSP, BRAM18: {'calibrated ' if result.calibrated else ''}estimate)")
    table.add_column("synthesis")
    table.add_column("")
    for c in result.checks:
        table.add_row(Text(c.what), Text(c.planned), Text(c.synthesis), "ok" if c.ok else "DIFFERS",
                      style=None if c.ok else "bold red")
    return table
