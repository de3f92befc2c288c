"""``tsflow export --block-design``: the IP in a small MicroBlaze system, and the program that drives it.

Writes ``vivado_scripts/tsflow_block_design.tcl`` (MicroBlaze with local memory, AXI interconnect,
UART and the IP, validated, to a hardware platform and, given the board's pins, a bitstream),
``sw/tsflow_example.c`` (bare-metal: test windows through the generated driver, compared with the
reference) and ``sw/tsflow_vectors.h`` (those windows and forecasts, from the build's test vectors).
Only an AXI4-Lite IP can be driven so (``hls.interface: s_axilite``); the MicroBlaze's local memory
must fit in the block RAM the IP leaves, and the IP (``estimate.json``) with the processor system
(``flow.estimate.system``) must leave ``target.headroom`` of every resource free unless
``allow_over_headroom``; ``system_estimate.json`` records both, beside the IP's estimate.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..estimate import system
from ..estimate.costs import RESOURCES
from ..hls.files import TB_DATA
from ..hls.interface import driver_prefix, top_function
from .templates import IP_REPO, SCRIPTS, SOURCE, ExportError, fill_template, tcl_quote, vlnv

BD_SCRIPT = "tsflow_block_design.tcl"
BD_DIR = "block_design"
DESIGN = "tsflow_system"
XSA = f"{BD_DIR}/{DESIGN}.xsa"
SW = "sw"
EXAMPLE = "tsflow_example.c"
VECTORS = "tsflow_vectors.h"
BAUD = 115200
EXAMPLE_WINDOWS = 8  # test windows the example runs, fewer when they would take over a quarter of local memory
SYSTEM_JSON = "system_estimate.json"  # the IP beside the processor system, in the build folder
# what to change when a resource is short, beside a larger part: (move, the resources it adds to)
REMEDY = {"lut": [("fewer lanes (hls.default_parallelism)", ()),
                  ("tables and buffers in block RAM (hls.default_rom, hls.default_storage: bram)", ("bram18",))],
          "lutram": [("buffers in block RAM (hls.default_storage: bram)", ("bram18",))],
          "ff": [("fewer lanes (hls.default_parallelism)", ()),
                 ("buffers out of registers (hls.default_storage: lutram or bram)", ("lut", "lutram", "bram18"))],
          "bram18": [("less local memory (export.local_memory_kb)", ()),
                     ("buffers in LUTRAM (hls.default_storage: lutram)", ("lut", "lutram"))],
          "dsp": [("fewer lanes (hls.default_parallelism)", ()),
                  ("LUT multipliers (hls.default_multiplier: lut)", ("lut",))]}


class OverHeadroom(ExportError):
    """The IP and the processor system leave less than ``target.headroom`` of a resource; ``fit`` has the
    figures. A user's choice to change, so a ``ConfigError`` too, as ``flow.api`` documents its refusals."""

    def __init__(self, message: str, fit: system.SystemFit):
        super().__init__(message)
        self.fit = fit


def spelled(flag: str, api: bool) -> str:
    """A flag of export as its caller gives it: ``--allow-over-headroom`` to the command, ``allow_over_headroom=True``
    to ``flow.api.export``."""
    return f"{flag}=True" if api else "--" + flag.replace("_", "-")


def check(cfg, build_dir: Path, allow_over_headroom: bool = False, api: bool = False) -> system.SystemFit:
    """The IP beside the processor system on ``target.part``; refuses a build this system cannot hold,
    naming the key to change (and the flags as ``api`` or the command spells them)."""
    from ..parts import parse_part

    if cfg.hls.interface != "s_axilite":
        raise ExportError(f"{spelled('block_design', api)} drives the IP from a MicroBlaze through its AXI4-Lite registers, so it "
                          f"needs hls.interface: s_axilite (this build has {cfg.hls.interface}); set it and rebuild")
    estimate = build_dir / "estimate.json"
    if not estimate.is_file():
        raise ExportError(f"{estimate} missing: the resources the IP leaves for the MicroBlaze are read from it; "
                          f"run 'tsflow build' again")
    try:
        ip = json.loads(estimate.read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f"{estimate} cannot be read ({exc}); run 'tsflow build' again") from None
    if not isinstance(ip, dict) or not isinstance(ip.get("total"), dict) \
            or not all(r in ip["total"] for r in RESOURCES):
        raise ExportError(f"{estimate} holds no total of {', '.join(RESOURCES)}; run 'tsflow build' again")
    part = parse_part(cfg.target.part)
    fit = system.fit(ip["total"], {r: getattr(part, r) for r in RESOURCES}, part.part, cfg.target.headroom,
                     cfg.export.local_memory_kb, bool(ip.get("calibrated")))
    need = fit.system["bram18"]
    if fit.ip["bram18"] + need > part.bram18:
        free_kb = (part.bram18 - fit.ip["bram18"]) * system.LOCAL_MEMORY_KB_PER_BRAM18
        raise ExportError(f"export.local_memory_kb: {cfg.export.local_memory_kb} KB of MicroBlaze memory needs "
                          f"{need} BRAM18, and the IP is estimated at {fit.ip['bram18']} of the {part.bram18} of "
                          f"{cfg.target.part}; allowed: 8, 16, 32 or 64, at most {free_kb} KB here")
    if fit.over and not allow_over_headroom:
        lanes = (ip.get("engine") or {}).get("lanes")
        raise OverHeadroom(_over_message(fit, lanes, cfg.hls.default_parallelism == "auto", api), fit)
    return fit


def _over_message(fit: system.SystemFit, lanes: int | None, auto: bool, api: bool = False) -> str:
    """One line: the resources short, their figures, and what to change. ``lanes``: the IP's shared lanes;
    ``auto``: chosen by ``hls.default_parallelism: auto``, which sizes the IP alone up to the headroom."""
    short = "; ".join(f"{r.upper()} {fit.ip[r]:,} + {fit.system[r]:,} = {fit.total[r]:,} of {fit.budget[r]:,} "
                      f"({fit.percent(r):.0f}%, limit {fit.limit[r]:,})" for r in fit.over)
    bigger = system.larger_part(fit)
    keep = f" with hls.default_parallelism: {lanes}, not auto, which fills a larger part" if auto and lanes else ""
    moves = ([f"target.part: {bigger.part} (this IP and system at "
              f"{', '.join(f'{r.upper()} {bigger.percent(r):.0f}%' for r in fit.over)}; rebuild{keep})"]
             if bigger else [])
    fewer = f"hls.default_parallelism below {lanes}, this IP's lanes" if lanes else "hls.default_parallelism"
    moves += [move.replace("hls.default_parallelism", fewer) for r in fit.over for move, adds in REMEDY[r]
              if not set(adds) & set(fit.over)]
    return (f"{spelled('block_design', api)}: the IP (estimate.json) and the MicroBlaze system (published figures and assumptions, "
            f"flow/estimate/system.py) leave less than target.headroom {fit.headroom:g} free on {fit.part} "
            f"(estimates): {short}; change {' or '.join(dict.fromkeys(moves))}, or pass "
            f"{spelled('allow_over_headroom', api)} to write the design anyway")


def system_table(d: dict):
    """The rich table of a ``system_estimate.json`` content: the IP, each core, the total, the budget."""
    from rich.table import Table

    table = Table(title=f"block design on {d['part']}, target.headroom {d['headroom']:g}: the IP and the MicroBlaze "
                        f"system (estimates, not synthesis results)", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("basis")
    for r in RESOURCES:
        table.add_column(r.upper(), justify="right")

    def row(name, basis, values, **style):
        table.add_row(name, basis, *("n/a" if values[r] is None else f"{values[r]:,}" for r in RESOURCES), **style)

    row("IP", "calibrated" if d["ip"]["calibrated"] else "estimate.json", d["ip"])
    for core in d["system"]["cores"]:
        row(f"  {core['name']}", core["basis"], core)
    row("MicroBlaze system", "", d["system"]["total"])
    row("total", "", d["total"], style="bold")
    row("budget", "", d["budget"])
    row("limit", "less headroom", d["limit"])
    table.add_row("used", "fits" if d["within_headroom"] else "OVER: " + ", ".join(d["over"]),
                  *("n/a" if d["percent"][r] is None else f"{d['percent'][r]:.0f}%" for r in RESOURCES),
                  style="green" if d["within_headroom"] else "bold red")
    return table


def _vectors(cfg, build_dir: Path) -> str:
    """tsflow_vectors.h: the first test windows and the reference forecasts, as the IP's words."""
    path = build_dir / "hls" / "boundaries.json"
    try:
        boundaries = json.loads(path.read_text())
        output = "delta" if "delta" in boundaries else "head"
        n_in, n_out = boundaries["input"]["per_sample"], boundaries[output]["per_sample"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        why = f"it has no {exc.args[0]}" if isinstance(exc, KeyError) and exc.args else str(exc)
        raise ExportError(f"{path} cannot be read ({why}); run 'tsflow build' again") from None
    inputs = np.fromfile(build_dir / "hls" / TB_DATA / "inputs.bin", dtype=np.int32).reshape(-1, n_in)
    expected = np.fromfile(build_dir / "hls" / TB_DATA / "expected.bin", dtype=np.int32).reshape(-1, n_out)
    fits = cfg.export.local_memory_kb * 1024 // 4 // (4 * (n_in + n_out))
    count = max(1, min(EXAMPLE_WINDOWS, len(inputs), fits))
    t_in, t_out = boundaries["input"]["type"], boundaries[output]["type"]

    def rows(values) -> str:
        return ",\n".join("    {" + ", ".join(str(int(v)) for v in row) + "}" for row in values)

    return f"""/* Test vectors of the tsflow build '{cfg.name}' for sw/{EXAMPLE}, written by `tsflow export --block-design`
 * from hls/{TB_DATA}/: the first {count} test windows and the reference forward's forecasts, as the IP's words
 * (mantissas: value = word x 2^-frac). */
#ifndef TSFLOW_VECTORS_H_
#define TSFLOW_VECTORS_H_

#define TSFLOW_WINDOW_WORDS {n_in}
#define TSFLOW_CHANNELS {n_in // cfg.data.window}
#define TSFLOW_WINDOW_FRAC_BITS {t_in['width'] - t_in['integer']}    /* window: {t_in['width']} bits, {t_in['integer']} integer */
#define TSFLOW_FORECAST_WORDS {n_out}
#define TSFLOW_FORECAST_FRAC_BITS {t_out['width'] - t_out['integer']}  /* forecast ({output}): {t_out['width']} bits, {t_out['integer']} integer */
#define TSFLOW_TEST_WINDOWS {count}

static const int tsflow_windows[TSFLOW_TEST_WINDOWS][TSFLOW_WINDOW_WORDS] = {{
{rows(inputs[:count])}
}};

static const int tsflow_expected[TSFLOW_TEST_WINDOWS][TSFLOW_FORECAST_WORDS] = {{
{rows(expected[:count])}
}};

#endif
"""


def render(cfg, build_dir: Path, common: dict, allow_over_headroom: bool = False, api: bool = False) -> dict[str, str]:
    """Path relative to the build folder -> content, for every file the block design adds."""
    fit = check(cfg, build_dir, allow_over_headroom, api)
    top = top_function(cfg.hls.interface, SOURCE)
    values = dict(common, bd_script=BD_SCRIPT, bd_dir=BD_DIR, design=DESIGN, ip_repo=IP_REPO,
                  local_memory_kb=cfg.export.local_memory_kb, baud=BAUD, vlnv=vlnv(cfg), vlnv_tcl=tcl_quote(vlnv(cfg)),
                  clock_hz=round(cfg.target.clock_mhz * 1e6), clock_label_tcl=tcl_quote(f"{cfg.target.clock_mhz:g} MHz"),
                  driver=driver_prefix(cfg.hls.interface, SOURCE), driver_header=f"x{top.lower()}.h")
    return {f"{SCRIPTS}/{BD_SCRIPT}": fill_template("block_design.tcl.in", **values),
            f"{SW}/{EXAMPLE}": fill_template("tsflow_example.c.in", **values),
            f"{SW}/{VECTORS}": _vectors(cfg, build_dir),
            SYSTEM_JSON: json.dumps(fit.to_dict(), indent=2) + "\n"}
