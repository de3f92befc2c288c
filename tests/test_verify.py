"""``tsflow verify BUILD_DIR --synthesis PATH``: a C synthesis report against the build's plan, run as a user
runs it (``python -m flow`` in a working folder of its own).

The reports are real, unmodified tool outputs (``../shared/data/reports/``, see its README), copied into
the test's folder so no other report sits beside them; the derived ones are a real report with modules,
loops and values renamed by text replacement. Every planned figure below was read by eye from the report
text; the build folders are made by hand: ``plan.json`` and ``estimate.json``, the two files the check reads.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CLI_ENV, real_report as real

AUTOENCODER = "vitis_hls_2022.1_xc7z020_accel_autoencoder_csynth.xml"  # Vitis HLS 2022.1, ModuleInformation
HDC_LOOP = "vitis_hls_2022.1_xc7z020_hdc_maxi_pipeline_loop_csynth.xml"  # a pipelined loop's module report
SPAM_FILTER = "vivado_hls_2019.1_xc7z020_spam_filter_sgdlr_csynth.xml"  # Vivado HLS: no module hierarchy
CNN_POOL = "vivado_hls_2020.1_xc7z020_cnn_pool_csynth.xml"  # trip counts as ranges
# Vivado HLS 2019.2.1, one run: the XML (no module hierarchy) and the top's text report (its Instance table)
VIVADO_AXI, VIVADO_AXI_RPT = ("vivado_hls_2019.2.1_xc7z020_autoencoder_csynth.xml",
                              "vivado_hls_2019.2.1_xc7z020_autoencoder_myproject_axi_csynth.rpt")


def copied(name: str, folder: Path, as_name: str = "csynth.xml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(real(name), folder / as_name))


def loop(function: str, label: str, trips, ii: int = 1) -> dict:
    low, high = trips if isinstance(trips, tuple) else (trips, trips)
    return {"function": function, "label": label, "trips": {"min": low, "max": high}, "ii": ii}


ENGINE = {"function": "tsflow_engine", "call_sites": 1, "lanes": 16, "dsp": 16, "a_width": 9, "b_width": 8,
          "mapping": "dsp", "users": ["embed", "enc0.q"]}


def build(folder: Path, *, dsp: int, bram18: int, engine: dict | None = None, loops=(), calibrated=False) -> Path:
    """A build folder as far as the check reads it: the plan's engine and loops, the estimate's totals."""
    folder.mkdir(parents=True)
    (folder / "plan.json").write_text(json.dumps({"engine": engine, "loops": list(loops), "layers": {}}))
    (folder / "estimate.json").write_text(json.dumps({"total": {"lut": 1, "lutram": 0, "ff": 1, "bram18": bram18,
                                                                 "dsp": dsp}, "calibrated": calibrated}))
    return folder


def tsflow(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flow", *args], cwd=cwd, env=CLI_ENV, capture_output=True,
                          text=True, timeout=120)


def verify(cwd: Path, build_dir: str, synthesis: str) -> tuple[int, str, list[str]]:
    """Exit code, all output, and the checks the error line names as differences."""
    done = tsflow(cwd, "verify", build_dir, "--synthesis", synthesis)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == (0 if done.returncode == 0 else 1), output
    named = errors[0].split(" checks: ", 1)[1].split(", ") if errors and done.returncode == 1 else []
    return done.returncode, output, named


def row(output: str, check: str) -> str:
    """The table row of ``check`` (its first line)."""
    found = [line for line in output.splitlines() if re.search(rf"│ {re.escape(check)} +│", line)]
    assert len(found) == 1, output
    return found[0]


# ------------------------------------------------------------------------------------------ real reports

# accel_autoencoder csynth.xml, ModuleInformation: the five loops with a <PipelineII> (II 1 each) and their
# TripCount: VITIS_LOOP_52_1 600, VITIS_LOOP_58_2 4, VITIS_LOOP_63_3 40, VITIS_LOOP_69_4 40 (modules
# Autoencoder_Pipeline_*), Loop31 10 (module BackPropagateDecoderWeightChanges_Pipeline_Loop31); the top
# Autoencoder's <DSP> 0 and <BRAM_18K> 0
AUTOENCODER_LOOPS = [loop("Autoencoder", "VITIS_LOOP_52_1", 600), loop("Autoencoder", "VITIS_LOOP_58_2", 4),
                     loop("Autoencoder", "VITIS_LOOP_63_3", 40), loop("Autoencoder", "VITIS_LOOP_69_4", 40),
                     loop("BackPropagateDecoderWeightChanges", "Loop31", 10)]


def test_a_real_vitis_report_that_keeps_the_plan_passes(tmp_path):
    """Every pipelined loop of the real report is in its function's outlined module (<function>_Pipeline_<label>),
    where the plan's function and label find it."""
    copied(AUTOENCODER, tmp_path / "syn")
    build(tmp_path / "b", dsp=0, bram18=0, loops=AUTOENCODER_LOOPS)
    code, output, _ = verify(tmp_path, "b", "syn/csynth.xml")
    assert code == 0, output
    assert "C synthesis matches the plan: 12 checks, no difference" in output
    assert "600 (Autoencoder_Pipeline_VITIS_LOOP_52_1)" in row(output, "Autoencoder/VITIS_LOOP_52_1: trips")
    assert "DIFFERS" not in output


def test_a_real_report_against_a_plan_naming_what_it_lacks_fails_naming_each(tmp_path):
    copied(AUTOENCODER, tmp_path / "syn")
    build(tmp_path / "b", dsp=0, bram18=0, engine=ENGINE,
          loops=[loop("tsflow_engine", "Clocks", (1, 1536)), loop("tsflow_softmax", "Elements", 576),
                 *AUTOENCODER_LOOPS[:1]])
    code, output, named = verify(tmp_path, "b", "syn/csynth.xml")
    assert code == 1, output
    assert named == ["instances of tsflow_engine", "DSP of each tsflow_engine instance", "tsflow_engine/Clocks",
                     "tsflow_softmax/Elements"]
    assert "II 1, trips 1~1536" in row(output, "tsflow_engine/Clocks")
    assert "not in the report" in row(output, "tsflow_softmax/Elements")
    assert "ok" in row(output, "Autoencoder/VITIS_LOOP_52_1: II")


def test_a_vivado_hls_report_without_a_module_hierarchy(tmp_path):
    """Vivado HLS 2019.1: the loops of the top-level SummaryOfLoopLatency (DOT, GRAD, UPDATE: TripCount 1024,
    PipelineII 1, inside EPOCH_TRAINING_INST), <DSP48E> 17, <BRAM_18K> 2. No RTLDesignHierarchy: an engine
    the plan has cannot be counted, and that is a difference, not a pass."""
    copied(SPAM_FILTER, tmp_path / "syn")
    loops = [loop("SgdLR_sw", label, 1024) for label in ("DOT", "GRAD", "UPDATE")]
    build(tmp_path / "b", dsp=17, bram18=2, loops=loops)
    code, output, _ = verify(tmp_path, "b", "syn/csynth.xml")
    assert code == 0, output
    assert "1 (SgdLR_sw)" in row(output, "SgdLR_sw/GRAD: II")
    build(tmp_path / "e", dsp=17, bram18=2, engine=ENGINE, loops=loops)
    code, output, named = verify(tmp_path, "e", "syn/csynth.xml")
    assert code == 1 and named == ["instances of tsflow_engine", "DSP of each tsflow_engine instance"], output
    assert "no module hierarchy" in row(output, "instances of tsflow_engine")


def test_a_vivado_hls_solution_counts_the_engine_in_its_text_reports(tmp_path):
    """Vivado HLS 2019.2.1: the XML has no module hierarchy, but myproject_axi_csynth.rpt beside it lists the
    top's instances with their resources (read by eye: myproject_U0 of myproject, 285 BRAM_18K, 118 DSP48E;
    Loop_1_proc574_U0 and Loop_2_proc_U0, 0 DSP). The top's XML totals: BRAM_18K 289, DSP48E 118."""
    copied(VIVADO_AXI, tmp_path / "syn")
    copied(VIVADO_AXI_RPT, tmp_path / "syn", "myproject_axi_csynth.rpt")
    engine = {**ENGINE, "function": "myproject", "dsp": 118}  # the module standing in for the engine
    build(tmp_path / "b", dsp=118, bram18=289, engine=engine)
    code, output, _ = verify(tmp_path, "b", "syn/csynth.xml")
    assert code == 0, output
    assert "1 (myproject_U0)" in row(output, "instances of myproject")
    assert "118 (myproject)" in row(output, "DSP of each myproject instance")
    build(tmp_path / "two", dsp=118, bram18=289, engine={**ENGINE, "function": "Loop", "dsp": 0})
    code, output, named = verify(tmp_path, "two", "syn/csynth.xml")  # Loop_1_proc574 and Loop_2_proc: two
    assert code == 1 and named == ["instances of Loop"], output


def test_a_trip_count_range_and_a_loop_that_is_not_pipelined(tmp_path):
    """Vivado HLS 2020.1 pool: Loop1.1.1 (inside Loop1 > Loop1.1) has TripCount <range> 7 .. 14 and no PipelineII."""
    copied(CNN_POOL, tmp_path / "syn")
    build(tmp_path / "b", dsp=0, bram18=0, loops=[loop("pool", "Loop1.1.1", (7, 14))])
    code, output, named = verify(tmp_path, "b", "syn/csynth.xml")
    assert code == 1 and named == ["pool/Loop1.1.1: II"], output
    assert "not pipelined (pool)" in row(output, "pool/Loop1.1.1: II")
    trips = row(output, "pool/Loop1.1.1: trips")
    assert "7~14 (pool)" in trips and trips.rstrip("│ ").endswith("ok")


# ---------------------------------------------------------------- a real report renamed into a tsflow design

def tsflow_like(folder: Path, *, ii: int = 1, top_dsp: int = 16, engines: int = 1, name="csynth.xml") -> Path:
    """The real autoencoder report as a tsflow design: top Autoencoder -> tsflow_model, the module
    BackPropagateDecoderWeightChanges -> tsflow_engine (inside it the outlined tsflow_engine_Pipeline_Clocks,
    its loop Loop31 -> Clocks, TripCount 10, PipelineII 1), VITIS_LOOP_52_1 -> Capture (TripCount 600); the
    top's and the engine module's <DSP> 0 -> 16 (``top_dsp`` for the top), Clocks' II -> ``ii``, and
    ``engines`` copies of the engine's instance in RTLDesignHierarchy."""
    text = real(AUTOENCODER).read_text()
    for old, new in (("BackPropagateDecoderWeightChanges", "tsflow_engine"), ("Loop31", "Clocks"),
                     ("Autoencoder", "tsflow_model"), ("VITIS_LOOP_52_1", "Capture")):
        text = text.replace(old, new)
    top = "<URAM>0</URAM>\n            <DSP>0</DSP>\n        </Resources>\n        <AvailableResources>"
    assert text.count(top) == 1  # the top module's AreaEstimates (line 54 of the real report)
    text = text.replace(top, top.replace("<DSP>0</DSP>", f"<DSP>{top_dsp}</DSP>"))
    text, n = re.subn(r"(<Name>tsflow_engine</Name>.*?<DSP>)0(</DSP>)", r"\g<1>16\g<2>", text, count=1, flags=re.S)
    assert n == 1
    text, n = re.subn(r"(<Name>Clocks</Name>.*?<PipelineII>)1(</PipelineII>)", rf"\g<1>{ii}\g<2>", text, count=1,
                      flags=re.S)
    assert n == 1
    instance = re.search(r"<Instance>\s*<InstName>tsflow_engine_U0</InstName>.*?add_ln236_fu_67_p2</BindInstances>"
                         r"\s*</Instance>", text, flags=re.S).group(0)
    copies = [instance.replace("tsflow_engine_U0", f"tsflow_engine_U{i}") for i in range(1, engines)]
    text = text.replace(instance, "\n".join([instance, *copies]))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


TSFLOW_LOOPS = [loop("tsflow_engine", "Clocks", 10), loop("tsflow_model", "Capture", 600)]


def tsflow_build(tmp_path: Path, name: str = "b", loops=TSFLOW_LOOPS) -> str:
    build(tmp_path / name, dsp=16, bram18=0, engine=ENGINE, loops=loops)
    return name


def test_the_renamed_report_matches_its_plan(tmp_path):
    """One instance of tsflow_engine: the instance of tsflow_engine_Pipeline_Clocks inside it is the engine's
    outlined loop, not a second engine."""
    tsflow_like(tmp_path / "syn")
    code, output, _ = verify(tmp_path, tsflow_build(tmp_path), "syn/csynth.xml")
    assert code == 0, output
    assert "C synthesis matches the plan: 8 checks, no difference" in output
    assert "1 (tsflow_engine_U0)" in row(output, "instances of tsflow_engine")
    assert "16 (tsflow_engine)" in row(output, "DSP of each tsflow_engine instance")
    assert "1 (tsflow_engine_Pipeline_Clocks)" in row(output, "tsflow_engine/Clocks: II")
    assert "plan (DSP, BRAM18: estimate)" in output


@pytest.mark.parametrize("change, difference, shown", [
    ({"ii": 2}, "tsflow_engine/Clocks: II", "2 (tsflow_engine_Pipeline_Clocks)"),
    ({"top_dsp": 17}, "DSP of tsflow_model (top)", "17"),
    ({"engines": 2}, "instances of tsflow_engine", "2 (tsflow_engine_U0, tsflow_engine_U1)"),
], ids=["one-ii", "one-dsp-count", "engine-twice"])
def test_one_change_is_exactly_one_difference(tmp_path, change, difference, shown):
    tsflow_like(tmp_path / "syn", **change)
    code, output, named = verify(tmp_path, tsflow_build(tmp_path), "syn/csynth.xml")
    assert code == 1 and named == [difference], output
    assert shown in row(output, difference) and "DIFFERS" in row(output, difference)
    assert output.count("DIFFERS") == 1


def test_a_solution_folder_with_its_module_reports(tmp_path):
    """A solution folder: syn/report/csynth.xml and the per-module reports beside it (the real Vitis HLS 2022.1
    report of hdc_maxi's outlined loop VITIS_LOOP_15_1: TripCount 1000, PipelineII 1), read together."""
    report_dir = tmp_path / "prj" / "solution1" / "syn" / "report"
    tsflow_like(report_dir)
    loops = [*TSFLOW_LOOPS, loop("hdc_maxi", "VITIS_LOOP_15_1", 1000)]
    code, output, named = verify(tmp_path, tsflow_build(tmp_path, loops=loops), "prj/solution1")
    assert code == 1 and named == ["hdc_maxi/VITIS_LOOP_15_1"], output
    copied(HDC_LOOP, report_dir, "hdc_maxi_Pipeline_VITIS_LOOP_15_1_csynth.xml")
    code, output, _ = verify(tmp_path, "b", "prj/solution1")
    assert code == 0, output
    assert "and 1 module reports beside it" in output
    assert "1000 (hdc_maxi_Pipeline_VITIS_LOOP_15_1)" in row(output, "hdc_maxi/VITIS_LOOP_15_1: trips")


def test_a_calibrated_estimate_says_so(tmp_path):
    tsflow_like(tmp_path / "syn")
    build(tmp_path / "b", dsp=16, bram18=0, engine=ENGINE, loops=TSFLOW_LOOPS, calibrated=True)
    code, output, _ = verify(tmp_path, "b", "syn/csynth.xml")
    assert code == 0 and "plan (DSP, BRAM18: calibrated estimate)" in output, output


# ----------------------------------------------------------------------------------------------- user errors

def old_plan(folder: Path) -> None:
    """plan.json as tsflow wrote it before engine.function, engine.call_sites and the list of loops."""
    (folder / "plan.json").write_text(json.dumps({"engine": {"lanes": 16, "dsp": 16}, "loops": {"embed": {}}}))


@pytest.mark.parametrize("setup, synthesis, expect", [
    (lambda d: (d / "notes.txt").write_text("my notes\n"), "notes.txt",
     ["notes.txt: not well-formed XML", "expected a C synthesis report: a csynth.xml, or a Vitis HLS / Vivado HLS "
                                        "solution folder holding syn/report/csynth.xml"]),
    (lambda d: shutil.copyfile(real("vitis_hls_2020.2_xc7z020_top_dfg_csynth.rpt"), d / "csynth.rpt"), "csynth.rpt",
     ["csynth.rpt: not well-formed XML", "expected a C synthesis report"]),
    (lambda d: (d / "sol").mkdir(), "sol", ["sol holds no syn/report/csynth.xml or csynth.xml",
                                            "expected a C synthesis report"]),
    (lambda d: (d / "other.xml").write_text("<component/>\n"), "other.xml",
     ["other.xml: XML root is <component>", "expected a C synthesis report"]),
    (lambda d: (d / "b" / "plan.json").unlink(), "syn/csynth.xml", ["b is not a build folder (plan.json missing)"]),
    (lambda d: old_plan(d / "b"), "syn/csynth.xml", ["b/plan.json has no engine.function", "'tsflow build' again"]),
    (None, "nowhere.xml", ["'--synthesis'", "'nowhere.xml' does not exist"]),
], ids=["text-file", "text-report", "folder-without-report", "other-xml", "no-plan", "old-plan", "no-such-path"])
def test_what_is_not_a_report_or_a_plan_is_one_error(tmp_path, setup, synthesis, expect):
    tsflow_like(tmp_path / "syn")
    tsflow_build(tmp_path)
    if setup:
        setup(tmp_path)
    done = tsflow(tmp_path, "verify", "b", "--synthesis", synthesis)
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == output.strip(), output
    for text in expect:
        assert text in errors[0], output


# ------------------------------------------------------------------ a real build whose files were edited after it

@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    """One real build of the tiny configuration (window 8, d_model 8, 1 + 1 epochs): its C++, plan.json and
    estimate.json as the build wrote them."""
    from flow.build import build as run_build
    from flow.config import parse_config

    from .conftest import TINY

    stage = tmp_path_factory.mktemp("real") / "b"
    stage.mkdir()
    run_build(parse_config(TINY), stage, allow_overflow=True)
    return stage


def edited(real_build: Path, folder: Path, name: str, change) -> Path:
    shutil.copytree(real_build, folder, symlinks=True)
    doc = json.loads((folder / name).read_text())
    change(doc)
    (folder / name).write_text(json.dumps(doc))
    return folder


def on_the_part(report: Path, part: str = "xc7s15ftgb196-2") -> Path:
    """The report as if synthesised for the build's part (the real one is of an xc7z020)."""
    text = report.read_text()
    assert "<Part>xc7z020-clg400-1</Part>" in text
    report.write_text(text.replace("<Part>xc7z020-clg400-1</Part>", f"<Part>{part}</Part>"))
    return report


def test_the_plan_and_estimate_of_a_real_build_are_its_own(real_build):
    from flow.verify import read_plan

    plan = read_plan(real_build)  # the checks below find nothing to refuse in what the build wrote
    assert plan.engine["call_sites"] == 1 and plan.loops


@pytest.mark.parametrize("name, change, expect", [
    # b36: the engine said to have no call site, no DSP, no loop
    ("plan.json", lambda d: (d["engine"].update(call_sites=0, dsp=0), d.update(loops=[])),
     ["b/plan.json does not describe the C++ in b/hls", "tsflow_engine is called from 1 place(s)", "the plan says 0"]),
    # b37: no engine and no loops
    ("plan.json", lambda d: d.update(engine=None, loops=[]),
     ["b/plan.json does not describe the C++ in b/hls", "a pipelined loop the plan does not have: Clocks"]),
    ("plan.json", lambda d: d["loops"][0].update(ii=2), ["loops[0] (Clocks) has II 2"]),
    ("plan.json", lambda d: d["engine"].update(dsp=3), ["the engine's DSP (3 in plan.json, 16"]),
    ("estimate.json", lambda d: d["total"].update(dsp=0), ["b/estimate.json: total.dsp is 0, but its layers and "
                                                           "buffers add up to 16"]),
    ("estimate.json", lambda d: d.update(pipelined_loops=[]), ["differ in the pipelined loops"]),
], ids=["b36-no-call-site", "b37-no-engine", "loop-ii", "engine-dsp", "b37-estimate-total", "estimate-loops"])
def test_a_plan_or_estimate_edited_after_the_build_is_refused(real_build, tmp_path, name, change, expect):
    """b36/b37: verify judged a report against a hand-edited plan.json / estimate.json and said 'ok' to invented
    figures; now the plan is checked against the C++ in hls/ (as the build checked it) and the estimate against
    the plan and its own rows, before any report is read."""
    on_the_part(tsflow_like(tmp_path / "syn"))  # a report that passes the same-design check, as the tour's did
    edited(real_build, tmp_path / "b", name, change)
    done = tsflow(tmp_path, "verify", "b", "--synthesis", "syn/csynth.xml")
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == output.strip(), output
    for text in [*expect, "was changed after the build; run 'tsflow build' again"]:
        assert text in errors[0], output


def test_export_run_refuses_an_edited_plan_before_any_tool_runs(real_build, tmp_path):
    from flow.config import ConfigError
    from flow.export import export

    folder = edited(real_build, tmp_path / "b", "plan.json", lambda d: d.update(loops=[]))
    for run in (True, False):  # tour 6 b108 / b03: --run wrote the scripts first, plain export wrote them all
        with pytest.raises(ConfigError, match="plan.json does not describe the C.. in .*changed after the build"):
            export(folder, run=run)
        assert not (folder / "reports").exists() and not (folder / "logs").exists()
        assert not (folder / "vivado_scripts").exists()


@pytest.mark.parametrize("old, new, expect", [
    ("interface: ap_vld", "interface: s_axilite", "hls.interface is s_axilite there, but the C++ and plan.json were "
                                                  "made for ap_vld"),
    ("part: xc7s15ftgb196-2", "part: xc7s25ftgb196-2", "target.part is xc7s25ftgb196-2 there, but the C++ and "
                                                       "estimate.json were made for xc7s15ftgb196-2"),
], ids=["b99-interface", "b100-part"])
def test_a_config_edited_after_the_build_is_refused_by_export_and_verify(real_build, tmp_path, old, new, expect):
    """b99/b100: export wrote scripts for an interface the C++ does not have, or a part the plan was not made for."""
    shutil.copytree(real_build, tmp_path / "b", symlinks=True)
    config = tmp_path / "b" / "model" / "config.yaml"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, new))
    tsflow_like(tmp_path / "syn")
    for args in (["export", "b"], ["verify", "b", "--synthesis", "syn/csynth.xml"]):
        done = tsflow(tmp_path, *args)
        output = done.stdout + done.stderr
        assert done.returncode == 2 and "Traceback" not in output, output
        assert output.startswith("error: b/model/config.yaml differs from the build (") and expect in output, output
        assert "edited after the build" in output
    assert not (tmp_path / "b" / "vivado_scripts").exists()


def test_a_plan_and_estimate_edited_alike_are_refused_by_the_digests_the_build_recorded(real_build, tmp_path):
    """The engine's DSPs raised by 4 in plan.json and in the estimate (its row and its total): the two files
    still agree with each other and with the C++'s structure, so only the digests the build's manifest
    records show the edit."""
    from flow.config import ConfigError
    from flow.runs import write_manifest
    from flow.verify import read_plan

    folder = tmp_path / "b"
    shutil.copytree(real_build, folder, symlinks=True)
    write_manifest(folder)  # what a tsflow build writes last, with the digests of plan.json and estimate.json
    assert read_plan(folder).dsp == json.loads((real_build / "estimate.json").read_text())["total"]["dsp"]

    plan, estimate = (json.loads((folder / n).read_text()) for n in ("plan.json", "estimate.json"))
    plan["engine"]["dsp"] += 4
    next(r for r in estimate["layers"] if r["name"] == "engine")["dsp"] += 4
    estimate["engine"] = plan["engine"]
    estimate["total"]["dsp"] += 4
    for name, doc in (("plan.json", plan), ("estimate.json", estimate)):
        (folder / name).write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=r"plan\.json and .*estimate\.json differ from what the build wrote \(their "
                                          r"digests in .*manifest\.json\)"):
        read_plan(folder)
    (folder / "manifest.json").unlink()  # a folder from before the digests: the edit agrees with itself
    assert read_plan(folder).dsp == estimate["total"]["dsp"]
