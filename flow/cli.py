"""The ``tsflow`` console script.  User errors print one clear message and exit 2, no traceback."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from .config import ConfigError, load_config  # noqa: E402

console = Console(stderr=True, soft_wrap=True)


def _fail(exc: ConfigError) -> None:
    console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    sys.exit(2)


def _epoch_report(phase, epoch, epochs, logs):
    console.print(f"  {phase:5s} epoch {epoch + 1:3d}/{epochs}  loss {logs['loss']:.5f}  val_loss {logs['val_loss']:.5f}",
                  highlight=False)


def _metrics_table(metrics: dict, target: str) -> Table:
    table = Table(title=f"forecast error of {target} (de-normalised; scaled in brackets)")
    for col in ("split", "MSE", "RMSE", "MAE"):
        table.add_column(col, justify="right")
    for split in ("val", "test"):
        m = metrics[split]
        s = m["scaled"]
        table.add_row(split, f"{m['mse']:.4f} ({s['mse']:.4f})", f"{m['rmse']:.4f} ({s['rmse']:.4f})",
                      f"{m['mae']:.4f} ({s['mae']:.4f})")
    for name, b in metrics["baselines"]["test"].items():
        table.add_row(f"test, {name}", f"{b['mse']:.4f}", f"{b['rmse']:.4f}", f"{b['mae']:.4f}")
    return table


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """YAML in, trained integer-only Transformer forecaster and bit-exact HLS project out."""


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the trained model, metrics.json and the config it came from.")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
def train(config: Path, out: Path, force: bool):
    """Train (float, then quantization-aware) and write OUT/metrics.json and the model."""
    from .checkpoint import save_trained
    from .data import load_dataset
    from .runs import staged_output
    from .training import train as run_training

    try:
        cfg = load_config(config)
        with staged_output(out, force) as stage:
            ds = load_dataset(cfg)
            console.print(f"data {ds.name}: {len(ds.features)} feature(s) -> {ds.target}; windows "
                          f"train {len(ds.train.y)}, val {len(ds.val.y)}, test {len(ds.test.y)}", highlight=False)
            result = run_training(cfg, ds, report=_epoch_report)
            save_trained(stage, cfg, ds, result)
    except ConfigError as exc:
        _fail(exc)
    kind = f"quantized ({cfg.quantization.bits}-bit default)" if cfg.quantization.enabled else "float"
    console.print(_metrics_table(result.metrics, ds.target))
    console.print(f"{kind} model written to {out}", highlight=False)


def _csim_summary(csim) -> None:
    verdict = "[green]bit-exact[/]" if csim.bit_exact else "[bold red]NOT bit-exact[/]"
    console.print(f"C simulation: {csim.samples} test windows, {csim.mismatches} output mismatches, "
                  f"{csim.values_compared} values over {csim.boundaries_compared} boundaries, "
                  f"{csim.boundary_mismatches} differ: {verdict}", highlight=False)
    d = csim.first_divergence
    if d:
        console.print(f"first divergence: layer {d['layer']}, window {d['sample']}, element {d['element']}: "
                      f"reference mantissa {d['expected']}, C++ {d['got']}", highlight=False)


class CSimMismatch(Exception):
    """The C++ does not compute what the reference computes."""


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Build folder: model/, hls/ (the HLS project), csim.json, build.json.")
@click.option("--trained", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Reuse the model of a 'tsflow train' folder trained from the same configuration.")
@click.option("--force", is_flag=True, help="Replace an existing build folder.")
def build(config: Path, out: Path, trained: Path | None, force: bool):
    """Train (or reuse), convert through hls4ml, write the HLS project and prove it bit-exact."""
    from .build import build as run_build
    from .runs import staged_output

    try:
        cfg = load_config(config)
        with staged_output(out, force) as stage:
            result = run_build(cfg, stage, trained, report=_epoch_report)
            _csim_summary(result.csim)
            if not result.csim.bit_exact:
                raise CSimMismatch(f"C simulation is not bit-exact; details in {stage / 'csim.json'}")
    except ConfigError as exc:
        _fail(exc)
    except CSimMismatch as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    import json

    metrics = json.loads((out / "model" / "metrics.json").read_text())
    console.print(_metrics_table(metrics, cfg.data.target))
    times = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(f"build written to {out} ({result.cpp_lines} lines of C++; {times})", highlight=False)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def csim(folder: Path):
    """Re-run the C simulation of a build folder over the whole test split."""
    from .build import rerun_csim

    try:
        result = rerun_csim(folder)
    except ConfigError as exc:
        _fail(exc)
    _csim_summary(result)
    sys.exit(0 if result.bit_exact else 1)


def main():
    cli(prog_name="tsflow")


if __name__ == "__main__":
    main()
