"""Energy per inference: the report_power parser on real, unmodified Vivado reports, and the energy model
worked by hand.

The reports in tests/data/power_reports come from two MIT-licensed public projects (SOURCES.md there);
each test checks the parser against the report's own arithmetic (components + static = total, rails x
volts = static), not against numbers copied from the parser's output.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from flow.estimate.energy import COEFFICIENTS, STATIC_W, VIVADO_DEFAULT_TOGGLE, dynamic_power, energy_of
from flow.reports import ReportError, detect_and_parse, parse_vivado_power

REPORTS = sorted((Path(__file__).parent / "data" / "power_reports").glob("*.rpt"))
RESOLUTION_W = 0.001  # report_power prints watts to 1 mW


def test_the_fixture_folder_holds_the_reports_and_their_licences():
    assert len(REPORTS) == 4
    folder = REPORTS[0].parent
    sources = (folder / "SOURCES.md").read_text()
    for report in REPORTS:
        assert report.name in sources
    assert len(list(folder.glob("LICENSE.*"))) == 2


def _supply_static(text: str) -> float:
    """Sum of voltage x static current over the report's Power Supply Summary rows."""
    section = text.split("1.2 Power Supply Summary")[2]  # [0] before the contents, [1] the contents entry
    total = 0.0
    for line in section.split("1.3 Confidence Level")[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and re.fullmatch(r"[\d.]+", cells[1]):
            total += float(cells[1]) * float(cells[4])
    return total


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.stem)
def test_power_report_totals_add_up_as_the_report_prints_them(path):
    rep = detect_and_parse(path)
    assert rep.part.startswith("xc7s15") and rep.state == "routed"
    assert rep.activity_file is None  # vectorless: every fixture was run without simulation activity
    # top-level rows + static = total, each row rounded to 1 mW and "<0.001" rows below it
    top = [c for c in rep.components if c.indent == 0]
    known = sum(c.power_w for c in top if c.power_w is not None)
    below = sum(1 for c in top if c.power_w is None)
    slack = RESOLUTION_W * (len(top) + 1) / 2 + below * RESOLUTION_W
    assert known + rep.static_w == pytest.approx(rep.total_w, abs=slack)
    assert rep.dynamic_w + rep.static_w == pytest.approx(rep.total_w, abs=RESOLUTION_W)
    # the rails' static currents x their voltages give the device's static power
    assert _supply_static(path.read_text()) == pytest.approx(rep.static_w, abs=RESOLUTION_W)
    # indented rows are the parts of Slice Logic, which the report lists with its own used count
    parts = [c for c in rep.components if c.indent == 1]
    assert parts and rep.component("Slice Logic").used >= sum(c.used for c in parts) - 1e-9
    assert rep.clocks and all(ns > 0 for ns in rep.clocks.values())


def test_static_figure_of_the_xc7s15_is_the_one_every_report_gives():
    assert {parse_vivado_power(p).static_w for p in REPORTS} == {STATIC_W["xc7s15"]}


def test_a_power_report_without_its_components_table_or_another_report_is_refused(tmp_path):
    bad = tmp_path / "power.rpt"
    bad.write_text(REPORTS[0].read_text().replace("1.1 On-Chip Components\n", "1.1 On Chip\n"))
    with pytest.raises(ReportError, match="On-Chip Components"):
        parse_vivado_power(bad)
    other = tmp_path / "other.rpt"
    other.write_text("| Command : report_timing\n")
    with pytest.raises(ReportError, match="not a Vivado report_power report"):
        parse_vivado_power(other)


RESOURCES = {"lut": 1000, "ff": 2000, "lutram": 100, "bram18": 4, "dsp": 10}


def test_dynamic_power_worked_by_hand():
    got = dynamic_power(RESOURCES, 100.0, VIVADO_DEFAULT_TOGGLE)
    # watts = uW/MHz x units x MHz x 1e-6
    assert got["logic"] == pytest.approx(0.061 * 1000 * 100e-6)
    assert got["nets"] == pytest.approx(0.054 * 3000 * 100e-6)
    assert got["registers"] == pytest.approx(0.0065 * 2000 * 100e-6)
    assert got["lutram"] == pytest.approx(0.053 * 100 * 100e-6)
    assert got["bram"] == pytest.approx(9.55 * 4 * 100e-6)
    assert got["dsp"] == pytest.approx(6.8 * 10 * 100e-6)
    assert got["clocks"] == pytest.approx(0.05 * 2000 * 100e-6)
    assert set(got) == {"logic", "nets", "registers", "lutram", "bram", "dsp", "clocks"}
    assert COEFFICIENTS["bram18"] * 2 == pytest.approx(19.1)  # the per-RAMB36 median, halved


def test_toggle_rate_scales_everything_but_the_clock_tree():
    base = dynamic_power(RESOURCES, 100.0, VIVADO_DEFAULT_TOGGLE)
    double = dynamic_power(RESOURCES, 100.0, 2 * VIVADO_DEFAULT_TOGGLE)
    for part in base:
        assert double[part] == pytest.approx(base[part] * (1 if part == "clocks" else 2))
    half_clock = dynamic_power(RESOURCES, 50.0, VIVADO_DEFAULT_TOGGLE)
    assert sum(half_clock.values()) == pytest.approx(sum(base.values()) / 2)


def test_energy_is_power_times_latency_and_unknown_without_a_static_figure():
    e = energy_of("xc7s15", RESOURCES, 100.0, 2_000, VIVADO_DEFAULT_TOGGLE)
    dyn = sum(dynamic_power(RESOURCES, 100.0, VIVADO_DEFAULT_TOGGLE).values())
    assert e.latency_us == 20.0
    assert e.energy_uj == pytest.approx((0.020 + dyn) * 20.0)
    assert e.to_dict()["energy_mj"] == pytest.approx(e.energy_uj / 1000, abs=1e-7)
    assert not e.calibrated_from
    assert energy_of("xc7a12t", RESOURCES, 100.0, 2_000, VIVADO_DEFAULT_TOGGLE) is None


def test_measured_power_replaces_the_static_figure_and_scales_the_dynamic_one():
    measured = {"static_w": 0.05, "dynamic_scale": 1.5}
    e = energy_of("xc7a12t", RESOURCES, 100.0, 1_000, VIVADO_DEFAULT_TOGGLE, power=measured)
    dyn = sum(dynamic_power(RESOURCES, 100.0, VIVADO_DEFAULT_TOGGLE).values())
    assert e.calibrated_from and e.static_w == 0.05
    assert e.total_w == pytest.approx(0.05 + 1.5 * dyn)


def _forged_for(cfg, report: Path, to: Path) -> Path:
    """``report`` with its Design and Device header lines set to ``cfg``'s top function and part: the real
    report's figures, claimed for this design (as a user's report_power of this IP would name them)."""
    from flow.calibration import SOURCE
    from flow.hls.interface import top_function

    text = report.read_text()
    text = re.sub(r"^\| Design( +): \S+", lambda m: f"| Design{m.group(1)}: {top_function(cfg.hls.interface, SOURCE)}",
                  text, count=1, flags=re.M)
    text = re.sub(r"^\| Device( +): \S+", lambda m: f"| Device{m.group(1)}: {cfg.target.part}", text, count=1,
                  flags=re.M)
    to.write_text(text)
    return to


def test_calibrating_with_report_power_gives_back_its_figures_for_this_design(tmp_path):
    import json

    from flow import api
    from flow.calibration import fit

    from .conftest import TINY

    cfg = api.load_config(TINY)
    gyro = next(p for p in REPORTS if "gyroscope" in p.name)
    forged = _forged_for(cfg, gyro, tmp_path / "power.rpt")
    calibration = fit(cfg, [forged])
    power = calibration["power"]
    # the IP's own rows of that report: Clocks 0.010 + Slice Logic 0.003 + Signals 0.004 (Block RAM "<0.001", the
    # MMCM and the I/O are not the IP's), read by hand from the file
    assert power["dynamic_w"] == pytest.approx(0.017)
    assert power["static_w"] == pytest.approx(0.020)
    assert calibration["factors"] == {}  # a power report gives no resource or latency figure
    assert any("without a simulation activity file" in w for w in calibration["warnings"])
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(calibration))
    plain, calibrated = api.estimate(TINY), api.estimate(TINY, path)
    assert not plain.energy.calibrated_from and calibrated.energy.calibrated_from
    # the calibrated estimate of the design the report measured gives the report's own power back
    assert sum(calibrated.energy.dynamic_w.values()) == pytest.approx(0.017)
    assert calibrated.energy.total_w == pytest.approx(0.037)
    assert calibrated.latency_cycles == plain.latency_cycles  # nothing else is corrected


def test_a_power_report_of_another_design_or_part_is_refused(tmp_path):
    from flow import api
    from flow.calibration import fit
    from flow.config import ConfigError

    from .conftest import TINY

    cfg = api.load_config(TINY)
    with pytest.raises(ConfigError, match="report is for part xc7s15ftgb196-1"):
        fit(cfg, [REPORTS[0]])
    other = _forged_for(cfg, REPORTS[0], tmp_path / "p.rpt")
    other.write_text(re.sub(r"^\| Design( +): \S+", r"| Design\1: system_wrapper", other.read_text(), count=1,
                            flags=re.M))
    with pytest.raises(ConfigError, match="report of another design: its top is system_wrapper"):
        fit(cfg, [other])
    idle = _forged_for(cfg, next(p for p in REPORTS if "peripherals" in p.name), tmp_path / "idle.rpt")
    with pytest.raises(ConfigError, match="read 0 W"):  # every row of the IP's is "<0.001" there
        fit(cfg, [idle])


def test_energy_is_a_search_objective_where_the_part_is_priced():
    from flow import api
    from flow.config import ConfigError
    from flow.search.study import objective_values, precheck

    from .conftest import TINY

    search = {"space": {"quantization.bits": [4, 8]}, "objectives": ["val_mse", "energy"], "float_epochs": 1,
              "qat_epochs": 1}
    cfg = api.load_config({**TINY, "search": search})
    est = api.estimate(cfg)
    assert objective_values(cfg, est, 0.5) == [0.5, est.energy.energy_uj]
    unpriced = api.load_config({**TINY, "search": search, "target": {"part": "xc7a35tcpg236-1"}})
    with pytest.raises(ConfigError, match="search.objectives has energy, but no static power figure of "
                                          "xc7a35tcpg236-1 is known"):
        precheck(unpriced)


def test_a_toggle_rate_written_as_a_fraction_is_refused_with_both_readings():
    """tour 8, a03: toggle_rate 0.125 (12.5 % as a fraction) was taken as 0.125 % and the energy came out 3x low."""
    from flow import api
    from flow.config import ConfigError

    from .conftest import TINY

    with pytest.raises(ConfigError, match=r"target.toggle_rate = 0.125: a percentage of the clock .* write 12.5 for "
                                          r"12.5 %, or '0.125%' for 0.125 % itself"):
        api.load_config({**TINY, "target": {"toggle_rate": 0.125}})
    assert api.load_config({**TINY, "target": {"toggle_rate": "0.5%"}}).target.toggle_rate == 0.5
    low, default = (api.estimate({**TINY, "target": {"toggle_rate": t}}) for t in ("0.5%", 12.5))
    assert low.energy.total_w < default.energy.total_w


def test_power_reports_that_disagree_or_a_factor_out_of_range_are_said(tmp_path):
    """tour 8, b16 b19 b37: a dynamic factor outside 0.1..10, two reports 3.2x apart averaged, and a report at
    Vivado's 12.5 % beside an estimate at another toggle rate, all went unsaid."""
    from flow import api
    from flow.calibration import fit

    from .conftest import TINY

    cfg = api.load_config({**TINY, "target": {"toggle_rate": 25}})
    gyro, mipi = (_forged_for(cfg, next(p for p in REPORTS if key in p.name), tmp_path / f"{key}.rpt")
                  for key in ("gyroscope", "mipi"))
    calibration = fit(cfg, [gyro, mipi])
    warnings, power = calibration["warnings"], calibration["power"]
    # Clocks + Slice Logic + Signals + Block RAM: 0.017 W and 0.055 W, read by hand from the two files
    assert power["dynamic_w"] == pytest.approx((0.017 + 0.055) / 2)
    assert any("the reports' dynamic power differs 3.2x (0.017 W, 0.055 W)" in w for w in warnings), warnings
    assert any("while the estimate's is at target.toggle_rate 25 %" in w for w in warnings), warnings
    out_of_range = not 0.1 <= power["dynamic_scale"] <= 10
    assert out_of_range == any(w.startswith("the dynamic power factor is") for w in warnings), warnings
