"""Build folders as a user meets them (issue 30): one that cannot be written, two runs into one --out, files
a user added, and ``--trained`` given a build folder. Every command runs as a real ``tsflow`` process; one
tiny build is shared by the module, the other builds reuse its trained model.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from .conftest import CLI_ENV as ENV, TINY, as_unprivileged, require_mode_bits
from .test_cli_e2e import error_lines, snapshot, tsflow



@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("folders")
    (cwd / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    done = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/x")
    assert done.returncode == 0, done.stderr
    return cwd


def tsflow_unprivileged(cwd, *args):
    """``tsflow ARGS`` for which a folder without write permission cannot be written, root or not."""
    if os.geteuid() != 0:
        return tsflow(cwd, *args)
    require_mode_bits()
    done = subprocess.run([sys.executable, "-m", "flow", *map(str, args)], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300, preexec_fn=as_unprivileged)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
    return done


def _read_only(folder):
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)


def _writable(folder):
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def test_a_read_only_build_folder_export_refuses_in_one_line_and_csim_prints_its_verdict_first(built):
    cwd = built
    ro = cwd / "runs" / "ro"
    shutil.copytree(cwd / "runs" / "x", ro)
    (ro / "hls" / "csim.bin.stamp").unlink()  # the testbench must be compiled again: it cannot be, in ro/hls
    _read_only(ro)
    try:
        before = snapshot(ro)
        done = tsflow_unprivileged(cwd, "export", "runs/ro")
        assert done.returncode == 2, done.stderr
        [line] = error_lines(done.stderr)
        assert line == ("error: cannot write in the build folder runs/ro (Permission denied): export writes its scripts "
                        "(and with --run the tools' outputs) into it; make it writable, or copy it (cp -r runs/ro "
                        "COPY) and run 'tsflow export COPY'")
        assert len(done.stderr.strip().splitlines()) == 1
        assert snapshot(ro) == before and not (ro / "vivado_scripts").exists()

        done = tsflow_unprivileged(cwd, "csim", "runs/ro", "--jobs", "2")
        assert done.returncode == 2, done.stderr  # bit-exact, but not recorded
        err = done.stderr
        assert "runs/ro/hls cannot be written (Permission denied): the testbench is compiled and run in a temporary " \
               "copy of it" in err
        verdict = next(line for line in err.splitlines() if line.startswith("C simulation: "))
        assert verdict.endswith("0 differ: bit-exact")
        [line] = error_lines(err)
        assert line.startswith("error: the verdict above was not recorded: runs/ro/csim.json could not be written "
                               "(Permission denied); it still holds the earlier verdict")
        assert err.index(verdict) < err.index(line) and err.strip().splitlines()[-1] == line
        assert snapshot(ro) == before  # nothing written, nothing left behind (the compile went to a temporary copy)
    finally:
        _writable(ro)


def _hold_lock(folder):
    """A helper process holding the folder's lock, as a running tsflow command does; returns it once locked."""
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
                               "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(120)", str(folder)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_build_folder_has_one_owner_at_a_time(built):
    cwd = built
    x = cwd / "runs" / "x"
    before = snapshot(x)
    holder = _hold_lock(x)
    try:
        refused = {cmd[0]: tsflow(cwd, *cmd) for cmd in (
            ["csim", "runs/x"], ["export", "runs/x"],
            ["build", "tiny.yaml", "--out", "runs/x", "--force", "--trained", "runs/x"])}
    finally:
        holder.kill()
        holder.wait()
    for command, done in refused.items():
        assert done.returncode == 2, (command, done.stderr)
        [line] = error_lines(done.stderr)
        assert f"is in use by another process (pid {holder.pid}" in line, (command, line)
        assert f"(kill {holder.pid}), then run this again" in line, (command, line)
    assert "even with --force" in error_lines(refused["build"].stderr)[0]
    assert snapshot(x) == before and not (cwd / "runs" / "x.partial").exists()


def test_force_never_takes_the_folder_of_a_build_that_is_still_running(built):
    cwd = built
    first = subprocess.Popen([sys.executable, "-m", "flow", "build", "tiny.yaml", "--out", "runs/two", "--trained",
                              "runs/x"], cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    partial = cwd / "runs" / "two.partial"
    try:
        deadline = time.monotonic() + 120
        while not (partial / "RUNNING").is_file() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGSTOP)  # held where it is: certainly still running while the second starts
        assert json.loads((partial / "RUNNING").read_text())["pid"] == first.pid
        before = snapshot(partial)
        for force in (["--force"], []):
            second = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/two", *force, "--trained", "runs/x")
            assert second.returncode == 2, second.stderr
            [line] = error_lines(second.stderr)
            assert f"output folder {partial} is being written by another tsflow run (pid {first.pid}, since " in line
            assert "build tiny.yaml --out runs/two --trained runs/x); it is left untouched, even with --force: wait " \
                   f"for it to finish, or stop it (kill {first.pid})" in line
        assert snapshot(partial) == before and not (partial / "FAILED").exists()
    finally:
        first.send_signal(signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    two = cwd / "runs" / "two"
    assert not partial.exists() and not (two / "FAILED").exists() and not (two / "RUNNING").exists()
    assert json.loads((two / "csim.json").read_text())["bit_exact"] is True
    done = tsflow(cwd, "csim", "runs/two")  # the complete build is taken as one
    assert done.returncode == 0 and "0 differ: bit-exact\n" in done.stderr, done.stderr


def test_force_refuses_a_build_folder_holding_files_tsflow_did_not_write(built):
    cwd = built
    mine = cwd / "runs" / "mine"
    shutil.copytree(cwd / "runs" / "x", mine)
    written = json.loads((mine / "manifest.json").read_text())["files"]
    assert "csim.json" in written and "hls/firmware/tsflow_model.cpp" in written and "model/model.weights.h5" in written
    (mine / "NOTES.txt").write_text("mine")
    (mine / "hls" / "mine.cpp").write_text("// mine")
    build = ["build", "tiny.yaml", "--out", "runs/mine", "--force", "--trained", "runs/x"]
    before = snapshot(mine)
    done = tsflow(cwd, *build)
    assert done.returncode == 2, done.stderr
    [line] = error_lines(done.stderr)
    assert line == (f"error: output folder {mine} holds 2 files tsflow did not write (NOTES.txt, hls/mine.cpp); "
                    f"--force replaces only what tsflow wrote: move them out of {mine} (or choose another --out) and "
                    f"run again")
    for k in range(5):
        (mine / f"more{k}.txt").write_text("mine")
    done = tsflow(cwd, *build)
    [line] = error_lines(done.stderr)
    assert done.returncode == 2 and "holds 7 files tsflow did not write (NOTES.txt, hls/mine.cpp, more0.txt, " \
                                   "more1.txt, more2.txt and 2 more)" in line
    # a build folder from before manifests: judged by the names a build writes at its top level
    (mine / "manifest.json").unlink()
    before = snapshot(mine)
    done = tsflow(cwd, *build)
    [line] = error_lines(done.stderr)
    assert done.returncode == 2 and "holds 6 files tsflow did not write (NOTES.txt, more0.txt, more1.txt, " \
                                   "more2.txt, more3.txt and 1 more)" in line
    assert snapshot(mine) == before and not (cwd / "runs" / "mine.partial").exists()


def test_trained_takes_a_build_folder_and_refuses_anything_else_clearly(built):
    cwd = built
    done = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/again", "--trained", "runs/x")
    assert done.returncode == 0, done.stderr
    assert "> reusing the trained model of the build folder runs/x (runs/x/model)" in done.stderr
    assert "epoch" not in done.stderr  # not trained again
    again, x = cwd / "runs" / "again", cwd / "runs" / "x"
    assert (again / "model" / "model.weights.h5").read_bytes() == (x / "model" / "model.weights.h5").read_bytes()
    assert json.loads((again / "csim.json").read_text())["bit_exact"] is True
    # a build that did not finish, a folder without a model, no folder: refused before any output folder
    half = cwd / "runs" / "half.partial"
    shutil.copytree(x / "model", half / "model")
    (half / "FAILED").write_text("KeyboardInterrupt: \n")
    (cwd / "empty").mkdir()
    for trained, message in (
            ("runs/half.partial", "error: --trained runs/half.partial: the folder of a build that did not finish; its "
                                  "model/ may be incomplete: build again, or pass --trained runs/half.partial/model if "
                                  "its training finished"),
            ("empty", "error: --trained empty: holds no trained model (neither model.weights.h5 of a 'tsflow train' "
                      "folder nor model/ of a build folder); run 'tsflow train' first, or give a build's --out"),
            ("nowhere", "error: --trained nowhere: no such folder; give the --out of 'tsflow train' or of a 'tsflow "
                        "build'")):
        done = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/never", "--trained", trained)
        assert done.returncode == 2 and error_lines(done.stderr) == [message], done.stderr
        assert not (cwd / "runs" / "never").exists() and not (cwd / "runs" / "never.partial").exists()


def test_a_reused_model_carries_its_integer_parameters_from_its_weights(built):
    """``integer_params.npz`` is derived from the weights: a truncated copy in the reused folder is not carried
    into the new build (the report's integer reference forward reads it)."""
    cwd = built
    source = cwd / "cut"
    shutil.copytree(cwd / "runs" / "x" / "model", source)
    whole = (source / "integer_params.npz").read_bytes()
    (source / "integer_params.npz").write_bytes(whole[: len(whole) // 3])
    done = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/cut", "--trained", "cut")
    assert done.returncode == 0, done.stderr
    with np.load(cwd / "runs" / "x" / "model" / "integer_params.npz") as want, \
            np.load(cwd / "runs" / "cut" / "model" / "integer_params.npz") as got:
        assert sorted(got.files) == sorted(want.files) and len(want.files) > 0
        for name in want.files:
            assert np.array_equal(got[name], want[name]), name


def test_csim_of_a_build_whose_weights_folder_was_removed_names_it_as_an_incomplete_folder(built):
    """Tour 5 b14: ``rm -r hls/firmware/weights`` then ``tsflow csim`` was a raw g++ 'No such file' and exit 1;
    what the C++ includes is now checked as the other files of the folder are: exit 2, before anything runs."""
    cwd = built
    damaged = cwd / "runs" / "noweights"
    shutil.copytree(cwd / "runs" / "x", damaged)
    weights = len(list((damaged / "hls" / "firmware" / "weights").glob("*.h")))
    assert weights > 10
    shutil.rmtree(damaged / "hls" / "firmware" / "weights")
    before = snapshot(damaged)
    done = tsflow(cwd, "csim", "runs/noweights")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: runs/noweights is an incomplete build folder (missing: hls/firmware/weights/ ({weights} files)); run "
        f"'tsflow build' again (--force replaces this folder)"]
    assert snapshot(damaged) == before


def _pin(folder):
    """Make ``folder`` impossible to remove for this test's tsflow: ``chattr -R +i`` (immutable, binds root too);
    where chattr cannot be used, ``hls/`` read-only for a process whose mode bits bind. Returns (how, undo)."""
    if shutil.which("chattr"):
        if subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True).returncode == 0:
            return "immutable", lambda: subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)
        subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True)  # what a partial +i set
    _read_only(folder / "hls")
    return "read-only", lambda: _writable(folder / "hls")


def _append_only(*folders):
    """``chattr +a`` on each folder (files can be made in it, none removed or renamed); skip where it cannot be set
    (not root, or a file system without inode flags). Returns the undo."""
    def undo():
        for folder in folders:
            subprocess.run(["chattr", "-a", str(folder)], capture_output=True)
    for folder in folders:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+a", str(folder)], capture_output=True).returncode:
            undo()
            # the refusal's logic runs everywhere in the two tests below (flags and a refused removal given);
            # this end-to-end case needs the real flag, which only root on a file system with inode flags can set
            pytest.skip("chattr +a cannot be set here (it needs root and a file system with inode flags)")
    return undo


def test_an_append_only_folder_is_refused_before_any_work_and_leaves_no_probe(built):
    """Tour 7 b58/b59: in a folder under ``chattr +a`` the writability probe could be made but not removed: a
    PermissionError traceback from build, export and the report, and a ``.tsflow-probe-*`` file left each time."""
    cwd = built
    apparent = cwd / "apparent"
    apparent.mkdir()
    kept = cwd / "runs" / "appended"
    shutil.copytree(cwd / "runs" / "x", kept)
    undo = _append_only(apparent, kept)
    try:
        done = tsflow(cwd, "build", "tiny.yaml", "--out", "apparent/run", "--trained", "runs/x")
        assert done.returncode == 2 and error_lines(done.stderr) == [
            "error: cannot create the output folder apparent/run: apparent is append-only (chattr +a), so the run's "
            "folder could be made in it but not renamed into place; make it writable (chattr -a apparent), or choose "
            "another --out"], done.stderr
        assert "hls4ml conversion" not in done.stderr and os.listdir(apparent) == []
        before = snapshot(kept)
        why = ("(it is append-only (chattr +a): files can be made in it but not removed or replaced, as tsflow must; "
               "chattr -a runs/appended undoes it)")
        done = tsflow(cwd, "export", "runs/appended")
        assert done.returncode == 2 and error_lines(done.stderr) == [
            f"error: cannot write in the build folder runs/appended {why}: export writes its scripts (and with --run "
            f"the tools' outputs) into it; make it writable, or copy it (cp -r runs/appended COPY) and run 'tsflow "
            f"export COPY'"], done.stderr
        done = subprocess.run([sys.executable, "-m", "flow.report", "runs/appended"], cwd=cwd, env=ENV,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 2 and error_lines(done.stderr) == [
            f"error: the report cannot be written into runs/appended {why}: make it writable, or copy the folder "
            f"(cp -r runs/appended COPY) and run 'python -m flow.report COPY' to write the report there"], done.stderr
        assert snapshot(kept) == before  # no probe file left, nothing rewritten
    finally:
        undo()


def test_where_the_flags_cannot_be_read_a_probe_that_cannot_be_removed_is_named(tmp_path, monkeypatch):
    """Tour 7 b58: the probe's removal raised; where the inode flags are not readable (another file system) the
    probe is the only test: the folder is refused as one where files cannot be removed, naming the file left.
    The refused removal is what an append-only folder does to it (EPERM), made so here without root."""
    import errno
    from pathlib import Path

    from flow import locks

    def refused(self, missing_ok=False):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(self))

    monkeypatch.setattr(locks, "pinned", lambda path: None)
    monkeypatch.setattr(Path, "unlink", refused)
    why = locks.not_writable(tmp_path)
    left = [p.name for p in tmp_path.iterdir()]
    assert why is not None and why.filename == str(tmp_path) and len(left) == 1
    assert why.strerror == (f"files can be made in it but not removed (Operation not permitted), as tsflow must; "
                            f"remove the file {left[0]} it left once it can")


@pytest.mark.parametrize("flag, words", [
    ("append-only", "it is append-only (chattr +a): files can be made in it but not removed or replaced"),
    ("immutable", "it is immutable (chattr +i): nothing can be made in it"),
])
def test_a_folder_whose_flags_forbid_removing_is_refused_without_a_probe(tmp_path, monkeypatch, flag, words):
    """The flags are read before any probe is made, so nothing is left behind; the flags are given here as
    ``pinned`` reads them (the real ``chattr +a`` case, which needs root, is the end-to-end test above)."""
    from flow import locks

    monkeypatch.setattr(locks, "pinned", lambda path: flag if path == tmp_path else None)
    why = locks.not_writable(tmp_path)
    assert why is not None and why.strerror.startswith(words) and why.filename == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_build_force_over_a_folder_it_cannot_remove_is_refused_before_any_work(built):
    """Tour 5 b71: ``chattr -R +i f/b71; tsflow build cfg --out f/b71 --force`` trained, converted and simulated,
    then said the result stays in f/b71.partial (marked FAILED, refused by csim and --trained). Now one line before
    the run makes its folder, as export does (b18)."""
    cwd = built
    pinned = cwd / "runs" / "pinned"
    shutil.copytree(cwd / "runs" / "x", pinned)
    how, undo = _pin(pinned)
    try:
        before = snapshot(pinned)
        args = ["build", "tiny.yaml", "--out", "runs/pinned", "--force", "--trained", "runs/x"]
        done = tsflow(cwd, *args) if how == "immutable" else tsflow_unprivileged(cwd, *args)
        assert done.returncode == 2, done.stderr
        [line] = error_lines(done.stderr)
        if how == "immutable":
            assert line == ("error: cannot replace the output folder runs/pinned: runs/pinned is immutable (chattr +i), "
                            "so it cannot be removed; nothing was done: make it removable (chattr -R -i runs/pinned), "
                            "or choose another --out")
        else:
            assert line == ("error: cannot replace the output folder runs/pinned: runs/pinned/hls cannot be written "
                            "(Permission denied), so what it holds cannot be removed; nothing was done: make it "
                            "writable, or choose another --out")
        assert "C simulation" not in done.stderr and "hls4ml conversion" not in done.stderr  # no work was done
        assert not (cwd / "runs" / "pinned.partial").exists() and snapshot(pinned) == before
    finally:
        undo()
    if how == "immutable":  # one file that cannot be removed is enough, and is named
        subprocess.run(["chattr", "+i", str(pinned / "estimate.json")], check=True)
        try:
            done = tsflow(cwd, "build", "tiny.yaml", "--out", "runs/pinned", "--force", "--trained", "runs/x")
            assert done.returncode == 2 and error_lines(done.stderr) == [
                "error: cannot replace the output folder runs/pinned: runs/pinned/estimate.json is immutable (chattr "
                "+i), so it cannot be removed; nothing was done: make it removable (chattr -R -i runs/pinned), or "
                "choose another --out"], done.stderr
        finally:
            subprocess.run(["chattr", "-i", str(pinned / "estimate.json")], check=True)
    # nor can the run make its folder where nothing can be made
    locked = cwd / "locked"
    locked.mkdir()
    if how == "immutable":
        subprocess.run(["chattr", "+i", str(locked)], check=True)
    else:
        locked.chmod(0o500)
    try:
        args = ["build", "tiny.yaml", "--out", "locked/sub/run", "--trained", "runs/x"]
        done = tsflow(cwd, *args) if how == "immutable" else tsflow_unprivileged(cwd, *args)
        assert done.returncode == 2 and len(error_lines(done.stderr)) == 1, done.stderr
        assert error_lines(done.stderr)[0] == (
            "error: cannot create the output folder locked/sub/run: locked is immutable (chattr +i), so nothing can be "
            "made in it; make it writable (chattr -i locked), or choose another --out" if how == "immutable" else
            "error: cannot create the output folder locked/sub/run: locked cannot be written (Permission denied); make "
            "it writable, or choose another --out")
        assert "hls4ml conversion" not in done.stderr and os.listdir(locked) == []
    finally:
        if how == "immutable":
            subprocess.run(["chattr", "-i", str(locked)], check=True)
        else:
            locked.chmod(0o700)
