"""Which tensor's precision costs the forecast most: quantize one tensor at a time, no QAT.

    python -m flow.benchmarks.sensitivity configs/etth1-bits.yaml --bits 4

Trains the configuration's float model once (its seed), then, with every point ``auto`` as configured,
measures the validation MSE (data units) of post-training quantization with every tensor at 16 bits,
with ``quantization.bits: --bits`` and the other defaults (the window keeps its 12 bits, the probabilities
``flow.precision.probability_bits``), and with each tensor alone at ``--bits`` (biases and norm shifts at
twice it, as the defaults give them) and the rest at 16. A tensor whose row is far above the 16-bit row is one
the model cannot afford narrow before QAT; the precision defaults (flow/precision.py) were chosen from
these rows on two series. Validation, never test, so the figures can inform a choice.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402

from flow.benchmarks import load_config_or_exit  # noqa: E402
from flow.cli_types import WholeNumber  # noqa: E402
from flow.config import parse_config  # noqa: E402
from flow.data import load_dataset  # noqa: E402
from flow.precision import resolve_precisions  # noqa: E402
from flow.training.fit import train  # noqa: E402

WIDE = 16  # the width of every tensor not under test


def _narrow(role: str, bits: int) -> int:
    return 2 * bits if role in ("bias", "shift") else bits


def _ptq_mse(raw: dict, ds, float_model, bits: int, layers: dict) -> float:
    q = {**raw["quantization"], "enabled": True, "bits": bits, "layers": layers}
    q["input"] = {**q.get("input", {}), "bits": max(bits, q.get("input", {}).get("bits", WIDE))}
    cfg = parse_config({**raw, "quantization": q, "training": {**raw["training"], "qat_epochs": 0}})
    return train(cfg, ds, float_model=float_model, splits=("val",)).metrics["val"]["mse"]


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--bits", default=4, show_default=True, type=WholeNumber("bits", 2, 15),
              help="The narrow width under test.")
def main(config, bits):
    base = load_config_or_exit(config)
    raw = base.model_dump(mode="json")
    raw["quantization"]["layers"] = {}
    ds = load_dataset(base)
    float_cfg = parse_config({**raw, "quantization": {**raw["quantization"], "enabled": False}})
    float_run = train(float_cfg, ds, splits=("val",))
    rows = [("float model", float_run.metrics["val"]["mse"]),
            (f"every tensor at {WIDE} bits", _ptq_mse(raw, ds, float_run.model, WIDE, {})),
            (f"quantization.bits: {bits} and its defaults", _ptq_mse(raw, ds, float_run.model, bits, {}))]
    prec = resolve_precisions(parse_config(raw))
    for layer, roles in prec.types.items():
        for role in roles:
            narrow = {layer: {role: {"bits": _narrow(role, bits)}}}
            rows.append((f"{layer}.{role} alone at {_narrow(role, bits)} bits",
                         _ptq_mse(raw, ds, float_run.model, WIDE, narrow)))
            print(f"{rows[-1][0]}: {rows[-1][1]:.4g}", file=sys.stderr, flush=True)
    reference = rows[1][1]
    print(f"\nPost-training quantization on {ds.name} ({len(ds.val.y)} validation windows, seed "
          f"{base.training.seed}), validation MSE in the target's units\n")
    print(f"| tensor | val MSE | / {WIDE}-bit |")
    print("|---|---:|---:|")
    for label, mse in rows:
        print(f"| {label} | {mse:.4g} | {mse / reference:.2f} |")


if __name__ == "__main__":
    main()
