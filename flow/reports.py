"""Read the numbers the Xilinx tools actually reported.

The resource estimator is calibrated against real results, and a finished build is read back from
what synthesis wrote, so these parsers take the tools' own files: Vivado HLS / Vitis HLS
``csynth.xml`` and ``*_csynth.rpt``, Vivado ``report_utilization`` and ``report_power`` text. Standard library only,
so importing this module never loads TensorFlow or hls4ml.

Units: clock periods in ns; latency and interval in clock cycles; ``bram18`` in 18 Kb block-RAM
halves (a RAMB36 counts 2); ``dsp`` in DSP slices; ``ff`` flip-flops; ``lut`` LUTs; ``uram`` URAM
blocks. ``None`` means the report does not give that number (or says "undef" / "?").
"""
from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESOURCE_KEYS = ("bram18", "dsp", "ff", "lut", "uram")

# column / tag names the HLS tools use for each resource, across versions
_HLS_NAMES = {"BRAM_18K": "bram18", "BRAM": "bram18", "DSP48E": "dsp", "DSP": "dsp", "FF": "ff", "LUT": "lut",
              "URAM": "uram"}
_UNDEFINED = ("undef", "?", "-")

_HLS_TITLE = re.compile(r"^== (Vivado HLS|Vitis HLS) Report for '([^']+)'|^== Synthesis Summary Report of '([^']+)'",
                        re.M)
_UTILIZATION_COMMAND = re.compile(r"^\|\s*Command\s*:\s*report_utilization\b", re.M)
_POWER_TITLE = re.compile(r"^Power Report\s*$", re.M)

# report_utilization "Site Type" rows, 7-series name first, then UltraScale(+)
_SITE_ROWS = {
    "lut": ("Slice LUTs", "CLB LUTs"),
    "lut_logic": ("LUT as Logic",),
    "lutram": ("LUT as Memory",),
    "ff": ("Register as Flip Flop",),
    "bram_tile": ("Block RAM Tile",),
    "ramb36": ("RAMB36/FIFO",),
    "ramb18": ("RAMB18",),
    "dsp": ("DSPs",),
}


class ReportError(ValueError):
    """The file is not a report these parsers read, or lacks a table or field they need."""


@dataclass
class HLSReport:
    """One HLS synthesis estimate for the top module; ``available`` is the device budget the report
    states (None when the format gives none)."""

    tool: str | None  # "vivado_hls" | "vitis_hls" as far as the file tells
    version: str | None
    part: str
    top: str
    clock_target_ns: float | None
    clock_estimated_ns: float | None
    latency_min_cycles: int | None
    latency_max_cycles: int | None
    interval_min: int | None
    interval_max: int | None
    resources: dict[str, int]
    available: dict[str, int] | None
    loops: list = field(default_factory=list)  # LoopReport per loop, nested ones after their parent

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LoopReport:
    """One loop of ``SummaryOfLoopLatency``: ``name`` is its path (outer/inner); a figure the tool gives
    as a range is (min, max), a single figure min = max; ``ii`` / ``depth`` only for pipelined loops."""

    name: str
    trip_min: int | None
    trip_max: int | None
    latency_min: int | None
    latency_max: int | None
    ii: int | None
    depth: int | None


@dataclass
class UtilizationReport:
    """Used counts of one Vivado ``report_utilization``; ``available`` holds the device totals for
    lut, lutram, ff, bram18, dsp and uram."""

    tool_version: str | None
    part: str
    design: str | None
    lut: int
    lut_logic: int
    lutram: int  # "LUT as Memory": distributed RAM and shift registers (SRL)
    lutram_ram: int  # "LUT as Distributed RAM" only (0 when the report has no such row)
    ff: int
    bram_tile: float
    bram18: int
    dsp: int
    uram: int
    available: dict[str, int]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PowerComponent:
    """One row of ``1.1 On-Chip Components``: ``power_w`` is None where the report prints ``<0.001``
    (below its 1 mW resolution); ``used`` None where it prints nothing."""

    name: str
    power_w: float | None
    used: float | None
    indent: int  # 0 for a component, 1 for a part of the row above (LUT as Logic under Slice Logic)


@dataclass
class PowerReport:
    """One Vivado ``report_power``: on-chip power in W, the junction temperature in C, the clocks'
    periods in ns and whether switching activity came from simulation (``activity_file``)."""

    tool_version: str | None
    part: str
    design: str | None
    state: str | None  # routed | synthesized, as the report writes it
    total_w: float
    dynamic_w: float
    static_w: float
    junction_c: float | None
    activity_file: str | None
    components: list
    clocks: dict

    def component(self, name: str) -> PowerComponent | None:
        return next((c for c in self.components if c.name == name), None)

    def to_dict(self) -> dict:
        return asdict(self)


@contextmanager
def _reading(path: Path):
    """Name the file in every format error raised while parsing it."""
    try:
        yield
    except ET.ParseError as exc:
        raise ReportError(f"{path}: not well-formed XML ({exc})") from exc
    except ReportError as exc:  # raised below without the file name
        raise ReportError(f"{path}: {exc}") from exc
    except (ValueError, LookupError, TypeError) as exc:  # a number or column not where the layout puts it
        raise ReportError(f"{path}: unexpected report content ({type(exc).__name__}: {exc})") from exc


# byte order marks, longest first (UTF-32 LE starts with UTF-16 LE's): a report saved by Windows PowerShell's
# ``>`` or ``Out-File`` is UTF-16 LE with its mark, one saved by Notepad may be UTF-8 with one
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decoded(data: bytes) -> str | None:
    """The text of a file that starts with a byte order mark, else None (the tools write UTF-8 without one)."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    return None if encoding is None else data.decode(encoding, errors="replace")


def _read_text(path: Path) -> str:
    """A report's text: UTF-8 as the tools write it, or as its byte order mark says (a report re-saved on Windows);
    CRLF lines read as LF."""
    data = path.read_bytes()
    text = _decoded(data)
    text = data.decode("utf-8", errors="replace") if text is None else text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _xml_root(path: Path) -> ET.Element:
    """The root of an XML report; one re-saved as UTF-16 is read by its mark, whatever its declaration says
    (PowerShell keeps ``encoding="UTF-8"`` in a file it writes as UTF-16)."""
    data = path.read_bytes()
    text = _decoded(data)
    return ET.fromstring(data if text is None else text)


def _cycles(value: str | None) -> int | None:
    return None if value is None or value.strip() in _UNDEFINED else int(value)


def _count(cell: str) -> int:
    """An HLS resource cell: "497", "497 (~0%)" or "-" (none)."""
    cell = cell.split("(")[0].strip()
    return 0 if cell in ("", "-") else int(cell)


def _ns(cell: str) -> float:
    return float(cell.split()[0])  # "5.00 ns"


# ----------------------------------------------------------------------------------------------- XML

def parse_csynth_xml(path) -> HLSReport:
    """Vivado HLS 2019.x / Vitis HLS 2020.2+ ``csynth.xml`` (``<profile>`` root), top-level summary."""
    path = Path(path)
    with _reading(path):
        root = _xml_root(path)
        if root.tag != "profile":
            raise ReportError(f"XML root is <{root.tag}>, not the <profile> of an HLS csynth.xml")

        def text(xpath: str, required: bool = True) -> str | None:
            element = root.find(xpath)
            if element is None or not (element.text or "").strip():
                if required:
                    raise ReportError(f"csynth.xml has no {xpath}")
                return None
            return element.text.strip()

        version = text("ReportVersion/Version", required=False)
        latency = "PerformanceEstimates/SummaryOfOverallLatency/"
        return HLSReport(
            tool=_xml_tool(root, version),
            version=version,
            part=text("UserAssignments/Part"),
            top=text("UserAssignments/TopModelName"),
            clock_target_ns=float(text("UserAssignments/TargetClockPeriod")),
            clock_estimated_ns=float(text("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod")),
            latency_min_cycles=_cycles(text(latency + "Best-caseLatency")),
            latency_max_cycles=_cycles(text(latency + "Worst-caseLatency")),
            interval_min=_cycles(text(latency + "Interval-min")),
            interval_max=_cycles(text(latency + "Interval-max")),
            resources=_xml_resources(root, "AreaEstimates/Resources"),
            available=_xml_resources(root, "AreaEstimates/AvailableResources"),
            loops=_xml_loops(root.find("PerformanceEstimates/SummaryOfLoopLatency")),
        )


LOOP_FIGURES = ("TripCount", "Latency", "AbsoluteTimeLatency", "IterationLatency", "PipelineII", "PipelineDepth",
                "InstanceList", "Slack", "Name", "PipelineType")  # the last two: in ModuleInformation's loops


def _xml_range(element) -> tuple[int | None, int | None]:
    """A figure as (min, max): ``<X>n</X>`` or ``<X><range><min>a</min><max>b</max></range></X>``."""
    if element is None:
        return None, None
    low, high = element.find("range/min"), element.find("range/max")
    if low is not None:
        return _cycles(low.text), _cycles(high.text if high is not None else low.text)
    value = _cycles(element.text) if (element.text or "").strip() else None
    return value, value


def _xml_loops(summary, parent: str = "") -> list:
    """Every loop under ``summary`` (and inside each loop, its inner loops), in report order."""
    out = []
    for loop in [] if summary is None else list(summary):
        if loop.tag in LOOP_FIGURES:
            continue
        name = f"{parent}/{loop.tag}" if parent else loop.tag
        trip, latency = _xml_range(loop.find("TripCount")), _xml_range(loop.find("Latency"))
        ii, depth = _xml_range(loop.find("PipelineII"))[0], _xml_range(loop.find("PipelineDepth"))[0]
        out.append(LoopReport(name, *trip, *latency, ii, depth))
        out.extend(_xml_loops(loop, name))
    return out


@dataclass
class Instance:
    """One instance of a csynth.xml ``RTLDesignHierarchy``: its name, its module and the instances inside it."""

    name: str
    module: str
    instances: list  # Instance


@dataclass
class ModuleReport:
    """One module of a csynth.xml ``ModuleInformation``: its resources (its instances' included) and loops."""

    name: str
    resources: dict[str, int]
    loops: list  # LoopReport


def parse_csynth_design(path) -> tuple[list | None, list]:
    """The module hierarchy and the per-module figures Vitis HLS writes into its ``csynth.xml``: the
    instances under the top module (``None`` when the report has no ``RTLDesignHierarchy``, as Vivado
    HLS's and every per-module report) and the ``ModuleInformation`` modules (none when it has none)."""
    path = Path(path)
    with _reading(path):
        root = _xml_root(path)
        top = root.find("RTLDesignHierarchy/TopModule")
        modules = [ModuleReport(module.findtext("Name", "").strip(), _xml_resources(module, "AreaEstimates/Resources"),
                                _xml_loops(module.find("PerformanceEstimates/SummaryOfLoopLatency")))
                   for module in root.findall("ModuleInformation/Module")]
        return (None if top is None else _xml_instances(top)), modules


def _xml_instances(parent) -> list:
    return [Instance(inst.findtext("InstName", "").strip(), inst.findtext("ModuleName", "").strip(),
                     _xml_instances(inst)) for inst in parent.findall("InstancesList/Instance")]


def rpt_design(folder, top: str) -> tuple[list | None, dict]:
    """The module hierarchy under ``top`` and each module's resources, from the ``<module>_csynth.rpt``
    text reports in ``folder`` (Vivado HLS writes no ``RTLDesignHierarchy`` into its XML; its text reports
    list each module's instances in the utilization's Instance table). ``(None, {})`` without
    ``<top>_csynth.rpt``."""
    folder = Path(folder)
    resources: dict = {}

    def instances(module: str, seen: tuple) -> list:
        path = folder / f"{module}_csynth.rpt"
        if not path.is_file() or module in seen:
            return []
        with _reading(path):
            lines = _read_text(path).splitlines()
        rows = _instance_rows(lines)
        out = []
        for name, child, figures in rows:
            resources.setdefault(child, figures)
            out.append(Instance(name, child, instances(child, (*seen, module))))
        return out

    if not (folder / f"{top}_csynth.rpt").is_file():
        return None, {}
    return instances(top, ()), resources


def _instance_rows(lines: list[str]) -> list:
    """(instance, module, resources) of the utilization's Instance table (the one with resource columns)."""
    for i, line in enumerate(lines):
        if line.strip() != "* Instance:":
            continue
        border = next((j for j in range(i + 1, min(i + 4, len(lines))) if _is_border(lines[j])), None)
        if border is None:
            continue
        header, body, _ = _table(lines, border)
        names = [_HLS_NAMES.get(c, c) for c in (header[-1] if header else [])]
        if "Module" not in names or "dsp" not in names:
            continue  # the latency section's Instance table
        out = []
        for row in body:
            cells = dict(zip(names, row))
            if cells.get("Instance") and cells.get("Module"):
                out.append((cells["Instance"], cells["Module"],
                            {k: int(cells[k]) if cells.get(k, "").isdigit() else 0 for k in RESOURCE_KEYS}))
        return out
    return []


def _xml_tool(root: ET.Element, version: str | None) -> str | None:
    """Only Vitis HLS writes ``<FlowTarget>``; Vitis HLS did not exist before 2020."""
    if root.find("UserAssignments/FlowTarget") is not None:
        return "vitis_hls"
    if version and version[:4].isdigit() and int(version[:4]) < 2020:
        return "vivado_hls"
    return None


def _xml_resources(root: ET.Element, xpath: str) -> dict[str, int]:
    section = root.find(xpath)
    if section is None:
        raise ReportError(f"csynth.xml has no {xpath}")
    found = {_HLS_NAMES[child.tag]: int(child.text) for child in section if child.tag in _HLS_NAMES}
    found.setdefault("uram", 0)  # reports for devices/tools without URAM omit it
    missing = [key for key in RESOURCE_KEYS if key not in found]
    if missing:
        raise ReportError(f"csynth.xml {xpath} lacks {', '.join(missing)}")
    return {key: found[key] for key in RESOURCE_KEYS}


# ------------------------------------------------------------------------------------- text tables

def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _is_border(line: str) -> bool:
    return line.strip().startswith("+-")


def _table(lines: list[str], start: int) -> tuple[list[list[str]], list[list[str]], int]:
    """The ``+---+`` table whose top border is ``lines[start]``: header rows (above the second
    border), body rows (below it) and the index just past the table."""
    header: list[list[str]] = []
    body: list[list[str]] = []
    borders = 0
    i = start
    while i < len(lines) and lines[i].strip().startswith(("+-", "|")):
        if _is_border(lines[i]):
            borders += 1
        else:
            (header if borders < 2 else body).append(_cells(lines[i]))
        i += 1
    return header, body, i


def _section_table(lines: list[str], pattern: str, what: str) -> tuple[list[list[str]], list[list[str]]]:
    """The first table after the first title line matching ``pattern``."""
    title = next((i for i, line in enumerate(lines) if re.search(pattern, line)), None)
    if title is None:
        raise ReportError(f"no {what} section")
    border = next((i for i in range(title, len(lines)) if _is_border(lines[i])), None)
    if border is None:
        raise ReportError(f"no table under the {what} section")
    header, body, _ = _table(lines, border)
    return header, body


def _first_row(body: list[list[str]], what: str) -> list[str]:
    if not body:
        raise ReportError(f"the {what} table has no rows")
    return body[0]


def _hls_resources(row: dict[str, str], what: str) -> dict[str, int]:
    found = {_HLS_NAMES[name]: _count(cell) for name, cell in row.items() if name in _HLS_NAMES}
    found.setdefault("uram", 0)  # older Vivado HLS reports have no URAM column
    missing = [key for key in RESOURCE_KEYS if key not in found]
    if missing:
        raise ReportError(f"the {what} lacks {', '.join(missing)}")
    return {key: found[key] for key in RESOURCE_KEYS}


# ---------------------------------------------------------------------------------- HLS text report

def parse_csynth_rpt(path) -> HLSReport:
    """HLS text report: the per-module "Vivado HLS Report for" / "Vitis HLS Report for" format, or
    the Vitis 2020.2+ "Synthesis Summary Report" (which gives neither clock periods nor the device
    budget, and a single latency and interval, read as the worst case)."""
    path = Path(path)
    with _reading(path):
        text = _read_text(path)
        title = _HLS_TITLE.search(text)
        if title is None:
            raise ReportError("not an HLS csynth report: no '== Vivado HLS Report for', '== Vitis HLS Report for' "
                              "or '== Synthesis Summary Report of' title")
        lines = text.splitlines()
        version = re.search(r"^\s*\* Version:\s*(\S+)", text, re.M)
        part = re.search(r"^\s*\* Target device:\s*(\S+)", text, re.M)
        if part is None:
            raise ReportError("no '* Target device:' line")
        common = dict(version=version and version.group(1), part=part.group(1))
        if title.group(3):
            return _summary_rpt(lines, top=title.group(3), **common)
        tool = "vivado_hls" if title.group(1) == "Vivado HLS" else "vitis_hls"
        return _module_rpt(lines, tool=tool, top=title.group(2), **common)


def _module_rpt(lines: list[str], **fields) -> HLSReport:
    # Vivado HLS 2019.1 titles these "+ Timing (ns):" / "+ Latency (clock cycles):" with bare "10.00" cells;
    # 2019.2 and later write "+ Timing:" / "+ Latency:" with "10.00 ns"
    header, body = _section_table(lines, r"^\+ Timing(?: \(ns\))?:", "'+ Timing:'")
    clock = dict(zip(header[0], _first_row(body, "Timing")))

    header, body = _section_table(lines, r"^\+ Latency(?: \(clock cycles\))?:", "'+ Latency:'")
    sub = header[-1]  # "min | max | min | max | ... | Type": latency (cycles) first, interval last
    pairs = [i for i in range(len(sub) - 1) if sub[i] == "min" and sub[i + 1] == "max"]
    if len(pairs) < 2:
        raise ReportError("the Latency summary table has no latency and interval min/max columns")
    row = _first_row(body, "Latency summary")

    header, body = _section_table(lines, r"^== Utilization Estimates", "'== Utilization Estimates'")
    rows = {cells[0]: dict(zip(header[0], cells)) for cells in body}
    for needed in ("Total", "Available"):
        if needed not in rows:
            raise ReportError(f"the Utilization Estimates summary has no '{needed}' row")
    return HLSReport(
        **fields,
        clock_target_ns=_ns(clock["Target"]),
        clock_estimated_ns=_ns(clock["Estimated"]),
        latency_min_cycles=_cycles(row[pairs[0]]),
        latency_max_cycles=_cycles(row[pairs[0] + 1]),
        interval_min=_cycles(row[pairs[-1]]),
        interval_max=_cycles(row[pairs[-1] + 1]),
        resources=_hls_resources(rows["Total"], "Utilization Estimates 'Total' row"),
        available=_hls_resources(rows["Available"], "Utilization Estimates 'Available' row"),
    )


def _summary_rpt(lines: list[str], **fields) -> HLSReport:
    header, body = _section_table(lines, r"^\+ Performance & Resource Estimates",
                                  "'+ Performance & Resource Estimates'")
    # column titles wrap over two header lines: "Latency" / "(cycles)"
    columns = [" ".join(" ".join(parts).split()) for parts in zip(*header)]
    top = dict(zip(columns, _first_row(body, "Performance & Resource Estimates")))
    for needed in ("Latency (cycles)", "Interval"):
        if needed not in top:
            raise ReportError(f"the Performance & Resource Estimates table has no '{needed}' column")
    return HLSReport(
        tool="vitis_hls",  # only Vitis HLS writes this format
        **fields,
        clock_target_ns=None,
        clock_estimated_ns=None,
        latency_min_cycles=None,
        latency_max_cycles=_cycles(top["Latency (cycles)"]),
        interval_min=None,
        interval_max=_cycles(top["Interval"]),
        resources=_hls_resources(top, "top module row"),
        available=None,
    )


# ------------------------------------------------------------------------- Vivado report_utilization

def parse_vivado_utilization(path) -> UtilizationReport:
    """Vivado ``report_utilization`` text, 7-series ("Slice LUTs") or UltraScale(+) ("CLB LUTs")."""
    path = Path(path)
    with _reading(path):
        text = _read_text(path)
        if not _UTILIZATION_COMMAND.search(text):
            raise ReportError("not a Vivado report_utilization report: no '| Command : report_utilization' line")
        device = re.search(r"^\|\s*Device\s*:\s*(\S+)", text, re.M)
        if device is None:
            raise ReportError("no '| Device :' header line")
        version = re.search(r"^\|\s*Tool Version\s*:\s*Vivado v\.?(\S+)", text, re.M)
        design = re.search(r"^\|\s*Design\s*:\s*(\S+)", text, re.M)
        sites = _site_rows(text.splitlines())

        def site(key: str) -> tuple[str, str]:
            for name in _SITE_ROWS[key]:
                if name in sites:
                    return sites[name]
            raise ReportError(f"no '{' / '.join(_SITE_ROWS[key])}' row in the utilization tables")

        used = {key: site(key)[0] for key in _SITE_ROWS}
        avail = {key: int(site(key)[1]) for key in ("lut", "lutram", "ff", "ramb18", "dsp")}
        uram_used, uram_avail = sites.get("URAM", ("0", "0"))  # devices without URAM have no such row
        return UtilizationReport(
            tool_version=version and version.group(1),
            part=device.group(1),
            design=design and design.group(1),
            lut=int(used["lut"]),
            lut_logic=int(used["lut_logic"]),
            lutram=int(used["lutram"]),
            lutram_ram=int(sites.get("LUT as Distributed RAM", ("0",))[0]),
            ff=int(used["ff"]),
            bram_tile=float(used["bram_tile"]),
            bram18=int(used["ramb18"]) + 2 * int(used["ramb36"]),
            dsp=int(used["dsp"]),
            uram=int(uram_used),
            available={"lut": avail["lut"], "lutram": avail["lutram"], "ff": avail["ff"],
                       "bram18": avail["ramb18"], "dsp": avail["dsp"], "uram": int(uram_avail)},
        )


def _site_rows(lines: list[str]) -> dict[str, tuple[str, str]]:
    """(Used, Available) of every "Site Type" row of the device-wide tables, first occurrence wins
    (the per-SLR tables repeat the names with other columns and are skipped)."""
    rows: dict[str, tuple[str, str]] = {}
    i = 0
    while i < len(lines):
        if not _is_border(lines[i]):
            i += 1
            continue
        header, body, i = _table(lines, i)
        columns = header[0] if header else []
        if columns[:1] != ["Site Type"] or "Used" not in columns or "Available" not in columns:
            continue
        for cells in body:
            row = dict(zip(columns, cells))
            rows.setdefault(row["Site Type"].rstrip("*").strip(), (row["Used"], row["Available"]))
    return rows


# ------------------------------------------------------------------------------- Vivado report_power

def _watts(cell: str) -> float | None:
    return None if cell.startswith("<") else float(cell)


def _power_section(lines: list[str], title: str, required: bool = True) -> tuple[list, list, list]:
    """The table under the section title ``title`` (the title line underlined with dashes, not its
    entry in the table of contents): header rows, body rows and the body's lines as written."""
    at = next((i for i in range(len(lines) - 1)
               if lines[i].strip() == title and lines[i + 1].startswith("---")), None)
    border = None if at is None else next((i for i in range(at + 2, len(lines)) if lines[i].strip()), None)
    if border is None or not _is_border(lines[border]):
        if required:
            raise ReportError(f"no table under the '{title}' section")
        return [], [], []
    header, body, end = _table(lines, border)
    written = [line for line in lines[border:end] if not _is_border(line)][len(header):]
    return header, body, written


def parse_vivado_power(path) -> PowerReport:
    """Vivado ``report_power`` text (7-series, any version from 2018 on that was read here)."""
    path = Path(path)
    with _reading(path):
        text = _read_text(path)
        if not _POWER_TITLE.search(text):
            raise ReportError("not a Vivado report_power report: no 'Power Report' title")
        head = {m.group(1).strip(): m.group(2).strip()
                for m in re.finditer(r"^\|\s*([A-Za-z ]+?)\s*:\s*(.*?)\s*$", text.split("Power Report")[0], re.M)}
        if "Device" not in head:
            raise ReportError("no '| Device :' header line")
        lines = text.splitlines()
        summary = sum(_power_section(lines, "1. Summary")[:2], [])  # a table of rows between two borders
        values = {row[0]: row[1] for row in summary if len(row) >= 2}
        for key in ("Total On-Chip Power (W)", "Dynamic (W)", "Device Static (W)"):
            if key not in values:
                raise ReportError(f"no '{key}' row in the summary")
        header, body, written = _power_section(lines, "1.1 On-Chip Components")
        columns = header[0] if header else []
        if columns[:3] != ["On-Chip", "Power (W)", "Used"]:
            raise ReportError(f"the On-Chip Components table has columns {columns}, not On-Chip, Power (W), Used")
        components = [PowerComponent(cells[0], _watts(cells[1]), float(cells[2]) if cells[2] else None,
                                     1 if line.startswith("|   ") else 0)  # a part of the row above is indented
                      for cells, line in zip(body, written) if cells[0] not in ("Static Power", "Total")]
        _, clock_rows, _ = _power_section(lines, "2.2 Clock Constraints", required=False)
        clocks = {row[0]: float(row[2]) for row in clock_rows if len(row) >= 3 and row[2]}
        junction = values.get("Junction Temperature (C)")
        activity = values.get("Simulation Activity File")
        return PowerReport(
            tool_version=(head.get("Tool Version") or "").removeprefix("Vivado v.").split()[0] or None,
            part=head["Device"], design=head.get("Design"), state=head.get("Design State"),
            total_w=float(values["Total On-Chip Power (W)"]), dynamic_w=float(values["Dynamic (W)"]),
            static_w=float(values["Device Static (W)"]),
            junction_c=float(junction) if junction and junction != "NA" else None,
            activity_file=None if activity in (None, "---") else activity,
            components=components, clocks=clocks)


# --------------------------------------------------------------------------------------- detection

def detect_and_parse(path) -> HLSReport | UtilizationReport | PowerReport:
    """Parse ``path`` with the parser its content calls for (XML root or report title)."""
    path = Path(path)
    text = _read_text(path)
    if text.lstrip().startswith("<"):
        return parse_csynth_xml(path)
    if _HLS_TITLE.search(text):
        return parse_csynth_rpt(path)
    if _UTILIZATION_COMMAND.search(text):
        return parse_vivado_utilization(path)
    if _POWER_TITLE.search(text):
        return parse_vivado_power(path)
    encoding = (" (it holds NUL bytes: UTF-16 or UTF-32 text without a byte order mark? save it as UTF-8)"
                if "\x00" in text else "")
    raise ReportError(f"{path}: not an HLS csynth.xml, an HLS csynth.rpt, a Vivado report_utilization or a "
                      f"report_power report{encoding}")


def of_design(report, top: str, ip_name: str) -> bool:
    """``report`` is of the design whose HLS top function is ``top`` and whose exported IP is ``ip_name``:
    an HLS report's top is that function or a module the tool named after it (``<top>_...``); a Vivado
    report's design may also be named after the IP (``<ip_name>_0``, what export's scripts synthesise, or a
    system around it). An HLS report whose top only starts with ``ip_name`` is another design's (hls4ml's
    ``myproject_axi`` beside ``export.ip_name: myproject``): the HLS top of this design is always ``top``.
    A Vivado report that names no design is not judged. Calibrate and verify judge reports by this rule."""
    if isinstance(report, HLSReport):
        return report.top == top or report.top.startswith(f"{top}_")
    name = report.design
    return name is None or name == top or name.startswith((f"{top}_", ip_name))


def ip_name_only(report, top: str, ip_name: str) -> str:
    """Why an HLS report whose top starts with ``ip_name`` is not of the design (``of_design``), or ''."""
    if not (isinstance(report, HLSReport) and report.top.startswith(ip_name)) or of_design(report, top, ip_name):
        return ""
    return (f"; its top starts with export.ip_name ({ip_name}), but the HLS top of this design is always {top}: "
            f"the IP name is Vivado's only (hls4ml names its top after its project, 'myproject' by default)")
