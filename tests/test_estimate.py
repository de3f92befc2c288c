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
from flow.config import load_config, parse_config
from flow.estimate import bram18_count, estimate, multiplier
from flow.estimate.costs import lut_rom_bank, lutram_bank, memory_cost, mux, register_bank

from .conftest import REPO, SHARED_DATA, small_raw

REPORTS = SHARED_DATA / "reports"


def raw_with(**hls):
    raw = small_raw(d_model=16, heads=1, layers=1, ffn=64)
    raw["data"]["window"] = 24
    raw["hls"] = hls
    return raw


def buffer_of(est, name):
    return next(b for b in est.buffers if b.name == name)


def layer_of(est, name):
    return next(e for e in est.layers if e.name == name)


@pytest.mark.parametrize("words,width,want", [
    (1024, 18, 1), (1025, 18, 2), (2048, 9, 1), (2048, 10, 2),
    (512, 36, 1),  # 512x36 simple dual port: one write and one read, all a bank needs
    (576, 8, 1), (4096, 8, 2),  # 4Kx4 twice
    (256, 128, 4),  # a wide word of 16 bytes: four 512x36
])
def test_bram18_count_takes_the_cheapest_ramb18_shape(words, width, want):
    assert bram18_count(words, width) == want


def test_each_storage_puts_a_bank_where_the_device_facts_say():
    # RAM32M: 32x6 simple dual port in 4 LUTs; RAM64M: 64x3 in 4 LUTs, or RAM64X1D: 64x1 in 2 LUTs, whichever
    # takes fewer; deeper banks behind a 4:1-per-LUT mux
    assert lutram_bank(24, 8).lutram == 8 and lutram_bank(24, 8).lut == 8
    deep = lutram_bank(96, 8)
    assert deep.lutram == 4 * 3 * 2 and deep.lut == 4 * 3 * 2 + 8 * 1  # two 64-word pieces, a 2:1 mux per bit
    assert lutram_bank(64, 1).lut == 2 and lutram_bank(64, 2).lut == 4 and lutram_bank(64, 3).lut == 4
    # LUT ROM: a one-word bank is wiring, up to 32 words two bits a LUT6, deeper 64x1 pieces
    assert lut_rom_bank(1, 16).lut == 0 and lut_rom_bank(16, 8).lut == 4 and lut_rom_bank(64, 8).lut == 8
    assert lut_rom_bank(256, 8).lut == 8 * 4 + 8 * 1  # four pieces and a 4:1 mux per bit
    # registers: one FF a bit; lane l of 4 readers selects among every 4th of 24 words (6:1, 2 LUTs a bit)
    regs = register_bank(24, 8, readers=4, writers=1)
    assert regs.ff == 192 and regs.lut == 24 + 4 * 8 * 2
    assert register_bank(24, 8, readers=4, writers=24).lut == 4 * 8 * 2  # all written at once: no enables
    assert mux(1, 8).lut == 0 and mux(4, 8).lut == 8 and mux(5, 8).lut == 16
    # banks: 16 banks of a 384-word buffer in BRAM are 16 RAMB18; reshaped into one wide word, 4 (512x36 x 4)
    assert memory_cost("bram", 16, 24, 8, 16, False).bram18 == 16
    assert memory_cost("bram", 16, 16, 8, 16, True, reshaped=True).bram18 == 4


def test_moving_a_buffer_moves_its_cost_in_the_whole_estimate():
    base = {"default_parallelism": 4, "default_storage": "bram"}
    est = {kind: estimate(parse_config(raw_with(**base, storage={"enc0.scores": kind})), n_features=1)
           for kind in ("bram", "lutram", "registers")}
    # the scores: 576 x 8 bit in 4 banks of 144 (one score a clock in from the engine, four a clock out to the
    # softmax's 4 lanes): a RAMB18 a bank, or per bank three 64 x 8 pieces of 3 RAM64M (4 LUTs each)
    assert buffer_of(est["bram"], "enc0.scores").banks == 4
    assert est["bram"].total["bram18"] - est["lutram"].total["bram18"] == 4
    assert est["lutram"].total["lutram"] - est["bram"].total["lutram"] == 4 * 3 * 3 * 4
    assert est["registers"].total["ff"] - est["bram"].total["ff"] == 576 * 8
    assert [buffer_of(e, "enc0.scores").storage for e in est.values()] == ["bram", "lutram", "registers"]


@pytest.mark.parametrize("wa,wb,dsps", [(8, 8, 1), (25, 18, 1), (18, 25, 1), (26, 18, 2), (25, 19, 2), (42, 18, 2),
                                        (35, 35, 4), (43, 36, 6)])
def test_a_dsp_multiplier_takes_as_many_dsp48e1_as_its_widths_need(wa, wb, dsps):
    cost = multiplier(wa, wb, "dsp")
    assert cost.dsp == dsps and cost.lut == 0


def test_a_lut_multiplier_costs_about_400_luts_at_18x18_and_no_dsp():
    cost = multiplier(18, 18, "lut")
    assert cost.dsp == 0 and 350 <= cost.lut <= 450


def test_the_shared_lanes_are_counted_once_and_a_layer_with_other_multipliers_has_its_own():
    shared = estimate(parse_config(raw_with(default_parallelism=4, default_multiplier="dsp")), n_features=1)
    engine = shared.plan.engine
    assert engine.lanes == 4 and engine.mapping == "dsp" and "enc0.ffn1" in engine.users
    assert layer_of(shared, "engine").cost.dsp == 4 and layer_of(shared, "enc0.ffn1").cost.dsp == 0
    own = estimate(parse_config(raw_with(default_parallelism=4, default_multiplier="dsp",
                                         multiplier={"enc0.ffn1": "lut"})), n_features=1)
    assert "enc0.ffn1" not in own.plan.engine.users and not own.plan.loops["enc0.ffn1"].shared
    assert layer_of(own, "enc0.ffn1").cost.lut >= 4 * 1.25 * 8 * 8  # four 8x8 LUT multipliers of its own
    assert own.total["dsp"] == shared.total["dsp"]  # the shared lanes stay 4 DSPs


def test_more_lanes_cost_multipliers_and_banks_and_save_cycles():
    one = estimate(parse_config(raw_with(default_parallelism=1, default_multiplier="dsp")), n_features=1)
    four = estimate(parse_config(raw_with(default_parallelism=4, default_multiplier="dsp")), n_features=1)
    assert four.total["dsp"] - one.total["dsp"] == 3
    assert four.plan.loops["enc0.ffn2"].trips == 24 * 16 * 64 // 4  # 64 inputs, 4 a clock
    assert layer_of(four, "enc0.ffn2").cycles < layer_of(one, "enc0.ffn2").cycles / 3.5
    # the ffn1 output is read 4 words a clock by ffn2: four banks
    assert four.plan.buffers["enc0.ffn1"].banks == 4 and one.plan.buffers["enc0.ffn1"].banks == 1


@pytest.mark.parametrize("key,value,allowed", [
    ("enc0.ffn2", 5, "1, 2, 4, 8, ..."),  # not a power of two (any power of two: the rows are padded)
    ("enc0.scores", 32, "1, 2, 4, 8, 16"),  # a head's 16 dimensions: no padding inside q's and k's rows
    ("delta", 16, "1"),  # one value: the add of the last level is not padded
])
def test_lanes_the_tool_cannot_bank_at_compile_time_are_refused_naming_the_key(key, value, allowed):
    from flow.config import ConfigError

    raw = raw_with(default_parallelism=1, parallelism={key: value})
    raw["model"]["predict_delta"] = True
    with pytest.raises(ConfigError) as err:  # when the config is read, before any folder or training
        parse_config(raw)
    assert f"hls.parallelism.{key} = {value}" in str(err.value) and f"allowed: {allowed}" in str(err.value)


def test_lanes_that_do_not_divide_the_window_pad_the_contexts_rows_to_whole_chunks():
    """16 context lanes over a window of 24: 2 clocks an output, the probabilities' and v's rows stored
    32 words apart (so every clock's reads start at a multiple of 16); the padding is never read."""
    est = estimate(parse_config(raw_with(default_parallelism=1, parallelism={"enc0.context": 16})), n_features=1)
    assert est.plan.loops["enc0.context"].trips == 24 * 16 * 2  # 24 queries x 16 dims, 2 chunks of 16
    for name, rows in (("enc0.softmax", 24), ("enc0.v", 16)):  # one head: 24 rows of scores; v is [d][step]
        mem = est.plan.buffers[name]
        assert (mem.stride, mem.words, mem.banks) == (32, rows * 32, 16), name


def test_a_seven_channel_embedding_on_8_lanes_pads_its_weight_rows():
    """7 input channels, read from the window's registers, on 8 lanes: one clock an output, each weight row
    padded to 8 words (a lane count for every layer would capture the window in chunks: no padding)."""
    est = estimate(parse_config(raw_with(parallelism={"embed": 8})), n_features=7)
    assert est.plan.loops["embed"].lanes == 8 and est.plan.loops["embed"].trips == 24 * 16
    weight = est.plan.roms["embed.weight"]
    assert (weight.stride, weight.words, weight.banks) == (8, 16 * 8, 8)


# MACs and the DSP bound (MACs / the XC7S15's 20 DSPs, rounded up) of the three reference configs, by hand.
# Window 24, one layer, one head, the FFN 4 x d_model wide, the mean head (d_model inputs, one output):
# default (d 16, 1 channel): embed 24 x 16 x 1 = 384, q/k/v/o 4 x 24 x 16 x 16 = 4 x 6,144, scores
#   24 x 24 x 16 = 9,216, context 24 x 16 x 24 = 9,216, ffn1 and ffn2 2 x 24 x 64 x 16 = 2 x 24,576,
#   head 16: 92,560; / 20 = 4,628
# etth1 (d 16, 7 channels): embed 24 x 16 x 7 = 2,688, the rest as the default: 92,560 - 384 + 2,688 = 94,864;
#   / 20 = 4,743.2 -> 4,744
# etth1-d32 (d 32, 7 channels): embed 24 x 32 x 7 = 5,376, q/k/v/o 4 x 24 x 32 x 32 = 4 x 24,576, scores
#   24 x 24 x 32 = 18,432, context 18,432, ffn 2 x 24 x 128 x 32 = 2 x 98,304, head 32: 337,184;
#   / 20 = 16,859.2 -> 16,860
REFERENCE_MACS = {"default.yaml": (92_560, 4_628), "etth1.yaml": (94_864, 4_744), "etth1-d32.yaml": (337_184, 16_860)}


@pytest.mark.parametrize("config,n_features", [("default.yaml", 1), ("etth1.yaml", 7), ("etth1-d32.yaml", 7)])
def test_auto_parallelism_is_within_1_5_times_the_dsp_bound_with_20_percent_headroom(config, n_features):
    """The latency goal on the reference part: at most 1.5x total MACs / DSPs, every resource <= 80 %; the
    MACs and the DSP bound worked by hand (REFERENCE_MACS)."""
    est = estimate(load_config(REPO / "configs" / config), n_features=n_features)
    assert (est.macs, est.dsp_bound_cycles) == REFERENCE_MACS[config]
    assert est.latency_cycles <= 1.5 * est.dsp_bound_cycles
    for r in ("lut", "lutram", "ff", "bram18", "dsp"):
        assert est.total[r] <= 0.8 * est.budget[r], r


def test_explicit_parallelism_is_honoured_exactly():
    est = estimate(parse_config(raw_with(default_parallelism=4, parallelism={"enc0.scores": 2})), n_features=1)
    lanes = {n: lp.lanes for n, lp in est.plan.loops.items()}
    assert lanes["enc0.scores"] == 2 and lanes["enc0.q"] == 4 and lanes["enc0.ffn1"] == 4 and lanes["head"] == 4


def test_the_default_design_fits_the_xc7s15_and_a_large_one_names_what_overflows():
    default = estimate(parse_config(raw_with()), n_features=1)
    assert default.fits and default.budget == {"lut": 8000, "lutram": 2400, "ff": 16000, "bram18": 20, "dsp": 20}
    raw = raw_with(default_storage="registers", default_multiplier="dsp", default_parallelism=16)
    raw["model"].update(d_model=64, ffn=256)
    big = estimate(parse_config(raw), n_features=1)
    assert not big.fits and "ff" in big.overflowing  # buffers of 24 x 64 x 8 bits in FFs
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
    # raw_with() has the default's shape (d 16, window 24, one layer and head, FFN 64, one channel): 92,560 MACs
    # and a DSP bound of 92,560 / 20 = 4,628 cycles (REFERENCE_MACS, by hand)
    assert (d["macs"], d["dsp_bound_cycles"]) == REFERENCE_MACS["default.yaml"]
    # the fields derived from the latency, by their definitions: microseconds at the default 100 MHz, and the
    # ratio to the bound
    assert d["latency_us"] == pytest.approx(d["latency_cycles"] / 100.0, abs=1e-3)
    assert d["bound_ratio"] == pytest.approx(d["latency_cycles"] / 4_628, abs=1e-3)


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

    raw = raw_with()
    raw["target"] = {"part": "xc7z020clg400-1"}
    raw["export"] = {"ip_name": "myproject"}  # the utilization's Vivado design, myproject: named after this IP
    cfg_path = _write(tmp_path, raw)
    # an HLS report of this design has this design's top function: hls4ml's top, renamed (a top that merely starts
    # with export.ip_name is another design's, tour 8 b80)
    hls = tmp_path / "csynth.xml"
    text = (REPORTS / "vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml").read_text()
    hls.write_text(text.replace("<TopModelName>myproject_axi</TopModelName>", "<TopModelName>tsflow_model</TopModelName>"))
    vivado = REPORTS / "vivado_2020.1_xc7z020_dnnonsilicon_utilization_synth.rpt"
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(cli, ["calibrate", str(hls), str(vivado), "--config", str(cfg_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    cal = load_calibration(out, "xc7z020clg400-1")
    calibrated = estimate(parse_config(raw), n_features=1, calibration=cal)
    # read by eye from the reports (as tests/test_reports.py has them): the utilization's Slice LUTs 358266,
    # LUT as Distributed RAM 726, Slice Registers 308427, RAMB18 280, DSPs 220; the csynth.xml's
    # Worst-caseLatency 96170
    measured = {"lut": 358_266, "lutram": 726, "ff": 308_427, "bram18": 280, "dsp": 220}
    for r, value in measured.items():  # Vivado's post-synthesis figures win over HLS estimates
        assert calibrated.total[r] == pytest.approx(value, rel=0.01, abs=1)
    assert calibrated.latency_cycles == pytest.approx(96_170, rel=0.01)
    again = CliRunner().invoke(cli, ["calibrate", str(hls), "--config", str(cfg_path), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output  # never overwritten silently
    raw["target"] = {"part": "xc7s15ftgb196-2"}
    wrong = CliRunner().invoke(cli, ["calibrate", str(hls), "--config", str(_write(tmp_path, raw)),
                                     "--out", str(tmp_path / "x.json")])
    assert wrong.exit_code == 2 and "xc7z020" in wrong.output and "target.part" in wrong.output


@pytest.mark.skipif(not REPORTS.is_dir(), reason="real tool reports live in ../shared/data/reports (absent here)")
def test_a_layer_whose_loop_a_module_report_gives_gets_its_own_cycle_factor(tmp_path):
    """Per-layer calibration: a real module report (a pipelined loop of 1000 trips, Vitis HLS 2022.1) read
    from a modules/ folder gives the loop only; the one layer with a 1000-trip loop gets latency / cycles,
    the rest of the design the remainder of the whole-design report's latency."""
    import shutil

    from flow.calibration import fit

    raw = small_raw(d_model=20, heads=1, layers=1, ffn=40)
    raw["data"]["window"] = 50  # embed: 50 x 20 outputs of one term, 1000 trips; every other loop longer
    raw["target"] = {"part": "xc7z020clg400-1"}
    raw["hls"] = {"default_parallelism": 8}
    cfg = parse_config(raw)
    # the whole design's report as this design's: its top Autoencoder renamed to this design's top function (a
    # report's top is judged by it, not by export.ip_name, tour 8 b80)
    whole = tmp_path / "csynth.xml"
    text = (REPORTS / "vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml").read_text()
    whole.write_text(text.replace("<TopModelName>Autoencoder</TopModelName>", "<TopModelName>tsflow_model</TopModelName>"))
    (tmp_path / "modules").mkdir()
    module = tmp_path / "modules" / "hdc_maxi_Pipeline_VITIS_LOOP_15_1_csynth.xml"
    shutil.copy(REPORTS / "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml", module)
    # read by eye: the module report's SummaryOfLoopLatency VITIS_LOOP_15_1: TripCount 1000, Latency 1000,
    # PipelineII 1; the whole design's (accel_autoencoder) Worst-caseLatency 945200664 and LUT 8796
    loop_latency, whole_latency, whole_lut = 1000, 945_200_664, 8796
    est = estimate(cfg, n_features=1)
    embed = next(e for e in est.layers if e.name == "embed")
    assert embed.loops == (1000,) and [e.name for e in est.layers if 1000 in e.loops] == ["embed"]
    cal = fit(cfg, [whole, module])
    assert cal["layers"] == {"embed": pytest.approx(loop_latency / embed.cycles)}
    rest = est.uncalibrated["latency"] - embed.cycles
    assert cal["factors"]["latency"] == pytest.approx((whole_latency - loop_latency) / rest)
    assert cal["measured"]["lut"] == whole_lut  # the module's figures (LUT 16714) are not the design's
    calibrated = estimate(cfg, n_features=1, calibration=cal)
    assert calibrated.latency_cycles == whole_latency
    # two layers with loops of one trip count: neither is matched, whatever the reports hold
    from flow.calibration import match_loops

    two = [{"name": "a", "cycles": 10, "loops": [1000]}, {"name": "b", "cycles": 10, "loops": [1000]}]
    tool = [{"name": "L", "trip_min": 1000, "trip_max": 1000, "latency_max": 1000, "ii": 1}] * 2
    assert [m["loops"] for m in match_loops(two, tool)] == [None, None]


def test_sweep_covers_the_grid_and_marks_what_overflows():
    from flow.sweep import sweep

    steps = []
    rows = sweep(parse_config(raw_with()), n_features=1, d_models=(8, 64), bits=(4, 8), heads=(1, 2),
                 storages=("registers", "bram"), step=lambda done, total: steps.append((done, total)))
    assert len(rows) == 2 * 2 * 2 * 2
    assert steps == [(i, 16) for i in range(1, 17)]  # the CLI's progress bar: one step a point, of 16
    assert {(r["d_model"], r["bits"], r["heads"], r["storage"]) for r in rows} == {
        (d, b, h, s) for d in (8, 64) for b in (4, 8) for h in (1, 2) for s in ("registers", "bram")}
    small = next(r for r in rows if (r["d_model"], r["bits"], r["heads"], r["storage"]) == (8, 4, 1, "bram"))
    large = next(r for r in rows if (r["d_model"], r["bits"], r["heads"], r["storage"]) == (64, 8, 2, "registers"))
    assert small["fits"] and not large["fits"]
    # one 24 x 64 buffer of 8-bit words is 12,288 FFs in registers, and there are more than ten
    assert "ff" in large["overflowing"] and large["total"]["ff"] > 10 * 12288


@pytest.mark.parametrize("hls, lanes", [
    ({"default_parallelism": 8}, 4),  # 8 by default: the embedding takes the 4 that divide its 4 channels
    ({"default_parallelism": "auto", "parallelism": {"embed": 2}}, 2),  # the embedding's own count
])
def test_a_window_written_in_chunks_is_written_as_the_embedding_reads_it(hls, lanes):
    """A window not captured at once (the input in LUTRAM) is written a chunk of a step a clock; the chunk is
    the embedding's lanes, so its banks are the ones the embedding reads (4 channels: 4 or 2 of them)."""
    est = estimate(parse_config(raw_with(storage={"input": "lutram"}, **hls)), n_features=4)
    assert est.plan.loops["input"].lanes == est.plan.loops["embed"].lanes == lanes
    assert est.plan.buffers["input"].banks == lanes


def test_a_bank_conflict_the_default_makes_names_the_default():
    """enc0.k on 16 lanes by hand, enc0.q on the default 8: both read pos, which cannot have 8 and 16 banks;
    the refusal names the key the user wrote for q (the default), not a key never written."""
    from flow.config import ConfigError

    with pytest.raises(ConfigError) as err:
        estimate(parse_config(raw_with(default_parallelism=8, default_storage="lutram",
                                       parallelism={"enc0.k": 16})), n_features=1)
    msg = str(err.value)
    assert "pos has 16 banks (hls.parallelism.enc0.q (left to hls.default_parallelism = 8: 8 lanes); " \
           "hls.parallelism.enc0.k = 16; hls.parallelism.enc0.v (left to hls.default_parallelism = 8: " \
           "8 lanes))" in msg  # every reader of pos, each with where its lanes come from, in one message
    assert "allowed hls.parallelism.enc0.q: 1 or 16, hls.parallelism.enc0.v: 1 or 16" in msg


def test_auto_takes_the_lanes_of_an_explicit_reader_of_the_same_buffer():
    """enc0.q on 8 lanes by hand, the rest auto (tour 7 a112/a110): enc0.k and enc0.v read pos too, so at
    every lane count auto tries they take 8 (or 1), never a count the explicit 8 banks of pos forbid."""
    from flow.hls.plan import Choice, hls_plan
    from flow.precision import resolve_precisions

    cfg = parse_config(raw_with(default_storage="bram", parallelism={"enc0.q": 8}))
    for auto in (1, 2, 4, 16, 64):
        plan = hls_plan(cfg, resolve_precisions(cfg), 2, Choice(auto_lanes=auto))
        assert {plan.loops[n].lanes for n in ("enc0.k", "enc0.v")} <= {1, 8}
        assert plan.loops["enc0.k"].lanes == (1 if auto == 1 else 8)
    assert estimate(cfg, n_features=2).plan.loops["enc0.q"].lanes == 8


def test_two_explicit_counts_that_clash_are_named_together_with_what_each_may_take():
    from flow.config import ConfigError

    with pytest.raises(ConfigError) as err:
        estimate(parse_config(raw_with(default_storage="lutram",
                                       parallelism={"enc0.q": 8, "enc0.k": 4, "enc0.v": 2})), n_features=1)
    assert str(err.value) == (
        "invalid configuration: pos has 8 banks (hls.parallelism.enc0.q = 8; hls.parallelism.enc0.k = 4; "
        "hls.parallelism.enc0.v = 2), and a layer reading it with several lanes must take as many as its banks "
        "(lane l reads bank l): allowed hls.parallelism.enc0.k: 1 or 8, hls.parallelism.enc0.v: 1 or 8, or one "
        "count for every layer that reads pos")


def test_a_default_above_the_window_captures_it_at_once_for_the_embedding():
    """hls.default_parallelism 32 over a window of 24 words (tour 7 a58): the window is captured at once
    (registers), as with auto, so the embedding pads its rows over it: no bank clash with the input."""
    raw = raw_with(default_parallelism=32)
    raw["data"]["window"] = 8
    est = estimate(parse_config(raw), n_features=3)
    assert est.plan.loops["input"].lanes == 24 and est.plan.buffers["input"].storage == "registers"
    assert est.plan.loops["embed"].lanes == 4


def test_an_estimate_of_a_float_configuration_is_refused():
    """quantization.enabled false (tour 7 a35): build refuses it, so the estimate does not price an 8-bit
    design it would never produce."""
    from flow.config import ConfigError

    raw = raw_with()
    raw["quantization"] = {"enabled": False}
    raw["training"].pop("qat_epochs", None)
    with pytest.raises(ConfigError, match=r"quantization.enabled = False: the estimate prices the 8-bit integer "
                                          r"design tsflow build generates; a float model has no design"):
        estimate(parse_config(raw), n_features=1)


def test_shared_lanes_that_only_a_layer_asking_for_the_other_kind_uses_take_its_kind():
    """Default multiplier lut, the embedding asks for dsp, and auto settled on one lane a layer (so the other
    layers, left to auto, multiply on their own, lut): the shared lanes serve the embedding alone, as the DSP
    it asked for (this plan used to end in a ValueError: found by the randomised build check)."""
    from flow.hls.plan import Choice, hls_plan
    from flow.precision import resolve_precisions

    cfg = parse_config({"model": {"d_model": 6, "heads": 1, "layers": 1, "ffn": 12},
                        "hls": {"default_multiplier": "lut", "multiplier": {"embed": "dsp"}}})
    plan = hls_plan(cfg, resolve_precisions(cfg), 2, Choice(auto_lanes=1))
    assert plan.engine.users == ("embed",) and plan.engine.mapping == "dsp" and plan.engine.lanes == 1
    assert {n: (lp.shared, lp.mapping) for n, lp in plan.loops.items() if lp.kind == "mac" and n != "embed"} == {
        n: (False, "lut") for n in ("enc0.q", "enc0.k", "enc0.v", "enc0.scores", "enc0.context", "enc0.o",
                                    "enc0.ffn1", "enc0.ffn2", "head")}


def test_auto_multipliers_do_no_worse_than_every_multiplier_on_dsp():
    """A long window where the LUTs bind (a 672-word window in registers) and DSPs sit idle: auto must find
    the all-DSP design when it fits and is faster, not stop at shared DSP lanes beside LUT multipliers of the
    norms and the mean (over the headroom there) or at LUT lanes."""
    raw = {"data": {"window": 336, "steps": 96, "inputs": "differences"},
           "model": {"d_model": 16, "head": "mean_last", "patch": {"length": 16, "stride": 8}}}
    auto = estimate(parse_config(raw), n_features=2)
    dsp = estimate(parse_config({**raw, "hls": {"default_multiplier": "dsp"}}), n_features=2)
    assert dsp.fits and auto.fits
    assert auto.latency_cycles <= dsp.latency_cycles


@pytest.mark.parametrize("raw", [
    # tour 6, a89/a90: every buffer in registers (a clock less for each layer reading one) fits within the
    # headroom and is faster than the LUTRAM the storage rule gives; auto found 562 cycles, registers 552
    {"data": {"window": 16}, "model": {"d_model": 8, "head": "flatten", "patch": {"length": 4, "stride": 4}}},
    {"data": {"window": 8}, "model": {"d_model": 8}, "quantization": {"bits": 4}},
], ids=["a90-flatten-patches", "window-8-4-bit"])
def test_auto_storage_and_lanes_do_no_worse_than_every_explicit_choice_within_the_headroom(raw):
    """auto is the lowest latency within target.headroom: no default_storage and no default_parallelism that
    keeps every resource within the headroom is faster (the search starts from the storage rule and from
    every auto buffer in registers, which the rule never picks)."""
    auto = estimate(parse_config(raw), n_features=1)
    assert all(auto.total[r] <= 0.8 * auto.budget[r] for r in auto.total)
    explicit = [{"default_storage": s} for s in ("registers", "lutram", "bram")]
    explicit += [{"default_parallelism": n} for n in (1, 2, 4, 8, 16, 32)]
    within = {}
    for hls in explicit:
        est = estimate(parse_config({**raw, "hls": hls}), n_features=1)
        if all(est.total[r] <= 0.8 * est.budget[r] for r in est.total):
            within[str(hls)] = est.latency_cycles
    assert "{'default_storage': 'registers'}" in within  # the case this guards: registers fit here
    assert auto.latency_cycles <= min(within.values()), within


LONG_WINDOW = {"data": {"window": 336, "steps": 96, "features": ["temp"], "target": "temp",  # tour 6, a66
                        "split": {"train": 0.6, "val": 0.2, "test": 0.2, "lookback": "previous"}},
               "model": {"d_model": 16, "heads": 2, "head": "flatten", "patch": {"length": 16, "stride": 8}},
               "quantization": {"bits": 4}}


def test_auto_that_cannot_keep_the_headroom_says_which_resources_exceed_it_and_by_how_much():
    """tour 6, a66: a design that fits the part but not the 80 % auto promises read as 'fits' and nothing more;
    only a design over the part stops a build, so the estimate says what was not kept and what was chosen."""
    est = estimate(parse_config(LONG_WINDOW))  # the temperature and its differences: 2 channels
    assert est.fits and est.headroom == 0.2 and est.over_headroom == ["lut", "bram18"]
    lut, bram = est.total["lut"], est.total["bram18"]
    assert 6400 < lut <= 8000 and 16 < bram <= 20
    warning = est.headroom_warning()
    assert warning.startswith("hls.default_parallelism auto could not keep target.headroom 0.2 on xc7s15ftgb196-2: ")
    assert f"LUT {lut:,} of 8,000 ({100 * lut / 8000:.0f}%, limit 6,400)" in warning
    assert f"BRAM18 {bram} of 20 ({100 * bram / 20:.0f}%, limit 16)" in warning
    assert f"took the design that exceeds it least ({est.plan.engine.lanes} shared DSP lane(s))" in warning
    assert "make the model smaller (model.d_model, data.window, data.steps) or choose a larger target.part" in warning
    d = est.to_dict()
    assert (d["fits"], d["headroom"], d["over_headroom"]) == (True, 0.2, ["lut", "bram18"])


def test_the_headroom_binds_auto_only_and_a_calibration_that_passes_it_says_so():
    small = {"data": {"window": 16}, "model": {"d_model": 8, "head": "flatten", "patch": {"length": 4, "stride": 4}}}
    auto = estimate(parse_config(small), n_features=1)
    assert auto.over_headroom == [] and auto.headroom_warning() is None  # kept: nothing to say
    calibrated = estimate(parse_config(small), n_features=1, calibration={"factors": {"lut": 1.2}})
    assert calibrated.fits and calibrated.total["lut"] == math.ceil(1.2 * auto.uncalibrated["lut"]) > 6400
    assert calibrated.over_headroom == ["lut"]
    assert calibrated.headroom_warning().startswith("the calibrated estimate exceeds target.headroom 0.2 on ")
    assert "auto chose this design (16 shared LUT lane(s)) within the headroom on the uncalibrated" in \
        calibrated.headroom_warning()
    lut_x2_5 = {"factors": {"lut": 2.5}}  # 2643 LUT of 8 explicit lanes -> 6608: 83 %
    explicit = estimate(parse_config({**small, "hls": {"default_parallelism": 8}}), n_features=1,
                        calibration=lut_x2_5)
    assert explicit.fits and explicit.total["lut"] > 6400  # lanes the user chose: the headroom is auto's
    assert explicit.headroom is None and explicit.over_headroom == [] and explicit.headroom_warning() is None


def test_a_fast_uncalibrated_clock_is_told_to_make_the_cycles_a_lower_bound(tmp_path):
    """tour 9 a80: at 600 MHz the same cycle count printed a 6x lower latency and a lower energy with no caveat."""
    fast = estimate(parse_config({**raw_with(), "target": {"clock_mhz": 600}}), n_features=1)
    said = [w for w in fast.warnings() if w.startswith("target.clock_mhz = 600:")]
    assert said and f"{fast.latency_cycles:,} cycles are a lower bound" in said[0] and "tsflow calibrate" in said[0]
    assert said[0] in fast.to_dict()["warnings"]  # estimate.json holds it
    usual = estimate(parse_config({**raw_with(), "target": {"clock_mhz": 200}}), n_features=1)
    assert not any("target.clock_mhz" in w for w in usual.warnings())  # hls4ml's 5 ns: nothing to say
    path = tmp_path / "fast.yaml"
    path.write_text(json.dumps({**raw_with(), "target": {"clock_mhz": 600}}))
    out = CliRunner().invoke(cli, ["estimate", str(path)])
    assert out.exit_code == 0 and "warning: target.clock_mhz = 600: " in out.output


def test_a_fast_clock_on_a_part_with_no_energy_figure_calls_only_the_latency_optimistic():
    """tour 10 a20: on the xc7z020 the clock warning called the energy optimistic beside 'energy: not estimated'."""
    zynq = estimate(parse_config({**raw_with(), "target": {"part": "xc7z020clg484-1", "clock_mhz": 250}}), n_features=1)
    said = [w for w in zynq.warnings() if w.startswith("target.clock_mhz = 250:")]
    assert zynq.energy is None and len(said) == 1
    assert "us is optimistic" in said[0] and "energy" not in said[0]
    spartan = estimate(parse_config({**raw_with(), "target": {"clock_mhz": 250}}), n_features=1)
    assert spartan.energy is not None
    assert any("and the energy per inference are optimistic" in w for w in spartan.warnings())

def test_a_bram_asked_for_a_one_word_buffer_is_said_not_to_be_used():
    """tour 9 a48: hls.storage.head: bram became registers without a word (every other storage choice is honoured)."""
    raw = raw_with(storage={"head": "bram", "pool": "bram"})
    raw["model"]["predict_delta"] = True  # the head's one word is a buffer the delta reads (else the output port)
    est = estimate(parse_config(raw), n_features=1)
    assert buffer_of(est, "head").storage == "registers" and buffer_of(est, "pool").storage == "bram"
    said = [w for w in est.warnings() if w.startswith("hls.storage.head = bram:")]
    assert len(said) == 1 and "the bram choice is not used" in said[0]
    assert not any(w.startswith("hls.storage.pool") for w in est.warnings())  # honoured: nothing to say


def test_a_softmax_table_finer_than_explicit_scores_is_told_to_make_a_hard_max():
    """tour 9 a18: index_frac 16 with 3-fraction-bit scores looked up 0 for every score below the maximum."""
    raw = {**raw_with(), "quantization": {"bits": 8, "act_integer": 4, "softmax": {"table_size": 4096,
                                                                                   "index_frac": 16}}}
    said = [w for w in estimate(parse_config(raw), n_features=1).warnings() if "softmax.index_frac" in w]
    assert len(said) == 1 and "enc0.scores has 3 fraction bits" in said[0] and "hard max" in said[0]
    raw["quantization"]["softmax"]["index_frac"] = 12  # spans one score unit, steps inside the table
    assert not any("softmax" in w for w in estimate(parse_config(raw), n_features=1).warnings())
