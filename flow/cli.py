"""The ``tsflow`` console script.  User errors print one clear message and exit 2, no traceback."""
from __future__ import annotations

import errno
import os
import re
import shlex
import sys
import unicodedata
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

from . import api  # noqa: E402
from .cli_types import WholeNumber  # noqa: E402
from .config import ConfigError, load_config, url_given, url_refusal  # noqa: E402
from .csim import CSimError  # noqa: E402
from .hls.check import PlanMismatch  # noqa: E402
from .export import export_command  # noqa: E402

console = Console(stderr=True, soft_wrap=True)


_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]|\\")  # C:\ or C:/ at the start, or any backslash


class GivenPath(click.Path):
    """``click.Path`` for every path a command is given, read as the shell would have read it unquoted and as
    ``data.path`` is read: a leading ``~`` or ``~NAME`` is the home folder. Refused, naming the flag: an empty
    value (``--out ""``, ``--out $UNSET``), which ``Path('')`` would take for the current folder; a name that
    holds a control character (a newline, a tab, ...); a name that starts or ends in whitespace (``--out 'o/run '``)
    unless such a path exists; a lone ``-``, which other tools read as standard input or output; a URL (tsflow
    reads and writes local files only); a pasted Windows path (a drive letter, backslashes), which on POSIX would
    be one file or folder of that literal name, unless such a path exists or it starts with ``./`` or ``/``."""

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            name = (param.opts[0] if param.param_type_name == "option" else param.human_readable_name) \
                if param is not None else "the path"
            kind = "file" if self.dir_okay is False else "folder"
            if not value.strip():
                self.fail(f"{value!r} is empty (an unset shell variable?); give {name} a {kind} name", param, ctx)
            control = next((c for c in value if unicodedata.category(c) == "Cc"), None)
            if control is not None:
                self.fail(f"{value!r} holds the control character {control!r} (a line break or tab pasted into "
                          f"it?); give a {kind} name without control characters", param, ctx)
            if value.startswith("~"):
                expanded = os.path.expanduser(value)
                if expanded.startswith("~"):  # '~someone' without such a user: never a folder named so
                    user = value[1:].split("/", 1)[0]
                    self.fail(f"{value!r} starts with ~{user}, but there is no user {user!r} whose home folder it "
                              f"would be; give the path without ~ (or ./{value} for a folder named so)", param, ctx)
                value = expanded
            if value == "-":  # standard input or output to most tools: tsflow reads and writes named files only
                self.fail(f"'-' is a dash, which reads as standard input or output, but {name} takes a {kind} "
                          f"name; give one (./- for a {kind} named '-')", param, ctx)
            url = url_given(value)
            if url and not os.path.exists(value):
                if name == "--out":  # written, never read: a URL is no place tsflow writes to
                    self.fail(f"{url!r} is a URL; tsflow writes local {kind}s only: give a local {kind} (and copy "
                              f"it where the URL points afterwards)", param, ctx)
                self.fail(url_refusal("", url).lstrip(), param, ctx)
            if os.sep == "/" and _WINDOWS_PATH.search(value) and not value.startswith(("./", "/")) \
                    and not os.path.exists(value):
                posix = re.sub(r"^[A-Za-z]:", "", value).replace("\\", "/").strip("/") or kind
                slashes = ", its backslashes written as /" if "\\" in value else ""
                self.fail(f"'{value}' looks like a Windows path (a drive letter, backslashes); on this system it is "
                          f"no drive: it would make a {kind} '{value}' in the current folder: give a POSIX path (such "
                          f"as {posix}{slashes}), or ./{shlex.quote(value)} if that name is meant", param, ctx)
            slip = api.whitespace_slip(value)  # a folder or file to be made so, never one that exists so
            if slip:
                self.fail(f"{value!r}: {slip}", param, ctx)
        return super().convert(value, param, ctx)


def _fail(exc: Exception, code: int = 2) -> None:
    """One error line, no traceback: exit 2 for a user error, 1 for C++ that is not proven bit-exact."""
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
    sys.exit(code)


def _epoch_report(phase, epoch, epochs, logs):
    console.print(f"  {phase:5s} epoch {epoch + 1:3d}/{epochs}  loss {logs['loss']:.5g}  val_loss {logs['val_loss']:.5g}",
                  highlight=False)


def _note(text: str) -> None:
    console.print(f"[dim]>[/] {escape(text)}", highlight=False)


def _metrics_table(metrics: dict, target: str) -> Table:
    """Errors of the model (and of the float model before quantization) against the naive baselines; four
    significant digits, so a series of any scale reads."""
    table = Table(title=f"forecast error of {target} (de-normalised; scaled in brackets)")
    for col in ("model, split", "MSE", "RMSE", "MAE"):
        table.add_column(col, justify="right")
    kind = "quantized" if "float" in metrics else "model"
    rows = [(f"{kind}, {split}", metrics[split]) for split in ("val", "test")]
    rows += [(f"float, {split}", metrics["float"][split]) for split in ("val", "test") if "float" in metrics]
    for label, m in rows:
        s = m["scaled"]
        table.add_row(label, f"{m['mse']:.4g} ({s['mse']:.4g})", f"{m['rmse']:.4g} ({s['rmse']:.4g})",
                      f"{m['mae']:.4g} ({s['mae']:.4g})")
    for name, b in metrics["baselines"]["test"].items():
        table.add_row(f"{name}, test", f"{b['mse']:.4g}", f"{b['rmse']:.4g}", f"{b['mae']:.4g}")
    return table


class _Commands(click.Group):
    """The command group. 'tsflow version' and 'tsflow help', as other tools have them, are pointed at --version and
    --help rather than at a command spelt alike ('Did you mean verify?')."""

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name in ("version", "help") and self.get_command(ctx, name) is None:
            asked = args[1] if name == "help" and len(args) > 1 and self.get_command(ctx, args[1]) else None
            ctx.fail(f"No such command {name!r}; " + ("'tsflow --version' prints the version" if name == "version" else
                     f"'tsflow {asked} --help' explains {asked}" if asked else
                     "'tsflow --help' lists the commands, 'tsflow COMMAND --help' explains one"))
        return super().resolve_command(ctx, args)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tsflow", prog_name="tsflow", message="%(prog)s %(version)s",
                      help="Show the installed version of tsflow and exit.")
def cli():
    """YAML in, trained integer-only Transformer forecaster and bit-exact HLS project out."""
    try:
        os.getcwd()
    except FileNotFoundError:  # every relative path, and the output folders, would be read against nothing
        _fail(ConfigError("the current folder no longer exists (it was removed after the shell entered it); cd "
                          "to a folder that exists and run the command again"))


@cli.command()
@click.argument("config", type=GivenPath(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=GivenPath(file_okay=False, path_type=Path),
              help="Folder for the trained model, metrics.json and the config it came from.")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
def train(config: Path, out: Path, force: bool):
    """Train (float, then quantization-aware) and write OUT/metrics.json and the model."""
    try:
        cfg = load_config(config)
        result = api.train(cfg, out, force, report=_epoch_report, note=_note)
    except ConfigError as exc:
        _fail(exc)
    kind = f"quantized ({cfg.quantization.bits}-bit default)" if cfg.quantization.enabled else "float"
    console.print(_metrics_table(result.metrics, cfg.data.target))
    _print_points(out)
    console.print(f"{kind} model written to {out}", highlight=False)


def _print_points(model_dir: Path) -> None:
    """The binary points `integer: auto` chose, one row per layer (from MODEL/binary_points.yaml)."""
    from .training.checkpoint import POINTS, read_points

    path = model_dir / POINTS
    if not path.is_file():
        return
    points = read_points(path, f"train the model in {model_dir} again")
    roles = [r for r in ("weight", "bias", "output", "scale", "shift", "table") if any(k[1] == r for k in points)]
    table = Table(title=f"integer bits chosen for integer: auto (copy from {path})", title_justify="left")
    table.add_column("layer")
    for role in roles:
        table.add_column(role, justify="right")
    layers = list(dict.fromkeys(layer for layer, _ in points))
    for layer in layers:
        table.add_row(layer, *[str(points[(layer, r)]) if (layer, r) in points else "" for r in roles])
    console.print(table)


def _csim_summary(csim) -> None:
    verdict = "[green]bit-exact[/]" if csim.bit_exact else "[bold red]NOT bit-exact[/]"
    console.print(f"C simulation: {csim.samples} test windows, {csim.mismatches} output mismatches, "
                  f"{csim.values_compared} values over {csim.boundaries_compared} boundaries, "
                  f"{csim.boundary_mismatches} differ: {verdict}", highlight=False)
    d = csim.first_divergence
    if d:
        console.print(f"first divergence: layer {d['layer']}, window {d['sample']}, element {d['element']}: "
                      f"reference mantissa {d['expected']}, C++ {d['got']}", highlight=False)


_jobs_option = click.option(
    "--jobs", default=None,
    type=WholeNumber("testbench processes", hint="or leave --jobs out for one per available core"),
    help="Testbench processes for the C simulation, each on a contiguous shard of the test split "
         "(default: one per available core).")


@cli.command()
@click.argument("config", type=GivenPath(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=GivenPath(file_okay=False, path_type=Path),
              help="Build folder: model/, hls/ (the HLS project), csim.json, build.json.")
@click.option("--trained", type=GivenPath(file_okay=False, path_type=Path), default=None,
              help="Reuse the model of a 'tsflow train' folder (or of a build folder: its model/) trained "
                   "from the same configuration.")
@click.option("--force", is_flag=True, help="Replace an existing build folder.")
@click.option("--allow-overflow", is_flag=True, help="Build even if the estimate exceeds the target part.")
@click.option("--calibration", type=GivenPath(dir_okay=False, path_type=Path), default=None,
              help="Corrections written by 'tsflow calibrate', applied to the estimate.")
@_jobs_option
def build(config: Path, out: Path, trained: Path | None, force: bool, allow_overflow: bool, calibration: Path | None,
          jobs: int | None):
    """Estimate, train (or reuse), convert through hls4ml, write the HLS project and prove it bit-exact."""
    def checked(est):  # printed when the fit check runs, before any training
        console.print(_estimate_table(est, per_layer=False))
        console.print(plan_summary(est), highlight=False)
        _estimate_warnings(est)

    try:
        cfg = load_config(config)
        result = api.build(cfg, out, trained, force, allow_overflow, calibration, jobs, report=_epoch_report,
                           note=_note, checked=checked)
    except ConfigError as exc:
        _fail(exc)
    except api.NotBitExact as exc:
        _csim_summary(exc.result.csim)
        _fail(exc, 1)
    except (CSimError, PlanMismatch) as exc:
        _fail(exc, 1)
    _csim_summary(result.csim)
    import json

    metrics = json.loads((out / "model" / "metrics.json").read_text())
    console.print(_metrics_table(metrics, cfg.data.target))
    _print_points(out / "model")
    est = result.estimate
    used = ", ".join(f"{r.upper() if r != 'bram18' else 'BRAM18'} {_percent(est.total[r], est.budget[r])}"
                     for r in est.total)
    console.print(f"estimate on {est.part}: {used}; latency {est.latency_cycles:,} cycles = {est.latency_us:,.1f} us "
                  f"at {est.clock_mhz:g} MHz ({est.bound_ratio:.2f}x the DSP bound)", highlight=False)
    console.print(_energy_line(est), highlight=False)
    times = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(f"build written to {out} ({result.cpp_lines} lines of C++; {times}); report: {out / 'report.html'}",
                  highlight=False)


@cli.command()
@click.argument("folder", type=GivenPath(file_okay=False, path_type=Path))
@_jobs_option
def csim(folder: Path, jobs: int | None):
    """Re-run the C simulation of a build folder over the whole test split."""
    def verdict(result):  # printed before anything is written into the folder
        if result.reused_binary:
            _note("reusing the compiled testbench (firmware, testbench and compiler unchanged)")
        _csim_summary(result)

    try:
        result = api.csim(folder, jobs, verdict=verdict, note=_note)
    except api.NotRecorded as exc:  # the verdict is printed; it could not be written: exit 1 if not bit-exact, else 2
        _fail(exc, 2 if exc.result is None or exc.result.bit_exact else 1)
    except ConfigError as exc:
        _fail(exc)
    except CSimError as exc:
        _fail(exc, 1)
    sys.exit(0 if result.bit_exact else 1)


def _percent(used: int, budget: int | None) -> str:
    return f"{100 * used / budget:.0f}%" if budget else "n/a"


def plan_summary(est) -> str:
    """What the design is, in one line: the shared lanes and the lanes of each multiplying layer."""
    plan = est.plan
    e = plan.engine
    head = (f"shared multiply lanes: {e.lanes} x {e.a_width}x{e.b_width}-bit on {e.mapping.upper()}, "
            f"used in turn by {len(e.users)} layers" if e else "no shared multiply lanes")
    lanes = ", ".join(f"{n} {lp.lanes}" + ("" if lp.shared or lp.kind != "mac" else f" ({lp.mapping}, own)")
                      for n, lp in plan.loops.items() if lp.kind in ("mac", "pool"))
    return f"{head}; lanes per layer: {lanes}"


def _estimate_table(est, per_layer: bool = True) -> Table:
    from .estimate import RESOURCES

    kind = "calibrated estimate" if est.calibrated else "estimate (not calibrated against synthesis)"
    table = Table(title=f"{kind} on {est.part} at {est.clock_mhz:g} MHz: latency {est.latency_cycles:,} cycles "
                        f"= {est.latency_us:,.1f} us; {est.macs:,} MACs, DSP bound {est.dsp_bound_cycles:,} "
                        f"cycles, {est.bound_ratio:.2f}x the bound")
    table.add_column("layer / buffer")
    table.add_column("what")
    for r in RESOURCES:
        table.add_column(r.upper() if r != "bram18" else "BRAM18", justify="right")
    table.add_column("cycles", justify="right")
    if per_layer:
        for e in est.layers:
            c = e.cost.rounded()
            table.add_row(e.name, e.what, *(str(c[r]) for r in RESOURCES), f"{e.cycles:,}")
        for b in est.buffers:
            c = b.cost.rounded()
            banks = f", {b.banks} banks" if b.banks > 1 and b.storage not in ("registers", "fused") else ""
            table.add_row(f"{b.name} (buffer)", f"{b.words}x{b.width} bit, {b.storage}{banks}",
                          *(str(c[r]) for r in RESOURCES), "")
    table.add_row("total", "", *(str(est.total[r]) for r in RESOURCES), f"{est.latency_cycles:,}", style="bold")
    table.add_row("budget", est.part, *(str(est.budget[r] or "n/a") for r in RESOURCES), "")
    over = est.over_headroom
    verdict = ("DOES NOT FIT: " + ", ".join(est.overflowing) if not est.fits else
               "fits, over the headroom: " + ", ".join(over) if over else "fits")
    table.add_row("used", verdict, *(_percent(est.total[r], est.budget[r]) for r in RESOURCES), "",
                  style="bold red" if not est.fits else "yellow" if over else "green")
    return table


def _energy_line(est) -> str:
    """Energy per inference as the estimate prices it (flow/estimate/energy.py), or why it is not priced."""
    e = est.energy
    if e is None:
        return (f"energy per inference: not estimated: no static power figure of {est.part} is known (the estimate "
                f"has one for the XC7S15); 'tsflow calibrate' with this design's report_power output gives it")
    dynamic = sum(e.dynamic_w.values())
    return (f"energy per inference ({e.source}): {e.energy_uj:,.2f} uJ = {e.energy_uj / 1000:.4g} mJ: {e.total_w:.3f} W "
            f"(static {e.static_w:.3f} W, dynamic {dynamic:.3f} W at a {e.toggle_rate:g} % toggle rate) x "
            f"{e.latency_us:,.1f} us")


def _estimate_warnings(est) -> None:
    """What the estimate goes on with but the user should know (``Estimate.warnings``): the headroom auto could not
    keep (the fit check lets the design pass), an uncalibrated fast clock, a softmax table too fine for its scores,
    a storage choice not used."""
    for text in est.warnings():
        console.print(f"warning: {text}", highlight=False)


@cli.command("estimate")
@click.argument("config", type=GivenPath(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print the totals, budget, fit, latency, engine and pipelined loops as JSON.")
@click.option("--calibration", type=GivenPath(dir_okay=False, path_type=Path), default=None,
              help="Corrections written by 'tsflow calibrate'.")
def estimate_cmd(config: Path, as_json: bool, calibration: Path | None):
    """Resources (LUT, LUTRAM, FF, BRAM18, DSP) and latency of the generated design on the target part."""
    import json

    try:
        est = api.estimate(config, calibration, note=lambda text: console.print(text, highlight=False))
    except ConfigError as exc:
        _fail(exc)
    if as_json:
        d = est.to_dict()
        click.echo(json.dumps({k: d[k] for k in ("part", "total", "budget", "fits", "overflowing", "headroom",
                                                  "over_headroom", "latency_cycles", "latency_us", "macs",
                                                  "dsp_bound_cycles", "bound_ratio", "energy", "engine",
                                                  "pipelined_loops", "calibrated", "warnings")}, indent=2))
    else:  # every figure on stdout (a saved report keeps the lanes and the energy); warnings stay on stderr
        out = Console(width=160)
        out.print(_estimate_table(est))
        out.print(plan_summary(est), highlight=False, soft_wrap=True)
        out.print(_energy_line(est), highlight=False, soft_wrap=True)
    _estimate_warnings(est)


@cli.command()
@click.argument("reports", nargs=-1, required=True, type=GivenPath(exists=True, dir_okay=False, path_type=Path))
@click.option("--config", "config", required=True, type=GivenPath(dir_okay=False, path_type=Path),
              help="The configuration whose design the reports come from.")
@click.option("--out", "out", default=Path("calibration.json"), show_default=True,
              type=GivenPath(dir_okay=False, path_type=Path), help="Where to store the corrections.")
@click.option("--force", is_flag=True, help="Replace an existing calibration file.")
def calibrate(reports: tuple[Path, ...], config: Path, out: Path, force: bool):
    """Fit per-resource corrections of the estimate (and its power, from report_power) to Vitis HLS / Vivado
    reports of the same design."""
    from .calibration import check_out, fit, save_calibration

    try:
        inputs = {Path(p).resolve(): flag for p, flag in [(config, "--config"), *((r, "a report") for r in reports)]}
        if Path(out).resolve() in inputs:
            raise ConfigError(f"--out {out} is {inputs[Path(out).resolve()]} this command reads; the calibration "
                              f"would overwrite it: give another file (such as calibration.json)")
        check_out(out, force)
        cfg = load_config(config)
        calibration = fit(cfg, list(reports))
        save_calibration(calibration, out, force)
    except ConfigError as exc:
        _fail(exc)
    table = Table(title=f"calibration of {cfg.name} on {cfg.target.part}")
    for col in ("resource", "estimate", "measured", "factor", "from"):
        table.add_column(col, justify="right" if col in ("estimate", "measured", "factor") else "left")
    for r, f in calibration["factors"].items():
        table.add_row(r, f"{calibration['estimated'][r]:,}", f"{calibration['measured'][r]:,.0f}", f"{f:.3f}",
                      ", ".join(Path(s).name for s in calibration["sources"][r]))
    power = calibration.get("power")
    if power:
        table.add_row("dynamic power (W)", f"{power['estimated_dynamic_w']:.4f}", f"{power['dynamic_w']:.4f}",
                      f"{power['dynamic_scale']:.3f}", ", ".join(Path(s).name for s in power["sources"]))
        table.add_row("static power (W)", "", f"{power['static_w']:.4f}", "replaces",
                      ", ".join(Path(s).name for s in power["sources"]))
    Console(width=160).print(table)
    for warning in calibration["warnings"]:
        console.print(f"warning: {warning}", highlight=False)
    console.print(f"corrections written to {out}; use them with --calibration {out}", highlight=False)


@cli.command("verify")
@click.argument("build_dir", type=GivenPath(file_okay=False, path_type=Path))
@click.option("--synthesis", "synthesis", required=True, type=GivenPath(exists=True, path_type=Path),
              help="A csynth.xml, or the Vitis HLS / Vivado HLS solution folder holding syn/report/csynth.xml.")
def verify_cmd(build_dir: Path, synthesis: Path):
    """Check a C synthesis report against the build's plan: DSP and BRAM18, the shared engine's instances,
    every planned loop's II and trip count; exit 1 naming each difference."""
    from .runs import check_finished
    from .verify import table, verify

    try:
        check_finished(build_dir)
        result = verify(build_dir, synthesis)
    except ConfigError as exc:
        _fail(exc)
    Console(width=160).print(table(result))
    if result.differences:
        _fail(ConfigError(result.summary()), 1)
    console.print(result.summary(), highlight=False)


@cli.command("sweep")
@click.argument("config", type=GivenPath(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print every point as JSON.")
def sweep_cmd(config: Path, as_json: bool):
    """Estimate d_model {8,16,32,64} x bits {4,6,8} x heads {1,2} x storage policy on the configured part."""
    import json

    from .estimate import RESOURCES, n_features_of
    from .sweep import lanes, precision, sweep

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    try:
        cfg = load_config(config)
        n_features = n_features_of(cfg)
        if "ffn" in cfg.model.model_fields_set and cfg.model.ffn is not None:
            console.print(f"> warning: model.ffn = {cfg.model.ffn} is not swept: every point has an FFN of 4 x d_model",
                          highlight=False)
        with Progress("estimating", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                      transient=True) as bar:  # on stderr, gone once the table is printed
            task = bar.add_task("sweep", total=None)
            rows = sweep(cfg, n_features, step=lambda done, total: bar.update(task, completed=done, total=total),
                         note=_note)
    except ConfigError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    from .sweep import STORAGES

    table = Table(title=f"deployability on {cfg.target.part} at {cfg.target.clock_mhz:g} MHz (estimates; window "
                        f"{cfg.data.window}, {cfg.model.layers} layer(s), FFN 4 x d_model, {lanes(cfg)}, "
                        f"{precision(cfg)}): the fullest "
                        f"resource, or every one that overflows")
    for col in ("d_model", "bits", "heads", *(f"all {s}" for s in STORAGES), "latency us, slowest policy"):
        table.add_column(col, justify="right")
    cells = {}
    for r in rows:
        used = {k: r["total"][k] / r["budget"][k] for k in RESOURCES if r["budget"][k]}
        if r["fits"]:
            top = max(used, key=used.get)
            over = ", over the headroom" if r["over_headroom"] else ""
            cells[r["d_model"], r["bits"], r["heads"], r["storage"]] = f"fits{over} ({top} {100 * used[top]:.0f}%)"
        else:
            over = ", ".join(f"{k} {100 * used[k]:.0f}%" for k in r["overflowing"])
            cells[r["d_model"], r["bits"], r["heads"], r["storage"]] = f"[red]NO: {over}[/]"
    for d, b, h in dict.fromkeys((r["d_model"], r["bits"], r["heads"]) for r in rows):
        latency = max(r["latency_us"] for r in rows if (r["d_model"], r["bits"], r["heads"]) == (d, b, h))
        table.add_row(str(d), str(b), str(h), *(cells[d, b, h, s] for s in STORAGES), f"{latency:,.0f}")
    Console(width=200).print(table)
    fit = sum(r["fits"] for r in rows)
    over = sum(r["fits"] and bool(r["over_headroom"]) for r in rows)
    past = f"; {over} of them past target.headroom {cfg.target.headroom:g}, which auto could not keep" if over else ""
    console.print(f"{fit} of {len(rows)} points fit {cfg.target.part}{past}", highlight=False)


@cli.command("search")
@click.argument("config", type=GivenPath(dir_okay=False, path_type=Path))
@click.option("--trials", required=True, type=WholeNumber("trials"),
              help="Finished (trained or pruned) trials the study should hold; a rerun resumes up to this.")
@click.option("--out", "out", required=True, type=GivenPath(file_okay=False, path_type=Path),
              help="Folder for the study (study.db), the float models, pareto.json, pareto.png and pareto/*.yaml.")
@click.option("--storage", default=None, help="Study storage shared by workers, e.g. postgresql://user@host/db "
              "(default: SQLite in OUT).")
@click.option("--study", "study_name", default=None, help="Study name in the storage (default: the config's name).")
def search_cmd(config: Path, trials: int, out: Path, storage: str | None, study_name: str | None):
    """Search the YAML's search.space: estimate every candidate, prune what does not fit, train what
    does (short QAT), and write the Pareto front over search.objectives."""
    from .search import study as search

    try:
        if study_name is not None and not study_name.strip():
            raise ConfigError(f"--study {study_name!r}: an empty name (an unset variable?); give the study's name, or "
                              f"leave --study out for the configuration's name")
        search.check_study_name(study_name)  # before the configuration is read or any storage is opened
        from .runs import check_not_inside

        check_not_inside(out.resolve(), shown=out)  # a search never writes into a build's (or another run's) folder
        cfg = load_config(config)
        try:
            warned = search.precheck(cfg)  # the space, its choices and that something fits: before any storage or
        except ConfigError as exc:         # training
            prefix = "invalid configuration:"
            if not str(exc).startswith(prefix):
                raise
            raise ConfigError(f"invalid configuration {config}:{str(exc)[len(prefix):]}") from None
        url = search.storage_url(out, storage) if storage else None
        if url and not url.startswith("sqlite"):  # a server reachable before a folder is made (a SQLite file would
            search.open_storage(url)              # be created here, before the folder checks)
        search.prepare_folder(out, cfg, storage, study_name)
        search.load_study(cfg, out, storage, study_name)  # the storage holds this search, or none yet
    except ConfigError as exc:
        _fail(exc)
    for text in warned:
        console.print(f"warning: {text}", highlight=False)
    objectives = cfg.search.objectives

    def on_trial(study, trial, p):
        values = (", ".join(f"{o} {v:,.4g}" for o, v in zip(objectives, trial.values)) if trial.values
                  else trial.user_attrs.get("invalid") or f"does not fit {cfg.target.part} within the headroom (estimate)")
        if "same_as" in trial.user_attrs:
            values += f" (the choices of trial {trial.user_attrs['same_as']}: not trained again)"
        done = [t.values[0] for t in study.get_trials(deepcopy=False) if t.values]
        best = f"; best {objectives[0]} so far {min(done):,.4g}" if done else ""
        console.print(f"trial {trial.number} {trial.state.name.lower()}: {values} | finished {p.finished} of "
                      f"{trials}, pruned {p.pruned}, failed {p.failed}"
                      f"{f', interrupted {p.interrupted} (queued again)' if p.interrupted else ''}, Pareto front "
                      f"{p.front}{best}", highlight=False)

    import signal

    import tensorflow as tf  # loaded for the trials anyway; its retracing notes are not the user's business

    tf.get_logger().setLevel("ERROR")
    def on_sigint(signum, frame):  # the trial stops at its next epoch or stage (a second Ctrl-C: at once)
        if search.STOP.is_set():
            raise KeyboardInterrupt
        search.STOP.set()
        console.print("stopping at the end of the current epoch (Ctrl-C again to stop at once)", highlight=False)

    def on_trial_or_stop(study, trial, p):
        on_trial(study, trial, p)
        search.stop_if_asked()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        study = search.run(cfg, out, trials, storage, study_name, note=_note, on_trial=on_trial_or_stop)
    except BaseException as exc:
        if search.STOP.is_set():
            console.print("interrupted: every finished trial is kept in the study; run the same command to resume",
                          highlight=False)
            sys.exit(130)
        if isinstance(exc, ConfigError):
            _fail(exc)
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    from .search.report import pareto

    p = search.progress(study)
    if not p.complete:
        _fail(ConfigError(f"no trial of the {p.finished} finished fits and trained: nothing to put on a Pareto "
                          f"front (see the pruned trials' estimates in the study)"), 1)
    rows = pareto(study, cfg, out)
    table = Table(title=f"Pareto front of {cfg.name}: {p.trained} trained, {p.pruned} pruned before training "
                        f"(estimate), {p.complete - p.trained} repeats, {p.failed} failed{f', {p.interrupted} interrupted (run again)' if p.interrupted else ''}; test MSE measured once, here")
    val = [] if "val_mse" in objectives else ["val_mse"]  # shown once, as an objective or beside them
    for col in ("trial", "choice", *objectives, *val, "test_mse", "bound x", "YAML"):
        table.add_column(col, justify="left" if col in ("choice", "YAML") else "right")
    for r in rows:
        table.add_row(str(r["trial"]), ", ".join(f"{k}={v}" for k, v in r["choice"].items()),
                      *(f"{v:,.4g}" for v in r["objectives"].values()), *(f"{r['val_mse']:.4g}" for _ in val),
                      f"{r['test_mse']:.4g}", f"{r['estimate']['bound_ratio']:.2f}", Path(r["yaml"]).name)
    Console(width=200).print(table)
    with open(out / "pareto.txt", "w") as f:
        Console(file=f, width=200).print(table)
    console.print(f"written to {out}: pareto.txt (this table), pareto.json, pareto.png, pareto/*.yaml (each a "
                  f"'tsflow build' config)", highlight=False)


_YAML_FLAGS = {  # flags other tools have, which tsflow reads from the YAML configuration: the keys holding them
    "--seed": ("training.seed",), "--epochs": ("training.float_epochs", "training.qat_epochs"),
    "--float-epochs": ("training.float_epochs",), "--qat-epochs": ("training.qat_epochs",),
    "--batch-size": ("training.batch_size",), "--lr": ("training.learning_rate",),
    "--learning-rate": ("training.learning_rate",), "--patience": ("training.patience",),
    "--bits": ("quantization.bits",), "--window": ("data.window",), "--lookback": ("data.window",),
    "--horizon": ("data.horizon",), "--steps": ("data.steps",), "--target": ("data.target",),
    "--features": ("data.features",), "--dataset": ("data.dataset",), "--data": ("data.path",),
    "--csv": ("data.path",), "--d-model": ("model.d_model",), "--heads": ("model.heads",),
    "--layers": ("model.layers",), "--part": ("target.part",), "--clock": ("target.clock_mhz",),
    "--clock-mhz": ("target.clock_mhz",), "--headroom": ("target.headroom",), "--interface": ("hls.interface",),
    "--name": ("name",), "--objectives": ("search.objectives",),
}
_SEARCH_KEYS = {"training.seed": "search.seed", "training.float_epochs": "search.float_epochs",
                "training.qat_epochs": "search.qat_epochs"}  # a search trains its trials with its own


def _yaml_flag(exc: click.NoSuchOption) -> str | None:
    """An unknown flag that is a YAML key in tsflow, answered with that key (and the value given, as YAML) instead
    of click's guess at a flag spelt alike ('--seed': 'Did you mean --study?')."""
    keys = _YAML_FLAGS.get(exc.option_name)
    command = exc.ctx.info_name if exc.ctx else None
    if not keys or command is None:
        return None
    if command == "search":
        keys = tuple(_SEARCH_KEYS.get(k, k) for k in keys)
    args = sys.argv[1:]
    value = next((a.split("=", 1)[1] for a in args if a.startswith(exc.option_name + "=")), None) or next(
        (b for a, b in zip(args, args[1:]) if a == exc.option_name and not b.startswith("-")), "...")
    sections: dict = {}
    for key in keys:
        section, _, leaf = key.rpartition(".")
        sections.setdefault(section, []).append(f"{leaf}: {value}")
    example = "; ".join(f"{s}: {{{', '.join(leaves)}}}" if s else leaves[0] for s, leaves in sections.items())
    where = ("the YAML configuration" if command in ("train", "build", "estimate", "sweep", "search", "calibrate")
             else "the YAML configuration of the build (build again to change it)")
    return f"No such option {exc.option_name!r}: tsflow {command} reads it from {where}: {' and '.join(keys)} ({example})"


def main():
    """The console script. click's own usage errors (a missing argument, a bad option value, an unknown
    command or option) print as every other error: one 'error:' line, exit 2."""
    try:
        code = cli.main(prog_name="tsflow", standalone_mode=False)  # an int where a command called ctx.exit
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # 'tsflow' alone: the help
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f"; see '{ctx.command_path} --help'" if isinstance(exc, click.UsageError) and ctx else ""
        yaml_flag = _yaml_flag(exc) if isinstance(exc, click.NoSuchOption) else None
        message = (yaml_flag or exc.format_message().rstrip(".")) + hint
        console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
        sys.exit(exc.exit_code)
    except click.Abort:  # Ctrl-C: what click prints in standalone mode
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except OSError as exc:  # the standard output cannot take what a command prints (a full disk, a closed pipe)
        if exc.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EDQUOT):
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        if exc.errno != errno.EPIPE:  # a reader that stopped reading (| head) wants no message
            console.print(f"[bold red]error:[/] cannot write the output: {escape(exc.strerror or str(exc))}",
                          highlight=False)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


cli.add_command(export_command, "export")
for _param in export_command.params:  # its FOLDER is read like every path of the other commands (~, slips)
    if isinstance(_param, click.Argument) and type(_param.type) is click.Path:
        _param.type = GivenPath(file_okay=_param.type.file_okay, dir_okay=_param.type.dir_okay,
                                path_type=_param.type.type)


if __name__ == "__main__":
    main()
