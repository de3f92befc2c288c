"""Randomised build check of the generator: configurations drawn across the schema, each built and C-simulated.

    python -m flow.benchmarks.random_builds [--n 5] [--seed 11] [--jobs 1] [--keep DIR] [--start K]

Each configuration is one a user could write: data from any built-in series or a CSV (several columns, with
or without a date column), window, horizon, steps forecast, scaling and inputs; d_model, heads, layers, FFN width, head and
``predict_delta``; the default width, binary points, rounding and overflow, the input and output widths, the
softmax's table, and overrides of up to four tensors (width, binary point, rounding, overflow); the tool,
the interface, default and per-buffer storage, default and per-table ROMs, default and per-layer lanes and
multipliers, the part and the clock. One float and one QAT epoch: the C simulation's verdict does not
depend on the weights. A draw that the checks a build makes before training refuse (the configuration's,
the data's, the plan's) is drawn again, and the refusals are counted and shown. Each configuration is built with ``tsflow build --allow-overflow`` (the estimate may exceed the
part; the C++ is what is checked) and must finish and be bit-exact over its whole test split. Prints one
row a build and the YAML of each build that failed; exit 1 if any did. A check, not a timed test: a build
takes under a minute.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from flow.cli_types import WholeNumber
from flow.config import (INTERFACES, MULTIPLIER_KINDS, ROM_KINDS, STORAGE_KINDS, ConfigError, parse_config)
from flow.fixedpoint import OVERFLOW_MODES, ROUNDING_MODES
from flow.data import load_dataset
from flow.estimate import estimate
from flow.hls.plan import allowed_names
from flow.parts import PARTS
from flow.precision import resolve_precisions

CSV_COLUMNS = ("precipitation", "temp_max", "temp_min", "wind")  # seattle-weather's numeric columns
BUILTIN_COLUMNS = {"seattle-temps": ["temp"], "sf-temps": ["temp"], "seattle-weather": list(CSV_COLUMNS)}
LANES = (1, 2, 4, 8, 16)
ATTEMPTS = 200  # draws per configuration before giving up (a schema this check cannot draw from)


def write_csv(folder: Path) -> dict[str, Path]:
    """A real multi-column series as a user's CSV, with and without its date column."""
    from vega_datasets import local_data

    frame = local_data.seattle_weather()[["date", *CSV_COLUMNS]]
    paths = {"dated": folder / "weather.csv", "undated": folder / "weather-undated.csv"}
    frame.to_csv(paths["dated"], index=False)
    frame.drop(columns="date").to_csv(paths["undated"], index=False)
    return paths


def _maybe(rng: random.Random, value, p: float = 0.3):
    return value if rng.random() < p else None


def _data(rng: random.Random, csv: dict[str, Path]) -> dict:
    source = rng.choice(["seattle-temps", "sf-temps", "seattle-weather", "csv", "csv-undated"])
    if source.startswith("csv"):
        data = {"source": "csv", "path": str(csv["undated" if source == "csv-undated" else "dated"]),
                "date_column": None if source == "csv-undated" else "date"}
        columns = list(CSV_COLUMNS)
    else:
        data = {"source": "builtin", "dataset": source}
        columns = BUILTIN_COLUMNS[source]
    features = rng.sample(columns, rng.randint(1, len(columns)))
    data.update({"features": features, "target": rng.choice(features), "window": rng.randint(4, 30),
                 "horizon": rng.choice([1, 1, 2, 3]), "scaling": rng.choice(["standard", "minmax"]),
                 "inputs": rng.choice(["levels", "differences"]), "steps": rng.choice([1, 1, 2, 5])})
    return data


def _tensor(rng: random.Random) -> dict:
    spec = {"bits": rng.randint(2, 16), "integer": rng.choice(["auto", rng.randint(-2, 8)]),
            "rounding": _maybe(rng, rng.choice(ROUNDING_MODES)), "overflow": _maybe(rng, rng.choice(OVERFLOW_MODES))}
    return {k: v for k, v in spec.items() if v is not None and (k != "bits" or rng.random() < 0.8)}


def _subset(rng: random.Random, names: list, choices, k: int = 3) -> dict:
    return {name: rng.choice(choices) for name in rng.sample(names, min(len(names), rng.randint(0, k)))}


def draw(rng: random.Random, name: str, csv: dict[str, Path]) -> dict:
    """One configuration drawn from the values the schema accepts (it may still be refused by the checks
    that look at several keys together)."""
    d = rng.choice([4, 6, 8, 12, 16])
    bits = rng.choice([3, 4, 5, 6, 8, 10])
    raw = {
        "name": name,
        "data": _data(rng, csv),
        "model": {"d_model": d, "heads": rng.choice([h for h in (1, 2, 3, 4) if d % h == 0]),
                  "layers": rng.choice([1, 2]), "ffn": d * rng.choice([1, 2, 3]),
                  "predict_delta": rng.choice([True, False]), "head": rng.choice(["mean", "mean_last"])},
        "quantization": {
            "bits": bits, "rounding": rng.choice(ROUNDING_MODES), "overflow": rng.choice(OVERFLOW_MODES),
            "weight_integer": rng.choice(["auto", "auto", rng.randint(0, 3)]),
            "act_integer": rng.choice(["auto", "auto", rng.randint(1, 5)]),
            "input": {"bits": rng.choice([8, 10, 12, 16])}, "output": {"bits": rng.choice([10, 12, 16, 20])},
            "softmax": {k: v for k, v in {
                "table_size": rng.choice([32, 64, 128, 256, 512]), "index_frac": _maybe(rng, rng.randint(0, 6)),
                "exp_bits": _maybe(rng, rng.randint(4, 16)), "prob_bits": _maybe(rng, rng.randint(4, 16)),
            }.items() if v is not None}},
        "target": {"part": _part(rng), "clock_mhz": rng.choice([50, 100, 125, 200])},
        "hls": {"tool": rng.choice(["vitis", "vivado"]), "interface": rng.choice(INTERFACES),
                "default_storage": rng.choice(STORAGE_KINDS), "default_rom": rng.choice(ROM_KINDS),
                "default_parallelism": rng.choice(["auto", "auto", *LANES]),
                "default_multiplier": rng.choice(MULTIPLIER_KINDS)},
        "training": {"float_epochs": 1, "qat_epochs": 1, "batch_size": 256, "seed": rng.randint(0, 999)},
    }
    shape = parse_config({k: raw[k] for k in ("data", "model")})  # the names the overrides may key
    types = resolve_precisions(shape).types
    layers: dict = {}
    for layer in rng.sample(sorted(types), rng.randint(0, 4)):
        role = rng.choice(sorted(types[layer]))
        layers.setdefault(layer, {})[role] = _tensor(rng)
    raw["quantization"]["layers"] = layers
    names = allowed_names(shape)
    raw["hls"].update({
        "storage": _subset(rng, names["storage"], STORAGE_KINDS), "rom": _subset(rng, names["rom"], ROM_KINDS),
        # the embedding's and the input's lanes depend on the data's channels: left to the plan
        "parallelism": _subset(rng, [n for n in names["parallelism"] if n not in ("embed", "input")], LANES),
        "multiplier": _subset(rng, names["multiplier"], MULTIPLIER_KINDS)})
    return raw


def _part(rng: random.Random) -> str:
    device = rng.choice(sorted(PARTS))
    row = PARTS[device]
    return f"{device}{rng.choice(row.packages)}{rng.choice(row.speed_grades[''])}"


def draw_valid(rng: random.Random, name: str, csv: dict[str, Path], refusals: dict) -> dict:
    """Draws until one passes the checks ``tsflow build`` makes before any training (the configuration's,
    the data's and the plan's, which knows the data's channels); each refusal's first reason is counted."""
    for _ in range(ATTEMPTS):
        raw = draw(rng, name, csv)
        try:
            cfg = parse_config(raw)
            estimate(cfg, n_features=len(load_dataset(cfg, note=lambda text: None).features))
            return raw
        except ConfigError as exc:
            lines = [line.strip() for line in str(exc).splitlines()]
            reason = lines[1] if len(lines) > 1 else lines[0].split(": ", 1)[-1]
            key = reason.split(" = ")[0].split(":")[0]  # the key the first reason names
            refusals[key] = refusals.get(key, 0) + 1
        except Exception:  # noqa: BLE001 (a crash of the checks themselves: kept, so its build shows it as a failure)
            return raw
    raise SystemExit(f"no configuration the checks accept in {ATTEMPTS} draws; refusals: {refusals}")


def summary(cfg: dict) -> str:
    """One line a reader can match to the YAML: the keys that shape the design most."""
    d, m, q, h = cfg["data"], cfg["model"], cfg["quantization"], cfg["hls"]
    data = d.get("dataset") or Path(d["path"]).stem
    overrides = sum(len(roles) for roles in q["layers"].values())
    return (f"{data}[{len(d['features'])}] w{d['window']} h{d['horizon']}x{d['steps']} {d['inputs'][:4]} d{m['d_model']} "
            f"h{m['heads']} l{m['layers']} ffn{m['ffn']} {m['head']}{' delta' if m['predict_delta'] else ''} "
            f"{q['bits']}b {q['rounding']}/{q['overflow']} +{overrides} {h['default_storage']} "
            f"{h['interface']} {h['tool']} {cfg['target']['part']}")


def build(path: Path, out: Path) -> tuple[int, str, bool]:
    """``tsflow build`` of one drawn config: (exit code, the verdict or last error line, bit-exact)."""
    done = subprocess.run([sys.executable, "-m", "flow", "build", str(path), "--out", str(out), "--allow-overflow"],
                          capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    result = out / "csim.json"
    if done.returncode == 0 and result.is_file():
        c = json.loads(result.read_text())
        return done.returncode, (f"{c['samples']:,} windows, {c['mismatches']} mismatches, "
                                 f"{c['values_compared']:,} values: {'bit-exact' if c['bit_exact'] else 'DIFFERS'}"), \
            bool(c["bit_exact"])
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()] or ["no output"]
    error = next((line for line in lines if line.startswith("error:")), lines[-1])
    return done.returncode, error[:160], False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=WholeNumber("configurations").for_argparse(), default=5,
                    help="configurations to draw and build")
    ap.add_argument("--seed", type=WholeNumber("", 0).for_argparse(), default=11)
    ap.add_argument("--jobs", type=WholeNumber("builds at once").for_argparse(), default=1,
                    help="builds at once (the draws stay those of the seed)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the configs and build folders here")
    ap.add_argument("--start", type=WholeNumber("", 0).for_argparse(), default=0,
                    help="build draws K..N-1 only (the draws are those of the seed: a long run in parts)")
    args = ap.parse_args()
    if not 0 <= args.start < args.n:
        ap.error(f"--start {args.start}: allowed 0 .. {args.n - 1} (--n {args.n})")
    if args.keep is not None and args.keep.exists() and not args.keep.is_dir():
        ap.error(f"--keep {args.keep}: a file, not a folder; give a new or empty folder")
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        ap.error(f"--keep {args.keep}: the folder is not empty; give a new or empty one")
    rng = random.Random(args.seed)
    refusals: dict = {}
    with tempfile.TemporaryDirectory(prefix="tsflow-random-") as tmp:
        work = args.keep or Path(tmp)
        try:
            work.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            ap.error(f"--keep {work}: cannot make that folder ({exc.strerror or exc}); give a writable place")
        csv = write_csv(work)
        drawn = [draw_valid(rng, f"random{args.seed}-{i}", csv, refusals) for i in range(args.n)]
        built = range(args.start, args.n)

        def run(i: int) -> tuple[int, str, bool]:
            cfg = drawn[i]
            path = work / f"{cfg['name']}.yaml"
            path.write_text(yaml.safe_dump(cfg, sort_keys=False))
            code, verdict, exact = build(path, work / cfg["name"])
            print(f"{i}: {summary(cfg)}: exit {code}: {verdict}", file=sys.stderr, flush=True)
            return code, verdict, exact

        with ThreadPoolExecutor(args.jobs) as pool:  # each build is its own process
            results = list(pool.map(run, built))
    table = Table(title=f"random builds, seed {args.seed}" + (f", draws {args.start}..{args.n - 1}" if args.start else ""))
    for col in ("#", "configuration", "exit", "C simulation"):
        table.add_column(col)
    for i, (code, verdict, _) in zip(built, results):
        table.add_row(str(i), summary(drawn[i]), str(code), verdict)
    Console(width=220).print(table)
    if refusals:
        shown = ", ".join(f"{key} {count}" for key, count in sorted(refusals.items(), key=lambda kv: -kv[1]))
        print(f"draws the checks before training refused (drawn again): {sum(refusals.values())} ({shown})")
    failed = [drawn[i] for i, (_, _, exact) in zip(built, results) if not exact]
    for cfg in failed:
        print(f"\n# {cfg['name']}: failed\n{yaml.safe_dump(cfg, sort_keys=False)}")
    print(f"{len(built) - len(failed)} of {len(built)} built and bit-exact")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
