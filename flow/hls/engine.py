"""The engine: every multiplying layer of the design runs through one pipelined loop in one function.

The lanes are shared by construction, not by a pragma: ``tsflow_engine(layer, ...)`` holds the one loop
(``Clocks``, pipelined at II=1) whose body multiplies on the shared lanes in one place, and the top
function calls it from one place, a loop over the layers (``Layers``). Each clock, the layer's case of a
``switch`` picks its operands (a multiplexer in front of the lanes) and, after the lanes' exact sum, its
own accumulator and output stage with its own types, so the numerics are those of the layer templates in
``tsflow_layers.h``. The loop's counters are advanced by hand (``tsflow::advance``), so there is no nest
for the tool to flatten. A layer whose multiplier differs from the shared lanes' multiplies on lanes of
its own in its case. The stages between multiplying layers (each softmax; the pooling with the head's
input) are functions of their own, called from the same loop after the layer they follow.

The writer (``flow.hls.backend``) builds the descriptions here from the hls4ml model; the C++ numerics
tests build them by hand and run the same generated C++.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .plan import ENGINE_FUNCTION, ENGINE_LOOP
from .pragmas import memory_pragmas

LANES_STRUCT = "tsflow_lanes"  # the shared lanes' description (lanes, a_t, b_t, sum_t, mul_impl)
PROGRAM_LOOP = "Layers"
# roles of a layer's arrays that its clocks write; the others are read
WRITTEN = ("y", "s", "z", "y_trace", "s_trace", "scores", "row_max", "ctx")


@dataclass(frozen=True)
class EngineLayer:
    """One layer the engine runs: ``counts`` = (chunks, outputs, rows, groups) of its flattened nest;
    ``arrays``: role -> C++ array (x, w, b; a, s, z, scale, shift, y_trace, s_trace; q, k, scores, row_max;
    p, v, ctx; y); ``out``: store | add | add_norm | scores | context."""

    name: str
    kind: str  # dense | scores | context
    out: str
    config: str
    lanes_t: str
    shared: bool
    counts: tuple
    arrays: dict

    @property
    def trips(self) -> int:
        return math.prod(self.counts)


@dataclass(frozen=True)
class Stage:
    """A function run between engine layers, after layer ``after``: its name, C++ call and arrays."""

    function: str
    after: int
    call: str
    params: tuple  # (element type, name, size) of the arrays it takes
    pragmas: tuple = ()


@dataclass(frozen=True)
class Program:
    """The design's schedule: engine layers in order, the stages between them, the engine's array
    arguments ((element type, name, size), in call order) and the pragmas of the tables it reads."""

    layers: tuple
    stages: tuple = ()
    params: tuple = ()
    rom_pragmas: tuple = ()
    internal: tuple = ()  # declarations of the stages' own buffers in the top function
    table_types: tuple = ()  # (element type, name) of the constant tables the engine reads (globals)


def _element(program: Program, name: str) -> str:
    """The element type of one of the engine's arrays or tables."""
    return {n: t for t, n, *_ in (*program.params, *program.table_types)}[name]


def _operands(lp: EngineLayer, lanes_t: str, a: str, b: str) -> str:
    x = lp.arrays
    if lp.kind == "dense":
        return f"tsflow::dense_operands<{lanes_t}, {lp.config}>({x['x']}, {x['w']}, r, o, c, {a}, {b});"
    if lp.kind == "scores":
        return f"tsflow::score_operands<{lanes_t}, {lp.config}>({x['q']}, {x['k']}, g, r, o, c, {a}, {b});"
    return f"tsflow::context_operands<{lanes_t}, {lp.config}>({x['p']}, {x['v']}, g, r, o, c, {a}, {b});"


def _output(lp: EngineLayer, i: int, params: Program) -> str:
    x, cfg = lp.arrays, lp.config
    state = f"row{i}, fill{i}, word{i}, r, o"
    if lp.out == "store":
        return f"tsflow::dense_out<{cfg}, {_element(params, x['y'])}>(acc{i}, {x['y']}, {state});"
    if lp.out == "add":
        types = ", ".join(_element(params, x[k]) for k in ("y_trace", "a", "s"))
        return (f"tsflow::dense_add_out<{cfg}, {types}>(acc{i}, {x['a']}, {x['s']}, {x['y_trace']}, {state});")
    if lp.out == "add_norm":
        types = ", ".join(_element(params, x[k]) for k in ("y_trace", "a", "s_trace", "z"))
        return (f"tsflow::dense_add_norm_out<{cfg}, {types}>(acc{i}, {x['a']}, {x['scale']}, {x['shift']}, {x['z']}, "
                f"{x['y_trace']}, {x['s_trace']}, {state});")
    if lp.out == "scores":
        return f"tsflow::score_out<{cfg}>(acc{i}, {x['scores']}, {x['row_max']}, top{i}, g, r, o);"
    return f"tsflow::context_out<{cfg}>(acc{i}, {x['ctx']}, g, r, o);"


def _stored_type(lp: EngineLayer, params: Program) -> str | None:
    """The type of the words a dense layer's output stage collects before a whole-word write."""
    role = {"store": "y", "add": "s", "add_norm": "z"}.get(lp.out)
    if role is None or lp.arrays.get(role) is None:
        return None
    return _element(params, lp.arrays[role])


def engine_function(program: Program, name: str = ENGINE_FUNCTION) -> str:
    """``tsflow_engine(layer, ...)``: the one loop every multiplying layer runs in, one call per layer."""
    layers, params = program.layers, program.params
    args = ", ".join(f"{t} {n}[{size}]" for t, n, size in params)
    lines = [f"void {name}(unsigned layer, {args}) {{", "#pragma HLS INLINE off"]
    lines += [p for p in program.rom_pragmas]
    reads = {lp.arrays[r] for lp in layers for r in lp.arrays if r not in WRITTEN}
    writes = {lp.arrays[r] for lp in layers for r in lp.arrays if r in WRITTEN}
    # each call runs one layer, which never reads an array it writes; the tool cannot see that through
    # the run-time layer number, so it is told (no iteration of one call depends on another through these)
    lines += [f"#pragma HLS DEPENDENCE variable={n} inter false" for _, n, _ in params if n in reads & writes]
    lines.append("    unsigned nc = 1, no = 1, nr = 1, ng = 1;")
    lines.append("    switch (layer) {")
    for i, lp in enumerate(layers):
        nc, no, nr, ng = lp.counts
        lines.append(f"    case {i}: nc = {nc}; no = {no}; nr = {nr}; ng = {ng}; break;  // {lp.name}")
    lines += ["    default: ng = 0;", "    }", "    const unsigned trips = nc * no * nr * ng;"]
    for i, lp in enumerate(layers):
        lines.append(f"    {lp.config}::accum_t acc{i} = 0;  // {lp.name}")
        stored = _stored_type(lp, program)
        if stored:
            lines += [f"    {stored} row{i}[{lp.config}::word];",
                      f"#pragma HLS ARRAY_PARTITION variable=row{i} complete dim=1",
                      f"    unsigned fill{i} = 0, word{i} = 0;"]
        if lp.out == "scores":
            lines.append(f"    {_element(program, lp.arrays['scores'])} top{i} = 0;")
    trips = [lp.trips for lp in layers]
    lines += ["    unsigned c = 0, o = 0, r = 0, g = 0;",
              f"{ENGINE_LOOP}:",
              "    for (unsigned clock = 0; clock < trips; clock++) {",
              "#pragma HLS PIPELINE II=1",
              f"#pragma HLS LOOP_TRIPCOUNT min={min(trips)} max={max(trips)}"]
    shared = [(i, lp) for i, lp in enumerate(layers) if lp.shared]
    if shared:
        e = LANES_STRUCT
        lines += [f"        {e}::a_t lane_a[{e}::lanes];", f"        {e}::b_t lane_b[{e}::lanes];",
                  "#pragma HLS ARRAY_PARTITION variable=lane_a complete dim=1",
                  "#pragma HLS ARRAY_PARTITION variable=lane_b complete dim=1",
                  "        switch (layer) {  // the operands of the running layer, in front of the shared lanes"]
        lines += [f"        case {i}: {_operands(lp, e, 'lane_a', 'lane_b')} break;" for i, lp in shared]
        lines += ["        default:  // a layer on lanes of its own: the shared lanes multiply zeros",
                  f"            for (unsigned l = 0; l < {e}::lanes; l++) {{",
                  "#pragma HLS UNROLL",
                  "                lane_a[l] = 0;", "                lane_b[l] = 0;", "            }",
                  "            break;", "        }",
                  "        // the shared lanes: written once, so built once",
                  f"        {e}::sum_t sum = 0;",
                  f"        for (unsigned l = 0; l < {e}::lanes; l++) {{",
                  "#pragma HLS UNROLL",
                  f"            sum += tsflow::multiply<{e}::mul_impl>::product(lane_a[l], lane_b[l]);",
                  "        }"]
    lines.append("        switch (layer) {  // the running layer's accumulator and output stage")
    for i, lp in enumerate(layers):
        lines.append(f"        case {i}: {{  // {lp.name}")
        if lp.shared:
            total = "sum"
        else:
            own = lp.lanes_t
            lines += [f"            {own}::a_t own_a[{own}::lanes];", f"            {own}::b_t own_b[{own}::lanes];",
                      "#pragma HLS ARRAY_PARTITION variable=own_a complete dim=1",
                      "#pragma HLS ARRAY_PARTITION variable=own_b complete dim=1",
                      f"            {_operands(lp, own, 'own_a', 'own_b')}"]
            total = f"tsflow::own_lanes<{own}>(own_a, own_b)"
        first = f"{lp.config}::accum_t({lp.arrays['b']}[o])" if lp.kind == "dense" else f"{lp.config}::accum_t(0)"
        lines += [f"            tsflow::accumulate<{lp.config}::accum_t, {lp.config}::psum_t>({total}, {first}, c, "
                  f"acc{i});",
                  f"            if (c == nc - 1) {_output(lp, i, program)}",
                  "            break;", "        }"]
    lines += ["        default: break;", "        }", "        tsflow::advance(c, o, r, g, nc, no, nr);", "    }", "}"]
    return "\n".join(lines) + "\n"


def stage_function(stage: Stage) -> str:
    args = ", ".join(f"{t} {n}[{size}]" for t, n, size in stage.params)
    body = [f"void {stage.function}({args}) {{", "#pragma HLS INLINE off", *stage.pragmas, f"    {stage.call}", "}"]
    return "\n".join(body) + "\n"


def engine_header(program: Program) -> str:
    """firmware/tsflow_engine.h: the engine and the stage functions, after the layers' configs."""
    stages = "\n".join(stage_function(s) for s in program.stages)
    return f"""// The engine and the stages between its layers (flow/hls/engine.py): written by tsflow for this build.
#ifndef TSFLOW_ENGINE_H_
#define TSFLOW_ENGINE_H_

#include "parameters.h"

{engine_function(program) if program.layers else ""}
{stages}
#endif
"""


def program_call(program: Program) -> str:
    """The top function's schedule: the loop over the layers, the engine's one call site in it, and each
    stage after the layer it follows."""
    args = ", ".join(n for _, n, _ in program.params)
    before = [f"{s.function}({', '.join(n for _, n, _ in s.params)});" for s in program.stages if s.after < 0]
    lines = [*before, *program.internal, f"{PROGRAM_LOOP}:",
             f"    for (unsigned layer = 0; layer < {len(program.layers)}; layer++) {{",
             f"        {ENGINE_FUNCTION}(layer, {args});"]
    for stage in (s for s in program.stages if s.after >= 0):
        names = ", ".join(n for _, n, _ in stage.params)
        lines.append(f"        if (layer == {stage.after}) {stage.function}({names});")
    lines.append("    }")
    return "\n    ".join(lines)


def lanes_header(lanes_struct_text: str) -> str:
    """firmware/tsflow_lanes.h: the shared lanes' description, before the layers' configs that name it."""
    return f"""// The design's shared multiply lanes (flow/hls/plan.py): written by tsflow for this build.
#ifndef TSFLOW_LANES_H_
#define TSFLOW_LANES_H_

#include "nnet_utils/tsflow_layers.h"

{lanes_struct_text}
#endif
"""


def rom_pragmas(dialect: str, tables: dict) -> tuple:
    """Pragma lines for the constant tables a function reads: C++ name -> plan memory."""
    return tuple(line for name, mem in tables.items() for line in memory_pragmas(dialect, name, mem))
