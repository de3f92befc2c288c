"""Values at their boundaries, each worked out by hand here:

* ``tsflow search`` prunes a candidate whose estimate sits between ``1 - target.headroom`` of the budget
  and the budget (it fits the part, not the headroom) and trains one just below the line; the headroom
  is constructed from the estimator's figures of the two candidates so that the line falls between them
  (flow/search/study.py);
* the estimator's automatic multiplier (``flow.hls.plan.auto_mapping``): operand widths that add up to
  12 bits are LUTs, 13 a DSP48E1, through a norm's multiplier in the plan and the DSP total;
* the block-design Tcl (vivado_scripts/block_design.tcl.in) run under tclsh with every Vivado command a
  recording proc: the reset's port type and polarity and where it is connected, the clock in Hz and
  the MicroBlaze automation's clock label from ``target.clock_mhz``, the address assignment.
"""
from __future__ import annotations

import copy
import json

import pytest

from .conftest import TINY

# ------------------------------------------------------------------------ search: the headroom line

SPACE = {"hls.default_parallelism": [2, 4]}  # explicit lanes: the estimate does not depend on the headroom
RESOURCES = ("lut", "lutram", "ff", "bram18", "dsp")


def search_raw(headroom: float) -> dict:
    raw = copy.deepcopy(TINY)
    raw["name"] = "line"
    raw["target"] = {"headroom": headroom}
    raw["search"] = {"space": SPACE, "objectives": ["val_mse", "latency"], "float_epochs": 1, "qat_epochs": 1}
    return raw


def figures(lanes: int, headroom: float) -> tuple[dict, dict, bool]:
    from flow.config import parse_config
    from flow.estimate import estimate

    raw = search_raw(headroom)
    raw.pop("search")
    raw["hls"] = {"default_parallelism": lanes}
    est = estimate(parse_config(raw))
    return est.total, est.budget, est.fits


def test_a_candidate_between_the_headroom_and_the_budget_is_pruned_one_below_the_line_is_trained(tmp_path):
    import optuna
    from optuna.trial import TrialState

    from flow.config import parse_config
    from flow.search.study import load_study, run

    small, budget, _ = figures(2, 0.2)
    large, _, large_fits = figures(4, 0.2)
    # the line: half a unit above the small candidate's fullest resource, as a fraction of the budget
    fullest = max((r for r in RESOURCES if budget[r]), key=lambda r: small[r] / budget[r])
    line = (small[fullest] + 0.5) / budget[fullest]
    headroom = 1 - line
    # the construction holds: the small one is within the line everywhere, the large one over it somewhere
    # but within the budget everywhere (it fits the part)
    assert all(small[r] <= line * budget[r] for r in RESOURCES if budget[r])
    over = [r for r in RESOURCES if budget[r] and large[r] > line * budget[r]]
    assert over and large_fits and all(large[r] <= budget[r] for r in RESOURCES if budget[r])
    # and neither estimate moves with the headroom (explicit lanes)
    assert figures(2, headroom)[0] == small and figures(4, headroom)[0] == large

    cfg = parse_config(search_raw(headroom))
    out = tmp_path / "out"
    out.mkdir()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = load_study(cfg, out, None, None)
    for lanes in (4, 2):
        study.enqueue_trial({"hls.default_parallelism": lanes})
    study = run(cfg, out, trials=2)
    trials = {t.params["hls.default_parallelism"]: t for t in study.get_trials()}
    assert set(trials) == {2, 4}
    assert trials[4].state == TrialState.PRUNED
    assert trials[4].user_attrs["estimate"]["total"] == large and trials[4].user_attrs["estimate"]["fits"] is True
    assert trials[2].state == TrialState.COMPLETE and "val_mse" in trials[2].user_attrs
    log = [json.loads(line) for line in (out / "trainings.log").read_text().splitlines()]
    assert [entry["choice"] for entry in log] == [{"hls.default_parallelism": 2}]  # the pruned one never trained


# --------------------------------------------------------------------- multipliers: LUT up to 12 bits

@pytest.mark.parametrize("wa, wb, mapping", [
    (6, 6, "lut"), (1, 11, "lut"), (11, 1, "lut"),  # 12 bits: LUTs
    (6, 7, "dsp"), (7, 6, "dsp"), (1, 12, "dsp"),  # 13 bits: a DSP
])
def test_auto_mapping_puts_twelve_operand_bits_in_luts_and_thirteen_on_a_dsp(wa, wb, mapping):
    from flow.hls.plan import auto_mapping

    assert auto_mapping(wa, wb) == mapping


def norm_estimate(add1_bits: int, scale_bits: int, multiplier: str | None = None):
    """The estimate of TINY at 6 bits on 2 explicit lanes, with enc0.norm1's operands (the residual sum
    add1 and the norm's scale, both signed) at the given widths; ``multiplier`` forces norm1's."""
    from flow.config import parse_config
    from flow.estimate import estimate

    raw = copy.deepcopy(TINY)
    raw["quantization"] = {"bits": 6, "layers": {"enc0.add1": {"output": {"bits": add1_bits}},
                                                 "enc0.norm1": {"scale": {"bits": scale_bits}}}}
    raw["hls"] = {"default_parallelism": 2, **({"multiplier": {"enc0.norm1": multiplier}} if multiplier else {})}
    return estimate(parse_config(raw))


@pytest.mark.parametrize("add1_bits, scale_bits, mapping", [
    (6, 6, "lut"), (7, 5, "lut"), (4, 8, "lut"),  # 12 operand bits
    (6, 7, "dsp"), (7, 6, "dsp"), (5, 8, "dsp"),  # 13
])
def test_the_estimator_maps_a_norm_of_twelve_operand_bits_to_luts_and_thirteen_to_a_dsp(add1_bits, scale_bits,
                                                                                          mapping):
    est = norm_estimate(add1_bits, scale_bits)
    loop = est.plan.loops["enc0.o"]  # the o projection carries add1 and norm1 at its output
    assert loop.norm_widths == (add1_bits, scale_bits) and loop.norm_mapping == mapping
    # one signed multiplier of at most 7 x 8 bits fits one DSP48E1 (25 x 18): the DSP total is the LUT
    # design's plus one exactly when the switch chose the DSP
    luts = norm_estimate(add1_bits, scale_bits, "lut")
    assert est.total["dsp"] - luts.total["dsp"] == (1 if mapping == "dsp" else 0)


# ------------------------------------------------------------------ block design: the Tcl's arguments

@pytest.fixture
def bd_prelude(tmp_path):
    from .test_block_design import BD_PROCS
    from .test_export import PRELUDE

    path = tmp_path / "prelude.tcl"
    path.write_text(PRELUDE.replace("# as `vivado -source SCRIPT", BD_PROCS + "# as `vivado -source SCRIPT"))
    return path


@pytest.mark.parametrize("target, hz, label", [
    ({}, "100000000", "100 MHz"),  # target.clock_mhz left at its default
    ({"clock_mhz": 62.5}, "62500000", "62.5 MHz"),
    ({"clock_mhz": 33.333}, "33333000", "33.333 MHz"),
])
def test_the_block_design_gets_an_active_low_reset_and_the_configured_clock(tmp_path, bd_prelude, target, hz, label):
    from flow.export.block_design import EXAMPLE, SW

    from .test_block_design import axilite_build, config_of, exported
    from .test_export import run_tcl

    build_dir, _ = axilite_build(tmp_path / "b", target=target)
    done, rec = run_tcl(build_dir, exported(build_dir), bd_prelude)
    assert done.returncode == 0, done.stderr
    calls = [r for r in rec if r[0] not in ("get_bd_ports", "get_bd_pins", "get_bd_intf_pins", "get_bd_intf_ports")]
    ports = [r[1:] for r in calls if r[0] == "create_bd_port"]
    assert ports == [["-dir", "I", "-type", "clk", "-freq_hz", hz, "sys_clk"], ["-dir", "I", "-type", "rst", "sys_rst_n"]]
    # the reset: active low, and the external reset of the one processor system reset the automation adds
    assert ["set_property", "CONFIG.POLARITY", "ACTIVE_LOW", "sys_rst_n"] in calls
    assert ["get_bd_cells", "-filter", 'VLNV =~ "*:proc_sys_reset:*"'] in calls
    assert [r[1:] for r in calls if r[0] == "connect_bd_net"] == [["sys_rst_n", "rst_sys_clk_100M/ext_reset_in"]]
    # the MicroBlaze and both slaves on that clock
    assert config_of(rec, "microblaze_0")["clk"] == f"/sys_clk ({label})"
    for slave in ("uart_0/S_AXI", "forecaster/s_axi_control"):
        c = config_of(rec, slave)
        assert (c["Clk_master"], c["Clk_slave"], c["Clk_xbar"]) == ("Auto", "Auto", "Auto")
    # addresses: no range fixed by the script; Vivado assigns every slave's (once, after both are connected,
    # before validation), and the example finds the IP at the base address the platform names after the cell
    names = [r[0] for r in calls]
    assert [r[1:] for r in calls if r[0] == "assign_bd_address"] == [[]]
    assert names.index("assign_bd_address") > max(i for i, n in enumerate(names) if n == "apply_bd_automation")
    assert names.index("assign_bd_address") < names.index("validate_bd_design")
    cells = [r[-1] for r in calls if r[0] == "create_bd_cell"]
    assert "forecaster" in cells
    assert "#define TSFLOW_IP_DEVICE XPAR_FORECASTER_BASEADDR" in (build_dir / SW / EXAMPLE).read_text()
