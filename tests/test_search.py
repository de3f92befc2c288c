"""tsflow search: bad input refused before any work, pruning before training, resume after Ctrl-C
(SQLite), and workers sharing one study on a real PostgreSQL server, one of them killed mid-trial.

Every search runs the real command as a subprocess; the PostgreSQL server is the system package,
started in a temporary folder by the test and stopped after.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from .conftest import CLI_ENV, TINY, postgres_bin

SPACE = {"model.d_model": [8, 16], "quantization.bits": [4, 8]}


def search_yaml(tmp_path: Path, name: str = "s", space: dict | None = None, **extra) -> Path:
    raw = json.loads(json.dumps(TINY))
    raw["name"] = name
    raw["search"] = {"space": space or SPACE, "objectives": ["val_mse", "latency"], "float_epochs": 1,
                     "qat_epochs": 1, **extra.pop("search", {})}
    raw.update(extra)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def tsflow(*args, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flow", *map(str, args)], capture_output=True, text=True,
                          env=CLI_ENV, cwd=cwd, timeout=timeout)


def start(*args) -> subprocess.Popen:
    """The command as a terminal starts it: Ctrl-C (SIGINT) interrupts it, even where the test runner's
    worker ignores SIGINT (an ignored signal would be inherited)."""
    return subprocess.Popen([sys.executable, "-m", "flow", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=CLI_ENV,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def load(url: str, name: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=url)


def wait_for_running(url: str, pid: int, proc: subprocess.Popen, timeout: float = 240):
    """The number of a trial the process ``pid`` is running, once it has one. Read with plain SQL: opening
    the storage through Optuna would create its tables, racing the worker that is creating them."""
    from sqlalchemy import create_engine, text

    query = text("SELECT t.number FROM trials t JOIN trial_user_attributes a ON a.trial_id = t.trial_id "
                 "WHERE t.state = 'RUNNING' AND a.key = 'worker' AND a.value_json LIKE :pid "
                 "AND EXISTS (SELECT 1 FROM trial_params p WHERE p.trial_id = t.trial_id)")  # its choices drawn
    engine = create_engine(url)
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            assert proc.poll() is None, proc.communicate()
            if not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).is_file():
                try:
                    with engine.connect() as connection:
                        row = connection.execute(query, {"pid": f'%:{pid}"'}).first()
                    if row:
                        return row[0]
                except Exception:  # the tables are not there yet
                    pass
            time.sleep(0.3)
    finally:
        engine.dispose()
    raise AssertionError(f"worker {pid} ran no trial within {timeout} s")


def trainings(out: Path) -> list[dict]:
    log = out / "trainings.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


# ---------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("search, extra, message", [
    ({"space": {}}, {}, "search.space is empty"),
    ({"space": {"model.d_model": [8, 0]}}, {}, "search.space.model.d_model = 0: not a valid choice"),
    ({"space": {"model.depth": [1, 2]}}, {}, "search.space.model.depth = 1: not a valid choice"),
    ({"space": {"quantization.bits": [4, 4]}}, {}, "search.space.quantization.bits: 4 is listed twice"),
    ({"space": {"hls.storage.enc9.q": ["bram"]}}, {}, "search.space.hls.storage.enc9.q = 'bram': not a valid choice"),
    ({"space": {"model.d_model": [9, 15], "model.heads": [2]}}, {},  # each fine alone, never together
     "none of 2 candidates of search.space fits xc7s15ftgb196-2 within 80% of every resource (or is a valid "
     "configuration); the first: invalid configuration: model = {...}: Value error, d_model (9) must be "
     "divisible by heads (2)"),
    ({"space": {"model.d_model": [64], "hls.default_storage": ["registers"]}}, {"target": {"part": "xc7s6cpga196-1"}},
     "none of 1 candidates of search.space fits xc7s6cpga196-1 within 80% of every resource"),
    # b89: every clock trained the same model, scored it the same (latency in cycles) and kept each on the front
    ({"space": {"target.clock_mhz": [100, 200]}}, {},
     "search.space.target.clock_mhz: no objective in search.objectives (val_mse, latency) depends on it (latency is "
     "in clock cycles; resources and val_mse do not change with it), so every choice would train the same model and "
     "score the same; of the objectives only energy depends on target.clock_mhz: add energy to search.objectives, or "
     "set target.clock_mhz in the target section"),
])
def test_a_search_that_cannot_work_is_refused_before_any_work(tmp_path, search, extra, message):
    config = search_yaml(tmp_path, space=search["space"] or {"model.d_model": [8]}, **extra)
    if not search["space"]:
        raw = yaml.safe_load(config.read_text())
        raw["search"]["space"] = {}
        config.write_text(yaml.safe_dump(raw))
    done = tsflow("search", config, "--trials", 3, "--out", tmp_path / "out", timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert message in " ".join(done.stderr.split()), done.stderr
    assert not (tmp_path / "out").exists()


def test_an_unreachable_storage_is_refused_before_any_work(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = tsflow("search", search_yaml(tmp_path), "--trials", 3, "--out", tmp_path / "out",
                  "--storage", f"postgresql://tsflow:secret@127.0.0.1:{port}/nowhere", timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"--storage: cannot reach the study storage at 127.0.0.1:{port}/nowhere" in done.stderr
    assert "secret" not in done.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
def test_an_in_memory_storage_is_refused_before_any_work(tmp_path, url):
    """Each connection opens its own in-memory database: the heartbeat thread's has no tables (tracebacks in
    the middle of the search), and no worker or resume could join it."""
    done = tsflow("search", search_yaml(tmp_path), "--trials", 3, "--out", tmp_path / "out", "--storage", url,
                  timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"error: --storage {url!r}: an in-memory SQLite database lives in one connection" in done.stderr
    assert "sqlite:///path/study.db" in done.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("url, message", [
    ("study.db", ("error: --storage 'study.db': not a URL; a study storage is a URL: sqlite:///study.db (a file: "
                  "this one), postgresql://user:password@host/db (postgres:// too), or leave --storage out")),
    ("redis://localhost:6379", ("error: --storage 'redis://localhost:6379': redis:// is not a study storage tsflow "
                                "can use; allowed: sqlite:///study.db (a file")),
    ("mysql://me:secret@db/x", ("error: --storage 'mysql://me@db/x': mysql:// is not a study storage tsflow can "
                                "use; allowed: sqlite:///study.db (a file")),
], ids=["path", "redis", "mysql"])
def test_a_storage_that_is_not_a_sqlite_or_postgresql_url_is_refused_with_the_forms_allowed(tmp_path, url, message):
    """Before any connection is tried (SQLAlchemy's own words were 'Could not parse SQLAlchemy URL' and 'Can't
    load plugin: sqlalchemy.dialects:redis'); a password is never shown."""
    done = tsflow("search", search_yaml(tmp_path), "--trials", 3, "--out", tmp_path / "out", "--storage", url,
                  cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert message in " ".join(done.stderr.split()), done.stderr
    assert "postgresql://user:password@host/db" in done.stderr and "SQLAlchemy" not in done.stderr
    assert "secret" not in done.stderr and not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]  # no study.db made beside it either


@pytest.mark.parametrize("space, message", [
    # a tensor override is a mapping: the key without its field was read as layer enc0, tensor q, field weight
    ({"quantization.layers.enc0.q.weight": [4, 8]},
     ("search.space.quantization.layers.enc0.q.weight = [4, 8]: a tensor override is "
      "a mapping (bits, integer, rounding, overflow), so the space key must name the field it searches: "
      "quantization.layers.enc0.q.weight.bits: [4, 8] (or .integer, .rounding, .overflow)")),
    ({"quantization.layers.enc0.q.bits": [4, 8]},
     ("search.space.quantization.layers.enc0.q.bits: a per-tensor key is "
      "quantization.layers.LAYER.TENSOR.FIELD, TENSOR one of weight, bias, output, scale, shift, table")),
    # the search trains every candidate with search.float_epochs / search.qat_epochs: these change nothing
    ({"training.qat_epochs": [1, 50]},
     ("search.space.training.qat_epochs = [1, 50]: the search trains every candidate "
      "with its own recipe (search.qat_epochs = 1), so training.qat_epochs changes nothing a trial is scored on; set "
      "search.qat_epochs instead")),
    ({"model.d_model": [8, 16], "training.float_epochs": [1, 5]},
     ("search.space.training.float_epochs = [1, 5]: the search trains every candidate with its own recipe "
      "(search.float_epochs = 1), so training.float_epochs changes nothing a trial is scored on; set "
      "search.float_epochs instead")),
], ids=["tensor-without-field", "layer-without-tensor", "training.qat_epochs", "training.float_epochs"])
def test_a_space_key_the_search_would_misread_or_ignore_is_refused_with_what_to_write(tmp_path, space, message):
    config = search_yaml(tmp_path, space=space)
    done = tsflow("search", config, "--trials", 3, "--out", tmp_path / "out", timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"error: invalid configuration {config}: " in done.stderr  # the file is named, as for any config error
    assert message in " ".join(done.stderr.split()), done.stderr
    assert not (tmp_path / "out").exists()


def test_a_per_tensor_key_that_names_its_field_is_a_valid_space():
    from flow.config import parse_config
    from flow.search.space import check_space

    raw = json.loads(json.dumps(TINY))
    raw["search"] = {"space": {"quantization.layers.enc0.q.weight.bits": [4, 8],
                               "quantization.layers.embed.weight.integer": [2, 3]}}
    check_space(parse_config(raw))


def test_float_models_trained_with_other_float_settings_are_not_shared():
    """The float model is cached per architecture: a space over training.learning_rate (or batch size,
    patience) or another float_epochs must get a float model of its own, not the first trial's."""
    from flow.config import parse_config
    from flow.search.study import architecture_key

    def key(float_epochs=1, **training):
        raw = json.loads(json.dumps(TINY))
        raw["training"].update(training)
        return architecture_key(parse_config(raw), float_epochs)

    base = key()
    assert key(learning_rate=1e-2) != base and key(batch_size=32) != base and key(patience=3) != base
    assert key(float_epochs=2) != base
    assert key(qat_learning_rate=1e-2) == base and key(qat_epochs=7) == base  # the QAT's: one float model


def test_a_folder_of_other_files_is_never_used(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    done = tsflow("search", search_yaml(tmp_path), "--trials", 3, "--out", out, timeout=120)
    assert done.returncode == 2 and "holds files a search did not write" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


# ------------------------------------------------------------------ pruning, resume, Pareto output

def test_candidates_that_cannot_fit_are_pruned_and_never_trained(tmp_path):
    """d_model 64 in registers does not fit the XC7S15: those trials are pruned with their estimate, and
    the trainings log (one line per training) holds only d_model 8."""
    from optuna.trial import TrialState

    config = search_yaml(tmp_path, space={"model.d_model": [8, 64], "hls.default_storage": ["registers"]})
    out = tmp_path / "out"
    done = tsflow("search", config, "--trials", 6, "--out", out)
    assert done.returncode == 0, done.stderr
    study = load(f"sqlite:///{out / 'study.db'}", "s")
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    finished = len(pruned) + len(complete)  # --trials 6, or fewer once both points of the space were tried
    said = f"every one of the 2 points of search.space has been tried; stopping after {finished} trials"
    assert pruned and complete and (finished >= 6 or said in " ".join((done.stdout + done.stderr).split()))
    assert all(t.params["model.d_model"] == 64 and not t.user_attrs["estimate"]["fits"] for t in pruned)
    assert all(t.params["model.d_model"] == 8 for t in complete)
    assert [t["choice"]["model.d_model"] for t in trainings(out)] == [8]  # repeats are not trained again
    rows = json.loads((out / "pareto.json").read_text())
    assert [r["choice"] for r in rows] == [{"model.d_model": 8, "hls.default_storage": "registers"}]
    assert (out / "pareto.png").stat().st_size > 10_000 and "trial-" in (out / "pareto.txt").read_text()
    point = yaml.safe_load(Path(rows[0]["yaml"]).read_text())
    assert point["model"]["d_model"] == 8 and point["hls"]["default_storage"] == "registers"
    assert "pruned: does not fit xc7s15ftgb196-2 within the headroom (estimate)" in done.stderr
    assert "Pareto front of s: 1 trained" in " ".join(done.stdout.split())


def test_a_pareto_yaml_builds_bit_exact(tmp_path):
    config = search_yaml(tmp_path, space={"quantization.bits": [6]})
    out = tmp_path / "out"
    assert tsflow("search", config, "--trials", 1, "--out", out).returncode == 0
    (row,) = json.loads((out / "pareto.json").read_text())
    done = tsflow("build", row["yaml"], "--out", tmp_path / "build")
    assert done.returncode == 0, done.stderr
    csim = json.loads((tmp_path / "build" / "csim.json").read_text())
    assert csim["bit_exact"] and csim["samples"] > 1000 and csim["boundary_mismatches"] == 0


def _training_started(out: Path, trial: int, pid: int, proc: subprocess.Popen, timeout: float = 240) -> None:
    """Wait until ``trainings.log`` shows the process ``pid`` has started training ``trial`` (the line is
    written just before QAT, whose epochs check for a Ctrl-C)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()
        if any(t["trial"] == trial and t["worker"].endswith(f":{pid}") for t in trainings(out)):
            return
        time.sleep(0.1)
    raise AssertionError(f"trial {trial} did not start training within {timeout} s")


def test_ctrl_c_then_the_same_command_resumes_with_nothing_lost(tmp_path):
    from optuna.trial import TrialState

    # 6 points: --trials 4 cannot try them all (a search stops once it has), so it runs all 4
    config = search_yaml(tmp_path, space={"model.d_model": [8, 16], "quantization.bits": [4, 6, 8]})
    out = tmp_path / "out"
    url = f"sqlite:///{out / 'study.db'}"
    # Ctrl-C once a trial is training: it stops between epochs and the trial fails. The interrupt can still
    # land after the trial's last check (it then finishes, or is pruned as a repeat): up to 3 tries, each the
    # same command resumed, until an interrupted trial has failed, the case the resume must queue again
    for attempt in range(3):
        proc = start("search", config, "--trials", 4, "--out", out)
        stopped = wait_for_running(url, proc.pid, proc)
        _training_started(out, stopped, proc.pid, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130 and "run the same command to resume" in err and "Traceback" not in err
        before = {t.number: t.state for t in load(url, "s").get_trials()}
        assert before[stopped] in (TrialState.FAIL, TrialState.COMPLETE, TrialState.PRUNED)
        if before[stopped] == TrialState.FAIL:
            break
    assert before[stopped] == TrialState.FAIL, f"3 interruptions during training, none failed its trial: {before}"
    done = tsflow("search", config, "--trials", 4, "--out", out)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    # b18: the stopped trial is said and counted as interrupted, not as failed
    assert f"{stopped} stopped by Ctrl-C (interrupted, not failed) before finishing: queued again with the same " \
           f"choices" in output, output
    progress_lines = [line for line in output.splitlines() if "| finished" in line]
    assert progress_lines and all(", failed 0," in line for line in progress_lines), output
    trials = load(url, "s").get_trials()
    assert all(t.user_attrs.get("interrupted") is True for t in trials if t.number in before
               and before[t.number] == TrialState.FAIL)
    assert {t.number: t.state for t in trials if t.number in before} == before  # nothing earlier changed
    failed = [n for n, state in before.items() if state == TrialState.FAIL]
    assert stopped in failed
    for number in failed:  # each queued again, once, with its choices, and run to the end
        again = [t for t in trials if t.user_attrs.get("retry_of") == number]
        assert len(again) == 1 and again[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
        assert again[0].params == next(t for t in trials if t.number == number).params
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) == 4
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL}


# ------------------------------------------------------------------------- PostgreSQL, shared study

@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of the system package in a temporary folder (as the postgres user when the
    tests run as root: the server refuses root), on a free local port; stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="tsflow-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    as_user = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        for path in (folder, sockets):
            shutil.chown(path, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "tsflow", "--auth=trust"], check=True,
                   capture_output=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o",
                    f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://tsflow@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_workers_share_one_postgres_study_and_a_killed_worker_loses_nothing(postgres, tmp_path):
    """A worker killed mid-trial (SIGKILL) stops sending heartbeats; once its heartbeat is older than the
    grace period, the next trial another worker starts marks it failed and queues its choices again,
    which a worker then runs. Every trial is accounted for exactly once."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    from flow.search.study import GRACE_S, storage_url

    # 10 points: 6 (or 7) finished trials cannot try them all (a search stops once it has)
    config = search_yaml(tmp_path, name="shared", space={"model.d_model": [8, 16], "quantization.bits": [4, 5, 6, 7, 8]})
    url = storage_url(tmp_path, postgres)
    args = ["search", config, "--trials", 6, "--storage", postgres, "--study", "shared"]
    doomed = start(*args, "--out", tmp_path / "w3")
    killed = wait_for_running(url, doomed.pid, doomed)
    doomed.kill()
    doomed.communicate()
    time.sleep(GRACE_S + 1)  # its heartbeat is now stale
    workers = [start(*args, "--out", tmp_path / f"w{i}") for i in (1, 2)]
    for w in workers:
        _, err = w.communicate(timeout=900)
        assert w.returncode == 0, err
    trials = load(url, "shared").get_trials()
    states = {t.number: t.state for t in trials}
    assert states[killed] == TrialState.FAIL
    retries = [t for t in trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed]
    assert len(retries) == 1 and retries[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert retries[0].params == next(t for t in trials if t.number == killed).params
    assert [n for n, s in states.items() if s == TrialState.FAIL] == [killed]  # no other trial lost
    assert set(states.values()) <= {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL}  # none left running
    finished = sum(s in (TrialState.COMPLETE, TrialState.PRUNED) for s in states.values())
    assert 6 <= finished <= 7  # the two workers may each finish one trial past 6, never a trial twice
    by_worker = {t.user_attrs["worker"].split(":")[1] for t in trials if t.state == TrialState.COMPLETE}
    assert {str(w.pid) for w in workers} <= by_worker  # both workers did trials
    for w, i in zip(workers, (1, 2)):
        assert json.loads((tmp_path / f"w{i}" / "pareto.json").read_text())  # each reports the shared front


# ---------------------------------------------------------------- a finite space, a changed search

def test_a_search_stops_once_every_point_of_its_space_has_been_tried(tmp_path):
    """2 points, one pruned before training: --trials 1000 would draw them again forever; the search stops
    once both have been tried (a pruned point counts), writes the front and exits 0. Run again, it stops
    at once."""
    from optuna.trial import TrialState

    config = search_yaml(tmp_path, space={"model.d_model": [8, 64], "hls.default_storage": ["registers"]})
    out = tmp_path / "out"
    done = tsflow("search", config, "--trials", 1000, "--out", out, timeout=300)
    assert done.returncode == 0, done.stderr
    trials = load(f"sqlite:///{out / 'study.db'}", "s").get_trials()
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert {t.params["model.d_model"] for t in finished} == {8, 64} and len(finished) == len(trials)
    said = (f"every one of the 2 points of search.space has been tried; stopping after {len(finished)} trials")
    assert said in " ".join((done.stdout + done.stderr).split())
    assert [r["choice"]["model.d_model"] for r in json.loads((out / "pareto.json").read_text())] == [8]
    again = tsflow("search", config, "--trials", 1000, "--out", out, timeout=300)
    assert again.returncode == 0 and said in " ".join((again.stdout + again.stderr).split()), again.stderr
    assert len(load(f"sqlite:///{out / 'study.db'}", "s").get_trials()) == len(trials)


def test_choices_a_complete_trial_had_are_not_trained_again(tmp_path):
    """Drawn twice (here queued twice) before the space is exhausted, one point is trained once: the second
    trial copies the first's scores."""
    import optuna

    from flow.config import load_config
    from flow.search.study import load_study, run

    cfg = load_config(search_yaml(tmp_path, space={"quantization.bits": [6, 8]}))
    out = tmp_path / "out"
    out.mkdir()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = load_study(cfg, out, None, None)
    for _ in range(2):
        study.enqueue_trial({"quantization.bits": 6})
    first, second = run(cfg, out, trials=2).get_trials()
    assert second.user_attrs["same_as"] == first.number and second.values == first.values
    assert [t["trial"] for t in trainings(out)] == [first.number]


def test_a_search_resumed_with_another_recipe_is_refused_and_the_folder_left_as_it_was(tmp_path):
    """The first run trained with search.qat_epochs 1; resumed with 3, its trials would sit in one front with
    the new ones. What does not decide a trial's result (the name, the sampler's seed) may change."""
    config = search_yaml(tmp_path, space={"quantization.bits": [6, 8]})
    out = tmp_path / "out"
    assert tsflow("search", config, "--trials", 1, "--out", out).returncode == 0
    before = {str(p): p.stat().st_mtime_ns for p in out.rglob("*")}
    raw = yaml.safe_load(config.read_text())
    raw["search"]["qat_epochs"] = 3
    raw["model"]["ffn"] = 8
    config.write_text(yaml.safe_dump(raw))
    done = tsflow("search", config, "--trials", 2, "--out", out, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (f"error: --out {out} (its study.db): study 's' was started with another configuration (model.ffn: 16 -> 8; "
            f"search.qat_epochs: 1 -> 3); its trials were trained and scored with the first, and resuming would mix "
            f"both in one front: give a new --out folder for the changed configuration, or set those keys back to "
            f"resume") in " ".join(done.stderr.split()), done.stderr
    assert {str(p): p.stat().st_mtime_ns for p in out.rglob("*")} == before
    assert len(load(f"sqlite:///{out / 'study.db'}", "s").get_trials()) == 1
    raw["search"].update(qat_epochs=1, seed=5)  # back, with another name and seed: resumed
    raw["model"]["ffn"] = 16
    raw["name"] = "renamed"
    config.write_text(yaml.safe_dump(raw))
    done = tsflow("search", config, "--trials", 2, "--out", out, "--study", "s")
    assert done.returncode == 0, done.stderr
    assert len(load(f"sqlite:///{out / 'study.db'}", "s").get_trials()) == 2


# ------------------------------------------------------------- a folder resumed with the wrong storage, at once, ...

def searched_folder(tmp_path: Path, config: Path, storage: str | None = None, trial_config: str | None = None):
    """A search folder as a finished run leaves it, made without training: search.json, and (without
    ``storage``) study.db holding the study with one complete trial whose YAML ``trial_config`` is."""
    import optuna

    from flow.config import load_config
    from flow.search.study import MARKER, OWN_STORAGE, load_study

    cfg = load_config(config)
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"config": cfg.name, "study": cfg.name,
                                          "storage": storage or OWN_STORAGE}))
    if storage is None:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = load_study(cfg, out, None, None)
        dist = optuna.distributions.CategoricalDistribution([4, 8])
        study.add_trial(optuna.trial.create_trial(params={"quantization.bits": 4},
                                                  distributions={"quantization.bits": dist}, values=[1.0, 100.0],
                                                  user_attrs={"config": trial_config or "name: t\n"}))
    return out


def refused(*args, cwd=None) -> str:
    done = tsflow(*args, cwd=cwd, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output, output
    assert output.startswith("error: ") and output.count("error:") == 1, output
    return " ".join(output.split())


def test_a_folder_resumed_without_the_storage_it_recorded_is_refused(tmp_path):
    """b49: the first run kept its study at --storage sqlite:///b48.db; a rerun without --storage started another
    study in OUT/study.db and trained everything again."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config, storage="sqlite:///b48.db")
    before = sorted(p.name for p in out.iterdir())
    message = refused("search", config.name, "--trials", 3, "--out", "out", cwd=tmp_path)
    assert ("error: --out out holds the search 's' whose study is at sqlite:///b48.db (out/search.json); without "
            "--storage this run would start another study in out/study.db: pass --storage sqlite:///b48.db to "
            "resume it, or give a new --out") in message, message
    assert sorted(p.name for p in out.iterdir()) == before  # no study.db made
    message = refused("search", config.name, "--trials", 3, "--out", "out", "--storage", "sqlite:///other.db",
                      cwd=tmp_path)
    assert "whose study is at sqlite:///b48.db" in message and "--storage sqlite:///other.db would start another" \
        in message, message
    assert not (tmp_path / "other.db").exists()


def test_a_folder_of_its_own_study_resumed_with_a_new_storage_is_refused(tmp_path):
    """b51: --storage given to a folder whose search kept its study in its own study.db: a new study elsewhere,
    the folder's one orphaned. The same file spelled as a URL is the same storage."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config)
    message = refused("search", config.name, "--trials", 2, "--out", "out", "--storage", "sqlite:///b51.db",
                      cwd=tmp_path)
    assert ("error: --out out holds the search 's' whose study is out/study.db (out/search.json: no --storage); "
            "--storage sqlite:///b51.db would start another study there: leave --storage out to resume it, or give "
            "a new --out for a study at sqlite:///b51.db") in message, message
    assert not (tmp_path / "b51.db").exists()
    from flow.search.study import check_same_storage

    check_same_storage(out, f"sqlite:///{out.resolve() / 'study.db'}")  # the same file: no refusal


def test_a_damaged_study_database_of_the_folder_is_named(tmp_path):
    """b52: no --storage was given, so the error names the folder's own study.db and what to do."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config)
    (out / "study.db").write_bytes(os.urandom(3000))
    message = refused("search", config.name, "--trials", 2, "--out", "out", cwd=tmp_path)
    assert message.startswith("error: out/study.db (the study database of --out out) cannot be opened: "
                              "(sqlite3.DatabaseError) file is not a database"), message
    assert "move it away to start the search anew in out, or give a new --out" in message
    assert "--storage" not in message


@pytest.mark.parametrize("url, message", [
    ("sqlite:///~/b55.db", "error: --storage 'sqlite:///~/b55.db': ~ is not expanded in a URL (it would name a "
                           "folder '~' in {cwd}); write the absolute path: sqlite:///{home}/b55.db"),
    ("sqlite:///dbdir", "error: --storage 'sqlite:///dbdir': dbdir is a folder; name a file in it, such as "
                        "sqlite:///dbdir/study.db"),
    ("sqlite:///nowhere/x.db", "error: --storage 'sqlite:///nowhere/x.db': the folder nowhere does not exist"),
], ids=["b55-tilde", "b107-folder", "no-folder"])
def test_an_sqlite_url_sqlite_cannot_open_is_refused_saying_why(tmp_path, url, message):
    (tmp_path / "dbdir").mkdir()
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    got = refused("search", config.name, "--trials", 1, "--out", "out", "--storage", url, cwd=tmp_path)
    assert message.format(cwd=tmp_path, home=Path.home()) in got, got
    assert not (tmp_path / "out").exists() and not (tmp_path / "~").exists()


def test_a_second_search_on_a_folder_another_search_holds_is_refused(tmp_path):
    """b54: two searches on one --out wrote one folder's pareto files by turns; the second is refused while the
    first holds the folder, naming it."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from flow.locks import hold, in_use; "
                               "from pathlib import Path; p = Path(sys.argv[1]); "
                               "cm = hold(p, in_use(p)); cm.__enter__(); print('held', flush=True); time.sleep(120)",
                               str(out)], stdout=subprocess.PIPE, text=True, env=CLI_ENV)
    try:
        assert holder.stdout.readline().strip() == "held"
        message = refused("search", config.name, "--trials", 2, "--out", "out", cwd=tmp_path)
        assert message.startswith(f"error: --out out is in use by another search (pid {holder.pid}"), message
        assert "give this worker its own --out (workers share a study through --storage)" in message
        assert f"kill {holder.pid}" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_search_holds_its_folder_until_it_ends(tmp_path):
    from flow.config import load_config
    from flow.locks import lock_holder
    from flow.search.study import prepare_folder

    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = tmp_path / "new"
    prepare_folder(out, load_config(config), None, None)  # this process holds it now
    probe = subprocess.run([sys.executable, "-c", "import sys; from flow.locks import lock_holder; "
                            "print(lock_holder(sys.argv[1]))", str(out)], capture_output=True, text=True, env=CLI_ENV)
    assert f"'pid': {os.getpid()}" in probe.stdout, probe
    assert lock_holder(out) is None  # not to this process itself


def test_a_rerun_does_not_overwrite_a_pareto_yaml_edited_by_hand(tmp_path):
    """b108: the rerun wrote pareto/trial-0.yaml again over the user's edit; now it is refused up front, naming
    the file (a file the search did not write, such as notes.txt, is no matter)."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config, trial_config="name: t\nmodel: {d_model: 8}\n")
    (out / "pareto").mkdir()
    (out / "pareto" / "trial-0.yaml").write_text("name: t\nmodel: {d_model: 8}\n")
    (out / "pareto" / "notes.txt").write_text("notes\n")
    from flow.config import load_config
    from flow.search.study import edited_pareto_files, prepare_folder, stored_study

    assert edited_pareto_files(out, stored_study(out, None, None, load_config(config))) == []  # as written
    (out / "pareto" / "trial-0.yaml").write_text("name: t\nmodel: {d_model: 8}\n# edited\n")
    message = refused("search", config.name, "--trials", 2, "--out", "out", cwd=tmp_path)
    assert ("error: out/pareto/trial-0.yaml was edited (differs from what the search wrote), and this run writes the "
            "Pareto front's YAMLs again: move it out of out/pareto (keep your edits under another name) and run "
            "again") in message, message
    assert (out / "pareto" / "trial-0.yaml").read_text().endswith("# edited\n")
    prepare_folder(out, load_config(config), None, None, force=True)


def test_a_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path):
    """b105: resumed in a read-only folder, the search failed with a PermissionError traceback writing
    search.json; now it is one line naming the folder, before any storage is opened or model trained."""
    from .conftest import as_unprivileged, require_mode_bits

    require_mode_bits()
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config)
    out.chmod(0o555)
    try:
        done = subprocess.run([sys.executable, "-m", "flow", "search", config.name, "--trials", "2", "--out", "out"],
                              cwd=tmp_path, capture_output=True, text=True, env=CLI_ENV, timeout=120,
                              preexec_fn=as_unprivileged)
    finally:
        out.chmod(0o755)
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output, output
    assert output.startswith("error: --out out cannot be written (Permission denied); make it writable, or copy "
                             "it (cp -a out COPY) and resume the copy (--out COPY)"), output


# ------------------------------------------------------------------ tour 6: storage URLs, folders, workers

@pytest.mark.parametrize("url, message", [
    ("sqlite://b38.db", "error: --storage 'sqlite://b38.db': a SQLite file URL has three slashes before a relative "
                        "path and four before an absolute one: sqlite:///b38.db (relative to here) or "
                        "sqlite:////abs/path/b38.db (absolute)"),
    ("SQLITE:///b39.db", "error: --storage 'SQLITE:///b39.db': the scheme SQLITE:// is written in lower case: "
                         "sqlite:///b39.db"),
    ("PostgreSQL://me:secret@db/x", "error: --storage 'PostgreSQL://me@db/x': the scheme PostgreSQL:// is written in "
                                    "lower case: postgresql://me@db/x"),
], ids=["b38-two-slashes", "b39-upper-case", "postgresql-mixed-case"])
def test_a_storage_url_sqlalchemy_would_misread_says_what_to_write(tmp_path, url, message):
    """b38, b39: SQLAlchemy's own words ('Invalid SQLite URL', "Can't load plugin: sqlalchemy.dialects:SQLITE")
    did not say what to change; now the URL to write, before any connection (no database file made)."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    got = refused("search", config.name, "--trials", 1, "--out", "out", "--storage", url, cwd=tmp_path)
    assert got == message, got
    assert "secret" not in got and sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_a_search_folder_without_its_search_json_says_so_and_how_to_resume(tmp_path):
    """b42: a search folder whose search.json was deleted was refused as holding 'files a search did not write'.
    Now the message lists what the search wrote, names the missing file and gives it back to resume; the
    folder is left as it was. A study.db of another study, or --storage beside the folder's own study.db,
    is said as such."""
    from flow.config import load_config
    from flow.search.study import prepare_folder

    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config)
    (out / "float").mkdir()
    (out / "trainings.log").write_text("")
    (out / "search.json").unlink()
    before = sorted(p.name for p in out.iterdir())
    start = ("error: --out out holds a search's float/, study.db, trainings.log but no search.json (deleted?), which "
             "records the study and storage a rerun resumes")
    message = refused("search", config.name, "--trials", 2, "--out", "out", cwd=tmp_path)
    assert message == (f"{start}: to resume the study 's' in out/study.db, write it back (echo '{{\"config\": \"s\", "
                       f"\"study\": \"s\", \"storage\": \"sqlite (study.db here)\"}}' > out/search.json) and run this "
                       f"again, or give a new --out to start a search there"), message
    message = refused("search", config.name, "--trials", 2, "--out", "out", "--study", "t", cwd=tmp_path)
    assert message == (f"{start}; its study.db holds the study 's', not 't' (--study, or the configuration's name): "
                       f"give that --study to resume it, or give a new --out to start a search there"), message
    message = refused("search", config.name, "--trials", 2, "--out", "out", "--storage", "sqlite:///b42.db",
                      cwd=tmp_path)
    assert message.startswith(f"{start}; its study is in its own study.db (a search without --storage): leave "
                              f"--storage out to resume it"), message
    assert sorted(p.name for p in out.iterdir()) == before
    command = refused("search", config.name, "--trials", 2, "--out", "out", cwd=tmp_path).split(
        "write it back (", 1)[1].split(") and run this again", 1)[0]
    subprocess.run(command, shell=True, cwd=tmp_path, check=True)  # what the message says to do: the folder resumes
    prepare_folder(out, load_config(config), None, None)


def test_a_damaged_cached_float_model_is_trained_again_and_said(tmp_path):
    """b43: a truncated float/*.weights.h5 (the search's own cache of an architecture's float model) ended the
    resumed search in an OSError traceback. It is the search's cache, a function of its name: trained again,
    replacing the damaged file, and said."""
    import h5py

    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    first = tsflow("search", config.name, "--trials", 1, "--out", "out", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    [cache] = (tmp_path / "out" / "float").glob("*.weights.h5")
    size = cache.stat().st_size
    cache.write_bytes(cache.read_bytes()[:3000])
    study = load(f"sqlite:///{tmp_path / 'out' / 'study.db'}", "s")
    other = {4: 8, 8: 4}[study.trials[0].params["quantization.bits"]]
    study.enqueue_trial({"quantization.bits": other})  # a point not trained yet: its trial needs the float model
    done = tsflow("search", config.name, "--trials", 2, "--out", "out", cwd=tmp_path)
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0 and "Traceback" not in output, output
    assert (f"> out/float/{cache.name} cannot be read (Unable to synchronously open file (truncated file: eof = 3000"
            in output), output
    assert "the cached float model is damaged; training it again (1 epochs) and replacing it" in output
    assert cache.stat().st_size == size
    with h5py.File(cache):  # whole again
        pass
    assert [t["choice"]["quantization.bits"] for t in trainings(tmp_path / "out")][1:] == [other]


def test_a_point_scored_twice_at_once_is_listed_once_on_the_front():
    """b46: two workers that drew one point within the same instant both train it; the front (the table,
    pareto.json, its count) lists it once, as the trial that scored it first."""
    import optuna

    from flow.search.study import front_trials, progress

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(directions=["minimize", "minimize"])
    dist = optuna.distributions.CategoricalDistribution([4, 8])
    for bits, values in ((4, [2.0, 900.0]), (8, [1.0, 1000.0]), (4, [2.0, 900.0])):
        study.add_trial(optuna.trial.create_trial(params={"quantization.bits": bits},
                                                  distributions={"quantization.bits": dist}, values=values))
    assert len(study.best_trials) == 3
    assert [t.number for t in front_trials(study)] == [0, 1] and progress(study).front == 2


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_two_workers_on_one_sqlite_study_train_a_point_once_and_stop_at_the_trials_asked(tmp_path):
    """b46: two workers on one SQLite study: the second drew the point the first was training and trained it
    too (both listed on the front), and each started a trial while the other's would reach --trials ('finished
    5 of 4'). Here the second worker's first trial is the point the first worker is training (queued twice, the
    sampler's draw made certain): it waits for that result and copies it, and no third trial is started."""
    from optuna.trial import TrialState

    from flow.config import load_config
    from flow.search.study import load_study

    # a float phase of 60 epochs keeps the first worker's trial running while the second starts
    config = search_yaml(tmp_path, name="conc", space={"quantization.bits": [4, 8]}, search={"float_epochs": 60},
                         training={**TINY["training"], "patience": 1000})
    url = f"sqlite:///{tmp_path / 'conc.db'}"
    study = load_study(load_config(config), tmp_path / "wa", url, None)
    for _ in range(2):
        study.enqueue_trial({"quantization.bits": 4})
    args = ["search", config, "--trials", 2, "--storage", url, "--study", "conc"]
    first = start(*args, "--out", tmp_path / "wa")
    assert wait_for_running(url, first.pid, first) == 0
    second = start(*args, "--out", tmp_path / "wb")
    outputs = {}
    for name, worker in (("wa", first), ("wb", second)):
        out, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, err
        outputs[name] = " ".join((out + err).split())
    trials = load(url, "conc").get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]  # not a third
    assert trials[0].user_attrs["worker"].endswith(f":{first.pid}")
    assert trials[1].user_attrs["worker"].endswith(f":{second.pid}") and trials[1].user_attrs["same_as"] == 0
    assert trials[1].values == trials[0].values
    assert (f"trial 1: the choices of trial 0, which worker {socket.gethostname()}:{first.pid} is scoring: waiting "
            f"for its result (a point is trained once)") in outputs["wb"], outputs["wb"]
    assert [t["trial"] for t in trainings(tmp_path / "wa") + trainings(tmp_path / "wb")] == [0]  # trained once
    for name in ("wa", "wb"):
        assert [r["trial"] for r in json.loads((tmp_path / name / "pareto.json").read_text())] == [0]
        assert "of 2, pruned" in outputs[name] and "finished 3 of 2" not in outputs[name]


# ------------------------------------------------------------------------------------------- tour 7

def test_a_clock_searched_against_the_energy_objective_is_a_valid_space(tmp_path):
    """b89: the refusal above is for objectives blind to the clock; energy per inference sees it."""
    from flow.config import load_config
    from flow.search.study import precheck

    precheck(load_config(search_yaml(tmp_path, space={"target.clock_mhz": [100, 200]},
                                     search={"objectives": ["val_mse", "energy"]})))


def test_a_storage_file_inside_a_build_folder_is_refused(tmp_path):
    """b13: the study database went into runs/base, a build folder whose manifest does not list it (a later
    build --force of it was refused); the search's own --out may hold it."""
    base = tmp_path / "runs" / "base"
    (base / "hls").mkdir(parents=True)
    (base / "build.json").write_text("{}")
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    message = refused("search", config.name, "--trials", 1, "--out", "o", "--storage", "sqlite:///runs/base/b13.db",
                      cwd=tmp_path)
    assert ("error: --storage sqlite:///runs/base/b13.db: the file is inside runs/base, a tsflow build folder; a run "
            "never writes into another run's folder") in message, message
    assert "put the study database elsewhere" in message
    assert sorted(p.name for p in base.iterdir()) == ["build.json", "hls"] and not (tmp_path / "o").exists()
    from flow.search.study import storage_url

    (tmp_path / "o").mkdir()
    own = f"sqlite:///{tmp_path / 'o' / 'w.db'}"
    assert storage_url(tmp_path / "o", own) == own


def test_a_study_name_with_whitespace_around_it_is_refused(tmp_path):
    """b80: --study 'pg ' started a second study beside 'pg' and trained everything again."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    message = refused("search", config.name, "--trials", 1, "--out", "o", "--study", "pg ", cwd=tmp_path)
    assert ("error: --study 'pg ': the name starts or ends with whitespace (a quoting slip?); write --study pg"
            in message), message
    assert not (tmp_path / "o").exists()


def test_a_postgresql_url_with_a_driver_not_installed_says_which_url_to_write(tmp_path):
    """b09: SQLAlchemy's 'Failed to import DB access module' did not say that tsflow reads psycopg 3. The driver
    named is one no machine has (psycopg2, the usual slip, may be installed somewhere)."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    message = refused("search", config.name, "--trials", 1, "--out", "o", "--storage",
                      "postgresql+tsflow_no_such_driver://u:secret@localhost/db", cwd=tmp_path)
    assert ("error: --storage 'postgresql+tsflow_no_such_driver://u@localhost/db': the driver tsflow_no_such_driver is "
            "not installed; tsflow "
            "reads postgresql:// URLs through psycopg 3 (postgresql+psycopg://): write postgresql://u@localhost/db"
            in message), message
    assert "secret" not in message and not (tmp_path / "o").exists()


def test_a_worker_folder_resumed_without_its_study_name_says_which_to_give(tmp_path):
    """b68: the folder of study 'pg' resumed without --study: the error named the study, not the flag."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config, storage="sqlite:///b68.db")
    (out / "search.json").write_text(json.dumps({"config": "s", "study": "pg", "storage": "sqlite:///b68.db"}))
    message = refused("search", config.name, "--trials", 3, "--out", "out", "--storage", "sqlite:///b68.db",
                      cwd=tmp_path)
    assert ("error: --out out holds the study 'pg' (out/search.json); to resume it add --study pg, or give another "
            "--out for the study 's'") in message, message
    assert not (tmp_path / "b68.db").exists()


def test_a_study_of_another_search_names_what_differs(tmp_path):
    """b77: a study.db of a search over another space and recipe: the error said only 'another space or other
    objectives'."""
    config = search_yaml(tmp_path, space={"quantization.bits": [4, 8]})
    out = searched_folder(tmp_path, config)
    raw = yaml.safe_load(config.read_text())
    raw["search"].update(space={"quantization.bits": [4, 8], "model.d_model": [8, 16]}, float_epochs=3,
                         objectives=["val_mse", "lut"])
    config.write_text(yaml.safe_dump(raw))
    before = (out / "study.db").read_bytes()
    message = refused("search", config.name, "--trials", 3, "--out", "out", cwd=tmp_path)
    assert ("error: --out out (its study.db): study 's' was started with another configuration "
            "(search.space.model.d_model added ([8, 16]); search.objectives: [\"val_mse\", \"latency\"] -> "
            "[\"val_mse\", \"lut\"]; search.float_epochs: 1 -> 3)") in message, message
    assert (out / "study.db").read_bytes() == before


def test_a_relative_sqlite_storage_is_recorded_absolute_and_resumed_from_another_folder(tmp_path, monkeypatch):
    """b87: search.json kept sqlite:///misc/b10.db as typed in w/; from w/.. the same file (sqlite:///w/misc/b10.db)
    was refused as another study, and the URL the error asked for named no file there."""
    from flow.config import load_config
    from flow.search.study import MARKER, check_same_storage, prepare_folder

    work = tmp_path / "w"
    (work / "misc").mkdir(parents=True)
    cfg = load_config(search_yaml(work, space={"quantization.bits": [4, 8]}))
    monkeypatch.chdir(work)
    prepare_folder(Path("o"), cfg, "sqlite:///misc/b10.db?timeout=30", None)
    recorded = json.loads((work / "o" / MARKER).read_text())["storage"]
    assert recorded == f"sqlite:///{work / 'misc' / 'b10.db'}?timeout=30"
    monkeypatch.chdir(tmp_path)
    check_same_storage(Path("w/o"), "sqlite:///w/misc/b10.db?timeout=30")  # the same file: no refusal
    with pytest.raises(Exception, match="pass --storage sqlite:////"):
        check_same_storage(Path("w/o"), "sqlite:///misc/b10.db")


def test_a_trial_stopped_by_ctrl_c_is_interrupted_not_failed(tmp_path):
    """b18: the trial a Ctrl-C stopped was counted as failed for ever ('failed 1' on the front's title)."""
    import optuna

    from flow.config import load_config
    from flow.search import study as search

    cfg = load_config(search_yaml(tmp_path, space={"quantization.bits": [4, 8]}))
    study = optuna.create_study(directions=["minimize"] * 2)
    search.STOP.set()
    try:
        with pytest.raises(KeyboardInterrupt):
            study.optimize(search.make_objective(cfg, tmp_path), n_trials=1)
    finally:
        search.STOP.clear()
    [trial] = study.get_trials()
    assert trial.state == optuna.trial.TrialState.FAIL and trial.user_attrs.get(search.INTERRUPTED) is True
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))  # a crash: still failed
    p = search.progress(study)
    assert (p.failed, p.interrupted) == (1, 1)


def test_a_server_spelled_otherwise_is_said_to_be_another_url_not_another_study(tmp_path):
    """tour 9 b51: the same PostgreSQL server as localhost, where 127.0.0.1 was recorded, was refused as one that
    'would start another study there'. A port left out (5432) or a host name in capitals is the same server."""
    from flow.config import ConfigError
    from flow.search.study import MARKER, check_same_storage

    out = tmp_path / "o"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"study": "pg1", "storage": "postgresql://tsflow@127.0.0.1:54991/tsdb"}))
    with pytest.raises(ConfigError) as caught:
        check_same_storage(out, "postgresql://tsflow:s3cret@localhost:54991/tsdb")
    assert str(caught.value) == (
        f"--out {out} holds the search 'pg1' whose study is at postgresql://tsflow@127.0.0.1:54991/tsdb "
        f"({out / MARKER}); --storage postgresql://tsflow@localhost:54991/tsdb is another URL: if it names the same "
        f"server (localhost for 127.0.0.1, another name of the host), pass --storage "
        f"postgresql://tsflow@127.0.0.1:54991/tsdb to resume the search; if not, give a new --out for a study there")
    (out / MARKER).write_text(json.dumps({"study": "pg1", "storage": "postgresql://tsflow@db.example/tsdb"}))
    check_same_storage(out, "postgres://tsflow:pw@DB.example:5432/tsdb")  # the same server: no refusal


def test_choices_given_in_another_order_are_said_to_be_the_same_choices_whose_order_the_study_keeps(tmp_path):
    """tour 9 b90: [8, 4] for the recorded [4, 8] was refused as a configuration whose trials 'were trained and
    scored with the first'; nothing was trained differently, the study records a choice by its position."""
    from types import SimpleNamespace

    from flow.config import ConfigError, load_config
    from flow.search.study import check_same_search

    stored = {"space": {"quantization.bits": [4, 8], "model.d_model": [8, 16]}, "objectives": ["val_mse", "latency"]}
    study = SimpleNamespace(study_name="s", user_attrs={"search": stored})
    cfg = load_config(search_yaml(tmp_path, space={"quantization.bits": [8, 4], "model.d_model": [8, 16]}))
    with pytest.raises(ConfigError) as caught:
        check_same_search(study, cfg, tmp_path / "o", None)
    assert str(caught.value) == (
        f"--out {tmp_path / 'o'} (its study.db): study 's' was started with the same choices in another order "
        f"(search.space.quantization.bits: [4, 8] -> [8, 4]); the study records each choice by its position, so "
        f"write search.space.quantization.bits as [4, 8] to resume it")
    cfg = load_config(search_yaml(tmp_path, space={"quantization.bits": [8, 4], "model.d_model": [8, 32]}))
    with pytest.raises(ConfigError, match=r"another configuration \(.*\); its trials were trained and scored"):
        check_same_search(study, cfg, tmp_path / "o", None)  # another choice too: the trials' own refusal


def test_a_role_without_rights_on_the_study_tables_is_said_with_the_databases_reason(postgres, tmp_path):
    """tour 9 b52: a role that may not read Optuna's tables got 'an exception is raised during the commit ...
    e.g. exceeding max length'; the database's own 'permission denied for table studies' is said, and what to do,
    never the password."""
    import psycopg

    from flow.config import ConfigError
    from flow.search.study import open_storage, storage_url

    open_storage(storage_url(tmp_path, postgres))  # the tables, owned by tsflow
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS alice")
        conn.execute("CREATE ROLE alice LOGIN PASSWORD 's3cret'")
    url = postgres.replace("tsflow@", "alice:s3cret@")
    with pytest.raises(ConfigError) as caught:
        open_storage(storage_url(tmp_path, url))
    message = str(caught.value)
    host = postgres.split("@")[-1]
    assert message.startswith(f"--storage: the role alice may not read or write the study tables at {host} "
                              f"(permission denied for table "), message
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO alice" in message
    assert "or use the role that created them" in message and "s3cret" not in message
