"""C simulation: g++ with hls4ml's ap_types over the whole test split, checked bit for bit.

The testbench compares the model output with the reference forward on every window; the trace it
writes (every boundary, every window) is then compared here with the reference trace, so a
divergence is reported at the first layer and element where it appears. The split runs as
contiguous shards, one testbench process per core (the firmware keeps no state between windows),
because the ap_fixed arithmetic, not the process, is what costs time.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .hls.files import PROJECT, TB_DATA, TB_FILE

CSIM_BINARY = "csim.bin"
# beside the binary: a hash of everything the binary was compiled from (see testbench_stamp)
CSIM_STAMP = CSIM_BINARY + ".stamp"
# beside the testbench: every traced boundary's type and values per window (flow/hls/project.py writes it)
BOUNDARIES = "boundaries.json"
# -O3, as hls4ml's build_lib.sh compiles the library behind predict(). -Wno-free-nonheap-object:
# with that warning on, GCC 12 runs an access analysis over the large top function that takes
# half the compile (10.0 s -> 4.9 s for configs/default.yaml); the firmware frees nothing.
# {project}: the project folder, {ap_types}: hls4ml's ap_types (both filled in per compile).
GXX_FLAGS = ("-O3", "-Wno-free-nonheap-object", "-std=c++14", "-I{project}/firmware", "-I{ap_types}")


class CSimError(Exception):
    """The C++ did not compile or the testbench could not run."""


class ChangedSourcesWarning(Warning):
    """The C++ of a build folder changed after the build (its text names the files and the manifest holding their
    digests): a C simulation or an export is of the changed C++. Shown by Python's default filters where the API
    caller gives no ``note`` (``report`` to export)."""


@dataclass
class CSimReport:
    samples: int
    mismatches: int  # windows whose output differs
    bit_exact: bool
    max_abs_diff: float
    boundaries_compared: int
    values_compared: int
    boundary_mismatches: int  # values that differ over every traced boundary
    first_divergence: dict | None = None  # {"layer", "sample", "element", "expected", "got"}
    seconds: dict = field(default_factory=dict)
    reused_binary: bool = False  # the testbench was not compiled again: nothing it is built from changed
    # the build folder's C++ files that differ from what the build wrote (flow.runs.sources_changed): the verdict
    # is of the changed C++; [] for the build's own (and for a project outside a build folder)
    changed_sources: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=None)
def _ap_types_dir() -> Path:
    """hls4ml's ap_types headers, found without importing hls4ml (which would load TensorFlow)."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise CSimError("hls4ml is not installed: its ap_types headers are needed to compile the testbench")
    return Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"


@lru_cache(maxsize=None)
def _hls4ml_version() -> str:
    try:
        return importlib.metadata.version("hls4ml")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=None)
def _gxx_version() -> str:
    try:
        return subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "no g++"


def _gxx_flags(folder: Path) -> list[str]:
    return [flag.format(project=folder, ap_types=_ap_types_dir()) for flag in GXX_FLAGS]


def _sources(folder: Path) -> list[Path]:
    return [folder / TB_FILE, folder / "firmware" / f"{PROJECT}.cpp"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def testbench_stamp(folder: Path) -> str:
    """sha256 over everything the testbench binary is compiled from: every file below firmware/ (top
    function, types, weights, tsflow's and hls4ml's nnet_utils headers), the testbench source, the g++
    flags and version, and the ap_types folder with the hls4ml version it comes with.

    The project folder's own path is not in it: a copied or moved build keeps its binary.
    Raises OSError when a source is missing.
    """
    folder = Path(folder)
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    add("stamp", b"tsflow testbench 1")
    add("flags", json.dumps(GXX_FLAGS).encode())
    add("sources", json.dumps([str(p.relative_to(folder)) for p in _sources(folder)]).encode())
    add("ap_types", str(_ap_types_dir()).encode())
    add("hls4ml", _hls4ml_version().encode())
    add("g++", _gxx_version().encode())
    files = sorted(p for p in (folder / "firmware").rglob("*") if p.is_file())
    for path in [*files, folder / TB_FILE]:
        add(path.relative_to(folder).as_posix(), path.read_bytes())
    return h.hexdigest()


def testbench_is_current(folder: Path) -> bool:
    """The compiled testbench exists, is the binary its stamp was written for, and nothing it is compiled
    from changed since."""
    folder = Path(folder)
    binary = folder / CSIM_BINARY
    try:
        saved = json.loads((folder / CSIM_STAMP).read_text())
        return (isinstance(saved, dict) and binary.is_file() and saved.get("binary") == _sha256(binary)
                and saved.get("inputs") == testbench_stamp(folder))
    except (OSError, ValueError):
        return False


def compile_testbench(folder: Path) -> float:
    """Build the testbench binary; returns the compile time in seconds.

    The testbench and the firmware are compiled side by side (two processes), then linked. On success
    the stamp of what it was compiled from is written beside the binary (``CSIM_STAMP``).
    """
    folder = Path(folder)
    binary = folder / CSIM_BINARY
    (folder / CSIM_STAMP).unlink(missing_ok=True)
    try:  # taken before compiling: a file edited during the compile makes the next run compile again
        stamp = testbench_stamp(folder)
    except OSError:  # a missing source: g++ names it
        stamp = None
    t0 = time.perf_counter()
    _compile_and_link(folder, _sources(folder), binary)
    if stamp is not None:
        (folder / CSIM_STAMP).write_text(json.dumps({"inputs": stamp, "binary": _sha256(binary)}) + "\n")
    return time.perf_counter() - t0


def compile_library(folder: Path, project: str, stamp: str) -> Path:
    """The library behind hls4ml's ``hls_model.predict()`` (``hls_model.compile()`` on the tsflow
    backends): the firmware and hls4ml's bridge compiled as the testbench is, side by side with the
    same flags (and -fPIC), linked as a shared library where hls4ml loads it from."""
    folder = Path(folder)
    library = folder / "firmware" / f"{project}-{stamp}.so"
    weights = f'-DWEIGHTS_DIR="{folder / "firmware" / "weights"}"'  # hls4ml's weights as text, if written
    _compile_and_link(folder, [folder / "firmware" / f"{project}.cpp", folder / f"{project}_bridge.cpp"], library,
                      ["-fPIC", weights], ["-shared"],
                      why="hls_model.compile() builds the library behind predict() with it")
    return library


def check_compiler(why: str = "the C simulation compiles its testbench with it", then: str = "") -> None:
    """Refuse (ConfigError) a PATH without g++, which every C simulation compiles with: a build checks it
    before any training, which would otherwise end in the compiler's FileNotFoundError."""
    if shutil.which("g++") is None:
        raise ConfigError(f"g++ is not on PATH: {why}; install g++ "
                          f"(Debian/Ubuntu: apt-get install g++) or put the folder that holds it on PATH{then}")


def _compile_and_link(folder: Path, sources: list[Path], output: Path, flags: list = (), link: list = (),
                      why: str = "the C simulation compiles its testbench with it") -> None:
    """Every source compiled in its own g++ process at once, then linked into ``output``."""
    check_compiler(why)
    flags = [*_gxx_flags(folder), *flags]
    with tempfile.TemporaryDirectory(prefix="tsflow-objects-") as tmp:
        objects = [Path(tmp, f"{src.stem}.o") for src in sources]
        compiles = [subprocess.Popen(["g++", *flags, "-c", str(src), "-o", str(obj)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for src, obj in zip(sources, objects)]
        errors = [proc.communicate()[1] for proc in compiles]
        for proc, err in zip(compiles, errors):
            if proc.returncode != 0:
                raise CSimError(f"g++ failed on {folder}:\n{err[:4000]}")  # the first error is the cause
        done = subprocess.run(["g++", *link, *map(str, objects), "-o", str(output)], capture_output=True, text=True)
        if done.returncode != 0:
            raise CSimError(f"g++ failed to link {output}:\n{done.stderr[:4000]}")


def cpp_layout(name: str, mantissa: np.ndarray) -> np.ndarray:
    """Reference boundary -> the order the C++ records it in ([sample][...] flat)."""
    n = mantissa.shape[0]
    if name.endswith(".context"):  # (n, heads, steps, head_dim) -> (n, steps, heads * head_dim)
        mantissa = mantissa.transpose(0, 2, 1, 3)
    return mantissa.reshape(n, -1)


def _first_divergence(reference: dict, shard_dirs: list[Path]) -> tuple[int, int, int, dict | None]:
    boundaries = values = mismatches = 0
    first = None
    for name, b in reference.items():
        paths = [d / f"{name}.bin" for d in shard_dirs]
        if not paths[0].exists():  # the testbench input is the window itself, not a layer output
            continue
        want = cpp_layout(name, b.mantissa)
        got = np.concatenate([np.fromfile(path, dtype=np.int32) for path in paths])
        if got.size != want.size:
            raise CSimError(f"trace of {name} has {got.size} values, expected {want.size}")
        got = got.reshape(want.shape)
        bad = got != want
        boundaries += 1
        values += want.size
        mismatches += int(bad.sum())
        if first is None and bad.any():
            s, e = map(int, np.argwhere(bad)[0])
            first = {"layer": name, "sample": s, "element": e, "expected": int(want[s, e]), "got": int(got[s, e])}
    return boundaries, values, mismatches, first


def default_jobs() -> int:
    """Cores this process may use (its affinity mask where the OS has one, as on Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def shards(samples: int, jobs: int) -> list[tuple[int, int]]:
    """``jobs`` contiguous (first window, count) ranges covering ``samples`` >= 1 windows, none empty."""
    jobs = max(1, min(jobs, samples))
    bounds = np.linspace(0, samples, jobs + 1).round().astype(int)
    return [(int(a), int(b - a)) for a, b in zip(bounds[:-1], bounds[1:])]


_SIGNALS = {signal.SIGFPE: "arithmetic error, e.g. a division by zero", signal.SIGSEGV: "invalid memory access",
            signal.SIGABRT: "aborted", signal.SIGBUS: "bus error", signal.SIGILL: "illegal instruction",
            signal.SIGKILL: "killed from outside, e.g. out of memory"}


def _exit_shown(code: int) -> str:
    """A testbench's exit status as a reader understands it: a negative one is the signal that killed it."""
    if code >= 0:
        return f"exit {code}"
    try:
        sig = signal.Signals(-code)
    except ValueError:
        return f"exit {code}"
    what = _SIGNALS.get(sig)
    return f"exit {code}: killed by {sig.name}" + (f" ({what})" if what else "")


def _shard_verdict(proc: subprocess.Popen, first: int, count: int) -> dict:
    out, err = proc.communicate()
    if proc.returncode not in (0, 1):
        said = (err.strip() or out.strip())[-4000:]
        raise CSimError(f"testbench failed on windows {first}..{first + count - 1} ({_exit_shown(proc.returncode)})"
                        + (f":\n{said}" if said else "; it printed nothing"))
    try:
        verdict = json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise CSimError(f"testbench printed no verdict for windows {first}..{first + count - 1}:\n"
                        f"{out[-2000:]}{err[-2000:]}") from None
    if verdict["samples"] != count:
        raise CSimError(f"testbench ran {verdict['samples']} windows where {count} were asked for: a testbench "
                        f"written before window ranges existed; rebuild, or pass --jobs 1")
    return verdict


def run_testbench(folder: Path, samples: int, jobs: int, trace_root: Path | None = None) -> tuple[dict, list[Path]]:
    """Run the compiled testbench over every window, as ``jobs`` shards in parallel processes.

    Returns the merged verdict ``{"samples", "mismatches", "max_abs_diff"}`` and the trace folder of
    each shard (in window order; empty when ``trace_root`` is None).
    """
    folder = Path(folder).resolve()  # the testbench runs with the project as its working directory
    ranges = shards(samples, jobs)
    trace_dirs = []
    procs = []
    try:
        for k, (first, count) in enumerate(ranges):
            trace = ""
            if trace_root is not None:
                trace_dirs.append(Path(trace_root, f"shard{k}"))
                trace_dirs[-1].mkdir()
                trace = str(trace_dirs[-1])
            procs.append(subprocess.Popen(
                [str(folder / CSIM_BINARY), str(folder / TB_DATA), trace, str(first), str(count)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder,
                env={**os.environ, "OMP_NUM_THREADS": "1"}))
        verdicts = [_shard_verdict(proc, first, count) for proc, (first, count) in zip(procs, ranges)]
    finally:  # a failed shard must not leave the others writing into a trace folder being removed
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    merged = {"samples": sum(v["samples"] for v in verdicts), "mismatches": sum(v["mismatches"] for v in verdicts),
              "max_abs_diff": max(v["max_abs_diff"] for v in verdicts)}
    return merged, trace_dirs


def described_boundaries(reference: dict) -> dict:
    """What ``BOUNDARIES`` holds for ``reference``: each boundary's type and how many values a window has."""
    return {name: {"type": b.type.to_dict(), "per_sample": int(np.prod(b.mantissa.shape[1:]))}
            for name, b in reference.items()}


_ABSENT = object()


def _difference(got, want, key: str = "") -> tuple[str, object, object] | None:
    """The first (dotted key, value in ``got``, value in ``want``) where two JSON documents differ."""
    if isinstance(got, dict) and isinstance(want, dict):
        for k in [*want, *(k for k in got if k not in want)]:
            found = _difference(got.get(k, _ABSENT), want.get(k, _ABSENT), f"{key}.{k}" if key else str(k))
            if found is not None:
                return found
        return None
    return None if got == want else (key, got, want)


def _shown(value) -> str:
    return "absent" if value is _ABSENT else json.dumps(value)


def check_boundaries(folder: Path, reference: dict) -> None:
    """Refuse (ConfigError) a ``BOUNDARIES`` of ``folder`` that describes other boundaries than ``reference``
    (computed from ``model/`` now, as the build computed the file): the report scales the C++'s integers by
    its types, so an edited one would plot a bit-exact run's forecast at the wrong scale. One that cannot be
    read is left to the report, which names it after the verdict."""
    path = Path(folder) / BOUNDARIES
    try:
        written = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(written, dict):  # not a description at all: the report names it too
        return
    found = _difference(written, json.loads(json.dumps(described_boundaries(reference))))
    if found is not None:
        key, got, want = found[0], _shown(found[1]), _shown(found[2])
        raise ConfigError(f"{path} differs from what the build wrote ({key}: {got} there, {want} from model/): it "
                          f"was changed after the build; the C++ was not run; run 'tsflow build' again (--force "
                          f"replaces the folder)")


def run_csim(folder: Path, reference: dict, recompile: bool | None = None, jobs: int | None = None) -> CSimReport:
    """Compile the testbench if needed and run it; compare output and every boundary (``BOUNDARIES`` first
    against ``reference``: ``check_boundaries``).

    ``recompile``: True compiles always; False only when there is no binary; None (the default) when
    there is no binary or anything it is compiled from changed (``testbench_is_current``). The report's
    ``reused_binary`` says whether the compile was skipped.
    """
    folder = Path(folder)
    check_boundaries(folder, reference)
    seconds = {}
    if recompile is None:
        recompile = not testbench_is_current(folder)
    reused = not (recompile or not (folder / CSIM_BINARY).exists())
    if not reused:
        seconds["compile"] = compile_testbench(folder)
    samples = reference["input"].mantissa.shape[0]
    with tempfile.TemporaryDirectory(prefix="tsflow-trace-") as tmp:
        t0 = time.perf_counter()
        tb, trace_dirs = run_testbench(folder, samples, jobs or default_jobs(), Path(tmp))
        seconds["run"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        boundaries, values, bad_values, first = _first_divergence(reference, trace_dirs)
        seconds["compare"] = time.perf_counter() - t0
    return CSimReport(samples=tb["samples"], mismatches=tb["mismatches"],
                      bit_exact=tb["mismatches"] == 0 and bad_values == 0, max_abs_diff=tb["max_abs_diff"],
                      boundaries_compared=boundaries, values_compared=values, boundary_mismatches=bad_values,
                      first_divergence=first, seconds=seconds, reused_binary=reused)

