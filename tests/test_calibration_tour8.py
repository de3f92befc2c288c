"""A calibration as the user meets it (tour 8): its power figures checked when applied, the estimate saying
what is calibrated, a build refused by a calibrated estimate saying so, reports re-saved as UTF-16, and
the one rule by which calibrate and verify take a report as this design's.

The power reports are the real ones of tests/data/power_reports; the HLS reports real ones of
../shared/data/reports (the test skips without them), converted or renamed in the test's own folder.
"""
from __future__ import annotations

import codecs
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flow import api
from flow.calibration import fit
from flow.config import parse_config
from flow.reports import detect_and_parse, parse_csynth_xml

from .conftest import CLI_ENV, PART, TINY, real_report

POWER = Path(__file__).parent / "data" / "power_reports" / "xc7s15_hdmi_dvi_power_routed.rpt"


def power_raw() -> dict:
    """The tiny configuration on the report's part, its IP named as the report's design (display_demo_dvi)."""
    raw = copy.deepcopy(TINY)
    raw["target"] = {**raw.get("target", {}), "part": "xc7s15ftgb196-1"}
    raw["export"] = {**raw.get("export", {}), "ip_name": "display_demo_dvi"}
    return raw
AXI = "vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml"  # hls4ml, top myproject_axi
SPAM = "vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_csynth.xml"  # another design, top SgdLR_sw


def tsflow(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flow", *args], cwd=cwd, env=CLI_ENV, capture_output=True,
                          text=True, timeout=300)


def power_calibration(tmp_path: Path, **power) -> tuple[dict, Path]:
    """The configuration and the calibration 'tsflow calibrate' writes from the real report_power, with
    ``power`` changed as a hand edit would."""
    raw = power_raw()
    cal = fit(parse_config(raw), [POWER])
    cal["power"].update(power)
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(cal))
    return raw, path


def test_a_dynamic_power_factor_outside_the_range_is_said_each_time_it_is_applied(tmp_path):
    raw, path = power_calibration(tmp_path)
    scale = json.loads(path.read_text())["power"]["dynamic_scale"]
    assert not 0.1 <= scale <= 10  # the real report is of another design (an HDMI demo), far from the estimate
    notes = []
    api.estimate(raw, path, note=notes.append)
    assert notes == [f"warning: --calibration {path}: its dynamic power factor (power.dynamic_scale) is {scale:.3g} "
                     f"(made from {POWER}), outside 0.1..10: the report is likely of another design, yet this "
                     f"estimate's dynamic power is scaled by it; check that it is of this design, or run 'tsflow "
                     f"calibrate' again with this design's report_power output"]
    raw, near = power_calibration(tmp_path, dynamic_scale=0.8)
    notes = []
    api.estimate(raw, near, note=notes.append)
    assert notes == []


@pytest.mark.parametrize("static, refused", [(50.0, True), (0.0005, True), (0.021, False), (0.15, False)])
def test_a_static_power_far_from_the_parts_is_refused_naming_the_file_and_key(tmp_path, static, refused):
    raw, path = power_calibration(tmp_path, static_w=static)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    done = tsflow(tmp_path, "estimate", "c.yaml", "--calibration", "cal.json", "--json")
    assert "Traceback" not in done.stderr
    if refused:
        assert done.returncode == 2, done.stdout
        assert f"error: --calibration cal.json: power.static_w is {static:g} W" in done.stderr
        assert "the 0.02 W of the xc7s15" in done.stderr and "outside 0.1..10 times it" in done.stderr
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        energy = json.loads(done.stdout)["energy"]
        assert energy["static_w"] == static and energy["calibrated_from"] == [str(POWER)]


def test_calibrate_refuses_a_report_power_whose_static_is_not_the_parts(tmp_path):
    hot = tmp_path / "hot.rpt"
    text = POWER.read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("| Device Static (W)"))
    hot.write_text(text.replace(line, line.replace("0.020", "0.900")))
    with pytest.raises(api.ConfigError, match=r"hot.rpt: Device Static \(W\) 0.9 W, 45 times the 0.02 W"):
        fit(parse_config(power_raw()), [hot])


def test_the_energy_of_a_calibration_is_named_calibrated_with_its_reports(tmp_path):
    raw, path = power_calibration(tmp_path, dynamic_scale=0.8)
    energy = api.estimate(raw, path).energy
    assert energy.source == f"calibrated by report_power of {POWER.name}"
    assert energy.to_dict()["calibrated_from"] == [str(POWER)]
    plain = api.estimate(raw).energy
    assert plain.source == "estimate" and plain.to_dict()["calibrated_from"] == []


def test_a_build_refused_by_a_calibrated_estimate_names_the_calibration(tmp_path):
    raw = copy.deepcopy(TINY)
    cal = {"part": PART, "config": "tiny", "factors": {"lut": 60.0, "ff": 1.2}, "sources": {"lut": ["big.rpt"]}}
    (tmp_path / "big.json").write_text(json.dumps(cal))
    with pytest.warns(Warning):  # the lut factor is outside 0.1..10: said when applied
        with pytest.raises(api.ConfigError) as caught:
            api.build(raw, tmp_path / "b", calibration=tmp_path / "big.json")
    text = str(caught.value)
    assert f"(a calibrated estimate: {tmp_path / 'big.json'} scales lut by 60; uncalibrated: lut " in text
    assert "which fit); if those factors are not this design's, build without the calibration" in text
    assert not (tmp_path / "b").exists()


def test_a_folder_given_as_calibration_to_the_api_says_what_to_give(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(api.ConfigError) as caught:
        api.estimate(TINY, calibration=tmp_path / "run")
    assert str(caught.value) == (f"calibration={str(tmp_path / 'run')!r} is a folder: give the JSON file 'tsflow "
                                 f"calibrate' wrote")
    (tmp_path / "run" / "calibration.json").write_text("{}")
    with pytest.raises(api.ConfigError, match=r"is a folder: give the JSON file 'tsflow calibrate' wrote \(such as "
                                              r"'.*run/calibration.json'\)"):
        api.estimate(TINY, calibration=tmp_path / "run")


def utf16(source: Path, to: Path, head: str = "") -> Path:
    """The file as Windows PowerShell's ``>`` saves it: UTF-16 LE with its byte order mark, CRLF lines."""
    text = head + source.read_text()
    to.write_bytes(codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    return to


def test_a_report_resaved_as_utf16_is_read_as_the_original(tmp_path):
    power = utf16(POWER, tmp_path / "p16.rpt")
    assert power.read_bytes()[:2] == b"\xff\xfe"
    assert detect_and_parse(power) == detect_and_parse(POWER)
    xml = real_report(AXI)
    converted = utf16(xml, tmp_path / "csynth.xml")
    assert detect_and_parse(converted) == parse_csynth_xml(xml)
    declared = utf16(xml, tmp_path / "declared.xml", '<?xml version="1.0" encoding="UTF-8"?>\n')  # kept by PowerShell
    assert detect_and_parse(declared) == parse_csynth_xml(xml)


def test_a_report_of_nul_bytes_says_its_encoding(tmp_path):
    bare = tmp_path / "bare.rpt"
    bare.write_bytes(POWER.read_text().encode("utf-16-le"))  # no byte order mark
    with pytest.raises(api.ConfigError, match="holds NUL bytes: UTF-16 or UTF-32 text without a byte order mark"):
        fit(parse_config(power_raw()), [bare])


# ------------------------------------------------- one rule: is a report this design's (calibrate and verify)

def myproject_config(folder: Path) -> Path:
    raw = {**copy.deepcopy(TINY), "target": {"part": "xc7z020clg400-1"}, "export": {"ip_name": "myproject"}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "c.yaml").write_text(yaml.safe_dump(raw))
    return folder / "c.yaml"


def test_calibrate_refuses_an_hls_report_whose_top_only_starts_with_the_ip_name(tmp_path):
    """hls4ml's top (myproject_axi) beside export.ip_name: myproject is another design: tsflow's HLS top is
    always its top function, the IP name is given to Vivado's design only."""
    myproject_config(tmp_path)
    shutil.copyfile(real_report(AXI), tmp_path / "theirs.xml")
    done = tsflow(tmp_path, "calibrate", "theirs.xml", "--config", "c.yaml", "--out", "a.json")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert ("error: theirs.xml: report of another design: its top is myproject_axi (on xc7z020-clg400-1), this "
            "configuration's is tsflow_model") in done.stderr
    assert "its top starts with export.ip_name (myproject), but the HLS top of this design is always tsflow_model" \
        in done.stderr
    assert not (tmp_path / "a.json").exists()


def a_build(folder: Path) -> Path:
    """A build folder as far as verify reads it: plan, estimate and the configuration (export.ip_name: myproject)."""
    folder.mkdir(parents=True)
    (folder / "plan.json").write_text(json.dumps({"engine": None, "loops": [], "layers": {}}))
    (folder / "estimate.json").write_text(json.dumps({"total": {"lut": 1, "lutram": 0, "ff": 1, "bram18": 0,
                                                                "dsp": 0}, "calibrated": False}))
    myproject_config(folder / "model").rename(folder / "model" / "config.yaml")
    return folder


@pytest.mark.parametrize("beside", [False, True], ids=["alone", "among-other-reports"])
def test_verify_refuses_an_hls_report_whose_top_only_starts_with_the_ip_name(tmp_path, beside):
    a_build(tmp_path / "b")
    shutil.copyfile(real_report(AXI), (tmp_path / "syn").mkdir() or tmp_path / "syn" / "csynth.xml")
    if beside:
        shutil.copyfile(real_report(SPAM), tmp_path / "syn" / SPAM)
    done = tsflow(tmp_path, "verify", "b", "--synthesis", "syn/csynth.xml")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert done.stderr.startswith("error: syn/csynth.xml is a report of another design: top myproject_axi on "
                                  "xc7z020-clg400-1, not this build's top tsflow_model"), done.stderr
    assert "module reports" not in done.stdout + done.stderr


def test_verify_reads_only_the_module_reports_of_its_top_in_a_folder_of_reports(tmp_path):
    """A folder where reports were collected: another design's *_csynth.xml beside the top report is not one of
    its modules (the top names its modules in its hierarchy); in a solution's syn/report folder every one is."""
    from flow.verify import verify

    shutil.copyfile(real_report("vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml"), (tmp_path / "syn").mkdir()
                    or tmp_path / "syn" / "csynth.xml")
    shutil.copyfile(real_report(SPAM), tmp_path / "syn" / SPAM)
    build = tmp_path / "b"
    build.mkdir()
    (build / "plan.json").write_text(json.dumps({"engine": None, "loops": [], "layers": {}}))
    (build / "estimate.json").write_text(json.dumps({"total": {"bram18": 0, "dsp": 0}, "calibrated": False}))
    assert verify(build, tmp_path / "syn" / "csynth.xml").modules == []
    solution = tmp_path / "prj" / "solution1" / "syn" / "report"
    shutil.copytree(tmp_path / "syn", solution)
    assert verify(build, solution / "csynth.xml").modules == [solution / SPAM]


@pytest.mark.parametrize("top, interface, ours", [
    ("tsflow_model", "ap_vld", True), ("tsflow_model_Pipeline_Clocks", "ap_vld", True),  # a module named after it
    ("tsflow_modelX", "ap_vld", False), ("tsflow_forecaster", "ap_vld", False),  # the IP's name: Vivado's only
    ("tsflow_forecaster_axi", "ap_vld", False), ("tsflow_ip", "s_axilite", True), ("tsflow_model", "s_axilite", False),
])
def test_an_hls_reports_top_is_the_designs_top_function_or_a_module_of_it(top, interface, ours):
    from flow.hls.interface import top_function
    from flow.reports import HLSReport, of_design

    report = HLSReport(None, None, PART, top, None, None, None, None, None, None, {}, None)
    assert of_design(report, top_function(interface, "tsflow_model"), "tsflow_forecaster") is ours


@pytest.mark.parametrize("design, ours", [("tsflow_forecaster_0", True), ("tsflow_forecaster_wrapper", True),
                                          ("tsflow_model", True), (None, True), ("system_wrapper", False)])
def test_a_vivado_reports_design_may_be_named_after_the_ip(design, ours):
    from flow.reports import PowerReport, of_design

    report = detect_and_parse(POWER)
    assert isinstance(report, PowerReport)
    report.design = design
    assert of_design(report, "tsflow_model", "tsflow_forecaster") is ours
