"""The C simulation: the testbench build, its shards over the test split, their joined verdicts."""
import json
import re
import stat
import subprocess

import pytest

from flow.csim import CSIM_BINARY, CSimError, run_testbench, shards


def test_shards_cover_every_window_once_in_order():
    for samples, jobs in [(1727, 2), (1727, 3), (5, 8), (1, 1), (10, 10)]:
        ranges = shards(samples, jobs)
        assert len(ranges) == min(samples, jobs) and all(count > 0 for _, count in ranges)
        covered = [w for first, count in ranges for w in range(first, first + count)]
        assert covered == list(range(samples))


def _fake_testbench(folder, script):
    binary = folder / CSIM_BINARY
    binary.write_text("#!/bin/sh\n" + script)
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)


def test_verdicts_of_the_shards_are_summed(tmp_path):
    # prints the verdict for the window range it is given: one mismatch per shard, diff = first window
    _fake_testbench(tmp_path, 'echo "{\\"samples\\": $4, \\"mismatches\\": 1, \\"first_mismatch\\": $3, '
                              '\\"max_abs_diff\\": $3}"; exit 1\n')
    verdict, traces = run_testbench(tmp_path, 10, 3)
    assert verdict == {"samples": 10, "mismatches": 3, "max_abs_diff": 7} and traces == []


def test_a_testbench_that_ignores_the_window_range_is_named(tmp_path):
    # a testbench written before window ranges: runs every window whatever it is asked
    _fake_testbench(tmp_path, "echo '" + json.dumps({"samples": 10, "mismatches": 0, "first_mismatch": -1,
                                                      "max_abs_diff": 0}) + "'\n")
    with pytest.raises(CSimError, match="before window ranges existed; rebuild, or pass --jobs 1"):
        run_testbench(tmp_path, 10, 2)
    verdict, _ = run_testbench(tmp_path, 10, 1)
    assert verdict["samples"] == 10


def test_a_crashing_shard_names_its_windows(tmp_path):
    _fake_testbench(tmp_path, 'if [ "$3" = 5 ]; then echo boom >&2; exit 3; fi\n'
                              'echo "{\\"samples\\": $4, \\"mismatches\\": 0, \\"first_mismatch\\": -1, '
                              '\\"max_abs_diff\\": 0}"\n')
    with pytest.raises(CSimError, match=r"windows 5\.\.9 \(exit 3\):\nboom"):
        run_testbench(tmp_path, 10, 2)


def test_a_testbench_killed_by_a_signal_names_it(tmp_path):
    """Tour 9 b97: 'testbench failed on windows 0..1742 (exit -8):' with nothing after the colon."""
    _fake_testbench(tmp_path, "kill -FPE $$\n")
    with pytest.raises(CSimError) as caught:
        run_testbench(tmp_path, 10, 1)
    assert str(caught.value) == ("testbench failed on windows 0..9 (exit -8: killed by SIGFPE (arithmetic error, e.g. "
                                 "a division by zero)); it printed nothing")


def test_a_testbench_that_prints_no_verdict_is_an_error(tmp_path):
    _fake_testbench(tmp_path, "echo half a line\n")
    with pytest.raises(CSimError, match="printed no verdict for windows 0..9"):
        run_testbench(tmp_path, 10, 1)


def _project(folder, testbench, firmware):
    from flow.hls.files import PROJECT, TB_FILE

    (folder / "firmware").mkdir()
    (folder / TB_FILE).write_text(testbench)
    (folder / "firmware" / f"{PROJECT}.cpp").write_text(firmware)


def test_the_testbench_and_firmware_compile_apart_and_link(tmp_path):
    from flow.csim import compile_testbench

    _project(tmp_path, "int top(); int main() { return top(); }\n", "int top() { return 3; }\n")
    compile_testbench(tmp_path)
    assert subprocess.run([str(tmp_path / CSIM_BINARY)]).returncode == 3


@pytest.mark.parametrize("firmware, message", [("int top( { return 3; }\n", "g++ failed on"),
                                               ("int other() { return 3; }\n", "g++ failed to link")])
def test_a_compile_or_link_error_is_a_csim_error_with_gccs_message(tmp_path, firmware, message):
    from flow.csim import compile_testbench

    _project(tmp_path, "int top(); int main() { return top(); }\n", firmware)
    with pytest.raises(CSimError, match=re.escape(message)) as err:
        compile_testbench(tmp_path)
    assert "error" in str(err.value) and "top" in str(err.value)


# ---------------------------------------------------------------- reusing the compiled testbench

# a testbench that includes the firmware header and prints the verdict for the window range it is given
_VERDICT_TB = r"""#include <cstdio>
#include <cstdlib>
#include "firmware/tsflow_model.h"
int main(int argc, char **argv) {
    std::printf("{\"samples\": %d, \"mismatches\": 0, \"first_mismatch\": -1, \"max_abs_diff\": %d}\n",
                std::atoi(argv[4]), top());
    return 0;
}
"""


def _stamped_project(folder):
    """A small project shaped like a build's: top function, header, weights and tsflow headers."""
    from flow.hls.files import PROJECT

    folder.mkdir(parents=True)
    _project(folder, _VERDICT_TB, f'#include "{PROJECT}.h"\n#include "weights/w0.h"\nint top() {{ return W0; }}\n')
    fw = folder / "firmware"
    (fw / f"{PROJECT}.h").write_text("#pragma once\n#include \"nnet_utils/tsflow_trace.h\"\nint top();\n")
    (fw / "weights").mkdir()
    (fw / "weights" / "w0.h").write_text("#pragma once\nstatic const int W0 = 0;\n")
    (fw / "nnet_utils").mkdir()
    (fw / "nnet_utils" / "tsflow_trace.h").write_text("#pragma once\n")
    return folder


def _reference(samples=5):
    import types

    import numpy as np

    return {"input": types.SimpleNamespace(mantissa=np.zeros((samples, 3), dtype=np.int32))}


@pytest.fixture
def counted_compiles(monkeypatch):
    """Every compile_testbench call run_csim makes, by folder."""
    import flow.csim

    calls = []
    real = flow.csim.compile_testbench

    def counting(folder):
        calls.append(folder)
        return real(folder)

    monkeypatch.setattr(flow.csim, "compile_testbench", counting)
    return calls


def test_csim_reuses_the_binary_until_a_firmware_header_changes(tmp_path, counted_compiles):
    from flow.csim import CSIM_STAMP, run_csim

    hls = _stamped_project(tmp_path / "hls")
    first = run_csim(hls, _reference(), jobs=1)
    assert first.reused_binary is False and "compile" in first.seconds and len(counted_compiles) == 1
    assert (hls / CSIM_STAMP).is_file()
    again = run_csim(hls, _reference(), jobs=1)
    assert again.reused_binary is True and "compile" not in again.seconds and len(counted_compiles) == 1
    assert again.to_dict()["reused_binary"] is True and again.bit_exact and again.samples == 5
    header = hls / "firmware" / "tsflow_model.h"
    header.write_text(header.read_text() + "// edited\n")
    edited = run_csim(hls, _reference(), jobs=1)
    assert edited.reused_binary is False and len(counted_compiles) == 2
    assert run_csim(hls, _reference(), jobs=1).reused_binary is True  # the new stamp holds


def test_a_changed_weight_recompiles_and_the_new_binary_computes_it(tmp_path, counted_compiles):
    from flow.csim import run_csim

    hls = _stamped_project(tmp_path / "hls")
    run_csim(hls, _reference(), jobs=1)
    (hls / "firmware" / "weights" / "w0.h").write_text("#pragma once\nstatic const int W0 = 7;\n")
    report = run_csim(hls, _reference(), jobs=1)
    assert report.reused_binary is False and report.max_abs_diff == 7  # not the stale binary's 0


def test_explicit_recompile_is_kept(tmp_path, counted_compiles):
    from flow.csim import run_csim

    hls = _stamped_project(tmp_path / "hls")
    run_csim(hls, _reference(), jobs=1)
    assert run_csim(hls, _reference(), recompile=True, jobs=1).reused_binary is False
    assert len(counted_compiles) == 2
    (hls / "firmware" / "tsflow_model.h").write_text("#pragma once\nint top();\n// edited\n")
    assert run_csim(hls, _reference(), recompile=False, jobs=1).reused_binary is True  # told not to
    assert len(counted_compiles) == 2


def test_a_replaced_binary_or_a_lost_stamp_recompiles(tmp_path, counted_compiles):
    from flow.csim import CSIM_STAMP, run_csim

    hls = _stamped_project(tmp_path / "hls")
    run_csim(hls, _reference(), jobs=1)
    _fake_testbench(hls, 'echo \'{"samples": 5, "mismatches": 5, "max_abs_diff": 9}\'; exit 1\n')
    assert run_csim(hls, _reference(), jobs=1).reused_binary is False  # the stamp names the binary it is for
    (hls / CSIM_STAMP).unlink()
    assert run_csim(hls, _reference(), jobs=1).reused_binary is False
    assert len(counted_compiles) == 3


def test_a_copied_build_keeps_its_binary(tmp_path, counted_compiles):
    import shutil

    from flow.csim import run_csim

    hls = _stamped_project(tmp_path / "a" / "hls")
    run_csim(hls, _reference(), jobs=1)
    copy = tmp_path / "b" / "hls"
    shutil.copytree(hls, copy)
    assert run_csim(copy, _reference(), jobs=1).reused_binary is True and len(counted_compiles) == 1


def test_a_failed_compile_leaves_no_stamp(tmp_path):
    from flow.csim import CSIM_STAMP, compile_testbench, testbench_is_current

    hls = _stamped_project(tmp_path / "hls")
    compile_testbench(hls)
    assert testbench_is_current(hls)
    cpp = hls / "firmware" / "tsflow_model.cpp"
    good = cpp.read_text()
    cpp.write_text("int top( {\n")
    with pytest.raises(CSimError):
        compile_testbench(hls)
    assert not (hls / CSIM_STAMP).exists()
    cpp.write_text(good)
    assert not testbench_is_current(hls)  # the binary is not trusted without a stamp written with it


def _edit(path, text="// edited\n"):
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize("change", [
    "top cpp", "top header", "weights", "tsflow header", "hls4ml header", "testbench", "new firmware file",
    "flags", "ap_types path", "hls4ml version", "g++ version"])
def test_every_stamped_input_changes_the_stamp(tmp_path, monkeypatch, change):
    import flow.csim
    from flow.csim import testbench_stamp

    hls = _stamped_project(tmp_path / "hls")
    (hls / "firmware" / "nnet_utils" / "nnet_common.h").write_text("#pragma once\n")
    before = testbench_stamp(hls)
    assert testbench_stamp(hls) == before  # deterministic
    fw = hls / "firmware"
    edits = {
        "top cpp": lambda: _edit(fw / "tsflow_model.cpp"),
        "top header": lambda: _edit(fw / "tsflow_model.h"),
        "weights": lambda: _edit(fw / "weights" / "w0.h"),
        "tsflow header": lambda: _edit(fw / "nnet_utils" / "tsflow_trace.h"),
        "hls4ml header": lambda: _edit(fw / "nnet_utils" / "nnet_common.h"),
        "testbench": lambda: _edit(hls / "tsflow_tb.cpp"),
        "new firmware file": lambda: (fw / "weights" / "w1.h").write_text(""),
        "flags": lambda: monkeypatch.setattr(flow.csim, "GXX_FLAGS", (*flow.csim.GXX_FLAGS, "-DX")),
        "ap_types path": lambda: monkeypatch.setattr(flow.csim, "_ap_types_dir", lambda: tmp_path / "ap_types"),
        "hls4ml version": lambda: monkeypatch.setattr(flow.csim, "_hls4ml_version", lambda: "0.0.1"),
        "g++ version": lambda: monkeypatch.setattr(flow.csim, "_gxx_version", lambda: "g++ 1.0"),
    }
    edits[change]()
    assert testbench_stamp(hls) != before


# ---------------------------------------------------------------- boundaries.json against the reference

def _typed_reference(samples=5):
    """A reference of two boundaries with real types: the window (3 values) and the forecast (1 value)."""
    import numpy as np

    from flow.fixedpoint import FixedType
    from flow.reference import Boundary

    return {"input": Boundary(np.zeros((samples, 3), dtype=np.int64), FixedType(12, 3)),
            "delta": Boundary(np.zeros((samples, 1), dtype=np.int64), FixedType(16, 4))}


def _described(folder, change=None):
    from flow.csim import BOUNDARIES, described_boundaries

    doc = json.loads(json.dumps(described_boundaries(_typed_reference())))
    if change:
        change(doc)
    (folder / BOUNDARIES).write_text(json.dumps(doc, indent=1))
    return folder / BOUNDARIES


def test_boundaries_as_the_build_wrote_them_pass(tmp_path):
    from flow.csim import check_boundaries

    _described(tmp_path)
    check_boundaries(tmp_path, _typed_reference(samples=9))  # the window count is not in the file


@pytest.mark.parametrize("change, shown", [
    (lambda d: d["delta"]["type"].update(integer=6), "delta.type.integer: 6 there, 4 from model/"),
    (lambda d: d["input"].update(per_sample=2), "input.per_sample: 2 there, 3 from model/"),
    (lambda d: d["delta"]["type"].update(rounding="trn"), 'delta.type.rounding: "trn" there, "conv" from model/'),
    (lambda d: d.pop("delta"), "delta: absent there, {"),
    (lambda d: d.update(extra={"per_sample": 1}), 'extra: {"per_sample": 1} there, absent from model/'),
], ids=["integer", "per-sample", "rounding", "boundary-removed", "boundary-added"])
def test_boundaries_edited_after_the_build_are_refused_naming_the_file_and_key(tmp_path, change, shown):
    """Tour 6 b88: boundaries.json with the forecast's integer bits raised gave a 'bit-exact' csim whose report
    plotted the forecast at 4 times its scale."""
    from flow.config import ConfigError
    from flow.csim import check_boundaries

    path = _described(tmp_path, change)
    with pytest.raises(ConfigError) as caught:
        check_boundaries(tmp_path, _typed_reference())
    message = str(caught.value)
    assert message.startswith(f"{path} differs from what the build wrote ({shown}"), message
    assert message.endswith("it was changed after the build; the C++ was not run; run 'tsflow build' again "
                            "(--force replaces the folder)")


@pytest.mark.parametrize("content", ['{"input":\n', "[1, 2]\n", None], ids=["truncated", "a-list", "missing"])
def test_boundaries_that_cannot_be_read_are_left_to_the_report(tmp_path, content):
    """The report names an unreadable boundaries.json after the verdict (tests/test_damaged_folders.py)."""
    from flow.csim import BOUNDARIES, check_boundaries

    if content is not None:
        (tmp_path / BOUNDARIES).write_text(content)
    check_boundaries(tmp_path, _typed_reference())


def test_run_csim_refuses_edited_boundaries_before_compiling(tmp_path, counted_compiles):
    from flow.config import ConfigError
    from flow.csim import CSIM_BINARY, run_csim

    hls = _stamped_project(tmp_path / "hls")
    _described(hls, lambda d: d["delta"]["type"].update(integer=6))
    with pytest.raises(ConfigError, match="boundaries.json differs from what the build wrote"):
        run_csim(hls, _typed_reference(), jobs=1)
    assert counted_compiles == [] and not (hls / CSIM_BINARY).exists()
    _described(hls)
    assert run_csim(hls, _typed_reference(), jobs=1).bit_exact
