"""Output folders: --force replaces only what tsflow made, and a failed run never blocks its rerun."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
import yaml

from flow.runs import (FAILED, RUNNING, TRAINED_FILES, NotTsflowFolder, OutputExists, folder_kind,
                       staged_output)

from .conftest import small_raw


def run(out, force=False, body=None):
    """One staged run into ``out`` that writes result.txt (or runs ``body(stage)``); returns the notes."""
    notes = []
    with staged_output(out, force, note=notes.append) as stage:
        assert (stage / RUNNING).is_file()  # marked as a run in progress while it works
        (stage / "result.txt").write_text("new")
        if body:
            body(stage)
    return notes


def made_by_tsflow(kind, folder):
    folder.mkdir(parents=True)
    if kind == "build":
        (folder / "hls" / "firmware").mkdir(parents=True)
        (folder / "build.json").write_text("{}")
        (folder / "csim.json").write_text("{}")
    elif kind == "build, csim.json only":  # a build whose rerun of the C simulation wrote a verdict
        (folder / "hls").mkdir()
        (folder / "csim.json").write_text("{}")
    else:
        for name in TRAINED_FILES:
            (folder / name).write_text("x")
    return folder


def user_folder(folder, name="thesis.tex"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("my own work")
    return folder


def test_a_folder_of_someone_elses_is_refused_even_with_force_and_left_untouched(tmp_path):
    out = user_folder(tmp_path / "run")
    for force in (False, True):
        with pytest.raises(NotTsflowFolder) as err:
            run(out, force)
        message = str(err.value)
        assert str(out) in message and "does not look like a tsflow folder" in message
        assert "left untouched, even with --force" in message
        assert (out / "thesis.tex").read_text() == "my own work" and sorted(os.listdir(out)) == ["thesis.tex"]
        assert not (tmp_path / "run.partial").exists()


@pytest.mark.parametrize("contents", [["hls"], ["build.json"], ["metrics.json"], ["model.weights.h5", "config.yaml"],
                                      ["hls", "notes.txt"], [FAILED]])
def test_pieces_of_tsflow_folders_are_not_enough(tmp_path, contents):
    out = tmp_path / "run"
    out.mkdir()
    for name in contents:
        (out / name).mkdir() if name == "hls" else (out / name).write_text("x")
    assert folder_kind(out) is None
    with pytest.raises(NotTsflowFolder, match="does not look like a tsflow folder"):
        run(out, force=True)
    assert sorted(os.listdir(out)) == sorted(contents)


def test_a_file_where_the_folder_should_go_is_refused_even_with_force(tmp_path):
    out = tmp_path / "run"
    out.write_text("a file")
    with pytest.raises(NotTsflowFolder, match=f"{re.escape(str(out))} exists and is not a folder"):
        run(out, force=True)
    assert out.read_text() == "a file"


def test_an_empty_folder_is_used_without_force(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    assert run(out) == []
    assert (out / "result.txt").read_text() == "new" and not (tmp_path / "run.partial").exists()


@pytest.mark.parametrize("kind", ["build", "build, csim.json only", "train"])
def test_force_replaces_a_folder_tsflow_made_and_only_with_force(tmp_path, kind):
    out = made_by_tsflow(kind, tmp_path / "run")
    with pytest.raises(OutputExists, match=re.escape(f"output folder {out} already exists; pass --force to "
                                                     f"replace it")):
        run(out)
    assert not (tmp_path / "run.partial").exists()
    notes = run(out, force=True)
    assert sorted(os.listdir(out)) == ["manifest.json", "result.txt"]
    assert len(notes) == 1 and f"replacing a tsflow {kind.split(',')[0]} folder {out}" in notes[0]


def test_the_folder_save_trained_writes_is_a_train_folder(small_trained, tmp_path):
    *_, folder = small_trained
    out = tmp_path / "trained"
    shutil.copytree(folder, out)
    assert folder_kind(out) == "a tsflow train folder"
    run(out, force=True)
    assert sorted(os.listdir(out)) == ["manifest.json", "result.txt"]


def test_a_failed_run_leaves_a_marked_partial_folder_that_the_rerun_replaces_without_force(tmp_path):
    out = tmp_path / "run"

    def crash(stage):
        raise RuntimeError("the estimate does not fit")

    with pytest.raises(RuntimeError):
        run(out, body=crash)
    partial = tmp_path / "run.partial"
    assert (partial / FAILED).read_text() == "RuntimeError: the estimate does not fit\n"
    assert not (partial / RUNNING).exists() and not out.exists()
    notes = run(out)  # the corrected rerun, no --force
    assert notes == [f"replacing {partial}, left by a failed run (RuntimeError: the estimate does not fit)"]
    assert sorted(os.listdir(out)) == ["manifest.json", "result.txt"] and not partial.exists()


def test_a_failed_partial_is_replaced_while_a_finished_folder_still_needs_force(tmp_path):
    out = made_by_tsflow("build", tmp_path / "run")
    partial = tmp_path / "run.partial"
    partial.mkdir()
    (partial / FAILED).write_text("KeyboardInterrupt: \n")
    with pytest.raises(OutputExists, match="pass --force"):
        run(out)
    assert (partial / FAILED).exists()  # nothing touched when refused
    notes = run(out, force=True)
    assert len(notes) == 2 and "left by a failed run (KeyboardInterrupt:" in notes[1]
    assert sorted(os.listdir(out)) == ["manifest.json", "result.txt"] and not partial.exists()


def test_a_partial_folder_without_a_tsflow_marker_is_never_replaced(tmp_path):
    partial = user_folder(tmp_path / "run.partial", "notes.txt")
    for force in (False, True):
        with pytest.raises(NotTsflowFolder) as err:
            run(tmp_path / "run", force)
        assert str(partial) in str(err.value) and "does not look like a tsflow folder" in str(err.value)
        assert "--force" in str(err.value)
    assert sorted(os.listdir(partial)) == ["notes.txt"] and not (tmp_path / "run").exists()


def _running(partial, pid, host=None):
    partial.mkdir()
    (partial / "estimate.json").write_text("{}")
    (partial / RUNNING).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                               "started": "2024-01-01 00:00:00"}))


@pytest.mark.parametrize("host", [None, "another-machine"])
def test_a_run_that_may_still_be_working_is_refused_without_force(tmp_path, host):
    partial = tmp_path / "run.partial"
    _running(partial, os.getpid(), host)  # a process that exists here, or one on another machine
    with pytest.raises(OutputExists) as err:
        run(tmp_path / "run")
    assert f"{partial} already exists: another tsflow run may still be writing it" in str(err.value)
    assert "pass --force" in str(err.value) and (partial / "estimate.json").exists()
    notes = run(tmp_path / "run", force=True)
    assert "may still be working" in notes[0] and not partial.exists()


def test_a_run_whose_process_is_gone_is_replaced_without_force(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(ended.stdout)
    partial = tmp_path / "run.partial"
    _running(partial, pid)  # killed (SIGKILL, out of memory) before it could write FAILED
    notes = run(tmp_path / "run")
    assert notes == [f"replacing {partial}, left by a run whose process (pid {pid}) no longer exists"]
    assert (tmp_path / "run" / "result.txt").exists()


def test_a_finished_run_leaves_no_marker(tmp_path):
    run(tmp_path / "run")
    assert not (tmp_path / "run" / RUNNING).exists() and not (tmp_path / "run" / FAILED).exists()


def test_a_folder_that_appears_during_the_run_is_kept_and_the_result_is_marked(tmp_path):
    for force in (False, True):
        out = tmp_path / f"run-{force}"
        with pytest.raises(OutputExists, match="its result stays in"):
            run(out, force, body=lambda stage: user_folder(out))
        assert sorted(os.listdir(out)) == ["thesis.tex"]
        partial = tmp_path / f"run-{force}.partial"
        assert (partial / "result.txt").exists() and (partial / FAILED).read_text().startswith("OutputExists")


def test_tsflow_train_refuses_a_users_folder_even_with_force(tmp_path):
    from click.testing import CliRunner

    from flow.cli import cli

    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump(small_raw()))
    out = user_folder(tmp_path / "results")
    done = CliRunner().invoke(cli, ["train", str(cfg), "--out", str(out), "--force"])
    assert done.exit_code == 2 and "does not look like a tsflow folder" in done.output
    assert "Traceback" not in done.output and "epoch" not in done.output
    assert sorted(os.listdir(out)) == ["thesis.tex"] and not (tmp_path / "results.partial").exists()


@pytest.mark.parametrize("manifest", ['{"files": "all"}', '{"files": ["../elsewhere.txt"]}', "not json",
                                      '{"files": [], "trees": ["hls", ".."]}', '["hls/NOTES.txt"]'])
def test_force_refuses_a_folder_whose_manifest_is_damaged_and_keeps_the_users_file(tmp_path, manifest):
    """b66: a manifest whose 'files' was not a list was taken for none, and the folder judged by its top-level
    names: --force then took hls/NOTES.txt, below a name tsflow writes, for tsflow's and deleted it."""
    out = made_by_tsflow("build", tmp_path / "run")
    (out / "hls" / "NOTES.txt").write_text("my notes")
    (out / "manifest.json").write_text(manifest)
    with pytest.raises(OutputExists) as err:
        run(out, force=True)
    assert re.search(r"its manifest\.json is damaged \(.+\); tsflow cannot tell the files it wrote from yours, so "
                     r"--force does not replace the folder: repair manifest\.json", str(err.value))
    assert (out / "hls" / "NOTES.txt").read_text() == "my notes" and not (tmp_path / "run.partial").exists()


def test_a_sound_manifest_still_lets_force_replace_what_tsflow_wrote(tmp_path):
    out = made_by_tsflow("build", tmp_path / "run")
    (out / "manifest.json").write_text(json.dumps({"files": ["build.json", "csim.json"], "trees": ["hls"]}))
    run(out, force=True)
    assert (out / "result.txt").read_text() == "new"


def test_a_run_never_writes_into_a_search_folder_nor_replaces_one(tmp_path):
    """b13's rule, for build and train: a search's --out (its search.json records study and storage) is another
    run's folder; a file named search.json of the user's does not make a folder one."""
    search = tmp_path / "srch"
    search.mkdir()
    (search / "search.json").write_text(json.dumps({"config": "s", "study": "s", "storage": "sqlite (study.db here)"}))
    with pytest.raises(OutputExists, match=r"output folder .*srch/float is inside .*srch, a tsflow search folder; a "
                                           r"run never writes into another run's folder"):
        run(search / "float", force=True)
    with pytest.raises(NotTsflowFolder, match=r"srch is a tsflow search folder \(search.json\); a build or a training "
                                              r"never replaces it, even with --force"):
        run(search, force=True)
    assert sorted(os.listdir(search)) == ["search.json"] and not (tmp_path / "srch.partial").exists()
    mine = user_folder(tmp_path / "mine", "search.json")
    run(mine / "sub")
    assert (mine / "sub" / "result.txt").is_file()


def test_the_files_a_run_wrote_are_told_from_new_names_in_its_folder(tmp_path):
    """What calibrate's --out may not replace (b29, b30): a file a build's manifest lists, the manifest itself,
    any file of a folder whose manifest is damaged, a name tsflow writes in a folder without a manifest."""
    from flow.runs import BUILD, written_by_run

    out = made_by_tsflow("build", tmp_path / "b")
    (out / "estimate.json").write_text("{}")
    (out / "manifest.json").write_text(json.dumps({"files": ["build.json", "csim.json", "estimate.json"]}))
    assert written_by_run(out / "estimate.json") == (out, BUILD, "its manifest.json lists it as written by tsflow")
    assert written_by_run(out / "manifest.json")[2] == "tsflow's own record of the run"
    assert written_by_run(out / "mine.json") is None and written_by_run(tmp_path / "elsewhere.json") is None
    (out / "manifest.json").unlink()
    assert written_by_run(out / "plan.json")[2] == "a name tsflow writes there"
    assert written_by_run(out / "mine.json") is None
    (out / "manifest.json").write_text('{"files": "all"}')
    assert "damaged" in written_by_run(out / "build.json")[2]


def test_the_manifest_keeps_the_cpp_digests_when_a_command_adds_its_files(tmp_path):
    """Tour 9 b97: the digests of the C++ a build wrote ('sources') tell csim that hls/ was replaced; a command
    that records its own files (csim, export) keeps them, and a changed or removed source is named."""
    from flow.runs import read_manifest, record_written, sources_changed, write_manifest

    folder = tmp_path / "b"
    (folder / "hls" / "firmware").mkdir(parents=True)
    (folder / "hls" / "firmware" / "tsflow_engine.h").write_text("// engine\n")
    (folder / "hls" / "tsflow_tb.cpp").write_text("// testbench\n")
    (folder / "plan.json").write_text("{}")
    write_manifest(folder)
    assert sorted(read_manifest(folder)["sources"]) == ["hls/firmware/tsflow_engine.h", "hls/tsflow_tb.cpp"]
    record_written(folder, files=["csim.json"])
    assert sources_changed(folder) == []
    (folder / "hls" / "firmware" / "tsflow_engine.h").write_text("// another engine\n")
    (folder / "hls" / "tsflow_tb.cpp").unlink()
    assert sources_changed(folder) == ["hls/firmware/tsflow_engine.h", "hls/tsflow_tb.cpp"]
