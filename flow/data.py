"""Real time-series data: loading, chronological split, scaling fitted on train, windowing.

Windows are cut inside each split, so no window of one split holds a row of another.  The scaler
sees training rows only.

What the run goes on with but the user should know (rows no split uses, gaps in the time stamps that windows
span, rows filled in, a feature that never changes) is told once per run: through ``load_dataset``'s ``note``
as ``warning: ...`` when a caller passes one, else as a ``DataWarning`` (Python's ``warnings``, which a
command prints on stderr); ``Dataset.warnings`` keeps the texts.
"""
from __future__ import annotations

import csv
import itertools
import json
import os
import re
import sys
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ConfigError


class DataWarning(Warning):
    """Something about the data the run goes on with (its text says what it costs and how to change it): tsflow's
    own message, so not a ``UserWarning`` or ``RuntimeWarning``, the categories of the libraries' stray warnings
    (tests/test_properties.py keeps those off a run's output); Python's default filters show it."""


@dataclass
class Scaler:
    """Per-column affine map fitted on training rows: scaled = (x - offset) / scale.

    ``change_scale`` (``data.inputs: differences``): what each scaled column's step-to-step change is
    divided by (the function ``change_scale`` below says which).
    """

    offset: np.ndarray
    scale: np.ndarray
    change_scale: np.ndarray | None = None

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.offset) / self.scale

    def inverse_column(self, v: np.ndarray, col: int) -> np.ndarray:
        return v * self.scale[col] + self.offset[col]

    def to_dict(self) -> dict:
        d = {"offset": self.offset.tolist(), "scale": self.scale.tolist()}
        if self.change_scale is not None:
            d["change_scale"] = self.change_scale.tolist()
        return d


@dataclass
class Split:
    x: np.ndarray  # (n, window, features) scaled float64
    y: np.ndarray  # scaled target: (n,) for one forecast step, (n, steps) for data.steps > 1
    last: np.ndarray  # (n,) scaled target at the last step of the window (persistence forecast)


@dataclass
class Dataset:
    name: str
    features: list[str]  # the model's input channels
    target: str
    target_index: int  # the input channel holding the target's level (persistence, the delta head)
    scaler: Scaler
    train: Split
    val: Split
    test: Split
    rows: dict
    target_column: int  # the target's column in the scaler
    warnings: list = field(default_factory=list)  # what load_dataset told (rows unused, gaps, ...)

    def denormalise(self, v: np.ndarray) -> np.ndarray:
        return self.scaler.inverse_column(np.asarray(v, dtype=np.float64), self.target_column)


def load_frame(data_cfg, tell=None) -> tuple[pd.DataFrame, str]:
    """The raw table (rows in time order) and a name for it; a column named in the config in another Unicode form
    is renamed as the config writes it (``tell``, if given, is told so)."""
    if data_cfg.source == "builtin":
        from vega_datasets import local_data  # ships inside the package: no network

        frame = getattr(local_data, data_cfg.dataset.replace("-", "_"))()
        return frame, data_cfg.dataset
    path = Path(data_cfg.path)  # absolute: flow.config resolved it
    if path.is_dir():
        raise ConfigError(f"invalid configuration: {data_cfg.path_origin()}: a folder, not a CSV file")
    if path.exists() and not path.is_file():
        raise ConfigError(f"invalid configuration: {data_cfg.path_origin()}: not a regular file (a device, a pipe or "
                          f"a socket); give the CSV file")
    if not path.is_file():
        raise ConfigError(f"invalid configuration: {data_cfg.path_origin()}: file not found{_not_found_hint(data_cfg)}")
    _refuse_other_formats(path)
    _refuse_nul(path, data_cfg)
    _check_first_lines(path)
    _refuse_preamble(path)
    first = _first_record(path)
    if first is not None and _looks_like_data(first):
        shown = _shown(",".join(first[:6]) + (",..." if len(first) > 6 else ""))
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: the first row ({shown}) looks like "
                          f"data, not a header; the CSV needs a header row naming the columns: add one as its first "
                          f"line (for example date,load,temp) and use those names in data.date_column, "
                          f"data.features and data.target")
    if first is not None:
        _check_one_field_lines(path, first)
        _check_header(path, first)
        _refuse_extra_fields(path, first, whole=False)
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: the file is empty; the CSV needs a "
                          f"header row naming the columns, then one row per time step") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}, line {line}: not UTF-8 text (byte "
                          f"{exc.object[exc.start:exc.start + 1]!r}; a Latin-1 or Windows code page file?): save the "
                          f"CSV as UTF-8") from None
    except Exception as exc:  # a user file: report, do not trace back
        if isinstance(exc, pd.errors.ParserError) and first is not None:
            _refuse_extra_fields(path, first, whole=True)
        reason = _shown(" ".join(str(exc).split()))  # pandas' parser errors end in a newline
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: cannot read CSV ({reason})") from None
    if frame.empty:
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: no data rows below the header "
                          f"({_shown(','.join(map(str, frame.columns)))}); the CSV needs one row per time step")
    return _same_names(frame, data_cfg, tell or (lambda text: None)), path.stem


def _not_found_hint(data_cfg) -> str:
    """What explains a data.path not found, if a slip in writing it does: '~name' at its start with no user 'name'
    (so it was read as a folder named so), or a name in it with whitespace at an end (a quoting slip), named with
    the path without that whitespace when that one exists."""
    given = data_cfg._path_given or data_cfg.path  # the path as written (flow.config keeps it for messages)
    if given.startswith("~"):
        user = given[1:].split("/", 1)[0]
        if user and os.path.expanduser(f"~{user}") == f"~{user}":
            return (f"; it starts with ~{user}, but there is no user {user!r} whose home folder that would be, so it "
                    f"was read as a folder named {'~' + user!r}: give the path without ~{user} (~/ for your own "
                    f"home folder)")
    parts = given.split("/")
    odd = next((p for p in parts if p != p.strip()), None)
    if odd is None:
        return ""
    end = "ends" if odd != odd.rstrip() else "starts"
    space = odd[len(odd.rstrip()):] if end == "ends" else odd[:len(odd) - len(odd.lstrip())]
    what = "a space" if space == " " else "spaces" if set(space) == {" "} else f"whitespace ({space!r})"
    fixed = "/".join(p.strip() for p in parts)
    exists = Path(*(p.strip() for p in Path(data_cfg.path).parts)).resolve().is_file()
    there = f", and {fixed!r} exists" if exists else ""
    return f"; the name {odd!r} {end} with {what} (a quoting slip?){there}: write the path as {fixed!r}"


# the first bytes of files that are not CSV text: compressed files and archives, spreadsheets, columnar formats
_MAGIC = [(b"\x1f\x8b", "gzip-compressed", "gunzip it (gunzip -k {name})"),
          (b"BZh", "bzip2-compressed", "decompress it (bunzip2 -k {name})"),
          (b"\xfd7zXZ\x00", "xz-compressed", "decompress it (unxz -k {name})"),
          (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it (unzstd {name})"),
          (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the CSV from it"),
          (b"Rar!\x1a\x07", "a RAR archive", "extract the CSV from it"),
          (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel workbook (.xls)", "save the sheet as CSV (CSV UTF-8)"),
          (b"PAR1", "a Parquet file", "write it as CSV (pandas: pd.read_parquet(path).to_csv('data.csv', "
                                      "index=False))")]


# the first line of an HTML or XML file: <!DOCTYPE html>, <?xml ...?>, <html lang="en">, <table><tr>
_MARKUP = re.compile(r"<[!?]|<[A-Za-z][\w:.-]*(\s[^>]*)?/?>\s*(<|$)")


def _refuse_other_formats(path: Path) -> None:
    """Refuse a file that is not CSV text, saying what it is instead of what pandas would make of it (a zip
    archive's bytes as a header, a JSON file's keys as column names): archives and compressed files (tsflow reads
    plain CSV text only, no archive, nor gzip), spreadsheets, JSON, HTML or XML; and a DOS end-of-file mark
    (Ctrl-Z, 0x1A) after the last row, which pandas would read as a row of one cell."""
    source = f"data.path = {str(path)!r}"
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4096)
        f.seek(max(0, size - 4096))
        tail = f.read()
    if head[:2] == b"PK" and head[2:4] in (b"\x03\x04", b"\x05\x06", b"\x07\x08"):
        try:
            with zipfile.ZipFile(path) as z:
                members = [m for m in z.namelist() if not m.endswith("/")]
        except (zipfile.BadZipFile, OSError, ValueError):
            members = []
        if any(m.startswith("xl/") for m in members):
            raise ConfigError(f"invalid configuration: {source}: an Excel workbook (.xlsx), not a CSV file; tsflow "
                              f"reads CSV text only: save the sheet as CSV (CSV UTF-8) and set data.path to that file")
        if "content.xml" in members and "mimetype" in members:
            raise ConfigError(f"invalid configuration: {source}: an OpenDocument spreadsheet (.ods), not a CSV file; "
                              f"tsflow reads CSV text only: save the sheet as CSV and set data.path to that file")
        shown = ", ".join(members[:5]) + (", ..." if len(members) > 5 else "")
        holding = (f" (holding {_plural(len(members), 'file')}: {_shown(shown)})" if len(members) > 1
                   else f" (holding {_shown(members[0])})" if members else "")
        which = "the CSV" if len(members) <= 1 else "the one CSV to read"
        raise ConfigError(f"invalid configuration: {source}: a zip archive{holding}, not a CSV file; tsflow reads "
                          f"plain CSV text, not archives (nor gzip or other compressed files): unzip it (unzip "
                          f"{path.name}) and set data.path to {which}")
    for magic, what, fix in _MAGIC:
        if head.startswith(magic) and (magic != b"BZh" or head[4:10] == b"1AY&SY") and \
                (magic != b"PAR1" or tail.endswith(magic)):  # a Parquet file ends as it starts
            raise ConfigError(f"invalid configuration: {source}: {what}, not a CSV file; tsflow reads plain CSV "
                              f"text only (no archive or compressed file): {fix.format(name=path.name)} and set "
                              f"data.path to the CSV")
    start = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    start = start.lstrip()
    if start[:1] in (b"{", b"[", b"<"):
        first = start.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
        shown = _shown(first[:60]) + ("..." if len(first) > 60 else "")
        line = head[:len(head) - len(start)].count(b"\n") + 1
        if _MARKUP.match(first):
            raise ConfigError(f"invalid configuration: {source}: not a CSV file: line {line} starts with {shown!r}, "
                              f"HTML or XML (a web page saved in place of the file?); data.source: csv reads "
                              f"comma-separated text with a header row: download or export the data as CSV")
        if _is_json(path):
            raise ConfigError(f"invalid configuration: {source}: not a CSV file: it is JSON (line {line} starts with "
                              f"{shown!r}); data.source: csv reads comma-separated text with a header row: export "
                              f"the data as CSV (pandas: pd.read_json(path).to_csv('data.csv', index=False))")
    end = tail.rstrip(b" \t\r\n")
    if end.endswith(b"\x1a"):
        data = path.read_bytes()
        at = len(data) - len(tail) + len(end) - 1  # the last Ctrl-Z
        at = len(data[:at + 1].rstrip(b"\x1a"))  # the first of a run of them
        line = data.count(b"\n", 0, at) + 1
        if b"\x1a" not in data[:at]:
            last = "the file's last byte" if at == len(data) - 1 else "the end of the file"
            raise ConfigError(f"invalid configuration: {source}, line {line}: a Ctrl-Z byte (0x1A, the DOS "
                              f"end-of-file mark) after the last row; tsflow reads no end-of-file mark (pandas would "
                              f"take it for a row): remove it ({last})")


def _is_json(path: Path) -> bool:
    """Whether the file is JSON, or JSON Lines (one JSON object or array a line)."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        json.loads(text)
        return True
    except ValueError:
        pass
    first = next((t for t in text.splitlines() if t.strip()), "")
    try:
        return isinstance(json.loads(first), (dict, list))
    except ValueError:
        return False


def _refuse_nul(path: Path, data_cfg) -> None:
    """Refuse a file with a NUL byte, naming its line, column and cell: pandas ends a cell at a NUL, so '1\\x007'
    would silently be read as 1. A file of NULs every other byte is UTF-16, named as such."""
    data = path.read_bytes()
    at = data.find(b"\0")
    if at < 0:
        return
    source = f"data.path = {str(path)!r}"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data.count(b"\0") > len(data) // 4:
        raise ConfigError(f"invalid configuration: {source}: the file is encoded in UTF-16 (as Excel's 'Unicode Text' "
                          f"saves it), not UTF-8: save it as 'CSV UTF-8' (or convert it: iconv -f UTF-16 -t UTF-8)")
    start, line = data.rfind(b"\n", 0, at) + 1, data.count(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    text = data[start:end if end >= 0 else len(data)].decode("utf-8", errors="replace").rstrip("\r")
    try:
        cells = next(csv.reader([text]), [])
    except csv.Error:  # a carriage return inside the line, say
        cells = []
    column = next((k for k, c in enumerate(cells) if "\0" in c), None)
    header = _first_record(path) or []
    where, cell = f"line {line}", text
    if column is not None:
        cell = cells[column]
        name = header[column] if column < len(header) and line > 1 else None
        where += f", column {name!r}{_key(data_cfg, name)}" if name is not None else f", column {column + 1}"
    more = data.count(b"\0") - max(1, cell.count("\0"))
    others = f" ({_plural(more, 'other NUL byte')} elsewhere in the file)" if more else ""
    raise ConfigError(f"invalid configuration: {source}, {where}: {_cell(cell)} {_control(cell)}{others}")


def _key(data_cfg, column) -> str:
    """' (data.date_column)', ' (data.target)' or ' (data.features)': the key that names ``column``, if one does
    (the features are all numeric columns when data.features is not given)."""
    if column is None:
        return ""
    if column == data_cfg.date_column:
        return " (data.date_column)"
    if column == data_cfg.target:
        return " (data.target)"
    return " (data.features)" if column in (data_cfg.features or [column]) else ""


# Excel's first line naming the separator (``sep=,``, ``sep=;``), which Excel writes and reads but no CSV reader does
_EXCEL_SEP = re.compile(r'\s*"?sep=(.)"?\s*', re.IGNORECASE)


def _check_first_lines(path: Path) -> None:
    """Refuse what stands above the header: Excel's ``sep=,`` line, or comment lines (``# exported by ...``)
    that pandas would take for the header, so that the columns would be missing or misnamed."""
    lines = []  # (line number, text) of the first lines, up to the first that is neither blank nor a comment
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        for number, text in enumerate(f, start=1):
            text = text.rstrip("\r\n")
            lines.append((number, text))
            if text.strip() and not text.lstrip().startswith("#") or number >= 1000:
                break
    source = f"data.path = {str(path)!r}"
    if lines and _EXCEL_SEP.fullmatch(lines[0][1]):
        sep = _EXCEL_SEP.fullmatch(lines[0][1]).group(1)
        other = "" if sep == "," else (f"; that line also says the columns are separated by {sep!r}, and tsflow reads "
                                       f"commas only: save the file as comma-separated CSV")
        raise ConfigError(f"invalid configuration: {source}: line 1 ({lines[0][1]!r}) is Excel's separator "
                          f"line (it tells Excel which character separates the columns), not the header; the header "
                          f"(the column names) is expected on line 1: delete line 1{other}")
    comments = [(n, t) for n, t in lines if t.lstrip().startswith("#")]
    if not comments:
        return
    after = next((t for n, t in lines if n > comments[-1][0] and t.strip()), "")
    after_cells = next(csv.reader([after])) if after else []
    last_n, last = comments[-1]
    # the last '#' line is the header when a row of data follows it, cell for cell: '#,date,temp' or '#id,...' name
    # a column '#' or '#id' (read as written), '# date,temp,load' is numpy.savetxt's header (comments='# ')
    is_header = _looks_like_data(after_cells) and len(next(csv.reader([last]))) == len(after_cells)
    others = comments[:-1] if is_header else comments
    if others:
        n, text = others[0]
        numbers = [c[0] for c in others]
        span = f"{numbers[0]} to {numbers[-1]}" if numbers[-1] - numbers[0] == len(numbers) - 1 else \
            ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
        which = f"line {n} ({_cell(text)}) looks like a comment" if len(others) == 1 else \
            f"lines {span} look like comments (they start with '#'; the first: {_cell(text)})"
        those = "that line" if len(others) == 1 else "those lines"
        raise ConfigError(f"invalid configuration: {source}: {which}; the header (the column names) is expected on "
                          f"line 1 and tsflow reads no comment lines: remove {those}, so that the header is line 1")
    if last.lstrip().startswith("# "):
        raise ConfigError(f"invalid configuration: {source}: line {last_n} ({_cell(last)}) looks like the header "
                          f"written as a comment (numpy.savetxt(..., header=...) writes it so), and pandas would name "
                          f"its first column {next(csv.reader([last.strip()]))[0]!r}; the header is expected on line 1 "
                          f"without '#': remove the '#' at the start of line {last_n} (numpy.savetxt(..., "
                          f"comments=''))")


PREAMBLE_LINES = 20  # how far down a header below a logger's preamble is looked for


def _refuse_preamble(path: Path) -> None:
    """Refuse lines above the header that are no comment (a logger's ``Station: TX-7``, ``Exported: ...``): pandas
    would take the first of them for the header, and the messages further on would blame decimal commas or a
    missing column. The header is a later line of names only whose field count the data lines below it have while
    the first line's differs."""
    try:
        records = list(itertools.islice(_records(path), PREAMBLE_LINES + 3))
    except csv.Error:
        return
    for at, (line, cells) in enumerate(records[1:PREAMBLE_LINES + 1], start=1):
        below = [c for _, c in records[at + 1:at + 4]]
        if (len(cells) < 2 or len(cells) == len(records[0][1]) or any(_is_number(c) for c in cells) or not below
                or not all(len(c) == len(cells) and _looks_like_data(c) for c in below)):
            continue
        before = [n for n, _ in records[:at]]
        lines = f"line {before[0]} comes" if len(before) == 1 else f"lines {before[0]}-{before[-1]} come"
        shown = _shown(",".join(cells[:6]) + (",..." if len(cells) > 6 else ""))
        first = records[0][1]
        raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: {lines} before the header (line "
                          f"{line}: {shown}), as a logger's preamble: line {before[0]} ({_cell(','.join(first))}) "
                          f"has {_plural(len(first), 'field')}, where the header and the data lines below it have "
                          f"{len(cells)}; the header is expected on line 1: remove "
                          f"{'it' if len(before) == 1 else 'them'} (pandas: pd.read_csv(path, skiprows={line - 1})"
                          f".to_csv('data.csv', index=False))")


def _check_one_field_lines(path: Path, header: list[str]) -> None:
    """Refuse a header that reads as one field: split by ';', tabs or '|' instead of commas (with decimal commas,
    a European-locale export, the commas then split the data lines where the header is not split at all), or
    wrapped as a whole in double quotes, so that its commas separate nothing; the messages further on would
    blame a missing column or the quoting of single cells."""
    if len(header) != 1:
        return
    source = f"data.path = {str(path)!r}"
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        lines = [t.rstrip("\r\n") for t in (next(f, "") for _ in range(50))]
    lines = [t for t in lines if t.strip()]
    name = header[0]
    seps = {sep: name.count(sep) for sep in ";\t|" if sep in name}
    if seps and "," not in name:
        sep = max(seps, key=seps.get)
        rows = lines[1:]
        if rows and all(sep in t for t in rows):
            said = {";": "';'", "\t": "tabs", "|": "'|'"}[sep]
            decimal = any(_DECIMAL_COMMA.fullmatch(c) for t in rows for c in t.split(sep))
            what = f"{said}-separated" + (" with decimal commas (a European-locale export)" if decimal else "")
            fix = ("save it as comma-separated with decimal points (pandas: pd.read_csv(path, sep=';', "
                   "decimal=',').to_csv('data.csv', index=False))" if decimal else
                   f"save it as comma-separated (pandas: pd.read_csv(path, sep={sep!r}).to_csv('data.csv', "
                   f"index=False))")
            count = f"{_plural(seps[sep], 'tab')}" if sep == "\t" else f"{seps[sep]} {said}"
            raise ConfigError(f"invalid configuration: {source}: the header (line 1: {_cell(lines[0])}) holds no "
                              f"comma but {count}, and every line below it holds {said} too: the file is {what}, and tsflow "
                              f"reads comma-separated CSV only: {fix}")
    if "," in name and lines[0].lstrip().startswith('"'):
        wrapped = sum(1 for t in lines[1:] if t.strip().startswith('"') and t.strip().endswith('"'))
        every = ("every line of the file is wrapped in one pair of double quotes, so each reads as one field"
                 if lines[1:] and wrapped == len(lines) - 1 else "the header line is wrapped in double quotes, so "
                 "it names one column")
        raise ConfigError(f"invalid configuration: {source}: the header (line 1) is one quoted field holding commas "
                          f"({_cell(lines[0])}): {every} (one column whose name holds the commas); remove the outer "
                          f"quotes of {'every line' if 'every' in every else 'the header'}")


def _check_header(path: Path, header: list[str]) -> None:
    """Refuse a header with a column without a name or a name given twice: pandas would name the first
    'Unnamed: N' and rename the second 'name.1', and either would silently become a model input."""
    for at, name in enumerate(header):
        if name.strip():
            continue
        cells = [cells[at] if at < len(cells) else "" for _, cells in _records(path)][1:]
        where = f"data.path = {str(path)!r}: column {at + 1} of the header ({_shown(','.join(header[:6]))}" \
                f"{',...' if len(header) > 6 else ''}) has no name"
        if not any(c.strip() for c in cells):
            raise ConfigError(f"invalid configuration: {where} and no values: an unnamed empty column, as when every "
                              f"line ends with a comma (trailing commas); remove the trailing commas from the lines")
        if at == 0:
            raise ConfigError(f"invalid configuration: {where}: it looks like a row index, as pandas to_csv writes "
                              f"without index=False, and would be read as a column of data; remove that first column "
                              f"(save with to_csv(..., index=False)), or name it in the header")
        raise ConfigError(f"invalid configuration: {where}; every column needs a name in the header: name it, or "
                          f"remove the column")
    seen: dict = {}
    for at, name in enumerate(header):
        if name in seen:
            raise ConfigError(f"invalid configuration: data.path = {str(path)!r}: the header names column {name!r} "
                              f"twice, columns {seen[name] + 1} and {at + 1}; each column needs its own name (pandas "
                              f"would rename the second {_shown(name)}.1 and use both): rename or remove one of them")
        seen[name] = at


def _refuse_extra_fields(path: Path, header: list[str], whole: bool) -> None:
    """Refuse data lines with more fields than the header names columns, as a trailing comma on every data line
    makes: pandas would take the first column of such a file for row labels and shift each name one column (so
    the last column reads the empty fields, and a number is called missing), or stop at such a line in the middle
    with its own words. Unless ``whole``, the lines are read only when the first data line is such a line."""
    longer, rows = [], 0
    try:
        records = _records(path)
        header_line = next(records)[0]
        for line, cells in records:
            rows += 1
            if len(cells) > len(header):
                longer.append((line, cells))
            elif rows == 1 and not whole:
                return
    except (csv.Error, StopIteration):
        return
    if not longer:
        return
    line, cells = longer[0]
    extra = cells[len(header):]
    shown = _shown(",".join(header[:6])) + (",..." if len(header) > 6 else "")
    count = ("it is the only such line" if len(longer) == 1 else
             f"{'all ' if len(longer) == rows else ''}{len(longer):,}"
             f"{'' if len(longer) == rows else f' of the {rows:,}'} data lines have more fields than the header")
    start = (f"invalid configuration: data.path = {str(path)!r}: cannot read CSV: line {line} has {len(cells)} "
             f"fields, but the header (line {header_line}: {shown}) names {len(header)} columns")
    if not any(c.strip() for c in extra):
        commas = "a comma" if len(extra) == 1 else f"{len(extra)} commas"
        raise ConfigError(f"{start}: the line ends with {commas} (a trailing comma) that the header does not, so "
                          f"no column is there for the empty last field; {count}: remove the trailing commas from "
                          f"the data lines")
    raise ConfigError(f"{start}: {_cell(','.join(extra))} stands beyond the last column: a cell holding a comma "
                      f"outside quotes (a decimal comma, as in 2,5?) splits in two, or the header misses the name "
                      f"of a column; {count}: put such cells in double quotes (\"2,5\") or write them with a "
                      f"decimal point, or name every column in the header")


def _records(path: Path):
    """(line number, cells) of each record of the CSV that pandas reads, header first: blank and
    whitespace-only lines are skipped as ``pd.read_csv`` skips them; the line is the record's last one."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f)
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            yield reader.line_num, cells


def _first_record(path: Path):
    """The cells of the first record, or None for an empty file or one the csv module cannot split
    (``pd.read_csv`` then says what is wrong)."""
    try:
        for _, cells in _records(path):
            return cells
    except csv.Error:
        pass
    return None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_date(cell: str) -> bool:
    if not any(ch.isdigit() for ch in cell):  # words such as 'now' or 'today' parse as dates too
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pd.Timestamp(cell)
        except (ValueError, TypeError, OverflowError):
            return False
    return True


def _looks_like_data(cells: list[str]) -> bool:
    """A first row of numbers (and dates) only is a row of data: no cell names a column."""
    cells = [c.strip() for c in cells if c.strip()]
    return any(map(_is_number, cells)) and all(_is_number(c) or _is_date(c) for c in cells)


def _mostly_numeric(column: pd.Series) -> bool:
    """A column pandas read as numbers, or one of text cells most of which are numbers (a stray bad
    cell is then reported with its line by ``load_dataset``, not silently left out of the features)."""
    if pd.api.types.is_numeric_dtype(column):
        return True
    present = column.dropna()
    numbers = pd.to_numeric(present.astype(str).str.strip(), errors="coerce").notna().sum()
    return len(present) > 0 and numbers > len(present) / 2


def _shown(text) -> str:
    """``text`` for a message, each control or other unprintable character escaped as repr writes it ('\\x00'):
    never a raw NUL or escape sequence on the user's terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


CELL_SHOWN = 40  # characters of a long cell that a message quotes


def _cell(text) -> str:
    """A cell (or line) quoted for a message, control characters escaped as repr writes them; one longer than
    ``CELL_SHOWN`` characters is clipped, with its length after it, so that what the message says of it is not
    lost behind a logger's 4 KB of NUL padding or a 5,000-character error text."""
    text = str(text)
    if len(text) <= CELL_SHOWN + 10:
        return repr(text)
    what, shown = "characters", CELL_SHOWN
    if set(text) == {text[0]} and text[0] in _CONTROL_NAMES:  # '\x00\x00\x00…' (4,096 NUL bytes)
        what, shown = _CONTROL_NAMES[text[0]].removeprefix("a ") + "s", 3
    start = repr(text[:shown])
    return f"{start[:-1]}…{start[-1]} ({len(text):,} {what})"


_CONTROL_NAMES = {"\x00": "a NUL byte", "\t": "a tab", "\r": "a carriage return", "\n": "a line break"}


def _control(text: str) -> str:
    """'' for a cell of printable characters, else what to say of its first control character: no value holds
    one, so the cell (and likely the file) is damaged."""
    bad = next((ch for ch in text if not ch.isprintable() and unicodedata.category(ch) != "Zs"), None)
    if bad is None:
        return ""
    name = _CONTROL_NAMES.get(bad, "a control character")
    return (f"holds a control character ({bad!r}, {name}), which no number or time stamp contains: the file looks "
            f"damaged (a failed copy or transfer, or bytes of another file); repair the file from its source, or "
            f"remove that row")


# a number written with a decimal comma: 10,063 or -0,5 (a CSV cell in quotes, so that its comma splits nothing)
_DECIMAL_COMMA = re.compile(r"\s*[+-]?\d+,\d+\s*")


def _decimal_comma(text: str) -> str:
    """'' unless ``text`` is a number written with a decimal comma; then what to say of it."""
    if not _DECIMAL_COMMA.fullmatch(text):
        return ""
    point = text.strip().replace(",", ".")
    thousands = f" (or {text.strip().replace(',', '')} if the comma separates thousands)" \
        if len(text.strip().split(",")[1]) == 3 else ""
    return (f"looks like a number written with a decimal comma; tsflow reads a decimal point only: write "
            f"{point}{thousands}, every such value of the column (save the CSV with '.' as the decimal separator)")


# a number with its thousands grouped: 5,827.0, 1 234 567, 5\u00a0827, 1'234.5, 5.827,0 (one separator throughout,
# then maybe a decimal point or comma other than it)
_THOUSANDS = re.compile(r"\s*(?P<sign>[+-]?)\d{1,3}(?P<sep>[,.'\u2019 \u00a0\u2009\u202f])\d{3}(?:(?P=sep)\d{3})*"
                        r"(?P<fraction>[.,]\d+)?\s*")
# dashes and minus signs other than the ASCII '-' that numbers are read with
_DASHES = "\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe58\ufe63\uff0d"


def _char_name(ch: str) -> str:
    """A character for a message: ',' as written, else its code point and Unicode name ('U+00A0 NO-BREAK SPACE')."""
    if ch == " ":
        return "a space"
    if ch.isascii() and ch.isprintable():
        return repr(ch)
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'an unnamed character')}"


def _number_hint(text: str) -> str:
    """'' unless ``text`` is a number but for a character tsflow does not read in one (a minus sign or dash other
    than '-', a thousands separator); then what to say of it."""
    dash = next((ch for ch in text if ch in _DASHES), None)
    if dash is not None:
        plain = "".join("-" if ch in _DASHES else ch for ch in text).strip()
        if _is_number(plain) or _THOUSANDS.fullmatch(plain):
            where = "starts with" if text.strip().startswith(dash) else "holds"
            return (f"is not a number: it {where} {_char_name(dash)} ({dash!r}), not the ASCII '-' (hyphen-minus), "
                    f"the only minus sign tsflow reads: write {plain} (replace every such character with '-')")
    match = _THOUSANDS.fullmatch(text)
    if match is None or (match["fraction"] or " ")[0] == match["sep"]:
        return _unit_hint(text)
    digits = text.strip().replace(match["sep"], "")
    plain = digits.replace(",", ".") if match["fraction"] else digits
    return (f"is not a number: {_char_name(match['sep'])} separates its thousands, and tsflow reads no thousands "
            f"separator: write {plain} (remove the separators from every such value, or save the CSV without "
            f"thousands grouping)")


# a number written with its unit: 1.34%, 12.5 kW, 20°C, $5.00, 3.2e3 m/s (a currency sign before it, a unit after it)
_UNIT = re.compile(r"\s*(?P<pre>[$\u20ac\u00a3\u00a5\u20b9]?)\s*(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
                   r"\s*(?P<post>%|\u2030|[$\u20ac\u00a3\u00a5\u20b9]|[A-Za-z\u00b5\u03bc\u2126\u00b0][A-Za-z\u00b5\u03bc"
                   r"\u2126\u00b0/\u00b2\u00b3]{0,5})?\s*")


def _unit_hint(text: str) -> str:
    """'' unless ``text`` is a number written with a unit before or after it; then what to say of it."""
    match = _UNIT.fullmatch(text)
    if match is None or not (match["pre"] or match["post"]):
        return ""
    unit = match["pre"] or match["post"]
    percent = " (the column then holds percent)" if unit == "%" else ""
    return (f"is not a number: it carries the unit {unit!r}, and tsflow reads plain numbers only: write "
            f"{match['number']}{percent}, every such value of the column (remove the unit in the file, or name it "
            f"in the column's header)")


def _names(columns) -> str:
    """Column names for a message; a name with spaces around it (``date, v`` in the header) or quote characters
    at its ends (``'date'``) quoted, so that they show, control characters escaped."""
    return ", ".join(repr(c) if str(c) != str(c).strip() or str(c) != _shown(c) or _quoted(c) else str(c)
                     for c in columns) or "none"


_QUOTES = {"'": "'", '"': '"', "\u2018": "\u2019", "\u201c": "\u201d", "`": "`"}


def _quoted(name) -> bool:
    """Whether a column's name is wrapped in quote characters: ``'date'``, as a header quoted with ' writes it."""
    name = str(name).strip()
    return len(name) >= 2 and _QUOTES.get(name[0]) == name[-1]


def _quote_hint(cols) -> str:
    """What to say of a header whose names carry quote characters, as one quoted with ' instead of \" is read."""
    quoted = [c for c in cols if _quoted(c)]
    if not quoted:
        return ""
    bare = ",".join(str(c).strip()[1:-1] if _quoted(c) else str(c) for c in cols[:6])
    bare += ",..." if len(cols) > 6 else ""
    why = "quoted twice over in the file" if str(quoted[0]).strip()[0] == '"' else \
        "a CSV quotes with \" only, so other quotes are part of the name"
    return (f" (the header's names carry quote characters, such as {quoted[0]!r}: {why}; write the header without "
            f"them: {_shown(bare)})")


def _not_numeric(frame: pd.DataFrame, column: str, data_cfg) -> str:
    """Why the column ``column`` is not numeric: where its first number with a decimal comma is, if it has one."""
    cells = frame[column].dropna().astype(str)
    at = cells.index[cells.str.fullmatch(_DECIMAL_COMMA)]
    hint = _decimal_comma
    if len(at) == 0:  # a thousands separator, a minus sign other than '-', a unit
        hint = _number_hint
        hinted = cells.map(lambda c: _number_hint(c) != "").astype(bool)
        unit = cells.map(lambda c: _unit_hint(c) != "").astype(bool)
        plain = pd.to_numeric(cells.str.strip(), errors="coerce").notna()
        if (unit | plain).sum() <= len(cells) / 2:  # a column of text ('3 days' here and there), not of quantities
            hinted &= ~unit
        at = cells.index[hinted]
        if len(at) == 0:
            words = cells.index[~plain]
            if len(words) == 0:
                return "not a numeric column (most of its cells are not numbers)"
            where, text = _where(data_cfg, frame, int(frame.index.get_loc(words[0])), column)
            # not 'not a numeric column:', which refuses the column even where data.features is not given
            return (f"not a numeric column ({len(words):,} of its {len(cells):,} cells are not numbers; the first: "
                    f"{where}: {_cell(text)}, a label or text?): every value of a feature or the target must be a "
                    f"plain number, such as 12.5")
    row = int(frame.index.get_loc(at[0]))
    where, text = _where(data_cfg, frame, row, column)
    many = "the only such cell" if len(at) == 1 else f"the first of {len(at):,} such cells of the {len(cells):,}"
    return f"not a numeric column: {where} ({many}): {_cell(text)} {hint(text)}"


def _separator_hint(cols) -> str:
    if len(cols) == 1 and any(sep in str(cols[0]) for sep in ";\t|"):
        return " (the header holds no comma: the file must be comma-separated, not split by ';', tabs or '|')"
    return _quote_hint(cols)


def _lookalike(key: str, name: str, cols) -> str:
    """'' unless a column's name differs from ``name`` (given in ``key``) only where one of the two has a character
    outside ASCII and the other an ASCII one (a Cyrillic O for a Latin O, a no-break space for a space): the names
    then print alike; else the column and each such character by its code point."""
    for col in map(str, cols):
        pairs = [(i, a, b) for i, (a, b) in enumerate(zip(name, col)) if a != b]
        if len(col) != len(name) or not pairs or any(a.isascii() == b.isascii() for _, a, b in pairs):
            continue
        which = ", ".join(f"character {i + 1} is {_char_name(b)} where {key} has {_char_name(a)}" for i, a, b in pairs)
        return (f"; the file has column {_shown(col)!r}, whose {which}: the two names print alike but differ; retype "
                f"the column's name in the file's header, or copy it from there into {key}")
    return ""


def _defaulted(data_cfg, key: str) -> bool:
    """Whether a CSV's data.<key> took its default (that of the built-in data sets) for not being given."""
    return data_cfg.source == "csv" and key not in data_cfg.model_fields_set


def _same_names(frame: pd.DataFrame, data_cfg, tell) -> pd.DataFrame:
    """The frame with a column renamed as data.date_column, data.target or data.features write it where the two
    differ only in Unicode form (an accent as one character, NFC, or as a letter and a combining accent, NFD, as
    macOS tools write file names and text): one name, which prints alike, so it is taken, and told."""
    cols = list(map(str, frame.columns))
    given = [("data.date_column", data_cfg.date_column), ("data.target", data_cfg.target)] + \
        [("data.features", f) for f in data_cfg.features or []]
    renamed = {}
    for key, name in given:
        if name is None or name in cols or name in renamed.values():
            continue
        same = [c for c in cols if unicodedata.normalize("NFC", c) == unicodedata.normalize("NFC", name)]
        if len(same) != 1 or same[0] in renamed:
            continue
        renamed[same[0]] = name
        tell(f"{key}: {name!r} is written in Unicode form {_form(name)}, the header of {_source(data_cfg)} in "
             f"{_form(same[0])} ({_decomposed(same[0], name)}): the same name, so that column is read")
    return frame.rename(columns=renamed) if renamed else frame


def _form(name: str) -> str:
    return next((f for f in ("NFC", "NFD") if unicodedata.normalize(f, name) == name), "a mix of forms")


def _decomposed(a: str, b: str) -> str:
    """How two names of one NFC form differ: 'e + U+0301 COMBINING ACUTE ACCENT for é'."""
    nfd = a if _form(a) == "NFD" else b
    mark = next((i for i, ch in enumerate(nfd) if unicodedata.combining(ch)), None)
    if mark is None or mark == 0:
        return "the same letters, composed differently"
    whole = unicodedata.normalize("NFC", nfd[mark - 1:mark + 1])
    return f"{nfd[mark - 1]} + {_char_name(nfd[mark])} for {whole}"


def _columns(frame: pd.DataFrame, data_cfg) -> list[str]:
    cols = list(frame.columns)
    date = data_cfg.date_column
    if date is not None and date not in cols:
        where = f"{data_cfg.path!r}" if data_cfg.source == "csv" else f"the built-in {data_cfg.dataset!r}"
        default = (f" (data.date_column was not given and took its default {date!r}, the built-in data sets' "
                   f"column of time stamps)" if _defaulted(data_cfg, "date_column") else "")
        raise ConfigError(f"invalid configuration: data.date_column = {date!r}: no such column in {where}{default}; "
                          f"columns found: {_names(cols)}{_separator_hint(cols)}"
                          f"{_lookalike('data.date_column', date, cols)}; name the column that holds the "
                          f"time stamps, or set data.date_column: null if the file has none (rows are then taken "
                          f"in file order)")
    numeric = [c for c in cols if c != date and _mostly_numeric(frame[c])]
    allowed = _names(numeric) + _separator_hint(cols)
    if data_cfg.target not in cols and _defaulted(data_cfg, "target"):
        raise ConfigError(f"invalid configuration: data.target = {data_cfg.target!r}: not a column of "
                          f"{data_cfg.path!r} (data.target was not given and took its default {data_cfg.target!r}, "
                          f"the column forecast of the built-in {data_cfg.dataset!r}); with data.source: csv, set data.target to the column to forecast, one of "
                          f"the numeric columns: {allowed}")
    if data_cfg.target not in cols:
        raise ConfigError(f"invalid configuration: data.target = {data_cfg.target!r}: not a column; "
                          f"numeric columns in the file: {allowed}{_lookalike('data.target', data_cfg.target, cols)}")
    if data_cfg.target == date:
        raise ConfigError(f"invalid configuration: data.target and data.date_column both name the column {date!r}: "
                          f"one column cannot be the time stamps and the value forecast; set data.date_column to the "
                          f"column of time stamps (or null if the file has none), and data.target to one of the "
                          f"numeric columns: {allowed}")
    if data_cfg.target not in numeric:
        what = _not_numeric(frame, data_cfg.target, data_cfg)
        raise ConfigError(f"invalid configuration: data.target = {data_cfg.target!r}: {what}; numeric columns "
                          f"in the file: {allowed}")
    if not data_cfg.features:  # a column of numbers written with a decimal comma or thousands separators: not dropped
        for c in cols:
            what = _not_numeric(frame, c, data_cfg) if c != date and c not in numeric else ""
            if what.startswith("not a numeric column:"):
                raise ConfigError(f"invalid configuration: data.features is not given, so every numeric column is a "
                                  f"feature, but column {c!r} is {what}; or list the features in data.features "
                                  f"(numeric columns now: {allowed})")
    if not data_cfg.features:
        _refuse_row_counter(frame, numeric, data_cfg)
    features = list(data_cfg.features) if data_cfg.features else numeric
    for f in features:
        if f not in numeric:
            what = ("not a column of the file" if f not in cols else
                    "the column of time stamps (data.date_column), not a numeric column" if f == date else
                    _not_numeric(frame, f, data_cfg))
            like = _lookalike("data.features", f, cols) if f not in cols else ""
            raise ConfigError(f"invalid configuration: data.features: {f!r} is {what}; allowed: {allowed}{like}")
    if data_cfg.target not in features:
        raise ConfigError(f"invalid configuration: data.target = {data_cfg.target!r}: must also be one "
                          f"of data.features ({_names(features)}); the model reads its past values")
    return features


def _refuse_row_counter(frame: pd.DataFrame, numeric: list, data_cfg) -> None:
    """Refuse, as a feature by default, a column named 'Unnamed: N' counting the rows (0, 1, 2, ...): the row index
    pandas' to_csv writes without index=False, named so once a frame read back with it is saved again; as the
    header's unnamed first column is refused (``_check_header``), this one is too: its change is 1 at every
    step, nothing to learn from."""
    for c in numeric:
        if not re.fullmatch(r"Unnamed: \d+", str(c)):
            continue
        values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64)
        if len(values) < 2 or not np.all(np.diff(values) == 1):
            continue
        raise ConfigError(f"invalid configuration: data.features is not given, so every numeric column is a feature, "
                          f"but column {c!r} of {_source(data_cfg)} ({values[0]:g}, {values[1]:g}, "
                          f"{values[0] + 2:g}, ..., one a row) looks like a row index, as pandas to_csv writes "
                          f"without index=False (named {c!r} once the file is read and saved again): as a feature "
                          f"its change is 1 at every step and carries no information; remove that column (save with "
                          f"to_csv(..., index=False)), or list the features in data.features without it")


def _source(data_cfg) -> str:
    """The data a message is about: ``data.path = '<file>'`` or ``the built-in '<name>'``."""
    return f"data.path = {data_cfg.path!r}" if data_cfg.source == "csv" else f"the built-in {data_cfg.dataset!r}"


def _place(data_cfg, frame: pd.DataFrame, row: int, column: str) -> tuple[str, str]:
    """'line N' (as an editor numbers the file's lines) of the row at position ``row`` (file order), and the text
    of its cell in ``column`` as written."""
    if data_cfg.source != "csv":
        return f"row {row + 1}", str(frame[column].iloc[row])
    records = list(_records(Path(data_cfg.path)))[1:]
    at = list(frame.columns).index(column)
    if len(records) == len(frame):
        line, cells = records[row]
        return f"line {line}", cells[at] if at < len(cells) else ""
    # a file pandas split into rows differently: the data row's number, and the value pandas read
    value = frame[column].iloc[row]
    return f"data row {row + 1}", "" if pd.isna(value) else str(value)


def _where(data_cfg, frame: pd.DataFrame, row: int, column: str) -> tuple[str, str]:
    """'<file>, line N, column C' of the cell at position ``row`` (file order) and its text as written."""
    place, text = _place(data_cfg, frame, row, column)
    return f"{_source(data_cfg)}, {place}, column {column!r}", text


def _first_bad_cell(bad: np.ndarray, columns: list, frame: pd.DataFrame) -> tuple[int, str]:
    """(row, column) of the first True of ``bad`` (rows x columns) in file order: top row, leftmost column."""
    row = int(np.argmax(bad.any(axis=1)))
    in_row = [c for c, b in zip(columns, bad[row]) if b]
    return row, min(in_row, key=list(frame.columns).index)


def _no_value(frame: pd.DataFrame, column: str, data_cfg) -> str:
    """'' unless ``column`` holds no value on any row; then how it is so, such as 'is empty on every row (2,000 of
    2,000 cells)': of such a column, 'fill in that row' names the wrong fix."""
    if len(frame) == 0 or frame[column].notna().any():
        return ""
    n = len(frame)
    cells = set()
    if data_cfg.source == "csv":
        at = list(frame.columns).index(column)
        cells = {c[at].strip() if at < len(c) else "" for _, c in list(_records(Path(data_cfg.path)))[1:]}
    if cells == {""}:
        return f"is empty on every row ({n:,} of {n:,} cells)"
    marks = sorted(c for c in cells if c)
    such = f" such as {_cell(marks[0])}" if marks else ""
    return f"holds no value on any row (each of its {n:,} cells is empty or a missing-value mark{such})"


def _refuse_empty_feature(frame: pd.DataFrame, features: list[str], data_cfg) -> None:
    """Refuse a feature column without a single value, naming the key that made it a feature."""
    column = next((f for f in features if _no_value(frame, f, data_cfg)), None)
    if column is None:
        return
    what = f"column {column!r} of {_source(data_cfg)} {_no_value(frame, column, data_cfg)}"
    if column == data_cfg.target:
        raise ConfigError(f"invalid configuration: data.target = {column!r}: {what}: there is nothing to forecast; "
                          f"choose a column that holds the values to forecast")
    if not data_cfg.features:
        rest = _names([f for f in features if f != column and not _no_value(frame, f, data_cfg)])
        raise ConfigError(f"invalid configuration: data.features is not given, so every numeric column is a feature, "
                          f"but {what}; leave it out by listing the features in data.features (such as [{rest}]), or "
                          f"remove the column from the file")
    raise ConfigError(f"invalid configuration: data.features: {what}: remove it from data.features")


def _values(frame: pd.DataFrame, features: list[str], data_cfg) -> np.ndarray:
    """The feature columns as float64, refusing any missing, non-numeric or infinite cell by its place."""
    _refuse_empty_feature(frame, features, data_cfg)
    values = np.column_stack([pd.to_numeric(frame[f], errors="coerce").to_numpy(dtype=np.float64)
                              for f in features])
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = _first_bad_cell(bad, features, frame)
        where, text = _where(data_cfg, frame, row, column)
        if not text.strip():
            what = "is empty (a missing value)"
        elif pd.isna(frame[column].iloc[row]):
            what = "marks a missing value"  # NA, NaN, null, ...: pandas reads these as missing
        elif _is_number(text):
            what = "is infinite, not a finite number"
        elif _number_hint(text) or _control(text) or _decimal_comma(text):
            raise ConfigError(f"invalid configuration: {where}{_key(data_cfg, column)}: {_cell(text)} "
                              f"{_number_hint(text) or _control(text) or _decimal_comma(text)}")
        else:
            what = "is not a number"
        raise ConfigError(f"invalid configuration: {where}: {_cell(text)} {what}; every value of the feature "
                          f"columns ({_names(features)}) must be a number: fill in or remove that row")
    return values


# row counts that sum to exactly 100 on data of at least this many rows are taken for percentages
PERCENT_ROWS = 1000


def split_rows(n: int, split_cfg) -> tuple[int, int, int]:
    """Rows of train, val and test (in time order, from the first row): the row counts as given, or each
    fraction of ``n`` rounded down."""
    if split_cfg.is_rows:
        sizes = (split_cfg.train, split_cfg.val, split_cfg.test)
        if sum(sizes) > n:
            raise ConfigError(f"invalid configuration: data.split asks for {sum(sizes)} rows; the data has {n}")
        if sum(sizes) == 100 and n >= PERCENT_ROWS:
            fractions = ", ".join(f"{k}: {v / 100:g}" for k, v in zip(("train", "val", "test"), sizes))
            raise ConfigError(f"invalid configuration: data.split = {{train: {sizes[0]}, val: {sizes[1]}, test: "
                              f"{sizes[2]}}}: row counts (integers) that sum to 100, of the {n:,} rows the data has, so "
                              f"{n - 100:,} rows would be unused; if these are percentages, write fractions: "
                              f"{{{fractions}}}; to use only 100 rows, cut the file to them")
        return sizes
    n_train = int(n * split_cfg.train)
    n_val = int(n * split_cfg.val)
    n_test = int(n * split_cfg.test)
    return n_train, n_val, n_test


def window_span(data_cfg) -> int:
    """Rows one window and its forecast take: the window, then up to the last step forecast."""
    return data_cfg.window + data_cfg.horizon + data_cfg.steps - 1


def make_windows(values: np.ndarray, target_index: int, window: int, horizon: int, steps: int = 1) -> Split:
    """All windows fully inside ``values``: x = rows [t, t+window), y = target at t+window+horizon-1 (and the
    ``steps - 1`` rows after it: y of shape (n, steps) when steps > 1)."""
    n = len(values) - window - horizon - steps + 2
    if n <= 0:
        return Split(np.zeros((0, window, values.shape[1])), np.zeros((0,) if steps == 1 else (0, steps)), np.zeros(0))
    idx = np.arange(window)[None, :] + np.arange(n)[:, None]
    x = values[idx]
    at = np.arange(n) + window + horizon - 1
    y = values[at, target_index] if steps == 1 else values[at[:, None] + np.arange(steps)[None, :], target_index]
    return Split(x=x, y=y, last=x[:, -1, target_index].copy())


def change_scale(train_rows: np.ndarray) -> np.ndarray:
    """What each column's step-to-step change is divided by: the standard deviation of that change over
    the (scaled) training rows, so that with several columns every change spreads like the levels do.

    A single column is left as it is (divided by 1), and so is a column whose change is constant (a ramp,
    or no change). Why, and why not one column: the evidence in docs/benchmarks-accuracy.md.
    """
    if train_rows.shape[1] == 1:
        return np.ones(1)
    sd = np.diff(train_rows, axis=0).std(axis=0)
    return np.where(sd > 1e-9, sd, 1.0)  # below: rounding noise of a constant change (columns are of unit scale)


def as_differences(s: Split, target_index: int, scale: np.ndarray) -> Split:
    """Each channel's change from the previous step of its window (0 at the first) divided by ``scale``,
    then the target's level as an extra last channel; y and the persistence forecast are unchanged."""
    d = np.diff(s.x, axis=1, prepend=s.x[:, :1, :]) / scale
    return Split(x=np.concatenate([d, s.x[:, :, target_index:target_index + 1]], axis=2), y=s.y, last=s.last)


def split_minimum(data_cfg, label: str) -> int:
    """The fewest rows split ``label`` ('train', 'val', 'test') may have, for one window: the whole window and its
    forecast (``window_span``), but with ``data.split.lookback: previous`` for val and test, whose windows look back
    into the rows before their split (``load_dataset``'s bounds), only the rows one window forecasts (data.steps)."""
    if label != "train" and data_cfg.split.lookback == "previous":
        return data_cfg.steps
    return window_span(data_cfg)


def _check_split_rows(sizes, total: int, data_cfg) -> None:
    """Refuse a split too short for one window, naming the rule of its data.split.lookback."""
    steps = data_cfg.steps > 1
    for label, n in zip(("train", "val", "test"), sizes):
        need = split_minimum(data_cfg, label)
        if n >= need:
            continue
        start = f"invalid configuration: data.split.{label}: {_plural(n, 'row')}, fewer than"
        if label != "train" and data_cfg.split.lookback == "previous":
            raise ConfigError(f"{start} data.steps ({need}), the rows one window forecasts (with data.split.lookback: "
                              f"previous, the windows of val and test look back into the rows before their split, so "
                              f"each needs only the rows it forecasts); the data has {total} rows: give "
                              f"data.split.{label} more of them, or use a smaller data.steps")
        keys = "data.window + data.horizon" + (" + data.steps - 1" if steps else "")
        rule = ("the training windows lie inside the training rows" if label == "train" else
                f"with data.split.lookback: {data_cfg.split.lookback}, each window and its forecast lie inside the "
                f"split's own rows")
        other = "" if label == "train" else (", or set data.split.lookback: previous (the windows of val and test "
                                             "then look back into the rows before their split)")
        raise ConfigError(f"{start} {keys} ({need}), the rows one window and its forecast take ({rule}); the data "
                          f"has {total} rows: give data.split.{label} more of them, or use a smaller data.window"
                          f"{' or data.steps' if steps else ''} or more data{other}")


def _duration(td: pd.Timedelta) -> str:
    """'1 hour', '15 minutes', '7 days': a time step as a person writes it."""
    seconds = td.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return str(td)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def _stamps(frame: pd.DataFrame, data_cfg) -> pd.DatetimeIndex:
    """The date column as time stamps in file order (in UTC when the file mixes UTC offsets); a cell that is
    not a date is refused with its line, and so is a column of numbers."""
    date = data_cfg.date_column
    empty = _no_value(frame, date, data_cfg)
    if empty:
        raise ConfigError(f"invalid configuration: {_source(data_cfg)}, column {date!r} (data.date_column = "
                          f"{date!r}) {empty}: there are no time stamps to read; set data.date_column: null if the "
                          f"rows are in time order, or fill in the time stamps")
    _refuse_numbers(frame, data_cfg)
    _refuse_two_digit_years(frame, data_cfg)
    fmt, dates = _read_dates(frame[date])
    if dates.isna().any():
        bad = int(np.argmax(dates.isna().to_numpy()))
        where, text = _where(data_cfg, frame, bad, date)
        if _control(text):
            raise ConfigError(f"invalid configuration: {where} (data.date_column): {_cell(text)} {_control(text)}")
        first = int(np.argmax(dates.notna().to_numpy()))
        if dates.notna().any() and _is_date(text.strip()):  # a date by itself: written in another format
            line_a, text_a = _place(data_cfg, frame, first, date)
            line_b, _ = _place(data_cfg, frame, bad, date)
            fmt_a, fmt_b = fmt or _date_format(text_a), _date_format(text)
            raise ConfigError(f"invalid configuration: {_source(data_cfg)}, column {date!r} (data.date_column): the "
                              f"time stamps mix date formats: {line_a} {_cell(text_a)} ({fmt_a}) and {line_b} {_cell(text)} "
                              f"({fmt_b}); the format is taken from the first stamp, so {_cell(text)} is not read as a "
                              f"date: write every time stamp in one format (such as {fmt_a})")
        hint = _stamp_hint(frame[date], text)
        if hint:
            raise ConfigError(f"invalid configuration: {where} (data.date_column): {_cell(text)} {hint}")
        present = frame[date].dropna().astype(str).str.strip()
        unread = int((dates.isna() & frame[date].notna() & (frame[date].astype(str).str.strip() != "")).sum())
        if text.strip() and unread > (present != "").sum() / 2:  # a format, not a row: 'fill in that row' is wrong
            first_line, first = _place(data_cfg, frame, int(np.argmax((present != "").reindex(frame.index,
                                                                                             fill_value=False))), date)
            many = "every time stamp is" if unread == (present != "").sum() else \
                f"{unread:,} of the {(present != '').sum():,} time stamps are"
            raise ConfigError(f"invalid configuration: {_source(data_cfg)}, column {date!r} (data.date_column): "
                              f"{_cell(first)} ({first_line}, the first time stamp) is in no format tsflow reads, and "
                              f"{many} unreadable{_format_hint(first)}; tsflow reads ISO 8601 dates and times "
                              f"(2016-07-01, 2016-07-01 00:00:00, 2016-07-01T00:00:00+02:00), day/month/year and "
                              f"month/day/year with four-digit years (01.07.2016, 07/01/2016 00:00) and English month "
                              f"names (1 Jul 2016): rewrite the time stamps in one of these formats, or set "
                              f"data.date_column: null if the rows are in time order")
        raise ConfigError(f"invalid configuration: {where}: {_cell(text)} is not a date (data.date_column = "
                          f"{date!r}); fill in or remove that row, or set data.date_column: null if the "
                          f"rows are in time order")
    return pd.DatetimeIndex(dates)


# an ISO week date: 2000-W01, 2000W01, 2000-W01-1 (year, week, day of the week)
_ISO_WEEK = re.compile(r"\s*(?P<year>\d{4})-?W(?P<week>\d\d)(?:-?(?P<day>[1-7]))?\s*")
# a date of three numbers of one or two digits: 16-07-01, 01/07/16 (then maybe a time of day)
_TWO_DIGIT_YEAR = re.compile(r"\s*(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,2})(?P<time>[ T].*)?")


def _format_hint(text: str) -> str:
    """'' or what makes the time stamp ``text`` unreadable: an ISO week date, or a word that is no English month."""
    week = _ISO_WEEK.fullmatch(text)
    if week is not None:
        try:
            monday = datetime.strptime(f"{week['year']}-W{week['week']}-{week['day'] or 1}", "%G-W%V-%u")
        except ValueError:
            return " (an ISO week date, year and week, which tsflow does not read)"
        return (f" (an ISO week date, year and week, which tsflow does not read: write the date of the week's "
                f"{'Monday' if not week['day'] else 'day'} instead, {monday:%Y-%m-%d} for {text.strip()})")
    words = [w for w in re.findall(r"[^\W\d_]+\.?", text) if w.rstrip(".").upper() not in ("T", "Z", "AM", "PM")]
    if words:
        return f" (the word {words[0]!r} is not an English month name or abbreviation)"
    return ""


def _refuse_two_digit_years(frame: pd.DataFrame, data_cfg) -> None:
    """Refuse time stamps whose date is three numbers of two digits (16-07-01): which one is the year is a guess
    (pandas reads it day first, 16 July 2001, and a file written year first then runs out of time order), and so
    is the century."""
    date = data_cfg.date_column
    present = frame[date].dropna().astype(str)
    present = present[present.str.strip() != ""]
    if len(present) == 0 or pd.api.types.is_datetime64_any_dtype(frame[date]):
        return
    match = _TWO_DIGIT_YEAR.fullmatch(present.iloc[0])
    if match is None:
        return
    where, text = _where(data_cfg, frame, int(frame.index.get_loc(present.index[0])), date)
    a, b, c, sep, time = match["a"], match["b"], match["c"], match["sep"], (match["time"] or "")
    readings = []
    for order, (y, m, d) in (("yy-mm-dd", (a, b, c)), ("dd-mm-yy", (c, b, a)), ("mm-dd-yy", (c, a, b))):
        try:
            day = datetime(2000 + int(y), int(m), int(d))
        except ValueError:
            continue
        readings.append(f"{day:%Y-%m-%d}{time} if it is {order.replace('-', sep)}")
    shown = "; ".join(readings) if readings else "2016-07-01 00:00"
    raise ConfigError(f"invalid configuration: {where} (data.date_column): {_cell(text)} has a two-digit year: its "
                      f"three numbers read as year-month-day, day-month-year or month-day-year, and the century is a "
                      f"guess too, so tsflow does not read it: write four-digit years ({shown})")


# midnight written as the end of the day before (2016-06-30 24:00:00), as some loggers write it
_HOUR_24 = re.compile(r"\s*(?P<day>.*\d)(?P<sep>[ T])24(?P<rest>(?::00){1,2}(?:\.0+)?\s*(?:Z|[+-]\d\d:?\d\d)?)\s*")
# a time stamp ending in a time-zone abbreviation (2016-07-01 00:00:00 PST), which pandas does not read
_ZONE_NAME = re.compile(r"\s*(?P<stamp>.*\d(?:\s*[AaPp]\.?[Mm]\.?)?)\s*(?P<zone>[A-Za-z]{2,5})\s*")
_ZONE_OFFSETS = {"PST": "-08:00", "PDT": "-07:00", "MST": "-07:00", "MDT": "-06:00", "CST": "-06:00", "CDT": "-05:00",
                 "EST": "-05:00", "EDT": "-04:00", "AKST": "-09:00", "AKDT": "-08:00", "HST": "-10:00",
                 "WET": "+00:00", "WEST": "+01:00", "BST": "+01:00", "CET": "+01:00", "CEST": "+02:00",
                 "EET": "+02:00", "EEST": "+03:00", "MSK": "+03:00", "JST": "+09:00", "KST": "+09:00",
                 "AEST": "+10:00", "AEDT": "+11:00", "NZST": "+12:00", "NZDT": "+13:00"}


def _stamp_hint(column: pd.Series, text: str) -> str:
    """'' unless the time stamp ``text`` is written in a form tsflow does not read but could be rewritten to (24:00
    for midnight, a time-zone abbreviation); then what to say of it, with how many stamps of ``column`` are so."""
    cells = column.dropna().astype(str)

    def count(pattern, keep=lambda m: True) -> str:
        n = sum(1 for c in cells if (m := pattern.fullmatch(c)) is not None and keep(m))
        if n <= 1:
            return "it is the only one"
        return f"{'all ' if n == len(cells) else ''}{n:,}{'' if n == len(cells) else f' of the {len(cells):,}'} " \
               f"time stamps are written so"

    hour = _HOUR_24.fullmatch(text)
    if hour is not None and _is_date(hour["day"]):
        fmt = _guess_format(hour["day"])
        example = "00:00 of the next day"
        if fmt:
            try:
                day = datetime.strptime(hour["day"], fmt) + timedelta(days=1)
                example += f" ({day.strftime(fmt)}{hour['sep']}00{hour['rest']})"
            except ValueError:  # a day the guessed format cannot read: the advice goes without the example
                pass
        return (f"writes midnight as 24:00, which tsflow does not read (the hours of a day run from 00 to 23): write "
                f"it as {example}; {count(_HOUR_24)}")
    zone = _ZONE_NAME.fullmatch(text)
    if zone is not None and zone["zone"].upper() not in ("AM", "PM") and _is_date(zone["stamp"]):
        name = zone["zone"]
        offset = _ZONE_OFFSETS.get(name.upper())
        example = (f"{zone['stamp']}{offset}, {name} being UTC{offset}" if offset
                   else f"such as {zone['stamp']}+01:00 for a zone at UTC+01:00")
        return (f"ends in a time-zone abbreviation ({name!r}), which tsflow does not read (one abbreviation can name "
                f"several zones): write the UTC offset instead ({example}), or drop the suffix if every stamp is on "
                f"the same clock; {count(_ZONE_NAME, lambda m: m['zone'].upper() not in ('AM', 'PM'))}")
    return ""


def _to_datetime(column: pd.Series, **how) -> pd.Series:
    """``pd.to_datetime`` with unreadable cells NaT, its warnings kept off the user's terminal (pandas warns when it
    parses each cell on its own, or reads 13.01.2021 day first: not the user's concern, see ``_read_dates``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(column, errors="coerce", **how)
        except ValueError:  # time stamps of several time zones: ordered as the same instants in UTC
            return pd.to_datetime(column, errors="coerce", utc=True, **how)


def _read_dates(column: pd.Series) -> tuple[str | None, pd.Series]:
    """(the format the stamps were read in, if tsflow chose it; the stamps, NaT where a cell is not read).

    pandas takes the format of every stamp from the first one, and reads one whose day and month both come before
    the year (01.01.2021, 01/02/2021) month first unless its day is above 12; a file written day first
    (dd.mm.yyyy) then fails at its 13th day (13.01.2021), and pandas warns. The rule here, for such stamps only
    (a year-first stamp, 2021-01-13, is always year-month-day): both readings of the first stamp's format, month
    first and day first, are tried on every stamp, and the one that reads more stamps is taken (a day above 12
    decides it); if both read as many, the one under which the stamps are more regular (fewer missing steps, as
    ``_gaps`` counts them); if still even, pandas' (the first stamp's: month first when it could be either, as
    before). Where both readings read every stamp
    alike regularly (no day above 12 anywhere) they give the rows the same order and the same gaps, which is all
    the stamps are used for, so the choice changes nothing.
    """
    default = _to_datetime(column)
    present = column.dropna().astype(str).str.strip()
    present = present[present != ""]
    if len(present) == 0 or pd.api.types.is_datetime64_any_dtype(column):
        return None, default
    fmt = _guess_format(present.iloc[0])
    year = fmt.find("%Y") if fmt and "%Y" in fmt else (fmt.find("%y") if fmt else -1)
    if not fmt or "%d" not in fmt or "%m" not in fmt or year < 0 or fmt.find("%d") > year or fmt.find("%m") > year:
        return None, default
    swapped = fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    readings = [(f, _to_datetime(column, format=f)) for f in (fmt, swapped)]  # pandas' own reading first
    best = min(readings, key=lambda r: (int(r[1].isna().sum()), _missing_steps(r[1])))
    if best[0] == fmt and best[1].isna().sum() == default.isna().sum():
        return fmt, default  # pandas' reading, as before (it also reads what ``format`` is strict about)
    return best[0], best[1]


def _missing_steps(dates: pd.Series) -> int:
    """Steps missing between the sorted stamps, as ``_gaps`` counts them."""
    stamps = np.sort(pd.DatetimeIndex(dates.dropna()).asi8)
    if len(stamps) < 3:
        return 0
    diffs = np.diff(stamps)
    kinds, counts = np.unique(diffs, return_counts=True)
    step = kinds[np.argmax(counts)]
    if step <= 0:
        return 0
    missing = np.floor(diffs / step + 0.5) - 1
    return int(missing[missing >= 1].sum())


def _guess_format(text: str) -> str | None:
    from pandas.tseries.api import guess_datetime_format

    with warnings.catch_warnings():  # 'Parsing dates in %d.%m.%Y format when dayfirst=False': not the user's concern
        warnings.simplefilter("ignore")
        return guess_datetime_format(text)


def _date_format(text: str) -> str:
    """The strftime format of a time stamp as pandas guesses it ('%Y-%m-%d %H:%M:%S'), else the text's shape
    (control characters escaped)."""
    return _guess_format(text.strip()) or _shown("".join("9" if ch.isdigit() else ch for ch in text.strip()))


def _refuse_numbers(frame: pd.DataFrame, data_cfg) -> None:
    """A date column of numbers (years, 20210131, seconds since 1970) is refused: pandas would read each number as
    nanoseconds since 1970-01-01, so 1999 would be 1970-01-01 00:00:00.000001999."""
    date = data_cfg.date_column
    column = frame[date]
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return
    row = int(np.argmax(column.notna().to_numpy()))
    where, text = _where(data_cfg, frame, row, date)
    numbers = column.dropna()
    example = "such as 2021-01-31 00:00"
    if len(numbers) and (numbers == numbers.round()).all():
        whole = numbers.astype(np.int64)
        if whole.between(1, 9999).all():
            example = f"{int(whole.iloc[0]):04d}-01-01 for the year {int(whole.iloc[0])}"
        elif whole.between(10000101, 99991231).all():
            day = pd.to_datetime(whole.astype(str), format="%Y%m%d", errors="coerce")
            if day.notna().all():
                example = f"{day.iloc[0]:%Y-%m-%d} for {int(whole.iloc[0])}"
    raise ConfigError(f"invalid configuration: {where} (data.date_column = {date!r}): the time stamps are numbers "
                      f"({_cell(text)}); tsflow does not read numbers as dates (pandas would read each as nanoseconds "
                      f"since 1970-01-01): write them as dates ({example}), or set data.date_column: null if the "
                      f"rows are in time order")


def _tell_unsorted_stamps(frame: pd.DataFrame, features: list[str], data_cfg, tell) -> None:
    """With ``data.date_column: null`` the rows are used in file order; a column that is not a feature but holds time
    stamps (every cell read as one) out of time order, newest first above all, is told, as the rows would silently
    run backwards or out of order in time: the first such column, with the fix, data.date_column naming it."""
    for column in frame.columns:
        series = frame[column]
        if column in features or pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            dates = series
        else:
            if pd.api.types.is_numeric_dtype(series):
                continue  # numbers are not read as dates (see _refuse_numbers)
            present = series.dropna().astype(str).str.strip()
            present = present[present != ""]
            if len(present) < 3 or not _is_date(present.iloc[0]):
                continue
            dates = _read_dates(series)[1]
            if dates.notna().sum() < len(present):
                continue  # not a column of time stamps only
        rows = np.flatnonzero(dates.notna().to_numpy())
        if len(rows) < 3:
            continue
        stamps = pd.DatetimeIndex(dates.iloc[rows]).asi8
        back = np.flatnonzero(np.diff(stamps) < 0)
        if len(back) == 0:
            continue
        if len(back) > len(stamps) // 2:
            (line_a, text_a), (line_b, text_b) = (_place(data_cfg, frame, int(rows[r]), column) for r in (0, -1))
            how = f"they run backwards in time, newest first ({line_a}: {_cell(text_a)}; {line_b}: {_cell(text_b)})"
            learns = "the model learns the series backwards in time"
        else:
            (line_a, text_a), (line_b, text_b) = (_place(data_cfg, frame, int(rows[r]), column)
                                                  for r in (back[0], back[0] + 1))
            how = (f"they are not in time order ({_plural(len(back), 'row')} earlier than the row above; the first: "
                   f"{line_b}, {_cell(text_b)}, after {line_a}, {_cell(text_a)})")
            learns = "the model learns from rows out of time order"
        tell(f"data.date_column is null, but column {column!r} of {_source(data_cfg)} holds time stamps, and {how}: "
             f"the rows are used in file order, so {learns}; set data.date_column: {column} to sort the rows by it")
        return


def _refuse_repeated(stamps: pd.DatetimeIndex, frame: pd.DataFrame, data_cfg) -> None:
    """Two rows of one time stamp (also two UTC offsets that name the same instant) are refused, naming both."""
    repeated = stamps.duplicated()
    if not repeated.any():
        return
    second = int(np.argmax(repeated))
    first = int(np.argmax(stamps == stamps[second]))
    date = data_cfg.date_column
    _refuse_split_stamps(stamps, first, frame, data_cfg)
    (line_a, text_a), (line_b, text_b) = (_place(data_cfg, frame, r, date) for r in (first, second))
    same = f"{stamps[second]}" + (" once converted to UTC" if stamps.tz is not None and text_a != text_b else "")
    more = f" ({_plural(int(repeated.sum()), 'row')} repeat an earlier one)" if repeated.sum() > 1 else ""
    raise ConfigError(f"invalid configuration: {_source(data_cfg)}, column {date!r}: {line_a} ({_cell(text_a)}) and "
                      f"{line_b} ({_cell(text_b)}) hold the same time stamp, {same}{more}; each time step must be one "
                      f"row: remove or merge the repeated rows")


# a time of day by itself: 00:00, 7:30:00, 13:45:10.5, 07:30 PM
_TIME_OF_DAY = re.compile(r"\s*\d{1,2}:\d\d(:\d\d(\.\d+)?)?(\s*[AaPp]\.?[Mm]\.?)?\s*")


def _refuse_split_stamps(stamps: pd.DatetimeIndex, first: int, frame: pd.DataFrame, data_cfg) -> None:
    """Refuse dates repeated because the time of day is in another column (date,time,... as the UCI household power
    file is written): the fix is to join the two, not to remove rows. ``first``: the first row whose stamp repeats."""
    if (stamps != stamps.normalize()).any():
        return
    date = data_cfg.date_column
    cols = list(frame.columns)
    at = cols.index(date)
    near = sorted((c for c in cols if c != date), key=lambda c: abs(cols.index(c) - at))  # the next column first
    time = next((c for c in near if pd.api.types.is_string_dtype(frame[c]) and frame[c].notna().all()
                 and frame[c].astype(str).str.fullmatch(_TIME_OF_DAY).all()), None)
    if time is None:
        return
    same = np.flatnonzero(stamps == stamps[first])
    (line_a, text_a), (line_b, _) = (_place(data_cfg, frame, int(r), date) for r in (same[0], same[-1]))
    _, time_a = _place(data_cfg, frame, int(same[0]), time)
    raise ConfigError(f"invalid configuration: {_source(data_cfg)}, column {date!r} (data.date_column): the time "
                      f"stamps are dates only ({_cell(text_a)} on {_plural(len(same), 'line')}, from {line_a} to "
                      f"{line_b}), and column {time!r} holds the time of day ({line_a}: {_cell(time_a)}): each time stamp "
                      f"is split over two columns, and tsflow reads it from one: join them into one column of time "
                      f"stamps (date + ' ' + time, such as '{text_a.strip()} {time_a.strip()}') and name it in "
                      f"data.date_column")


def _gaps(stamps: pd.DatetimeIndex, order: np.ndarray, values: np.ndarray, frame: pd.DataFrame, data_cfg,
          tell) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Missing time steps in the sorted ``stamps`` (rows ``values``, file rows ``order``), as ``data.gaps`` says:
    refused, filled in by linear interpolation, or allowed. The step is the most common difference between
    consecutive stamps; a gap is a difference of 1.5 steps or more (a calendar's uneven months or leap years
    are not gaps). Returns the rows, per row whether a gap precedes it, and with ``allow`` what was found (told
    once the windows that span a gap are counted)."""
    gap_before = np.zeros(len(values), dtype=bool)
    if len(stamps) < 3:
        return values, gap_before, None
    diffs = np.diff(stamps.asi8)
    kinds, counts = np.unique(diffs, return_counts=True)
    step = kinds[np.argmax(counts)]  # the most common difference (the shortest of equally common ones)
    _refuse_off_grid(stamps, order, step, frame, data_cfg)
    missing = (np.floor(diffs / step + 0.5) - 1).astype(np.int64)
    gaps = np.flatnonzero(missing >= 1)  # a gap between sorted rows g and g + 1
    if len(gaps) == 0:
        return values, gap_before, None
    g = int(gaps[0])
    date = data_cfg.date_column
    step_text = _duration(stamps[int(np.argmax(diffs == step)) + 1] - stamps[int(np.argmax(diffs == step))])
    (line_a, _), (line_b, _) = (_place(data_cfg, frame, int(order[r]), date) for r in (g, g + 1))
    first = (f"the first: {stamps[g]} ({line_a}) is followed by {stamps[g + 1]} ({line_b}), "
             f"{_plural(int(missing[g]), 'step')} missing")
    big = int(gaps[np.argmax(missing[gaps])])
    if missing[big] > missing[g]:
        (line_a, _), (line_b, _) = (_place(data_cfg, frame, int(order[r]), date) for r in (big, big + 1))
        first += (f"; the largest: {stamps[big]} ({line_a}) is followed by {stamps[big + 1]} ({line_b}), "
                  f"{_plural(int(missing[big]), 'step')} missing")
    first += _stray_stamps(stamps, order, frame, data_cfg)
    total = int(missing[gaps].sum())
    found = (f"the time stamps of {_source(data_cfg)} (data.date_column = {date!r}) have "
             f"{_plural(len(gaps), 'gap')}, {_plural(total, 'missing step')} in all (the step, the most common "
             f"difference between consecutive stamps, is {step_text}); {first}")
    if data_cfg.gaps == "refuse":
        raise ConfigError(f"invalid configuration: data.gaps = 'refuse': {found}; set data.gaps: fill to fill in the "
                          f"missing steps by linear interpolation, or data.gaps: allow to cut windows across the gaps")
    if data_cfg.gaps == "fill":
        if total > len(values):
            raise ConfigError(f"invalid configuration: data.gaps = 'fill': {found}; filling in would make up "
                              f"{total:,} rows, more than the {len(values):,} the data holds: correct the time stamps, "
                              f"or set data.gaps: allow to cut windows across the gaps")
        at = np.arange(len(values)) + np.concatenate([[0], np.cumsum(np.maximum(missing, 0))])  # rows' new places
        grid = np.arange(at[-1] + 1)
        filled = np.column_stack([np.interp(grid, at, values[:, j]) for j in range(values.shape[1])])
        tell(f"data.gaps = 'fill': {found}; filled in {_plural(total, 'row')} by linear interpolation between the "
             f"rows around each gap: the data has {len(filled):,} rows instead of {len(values):,}")
        return filled, np.zeros(len(filled), dtype=bool), None
    gap_before[gaps + 1] = True
    return values, gap_before, found


def _refuse_off_grid(stamps: pd.DatetimeIndex, order: np.ndarray, step: int, frame: pd.DataFrame,
                     data_cfg) -> None:
    """Refuse, whatever data.gaps says, stamps off the grid of the step (08:30 among hourly stamps), which no fill
    or window could place: the grid is the stamps' most common offset from the first modulo the step, and a stamp
    is off it when its offset differs, i.e. it is not a whole number of steps from the stamps on the grid (so an
    off-grid first stamp is the one named, not every other one).

    A calendar step (28 days or more: months, quarters, years) has no fixed length, so a month's stamps are not
    whole numbers of its most common difference (31 days) apart: not checked. Nor are stamps with UTC offsets at a
    step of a day or more: read in UTC, a local day across a change of summer time is 23 or 25 hours long."""
    first_step = int(np.argmax(np.diff(stamps.asi8) == step))
    step_td = stamps[first_step + 1] - stamps[first_step]
    if step <= 0 or step_td >= pd.Timedelta(days=28) or (stamps.tz is not None and step_td >= pd.Timedelta(days=1)):
        return
    phase = (stamps.asi8 - stamps.asi8[0]) % step
    values, counts = np.unique(phase, return_counts=True)
    grid = values[np.argmax(counts)]
    off = np.flatnonzero(phase != grid)  # sorted rows off the grid
    if len(off) == 0:
        return
    rows = order[off]  # their rows in file order
    row = int(rows.min())
    at = int(off[np.argmin(rows)])  # the sorted position of the first in file order
    _refuse_jitter(stamps, order, frame, data_cfg, step_td)
    date = data_cfg.date_column
    where, text = _where(data_cfg, frame, row, date)
    unit = step_td / step  # one unit of asi8
    past = _duration(unit * int((phase[at] - grid) % step))
    on = next((r for r in (at - 1, at + 1) if 0 <= r < len(stamps) and phase[r] == grid), None)
    near = ""
    if on is not None:
        line, near_text = _place(data_cfg, frame, int(order[on]), date)
        near = f" (such as {line}, {_cell(near_text)})"
    count = (f"{_plural(len(off), 'row')} of the {len(stamps):,} are off the grid" if len(off) > 1
             else "it is the only row off the grid")
    every = _duration(step_td)
    raise ConfigError(f"invalid configuration: {where} (data.date_column): {_cell(text)} is off the grid of the time step, "
                      f"{every} (the most common difference between consecutive stamps): it lies {past} after a step, "
                      f"not a whole number of steps from the other stamps{near}; {count}; whatever data.gaps says, a "
                      f"row must fall on a step (neither a fill nor a window can place it): correct or remove that "
                      f"row, or resample the file to one row every {every}")


# the steps a logger is set to; stamps within JITTER of a step's grid are that step's, scattered by the clock
ROUND_STEPS = [pd.Timedelta(s) for s in ("1s", "2s", "5s", "10s", "15s", "30s", "1min", "2min", "5min", "10min",
                                         "15min", "20min", "30min", "1h", "2h", "3h", "4h", "6h", "12h", "1D", "7D")]
JITTER = 0.05  # share of the step


def _refuse_jitter(stamps: pd.DatetimeIndex, order: np.ndarray, frame: pd.DataFrame, data_cfg,
                   common: pd.Timedelta) -> None:
    """Refuse stamps off the grid that all lie within ``JITTER`` of the grid of a round step (hourly stamps a
    logger's clock writes seconds late or early: 00:00:28, 01:00:11, 02:59:41): the most common difference is then
    3603 seconds (``common``), and resampling to it is no fix; rounding each stamp to the step is."""
    ns = stamps.as_unit("ns").asi8  # pandas keeps the file's resolution (seconds, say) in asi8
    median = pd.Timedelta(int(np.median(np.diff(ns))), "ns")
    step = min(ROUND_STEPS, key=lambda s: abs(s - median))
    if abs(median - step) > JITTER * step:
        return
    size = step.value

    def apart(phase: int) -> np.ndarray:  # each stamp's distance from the nearest point of the grid through phase
        return (ns - phase + size // 2) % size - size // 2

    dev = apart(0)  # the step's round grid (00:00, 01:00, ...) first: the one pandas rounds to
    on_round = np.abs(dev).max() <= JITTER * size and step < pd.Timedelta(days=7)  # weeks round from a Thursday
    if not on_round:
        dev = apart(ns[0] + int(np.median(apart(ns[0]))))
    off = np.flatnonzero(dev)
    if np.abs(dev).max() > JITTER * size or len(off) == 0:
        return
    row = int(order[off].min())
    at = int(off[np.argmin(order[off])])
    where, text = _where(data_cfg, frame, row, data_cfg.date_column)
    worst, by = (_duration(pd.Timedelta(int(abs(d)), "ns")) for d in (np.abs(dev).max(), dev[at]))
    unit = next(u for u in ("D", "h", "min", "s") if size % pd.Timedelta(1, u).value == 0)
    how = (f" (pandas: pd.to_datetime(df[{data_cfg.date_column!r}]).dt.round('{step // pd.Timedelta(1, unit)}{unit}'))"
           if on_round else "")
    raise ConfigError(f"invalid configuration: {where} (data.date_column): {_cell(text)} is {by} "
                      f"{'after' if dev[at] > 0 else 'before'} the grid of a {_duration(step)} step: the time stamps "
                      f"scatter around a step of {_duration(step)} by up to {worst} ({len(off):,} of the "
                      f"{len(stamps):,} are off it), as a logger's clock writes them; a row must fall on a step (neither "
                      f"a fill nor a window can place it), and resampling to their most common difference, "
                      f"{_duration(common)}, is no fix: round the time stamps to the step of {_duration(step)}{how}")


def _stray_stamps(stamps: pd.DatetimeIndex, order: np.ndarray, frame: pd.DataFrame, data_cfg) -> str:
    """Rows whose time stamp breaks a file otherwise written in time order (a mistyped year, say), named with
    their neighbours: the cause of a huge gap is then plain. '' when the file is in order or not nearly so."""
    in_file = np.empty_like(stamps.asi8)
    in_file[order] = stamps.asi8  # the stamps in file order
    descents = np.flatnonzero(np.diff(in_file) < 0)  # row k is later than row k + 1
    if not 0 < len(descents) <= 3:
        return ""
    n, strays = len(in_file), []
    for k in map(int, descents):  # k is the stray when its neighbours are in order without it, else k + 1
        if k == 0:
            strays.append(0 if n < 3 or in_file[0] > in_file[2] else 1)
        else:
            strays.append(k if in_file[k - 1] <= in_file[k + 1] else k + 1)
    date = data_cfg.date_column
    told = []
    for row in dict.fromkeys(strays):
        line, text = _place(data_cfg, frame, row, date)
        near = [_place(data_cfg, frame, r, date) for r in (row - 1, row + 1) if 0 <= r < n]
        told.append(f"{line} ({_cell(text)}) is out of the file's time order (beside "
                    f"{' and '.join(f'{n} {_cell(t)}' for n, t in near)}): a mistyped time stamp?")
    return "; " + "; ".join(told)


def _windows_across(gap_before: np.ndarray, bounds: list, span: int) -> tuple[int, int]:
    """(windows that span a gap, all windows) over the splits ``bounds`` [(start, end)], a window being ``span``
    consecutive rows: one spans a gap when a gap precedes any of its rows but the first."""
    across = every = 0
    for start, end in bounds:
        n = end - start - span + 1
        if n <= 0:
            continue
        c = np.concatenate([[0], np.cumsum(gap_before[start:end])])
        s = np.arange(n)
        across += int(np.count_nonzero(c[s + span] - c[s + 1]))
        every += n
    return across, every


FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # 1.18e-38: the smallest normal float32
FLOAT64_SQUARE_TINY = float(np.sqrt(np.finfo(np.float64).tiny))  # 1.5e-154: below it a square underflows float64


def _check_magnitude(values: np.ndarray, features: list[str], data_cfg) -> None:
    """Refuse a column whose every value is below float32's normal range (a scale of 1e-310, or a series in the
    wrong unit): float32 is the precision of the model and of a host that scales the IP's inputs by the saved
    offset and scale, and there they read as 0; far enough below, their squares underflow float64 too, so the
    column cannot even be scaled and the errors of such a target read 0, as a constant's would."""
    top = np.abs(values).max(axis=0) if len(values) else np.zeros(len(features))
    tiny = [(f, float(m)) for f, m in zip(features, top) if 0 < m < FLOAT32_TINY]
    if not tiny:
        return
    column, largest = tiny[0]
    squares = " and their squares underflow float64 too," if largest < FLOAT64_SQUARE_TINY else ""
    why = (f"its values in {_source(data_cfg)} are all below float32's normal range (the largest magnitude is "
           f"{largest:.4g}; the smallest normal float32 is 1.18e-38): in float32, the precision of the model and of "
           f"a host that scales its inputs by model/dataset.json's offset and scale, they read as 0,{squares}")
    fix = f"multiply the column by a power of ten in the file (by 1e{-int(np.floor(np.log10(largest)))}, for values " \
          f"of order 1)"
    if column == data_cfg.target:
        scored = " and every error would read 0" if squares else ""
        raise ConfigError(f"invalid configuration: data.target = {column!r}: {why} so the forecasts of it mean "
                          f"nothing{scored}; {fix}")
    if not data_cfg.features:
        raise ConfigError(f"invalid configuration: data.features is not given, so every numeric column is a feature, "
                          f"but column {column!r}: {why} so it carries nothing; {fix}, or list the features in "
                          f"data.features without it")
    raise ConfigError(f"invalid configuration: data.features: column {column!r}: {why} so it carries nothing; "
                      f"{fix}, or remove it from data.features")


FLOAT32_RESOLUTION = float(np.finfo(np.float32).eps)  # 1.19e-07: float32's relative spacing, what the model
# computes in; a column varying less than this part of its level is constant to that precision


def _flat_within(column: np.ndarray) -> float:
    """-1 where ``column`` varies, else how far it spreads (0: every value equal; above 0: less than float32's
    resolution of its level, as a stuck sensor's 1.0 and 1.000000001, which reads 1.0 in float32)."""
    spread = float(np.ptp(column)) if len(column) else 0.0
    level = float(np.abs(column).max()) if len(column) else 0.0
    return spread if spread == 0 or spread < FLOAT32_RESOLUTION * level else -1.0


def _target_below_resolution(target: str, column: np.ndarray, spread: float, data_cfg) -> str:
    """A target that varies, but by less than float32 resolves at its level (a meter reading with a large fixed
    offset): said as varying, with float32's step there and the offset to subtract in the file, its lowest value
    rounded to the decade above the spread (what is left is of the spread's order, which float32 holds)."""
    level = float(np.median(column))
    step = float(np.spacing(np.float32(abs(level))))
    decade = 10.0 ** np.ceil(np.log10(spread))
    offset = float(np.round(column.min() / decade) * decade)
    return (f"invalid configuration: data.target = {target!r}: on the {len(column):,} training rows of "
            f"{_source(data_cfg)} the column varies by {spread:.3g} around {level:g} ({spread / abs(level):.2g} of "
            f"its level), below float32's resolution there: float32, the precision of the model and of a host that "
            f"scales the IP's values by model/dataset.json's offset and scale, holds numbers near {level:g} only in "
            f"steps of {step:.3g}, so the column's values would read as one or a few levels; subtract its offset in "
            f"the file (write {target} - {offset:.15g} as the column, which keeps its variation of {spread:.3g}), "
            f"or, if that variation is noise (a stuck sensor), choose a target that varies")


def _check_constant(parts: list, features: list[str], data_cfg, tell) -> list[int]:
    """A target that never changes on the training rows is refused (nothing to learn, every error 0); a feature
    that never changes there is told, and the channels whose scale is to be taken as 1 are returned: constant on
    every split, it carries nothing; varying on the validation or test rows (``parts``: the rows of each split),
    those values reach the model unscaled, far from the 0 it saw in training. Constant is also constant to float32
    precision (``_flat_within``): its scale would blow rounding noise up to many standard deviations. With
    ``data.inputs: differences`` a feature whose change is one amount at every step (a row counter) is told too:
    the model sees only that change."""
    train = parts[0]
    flat = [(j, f, float(train[0, j]), spread) for j, f in enumerate(features)
            if (spread := _flat_within(train[:, j])) >= 0]

    def every(value: float, spread: float) -> str:
        if spread == 0:
            return f"every value is {value:g}"
        return (f"every value is {value:g} to float precision: it varies by {spread:.3g}, {spread / abs(value):.2g} of its "
                f"level, below float32's resolution, {FLOAT32_RESOLUTION:.2g}, the model's precision")

    for j, f, value, spread in flat:
        if f == data_cfg.target and spread:
            raise ConfigError(_target_below_resolution(f, train[:, j], spread, data_cfg))
        if f == data_cfg.target:
            raise ConfigError(f"invalid configuration: data.target = {f!r}: the column is constant on the "
                              f"{len(train):,} training rows of {_source(data_cfg)} ({every(value, spread)}); a "
                              f"model of a constant learns nothing and every error would read 0: choose a target "
                              f"that varies, or give data.split.train rows where it does")
    for j, f, value, spread in flat:
        if f == data_cfg.target:
            continue
        said = (f"data.features: column {f!r} of {_source(data_cfg)} is constant on the {len(train):,} training rows "
                f"({every(value, spread)})")
        tolerance = FLOAT32_RESOLUTION * abs(value) if spread else 0.0
        after = [(name, part[:, j]) for name, part in zip(("validation", "test"), parts[1:])
                 if len(part) and np.any(np.abs(part[:, j] - value) > tolerance)]
        if not after:
            tell(f"{said}: it carries no information to the model (its scale is taken as 1); remove it from "
                 f"data.features")
            continue
        ranges = " and ".join(f"{name} rows {v.min():g} .. {v.max():g}" for name, v in after)
        if data_cfg.inputs == "differences":
            reach = max(float(np.abs(np.diff(v)).max()) for _, v in after)
            seen = f"its changes reach the model unscaled (up to {reach:g} a step) where training only ever showed 0"
        else:
            low = min(float(v.min()) for _, v in after) - value
            high = max(float(v.max()) for _, v in after) - value
            seen = (f"those values reach the model unscaled, as {low:g} .. {high:g} (less the training rows' "
                    f"{value:g}), where every training row showed 0")
        tell(f"{said} but not after them ({ranges}): its scale is taken as 1, so {seen}: the model never learnt "
             f"what the column does, and its forecasts of the windows holding those rows can be far off (their "
             f"errors many times the others'); remove it from data.features, or give data.split.train rows where it "
             f"varies")
    flat_columns = [j for j, *_ in flat]
    if data_cfg.inputs == "differences":
        for j, f in enumerate(features):
            steps = np.diff(train[:, j])
            if f == data_cfg.target or j in flat_columns or len(steps) < 2 or _flat_within(steps) < 0:
                continue
            tell(f"data.features: column {f!r} of {_source(data_cfg)} changes by the same amount at every step of the "
                 f"{len(train):,} training rows ({steps[0]:+g} a step, as a row counter or a clock does): with "
                 f"data.inputs: differences the model sees only the column's change, which then carries no "
                 f"information; remove it from data.features")
    return flat_columns


OUTLIER_IQR = 50  # a value this many inter-quartile ranges from its column's median is far outside the rest
# (on ETTh1 the farthest value of any column is 6 ranges out; a normal variable's would be 67 standard deviations)


def _spread(column: np.ndarray) -> float:
    """The column's inter-quartile range; where most values are one (a rain gauge's zeros), that of the others;
    where those are one value too, the size of the median (0: no measure of far)."""
    median = np.median(column)
    for values in (column, column[column != median]):
        if len(values) > 1:
            q1, q3 = np.percentile(values, [25, 75])
            if q3 > q1:
                return float(q3 - q1)
    return float(abs(median))


def _tell_outliers(raw: np.ndarray, parts: list, features: list[str], scaler: Scaler, frame: pd.DataFrame,
                   data_cfg, tell) -> None:
    """Tell of values far outside the rest of their column (``OUTLIER_IQR``; ``raw``: the file's rows in file order,
    ``parts``: each split's rows), such as the 1e20 or -9999 a logger writes for a missing reading: on the training
    rows they set the scale, and every other value of the column scales to almost one number; on the validation or
    test rows they reach the model far beyond anything it was trained on."""
    names = ("training", "validation", "test")
    for j, f in enumerate(features):
        median, spread = float(np.median(raw[:, j])), _spread(raw[:, j])
        if spread == 0:
            continue
        far = np.abs(raw[:, j] - median) > OUTLIER_IQR * spread
        if not far.any():
            continue
        bad = np.unique(raw[far, j])
        rows = np.flatnonzero(far)
        where = [name for name, part in zip(names, parts) if np.isin(part[:, j], bad).any()]
        if not where:
            continue  # rows no split uses
        (line, text), value = _place(data_cfg, frame, int(rows[0]), f), raw[rows[0], j]
        more = f" and {_plural(len(rows) - 1, 'other row')} so far out" if len(rows) > 1 else ""
        key = "data.target" if f == data_cfg.target else "data.features"
        said = (f"{key}: column {f!r} of {_source(data_cfg)}: {line} holds {_cell(text.strip())}{more} (on the "
                f"{' and '.join(where)} rows), {abs(value - median) / spread:.3g} times the column's inter-quartile "
                f"range ({spread:.3g}) from its median ({median:.4g}): a fill value a logger writes for a missing "
                f"reading?")
        train = parts[0][:, j]
        if "training" in where:
            rest = train[~np.isin(train, bad)]
            fair = (rest.std() if data_cfg.scaling == "standard" else np.ptp(rest)) if len(rest) else 0.0
            without = f" instead of {fair:.3g} without {'it' if len(rows) == 1 else 'them'}" if fair > 0 else ""
            what = ("the forecasts and their errors, in units of that scale, are dominated by it"
                    if f == data_cfg.target else "the column carries almost nothing to the model")
            cost = (f" It sets the column's {data_cfg.scaling} scale, {scaler.scale[j]:.3g}{without}: every other "
                    f"training value scales to within {np.ptp(rest) / scaler.scale[j]:.2g} of one another, and {what}."
                    if len(rest) else "")
        else:
            scaled = (bad - scaler.offset[j]) / scaler.scale[j]
            low, high = ((g(train) - scaler.offset[j]) / scaler.scale[j] for g in (np.min, np.max))
            part = " and ".join(where)
            cost = (f" The training rows' scale takes it to {scaled[np.argmax(np.abs(scaled))]:.3g} (the training "
                    f"rows scale to {low:.3g} .. {high:.3g}): " +
                    (f"the {part} errors of the windows forecasting it are dominated by it." if f == data_cfg.target
                     else f"the model never saw such an input, and its {part} forecasts of the windows holding it "
                          f"are meaningless."))
        tell(f"{said}{cost} Replace {'it' if len(rows) == 1 else 'them'} with {'a reading' if len(rows) == 1 else 'readings'}"
             f" in the file, or remove {'that row' if len(rows) == 1 else 'those rows'} (data.gaps: fill then fills in "
             f"the missing steps)")


def load_dataset(cfg, note=None) -> Dataset:
    """The windows of every split, scaled on the training rows. ``note(text)`` is told what the run goes on with
    but the user should know, as ``warning: ...``; without ``note`` that is a ``DataWarning``."""
    data_cfg = cfg.data
    told: list[str] = []

    def tell(text: str) -> None:
        told.append(text)
        if note is not None:
            note(f"warning: {text}")
        else:  # pointed at the caller of load_dataset, the first frame outside this file
            level, frame = 2, sys._getframe(1)
            while frame is not None and frame.f_code.co_filename == __file__:
                level, frame = level + 1, frame.f_back
            warnings.warn(text, DataWarning, stacklevel=level)

    frame, name = load_frame(data_cfg, tell)
    features = _columns(frame, data_cfg)
    values = raw = _values(frame, features, data_cfg)  # in file order, so a bad cell is named by its line
    gap_before, gaps_allowed = np.zeros(len(values), dtype=bool), None
    if data_cfg.date_column is None:
        _tell_unsorted_stamps(frame, features, data_cfg, tell)
    else:
        stamps = _stamps(frame, data_cfg)
        _refuse_repeated(stamps, frame, data_cfg)
        order = np.argsort(stamps.asi8, kind="stable")
        values = values[order]  # time order, whatever the file's
        values, gap_before, gaps_allowed = _gaps(stamps[order], order, values, frame, data_cfg, tell)
    n_train, n_val, n_test = split_rows(len(values), data_cfg.split)
    _check_split_rows((n_train, n_val, n_test), len(values), data_cfg)
    used = n_train + n_val + n_test
    if data_cfg.split.is_rows and used < len(values):
        tell(f"data.split: the row counts {n_train:,} + {n_val:,} + {n_test:,} = {used:,} use {used:,} of the "
             f"{len(values):,} rows of {_source(data_cfg)}: the last {len(values) - used:,} rows (in time order) are "
             f"in no split; give larger row counts, or fractions that sum to 1, to use them")
    borrow = data_cfg.window + data_cfg.horizon - 1 if data_cfg.split.lookback == "previous" else 0
    bounds = [(0, n_train), (n_train - borrow, n_train + n_val), (n_train + n_val - borrow, used)]
    parts = tuple(values[a:b] for a, b in bounds)
    train = parts[0]
    if gaps_allowed is not None:
        across, every = _windows_across(gap_before, bounds, window_span(data_cfg))
        tell(f"{gaps_allowed}; {across:,} of the {every:,} windows span a gap, as if the rows around it were one step "
             f"apart (data.gaps: allow, the default); set data.gaps: fill to fill in the missing steps by linear "
             f"interpolation, or data.gaps: refuse to stop at gaps")
    _check_magnitude(values[:used], features, data_cfg)
    flat = _check_constant(np.split(values[:used], [n_train, n_train + n_val]), features, data_cfg, tell)
    with np.errstate(over="ignore", invalid="ignore"):
        if data_cfg.scaling == "standard":
            offset, scale = train.mean(axis=0), train.std(axis=0)
        else:
            offset, scale = train.min(axis=0), train.max(axis=0) - train.min(axis=0)
    too_large = [f for f, o, s in zip(features, offset, scale) if not (np.isfinite(o) and np.isfinite(s))]
    if too_large:
        raise ConfigError(f"invalid configuration: data.path = {data_cfg.path!r}, column {too_large[0]!r}: values too "
                          f"large to scale ({data_cfg.scaling} scaling overflows float64); divide that column by a "
                          f"power of ten in the file")
    scale = np.where(scale > 0, scale, 1.0)
    scale[flat] = 1.0  # constant to float precision too: its rounding noise is not blown up to many deviations
    scaler = Scaler(offset, scale)
    _tell_outliers(raw, np.split(values[:used], [n_train, n_train + n_val]), features, scaler, frame, data_cfg, tell)
    target_index = features.index(data_cfg.target)
    splits = [make_windows(scaler.transform(p), target_index, data_cfg.window, data_cfg.horizon, data_cfg.steps)
              for p in parts]
    channels, channel = features, target_index
    if data_cfg.inputs == "differences":
        scaler.change_scale = change_scale(scaler.transform(train))
        splits = [as_differences(s, target_index, scaler.change_scale) for s in splits]
        channels, channel = [f"d_{f}" for f in features] + [data_cfg.target], len(features)
    return Dataset(name=name, features=channels, target=data_cfg.target, target_index=channel,
                   scaler=scaler, train=splits[0], val=splits[1], test=splits[2],
                   rows={"train": n_train, "val": n_val, "test": n_test}, target_column=target_index, warnings=told)
