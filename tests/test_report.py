"""The build report against a real (small) build: its HTML, its figures and its numbers."""
import json
import math
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml

from flow.config import ConfigError, parse_config
from flow.report import _model_outputs, load_predictions, write_report

from .conftest import small_raw

# what a full report shows, in page order: file name -> alt text
EXPECTED_FIGURES = {
    "report/forecast.png": "Forecast against truth on the test split",
    "report/errors.png": "Distribution of forecast errors on the test split",
    "report/resources_budget.png": "Estimated resources against the part's budget",
    "report/resources_layers.png": "Estimated resources per layer in percent of the part's budget",
    "report/cycles.png": "Estimated clock cycles per layer",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID = {"img", "meta", "br", "hr", "link", "input"}


class Page(HTMLParser):
    """Checks that every tag is closed in order; collects images and numbers with their sources."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.images, self.numbers, self.counts = [], [], [], [], []
        self.doctype = None
        self._capture = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append((a.get("src"), a.get("alt")))
        if tag == "span" and "num" in (a.get("class") or "").split():
            self._capture = [a, ""]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()
        if tag == "span" and self._capture is not None:
            a, text = self._capture
            (self.numbers if "data-src" in a else self.counts).append((a, text))
            self._capture = None

    def handle_data(self, data):
        if self._capture is not None:
            self._capture[1] += data


def parse_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def shown_equals(text: str, value) -> bool:
    """The text shows ``value`` to the precision it is written with."""
    if isinstance(value, bool):
        return text == ("yes" if value else "no")
    if value is None:
        return text == "n/a"
    number = float(text.replace(",", ""))
    if isinstance(value, int):
        return "." not in text and int(number) == value
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(number - value) <= 0.5 * 10 ** -decimals * (1 + 1e-9) + 1e-12


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real build (window 8, d_model 8, 1 + 1 epochs) and its report."""
    from flow.build import build

    raw = small_raw()
    raw["training"].update(float_epochs=1, qat_epochs=1)
    stage = tmp_path_factory.mktemp("build")
    build(parse_config(raw), stage, allow_overflow=True)
    html = write_report(stage)
    return stage, html, None


def read(folder: Path, name: str):
    return json.loads((folder / name).read_text())


def test_report_is_written_beside_the_build(built):
    folder, html, _ = built
    assert html == folder / "report.html" and html.is_file()


def test_report_is_well_formed_html(built):
    folder, html, _ = built
    page = parse_page(html)
    assert page.doctype is not None and page.doctype.lower() == "doctype html"
    assert not page.errors, page.errors
    assert page.stack == [], f"unclosed tags: {page.stack}"
    text = html.read_text()
    assert "<title>tsflow build report: small</title>" in text
    assert "http://" not in text and "https://" not in text  # nothing to fetch


def test_report_shows_exactly_the_expected_figures(built):
    folder, html, _ = built
    assert parse_page(html).images == list(EXPECTED_FIGURES.items())
    assert sorted(p.name for p in (folder / "report").iterdir()) == sorted(Path(s).name for s in EXPECTED_FIGURES)


@pytest.mark.parametrize("src", list(EXPECTED_FIGURES))
def test_every_figure_is_a_real_png(built, src):
    import matplotlib.image

    folder, _, _ = built
    path = folder / src
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 15_000, f"{src}: {len(data)} bytes, too small for a drawn figure"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 300 and pixels.shape[1] > 800
    assert pixels[..., :3].std() > 0.05  # not a blank canvas


def test_every_number_equals_its_source_file(built):
    folder, html, _ = built
    page = parse_page(html)
    assert len(page.numbers) > 30
    docs = {}
    for attrs, text in page.numbers:
        file, key = attrs["data-src"].split("#")
        doc = docs.setdefault(file, read(folder, file))
        value = doc
        for part in key.split("/"):
            value = value[part]
        assert shown_equals(text, value), f"{file}#{key}: shows {text!r}, the file holds {value!r}"


class Placed(HTMLParser):
    """Where each number (``span.num`` with a ``data-src``) stands: in a table body, its row's label (the
    first cell) and its column's header; in a paragraph, the text between it and the number or paragraph
    edge before it (``before``), and after it (``after``)."""

    def __init__(self):
        super().__init__()
        self.cells, self.prose = {}, {}
        self._header, self._row, self._cell = [], None, None  # the table's headers, the body row's cells so far
        self._text, self._open, self._last = "", None, None  # paragraph text since the last number

    def handle_starttag(self, tag, attrs):
        src = dict(attrs).get("data-src")
        if tag == "table":
            self._header = []
        elif tag == "tbody":
            self._row = []
        elif tag == "tr" and self._row is not None:
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "p":
            self._text, self._last = "", None
        elif tag == "span" and src is not None:
            if self._row is not None:
                self.cells[(self._row[0], self._header[len(self._row)])] = src
            else:
                self._after_ends()
                self._open, self.prose[src] = src, {"before": self._text.strip()}

    def handle_endtag(self, tag):
        if tag == "th":
            self._header.append(self._cell.strip())
            self._cell = None
        elif tag == "td":
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tbody":
            self._row = None
        elif tag == "span" and self._open is not None:
            self._last, self._open, self._text = self._open, None, ""
        elif tag == "p":
            self._after_ends()

    def _after_ends(self):
        if self._last is not None:
            self.prose[self._last]["after"] = self._text.strip()
            self._last = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._open is None:
            self._text += data


# where each number belongs, written by hand from the page's labels: (row label, column header) -> file#key
METRICS = "model/metrics.json#"
TABLE_CELLS = {
    ("quantized model (the one built)", "test RMSE"): METRICS + "test/rmse",
    ("quantized model (the one built)", "test MAE"): METRICS + "test/mae",
    ("quantized model (the one built)", "val RMSE"): METRICS + "val/rmse",
    ("quantized model (the one built)", "val MAE"): METRICS + "val/mae",
    ("float model (before quantization-aware training)", "test RMSE"): METRICS + "float/test/rmse",
    ("float model (before quantization-aware training)", "test MAE"): METRICS + "float/test/mae",
    ("float model (before quantization-aware training)", "val RMSE"): METRICS + "float/val/rmse",
    ("float model (before quantization-aware training)", "val MAE"): METRICS + "float/val/mae",
    ("persistence (last observed value)", "test RMSE"): METRICS + "baselines/test/persistence/rmse",
    ("persistence (last observed value)", "test MAE"): METRICS + "baselines/test/persistence/mae",
    ("persistence (last observed value)", "val RMSE"): METRICS + "baselines/val/persistence/rmse",
    ("persistence (last observed value)", "val MAE"): METRICS + "baselines/val/persistence/mae",
    ("linear (least squares on the window)", "test RMSE"): METRICS + "baselines/test/linear/rmse",
    ("linear (least squares on the window)", "test MAE"): METRICS + "baselines/test/linear/mae",
    ("linear (least squares on the window)", "val RMSE"): METRICS + "baselines/val/linear/rmse",
    ("linear (least squares on the window)", "val MAE"): METRICS + "baselines/val/linear/mae",
    **{(label, column): f"estimate.json#{field}/{key}"
       for label, key in (("LUT", "lut"), ("LUTRAM", "lutram"), ("FF", "ff"), ("BRAM18", "bram18"), ("DSP", "dsp"))
       for column, field in (("estimate", "total"), ("part budget", "budget"), ("% of budget", "percent"))},
}
# a number in a paragraph -> the words right before it ("before") or right after it ("after")
PROSE = {
    "model/dataset.json#rows/train": ("before", "Rows train"),
    "model/dataset.json#rows/val": ("before", ", val"),
    "model/dataset.json#rows/test": ("before", ", test"),
    "csim.json#samples": ("after", "test windows:"),
    "csim.json#mismatches": ("after", "window outputs differ"),
    "csim.json#max_abs_diff": ("before", "(largest difference"),
    "csim.json#boundaries_compared": ("after", "layer boundaries,"),
    "csim.json#values_compared": ("after", "values compared,"),
    "csim.json#boundary_mismatches": ("after", "differ."),
    "estimate.json#latency_cycles": ("after", "clock cycles ="),
    "estimate.json#latency_us": ("after", "µs per forecast at"),
    "estimate.json#clock_mhz": ("after", "MHz. DSP bound"),
    "estimate.json#dsp_bound_cycles": ("after", "cycles for"),
    "estimate.json#macs": ("after", "multiply-accumulates; latency / bound ="),
    "estimate.json#bound_ratio": ("before", "latency / bound ="),
    "estimate.json#energy/energy_uj": ("after", "µJ ="),
    "estimate.json#energy/total_w": ("after", "W (static"),
    "estimate.json#energy/static_w": ("after", "W) ×"),
    "estimate.json#energy/latency_us": ("after", "µs, at a"),
    "estimate.json#energy/toggle_rate": ("after", "% toggle rate"),
    "estimate.json#engine/lanes": ("after", "DSP multiply lanes."),
    "build.json#cpp_lines": ("after", "lines of C++"),
}


def test_every_number_stands_in_the_row_and_sentence_of_its_source(built):
    """A number equal to its source file (above) could still stand in the wrong row or sentence: each table
    cell's row label and column header, and the words around each number of the text, name the file#key
    it carries (TABLE_CELLS and PROSE, written by hand from the page's labels)."""
    _, html, _ = built
    placed = Placed()
    placed.feed(html.read_text(encoding="utf-8"))
    placed.close()
    assert placed.cells == TABLE_CELLS
    stages = {src for src in placed.prose if src.startswith("build.json#seconds/")}
    assert set(placed.prose) - stages == set(PROSE)
    wrong = []
    for src, (side, words) in PROSE.items():
        text = placed.prose[src].get(side, "")
        if not (text.endswith(words) if side == "before" else text.startswith(words)):
            wrong.append(f"{src}: {side} it {text!r}, not {words!r}")
    for src in stages:  # "Wall time per stage: data 0.0 s, train 12.0 s, ...": each stage's name, then s
        stage, around = src.split("/")[-1], placed.prose[src]
        if not (around["before"].endswith(stage) and around.get("after", "").startswith("s")):
            wrong.append(f"{src}: between {around['before']!r} and {around.get('after')!r}")
    assert not wrong, "\n".join(wrong)
    assert len(stages) >= 4


def test_summary_states_the_key_numbers(built):
    """The verdict and totals the brief asks for are all there, each read from its file."""
    folder, html, _ = built
    sources = {a["data-src"] for a, _ in parse_page(html).numbers}
    wanted = {"csim.json#samples", "csim.json#mismatches", "csim.json#values_compared",
              "csim.json#boundary_mismatches", "estimate.json#latency_cycles", "estimate.json#latency_us",
              "estimate.json#dsp_bound_cycles", "estimate.json#bound_ratio", "estimate.json#macs",
              "model/metrics.json#test/rmse", "model/metrics.json#test/mae", "model/metrics.json#float/test/rmse",
              "model/metrics.json#baselines/test/persistence/rmse", "model/metrics.json#baselines/test/linear/rmse",
              "model/dataset.json#rows/test", "build.json#cpp_lines"}
    wanted |= {f"estimate.json#{k}/{r}" for k in ("total", "budget", "percent")
               for r in ("lut", "lutram", "ff", "bram18", "dsp")}
    assert wanted <= sources, sorted(wanted - sources)
    text = html.read_text()
    csim = read(folder, "csim.json")
    assert csim["bit_exact"] and "<b>Bit-exact</b>" in text and "NOT bit-exact" not in text
    assert "Resources (estimate)" in text and "Latency (estimate)" in text
    for name in ("model/config.yaml", "estimate.json", "csim.json", "build.json", "hls"):
        assert f"href='{name}'" in text


def test_window_counts_are_those_of_the_data(built):
    folder, html, _ = built
    counts = {a["data-split"]: int(t.replace(",", "")) for a, t in parse_page(html).counts}
    # by hand: 8,759 hourly rows split 0.6 / 0.2 / 0.2 -> 5,255 / 1,751 / 1,751 rows (each rounded down),
    # less the window of 8 in each split
    assert counts == {"train": 5255 - 8, "val": 1751 - 8, "test": 1751 - 8}
    assert counts["test"] == read(folder, "csim.json")["samples"]


def test_plotted_forecasts_have_the_errors_of_metrics_json(built):
    """The figures' series are the model and baselines metrics.json was computed from."""
    folder, _, _ = built
    cfg = parse_config(yaml.safe_load((folder / "model" / "config.yaml").read_text()))
    pred = load_predictions(folder, cfg)
    metrics = read(folder, "model/metrics.json")
    assert pred.source == "hls/tb_data/expected.bin"
    for series, want in ((pred.model, metrics["test"]), (pred.persistence, metrics["baselines"]["test"]["persistence"]),
                         (pred.linear, metrics["baselines"]["test"]["linear"])):
        e = series - pred.truth
        assert math.isclose(float(np.sqrt(np.mean(e ** 2))), want["rmse"], rel_tol=1e-6)
        assert math.isclose(float(np.mean(np.abs(e))), want["mae"], rel_tol=1e-6)


def test_without_the_hls_vectors_the_integer_reference_gives_the_same_forecasts(built, tmp_path):
    from flow.data import load_dataset

    folder, _, _ = built
    shutil.copytree(folder / "model", tmp_path / "model")
    from flow.training.checkpoint import resolved_config

    cfg = resolved_config(folder / "model", parse_config(yaml.safe_load((folder / "model" / "config.yaml").read_text())))
    ds = load_dataset(cfg)
    from_vectors, source = _model_outputs(folder, cfg, ds)
    recomputed, fallback = _model_outputs(tmp_path, cfg, ds)
    assert source == "hls/tb_data/expected.bin" and fallback.startswith("model/integer_params.npz")
    np.testing.assert_array_equal(from_vectors, recomputed)


def test_a_folder_without_its_data_and_over_budget_still_reports(built, tmp_path):
    """Data gone: the two data figures are left out with a note; an over-budget, calibrated estimate
    is drawn past 100 % and said not to fit."""
    folder, _, _ = built
    for name in ("model", "hls"):
        shutil.copytree(folder / name, tmp_path / name)
    for name in ("plan.json", "csim.json", "build.json"):
        shutil.copy(folder / name, tmp_path / name)
    raw = yaml.safe_load((folder / "model" / "config.yaml").read_text())
    raw["data"].update(source="csv", path=str(tmp_path / "gone.csv"))
    (tmp_path / "model" / "config.yaml").write_text(yaml.safe_dump(raw))
    est = read(folder, "estimate.json")
    est["total"]["lut"] = 2 * est["budget"]["lut"]
    est["percent"]["lut"] = 200.0
    est.update(fits=False, overflowing=["lut"], calibrated=True)
    (tmp_path / "estimate.json").write_text(json.dumps(est))
    html = write_report(tmp_path)
    page = parse_page(html)
    assert not page.errors and page.stack == []
    assert [src for src, _ in page.images] == [s for s in EXPECTED_FIGURES if "forecast" not in s and "errors" not in s]
    text = html.read_text()
    assert "left out: the test data could not be loaded" in text
    assert "does not fit: lut over budget" in text and "calibrated with measured factors" in text


def test_not_a_build_folder(tmp_path):
    with pytest.raises(ConfigError, match="not a finished build folder"):
        write_report(tmp_path)


def test_number_check_is_not_vacuous():
    assert shown_equals("3.629", 3.6286195857598487)
    assert not shown_equals("3.629", 3.64)
    assert shown_equals("1,743", 1743) and not shown_equals("1,743", 1744)
    assert shown_equals("52.0", 52.0) and not shown_equals("52.0", 52.1)


# ------------------------------------------------------------------------- python -m flow.report: user errors

def _report_command(*args, cwd, **kwargs):
    import subprocess
    import sys

    from .conftest import CLI_ENV

    return subprocess.run([sys.executable, "-m", "flow.report", *map(str, args)], cwd=cwd,
                          env=kwargs.pop("env", CLI_ENV), capture_output=True, text=True, timeout=300, **kwargs)


def _one_error(done) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output, output
    assert output.startswith("error: ") and output.count("\n") == 1, output
    return output.strip()


@pytest.mark.parametrize("make, arg, expect", [
    (lambda d: None, "nowhere", "error: nowhere: no such folder; give the folder 'tsflow build --out' wrote"),
    (lambda d: (d / "tr").mkdir() or (d / "tr" / "metrics.json").write_text("{}"), "tr",
     "error: tr is a 'tsflow train' folder; a report is of a build folder"),
    (lambda d: (d / "empty").mkdir(), "empty", "error: empty is not a finished build folder (model/metrics.json "
                                               "missing)"),
    (lambda d: None, "~nosuchuser7/b", "error: '~nosuchuser7/b' starts with ~nosuchuser7, but there is no user "
                                       "'nosuchuser7' whose home folder it would be; give the path without ~"),
], ids=["no-folder", "b113-train-folder", "empty-folder", "b33-no-such-user"])
def test_the_report_command_says_a_user_error_in_one_line(tmp_path, make, arg, expect):
    """b113: exit 1 without 'error:' for a folder that is not a build's."""
    make(tmp_path)
    assert _one_error(_report_command(arg, cwd=tmp_path)).startswith(expect)
    assert _one_error(_report_command(cwd=tmp_path)).startswith("error: usage: python -m flow.report BUILD_FOLDER")


def test_the_report_of_a_folder_that_cannot_be_written_is_one_error_saying_what_to_do(built, tmp_path):
    """b111: the command csim's own message suggests, on a folder that still cannot be written, ended in a
    PermissionError traceback; now one line: where it cannot write and what to do."""
    from .conftest import as_unprivileged, require_mode_bits

    require_mode_bits()
    folder = tmp_path / "b15"
    shutil.copytree(built[0], folder)
    before = (folder / "report.html").read_bytes()
    folder.chmod(0o555)
    try:
        done = _report_command("b15", cwd=tmp_path, preexec_fn=as_unprivileged)
    finally:
        folder.chmod(0o755)
    assert _one_error(done) == ("error: the report cannot be written into b15 (Permission denied): make it writable, "
                                "or copy the folder (cp -r b15 COPY) and run 'python -m flow.report COPY' to write the "
                                "report there")
    assert (folder / "report.html").read_bytes() == before
    (folder / "report").chmod(0o555)  # the folder writable, its figures' folder not
    try:
        done = _report_command("b15", cwd=tmp_path, preexec_fn=as_unprivileged)
    finally:
        (folder / "report").chmod(0o755)
    assert _one_error(done).startswith("error: cannot write b15/report/forecast.png (Permission denied): the report "
                                       "goes into b15; make it writable, or copy the folder")


def test_a_file_where_the_figures_folder_goes_or_a_folder_where_a_file_goes_is_named_and_left(built, tmp_path):
    """tour 8 b53: a file named 'report' where the figures' folder goes was answered 'cannot write ... (File
    exists): make it writable', a permission problem it is not; now it is named as a file in the way, and
    the folder is left as it was (the page included)."""
    folder = _build_copy(built, tmp_path / "b53")
    before = (folder / "report.html").read_bytes()
    shutil.rmtree(folder / "report")
    (folder / "report").write_text("x\n")
    assert _one_error(_report_command("b53", cwd=tmp_path)) == (
        "error: b53/report is a file, where the report's figures folder goes: move it away (or delete it) and run "
        "the report again")
    assert (folder / "report").read_text() == "x\n" and (folder / "report.html").read_bytes() == before
    (folder / "report").unlink()
    (folder / "report").mkdir()
    (folder / "report" / "cycles.png").mkdir()
    assert _one_error(_report_command("b53", cwd=tmp_path)) == (
        "error: b53/report/cycles.png is a folder, where the report writes a file: move it away (or delete it) and "
        "run the report again")
    assert (folder / "report.html").read_bytes() == before


def test_an_option_is_named_as_no_such_option(tmp_path):
    """b23: '--out x' was answered with the usage alone; the option is named, and nothing is written."""
    assert _one_error(_report_command("b", "--out", "x", cwd=tmp_path)) == (
        "error: no such option: --out (the only argument is the build folder, and the report is written into it); "
        "usage: python -m flow.report BUILD_FOLDER (one build folder, the --out of 'tsflow build')")
    assert list(tmp_path.iterdir()) == []


def test_the_report_is_not_written_into_a_folder_another_process_holds(built, tmp_path):
    """b24, b84: the report was rewritten under a running csim (which writes report.html at its end) or a
    build --force replacing the folder; it is refused naming the holder, as csim and export are, and the
    folder's report is left as it was."""
    import subprocess
    import sys

    folder = tmp_path / "b24"
    shutil.copytree(built[0], folder)
    before = {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns)
              for p in [folder / "report.html", *(folder / "report").iterdir()]}
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY);"
                               " fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(120)",
                               str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        message = _one_error(_report_command("b24", cwd=tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert message.startswith(f"error: b24 is in use by another process (pid {holder.pid}"), message
    assert message.endswith(f"it is left untouched: wait for it to finish, or stop it (kill {holder.pid}), then run "
                            f"this again"), message
    assert {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in [folder / "report.html", *(folder / "report").iterdir()]} == before
    done = _report_command("b24", cwd=tmp_path)  # let go: written
    assert done.returncode == 0 and done.stdout.strip() == "b24/report.html", done.stderr


def _build_copy(built, to: Path) -> Path:
    shutil.copytree(built[0], to)
    return to


def _point_at_csv(folder: Path, csv: Path) -> None:
    """The copy's model/config.yaml reads its series from ``csv`` (the built-in series' date and temp columns)."""
    raw = yaml.safe_load((folder / "model" / "config.yaml").read_text())
    raw["data"].update(source="csv", path=str(csv), date_column="date")
    (folder / "model" / "config.yaml").write_text(yaml.safe_dump(raw))


def _figures(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in (folder / "report").iterdir()}


def test_the_report_without_its_data_keeps_the_figures_the_build_drew_and_says_why(built, tmp_path):
    """b34: with the build's CSV gone the report deleted forecast.png and errors.png (which cannot be drawn
    again) and said why only inside the HTML; they are kept, shown, and a warning says why."""
    folder = _build_copy(built, tmp_path / "b34")
    _point_at_csv(folder, tmp_path / "gone.csv")
    before = _figures(folder)
    done = _report_command("b34", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "b34/report.html\n"
    assert done.stderr == (f"warning: invalid configuration: data.path = '{tmp_path / 'gone.csv'}': file not found; the "
                           f"forecast and error figures are not redrawn (those an earlier report drew are kept: "
                           f"report/forecast.png, report/errors.png)\n")
    assert _figures(folder)["forecast.png"] == before["forecast.png"]
    assert _figures(folder)["errors.png"] == before["errors.png"]
    assert parse_page(folder / "report.html").images == list(EXPECTED_FIGURES.items())
    assert "not redrawn: the test data could not be loaded as the build&#x27;s" in (folder / "report.html").read_text()


@pytest.mark.parametrize("change, why", [
    ("scaled", "b36/model/dataset.json holds another scaler than the data gives"),
    ("test-rows", "b36: the test windows made from the data now differ from hls/tb_data/inputs.bin in "),
], ids=["b36-scaled", "test-rows-changed"])
def test_the_report_does_not_draw_from_data_that_changed_since_the_build(built, tmp_path, change, why):
    """b36: the report drew its forecast figures from a CSV that changed since the build (truth in other
    units beside metrics.json's errors) where 'tsflow csim' refuses the folder; the same checks (the scaler,
    the test windows against hls/tb_data) now keep it from redrawing them, and a warning says why."""
    from vega_datasets import local_data

    frame = local_data.seattle_temps()
    folder = _build_copy(built, tmp_path / "b36")
    (folder / "report" / "errors.png").unlink()  # an earlier report without it: it is not drawn either
    if change == "scaled":
        frame["temp"] = frame["temp"] * 2 + 5
    else:
        frame.loc[frame.index[-50:], "temp"] += 1.0
    frame.to_csv(tmp_path / "b36.csv", index=False)
    _point_at_csv(folder, tmp_path / "b36.csv")
    before = _figures(folder)
    done = _report_command("b36", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"warning: {why}"), line
    assert line.endswith("; the forecast and error figures are not redrawn (those an earlier report drew are kept: "
                         "report/forecast.png)"), line
    assert _figures(folder) == before
    assert [src for src, _ in parse_page(folder / "report.html").images] == [
        s for s in EXPECTED_FIGURES if "errors" not in s]


def test_the_report_reads_a_leading_tilde_and_takes_double_dash_as_the_end_of_options(built, tmp_path):
    """b33: '~/runs/base' was 'no such folder'; b92: '--' was 'no such option: --', so a folder named '-x'
    could not be given."""
    from .conftest import CLI_ENV

    _build_copy(built, tmp_path / "-x")
    done = _report_command("--", "-x", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "-x/report.html\n", "")
    done = _report_command("~/-x", cwd=tmp_path, env={**CLI_ENV, "HOME": str(tmp_path)})
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{tmp_path}/-x/report.html\n", "")
    assert _one_error(_report_command("-x", "--", cwd=tmp_path)).startswith("error: no such option: -x ")
