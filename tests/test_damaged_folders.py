"""Build folders a user has damaged or misused, and reports of other designs, as the commands meet them:
``tsflow csim / export / verify / calibrate`` run as real processes on copies of one tiny build (and one
tiny s_axilite build), asserting the one ``error:`` line (exit 2, no traceback), or the note, and what
is on disk afterwards."""
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from .conftest import CLI_ENV, REPORTS, TINY
from .test_cli_e2e import error_lines, tsflow

AUTOENCODER = REPORTS / "vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml"
needs_reports = pytest.mark.skipif(not AUTOENCODER.is_file(),
                                   reason="real tool reports live in ../shared/data/reports (absent here)")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """``tsflow build`` of TINY (b0) and of TINY with hls.interface: s_axilite (axi), once for the module."""
    cwd = tmp_path_factory.mktemp("damaged")
    (cwd / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    (cwd / "axi.yaml").write_text(yaml.safe_dump({**TINY, "name": "axi", "hls": {"interface": "s_axilite"}}))
    for config, out in (("tiny.yaml", "b0"), ("axi.yaml", "axi")):
        done = tsflow(cwd, "build", config, "--out", out)
        assert done.returncode == 0, done.stderr
    return cwd


def copy_of(builds, name="b0", to="copy"):
    dst = builds / to
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(builds / name, dst, symlinks=True)
    return dst


@pytest.mark.parametrize("damaged, content, why", [
    ("plan.json", '{"junk": ', "Expecting value"),
    ("estimate.json", "garbage", "Expecting value"),
    ("estimate.json", "{}", "it has no layers"),
    ("build.json", "", "Expecting value"),
    ("model/metrics.json", "{}", "it has no test/rmse"),
    ("estimate.json", "[1, 2]", "it holds a JSON list, not an object"),
    ("hls/boundaries.json", '{"input":\n', "Expecting value"),
], ids=["plan-truncated", "estimate-garbage", "estimate-empty-object", "build-empty", "metrics-empty-object",
        "estimate-a-list", "boundaries-truncated"])
def test_csim_names_the_damaged_file_after_its_verdict(builds, damaged, content, why):
    folder = copy_of(builds)
    (folder / damaged).write_text(content)
    done = tsflow(builds, "csim", "copy")
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [f"error: copy/{damaged} cannot be read ({why}"
                                        + error_lines(done.stderr)[0].split(why, 1)[1]]
    assert error_lines(done.stderr)[0].endswith("; run 'tsflow build' again")
    # the verdict first (printed, and recorded), then the report's error
    output = done.stdout + done.stderr
    assert "bit-exact" in output and output.index("bit-exact") < output.index("error:")
    assert json.loads((folder / "csim.json").read_text())["bit_exact"] is True
    assert (folder / damaged).read_text() == content  # nothing of the damaged file rewritten


def test_block_design_names_a_garbage_estimate(builds):
    folder = copy_of(builds, "axi")
    (folder / "estimate.json").write_text("garbage")
    done = tsflow(builds, "export", "copy", "--block-design")
    assert done.returncode == 2, done.stderr
    [line] = error_lines(done.stderr)
    assert line.startswith("error: copy/estimate.json cannot be read (") and line.endswith("run 'tsflow build' again")
    assert not (folder / "vivado_scripts").exists()  # nothing written


REBUILD = "it was changed after the build; run 'tsflow build' again (--force replaces the folder)"
EXPORTED = ("vivado_scripts", "sw", "system_estimate.json", "logs", "reports", "synthesis.json")


def exported(folder) -> list[str]:
    """What an export left in ``folder``."""
    return [name for name in EXPORTED if (folder / name).exists()]


def pipelined_at_ii_2(folder):
    """The engine's loop pipelined at II=2 by hand (tour 6 b03): the C++ no longer matches plan.json."""
    engine = folder / "hls" / "firmware" / "tsflow_engine.h"
    assert "#pragma HLS PIPELINE II=1" in engine.read_text()
    engine.write_text(engine.read_text().replace("#pragma HLS PIPELINE II=1", "#pragma HLS PIPELINE II=2", 1))


def test_plain_export_refuses_cpp_the_plan_does_not_describe_before_writing(builds):
    """b03: plain export wrote scripts for hand-edited C++ that export --run and verify refuse."""
    folder = copy_of(builds)
    shutil.rmtree(folder / "vivado_scripts", ignore_errors=True)
    pipelined_at_ii_2(folder)
    done = tsflow(builds, "export", "copy")
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [f"error: copy/plan.json does not describe the C++ in copy/hls (tsflow_engine: "
                                        f"no loop Clocks pipelined at II=1): {REBUILD}"]
    assert exported(folder) == []


def test_export_run_refuses_before_any_script_is_written(builds, tmp_path):
    """b108: export --run refused the edited C++ only after writing a complete vivado_scripts/; the tools (stand-ins
    that would succeed) are never started."""
    folder = copy_of(builds)
    shutil.rmtree(folder / "vivado_scripts", ignore_errors=True)
    pipelined_at_ii_2(folder)
    started = tmp_path / "started"
    for tool in ("vitis_hls", "vivado"):
        (tmp_path / tool).write_text(f"#!/bin/sh\necho {tool} >> {started}\n")
        (tmp_path / tool).chmod(0o755)
    env = {**CLI_ENV, "PATH": f"{tmp_path}:{CLI_ENV.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "flow", "export", "copy", "--run"], cwd=builds, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [f"error: copy/plan.json does not describe the C++ in copy/hls (tsflow_engine: "
                                        f"no loop Clocks pipelined at II=1): {REBUILD}"]
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1  # no "written in", no tool's line
    assert exported(folder) == [] and not started.exists()


@pytest.mark.parametrize("removed", [("plan.json",), ("estimate.json",), ("plan.json", "estimate.json")],
                         ids=["plan", "estimate", "both"])
def test_plain_export_refuses_a_build_without_its_plan(builds, removed):
    """b95: plain export wrote scripts for a build whose plan.json was deleted; csim calls it incomplete."""
    folder = copy_of(builds)
    shutil.rmtree(folder / "vivado_scripts", ignore_errors=True)
    for name in removed:
        (folder / name).unlink()
    done = tsflow(builds, "export", "copy")
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [f"error: copy is an incomplete build folder (missing: {', '.join(removed)}); "
                                        f"run 'tsflow build' again (--force replaces this folder)"]
    assert exported(folder) == []


def test_block_design_refuses_an_estimate_edited_after_the_build(builds):
    """b09: export --block-design read a hand-lowered estimate.json (the manifest keeps its digest) and said the
    system fits."""
    folder = copy_of(builds, "axi")
    shutil.rmtree(folder / "vivado_scripts", ignore_errors=True)
    estimate = json.loads((folder / "estimate.json").read_text())
    estimate["total"].update(dsp=4, lut=2000)
    (folder / "estimate.json").write_text(json.dumps(estimate))
    done = tsflow(builds, "export", "copy", "--block-design")
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [f"error: copy/estimate.json differs from what the build wrote (its digest in "
                                        f"copy/manifest.json): {REBUILD}"]
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1  # no system table of the edited figures
    assert exported(folder) == []


def test_block_design_refuses_boundaries_edited_after_the_build(builds):
    """The block design's sw/ vectors take their types from hls/boundaries.json: its digest is checked too."""
    folder = copy_of(builds, "axi")
    shutil.rmtree(folder / "vivado_scripts", ignore_errors=True)
    path = folder / "hls" / "boundaries.json"
    doc = json.loads(path.read_text())
    doc["input"]["type"]["integer"] += 1
    path.write_text(json.dumps(doc))
    done = tsflow(builds, "export", "copy", "--block-design")
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [f"error: copy/hls/boundaries.json differs from what the build wrote (its "
                                        f"digest in copy/manifest.json): {REBUILD}"]
    assert exported(folder) == []


def test_csim_refuses_boundaries_edited_after_the_build(builds):
    """b88: an output type raised by 2 integer bits in hls/boundaries.json gave a 'bit-exact' csim whose report
    plotted the forecast at 4 times its scale; now refused before the C++ runs, the verdict and report kept."""
    folder = copy_of(builds)
    path = folder / "hls" / "boundaries.json"
    doc = json.loads(path.read_text())
    output = "delta" if "delta" in doc else "head"
    integer = doc[output]["type"]["integer"]
    doc[output]["type"]["integer"] += 2
    path.write_text(json.dumps(doc))
    kept = {name: (folder / name).read_bytes() for name in ("csim.json", "report.html", "report/forecast.png")}
    done = tsflow(builds, "csim", "copy")
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [
        f"error: copy/hls/boundaries.json differs from what the build wrote ({output}.type.integer: {integer + 2} "
        f"there, {integer} from model/): it was changed after the build; the C++ was not run; run 'tsflow build' "
        f"again (--force replaces the folder)"]
    assert "bit-exact" not in done.stdout + done.stderr
    assert {name: (folder / name).read_bytes() for name in kept} == kept


def test_csim_of_a_damaged_inputs_file_blames_the_file_not_the_built_in_data(builds):
    folder = copy_of(builds)
    inputs = folder / "hls" / "tb_data" / "inputs.bin"
    inputs.write_bytes(bytes(inputs.stat().st_size))  # zeroed: same size, every window differs
    verdict = (folder / "csim.json").read_text()
    done = tsflow(builds, "csim", "copy")
    [line] = error_lines(done.stderr)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "differ from hls/tb_data/inputs.bin" in line and "the C++ was not run" in line
    assert ("hls/tb_data/inputs.bin changed since the build (the built-in seattle-temps it was written from is "
            "the same)") in line
    assert "the data changed" not in line
    assert (folder / "csim.json").read_text() == verdict


def test_a_file_where_the_scripts_folder_goes_is_named(builds):
    folder = copy_of(builds)
    shutil.rmtree(folder / "vivado_scripts", ignore_errors=True)
    (folder / "vivado_scripts").write_text("x\n")
    done = tsflow(builds, "export", "copy")
    assert done.returncode == 2, done.stderr
    [line] = error_lines(done.stderr)
    assert "copy/vivado_scripts is a file, where export writes the folder vivado_scripts/" in line
    assert "move that file away" in line and "writable" not in line
    assert (folder / "vivado_scripts").read_text() == "x\n"


def test_cosim_windows_beyond_the_test_split_is_said(builds):
    folder = copy_of(builds)
    config = folder / "model" / "config.yaml"
    raw = yaml.safe_load(config.read_text())
    raw.setdefault("export", {})["cosim_windows"] = 100_000
    config.write_text(yaml.safe_dump(raw))
    windows = int(8759 * 0.2) - 8  # the tiny build's test split
    done = tsflow(builds, "export", "copy")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert notes == [f"note: export.cosim_windows is 100,000 but the build's test split holds {windows:,} windows: "
                     f"the co-simulation (when export.cosim is on) runs all {windows:,} of them"]
    assert f"the first {windows} test windows" in (folder / "vivado_scripts" / "tsflow_hls.tcl").read_text()
    assert "100000" not in (folder / "vivado_scripts" / "HOWTO.md").read_text()


def test_allow_over_headroom_without_block_design_is_refused(builds):
    folder = copy_of(builds)
    shutil.rmtree(folder / "vivado_scripts", ignore_errors=True)
    done = tsflow(builds, "export", "copy", "--allow-over-headroom")
    assert done.returncode == 2, done.stderr
    assert error_lines(done.stderr) == [
        "error: --allow-over-headroom only applies with --block-design (it lets the block design be written over "
        "target.headroom); add --block-design, or leave --allow-over-headroom out"]
    assert not (folder / "vivado_scripts").exists()


@needs_reports
def test_verify_says_first_that_the_report_is_of_another_design(builds):
    done = tsflow(builds, "verify", "b0", "--synthesis", AUTOENCODER)
    assert done.returncode == 2, done.stderr
    [line] = error_lines(done.stderr)
    assert f"{AUTOENCODER} is a report of another design: top Autoencoder on xc7z020-clg400-1, not this build's " \
           f"top tsflow_model on {TINY.get('target', {}).get('part', 'xc7s15ftgb196-2')}" in line
    assert "differs from the plan" not in done.stdout + done.stderr


@needs_reports
def test_calibrate_refuses_a_report_of_another_design(builds):
    raw = {**TINY, "target": {"part": "xc7z020clg400-1"}}
    (builds / "z020.yaml").write_text(yaml.safe_dump(raw))
    done = tsflow(builds, "calibrate", AUTOENCODER, "--config", "z020.yaml", "--out", "c.json")
    assert done.returncode == 2, done.stderr
    [line] = error_lines(done.stderr)
    assert f"{AUTOENCODER}: report of another design: its top is Autoencoder" in line
    assert "this configuration's is tsflow_model" in line
    assert not (builds / "c.json").exists()


@needs_reports
def test_calibrate_given_only_a_report_of_the_core_names_the_top_function_it_needs(builds):
    """An s_axilite design's top function is its wrapper: a report whose top is the core (tsflow_model, a module
    inside it) gives loops only, and the message says which report was read as that and what to add."""
    raw = {**TINY, "target": {"part": "xc7z020clg400-1"}, "hls": {"interface": "s_axilite"}}
    (builds / "axi-z020.yaml").write_text(yaml.safe_dump(raw))
    (builds / "core.xml").write_text(AUTOENCODER.read_text().replace("<TopModelName>Autoencoder</TopModelName>",
                                                                     "<TopModelName>tsflow_model</TopModelName>"))
    done = tsflow(builds, "calibrate", "core.xml", "--config", "axi-z020.yaml", "--out", "c2.json")
    assert done.returncode == 2, done.stderr
    [line] = error_lines(done.stderr)
    assert "no resource or latency figure found in the reports given; core.xml (top tsflow_model) is the report " \
           "of a module inside this design's top function" in line
    assert "(hls.interface: s_axilite)" in line and "add the report of the top function" in line
    assert not (builds / "c2.json").exists()


def test_a_calibration_naming_an_unknown_layer_is_refused(tmp_path):
    from flow.calibration import layer_names, load_calibration
    from flow.config import ConfigError, parse_config

    cfg = parse_config(TINY)
    names = layer_names(cfg)
    path = tmp_path / "c.json"
    good = {"part": cfg.target.part, "factors": {"lut": 1.1}, "layers": {names[0]: 2.0}}
    path.write_text(json.dumps(good))
    assert load_calibration(path, cfg.target.part, names)["layers"] == {names[0]: 2.0}
    path.write_text(json.dumps({**good, "layers": {"nonexistent_layer": 3.0}}))
    with pytest.raises(ConfigError) as err:
        load_calibration(path, cfg.target.part, names)
    assert str(err.value).startswith(f"--calibration {path}: unknown layer 'nonexistent_layer'")
    assert "allowed: " + ", ".join(names) in str(err.value)
