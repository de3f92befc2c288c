"""What an export writes and where (names shared by the scripts and the block design), the filling of the
repository's ``vivado_scripts/`` templates, and the error a user's export mistake raises."""
from __future__ import annotations

import string
from importlib.resources import files
from pathlib import Path

from ..errors import ConfigError
from ..hls.files import PROJECT, TB_FILE

TEMPLATES = Path(str(files("flow.vivado_scripts")))

# what `tsflow build` writes; the function synthesised is SOURCE's core or its interface wrapper
# (flow/hls/interface.py, hls.interface)
SOURCE, TESTBENCH = PROJECT, TB_FILE

# what the scripts write, relative to the build folder they run in
SCRIPTS = "vivado_scripts"
HLS_SCRIPT = "tsflow_hls.tcl"
VIVADO_SCRIPT = "tsflow_vivado.tcl"
XDC = "tsflow_clock.xdc"
HOWTO = "HOWTO.md"
HLS_PROJECT = "hls_prj"
SOLUTION = "solution1"
IP_REPO = f"{HLS_PROJECT}/{SOLUTION}/impl/ip"
IP_DIR = "vivado_ip"
REPORTS = "reports"
LOGS = "logs"
SYNTHESIS_JSON = "synthesis.json"
CALIBRATION_JSON = "calibration.json"

CSYNTH_XML = f"{REPORTS}/csynth.xml"
MODULE_REPORTS = f"{REPORTS}/modules"  # the csynth.xml of every module of the design
POWER_RPT = f"{REPORTS}/vivado_power.rpt"
TAIL_LINES = 30


class ExportError(ConfigError):
    """A refusal of the export (not a build folder, scripts edited, tools missing, a tool step failed): a
    ``ConfigError``, so an API caller catches every refusal as one; ``str()`` is the message."""


class _TclTemplate(string.Template):
    """Placeholders are ``@{name}`` (Tcl owns ``$``); any other ``@`` is text."""

    pattern = r"""@(?:(?P<escaped>@(?=\{))|\{(?P<braced>[a-z_][a-z0-9_]*)\}|(?P<named>(?!))|(?P<invalid>\{))"""


def tcl_quote(value: str) -> str:
    """One Tcl word holding ``value`` exactly (double-quoted, with Tcl's substitutions escaped)."""
    escaped = "".join("\\" + c if c in '\\"$[]{}' else c for c in str(value))
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def vlnv(cfg) -> str:
    e = cfg.export
    return f"{e.vendor}:{e.library}:{e.ip_name}:{e.version}"


def fill_template(template: str, **values) -> str:
    text = (TEMPLATES / template).read_text()
    try:
        return _TclTemplate(text).substitute({k: str(v) for k, v in values.items()})
    except (KeyError, ValueError) as exc:  # a placeholder without a value: a bug in this module
        raise RuntimeError(f"template {TEMPLATES / template}: {exc!r}") from exc
