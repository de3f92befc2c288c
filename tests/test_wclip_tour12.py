"""Tour 12: the estimate's figures on stdout (a48); hand-set binary points of weights and tables that clip or zero
the trained parameters are warned, naming the key (a44, a53, a55, a111)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
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


def _clipped(quantization: dict, start: dict, trained: dict | None = None, **model) -> list[str]:
    from flow.config import parse_config
    from flow.precision import resolve_precisions
    from flow.training.weight_clipping import clipped_parameters

    raw = small_raw(**model)
    raw["quantization"] = {"bits": 8, **quantization}
    cfg = parse_config(raw)
    prec = resolve_precisions(cfg)
    return clipped_parameters(cfg, prec, prec.auto, start, trained if trained is not None else start,
                              cfg.model.predict_delta)


def test_a_hand_set_weight_integer_that_zeroes_the_head_is_told_with_an_accepted_value():
    """a44: weight_integer 6 at 8 bits is a step of 0.25: head weights of a few hundredths all round to 0."""
    from flow.config import parse_config
    from flow.precision import resolve_precisions

    values = {("head", "weight"): np.linspace(-0.04, 0.02, 16).reshape(16, 1),
              ("enc0.ffn1", "weight"): np.linspace(-0.7, 0.7, 128).reshape(8, 16)}
    [told] = _clipped({"weight_integer": 6}, values)
    assert told.startswith("quantization.weight_integer = 6 (set in the configuration) rounds to 0 the weights and "
                           "norm scales: at 8 bits, integer 6 (-32 .. 31.75 in steps of 0.25): head.weight all nonzero "
                           "rounded to 0 (values -0.04 .. 0.02)")
    assert "enc0.ffn1.weight" not in told  # 18% of it rounds to 0: under the half that is told
    assert "the forecast is the head's bias whatever the window" in told
    need = int(re.search(r"give quantization\.weight_integer: (-?\d+) ", told).group(1))
    assert need == 1  # the fewest integer bits holding -0.7 .. 0.7: -1 .. 0.9922 (integer 0 is -0.5 .. 0.4961)
    raw = small_raw()
    raw["quantization"] = {"bits": 8, "weight_integer": need}
    resolve_precisions(parse_config(raw))  # a value the configuration check accepts
    assert not _clipped({"weight_integer": need}, values)  # and it clips nothing and zeroes under half


def test_no_accepted_value_is_advised_when_none_holds_the_values():
    """The norm scales take weight_integer + 1, so at 8 bits weight_integer stops at 7 (scales up to 128)."""
    [told] = _clipped({"weight_integer": 2}, {("enc0.norm1", "scale"): np.array([1.0, 300.0] * 4)})
    assert "enc0.norm1.scale 50.0% of 8 clipped (values 1 .. 300)" in told
    assert told.endswith("no quantization.weight_integer up to 7 holds the weights and norm scales it sets at these "
                         "widths: give them more bits, or leave it auto (a binary point for each tensor from its own "
                         "values)")


def test_the_shares_before_and_after_qat_are_both_told_and_a_per_layer_key_is_named():
    """a55: layers.head.weight.integer -6 clips half the head; the float values QAT started from are told when
    they read otherwise."""
    start = {("head", "weight"): np.array([[-0.03], [0.01], [0.004], [-0.002]] * 2)}
    trained = {("head", "weight"): np.array([[-0.005], [0.004], [0.004], [-0.002]] * 2)}
    [told] = _clipped({"layers": {"head": {"weight": {"integer": -6}}}}, start, trained)
    assert told.startswith("quantization.layers.head.weight.integer = -6 (set in the configuration) clips the "
                           "weights: at 8 bits, integer -6 (-0.007812 .. 0.007751 in steps of 6.104e-05): head.weight "
                           "none clipped or rounded to 0 (values -0.005 .. 0.004; before QAT 50.0% of 8 clipped)")
    assert told.endswith("give quantization.layers.head.weight.integer: -4 (the fewest integer bits that hold all "
                         "the weights it sets) or set it to auto (placed from the tensor's own values)")


def test_auto_placed_parameters_are_told_only_when_they_all_round_to_0():
    clipped = {("head", "weight"): np.linspace(-4, 4, 16).reshape(16, 1)}  # auto: the prior 1 integer bit clips
    assert not _clipped({}, clipped)
    tiny = {("head", "weight"): np.full((16, 1), 1e-3)}  # the prior's step is 2**-7
    [told] = _clipped({}, tiny)
    assert told.startswith("at 8 bits, integer 1 ") and "head.weight all nonzero rounded to 0" in told
    assert "give quantization.layers.head.weight.integer: -8 (fewer integer bits, finer steps)" in told


def test_biases_too_small_to_move_an_output_are_not_told_and_small_ones_that_do_get_their_own_key():
    """a45: act_integer 1 leaves biases of 1e-6 (QAT kept them at 0) at 0, which moves no output: nothing to tell.
    A bias of a few hundredths that rounds to 0 is told; the key already holds the larger bias beside it, so its
    own finer key is advised (not the value the file already has)."""
    negligible = {("enc0.k", "bias"): np.full(8, 1e-6), ("enc0.q", "bias"): np.linspace(-0.9, 0.9, 8)}
    assert not _clipped({"act_integer": 1}, negligible)
    small = {("enc0.k", "bias"): np.full(8, 0.05), ("enc0.q", "bias"): np.linspace(-0.9, 0.9, 8)}
    narrow = {"act_integer": 1, "layers": {"enc0.k": {"bias": {"bits": 4}}}}  # steps of 0.125 at integer 1
    [told] = _clipped(narrow, small)
    assert "enc0.k.bias all nonzero rounded to 0" in told and "give quantization.act_integer: 1" not in told
    assert told.endswith("give quantization.layers.enc0.k.bias.integer: -3")  # 4 bits: -0.0625 .. 0.0547
    assert not _clipped({"act_integer": 1, "layers": {"enc0.k": {"bias": {"bits": 4, "integer": -3}}}}, small)


@pytest.fixture(scope="module")
def trained_tiny(tmp_path_factory):
    """One tiny training with two hand-set parameter points: weight_integer -1 and pos.table.integer 0."""
    cwd = tmp_path_factory.mktemp("wclip")
    raw = small_raw()
    raw["training"].update(float_epochs=1, qat_epochs=1)
    raw["quantization"] = {"bits": 8, "weight_integer": -1, "layers": {"pos": {"table": {"integer": 0}}}}
    (cwd / "c.yaml").write_text(yaml.safe_dump(raw))
    return subprocess.run([sys.executable, "-m", "flow", "train", "c.yaml", "--out", "runs/t"], cwd=cwd, env=CLI_ENV,
                          capture_output=True, text=True, timeout=300)


def test_training_warns_each_hand_set_parameter_point_that_clips(trained_tiny):
    """a53, a111: a pos.table integer 0 clips the positional table; weight_integer -1 the norm scales (about 1)."""
    done = trained_tiny
    assert done.returncode == 0, done.stderr
    err = " ".join(done.stderr.split())  # rich wraps the notes
    assert "Traceback" not in err
    assert ("warning: quantization.layers.pos.table.integer = 0 (set in the configuration) clips the table entries: "
            "at 8 bits, integer 0 (-0.5 .. 0.4961 in steps of 0.003906): pos.table 57.8% of 64 clipped") in err
    assert "give quantization.layers.pos.table.integer: 2 " in err
    assert "warning: quantization.weight_integer = -1 (set in the configuration) clips the weights and norm " in err
    assert re.search(r"at 8 bits, integer 0 \(-0\.5 \.\. 0\.4961 in steps of 0\.003906\): enc0\.norm1\.scale all 8 "
                     r"clipped", err)
    assert re.search(r"give quantization\.weight_integer: \d ", err)
