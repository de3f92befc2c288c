"""The build report: ``report.html`` and its figures, read off a finished build folder.

Everything shown comes from the folder's own files: ``model/`` (config.yaml, dataset.json, metrics.json),
``estimate.json``, ``plan.json``, ``csim.json``, ``build.json`` and the C simulation's vectors in
``hls/tb_data`` (the integer reference output the C++ was checked against, bit for bit). The truth of
the forecast plots is the test split of the configured data, loaded again as the build loaded it.
Every number of the HTML summary carries ``data-src="FILE#key/key"``, the file and key it was read
from, so a reader (and the tests) can check it. Resources and latency are the estimate's, not a
synthesis result. Only numpy, pandas and matplotlib (Agg, no pyplot) are used: no TensorFlow, a
report takes about a second.

Run ``python -m flow.report FOLDER`` to (re)write the report of a build folder; like every command that
writes into one, it holds the folder's lock, so it is refused while a build, a C simulation or an export
writes there.
"""
from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import ConfigError
from .report_files import FIGURE_DIR, FIGURES, REPORT_HTML, written_files

FORECAST_WINDOWS = 200
RESOURCE_LABELS = {"lut": "LUT", "lutram": "LUTRAM", "ff": "FF", "bram18": "BRAM18", "dsp": "DSP"}

# file name -> alt text: the figures a full report holds, in page order
DATA_FIGURES = ("forecast.png", "steps.png", "errors.png")  # drawn from the data, the others from estimate.json

COLORS = {"truth": "#222222", "model": "#1f77b4", "persistence": "#d62728", "linear": "#2ca02c"}
CATEGORY_COLORS = {"shared multiply engine": "#1f77b4", "layer logic": "#ff7f0e", "activation buffers": "#2ca02c",
                   "constant ROMs": "#9467bd", "rest of the total": "#bbbbbb"}


@dataclass
class Predictions:
    """The test split in the target's units: truth, the quantized model and the two baselines."""

    truth: np.ndarray
    model: np.ndarray
    persistence: np.ndarray
    linear: np.ndarray
    windows: dict  # split -> windows
    source: str  # where the model's outputs were read from


# ---------------------------------------------------------------------------------------------- reading

def _read_json(folder: Path, name: str, required: bool = True):
    path = folder / name
    if not path.is_file():
        if required:
            raise ConfigError(f"{folder} is not a finished build folder ({name} missing); run 'tsflow build' first")
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise _damaged(path, str(exc)) from None
    if not isinstance(doc, dict):
        raise _damaged(path, f"it holds a JSON {type(doc).__name__}, not an object")
    return doc


def _damaged(path: Path, why: str) -> ConfigError:
    """The error of a build folder's file that is there but cannot be used (truncated, edited, damaged)."""
    return ConfigError(f"{path} cannot be read ({why}); run 'tsflow build' again")


def _lookup(doc, key: str):
    for part in key.split("/"):
        doc = doc[part]
    return doc


def _model_outputs(folder: Path, cfg, ds) -> tuple[np.ndarray, str]:
    """The quantized model's test outputs (scaled units), the integer reference forward of
    ``model/integer_params.npz`` (equal to the quantized Keras model). When the C simulation's vectors are
    there they must hold these windows and outputs, checked as ``tsflow csim`` checks them: otherwise the
    data or ``model/`` changed since the build and the figures would not be this build's (ConfigError)."""
    from .vectors import check_vectors_match  # the check csim makes, not a second one
    from .precision import resolve_precisions
    from .reference import output_of, reference_forward

    with np.load(folder / "model" / "integer_params.npz") as z:
        params = {}
        for key in z.files:
            layer, role = key.rsplit("/", 1)
            params.setdefault(layer, {})[role] = z[key]
    trace = reference_forward(ds.test.x, params, resolve_precisions(cfg), cfg.model, ds.target_index)
    outputs = output_of(trace).values.reshape(ds.test.y.shape)
    tb = folder / "hls" / "tb_data"
    if (tb / "inputs.bin").is_file() and (tb / "expected.bin").is_file():
        check_vectors_match(folder, trace, cfg.data, consequence="no figure was drawn from them")
        return outputs, "hls/tb_data/expected.bin"
    return outputs, "model/integer_params.npz (integer reference forward)"


def load_predictions(folder: Path, cfg) -> Predictions:
    """The test split and the forecasts on it, de-normalised. Raises ConfigError if the data is gone or is
    not the build's any more (its scaler or its test windows), as ``tsflow csim`` refuses it. ``cfg``: the
    folder's ``model/config.yaml``; the binary points training chose are read in here."""
    from .vectors import check_same_data
    from .data import load_dataset
    from .metrics import linear_forecast, persistence_forecast
    from .training.checkpoint import resolved_config

    cfg = resolved_config(Path(folder) / "model", cfg)  # the types the vectors were computed with
    ds = load_dataset(cfg, note=lambda text: None)  # told when the folder was built
    check_same_data(ds, Path(folder) / "model", built=True)
    model, source = _model_outputs(Path(folder), cfg, ds)
    return Predictions(truth=ds.denormalise(ds.test.y), model=ds.denormalise(model),
                       persistence=ds.denormalise(persistence_forecast(ds.test)),
                       linear=ds.denormalise(linear_forecast(ds.train, ds.test)),
                       windows={s: len(getattr(ds, s).y) for s in ("train", "val", "test")}, source=source)


# ---------------------------------------------------------------------------------------------- figures

def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig, path: Path) -> None:
    fig.savefig(path, format="png", metadata={"Software": None})


def _rmse(e: np.ndarray) -> float:
    return float(np.sqrt(np.mean(e ** 2)))


def _first_step(v: np.ndarray) -> np.ndarray:
    """The forecasts of the first step (t + horizon), one a window, whatever data.steps."""
    return v if v.ndim == 1 else v[:, 0]


def forecast_figure(pred: Predictions, target: str, horizon: int, path: Path, bit_exact: bool = False) -> int:
    n = min(FORECAST_WINDOWS, len(pred.truth))
    x = np.arange(n)
    truth, model = _first_step(pred.truth)[:n], _first_step(pred.model)[:n]
    fig = _figure(11, 4.2)
    ax = fig.add_subplot()
    ax.plot(x, truth, color=COLORS["truth"], lw=1.8, label="truth")
    err = model - truth
    ax.plot(x, model, color=COLORS["model"], lw=1.4,
            label=f"quantized model ({'bit-exact ' if bit_exact else ''}integer output), "
                  f"RMSE {_rmse(err):.4g} on these {n}")
    ax.set_xlim(0, max(1, n - 1))
    ax.set_xlabel(f"test window (first {n} of {len(pred.truth):,}, in time order)")
    ax.set_ylabel(f"{target} (data units)")
    steps = "" if pred.truth.ndim == 1 else f" (the first of {pred.truth.shape[1]} steps forecast)"
    ax.set_title(f"Forecast of {target} at t+{horizon}{steps} against truth, test split")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    _save(fig, path)
    return n


STEP_WINDOWS = 4  # test windows whose every forecast step steps.png draws


def steps_figure(pred: Predictions, target: str, horizon: int, path: Path) -> list[int]:
    """data.steps > 1: every step of a few test windows, spread over the split, against the truth and the
    persistence forecast; returns the windows drawn."""
    from matplotlib.ticker import MaxNLocator

    n, steps = pred.truth.shape
    windows = sorted({int(i) for i in np.linspace(0, n - 1, STEP_WINDOWS)})
    fig = _figure(11, 4.2)
    axes = np.atleast_1d(fig.subplots(1, len(windows), sharey=True))
    x = np.arange(horizon, horizon + steps)
    for ax, w in zip(axes, windows):
        ax.plot(x, pred.truth[w], color=COLORS["truth"], lw=1.8, label="truth")
        ax.plot(x, pred.model[w], color=COLORS["model"], lw=1.4, marker="." if steps <= 48 else None,
                label="quantized model")
        ax.plot(x, pred.persistence[w], color=COLORS["persistence"], lw=1.0, ls="--", label="persistence")
        ax.set_title(f"test window {w:,}", fontsize=10)
        ax.set_xlabel("steps after the window")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"{target} (data units)")
    axes[0].legend(loc="best", fontsize=8)
    _save(fig, path)
    return windows


def errors_figure(pred: Predictions, target: str, path: Path) -> None:
    errs = {"quantized model": ((pred.model - pred.truth).ravel(), COLORS["model"]),
            "persistence": ((pred.persistence - pred.truth).ravel(), COLORS["persistence"]),
            "linear": ((pred.linear - pred.truth).ravel(), COLORS["linear"])}
    everything = np.concatenate([e for e, _ in errs.values()])
    lo, hi = np.percentile(everything, [0.5, 99.5])
    span = max(hi - lo, 1e-9)
    edges = np.linspace(lo - 0.05 * span, hi + 0.05 * span, 61)
    fig = _figure(11, 4.2)
    ax = fig.add_subplot()
    for label, (e, color) in errs.items():
        text = f"{label}: mean {e.mean():.3g}, RMSE {_rmse(e):.4g}, MAE {np.mean(np.abs(e)):.4g}"
        clipped = np.clip(e, edges[0], edges[-1])  # the few beyond the axis counted in the outer bins
        if label == "quantized model":
            ax.hist(clipped, bins=edges, color=color, alpha=0.55, label=text)
        else:
            ax.hist(clipped, bins=edges, histtype="step", color=color, lw=1.6, label=text)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"forecast − truth ({target}, data units; values beyond the axis counted in the outer bins)")
    steps = "" if pred.truth.ndim == 1 else f" x {pred.truth.shape[1]} steps"
    ax.set_ylabel("test windows" + steps)
    ax.set_title(f"Forecast error on the test split ({len(pred.truth):,} windows{steps})")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    _save(fig, path)


def _resource_rows(estimate: dict, plan: dict | None) -> list[tuple[str, str, dict]]:
    """(label, category, cost) rows: every layer, then the buffers and ROMs grouped by storage."""
    rows = []
    for layer in estimate["layers"]:
        category = "shared multiply engine" if layer["name"] == "engine" else "layer logic"
        label = "shared multiply engine" if layer["name"] == "engine" else layer["name"]
        rows.append((label, category, {r: layer.get(r, 0) for r in RESOURCE_LABELS}))
    roms = set((plan or {}).get("roms", {}))
    groups: dict = {}
    for b in estimate["buffers"]:
        kind = "constant ROMs" if b["name"] in roms else "activation buffers"
        g = groups.setdefault((kind, b["storage"]), {"n": 0, **{r: 0 for r in RESOURCE_LABELS}})
        g["n"] += 1
        for r in RESOURCE_LABELS:
            g[r] += b.get(r, 0)
    for (kind, storage), g in sorted(groups.items()):
        if any(g[r] for r in RESOURCE_LABELS):
            rows.append((f"{kind}: {storage} ({g['n']})", kind, {r: g[r] for r in RESOURCE_LABELS}))
    return rows


def resources_budget_figure(estimate: dict, plan: dict | None, headroom: float | None, path: Path) -> None:
    rows = _resource_rows(estimate, plan)
    resources = [r for r in RESOURCE_LABELS if estimate["budget"].get(r)]
    fig = _figure(11, 1.9 + 0.62 * len(resources))
    ax = fig.add_subplot()
    y = np.arange(len(resources))[::-1]
    used = set()
    right = max([100.0] + [100.0 * max(estimate["total"][r], sum(c[r] for _, _, c in rows)) / estimate["budget"][r]
                           for r in resources])
    rest = "rest of the total (top control, rounding" + (", calibration)" if estimate.get("calibrated") else ")")
    for yi, r in zip(y, resources):
        budget, total = estimate["budget"][r], estimate["total"][r]
        left = 0.0
        for category, color in CATEGORY_COLORS.items():
            if category == "rest of the total":
                value = max(0.0, total - sum(c[r] for _, _, c in rows))
            else:
                value = sum(c[r] for _, cat, c in rows if cat == category)
            if value <= 0:
                continue
            width = 100.0 * value / budget
            ax.barh(yi, width, left=left, color=color, height=0.6,
                    label=None if category in used else rest if category == "rest of the total" else category)
            used.add(category)
            left += width
        pct = 100.0 * total / budget
        ax.plot([pct, pct], [yi - 0.38, yi + 0.38], color="black", lw=2)
        ax.text(max(pct, left) + 0.01 * right, yi, f"{total:,} of {budget:,} ({pct:.1f} %)", va="center", fontsize=9)
    ax.axvline(100, color="#d62728", ls="--", lw=1.2, label="part budget (100 %)")
    if headroom:
        ax.axvline(100 * (1 - headroom), color="#d62728", ls=":", lw=1.2,
                   label=f"budget less target.headroom ({100 * (1 - headroom):.0f} %)")
    ax.set_yticks(y, [RESOURCE_LABELS[r] for r in resources])
    ax.set_xlim(0, right * 1.32)
    ax.set_xlabel(f"% of the {estimate['part']} budget (black tick: estimated total)")
    cal = "calibrated" if estimate.get("calibrated") else "uncalibrated"
    ax.set_title(f"Resource estimate ({cal}) against the {estimate['part']} budget")
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", fontsize=8, ncol=4, frameon=False)
    _save(fig, path)


def resources_layers_figure(estimate: dict, plan: dict | None, path: Path) -> None:
    rows = _resource_rows(estimate, plan)
    resources = list(RESOURCE_LABELS)
    fig = _figure(14, 1.4 + 0.27 * len(rows))
    axes = fig.subplots(1, len(resources), sharey=True)
    y = np.arange(len(rows))[::-1]
    for ax, r in zip(axes, resources):
        budget = estimate["budget"].get(r)
        values = np.array([c[r] for _, _, c in rows], dtype=float)
        shown = 100.0 * values / budget if budget else values
        colors = [CATEGORY_COLORS[cat] for _, cat, _ in rows]
        ax.barh(y, shown, color=colors, height=0.7)
        top = shown.max() if shown.size and shown.max() > 0 else 1.0
        for yi, s, v in zip(y, shown, values):
            if v:
                ax.text(s + 0.02 * top, yi, f"{v:,.0f}", va="center", fontsize=7)
        ax.set_xlim(0, top * 1.35)
        if not values.any():
            ax.text(0.5, 0.5, "none used", transform=ax.transAxes, ha="center", va="center", color="#777")
        if budget:
            ax.set_title(f"{RESOURCE_LABELS[r]}: {estimate['total'][r]:,} of {budget:,}\n"
                         f"({100 * estimate['total'][r] / budget:.1f} % in all)", fontsize=9)
            ax.set_xlabel("% of budget", fontsize=8)
        else:
            ax.set_title(f"{RESOURCE_LABELS[r]}: {estimate['total'][r]:,}\n(no budget given)", fontsize=9)
            ax.set_xlabel("count", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, [label for label, _, _ in rows], fontsize=8)
    fig.suptitle("Resource estimate per layer, buffers and ROMs grouped by storage (labels: counts)", fontsize=11)
    _save(fig, path)


def cycles_figure(estimate: dict, path: Path) -> None:
    layers = [lay for lay in estimate["layers"] if lay["cycles"] > 0]
    fig = _figure(11, 1.6 + 0.3 * len(layers))
    ax = fig.add_subplot()
    y = np.arange(len(layers))[::-1]
    cycles = np.array([lay["cycles"] for lay in layers], dtype=float)
    ax.barh(y, cycles, color=COLORS["model"], height=0.7)
    for yi, c in zip(y, cycles):
        ax.text(c + 0.01 * cycles.max(), yi, f"{c:,.0f}", va="center", fontsize=8)
    ax.set_yticks(y, [lay["name"] for lay in layers], fontsize=8)
    ax.set_xlim(0, cycles.max() * 1.12)
    ax.set_xlabel("clock cycles (layers run one after another)")
    from matplotlib.ticker import StrMethodFormatter

    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"Latency estimate {estimate['latency_cycles']:,} cycles = {estimate['latency_us']:g} µs at "
                 f"{estimate['clock_mhz']:g} MHz\nDSP bound {estimate['dsp_bound_cycles']:,} cycles "
                 f"({estimate['macs']:,} MACs / {estimate['budget']['dsp']:,} DSP); "
                 f"latency / bound = {estimate['bound_ratio']:g}", fontsize=10)
    _save(fig, path)


def _estimate_figures(estimate: dict, plan: dict | None, headroom: float | None, figdir: Path) -> None:
    resources_budget_figure(estimate, plan, headroom, figdir / "resources_budget.png")
    resources_layers_figure(estimate, plan, figdir / "resources_layers.png")
    cycles_figure(estimate, figdir / "cycles.png")


# ---------------------------------------------------------------------------------------------- HTML

def _sig(v: float, digits: int = 4) -> str:
    """``digits`` significant digits, no exponent, thousands separated."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    return f"{v:,.{decimals}f}"


class _Doc:
    """The JSON documents of the folder; ``num`` renders a number with the file and key it came from."""

    def __init__(self, docs: dict, folder: Path = Path(".")):
        self.docs = docs
        self.folder = folder

    def get(self, file: str, key: str):
        try:
            return _lookup(self.docs[file], key)
        except (KeyError, TypeError, IndexError):
            raise _damaged(self.folder / file, f"it has no {key}") from None

    def has(self, file: str, key: str) -> bool:
        try:
            _lookup(self.docs[file], key)
            return True
        except (KeyError, TypeError, IndexError):
            return False

    def num(self, file: str, key: str, fmt: str = "sig", suffix: str = "") -> str:
        v = self.get(file, key)
        if v is None:
            text = "n/a"
        elif isinstance(v, bool):
            text = "yes" if v else "no"
        elif fmt == "sig":
            text = f"{v:,}" if isinstance(v, int) else _sig(v)
        else:
            text = format(v, fmt)
        return f'<span class="num" data-src="{html.escape(file)}#{html.escape(key)}">{text}</span>{suffix}'


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _errors_section(d: _Doc, target: str) -> str:
    m = "model/metrics.json"
    models = [("quantized model (the one built)", ""), ("float model (before quantization-aware training)", "float/"),
              ("persistence (last observed value)", "baselines/{split}/persistence/"),
              ("linear (least squares on the window)", "baselines/{split}/linear/")]
    rows = []
    for label, prefix in models:
        keys = [(prefix.format(split=s) if "{" in prefix else prefix + s + "/") + k
                for s in ("test", "val") for k in ("rmse", "mae")]
        if all(d.has(m, k) for k in keys):  # no float row for a folder trained before float errors were kept
            rows.append([label, *(d.num(m, k) for k in keys)])
    test = {name: d.get(m, key) for name, key in (("model", "test/rmse"),
                                                    ("persistence", "baselines/test/persistence/rmse"),
                                                    ("linear", "baselines/test/linear/rmse"))}
    verdict = "; ".join(f"{'lower' if test['model'] < test[b] else 'not lower'} than {b}'s"
                        for b in ("persistence", "linear"))
    return (f"<h2>Forecast errors</h2><p>De-normalised, in the units of <code>{html.escape(target)}</code>, "
            f"from <code>model/metrics.json</code>. On the test split the quantized model's RMSE is {verdict}.</p>"
            + _table(["model", "test RMSE", "test MAE", "val RMSE", "val MAE"], rows))


def _csim_section(d: _Doc) -> str:
    c = "csim.json"
    if d.docs.get(c) is None:
        return "<h2>C simulation</h2><p class='bad'>No <code>csim.json</code>: the C simulation has not run.</p>"
    if d.has(c, "error"):
        return (f"<h2>C simulation</h2><p class='bad'>NOT bit-exact: the last C simulation failed: "
                f"{html.escape(str(d.get(c, 'error')))}</p>")
    if d.get(c, "bit_exact"):
        head = "<p class='good'><b>Bit-exact</b>: "
    else:
        head = "<p class='bad'><b>NOT bit-exact</b>: "
    text = (f"{head}the C++ (g++ with the HLS ap_types) against the integer reference on "
            f"{d.num(c, 'samples')} test windows: {d.num(c, 'mismatches')} window outputs differ "
            f"(largest difference {d.num(c, 'max_abs_diff')}); {d.num(c, 'boundaries_compared')} layer boundaries, "
            f"{d.num(c, 'values_compared')} values compared, {d.num(c, 'boundary_mismatches')} differ.</p>")
    first = d.get(c, "first_divergence") if d.has(c, "first_divergence") else None
    if first:
        text += (f"<p class='bad'>First divergence: layer <code>{html.escape(str(first['layer']))}</code>, window "
                 f"{d.num(c, 'first_divergence/sample')}, element {d.num(c, 'first_divergence/element')}: "
                 f"expected {d.num(c, 'first_divergence/expected')}, got {d.num(c, 'first_divergence/got')}.</p>")
    return "<h2>C simulation</h2>" + text


def _resources_section(d: _Doc) -> str:
    e = "estimate.json"
    rows = [[RESOURCE_LABELS[r], d.num(e, f"total/{r}"), d.num(e, f"budget/{r}"),
             d.num(e, f"percent/{r}", ".1f", suffix=" %" if d.get(e, f"percent/{r}") is not None else "")]
            for r in RESOURCE_LABELS]
    fits = d.get(e, "fits")
    over = d.get(e, "overflowing")
    verdict = ("<span class='good'>fits</span>" if fits else
               f"<span class='bad'>does not fit: {html.escape(', '.join(map(str, over)))} over budget</span>")
    cal = "calibrated with measured factors" if d.get(e, "calibrated") else "analytic, uncalibrated"
    return (f"<h2>Resources (estimate)</h2><p>Estimate for <code>{html.escape(str(d.get(e, 'part')))}</code> "
            f"({cal}; not a synthesis result): the design {verdict}.</p>"
            + _table(["resource", "estimate", "part budget", "% of budget"], rows))


def _latency_section(d: _Doc) -> str:
    e = "estimate.json"
    engine = ""
    if d.get(e, "engine"):
        engine = (f" The multiplying layers share {d.num(e, 'engine/lanes')} "
                  f"{html.escape(str(d.get(e, 'engine/mapping')).upper())} multiply lanes.")
    return (f"<h2>Latency (estimate)</h2><p>{d.num(e, 'latency_cycles')} clock cycles = "
            f"{d.num(e, 'latency_us', 'g')} µs per forecast at {d.num(e, 'clock_mhz', 'g')} MHz. "
            f"DSP bound (every DSP busy every clock): {d.num(e, 'dsp_bound_cycles')} cycles for "
            f"{d.num(e, 'macs')} multiply-accumulates; latency / bound = {d.num(e, 'bound_ratio', 'g')}.{engine}</p>"
            + _energy_sentence(d))


def _energy_sentence(d: _Doc) -> str:
    e = "estimate.json"
    if not d.has(e, "energy"):  # a build from before energy was estimated
        return ""
    if not d.get(e, "energy"):
        return ("<p>Energy per inference: not estimated (no static power figure of this part is known; "
                "<code>tsflow calibrate</code> with the design's <code>report_power</code> output gives it).</p>")
    # calibrated_from names the report_power files; estimate.json of older builds said measured: true
    reports = d.get(e, "energy/calibrated_from") if d.has(e, "energy/calibrated_from") else d.get(e, "energy/measured")
    kind = "calibrated by <code>report_power</code>" if reports else "estimate"
    source = ("static power from report_power, its dynamic power spread over this design's resources by the "
              "estimate's ratios" if reports
              else "static power from Vivado reports of the part, dynamic per resource from reports of 7-series designs")
    return (f"<p>Energy per inference ({kind}): {d.num(e, 'energy/energy_uj', 'g')} µJ = "
            f"{d.num(e, 'energy/total_w', 'g')} W (static {d.num(e, 'energy/static_w', 'g')} W) × "
            f"{d.num(e, 'energy/latency_us', 'g')} µs, at a {d.num(e, 'energy/toggle_rate', 'g')} % toggle rate "
            f"({source}; docs/estimate.md).</p>")


def _build_section(d: _Doc) -> str:
    b = "build.json"
    if d.docs.get(b) is None:
        return ""
    times = ", ".join(f"{html.escape(k)} {d.num(b, f'seconds/{k}', '.1f')} s" for k in d.get(b, "seconds"))
    return (f"<h2>Build</h2><p>{d.num(b, 'cpp_lines')} lines of C++ written for this model. "
            f"Wall time per stage: {times}.</p>")


FILES = [("model/config.yaml", "the configuration of this build"),
         ("model/model.weights.h5", "the trained quantized Keras model (weights)"),
         ("model/integer_params.npz", "its integer weights, biases and tables"),
         ("model/metrics.json", "forecast errors, baselines, bit widths"),
         ("model/history.json", "training losses per epoch"),
         ("estimate.json", "resource and latency estimate, per layer and buffer"),
         ("plan.json", "the hardware plan: lanes, loops, buffers, storage"),
         ("hls", "the HLS project (hls/firmware/, the testbench hls/tsflow_tb.cpp and its vectors)"),
         ("csim.json", "the C simulation verdict"),
         ("build.json", "wall time per stage, lines of C++")]


def _files_section(folder: Path) -> str:
    items = "".join(f"<li><a href='{html.escape(p)}'><code>{html.escape(p)}</code></a>: {html.escape(what)}</li>"
                    for p, what in FILES if (folder / p).exists())
    return (f"<h2>Files</h2><p>Paths relative to this report's folder; the figures are in "
            f"<code>{FIGURE_DIR}/</code>.</p><ul>{items}</ul>")


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1180px; margin: 1.5em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; }
.good { color: #1a7f37; } .bad { color: #b42318; } .note { color: #555; font-size: 0.9em; }
"""


def _refuse_wrong_kind(folder: Path, figdir: Path) -> None:
    """Refuse, before anything is written, a file where the figures' folder goes or a folder where the page
    or a figure goes: the report replaces its own files but does not delete what the user put there, and
    the OS's 'File exists' / 'Is a directory' would read as a permission problem."""
    if figdir.exists() and not figdir.is_symlink() and not figdir.is_dir():
        raise ConfigError(f"{figdir} is a file, where the report's figures folder goes: move it away (or delete "
                          f"it) and run the report again")
    for path in [folder / REPORT_HTML] + [figdir / name for name in FIGURES]:
        if path.is_dir() and not path.is_symlink():
            raise ConfigError(f"{path} is a folder, where the report writes a file: move it away (or delete it) and "
                              f"run the report again")


def write_report(folder: Path, note=None) -> Path:
    """Write ``folder/report.html`` and its figures (``folder/report/*.png``) for a finished build
    folder; returns the HTML's path. Raises ConfigError if ``folder`` is not a build folder, or one of
    its JSON files is damaged (naming the file). When the data is gone or changed since the build, the
    figures drawn from it are not redrawn: those an earlier report drew are kept (they cannot be drawn
    again), and ``note(text)`` is told why, as a ``warning:``."""
    folder = Path(folder)
    note = note or (lambda text: None)
    docs = {name: _read_json(folder, name, required)
            for name, required in (("model/metrics.json", True), ("model/dataset.json", True),
                                   ("estimate.json", True), ("csim.json", False), ("build.json", False),
                                   ("plan.json", False), ("hls/boundaries.json", False))}
    import yaml

    from .training.checkpoint import resolved_config
    from .config import parse_config

    config_path = folder / "model" / "config.yaml"
    if not config_path.is_file():
        raise ConfigError(f"{folder} is not a finished build folder (model/config.yaml missing)")
    cfg = resolved_config(folder / "model", parse_config(yaml.safe_load(config_path.read_text()), str(config_path)))
    d = _Doc(docs, folder)
    estimate, plan = docs["estimate.json"], docs["plan.json"]
    figdir = folder / FIGURE_DIR
    _refuse_wrong_kind(folder, figdir)
    if figdir.is_symlink():  # the figures go into the build folder, not through a link to elsewhere
        figdir.unlink()
    figdir.mkdir(exist_ok=True)
    target, horizon = cfg.data.target, cfg.data.horizon
    captions, notes = {}, []
    try:
        pred = load_predictions(folder, cfg)
    except (ConfigError, OSError) as exc:
        pred = None
        kept = [name for name in DATA_FIGURES if (figdir / name).is_file()]
        if kept:
            notes.append(f"The forecast and error figures are those an earlier report of this build drew, not "
                         f"redrawn: the test data could not be loaded as the build's ({exc}).")
            captions.update((name, "Drawn by an earlier report of this build from its data; not redrawn now (see "
                                   "the note above).") for name in kept)
            note(f"warning: {exc}; the forecast and error figures are not redrawn (those an earlier report drew "
                 f"are kept: {', '.join(f'{FIGURE_DIR}/{name}' for name in kept)})")
        else:
            notes.append(f"The forecast and error figures are left out: the test data could not be loaded as the "
                         f"build's ({exc}).")
            note(f"warning: {exc}; the forecast and error figures are left out of the report")
    for name in FIGURES:  # no figure of an earlier report survives to be mistaken for this one's
        if name not in captions:
            (figdir / name).unlink(missing_ok=True)
    if pred is not None:
        bit_exact = bool((docs["csim.json"] or {}).get("bit_exact"))
        n = forecast_figure(pred, target, horizon, figdir / "forecast.png", bit_exact)
        captions["forecast.png"] = (
            f"The first {n} test windows. The quantized model's forecasts are its integer outputs as the C "
            f"simulation checked them (<code>{html.escape(pred.source)}</code>), de-normalised with the training "
            f"scaler; the truth is the configured data's test split. The float model is not drawn: the build "
            f"folder keeps the quantized model's weights only"
            + (" (its test errors are in the table above)." if d.has("model/metrics.json", "float") else "."))
        if pred.truth.ndim == 2:
            drawn = steps_figure(pred, target, horizon, figdir / "steps.png")
            captions["steps.png"] = (
                f"Every one of the {pred.truth.shape[1]} steps forecast (data.steps) from test windows "
                f"{', '.join(f'{w:,}' for w in drawn)}: the quantized model's integer outputs, the truth and the "
                f"persistence forecast (the window's last value, repeated).")
        errors_figure(pred, target, figdir / "errors.png")
        captions["errors.png"] = (
            f"Forecast − truth over all {len(pred.truth):,} test windows"
            + ("" if pred.truth.ndim == 1 else f" and their {pred.truth.shape[1]} steps") + ", in the units of "
            f"<code>{html.escape(target)}</code>: the quantized model (filled) and the persistence and linear "
            f"baselines (outlines), computed from the same windows as <code>model/metrics.json</code>.")
    if plan is not None and not isinstance(plan.get("roms", {}), (dict, list)):
        raise _damaged(folder / "plan.json", "its roms is not a list of names")
    try:
        _estimate_figures(estimate, plan, cfg.target.headroom, figdir)
    except (KeyError, TypeError, AttributeError, IndexError, ZeroDivisionError) as exc:
        why = f"it has no {exc.args[0]}" if isinstance(exc, KeyError) and exc.args else f"{type(exc).__name__}: {exc}"
        raise _damaged(folder / "estimate.json", why) from None
    captions["resources_budget.png"] = (
        "Estimate from <code>estimate.json</code>: each bar is the design's total of one resource in % of the "
        "part's budget, split into the shared multipliers, the layers' own logic, the activation buffers and "
        "the constant ROMs; 'rest of the total' is the top-level control and rounding not listed per item"
        + (" and the calibration" if estimate.get("calibrated") else "") + ".")
    captions["resources_layers.png"] = (
        "Estimate from <code>estimate.json</code>, per layer (its loop logic) and per group of buffers and "
        "ROMs of one storage kind, in % of the part's budget; the labels give the counts. "
        + ("Per-item figures are uncalibrated; the panel titles give the calibrated totals."
           if estimate.get("calibrated") else ""))
    captions["cycles.png"] = (
        "Estimate from <code>estimate.json</code>: each layer's loop trips plus its pipeline fill; the layers "
        "run one after another" + (", and their sum is scaled by the calibration into the total."
                                   if estimate.get("calibrated") else ", so the total is their sum."))

    m = "model/dataset.json"
    data_cfg, model_cfg = cfg.data, cfg.model
    windows = ""
    if pred is not None:
        windows = "; windows (one forecast each) " + ", ".join(
            f'{s} <span class="num" data-from="dataset" data-split="{s}">{pred.windows[s]:,}</span>'
            for s in ("train", "val", "test"))
    summary = (
        f"<h2>Data and model</h2><p>Data <code>{html.escape(str(d.get(m, 'name')))}</code>: "
        f"{len(d.get(m, 'features'))} input channel(s) ({html.escape(', '.join(d.get(m, 'features')))}) "
        f"→ <code>{html.escape(target)}</code> at t+{horizon}, window {data_cfg.window} steps, "
        f"inputs as {html.escape(data_cfg.inputs)}, scaling {html.escape(data_cfg.scaling)}. "
        f"Rows train {d.num(m, 'rows/train')}, val {d.num(m, 'rows/val')}, test {d.num(m, 'rows/test')}"
        f"{windows}.</p>"
        f"<p>Transformer encoder: d_model {model_cfg.d_model}, {model_cfg.heads} head(s), {model_cfg.layers} "
        f"layer(s), FFN {model_cfg.ffn_width}, head {html.escape(model_cfg.head)}, "
        f"predict_delta {str(model_cfg.predict_delta).lower()}; quantized to {cfg.quantization.bits} bits by "
        f"default (every tensor's type in <code>model/metrics.json</code>, key <code>bits</code>).</p>")

    figures = "".join(
        f"<figure><img src='{FIGURE_DIR}/{name}' alt='{html.escape(alt)}'>"
        f"<figcaption>{captions[name]}</figcaption></figure>"
        for name, alt in FIGURES.items() if name in captions)
    body = (f"<h1>tsflow build report: {html.escape(cfg.name)}</h1>"
            f"<p class='note'>Every number below is read from this build folder's files (each carries its file "
            f"and key in <code>data-src</code>); resources and "
            f"latency are estimates, not synthesis results.</p>"
            + summary + _errors_section(d, target) + _csim_section(d) + _resources_section(d)
            + _latency_section(d) + _build_section(d)
            + "".join(f"<p class='note'>{html.escape(n)}</p>" for n in notes)
            + "<h2>Figures</h2>" + figures + _files_section(folder))
    page = (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>tsflow build report: {html.escape(cfg.name)}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")
    out = folder / REPORT_HTML
    out.unlink(missing_ok=True)  # a link placed there is replaced, never written through (to a file elsewhere)
    out.write_text(page, encoding="utf-8")
    return out


def _report_state(folder: Path) -> dict:
    """The report's files as they are now (name -> size, change time, inode; absent ones left out)."""
    state = {}
    for path in [folder / REPORT_HTML, *(folder / FIGURE_DIR / name for name in FIGURES)]:
        try:
            st = path.stat(follow_symlinks=False)
        except OSError:
            continue
        state[str(path)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return state


def _interrupted(folder: Path, before: dict, written: Path | None) -> int:
    """Ctrl-C: one line and exit 130, no traceback. A report whose figures were partly redrawn when it came is
    removed, so that no report.html is left showing figures it was not written with (or a page cut short)."""
    import shlex
    import sys

    html_path = folder / REPORT_HTML
    if written is not None:
        said = f"{html_path} was written in full before it"
    elif _report_state(folder) == before:
        said = f"{html_path} not rewritten (the folder is as it was)"
    else:
        try:
            html_path.unlink(missing_ok=True)
            said = f"{html_path} removed: its figures were partly redrawn, and no longer matched it"
        except OSError as exc:
            said = (f"{html_path} could not be removed ({exc.strerror or exc}) though its figures were partly "
                    f"redrawn: it no longer matches them")
        said += f"; run 'python -m flow.report {shlex.quote(str(folder))}' to write the report again"
    print(f"interrupted: {said}", file=sys.stderr)
    return 130


USAGE = "usage: python -m flow.report BUILD_FOLDER (one build folder, the --out of 'tsflow build')"


def main(argv: list[str] | None = None) -> int:
    """``python -m flow.report FOLDER``: (re)write the report of a build folder, holding its lock as every
    command that writes into a build folder does (``flow.locks``). A user error (no such folder, not a build
    folder, an option, one that cannot be written, one another process holds) is one ``error:`` line and exit
    2, as ``tsflow`` gives it."""
    import os
    import shlex
    import sys

    from .locks import not_writable, using_folder
    from .runs import build_holding, record_written, subfolder_said

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the model's configuration is read through keras_models
    args = sys.argv[1:] if argv is None else argv

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    if args in (["-h"], ["--help"]):
        print("usage: python -m flow.report BUILD_FOLDER\n\n(Re)write BUILD_FOLDER/report.html and its figures.")
        return 0
    end = args.index("--") if "--" in args else len(args)  # '--': what follows is the folder, even '-x'
    options = [a for a in args[:end] if a.startswith("-") and a != "-"]
    if options:
        one = len(options) == 1
        return fail(f"no such option{'' if one else 's'}: {' '.join(options)} (the only argument is the build folder, "
                    f"and the report is written into it); {USAGE}")
    args = args[:end] + args[end + 1:]
    if len(args) != 1:
        return fail(USAGE)
    folder = Path(os.path.expanduser(args[0]))  # '~' and '~NAME' as every tsflow command reads them
    if args[0].startswith("~") and str(folder).startswith("~"):
        user = args[0][1:].split("/", 1)[0]
        return fail(f"{args[0]!r} starts with ~{user}, but there is no user {user!r} whose home folder it would be; "
                    f"give the path without ~ (or ./{args[0]} for a folder named so)")
    if not folder.is_dir():
        return fail(f"{folder}: no such folder; give the folder 'tsflow build --out' wrote")
    holder = build_holding(folder)
    if holder is not None:
        return fail(subfolder_said(folder, holder, f"'python -m flow.report {shlex.quote(str(holder))}'"))
    if (folder / "metrics.json").is_file() and not (folder / "model").is_dir():
        return fail(f"{folder} is a 'tsflow train' folder; a report is of a build folder: build one from it "
                    f"('tsflow build CONFIG --out DIR --trained {folder}') and its report is written with it")
    copy = (f"or copy the folder (cp -r {shlex.quote(str(folder))} COPY) and run 'python -m flow.report COPY' to "
            f"write the report there")
    before = _report_state(folder)
    written = None
    try:
        with using_folder(folder):  # not under a build replacing it, a C simulation or an export writing it
            blocked = not_writable(folder)
            if blocked is not None:
                return fail(f"the report cannot be written into {folder} ({blocked.strerror or blocked}): make it "
                            f"writable, {copy}")
            written = write_report(folder, note=lambda text: print(text, file=sys.stderr))
            print(written)
            record_written(folder, written_files(folder))
    except KeyboardInterrupt:
        return _interrupted(folder, before, written)
    except ConfigError as exc:  # FolderBusy too: the process that holds the folder, named
        return fail(str(exc))
    except OSError as exc:  # a file or the figures' folder in it that cannot be replaced
        where = exc.filename or folder
        return fail(f"cannot write {where} ({exc.strerror or exc}): the report goes into {folder}; make it writable, "
                    f"{copy}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
