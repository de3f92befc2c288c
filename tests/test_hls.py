"""The generated HLS C++ computes exactly what the reference forward computes.

Each matrix case trains a short model on the built-in series (>1,000 real test windows), converts it
through the tsflow hls4ml backend, compiles the testbench with g++ and hls4ml's ap_types, and
compares every boundary of every window. The mutation tests edit one rounding mode or one table
entry in a built project and check that the divergence is reported at the right layer.
"""
import json
import re
import shutil

import pytest

from flow.build import build
from flow.config import parse_config
from flow.csim import run_csim

from .conftest import assert_keras_equals_reference, small_raw


def case(window=24, d_model=16, heads=1, n_layers=1, bits=8, storage="auto", tool="vitis", head="mean",
         inputs="levels", predict_delta=False, lanes=None, interface="ap_vld", buffers=None, patch=None, steps=1,
         **quant):
    raw = small_raw(d_model=d_model, heads=heads, layers=n_layers, ffn=2 * d_model, head=head,
                    predict_delta=predict_delta)
    if patch:
        raw["model"]["patch"] = dict(zip(("length", "stride"), patch))
    raw["data"].update(window=window, inputs=inputs, steps=steps)
    raw["quantization"] = {"bits": bits, **quant}
    raw["training"].update(float_epochs=1, qat_epochs=1)
    lanes = {"enc0.ffn2": 4, "enc0.scores": 2} if lanes is None else lanes  # the rest: auto
    raw["hls"] = {"tool": tool, "interface": interface, "default_storage": storage, "storage": buffers or {},
                  "parallelism": lanes,
                  "multiplier": {"enc0.ffn1": "lut", "enc0.scores": "dsp", "enc0.norm1": "lut",
                                 **({"pool": "dsp"} if head != "flatten" else {})}}  # the flatten head has no mean
    return raw


MIXED_A = {"layers": {"enc0.ffn1": {"weight": {"bits": 4}}, "enc0.scores": {"output": {"bits": 12, "integer": 5}},
                      "pool": {"output": {"bits": 10}}}}
MIXED_B = {"rounding": "rnd", "overflow": "wrap", "softmax": {"table_size": 64},
           "layers": {"embed": {"output": {"bits": 5, "integer": 2}}, "enc0.v": {"weight": {"bits": 3}},
                      "pos": {"table": {"integer": "auto"}},
                      "enc0.softmax": {"table": {"integer": "auto"}, "output": {"integer": "auto"}}}}
# predict_delta (the delta add, the last-step wire and the delta port) with both heads and both input
# kinds; windows 24 and 48, whose pooling reciprocal 2^16/n rounds; lanes chosen by auto, and explicit
# lanes: 2 on d_model 8 (the engine's other lanes idle), 16 on a 24-step window (v's rows, in LUTRAM, padded
# to 32 words, the probabilities' in registers not: each read with its own stride), 8 on 32 FFN units, 4 on a head of 8; each
# hls.interface, the testbench driving the top function as a system would (ap_vld ports, AXI4-Lite words,
# AXI4-Stream beats), in both dialects
CASES = {
    "8bit-h1-d16-l1-w24-auto-delta": case(predict_delta=True),
    "6bit-h2-d8-l2-w48-bram-meanlast-delta-axilite": case(window=48, d_model=8, heads=2, n_layers=2, bits=6,
                                                          storage="bram", head="mean_last", predict_delta=True,
                                                          interface="s_axilite"),
    "4bit-h2-d32-l1-w24-lutram-axis": case(d_model=32, heads=2, bits=4, storage="lutram", interface="axis"),
    "mixedA-h1-d8-l2-w24-registers-diff-delta-padlanes": case(
        d_model=8, n_layers=2, storage="registers", rounding="trn", inputs="differences", predict_delta=True,
        lanes={"enc0.q": 2, "enc1.context": 16, "enc1.ffn2": 8, "enc0.scores": 4}, buffers={"enc1.v": "lutram"},
        **MIXED_A),
    # d_model 12 and a window of 13 under auto lanes (16): every row the dense layers, the pooling and the
    # context read is padded to whole chunks (pos, norm1/2, context, ffn1 and the probabilities, v)
    "6bit-h3-d12-l1-w13-auto-padded-rows": case(window=13, d_model=12, heads=3, bits=6, lanes={},
                                                buffers={"pool": "bram"}),
    "mixedB-h2-d16-l1-w48-auto-vivado-meanlast-diff-delta-autolanes-axilite": case(
        window=48, heads=2, bits=6, tool="vivado", head="mean_last", inputs="differences", predict_delta=True,
        lanes={}, interface="s_axilite", **MIXED_B),
    # patch tokens: 16 steps 8 apart over 40 steps of 2 channels (4 tokens of 32 words, read in place from
    # the window's registers); and 4 steps 2 apart over a window written in chunks into BRAM, whose lanes
    # (4: the channels of the 2 steps every patch starts on) read each token from bank 0 on
    "patch16x8-h2-d8-l1-w40-diff-meanlast-delta-axis": case(window=40, d_model=8, heads=2, inputs="differences",
                                                           head="mean_last", predict_delta=True, interface="axis",
                                                           patch=(16, 8)),
    "patch4x2-h1-d8-l1-w24-diff-input-bram-steps3": case(window=24, d_model=8, bits=6, inputs="differences",
                                                        buffers={"input": "bram"}, lanes={}, patch=(4, 2),
                                                        steps=3),
    # the flatten head: 8 tokens x 8 values a forecast step, read from the last norm's buffer in LUTRAM
    # by lanes that divide d_model (each token's row starts on bank 0)
    "patch4x4-h1-d8-l2-w32-flatten-lutram-delta-steps2": case(window=32, d_model=8, n_layers=2, head="flatten",
                                                             predict_delta=True, storage="lutram", lanes={},
                                                             patch=(4, 4), steps=2),
}
DEFAULT_CASE = "8bit-h1-d16-l1-w24-auto-delta"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Builds shared by the matrix and the mutation tests, made on first use."""
    cache = {}

    def get(name):
        if name not in cache:
            stage = tmp_path_factory.mktemp(name)
            # these cases prove bit-exactness, not fit: some are larger than the default XC7S15
            cache[name] = (parse_config(CASES[name]), stage, build(parse_config(CASES[name]), stage,
                                                                   allow_overflow=True))
        return cache[name]

    return get


@pytest.mark.parametrize("name", list(CASES))
def test_csim_is_bit_exact_on_every_boundary(built, name):
    cfg, stage, result = built(name)
    csim = result.csim
    assert csim.samples >= 1000
    assert csim.mismatches == 0 and csim.boundary_mismatches == 0 and csim.bit_exact
    # every layer output and attention internal of every window was compared
    # input embed pos, each layer's 13, pool (not with the flatten head) head, delta
    expected_boundaries = 3 + 13 * cfg.model.layers + 1 + int(cfg.model.head != "flatten") + \
        int(cfg.model.predict_delta)
    assert csim.boundaries_compared == expected_boundaries
    saved = json.loads((stage / "csim.json").read_text())
    assert saved["samples"] == csim.samples and saved["bit_exact"] is True and saved["max_abs_diff"] == 0
    # and the C++ computes what the trained Keras model computes: Keras = reference at every boundary
    from flow.training.checkpoint import load_trained
    from flow.data import load_dataset

    reference = _reference_of(built, name)
    assert set(reference) == set(csim_boundaries(cfg))
    x = load_dataset(cfg).test.x
    assert assert_keras_equals_reference(load_trained(stage / "model").model, x, reference) == csim.values_compared
    # integer: auto in every position it is allowed (the defaults, and the tables the cases ask for): every
    # such tensor got its point from training, listed in forward order, and the build ran on them
    from flow.training.checkpoint import POINTS, read_points

    assert list(read_points(stage / "model" / POINTS, "")) == auto_tensors(CASES[name])


def auto_tensors(raw: dict) -> list:
    """The (layer, role) pairs whose integer bits are ``auto`` in a case's YAML, in forward order, worked out
    from docs/numerics.md ("Binary points") rather than by the flow: by default every weight, bias,
    activation, attention score, norm scale and shift, the window and the forecast; the positional table, the
    exp table and the probabilities only where ``quantization.layers`` asks for ``auto``; a number set there
    fixes a tensor. (The cases set no global ``weight_integer`` / ``act_integer`` / input or output integer.)"""
    q, m = raw["quantization"], raw["model"]
    assert not {"weight_integer", "act_integer", "input", "output"} & set(q), "auto_tensors: global integers"
    dense = ("weight", "bias", "output")
    pairs = [("input", "output"), *(("embed", r) for r in dense), ("pos", "table"), ("pos", "output")]
    for i in range(m["layers"]):
        p = f"enc{i}."
        pairs += [(p + n, r) for n in ("q", "k", "v") for r in dense]
        pairs += [(p + "scores", "output"), (p + "softmax", "table"), (p + "softmax", "output"),
                  (p + "context", "output"), *((p + "o", r) for r in dense), (p + "add1", "output"),
                  *((p + "norm1", r) for r in ("scale", "shift", "output")),
                  *((p + n, r) for n in ("ffn1", "ffn2") for r in dense), (p + "add2", "output"),
                  *((p + "norm2", r) for r in ("scale", "shift", "output"))]
    pairs += [("pool", "output")] if m["head"] != "flatten" else []  # the flatten head reads every token: no mean
    pairs += [*(("head", r) for r in dense)] + ([("delta", "output")] if m["predict_delta"] else [])
    fixed_by_default = {("pos", "table")} | {(f"enc{i}.softmax", r) for i in range(m["layers"]) for r in ("table", "output")}
    layers = q.get("layers", {})

    def is_auto(layer, role):
        integer = (layers.get(layer, {}).get(role) or {}).get("integer")
        return integer == "auto" if integer is not None else (layer, role) not in fixed_by_default

    return [(layer, role) for layer, role in pairs if is_auto(layer, role)]


def csim_boundaries(cfg) -> list:
    """The boundaries a build of ``cfg`` traces: layer outputs and attention internals, delta last."""
    names = ["input", "embed", "pos"]
    for i in range(cfg.model.layers):
        names += [f"enc{i}.{b}" for b in ("q", "k", "v", "scores", "softmax", "context", "o", "add1", "norm1",
                                          "ffn1", "ffn2", "add2", "norm2")]
    pool = ["pool"] if cfg.model.head != "flatten" else []  # the flatten head reads every token: no mean
    return names + pool + ["head"] + (["delta"] if cfg.model.predict_delta else [])


def _reference_of(built, name):
    from flow.build import reference_trace
    from flow.training.checkpoint import load_trained
    from flow.data import load_dataset

    cfg, stage, _ = built(name)
    trained = load_trained(stage / "model")
    ds = load_dataset(cfg)
    return reference_trace(trained.resolved, trained.model, ds.target_index, ds)  # the types training chose


def _mutated_project(built, tmp_path, edit):
    _, stage, _ = built(DEFAULT_CASE)
    hls = tmp_path / "hls"
    shutil.copytree(stage / "hls", hls)
    edit(hls / "firmware")
    return hls, _reference_of(built, DEFAULT_CASE)


def _norm1_truncates(fw):
    defines = fw / "defines.h"
    text = defines.read_text()
    line = re.search(r"typedef ap_fixed<8,3,AP_RND_CONV,AP_SAT,0> enc0_norm1_t;", text).group(0)
    defines.write_text(text.replace(line, line.replace("AP_RND_CONV", "AP_TRN")))


def test_a_changed_rounding_mode_is_reported_at_its_layer(built, tmp_path):
    hls, reference = _mutated_project(built, tmp_path, _norm1_truncates)
    csim = run_csim(hls, reference, jobs=1)
    assert not csim.bit_exact and csim.boundary_mismatches > 0
    assert csim.first_divergence["layer"] == "enc0.norm1"
    # split into shards, the same windows and values differ and the first is found at the same place
    sharded = run_csim(hls, reference, recompile=False, jobs=3)
    for key in ("samples", "mismatches", "max_abs_diff", "values_compared", "boundary_mismatches",
                "first_divergence"):
        assert getattr(sharded, key) == getattr(csim, key), key


def test_a_divergence_in_a_later_shard_is_reported_at_its_window(built):
    """The shards' traces are joined in window order: a difference at window 1000 (shard 2 of 3) is found there."""
    _, stage, _ = built(DEFAULT_CASE)
    reference = _reference_of(built, DEFAULT_CASE)  # computed afresh: ours to change
    ffn1 = reference["enc0.ffn1"].mantissa
    ffn1.reshape(ffn1.shape[0], -1)[1000, 7] += 1
    csim = run_csim(stage / "hls", reference, recompile=False, jobs=3)
    assert csim.boundary_mismatches == 1 and csim.mismatches == 0  # the output vectors were not touched
    assert csim.first_divergence["layer"] == "enc0.ffn1"
    assert (csim.first_divergence["sample"], csim.first_divergence["element"]) == (1000, 7)


def test_the_testbench_refuses_a_window_range_outside_the_test_split(built):
    import subprocess

    from flow.csim import CSIM_BINARY, CSimError, run_testbench

    _, stage, result = built(DEFAULT_CASE)
    hls, n = stage / "hls", result.csim.samples
    for window_range in [(n, 1), (0, n + 1), (5, 2**32 - 1), (2**32 - 1, 2), (n + 5,), ("abc", 3), (0, 0)]:
        done = subprocess.run([str(hls / CSIM_BINARY), str(hls / "tb_data"), "", *map(str, window_range)],
                              capture_output=True, text=True, cwd=hls)
        assert done.returncode == 2 and "outside the" in done.stderr, window_range
    ok = subprocess.run([str(hls / CSIM_BINARY), str(hls / "tb_data"), "", str(n - 3)], capture_output=True,
                        text=True, cwd=hls)
    assert ok.returncode == 0 and '"samples": 3,' in ok.stdout  # from a window to the end
    cosim = subprocess.run([str(hls / CSIM_BINARY), str(hls / "tb_data"), "-", "0", "5"], capture_output=True,
                           text=True, cwd=hls)  # what the co-simulation passes: "-" for no trace
    assert cosim.returncode == 0 and '"samples": 5,' in cosim.stdout and not (hls / "-").exists()
    with pytest.raises(CSimError, match="outside the"):
        run_testbench(hls, n + 1, 1)


def test_tsflow_csim_reruns_a_build_and_exits_1_naming_the_layer_on_a_mismatch(built, tmp_path):
    from click.testing import CliRunner

    from flow.cli import cli

    _, stage, _ = built(DEFAULT_CASE)
    copy = tmp_path / "build"
    shutil.copytree(stage, copy)
    ok = CliRunner().invoke(cli, ["csim", str(copy), "--jobs", "3"])
    assert ok.exit_code == 0, ok.output
    assert "0 output mismatches" in ok.output and "bit-exact" in ok.output
    _norm1_truncates(copy / "hls" / "firmware")
    bad = CliRunner().invoke(cli, ["csim", str(copy)])
    assert bad.exit_code == 1
    assert "NOT bit-exact" in bad.output and "first divergence: layer enc0.norm1" in bad.output
    assert json.loads((copy / "csim.json").read_text())["bit_exact"] is False
    # C++ that does not compile: one error line with g++'s message, exit 1, no traceback
    defines = copy / "hls" / "firmware" / "defines.h"
    defines.write_text(defines.read_text() + "\nthis is not C++;\n")
    broken = CliRunner().invoke(cli, ["csim", str(copy)])
    assert broken.exit_code == 1 and isinstance(broken.exception, SystemExit)
    assert "error: g++ failed" in broken.output and "this is not C++" in broken.output
    assert json.loads((copy / "csim.json").read_text())["bit_exact"] is False  # no earlier verdict left standing


def test_tsflow_build_whose_csim_cannot_run_exits_1_and_stays_partial(built, tmp_path, monkeypatch):
    import yaml
    from click.testing import CliRunner

    import flow.csim
    from flow.cli import cli

    config = tmp_path / "case.yaml"
    config.write_text(yaml.safe_dump(CASES[DEFAULT_CASE]))
    _, stage, _ = built(DEFAULT_CASE)

    def no_compiler(folder):
        raise flow.csim.CSimError(f"g++ failed on {folder}:\nno compiler here")

    monkeypatch.setattr(flow.csim, "compile_testbench", no_compiler)
    out = tmp_path / "build"
    done = CliRunner().invoke(cli, ["build", str(config), "--out", str(out),
                                    "--trained", str(stage / "model"), "--allow-overflow"])
    assert done.exit_code == 1 and isinstance(done.exception, SystemExit)
    assert "error: g++ failed" in done.output and "no compiler here" in done.output
    assert not out.exists() and "CSimError" in (tmp_path / "build.partial" / "FAILED").read_text()


def test_a_changed_exp_table_entry_is_reported_at_the_softmax(built, tmp_path):
    def edit(fw):
        table = fw / "weights" / "enc0_exp_table.h"
        text = table.read_text()
        first = re.search(r"\{([0-9.]+)", text).group(1)  # exp(0) = 1, used by every row
        table.write_text(text.replace("{" + first, "{0.5", 1))

    csim = run_csim(*_mutated_project(built, tmp_path, edit))
    assert not csim.bit_exact
    assert csim.first_divergence["layer"] == "enc0.softmax"
    assert csim.first_divergence["sample"] == 0


def _project_text(tmp_path, raw):
    from flow.data import load_dataset
    from flow.estimate import plan_design
    from flow.hls.project import write_project
    from flow.precision import resolve_precisions
    from flow.reference import reference_forward
    from keras_models.builder import build_model
    from keras_models.export import integer_parameters

    cfg = parse_config(raw)
    ds = load_dataset(cfg)
    prec = resolve_precisions(cfg)
    model = build_model(cfg, prec, True, len(ds.features), ds.target_index)
    ref = reference_forward(ds.test.x[:4], integer_parameters(model), prec, cfg.model, ds.target_index)
    plan = plan_design(cfg, prec, len(ds.features)).plan_dict()
    write_project(cfg, model, prec, ref, tmp_path / cfg.hls.tool, plan)
    fw = tmp_path / cfg.hls.tool / "firmware"
    return (fw / "tsflow_model.cpp").read_text(), (fw / "parameters.h").read_text(), plan


def _preprocessed(firmware) -> str:
    """The top function after the C preprocessor, as the HLS tool reads it (pragmas kept)."""
    import subprocess

    import hls4ml
    from pathlib import Path

    ap_types = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    done = subprocess.run(["g++", "-E", "-std=c++14", f"-I{firmware}", f"-I{ap_types}", str(firmware / "tsflow_model.cpp")],
                          capture_output=True, text=True, check=True)
    return done.stdout


def _buffer_pragmas_agree(top: str, plan: dict, tool: str) -> int:
    """Every buffer and constant table of the plan has the pragmas of its storage and banks in the top
    function; returns how many were checked."""
    from flow.hls.layers import cname

    checked = 0
    for mem in [*plan["buffers"].values(), *plan["roms"].values()]:
        if mem["internal"]:
            continue
        var = cname(mem["name"])
        # its storage pragmas (the engine's DEPENDENCE statements name buffers too)
        lines = re.findall(rf"^\s*(#pragma HLS (?!DEPENDENCE).*variable={var}\b.*|// {var}:.*)$", top, re.M)
        if mem["storage"] == "port":
            assert re.search(rf"result_t {var}\[{mem['words']}\]", top), var
        elif mem["storage"] == "fused":
            assert lines == [f"// {var}: computed at a dense layer's output and not stored (kept for the C "
                             "simulation trace)"], var
        elif mem["storage"] == "registers":
            assert lines == [f"#pragma HLS ARRAY_PARTITION variable={var} complete dim=0"], var
        else:
            kind = {"vitis": {"bram": "type=ram_2p impl=bram", "lutram": "type=ram_2p impl=lutram",
                              "rom:bram": "type=rom_1p impl=bram", "rom:lutrom": "type=rom_1p impl=lutram"},
                    "vivado": {"bram": "core=RAM_2P_BRAM", "lutram": "core=RAM_2P_LUTRAM",
                               "rom:bram": "core=ROM_1P_BRAM", "rom:lutrom": "core=ROM_1P_LUTRAM"}}[tool]
            storage = kind[("rom:" if mem["rom"] else "") + mem["storage"]]
            word = "BIND_STORAGE" if tool == "vitis" else "RESOURCE"
            want = [f"#pragma HLS {word} variable={var} {storage}"]
            if mem["banks"] > 1:
                how = "ARRAY_RESHAPE" if mem["reshaped"] else "ARRAY_PARTITION"
                want.insert(0, f"#pragma HLS {how} variable={var} cyclic factor={mem['banks']} dim=1")
            assert lines == want, var
        checked += 1
    return checked


def _lanes_in_cpp(engine: str, params: str, key: str = "lanes") -> dict:
    """Each multiplying layer's lane count as the generated C++ states it: the config struct its case of
    the engine accumulates with (and the pooling's); with key="word", each dense layer's values written
    at once (put_in_order)."""
    structs = dict(re.findall(r"struct (\w+) \{(.*?)\};", params, re.S))

    def const(struct, name):
        m = re.search(rf"static const unsigned {name} = (\d+);", structs[struct])
        return int(m.group(1)) if m else None

    found, layer = {}, None
    for line in engine.splitlines():
        m = re.match(r"\s+case \d+: \{  // (\S+)$", line)
        layer = m.group(1) if m else layer
        m = re.search(r"tsflow::accumulate<(\w+)::accum_t", line)
        if m and const(m.group(1), key) is not None:
            found[layer] = const(m.group(1), key)
        m = re.search(r"tsflow::average_pool<[^;]*?(config\d+)>", line)
        if m and key == "lanes":
            found["pool"] = const(m.group(1), "lanes")
    return found


@pytest.mark.parametrize("tool", ["vitis", "vivado"])
def test_pragmas_and_lanes_follow_the_plan_and_the_yaml(tmp_path, tool):
    raw = case(tool=tool)
    raw["hls"].update(storage={"enc0.q": "bram", "enc0.scores": "lutram", "enc0.ffn1": "registers",
                               "enc0.context": "auto"}, default_storage="bram", default_multiplier="dsp",
                      rom={"enc0.ffn1.weight": "bram", "pos.table": "registers"},
                      parallelism={"enc0.ffn2": 4, "embed": 1},
                      multiplier={"enc0.ffn2": "lut", "embed": "dsp", "enc0.scores": "lut"})
    top, params, plan = _project_text(tmp_path, raw)
    engine = (tmp_path / tool / "firmware" / "tsflow_engine.h").read_text()
    storage = {n: b["storage"] for n, b in plan["buffers"].items()}
    assert (storage["enc0.q"], storage["enc0.scores"], storage["enc0.k"], storage["enc0.ffn1"]) == \
        ("bram", "lutram", "bram", "registers")  # asked for, and the default
    # auto, worked by hand from flow/hls/plan.py ``_storage`` and the fit of flow/estimate/design.py: the
    # context is window x d_model = 24 x 16 = 384 words of 8 bits; its reader enc0.o runs on the 2 shared
    # lanes (the engine's count here), so 2 banks of 192 words. Auto puts a bank in LUTRAM up to 64 words
    # (AUTO_LUTRAM_MAX_WORDS) or 1,024 bits (AUTO_LUTRAM_MAX_BITS); 192 words x 8 = 1,536 bits is past both:
    # BRAM. The fit would move it back to LUTRAM only if BRAM18 were over 1 - headroom of the part (xc7s15:
    # 20 BRAM18, headroom 0.2: 16); this design needs 16, so it stays in BRAM.
    ctx = plan["buffers"]["enc0.context"]
    assert (ctx["words"], ctx["width"], ctx["banks"], plan["engine"]["lanes"]) == (384, 8, 2, 2)
    assert storage["enc0.context"] == "bram"
    assert plan["roms"]["enc0.ffn1.weight"]["storage"] == "bram" and plan["roms"]["pos.table"]["storage"] == "registers"
    assert _buffer_pragmas_agree(top + engine, plan, tool) == len(
        [m for m in [*plan["buffers"].values(), *plan["roms"].values()] if not m["internal"]])
    # sequential schedule: no function-level pipeline or dataflow over the whole network; the shared lanes
    # are one piece of code, called from one place, with no pragma merging copies
    assert "#pragma HLS PIPELINE" not in top and "#pragma HLS DATAFLOW" not in top
    assert "ALLOCATION" not in top + engine
    assert len(re.findall(r"\btsflow_engine\(layer, ", top)) == 1 and engine.count("void tsflow_engine(") == 1
    assert len(re.findall(r"tsflow::multiply<tsflow_lanes::mul_impl>::product", engine)) == 1
    assert top.startswith(("#include \"tsflow_lanes.h\"", "#define TSFLOW_VIVADO_HLS"))
    lanes = _lanes_in_cpp(engine, params)
    assert lanes["embed"] == 1 and lanes["enc0.ffn2"] == 4  # explicit numbers, honoured exactly
    for name, loop in plan["layers"].items():
        if loop["kind"] in ("mac", "pool"):
            assert lanes[name] == loop["lanes"], name
    shared = (tmp_path / tool / "firmware" / "tsflow_lanes.h").read_text()
    assert f"static const unsigned lanes = {plan['engine']['lanes']};" in shared
    assert "static const unsigned mul_impl = 1;" in shared  # hls.default_multiplier: dsp
    assert not plan["layers"]["enc0.ffn2"]["shared"] and not plan["layers"]["enc0.scores"]["shared"]  # lut: own
    # the multiplier pragmas the HLS tool sees are those of the chosen dialect: the engine on DSPs, the
    # layers that asked for LUTs on fabric
    seen = _preprocessed(tmp_path / tool / "firmware")
    if tool == "vitis":
        assert "#pragma HLS BIND_OP variable = p op = mul impl = fabric" in seen
        assert "#pragma HLS BIND_OP variable = p op = mul impl = dsp" in seen
        assert "core = Mul_LUT" not in seen
    else:
        assert "#pragma HLS RESOURCE variable = p core = Mul_LUT" in seen
        assert "#pragma HLS RESOURCE variable = p core = DSP48" in seen
        assert "BIND_OP" not in seen


@pytest.mark.parametrize("name", [DEFAULT_CASE, "6bit-h2-d8-l2-w48-bram-meanlast-delta-axilite"])
def test_the_built_cpp_is_the_plan_the_estimate_priced(built, name):
    """The build's plan.json is the estimate's plan; every buffer and table of it is declared with its
    size, storage and banks, and every multiplying layer runs the lanes the estimate counted."""
    from flow.estimate import estimate
    from flow.hls.layers import cname

    from flow.training.checkpoint import resolved_config

    cfg, stage, result = built(name)
    cfg = resolved_config(stage / "model", cfg)  # with the binary points training chose
    fw = stage / "hls" / "firmware"
    top, params = (fw / "tsflow_model.cpp").read_text(), (fw / "parameters.h").read_text()
    engine = (fw / "tsflow_engine.h").read_text()
    plan = json.loads((stage / "plan.json").read_text())
    est = estimate(cfg, n_features=1)
    # a wiring check, not an oracle: the build wrote the estimate's own plan and figures (both sides come
    # from estimate()); what the plan says is checked against the C++ below and by hand elsewhere
    assert json.loads((stage / "estimate.json").read_text()) == json.loads(json.dumps(est.to_dict()))
    assert plan == json.loads(json.dumps(est.plan_dict()))
    declared = {var: eval(size) for var, size in re.findall(r"^\s+\w+_t (\w+)\[([\d*]+)\];", top, re.M)}
    for mem in plan["buffers"].values():
        if not mem["internal"] and mem["storage"] != "port":
            assert declared[cname(mem["name"])] == mem["words"], mem["name"]
    _buffer_pragmas_agree(top + engine, plan, cfg.hls.tool)
    lanes = _lanes_in_cpp(engine, params)
    for loop in plan["layers"].values():
        if loop["kind"] in ("mac", "pool") and loop["name"] in lanes:
            assert lanes[loop["name"]] == loop["lanes"], loop["name"]
    assert {n for n, lp in plan["layers"].items() if lp["kind"] in ("mac", "pool")} == set(lanes)
    # a clean project: hls4ml's scripts and zero-input testbench are not left beside tsflow's
    left = {p.name for p in (stage / "hls").iterdir()}
    assert not left & {"build_prj.tcl", "build_opt.tcl", "project.tcl", "vivado_synth.tcl", "build_lib.sh",
                       "tsflow_model_test.cpp"}, left
    assert {"tsflow_tb.cpp", "firmware", "tb_data", "tsflow_model_bridge.cpp"} <= left
    # a dense layer writing a reshaped (wide-word) buffer collects a whole word before each write
    words = _lanes_in_cpp(engine, params, "word")
    for layer, word in words.items():
        stored = plan["buffers"][plan["layers"][layer]["writes"]]
        assert word == (stored["banks"] if stored["reshaped"] else 1), layer
    assert any(words[n] > 1 for n in words) and any(words[n] == 1 for n in words)


INTERFACE_CASES = {DEFAULT_CASE: "tsflow_model", "6bit-h2-d8-l2-w48-bram-meanlast-delta-axilite": "tsflow_ip",
                   "4bit-h2-d32-l1-w24-lutram-axis": "tsflow_ip"}


@pytest.mark.parametrize("name", list(INTERFACE_CASES))
def test_the_top_function_has_the_ports_of_hls_interface_and_reads_the_window_once(built, name):
    cfg, stage, _ = built(name)
    source = (stage / "hls" / "firmware" / "tsflow_model.cpp").read_text()
    core = source[:source.index("\n}\n")]  # hls4ml's function, the layers in order
    plan = json.loads((stage / "plan.json").read_text())
    n_in = plan["buffers"]["input"]["words"]
    if cfg.hls.interface == "ap_vld":
        assert "#pragma HLS INTERFACE ap_vld port=window,delta" in core
        assert "#pragma HLS ARRAY_RESHAPE variable=window complete dim=0" in core
        # the one wide port is read by the input layer in one clock, into registers
        assert plan["layers"]["input"]["lanes"] == n_in and plan["buffers"]["input"]["storage"] == "registers"
        assert "tsflow_ip" not in source
        return
    assert "INTERFACE" not in core and "ARRAY_RESHAPE variable=window" not in core
    assert "#pragma HLS ARRAY_PARTITION variable=window complete dim=0" in core
    wrapper = source[source.index("void tsflow_ip("):]
    pragmas = [ln.strip() for ln in wrapper.splitlines() if "INTERFACE" in ln]
    window = ("#pragma HLS INTERFACE axis port=window" if cfg.hls.interface == "axis"
              else "#pragma HLS INTERFACE s_axilite port=window bundle=control")
    assert pragmas == [window, "#pragma HLS INTERFACE s_axilite port=forecast bundle=control",
                       "#pragma HLS INTERFACE s_axilite port=return bundle=control"]
    # captured once: the window is read in the capture loop only, which runs before the core
    code = [ln for ln in wrapper.splitlines()[1:] if not ln.strip().startswith(("#pragma", "//"))]
    reads = [i for i, ln in enumerate(code) if "window" in ln]
    assert len(reads) == 1
    # then the core, then the one forecast word (a wire: a loop of one trip is no loop)
    assert code.index("Capture:") < reads[0] < code.index("    tsflow_model(x, y);") < \
        code.index("    forecast[0] = tsflow::word_of(y[0]);")
    assert "Forecast:" not in code
    bound = re.search(r"for \(unsigned i = 0; i < ([\d*]+); i\+\+\)", "\n".join(code)).group(1)
    assert eval(bound) == n_in  # every word of the window, one a clock
    header = (stage / "hls" / "firmware" / "tsflow_model.h").read_text()
    assert header.count("void tsflow_ip(") == 1 and header.count("void tsflow_model(") == 1


@pytest.mark.parametrize("name", list(INTERFACE_CASES))
def test_the_vendor_scripts_of_a_real_build_run_under_recording_procs(built, tmp_path, name):
    """tsflow export on a real build: the Vitis HLS script finds every file it adds and sets the top."""
    from .test_export import PRELUDE, hls_run, only

    _, stage, _ = built(name)
    copy = tmp_path / "build"
    shutil.copytree(stage, copy)
    prelude = tmp_path / "prelude.tcl"
    prelude.write_text(PRELUDE)
    done, rec = hls_run(copy, prelude)
    assert done.returncode == 0, done.stderr
    assert only(rec, "set_top") == [INTERFACE_CASES[name]]
    added = [arg for call in rec if call[0] == "add_files" for arg in call[1:] if arg.startswith("hls/")]
    assert added and all((copy / path).exists() for path in added)


def test_a_window_far_outside_the_training_range_saturates_alike_in_keras_the_reference_and_the_cpp(built, tmp_path):
    """integer: auto fits each binary point to the training windows; test windows 50 times larger than
    any of them saturate (the types saturate) in Keras, the integer reference and the C simulation alike."""
    import numpy as np

    from flow.training.checkpoint import load_trained
    from flow.data import load_dataset
    from flow.precision import resolve_precisions
    from flow.reference import output_of, reference_forward
    from keras_models.export import integer_parameters

    cfg, stage, _ = built(DEFAULT_CASE)
    trained = load_trained(stage / "model")
    assert resolve_precisions(trained.cfg).auto and not resolve_precisions(trained.resolved).auto
    ds = load_dataset(trained.cfg)
    x = ds.test.x[:64] * 50.0
    ref = reference_forward(x, integer_parameters(trained.model), resolve_precisions(trained.resolved),
                            trained.resolved.model, ds.target_index)
    window = ref["input"]
    assert (window.mantissa == window.type.max_int).any() and (window.mantissa == window.type.min_int).any()
    assert assert_keras_equals_reference(trained.model, x, ref) > 0
    copy = tmp_path / "hls"
    shutil.copytree(stage / "hls", copy)
    window.mantissa.reshape(len(x), -1).astype(np.int32).tofile(copy / "tb_data" / "inputs.bin")
    output_of(ref).mantissa.reshape(len(x), -1).astype(np.int32).tofile(copy / "tb_data" / "expected.bin")
    csim = run_csim(copy, ref)
    assert csim.samples == 64 and csim.mismatches == 0 and csim.boundary_mismatches == 0 and csim.bit_exact


def test_plan_check_names_each_difference_of_the_written_cpp(tmp_path):
    """The build reads its C++ back against the plan: a second call of the engine, a pragma merging
    copies, a planned loop no longer pipelined, a loop the plan does not have and other trips are each
    named; the project as written passes."""
    import shutil

    from flow.hls.check import PlanMismatch, check_written

    top, _, plan = _project_text(tmp_path, case(window=8, d_model=8, heads=2))
    fw = tmp_path / "vitis" / "firmware"
    check_written(fw, plan, "tsflow_model")  # as written: no difference
    engine = (fw / "tsflow_engine.h").read_text()

    def differences(top_text=top, engine_text=engine, changed=None) -> str:
        folder = tmp_path / "changed"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(fw, folder)
        (folder / "tsflow_model.cpp").write_text(top_text)
        (folder / "tsflow_engine.h").write_text(engine_text)
        with pytest.raises(PlanMismatch) as err:
            check_written(folder, changed or plan, "tsflow_model")
        return str(err.value)

    call = re.search(r"^\s+tsflow_engine\(layer, [^;]*;$", top, re.M).group(0)
    assert "tsflow_engine is called from 2 place(s) in tsflow_model.cpp; the plan says 1" in differences(
        top_text=top.replace(call, call + "\n" + call.replace("(layer,", "(0,")))
    assert "an ALLOCATION pragma" in differences(
        engine_text=engine.replace("#pragma HLS INLINE off", "#pragma HLS INLINE off\n#pragma HLS ALLOCATION "
                                   "function instances=tsflow_mac limit=1", 1))
    assert "tsflow_engine: no loop Clocks pipelined at II=1" in differences(
        engine_text=engine.replace("#pragma HLS PIPELINE II=1\n#pragma HLS LOOP_TRIPCOUNT",
                                   "#pragma HLS LOOP_TRIPCOUNT"))
    assert "a pipelined loop the plan does not have: Extra" in differences(
        engine_text=engine.replace("    tsflow::softmax_rows<", "Extra:\n    for (unsigned i = 0; i < 2; i++) {\n"
                                   "#pragma HLS PIPELINE II=1\n    }\n    tsflow::softmax_rows<", 1))
    more = json.loads(json.dumps(plan))
    more["layers"]["enc0.ffn1"]["trips"] += 1
    assert f"the engine runs enc0.ffn1 for {plan['layers']['enc0.ffn1']['trips']} clocks; the plan " \
           f"{plan['layers']['enc0.ffn1']['trips'] + 1}" in differences(changed=more)


def test_rows_the_lanes_do_not_divide_are_padded_in_the_built_cpp(built):
    """d_model 12, FFN 24 and a window of 13 on 16 lanes: the rows the lanes read are stored 16, 32 and 16
    words apart (worked by hand: ceil(12 / 16) x 16, ceil(24 / 16) x 16, ceil(13 / 16) x 16), the pooled vector
    in BRAM too (one row of 12 in 16 words; a vector without its declaration padded once ended in an error), the buffers
    declared that large, and the C simulation still equals the reference on every boundary (the matrix)."""
    _, stage, _ = built("6bit-h3-d12-l1-w13-auto-padded-rows")
    plan = json.loads((stage / "plan.json").read_text())
    words = {"pos": 13 * 16, "enc0.norm1": 13 * 16, "enc0.norm2": 13 * 16, "enc0.context": 13 * 16,
             "enc0.ffn1": 13 * 32, "enc0.v": 12 * 16, "enc0.softmax": 3 * 13 * 16,
             "pool": 1 * 16}  # rows x stride; the pooled vector (in BRAM) is one row of 12, read by 16 head lanes
    rows = {"enc0.v": 12, "enc0.softmax": 39, "pool": 1}
    assert {n: (b["stride"], b["words"]) for n, b in plan["buffers"].items() if b["stride"]} == {
        n: (w // rows.get(n, 13), w) for n, w in words.items()}
    top = (stage / "hls" / "firmware" / "tsflow_model.cpp").read_text()
    declared = {var: eval(size) for var, size in re.findall(r"^\s+\w+_t (\w+)\[([\d*]+)\];", top, re.M)}
    assert {n: declared[n.replace(".", "_")] for n in words} == words
    params = (stage / "hls" / "firmware" / "parameters.h").read_text()
    assert "static const unsigned x_stride = 32;" in params  # ffn2 reads ffn1's padded rows
