#!/usr/bin/env python
"""Mutation check: does each test selection catch the bug it is meant to catch?

    python tests/mutation_check.py                 # every mutation, in sequence
    python tests/mutation_check.py --only NAME ... # some of them (exact names or fnmatch patterns)
    python tests/mutation_check.py --list          # the mutations, their files and selections; checks the anchors
    python tests/mutation_check.py --unmutated     # sanity: every selection passes on an unmutated copy

For each mutation the working tree's files (``git ls-files --cached --others --exclude-standard``:
the tracked files plus new files not ignored, as they are on disk now) are copied into a fresh
temporary directory, one exact text substitution is applied to one file (the old text must occur
exactly once, otherwise the script stops: the list cannot go stale silently), and the selection is run
there with ``python -m pytest -x -q -p no:cacheprovider <selection>``, ``cwd`` and ``PYTHONPATH`` set
to the copy. Exit code 1 (a test failed) is CAUGHT, 0 is MISSED, anything else ERROR (4: usage or a
node id that does not exist, 5: nothing collected, ...).

The copy must import its OWN code: ``tsflow`` is installed editable, and setuptools' editable finder
maps ``flow.hls_templates`` / ``flow.vivado_scripts`` to the original repository's ``hls_templates/``
and ``vivado_scripts/`` (pyproject's package-dir); it sits at the end of ``sys.meta_path``, so the
copy gets ``flow/hls_templates`` and ``flow/vivado_scripts`` symlinks that the normal path finder finds
first. Before running pytest, a dry run in the copy checks that ``flow``, ``keras_models`` and both
resource packages resolve inside the copy. The copy sits at ``TMP/main`` next to a ``TMP/shared``
symlink to the repository's ``../shared`` so that ``tests/conftest.py``'s SHARED_DATA resolves as in
the repository.

Selection files that do not exist (yet) are left out of the run and named in the NOTE column; a
mutation none of whose files exists is an ERROR. The exit status is non-zero if any mutation is
MISSED or ERROR (or, with ``--unmutated``, any selection fails). pytest's output of every run is kept
in the log directory printed at the start.
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0"]  # one process: -x stops at once
RESOURCE_PACKAGES = {"flow/hls_templates": "../hls_templates", "flow/vivado_scripts": "../vivado_scripts"}

# ---- selections ------------------------------------------------------------------------------------
TABLES = ("tests/test_tables.py",)
ESTIMATE = ("tests/test_estimate_by_hand.py", "tests/test_estimate.py")
NUMERICS = ("tests/test_cpp_numerics.py",)
BIT_EXACT = ("tests/test_hls.py", "-k", "bit_exact")  # trains and builds the matrix cases: slow
EXPORT = ("tests/test_export.py",)
ORACLE = ("tests/test_oracle.py",)  # the contract's own forward (tests/oracle.py) against the reference


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to the repository
    old: str  # must occur exactly once in the file
    new: str
    selection: tuple
    what: str


MUTATIONS = [
    # -- tables (flow/tables.py): the constants every implementation shares
    Mutation("tables.exp-floor", "flow/tables.py",
             "return np.round(np.exp(-k * 2.0 ** -index_frac) * 2.0 ** exp_frac)",
             "return np.floor(np.exp(-k * 2.0 ** -index_frac) * 2.0 ** exp_frac)",
             TABLES, "exp table entries floored instead of rounded half to even"),
    Mutation("tables.pool-reciprocal-floor", "flow/tables.py",
             "int(np.round(2.0 ** frac / n))", "int(np.floor(2.0 ** frac / n))",
             TABLES, "pooling reciprocal 2**16/n floored"),
    # (score_shift was int(round(0.5 * math.log2(head_dim))); now the integer form of the same rounding, ties
    # up: bit_length() // 2. Floor is (bit_length() - 1) // 2 = floor(0.5 * floor(log2(dh))).)
    Mutation("tables.score-shift-floor", "flow/tables.py",
             "return (head_dim.bit_length()) // 2", "return (head_dim.bit_length() - 1) // 2",
             TABLES, "score shift floored, floor(log2(dh) / 2) (differs for dh = 2, 8, 32, ...)"),
    # -- estimator coefficients (flow/estimate/costs.py, flow/estimate/design.py, flow/hls/plan.py)
    Mutation("estimate.softmax-divide-fill", "flow/estimate/design.py",
             "fill = READ_LATENCY[plan.buffers[loop.reads[0]].storage] + 3 + num_w + WRITE_STAGES",
             "fill = READ_LATENCY[plan.buffers[loop.reads[0]].storage] + 4 + num_w + WRITE_STAGES",
             ESTIMATE, "softmax divide pass one stage deeper"),
    Mutation("estimate.mac-depth", "flow/estimate/design.py",
             "depth = reads + MUL_STAGES[mapping] + tree + 1 + stages + WRITE_STAGES",
             "depth = reads + MUL_STAGES[mapping] + tree + 2 + stages + WRITE_STAGES",
             ESTIMATE, "MAC loop pipeline depth one stage deeper"),
    Mutation("estimate.cast-round-adder", "flow/estimate/costs.py",
             "cost += Cost(lut=dst.width)", "cost += Cost(lut=dst.width + 1)",
             ESTIMATE, "rounding adder of a cast one LUT wider"),
    Mutation("estimate.rom-lut5-pairs", "flow/estimate/costs.py",
             "return Cost(lut=math.ceil(width / 2))", "return Cost(lut=width)",
             ESTIMATE, "LUT ROM up to 32 words: one bit a LUT instead of two"),
    Mutation("estimate.rom-lut-64", "flow/estimate/costs.py",
             "    pieces = math.ceil(words / 64)\n    return Cost(lut=width * pieces)",
             "    pieces = math.ceil(words / 32)\n    return Cost(lut=width * pieces)",
             ESTIMATE, "LUT ROM: 32 words per LUT6 instead of 64"),
    Mutation("estimate.divider-lut", "flow/estimate/design.py",
             "divider = Cost(lut=num_w * sum_w,", "divider = Cost(lut=num_w * sum_w + 1,",
             ESTIMATE, "softmax divider one LUT more"),
    Mutation("estimate.divider-ff", "flow/estimate/design.py",
             "ff=num_w * (sum_w + num_w))", "ff=num_w * (sum_w + num_w) + 1)",
             ESTIMATE, "softmax divider one FF more"),
    Mutation("estimate.control-lut", "flow/estimate/rows.py",
             "CONTROL_LUT, CONTROL_FF = 24, 16", "CONTROL_LUT, CONTROL_FF = 25, 16",
             ESTIMATE, "per-loop (and the engine's) control 25 LUTs"),
    Mutation("estimate.control-ff", "flow/estimate/rows.py",
             "CONTROL_LUT, CONTROL_FF = 24, 16", "CONTROL_LUT, CONTROL_FF = 24, 17",
             ESTIMATE, "per-loop control 17 FFs"),
    Mutation("estimate.top-control-lut", "flow/estimate/design.py",
             "TOP_CONTROL_LUT, TOP_CONTROL_FF = 48, 32", "TOP_CONTROL_LUT, TOP_CONTROL_FF = 49, 32",
             ESTIMATE, "top-level FSM + handshake one LUT more"),
    Mutation("estimate.mux-per-lut", "flow/estimate/costs.py",
             "return Cost(lut=width * math.ceil(max(0, inputs - 1) / 3))",
             "return Cost(lut=width * math.ceil(max(0, inputs - 1) / 4))",
             ESTIMATE, "multiplexers: 5 inputs a LUT instead of 4"),
    Mutation("estimate.register-write-enables", "flow/estimate/costs.py",
             "enables = words if writers < words else 0", "enables = words",
             ESTIMATE, "registers written all at once still priced with write enables"),
    Mutation("estimate.ram32m-width", "flow/estimate/costs.py",
             "mem = 4 * math.ceil(width / 6)", "mem = 4 * math.ceil(width / 5)",
             ESTIMATE, "RAM32M holds 5 bits instead of 6"),
    Mutation("estimate.engine-mux", "flow/estimate/design.py",
             "mux(users, e.a_width)", "mux(users + 1, e.a_width)",
             ESTIMATE, "shared lanes' operand multiplexer one input wider"),
    Mutation("estimate.engine-sum-width", "flow/hls/plan.py",
             "return a_width + b_width + (lanes - 1).bit_length()",
             "return a_width + b_width + 1 + (lanes - 1).bit_length()",
             ESTIMATE, "shared lanes' adder tree one bit wider"),
    Mutation("estimate.reshape-ignored", "flow/estimate/costs.py",
             "return Cost(bram18=bram18_count(bank_words, width * banks))",
             "return Cost(bram18=bram18_count(bank_words, width)).times(banks)",
             ESTIMATE, "a reshaped BRAM table priced as separate banks"),
    Mutation("estimate.ram64m-width", "flow/estimate/costs.py",
             "min(2 * width, 4 * math.ceil(width / 3))", "min(2 * width, 4 * math.ceil(width / 2))",
             ESTIMATE, "RAM64M holds 2 bits instead of 3"),
    Mutation("estimate.post-adders-ignored", "flow/estimate/costs.py",
             "        adds -= lanes // 2\n", "",
             ESTIMATE, "the lanes' first adds priced in LUTs although they sit in the DSPs' post-adders"),
    Mutation("estimate.pool-counted-as-macs", "flow/hls/plan.py",
             'return self.outputs * self.terms if self.kind == "mac" else 0',
             'return self.outputs * self.terms if self.kind in ("mac", "pool") else 0',
             ("tests/test_estimate.py", "-k", "estimate_json or auto_parallelism"),
             "the pooling's window sums counted as MACs (a DSP bound 20 cycles higher on the default)"),
    # -- accumulator widths (the C++ sums must never wrap)
    Mutation("accum.exact-sum-no-sign-bit", "flow/fixedpoint.py",
             "(-lo - 1).bit_length() if lo < 0 else 0) + 1", "(-lo - 1).bit_length() if lo < 0 else 0) + 0",
             NUMERICS, "exact_sum_type without its sign bit"),
    Mutation("accum.dense-one-bit-narrower", "flow/hls/layers.py",
             "    return exact_sum_type(min(bias + lo_terms), max(bias + hi_terms), f)\n",
             "    t = exact_sum_type(min(bias + lo_terms), max(bias + hi_terms), f)\n"
             "    return FixedType(t.width - 1, t.integer - 1, True, \"trn\", \"wrap\")\n",
             NUMERICS, "dense accumulator one integer bit narrower than the bound"),
    # -- C++ templates (hls_templates/tsflow_layers.h)
    Mutation("cpp.softmax-no-saturation", "hls_templates/tsflow_layers.h",
             "                if (quotient > CONFIG_T::prob_max) quotient = CONFIG_T::prob_max;\n", "",
             NUMERICS, "softmax probability not saturated to prob_max (wraps instead)"),
    Mutation("cpp.softmax-quotient-floored", "hls_templates/tsflow_layers.h",
             "num_t quotient = ((e << CONFIG_T::prob_frac) + (divisor >> 1)) / divisor;",
             "num_t quotient = (e << CONFIG_T::prob_frac) / divisor;",
             ("tests/test_cpp_numerics.py", "-k", "softmax"), "softmax probability floored (rows short by L/2 steps)"),
    Mutation("cpp.softmax-prob-range-past-quotient", "hls_templates/tsflow_layers.h",
             "pj.range() = ap_uint<CONFIG_T::prob_t::width>(quotient);",
             "pj.range() = quotient.range(CONFIG_T::prob_t::width - 1, 0);",
             ("tests/test_cpp_numerics.py", "-k", "softmax"),
             "a probability type wider than the quotient read past the quotient's top bit (the range() abort)"),
    Mutation("cpp.softmax-ring-same-half", "hls_templates/tsflow_layers.h",
             "num_t e = ring[((r - 1) & 1) * N + c * P + l];", "num_t e = ring[(r & 1) * N + c * P + l];",
             ("tests/test_cpp_numerics.py", "-k", "softmax"),
             "the quotients read the ring half being written (row r's exponentials over row r - 1's sum)"),
    Mutation("cpp.engine-operands-skip-idle-lanes", "hls_templates/tsflow_layers.h",
             "        bool on = l < P && i < N;",
             "        bool on = l < P;",
             NUMERICS, "the lanes past a row's end (its last chunk) left on: they read the next row"),
    Mutation("cpp.context-stride-ignored", "hls_templates/tsflow_layers.h",
             "lane_operands<E, CONFIG_T::lanes, L>(p, (h * L + i) * CONFIG_T::p_stride, v,",
             "lane_operands<E, CONFIG_T::lanes, L>(p, (h * L + i) * L, v,",
             BIT_EXACT, "the context reads the probabilities unpadded where the softmax wrote them padded"),
    Mutation("cpp.delta-add-reads-a-level-per-step", "hls_templates/tsflow_layers.h",
             "y[i] = a[i] + b[CONFIG_T::n_b == 1 ? 0 : i];", "y[i] = a[i] + b[i];",
             ("tests/test_steps.py", "-k", "bit_exact"),
             "the delta head adds a level per forecast step where there is one (data.steps > 1)"),
    Mutation("cpp.context-v-takes-the-probabilities-stride", "hls_templates/tsflow_layers.h",
             "(h * CONFIG_T::head_dim + e) * CONFIG_T::v_stride, c, a, b);",
             "(h * CONFIG_T::head_dim + e) * CONFIG_T::p_stride, c, a, b);",
             BIT_EXACT, "v read with the probabilities' row stride where only one of the two buffers is padded "
                        "(found by the randomised build check)"),
    Mutation("engine.allocation-pragma-back", "flow/hls/engine.py",
             'lines = [f"void {name}(unsigned layer, {args}) {{", "#pragma HLS INLINE off"]',
             'lines = [f"void {name}(unsigned layer, {args}) {{", "#pragma HLS INLINE off", '
             '"#pragma HLS ALLOCATION function instances=tsflow_mac limit=1"]',
             ("tests/test_hls.py", "-k", "pragmas_and_lanes"), "the lanes merged by an ALLOCATION pragma again"),
    Mutation("check.engine-call-sites-unchecked", "flow/hls/check.py",
             "    if calls != wanted_calls:", "    if False:",
             ("tests/test_hls.py", "-k", "plan_check"), "the build no longer checks the engine's call sites"),
    Mutation("plan.lanes-not-aligned", "flow/hls/plan.py",
             "    lanes = pow2_floor(most)\n    while row % lanes:\n        lanes //= 2\n    return lanes",
             "    return pow2_floor(most)",
             ESTIMATE, "auto lanes that do not divide the row (bank indexes chosen at run time)"),
    Mutation("estimate.engine-control-once-per-layer", "flow/estimate/design.py",
             "    cost = adder(acc.width) + cast(acc, out)\n    if relu:",
             "    cost = _control(loop) + adder(acc.width) + cast(acc, out)\n    if relu:",
             ESTIMATE, "each multiplying layer priced with a loop control of its own (the old structure)"),
    Mutation("cpp.softmax-index-floored", "hls_templates/tsflow_layers.h",
             "idx = (ap_uint<SW + 2 + LS>(idx) + HALF) >> RS;", "idx = idx >> RS;",
             ("tests/test_cpp_numerics.py", "-k", "softmax"), "softmax table index floored (every exponential up to a step high)"),
    Mutation("cpp.norm-at-output-skipped", "hls_templates/tsflow_layers.h",
             "z_T(multiply<CONFIG_T::mul_impl>::product(s, scale[o]) + shift[o])", "z_T(s)",
             BIT_EXACT, "the norm done at the o / ffn2 output left out"),
    Mutation("cpp.whole-word-reversed", "hls_templates/tsflow_layers.h",
             "y[word * WORD + k] = row[k];", "y[word * WORD + k] = row[WORD - 1 - k];",
             BIT_EXACT, "a whole-word write (reshaped buffer) stores its values in reverse order"),
    Mutation("plan.banks-ignore-readers", "flow/hls/plan.py",
             "banks = max([writer, *readers])  # a row shorter", "banks = writer  # a row shorter",
             ("tests/test_estimate.py", "tests/test_hls.py", "-k", "pragmas or lanes or banks"),
             "buffers not banked for the lanes that read them"),
    Mutation("cpp.score-value-cast", "hls_templates/tsflow_layers.h",
             "scaled.range() = acc.range();", "scaled = acc;",
             BIT_EXACT, "score 2**-shift scaling lost: value assignment instead of bit reinterpretation"),
    # -- predict_delta: the output = head + input[last step][target]
    Mutation("delta.reference-step-before-last", "flow/reference.py",
             "xin.mantissa[:, -1, target_index:target_index + 1]",
             "xin.mantissa[:, -2, target_index:target_index + 1]",
             BIT_EXACT, "reference delta adds the step before the last (only with predict_delta)"),
    Mutation("delta.cpp-last-step-before-last", "hls_templates/tsflow_layers.h",
             "y[j] = x[(CONFIG_T::n_steps - 1) * CONFIG_T::x_stride + CONFIG_T::first + j];",
             "y[j] = x[(CONFIG_T::n_steps - 2) * CONFIG_T::x_stride + CONFIG_T::first + j];",
             BIT_EXACT, "C++ last_step reads step n-2 (predict_delta's last_target and mean_last's last)"),
    # -- vendor scripts (vivado_scripts/hls.tcl.in)
    Mutation("tcl.partitioning-left-on", "vivado_scripts/hls.tcl.in",
             "config_array_partition -throughput_driven off -complete_threshold 0",
             "config_array_partition -throughput_driven auto -complete_threshold 0",
             EXPORT, "automatic array partitioning left on (the tool would build other banks than estimated)"),
    Mutation("tcl.export-format", "vivado_scripts/hls.tcl.in",
             "export_design -format ip_catalog", "export_design -format syn_dcp",
             EXPORT, "HLS script exports a DCP instead of an IP-catalog IP"),
    Mutation("cpp.interface-word-unsigned", "hls_templates/tsflow_layers.h",
             "return ap_int<32>(int_of(v));", "return ap_int<32>(bits_of<T, ap_uint<T::width> >(v));",
             ("tests/test_hls.py", "-k", "bit_exact and (axilite or axis)"),
             "a forecast word of the AXI wrappers not sign-extended"),
    Mutation("cpp.interface-word-top-bit-dropped", "hls_templates/tsflow_layers.h",
             "v.range(T::width - 1, 0) = w.range(T::width - 1, 0);", "v.range(T::width - 2, 0) = w.range(T::width - 2, 0);",
             ("tests/test_hls.py", "-k", "bit_exact and (axilite or axis)"),
             "the AXI wrappers read a window word without its sign bit"),
    Mutation("estimate.interface-capture-fill-ignored", "flow/estimate/interface.py",
             "n_in + fill + WRITE_STAGES", "n_in + WRITE_STAGES",
             ("tests/test_estimate_by_hand.py",), "the capture loop's read latency left out of the latency"),
    Mutation("tcl.block-design-not-validated", "vivado_scripts/block_design.tcl.in",
             "tsflow_step validate_bd_design {validate_bd_design}", "tsflow_step validate_bd_design {}",
             ("tests/test_block_design.py",), "the block design exported without validate_bd_design"),
    Mutation("calibration.loops-matched-by-any-trip", "flow/calibration.py",
             "own = all(set(wanted[t]) == {layer[\"name\"]} and len(found.get(t, [])) == len(wanted[t]) for t in trips)",
             "own = all(len(found.get(t, [])) >= 1 for t in trips)",
             ("tests/test_estimate.py", "tests/test_export.py", "-k", "loop"),
             "a report loop paired with a layer although another layer has the same trip count"),
    Mutation("points.tie-to-fewer-integer-bits", "flow/training/binary_points.py",
             "        if best_mse is None or mse < best_mse:", "        if best_mse is None or mse <= best_mse:",
             ("tests/test_binary_points.py",), "ties go to the smaller integer part (more clipping on new data)"),
    Mutation("points.not-written-before-qat", "flow/training/fit.py",
             "        cfg = with_points(cfg, points)\n", "",
             ("tests/test_binary_points.py",), "the chosen points never reach the quantized model"),
    Mutation("precision.probabilities-at-bits", "flow/precision.py",
             "    return max(bits, math.ceil(math.log2(tokens)) + 3)", "    return bits",
             ("tests/test_softmax.py",), "a 4-bit model's probabilities round 1/tokens to 0 or one step"),
    Mutation("precision.pos-output-not-auto", "flow/precision.py",
             '    if kind == "softmax" or (kind == "pos" and role == "table"):',
             '    if kind == "softmax" or kind == "pos":',
             ("tests/test_binary_points.py", "-k", "integer_auto_is_the_default"),
             "the positional add's output drops out of integer: auto (keeps the prior 3 integer bits)"),
    Mutation("precision.narrow-prior-refused", "flow/precision.py",
             "            if (name, role) in auto and t.frac < 0:", "            if False:",
             ("tests/test_binary_points.py",), "a 2-bit bits-only configuration is refused before training"),
    Mutation("training.qat-forgets-its-start", "flow/training/fit.py",
             "                                  report, note, keep_start=True)", "                                  report, note)",
             ("tests/test_model.py", "-k", "higher_validation"), "QAT ends on its best epoch even when that is worse than where it began"),
    Mutation("training.qat-waits-the-float-patience", "flow/training/fit.py",
             "tr.batch_size, tr.qat_patience, \"qat\"", "tr.batch_size, tr.patience, \"qat\"",
             ("tests/test_model.py", "-k", "own_patience"), "QAT stops after the float phase's patience, not its own"),
    Mutation("estimate.softmax-index-round-unpriced", "flow/estimate/design.py",
             "    lookup = adder(spec.score.width + 1).times(2 if spec.index_shift > 0 else 1)",
             "    lookup = adder(spec.score.width + 1)",
             ("tests/test_estimate_by_hand.py",), "the adders that round the softmax table index left out of the estimate"),
    Mutation("tables.softmax-index-floored", "flow/tables.py",
             "        return (diff + (1 << (index_shift - 1))) >> index_shift", "        return diff >> index_shift",
             ("tests/test_softmax.py",), "the table index floored: exponentials biased high, rows flattened"),
    Mutation("training.ctrl-c-lost-in-a-del", "flow/training/fit.py",
             "        if self.seen.is_set():\n            raise KeyboardInterrupt", "        pass",
             ("tests/test_model.py", "-k", "ctrl_c"), "a Ctrl-C swallowed inside a __del__ no longer stops training"),
    Mutation("data.changes-unscaled", "flow/data.py",
             "    d = np.diff(s.x, axis=1, prepend=s.x[:, :1, :]) / scale", "    d = np.diff(s.x, axis=1, prepend=s.x[:, :1, :])",
             ("tests/test_data.py", "-k", "differenced"), "differenced inputs no longer divided by their spread on the training rows"),
    Mutation("data.single-column-scaled", "flow/data.py",
             "    if train_rows.shape[1] == 1:\n        return np.ones(1)\n", "",
             ("tests/test_data.py", "-k", "single_column"), "a single column's changes scaled to unit spread too"),
    Mutation("tables.softmax-index-one-bit-finer", "flow/tables.py",
             "return min(score.frac, int(math.floor(math.log2(table_size))) - score.integer)",
             "return min(score.frac, int(math.floor(math.log2(table_size))) - score.integer + 1)",
             ("tests/test_softmax.py", "tests/test_tables.py", "-k", "index_precision or default_build_ships"),
             "the default table index one bit finer than the score range needs: the table covers half of it"),
    Mutation("tables.softmax-quotient-floored", "flow/tables.py",
             "    p = ((e << spec.prob.frac) + (total >> 1)) // total", "    p = (e << spec.prob.frac) // total",
             ("tests/test_softmax.py",), "the probability division floored: every row sums short, every context shrinks"),
    # -- mistakes Keras, the reference and the C++ share (bit-exact among themselves): only an independent
    #    oracle sees them
    Mutation("oracle.layer-rounding-override-ignored", "flow/precision.py",
             "        rounding=spec.rounding or base.rounding,", "        rounding=base.rounding,",
             ORACLE, "a per-tensor rounding in quantization.layers never reaches the types"),
    Mutation("oracle.overflow-mode-ignored", "flow/precision.py",
             '    mode = {"rounding": q.rounding, "overflow": q.overflow}', '    mode = {"rounding": q.rounding, "overflow": "sat"}',
             ORACLE, "quantization.overflow: wrap never reaches the types (every tensor saturates)"),
    Mutation("oracle.positional-base-changed", "flow/tables.py",
             "angle = pos / np.power(10000.0, (2 * (i // 2)) / d_model)",
             "angle = pos / np.power(1000.0, (2 * (i // 2)) / d_model)",
             ORACLE, "the positional encoding's base 10000 -> 1000, in the Keras layer, the reference and the ROM alike"),
    Mutation("oracle.norm-epsilon-dropped", "keras_models/layers.py",
             "scale = self.gamma * tf.math.rsqrt(self.moving_var + self.epsilon)",
             "scale = self.gamma * tf.math.rsqrt(self.moving_var)",
             ORACLE, "the deployed norm scale gamma / sqrt(var) without eps (Keras, the exported constants and the C++ agree)"),
    # -- which rows each decision reads (tests/test_provenance.py: spies on the data the decision receives,
    #    the test rows of its CSV marked by value), and boundaries worked by hand
    Mutation("provenance.scaler-fitted-on-all-rows", "flow/data.py",
             "    parts = tuple(values[a:b] for a, b in bounds)\n    train = parts[0]\n",
             "    parts = tuple(values[a:b] for a, b in bounds)\n    train = values\n",
             ("tests/test_provenance.py", "-k", "scaler"), "the normalisation statistics taken over every row, test rows included"),
    Mutation("provenance.early-stopping-on-the-test-split", "flow/training/fit.py",
             "validation_data=(ds.val.x, ds.val.y)", "validation_data=(ds.test.x, ds.test.y)",
             ("tests/test_provenance.py",), "the validation loss early stopping compares computed on the test windows"),
    Mutation("provenance.points-from-the-validation-windows", "flow/training/fit.py",
             "points = choose(cfg, prec, model, ds.train.x)", "points = choose(cfg, prec, model, ds.val.x)",
             ("tests/test_provenance.py",), "integer: auto binary points chosen on the validation windows"),
    Mutation("search.headroom-is-the-budget", "flow/search/study.py",
             "    return within_headroom(est, cfg.target.headroom)", "    return within_headroom(est, 0.0)",
             ("tests/test_boundaries.py", "-k", "headroom"),
             "the search keeps (and trains) a candidate that fits the part but not 1 - target.headroom of it"),
    Mutation("metrics.denormalised-with-the-first-column", "flow/data.py",
             "return self.scaler.inverse_column(np.asarray(v, dtype=np.float64), self.target_column)",
             "return self.scaler.inverse_column(np.asarray(v, dtype=np.float64), 0)",
             ("tests/test_multichannel.py",), "forecasts de-normalised with the first column's statistics, not the target's"),
]


# ---- the copy ------------------------------------------------------------------------------------

def repo_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                         check=True, capture_output=True).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (REPO / f).is_file()})


def make_copy(parent: Path) -> Path:
    """The working tree's files in ``parent/main``, with ``parent/shared`` -> the repository's ../shared."""
    copy = parent / "main"
    for rel in repo_files():
        dst = copy / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dst)
    shared = REPO.parent / "shared"
    if shared.exists():
        (parent / "shared").symlink_to(shared)
    for link, target in RESOURCE_PACKAGES.items():
        if (copy / link).exists():
            raise SystemExit(f"mutation_check: {link} already exists in the copy; the symlink trick needs revisiting")
        (copy / link).symlink_to(target)
    return copy


def environment(copy: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


PROBE = """
import importlib.resources, json, flow, keras_models, flow.hls_templates, flow.vivado_scripts
print(json.dumps({"flow": flow.__file__, "keras_models": keras_models.__file__,
                  "flow.hls_templates": str(importlib.resources.files("flow.hls_templates")),
                  "flow.vivado_scripts": str(importlib.resources.files("flow.vivado_scripts"))}))
"""


def check_imports_own_code(copy: Path) -> None:
    """Dry run: the copy's modules (and the resource folders read through them) are the ones imported."""
    import json

    done = subprocess.run([sys.executable, "-c", PROBE], cwd=copy, env=environment(copy), capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"mutation_check: the import probe failed in {copy}:\n{done.stderr}")
    where = json.loads(done.stdout.strip().splitlines()[-1])
    root = copy.resolve()
    for module, path in where.items():
        resolved = Path(path).resolve()
        if root not in (resolved, *resolved.parents):
            raise SystemExit(f"mutation_check: in the copy {copy}, {module} resolves to {path} (outside the copy)")


def apply(copy: Path, m: Mutation) -> None:
    path = copy / m.path
    text = path.read_text()
    count = text.count(m.old)
    if count != 1:
        raise SystemExit(f"mutation_check: mutation {m.name}: the old text occurs {count} times in {m.path} "
                         f"(must be exactly once); update the list.\nold text: {m.old!r}")
    if m.old == m.new:
        raise SystemExit(f"mutation_check: mutation {m.name} changes nothing")
    path.write_text(text.replace(m.old, m.new))


def anchor_count(m: Mutation) -> int:
    return (REPO / m.path).read_text().count(m.old)


# ---- running pytest ------------------------------------------------------------------------------

@dataclass
class Outcome:
    status: str
    first_failure: str
    seconds: float
    note: str


def split_selection(copy: Path, selection: tuple) -> tuple[list, list]:
    """(arguments with the missing test files left out, the missing files)."""
    args, missing = [], []
    for arg in selection:
        path = arg.split("::")[0]
        if path.startswith("tests/") and not (copy / path).exists():
            missing.append(path)
        else:
            args.append(arg)
    return args, missing


def first_failure(output: str) -> str:
    m = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.M)
    if m:
        return m.group(1)
    m = re.search(r"^_{3,} (?:ERROR collecting )?(\S.*?) _{3,}$", output, re.M)
    return m.group(1) if m else ""


def run_pytest(copy: Path, args: list, log: Path, timeout: float) -> tuple[int | None, str, float]:
    start = time.monotonic()
    with open(log, "w") as out:
        out.write(f"$ cd {copy} && PYTHONPATH={copy} {' '.join(PYTEST + args)}\n\n")
        out.flush()
        proc = subprocess.Popen(PYTEST + args, cwd=copy, env=environment(copy), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the pytest we started and its children (g++, testbenches)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            code = None
    return code, log.read_text(), time.monotonic() - start


def summary_line(output: str) -> str:
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    return lines[-1].strip("= ") if lines else ""


def run_mutation(m: Mutation, workdir: Path, logs: Path, timeout: float) -> Outcome:
    start = time.monotonic()
    parent = Path(tempfile.mkdtemp(prefix=f"{m.name}.", dir=workdir))
    try:
        copy = make_copy(parent)
        check_imports_own_code(copy)
        apply(copy, m)
        args, missing = split_selection(copy, m.selection)
        note = f"missing {', '.join(missing)}" if missing else ""
        if not any(a.split("::")[0].startswith("tests/") for a in args):
            return Outcome("ERROR", "", time.monotonic() - start, note or "empty selection")
        code, output, _ = run_pytest(copy, args, logs / f"{m.name}.log", timeout)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    if code is None:
        status, detail = "ERROR", f"timeout after {timeout:.0f} s"
    elif code == 1:
        status, detail = "CAUGHT", ""
    elif code == 0:
        status, detail = "MISSED", summary_line(output)
    else:
        status, detail = "ERROR", f"pytest exit {code}: {summary_line(output)}"
    return Outcome(status, first_failure(output) if code == 1 else "", time.monotonic() - start,
                   "; ".join(filter(None, [note, detail])))


def run_unmutated(selections: list, workdir: Path, logs: Path, timeout: float) -> list:
    parent = Path(tempfile.mkdtemp(prefix="unmutated.", dir=workdir))
    rows = []
    try:
        copy = make_copy(parent)
        check_imports_own_code(copy)
        print(f"unmutated copy {copy}: flow, keras_models and the resource packages import from the copy", flush=True)
        for i, selection in enumerate(selections, 1):
            label = " ".join(selection)
            args, missing = split_selection(copy, selection)
            note = f"missing {', '.join(missing)}" if missing else ""
            if not any(a.split("::")[0].startswith("tests/") for a in args):
                print(f"[{i}/{len(selections)}] {label}: SKIPPED ({note})", flush=True)
                rows.append((label, "SKIPPED", "", 0.0, note))
                continue
            print(f"[{i}/{len(selections)}] start  {label}", flush=True)
            log = logs / f"unmutated.{i}.log"
            code, output, seconds = run_pytest(copy, args, log, timeout)
            status = "PASS" if code == 0 else "FAIL"
            detail = f"timeout after {timeout:.0f} s" if code is None else summary_line(output)
            print(f"[{i}/{len(selections)}] {status:6} {label}  {seconds:.0f} s  ({detail})", flush=True)
            rows.append((label, status, first_failure(output) if code else "", seconds,
                         "; ".join(filter(None, [note, detail]))))
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return rows


# ---- command line --------------------------------------------------------------------------------

def table(headers: list, rows: list) -> str:
    cells = [headers, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(cells[0]), fmt(["-" * w for w in widths]), *map(fmt, cells[1:])])


def select(patterns: list | None) -> list:
    if not patterns:
        return MUTATIONS
    chosen = [m for m in MUTATIONS if any(fnmatch.fnmatchcase(m.name, p) for p in patterns)]
    unknown = [p for p in patterns if not any(fnmatch.fnmatchcase(m.name, p) for m in MUTATIONS)]
    if unknown:
        raise SystemExit(f"mutation_check: no mutation named {', '.join(unknown)} (see --list)")
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="mutation names or fnmatch patterns (e.g. 'estimate.*')")
    parser.add_argument("--list", action="store_true", help="list the mutations and check their anchors, run nothing")
    parser.add_argument("--unmutated", action="store_true",
                        help="sanity run: every (selected) mutation's selection must pass on an unmutated copy")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per pytest run (default 3600)")
    parser.add_argument("--log-dir", type=Path, help="where pytest's output of each run is kept (default: a new temp dir)")
    args = parser.parse_args(argv)
    chosen = select(args.only)

    if args.list:
        rows, stale = [], 0
        for m in chosen:
            n = anchor_count(m)
            stale += n != 1
            rows.append((m.name, m.path, "ok" if n == 1 else f"STALE ({n}x)", " ".join(m.selection), m.what))
        print(table(["MUTATION", "FILE", "ANCHOR", "SELECTION", "WHAT"], rows))
        return 1 if stale else 0

    for m in chosen:  # fail before any slow run if the list went stale
        if anchor_count(m) != 1:
            raise SystemExit(f"mutation_check: mutation {m.name}: the old text occurs {anchor_count(m)} times in "
                             f"{m.path} (must be exactly once); update the list.\nold text: {m.old!r}")

    logs = args.log_dir or Path(tempfile.mkdtemp(prefix="mutation_check_logs."))
    logs.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="mutation_check."))
    print(f"mutation_check: repository {REPO}; pytest logs in {logs}", flush=True)
    start = time.monotonic()
    try:
        if args.unmutated:
            selections = list(dict.fromkeys(m.selection for m in chosen))
            rows = run_unmutated(selections, workdir, logs, args.timeout)
            print()
            print(table(["SELECTION", "STATUS", "FIRST FAILURE", "TIME", "NOTE"],
                        [(s, st, f or "-", f"{t:.0f} s", n) for s, st, f, t, n in rows]))
            bad = [r for r in rows if r[1] == "FAIL"]
            print(f"\nunmutated: {len(rows) - len(bad)}/{len(rows)} selections pass or are skipped; "
                  f"total {time.monotonic() - start:.0f} s")
            return 1 if bad else 0

        rows = []
        for i, m in enumerate(chosen, 1):
            print(f"[{i}/{len(chosen)}] start  {m.name}: {m.path} ({m.what}); pytest {' '.join(m.selection)}",
                  flush=True)
            o = run_mutation(m, workdir, logs, args.timeout)
            print(f"[{i}/{len(chosen)}] {o.status:6} {m.name}  {o.seconds:.0f} s"
                  + (f"  first failure: {o.first_failure}" if o.first_failure else "")
                  + (f"  ({o.note})" if o.note else ""), flush=True)
            rows.append((m.name, o.status, o.first_failure or "-", f"{o.seconds:.0f} s", o.note))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(["MUTATION", "STATUS", "FIRST FAILING TEST", "TIME", "NOTE"], rows))
    counts = {s: sum(r[1] == s for r in rows) for s in ("CAUGHT", "MISSED", "ERROR")}
    print(f"\n{counts['CAUGHT']} caught, {counts['MISSED']} missed, {counts['ERROR']} error; "
          f"total {time.monotonic() - start:.0f} s")
    return 0 if counts["CAUGHT"] == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
