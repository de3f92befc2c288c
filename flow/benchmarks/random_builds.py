"""Randomised build check of the generator: configurations drawn at random, each built and C-simulated.

    python -m flow.benchmarks.random_builds [--seed 11] [--count 5] [--keep DIR]

Each configuration is drawn from the ranges the schema allows on the built-in series: d_model 4, 6, 8, 12
or 16 with a number of heads that divides it, a window of 4 to 30 steps, 1 or 2 layers, an FFN of 1 to 3
times d_model, either head, with and without ``predict_delta``, level or differenced inputs, 4 to 8 bits
with every rounding and overflow mode, every default storage, every interface and both pragma dialects;
one float and one QAT epoch (the C simulation's verdict does not depend on the weights). Each is built
with ``tsflow build --allow-overflow`` (the estimate may exceed the part; the C++ is what is checked) and
must be bit-exact over its whole test split. Prints one row a build; exit 1 if any build fails or
differs. A check, not a timed test: it takes a minute or so a build.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table


def draw(rng: random.Random, name: str) -> dict:
    """One configuration a user could write, drawn from the values the schema accepts."""
    d = rng.choice([4, 6, 8, 12, 16])
    return {
        "name": name,
        "data": {"source": "builtin", "dataset": "seattle-temps", "features": ["temp"], "target": "temp",
                 "window": rng.randint(4, 30), "inputs": rng.choice(["levels", "differences"])},
        "model": {"d_model": d, "heads": rng.choice([h for h in (1, 2, 3, 4) if d % h == 0]),
                  "layers": rng.choice([1, 2]), "ffn": d * rng.choice([1, 2, 3]),
                  "predict_delta": rng.choice([True, False]), "head": rng.choice(["mean", "mean_last"])},
        "quantization": {"bits": rng.choice([4, 5, 6, 8]), "rounding": rng.choice(["conv", "rnd", "trn"]),
                         "overflow": rng.choice(["sat", "wrap"])},
        "hls": {"default_storage": rng.choice(["auto", "lutram", "registers", "bram"]),
                "interface": rng.choice(["ap_vld", "s_axilite", "axis"]), "tool": rng.choice(["vitis", "vivado"])},
        "training": {"float_epochs": 1, "qat_epochs": 1, "batch_size": 256, "seed": rng.randint(0, 999)},
    }


def _summary(cfg: dict) -> str:
    m, q, h = cfg["model"], cfg["quantization"], cfg["hls"]
    return (f"d{m['d_model']} h{m['heads']} l{m['layers']} ffn{m['ffn']} w{cfg['data']['window']} {m['head']}"
            f"{' delta' if m['predict_delta'] else ''} {cfg['data']['inputs']} {q['bits']}b {q['rounding']}/"
            f"{q['overflow']} {h['default_storage']} {h['interface']} {h['tool']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--keep", type=Path, default=None, help="keep the configs and build folders here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    table = Table(title=f"random builds, seed {args.seed}")
    for col in ("#", "configuration", "exit", "C simulation"):
        table.add_column(col)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="tsflow-random-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for i in range(args.count):
            cfg = draw(rng, f"random{args.seed}-{i}")
            path = work / f"{cfg['name']}.yaml"
            path.write_text(yaml.safe_dump(cfg))
            out = work / cfg["name"]
            done = subprocess.run([sys.executable, "-m", "flow", "build", str(path), "--out", str(out),
                                   "--allow-overflow", "--force"], capture_output=True, text=True,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            if (out / "csim.json").is_file():
                c = json.loads((out / "csim.json").read_text())
                verdict = (f"{c['samples']:,} windows, {c['mismatches']} mismatches, "
                           f"{c['values_compared']:,} values: {'bit-exact' if c['bit_exact'] else 'DIFFERS'}")
            else:
                verdict = (done.stderr.strip().splitlines() or ["no output"])[-1][:120]
            failed += done.returncode != 0
            table.add_row(str(i), _summary(cfg), str(done.returncode), verdict)
    Console(width=200).print(table)
    print(f"{args.count - failed} of {args.count} built and bit-exact")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
