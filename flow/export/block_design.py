"""``tsflow export --block-design``: the IP in a small MicroBlaze system, and the program that drives it.

Writes ``vivado_scripts/tsflow_block_design.tcl`` (MicroBlaze with local memory, AXI interconnect,
UART and the IP, validated, to a hardware platform and, given the board's pins, a bitstream),
``sw/tsflow_example.c`` (bare-metal: test windows through the generated driver, compared with the
reference) and ``sw/tsflow_vectors.h`` (those windows and forecasts, from the build's test vectors).
Only an AXI4-Lite IP can be driven so (``hls.interface: s_axilite``); the MicroBlaze's local memory
must fit in the block RAM the IP leaves.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..hls.interface import driver_prefix, top_function
from . import IP_REPO, SCRIPTS, SOURCE, TB_DATA, ExportError, _fill, tcl_quote, vlnv

BD_SCRIPT = "tsflow_block_design.tcl"
BD_DIR = "block_design"
DESIGN = "tsflow_system"
XSA = f"{BD_DIR}/{DESIGN}.xsa"
SW = "sw"
EXAMPLE = "tsflow_example.c"
VECTORS = "tsflow_vectors.h"
BAUD = 115200
EXAMPLE_WINDOWS = 8  # test windows the example runs, fewer when they would take over a quarter of local memory
BRAM18_KB = 2  # a RAMB18E1 holds 18 Kb, 16 Kb of them data bits: 2 KB of MicroBlaze memory (UG473)


def check(cfg, build_dir: Path) -> None:
    """Refuse a build this system cannot hold, naming the key to change."""
    from ..parts import parse_part

    if cfg.hls.interface != "s_axilite":
        raise ExportError(f"--block-design drives the IP from a MicroBlaze through its AXI4-Lite registers, so it "
                          f"needs hls.interface: s_axilite (this build has {cfg.hls.interface}); set it and rebuild")
    estimate = build_dir / "estimate.json"
    if not estimate.is_file():
        raise ExportError(f"{estimate} missing: the block RAM the IP leaves for the MicroBlaze is read from it; "
                          f"run 'tsflow build' again")
    ip_bram18 = json.loads(estimate.read_text())["total"]["bram18"]
    budget = parse_part(cfg.target.part).bram18
    need = cfg.export.local_memory_kb // BRAM18_KB
    if budget is not None and ip_bram18 + need > budget:
        free_kb = (budget - ip_bram18) * BRAM18_KB
        raise ExportError(f"export.local_memory_kb: {cfg.export.local_memory_kb} KB of MicroBlaze memory needs "
                          f"{need} BRAM18, and the IP is estimated at {ip_bram18} of the {budget} of "
                          f"{cfg.target.part}; allowed: 8, 16, 32 or 64, at most {free_kb} KB here")


def _vectors(cfg, build_dir: Path) -> str:
    """tsflow_vectors.h: the first test windows and the reference forecasts, as the IP's words."""
    boundaries = json.loads((build_dir / "hls" / "boundaries.json").read_text())
    output = "delta" if "delta" in boundaries else "head"
    n_in, n_out = boundaries["input"]["per_sample"], boundaries[output]["per_sample"]
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


def render(cfg, build_dir: Path, common: dict) -> dict[str, str]:
    """Path relative to the build folder -> content, for every file the block design adds."""
    check(cfg, build_dir)
    top = top_function(cfg.hls.interface, SOURCE)
    values = dict(common, bd_script=BD_SCRIPT, bd_dir=BD_DIR, design=DESIGN, ip_repo=IP_REPO,
                  local_memory_kb=cfg.export.local_memory_kb, baud=BAUD, vlnv=vlnv(cfg), vlnv_tcl=tcl_quote(vlnv(cfg)),
                  clock_hz=round(cfg.target.clock_mhz * 1e6), clock_label_tcl=tcl_quote(f"{cfg.target.clock_mhz:g} MHz"),
                  driver=driver_prefix(cfg.hls.interface, SOURCE), driver_header=f"x{top.lower()}.h")
    return {f"{SCRIPTS}/{BD_SCRIPT}": _fill("block_design.tcl.in", **values),
            f"{SW}/{EXAMPLE}": _fill("tsflow_example.c.in", **values),
            f"{SW}/{VECTORS}": _vectors(cfg, build_dir)}
