"""Vendor scripts (flow/export.py, vivado_scripts/*.in): the generated Tcl is run under tclsh with
every vendor command replaced by a proc that records its name and arguments, on a fake build
folder (no training). The `--run` flow is driven through fake `vitis_hls` / `vitis-run` / `vivado`
executables that run the same Tcl under tclsh and drop real tool reports where the tools write them.
Nothing here shows what the real tools do with these scripts."""
from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from flow.config import ConfigError, dump_config, parse_config
from flow.export import (HLS_SCRIPT, IP_REPO, SCRIPTS, VIVADO_SCRIPT, XDC, ExportError, StepFailed, ToolsMissing,
                         clock_period_ns, export_command, parse_timing_summary, run_scripts, write_scripts)

from .conftest import REPO, SHARED_DATA, real_report

TCLSH = shutil.which("tclsh")  # required: conftest stops the run without it

REPORTS = SHARED_DATA / "reports"
CSYNTH_XML = REPORTS / "vitis_hls_2020.2_xc7z020_top_dfg_csynth.xml"
UTILIZATION = REPORTS / "vivado_2020.1_xc7z020_dnnonsilicon_utilization_synth.rpt"
SEP = "\x1f"
QUERIES = {"current_project", "get_files", "get_ports"}

# Stand-ins for the Vitis HLS / Vivado HLS / Vivado Tcl commands. Each appends one record (name and
# arguments joined by \x1f) to $TSFLOW_TEST_LOG; TSFLOW_TEST_FAIL=<command> makes that command raise
# a Tcl error like a failing tool command; the file-writing commands drop what the tools would write.
PRELUDE = r"""
proc env_or {name default} {
    if {[info exists ::env($name)]} {return $::env($name)}
    return $default
}
proc rec {name arguments} {
    set ch [open $::env(TSFLOW_TEST_LOG) a]
    puts $ch [join [concat [list $name] $arguments] "\x1f"]
    close $ch
}
proc injected {name} {
    if {[env_or TSFLOW_TEST_FAIL ""] eq $name} {
        error "ERROR: \[TEST 0-0\] $name failed (injected by the test)"
    }
}
proc put_file {path source text} {
    file mkdir [file dirname $path]
    if {$source ne ""} {
        file copy -force $source $path
    } else {
        set ch [open $path w]; puts $ch $text; close $ch
    }
}
proc option {arguments name} {
    set i [lsearch -exact $arguments $name]
    if {$i < 0} {return ""}
    return [lindex $arguments [expr {$i + 1}]]
}
foreach cmd {set_top add_files set_part create_clock set_clock_uncertainty cosim_design
             create_project set_property update_ip_catalog create_ip generate_target synth_design
             opt_design place_design route_design} {
    proc $cmd args "rec $cmd \$args; injected $cmd"
}
# a tool before Vitis HLS 2023.1 (TSFLOW_TEST_OLD_HLS) does not know -throughput_driven
proc config_array_partition args {
    if {[env_or TSFLOW_TEST_OLD_HLS ""] ne "" && [lsearch -exact $args -throughput_driven] >= 0} {
        error "ERROR: \[HLS 200-101\] 'config_array_partition': Unknown option '-throughput_driven'."
    }
    rec config_array_partition $args
    injected config_array_partition
}
proc current_project args {rec current_project $args; return project:current}
proc get_files args {rec get_files $args; return file:[join $args]}
proc get_ports args {rec get_ports $args; return port:[join $args]}

set ::prj ""
set ::sol ""
proc open_project args {rec open_project $args; injected open_project; set ::prj [lindex $args end]}
proc open_solution args {
    rec open_solution $args
    injected open_solution
    set names {}
    for {set i 0} {$i < [llength $args]} {incr i} {
        set a [lindex $args $i]
        if {$a eq "-flow_target"} {incr i; continue}
        if {![string match -* $a]} {lappend names $a}
    }
    set ::sol [lindex $names 0]
}
proc csim_design args {
    rec csim_design $args
    set log [file join $::prj $::sol csim report tsflow_model_csim.log]
    switch [env_or TSFLOW_TEST_CSIM pass] {
        pass {put_file $log "" {{"samples": 3, "mismatches": 0, "first_mismatch": -1, "max_abs_diff": 0}}}
        error {
            put_file $log "" "@E Simulation failed: Function 'main' returns nonzero value '1'."
            error "ERROR: \[SIM 211-100\] 'csim_design' failed: nonzero return value."
        }
        log {put_file $log "" {{"samples": 3, "mismatches": 2, "first_mismatch": 0, "max_abs_diff": 0.5}}}
    }
    injected csim_design
}
proc csynth_design args {
    rec csynth_design $args
    injected csynth_design
    put_file [file join $::prj $::sol syn report csynth.xml] [env_or TSFLOW_TEST_CSYNTH ""] "<profile/>"
    if {[env_or TSFLOW_TEST_MODULE ""] ne ""} {  ;# a pipelined loop's module report, as Vitis HLS 2022 names it
        put_file [file join $::prj $::sol syn report hdc_maxi_Pipeline_VITIS_LOOP_15_1_csynth.xml] $::env(TSFLOW_TEST_MODULE) ""
    }
}
proc export_design args {
    rec export_design $args
    injected export_design
    put_file [file join $::prj $::sol impl ip component.xml] "" "<component/>"
}
proc read_xdc args {
    rec read_xdc $args
    injected read_xdc
    uplevel #0 [list source [lindex $args end]]
}
proc report_utilization args {
    rec report_utilization $args; injected report_utilization
    put_file [option $args -file] [env_or TSFLOW_TEST_UTILIZATION ""] "utilization stand-in"
}
proc report_timing_summary args {
    rec report_timing_summary $args; injected report_timing_summary
    put_file [option $args -file] [env_or TSFLOW_TEST_TIMING ""] "timing stand-in"
}
proc report_power args {
    rec report_power $args; injected report_power
    put_file [option $args -file] "" "power stand-in"
}
# as `vivado -source SCRIPT -tclargs ARGS`: the script sees ARGS in argv
set tsflow_test_script [lindex $argv 0]
set argv [lrange $argv 1 end]
set argc [llength $argv]
source $tsflow_test_script
"""

# A stand-in for a vendor executable: finds the Tcl file after -f / --tcl / -source and runs it
# under tclsh with the recording procs.
FAKE_TOOL = """#!/bin/sh
echo "fake ${0##*/} $*"
script=""
while [ $# -gt 0 ]; do
    case "$1" in
        -f|--tcl|-source) script="$2"; shift 2 ;;
        *) shift ;;
    esac
done
exec "{tclsh}" "{prelude}" "$script"
"""

TIMING_COLUMNS = ["WNS(ns)", "TNS(ns)", "TNS Failing Endpoints", "TNS Total Endpoints", "WHS(ns)", "THS(ns)",
                  "THS Failing Endpoints", "THS Total Endpoints", "WPWS(ns)", "TPWS(ns)", "TPWS Failing Endpoints",
                  "TPWS Total Endpoints"]


def timing_report(values: str, verdict: str) -> str:
    """A timing summary written for these tests in the layout of Vivado's report_timing_summary
    (right-aligned columns, dashes under the header, verdict line, clock summary); not a tool output."""
    widths = [max(len(c), 11) for c in TIMING_COLUMNS]

    def line(cells):
        return "    " + "  ".join(c.rjust(w) for c, w in zip(cells, widths))

    bar = "-" * 96
    return "\n".join([
        bar, "| Design Timing Summary", "| ---------------------", bar, "",
        line(TIMING_COLUMNS), line("-" * len(c) for c in TIMING_COLUMNS), line(values.split()), "", "",
        verdict, "", "", bar, "| Clock Summary", "| -------------", bar, "",
        "Clock   Waveform(ns)       Period(ns)      Frequency(MHz)",
        "-----   ------------       ----------      --------------",
        "ap_clk  {0.000 5.000}      10.000          100.000", ""])


TIMING_MET = timing_report("1.234 0.000 0 2000 0.061 0.000 0 2000 4.500 0.000 0 900",
                           "All user specified timing constraints are met.")
TIMING_VIOLATED = timing_report("-0.420 -12.500 37 2000 0.061 0.000 0 2000 4.500 0.000 0 900",
                                "Timing constraints are not met.")
TIMING_NONE = timing_report("inf 0.000 0 0 inf 0.000 0 0 NA NA NA NA",
                            "There are no user specified timing constraints.")


# ------------------------------------------------------------------------------------- fixtures

def make_build(folder: Path, **sections) -> tuple[Path, object]:
    """A build folder with the files `tsflow build` writes that the scripts read (stub contents; plan.json and
    estimate.json planning nothing)."""
    raw = {"name": "fake"}
    raw.update(sections)
    cfg = parse_config(raw)
    fw = folder / "hls" / "firmware"
    (fw / "weights").mkdir(parents=True)
    (fw / "tsflow_model.cpp").write_text('#include "tsflow_model.h"\n')
    (fw / "tsflow_model.h").write_text("// stub\n")
    (folder / "hls" / "tsflow_tb.cpp").write_text('#include "firmware/tsflow_model.h"\nint main() { return 0; }\n')
    (folder / "hls" / "tb_data").mkdir()
    (folder / "hls" / "tb_data" / "inputs.bin").write_bytes(b"\0" * 80)  # 10 windows of 2 int32 inputs
    (folder / "hls" / "tb_data" / "expected.bin").write_bytes(b"\0" * 40)
    (folder / "hls" / "boundaries.json").write_text('{"input": {"per_sample": 2}}')
    (folder / "model").mkdir()
    (folder / "model" / "config.yaml").write_text(dump_config(cfg))
    (folder / "csim.json").write_text('{"bit_exact": true}\n')
    planned(folder)
    return folder, cfg


def planned(build_dir: Path, dsp: int = 0, bram18: int = 0, engine: dict | None = None, loops=()) -> None:
    """plan.json and estimate.json as far as the plan check of --run reads them (flow/verify.py)."""
    (build_dir / "plan.json").write_text(json.dumps({"engine": engine, "loops": list(loops), "layers": {}}))
    (build_dir / "estimate.json").write_text(json.dumps({"total": {"dsp": dsp, "bram18": bram18}, "layers": []}))


@pytest.fixture
def build(tmp_path):
    return make_build(tmp_path / "build")


@pytest.fixture
def prelude(tmp_path):
    path = tmp_path / "prelude.tcl"
    path.write_text(PRELUDE)
    return path


def run_tcl(build_dir: Path, script: Path, prelude: Path, *args: str, **env) -> tuple[subprocess.CompletedProcess, list]:
    log = build_dir.parent / f"record-{script.stem}.log"
    log.unlink(missing_ok=True)
    done = subprocess.run([TCLSH, str(prelude), str(script), *args], cwd=build_dir, capture_output=True, text=True,
                          env={**os.environ, "TSFLOW_TEST_LOG": str(log), **env}, timeout=60)
    return done, read_log(log)


def read_log(log: Path) -> list[list[str]]:
    return [line.split(SEP) for line in log.read_text().splitlines()] if log.exists() else []


def names(records) -> list[str]:
    return [r[0] for r in records if r[0] not in QUERIES]


def only(records, name) -> list[str]:
    found = [r[1:] for r in records if r[0] == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def opt(args, flag):
    return args[args.index(flag) + 1]


def hls_run(build_dir, prelude, **env):
    write_scripts(build_dir)
    return run_tcl(build_dir, build_dir / SCRIPTS / HLS_SCRIPT, prelude, **env)


HLS_STEPS = ["open_project", "set_top", "add_files", "add_files", "add_files", "open_solution", "set_part",
             "create_clock", "set_clock_uncertainty", "config_array_partition", "csim_design", "csynth_design",
             "export_design"]
VIVADO_STEPS = ["create_project", "set_property", "update_ip_catalog", "create_ip", "set_property",
                "generate_target", "read_xdc", "create_clock", "synth_design", "report_utilization",
                "report_timing_summary", "report_power"]


# ----------------------------------------------------------------------------------- HLS script

def test_a_tool_before_vitis_2023_gets_automatic_partitioning_off_by_thresholds(build, prelude):
    done, rec = hls_run(build[0], prelude, TSFLOW_TEST_OLD_HLS="1")
    assert done.returncode == 0, done.stderr
    assert only(rec, "config_array_partition") == ["-auto_partition_threshold", "0", "-auto_promotion_threshold", "0"]
    assert names(rec) == HLS_STEPS  # and the flow goes on


def test_vitis_script_default_config(build, prelude):
    build_dir, cfg = build
    written = write_scripts(build_dir)
    assert [p.name for p in written] == [HLS_SCRIPT, VIVADO_SCRIPT, XDC, "HOWTO.md"]
    for path in written:
        assert "@{" not in path.read_text(), path
    done, rec = run_tcl(build_dir, build_dir / SCRIPTS / HLS_SCRIPT, prelude)
    assert done.returncode == 0, done.stderr
    assert names(rec) == HLS_STEPS
    assert only(rec, "open_project") == ["-reset", "hls_prj"]
    assert only(rec, "set_top") == ["tsflow_model"]
    assert only(rec, "set_part") == ["xc7s15ftgb196-2"]
    clock = only(rec, "create_clock")
    assert float(opt(clock, "-period")) == 10.0 and opt(clock, "-name") == "default"
    assert only(rec, "set_clock_uncertainty") == ["12.5%"]  # target.clock_uncertainty's default, both dialects
    # the tool builds the banks the estimate priced: automatic partitioning off (Vitis HLS 2023.1+ form)
    assert only(rec, "config_array_partition") == ["-throughput_driven", "off", "-complete_threshold", "0"]
    solution = only(rec, "open_solution")
    assert solution[:2] == ["-reset", "solution1"] and opt(solution, "-flow_target") == "vivado"
    adds = [r[1:] for r in rec if r[0] == "add_files"]
    files = [a[-1] if a[-2] != "-cflags" else a[-3] for a in adds]
    assert files == ["hls/firmware/tsflow_model.cpp", "hls/tsflow_tb.cpp", "hls/tb_data"]
    assert [a[0] == "-tb" for a in adds] == [False, True, True]
    for f in files:
        assert (build_dir / f).exists(), f
    # the testbench gets its vectors as argv[1], an absolute path into this build
    assert Path(opt(only(rec, "csim_design"), "-argv")) == (build_dir / "hls" / "tb_data").resolve()
    for a in adds[:2]:
        flags = shlex.split(opt(a, "-cflags"))  # the tools split -cflags into words as a shell does
        assert "-std=c++14" in flags
        includes = [Path(f[2:]) for f in flags if f.startswith("-I")]
        assert build_dir.resolve() / "hls" / "firmware" in includes
        assert all(i.is_dir() for i in includes)
    export = only(rec, "export_design")
    e = cfg.export
    assert opt(export, "-format") == "ip_catalog"
    assert {k: opt(export, "-" + k) for k in ("vendor", "library", "ipname", "version", "description")} == \
        {"vendor": e.vendor, "library": e.library, "ipname": e.ip_name, "version": e.version,
         "description": e.description}
    assert (build_dir / "reports" / "csynth.xml").is_file()
    assert "C simulation is bit-exact" in done.stdout


def test_vivado_hls_dialect(tmp_path, prelude):
    build_dir, _ = make_build(tmp_path / "b", hls={"tool": "vivado"})
    text = write_scripts(build_dir)[0].read_text()
    assert "Vivado HLS" in text and "vivado_hls -f vivado_scripts/tsflow_hls.tcl" in text
    done, rec = run_tcl(build_dir, build_dir / SCRIPTS / HLS_SCRIPT, prelude)
    assert done.returncode == 0, done.stderr
    assert names(rec) == HLS_STEPS
    assert only(rec, "open_solution") == ["-reset", "solution1"]  # no -flow_target before Vitis
    assert all("-std=c++0x" in opt(r[1:], "-cflags") for r in rec if r[0] == "add_files" and "-cflags" in r)


@pytest.mark.parametrize("mhz,period", [(100, 10.0), (125, 8.0), (150, 6.667)])
def test_clock_and_part_reach_every_script(tmp_path, prelude, mhz, period):
    build_dir, _ = make_build(tmp_path / "b", target={"part": "xc7a35tcpg236-1", "clock_mhz": mhz})
    assert float(clock_period_ns(mhz)) == period
    done, rec = hls_run(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    assert float(opt(only(rec, "create_clock"), "-period")) == period
    assert only(rec, "set_part") == ["xc7a35tcpg236-1"]
    done, rec = run_tcl(build_dir, build_dir / SCRIPTS / VIVADO_SCRIPT, prelude)
    assert done.returncode == 0, done.stderr
    assert opt(only(rec, "create_project"), "-part") == "xc7a35tcpg236-1"
    assert opt(only(rec, "synth_design"), "-part") == "xc7a35tcpg236-1"
    clock = only(rec, "create_clock")
    assert float(opt(clock, "-period")) == period and opt(clock, "-name") == "ap_clk"
    assert clock[-1] == "port:ap_clk" and only(rec, "get_ports") == ["ap_clk"]


def test_cosim_only_when_asked(tmp_path, prelude):
    build_dir, _ = make_build(tmp_path / "b", export={"cosim": True})
    done, rec = hls_run(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    steps = names(rec)
    assert steps == HLS_STEPS[:-1] + ["cosim_design", "export_design"]
    # the first export.cosim_windows (default 16; the stub vectors hold 10) test windows, no trace, through
    # the same testbench
    tb_data, trace, first, count = shlex.split(opt(only(rec, "cosim_design"), "-argv"))
    assert Path(tb_data) == (build_dir / "hls" / "tb_data").resolve() and (trace, first, count) == ("-", "0", "10")


@pytest.mark.parametrize("asked, windows", [(4, 4), (100_000, 10)])  # the stub vectors hold 10 windows
def test_cosim_runs_the_asked_windows_at_most_the_test_split(tmp_path, prelude, asked, windows):
    build_dir, _ = make_build(tmp_path / "b", export={"cosim": True, "cosim_windows": asked},
                              target={"clock_uncertainty": 27})
    done, rec = hls_run(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    assert opt(only(rec, "cosim_design"), "-argv").split()[3] == str(windows)
    assert only(rec, "set_clock_uncertainty") == ["27%"]


def test_ip_metadata_is_passed_verbatim(tmp_path, prelude):
    export = {"vendor": "acme.labs", "library": "forecast", "ip_name": "temp_tf", "version": "2.3",
              "description": 'Forecaster "v2" [8 bit] costs $0 {really} back\\slash'}
    build_dir, _ = make_build(tmp_path / "b", export=export)
    done, rec = hls_run(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    args = only(rec, "export_design")
    assert {k: opt(args, "-" + k) for k in ("vendor", "library", "ipname", "version", "description")} == \
        {"vendor": "acme.labs", "library": "forecast", "ipname": "temp_tf", "version": "2.3",
         "description": export["description"]}
    done, rec = run_tcl(build_dir, build_dir / SCRIPTS / VIVADO_SCRIPT, prelude)
    assert done.returncode == 0, done.stderr
    ip = only(rec, "create_ip")
    assert opt(ip, "-vlnv") == "acme.labs:forecast:temp_tf:2.3" and opt(ip, "-module_name") == "temp_tf_0"
    assert opt(only(rec, "synth_design"), "-top") == "temp_tf_0"


@pytest.mark.parametrize("failing", ["open_project", "add_files", "csynth_design", "export_design"])
def test_failing_hls_step_stops_the_script(build, prelude, failing):
    build_dir, _ = build
    done, rec = hls_run(build_dir, prelude, TSFLOW_TEST_FAIL=failing)
    assert done.returncode == 1
    steps = names(rec)
    assert steps[-1] == failing and steps == HLS_STEPS[:HLS_STEPS.index(failing) + steps.count(failing)]
    assert f"step {failing} failed" in done.stderr and "injected by the test" in done.stderr


@pytest.mark.parametrize("mode", ["error", "log"])
def test_failing_testbench_stops_before_synthesis(build, prelude, mode):
    """error: csim_design raises, as the tools do when main() returns non-zero; log: csim_design
    returns but the testbench's summary line in the C simulation log counts mismatches."""
    build_dir, _ = build
    done, rec = hls_run(build_dir, prelude, TSFLOW_TEST_CSIM=mode)
    assert done.returncode == 1
    assert names(rec)[-1] == "csim_design" and "csynth_design" not in names(rec)
    assert ("nonzero return value" if mode == "error" else "2 test windows differ") in done.stderr


def test_a_build_folder_path_with_spaces_is_one_word_in_cflags_and_argv(tmp_path, prelude):
    """b58: the absolute paths the HLS script passes in -cflags (-I) and -argv (the test vectors) are split into
    words by the tools, as a shell splits them: a path with spaces is passed as one quoted word. A path without
    white space is passed as it is (checked by test_vitis_script_default_config)."""
    build_dir, _ = make_build(tmp_path / "runs" / "ü b57", export={"cosim": True})
    done, rec = hls_run(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    firmware, hls = (build_dir / "hls" / "firmware").resolve(), (build_dir / "hls").resolve()
    adds = [r[1:] for r in rec if r[0] == "add_files" and "-cflags" in r]
    assert [shlex.split(opt(a, "-cflags")) for a in adds] == [["-std=c++14", f"-I{firmware}"],
                                                             ["-std=c++14", f"-I{hls}", f"-I{firmware}"]]
    assert shlex.split(opt(only(rec, "csim_design"), "-argv")) == [str(hls / "tb_data")]
    assert shlex.split(opt(only(rec, "cosim_design"), "-argv")) == [str(hls / "tb_data"), "-", "0", "10"]


def test_a_build_folder_path_a_shell_word_cannot_hold_stops_the_script(tmp_path, prelude):
    build_dir, _ = make_build(tmp_path / 'say "hi"')
    done, rec = hls_run(build_dir, prelude)
    assert done.returncode == 1 and rec == []
    assert "holds a quote, backslash" in done.stderr and "move the build folder" in done.stderr


def test_a_tool_whose_interpreter_is_missing_is_named_with_its_interpreter(build, tmp_path, monkeypatch):
    """b25: a tool on PATH whose #! interpreter does not exist: the OS says 'No such file or directory' of the
    tool itself, which exists; the error names the interpreter."""
    build_dir, _ = build
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("vitis_hls", "vivado"):
        (bin_dir / tool).write_text("#!/nonexistent/interp -x\nexit 0\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(StepFailed) as info:
        run_scripts(build_dir)
    message = str(info.value)
    assert message.startswith(f"step hls: cannot start {bin_dir / 'vitis_hls'}: it exists, but its interpreter "
                              f"/nonexistent/interp (its first line: #!/nonexistent/interp -x) does not"), message
    assert "Errno" not in message


def test_script_refuses_to_run_outside_the_build_folder(build, prelude, tmp_path):
    build_dir, _ = build
    write_scripts(build_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done, rec = run_tcl(elsewhere, build_dir / SCRIPTS / HLS_SCRIPT, prelude)
    assert done.returncode == 1 and rec == []
    assert "run this script from the build folder" in done.stderr
    done, rec = run_tcl(elsewhere, build_dir / SCRIPTS / VIVADO_SCRIPT, prelude)
    assert done.returncode == 1 and rec == []


# -------------------------------------------------------------------------------- Vivado script

def vivado_ready(build_dir, prelude):
    done, _ = hls_run(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    return run_tcl(build_dir, build_dir / SCRIPTS / VIVADO_SCRIPT, prelude)


def test_vivado_script_synthesis_only(build, prelude):
    build_dir, cfg = build
    done, rec = vivado_ready(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    assert names(rec) == VIVADO_STEPS
    assert only(rec, "create_project") == ["-in_memory", "-part", "xc7s15ftgb196-2"]
    repo_prop = [r[1:] for r in rec if r[0] == "set_property"]
    assert repo_prop[0][0] == "ip_repo_paths" and repo_prop[0][-1] == "project:current"
    repo = Path(repo_prop[0][1])
    assert repo == (build_dir / IP_REPO).resolve() and (repo / "component.xml").is_file()
    assert repo_prop[1] == ["generate_synth_checkpoint", "false", "file:tsflow_forecaster_0.xci"]
    assert only(rec, "create_ip")[:4] == ["-vlnv", "tsflow:hls:tsflow_forecaster:1.0", "-module_name",
                                          "tsflow_forecaster_0"]
    assert only(rec, "generate_target") == ["all", "file:tsflow_forecaster_0.xci"]
    assert only(rec, "read_xdc") == [f"vivado_scripts/{XDC}"]
    assert only(rec, "synth_design") == ["-top", "tsflow_forecaster_0", "-part", "xc7s15ftgb196-2",
                                         "-mode", "out_of_context"]
    assert opt(only(rec, "report_utilization"), "-file") == "reports/vivado_synth_utilization.rpt"
    assert opt(only(rec, "report_timing_summary"), "-file") == "reports/vivado_synth_timing_summary.rpt"
    assert opt(only(rec, "report_power"), "-file") == "reports/vivado_power.rpt"
    assert not {"opt_design", "place_design", "route_design"} & set(names(rec))


def test_vivado_script_with_implementation(tmp_path, prelude):
    build_dir, _ = make_build(tmp_path / "b", export={"implementation": True})
    done, rec = vivado_ready(build_dir, prelude)
    assert done.returncode == 0, done.stderr
    synth = VIVADO_STEPS[:-1]
    assert names(rec) == synth + ["opt_design", "place_design", "route_design", "report_utilization",
                                  "report_timing_summary", "report_power"]
    files = [opt(r[1:], "-file") for r in rec if r[0].startswith("report_")]
    assert files == ["reports/vivado_synth_utilization.rpt", "reports/vivado_synth_timing_summary.rpt",
                     "reports/vivado_impl_utilization.rpt", "reports/vivado_impl_timing_summary.rpt",
                     "reports/vivado_power.rpt"]


@pytest.mark.parametrize("failing", ["update_ip_catalog", "create_ip", "synth_design", "route_design"])
def test_failing_vivado_step_stops_the_script(tmp_path, prelude, failing):
    build_dir, _ = make_build(tmp_path / "b", export={"implementation": True})
    done, _ = hls_run(build_dir, prelude)
    done, rec = run_tcl(build_dir, build_dir / SCRIPTS / VIVADO_SCRIPT, prelude, TSFLOW_TEST_FAIL=failing)
    assert done.returncode == 1 and names(rec)[-1] == failing
    assert f"step {failing} failed" in done.stderr


def test_vivado_script_needs_the_exported_ip(build, prelude):
    build_dir, _ = build
    write_scripts(build_dir)
    done, rec = run_tcl(build_dir, build_dir / SCRIPTS / VIVADO_SCRIPT, prelude)
    assert done.returncode == 1 and rec == [] and "run the HLS script first" in done.stderr


# ------------------------------------------------------------------------------- writing scripts

def test_write_scripts_refuses_to_overwrite(build):
    build_dir, cfg = build
    first = write_scripts(build_dir)
    assert write_scripts(build_dir) == first  # identical content: nothing to overwrite
    (build_dir / SCRIPTS / HLS_SCRIPT).write_text("# edited by hand\n")
    with pytest.raises(ExportError, match="tsflow_hls.tcl already exists .* --force"):
        write_scripts(build_dir)
    other = cfg.model_copy(update={"target": cfg.target.model_copy(update={"clock_mhz": 50.0})})
    write_scripts(build_dir, other, force=True)
    assert "set tsflow_period   20.000" in (build_dir / SCRIPTS / HLS_SCRIPT).read_text()


def test_howto_names_the_commands(build):
    build_dir, _ = build
    howto = write_scripts(build_dir)[-1].read_text()
    for command in ("vitis_hls -f vivado_scripts/tsflow_hls.tcl",
                    "vitis-run --mode hls --tcl vivado_scripts/tsflow_hls.tcl",
                    "vivado -mode batch -source vivado_scripts/tsflow_vivado.tcl", "tsflow export . --run"):
        assert command in howto
    assert "build folder" in howto and "xc7s15ftgb196-2" in howto and "tsflow:hls:tsflow_forecaster:1.0" in howto


def test_part_must_be_a_part_name(tmp_path):
    """The part string reaches Tcl, so only real parts pass (checked when the config is read)."""
    build_dir, _ = make_build(tmp_path / "b")
    config = build_dir / "model" / "config.yaml"
    config.write_text(config.read_text().replace("xc7s15ftgb196-2", "'xc7s15 ftgb196-2; exit 0'"))
    with pytest.raises(ConfigError, match="target.part"):
        write_scripts(build_dir)


def test_not_a_build_folder(tmp_path):
    with pytest.raises(ExportError, match="not a build folder"):
        write_scripts(tmp_path)
    (tmp_path / "hls").mkdir()
    with pytest.raises(ExportError, match="model/config.yaml missing"):
        write_scripts(tmp_path)


# ------------------------------------------------------------------------------ timing summary

def test_the_export_stage_and_the_backend_do_not_import_the_api():
    """flow.api imports both, so they call the export stage's own functions: dependencies point one way."""
    for path in (REPO / "flow" / "export" / "__init__.py", REPO / "flow" / "hls" / "backend.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module or ''}.{a.name}" for a in node.names)]
            else:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            assert not any(name.split(".")[-1] == "api" for name in names), (path, node.lineno)


def test_parse_timing_summary(tmp_path):
    path = tmp_path / "t.rpt"
    path.write_text(TIMING_MET)
    t = parse_timing_summary(path)
    assert (t["wns_ns"], t["tns_ns"], t["whs_ns"], t["tns_total_endpoints"], t["met"]) == \
        (1.234, 0.0, 0.061, 2000, True)
    assert t["clocks"] == {"ap_clk": 10.0}
    path.write_text(TIMING_VIOLATED)
    t = parse_timing_summary(path)
    assert (t["wns_ns"], t["tns_ns"], t["tns_failing_endpoints"], t["met"]) == (-0.42, -12.5, 37, False)
    path.write_text(TIMING_NONE)
    t = parse_timing_summary(path)
    assert t["wns_ns"] is None and t["met"] is None
    path.write_text("not a report\n")
    with pytest.raises(ExportError, match="not a Vivado timing summary"):
        parse_timing_summary(path)


# ------------------------------------------------------------------- --run with fake executables

@pytest.fixture
def fake_tools(tmp_path, prelude, monkeypatch):
    """A PATH holding only fake vendor tools (and nothing else): returns a function adding them."""
    if not (CSYNTH_XML.is_file() and UTILIZATION.is_file()):
        pytest.skip(f"real tool reports not found in {REPORTS}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    timing = tmp_path / "timing.rpt"
    timing.write_text(TIMING_MET)
    log = tmp_path / "record-tools.log"
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("TSFLOW_TEST_LOG", str(log))
    monkeypatch.setenv("TSFLOW_TEST_CSYNTH", str(CSYNTH_XML))
    monkeypatch.setenv("TSFLOW_TEST_UTILIZATION", str(UTILIZATION))
    monkeypatch.setenv("TSFLOW_TEST_TIMING", str(timing))

    def add(*tools):
        for tool in tools:
            path = bin_dir / tool
            path.write_text(FAKE_TOOL.replace("{tclsh}", TCLSH).replace("{prelude}", str(prelude)))
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return log

    return add


def test_run_writes_synthesis_json(build, fake_tools):
    build_dir, cfg = build
    log = fake_tools("vitis_hls", "vivado")
    result = run_scripts(build_dir)
    assert json.loads((build_dir / "synthesis.json").read_text()) == result
    steps = names(read_log(log))
    assert steps == HLS_STEPS + VIVADO_STEPS
    assert result["commands"] == ["vitis_hls -f vivado_scripts/tsflow_hls.tcl",
                                  "vivado -mode batch -source vivado_scripts/tsflow_vivado.tcl"]
    s = result["summary"]
    # read by eye from the reports (as tests/test_reports.py has them): top_dfg's csynth.xml,
    # Best-/Worst-caseLatency 6, Interval-min/max 7, LUT 323, FF 497, BRAM_18K 0, DSP 0
    assert (s["latency_min_cycles"], s["latency_max_cycles"], s["interval_min"], s["interval_max"]) == (6, 6, 7, 7)
    assert (s["hls_lut"], s["hls_ff"], s["hls_bram18"], s["hls_dsp"]) == (323, 497, 0, 0)
    # the utilization report: Slice LUTs 358266, LUT as Memory 9527, Slice Registers 308427, RAMB18 280, DSPs 220
    assert (s["lut"], s["lutram"], s["ff"], s["bram18"], s["dsp"]) == (358_266, 9_527, 308_427, 280, 220)
    assert (s["wns_ns"], s["timing_met"]) == (1.234, True)
    assert result["vivado_stage"] == "synth" and result["ip"] == "tsflow:hls:tsflow_forecaster:1.0"
    # the reports come from other designs and parts: the run says so
    assert any("xc7z020" in w and "xc7s15ftgb196-2" in w for w in result["warnings"])
    assert any("top top_dfg" in w for w in result["warnings"])
    assert (build_dir / "logs" / "hls.log").read_text().startswith("fake vitis_hls -f vivado_scripts/tsflow_hls.tcl")


def test_synthesis_json_sets_the_tools_loops_beside_the_estimates_layers(build, fake_tools, monkeypatch):
    """The loops of csynth.xml and of every module's report (a real Vitis HLS 2022.1 report of a pipelined
    loop's module, dropped beside csynth.xml): in synthesis.json with their module, next to each layer
    the build's estimate priced, and paired with the one layer whose loop has their trip count."""
    build_dir, _ = build
    module = REPORTS / "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml"
    monkeypatch.setenv("TSFLOW_TEST_MODULE", str(module))
    estimate = {"total": {"dsp": 0, "bram18": 0},
                "layers": [{"name": "engine", "cycles": 0, "what": "lanes", "loops": []},
                           {"name": "embed", "cycles": 1011, "what": "1000 outputs", "loops": [1000]},
                           {"name": "enc0.q", "cycles": 394, "what": "384 outputs", "loops": [384]},
                           {"name": "enc0.k", "cycles": 394, "what": "384 outputs", "loops": [384]}]}
    (build_dir / "estimate.json").write_text(json.dumps(estimate))
    fake_tools("vitis_hls", "vivado")
    loops = run_scripts(build_dir)["loops"]
    assert (build_dir / "reports" / "modules" / "hdc_maxi_Pipeline_VITIS_LOOP_15_1_csynth.xml").is_file()
    assert loops["tool"] == [{"name": "VITIS_LOOP_15_1", "trip_min": 1000, "trip_max": 1000, "latency_min": 1000,
                              "latency_max": 1000, "ii": 1, "depth": 1,
                              "module": "hdc_maxi_Pipeline_VITIS_LOOP_15_1"}]
    assert [e["layer"] for e in loops["estimate"]] == ["embed", "enc0.q", "enc0.k"]  # the layers with cycles
    embed, q, k = loops["matched"]
    assert embed == {"layer": "embed", "cycles": 1011, "trips": [1000],
                     "loops": ["hdc_maxi_Pipeline_VITIS_LOOP_15_1/VITIS_LOOP_15_1"], "latency": 1000, "ii": [1],
                     "ratio": round(1000 / 1011, 4)}
    assert q["loops"] is None and k["loops"] is None  # no report loop of 384 trips


def test_run_with_vitis_run_and_implementation(tmp_path, fake_tools):
    build_dir, _ = make_build(tmp_path / "b", export={"implementation": True})
    log = fake_tools("vitis-run", "vivado")
    result = run_scripts(build_dir)
    assert result["commands"][0] == "vitis-run --mode hls --tcl vivado_scripts/tsflow_hls.tcl"
    assert result["vivado_stage"] == "impl" and result["vivado"]["utilization_report"].endswith("impl_utilization.rpt")
    assert "route_design" in names(read_log(log))


def test_run_stops_at_the_first_failing_step(build, fake_tools, monkeypatch):
    build_dir, _ = build
    log = fake_tools("vitis_hls", "vivado")
    (build_dir / "synthesis.json").write_text("{}")  # from an earlier run: must not survive
    monkeypatch.setenv("TSFLOW_TEST_FAIL", "csynth_design")
    with pytest.raises(StepFailed) as info:
        run_scripts(build_dir)
    assert info.value.step == "hls" and "exit code 1" in str(info.value)
    assert "step csynth_design failed" in str(info.value)  # the tail of the log
    assert "create_project" not in names(read_log(log))  # Vivado never ran
    assert not (build_dir / "synthesis.json").exists()


def test_run_checks_the_step_outputs(build, fake_tools, monkeypatch):
    build_dir, _ = build
    fake_tools("vitis_hls", "vivado")
    monkeypatch.setenv("TSFLOW_TEST_FAIL", "report_timing_summary")
    with pytest.raises(StepFailed, match="step vivado"):
        run_scripts(build_dir)


def test_run_without_tools(build, tmp_path, monkeypatch):
    build_dir, _ = build
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolsMissing) as info:
        run_scripts(build_dir)
    message = str(info.value)
    assert "vitis_hls or vitis-run and vivado not on PATH" in message
    assert "vitis_hls -f vivado_scripts/tsflow_hls.tcl" in message
    assert "vivado -mode batch -source vivado_scripts/tsflow_vivado.tcl" in message
    assert f"cd {build_dir.resolve()}" in message
    assert (build_dir / SCRIPTS / HLS_SCRIPT).is_file()  # the scripts are written all the same


def _on_path(folder: Path, *programs: str) -> str:
    """A PATH of one folder holding stand-ins named ``programs`` (never run: only found)."""
    folder.mkdir()
    for name in programs:
        (folder / name).write_text("#!/bin/sh\nexit 1\n")
        (folder / name).chmod(0o755)
    return str(folder)


@pytest.mark.parametrize("tool, present, other", [("vivado", "vitis_hls", "vitis"), ("vitis", "vivado_hls", "vivado")])
def test_the_missing_hls_tool_names_the_other_one_on_path_and_how_to_use_it(tmp_path, monkeypatch, tool, present,
                                                                            other):
    """b85: a build with hls.tool: vivado where only vitis_hls (Vivado HLS is no longer installed anew) and
    vivado are on PATH: the error named vivado_hls only; it says vitis_hls runs a build with hls.tool: vitis
    and how to make one from this model."""
    build_dir, _ = make_build(tmp_path / "b85", hls={"tool": tool})
    monkeypatch.setenv("PATH", _on_path(tmp_path / "bin", present, "vivado"))
    with pytest.raises(ToolsMissing) as info:
        run_scripts(build_dir)
    [missing, *_, hint] = str(info.value).splitlines()
    wanted = "vivado_hls" if tool == "vivado" else "vitis_hls or vitis-run"
    assert missing.startswith(f"cannot run the vendor scripts: {wanted} not on PATH")
    assert hint == (f"{present} is on PATH: it runs the scripts of a build with hls.tool: {other} (this one has "
                    f"hls.tool: {tool}); to use it, set hls.tool: {other} in the configuration and build again from "
                    f"this model: 'tsflow build CONFIG --out NEW --trained {build_dir.resolve()}', then 'tsflow "
                    f"export NEW --run'")
    monkeypatch.setenv("PATH", _on_path(tmp_path / "bin2", "vivado"))  # neither HLS tool: nothing to suggest
    with pytest.raises(ToolsMissing) as info:
        run_scripts(build_dir)
    assert "is on PATH" not in str(info.value)


# ------------------------------------------------------------------------------- the command

def test_command_without_tools(build, tmp_path, monkeypatch):
    build_dir, _ = build
    monkeypatch.setenv("PATH", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(export_command, [str(build_dir)])
    assert result.exit_code == 0, result.output
    assert "vitis_hls -f vivado_scripts/tsflow_hls.tcl" in result.output
    assert "vivado -mode batch -source vivado_scripts/tsflow_vivado.tcl" in result.output
    assert "not on PATH: vitis_hls or vitis-run, vivado" in result.output
    planned(build_dir)
    result = runner.invoke(export_command, [str(build_dir), "--run"])
    assert result.exit_code == 2
    assert "error: cannot run the vendor scripts: vitis_hls or vitis-run and vivado not on PATH" in result.output
    assert "vitis_hls -f vivado_scripts/tsflow_hls.tcl" in result.output
    assert "Traceback" not in result.output


def test_command_user_errors(build, tmp_path):
    build_dir, _ = build
    runner = CliRunner()
    result = runner.invoke(export_command, [str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
    runner.invoke(export_command, [str(build_dir)])
    (build_dir / SCRIPTS / XDC).write_text("create_clock -period 1 [get_ports ap_clk]\n")
    result = runner.invoke(export_command, [str(build_dir)])
    assert result.exit_code == 2 and "--force" in result.output
    result = runner.invoke(export_command, [str(build_dir), "--force"])
    assert result.exit_code == 0
    assert "-period 10.000" in (build_dir / SCRIPTS / XDC).read_text()


@pytest.mark.parametrize("args", [[], ["--run"]], ids=["plain", "run"])
def test_a_build_without_its_plan_gets_no_scripts(build, tmp_path, monkeypatch, args):
    """Tour 6 b95: plain export wrote scripts for a build whose plan.json was deleted (csim, verify and --run
    refuse it); now every export checks the plan before it writes anything, and no tool is started."""
    build_dir, _ = build
    (build_dir / "plan.json").unlink()
    bin_dir, log = tmp_path / "bin", tmp_path / "started.log"
    bin_dir.mkdir()
    for tool in ("vitis_hls", "vivado"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho {tool} >> {log}\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    result = CliRunner().invoke(export_command, [str(build_dir), *args])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (f"error: {build_dir} is an incomplete build folder (missing: plan.json); run "
                                     f"'tsflow build' again (--force replaces this folder)")
    assert not (build_dir / SCRIPTS).exists() and not log.exists()


def test_command_run_with_fake_tools(build, fake_tools, monkeypatch):
    build_dir, _ = build
    planned(build_dir)  # top_dfg's csynth.xml: <DSP> 0, <BRAM_18K> 0; nothing else planned
    fake_tools("vitis_hls", "vivado")
    runner = CliRunner()
    result = runner.invoke(export_command, [str(build_dir), "--run"])
    assert result.exit_code == 0, result.output
    assert "WNS 1.234 ns" in result.output and "synthesis.json" in result.output
    assert result.output.rstrip().endswith("C synthesis matches the plan: 2 checks, no difference")
    monkeypatch.setenv("TSFLOW_TEST_CSIM", "error")
    result = runner.invoke(export_command, [str(build_dir), "--run"])
    assert result.exit_code == 1
    assert "step hls" in result.output and "nonzero return value" in result.output
    assert "Traceback" not in result.output


def test_command_run_calibrates_the_estimator_from_its_reports(tmp_path, fake_tools, monkeypatch):
    """With reports of the configured part, --run feeds them to calibration (DIR/calibration.json)."""
    from flow.calibration import load_calibration
    from flow.estimate import estimate

    # xc7z020-clg400-1, as UTILIZATION; its top renamed to this design's (hls4ml's myproject_axi is another
    # design's, even beside export.ip_name: myproject, tour 8 b80)
    csynth = tmp_path / "csynth.xml"
    text = (REPORTS / "vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml").read_text()
    csynth.write_text(text.replace("<TopModelName>myproject_axi</TopModelName>", "<TopModelName>tsflow_model</TopModelName>"))
    monkeypatch.setenv("TSFLOW_TEST_CSYNTH", str(csynth))
    # calibration refuses another design's reports: the IP named after the utilization's Vivado design (myproject)
    build_dir, cfg = make_build(tmp_path / "b", target={"part": "xc7z020clg400-1"}, export={"ip_name": "myproject"})
    planned(build_dir, dsp=118, bram18=289)  # the report's <DSP48E> and <BRAM_18K>
    fake_tools("vitis_hls", "vivado")
    result = CliRunner().invoke(export_command, [str(build_dir), "--run"])
    assert result.exit_code == 0, result.output
    cal = load_calibration(build_dir / "calibration.json", cfg.target.part)
    est = estimate(cfg, calibration=cal)
    # read by eye: the utilization report's Slice LUTs 358266, Slice Registers 308427, DSPs 220; the autoencoder
    # csynth.xml's Worst-caseLatency 96170
    assert [est.total[r] for r in ("lut", "ff", "dsp")] == pytest.approx([358_266, 308_427, 220], abs=1)
    assert est.latency_cycles == pytest.approx(96_170, abs=1)


ENGINE = {"function": "tsflow_engine", "call_sites": 1, "lanes": 16, "dsp": 16, "a_width": 9, "b_width": 8,
          "mapping": "dsp", "users": ["embed"]}


def test_command_run_fails_with_the_table_when_synthesis_differs_from_the_plan(build, fake_tools, monkeypatch):
    """The reports of --run (top_dfg's csynth.xml: a TopModule without instances; the hdc_maxi module report
    in reports/modules/: VITIS_LOOP_15_1, TripCount 1000, PipelineII 1) against a plan with an engine and
    that loop at II 2: exit 1 after synthesis.json is written, the table and the error naming each difference."""
    build_dir, _ = build
    monkeypatch.setenv("TSFLOW_TEST_MODULE", str(REPORTS / "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml"))
    loop = {"function": "hdc_maxi", "label": "VITIS_LOOP_15_1", "trips": {"min": 1000, "max": 1000}, "ii": 2}
    planned(build_dir, engine=ENGINE, loops=[loop])
    fake_tools("vitis_hls", "vivado")
    result = CliRunner().invoke(export_command, [str(build_dir), "--run"])
    assert result.exit_code == 1, result.output
    assert (build_dir / "synthesis.json").is_file() and "Traceback" not in result.output
    assert result.output.rstrip().splitlines()[-1] == (
        "error: C synthesis differs from the plan in 3 of 6 checks: instances of tsflow_engine, "
        "DSP of each tsflow_engine instance, hdc_maxi/VITIS_LOOP_15_1: II")
    assert "1 (hdc_maxi_Pipeline_VITIS_LOOP_15_1)" in result.output and "DIFFERS" in result.output
    planned(build_dir, loops=[{**loop, "ii": 1}])
    result = CliRunner().invoke(export_command, [str(build_dir), "--run"])
    assert result.exit_code == 0, result.output
    assert "C synthesis matches the plan: 4 checks, no difference" in result.output


def test_command_run_refuses_a_plan_it_cannot_read_before_any_tool_runs(build, fake_tools):
    build_dir, _ = build
    (build_dir / "plan.json").write_text(json.dumps({"engine": {"lanes": 16, "dsp": 16}, "loops": {"embed": {}}}))
    (build_dir / "estimate.json").write_text(json.dumps({"total": {"dsp": 16, "bram18": 1}}))
    log = fake_tools("vitis_hls", "vivado")
    result = CliRunner().invoke(export_command, [str(build_dir), "--run"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "plan.json has no engine.function" in result.output and "'tsflow build' again" in result.output
    assert not log.exists() and not (build_dir / "logs").exists()


def test_registered_as_tsflow_export(build, tmp_path, monkeypatch):
    from flow.cli import cli

    build_dir, _ = build
    planned(build_dir)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["export", str(build_dir), "--run"])
    assert result.exit_code != 0 and "vivado -mode batch -source vivado_scripts/tsflow_vivado.tcl" in result.output


@pytest.mark.parametrize("csim", [None, '{"bit_exact": false, "mismatches": 5}', "garbage"],
                         ids=["csim-missing", "not-bit-exact", "csim-unreadable"])
def test_a_project_the_c_simulation_did_not_prove_is_not_exported(tmp_path, csim):
    folder, _ = make_build(tmp_path / "build")
    if csim is None:
        (folder / "csim.json").unlink()
    else:
        (folder / "csim.json").write_text(csim)
    with pytest.raises(ExportError) as exc:
        write_scripts(folder)
    assert "csim.json does not record a bit-exact C simulation of this project" in str(exc.value)
    assert not (folder / SCRIPTS).exists()


# ------------------------------------------------------------------------ calibration from another design's report

def forged_report(folder: Path, latency: int = 6) -> Path:
    """The real Vitis HLS 2020.2 top_dfg csynth.xml with its top renamed tsflow_model and its part the XC7S15's
    (what a report of another tsflow build looks like to the top and part checks), its latency ``latency``."""
    original = real_report(CSYNTH_XML.name)  # shared test data beside the repository: skips saying so where absent
    text = original.read_text().replace("top_dfg", "tsflow_model").replace("xc7z020-clg484-1", "xc7s15ftgb196-2")
    text = text.replace("<Worst-caseLatency>6</Worst-caseLatency>", f"<Worst-caseLatency>{latency}</Worst-caseLatency>")
    path = folder / "forged.xml"
    path.write_text(text)
    return path


def test_a_report_faster_than_the_dsp_bound_does_not_calibrate(tmp_path):
    """b110: 6 cycles for a tiny design's 5,192 MACs on 20 DSPs (DSP bound 260 cycles) is no synthesis of it;
    the calibration made the build print 'latency 6 cycles, 0.02x the bound'."""
    from flow.calibration import fit
    from flow.estimate import estimate

    from .conftest import TINY

    cfg = parse_config(TINY)
    assert (estimate(cfg).macs, estimate(cfg).dsp_bound_cycles) == (5_192, 260)
    with pytest.raises(ConfigError, match=r"forged.xml: the report gives a latency of 6 cycles, below this design's "
                                          r"DSP bound of 260 cycles .*the reports are not of it"):
        fit(cfg, [forged_report(tmp_path)])
    cal = fit(cfg, [forged_report(tmp_path, latency=1000)])  # above the bound: fitted, the odd factors said
    assert cal["dsp_bound_cycles"] == 260
    factor = 323 / estimate(cfg).uncalibrated["lut"]  # the report's 323 LUT over this design's estimate
    assert factor < 0.1
    assert any(w.startswith(f"the lut factor is {factor:.3g}") and "forged.xml" in w and "outside 0.1..10" in w
               for w in cal["warnings"]), cal["warnings"]


@pytest.mark.parametrize("extra, expect", [
    ({}, "its latency factor is 0.0058 (6 cycles from misc/forged.xml, 1,035 estimated), a latency 172 times below "
         "the estimate's: not plausible"),  # a file of an earlier tsflow: no bound recorded
    ({"dsp_bound_cycles": 366}, "its latency, 6 cycles from misc/forged.xml, is below the design's DSP bound of 366 "
                                "cycles: no synthesis of this design is that fast"),
], ids=["factor", "bound"])
def test_a_calibration_that_makes_the_latency_absurd_is_refused_when_applied(tmp_path, extra, expect):
    from flow.calibration import load_calibration

    path = tmp_path / "b43.json"
    path.write_text(json.dumps({"part": "xc7s15ftgb196-2", "config": "tiny", "factors": {"latency": 6 / 1035},
                                "estimated": {"latency": 1035}, "measured": {"latency": 6},
                                "sources": {"latency": ["misc/forged.xml"]}, **extra}))
    with pytest.raises(ConfigError) as caught:
        load_calibration(path, "xc7s15ftgb196-2")
    assert str(caught.value).startswith(f"--calibration {path}: {expect}"), caught.value
    assert "run 'tsflow calibrate' with this design's reports" in str(caught.value)
