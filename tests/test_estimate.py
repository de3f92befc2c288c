"""The estimator: device facts per primitive, storage moving cost between BRAM18 / LUTRAM / FF, the fit
check and its refusal in ``tsflow build``, ``tsflow estimate --json``, and calibration on real reports.

Expected numbers come from the 7-series facts (DS180, UG473/UG474 as quoted in the project's notes):
RAMB18 shapes, RAM64X1D = 2 LUTs per 64x1, RAM32M = 4 LUTs per 32x6, one FF per register bit,
DSP48E1 = one 25x18 signed product.
"""
import json
import math

import pytest
from click.testing import CliRunner

from flow.cli import cli
from flow.config import parse_config
from flow.estimate import bram18_count, buffer_cost, estimate, multiplier

from .conftest import SHARED_DATA, small_raw

REPORTS = SHARED_DATA / "reports"


def raw_with(**hls):
    raw = small_raw(d_model=16, heads=1, layers=1, ffn=64)
    raw["data"]["window"] = 24
    raw["hls"] = hls
    return raw


def scores_buffer(est):
    return next(b for b in est.buffers if b.name == "enc0.scores")


@pytest.mark.parametrize("words,width,reads,want", [
    (1024, 18, 2, 1), (1025, 18, 2, 2), (2048, 9, 2, 1), (2048, 10, 2, 2),
    (512, 36, 1, 1),  # 512x36 simple dual port
    (512, 36, 2, 2),  # two reads per clock need true dual port: 1Kx18 twice
    (16384, 1, 2, 1), (576, 8, 2, 1), (4096, 8, 2, 2),  # 4Kx4 twice
])
def test_bram18_count_takes_the_cheapest_ramb18_shape(words, width, reads, want):
    assert bram18_count(words, width, reads) == want


def test_each_storage_puts_a_buffer_where_the_device_facts_say():
    words, width = 24 * 24, 8  # the scores of one head over a 24-step window
    bram = buffer_cost("bram", words, width, reads=1)
    lutram = buffer_cost("lutram", words, width, reads=1)
    regs = buffer_cost("registers", words, width, reads=1)
    assert (bram.bram18, bram.lutram, bram.ff) == (1, 0, 0)  # 576 x 8 fits one 1Kx18 (or 2Kx9) RAMB18
    assert lutram.bram18 == 0 and lutram.ff == 0
    assert lutram.lutram == 144  # 9 banks of 64 words x 8 bits, 2 LUTs per RAM64X1D
    assert lutram.lut >= lutram.lutram  # plus the read mux over the banks
    assert (regs.ff, regs.bram18, regs.lutram) == (4608, 0, 0)  # one FF per bit
    small = buffer_cost("lutram", 32, 12, reads=1)
    assert small.lutram == 4 * math.ceil(12 / 6)  # RAM32M: 32x6 in 4 LUTs


def test_moving_a_buffer_moves_its_cost_in_the_whole_estimate():
    base = {"default_storage": "bram"}
    est = {kind: estimate(parse_config(raw_with(**base, storage={"enc0.scores": kind})), n_features=1)
           for kind in ("bram", "lutram", "registers")}
    assert est["bram"].total["bram18"] - est["lutram"].total["bram18"] == 1
    assert est["lutram"].total["lutram"] - est["bram"].total["lutram"] == 144
    assert est["registers"].total["ff"] - est["bram"].total["ff"] == 4608
    assert est["registers"].total["bram18"] == est["lutram"].total["bram18"]
    assert [scores_buffer(e).storage for e in est.values()] == ["bram", "lutram", "registers"]


@pytest.mark.parametrize("wa,wb,dsps", [(8, 8, 1), (25, 18, 1), (18, 25, 1), (26, 18, 2), (25, 19, 2), (42, 18, 2),
                                        (35, 35, 4), (43, 36, 6)])
def test_a_dsp_multiplier_takes_as_many_dsp48e1_as_its_widths_need(wa, wb, dsps):
    cost, mapping = multiplier(wa, wb, "dsp")
    assert mapping == "dsp" and cost.dsp == dsps and cost.lut == 0


def test_a_lut_multiplier_costs_about_400_luts_at_18x18_and_no_dsp():
    cost, mapping = multiplier(18, 18, "lut")
    assert mapping == "lut" and cost.dsp == 0
    assert 350 <= cost.lut <= 450


def test_multiplier_override_trades_dsps_for_luts():
    dsp = estimate(parse_config(raw_with(multiplier={"enc0.ffn1": "dsp"}, parallelism={"enc0.ffn1": 4})), n_features=1)
    lut = estimate(parse_config(raw_with(multiplier={"enc0.ffn1": "lut"}, parallelism={"enc0.ffn1": 4})), n_features=1)
    assert dsp.total["dsp"] - lut.total["dsp"] == 4  # four 8x8 lanes, one DSP each
    assert lut.total["lut"] - dsp.total["lut"] >= 4 * 8 * 8  # LUT multipliers and their adders


def test_parallel_lanes_cost_multipliers_and_save_cycles_when_the_source_can_feed_them():
    one = estimate(parse_config(raw_with(default_storage="registers", default_multiplier="dsp")), n_features=1)
    four = estimate(parse_config(raw_with(default_storage="registers", default_multiplier="dsp",
                                          parallelism={"enc0.ffn2": 4})), n_features=1)
    layer = {e.name: e for e in four.layers}["enc0.ffn2"]
    assert four.total["dsp"] - one.total["dsp"] == 3
    assert layer.cycles < {e.name: e for e in one.layers}["enc0.ffn2"].cycles / 3
    # a RAM gives two reads per clock: four lanes from a BRAM buffer run at II 2
    bram = estimate(parse_config(raw_with(default_storage="bram", parallelism={"enc0.ffn2": 4})), n_features=1)
    assert "II 2" in {e.name: e for e in bram.layers}["enc0.ffn2"].what


def test_the_default_design_fits_the_xc7s15_and_a_large_one_names_what_overflows():
    default = estimate(parse_config(raw_with()), n_features=1)
    assert default.fits and default.budget == {"lut": 8000, "lutram": 2400, "ff": 16000, "bram18": 20, "dsp": 20}
    raw = raw_with(default_storage="registers", default_multiplier="dsp")
    raw["model"].update(d_model=64, ffn=256)
    big = estimate(parse_config(raw), n_features=1)
    assert not big.fits and "ff" in big.overflowing  # > 10 buffers of 24 x 64 x 8 bits in FFs
    raw["target"] = {"part": "xc7s100fgga676-2"}
    assert estimate(parse_config(raw), n_features=1).budget["dsp"] == 160


def _write(tmp_path, raw):
    import yaml

    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_estimate_json_has_totals_budget_fit_and_latency(tmp_path):
    result = CliRunner().invoke(cli, ["estimate", str(_write(tmp_path, raw_with())), "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.output)
    assert set(d["total"]) == set(d["budget"]) == {"lut", "lutram", "ff", "bram18", "dsp"}
    assert d["part"] == "xc7s15ftgb196-2" and d["fits"] is True
    assert d["latency_us"] == pytest.approx(d["latency_cycles"] / 100.0, abs=1e-3)


def test_build_refuses_a_design_that_does_not_fit_before_training(tmp_path):
    raw = raw_with(default_storage="registers")
    raw["model"].update(d_model=64, ffn=256)
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["build", str(_write(tmp_path, raw)), "--out", str(out)])
    assert result.exit_code == 2
    assert "does not fit xc7s15ftgb196-2" in result.output and "--allow-overflow" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    partial = tmp_path / "build.partial"
    assert (partial / "FAILED").exists() and not (partial / "model").exists()
    assert json.loads((partial / "estimate.json").read_text())["fits"] is False


def test_a_bad_part_string_is_refused_at_config_time(tmp_path):
    raw = raw_with()
    raw["target"] = {"part": "xc7s15ftgb196-3"}
    result = CliRunner().invoke(cli, ["estimate", str(_write(tmp_path, raw))])
    assert result.exit_code == 2
    assert "target.part" in result.output and "-3" in result.output


@pytest.mark.skipif(not REPORTS.is_dir(), reason="real tool reports live in ../shared/data/reports (absent here)")
def test_calibration_on_real_reports_reproduces_the_measured_figures(tmp_path):
    from flow.calibration import load_calibration
    from flow.reports import parse_csynth_xml, parse_vivado_utilization

    raw = raw_with()
    raw["target"] = {"part": "xc7z020clg400-1"}
    cfg_path = _write(tmp_path, raw)
    hls = REPORTS / "vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml"
    vivado = REPORTS / "vivado_2020.1_xc7z020_dnnonsilicon_utilization_synth.rpt"
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(cli, ["calibrate", str(hls), str(vivado), "--config", str(cfg_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    cal = load_calibration(out, "xc7z020clg400-1")
    util, synth = parse_vivado_utilization(vivado), parse_csynth_xml(hls)
    calibrated = estimate(parse_config(raw), n_features=1, calibration=cal)
    measured = {"lut": util.lut, "lutram": util.lutram_ram, "ff": util.ff, "bram18": util.bram18, "dsp": util.dsp}
    for r, value in measured.items():  # Vivado's post-synthesis figures win over HLS estimates
        assert calibrated.total[r] == pytest.approx(value, rel=0.01, abs=1)
    assert "not tsflow_model" in result.output  # other designs' reports are flagged
    assert calibrated.latency_cycles == pytest.approx(synth.latency_max_cycles, rel=0.01)
    again = CliRunner().invoke(cli, ["calibrate", str(hls), "--config", str(cfg_path), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output  # never overwritten silently
    raw["target"] = {"part": "xc7s15ftgb196-2"}
    wrong = CliRunner().invoke(cli, ["calibrate", str(hls), "--config", str(_write(tmp_path, raw)),
                                     "--out", str(tmp_path / "x.json")])
    assert wrong.exit_code == 2 and "xc7z020" in wrong.output and "target.part" in wrong.output


def test_sweep_covers_the_grid_and_marks_what_overflows():
    from flow.sweep import sweep

    rows = sweep(parse_config(raw_with()), n_features=1, d_models=(8, 64), bits=(4, 8), heads=(1, 2),
                 storages=("registers", "bram"))
    assert len(rows) == 2 * 2 * 2 * 2
    assert {(r["d_model"], r["bits"], r["heads"], r["storage"]) for r in rows} == {
        (d, b, h, s) for d in (8, 64) for b in (4, 8) for h in (1, 2) for s in ("registers", "bram")}
    small = next(r for r in rows if (r["d_model"], r["bits"], r["heads"], r["storage"]) == (8, 4, 1, "bram"))
    large = next(r for r in rows if (r["d_model"], r["bits"], r["heads"], r["storage"]) == (64, 8, 2, "registers"))
    assert small["fits"] and not large["fits"]
    # one 24 x 64 buffer of 8-bit words is 12,288 FFs in registers, and there are more than ten
    assert "ff" in large["overflowing"] and large["total"]["ff"] > 10 * 12288
