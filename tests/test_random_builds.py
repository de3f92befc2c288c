"""The randomised build check: its draws reach the whole schema and pass the configuration checks, and a few
of them are built and C-simulated for real on every CI run (a longer run's output: docs/testing.md)."""
import os
import random
import subprocess
import sys
from collections import Counter

from flow.benchmarks.random_builds import draw_valid, write_csv
from flow.config import INTERFACES, MULTIPLIER_KINDS, ROM_KINDS, STORAGE_KINDS, parse_config
from flow.data import load_dataset
from flow.estimate import estimate

from .conftest import REPO


def test_the_draws_are_valid_and_reach_every_choice_of_the_schema(tmp_path):
    rng, csv, refusals = random.Random(5), write_csv(tmp_path), {}
    drawn = [draw_valid(rng, f"r{i}", csv, refusals) for i in range(120)]
    # each passes the checks tsflow build makes before training: draw_valid also hands back a draw the checks
    # crashed on (for its build to show the crash), which this names; parse_config alone, on draws it parsed
    # already, could fail only on a crash of parse_config itself
    for raw in drawn:
        cfg = parse_config(raw)
        estimate(cfg, n_features=len(load_dataset(cfg, note=lambda text: None).features))
    seen = Counter()
    for raw in drawn:
        d, h, q = raw["data"], raw["hls"], raw["quantization"]
        seen.update([("source", d.get("dataset") or os.path.basename(d["path"])), ("interface", h["interface"]),
                     ("tool", h["tool"]), ("storage", h["default_storage"]), ("rom", h["default_rom"]),
                     ("multiplier", h["default_multiplier"]), ("inputs", d["inputs"]), ("head", raw["model"]["head"]),
                     ("layers", raw["model"]["layers"]), ("date", d.get("date_column", "date") is not None)])
        seen.update(("override", role) for roles in q["layers"].values() for role in roles)
        seen.update(("per-buffer storage", kind) for kind in h["storage"].values())
        seen["features > 1"] += len(d["features"]) > 1
        seen["horizon > 1"] += d["horizon"] > 1
        seen["steps > 1"] += d["steps"] > 1
        seen["softmax table set"] += "exp_bits" in q["softmax"] or "prob_bits" in q["softmax"]
        seen["explicit lanes"] += bool(h["parallelism"])
    expected = ([("source", s) for s in ("seattle-temps", "sf-temps", "seattle-weather", "weather.csv",
                                          "weather-undated.csv")]
                + [("interface", i) for i in INTERFACES] + [("tool", t) for t in ("vitis", "vivado")]
                + [("storage", s) for s in STORAGE_KINDS] + [("rom", r) for r in ROM_KINDS]
                + [("multiplier", m) for m in MULTIPLIER_KINDS] + [("inputs", "levels"), ("inputs", "differences")]
                + [("head", "mean"), ("head", "mean_last"), ("layers", 1), ("layers", 2), ("date", False)]
                + [("override", r) for r in ("weight", "bias", "output", "table")]
                + ["features > 1", "horizon > 1", "steps > 1", "softmax table set", "explicit lanes"])
    assert [key for key in expected if not seen[key]] == []


def test_two_random_configurations_build_bit_exact():
    """Draws 1 and 2 of seed 3 (``--start 1``: a long run can go on in parts, at the seed's draws)."""
    done = subprocess.run([sys.executable, "-m", "flow.benchmarks.random_builds", "--n", "3", "--seed", "3",
                           "--start", "1"], cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 of 2 built and bit-exact" in done.stdout
    built = [line.split(":", 1)[0] for line in done.stderr.splitlines() if line[:1].isdigit()]
    assert sorted(built) == ["1", "2"]  # draw 0 is drawn (the seed's sequence) but not built
