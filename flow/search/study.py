"""``tsflow search``: an Optuna study over ``search.space``, estimate first, train only what fits.

Each trial draws one choice per key (NSGA-II over ``search.objectives``, all minimised). The candidate
is estimated (``flow.estimate``); one that is not a valid configuration, or that does not fit
``target.part`` within ``target.headroom``, is pruned before any training, with the estimate's
figures stored on the trial. One that fits gets ``search.qat_epochs`` of QAT, warm-started from a float
model of its architecture (trained once for ``search.float_epochs`` and cached in ``DIR/float``), and
is scored on the validation split only; its weights go into the study, so any worker can report it.

The study lives in ``DIR/study.db`` (SQLite) or at ``--storage`` (PostgreSQL shared by workers on
several machines). Each worker sends a heartbeat; a trial whose worker died is marked failed once its
heartbeat is older than ``GRACE_S`` and retried once with the same choices (Optuna's
``RetryHeartbeatStaleTrialCallback``). Choices a complete trial already had, or that another worker's trial is
scoring, are not trained again (``scored_elsewhere``); a damaged float model in the cache is trained again. A
worker starts no trial that other workers' running ones would take past ``trials``, and stops when the study
holds ``trials`` finished (complete or pruned) trials, or once finished trials have tried every point of the
(finite) space; running the command again resumes the same study, and only with the configuration the study
was started with (``recorded_config``: all of it but the name and ``search.seed``), so that no front mixes
trials of two recipes. ``--storage`` is a sqlite or postgresql URL; anything else is refused before a
connection is tried, and so is one SQLAlchemy would misread (two slashes, a scheme in capitals).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import socket
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ConfigError, FlowConfig, dump_config, parse_config
from .space import PRECHECK, base_raw, candidate, check_space, sample, size

STOP = threading.Event()  # set by Ctrl-C (the command's SIGINT handler): trials stop at their next epoch
HEARTBEAT_S = 5
GRACE_S = 15
RESOURCES = ("lut", "lutram", "ff", "bram18", "dsp")
INTERRUPTED = "interrupted"


@dataclass
class Progress:
    finished: int  # complete + pruned: what counts towards --trials
    complete: int
    trained: int  # complete trials that trained (the rest repeat an earlier trial's choices)
    pruned: int
    failed: int  # crashed, or its worker died: not the trials stopped by Ctrl-C
    front: int
    interrupted: int  # stopped by Ctrl-C, each queued again with its choices when the search resumes


STORAGE_FORMS = ("sqlite:///study.db (a file, relative to here; sqlite:////abs/path/study.db for an absolute path), "
                 "postgresql://user:password@host/db (postgres:// too), or leave --storage out (study.db in --out)")


def shown_url(url: str) -> str:
    """A storage URL without its password."""
    if "://" not in url or "@" not in url.split("://", 1)[1]:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"


def storage_url(out: Path, url: str | None) -> str:
    """SQLite in ``out`` by default; ``postgresql://`` is read through psycopg 3. Anything but a sqlite or
    postgresql URL is refused before any connection is tried, and so is another storage than the one the
    search in ``out`` recorded (``search.json``)."""
    check_same_storage(out, url)
    if url is None:
        return f"sqlite:///{(Path(out) / 'study.db').resolve()}"
    if "://" not in url:
        raise ConfigError(f"--storage {url!r}: not a URL; a study storage is a URL: sqlite:///{url} (a file: this "
                          f"one), postgresql://user:password@host/db (postgres:// too), or leave "
                          f"--storage out (study.db in --out)")
    scheme = url.split("://", 1)[0]
    if scheme.lower() not in ("sqlite", "postgresql", "postgres") and not scheme.lower().startswith("postgresql+"):
        raise ConfigError(f"--storage {shown_url(url)!r}: {scheme}:// is not a study storage tsflow can use; allowed: "
                          f"{STORAGE_FORMS}")
    if scheme != scheme.lower():  # SQLAlchemy's dialect names are lower case ("Can't load plugin")
        raise ConfigError(f"--storage {shown_url(url)!r}: the scheme {scheme}:// is written in lower case: "
                          f"{shown_url(scheme.lower() + '://' + url.split('://', 1)[1])}")
    if scheme.startswith("postgres"):
        _check_postgresql_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if scheme.startswith("postgresql+"):
        _check_driver(url, scheme.split("+", 1)[1])
    if url.startswith("sqlite") and url.split("?", 1)[0] in ("sqlite://", "sqlite:///", "sqlite:///:memory:"):
        # each connection would open a database of its own: the heartbeat thread's has no tables, and a
        # search that stops cannot be resumed or joined by a worker
        raise ConfigError(f"--storage {url!r}: an in-memory SQLite database lives in one connection, and a search "
                          f"needs one that its heartbeat, its workers and a later resume can open; give a file "
                          f"(sqlite:///path/study.db), a postgresql:// URL, or leave --storage out (study.db in "
                          f"--out)")
    if url.startswith("sqlite://") and not url.startswith("sqlite:///"):  # SQLAlchemy: "Invalid SQLite URL"
        path = url[len("sqlite://"):]
        raise ConfigError(f"--storage {url!r}: a SQLite file URL has three slashes before a relative path and four "
                          f"before an absolute one: sqlite:///{path} (relative to here) or "
                          f"sqlite:////abs/path/{Path(path.split('?', 1)[0]).name} (absolute)")
    _check_sqlite_file(url)
    _check_not_in_a_run(url, out)
    return url


def _check_postgresql_url(url: str) -> None:
    """What the server or SQLAlchemy would say of something else: a password holding @, : or / as typed (the URL
    then splits in the wrong places: 'invalid literal for int()', a host named after half the password), and a URL
    naming no database (PostgreSQL then opens the one named as the user: 'database "alice" does not exist'). The
    password is never shown."""
    credentials, at, place = url.split("://", 1)[1].rpartition("@")
    if at and (any(c in credentials for c in "@/?#") or credentials.count(":") > 1):
        raise ConfigError(f"--storage {shown_url(url)!r}: the user name or password holds @, :, /, ? or # as typed, "
                          f"which split a URL; percent-encode them (@ as %40, : as %3A, / as %2F; in Python "
                          f"urllib.parse.quote(password, safe='')): postgresql://user:ENCODED@host:port/db")
    place, _, query = place.partition("?")
    host, _, database = place.partition("/")
    port = host.rpartition("]")[2].rpartition(":")[2] if ":" in host.rpartition("]")[2] else ""
    if port and not port.isdigit():
        raise ConfigError(f"--storage {shown_url(url)!r}: the port {port!r} is not a number; write "
                          f"postgresql://user@host:5432/db (a password holding @, : or / is percent-encoded: "
                          f"urllib.parse.quote(password, safe=''))")
    if not database and "dbname=" not in query:
        user = credentials.split(":", 1)[0] if at else "your login name"
        raise ConfigError(f"--storage {shown_url(url)!r} names no database (PostgreSQL would open the one named as "
                          f"the user, {user}); add it after a slash: postgresql://user@host:port/DBNAME")


def _check_driver(url: str, driver: str) -> None:
    """A driver-qualified PostgreSQL URL names a module SQLAlchemy imports: one that is not installed is said as
    such, with the URL tsflow reads through psycopg 3 (what it installs)."""
    import importlib.util

    if driver and importlib.util.find_spec(driver) is not None:
        return
    plain = "postgresql://" + shown_url(url).split("://", 1)[1]
    raise ConfigError(f"--storage {shown_url(url)!r}: the driver {driver or '(empty)'} is not installed; tsflow reads "
                      f"postgresql:// URLs through psycopg 3 (postgresql+psycopg://): write {plain}")


def _check_not_in_a_run(url: str, out: Path) -> None:
    """An SQLite file inside another run's folder (a build's, another search's) would be a file that run did not
    write: its --force and checks would stumble on it. The search's own --out may hold it."""
    from ..runs import as_given, enclosing_run

    path = _sqlite_path(url)
    found = enclosing_run(path.absolute()) if path is not None else None
    if found is None or found[0].resolve() == Path(out).resolve():
        return
    parent, kind = found
    raise ConfigError(f"--storage {url}: the file is inside {as_given(parent, path)}, {kind}; a run never writes into "
                      f"another run's folder (its files are what that run wrote and checks): put the study database "
                      f"elsewhere, or leave --storage out (study.db in --out)")


def recorded_storage(storage: str | None) -> str:
    """What search.json records of ``--storage``: no password, and an SQLite file by its absolute path, so that a
    resume from another working folder names the same file (``sqlite:///misc/s.db`` from ``w/`` is
    ``sqlite:///w/misc/s.db`` from its parent)."""
    if storage is None:
        return OWN_STORAGE
    path = _sqlite_path(storage)
    if path is None or path.is_absolute():
        return shown_url(storage)
    query = storage.split("?", 1)[1] if "?" in storage else None
    return f"sqlite:///{path.absolute()}" + (f"?{query}" if query is not None else "")


def _sqlite_path(url: str) -> Path | None:
    """The file a ``sqlite:///PATH`` URL names (relative to here; ``sqlite:////abs`` absolute), or None."""
    if not url.lower().startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    return Path(path) if path and not path.startswith("file:") and path != ":memory:" else None


def _check_sqlite_file(url: str) -> None:
    """What SQLite would only say as 'unable to open database file': ``~`` (not expanded in a URL), a folder
    where the file should be, a folder that does not exist."""
    path = _sqlite_path(url)
    if path is None:
        return
    if path.parts and path.parts[0].startswith("~"):
        absolute = path.expanduser()
        hint = (f"write the absolute path: sqlite:///{absolute}" if absolute.is_absolute()
                else "write the absolute path (sqlite:////home/you/study.db)")
        raise ConfigError(f"--storage {url!r}: ~ is not expanded in a URL (it would name a folder '{path.parts[0]}' "
                          f"in {Path.cwd()}); {hint}")
    if path.is_dir():
        raise ConfigError(f"--storage {url!r}: {path} is a folder; name a file in it, such as "
                          f"sqlite:///{path / 'study.db'}")
    if not path.parent.is_dir():
        raise ConfigError(f"--storage {url!r}: the folder {path.parent} does not exist (SQLite makes the file, "
                          f"not its folder); create it, or name a file in an existing folder")


def open_own_storage(out: Path, storage: str | None):
    """The study storage of this search: ``--storage``, or ``out/study.db``, whose damage is named as the
    folder's own database (no --storage was given to blame)."""
    url = storage_url(out, storage)
    if storage is not None:
        return open_storage(url)
    try:
        return open_storage(url)
    except ConfigError as exc:
        db = Path(out) / "study.db"
        reason = str(exc).split(f"{url}: ", 1)[-1]
        raise ConfigError(f"{db} (the study database of --out {out}) cannot be opened: {reason} (damaged, or not "
                          f"written by tsflow search?); move it away to start the search anew in {out}, or give a "
                          f"new --out") from None


def open_storage(url: str):
    """The study storage with heartbeats; a URL that cannot be reached is a user error, said at once."""
    import warnings

    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # search.space choices are YAML values, which the storage keeps as JSON (mappings and lists included):
    # Optuna's warning about choices other than None, bool, int, float and str does not apply to them
    warnings.filterwarnings("ignore", message="Choices for a categorical distribution should be", category=UserWarning)
    try:
        return RDBStorage(url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S,
                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
                          engine_kwargs={"pool_pre_ping": True})
    except (optuna.exceptions.StorageInternalError, ValueError, ImportError) as exc:
        shown = url.split("@")[-1] if "@" in url else url  # no password in the message
        denied = _refused_by_the_database(exc, url, shown)
        if denied:
            raise ConfigError(denied) from None
        raise ConfigError(f"--storage: cannot open the study storage at {shown}: "
                          f"{' '.join(str(exc).split())[:300]}") from None
    except Exception as exc:  # sqlalchemy's OperationalError and friends: host down, refused, bad database
        shown = url.split("@")[-1] if "@" in url else url
        raise ConfigError(f"--storage: cannot reach the study storage at {shown}: "
                          f"{' '.join(str(exc).splitlines()[0].split())[:300]}") from None


def objective_values(cfg: FlowConfig, est, val_mse: float | None) -> list[float]:
    figures = {"val_mse": val_mse, "latency": float(est.latency_cycles),
               **{r: float(est.total[r]) for r in RESOURCES},
               "resources": sum(est.total[r] / est.budget[r] for r in RESOURCES if est.budget[r]),
               "energy": est.energy.energy_uj if est.energy else None}  # precheck: priced for every part searched
    return [figures[o] for o in cfg.search.objectives]


def estimate_figures(est) -> dict:
    """What a trial stores of its estimate (JSON)."""
    return {"total": est.total, "budget": est.budget, "latency_cycles": est.latency_cycles,
            "bound_ratio": round(est.bound_ratio, 3), "fits": est.fits, "macs": est.macs}


def _fits(est, cfg) -> bool:
    from ..estimate.design import within_headroom

    return within_headroom(est, cfg.target.headroom)


def _check_energy_priced(cfg: FlowConfig) -> None:
    """The energy objective needs a static power figure of every part the search may estimate on."""
    from ..estimate.energy import STATIC_W
    from ..parts import parse_part

    if "energy" not in cfg.search.objectives:
        return
    parts = cfg.search.space.get("target.part", [cfg.target.part])
    unpriced = [p for p in parts if isinstance(p, str) and parse_part(p).device not in STATIC_W]
    if unpriced:
        raise ConfigError(f"invalid configuration: search.objectives has energy, but no static power figure of "
                          f"{', '.join(unpriced)} is known (target.part; the energy estimate has one for "
                          f"{', '.join(sorted(STATIC_W))}); leave energy out of search.objectives or search on "
                          f"{' or '.join(sorted(STATIC_W))}")


SEEN_ONLY_BY = {"target.clock_mhz": "energy"}  # the estimate counts cycles
# keys that are no design choice any objective can score: why each is refused in search.space
NEVER_SCORED = {
    "target.toggle_rate": "it is an assumption about the design's activity, not a choice of design: the lowest "
                          "would always win on energy, and the same model be trained once per choice",
    "target.clock_uncertainty": "it sets the margin the HLS tool schedules with, which no estimate, error or energy "
                                "sees: every choice would train the same model and score the same",
    "hls.tool": "both tools get the same C++ and the same estimate: every choice would train the same model and "
                "score the same",
}


def _check_seen(cfg: FlowConfig) -> None:
    """A space key no objective depends on would train one model once per choice and keep every copy on the
    front (equal scores): the clock changes no cycle count, resource or error, only the energy per inference."""
    for key, why in NEVER_SCORED.items():
        if key in cfg.search.space:
            raise ConfigError(f"invalid configuration: search.space.{key}: {why}; set {key} in the configuration "
                              f"instead, and run one search per value if its synthesis is to be compared")
    for key, objective in SEEN_ONLY_BY.items():
        if key in cfg.search.space and objective not in cfg.search.objectives:
            raise ConfigError(f"invalid configuration: search.space.{key}: no objective in search.objectives "
                              f"({', '.join(cfg.search.objectives)}) depends on it (latency is in clock cycles; "
                              f"resources and val_mse do not change with it), so every choice would train the same "
                              f"model and score the same; of the objectives only {objective} depends on {key}: add "
                              f"{objective} to search.objectives, or set {key} in the target section")


def precheck(cfg: FlowConfig) -> list[str]:
    """Before any study or training: some candidate is a valid configuration and fits the part. Returns the
    warnings of ``check_space`` (choices valid only beside some choices of other keys)."""
    from ..estimate import estimate

    if not cfg.quantization.enabled:
        raise ConfigError("invalid configuration: quantization.enabled = False: the search scores quantized "
                          "candidates (their estimate, their QAT); a float model has no design to estimate: remove "
                          "quantization.enabled: false")
    warnings = check_space(cfg)
    _check_energy_priced(cfg)
    _check_seen(cfg)
    problems, fitting = [], 0
    for choice in sample(cfg, PRECHECK, cfg.search.seed):
        try:
            cand = candidate(cfg, choice)
            est = estimate(cand)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        if _fits(est, cand):
            fitting += 1
            break
        over = [r for r in RESOURCES if est.budget[r] and est.total[r] > (1 - cand.target.headroom) * est.budget[r]]
        problems.append(f"{choice}: " + ", ".join(f"{r} {est.total[r]} of {est.budget[r]}" for r in over))
    if not fitting:
        tried = min(PRECHECK, len(sample(cfg, PRECHECK, cfg.search.seed)))
        raise ConfigError(f"none of {tried} candidates of search.space fits {cfg.target.part} within "
                          f"{100 * (1 - cfg.target.headroom):.0f}% of every resource (or is a valid configuration); "
                          f"the first: {problems[0]}")
    return warnings


FLOAT_TRAINING = ("learning_rate", "batch_size", "patience")  # the float phase's settings, besides its seed


def architecture_key(cand: FlowConfig, float_epochs: int) -> str:
    """What the float model depends on: data, model, the training seed, the float phase's settings (a space
    over training.learning_rate must not share one float model between its choices) and the float epochs."""
    raw = parse_config(base_raw(cand)).model_dump(mode="json")
    key = {k: raw[k] for k in ("data", "model")}
    key["seed"] = raw["training"]["seed"]
    key["float"] = {k: raw["training"][k] for k in FLOAT_TRAINING} | {"epochs": float_epochs}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def float_model(cand: FlowConfig, ds, out: Path, float_epochs: int, note=None):
    """The float model of ``cand``'s architecture: trained once per architecture, cached in ``out/float``."""
    from keras_models.builder import build_model

    from ..precision import resolve_precisions
    from ..training.fit import train

    cache = Path(out) / "float" / f"{architecture_key(cand, float_epochs)}.weights.h5"
    model = build_model(cand, resolve_precisions(cand), False, len(ds.features), ds.target_index)
    damaged = None
    if cache.is_file():
        try:
            model.load_weights(str(cache))
            return model
        except (OSError, ValueError) as exc:  # truncated, not HDF5, weights of another shape
            damaged = " ".join(str(exc).split())[:200]
    raw = cand.model_dump(mode="json")
    raw["quantization"]["enabled"] = False
    raw["training"].update(float_epochs=float_epochs, qat_epochs=0)
    if note and damaged:  # the search's own cache, a function of its name: rebuilt, never guessed around
        note(f"{cache} cannot be read ({damaged}): the cached float model is damaged; training it again "
             f"({float_epochs} epochs) and replacing it")
    elif note:
        note(f"float model of architecture {cache.stem}: {float_epochs} epochs (cached for every later trial)")
    trained = train(parse_config(raw), ds, report=stop_if_asked, splits=("val",)).model
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(f"{cache.stem}.{os.getpid()}.partial.weights.h5")
    trained.save_weights(str(partial))
    os.replace(partial, cache)  # another worker may be writing the same architecture: the last rename wins
    model.set_weights(trained.get_weights())
    return model


def stop_if_asked(*_) -> None:
    """Between epochs and stages: a Ctrl-C stops the trial here, in plain Python (raised inside a library
    call, the interrupt could be turned into that library's error or printed and lost)."""
    if STOP.is_set():
        raise KeyboardInterrupt


def pack_weights(model) -> str:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, *model.get_weights())
    return base64.b64encode(buffer.getvalue()).decode()


def unpack_weights(text: str) -> list:
    with np.load(io.BytesIO(base64.b64decode(text))) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


def make_objective(cfg: FlowConfig, out: Path, note=None):
    """The function Optuna calls per trial."""
    import optuna

    from ..data import load_dataset
    from ..estimate import estimate
    from ..training.fit import train

    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial):
        try:
            return score(trial)
        except KeyboardInterrupt:  # Optuna fails the trial: marked as stopped, not as a failure
            trial.set_user_attr(INTERRUPTED, True)
            raise

    def score(trial):
        stop_if_asked()
        trial.set_user_attr("worker", worker)
        choice = {key: trial.suggest_categorical(key, choices) for key, choices in cfg.search.space.items()}
        same = scored_elsewhere(trial, note)
        if same is not None:  # NSGA-II draws a small space's points again: score them once
            for key in ("estimate", "val_mse", "weights", "config"):
                trial.set_user_attr(key, same.user_attrs[key])
            trial.set_user_attr("same_as", same.number)
            return same.values
        try:
            cand = candidate(cfg, choice)
            est = estimate(cand)
        except ConfigError as exc:
            trial.set_user_attr("invalid", str(exc))
            raise optuna.TrialPruned(f"not a valid configuration: {exc}") from None
        trial.set_user_attr("estimate", estimate_figures(est))
        if not _fits(est, cand):
            raise optuna.TrialPruned(f"does not fit {cand.target.part} within the headroom")
        ds = load_dataset(cand, note=lambda text: None)  # told once, before the search starts
        stop_if_asked()
        warm = float_model(cand, ds, out, cfg.search.float_epochs, note)
        stop_if_asked()
        raw = cand.model_dump(mode="json")
        raw["training"]["qat_epochs"] = cfg.search.qat_epochs
        with open(Path(out) / "trainings.log", "a") as log:  # one line per training: what a user can count
            log.write(json.dumps({"trial": trial.number, "worker": worker, "choice": choice}) + "\n")
        result = train(parse_config(raw), ds, report=stop_if_asked, float_model=warm, splits=("val",))
        val_mse = result.metrics["val"]["mse"]
        if result.config != parse_config(raw):  # integer: auto placed the binary points: price those types
            est = estimate(result.config)
            trial.set_user_attr("estimate", estimate_figures(est))
        trial.set_user_attr("val_mse", val_mse)
        trial.set_user_attr("weights", pack_weights(result.model))
        # the trained configuration, binary points included (with the search's own QAT epochs set back)
        trained = result.config.model_dump(mode="json")
        trained["training"]["qat_epochs"] = cand.training.qat_epochs
        trial.set_user_attr("config", dump_config(parse_config(trained)))
        return objective_values(cfg, est, val_mse)

    return objective


def scored_elsewhere(trial, note=None):
    """The complete trial of ``trial``'s choices, if there is one; a trial of them that another worker is
    scoring is waited for first (its worker's trial marked ``scoring``), so that two workers sharing a study
    do not train one point twice. None when this trial scores them (now marked so itself). Two trials that
    both look within the same instant, before either is marked, still both score."""
    from optuna.storages import fail_stale_trials
    from optuna.trial import TrialState

    study, told = trial.study, False
    while True:
        same = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
                if t.number != trial.number and t.params == trial.params]
        done = next((t for t in same if t.state == TrialState.COMPLETE), None)
        if done is not None:
            return done
        busy = next((t for t in same if t.user_attrs.get("scoring")), None)
        if busy is None:  # none, or one that failed or was pruned (estimated again here: cheap)
            trial.set_user_attr("scoring", True)
            return None
        if note and not told:
            note(f"trial {trial.number}: the choices of trial {busy.number}, which worker {busy.user_attrs.get('worker')} "
                 f"is scoring: waiting for its result (a point is trained once)")
            told = True
        time.sleep(HEARTBEAT_S)
        stop_if_asked()
        fail_stale_trials(study)  # a worker that died is not waited for past GRACE_S


def progress(study) -> Progress:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    count = {s: sum(t.state == s for t in trials) for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    complete, pruned = count[TrialState.COMPLETE], count[TrialState.PRUNED]
    interrupted = sum(t.state == TrialState.FAIL and INTERRUPTED in t.user_attrs for t in trials)
    trained = sum(t.state == TrialState.COMPLETE and "same_as" not in t.user_attrs for t in trials)
    return Progress(complete + pruned, complete, trained, pruned, count[TrialState.FAIL] - interrupted,
                    len(front_trials(study)) if complete else 0, interrupted)


def front_trials(study) -> list:
    """The trials of the Pareto front, each point of the space once: the first that scored it (a repeat
    copies its scores; of two workers that scored one point at the same instant, the later is left out)."""
    seen, front = set(), []
    for t in sorted(study.best_trials, key=lambda t: t.number):
        point = json.dumps(t.params, sort_keys=True, default=str)
        if "same_as" not in t.user_attrs and point not in seen:
            seen.add(point)
            front.append(t)
    return front


def load_study(cfg: FlowConfig, out: Path, storage: str | None, study_name: str | None):
    """The study of this search (made on first use), refusing one that searches something else."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # progress is ours; a failing trial raises anyway
    name = study_name or cfg.name
    store = open_own_storage(out, storage)
    sampler = optuna.samplers.NSGAIISampler(seed=cfg.search.seed + os.getpid() if storage else cfg.search.seed)
    try:
        study = optuna.create_study(study_name=name, storage=store, sampler=sampler,
                                    directions=["minimize"] * len(cfg.search.objectives), load_if_exists=True)
    except ValueError as exc:  # the stored study has other directions: another search under this name
        raise ConfigError(f"--study {name}: the study in the storage was made with other objectives ({exc}); "
                          f"give another --study name") from None
    if "search" not in study.user_attrs:
        study.set_user_attr("search", {"space": cfg.search.space, "objectives": cfg.search.objectives})
    check_same_search(study, cfg, out, storage)
    if "config" not in study.user_attrs:  # a new study (or one of a tsflow that did not record it)
        study.set_user_attr("config", recorded_config(cfg))
    return study


# what may change between two runs of one search: the name only names it, and the sampler's seed only
# decides which choices are drawn next, not what a trial of given choices scores
MAY_CHANGE = ("name", "search.seed")


def recorded_config(cfg: FlowConfig) -> dict:
    """The configuration a search records when it starts: everything that decides a trial's result."""
    raw = cfg.model_dump(mode="json")
    for key in MAY_CHANGE:
        *parents, last = key.split(".")
        node = raw
        for part in parents:
            node = node[part]
        node.pop(last, None)
    return raw


def _flat(node, prefix: str = "") -> dict:
    if isinstance(node, dict) and node:
        out = {}
        for k, v in node.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: node}


INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for 'permission denied'


def _refused_by_the_database(exc: BaseException, url: str, shown: str) -> str | None:
    """What to say when the database itself refused the role (PostgreSQL's 'permission denied for table
    studies'): Optuna says it as 'an exception during the commit ... e.g. exceeding max length', the database's
    own error is further down the exception chain (SQLAlchemy's ``orig``, psycopg's ``sqlstate``)."""
    seen = exc
    while seen is not None:
        orig = getattr(seen, "orig", None)
        if getattr(orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            reason = " ".join(str(orig).splitlines()[0].split())
            rest = url.split("://", 1)[-1]
            role = rest.rsplit("@", 1)[0].split(":", 1)[0] if "@" in rest else "(the default role)"
            return (f"--storage: the role {role} may not read or write the study tables at {shown} ({reason}): GRANT "
                    f"it access to Optuna's tables (as their owner: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL "
                    f"TABLES IN SCHEMA public TO {role}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}), "
                    f"or use the role that created them")
        seen = seen.__cause__ or seen.__context__
    return None


def config_changes(earlier: dict, now: dict) -> list[str]:
    """The dotted keys whose values differ, each as ``key: earlier -> now``."""
    a, b = _flat(json.loads(json.dumps(earlier))), _flat(json.loads(json.dumps(now)))
    missing = "(not set)"
    return [f"{k}: {json.dumps(a.get(k, missing))} -> {json.dumps(b.get(k, missing))}"
            for k in sorted(set(a) | set(b)) if a.get(k, missing) != b.get(k, missing)]


def _with_defaults(earlier: dict, cfg: FlowConfig) -> dict:
    """The configuration a study recorded, read again as this tsflow reads it: a key added since, at its
    default, is what that study ran with too (no change). As recorded where it no longer reads."""
    raw = json.loads(json.dumps(earlier))
    try:
        raw["name"] = cfg.name
        raw.setdefault("search", {})["seed"] = cfg.search.seed
        return recorded_config(parse_config(raw))
    except (ConfigError, ValueError, TypeError, KeyError, AttributeError):
        return earlier


def check_same_search(study, cfg: FlowConfig, out: Path, storage: str | None) -> None:
    """A study is resumed (or joined) only by the search it was started with: another space, other
    objectives or any other setting that decides a trial's result would mix two searches in one front."""
    name = study.study_name
    what = "give another --study name (and its own --out folder)" if storage else "give a new --out folder"
    changes = search_changes(study.user_attrs.get("search"), cfg)
    earlier = study.user_attrs.get("config")
    if earlier is not None:
        changes += [c for c in config_changes(_with_defaults(earlier, cfg), recorded_config(cfg))
                    if not c.startswith(("search.space.", "search.objectives"))]  # said above, key by key
    where = f"--storage {shown_url(storage)}" if storage else f"--out {out} (its study.db)"
    reorders = reordered(study.user_attrs.get("search"), cfg)
    if changes and len(reorders) == len(changes):  # nothing trained differently: only the order the study keeps
        raise ConfigError(f"{where}: study {name!r} was started with the same choices in another order ("
                          f"{'; '.join(f'{k}: {was} -> {now}' for k, was, now in reorders)}); the study records "
                          f"each choice by its position, so write "
                          f"{' and '.join(f'{k} as {was}' for k, was, _ in reorders)} to resume it")
    if changes:
        shown = "; ".join(changes[:8]) + (f"; and {len(changes) - 8} more" if len(changes) > 8 else "")
        raise ConfigError(f"{where}: study {name!r} was started with another configuration ({shown}); its trials "
                          f"were trained and scored with the first, and resuming would mix both in one front: "
                          f"{what} for the changed configuration, or set those keys back to resume")


def reordered(stored: dict | None, cfg: FlowConfig) -> list[tuple[str, str, str]]:
    """The ``search.space`` keys whose choices are the recorded ones in another order: (key, recorded, now)."""
    if not isinstance(stored, dict) or not isinstance(stored.get("space"), dict):
        return []
    space, now = json.loads(json.dumps(stored["space"])), json.loads(json.dumps(cfg.search.space))
    same = [k for k in space if k in now and isinstance(space[k], list) and isinstance(now[k], list)
            and space[k] != now[k] and sorted(map(json.dumps, space[k])) == sorted(map(json.dumps, now[k]))]
    return [(f"search.space.{k}", json.dumps(space[k]), json.dumps(now[k])) for k in same]


def search_changes(stored: dict | None, cfg: FlowConfig) -> list[str]:
    """How ``search.space`` and ``search.objectives`` differ from what a study recorded, key by key."""
    if not isinstance(stored, dict):
        return []
    was = json.loads(json.dumps(stored))
    space, now = was.get("space") or {}, json.loads(json.dumps(cfg.search.space))
    changes = [f"search.space.{k}: {json.dumps(space[k])} -> {json.dumps(now[k])}" if k in space and k in now
               else f"search.space.{k} added ({json.dumps(now[k])})" if k in now
               else f"search.space.{k} removed (was {json.dumps(space[k])})"
               for k in sorted(set(space) | set(now)) if space.get(k) != now.get(k)]
    if was.get("objectives") != cfg.search.objectives:
        changes.append(f"search.objectives: {json.dumps(was.get('objectives'))} -> {json.dumps(cfg.search.objectives)}")
    return changes


def stored_study(out: Path, storage: str | None, study_name: str | None, cfg: FlowConfig):
    """The study this search would resume or join, if the storage already holds it (None otherwise);
    nothing is created: a default storage is opened only if ``out/study.db`` exists."""
    import optuna

    if storage is None and not (Path(out) / "study.db").is_file():
        return None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    store = open_own_storage(out, storage)
    try:
        return optuna.load_study(study_name=study_name or cfg.name, storage=store)
    except KeyError:
        return None


def tried_points(study) -> int:
    """How many distinct points of the space finished trials (trained, repeated or pruned) have had."""
    from optuna.trial import TrialState

    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    return len({json.dumps(t.params, sort_keys=True, default=str) for t in finished})


def retried(study) -> set:
    """Numbers of the failed trials that already have a retry (queued, running or finished)."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    out = set()
    for t in study.get_trials(deepcopy=False):
        number = RetryHeartbeatStaleTrialCallback.retried_trial_number(t)
        if number is None:
            number = t.user_attrs.get("retry_of")
        if number is not None:
            out.add(number)
    return out


def requeue_interrupted(study) -> list[int]:
    """A trial stopped by Ctrl-C (or by a crash) is failed without a retry: queue its choices again (once);
    the numbers of those queued."""
    from optuna.trial import TrialState

    done = retried(study)
    failed = [t for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)) if t.number not in done
              and t.user_attrs.get("retry_of") is None]
    for t in failed:
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number}, skip_if_exists=False)
    return [t.number for t in failed]


def run(cfg: FlowConfig, out: Path, trials: int, storage: str | None = None, study_name: str | None = None,
        note=None, on_trial=None):
    """Run trials until the study holds ``trials`` finished ones; returns the study."""
    import optuna
    from optuna.storages import fail_stale_trials

    from ..data import load_dataset

    note = note or (lambda text: None)
    load_dataset(cfg, note=note)  # what the data costs, told once (the trials load it quietly)
    study = load_study(cfg, out, storage, study_name)
    again = requeue_interrupted(study)
    stopped = {t.number for t in study.get_trials(deepcopy=False) if INTERRUPTED in t.user_attrs}
    for numbers, why in (([n for n in again if n in stopped], "stopped by Ctrl-C (interrupted, not failed)"),
                         ([n for n in again if n not in stopped], "failed")):
        if numbers:
            note(f"{'trial' if len(numbers) == 1 else 'trials'} {', '.join(map(str, numbers))} {why} before "
                 f"finishing: queued again with the same choices")
    points = size(cfg)

    def every_point_tried() -> bool:
        if tried_points(study) < points:
            return False
        note(f"every one of the {points} points of search.space has been tried; stopping after "
             f"{progress(study).finished} trials")
        return True

    def callback(study, trial):
        if on_trial:
            on_trial(study, trial, progress(study))

    objective, waiting = make_objective(cfg, out, note), False
    while True:  # one trial at a time: none is started that other workers' running trials make one too many
        fail_stale_trials(study)  # a worker that died is not counted on past GRACE_S
        p = progress(study)
        if p.finished >= trials or every_point_tried():
            return study
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if p.finished + len(running) < trials:
            waiting = False
            study.optimize(objective, n_trials=1, callbacks=[callback], gc_after_trial=True)
            continue
        if not waiting:
            note(f"{p.finished} of {trials} trials finished and other workers run the rest ("
                 + ", ".join(f"trial {t.number} on {t.user_attrs.get('worker', 'a worker')}" for t in running)
                 + "): waiting for them (should one fail, this worker runs another)")
            waiting = True
        time.sleep(HEARTBEAT_S)
        stop_if_asked()


MARKER = "search.json"
OWN_STORAGE = "sqlite (study.db here)"  # what search.json records when --storage was left out
WRITTEN = (MARKER, "study.db", "trainings.log", "pareto.json", "pareto.txt", "pareto.png", "float", "pareto")
SQLITE_SIDE = ("study.db-journal", "study.db-wal", "study.db-shm")  # what SQLite keeps beside study.db a while
_held = None  # the search folders this process holds (flow.locks), until it ends


def _recorded(out: Path) -> dict | None:
    """What ``out/search.json`` records (config, study, storage), or None without one."""
    try:
        doc = json.loads((Path(out) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _storage_key(storage: str | None, out: Path):
    """What identifies a study storage, for comparing two spellings of it: an SQLite file by its absolute path
    (the folder's own study.db for no --storage), a server by host and database (never the password)."""
    if storage is None or storage == OWN_STORAGE:
        return ("sqlite", (Path(out) / "study.db").resolve())
    path = _sqlite_path(storage)
    if path is not None:
        return ("sqlite", path.expanduser().resolve())
    server, _, database = storage.split("://", 1)[-1].split("@")[-1].partition("/")
    if not server.rsplit("]", 1)[-1].count(":"):  # no port written: PostgreSQL's own, the same server
        server += ":5432"
    return ("server", f"{server.lower()}/{database}")  # a host name is read in any case


def check_same_storage(out: Path, storage: str | None) -> None:
    """A search folder is resumed with the storage its search.json records: another one would start another
    study beside it without a word (trained from scratch, the folder's study left behind)."""
    earlier = _recorded(out)
    if earlier is None or not isinstance(earlier.get("storage"), str):
        return
    recorded = earlier["storage"]
    if _storage_key(recorded, out) == _storage_key(storage, out):
        return
    name = earlier.get("study")
    where = Path(out) / MARKER
    if recorded == OWN_STORAGE:
        raise ConfigError(f"--out {out} holds the search {name!r} whose study is {Path(out) / 'study.db'} ({where}: "
                          f"no --storage); --storage {shown_url(storage)} would start another study there: leave "
                          f"--storage out to resume it, or give a new --out for a study at {shown_url(storage)}")
    resume = (f"pass --storage {recorded}" if "://" in recorded else f"pass the same --storage (...@{recorded})")
    if storage and _storage_key(recorded, out)[0] == _storage_key(storage, out)[0] == "server":
        raise ConfigError(f"--out {out} holds the search {name!r} whose study is at {recorded} ({where}); --storage "
                          f"{shown_url(storage)} is another URL: if it names the same server (localhost for "
                          f"127.0.0.1, another name of the host), {resume} to resume the search; if not, give a new "
                          f"--out for a study there")
    now = (f"--storage {shown_url(storage)} would start another study there" if storage
           else f"without --storage this run would start another study in {Path(out) / 'study.db'}")
    raise ConfigError(f"--out {out} holds the search {name!r} whose study is at {recorded} ({where}); {now}: "
                      f"{resume} to resume it, or give a new --out")


def _busy(out: Path):
    from ..locks import FolderBusy, describe, stop_hint

    def busy(holder):
        return FolderBusy(f"--out {out} is in use by another search ({describe(holder)}): give this worker its own "
                          f"--out (workers share a study through --storage), or {stop_hint(holder)}", holder)
    return busy


def _hold(out: Path) -> None:
    """Hold ``out`` until this process ends: one search writes a folder at a time (its pareto files, its
    trainings log, its study.db)."""
    from contextlib import ExitStack

    from ..locks import hold

    global _held
    if _held is None:
        _held = ExitStack()
    _held.enter_context(hold(out, _busy(out)))


def _check_writable(out: Path) -> None:
    """Refuse a search folder (or a file or folder in it a resume writes) that cannot be written, before any
    work. Asked with access(2) first, which changes nothing (no probe file, no new modification time); only
    what it says cannot be written is tried, for the reason."""
    import errno as errnos

    from ..locks import not_writable

    for path in (out, *(out / name for name in WRITTEN)):
        if not path.exists() or os.access(path, os.W_OK):
            continue
        if path.is_dir():
            blocked = not_writable(path)
        else:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_APPEND))  # fails as access(2) said: nothing written
                blocked = None
            except OSError as exc:
                blocked = exc
        if blocked is None:
            continue
        why = blocked.strerror or errnos.errorcode.get(blocked.errno, str(blocked))
        what = "" if path == out else f"{path.relative_to(out)}: "
        raise ConfigError(f"--out {out} cannot be written ({what}{why}); make it writable, or copy it "
                          f"(cp -a {out} COPY) and resume the copy (--out COPY)")


def edited_pareto_files(out: Path, study) -> list[str]:
    """The ``pareto/trial-N.yaml`` files of ``out`` that differ from what the search wrote for trial N (edited
    by hand): a rerun would write them again."""
    found = []
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)} if study is not None else {}
    for path in sorted((Path(out) / "pareto").glob("trial-*.yaml")):
        number = path.stem.removeprefix("trial-")
        trial = by_number.get(int(number)) if number.isdigit() else None
        if trial is None or "config" not in trial.user_attrs:
            continue
        try:
            same = path.read_text() == trial.user_attrs["config"]
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            found.append(str(path))
    return found


def _study_names(db: Path) -> list[str] | None:
    """The names of the studies an SQLite study database holds, read without writing to it (None without
    one; empty where it cannot be read)."""
    import sqlite3
    from contextlib import closing

    if not db.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            return [row[0] for row in connection.execute("SELECT study_name FROM studies")]
    except sqlite3.Error:
        return []


def _unmarked(out: Path, cfg: FlowConfig, storage: str | None, study: str) -> ConfigError:
    """Why ``out`` (not empty, no search.json) is not used: a folder of other files, or a search's folder
    whose search.json is gone, which records the study and storage a rerun would resume: never guessed,
    said with how to write it back."""
    import shlex

    names = sorted(p.name for p in out.iterdir())
    if not set(names) <= {*WRITTEN, *SQLITE_SIDE}:
        return ConfigError(f"--out {out}: the folder holds files a search did not write; give a new or empty folder")
    shown = ", ".join(f"{n}/" if (out / n).is_dir() else n for n in names)
    start = (f"--out {out} holds a search's {shown} but no {MARKER} (deleted?), which records the study and storage "
             f"a rerun resumes")
    anew = "give a new --out to start a search there"
    studies = _study_names(out / "study.db")
    if studies is None and storage is None:
        return ConfigError(f"{start}; without a study.db, its study is at the --storage that search was given: pass "
                           f"that --storage (and its --study) to resume it, or {anew}")
    if studies is not None and storage is not None:
        return ConfigError(f"{start}; its study is in its own study.db (a search without --storage): leave --storage "
                           f"out to resume it, or {anew}")
    if studies == []:
        return ConfigError(f"{start}; its study.db holds no study that can be read (damaged?): {anew}")
    if studies is not None and study not in studies:
        return ConfigError(f"{start}; its study.db holds the study {', '.join(map(repr, studies))}, not {study!r} "
                           f"(--study, or the configuration's name): give that --study to resume it, or {anew}")
    info = {"config": cfg.name, "study": study, "storage": recorded_storage(storage)}
    where = f"at {shown_url(storage)}" if storage else f"in {out / 'study.db'}"
    return ConfigError(f"{start}: to resume the study {study!r} {where}, write it back "
                       f"(echo {shlex.quote(json.dumps(info))} > {shlex.quote(str(out / MARKER))}) and run this again, "
                       f"or {anew}")


def check_study_name(name: str | None) -> None:
    """A name with spaces around it, or a control character in it (a pasted tab or line break), is a slip more
    often than a name: Optuna would keep it as typed, a second study beside the one meant (``'pg '`` beside
    ``pg``), under a name no one can type again."""
    if name is not None and name.strip() and name != name.strip():
        raise ConfigError(f"--study {name!r}: the name starts or ends with whitespace (a quoting slip?); write "
                          f"--study {name.strip()}")
    control = next((c for c in name or "" if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        raise ConfigError(f"--study {name!r}: the name holds the control character {control!r} (a tab or line break "
                          f"pasted into it?); give the study's name without it")


def prepare_folder(out: Path, cfg: FlowConfig, storage: str | None, study_name: str | None, force: bool = False) -> None:
    """``out`` is new, empty, or an earlier search's folder (resumed); anything else is left alone. Another
    search's folder, another storage than the one it recorded, a folder another process searches in, one that
    cannot be written, and pareto YAMLs edited since the search wrote them (unless ``force``) are refused.
    The process holds ``out`` (``flow.locks``) from here until it ends."""
    from ..runs import check_not_inside, check_not_staged

    out = Path(out)
    check_study_name(study_name)
    check_not_inside(out.resolve(), shown=out)  # a search never writes into a build's (or another run's) folder
    check_not_staged(out.resolve(), shown=out)  # nor takes the folder a running build will rename its result to
    marker = out / MARKER
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not marker.is_file():
        raise _unmarked(out, cfg, storage, study_name or cfg.name)
    info = {"config": cfg.name, "study": study_name or cfg.name, "storage": recorded_storage(storage)}
    if out.is_dir():
        _hold(out)
        _check_writable(out)
    if marker.is_file():
        earlier = _recorded(out) or {}
        if earlier.get("study") != info["study"]:
            held = earlier.get("study")
            resume = ("leave --study out" if held == cfg.name else f"add --study {held}") if isinstance(held, str) \
                else "give its --study"
            raise ConfigError(f"--out {out} holds the study {held!r} ({marker}); to resume it {resume}, or give "
                              f"another --out for the study {info['study']!r}")
        check_same_storage(out, storage)
    if marker.is_file() or storage:  # a resume, or a study other workers may have started: the same search?
        study = stored_study(out, storage, study_name, cfg)
        if study is not None:
            check_same_search(study, cfg, out, storage)
            edited = [] if force else edited_pareto_files(out, study)
            if edited:
                one = len(edited) == 1
                raise ConfigError(f"{', '.join(edited)} {'was' if one else 'were'} edited (differ{'s' if one else ''} "
                                  f"from what the search wrote), and this run writes the Pareto front's YAMLs again: "
                                  f"move {'it' if one else 'them'} out of {out / 'pareto'} (keep your edits under "
                                  f"another name) and run again")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the folder: {exc.strerror or exc}") from None
    _hold(out)
    marker.write_text(json.dumps(info, indent=1) + "\n")
