"""The files the build report writes into a run folder, by name: what the report draws (``flow.report``) and what
the folder rules take for tsflow's (``flow.runs``), which the report's own imports sit above."""
from __future__ import annotations

from pathlib import Path

REPORT_HTML = "report.html"
FIGURE_DIR = "report"  # the PNGs, beside report.html, referenced relatively
FIGURES = {
    "forecast.png": "Forecast against truth on the test split",
    "errors.png": "Distribution of forecast errors on the test split",
    "steps.png": "Forecasts of every step of a few test windows against truth",
    "resources_budget.png": "Estimated resources against the part's budget",
    "resources_layers.png": "Estimated resources per layer in percent of the part's budget",
    "cycles.png": "Estimated clock cycles per layer",
}


def written_files(folder: Path) -> list[str]:
    """What a report wrote into a build folder, relative, for its manifest: ``report.html`` and the figures now in
    ``report/``, one by one, so that a user's file put beside them is never taken for tsflow's (and removed by
    'tsflow build --force')."""
    figdir = Path(folder) / FIGURE_DIR
    return [REPORT_HTML, *(f"{FIGURE_DIR}/{name}" for name in FIGURES if (figdir / name).is_file())]
