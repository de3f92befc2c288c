"""C simulation: g++ with hls4ml's ap_types, the whole test split in one process, checked bit for bit.

The testbench compares the model output with the reference forward on every window; the trace it
writes (every boundary, every window) is then compared here with the reference trace, so a
divergence is reported at the first layer and element where it appears.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .convert import PROJECT, TB_DATA, TB_FILE

CSIM_BINARY = "csim.bin"


class CSimError(Exception):
    """The C++ did not compile or the testbench could not run."""


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

    def to_dict(self) -> dict:
        return asdict(self)


def compile_testbench(folder: Path) -> float:
    """Build the testbench binary; returns the compile time in seconds."""
    import hls4ml

    ap_types = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    folder = Path(folder)
    cmd = ["g++", "-O2", "-std=c++14", f"-I{folder / 'firmware'}", f"-I{ap_types}", str(folder / TB_FILE),
           str(folder / "firmware" / f"{PROJECT}.cpp"), "-o", str(folder / CSIM_BINARY)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise CSimError(f"g++ failed on {folder}:\n{done.stderr[-4000:]}")
    return time.perf_counter() - t0


def cpp_layout(name: str, mantissa: np.ndarray) -> np.ndarray:
    """Reference boundary -> the order the C++ records it in ([sample][...] flat)."""
    n = mantissa.shape[0]
    if name.endswith(".context"):  # (n, heads, steps, head_dim) -> (n, steps, heads * head_dim)
        mantissa = mantissa.transpose(0, 2, 1, 3)
    return mantissa.reshape(n, -1)


def _first_divergence(reference: dict, trace_dir: Path) -> tuple[int, int, int, dict | None]:
    boundaries = values = mismatches = 0
    first = None
    for name, b in reference.items():
        path = trace_dir / f"{name}.bin"
        if not path.exists():  # the testbench input is the window itself, not a layer output
            continue
        want = cpp_layout(name, b.mantissa)
        got = np.fromfile(path, dtype=np.int32)
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


def run_csim(folder: Path, reference: dict, recompile: bool = True) -> CSimReport:
    """Compile (unless told not to) and run the testbench; compare output and every boundary."""
    folder = Path(folder)
    seconds = {}
    if recompile or not (folder / CSIM_BINARY).exists():
        seconds["compile"] = compile_testbench(folder)
    with tempfile.TemporaryDirectory(prefix="tsflow-trace-") as tmp:
        t0 = time.perf_counter()
        done = subprocess.run([str(folder / CSIM_BINARY), str(folder / TB_DATA), tmp], capture_output=True,
                              text=True, cwd=folder, env={**os.environ, "OMP_NUM_THREADS": "1"})
        seconds["run"] = time.perf_counter() - t0
        if done.returncode not in (0, 1):
            raise CSimError(f"testbench failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
        tb = json.loads(done.stdout.strip().splitlines()[-1])
        t0 = time.perf_counter()
        boundaries, values, bad_values, first = _first_divergence(reference, Path(tmp))
        seconds["compare"] = time.perf_counter() - t0
    return CSimReport(samples=tb["samples"], mismatches=tb["mismatches"],
                      bit_exact=tb["mismatches"] == 0 and bad_values == 0, max_abs_diff=tb["max_abs_diff"],
                      boundaries_compared=boundaries, values_compared=values, boundary_mismatches=bad_values,
                      first_divergence=first, seconds=seconds)
