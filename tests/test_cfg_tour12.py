"""Tour 12's configuration messages: a key with a look-alike non-ASCII letter told to write what it looks like, an
unquoted date in a text key said as a Python repr, a split at dates told 'a number', and a port's integer below
its range not pointed at the per-tensor key that takes it."""
from __future__ import annotations

import subprocess
import sys

import pytest

from flow.config import ConfigError, load_config


def _error(tmp_path, text: str) -> str:
    """The message of loading ``text`` (with a small model section unless it gives its own)."""
    path = tmp_path / "c.yaml"
    model = "" if text.startswith("model:") else "model: {d_model: 8, heads: 1}\n"
    path.write_text(model + text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    return str(exc.value)


def test_a_key_with_a_cyrillic_letter_names_the_letter_and_the_key_it_looks_like(tmp_path):
    message = _error(tmp_path, "d\u0430ta: {window: 8}\n")  # a05: U+0430 for the second letter
    assert "'d\u0430ta' is not data: its character 2 is U+0430 CYRILLIC SMALL LETTER A, not the ASCII 'a'" in message
    assert "write data: {window: 8}" not in message  # the old advice, which reads exactly like the key written


def test_a_choice_with_a_look_alike_letter_is_named_too(tmp_path):
    message = _error(tmp_path, "model: {d_model: 8, heads: 1, head: me\u0430n}\n")
    assert "model.head = 'me\u0430n': 'me\u0430n' is not mean: its character 3 is U+0430" in message


def test_a_non_ascii_key_like_no_known_key_still_names_its_characters(tmp_path):
    message = _error(tmp_path, "d\u0430t: 1\n")
    assert "'d\u0430t' holds U+0430 CYRILLIC SMALL LETTER A at character 2; every key is ASCII" in message


@pytest.mark.parametrize("text, line", [
    ("name: 2024-01-01\n", "name = 2024-01-01: YAML reads an unquoted 2024-01-01 as a date, not as text; quote it: "
                           "name: '2024-01-01'"),  # a89
    ("export: {description: 2024-01-01}\n", "export.description = 2024-01-01: YAML reads an unquoted 2024-01-01 as a "
                                            "date, not as text; quote it: description: '2024-01-01'"),  # a91
    ("export: {description: 1e3}\n", "export.description = 1e3: YAML reads an unquoted 1e3 as the number 1000.0, not "
                                     "as text; quote it: description: '1e3'"),
    ("name: 2024-01-01 10:00:00\n", "YAML reads an unquoted 2024-01-01 10:00:00 as a date and time"),
    ("export: {library: yes}\n", "export.library = True: YAML reads an unquoted on, yes or true as the boolean True; "
                                 "quote it: library: 'yes'"),
])
def test_a_text_key_given_what_yaml_reads_as_another_type_says_it_as_written_and_to_quote_it(tmp_path, text, line):
    message = _error(tmp_path, text)
    assert line in message
    assert "datetime" not in message


def test_the_quoted_date_is_then_taken(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: '2024-01-01'\nexport: {description: '2024-01-01'}\n", encoding="utf-8")
    cfg = load_config(path)
    assert (cfg.name, cfg.export.description) == ("2024-01-01", "2024-01-01")


def test_a_quoted_form_the_key_refuses_too_is_not_advised(tmp_path):
    message = _error(tmp_path, "export: {version: 2024-01-01}\n")
    assert "as a date, not as text, and as text it is not allowed either: allowed: MAJOR.MINOR" in message
    assert "quote it" not in message


def test_a_split_at_dates_is_one_line_with_what_the_split_takes_and_the_row_counts_to_give(tmp_path):
    message = _error(tmp_path, "data: {window: 8, split: {train: 2010-08-31, val: 2010-10-31, test: 2010-12-31}}\n")
    lines = [line for line in message.splitlines() if "data.split" in line]
    assert len(lines) == 1, message  # a93: six lines before, three 'not a number' and three 'an integer'
    assert ("data.split = {...}: train = 2010-08-31, val = 2010-10-31 and test = 2010-12-31 are dates, and "
            "data.split takes no dates: it takes fractions of the rows, in time order, that sum to 1") in lines[0]
    assert "or row counts (train: 1200, val: 400, test: 400" in lines[0]
    assert "train the rows up to 2010-08-31, val those after it up to 2010-10-31" in lines[0]


def test_a_split_with_one_quoted_date_names_it_without_the_row_counts(tmp_path):
    message = _error(tmp_path, "data: {window: 8, split: {train: '2010-08-31', val: 0.2, test: 0.2}}\n")
    assert "data.split = {...}: train = 2010-08-31 is a date, and data.split takes no dates" in message
    assert "count the data's rows" not in message


def test_a_port_integer_below_its_range_points_at_the_tensor_key_that_takes_it(tmp_path):
    message = _error(tmp_path, "quantization: {output: {integer: -1}}\n")  # a64, as a63's warning advised
    assert "quantization.output.integer = -1: allowed: an integer >= 1 or 'auto'" in message
    assert ("for head.output write quantization: {layers: {head: {output: {integer: -1}}}} "
            "(quantization.layers.head.output.integer) in its place") in message
    assert "quantization.layers.delta.output.integer for delta.output" in message
    message = _error(tmp_path, "model: {d_model: 8, heads: 1, predict_delta: false}\n"
                               "quantization: {input: {integer: 0}, output: {integer: -9}}\n")
    assert "quantization.layers.input.output.integer" in message
    assert "delta" not in message
    assert "quantization.output.integer = -9: allowed: an integer >= 1 or 'auto'\n" in message + "\n"  # past -8 too


def test_the_advised_per_tensor_key_is_accepted(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: {d_model: 8, heads: 1}\nquantization: {layers: {head: {output: {integer: -1}}}}\n")
    assert load_config(path).quantization.layers["head"].output.integer == -1


def test_the_cli_exits_2_with_the_message_and_no_traceback(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: 2024-01-01\nmodel: {d_model: 8, heads: 1}\n")
    proc = subprocess.run([sys.executable, "-m", "flow", "estimate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "name = 2024-01-01: YAML reads an unquoted 2024-01-01 as a date" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
