"""Odd CSV files and data paths of tour 6 whose refusal named a wrong cause: each message names the real one (a
column empty on every row, a trailing comma, a time of day in its own column, a look-alike letter in a name, a
slip in writing data.path) and the fix, never 'fill in or remove that row' for a whole column."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from flow.config import ConfigError, load_config, parse_config
from flow.data import load_dataset

from .conftest import CLI_ENV, small_raw

N = 60  # data rows of each file: lines 2 to 61


def _stamps(n: int = N) -> list[str]:
    return [f"2021-01-{1 + h // 24:02d} {h % 24:02d}:00:00" for h in range(n)]


def _raw(path, **data) -> dict:
    raw = small_raw()
    raw["data"] = {"source": "csv", "inputs": "levels", "path": str(path), "target": "v", "features": None,
                   "window": 4, **data}
    return raw


def _error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        load_dataset(parse_config(raw), note=lambda text: None)
    return str(exc.value)


def _file(tmp_path, header: str, rows: list[str], name: str = "d.csv"):
    path = tmp_path / name
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


# --- a48: a column empty on every row ---------------------------------------------------------------------------

def test_a_column_empty_on_every_row_is_named_as_such_with_the_key_that_made_it_a_feature(tmp_path):
    csv = _file(tmp_path, "date,v,w,EMPTY", [f"{t},{i % 7},{i % 5}," for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv))
    assert f"data.features is not given, so every numeric column is a feature, but column 'EMPTY' of data.path = " \
           f"{str(csv)!r} is empty on every row (60 of 60 cells)" in msg
    assert "listing the features in data.features (such as [v, w])" in msg and "remove the column" in msg
    assert "fill in or remove that row" not in msg and "line 2" not in msg
    # listed in data.features: that is the key to change
    msg = _error(_raw(csv, features=["v", "EMPTY"]))
    assert "data.features: column 'EMPTY'" in msg and "is empty on every row" in msg
    assert "remove it from data.features" in msg
    # the target itself
    msg = _error(_raw(csv, target="EMPTY", features=["v", "EMPTY"]))
    assert msg.startswith("invalid configuration: data.target = 'EMPTY': column 'EMPTY'")
    assert "is empty on every row (60 of 60 cells): there is nothing to forecast" in msg
    # left out of data.features: the file loads
    ds = load_dataset(parse_config(_raw(csv, features=["v", "w"])), note=lambda text: None)
    assert ds.features == ["v", "w"]


def test_a_column_of_missing_value_marks_only_says_so(tmp_path):
    csv = _file(tmp_path, "date,v,w,x", [f"{t},{i % 7},{i % 5},NA" for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv))
    assert "column 'x'" in msg and "holds no value on any row (each of its 60 cells is empty or a missing-value " \
                                   "mark such as 'NA')" in msg


def test_one_empty_cell_is_still_named_by_its_line(tmp_path):
    rows = [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())]
    rows[9] = rows[9].rsplit(",", 1)[0] + ","  # line 11
    msg = _error(_raw(_file(tmp_path, "date,v,w", rows)))
    assert "line 11, column 'w': '' is empty (a missing value)" in msg and "fill in or remove that row" in msg


# --- a49: data lines with more fields than the header names ------------------------------------------------------

def test_a_trailing_comma_on_every_data_line_is_named_not_a_number_called_missing(tmp_path):
    csv = _file(tmp_path, "date,v,w", [f"{t},{i % 7}.5,{i % 5}," for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv))
    assert f"data.path = {str(csv)!r}: cannot read CSV: line 2 has 4 fields, but the header (line 1: date,v,w) " \
           f"names 3 columns: the line ends with a comma (a trailing comma) that the header does not" in msg
    assert "all 60 data lines have more fields than the header" in msg
    assert "remove the trailing commas from the data lines" in msg
    assert "missing value" not in msg and "is empty" not in msg


def test_a_value_beyond_the_last_column_is_named_with_its_line(tmp_path):
    rows = [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())]
    rows[10] = rows[10].rsplit(",", 1)[0] + ",2,5"  # line 12: an unquoted decimal comma
    msg = _error(_raw(_file(tmp_path, "date,v,w", rows)))
    assert "cannot read CSV: line 12 has 4 fields, but the header (line 1: date,v,w) names 3 columns: '5' stands " \
           "beyond the last column" in msg
    assert "(a decimal comma, as in 2,5?)" in msg and "it is the only such line" in msg
    # on the first data line, where pandas would take the first column for row labels instead of stopping
    rows = [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())]
    rows[0] += ",9"
    msg = _error(_raw(_file(tmp_path, "date,v,w", rows)))
    assert "line 2 has 4 fields" in msg and "'9' stands beyond the last column" in msg


# --- a50: the time of day in a column of its own ------------------------------------------------------------------

def test_dates_with_the_time_of_day_beside_them_are_named_as_one_stamp_split_in_two(tmp_path):
    rows = [f"{t.replace(' ', ',')},{i % 7},{i % 5}" for i, t in enumerate(_stamps())]
    msg = _error(_raw(_file(tmp_path, "date,time,v,w", rows)))
    assert "column 'date' (data.date_column): the time stamps are dates only ('2021-01-01' on 24 lines, from line 2 " \
           "to line 25), and column 'time' holds the time of day (line 2: '00:00:00')" in msg
    assert "join them into one column of time stamps (date + ' ' + time, such as '2021-01-01 00:00:00') and name " \
           "it in data.date_column" in msg
    assert "remove or merge the repeated rows" not in msg
    # a repeated day without a column of times: still a repeated stamp
    days = [f"2021-{1 + d // 28:02d}-{1 + d % 28:02d}" for d in range(N)]  # 28 days a month: gaps, allowed
    days[20] = days[19]  # line 22 repeats line 21
    msg = _error(_raw(_file(tmp_path, "date,v,w", [f"{t},{i % 7},{i % 5}" for i, t in enumerate(days)])))
    assert "line 21 ('2021-01-20') and line 22 ('2021-01-20') hold the same time stamp" in msg
    assert "remove or merge the repeated rows" in msg


# --- a82: a date column empty on every row ------------------------------------------------------------------------

def test_a_date_column_empty_on_every_row_is_called_empty_not_numbers(tmp_path):
    csv = _file(tmp_path, "date,v,w", [f",{i % 7},{i % 5}" for i in range(N)])
    msg = _error(_raw(csv))
    assert f"data.path = {str(csv)!r}, column 'date' (data.date_column = 'date') is empty on every row (60 of 60 " \
           f"cells): there are no time stamps to read; set data.date_column: null if the rows are in time order" in msg
    assert "numbers" not in msg


# --- a93: a name that differs only by a look-alike character -----------------------------------------------------

@pytest.mark.parametrize("key", ["target", "features", "date_column"])
def test_a_look_alike_letter_in_a_column_name_is_named_by_its_code_point(tmp_path, key):
    header = {"target": "date,\u041eT,w", "features": "date,OT,\u0455peed", "date_column": "\u0501ate,OT,w"}[key]
    csv = _file(tmp_path, header, [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())])
    raw = _raw(csv, target="OT", features={"features": ["OT", "speed"]}.get(key))
    msg = _error(raw)
    column, char, ascii_char = {"target": ("\u041eT", "U+041E CYRILLIC CAPITAL LETTER O", "'O'"),
                                "features": ("\u0455peed", "U+0455 CYRILLIC SMALL LETTER DZE", "'s'"),
                                "date_column": ("\u0501ate", "U+0501 CYRILLIC SMALL LETTER KOMI DE", "'d'")}[key]
    assert f"the file has column {column!r}, whose character 1 is {char} where data.{key} has {ascii_char}: the " \
           f"two names print alike but differ" in msg
    assert f"copy it from there into data.{key}" in msg


def test_a_name_that_differs_otherwise_gets_no_look_alike_hint(tmp_path):
    csv = _file(tmp_path, "date,OTX,w", [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv, target="OT"))
    assert "data.target = 'OT': not a column" in msg and "print alike" not in msg


# --- a59, a97: a slip in writing data.path -------------------------------------------------------------------------

def _config_error(tmp_path, path: str) -> str:
    (tmp_path / "csv").mkdir(exist_ok=True)
    _file(tmp_path / "csv", "date,v,w", [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())])
    raw = _raw("x")
    raw["data"]["path"] = path
    config = tmp_path / "cfg" / "c.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as exc:
        load_dataset(load_config(config), note=lambda text: None)
    return str(exc.value)


@pytest.mark.parametrize("written, name, where", [("../csv/d.csv ", "'d.csv '", "ends with a space"),
                                                  ("../csv/d.csv  ", "'d.csv  '", "ends with spaces"),
                                                  (" ../csv/d.csv", "' ..'", "starts with a space")])
def test_a_path_with_whitespace_at_an_end_says_so_and_names_the_file_that_exists(tmp_path, written, name, where):
    msg = _config_error(tmp_path, written)
    assert f"data.path = {written!r}" in msg and "file not found" in msg
    assert f"the name {name} {where} (a quoting slip?), and '../csv/d.csv' exists: write the path as " \
           f"'../csv/d.csv'" in msg


def test_a_path_with_a_trailing_space_and_no_file_without_it_does_not_claim_one_exists(tmp_path):
    msg = _config_error(tmp_path, "../csv/other.csv ")
    assert "the name 'other.csv ' ends with a space (a quoting slip?): write the path as '../csv/other.csv'" in msg
    assert "exists" not in msg


def test_a_path_from_the_home_of_no_such_user_says_there_is_no_such_user(tmp_path):
    msg = _config_error(tmp_path, "~tsflow_no_such_user/data/ETTh1.csv")
    assert "data.path = '~tsflow_no_such_user/data/ETTh1.csv'" in msg and "file not found" in msg
    assert "it starts with ~tsflow_no_such_user, but there is no user 'tsflow_no_such_user' whose home folder that " \
           "would be, so it was read as a folder named '~tsflow_no_such_user'" in msg


def test_a_plain_missing_file_gets_no_hint(tmp_path):
    msg = _config_error(tmp_path, "../csv/nope.csv")
    assert msg.endswith("file not found")


# --- the command line: one error line, exit 2, no folder ------------------------------------------------------

def test_the_cli_refuses_a_trailing_comma_file_on_one_line_before_any_folder(tmp_path):
    _file(tmp_path, "date,v,w", [f"{t},{i % 7},{i % 5}," for i, t in enumerate(_stamps())])
    raw = _raw("d.csv")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    done = subprocess.run([sys.executable, "-m", "flow", "build", "c.yaml", "--out", "b"], cwd=tmp_path, env=CLI_ENV,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr, done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.startswith("error:")]
    assert "line 2 has 4 fields, but the header (line 1: date,v,w) names 3 columns" in line
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()
