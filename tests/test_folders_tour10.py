"""Tour 10's folder cases: a user's file in report/ kept from build --force after a csim (b81, b92), C++ changed
after the build at export (b12, b89) and through the API (b22), a damaged manifest.json at export and csim (b18,
b19), the API's OutputExists (b21), export's retry advice (b32), a build's subfolder given to the report (b50).
One tiny build, copied per test."""
import json
import shutil
import subprocess
import sys
import warnings

import pytest
import yaml

from .conftest import CLI_ENV, TINY
from .test_cli_e2e import error_lines, tsflow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("tour10")
    (cwd / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    done = tsflow(cwd, "build", "tiny.yaml", "--out", "b0")
    assert done.returncode == 0, done.stderr
    return cwd


def copy_of(built, to):
    dst = built / to
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(built / "b0", dst, symlinks=True)
    shutil.rmtree(dst / "vivado_scripts", ignore_errors=True)
    return dst


def test_changed_cpp_is_exported_only_once_simulated_and_a_report_file_survives_force(built, monkeypatch):
    """b12/b89: export refuses C++ changed since the build that no csim has checked; b22: api.csim without note
    warns and returns changed_sources; then export writes the scripts and says they are of the changed C++;
    b81/b92: the csim recorded the report's figures one by one, so a user's notes in report/ stop build --force."""
    from flow import api
    from flow.csim import ChangedSourcesWarning

    folder = copy_of(built, "edited")
    with open(folder / "hls" / "firmware" / "tsflow_engine.h", "a") as f:
        f.write("// tried by hand\n")
    done = tsflow(built, "export", "edited")
    assert error_lines(done.stderr) == [
        "error: hls/firmware/tsflow_engine.h in edited changed since the build (its digest is in "
        "edited/manifest.json) and no C simulation has checked the C++ now there: edited/csim.json holds the verdict "
        "of other C++, and export hands off only C++ proven bit-exact. Run 'tsflow csim edited' and export once it "
        "says bit-exact, or 'tsflow build' again (--force replaces the folder) to write the build's C++ back"]
    assert done.returncode == 2 and not (folder / "vivado_scripts").exists()

    monkeypatch.chdir(built)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = api.csim("edited", jobs=1)
    assert report.bit_exact and report.changed_sources == ["hls/firmware/tsflow_engine.h"]
    [warned] = [w for w in caught if w.category is ChangedSourcesWarning]
    assert "hls/firmware/tsflow_engine.h changed since" in str(warned.message)
    assert "this C simulation is of the changed C++" in str(warned.message)
    assert json.loads((folder / "csim.json").read_text())["changed_sources"] == ["hls/firmware/tsflow_engine.h"]

    done = tsflow(built, "export", "edited")
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "warning: edited/hls differs from what the build wrote (hls/firmware/tsflow_engine.h changed since" in said
    assert "these scripts synthesise the changed C++, which 'tsflow csim' found bit-exact" in said
    assert (folder / "vivado_scripts" / "tsflow_hls.tcl").is_file()

    manifest = json.loads((folder / "manifest.json").read_text())
    assert "report" not in manifest["trees"] and "report/forecast.png" in manifest["files"]
    (folder / "report" / "notes.txt").write_text("my notes\n")
    (folder / "report" / "cal.json").write_text("{}\n")
    done = tsflow(built, "build", "tiny.yaml", "--out", "edited", "--force", "--trained", "b0")
    assert error_lines(done.stderr) == [
        f"error: output folder {folder} holds 2 files tsflow did not write (report/cal.json, report/notes.txt); "
        f"--force replaces only what tsflow wrote: move them out of {folder} (or choose another --out) and run again"]
    assert (folder / "report" / "notes.txt").read_text() == "my notes\n"


def test_a_report_tree_recorded_by_an_older_csim_covers_only_the_figures(built):
    """b81: folders a csim before tour 10 left with trees ['report'] no longer let --force take a user's file there."""
    from flow.runs import foreign_files

    folder = copy_of(built, "older")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = [f for f in manifest["files"] if not f.startswith("report/")]
    manifest["trees"] = ["report"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "report" / "notes.txt").write_text("mine\n")
    assert foreign_files(folder) == ["report/notes.txt"]


def test_a_damaged_manifest_is_refused_by_export_and_said_by_csim(built):
    """b18/b19: the digests cannot be checked: export refuses, csim warns before it runs."""
    folder = copy_of(built, "damaged")
    (folder / "manifest.json").write_text("{not json")
    done = tsflow(built, "export", "damaged")
    assert error_lines(done.stderr) == [
        "error: damaged/manifest.json is damaged (not JSON): the digests of plan.json, estimate.json and the C++ in "
        "damaged/hls cannot be checked against what the build wrote; restore manifest.json, or build again into "
        "another --out (--force does not replace a folder whose manifest.json is damaged)"]
    assert done.returncode == 2 and not (folder / "vivado_scripts").exists()
    done = tsflow(built, "csim", "damaged", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "warning: damaged/manifest.json is damaged (not JSON): the C++ in damaged/hls cannot be checked" in said
    assert said.index("damaged/manifest.json is damaged") < said.index("bit-exact")
    assert (folder / "manifest.json").read_text() == "{not json"


def test_api_output_exists_is_exported_and_names_force_true(built, monkeypatch):
    """b21: caught as api.OutputExists, and the message names the API's argument."""
    from flow import api

    monkeypatch.chdir(built)
    with pytest.raises(api.OutputExists) as caught:
        api.train("tiny.yaml", "b0")
    assert str(caught.value).endswith("already exists; pass --force to replace it (from flow.api: force=True)")
    assert issubclass(api.NotTsflowFolder, api.OutputExists) and issubclass(api.OutputExists, api.ConfigError)
    assert (built / "b0" / "csim.json").is_file()


def test_missing_tools_advice_repeats_the_block_design_flags(built):
    """b32: the retry command keeps --block-design --allow-over-headroom (the API's arguments for an API caller)."""
    from flow.export import load_build_config, missing_tools_message

    cfg = load_build_config(built / "b0")
    told = missing_tools_message(cfg, built / "b0", which=lambda name: None, block_design=True,
                                 allow_over_headroom=True)
    assert told.endswith(f"run 'tsflow export {built / 'b0'} --run --block-design --allow-over-headroom' again")
    told = missing_tools_message(cfg, built / "b0", which=lambda name: None, block_design=True, api=True)
    assert f"flow.api.export('{built / 'b0'}', run=True, block_design=True) again" in told


@pytest.mark.parametrize("sub", ["hls", "model", "report"])
def test_report_of_a_build_subfolder_names_the_build_folder(built, sub):
    """b50: as csim and export say it."""
    done = subprocess.run([sys.executable, "-m", "flow.report", f"b0/{sub}"], cwd=built, env=CLI_ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"error: b0/{sub} is {sub}/ inside the build folder b0; give that folder: "
                                   f"'python -m flow.report b0'")
