"""The accuracy suite's command line (tour 12: a109, a110, b04, b10, b11, b12, b16, b17, b94): each flag's mistake is
one ``error:`` line naming the flag and the value as given, exit 2, before any data is read or model trained; the
ETTh1 split is said once in the header, not warned about; a run short of the protocol (one seed, --quick) shows
no spread and judges no goal. No training here: the runs are stand-ins with fixed test MSEs."""
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import flow.benchmarks.suite as suite

NAMES = "etth1, seattle-temps, sf-temps, seattle-weather, co2, sunspots, taylor"
ETTH1_COLUMNS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]


@pytest.fixture
def no_training(monkeypatch):
    """A refusal reads no data and trains nothing: either would fail the test at once (and keep it fast)."""
    def trained(*args, **kwargs):
        raise AssertionError("the suite read data or trained before refusing")

    monkeypatch.setattr(suite, "load_dataset", trained)
    monkeypatch.setattr(suite, "seed_runs", trained)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "misc").mkdir()
    monkeypatch.setattr(suite, "DEFAULT_ETTH1", tmp_path / "absent" / "ETTh1.csv")  # the tour's machine: no ETTh1
    return tmp_path


def _refused(args) -> str:
    result = CliRunner().invoke(suite.main, args)
    assert result.exit_code == 2, result.output
    assert not result.stdout
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    return result.stderr.strip()


@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_an_empty_series_value_is_refused_quoted_and_blames_no_series(folder, no_training, value):
    message = _refused(["--series", value, "--quick", "--seeds", "1"])
    assert message == (f"error: --series {value!r}: empty (an unset variable?); give series names separated by commas "
                       f"(such as --series co2,taylor), or leave --series out to run every series: {NAMES}")


def test_names_separated_by_spaces_are_refused_with_the_comma_form(folder, no_training):
    assert _refused(["--series", "co2 taylor"]) == ("error: --series 'co2 taylor': names are separated by commas, not "
                                                    "spaces: --series co2,taylor (or --series repeated)")


def test_an_unknown_name_among_spaces_is_quoted_as_given(folder, no_training):
    assert _refused(["--series", "co2 nile"]) == (f"error: --series 'co2 nile': no such series 'co2 nile'; give names "
                                                  f"separated by commas (or --series repeated), each one of {NAMES}")


def test_etth1_given_while_etth1_is_not_run_is_refused(folder, no_training):
    (folder / "misc" / "E.csv").write_text("date,OT\n")
    for given in ("misc/nope.csv", "misc/E.csv"):  # missing or present: it would not be read
        assert _refused(["--series", "co2", "--etth1", given, "--quick"]) == (
            f"error: --etth1 {given}: not read, etth1 is not among --series co2; add etth1 to --series, or leave "
            f"--etth1 out")


def test_a_missing_etth1_is_refused_whenever_it_would_be_read(folder, no_training):
    for args in ([], ["--series", "co2,etth1"]):  # every series (etth1 among them), or etth1 named
        assert _refused([*args, "--etth1", "misc/nope.csv"]) == ("error: --etth1 misc/nope.csv: file not found; give "
                                                                 "ETTh1's CSV, or leave --etth1 out")


@pytest.mark.parametrize("flag, message", [
    ("--etth1", "error: --etth1 '': an empty path (an unset variable?); give ETTh1's CSV, or leave --etth1 out"),
    ("--json-out", "error: --json-out '': an empty path (an unset variable?); give a file to write, or leave "
                   "--json-out out"),
])
def test_an_empty_path_is_refused_naming_the_flag(folder, no_training, flag, message):
    assert _refused(["--series", "etth1", flag, "", "--quick"]) == message
    if flag == "--json-out":  # with --force too: not taken for 'no --json-out'
        assert _refused(["--series", "co2", flag, "", "--force"]) == message


def test_json_out_is_never_the_etth1_data_even_with_force(folder, no_training, monkeypatch):
    data = folder / "misc" / "E.csv"
    data.write_text("date,OT\n2020-01-01 00:00,1\n")
    (folder / "misc" / "link.csv").symlink_to("E.csv")
    for json_out in ("misc/E.csv", "misc/link.csv", str(data)):
        assert _refused(["--series", "etth1", "--etth1", "misc/E.csv", "--json-out", json_out, "--force"]) == (
            f"error: --json-out {json_out}: the ETTh1 data file (misc/E.csv); the results would replace the data "
            f"(--force replaces results, never data); choose another file")
    monkeypatch.setattr(suite, "DEFAULT_ETTH1", data)  # ETTh1 found beside the project, --etth1 not given
    assert "the ETTh1 data file" in _refused(["--json-out", "misc/E.csv", "--force"])
    assert data.read_text() == "date,OT\n2020-01-01 00:00,1\n"


def test_a_dangling_symlink_as_json_out_names_its_target_and_the_missing_folder(folder, no_training):
    (folder / "misc" / "dangl.json").symlink_to("nowhere/x.json")
    assert _refused(["--series", "co2", "--json-out", "misc/dangl.json"]) == (
        "error: --json-out misc/dangl.json: a symlink to misc/nowhere/x.json, whose folder misc/nowhere does not "
        "exist (checked before any training); create it, or choose another file")
    (folder / "misc" / "loop.json").symlink_to("loop.json")
    assert _refused(["--series", "co2", "--json-out", "misc/loop.json"]) == (
        "error: --json-out misc/loop.json: a symlink that leads back to itself (a loop); choose another file")


def _stand_in_runs(base, ds, seed):
    for i, (label, _, _) in enumerate(suite.VARIANTS):
        yield label, 0.0, {"mse": 1.0 + 0.001 * i + 0.01 * seed, "rmse": 1.0}


@pytest.fixture
def etth1_like(folder, monkeypatch):
    """A CSV of ETTh1's columns, 100 rows longer than the suite's fixed split; the runs are stand-ins."""
    rows = 14_500
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, len(ETTH1_COLUMNS))).cumsum(axis=0), columns=ETTH1_COLUMNS)
    frame.insert(0, "date", pd.date_range("2016-07-01", periods=rows, freq="h").strftime("%Y-%m-%d %H:%M:%S"))
    frame.to_csv(folder / "ETTh1.csv", index=False)
    monkeypatch.setattr(suite, "seed_runs", _stand_in_runs)
    return ["--series", "etth1", "--etth1", "ETTh1.csv"]


def test_the_etth1_split_is_said_once_in_the_header_not_warned(etth1_like):
    result = CliRunner().invoke(suite.main, [*etth1_like, "--seeds", "3"])
    assert result.exit_code == 0, result.output
    header = result.stdout.split("\n\n")[0].splitlines()
    assert ("etth1: the suite's split is ETTh1's standard 12/4/4 months (8,640 + 2,880 + 2,880 rows, as "
            "configs/etth1-bits.yaml): the last 100 of the file's 14,500 rows are in no split, by design") in header
    assert "data.split" not in result.stderr and "in no split" not in result.stderr


def test_one_seed_shows_no_spread_and_judges_no_goal(etth1_like):
    result = CliRunner().invoke(suite.main, [*etth1_like, "--seeds", "1", "--quick"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| model | test MSE (one seed: no spread) |" in out and "±" not in out
    assert "| float32 | 1 |" in out
    assert "This run (1 seed, --quick) judges none." in out
    assert out.rstrip().endswith("| not judged (1 seed, --quick) |")
    assert "| met |" not in out


def test_the_protocol_shows_the_spread_and_judges_the_goals(etth1_like):
    result = CliRunner().invoke(suite.main, [*etth1_like, "--seeds", "3"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| model | test MSE (mean ± std over 3 seeds) |" in out
    assert "| float32 | 1.01 ± 0.0082 |" in out
    assert "judges none" not in out and out.rstrip().endswith("| met |")


def test_two_seeds_judge_no_goal(etth1_like):
    result = CliRunner().invoke(suite.main, [*etth1_like, "--seeds", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("| not judged (2 seeds) |")


def test_the_suite_silences_tensorflows_retracing_notes(etth1_like):
    import tensorflow as tf

    level = tf.get_logger().level
    try:
        tf.get_logger().setLevel("WARNING")
        assert CliRunner().invoke(suite.main, [*etth1_like, "--seeds", "1"]).exit_code == 0
        assert tf.get_logger().level == 40  # ERROR: 'N out of the last M calls ... triggered tf.function retracing'
    finally:
        tf.get_logger().setLevel(level)
