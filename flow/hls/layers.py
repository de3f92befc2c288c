"""hls4ml extension: IR layers, Keras-v2 handlers and C++ templates for the tsflow Transformer.

Every Keras layer of ``keras_models`` becomes one IR layer here whose C++ lives in
``hls_templates/tsflow_layers.h``. The handlers read the integer parameters and fixed-point types
through the Keras layers themselves (``keras_models.export``), so the weight arrays written into
the project are the mantissas the reference forward uses. Accumulators are sized by interval
arithmetic over the actual weights (dense) or the operand types (attention, pooling), so no sum
ever rounds; the casts to the output types are the only rounding points, as in the contract.

hls4ml's own sequence layers are not used: its Dense on a (steps, features) input is rewritten to
a pointwise Conv1D that drops the quantizers, and its io_parallel layers partition every array into
registers, which leaves no room for the per-buffer storage and per-layer parallelism asked for here.
"""
from __future__ import annotations

import numpy as np
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.layers import Layer
from hls4ml.model.types import FixedPrecisionType

from keras_models.export import layer_parameters

from ..fixedpoint import FixedType, exact_sum_type, product_accumulator
from ..tables import POOL_RECIPROCAL_FRAC, reciprocal_constant, score_shift
from .engine import LANES_STRUCT, lanes_header, program_call
from .keys import settings_attributes
from .plan import lanes_sum_width
from .schedule import DENSE_FIELDS, cname, is_fused, producer, program_of

HEADER = "nnet_utils/tsflow_layers.h"
TRACE_HEADER = "nnet_utils/tsflow_trace.h"
_ROUNDING = {"conv": "RND_CONV", "rnd": "RND", "trn": "TRN"}
_OVERFLOW = {"sat": "SAT", "wrap": "WRAP"}
MUL_IMPL = {"auto": 0, "dsp": 1, "lut": 2}  # tsflow::MUL_AUTO / MUL_DSP / MUL_LUT


def precision_of(t: FixedType) -> FixedPrecisionType:
    return FixedPrecisionType(t.width, t.integer, t.signed, _ROUNDING[t.rounding], _OVERFLOW[t.overflow])


def dense_accumulator(x: FixedType, w: np.ndarray, b: np.ndarray, tw: FixedType, tb: FixedType) -> FixedType:
    """Accumulator for b + sum_i x_i w_i over every partial sum, from the actual weights."""
    f_prod = x.frac + tw.frac
    f = max(f_prod, tb.frac)
    w = w.astype(object)
    hi_terms = np.maximum(np.maximum(w * x.max_int, w * x.min_int), 0).sum(axis=0) * 2 ** (f - f_prod)
    lo_terms = np.minimum(np.minimum(w * x.max_int, w * x.min_int), 0).sum(axis=0) * 2 ** (f - f_prod)
    bias = b.astype(object) * 2 ** (f - tb.frac)
    return exact_sum_type(min(bias + lo_terms), max(bias + hi_terms), f)


class TSLayer(Layer):
    """Base IR layer: one output buffer, optional internal buffers and integer tables.

    Attributes set by the handlers: ``out_type`` (FixedType), ``out_shape``, ``tables``
    ({role: (mantissas, FixedType)}), ``buffers`` ({boundary name: (shape, FixedType)}),
    ``tsflow_config`` (the input layer: the model's tsflow configuration); from the hls4ml layer config:
    the settings of ``flow.hls.settings``; from the plan pass: ``tsflow_plan``
    (``flow.hls.plan.HLSPlan.to_dict()``: lanes, banks and storage).
    """

    def initialize(self):
        out = self.get_attr("out_name", self.name)
        self.add_output_variable(self.get_attr("out_shape"), var_name=cname(out), type_name=cname(out) + "_t",
                                 precision=precision_of(self.get_attr("out_type")))
        for buf, (shape, t) in self.get_attr("buffers", {}).items():
            self.add_output_variable(shape, out_name=buf, var_name=cname(buf), type_name=cname(buf) + "_t",
                                     precision=precision_of(t))
            self.set_attr(cname(buf) + "_t", self.get_output_variable(buf).type)  # one result_t per layer: each
        self.set_attr(cname(out) + "_t", self.get_output_variable().type)
        for role, (mantissas, t) in self.get_attr("tables", {}).items():
            self.add_weights_variable(name=role, var_name=cname(role), type_name=cname(role) + "_t",
                                      precision=precision_of(t), data=np.asarray(mantissas, np.float64) * t.lsb)

    def place(self, plan: dict) -> None:
        """Give the layer the design: every buffer and table it declares gets its banks and storage."""
        self.set_attr("tsflow_plan", plan)
        out = self.get_attr("out_name", self.name)
        for name, var in [(out, self.get_output_variable()),
                          *((buf, self.get_output_variable(buf)) for buf in self.get_attr("buffers", {}))]:
            var.tsflow_memory = mem = plan["buffers"].get(name)
            if mem is None:
                continue
            if len(var.shape) < 2:  # a vector (the pooled one, the output port): one row
                var.tsflow_natural = (1, var.shape[0])
                if mem["stride"]:  # padded to whole chunks of its reader's lanes, as a row of a matrix is
                    var.shape = [mem["stride"]]
                continue
            # traced [rows][cols]: v as [step][d] (stored [d][step]), the probabilities as [head * query][key]
            var.tsflow_natural = (var.shape[0], var.shape[1]) if mem["transposed"] else \
                (int(np.prod(var.shape[:-1])), var.shape[-1])
            if mem["stride"]:  # rows padded to whole chunks of their readers' lanes (flow.hls.plan._stride)
                var.shape = [var.shape[1], mem["stride"]] if mem["transposed"] else [*var.shape[:-1], mem["stride"]]
        for role in self.get_attr("tables", {}):
            weight = self.get_weights(role)
            weight.tsflow_memory = mem = plan["roms"][role]
            if mem["stride"] and weight.shape[-1] != mem["stride"]:  # rows padded with zeros to whole chunks
                data = np.zeros((weight.shape[0], mem["stride"]))
                data[:, :weight.shape[-1]] = weight.data
                weight.data, weight.shape, weight.data_length = data, list(data.shape), data.size

    def plan(self) -> dict:
        return self.get_attr("tsflow_plan")

    def loop(self, name: str | None = None) -> dict:
        return self.plan()["layers"][name or self.name]

    def lanes(self, name: str | None = None) -> int:
        return int(self.loop(name)["lanes"])

    def var(self, name: str) -> str:
        main = self.get_attr("out_name", self.name) == name
        return self.get_output_variable(None if main else name).name


class TSCast(TSLayer):
    _expected_attributes = settings_attributes("Storage", "Parallelism")


class TSDense(TSLayer):
    _expected_attributes = settings_attributes("Storage", "Parallelism", "Multiplier", "WeightStorage")


class TSPositional(TSLayer):
    _expected_attributes = settings_attributes("Storage", "WeightStorage")


class TSAdd(TSLayer):
    pass


class TSAffine(TSLayer):
    _expected_attributes = settings_attributes("Storage", "Multiplier", "WeightStorage")


class TSPool(TSLayer):
    _expected_attributes = settings_attributes("Storage", "Parallelism", "Multiplier")


class TSLast(TSLayer):
    pass


class TSConcat(TSLayer):
    pass


class TSAttention(TSLayer):
    _expected_attributes = settings_attributes("Storage", "Parallelism", "Multiplier", "WeightStorage")


# ---- Keras v2 handlers -------------------------------------------------------------------------

def _keras_layer(reader, name):
    return reader.model.get_layer(name)


def _base(keras_layer, input_names, class_name, out_type, out_shape) -> dict:
    return {"name": keras_layer["config"]["name"], "class_name": class_name, "inputs": input_names,
            "out_type": out_type, "out_shape": list(out_shape)}


def _dense_fields(layer, params: dict, x_type: FixedType, n_steps: int, x_step: int | None = None) -> dict:
    """``x_step``: words between the first inputs of two output rows (a row of n_in, or a patch's stride)."""
    w, b = params["weight"], params["bias"]
    t = layer.types
    return {"n_steps": n_steps, "n_in": w.shape[0], "n_out": w.shape[1], "x_step": x_step or w.shape[0],
            "relu": bool(getattr(layer, "relu", False)),
            "accum": dense_accumulator(x_type, w, b, t["weight"], t["bias"]), "product_frac": x_type.frac + t["weight"].frac,
            # stored transposed, w[o][i]: the P lanes of one output read P consecutive i, which a cyclic
            # partition by P puts in P different banks whatever n_out is
            "tables": {layer.name + ".weight": (w.T, t["weight"]), layer.name + ".bias": (b, t["bias"])}}


def _input_type(reader, layer):
    """Fixed-point type of the tensor feeding ``layer`` (its inbound Keras layer's output type)."""
    src = layer.input._keras_history.layer
    if hasattr(src, "out_type"):
        return src.out_type
    if hasattr(src, "types"):
        return src.types["output"]
    return _input_type(reader, src)


def parse_cast(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    shape = input_shapes[0][1:]
    d = _base(keras_layer, input_names, "TSCast", layer.out_type, shape)
    d.update(n_rows=1, n_cols=int(np.prod(shape)), out_name="input")  # the boundary name; "input" is reserved
    d["tsflow_config"] = getattr(reader.model, "tsflow_config", None)  # the plan pass reads it
    return d, input_shapes[0]


def parse_dense(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    params = layer_parameters(layer)[layer.name]
    shape_in = input_shapes[0][1:]
    n_steps, x_step = shape_in[0] if len(shape_in) == 2 else 1, None
    if layer.patch:  # tokens of `length` steps, `stride` steps apart, read in place from the window
        length, stride = layer.patch
        n_steps, x_step = (n_steps - length) // stride + 1, stride * shape_in[-1]
    if layer.flatten:  # the flatten head: every token's values as one row
        n_steps = 1
    out_shape = [n_steps, layer.units] if len(shape_in) == 2 and not layer.flatten else [layer.units]
    d = _base(keras_layer, input_names, "TSDense", layer.types["output"], out_shape)
    d.update(_dense_fields(layer, params, _input_type(reader, layer), n_steps, x_step))
    return d, [None, *out_shape]


def parse_positional(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    table = layer_parameters(layer)[layer.name]["table"]
    shape = input_shapes[0][1:]
    d = _base(keras_layer, input_names, "TSPositional", layer.types["output"], shape)
    d.update(tables={layer.name + ".table": (table, layer.types["table"])})
    return d, input_shapes[0]


def parse_add(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    shape = input_shapes[0][1:]
    rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (1, int(np.prod(shape)))
    n_b = int(np.prod(input_shapes[1][1:]))  # the second operand: as many words, or one (the delta head's level)
    return {**_base(keras_layer, input_names, "TSAdd", layer.out_type, shape), "n_rows": rows, "n_cols": cols,
            "n_b": n_b}, input_shapes[0]


def parse_norm(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    p = layer_parameters(layer)[layer.name]
    steps, ch = input_shapes[0][1:]
    d = _base(keras_layer, input_names, "TSAffine", layer.types["output"], [steps, ch])
    d.update(tables={layer.name + ".scale": (p["scale"], layer.types["scale"]),
                                             layer.name + ".shift": (p["shift"], layer.types["shift"])})
    return d, input_shapes[0]


def parse_pool(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    steps, ch = input_shapes[0][1:]
    x = _input_type(reader, layer)
    d = _base(keras_layer, input_names, "TSPool", layer.out_type, [ch])
    d.update(n_steps=steps, n_ch=ch, accum=exact_sum_type(steps * x.min_int, steps * x.max_int, x.frac),
             recip=reciprocal_constant(steps, POOL_RECIPROCAL_FRAC))
    return d, [None, ch]


def parse_last(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    steps, ch = input_shapes[0][1:]
    n_out = ch if layer.channel is None else 1
    d = _base(keras_layer, input_names, "TSLast", _input_type(reader, layer), [n_out])
    d.update(n_steps=steps, n_ch=ch, first=layer.channel or 0, n_out=n_out)
    return d, [None, n_out]


def parse_head_input(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    n_a, n_b = input_shapes[0][-1], input_shapes[1][-1]
    d = _base(keras_layer, input_names, "TSConcat", layer.out_type, [n_a + n_b])
    d.update(n_a=n_a, n_b=n_b)
    return d, [None, n_a + n_b]


def parse_attention(keras_layer, input_names, input_shapes, reader):
    layer = _keras_layer(reader, keras_layer["config"]["name"])
    params = layer_parameters(layer)
    steps, d_model = input_shapes[0][1:]
    p, t, spec = layer.prefix, layer.types, layer.softmax_spec
    x_type = _input_type(reader, layer)
    dh = d_model // layer.heads
    sub = {}
    tables = {}
    for role in ("q", "k", "v", "o"):
        src = t["context"]["output"] if role == "o" else x_type
        fields = _dense_fields(layer.proj[role], params[p + role], src, steps)
        tables.update(fields.pop("tables"))
        sub[role] = fields
    score_acc = product_accumulator(t["q"]["output"], t["k"]["output"], dh)
    score_frac = t["q"]["output"].frac + t["k"]["output"].frac
    context_frac = spec.prob.frac + t["v"]["output"].frac
    shift = score_shift(dh)
    exp_type = FixedType(spec.exp_frac + 1, 1, signed=False)  # exp(0) = 1 needs one integer bit
    tables[p + "exp_table"] = (spec.exp_table(), exp_type)
    sq = [layer.heads, steps, steps]
    d = _base(keras_layer, input_names, "TSAttention", t["o"]["output"], [steps, d_model])
    d.update(
        out_name=p + "o", n_steps=steps, d=d_model, heads=layer.heads, head_dim=dh, sub=sub, tables=tables,
        buffers={p + "q": ([steps, d_model], t["q"]["output"]), p + "k": ([steps, d_model], t["k"]["output"]),
                 p + "v": ([steps, d_model], t["v"]["output"]), p + "scores": (sq, spec.score),
                 p + "softmax": (sq, spec.prob), p + "context": ([steps, d_model], t["context"]["output"])},
        score_accum=score_acc,
        score_scaled=FixedType(score_acc.width, score_acc.integer - shift, True, "trn", "wrap"),
        context_accum=product_accumulator(spec.prob, t["v"]["output"], steps),
        score_frac=score_frac, context_frac=context_frac, softmax=spec, exp_type=exp_type,
    )
    return d, [None, steps, d_model]


HANDLERS = {"FixedQuant": parse_cast, "SeqDense": parse_dense, "PositionalAdd": parse_positional,
            "QAdd": parse_add, "QNorm": parse_norm, "QAvgPool": parse_pool, "LastStep": parse_last,
            "QAttention": parse_attention, "HeadInput": parse_head_input}
IR_LAYERS = {"TSCast": TSCast, "TSDense": TSDense, "TSPositional": TSPositional, "TSAdd": TSAdd,
             "TSAffine": TSAffine, "TSPool": TSPool, "TSLast": TSLast, "TSConcat": TSConcat, "TSAttention": TSAttention}


# ---- C++ config structs and calls --------------------------------------------------------------

def _struct(name: str, consts: dict, types: dict) -> str:
    lines = [f"struct {name} {{"]
    for k, v in consts.items():
        kind = "bool" if isinstance(v, bool) else ("int" if v < 0 else "unsigned")
        lines.append(f"    static const {kind} {k} = {str(v).lower() if isinstance(v, bool) else v};")
    for k, v in types.items():
        lines.append(f"    typedef {v} {k};")
    return "\n".join(lines) + "\n};\n"


def _weight_type(node, role: str) -> str:
    return node.get_weights(role).type.name


def lanes_struct(name: str, lanes: int, a_width: int, b_width: int, mapping: str) -> str:
    """A set of multiply lanes: ``lanes`` signed a x b multipliers and the exact sum of their products."""
    return _struct(name, {"lanes": lanes, "mul_impl": MUL_IMPL[mapping]},
                   {"a_t": f"ap_int<{a_width}>", "b_t": f"ap_int<{b_width}>",
                    "sum_t": f"ap_int<{lanes_sum_width(a_width, b_width, lanes)}>"})


def _lanes_of(node, loop_name: str, struct_name: str) -> tuple[str, str, int, bool]:
    """(struct text or "", lanes type name, its sum width, shared) for one multiplying loop."""
    loop, engine = node.loop(loop_name), node.plan()["engine"]
    if loop["shared"]:
        return "", LANES_STRUCT, lanes_sum_width(engine["a_width"], engine["b_width"], engine["lanes"]), True
    text = lanes_struct(struct_name, loop["lanes"], loop["a_width"], loop["b_width"], loop["mapping"])
    return text, struct_name, lanes_sum_width(loop["a_width"], loop["b_width"], loop["lanes"]), False


def _fixed_of_int(width: int, frac: int) -> str:
    """The ap_fixed whose bits are an ap_int<width> holding a value with ``frac`` fraction bits."""
    return f"ap_fixed<{width},{width - frac},AP_TRN,AP_WRAP>"


def _dense_struct(node, name: str, fields: dict, loop_name: str, transpose_out: bool = False,
                  consts: dict | None = None, types: dict | None = None) -> str:
    lanes_text, lanes_t, sum_width, shared = _lanes_of(node, loop_name, name + "_lanes")
    plan = node.plan()
    loop = plan["layers"][loop_name]
    stored = plan["buffers"][loop["writes"]]
    word = stored["banks"] if stored["reshaped"] else 1  # values written at once (put_in_order)
    # rows of the buffers as stored: padded to whole chunks of their readers' lanes, or as they are
    source = plan["buffers"].get(loop["reads"][0], {})
    residual = plan["buffers"][loop["residual"]]["stride"] if loop["residual"] else 0
    return lanes_text + _struct(
        name, {"n_steps": fields["n_steps"], "n_in": fields["n_in"], "n_out": fields["n_out"],
               "lanes": node.lanes(loop_name), "shared": shared, "relu": fields["relu"], "transpose_out": transpose_out,
               "word": word, "x_stride": source.get("stride") or fields["x_step"],
               "out_stride": stored["stride"] or (fields["n_steps"] if transpose_out else fields["n_out"]),
               "a_stride": residual or fields["n_out"],
               "w_stride": plan["roms"][loop_name + ".weight"]["stride"] or fields["n_in"], **(consts or {})},
        {"weight_t": _weight_type(node, loop_name + ".weight"), "bias_t": _weight_type(node, loop_name + ".bias"),
         "accum_t": fields["accum"].cpp(), "lanes_t": lanes_t, "psum_t": _fixed_of_int(sum_width, fields["product_frac"]),
         **(types or {})})


def config_cpp(node: TSLayer) -> str:
    a = node.get_attr
    name = f"config{node.index}"
    cls = node.class_name
    if cls in ("TSDense", "TSAdd") and is_fused(node):
        return ""
    if cls == "TSDense":
        return _dense_struct(node, name, {k: a(k) for k in DENSE_FIELDS}, node.name)
    out_name = a("out_name", node.name)
    if cls == "TSCast":
        return _struct(name, {"n_rows": a("n_rows"), "n_cols": a("n_cols"), "lanes": node.lanes(out_name)}, {})
    if cls == "TSAdd":
        return _struct(name, {"n_rows": a("n_rows"), "n_cols": a("n_cols"), "n_b": a("n_b"),
                              "lanes": node.lanes(out_name)}, {})
    if cls == "TSPositional":
        dense, fields, loop = producer(node)
        return _dense_struct(dense, name, fields, loop)
    if cls == "TSAffine":
        dense, fields, loop = producer(node)
        return _dense_struct(dense, name, fields, loop,
                             consts={"mul_impl": MUL_IMPL[node.plan()["layers"][loop]["norm_mapping"]]},
                             types={"scale_t": _weight_type(node, node.name + ".scale"),
                                    "shift_t": _weight_type(node, node.name + ".shift")})
    if cls == "TSPool":
        recip = FixedType(POOL_RECIPROCAL_FRAC, 0, signed=False)
        return _struct(name, {"n_steps": a("n_steps"), "n_ch": a("n_ch"), "x_stride": _source_stride(node, a("n_ch")),
                              "lanes": node.lanes(), "mul_impl": MUL_IMPL[node.loop()["mapping"]],
                              "recip_mantissa": a("recip")},
                       {"accum_t": a("accum").cpp(), "recip_t": recip.cpp()})
    if cls == "TSLast":
        return _struct(name, {"n_steps": a("n_steps"), "n_ch": a("n_ch"), "x_stride": _source_stride(node, a("n_ch")),
                              "first": a("first"), "n_out": a("n_out")}, {})
    if cls == "TSConcat":
        return _struct(name, {"n_a": a("n_a"), "n_b": a("n_b")}, {})
    if cls == "TSAttention":
        return _attention_config(node, name)
    raise ValueError(f"no C++ config for {cls}")


def _source_stride(node, natural: int) -> int:
    """Words a row of the buffer ``node`` reads takes (padded to whole chunks of its readers' lanes)."""
    src = node.get_input_node()
    return node.plan()["buffers"].get(src.get_attr("out_name", src.name), {}).get("stride") or natural


def _stride(node, buffer: str) -> int:
    """Words a stored row of ``buffer`` takes: the window, or the window padded to whole chunks of the
    context's lanes."""
    return node.plan()["buffers"][buffer]["stride"] or node.get_attr("n_steps")


def _attention_config(node: TSLayer, name: str) -> str:
    a = node.get_attr
    p = node.name.removesuffix("attn")
    spec = a("softmax")
    out = []
    for role in ("q", "k", "v"):
        out.append(_dense_struct(node, f"{name}_{role}", a("sub")[role], p + role, transpose_out=role == "v"))
    steps, heads = a("n_steps"), a("heads")
    out.append(_struct(f"{name}_softmax", {"rows": heads * steps, "n": steps, "p_stride": _stride(node, p + "softmax"),
                                           "lanes": node.lanes(p + "softmax"),
                                           "table_size": spec.table_size,
                                           "index_shift": spec.index_shift, "sum_extra_bits": steps.bit_length(),
                                           "prob_frac": spec.prob.frac, "prob_max": spec.prob.max_int},
                       {"score_t": node.get_output_variable(p + "scores").type.name,
                        "prob_t": node.get_output_variable(p + "softmax").type.name,
                        "exp_t": _weight_type(node, p + "exp_table")}))
    common = {"n_steps": steps, "d": a("d"), "heads": heads, "head_dim": a("head_dim")}
    score_text, score_t, score_sum, score_shared = _lanes_of(node, p + "scores", f"{name}_scores_lanes")
    context_text, context_t, context_sum, context_shared = _lanes_of(node, p + "context", f"{name}_context_lanes")
    out += [t for t in (score_text, context_text) if t]
    var = {b: node.get_output_variable(p + b).type.name for b in ("q", "k", "v", "scores", "softmax", "context")}
    out.append(_struct(f"{name}_scores", {**common, "lanes": node.lanes(p + "scores"), "shared": score_shared},
                       {"q_t": var["q"], "k_t": var["k"], "score_t": var["scores"], "accum_t": a("score_accum").cpp(),
                        "scaled_t": a("score_scaled").cpp(), "lanes_t": score_t,
                        "psum_t": _fixed_of_int(score_sum, a("score_frac"))}))
    out.append(_struct(f"{name}_context", {**common, "lanes": node.lanes(p + "context"), "shared": context_shared,
                                           "p_stride": _stride(node, p + "softmax"), "v_stride": _stride(node, p + "v"),
                                           "ctx_stride": node.plan()["buffers"][p + "context"]["stride"] or a("d")},
                       {"prob_t": var["softmax"], "v_t": var["v"], "context_t": var["context"],
                        "accum_t": a("context_accum").cpp(), "lanes_t": context_t,
                        "psum_t": _fixed_of_int(context_sum, a("context_frac"))}))
    return "\n".join(out)


def _record(node: TSLayer, boundary: str) -> str:
    main = node.get_attr("out_name", node.name) == boundary
    v = node.get_output_variable(None if main else boundary)
    mem = node.plan()["buffers"][boundary]
    if mem["transposed"] or mem["stride"]:  # stored [d][step] and / or with padded rows
        rows, cols = v.tsflow_natural
        stride = mem["stride"] or (rows if mem["transposed"] else cols)
        return f'TSFLOW_RECORD_ROWS("{boundary}", {v.name}, {rows}, {cols}, {stride}, {str(mem["transposed"]).lower()});'
    return f'TSFLOW_RECORD("{boundary}", {v.name}, {v.size_cpp()});'


def _records(model) -> list[str]:
    """The C simulation trace of every boundary the schedule computes, in order (after the schedule: every
    buffer still holds its values)."""
    out = []
    for node in model.get_layers():
        if not isinstance(node, TSLayer):
            continue
        cls, n = node.class_name, node.name
        if cls == "TSPositional":
            dense, _, _ = producer(node)
            out += [_record(dense, "embed"), _record(node, n)]
        elif cls == "TSAffine":
            add = node.get_input_node()
            dense, _, loop = producer(node)
            out += [_record(dense, loop), _record(add, add.name), _record(node, n)]
        elif cls == "TSAttention":
            p = n.removesuffix("attn")
            out += [_record(node, p + b) for b in ("q", "k", "v", "scores", "softmax", "context")]
        elif (cls == "TSDense" and not is_fused(node)) or cls == "TSPool":
            out.append(_record(node, node.get_attr("out_name", n)))
    return out


def dialect_of(model) -> str:
    """The pragma dialect of the backend converting ``model``."""
    return "vivado" if model.config.backend.name == "TSFlowVivado" else "vitis"


def function_cpp(node: TSLayer) -> str:
    """The input cast writes the design's schedule after it (``flow.hls.engine.program_call``) and the
    trace of every boundary; the layers the schedule runs write nothing of their own; what follows the
    head (the delta head's add) is written where it is."""
    cls = node.class_name
    ins = [node.get_input_variable(i) for i in node.inputs]
    out = node.get_output_variable()
    cfg = f"config{node.index}"
    if cls == "TSCast":  # at once: wires; a step a clock: the schedule's first stage
        wires = node.loop(node.get_attr("out_name"))["trips"] == 1
        call = [f"tsflow::cast_wires<{ins[0].type.name}, {out.type.name}, {cfg}>({ins[0].name}, {out.name});"] \
            if wires else []
        program = program_call(program_of(node.model, dialect_of(node.model)))
        return "\n    ".join([*call, program, _record(node, node.get_attr("out_name")), *_records(node.model)])
    if cls == "TSLast" and node.get_input_node().class_name == "TSCast":  # the delta head's last level
        return f"tsflow::last_step<{ins[0].type.name}, {out.type.name}, {cfg}>({ins[0].name}, {out.name});"
    if cls == "TSAdd" and not is_fused(node):  # the delta head's add
        call = (f"tsflow::add_wires<{ins[0].type.name}, {ins[1].type.name}, {out.type.name}, {cfg}>"
                f"({ins[0].name}, {ins[1].name}, {out.name});")
        return call + "\n    " + _record(node, node.get_attr("out_name", node.name))
    return ""  # run by the schedule


def lanes_file(engine: dict | None) -> str:
    """firmware/tsflow_lanes.h: the shared lanes' struct (a placeholder when no layer shares lanes)."""
    if engine is None:
        return lanes_header(lanes_struct(LANES_STRUCT, 1, 2, 2, "dsp"))
    return lanes_header(lanes_struct(LANES_STRUCT, engine["lanes"], engine["a_width"], engine["b_width"],
                                     engine["mapping"]))


def template_classes() -> list[type]:
    """One config and one function template class per IR layer (hls4ml instantiates them without arguments)."""
    classes = []
    for ir in IR_LAYERS.values():
        def config_init(self, ir=ir):
            LayerConfigTemplate.__init__(self, ir)

        def call_init(self, ir=ir):
            FunctionCallTemplate.__init__(self, ir, include_header=[HEADER, TRACE_HEADER])

        classes.append(type(ir.__name__ + "ConfigTemplate", (LayerConfigTemplate,),
                            {"__init__": config_init, "format": lambda self, node: config_cpp(node)}))
        classes.append(type(ir.__name__ + "FunctionTemplate", (FunctionCallTemplate,),
                            {"__init__": call_init, "format": lambda self, node: function_cpp(node)}))
    return classes
