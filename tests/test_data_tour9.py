"""Tour 9's data files whose message named the wrong cause or whose load was silent: a ';'-separated file with
decimal commas, lines wrapped in quotes, a cell of 4 KB, a row counter 'Unnamed: 0', a sensor constant to float
precision, two-digit years, an unreadable stamp format, a CSV's defaulted data.target, an NFD column name."""
from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from flow.config import ConfigError, parse_config
from flow.data import load_dataset

from .conftest import small_raw

N = 60


def _stamps(n: int = N) -> list[str]:
    return [f"2021-01-{1 + h // 24:02d} {h % 24:02d}:00:00" for h in range(n)]


def _raw(path, **data) -> dict:
    raw = small_raw()
    raw["data"] = {"source": "csv", "path": str(path), "target": "v", "features": None, "window": 4, **data}
    return raw


def _error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        load_dataset(parse_config(raw), note=lambda text: None)
    return str(exc.value)


def _told(raw):
    told = []
    ds = load_dataset(parse_config(raw), note=told.append)
    return ds, told


def _file(tmp_path, header: str, rows: list[str], name: str = "d.csv"):
    path = tmp_path / name
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def test_a_semicolon_file_with_decimal_commas_is_named_as_such(tmp_path):
    """a25: the decimal commas split the lines, and the message blamed the header and the quoting."""
    csv = _file(tmp_path, "date;w;v", [f"{t};{i % 7},5;{i % 5},25" for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv))
    assert "holds no comma but 2 ';'" in msg and "';'-separated with decimal commas" in msg
    assert "pd.read_csv(path, sep=';', decimal=',')" in msg and "stands beyond the last column" not in msg
    plain = _file(tmp_path, "date;w;v", [f"{t};{i % 7};{i % 5}" for i, t in enumerate(_stamps())], "p.csv")
    msg = _error(_raw(plain))
    assert "the file is ';'-separated, and tsflow reads comma-separated CSV only" in msg and "decimal" not in msg


def test_lines_wrapped_in_quotes_are_named(tmp_path):
    """a64: each line one quoted field; the message listed one column 'date,w,v'."""
    csv = _file(tmp_path, '"date,w,v"', [f'"{t},{i % 7},{i % 5}"' for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv))
    assert "every line of the file is wrapped in one pair of double quotes" in msg
    assert "remove the outer quotes of every line" in msg and "no such column" not in msg


def test_a_long_cell_is_clipped_with_its_length(tmp_path):
    """a34 / a104: the whole cell came first (16 KB of NUL escapes, 5,000 characters)."""
    rows = [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())]
    rows[5] = f"{_stamps()[5]},ERR:{'x' * 5000},3"
    msg = _error(_raw(_file(tmp_path, "date,w,v", rows)))
    assert f"line 7, column 'w': 'ERR:{'x' * 36}\u2026' (5,004 characters) is not a number" in msg
    assert len(msg) < 400
    path = tmp_path / "nul.csv"
    path.write_bytes(("w,v\n" + "".join(f"{i * 1.123456789:.9f},{i % 5}\n" for i in range(2000))).encode()
                     + b"\0" * 4096)  # a logger's preallocated padding
    msg = _error(_raw(path, date_column=None))
    assert "'\\x00\\x00\\x00\u2026' (4,096 NUL bytes) holds a control character" in msg and len(msg) < 500
    assert "other NUL byte" not in msg  # they are all in that cell


def test_a_target_of_labels_names_its_first_cell(tmp_path):
    """a26: 'not a numeric column' named no line and no cell where no hint applied."""
    csv = _file(tmp_path, "date,w,v", [f"{t},{i % 7},S{i}" for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv))
    assert f"data.target = 'v': not a numeric column (60 of its 60 cells are not numbers; the first: data.path = " \
           f"{str(csv)!r}, line 2, column 'v': 'S0'" in msg
    # a column of labels is still left out of the default features
    assert load_dataset(parse_config(_raw(csv, target="w")), note=lambda t: None).features == ["d_w", "w"]
    dollar = _file(tmp_path, "date,w,v", [f"{t},{i % 7},${i}.5" for i, t in enumerate(_stamps())], "s.csv")
    msg = _error(_raw(dollar, features=["w", "v"]))
    assert "line 2, column 'v'" in msg and "'$0.5' is not a number: it carries the unit '$'" in msg


def test_an_unnamed_row_counter_is_refused_as_a_default_feature(tmp_path):
    """a35: pandas' index written as 'Unnamed: 0' became a feature whose change is always 1, without a word."""
    csv = _file(tmp_path, "Unnamed: 0,date,w,v",
                [f"{i},{t},{(i * 7) % 11},{(i * 3) % 5}" for i, t in enumerate(_stamps())])
    msg = _error(_raw(csv))
    assert "column 'Unnamed: 0'" in msg and "looks like a row index" in msg and "index=False" in msg
    assert "list the features in data.features without it" in msg
    # named in data.features: kept, and told that its change carries nothing
    _, told = _told(_raw(csv, features=["Unnamed: 0", "w", "v"]))
    assert any("column 'Unnamed: 0'" in t and "changes by the same amount at every step" in t and
               "data.inputs: differences" in t for t in told)
    _, told = _told(_raw(csv, features=["Unnamed: 0", "w", "v"], inputs="levels"))
    assert not any("same amount" in t for t in told)


def test_a_column_constant_to_float_precision_is_treated_as_constant(tmp_path):
    """a37: 1.0 everywhere but one 1.000000001 got scale 2.9e-11 and a 24-sigma input spike."""
    rows = [f"{t},1.0,{(i * 3) % 5}" for i, t in enumerate(_stamps())]
    rows[10] = f"{_stamps()[10]},1.000000001,0"
    csv = _file(tmp_path, "date,sensor,v", rows)
    ds, told = _told(_raw(csv))
    said = [t for t in told if "column 'sensor'" in t]
    assert said and "every value is 1 to float precision: it varies by 1e-09, 1e-09 of its level" in said[0]
    assert "its scale is taken as 1" in said[0]
    assert ds.scaler.scale[0] == 1.0 and np.abs(ds.train.x).max() < 10
    msg = _error(_raw(csv, target="sensor"))
    # tour 10 a36: a target is said to vary, below float32's resolution, with the offset to subtract
    assert "data.target = 'sensor': on the 36 training rows" in msg and "varies by 1e-09 around 1 " in msg
    assert "below float32's resolution" in msg and "write sensor - 1 as the column" in msg


def test_two_digit_years_are_refused_with_the_readings(tmp_path):
    """a65: '16-07-01 00:00' was read day first (16 July 2001) and the rows trained on out of order."""
    stamps = [f"16-07-{1 + h // 24:02d} {h % 24:02d}:00" for h in range(N)]
    csv = _file(tmp_path, "date,w,v", [f"{t},{i % 7},{i % 5}" for i, t in enumerate(stamps)])
    msg = _error(_raw(csv))
    assert "line 2, column 'date' (data.date_column): '16-07-01 00:00' has a two-digit year" in msg
    assert "2016-07-01 00:00 if it is yy-mm-dd" in msg and "2001-07-16 00:00 if it is dd-mm-yy" in msg


@pytest.mark.parametrize("stamps, said", [
    ([f"2000-W{w:02d}" for w in range(1, 53)], "an ISO week date, year and week, which tsflow does not read: write "
                                               "the date of the week's Monday instead, 2000-01-03 for 2000-W01"),
    ([f"{1 + h // 24:02d} juil. 2016 {h % 24:02d}:00" for h in range(N)], "the word 'juil.' is not an English month"),
])
def test_an_unreadable_stamp_format_is_named_as_a_format(tmp_path, stamps, said):
    """a88 / a89: 'fill in or remove that row' for line 2, the first of a whole column of such stamps."""
    csv = _file(tmp_path, "date,w,v", [f"{t},{i % 7},{i % 5}" for i, t in enumerate(stamps)])
    msg = _error(_raw(csv))
    assert f"{stamps[0]!r} (line 2, the first time stamp) is in no format tsflow reads, and every time stamp is " \
           f"unreadable" in msg
    assert said in msg and "data.date_column: null" in msg and "fill in or remove that row" not in msg
    # one bad row among readable stamps keeps the row's advice
    rows = [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())]
    rows[3] = "garbage,3,3"
    assert "fill in or remove that row" in _error(_raw(_file(tmp_path, "date,w,v", rows, "one.csv")))


def test_a_defaulted_target_says_it_was_not_given(tmp_path):
    """a83: 'data.target = 'temp': not a column' of a CSV whose config never wrote 'temp'."""
    csv = _file(tmp_path, "date,w,v", [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())])
    raw = _raw(csv)
    del raw["data"]["target"]
    msg = _error(raw)
    assert "data.target was not given and took its default 'temp', the column forecast of the built-in " \
           "'seattle-temps'" in msg and "set data.target to the column to forecast, one of the numeric columns: " \
                                        "w, v" in msg
    msg = _error(_raw(csv, target="temp"))  # written: the plain message
    assert "not given" not in msg


def test_a_column_name_in_another_unicode_form_is_the_same_column(tmp_path):
    """a86: 'température' in NFD in the file, NFC in the config: 'not a column' of two names that print alike."""
    nfd = unicodedata.normalize("NFD", "température")
    csv = _file(tmp_path, f"date,w,{nfd}", [f"{t},{i % 7},{i % 5}" for i, t in enumerate(_stamps())])
    ds, told = _told(_raw(csv, target="température"))
    assert ds.target == "température" and ds.features == ["d_w", "d_température", "température"]
    assert any("data.target: 'température' is written in Unicode form NFC" in t and "in NFD" in t and
               "COMBINING ACUTE ACCENT" in t for t in told)
