"""Tour 9's commands, flags and folders (half B): what a user gave by a slip is said as that slip, with the
command or call to give instead, through the real ``tsflow`` (or ``flow.api``) and nothing made by it."""
from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
from click.testing import CliRunner

from flow import api
from flow.export import ExportError, export_command
from flow.export.block_design import SW

from .test_block_design import axilite_build
from .test_export import make_build
from .test_user_errors import config, error_lines, fake_build, report, run


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("args", [["build", "c.yaml", "--out", "C:\\runs\\b26"],
                                  ["train", "c.yaml", "--out", "runs\\b26"],
                                  ["calibrate", "csynth.xml", "--config", "c.yaml", "--out", "C:/runs/cal.json"]])
def test_a_pasted_windows_path_is_refused_naming_the_flag_and_made_nowhere(args, tmp_path):
    """b26: --out 'C:\\runs\\b26' made a folder of that literal name in the current folder."""
    config()(tmp_path)
    report("csynth.xml")(tmp_path)
    before = _tree(tmp_path)
    done = run(tmp_path, *args)
    [line] = error_lines(done.stderr)
    assert done.returncode == 2, done.stderr
    assert line.startswith(f"error: Invalid value for '--out': '{args[-1]}' looks like a Windows path"), line
    posix = args[-1].removeprefix("C:").replace("\\", "/").strip("/")
    assert f"give a POSIX path (such as {posix}" in line and f"or ./{shlex.quote(args[-1])} if that name" in line
    assert _tree(tmp_path) == before


def test_a_windows_looking_name_given_with_dot_slash_is_taken_as_named(tmp_path):
    """The way out the refusal names: ./'C:\\x.json' is a file so named."""
    config()(tmp_path)
    report("csynth.xml")(tmp_path)
    done = run(tmp_path, "calibrate", "csynth.xml", "--config", "c.yaml", "--out", "./C:\\x.json")
    assert done.returncode == 0, done.stderr
    assert "factors" in json.loads((tmp_path / "C:\\x.json").read_text())


@pytest.mark.parametrize("args, flag", [
    (["build", "c.yaml", "--out", "b", "--trained", "https://example.org/runs/base"], "--trained"),
    (["build", "c.yaml", "--out", "b", "--calibration", "https://example.org/cal.json"], "--calibration"),
    (["calibrate", "https://example.org/csynth.xml", "--config", "c.yaml"], "REPORTS..."),
    (["verify", "b", "--synthesis", "https://example.org/csynth.xml"], "--synthesis")])
def test_a_url_given_for_a_file_is_said_to_be_a_url(args, flag, tmp_path):
    """A URL was taken for a local path, its '//' collapsed: 'https:/example.org/...' does not exist."""
    config()(tmp_path)
    fake_build("b")(tmp_path)
    done = run(tmp_path, *args)
    [line] = error_lines(done.stderr)
    url = next(a for a in args if a.startswith("https"))
    assert done.returncode == 2 and line.startswith(
        f"error: Invalid value for '{flag}': {url!r} is a URL; tsflow reads local files only: download it first "
        f"(curl -LO {url})"), line


def test_a_url_given_as_out_is_said_to_be_no_place_tsflow_writes(tmp_path):
    config()(tmp_path)
    done = run(tmp_path, "train", "c.yaml", "--out", "s3://bucket/run")
    assert done.returncode == 2 and error_lines(done.stderr) == [
        "error: Invalid value for '--out': 's3://bucket/run' is a URL; tsflow writes local folders only: give a local "
        "folder (and copy it where the URL points afterwards); see 'tsflow train --help'"]
    assert _tree(tmp_path) == ["c.yaml"]


@pytest.mark.parametrize("jobs", ["auto", "0"])
def test_jobs_other_than_a_whole_number_says_what_leaving_it_out_does(jobs, tmp_path):
    """b11: 'auto' got click's "is not a valid integer range"."""
    fake_build("b")(tmp_path)
    done = run(tmp_path, "csim", "b", "--jobs", jobs)
    assert done.returncode == 2 and error_lines(done.stderr) == [
        f"error: Invalid value for '--jobs': '{jobs}': give a whole number of testbench processes (1 or more), or "
        f"leave --jobs out for one per available core; see 'tsflow csim --help'"]


@pytest.mark.parametrize("args, expect", [
    (["csim", "b/hls"], "error: b/hls is hls/ inside the build folder b; give that folder: 'tsflow csim b'"),
    (["csim", "b/model", "--jobs", "2"],
     "error: b/model is model/ inside the build folder b; give that folder: 'tsflow csim b --jobs 2'"),
    (["export", "b/model"], "error: b/model is model/ inside the build folder b; give that folder: 'tsflow export b'"),
    (["export", "b/hls/firmware", "--block-design"],
     "error: b/hls/firmware is hls/firmware/ inside the build folder b; give that folder: "
     "'tsflow export b --block-design'")])
def test_a_folder_inside_a_build_is_pointed_at_the_build(args, expect, tmp_path):
    """b15 / b16: 'runs/base/hls is not a build folder ...; run tsflow build first', with the build one level up."""
    fake_build("b")(tmp_path)
    before = _tree(tmp_path)
    done = run(tmp_path, *args)
    assert done.returncode == 2 and error_lines(done.stderr) == [expect], done.stderr
    assert _tree(tmp_path) == before


def test_numpys_bool_is_a_flag_passed_on_as_a_bool(tmp_path, monkeypatch):
    """b32: force=np.bool_(True) was refused as 'force=True: force takes True or False, not a bool_'."""
    import flow.export

    seen = []
    monkeypatch.setattr(flow.export, "export", lambda *args, **kwargs: seen.append(args))
    api.export(tmp_path, run=np.False_, force=np.bool_(True), block_design=np.int64(1) > 0)
    assert seen[0][1:3] == (False, True) and type(seen[0][1]) is bool and type(seen[0][4]) is bool
    with pytest.raises(api.ConfigError, match=r"^force=array\(\[ True\]\): force takes True or False, not a ndarray"):
        api.export(tmp_path, force=np.array([True]))


def test_the_block_design_over_the_headroom_is_a_config_error_naming_the_apis_argument(tmp_path):
    """b85: api.export(block_design=True) raised an ExportError, which 'except api.ConfigError' (the documented
    error) missed, saying 'pass --allow-over-headroom' to a Python caller. The command names its flags."""
    build_dir, _ = axilite_build(tmp_path / "b", ip={"dsp": 20})
    with pytest.raises(api.ConfigError) as caught:
        api.export(build_dir, block_design=True)
    message = str(caught.value)
    assert message.startswith("block_design=True: the IP (estimate.json) and the MicroBlaze system")
    assert message.endswith("or pass allow_over_headroom=True to write the design anyway") and "--" not in message
    assert not (build_dir / SW).exists()
    result = CliRunner().invoke(export_command, [str(build_dir), "--block-design"])
    assert result.exit_code == 2 and "or pass --allow-over-headroom to write the design anyway" in result.output
    assert "error: --block-design: the IP" in result.output


def test_the_command_to_run_again_repeats_the_flags_given(tmp_path):
    """b101: 'sw is a file ...: run tsflow export f/b101 again' dropped --block-design --allow-over-headroom,
    and the command so run writes no block design."""
    build_dir, _ = axilite_build(tmp_path / "b", ip={"dsp": 20})
    (build_dir / SW).write_text("mine\n")
    result = CliRunner().invoke(export_command, [str(build_dir), "--block-design", "--allow-over-headroom"])
    assert result.exit_code == 2, result.output
    assert result.output.replace("\n", "").endswith(
        f"and run 'tsflow export {build_dir} --block-design --allow-over-headroom' again"), result.output
    with pytest.raises(ExportError, match=(
            rf"and run flow.api.export\('{build_dir}', block_design=True, allow_over_headroom=True\) again$")):
        api.export(build_dir, block_design=True, allow_over_headroom=True)
    assert (build_dir / SW).read_text() == "mine\n"


def test_export_of_a_model_folder_inside_a_build_through_the_api_names_the_call(tmp_path):
    build_dir, _ = make_build(tmp_path / "b")
    with pytest.raises(ExportError, match=rf"give that folder: flow.api.export\('{build_dir}', force=True\)$"):
        api.export(build_dir / "model", force=True)


def test_a_report_given_twice_to_calibrate_is_read_once_and_said(tmp_path):
    """b38: a glob plus a name gave one report twice: counted as two measurements, listed and warned twice."""
    config()(tmp_path)
    report("csynth.xml")(tmp_path)
    done = run(tmp_path, "calibrate", "csynth.xml", "csynth.xml", "--config", "c.yaml", "--out", "cal.json")
    assert done.returncode == 0, done.stderr
    assert error_lines(done.stderr) == [] and done.stderr.count("REPORTS") == 1, done.stderr
    assert "warning: REPORTS: csynth.xml given 2 times; read once" in done.stderr
    done = run(tmp_path, "calibrate", "csynth.xml", str(tmp_path / "csynth.xml"), "--config", "c.yaml", "--out",
               "cal.json", "--force")
    assert f"warning: REPORTS: csynth.xml given 2 times (as csynth.xml, {tmp_path / 'csynth.xml'}); read once" \
        in done.stderr, done.stderr
    cal = json.loads((tmp_path / "cal.json").read_text())
    assert all(len(sources) == 1 for sources in cal["sources"].values()), cal["sources"]
