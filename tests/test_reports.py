"""The report parsers against real, unmodified Xilinx tool outputs.

Every expected number below was read by eye from the report text (see the shared folder's README for
tool, version, part and source of each file); none was copied from parser output. The real files live
outside the repository, so those tests skip when the folder is absent.
"""
import subprocess
import sys

from dataclasses import replace

import pytest

from flow.reports import (LoopReport, ReportError, UtilizationReport, detect_and_parse, parse_csynth_design,
                          parse_csynth_rpt, parse_csynth_xml, parse_vivado_utilization)

from .conftest import REPORTS, real_report as report


def res(bram18, dsp, ff, lut, uram):
    return {"bram18": bram18, "dsp": dsp, "ff": ff, "lut": lut, "uram": uram}


def hls(tool, version, part, top, target, estimated, latency, interval, resources, available):
    return {"tool": tool, "version": version, "part": part, "top": top, "clock_target_ns": target,
            "clock_estimated_ns": estimated, "latency_min_cycles": latency[0], "latency_max_cycles": latency[1],
            "interval_min": interval[0], "interval_max": interval[1], "resources": resources, "available": available}


# xc7z020 budget as the HLS reports state it: BRAM_18K 280, DSP 220, FF 106400, LUT 53200, URAM 0
Z7020 = res(280, 220, 106400, 53200, 0)

AUTOENCODER = hls("vivado_hls", "2019.2.1", "xc7z020-clg400-1", "myproject_axi", 5.00, 4.429,
                  (96019, 96170), (11266, 95949), res(289, 118, 53257, 35689, 0), Z7020)
TOP_DFG = hls("vitis_hls", "2020.2", "xc7z020-clg484-1", "top_dfg", 10.00, 6.912,
              (6, 6), (7, 7), res(0, 0, 497, 323, 0), Z7020)
HDC_LOOP = hls("vitis_hls", "2022.1", "xc7z020-clg400-1", "hdc_maxi_Pipeline_VITIS_LOOP_15_1", 10.00, 6.274,
               (1002, 1002), (1002, 1002), res(0, 0, 32780, 16714, 0), Z7020)
PULSE = hls("vitis_hls", "2023.1", "xczu49dr-ffvf1760-2-e", "myproject", 5.00, 3.649,
            (695, 695), (578, 578), res(332, 29, 65881, 339116, 0), res(2160, 4272, 850560, 425280, 80))
# pool_csynth.rpt "Vivado HLS Report for 'pool'": Timing Target "10.00 ns", Estimated "8.750 ns"; Latency summary
# 17769 / 141601 cycles, Interval 17769 / 141601 (the loop rows below it, "2221 ~ 8850" etc., are not the summary);
# Utilization "Total" row BRAM_18K 0, DSP48E 0, FF 630, LUT 1164, URAM 0. The csynth.xml of the run has the same numbers.
CNN_POOL = hls("vivado_hls", "2020.1", "xc7z020-clg484-1", "pool", 10.00, 8.750,
               (17769, 141601), (17769, 141601), res(0, 0, 630, 1164, 0), Z7020)

HLS_EXPECTED = {
    "vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml": (parse_csynth_xml, AUTOENCODER),
    "vivado_hls_2019.2.1_xc7z020_autoencoder_myproject_axi_csynth.rpt": (parse_csynth_rpt, AUTOENCODER),
    "vivado_hls_2019.2_xc7z020_yolov3_tiny_csynth.xml": (parse_csynth_xml, hls(
        "vivado_hls", "2019.2", "xc7z020-clg400-1", "myproject_axi", 5.00, 7.162,
        (7788162, 7861648), (344066, 4123601), res(366, 42, 132450, 149767, 0), Z7020)),
    "vitis_hls_2020.2_xc7z020_top_dfg_csynth.xml": (parse_csynth_xml, TOP_DFG),
    "vitis_hls_2020.2_xc7z020_top_dfg_module_csynth.rpt": (parse_csynth_rpt, TOP_DFG),
    # Synthesis Summary: no clock periods, no device budget, one latency (6) and one interval (7);
    # BRAM/DSP/URAM cells are "-", FF "497 (~0%)", LUT "323 (~0%)"
    "vitis_hls_2020.2_xc7z020_top_dfg_csynth.rpt": (parse_csynth_rpt, hls(
        "vitis_hls", "2020.2", "xc7z020-clg484-1", "top_dfg", None, None,
        (None, 6), (None, 7), res(0, 0, 497, 323, 0), None)),
    "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml": (parse_csynth_xml, HDC_LOOP),
    "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.rpt": (parse_csynth_rpt, HDC_LOOP),
    "vitis_hls_2023.1_xczu49dr_pulse_detection_myproject_csynth.xml": (parse_csynth_xml, PULSE),
    "vitis_hls_2023.1_xczu49dr_pulse_detection_myproject_csynth.rpt": (parse_csynth_rpt, PULSE),
    # Old-style text report ("+ Timing (ns):", "+ Latency (clock cycles):", bare "10.00" / "8.670" cells);
    # Latency summary 70335001 / 70335001 and Interval 70335001 / 70335001; Utilization "Total" row
    # BRAM_18K 2, DSP48E 17, FF 2677, LUT 4956, URAM 0
    "vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_sw_csynth.rpt": (parse_csynth_rpt, hls(
        "vivado_hls", "2019.1", "xc7z020-clg484-1", "SgdLR_sw", 10.00, 8.670,
        (70335001, 70335001), (70335001, 70335001), res(2, 17, 2677, 4956, 0), Z7020)),
    # the same run's XML: Best/Worst-caseLatency 70335001, but Interval-min/max 70335002 -- one more than the
    # text report's Interval column; both files say so, so the two reports of this run disagree on the interval
    "vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_csynth.xml": (parse_csynth_xml, hls(
        "vivado_hls", "2019.1", "xc7z020-clg484-1", "SgdLR_sw", 10.00, 8.670,
        (70335001, 70335001), (70335002, 70335002), res(2, 17, 2677, 4956, 0), Z7020)),
    "vivado_hls_2020.1_xc7z020_cnn_pool_csynth.rpt": (parse_csynth_rpt, CNN_POOL),
    # the XML names no tool (no <FlowTarget>, no "Vivado"/"Vitis" anywhere) and 2020.1 shipped both Vivado HLS and
    # Vitis HLS, so tool is None here although the text report of the same run is titled "Vivado HLS Report";
    # every number is the text report's (Best/Worst-caseLatency 17769/141601, Interval-min/max 17769/141601,
    # Resources DSP48E 0 FF 630 LUT 1164 BRAM_18K 0 URAM 0)
    "vivado_hls_2020.1_xc7z020_cnn_pool_csynth.xml": (parse_csynth_xml, dict(CNN_POOL, tool=None)),
    # top-level <UserAssignments>/<PerformanceEstimates>/<AreaEstimates> (not the 11 ModuleInformation/Module
    # entries): TargetClockPeriod 10.00, EstimatedClockPeriod 7.300, Best/Worst-caseLatency 945200664,
    # Interval-min/max 945200665; Resources BRAM_18K 0, DSP 0, FF 2696, LUT 8796, URAM 0
    "vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml": (parse_csynth_xml, hls(
        "vitis_hls", "2022.1", "xc7z020-clg400-1", "Autoencoder", 10.00, 7.300,
        (945200664, 945200664), (945200665, 945200665), res(0, 0, 2696, 8796, 0), Z7020)),
    # Synthesis Summary, "+ Autoencoder" row: Latency (cycles) 945200664, Interval 945200665, BRAM/DSP/URAM "-",
    # FF "2696 (2%)", LUT "8796 (16%)"; no clock periods (Slack 0.00 is not one) and no device budget
    "vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.rpt": (parse_csynth_rpt, hls(
        "vitis_hls", "2022.1", "xc7z020-clg400-1", "Autoencoder", None, None,
        (None, 945200664), (None, 945200665), res(0, 0, 2696, 8796, 0), None)),
}

UTIL_EXPECTED = {
    # UltraScale+ with SLR sections; RAMB36/FIFO 160, RAMB18 434 -> 434 + 2*160 = 754; URAM 115 / 640
    "vivado_2019.2_xcu50_full_model_utilization_synth.rpt": {
        "tool_version": "2019.2", "part": "xcu50fsvh2104-2L", "design": "myproject",
        "lut": 264101, "lut_logic": 237596, "lutram": 26505, "lutram_ram": 2048, "ff": 298539, "bram_tile": 377.0, "bram18": 754,
        "dsp": 4752, "uram": 115,
        "available": {"lut": 871680, "lutram": 403200, "ff": 1743360, "bram18": 2688, "dsp": 5952, "uram": 640}},
    # UltraScale+ without SLR sections or URAM row; Block RAM Tile 0.5 = one RAMB18
    "vivado_2020.1_xczu9eg_dnd_hls4ml_utilization_synth.rpt": {
        "tool_version": "2020.1", "part": "xczu9egffvb1156-2", "design": "myproject",
        "lut": 31277, "lut_logic": 31277, "lutram": 0, "lutram_ram": 0, "ff": 4555, "bram_tile": 0.5, "bram18": 1,
        "dsp": 0, "uram": 0,
        "available": {"lut": 274080, "lutram": 144000, "ff": 548160, "bram18": 1824, "dsp": 2520, "uram": 0}},
    # 7-series, Slice LUTs 673.43 %, Slice Registers 289.88 %; RAMB36 0, RAMB18 280
    "vivado_2020.1_xc7z020_dnnonsilicon_utilization_synth.rpt": {
        "tool_version": "2020.1", "part": "7z020clg400-1", "design": "myproject",
        "lut": 358266, "lut_logic": 348739, "lutram": 9527, "lutram_ram": 726, "ff": 308427, "bram_tile": 140.0, "bram18": 280,
        "dsp": 220, "uram": 0,
        "available": {"lut": 53200, "lutram": 17400, "ff": 106400, "bram18": 280, "dsp": 220, "uram": 0}},
}


def test_every_shared_report_has_expected_values():
    if not REPORTS.is_dir():
        pytest.skip(f"real tool reports folder {REPORTS} is absent (shared test data, not part of the repository)")
    present = {p.name for p in REPORTS.iterdir() if p.is_file() and p.name != "README.md"}
    expected = set(HLS_EXPECTED) | set(UTIL_EXPECTED)
    unread = sorted(present - expected)  # a new real report must get hand-read values, not be skipped
    absent = sorted(expected - present)
    problems = []
    if unread:
        problems.append(f"{len(unread)} report(s) in {REPORTS} have no expected values in HLS_EXPECTED / "
                        "UTIL_EXPECTED (read them by eye and add them): " + ", ".join(unread))
    if absent:
        problems.append(f"{len(absent)} report(s) with expected values are missing from {REPORTS}: "
                        + ", ".join(absent))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(HLS_EXPECTED))
def test_hls_report_values(name):
    parser, expected = HLS_EXPECTED[name]
    parsed = parser(report(name))
    summary = parsed.to_dict()
    loops = summary.pop("loops")  # test_loops_of_a_csynth_xml
    assert summary == expected and (loops == [] or name.endswith(".xml"))
    assert detect_and_parse(report(name)) == parsed


@pytest.mark.parametrize("name", sorted(UTIL_EXPECTED))
def test_vivado_utilization_values(name):
    parsed = parse_vivado_utilization(report(name))
    assert parsed.to_dict() == UTIL_EXPECTED[name]
    assert detect_and_parse(report(name)) == parsed


@pytest.mark.parametrize("name", ["vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml",
                                  "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.rpt"])
def test_crlf_reports(name):
    path = report(name)
    assert b"\r\n" in path.read_bytes()  # the data really exercises CRLF
    parsed = detect_and_parse(path)
    assert parsed.top == "hdc_maxi_Pipeline_VITIS_LOOP_15_1" and parsed.resources["lut"] == 16714


def test_yolov3_estimate_exceeds_device():
    r = parse_csynth_xml(report("vivado_hls_2019.2_xc7z020_yolov3_tiny_csynth.xml"))
    assert (r.resources["bram18"], r.available["bram18"]) == (366, 280)
    assert (r.resources["lut"], r.available["lut"]) == (149767, 53200)
    assert r.resources["ff"] > r.available["ff"]


def test_vivado_over_100_percent():
    r = parse_vivado_utilization(report("vivado_2020.1_xc7z020_dnnonsilicon_utilization_synth.rpt"))
    assert r.lut == r.lut_logic + r.lutram == 358266 and r.lut / r.available["lut"] > 6.7
    assert r.ff > r.available["ff"]
    assert r.bram18 == r.available["bram18"] and r.dsp == r.available["dsp"]  # both exactly 100 %


def test_ramb36_counts_two_bram18_and_slr_tables_ignored():
    r = parse_vivado_utilization(report("vivado_2019.2_xcu50_full_model_utilization_synth.rpt"))
    assert r.bram18 == 434 + 2 * 160
    assert r.bram_tile == 160 + 434 / 2  # the report's own Block RAM Tile count agrees
    assert r.available["bram18"] == 2 * 1344
    assert r.lut == 264101  # not the zero of the per-SLR table further down


def test_fractional_block_ram_tile():
    r = parse_vivado_utilization(report("vivado_2020.1_xczu9eg_dnd_hls4ml_utilization_synth.rpt"))
    assert r.bram_tile == 0.5 and r.bram18 == 1 and r.uram == 0


@pytest.mark.parametrize("xml, rpt", [
    ("vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml",
     "vivado_hls_2019.2.1_xc7z020_autoencoder_myproject_axi_csynth.rpt"),
    ("vitis_hls_2020.2_xc7z020_top_dfg_csynth.xml", "vitis_hls_2020.2_xc7z020_top_dfg_module_csynth.rpt"),
    ("vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml",
     "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.rpt"),
    ("vitis_hls_2023.1_xczu49dr_pulse_detection_myproject_csynth.xml",
     "vitis_hls_2023.1_xczu49dr_pulse_detection_myproject_csynth.rpt"),
])
def test_xml_and_text_report_of_one_run_agree(xml, rpt):
    # the loops are read from the XML only (the text report's loop table is not parsed)
    assert replace(parse_csynth_xml(report(xml)), loops=[]) == parse_csynth_rpt(report(rpt))


@pytest.mark.parametrize("xml, rpt, differences", [
    # the XML does not name the tool, the text report's title does
    ("vivado_hls_2020.1_xc7z020_cnn_pool_csynth.xml", "vivado_hls_2020.1_xc7z020_cnn_pool_csynth.rpt",
     {"tool": (None, "vivado_hls")}),
    # Interval-min/max 70335002 in the XML, 70335001 in the text report's Interval columns
    ("vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_csynth.xml",
     "vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_sw_csynth.rpt",
     {"interval_min": (70335002, 70335001), "interval_max": (70335002, 70335001)}),
])
def test_xml_and_text_report_of_one_run_differ_only_where_the_files_do(xml, rpt, differences):
    from_xml, from_rpt = parse_csynth_xml(report(xml)).to_dict(), parse_csynth_rpt(report(rpt)).to_dict()
    from_xml.pop("loops"), from_rpt.pop("loops")  # the XML's only
    assert {key: (from_xml[key], from_rpt[key]) for key in from_xml if from_xml[key] != from_rpt[key]} == differences


@pytest.mark.parametrize("xml, rpt", [
    ("vitis_hls_2020.2_xc7z020_top_dfg_csynth.xml", "vitis_hls_2020.2_xc7z020_top_dfg_csynth.rpt"),
    ("vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml", "vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.rpt"),
])
def test_summary_report_agrees_with_xml_where_it_has_the_field(xml, rpt):
    summary = parse_csynth_rpt(report(rpt))
    xml = parse_csynth_xml(report(xml))
    assert summary.resources == xml.resources
    assert (summary.latency_max_cycles, summary.interval_max) == (xml.latency_max_cycles, xml.interval_max)


@pytest.mark.parametrize("name, loops", [
    # (name, trip min, trip max, latency min, latency max, II, depth), read by eye from each file's
    # <SummaryOfLoopLatency>: a figure given as <range><min/><max/> is (min, max); II and depth where pipelined
    ("vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml", [("VITIS_LOOP_15_1", 1000, 1000, 1000, 1000, 1, 1)]),
    ("vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml",
     [("VITIS_LOOP_88_5", 100000, 100000, 945200000, 945200000, None, None),
      ("VITIS_LOOP_88_5/VITIS_LOOP_90_6", 150, 150, 9450, 9450, None, None)]),
    ("vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_csynth.xml",
     [("EPOCH_TRAINING_INST", 22500, 22500, 70335000, 70335000, None, None),
      ("EPOCH_TRAINING_INST/DOT", 1024, 1024, 1028, 1028, 1, 6),
      ("EPOCH_TRAINING_INST/GRAD", 1024, 1024, 1028, 1028, 1, 6),
      ("EPOCH_TRAINING_INST/UPDATE", 1024, 1024, 1026, 1026, 1, 4)]),
    ("vivado_hls_2020.1_xc7z020_cnn_pool_csynth.xml",
     [("Loop1", 8, 16, 17768, 141600, None, None), ("Loop1/Loop1.1", 7, 14, 2219, 8848, None, None),
      ("Loop1/Loop1.1/Loop1.1.1", 7, 14, 315, 630, None, None)]),
    ("vitis_hls_2023.1_xczu49dr_pulse_detection_myproject_csynth.xml", []),  # no loop section
])
def test_loops_of_a_csynth_xml(name, loops):
    parsed = parse_csynth_xml(report(name))
    assert [(lp.name, lp.trip_min, lp.trip_max, lp.latency_min, lp.latency_max, lp.ii, lp.depth)
            for lp in parsed.loops] == loops


def test_module_hierarchy_and_module_information_of_a_vitis_csynth_xml():
    """accel_autoencoder csynth.xml, read by eye: RTLDesignHierarchy under Autoencoder (InstName, ModuleName,
    nesting), and ModuleInformation's 11 modules, e.g. BackPropagateEncoderWeightsChanges (LUT 141, FF 23,
    loops VITIS_LOOP_265_1 and Loop5 > Loop51, TripCount 10, 4, 10, none pipelined) and
    Autoencoder_Pipeline_VITIS_LOOP_52_1 (VITIS_LOOP_52_1: TripCount 600, Latency 600, PipelineII 1, depth 2)."""
    hierarchy, modules = parse_csynth_design(report("vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml"))

    def tree(instances):
        return [(i.name, i.module, tree(i.instances)) for i in instances]

    pipeline = [(f"grp_Autoencoder_Pipeline_VITIS_LOOP_{n}_fu_{fu}", f"Autoencoder_Pipeline_VITIS_LOOP_{n}", [])
                for n, fu in (("52_1", 542), ("58_2", 549), ("63_3", 557), ("69_4", 604))]
    assert tree(hierarchy) == pipeline + [("grp_BackPropagate_fu_651", "BackPropagate", [
        ("BackPropagateDecoderWeightChanges_U0", "BackPropagateDecoderWeightChanges", [
            ("grp_BackPropagateDecoderWeightChanges_Pipeline_Loop31_fu_46",
             "BackPropagateDecoderWeightChanges_Pipeline_Loop31", [])]),
        ("BackPropagateEncoderWeightsChanges_U0", "BackPropagateEncoderWeightsChanges", []),
        ("BackPropagateEncoderWeights_U0", "BackPropagateEncoderWeights", []),
        ("BackPropagateDecoderWeights_U0", "BackPropagateDecoderWeights", [])])]
    assert len(modules) == 11 and sum(len(m.loops) for m in modules) == 15
    by_name = {m.name: m for m in modules}
    changes = by_name["BackPropagateEncoderWeightsChanges"]
    assert changes.resources == res(0, 0, 23, 141, 0)
    assert [(lp.name, lp.trip_max, lp.ii) for lp in changes.loops] == [("VITIS_LOOP_265_1", 10, None),
                                                                      ("Loop5", 4, None), ("Loop5/Loop51", 10, None)]
    assert by_name["Autoencoder_Pipeline_VITIS_LOOP_52_1"].loops == [
        LoopReport("VITIS_LOOP_52_1", 600, 600, 600, 600, 1, 2)]


@pytest.mark.parametrize("name, hierarchy, modules", [
    ("vitis_hls_2020.2_xc7z020_top_dfg_csynth.xml", [], ["top_dfg"]),  # a TopModule without instances
    ("vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml", None, []),  # Vivado HLS: neither section
    ("vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml", None, []),  # a per-module report
])
def test_reports_without_instances(name, hierarchy, modules):
    found, parsed = parse_csynth_design(report(name))
    assert found == hierarchy and [m.name for m in parsed] == modules


def test_to_dict_is_plain_data():
    r = parse_vivado_utilization(report("vivado_2020.1_xczu9eg_dnd_hls4ml_utilization_synth.rpt"))
    d = r.to_dict()
    assert isinstance(r, UtilizationReport) and d["available"] is not r.available and d["bram_tile"] == 0.5


# --- undefined latency -------------------------------------------------------------------------

def test_xml_undef_latency_old_dsp48e_tag_and_no_uram(tmp_path):
    path = tmp_path / "csynth.xml"
    path.write_text(
        "<profile><ReportVersion><Version>2018.3</Version></ReportVersion>"
        "<UserAssignments><unit>ns</unit><Part>xc7z020-clg400-1</Part><TopModelName>top</TopModelName>"
        "<TargetClockPeriod>10.00</TargetClockPeriod></UserAssignments>"
        "<PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>8.750</EstimatedClockPeriod>"
        "</SummaryOfTimingAnalysis><SummaryOfOverallLatency><Best-caseLatency>3</Best-caseLatency>"
        "<Worst-caseLatency>undef</Worst-caseLatency><Interval-min>4</Interval-min>"
        "<Interval-max>undef</Interval-max></SummaryOfOverallLatency></PerformanceEstimates>"
        "<AreaEstimates><Resources><BRAM_18K>2</BRAM_18K><DSP48E>1</DSP48E><FF>10</FF><LUT>20</LUT></Resources>"
        "<AvailableResources><BRAM_18K>280</BRAM_18K><DSP48E>220</DSP48E><FF>106400</FF><LUT>53200</LUT>"
        "</AvailableResources></AreaEstimates></profile>")
    r = parse_csynth_xml(path)
    assert (r.tool, r.latency_min_cycles, r.latency_max_cycles, r.interval_min, r.interval_max) == (
        "vivado_hls", 3, None, 4, None)
    assert r.resources == res(2, 1, 10, 20, 0) and r.available == Z7020


def test_rpt_question_mark_latency(tmp_path):
    text = report("vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.rpt").read_bytes()
    row = b"|     1002|     1002|  10.020 us|  10.020 us|  1002|  1002|       no|"
    assert row in text
    path = tmp_path / "variable.rpt"
    path.write_bytes(text.replace(row, b"|        1|        ?|  10.000 ns|          ?|     2|     ?|       no|"))
    r = parse_csynth_rpt(path)
    assert (r.latency_min_cycles, r.latency_max_cycles, r.interval_min, r.interval_max) == (1, None, 2, None)


# --- files that are not (complete) reports ------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"\x00\xff\xfe garbage \x89PNG\r\n", b"just some notes\n| a | b |\n"])
def test_garbage_raises_naming_the_file(tmp_path, content):
    path = tmp_path / "mystery_report.rpt"
    path.write_bytes(content)
    for parse in (detect_and_parse, parse_csynth_xml, parse_csynth_rpt, parse_vivado_utilization):
        with pytest.raises(ReportError, match="mystery_report.rpt"):
            parse(path)


@pytest.mark.parametrize("content, reason", [
    ("<profile>\n<ReportVersion>\n<Version>2019.2</Ver", "not well-formed XML"),
    ("<project><Part>xc7z020</Part></project>", "not the <profile>"),
    ("<profile><UserAssignments><Part>xc7z020</Part></UserAssignments></profile>", "no UserAssignments/TopModelName"),
])
def test_bad_xml_raises_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "broken_csynth.xml"
    path.write_text(content)
    with pytest.raises(ReportError, match=f"broken_csynth.xml.*{reason}"):
        detect_and_parse(path)


def test_header_without_tables_raises(tmp_path):
    hls_path = tmp_path / "top_csynth.rpt"
    hls_path.write_text("== Vitis HLS Report for 'top'\n* Version:        2022.1\n* Target device:  xc7z020-clg400-1\n")
    with pytest.raises(ReportError, match="top_csynth.rpt.*Timing"):
        detect_and_parse(hls_path)
    util_path = tmp_path / "util.rpt"
    util_path.write_text("| Command      : report_utilization -file util.rpt\n| Device       : 7z020clg400-1\n")
    with pytest.raises(ReportError, match="util.rpt.*Slice LUTs / CLB LUTs"):
        detect_and_parse(util_path)


@pytest.mark.parametrize("name, cut_before, reason", [
    ("vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml", None, "not well-formed XML"),
    ("vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml", None, "not well-formed XML"),
    ("vivado_hls_2019.2.1_xc7z020_autoencoder_myproject_axi_csynth.rpt", "== Utilization Estimates",
     "Utilization Estimates"),
    ("vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.rpt", "|Available", "no 'Available' row"),
    ("vitis_hls_2020.2_xc7z020_top_dfg_csynth.rpt", "+ Performance & Resource Estimates",
     "Performance & Resource Estimates"),
    # the old "+ Timing (ns):" / "+ Latency (clock cycles):" titles of Vivado HLS 2019.1
    ("vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_sw_csynth.rpt", "+ Latency (clock cycles)", "Latency"),
    ("vivado_2020.1_xc7z020_dnnonsilicon_utilization_synth.rpt", "| DSPs", "DSPs"),
    ("vivado_2019.2_xcu50_full_model_utilization_synth.rpt", "| DSPs", "DSPs"),
])
def test_truncated_real_report_raises(tmp_path, name, cut_before, reason):
    text = report(name).read_bytes()
    cut = len(text) // 2 if cut_before is None else text.index(cut_before.encode())
    path = tmp_path / f"truncated_{name}"
    path.write_bytes(text[:cut])
    with pytest.raises(ReportError, match=f"truncated_{name}") as caught:
        detect_and_parse(path)
    assert reason in str(caught.value)


def test_import_does_not_load_tensorflow():
    code = "import sys, flow.reports; sys.exit('tensorflow' in sys.modules or 'hls4ml' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
