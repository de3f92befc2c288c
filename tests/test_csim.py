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


def test_a_testbench_that_prints_no_verdict_is_an_error(tmp_path):
    _fake_testbench(tmp_path, "echo half a line\n")
    with pytest.raises(CSimError, match="printed no verdict for windows 0..9"):
        run_testbench(tmp_path, 10, 1)


def _project(folder, testbench, firmware):
    from flow.hls.project import PROJECT, TB_FILE

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
