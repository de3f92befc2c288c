"""Tour 12: the estimate's figures on stdout (a48); hand-set binary points of weights and tables that clip or zero
the trained parameters are warned, naming the key (a44, a53, a55, a111)."""
from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.conftest import CLI_ENV, small_raw


def _estimate(tmp_path, *args):
    raw = small_raw()
    raw["target"] = {"clock_mhz": 600}  # a warning, which stays on stderr
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    return subprocess.run([sys.executable, "-m", "flow", "estimate", "c.yaml", *args], cwd=tmp_path, env=CLI_ENV,
                          capture_output=True, text=True, timeout=300)


def test_every_figure_of_the_estimate_goes_to_stdout_and_warnings_to_stderr(tmp_path):
    """a48: 'tsflow estimate CFG > file' lost the shared lanes and the energy per inference (they went to stderr)."""
    done = _estimate(tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert any(line.strip().startswith("estimate (not calibrated against synthesis) on ") for line in out)
    assert any(line.startswith("shared multiply lanes: ") and "lanes per layer: " in line for line in out)
    assert any(line.startswith("energy per inference (estimate): ") and " uJ = " in line for line in out)
    assert "warning: target.clock_mhz = 600: " in done.stderr and "warning:" not in done.stdout
    assert "energy per inference (" not in done.stderr and "shared multiply lanes" not in done.stderr


def test_the_json_of_the_estimate_is_all_of_stdout(tmp_path):
    done = _estimate(tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    est = json.loads(done.stdout)
    assert est["energy"]["energy_uj"] > 0 and any(w.startswith("target.clock_mhz = 600:") for w in est["warnings"])
