"""Tour 10 half B: flags a user may expect that are YAML keys, whole-number flags, --study and --storage slips,
a report copied beside its original, hls4ml's io_type. Each refusal names the flag (or key) and what to write."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import CLI_ENV as ENV, TINY


def _tsflow(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flow", *args], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=300)


def _benchmark(cwd: Path, module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"flow.benchmarks.{module}", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def _one_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout, done.stderr
    return " ".join(done.stderr.split())


@pytest.fixture
def config(tmp_path):
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({**TINY, "search": {"space": {"quantization.bits": [8]}}}))
    return tmp_path


@pytest.mark.parametrize("args, expect", [
    (["search", "c.yaml", "--trials", "1", "--out", "o", "--seed", "3"],
     "error: No such option '--seed': tsflow search reads it from the YAML configuration: search.seed "
     "(search: {seed: 3}); see 'tsflow search --help'"),
    (["build", "c.yaml", "--out", "o", "--epochs=2"],
     "error: No such option '--epochs': tsflow build reads it from the YAML configuration: training.float_epochs "
     "and training.qat_epochs (training: {float_epochs: 2, qat_epochs: 2}); see 'tsflow build --help'"),
    (["train", "c.yaml", "--out", "o", "--window", "16"],
     "error: No such option '--window': tsflow train reads it from the YAML configuration: data.window "
     "(data: {window: 16})"),
    (["csim", "o", "--bits", "4"],
     "error: No such option '--bits': tsflow csim reads it from the YAML configuration of the build (build again to "
     "change it): quantization.bits (quantization: {bits: 4})"),
], ids=["search-seed", "build-epochs", "train-window", "csim-bits"])
def test_a_flag_that_is_a_yaml_key_names_the_key(args, expect, config):
    """b03: 'search --seed 3' got click's "Did you mean '--study'?"."""
    message = _one_error(_tsflow(config, *args))
    assert message.startswith(expect), message
    assert "Did you mean" not in message
    assert not (config / "o").exists()


def test_an_unknown_flag_that_is_no_yaml_key_keeps_clicks_answer(config):
    message = _one_error(_tsflow(config, "build", "c.yaml", "--out", "o", "--forse"))
    assert message.startswith("error: No such option '--forse'") and "'--force'" in message, message


@pytest.mark.parametrize("args, expect", [
    (["version"], "error: No such command 'version'; 'tsflow --version' prints the version"),
    (["help"], "error: No such command 'help'; 'tsflow --help' lists the commands, 'tsflow COMMAND --help' "
               "explains one"),
    (["help", "search"], "error: No such command 'help'; 'tsflow search --help' explains search"),
])
def test_version_and_help_as_commands_point_at_the_flags(args, expect, tmp_path):
    """b35: 'tsflow version' got "Did you mean 'verify'?"."""
    message = _one_error(_tsflow(tmp_path, *args))
    assert message.startswith(expect) and "verify" not in message, message


@pytest.mark.parametrize("args, expect", [
    (["search", "c.yaml", "--trials", "2.5", "--out", "o"],
     "error: Invalid value for '--trials': '2.5': give a whole number of trials (1 or more)"),
    (["search", "c.yaml", "--trials", "", "--out", "o"],
     "error: Invalid value for '--trials': '' is empty (an unset shell variable?); give a whole number of trials "
     "(1 or more)"),
    (["build", "c.yaml", "--out", "o", "--jobs", "1.5"],
     "error: Invalid value for '--jobs': '1.5': give a whole number of testbench processes (1 or more), or leave "
     "--jobs out for one per available core"),
], ids=["trials-fraction", "trials-empty", "jobs-fraction"])
def test_a_whole_number_flag_says_what_it_counts_and_its_range(args, expect, config):
    """b04: --trials 2.5 got click's 'is not a valid integer range'."""
    message = _one_error(_tsflow(config, *args))
    assert message.startswith(expect) and "integer range" not in message, message
    assert not (config / "o").exists()


@pytest.mark.parametrize("module, args, expect", [
    ("sensitivity", ["c.yaml", "--bits", "4.5"], "Invalid value for '--bits': '4.5': give a whole number of bits "
                                                 "from 2 to 15"),
    ("sensitivity", ["c.yaml", "--bits", "16"], "'16': give a whole number of bits from 2 to 15"),
    ("training", ["c.yaml", "--seeds", "0"], "Invalid value for '--seeds': '0': give a whole number of seeds "
                                             "(1 or more)"),
    ("search", ["c.yaml", "--trials", "2.5"], "argument --trials: '2.5': give a whole number of trials (1 or more)"),
    ("longhorizon", ["--lookbacks", "1"], "argument --lookbacks: '1': give a whole number of look-back steps "
                                          "(data.window) from 2 to 512"),
    ("random_builds", ["--seed", "-1"], "argument --seed: '-1': give a whole number (0 or more)"),
    ("random_builds", ["--jobs", "x"], "argument --jobs: 'x': give a whole number of builds at once (1 or more)"),
], ids=["sensitivity-fraction", "sensitivity-16", "training-seeds", "search-trials", "longhorizon-lookbacks",
        "random-seed", "random-jobs"])
def test_a_benchmark_whole_number_flag_says_its_range(module, args, expect, config):
    """b06: sensitivity --bits 4.5 said 'not a valid integer range' without 2..15."""
    message = _one_error(_benchmark(config, module, *args))
    assert expect in message and "integer range" not in message and "invalid int value" not in message, message


@pytest.mark.parametrize("before", ["", " "])
def test_latency_before_empty_is_said_empty(before, config):
    """b59: --before '' printed '--before  ' and spoke of git clones."""
    message = _one_error(_benchmark(config, "latency", "c.yaml", "--before", before))
    assert f"error: --before {before!r}: an empty commit (an unset variable?); give a commit hash or tag" in message
    assert "leave --before out for" in message


@pytest.mark.parametrize("name, expect", [
    ("a\tb", "--study 'a\\tb': the name holds the control character '\\t' (a tab or line break pasted into it?)"),
    ("a\x1bb", "--study 'a\\x1bb': the name holds the control character '\\x1b'"),
    (" a", "--study ' a': the name starts or ends with whitespace (a quoting slip?); write --study a"),
])
def test_a_study_name_with_a_control_character_is_refused(name, expect, config):
    """b53: --study 'a<TAB>b' made a study under that name."""
    message = _one_error(_tsflow(config, "search", "c.yaml", "--trials", "1", "--out", "o", "--study", name))
    assert message.startswith(f"error: {expect}"), message
    assert not (config / "o").exists()


@pytest.mark.parametrize("url, expect", [
    ("postgresql://tsflow@127.0.0.1:9", "--storage 'postgresql://tsflow@127.0.0.1:9' names no database (PostgreSQL "
                                        "would open the one named as the user, tsflow); add it after a slash: "
                                        "postgresql://user@host:port/DBNAME"),
    ("postgres://127.0.0.1:9/", "--storage 'postgres://127.0.0.1:9/' names no database"),
    ("postgresql://alice:p@ss:w/rd@127.0.0.1:9/tsdb",
     "--storage 'postgresql://alice@127.0.0.1:9/tsdb': the user name or password holds @, :, /, ? or # as typed, "
     "which split a URL; percent-encode them (@ as %40, : as %3A, / as %2F; in Python "
     "urllib.parse.quote(password, safe=''))"),
    ("postgresql://alice:pa?ss@127.0.0.1:9/tsdb",
     "--storage 'postgresql://alice@127.0.0.1:9/tsdb': the user name or password holds @, :, /, ? or # as typed"),
], ids=["no-database", "no-database-no-user", "password-unencoded", "password-question-mark"])
def test_a_postgresql_url_slip_is_refused_before_any_connection(url, expect, config):
    """b72/b73: psycopg's 'database "tsflow" does not exist', and "invalid literal for int() with base 10: 'w'".
    Port 9 (discard) has no server: the refusal comes from the URL alone."""
    done = _tsflow(config, "search", "c.yaml", "--trials", "1", "--out", "o", "--storage", url)
    message = _one_error(done)
    assert message.startswith(f"error: {expect}"), message
    assert "ss:w" not in done.stderr and "pa?ss" not in done.stderr and "rd@" not in done.stderr  # no password
    assert not (config / "o").exists()


def test_a_percent_encoded_password_and_a_database_pass_the_url_checks(tmp_path):
    from flow.search.study import storage_url

    url = "postgresql://alice:p%40ss%3Aw%2Frd@127.0.0.1:9/tsdb"
    assert storage_url(tmp_path / "o", url) == "postgresql+psycopg://" + url.split("://", 1)[1]
    assert storage_url(tmp_path / "o", "postgresql://u@h:5432/?dbname=x").endswith("?dbname=x")


def test_a_report_and_its_copy_are_one_measurement(tmp_path):
    """b87: the same report_power through two paths was counted twice."""
    from flow.calibration import fit
    from flow.config import parse_config

    data = Path(__file__).parent / "data" / "power_reports"
    original = data / "xc7s15_hdmi_dvi_power_routed.rpt"
    (tmp_path / "pw").mkdir()
    copy = tmp_path / "pw" / original.name
    shutil.copy(original, copy)
    cfg = parse_config({**TINY, "target": {"part": "xc7s15ftgb196-1"}, "export": {"ip_name": "display_demo_dvi"}})
    once = fit(cfg, [original])
    both = fit(cfg, [copy, original])
    assert f"REPORTS: {copy} and {original} have the same content (one report, copied); read once" in both["warnings"]
    assert both["power"]["sources"] == [str(copy)]
    assert both["power"]["dynamic_w"] == once["power"]["dynamic_w"]
