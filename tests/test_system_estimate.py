"""The MicroBlaze system around the IP (flow/estimate/system.py) and the headroom check of
``tsflow export --block-design``: every figure below is written out from the published numbers and the
labelled assumptions of system.py, summed by hand; the builds are fake build folders (test_block_design)
whose ``estimate.json`` holds the IP's totals."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from flow import api
from flow.estimate import system
from flow.export import SCRIPTS, export_command
from flow.export.block_design import BD_SCRIPT, SW, SYSTEM_JSON, OverHeadroom

from .test_block_design import axilite_build

# the default config with hls.interface: s_axilite, as `tsflow estimate` gives it (73 % LUT, 80 % DSP of xc7s15)
DEFAULT_IP = {"lut": 5842, "lutram": 1460, "ff": 3148, "bram18": 1, "dsp": 16}

# the system with 16 KB of local memory, core by core:
#   LUT    1175 (UG984 Spartan 7 Table 1, Microcontroller preset) + 100 (LMB, assumed) + 300 (MDM, assumed)
#          + 150 (UART Lite, assumed) + 300 (interconnect, assumed) + 50 (reset, assumed)        = 2075
#   LUTRAM 64 (register file: 32 bits / 2 per RAM32M = 16 RAM32M x 4 LUTs, assumed)
#          + 16 (UART FIFOs: 2 FIFOs x 8 bits, one SRL16E each, assumed)                        =   80
#   FF     811 (UG984) + 50 + 300 + 150 + 300 + 100 (assumed, same order)                        = 1711
#   BRAM18 16 KB / 2 KB per RAMB18E1 (1K x 16 data bits, UG953)                                  =    8
#   DSP    4 (hardware multiplier, 32x32 in 2 x 2 DSP48E1 tiles, assumed)                        =    4
SYSTEM_16KB = {"lut": 2075, "lutram": 80, "ff": 1711, "bram18": 8, "dsp": 4}
XC7S15 = {"lut": 8000, "lutram": 2400, "ff": 16000, "bram18": 20, "dsp": 20}  # DS180 (parts.py)


def test_the_system_is_the_published_and_assumed_figures_summed():
    cores = {c.name: c for c in system.cores(16)}
    assert list(cores) == ["microblaze_0", "mul, registers", "local memory", "LMB", "mdm_1", "uart_0",
                           "interconnect", "processor reset"]
    # UG984: 1175 LUT, 811 FF; the rest of the processor assumed: 64 LUTRAM (inside the 1175), 4 DSP
    assert cores["microblaze_0"].resources() == {"lut": 1175, "lutram": 0, "ff": 811, "bram18": 0, "dsp": 0}
    assert cores["mul, registers"].resources() == {"lut": 0, "lutram": 64, "ff": 0, "bram18": 0, "dsp": 4}
    assert cores["microblaze_0"].basis == system.PUBLISHED
    assert cores["local memory"].basis == system.DERIVED
    assert {c.basis for n, c in cores.items() if n not in ("microblaze_0", "local memory")} == {system.ASSUMED}
    assert all("assumed" in system.SOURCES[n] for n, c in cores.items() if c.basis == system.ASSUMED)
    assert system.total([c.resources() for c in cores.values()]) == SYSTEM_16KB


@pytest.mark.parametrize("kb, bram18", [(8, 4), (16, 8), (32, 16), (64, 32)])  # kb / 2 KB per RAMB18E1
def test_local_memory_takes_one_bram18_per_2_kb(kb, bram18):
    assert system.total([c.resources() for c in system.cores(kb)])["bram18"] == bram18


def test_the_default_ip_and_the_system_overflow_the_headroom_of_the_xc7s15():
    fit = system.fit(DEFAULT_IP, XC7S15, "xc7s15ftgb196-2", 0.2, 16)
    # LUT 5842 + 2075 = 7917 > 0.8 x 8000 = 6400; DSP 16 + 4 = 20 > 0.8 x 20 = 16; LUTRAM 1460 + 80 = 1540 <= 1920,
    # FF 3148 + 1711 = 4859 <= 12800, BRAM18 1 + 8 = 9 <= 16
    assert fit.total == {"lut": 7917, "lutram": 1540, "ff": 4859, "bram18": 9, "dsp": 20}
    assert fit.limit == {"lut": 6400, "lutram": 1920, "ff": 12800, "bram18": 16, "dsp": 16}
    assert fit.over == ["lut", "dsp"]
    # the xc7s25 (DS180: 14,600 LUT, 80 DSP) has the same package and grade: 7917 / 14600 = 54 %, 20 / 80 = 25 %
    bigger = system.larger_part(fit)
    assert bigger.part == "xc7s25ftgb196-2" and not bigger.over
    assert (round(bigger.percent("lut")), round(bigger.percent("dsp"))) == (54, 25)


def test_the_block_design_is_refused_over_the_headroom_with_exit_2(tmp_path):
    build_dir, _ = axilite_build(tmp_path / "b", ip=DEFAULT_IP)
    estimate = json.loads((build_dir / "estimate.json").read_text())  # hls.default_parallelism: auto chose 16 lanes
    engine = {"function": "tsflow_engine", "call_sites": 1, "lanes": 16, "dsp": 16}
    (build_dir / "estimate.json").write_text(json.dumps({**estimate, "engine": engine}))
    (build_dir / "plan.json").write_text(json.dumps({"engine": engine, "loops": []}))  # both from one plan
    result = CliRunner().invoke(export_command, [str(build_dir), "--block-design"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    error = errors[0]
    for text in ("LUT 5,842 + 2,075 = 7,917 of 8,000 (99%, limit 6,400)", "DSP 16 + 4 = 20 of 20 (100%, limit 16)",
                 "target.headroom 0.2", "target.part: xc7s25ftgb196-2 (this IP and system at LUT 54%, DSP 25%; "
                 "rebuild with hls.default_parallelism: 16, not auto",
                 "fewer lanes (hls.default_parallelism below 16, this IP's lanes) or tables and buffers in block RAM",
                 "--allow-over-headroom"):
        assert text in error, text
    assert "hls.default_multiplier: lut" not in error  # LUT multipliers would move DSPs into LUTs, short too
    assert "OVER: lut, dsp" in result.output  # the table beside the error
    # nothing that looks like a finished export
    assert not (build_dir / SCRIPTS).exists() and not (build_dir / SW).exists()
    assert not (build_dir / SYSTEM_JSON).exists()


def test_allowed_over_the_headroom_it_writes_the_design_and_says_so(tmp_path):
    build_dir, _ = axilite_build(tmp_path / "b", ip=DEFAULT_IP)
    result = CliRunner().invoke(export_command, [str(build_dir), "--block-design", "--allow-over-headroom"])
    assert result.exit_code == 0, result.output
    assert (build_dir / SCRIPTS / BD_SCRIPT).is_file()
    assert "warning: written with --allow-over-headroom: LUT, DSP" in result.output
    written = json.loads((build_dir / SYSTEM_JSON).read_text())
    assert written["estimate"] is True and "estimates" in written["note"]
    assert (written["within_headroom"], written["over"]) == (False, ["lut", "dsp"])
    assert (written["total"], written["system"]["total"]) == (
        {"lut": 7917, "lutram": 1540, "ff": 4859, "bram18": 9, "dsp": 20}, SYSTEM_16KB)
    assert written["percent"] == {"lut": 99.0, "lutram": 64.2, "ff": 30.4, "bram18": 45.0, "dsp": 100.0}


def test_a_small_ip_on_a_larger_part_passes(tmp_path):
    build_dir, _ = axilite_build(tmp_path / "b", ip=DEFAULT_IP, target={"part": "xc7s25csga225-1"})
    result = CliRunner().invoke(export_command, [str(build_dir), "--block-design"])
    assert result.exit_code == 0, result.output
    assert "fits" in result.output and "warning" not in result.output
    written = json.loads((build_dir / SYSTEM_JSON).read_text())
    # xc7s25: 14,600 LUT, 5,008 LUTRAM, 29,200 FF, 90 BRAM18, 80 DSP (DS180); 7917 / 14600 = 54.2 %,
    # 1540 / 5008 = 30.8 %, 4859 / 29200 = 16.6 %, 9 / 90 = 10 %, 20 / 80 = 25 %
    assert written["within_headroom"] is True and written["part"] == "xc7s25csga225-1"
    assert written["percent"] == {"lut": 54.2, "lutram": 30.8, "ff": 16.6, "bram18": 10.0, "dsp": 25.0}


def test_block_ram_over_the_headroom_names_the_local_memory(tmp_path):
    # IP 7 BRAM18 + 32 KB = 16: 23 > 20, the part cannot hold it (a hard refusal); with 16 KB, 7 + 8 = 15 <= 16
    # fits; IP 9 + 8 = 17 > 16 is over the headroom only
    build_dir, _ = axilite_build(tmp_path / "b", bram18=9)
    with pytest.raises(OverHeadroom, match=r"BRAM18 9 \+ 8 = 17 of 20 \(85%, limit 16\).*export.local_memory_kb"):
        api.export(build_dir, block_design=True)
    fits, _ = axilite_build(tmp_path / "f", bram18=7)
    assert api.export(fits, block_design=True)["system"]["within_headroom"] is True


def test_a_calibrated_ip_estimate_is_labelled_so(tmp_path):
    build_dir, _ = axilite_build(tmp_path / "b")
    estimate = json.loads((build_dir / "estimate.json").read_text())
    (build_dir / "estimate.json").write_text(json.dumps({**estimate, "calibrated": True}))
    result = CliRunner().invoke(export_command, [str(build_dir), "--block-design"])
    assert result.exit_code == 0 and re.search(r"│ IP +│ calibrated", result.output)
    assert json.loads((build_dir / SYSTEM_JSON).read_text())["ip"]["calibrated"] is True
