"""Benchmark: estimated latency against the DSP bound, before and after a change of the design.

    python -m flow.benchmarks.latency configs/default.yaml configs/etth1.yaml configs/etth1-d32.yaml \
        [--before 1bcc68e] [--csim]

Relative ``data.path`` entries are read from each config file's folder, as tsflow does. For each config it
runs ``tsflow estimate --json`` twice: with this tree, and with the tree of commit ``--before`` (by
default the shared lanes merged by an ALLOCATION pragma, one loop nest per layer), checked out with
``git worktree`` into a temporary folder. It prints MACs, the DSP bound (MACs / DSPs of the part, in
cycles), both designs' estimated cycles, latency and ratio to the bound, both designs' resources in
percent of the part, this design's energy per inference (``flow.estimate.energy``), its engine (its call
sites and lanes) and pipelined loops, and the
MicroBlaze system of ``tsflow export --block-design`` around this design's IP (``flow.estimate.system``).
With ``--csim`` it also builds each config in both trees (1 float + 1 QAT epoch: the C simulation's
speed does not depend on the weights) and times the testbench over the whole test split in one process
(fastest of three runs). Every figure is an estimate of the generated design until ``tsflow export
--run`` synthesises it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from flow.benchmarks import load_config_or_exit  # noqa: E402
from flow.config import load_config  # noqa: E402
from flow.estimate.system import fit  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RESOURCES = ("lut", "lutram", "ff", "bram18", "dsp")
REPEATS = 3


def _percent(est: dict) -> str:
    return " / ".join(f"{100 * est['total'][k] / est['budget'][k]:.0f}" if est["budget"][k] else "-"
                      for k in RESOURCES)


def _trips(loop: dict) -> str:
    lo, hi = loop["trips"]["min"], loop["trips"]["max"]
    return f"{lo:,}" if lo == hi else f"{lo:,}..{hi:,}"


def _checkout(ref: str, work: Path) -> Path:
    """The tree of ``ref`` beside this one, importing its own templates (the editable install maps the
    template packages to this tree's folders)."""
    tree = work / "before"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref], check=True,
                   capture_output=True)
    for package, folder in (("hls_templates", "hls_templates"), ("vivado_scripts", "vivado_scripts")):
        (tree / "flow" / package).symlink_to(tree / folder, target_is_directory=True)
    if not (tree / "flow" / "hls").exists():  # the installed entry point names flow.hls.plugin: the older
        shim = tree / "flow" / "hls"          # tree had it at flow.hls_plugin
        shim.mkdir()
        (shim / "__init__.py").write_text("")
        (shim / "plugin.py").write_text("from flow.hls_plugin import register  # noqa: F401\n")
    return tree


def _tsflow(tree: Path, args: list, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "flow", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"tsflow {' '.join(map(str, args))} in {tree} failed:\n{done.stderr[-2000:]}")
    return done


def _absolute_config(config: Path, work: Path, **training) -> Path:
    """The config with its data path made absolute (and training shortened if asked), in ``work``."""
    from flow.config import load_yaml

    raw = load_yaml(config.read_text())  # a key given twice is refused here as tsflow would refuse it
    data = raw.get("data", {})
    if data.get("path"):  # '~' and a relative path resolved as tsflow resolves them from the config's folder
        data["path"] = load_config(config).data.path
    if training:
        raw.setdefault("training", {}).update(training)
    out = work / f"{config.stem}{'-short' if training else ''}.yaml"
    out.write_text(yaml.safe_dump(raw))
    return out


def _csim_windows_per_second(tree: Path, config: Path, work: Path, tag: str) -> float:
    out = work / f"{config.stem}-{tag}"
    done = _tsflow(tree, ["build", config, "--out", out, "--allow-overflow"], work)
    if done.returncode != 0:
        raise SystemExit(f"build of {config} in {tree} failed:\n{done.stderr[-2000:]}")
    samples = json.loads((out / "csim.json").read_text())["samples"]
    binary, data = out / "hls" / "csim.bin", out / "hls" / "tb_data"
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run([str(binary), str(data), ""], cwd=out / "hls", check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return samples / min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", type=Path)
    ap.add_argument("--before", default="1bcc68e", help="commit of the design to compare with")
    ap.add_argument("--csim", action="store_true", help="also build in both trees and time the C simulation")
    args = ap.parse_args()
    if not args.before.strip():  # '--before $UNSET': git would be asked for the commit '' (or '  ')
        ap.error(f"--before {args.before!r}: an empty commit (an unset variable?); give a commit hash or tag of this "
                 f"git clone of tsflow, or leave --before out for {ap.get_default('before')}")
    for config in args.configs:  # every config read and checked before any worktree is made
        load_config_or_exit(config)
    if not (REPO / ".git").exists():
        ap.error(f"this benchmark checks out --before {args.before} with git worktree: it runs from a git clone of "
                 f"tsflow, and {REPO} is not one")
    known = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{args.before}^{{commit}}"],
                           capture_output=True, text=True)
    if known.returncode != 0:
        ap.error(f"--before {args.before}: not a commit of {REPO}; give a commit hash or tag of this repository")
    console = Console(width=220)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tsflow-latency-") as tmp:
        work = Path(tmp)
        before = _checkout(args.before, work)
        try:
            for config in args.configs:
                path = _absolute_config(config, work)
                after = json.loads(_tsflow(REPO, ["estimate", path, "--json"], work).stdout)
                old = json.loads(_tsflow(before, ["estimate", path, "--json"], work).stdout)
                cfg = load_config(path)
                row = {"config": str(config), "after": after, "before": old, "headroom": cfg.target.headroom,
                       "local_memory_kb": cfg.export.local_memory_kb}
                if args.csim:
                    short = _absolute_config(config, work, float_epochs=1, qat_epochs=1)
                    row["csim_before"] = _csim_windows_per_second(before, short, work, "before")
                    row["csim_after"] = _csim_windows_per_second(REPO, short, work, "after")
                rows.append(row)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], capture_output=True)
    table = Table(title=f"estimated latency at the clock of each config, before ({args.before}) and after; "
                        "estimates until synthesised")
    for col in ("config", "MACs", "DSP bound", "before: cycles (us)", "before / bound", "before % (" +
                " / ".join(r.upper() for r in RESOURCES) + ")", "after: cycles (us)", "after / bound",
                "after % (" + " / ".join(r.upper() for r in RESOURCES) + ")", "fits", "after: energy (uJ)"):
        table.add_column(col, justify="right")
    if args.csim:
        table.add_column("C sim windows/s before / after", justify="right")
    for r in rows:
        a, b = r["after"], r["before"]
        bound = a["dsp_bound_cycles"]
        cells = [r["config"], f"{a['macs']:,}", f"{bound:,}",
                 f"{b['latency_cycles']:,} ({b['latency_us']:,.1f})", f"{b['latency_cycles'] / bound:.2f}x",
                 _percent(b), f"{a['latency_cycles']:,} ({a['latency_us']:,.1f})", f"{a['bound_ratio']:.2f}x",
                 _percent(a), "yes" if a["fits"] else "NO",
                 f"{a['energy']['energy_uj']:,.2f}" if a.get("energy") else "n/a"]
        if args.csim:
            cells.append(f"{r['csim_before']:,.0f} / {r['csim_after']:,.0f}")
        table.add_row(*cells)
    console.print(table)
    for r in rows:
        a = r["after"]
        e = a["engine"]
        console.print(f"{r['config']}: engine {e['function']}, {e['call_sites']} call site, {e['lanes']} shared lanes "
                      f"{e['a_width']}x{e['b_width']} on {e['mapping']} ({e['dsp']} DSP)" if e
                      else f"{r['config']}: no shared lanes", highlight=False)
        loops = ", ".join(f"{lp['function']}/{lp['label']} {_trips(lp)}" for lp in a["pipelined_loops"])
        console.print(f"  pipelined loops (II 1, trips): {loops}", highlight=False)
        system = fit(a["total"], a["budget"], a["part"], r["headroom"], r["local_memory_kb"])
        console.print(f"  with the MicroBlaze system of --block-design ({r['local_memory_kb']} KB): " + ", ".join(
            f"{k.upper()} {system.total[k]:,} ({system.percent(k):.0f}%)" for k in RESOURCES if system.budget[k])
            + ("; within the headroom" if not system.over else f"; over the headroom on {', '.join(system.over)}"),
            highlight=False)


if __name__ == "__main__":
    main()
