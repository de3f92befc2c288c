"""The design's schedule read off the hls4ml model: which layers the engine runs, in which order, on which
arrays, and the stages between them (``flow.hls.engine.Program``).

The hls4ml model has one IR layer per Keras layer; the engine runs one loop per multiplying layer, with
the element-wise layers after a dense layer done at its output (``flow.hls.plan.fused_layers``): the
positional add at the embedding's, the residual add and norm at ``o``'s and ``ffn2``'s.
"""
from __future__ import annotations


from .engine import LANES_STRUCT, EngineLayer, Program, Stage, rom_pragmas
from .plan import INPUT_FUNCTION, POOL_FUNCTION
from .pragmas import memory_pragmas


DENSE_FIELDS = ("n_steps", "n_in", "n_out", "x_step", "relu", "accum", "product_frac")


def is_fused(node) -> bool:
    """A layer computed at the output of the dense layer before it (flow.hls.plan.fused_layers): the
    call is written where the stored result is, at the last layer of the chain."""
    return node.get_attr("tsflow_plan")["buffers"][node.get_attr("out_name", node.name)]["storage"] == "fused"


def producer(node) -> tuple:
    """(dense node, its dense fields, its loop name) whose output feeds this positional add or norm."""
    if node.class_name == "TSPositional":
        dense = node.get_input_node()
        return dense, {k: dense.get_attr(k) for k in DENSE_FIELDS}, dense.name
    add = node.get_input_node()
    dense = add.get_input_node(add.inputs[1])
    if dense.class_name == "TSAttention":
        p = dense.name.removesuffix("attn")
        return dense, dense.get_attr("sub")["o"], p + "o"
    return dense, {k: dense.get_attr(k) for k in DENSE_FIELDS}, dense.name


def cname(name: str) -> str:
    """A boundary name as a C++ identifier (enc0.q -> enc0_q)."""
    return name.replace(".", "_")


class _Arrays:
    """The engine's array arguments (buffers, in first-use order) and the constant tables it reads."""

    def __init__(self, plan: dict, dialect: str):
        self.params: dict = {}
        self.tables: dict = {}
        self.plan, self.dialect = plan, dialect

    def buffer(self, var) -> str:
        self.params.setdefault(var.name, (var.type.name, var.name, var.size_cpp()))
        return var.name

    def internal(self, ctype: str, name: str, size: int) -> str:
        self.params.setdefault(name, (ctype, name, str(size)))
        return name

    def table(self, node, role: str) -> str:
        weight = node.get_weights(role)
        self.tables[weight.name] = (weight.type.name, self.plan["roms"][role])
        return weight.name


def _dense(node, loop: str, config: str, out: str, x, arrays: _Arrays, extra: dict) -> EngineLayer:
    """A dense layer of ``node`` (its own, or one of the attention's projections) as an engine layer."""
    layer = node.get_attr("tsflow_plan")["layers"][loop]
    arrays_of = {"x": arrays.buffer(x), "w": arrays.table(node, loop + ".weight"),
                 "b": arrays.table(node, loop + ".bias"), **extra}
    return EngineLayer(loop, "dense", out, config, LANES_STRUCT if layer["shared"] else config + "_lanes",
                       layer["shared"], tuple(layer["nest"]), arrays_of)


def _softmax_stage(node, p: str, cfg: str, after: int, scores, row_max: str, plan: dict, dialect: str) -> Stage:
    """The softmax of attention ``p`` as a function of its own, run after the scores: its ring of
    exponentials is its own, with the distance a quotient reads behind the sum stated to the tool."""
    probs, table = node.get_output_variable(p + "softmax"), node.get_weights(p + "exp_table")
    loop = plan["layers"][p + "softmax"]
    ring = cname(p) + "ring"
    chunks = node.get_attr("n_steps") // loop["lanes"]
    rows = node.get_attr("heads") * node.get_attr("n_steps")
    pragmas = (*rom_pragmas(dialect, {table.name: plan["roms"][p + "exp_table"]}),
               f"    ap_uint<{cfg}_softmax::exp_t::width> {ring}[{2 * node.get_attr('n_steps')}];",
               *memory_pragmas(dialect, ring, plan["buffers"][p + "ring"]),
               f"#pragma HLS DEPENDENCE variable={ring} inter RAW distance={chunks} true")
    return Stage(cname(p) + "softmax_rows", after,
                 f"tsflow::softmax_rows<{cfg}_softmax>({scores.name}, {row_max}, {ring}, {probs.name}, {table.name});",
                 ((scores.type.name, scores.name, scores.size_cpp()), (scores.type.name, row_max, str(rows)),
                  (probs.type.name, probs.name, probs.size_cpp())), pragmas)


def program_of(model, dialect: str) -> Program:
    """The engine layers, stages and arrays of ``model`` (an hls4ml model of the tsflow layers)."""
    nodes = [n for n in model.get_layers() if n.get_attr("tsflow_plan")]  # the tsflow layers, placed
    plan = nodes[0].get_attr("tsflow_plan")
    arrays = _Arrays(plan, dialect)
    layers, stages, internal = [], [], []
    pool_stage = None
    for node in nodes:
        cls = node.class_name
        cfg = f"config{node.index}"
        if cls == "TSCast" and plan["layers"]["input"]["trips"] > 1:  # the window a step a clock
            x, y = node.get_input_variable(node.inputs[0]), node.get_output_variable()
            stages.append(Stage(INPUT_FUNCTION, -1, f"tsflow::cast<{x.type.name}, {y.type.name}, {cfg}>({x.name}, "
                                f"{y.name});", ((x.type.name, x.name, x.size_cpp()), (y.type.name, y.name, y.size_cpp()))))
        elif cls == "TSDense" and not is_fused(node):
            layers.append(_dense(node, node.name, cfg, "store", node.get_input_variable(node.inputs[0]), arrays,
                                 {"y": arrays.buffer(node.get_output_variable())}))
        elif cls == "TSPositional":
            dense, _, loop = producer(node)
            layers.append(_dense(dense, loop, cfg, "add", dense.get_input_variable(dense.inputs[0]), arrays,
                                 {"a": arrays.table(node, node.name + ".table"),
                                  "s": arrays.buffer(node.get_output_variable()),
                                  "y_trace": arrays.buffer(dense.get_output_variable())}))
        elif cls == "TSAffine":
            add = node.get_input_node()
            dense, _, loop = producer(node)
            if dense.class_name == "TSAttention":
                x = dense.get_output_variable(loop.removesuffix("o") + "context")
            else:
                x = dense.get_input_variable(dense.inputs[0])
            extra = {"a": arrays.buffer(add.get_input_variable(add.inputs[0])),
                     "scale": arrays.table(node, node.name + ".scale"), "shift": arrays.table(node, node.name + ".shift"),
                     "z": arrays.buffer(node.get_output_variable()),
                     "y_trace": arrays.buffer(dense.get_output_variable()),
                     "s_trace": arrays.buffer(add.get_output_variable())}
            layers.append(_dense(dense, loop, cfg, "add_norm", x, arrays, extra))
        elif cls == "TSAttention":
            p = node.name.removesuffix("attn")
            x = node.get_input_variable(node.inputs[0])
            for role in "qkv":
                layers.append(_dense(node, p + role, f"{cfg}_{role}", "store", x, arrays,
                                     {"y": arrays.buffer(node.get_output_variable(p + role))}))
            steps, heads = node.get_attr("n_steps"), node.get_attr("heads")
            score_var = node.get_output_variable(p + "scores")
            rows = heads * steps
            row_max = arrays.internal(score_var.type.name, cname(p) + "rowmax", rows)
            internal.append(f"{score_var.type.name} {row_max}[{rows}];")
            internal += memory_pragmas(dialect, row_max, plan["buffers"][p + "rowmax"])
            for part, kind, arr in (
                    ("scores", "scores",
                     {"q": arrays.buffer(node.get_output_variable(p + "q")),
                      "k": arrays.buffer(node.get_output_variable(p + "k")),
                      "scores": arrays.buffer(score_var), "row_max": row_max}),
                    ("context", "context",
                     {"p": arrays.buffer(node.get_output_variable(p + "softmax")),
                      "v": arrays.buffer(node.get_output_variable(p + "v")),
                      "ctx": arrays.buffer(node.get_output_variable(p + "context"))})):
                layer = plan["layers"][p + part]
                layers.append(EngineLayer(p + part, kind, kind, f"{cfg}_{part}",
                                          LANES_STRUCT if layer["shared"] else f"{cfg}_{part}_lanes", layer["shared"],
                                          tuple(layer["nest"]), arr))
                if part == "scores":
                    stages.append(_softmax_stage(node, p, cfg, len(layers) - 1, score_var, row_max, plan, dialect))
        elif cls == "TSPool":
            x, y = node.get_input_variable(node.inputs[0]), node.get_output_variable()
            pool_stage = dict(after=len(layers) - 1, calls=[
                f"tsflow::average_pool<{x.type.name}, {y.type.name}, {cfg}>({x.name}, {y.name});"],
                params=[(x.type.name, x.name, x.size_cpp()), (y.type.name, y.name, y.size_cpp())])
        elif cls == "TSLast" and node.get_input_node().class_name != "TSCast":  # mean_last: the last step's features
            x, y = node.get_input_variable(node.inputs[0]), node.get_output_variable()
            pool_stage["calls"].append(f"tsflow::last_step<{x.type.name}, {y.type.name}, {cfg}>({x.name}, {y.name});")
            pool_stage["params"].append((y.type.name, y.name, y.size_cpp()))
        elif cls == "TSConcat":
            a, b = (node.get_input_variable(i) for i in node.inputs)
            y = node.get_output_variable()
            pool_stage["calls"].append(f"tsflow::concat<{a.type.name}, {b.type.name}, {y.type.name}, {cfg}>"
                                       f"({a.name}, {b.name}, {y.name});")
            pool_stage["params"].append((y.type.name, y.name, y.size_cpp()))
    if pool_stage is not None:
        stages.append(Stage(POOL_FUNCTION, pool_stage["after"], "\n    ".join(pool_stage["calls"]),
                            tuple(pool_stage["params"])))
    return Program(tuple(layers), tuple(stages), tuple(arrays.params.values()),
                   rom_pragmas(dialect, {n: mem for n, (_, mem) in arrays.tables.items()}), tuple(internal),
                   tuple((t, n) for n, (t, _) in arrays.tables.items()))
