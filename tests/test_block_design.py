"""``tsflow export --block-design`` (flow/export/block_design.py, vivado_scripts/block_design.tcl.in and
tsflow_example.c.in): the block-design Tcl run under tclsh with every Vivado command replaced by a
recording proc, the C example compiled as C (``g++ -x c -fsyntax-only``) against a stand-in of the generated
driver header (tests/driver_standin/, written from UG1399's driver reference), and the refusals.
Nothing here shows what Vivado does with the script or that the example runs on a board."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from flow.export import ExportError, SCRIPTS, export_command, run_scripts, write_scripts
from flow.export.block_design import BD_SCRIPT, EXAMPLE, SW, VECTORS, XSA

from .test_export import PRELUDE, make_build, names, only, read_log, run_tcl

STANDIN = Path(__file__).parent / "driver_standin"
CC = [shutil.which("g++") or "g++", "-x", "c"]  # g++ compiles C too; the suite requires it (conftest)

# Block-design commands: recorded like the others; the MicroBlaze automation adds the one processor system
# reset that the script then looks up (TSFLOW_TEST_RESETS: how many the lookup finds).
BD_PROCS = r"""
foreach cmd {create_bd_design create_bd_port create_bd_intf_port create_bd_cell apply_bd_automation
             connect_bd_net connect_bd_intf_net assign_bd_address validate_bd_design save_bd_design
             launch_runs wait_on_run} {
    proc $cmd args "rec $cmd \$args; injected $cmd"
}
foreach query {get_bd_ports get_bd_intf_ports get_bd_pins get_bd_intf_pins get_runs} {
    proc $query args "rec $query \$args; return \[lindex \$args end\]"
}
proc get_bd_cells args {
    rec get_bd_cells $args
    if {[lindex $args 0] eq "-filter"} {
        return [lrange {rst_sys_clk_100M rst_other} 0 [expr {[env_or TSFLOW_TEST_RESETS 1] - 1}]]
    }
    return [lindex $args end]
}
proc current_fileset args {rec current_fileset $args; return sources_1}
proc get_property args {rec get_property $args; return [env_or TSFLOW_TEST_PROGRESS 100%]}
proc make_wrapper args {rec make_wrapper $args; return block_design/tsflow_system.gen/hdl/tsflow_system_wrapper.v}
proc write_hw_platform args {
    rec write_hw_platform $args; injected write_hw_platform
    put_file [option $args -file] "" "xsa stand-in"
}
"""
BD_QUERIES = {"get_bd_ports", "get_bd_intf_ports", "get_bd_pins", "get_bd_intf_pins", "get_runs", "get_bd_cells",
              "current_fileset", "get_property", "get_files", "current_project"}
BD_STEPS = ["create_project", "set_property", "update_ip_catalog", "create_bd_design",
            "create_bd_port", "create_bd_port", "set_property", "create_bd_intf_port",
            "create_bd_cell", "apply_bd_automation", "connect_bd_net",
            "create_bd_cell", "set_property", "connect_bd_intf_net", "apply_bd_automation",
            "create_bd_cell", "apply_bd_automation", "assign_bd_address", "validate_bd_design", "save_bd_design",
            "generate_target", "make_wrapper", "add_files", "set_property"]


SMALL_IP = {"lut": 1000, "lutram": 100, "ff": 1000, "bram18": 1, "dsp": 2}  # leaves room for the MicroBlaze system


def axilite_build(folder: Path, bram18: int = 1, ip: dict | None = None, **sections):
    """A fake build of an s_axilite IP whose test vectors are 10 windows of 2 time steps x 3 channels, with
    ``ip`` (default :data:`SMALL_IP`, ``bram18`` BRAM18) as the estimate's totals."""
    sections.setdefault("hls", {"interface": "s_axilite"})
    build_dir, cfg = make_build(folder, data={"window": 2}, **sections)
    windows = np.arange(-30, 30, dtype=np.int32).reshape(10, 6)
    windows.tofile(build_dir / "hls" / "tb_data" / "inputs.bin")
    (-windows[:, :1] * 7).astype(np.int32).tofile(build_dir / "hls" / "tb_data" / "expected.bin")
    fixed = {"signed": True, "rounding": "conv", "overflow": "sat"}
    (build_dir / "hls" / "boundaries.json").write_text(json.dumps({
        "input": {"type": {"width": 12, "integer": 4, **fixed}, "per_sample": 6},
        "delta": {"type": {"width": 16, "integer": 6, **fixed}, "per_sample": 1}}))
    total = {**SMALL_IP, "bram18": bram18, **(ip or {})}
    (build_dir / "estimate.json").write_text(json.dumps({"total": total, "calibrated": False, "layers": []}))
    return build_dir, cfg


@pytest.fixture
def bd_prelude(tmp_path):
    path = tmp_path / "prelude.tcl"
    path.write_text(PRELUDE.replace("# as `vivado -source SCRIPT", BD_PROCS + "# as `vivado -source SCRIPT"))
    return path


def exported(build_dir: Path) -> Path:
    """The state the HLS script leaves: an IP in the IP repository."""
    write_scripts(build_dir, block_design=True)
    ip = build_dir / "hls_prj" / "solution1" / "impl" / "ip"
    ip.mkdir(parents=True)
    (ip / "component.xml").write_text("<component/>")
    return build_dir / SCRIPTS / BD_SCRIPT


def bd_names(records) -> list[str]:
    return [r[0] for r in records if r[0] not in BD_QUERIES]


def tcl_dict(text: str) -> dict:
    """A flat Tcl list of key value pairs (braced words), as the recording wrote it."""
    out = subprocess.run(["tclsh"], input=f"foreach {{k v}} {{{text}}} {{puts \"$k\\x1f$v\"}}",
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("\x1f", 1) for line in out.splitlines())


def config_of(records, target: str) -> dict:
    calls = [r[1:] for r in records if r[0] == "apply_bd_automation" and r[-1] == target]
    assert len(calls) == 1, (target, calls)
    return tcl_dict(calls[0][calls[0].index("-config") + 1])


def test_the_system_is_built_validated_and_exported_as_a_platform(tmp_path, bd_prelude):
    build_dir, cfg = axilite_build(tmp_path / "b", target={"clock_mhz": 80})
    done, rec = run_tcl(build_dir, exported(build_dir), bd_prelude)
    assert done.returncode == 0, done.stderr
    assert bd_names(rec) == BD_STEPS + ["write_hw_platform"]
    assert only(rec, "create_project")[-2:] == ["-part", "xc7s15ftgb196-2"]
    assert ["-dir", "I", "-type", "clk", "-freq_hz", "80000000", "sys_clk"] in [r[1:] for r in rec
                                                                            if r[0] == "create_bd_port"]
    cells = {r[-1]: r[r.index("-vlnv") + 1] for r in rec if r[0] == "create_bd_cell"}
    assert cells == {"microblaze_0": "xilinx.com:ip:microblaze", "uart_0": "xilinx.com:ip:axi_uartlite",
                     "forecaster": "tsflow:hls:tsflow_forecaster:1.0"}
    mb = config_of(rec, "microblaze_0")
    assert (mb["preset"], mb["local_mem"], mb["clk"], mb["axi_periph"]) == \
        ("Microcontroller", "16KB", "/sys_clk (80 MHz)", "Enabled")
    for slave in ("uart_0/S_AXI", "forecaster/s_axi_control"):  # both on the MicroBlaze's interconnect
        c = config_of(rec, slave)
        assert (c["Master"], c["Slave"], c["intc_ip"]) == ("/microblaze_0 (Periph)", f"/{slave}",
                                                           "/microblaze_0_axi_periph")
    assert only(rec, "connect_bd_net") == ["sys_rst_n", "rst_sys_clk_100M/ext_reset_in"]
    assert ["CONFIG.C_BAUDRATE", "115200", "uart_0"] in [r[1:] for r in rec if r[0] == "set_property"]
    # no pins: a platform without bitstream, and no implementation
    assert only(rec, "write_hw_platform") == ["-fixed", "-force", "-file", "block_design/tsflow_system.xsa"]
    assert (build_dir / XSA).is_file() and "launch_runs" not in bd_names(rec)


def test_with_the_boards_pins_it_implements_and_includes_the_bitstream(tmp_path, bd_prelude):
    build_dir, _ = axilite_build(tmp_path / "b", export={"local_memory_kb": 8})
    script = exported(build_dir)
    pins = tmp_path / "pins.xdc"
    pins.write_text("# the board's pins\n")
    done, rec = run_tcl(build_dir, script, bd_prelude, str(pins))
    assert done.returncode == 0, done.stderr
    assert config_of(rec, "microblaze_0")["local_mem"] == "8KB"
    assert bd_names(rec)[len(BD_STEPS):] == ["add_files", "launch_runs", "wait_on_run", "write_hw_platform"]
    assert only(rec, "launch_runs") == ["impl_1", "-to_step", "write_bitstream"]
    assert "-include_bit" in only(rec, "write_hw_platform")
    assert [r for r in rec if r[0] == "add_files"][-1][1:] == ["-fileset", "constrs_1", "-norecurse", str(pins)]


@pytest.mark.parametrize("env, args, message", [
    ({"TSFLOW_TEST_FAIL": "validate_bd_design"}, (), "step validate_bd_design failed"),
    ({"TSFLOW_TEST_RESETS": "2"}, (), "expected one processor system reset"),
    ({"TSFLOW_TEST_PROGRESS": "60%"}, ("PINS",), "implementation did not write the bitstream"),
    ({}, ("no-such-pins.xdc",), "pin constraints no-such-pins.xdc not found"),
])
def test_a_failing_step_stops_the_script_before_the_platform(tmp_path, bd_prelude, env, args, message):
    build_dir, _ = axilite_build(tmp_path / "b")
    script = exported(build_dir)
    if args == ("PINS",):
        (build_dir / "pins.xdc").write_text("\n")
        args = ("pins.xdc",)
    done, rec = run_tcl(build_dir, script, bd_prelude, *args, **env)
    assert done.returncode == 1 and message in done.stderr
    assert "write_hw_platform" not in names(rec) and not (build_dir / XSA).exists()


def test_the_script_needs_the_exported_ip(tmp_path, bd_prelude):
    build_dir, _ = axilite_build(tmp_path / "b")
    write_scripts(build_dir, block_design=True)
    done, rec = run_tcl(build_dir, build_dir / SCRIPTS / BD_SCRIPT, bd_prelude)
    assert done.returncode == 1 and "no exported IP" in done.stderr and rec == []


@pytest.mark.parametrize("flow", ["classic", "sdt"])
def test_the_c_example_compiles_against_the_driver_interface(tmp_path, flow):
    build_dir, _ = axilite_build(tmp_path / "b")
    write_scripts(build_dir, block_design=True)
    sw = build_dir / SW
    flags = ["-DSDT"] if flow == "sdt" else []
    done = subprocess.run([*CC, "-fsyntax-only", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", *flags,
                           f"-I{STANDIN}", f"-I{sw}", str(sw / EXAMPLE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # the driver calls the example makes are the ones of the stand-in (the generated driver's names)
    text = (sw / EXAMPLE).read_text()
    for call in ("XTsflow_ip_Initialize", "XTsflow_ip_Write_window_Words", "XTsflow_ip_Start",
                 "XTsflow_ip_IsDone", "XTsflow_ip_Read_forecast_Words"):
        assert f"{call}(" in text


def test_a_wrong_driver_call_does_not_compile(tmp_path):
    """The syntax check is a check: a call with the wrong arguments fails against the stand-in."""
    build_dir, _ = axilite_build(tmp_path / "b")
    write_scripts(build_dir, block_design=True)
    sw = build_dir / SW
    source = sw / EXAMPLE
    source.write_text(source.read_text().replace("XTsflow_ip_Start(ip);", "XTsflow_ip_Start(ip, 1);"))
    done = subprocess.run([*CC, "-fsyntax-only", "-std=c99", f"-I{STANDIN}", f"-I{sw}", str(source)],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "XTsflow_ip_Start" in done.stderr


def test_the_vectors_are_the_builds_first_test_windows(tmp_path):
    build_dir, _ = axilite_build(tmp_path / "b")
    write_scripts(build_dir, block_design=True)
    text = (build_dir / SW / VECTORS).read_text()
    defines = dict(line.split()[1:3] for line in text.splitlines()
                   if line.startswith("#define TSFLOW_") and not line.endswith("_H_"))
    assert defines == {"TSFLOW_WINDOW_WORDS": "6", "TSFLOW_CHANNELS": "3", "TSFLOW_WINDOW_FRAC_BITS": "8",
                       "TSFLOW_FORECAST_WORDS": "1", "TSFLOW_FORECAST_FRAC_BITS": "10", "TSFLOW_TEST_WINDOWS": "8"}
    rows = [[int(v) for v in line.strip().strip("{},").split(", ")] for line in text.splitlines()
            if line.startswith("    {")]
    windows = np.fromfile(build_dir / "hls" / "tb_data" / "inputs.bin", dtype=np.int32).reshape(10, 6)
    expected = np.fromfile(build_dir / "hls" / "tb_data" / "expected.bin", dtype=np.int32).reshape(10, 1)
    assert rows == windows[:8].tolist() + expected[:8].tolist()


def test_an_ap_vld_ip_is_refused_and_nothing_is_written(tmp_path):
    build_dir, _ = axilite_build(tmp_path / "b", hls={"interface": "ap_vld"})
    result = CliRunner().invoke(export_command, [str(build_dir), "--block-design"])
    assert result.exit_code == 2 and "hls.interface: s_axilite" in result.output and "ap_vld" in result.output
    assert "Traceback" not in result.output
    assert not (build_dir / SCRIPTS).exists() and not (build_dir / SW).exists()


def test_local_memory_the_ip_leaves_no_room_for_is_refused(tmp_path):
    # xc7s15: 20 BRAM18; the IP takes 14, 16 KB of local memory would need 8 of them, 8 KB needs 4
    build_dir, _ = axilite_build(tmp_path / "b", bram18=14)
    with pytest.raises(ExportError, match=r"export.local_memory_kb: 16 KB .* needs 8 BRAM18.* at most 12 KB"):
        write_scripts(build_dir, block_design=True)
    # 8 KB fits the part (14 + 4 = 18 of 20) but not the headroom (18 > 16): refused unless allowed
    small, _ = axilite_build(tmp_path / "s", bram18=14, export={"local_memory_kb": 8})
    with pytest.raises(ExportError, match=r"BRAM18 14 \+ 4 = 18 of 20 \(90%, limit 16\).*export.local_memory_kb"):
        write_scripts(small, block_design=True)
    assert any(p.name == BD_SCRIPT for p in write_scripts(small, block_design=True, allow_over_headroom=True))


def test_run_with_the_block_design_runs_it_last(tmp_path, bd_prelude, monkeypatch):
    from .test_export import CSYNTH_XML, FAKE_TOOL, TIMING_MET, UTILIZATION

    build_dir, _ = axilite_build(tmp_path / "b")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("vitis_hls", "vivado"):
        (bin_dir / tool).write_text(FAKE_TOOL.replace("{tclsh}", shutil.which("tclsh"))
                                    .replace("{prelude}", str(bd_prelude)))
        (bin_dir / tool).chmod(0o755)
    timing = tmp_path / "timing.rpt"
    timing.write_text(TIMING_MET)
    log = tmp_path / "tools.log"
    for key, value in {"PATH": str(bin_dir), "TSFLOW_TEST_LOG": str(log), "TSFLOW_TEST_CSYNTH": str(CSYNTH_XML),
                       "TSFLOW_TEST_UTILIZATION": str(UTILIZATION), "TSFLOW_TEST_TIMING": str(timing)}.items():
        monkeypatch.setenv(key, value)
    result = run_scripts(build_dir, block_design=True)
    assert result["commands"][-1] == f"vivado -mode batch -source {SCRIPTS}/{BD_SCRIPT}"
    assert (build_dir / XSA).is_file() and "validate_bd_design" in names(read_log(log))
