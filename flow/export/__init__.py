"""Vendor hand-off of a build folder: Tcl scripts for Vitis HLS (or Vivado HLS) and Vivado.

``write_scripts`` fills the templates of the repository's ``vivado_scripts/`` from the build's
configuration into ``DIR/vivado_scripts/`` (plus a HOWTO.md with the commands); ``run_scripts`` runs
them when the tools are on PATH, stops at the first failing step, and reads the reports back into
``DIR/synthesis.json``. ``block_design`` adds the MicroBlaze system around an AXI4-Lite IP and its
bare-metal example (``tsflow export --block-design``). Nothing here needs TensorFlow or hls4ml, and nothing
here can check what the vendor tools do: without them, the scripts are only run under ``tclsh`` by the tests.
"""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from ..config import ConfigError, load_config
from ..hls.files import TB_DATA
from ..hls.interface import top_function
from ..parts import same_part
from ..verify import check_config_is_the_builds, read_plan, table, verify
from .templates import (CALIBRATION_JSON, CSYNTH_XML, HLS_PROJECT, HLS_SCRIPT, HOWTO, IP_DIR, IP_REPO, LOGS,
                        MODULE_REPORTS, POWER_RPT, REPORTS, SCRIPTS, SOLUTION, SOURCE, SYNTHESIS_JSON, TAIL_LINES,
                        TESTBENCH, VIVADO_SCRIPT, XDC, ExportError, fill_template, tcl_quote, vlnv)

# what the plan check reads (flow/verify.py): the scripts of a build whose plan is gone are not written
PLAN_FILES = ("plan.json", "estimate.json")


class ToolsMissing(ExportError):
    """The vendor tools needed to run the scripts are not on PATH."""


class StepFailed(ExportError):
    """A vendor tool step exited non-zero or did not write what it should have."""

    def __init__(self, message: str, step: str, log: Path):
        super().__init__(message)
        self.step, self.log = step, log


def clock_period_ns(clock_mhz: float) -> str:
    """The clock period in ns, to the picosecond (the resolution of Vivado's timing engine)."""
    return f"{1000.0 / clock_mhz:.3f}"


def module_name(cfg) -> str:
    return f"{cfg.export.ip_name}_0"


@dataclass(frozen=True)
class Step:
    """One vendor tool invocation, run from the build folder; ``choices`` are interchangeable
    command lines for the same Tcl file (the first whose program is on PATH is used)."""

    name: str
    choices: tuple[tuple[str, ...], ...]

    def describe(self) -> str:
        return "  or  ".join(shlex.join(c) for c in self.choices)


def steps(cfg, block_design: bool = False) -> list[Step]:
    """The tool runs, in order (``block_design``: the MicroBlaze system of ``export --block-design`` last)."""
    from .block_design import BD_SCRIPT

    vivado_script = f"{SCRIPTS}/{VIVADO_SCRIPT}"
    out = [_hls_step(cfg.hls.tool), Step("vivado", (("vivado", "-mode", "batch", "-source", vivado_script),))]
    if block_design:
        out.append(Step("block_design", (("vivado", "-mode", "batch", "-source", f"{SCRIPTS}/{BD_SCRIPT}"),)))
    return out


def _hls_step(tool: str) -> Step:
    """The C synthesis run of ``hls.tool`` (``vitis``: Vitis HLS; ``vivado``: Vivado HLS, 2020.1 and older)."""
    hls_script = f"{SCRIPTS}/{HLS_SCRIPT}"
    if tool == "vitis":
        return Step("hls", (("vitis_hls", "-f", hls_script), ("vitis-run", "--mode", "hls", "--tcl", hls_script)))
    return Step("hls", (("vivado_hls", "-f", hls_script),))


def commands_text(cfg, build_dir: Path, block_design: bool = False) -> str:
    lines = [f"cd {shlex.quote(str(build_dir))}"] + [s.describe() for s in steps(cfg, block_design)]
    return "\n".join("  " + line for line in lines)


# -------------------------------------------------------------------------------- the build folder

def load_build_config(build_dir: Path):
    """The validated configuration a build folder was made from (``model/config.yaml``)."""
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise ExportError(f"{build_dir} is not a folder; give the folder 'tsflow build --out' wrote")
    if build_dir.name.endswith(".partial") or (build_dir / "FAILED").exists():
        raise ExportError(f"{build_dir} is the folder of a build that did not finish; build again")
    if not (build_dir / "hls").is_dir():
        raise ExportError(f"{build_dir} is not a build folder (no hls/ project); run 'tsflow build' first")
    config = build_dir / "model" / "config.yaml"
    if not config.is_file():
        raise ExportError(f"{build_dir} is not a build folder ({config.relative_to(build_dir)} missing); "
                          f"run 'tsflow build' first")
    cfg = load_config(config)
    check_config_is_the_builds(build_dir, cfg)  # the file the scripts are written from names the built design
    return cfg


def _check_build(build_dir: Path) -> None:
    """Everything export trusts of a build folder, checked before anything is written into it (a refused
    folder must not be left looking exported): the HLS project, a bit-exact C simulation of it, and its plan
    as ``tsflow verify`` reads it (``plan.json`` describing the C++ in ``hls/``, ``plan.json`` and
    ``estimate.json`` as the build wrote them: ``flow.verify.read_plan``)."""
    needed = [f"hls/firmware/{SOURCE}.cpp", f"hls/firmware/{SOURCE}.h", f"hls/{TESTBENCH}",
              f"hls/{TB_DATA}/inputs.bin", f"hls/{TB_DATA}/expected.bin"]
    missing = [p for p in needed if not (build_dir / p).is_file()]
    if missing:
        raise ExportError(f"{build_dir} holds no complete HLS project (missing: {', '.join(missing)}); "
                          f"run 'tsflow build' again")
    try:
        verdict = json.loads((build_dir / "csim.json").read_text())
        proven = verdict.get("bit_exact") is True
    except (OSError, ValueError, AttributeError):
        proven = False
    if not proven:  # the IP is handed off only once the C simulation has proven it computes the model
        raise ExportError(f"{build_dir / 'csim.json'} does not record a bit-exact C simulation of this project "
                          f"(missing, unreadable, or not bit-exact): run 'tsflow csim {build_dir}' and export once "
                          f"it says bit-exact")
    missing = [name for name in PLAN_FILES if not (build_dir / name).is_file()]
    if missing:
        raise ExportError(f"{build_dir} is an incomplete build folder (missing: {', '.join(missing)}); run 'tsflow "
                          f"build' again (--force replaces this folder)")
    read_plan(build_dir)  # the plan no longer describing the changed C++ is the more telling refusal
    _check_simulated(build_dir, verdict)


def _check_simulated(build_dir: Path, verdict: dict) -> None:
    """Refuse C++ changed after the build (by hand, or by another writer) that no C simulation has judged since:
    ``csim.json``'s bit-exact verdict is then of other C++, and the scripts would hand off C++ never checked
    against the model. Changed C++ that 'tsflow csim' found bit-exact is exported (``changed_said`` says so)."""
    from ..csim import testbench_is_current
    from ..runs import MANIFEST, sources_changed

    changed = sources_changed(build_dir)
    if changed and (verdict.get("changed_sources") != changed or not testbench_is_current(build_dir / "hls")):
        digests = "its digest is" if len(changed) == 1 else "their digests are"
        raise ExportError(f"{', '.join(changed)} in {build_dir} changed since the build ({digests} in "
                          f"{build_dir / MANIFEST}) and no C simulation has checked the C++ now there: "
                          f"{build_dir / 'csim.json'} holds the verdict of other C++, and export hands off only C++ "
                          f"proven bit-exact. Run 'tsflow csim {shlex.quote(str(build_dir))}' and export once it says "
                          f"bit-exact, or 'tsflow build' again (--force replaces the folder) to write the build's "
                          f"C++ back")


def changed_said(build_dir: Path) -> str:
    """What an export of changed C++ (that ``_check_simulated`` let through) says: the scripts synthesise the
    changed C++, not the build's; '' for the build's own."""
    from ..runs import MANIFEST, sources_changed

    changed = sources_changed(build_dir)
    if not changed:
        return ""
    return (f"{build_dir / 'hls'} differs from what the build wrote ({', '.join(changed)} changed since; their "
            f"digests are in {build_dir / MANIFEST}): these scripts synthesise the changed C++, which 'tsflow csim' "
            f"found bit-exact ({build_dir / 'csim.json'}), not the build's")


# -------------------------------------------------------------------------------------- the scripts

def common_values(cfg) -> dict[str, str]:
    """The placeholders every template of a build shares."""
    return {
        "name": cfg.name, "part": cfg.target.part, "part_tcl": tcl_quote(cfg.target.part),
        "clock_mhz": f"{cfg.target.clock_mhz:g}", "clock_period_ns": clock_period_ns(cfg.target.clock_mhz),
        "vlnv": vlnv(cfg), "vlnv_tcl": tcl_quote(vlnv(cfg)),
        "module": module_name(cfg), "module_tcl": tcl_quote(module_name(cfg)),
        "hls_script": HLS_SCRIPT, "vivado_script": VIVADO_SCRIPT, "xdc": XDC, "ip_repo": IP_REPO,
    }


def render(cfg, test_windows: int | None = None) -> dict[str, str]:
    """File name -> content of every file written to ``DIR/vivado_scripts/`` (``test_windows``: how many the
    build's vectors hold; the co-simulation runs at most that many)."""
    e, vitis = cfg.export, cfg.hls.tool == "vitis"
    hls_commands = [shlex.join(c) for c in steps(cfg)[0].choices]
    vivado_command = shlex.join(steps(cfg)[1].choices[0])
    common = common_values(cfg)
    cosim_windows = min(e.cosim_windows, test_windows or e.cosim_windows)
    hls = fill_template("hls.tcl.in", **common,
                tool_title="Vitis HLS" if vitis else "Vivado HLS",
                run_comment="\n".join(f"#   {c}" for c in hls_commands),
                cosim_comment="C/RTL co-simulation, " if e.cosim else "",
                top=top_function(cfg.hls.interface, SOURCE), source=SOURCE, interface=cfg.hls.interface,
                testbench=TESTBENCH, tb_data=TB_DATA, hls_project=HLS_PROJECT, solution=SOLUTION,
                cosim=int(e.cosim), cosim_windows=cosim_windows,
                clock_uncertainty=f"{cfg.target.clock_uncertainty:g}",
                std_flag="-std=c++14" if vitis else "-std=c++0x",
                solution_options=" -flow_target vivado" if vitis else "",
                vendor=tcl_quote(e.vendor), library=tcl_quote(e.library), ip_name=tcl_quote(e.ip_name),
                version=tcl_quote(e.version), description=tcl_quote(e.description))
    vivado = fill_template("vivado.tcl.in", **common, ip_dir=IP_DIR, implementation=int(e.implementation),
                   impl_comment="#   - opt_design, place_design, route_design (export.implementation)\n"
                   if e.implementation else "")
    xdc = fill_template("clock.xdc.in", **common)
    howto = fill_template("HOWTO.md.in", **common,
                  hls_tool=cfg.hls.tool, hls_tool_title="Vitis HLS" if vitis else "Vivado HLS",
                  cosim_word="on" if e.cosim else "off", impl_word="on" if e.implementation else "off",
                  commands="\n".join(hls_commands[:1] + [f"# or: {c}" for c in hls_commands[1:]] + [vivado_command]),
                  cosim_step=f"   - C/RTL co-simulation (export.cosim): the first {cosim_windows} test windows "
                  f"(export.cosim_windows) through the RTL\n" if e.cosim else "",
                  impl_step="   - opt_design, place_design, route_design (export.implementation)\n"
                  if e.implementation else "")
    return {HLS_SCRIPT: hls, VIVADO_SCRIPT: vivado, XDC: xdc, HOWTO: howto}


def _test_windows(build_dir: Path) -> int | None:
    """Windows in the build's test vectors (inputs.bin: int32 mantissas, boundaries.json: per window)."""
    try:
        per_window = json.loads((build_dir / "hls" / "boundaries.json").read_text())["input"]["per_sample"]
        return (build_dir / "hls" / TB_DATA / "inputs.bin").stat().st_size // (4 * per_window)
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return None


def again(folder: Path, api: bool = False, **flags: bool) -> str:
    """The command, quoted (``api``: the call), that repeats this export with the flags it was given: what a
    refusal tells the user to run once the cause is gone."""
    from .block_design import spelled

    given = [spelled(flag, api) for flag, on in flags.items() if on]
    if api:
        return f"flow.api.export({', '.join([repr(str(folder)), *given])})"
    return "'" + " ".join(["tsflow export", shlex.quote(str(folder)), *given]) + "'"


def write_scripts(build_dir: Path, cfg=None, force: bool = False, block_design: bool = False,
                  allow_over_headroom: bool = False, run: bool = False, api: bool = False) -> list[Path]:
    """Write the filled scripts and HOWTO.md into ``build_dir/vivado_scripts/`` (with ``block_design``, also
    the MicroBlaze system's script and ``sw/``: ``flow.export.block_design``); returns their paths.

    ``cfg`` defaults to the build's own configuration. A file that exists with other content is not
    replaced unless ``force`` (an identical file is left as it is). A folder ``_check_build`` refuses gets
    nothing written. A block design whose IP and processor system leave less than ``target.headroom`` free is
    refused (``block_design.OverHeadroom``) and nothing is written, unless ``allow_over_headroom``. ``run`` and
    ``api``: how export was called, for the flags and the command a refusal names."""
    from . import block_design as system

    build_dir = Path(build_dir)
    if cfg is None:
        cfg = load_build_config(build_dir)
    _check_build(build_dir)
    out = build_dir / SCRIPTS
    files = {out / name: text for name, text in render(cfg, _test_windows(build_dir)).items()}
    if block_design:
        added = system.render(cfg, build_dir, common_values(cfg), allow_over_headroom, api)
        files.update({build_dir / rel: text for rel, text in added.items()})
    for folder in sorted({p.parent for p in files}):
        if folder.exists() and not folder.is_dir():
            rel = folder.relative_to(build_dir)
            rerun = again(build_dir, api, run=run, force=force, block_design=block_design,
                          allow_over_headroom=allow_over_headroom)
            raise ExportError(f"{folder} is a file, where export writes the folder {rel}/: move that file away "
                              f"(mv {shlex.quote(str(folder))} {shlex.quote(str(folder) + '.old')}) and run "
                              f"{rerun} again")
    differ = [p for p, text in files.items() if p.exists() and p.read_text() != text]
    if differ and not force:
        names = ", ".join(str(p.relative_to(build_dir)) for p in differ)
        raise ExportError(f"{names} already exist{'s' if len(differ) == 1 else ''} in {build_dir} with other "
                          f"content (edited, or written for another configuration); pass "
                          f"{system.spelled('force', api)} to replace")
    try:
        for path, text in files.items():
            path.parent.mkdir(exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
    except OSError as exc:  # a read-only file system, an immutable or foreign-owned folder
        raise NotWritable(_not_writable_message(build_dir, exc)) from None
    return list(files)


class NotWritable(ExportError):
    """The build folder (or a folder in it) cannot be written: the scripts are written nowhere else. A
    ``ConfigError`` too, as ``runs.OutputNotWritable`` is."""


def _not_writable_message(build_dir: Path, exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename and Path(exc.filename) != Path(build_dir) else ""
    return (f"cannot write in the build folder {build_dir} ({where}{exc.strerror or exc}): export writes its "
            f"scripts (and with --run the tools' outputs) into it; make it writable, or copy it (cp -r "
            f"{shlex.quote(str(build_dir))} COPY) and run 'tsflow export COPY'")


# ------------------------------------------------------------------------------------ running them

def resolve_tools(cfg, which=shutil.which, block_design: bool = False) -> list[tuple[Step, tuple[str, ...] | None]]:
    """Each step with the command line that will run it (``None`` if no choice is on PATH)."""
    return [(s, next((c for c in s.choices if which(c[0])), None)) for s in steps(cfg, block_design)]


def missing_tools(cfg, which=shutil.which) -> list[str]:
    """The programs (or alternatives, "a or b") of the steps that cannot run."""
    return [" or ".join(c[0] for c in s.choices) for s, cmd in resolve_tools(cfg, which) if cmd is None]


def missing_tools_message(cfg, build_dir: Path, which=shutil.which, block_design: bool = False,
                          allow_over_headroom: bool = False, api: bool = False) -> str | None:
    missing = missing_tools(cfg, which)
    if not missing:
        return None
    rerun = again(build_dir, api, run=True, block_design=block_design, allow_over_headroom=allow_over_headroom)
    return (f"cannot run the vendor scripts: {' and '.join(missing)} not on PATH. Run these commands "
            f"(from the build folder):\n{commands_text(cfg, build_dir, block_design)}\n"
            f"or put the tools on PATH and run {rerun} again"
            + _other_hls_tool(cfg, build_dir, which))


def _other_hls_tool(cfg, build_dir: Path, which) -> str:
    """When the HLS tool of ``hls.tool`` is missing and the other one is on PATH (Vivado HLS is no longer
    installed anew; Vitis HLS replaced it): how to get a build that runs with that one."""
    if resolve_tools(cfg, which)[0][1] is not None:
        return ""
    other = "vivado" if cfg.hls.tool == "vitis" else "vitis"
    found = next((c[0] for c in _hls_step(other).choices if which(c[0])), None)
    if found is None:
        return ""
    folder = shlex.quote(str(build_dir))
    return (f"\n{found} is on PATH: it runs the scripts of a build with hls.tool: {other} (this one has hls.tool: "
            f"{cfg.hls.tool}); to use it, set hls.tool: {other} in the configuration and build again from this "
            f"model: 'tsflow build CONFIG --out NEW --trained {folder}', then 'tsflow export NEW --run'")


def _cannot_start(program: str, exc: OSError) -> str:
    """Why a tool on PATH did not start. A program that exists but whose ``#!`` interpreter (or loader) does not
    is reported by the OS as the program itself missing (ENOENT): name the interpreter instead."""
    import errno

    path = Path(program)
    if exc.errno == errno.ENOENT and path.is_file():
        try:
            with path.open("rb") as f:
                first = f.readline(256)
        except OSError:
            first = b""
        if first.startswith(b"#!"):
            line = first[2:].decode(errors="replace").strip()
            interpreter = line.split()[0] if line.split() else ""
            if interpreter and not Path(interpreter).exists():
                return (f"cannot start {program}: it exists, but its interpreter {interpreter} (its first line: "
                        f"#!{line}) does not; install it, or fix that line of {program}")
        return (f"cannot start {program}: it exists, but the system cannot run it (its interpreter or loader was "
                f"not found: {exc.strerror})")
    return f"cannot start {program}: {exc.strerror or exc}"


def _tail(log: Path, lines: int = TAIL_LINES) -> str:
    text = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return "\n".join(text[-lines:])


def _stale_outputs(build_dir: Path) -> list[Path]:
    return [build_dir / SYNTHESIS_JSON, build_dir / CALIBRATION_JSON, build_dir / CSYNTH_XML, build_dir / POWER_RPT,
            *[build_dir / _vivado_report(stage, kind) for stage in ("synth", "impl")
              for kind in ("utilization", "timing_summary")], *sorted((build_dir / MODULE_REPORTS).glob("*.xml"))]


def _vivado_report(stage: str, kind: str) -> str:
    return f"{REPORTS}/vivado_{stage}_{kind}.rpt"


def _expected_outputs(cfg, step: str) -> list[str]:
    from .block_design import XSA

    if step == "hls":
        return [CSYNTH_XML, f"{IP_REPO}/component.xml"]
    if step == "block_design":
        return [XSA]
    stage = "impl" if cfg.export.implementation else "synth"
    return [_vivado_report(stage, "utilization"), _vivado_report(stage, "timing_summary")]


def run_scripts(build_dir: Path, cfg=None, force: bool = False, which=shutil.which, report=None,
                block_design: bool = False, allow_over_headroom: bool = False, api: bool = False) -> dict:
    """Write (if needed) and run the vendor scripts in order from ``build_dir`` (``block_design``: the
    MicroBlaze system's too, to its hardware platform); returns the content of the ``synthesis.json`` it
    writes. Raises ``ToolsMissing`` without the tools, ``StepFailed`` (with the tail of the step's log) at
    the first failing step."""
    build_dir = Path(build_dir).resolve()
    if cfg is None:
        cfg = load_build_config(build_dir)
    write_scripts(build_dir, cfg, force=force, block_design=block_design, allow_over_headroom=allow_over_headroom)
    message = missing_tools_message(cfg, build_dir, which, block_design, allow_over_headroom, api)
    if message:
        raise ToolsMissing(message)
    for path in _stale_outputs(build_dir):
        path.unlink(missing_ok=True)
    (build_dir / LOGS).mkdir(exist_ok=True)
    seconds, ran = {}, []
    for step, argv in resolve_tools(cfg, which, block_design):
        log = build_dir / LOGS / f"{step.name}.log"
        if report:
            report(f"{step.name}: {shlex.join(argv)}  (log: {log.relative_to(build_dir)})")
        t0 = time.perf_counter()
        with log.open("w") as out:
            try:
                done = subprocess.run([which(argv[0]) or argv[0], *argv[1:]], cwd=build_dir, stdout=out,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            except OSError as exc:  # on PATH but not executable, bad interpreter line, ...
                raise StepFailed(f"step {step.name}: {_cannot_start(which(argv[0]) or argv[0], exc)}", step.name,
                                 log) from None
        seconds[step.name] = round(time.perf_counter() - t0, 3)
        ran.append(shlex.join(argv))
        if done.returncode != 0:
            raise StepFailed(f"step {step.name} ({shlex.join(argv)}) failed with exit code {done.returncode}; "
                             f"last lines of {log}:\n{_tail(log)}", step.name, log)
        absent = [p for p in _expected_outputs(cfg, step.name) if not (build_dir / p).is_file()]
        if absent:
            raise StepFailed(f"step {step.name} ({shlex.join(argv)}) exited 0 but did not write "
                             f"{', '.join(absent)}; last lines of {log}:\n{_tail(log)}", step.name, log)
    result = collect_reports(build_dir, cfg)
    result["commands"], result["seconds"] = ran, seconds
    (build_dir / SYNTHESIS_JSON).write_text(json.dumps(result, indent=2))
    return result


# ------------------------------------------------------------------------------------ the reports

_TIMING_KEYS = {"WNS(ns)": "wns_ns", "TNS(ns)": "tns_ns", "TNS Failing Endpoints": "tns_failing_endpoints",
                "TNS Total Endpoints": "tns_total_endpoints", "WHS(ns)": "whs_ns", "THS(ns)": "ths_ns",
                "THS Failing Endpoints": "ths_failing_endpoints", "THS Total Endpoints": "ths_total_endpoints",
                "WPWS(ns)": "wpws_ns", "TPWS(ns)": "tpws_ns", "TPWS Failing Endpoints": "tpws_failing_endpoints",
                "TPWS Total Endpoints": "tpws_total_endpoints"}


def _number(cell: str):
    try:
        value = float(cell)
    except ValueError:
        return None  # "NA", "inf" (no constraint on that kind of path)
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if cell.lstrip("-").isdigit() else value


def parse_timing_summary(path: Path) -> dict:
    """Vivado ``report_timing_summary`` text: the "Design Timing Summary" row (WNS, TNS, WHS, ...),
    whether all constraints are met (``None`` when there are none) and the clock periods."""
    path = Path(path)
    text = path.read_text(errors="replace")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "Design Timing Summary" in line), None)
    header = next((i for i in range(start or 0, len(lines)) if "WNS(ns)" in lines[i]), None) \
        if start is not None else None
    if header is None:
        raise ExportError(f"{path}: not a Vivado timing summary (no 'Design Timing Summary' table with WNS(ns))")
    columns = [c.strip() for c in re.split(r"\s{2,}", lines[header].strip())]
    row = next((lines[i] for i in range(header + 1, len(lines))
                if lines[i].strip() and not set(lines[i].strip()) <= set("- ")), "")
    cells = row.split()
    if len(cells) < len(columns):
        raise ExportError(f"{path}: the Design Timing Summary row has {len(cells)} values for {len(columns)} columns")
    timing = {_TIMING_KEYS.get(c, c): _number(v) for c, v in zip(columns, cells)}
    if re.search(r"All user specified timing constraints are met", text):
        timing["met"] = True
    elif re.search(r"There are no user specified timing constraints", text):
        timing["met"] = None
    else:
        timing["met"] = False if re.search(r"constraints are not met", text) else None
    timing["clocks"] = _clock_periods(lines)
    return timing


def _clock_periods(lines: list[str]) -> dict[str, float]:
    """Name -> period (ns) from the "Clock Summary" table."""
    clocks = {}
    start = next((i for i, line in enumerate(lines) if line.strip().strip("|").strip() == "Clock Summary"), None)
    if start is None:
        return clocks
    for line in lines[start + 1:]:
        m = re.match(r"^\s*(\S+)\s+\{[^}]*\}\s+([0-9.]+)\s+([0-9.]+)\s*$", line)
        if m:
            clocks[m.group(1)] = float(m.group(2))
        elif clocks and not line.strip():
            break
    return clocks


def collect_reports(build_dir: Path, cfg) -> dict:
    """Read the reports the scripts wrote into the ``synthesis.json`` content (no tool is run)."""
    from ..calibration import match_loops
    from ..reports import ReportError, parse_csynth_xml, parse_vivado_utilization

    build_dir = Path(build_dir)
    stage = "impl" if cfg.export.implementation else "synth"
    paths = {"csynth": CSYNTH_XML, "utilization": _vivado_report(stage, "utilization"),
             "timing": _vivado_report(stage, "timing_summary")}
    try:
        hls = parse_csynth_xml(build_dir / paths["csynth"])
        util = parse_vivado_utilization(build_dir / paths["utilization"])
    except (ReportError, OSError) as exc:
        raise ExportError(f"cannot read the tool reports: {exc}") from None
    timing = parse_timing_summary(build_dir / paths["timing"])
    period = float(clock_period_ns(cfg.target.clock_mhz))
    warnings = []
    for what, part in (("C synthesis", hls.part), ("Vivado", util.part)):
        if not same_part(part or "", cfg.target.part):
            warnings.append(f"{what} report is for part {part}, the configuration asks for {cfg.target.part}")
    top = top_function(cfg.hls.interface, SOURCE)
    if hls.top != top:
        warnings.append(f"C synthesis report is for top {hls.top}, not {top}")
    if hls.clock_target_ns is not None and abs(hls.clock_target_ns - period) > 1e-3:
        warnings.append(f"C synthesis clock target {hls.clock_target_ns} ns, configured {period} ns")
    clock = timing["clocks"].get("ap_clk")
    if clock is not None and abs(clock - period) > 1e-3:
        warnings.append(f"Vivado ap_clk period {clock} ns, configured {period} ns")
    if timing["met"] is None:
        warnings.append("Vivado reports no user timing constraints: WNS is not a timing result")
    hls_dict = hls.to_dict()
    estimated = build_dir / "estimate.json"  # what tsflow build estimated, layer by layer, to read beside
    layers = json.loads(estimated.read_text()).get("layers", []) if estimated.is_file() else []
    tool_loops = [{**lp, "module": hls.top} for lp in hls_dict.pop("loops")]
    for path in sorted((build_dir / MODULE_REPORTS).glob("*.xml")):
        try:
            module = parse_csynth_xml(path)
        except (ReportError, OSError) as exc:
            warnings.append(f"{path.relative_to(build_dir)} not read: {exc}")
            continue
        if module.top != hls.top:  # the top's own report is csynth.xml
            tool_loops += [{**lp, "module": module.top} for lp in module.to_dict()["loops"]]
    loops = {"tool": tool_loops,
             "estimate": [{"layer": e["name"], "cycles": e["cycles"], "what": e["what"]} for e in layers if e["cycles"]],
             "matched": match_loops(layers, tool_loops)}
    summary = {
        "latency_min_cycles": hls.latency_min_cycles, "latency_max_cycles": hls.latency_max_cycles,
        "interval_min": hls.interval_min, "interval_max": hls.interval_max,
        "hls_clock_estimated_ns": hls.clock_estimated_ns,
        **{f"hls_{k}": hls.resources[k] for k in ("lut", "ff", "bram18", "dsp")},
        "lut": util.lut, "lutram": util.lutram, "ff": util.ff, "bram18": util.bram18, "dsp": util.dsp,
        "wns_ns": timing.get("wns_ns"), "whs_ns": timing.get("whs_ns"), "timing_met": timing["met"],
    }
    return {
        "build": cfg.name, "part": cfg.target.part, "clock_mhz": cfg.target.clock_mhz, "clock_period_ns": period,
        "hls_tool": cfg.hls.tool, "ip": vlnv(cfg), "vivado_stage": stage,
        "summary": summary,
        "loops": loops,  # the tool's loops (II, trip count, latency), the estimate's layers, and the pairs
        "hls": {"report": paths["csynth"], **hls_dict},
        "vivado": {"utilization_report": paths["utilization"], "utilization": util.to_dict(),
                   "timing_report": paths["timing"], "timing": timing,
                   "power_report": POWER_RPT if (build_dir / POWER_RPT).is_file() else None},
        "warnings": warnings,
    }


# --------------------------------------------------------------------------------------- the stage

def export(folder: Path, run: bool = False, force: bool = False, report=None, block_design: bool = False,
           allow_over_headroom: bool = False, api: bool = False) -> dict:
    """``tsflow export`` as a function (``flow.api.export`` documents it); with ``run``, the C synthesis report
    is also checked against the build's plan: ``"verification"``, a ``flow.verify.Verification``. ``api``:
    called from ``flow.api``, whose arguments the messages name instead of the command's flags."""
    from ..locks import not_writable, using_folder
    from ..runs import build_holding, record_written, subfolder_said
    from .block_design import BD_DIR, SYSTEM_JSON

    folder = Path(folder)
    holder = build_holding(folder)  # its hls/ or model/ given for the build folder: said, not 'build first'
    if holder is not None:
        raise ExportError(subfolder_said(folder, holder, again(holder, api, run=run, force=force,
                                                               block_design=block_design,
                                                               allow_over_headroom=allow_over_headroom)))
    cfg = load_build_config(folder)
    with using_folder(folder):  # one writer at a time: a build replacing it, a C simulation, another export
        blocked = not_writable(folder)
        if blocked is not None:
            raise NotWritable(_not_writable_message(folder, blocked))
        written = write_scripts(folder, cfg, force=force, block_design=block_design,
                                allow_over_headroom=allow_over_headroom, run=run, api=api)
        record_written(folder, [p.relative_to(folder) for p in written])
        changed = changed_said(folder)
        if changed and report is None:  # an API caller without report: a Python warning, as csim gives one
            import warnings

            from ..csim import ChangedSourcesWarning

            warnings.warn(changed, ChangedSourcesWarning, stacklevel=3)
        if report:
            report(f"written in {folder}: {', '.join(str(p.relative_to(folder)) for p in written)}")
            if changed:
                report(f"warning: {changed}")
            windows = _test_windows(folder)
            asked = "cosim_windows" in cfg.export.model_fields_set  # the default 16 is no user's number
            if asked and windows is not None and cfg.export.cosim_windows > windows:
                report(f"note: export.cosim_windows is {cfg.export.cosim_windows:,} but the build's test split "
                       f"holds {windows:,} windows: the co-simulation{'' if cfg.export.cosim else ' (when export.cosim is on)'} "
                       f"runs all {windows:,} of them")
        out = {"scripts": [str(p) for p in written], "missing_tools": missing_tools(cfg)}
        if block_design:
            out["system"] = json.loads((folder / SYSTEM_JSON).read_text())
        if run:
            before = {p.name for p in folder.iterdir()}
            try:
                out["synthesis"] = run_scripts(folder, cfg, force=force, report=report, block_design=block_design,
                                               allow_over_headroom=allow_over_headroom, api=api)
            except OSError as exc:
                raise NotWritable(_not_writable_message(folder, exc)) from None
            finally:  # what the tools wrote (their projects, logs, journals) is tsflow's to replace
                added = [p for p in folder.iterdir() if p.name not in before]
                record_written(folder, [SYNTHESIS_JSON, CALIBRATION_JSON, *(p.name for p in added if not p.is_dir())],
                               [HLS_PROJECT, IP_DIR, REPORTS, LOGS, BD_DIR, *(p.name for p in added if p.is_dir())])
            # the report the scripts just wrote, of this build: not checked for another design's top and part
            out["verification"] = verify(folder, folder / CSYNTH_XML, same_design=False)
    return out


# ------------------------------------------------------------------------------------- the command

_console = None


def _print(message: str) -> None:
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True, soft_wrap=True, highlight=False)
    _console.print(message, markup=False)


def _error(message: str, code: int) -> None:
    _print(f"error: {message}")
    sys.exit(code)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--run", "run", is_flag=True,
              help="Run the scripts (Vitis HLS / Vivado HLS, then Vivado must be on PATH) and write synthesis.json.")
@click.option("--force", is_flag=True, help="Replace scripts in FOLDER/vivado_scripts that differ from these.")
@click.option("--block-design", "block_design", is_flag=True,
              help="Also a Vivado block design (MicroBlaze, AXI interconnect, UART, the IP) and a bare-metal C "
                   "example that drives the IP (FOLDER/sw/); needs hls.interface: s_axilite.")
@click.option("--allow-over-headroom", "allow_over_headroom", is_flag=True,
              help="With --block-design: write it even when the IP and the MicroBlaze system (estimates) leave "
                   "less than target.headroom of a resource free.")
def export_command(folder: Path, run: bool, force: bool, block_design: bool, allow_over_headroom: bool):
    """Write the vendor Tcl scripts of a build folder (FOLDER/vivado_scripts/) and, with --run, run
    them and read latency, resources and timing back into FOLDER/synthesis.json."""
    from contextlib import ExitStack

    from ..locks import using_folder
    from .block_design import OverHeadroom, system_table

    if allow_over_headroom and not block_design:
        _error("--allow-over-headroom only applies with --block-design (it lets the block design be written over "
               "target.headroom); add --block-design, or leave --allow-over-headroom out", 2)
    with ExitStack() as held:  # the folder stays this command's until the calibration is written
        try:
            if folder.is_dir():
                held.enter_context(using_folder(folder))
            _export_and_report(folder, run, force, block_design, allow_over_headroom)
        except StepFailed as exc:
            _error(str(exc), 1)
        except OverHeadroom as exc:
            _print(system_table(exc.fit.to_dict()))
            _error(str(exc), 2)
        except (ExportError, ConfigError) as exc:
            _error(str(exc), 2)


def _export_and_report(folder: Path, run: bool, force: bool, block_design: bool, allow_over_headroom: bool) -> None:
    done = export(folder, run, force, report=_print, block_design=block_design,
                  allow_over_headroom=allow_over_headroom)
    if block_design:
        _print_system(folder, done["system"])
    if not run:
        _print(f"run from the build folder:\n{commands_text(load_build_config(folder), folder, block_design)}")
        missing = done["missing_tools"]
        _print(f"not on PATH: {', '.join(missing)} ('tsflow export --run' needs them)" if missing
               else f"the tools are on PATH: 'tsflow export {shlex.quote(str(folder))} --run' runs these")
        return
    result, cfg = done["synthesis"], load_build_config(folder)
    s = result["summary"]
    _print(f"C synthesis: latency {s['latency_min_cycles']}..{s['latency_max_cycles']} cycles, interval "
           f"{s['interval_min']}..{s['interval_max']}; estimate LUT {s['hls_lut']}, FF {s['hls_ff']}, "
           f"BRAM18 {s['hls_bram18']}, DSP {s['hls_dsp']}")
    _print(f"Vivado ({result['vivado_stage']}): LUT {s['lut']} (LUTRAM {s['lutram']}), FF {s['ff']}, "
           f"BRAM18 {s['bram18']}, DSP {s['dsp']}; WNS {s['wns_ns']} ns, timing met: {s['timing_met']}")
    for warning in result["warnings"]:
        _print(f"warning: {warning}")
    _print(f"written to {Path(folder) / SYNTHESIS_JSON}")
    _calibrate(folder, cfg, result)
    _check_plan(done["verification"])


def _print_system(folder: Path, estimate: dict) -> None:
    """The IP beside the MicroBlaze system, and where the figures are kept."""
    from .block_design import SYSTEM_JSON, system_table

    _print(system_table(estimate))
    if not estimate["within_headroom"]:
        _print(f"warning: written with --allow-over-headroom: {', '.join(r.upper() for r in estimate['over'])} "
               f"above what target.headroom leaves (estimate)")
    _print(f"estimates written to {Path(folder) / SYSTEM_JSON}")


def _check_plan(verification) -> None:
    """The plan-vs-synthesis table, last: a synthesis that differs from the plan fails the run (exit 1), after
    synthesis.json and the calibration are written."""
    from rich.console import Console

    Console(width=160).print(table(verification))
    if verification.differences:
        _error(verification.summary(), 1)
    _print(verification.summary())


def _calibrate(folder: Path, cfg, result: dict) -> None:
    """Feed the reports of this run to the estimator's calibration (FOLDER/calibration.json)."""
    from ..calibration import fit, save_calibration

    try:
        calibration = fit(cfg, [Path(folder) / result["hls"]["report"],
                                Path(folder) / result["vivado"]["utilization_report"],
                                *sorted((Path(folder) / MODULE_REPORTS).glob("*.xml"))])
    except ConfigError as exc:
        _print(f"warning: estimator not calibrated from this run: {exc}")
        return
    path = Path(folder) / CALIBRATION_JSON
    save_calibration(calibration, path, force=True)  # an output of this run, like synthesis.json
    factors = ", ".join(f"{r} x{f:.2f}" for r, f in calibration["factors"].items())
    layers = ", ".join(f"{name} x{f:.2f}" for name, f in calibration["layers"].items())
    _print(f"estimator corrections ({factors}{'; cycles of ' + layers if layers else ''}) written to {path}; "
           f"use them with --calibration {path}")
