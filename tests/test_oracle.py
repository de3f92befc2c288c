"""Independent oracles: the integer reference against a second implementation written from the contract.

The rest of the suite proves Keras = integer reference = C++ at every boundary; a mistake the three
share (a table formula, a rounding mode that never leaves the YAML) stays green there. Here
``tests/oracle.py`` (exact rationals, every rounding and overflow rule written out, every table computed
from its formula, no production numerics imported) runs the same windows through the same weights and
must give the reference's mantissas at every boundary, for each rounding mode, both overflow modes,
both heads, with and without ``predict_delta``, and a mixed-precision configuration whose per-tensor
modes differ from the global ones. The types the oracle computes with take their widths, integer bits,
signedness and modes from the YAML and the documented defaults (``docs/numerics.md``, "Default widths" and
"Default integer bits"), none from the model (whose types must equal them); the softmax table's size from the YAML and its index precision worked out
by the oracle (and by hand here); the weights and norm statistics are the model's real (float) variables,
which the oracle quantizes itself.

Then the modes' path to the generated C++ (``defines.h``) and to the Keras quantizers, and the meaning
of a few outputs worked by hand: an untrained delta model forecasts the window's last level.
"""
import itertools
import math
import re
from fractions import Fraction

import numpy as np
import pytest

from flow.config import parse_config
from flow.data import load_dataset
from flow.precision import resolve_precisions
from flow.reference import reference_forward
from keras_models.builder import build_model
from keras_models.export import integer_parameters

from . import oracle
from .conftest import small_raw

BITS, WEIGHT_INTEGER, ACT_INTEGER = 6, 1, 2
INPUT_BITS, OUTPUT_BITS = 12, 16  # quantization.input.bits / output.bits defaults (docs/numerics.md)
# quantization.input.integer / output.integer, set in the YAML (the values an ``auto`` point holds before
# training, flow.precision.PRIOR_INTEGER, so the numbers are those of an untrained user's model)
INPUT_INTEGER, OUTPUT_INTEGER = 4, 6
WINDOW = 8


def raw_config(rounding="conv", overflow="sat", head="mean", predict_delta=False, layers=None, patch=None):
    """The user's route: a YAML mapping. d_model 4, one layer; ``mean`` uses 1 head (head_dim 4, score shift
    1), ``mean_last`` 2 heads (head_dim 2: the tie of the score shift) and differenced inputs (2 channels,
    the target's level last); without delta a 16-entry exp table, so the index drops score bits (rounded)
    and differences run past the table's end."""
    raw = small_raw(d_model=4, heads=2 if head == "mean_last" else 1, ffn=8, head=head, predict_delta=predict_delta)
    raw["data"].update(window=WINDOW, inputs="differences" if head == "mean_last" else "levels")
    if patch:
        raw["model"]["patch"] = patch
    raw["quantization"] = {"bits": BITS, "weight_integer": WEIGHT_INTEGER, "act_integer": ACT_INTEGER,
                           "input": {"bits": INPUT_BITS, "integer": INPUT_INTEGER},
                           "output": {"bits": OUTPUT_BITS, "integer": OUTPUT_INTEGER},
                           "rounding": rounding, "overflow": overflow,
                           "softmax": {"table_size": 256 if predict_delta else 16}, "layers": layers or {}}
    return raw


# per-tensor modes (and widths, and one integer) that differ from the global rnd/sat
MIXED_LAYERS = {
    "enc0.scores": {"output": {"rounding": "trn", "overflow": "wrap"}},
    "pos": {"table": {"integer": 1, "overflow": "wrap"}},  # cos(0) = 1 does not fit s6.1: it wraps to -1
    "enc0.ffn2": {"weight": {"bits": 4, "rounding": "conv"}, "output": {"rounding": "trn"}},
    "enc0.norm1": {"scale": {"rounding": "trn"}, "shift": {"overflow": "wrap"}},
    "enc0.softmax": {"output": {"bits": 8}, "table": {"bits": 7}},
    "head": {"output": {"rounding": "trn", "overflow": "wrap"}},
}
CASES = {f"{r}-{o}-{h}-{'delta' if d else 'nodelta'}": raw_config(r, o, h, d)
         for r, o, h, d in itertools.product(("conv", "rnd", "trn"), ("sat", "wrap"), ("mean", "mean_last"),
                                             (False, True))}
CASES["mixed-rnd-sat-mean_last-delta"] = raw_config("rnd", "sat", "mean_last", True, MIXED_LAYERS)
# patches of 3 steps, 1 apart (overlapping: 6 tokens) and of 2 steps, 2 apart (tiling: 4 tokens), each of
# every channel of its steps
CASES["patch3x1-conv-sat-mean_last-delta"] = raw_config("conv", "sat", "mean_last", True,
                                                        patch={"length": 3, "stride": 1})
CASES["patch2x2-trn-wrap-flatten-nodelta"] = raw_config("trn", "wrap", "flatten", False,
                                                        patch={"length": 2, "stride": 2})
CASES["rnd-sat-flatten-delta"] = raw_config("rnd", "sat", "flatten", True)


def tokens(raw: dict) -> int:
    """The encoder's sequence: the window's steps, or (window - length) / stride + 1 patches."""
    patch = raw["model"].get("patch")
    return WINDOW if patch is None else (WINDOW - patch["length"]) // patch["stride"] + 1


# ---- the types the YAML asks for -----------------------------------------------------------------------

def expected_width(raw: dict, layer: str, role: str) -> int:
    """docs/numerics.md, "Default widths": every weight, activation, score, norm scale, positional table and
    exp table is ``bits`` wide, biases and norm shifts twice that, the window ``input.bits``, the forecast
    ``output.bits``, the probabilities max(bits, ceil(log2 window) + 3); ``quantization.layers`` overrides."""
    q = raw["quantization"]
    override = q.get("layers", {}).get(layer, {}).get(role, {})
    if "bits" in override:
        return override["bits"]
    if layer == "input":
        return INPUT_BITS
    if layer in ("head", "delta") and role == "output":
        return OUTPUT_BITS
    if layer.endswith("softmax"):
        return q["bits"] if role == "table" else max(q["bits"], math.ceil(math.log2(tokens(raw))) + 3)
    return 2 * q["bits"] if role in ("bias", "shift") else q["bits"]


def expected_integer(raw: dict, layer: str, role: str) -> tuple[int, bool]:
    """docs/numerics.md, "Default integer bits" (with ``weight_integer`` and ``act_integer`` set, as the
    oracle's configs set them): weights at ``weight_integer``, the norms' scales one more; biases, norm shifts
    and every activation at ``act_integer``, the attention scores one more, ffn1's ReLU output one fewer and
    unsigned (one more fraction bit); the positional table 2; the exp table 1 and the probabilities 0,
    both unsigned; the window and the forecast (head, and delta) at ``input.integer`` / ``output.integer``.
    Everything else signed. ``quantization.layers.<layer>.<role>.integer`` overrides the integer bits,
    never the signedness. Returns (integer bits, signed)."""
    q = raw["quantization"]
    wi, ai = q["weight_integer"], q["act_integer"]
    if layer == "input":
        integer, signed = q["input"]["integer"], True
    elif layer in ("head", "delta") and role == "output":
        integer, signed = q["output"]["integer"], True
    elif layer.endswith("softmax"):
        integer, signed = (1, False) if role == "table" else (0, False)
    elif layer == "pos" and role == "table":
        integer, signed = 2, True
    elif role in ("weight", "scale"):
        integer, signed = (wi + 1 if role == "scale" else wi), True
    elif layer.endswith("scores"):
        integer, signed = ai + 1, True
    elif layer.endswith("ffn1") and role == "output":
        integer, signed = ai - 1, False
    else:  # bias, shift, every other activation
        integer, signed = ai, True
    override = q.get("layers", {}).get(layer, {}).get(role, {})
    return override.get("integer", integer), signed


def expected_modes(raw: dict, layer: str, role: str) -> tuple[str, str]:
    q = raw["quantization"]
    override = q.get("layers", {}).get(layer, {}).get(role, {})
    return override.get("rounding", q["rounding"]), override.get("overflow", q["overflow"])


def model_types(model, cfg) -> dict:
    """layer -> role -> the model's FixedType, read from the Keras layers (the softmax's exp table as
    (fraction bits, table size): the layer keeps its entries' precision, not a type)."""
    types = {"input": {"output": model.get_layer("input_quant").out_type}}
    for name in ("embed", "pos", "pool", "head", "delta"):
        if (name == "delta" and not cfg.model.predict_delta) or (name == "pool" and cfg.model.head == "flatten"):
            continue
        layer = model.get_layer(name)
        types[name] = dict(layer.types) if hasattr(layer, "types") else {"output": layer.out_type}
    for i in range(cfg.model.layers):
        p = f"enc{i}."
        attn = model.get_layer(p + "attn")
        for n in ("q", "k", "v", "o", "scores", "context"):
            types[p + n] = dict(attn.types[n])
        types[p + "softmax"] = {"output": attn.softmax_spec.prob, "table": attn.softmax_spec}
        for n in ("add1", "add2"):
            types[p + n] = {"output": model.get_layer(p + n).out_type}
        for n in ("norm1", "norm2", "ffn1", "ffn2"):
            types[p + n] = dict(model.get_layer(p + n).types)
    return types


def oracle_types(raw: dict, model, cfg) -> dict:
    """The oracle's types: width, integer bits, signedness and modes from the YAML and the documented
    defaults (``expected_width``, ``expected_integer``, ``expected_modes``), none from the model. A model
    type that differs from the derived one fails here, naming it (the exp table: its entries' fraction bits)."""
    types, wrong = {}, []
    for layer, roles in model_types(model, cfg).items():
        types[layer] = {}
        for role, t in roles.items():
            width = expected_width(raw, layer, role)
            integer, signed = expected_integer(raw, layer, role)
            rounding, overflow = expected_modes(raw, layer, role)
            fx = types[layer][role] = oracle.Fx(width, integer, signed, rounding, overflow)
            if layer.endswith("softmax") and role == "table":  # the layer keeps the entries' precision, not a type
                if t.exp_frac != width - integer:
                    wrong.append(f"{layer}.{role}: the model's exp table has {t.exp_frac} fraction bits, the "
                                 f"YAML and the defaults ask for {width - integer} (u{width}.{integer})")
                continue
            if (t.width, t.integer, t.signed, t.rounding, t.overflow) != (width, integer, signed, rounding, overflow):
                wrong.append(f"{layer}.{role}: the model has {t.describe()}, the YAML and the defaults ask for {fx}")
    assert not wrong, "\n".join(wrong)
    return types


def oracle_model(raw: dict, model, cfg, n_features: int, target_index: int, types=None) -> oracle.OracleModel:
    dense, norms, softmax = {}, {}, {}
    for name in ["embed", "head"] + [f"enc{i}.{n}" for i in range(cfg.model.layers) for n in ("ffn1", "ffn2")]:
        layer = model.get_layer(name)
        dense[name] = (layer.kernel.numpy().tolist(), layer.bias.numpy().tolist())
    for i in range(cfg.model.layers):
        attn = model.get_layer(f"enc{i}.attn")
        for n in ("q", "k", "v", "o"):
            dense[f"enc{i}.{n}"] = (attn.proj[n].kernel.numpy().tolist(), attn.proj[n].bias.numpy().tolist())
        # the YAML's table (the index precision too, where it sets one; else the oracle works out the default)
        softmax[i] = {"table_size": raw["quantization"]["softmax"]["table_size"],
                      "index_frac": raw["quantization"]["softmax"].get("index_frac")}
        for n in ("norm1", "norm2"):
            layer = model.get_layer(f"enc{i}.{n}")
            norms[f"enc{i}.{n}"] = dict(gamma=layer.gamma.numpy().tolist(), beta=layer.beta.numpy().tolist(),
                                        mean=layer.moving_mean.numpy().tolist(),
                                        var=layer.moving_var.numpy().tolist(), epsilon=layer.epsilon)
    m = cfg.model
    return oracle.OracleModel(
        window=cfg.data.window, n_features=n_features, d_model=m.d_model, heads=m.heads, layers=m.layers,
        head=m.head, predict_delta=m.predict_delta, target_index=target_index,
        patch=(raw["model"]["patch"]["length"], raw["model"]["patch"]["stride"]) if "patch" in raw["model"] else None,
        types=types if types is not None else oracle_types(raw, model, cfg), dense=dense, norms=norms,
        softmax=softmax)


def with_modes(types: dict, rounding=None, overflow=None) -> dict:
    """Every type of the oracle with another rounding or overflow mode (the exp table's does not matter)."""
    return {layer: {role: oracle.Fx(t.width, t.integer, t.signed, rounding or t.rounding, overflow or t.overflow)
                    for role, t in roles.items()} for layer, roles in types.items()}


def oracle_trace(om: oracle.OracleModel, windows: np.ndarray) -> dict:
    """name -> (type, int64 mantissas over the windows), stacked as the reference stacks them."""
    traces = [oracle.forward(w.tolist(), om) for w in windows]
    return {name: (traces[0][name][0], np.array([tr[name][1] for tr in traces], dtype=np.int64))
            for name in traces[0]}


# ---- building the models -------------------------------------------------------------------------------

_DATA = {}


def windows_for(cfg) -> tuple[np.ndarray, int]:
    """Six test windows: three as they are, three six times larger (beyond the input type's range, and
    past most tensors' ranges downstream, so saturation and wrap-around both happen)."""
    key = cfg.data.inputs
    if key not in _DATA:
        ds = load_dataset(cfg)
        x = ds.test.x[[0, 97, 211]]
        _DATA[key] = (np.concatenate([x, 6.0 * x]), ds.target_index)
    return _DATA[key]


def random_model(cfg, n_features: int, target_index: int, seed: int):
    """The quantized Keras model as a user's config builds it, with weights spread so that every layer
    rounds, some weights fall outside their types and the norms have statistics of their own."""
    model = build_model(cfg, resolve_precisions(cfg), True, n_features, target_index)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for var in layer.weights:
            shape, name = var.shape, var.name.split("/")[-1].split(":")[0]
            if name == "kernel":
                value = rng.uniform(-1.3, 1.3, shape)
            elif name == "bias":
                value = rng.uniform(-0.7, 0.7, shape)
            elif name == "gamma":
                value = rng.uniform(0.4, 1.9, shape)
            elif name in ("beta", "moving_mean"):
                value = rng.uniform(-0.8, 0.8, shape)
            elif name == "moving_var":
                value = rng.uniform(0.2, 2.5, shape)
            else:
                raise AssertionError(f"unexpected variable {var.name}")
            var.assign(value)
    return model


def prepared(name: str):
    raw = CASES[name]
    cfg = parse_config(raw)
    x, target_index = windows_for(cfg)
    model = random_model(cfg, x.shape[-1], target_index, seed=sorted(CASES).index(name))
    return raw, cfg, x, target_index, model


# ---- the oracle against the reference ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_every_boundary_equals_the_oracle(name):
    raw, cfg, x, target_index, model = prepared(name)
    params = integer_parameters(model)
    ref = reference_forward(x, params, resolve_precisions(cfg), cfg.model, target_index)
    om = oracle_model(raw, model, cfg, x.shape[-1], target_index)

    # the table index's precision, worked by hand from docs/numerics.md (the table spans the score range):
    # scores s6.3 (bits 6, act_integer 2, one integer bit more), 16 entries: min(3 fraction bits,
    # log2(16) - 3 integer bits) = 1, so the index drops 2 score bits (rounded); 256 entries: min(3, 8 - 3) = 3
    table_size = raw["quantization"]["softmax"]["table_size"]
    want_index_frac = {16: 1, 256: 3}[table_size]
    assert om.t("enc0.scores").frac == 3 and om.t("enc0.scores").integer == 3
    assert model.get_layer("enc0.attn").softmax_spec.index_frac == want_index_frac
    assert om.index_frac(0) == want_index_frac

    # the constants the model deploys are the oracle's, computed from their formulas
    for layer in om.dense:
        weight, bias = om.weight_mantissas(layer)
        assert np.array_equal(params[layer]["weight"], weight), f"{layer}: weights quantized differently"
        assert np.array_equal(params[layer]["bias"], bias), f"{layer}: biases quantized differently"
    assert np.array_equal(params["pos"]["table"], om.pos_table()), "the positional table is not its formula"
    for layer in om.norms:
        scale, shift = om.norm(layer)
        st, ht = om.t(layer, "scale"), om.t(layer, "shift")
        assert params[layer]["scale"].tolist() == [v / st.step for v in scale], f"{layer}: scale"
        assert params[layer]["shift"].tolist() == [v / ht.step for v in shift], f"{layer}: shift"

    got = oracle_trace(om, x)
    assert list(got) == list(ref), "the oracle and the reference name other boundaries"
    for layer, (t, mantissas) in got.items():
        b = ref[layer]
        assert (b.type.width, b.type.integer, b.type.signed, b.type.rounding, b.type.overflow) == \
            (t.width, t.integer, t.signed, t.rounding, t.overflow), f"{layer}: reference type {b.type.describe()}, oracle {t}"
        assert mantissas.shape == b.mantissa.shape, layer
        bad = int(np.sum(mantissas != b.mantissa))
        assert bad == 0, f"{layer}: {bad} of {mantissas.size} mantissas differ between the oracle and the reference"
    out_name = oracle.output_name(om)
    out_t, out_m = got[out_name]
    keras = model.predict(x, verbose=0)
    assert np.array_equal(keras * 2.0 ** out_t.frac, out_m), "the Keras model's forecast is not the oracle's"

    # the windows tell the modes apart: another rounding, or the other overflow, gives other boundaries,
    # so a mode lost on the way to the reference would show above
    others = [with_modes(om.types, rounding=r) for r in oracle.ROUNDINGS if r != raw["quantization"]["rounding"]]
    others.append(with_modes(om.types, overflow={"sat": "wrap", "wrap": "sat"}[raw["quantization"]["overflow"]]))
    for types in others:
        other = oracle_trace(oracle_model(raw, model, cfg, x.shape[-1], target_index, types=types), x)
        assert any(not np.array_equal(other[n][1], got[n][1]) for n in got), "these windows cannot tell the modes apart"
    # and the forecasts are not all one saturated value
    assert len(np.unique(out_m)) >= 4


def test_the_mixed_case_reaches_its_per_tensor_modes_and_the_wrapped_table_entry():
    """The per-tensor settings of MIXED_LAYERS are where the numbers come from: cos(0) = 1 in the s6.1
    positional table (5 fraction bits: 1 is mantissa 32, one past the largest, 31) wraps to -32 = -1.0, and
    the trn scores of enc0 are floors of Q.K^T * 2^-1 (head_dim 2: the shift of the tie is 1)."""
    raw, cfg, x, target_index, model = prepared("mixed-rnd-sat-mean_last-delta")
    om = oracle_model(raw, model, cfg, x.shape[-1], target_index)
    assert om.t("pos", "table") == oracle.Fx(6, 1, True, "rnd", "wrap")
    assert om.pos_table()[0][1] == -32 and om.pos_table()[0][3] == -32  # cos(0) at columns 1 and 3
    assert integer_parameters(model)["pos"]["table"][0].tolist() == [0, -32, 0, -32]
    tr = oracle.forward(x[0].tolist(), om)
    st = om.t("enc0.scores")
    assert st == oracle.Fx(BITS, ACT_INTEGER + 1, True, "trn", "wrap")
    q, k = tr.value("enc0.q"), tr.value("enc0.k")
    exact = (q[3][0] * k[5][0] + q[3][1] * k[5][1]) / 2  # head 0, query step 3, key step 5
    assert tr["enc0.scores"][1][0][3][5] == oracle.fit(math.floor(exact / st.step), st)


# ---- the oracle's own rules, by hand ---------------------------------------------------------------------

@pytest.mark.parametrize("x, conv, rnd, trn", [
    (Fraction(5, 2), 2, 3, 2), (Fraction(7, 2), 4, 4, 3), (Fraction(-5, 2), -2, -2, -3), (Fraction(-7, 2), -4, -3, -4),
    (Fraction(13, 10), 1, 1, 1), (Fraction(-13, 10), -1, -1, -2), (Fraction(17, 10), 2, 2, 1)])
def test_the_oracles_rounding_rules(x, conv, rnd, trn):
    assert [oracle.round_to_integer(x, r) for r in ("conv", "rnd", "trn")] == [conv, rnd, trn]


def test_the_oracles_overflow_rules():
    s4 = oracle.Fx(4, 2, True, "conv", "sat")  # mantissas -8..7
    w4 = oracle.Fx(4, 2, True, "conv", "wrap")
    u4 = oracle.Fx(4, 2, False, "conv", "wrap")  # 0..15
    assert [oracle.fit(m, s4) for m in (8, -9, 7)] == [7, -8, 7]
    assert [oracle.fit(m, w4) for m in (8, -9, 23)] == [-8, 7, 7]  # 8 - 16, -9 + 16, 23 - 16
    assert [oracle.fit(m, u4) for m in (16, -1)] == [0, 15]


# ---- the modes' way from the YAML to the C++ and to the Keras quantizers ----------------------------------

# ap_[u]fixed<W,I[,Q[,O[,N]]]>: the C++ defaults of the modes are AP_TRN and AP_WRAP (hls4ml leaves them out)
TYPEDEF = re.compile(r"typedef (ap_u?fixed)<(\d+),(-?\d+)(?:,(AP_\w+))?(?:,(AP_\w+))?(?:,0)?> (\w+);")
AP_ROUNDING = {"conv": "AP_RND_CONV", "rnd": "AP_RND", "trn": "AP_TRN"}
AP_OVERFLOW = {"sat": "AP_SAT", "wrap": "AP_WRAP"}


@pytest.mark.parametrize("rounding, overflow", [("trn", "wrap"), ("rnd", "sat"), ("conv", "wrap")])
def test_the_yaml_modes_reach_the_generated_types(tmp_path, rounding, overflow):
    """The hls4ml project's ``defines.h`` written from a config (no C++ compiled): every tensor typedef
    carries the YAML's width and modes, the overridden tensors theirs. The exp table is the exception: its
    entries are constants written as exact mantissas (its modes never act)."""
    import hls4ml

    from flow.hls.backend import ensure_registered

    layers = {"enc0.ffn2": {"output": {"rounding": "rnd" if rounding != "rnd" else "trn"}},
              "enc0.q": {"weight": {"overflow": "sat" if overflow == "wrap" else "wrap"}}}
    raw = raw_config(rounding, overflow, "mean", True, layers)
    cfg = parse_config(raw)
    model = build_model(cfg, resolve_precisions(cfg), True, 1, 0)
    ensure_registered()
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="TSFlowVitis")
    hls_model = hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="TSFlowVitis",
                                                           output_dir=str(tmp_path / "prj"))
    writer = hls_model.config.backend.writer  # the two steps of hls_model.write() that give defines.h
    writer.write_project_dir(hls_model)
    writer.write_defines(hls_model)
    text = (tmp_path / "prj" / "firmware" / "defines.h").read_text()
    found = {name: (kind, width, integer, q or "AP_TRN", o or "AP_WRAP")
             for kind, width, integer, q, o, name in TYPEDEF.findall(text)}
    assert len(found) == text.count("typedef ap_")  # every typedef read
    tensors = {("input", "output"): "input_t", ("embed", "output"): "embed_t", ("embed", "weight"): "embed_weight_t",
               ("embed", "bias"): "embed_bias_t", ("pos", "output"): "pos_t", ("pos", "table"): "pos_table_t",
               ("enc0.softmax", "output"): "enc0_softmax_t", ("pool", "output"): "pool_t",
               ("head", "weight"): "head_weight_t", ("head", "bias"): "head_bias_t", ("head", "output"): "head_t",
               ("delta", "output"): "result_t"}
    for n in ("q", "k", "v", "o", "ffn1", "ffn2"):
        tensors.update({(f"enc0.{n}", "output"): f"enc0_{n}_t", (f"enc0.{n}", "weight"): f"enc0_{n}_weight_t",
                        (f"enc0.{n}", "bias"): f"enc0_{n}_bias_t"})
    for n in ("scores", "context", "add1", "add2"):
        tensors[(f"enc0.{n}", "output")] = f"enc0_{n}_t"
    for n in ("norm1", "norm2"):
        tensors.update({(f"enc0.{n}", "output"): f"enc0_{n}_t", (f"enc0.{n}", "scale"): f"enc0_{n}_scale_t",
                        (f"enc0.{n}", "shift"): f"enc0_{n}_shift_t"})
    wrong = []
    for (layer, role), typedef in tensors.items():
        q, o = expected_modes(raw, layer, role)
        want = (AP_ROUNDING[q], AP_OVERFLOW[o])
        assert typedef in found, f"defines.h has no {typedef} ({layer}.{role})"
        if found[typedef][3:5] != want:
            wrong.append(f"{typedef} ({layer}.{role}): {found[typedef][3:5]}, the YAML asks for {want}")
        if int(found[typedef][1]) != expected_width(raw, layer, role):
            wrong.append(f"{typedef} ({layer}.{role}): width {found[typedef][1]}")
    assert not wrong, "\n".join(wrong)
    assert found["enc0_ffn2_t"][3] != found["enc0_ffn1_t"][3] and found["enc0_q_weight_t"][4] != found["enc0_k_weight_t"][4]


# a value in the middle of each case, in steps of 1/16 (an s6.2 type: 4 fraction bits, mantissas -32..31):
# x, then what conv / rnd / trn make of it, then sat / wrap for the overflowing ones
TIES = [(2.5, 2, 3, 2), (3.5, 4, 4, 3), (-2.5, -2, -2, -3), (-3.5, -4, -3, -4), (7.25, 7, 7, 7)]
OVERFLOWS = [(32.0, 31, -32), (-33.0, -32, 31), (40.0, 31, -24)]  # 40 - 64 = -24; -33 + 64 = 31


@pytest.mark.parametrize("rounding", ["conv", "rnd", "trn"])
@pytest.mark.parametrize("overflow", ["sat", "wrap"])
def test_the_yaml_modes_reach_the_keras_quantizers(rounding, overflow):
    """A residual add of a model built from the YAML (s6.2: ``bits`` 6, ``act_integer`` 2) rounds ties and
    overflows by the YAML's modes, worked by hand in TIES and OVERFLOWS (in steps of 2^-4)."""
    import tensorflow as tf

    cfg = parse_config(raw_config(rounding, overflow))
    model = build_model(cfg, resolve_precisions(cfg), True, 1, 0)
    add = model.get_layer("enc0.add1")
    column = {"conv": 1, "rnd": 2, "trn": 3}[rounding]
    steps = [row[0] for row in TIES] + [row[0] for row in OVERFLOWS]
    want = [row[column] for row in TIES] + [row[1 if overflow == "sat" else 2] for row in OVERFLOWS]
    a = tf.constant(np.array(steps)[None, :, None] / 16, tf.float64)
    got = add([a, tf.zeros_like(a)]).numpy().ravel() * 16
    assert got.tolist() == want


# ---- meaning ---------------------------------------------------------------------------------------------

def test_an_untrained_delta_model_forecasts_the_windows_last_level():
    """predict_delta with an untrained head (zero kernel and bias) is persistence: the forecast is the
    last level of the window as the input type holds it, whatever the rest of the window and of the
    network. The input type is s12.4 (12 bits; before training an ``auto`` point holds the prior 4
    integer bits: 8 fraction bits, steps of 1/256, range -8 to 8 - 1/256), rounding ``conv`` (the YAML's
    default); the forecast type s16.6 holds each of these values exactly:
        1.234 * 256 = 315.904          -> 316 -> 316/256 = 1.234375
        -0.5 * 256 = -128               -> -0.5
        0.001953125 * 256 = 0.5         a tie: to even, 0 -> 0.0
        0.005859375 * 256 = 1.5         a tie: to even, 2 -> 2/256 = 0.0078125
        3.999 * 256 = 1023.744          -> 1024 -> 4.0
        9.5 * 256 = 2432 > 2047         saturated: 2047/256 = 7.99609375
    """
    raw = small_raw(d_model=4, ffn=8, predict_delta=True)
    raw["quantization"] = {"bits": 6}
    cfg = parse_config(raw)
    model = build_model(cfg, resolve_precisions(cfg), True, 1, 0)
    rng = np.random.default_rng(3)
    for layer in model.layers:  # everything but the head random: the head alone decides
        if layer.name != "head":
            for var in layer.trainable_weights:
                var.assign(rng.uniform(-1.0, 1.0, var.shape))
    last = [1.234, -0.5, 0.001953125, 0.005859375, 3.999, 9.5]
    x = rng.uniform(-3, 3, (len(last), cfg.data.window, 1))
    x[:, -1, 0] = last
    from tensorflow import keras

    pooled, head, forecast = keras.Model(model.input, [model.get_layer(n).output for n in ("pool", "head", "delta")]
                                         ).predict(x, verbose=0)
    assert forecast.ravel().tolist() == [1.234375, -0.5, 0.0, 0.0078125, 4.0, 7.99609375]
    assert np.all(head == 0.0) and np.any(pooled != 0.0)  # the network ran; the head alone adds nothing
