"""The hardware of the generated design, described once: the C++ writer and the estimator both read it.

The layers run one after another (no dataflow). Every layer that multiplies runs inside one function,
the *engine* (``tsflow_engine``, ``flow/hls/engine.py``): one pipelined loop, called once per layer from
the top function's loop over the layers, whose body holds the shared multiply lanes once, so the few
DSPs of a small part work for each layer in turn. A layer is ``trips`` clocks of that loop at II=1 with
``lanes`` multiply-accumulates a clock, its counters (``nest``) advanced by hand; the softmax and the
pooling are loops of their own functions. Lane counts are powers of two that divide the row their reads
run along, so lane l always reads bank l of a cyclically banked buffer; where they cannot (the context
over the window, the embedding over its channels), the rows are padded to whole chunks (``stride``). The
attention value ``v`` is stored transposed so that the context lanes read consecutive words. A layer
whose ``hls.multiplier`` differs from the engine's multiplies on lanes of its own, and the pooling keeps
one multiplier of its own (its operands are wider than the rest).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..errors import ConfigError, shown_key
from ..fixedpoint import FixedType, exact_sum_type, union_type
from ..precision import layer_kinds, resolve_precisions
from ..tables import POOL_RECIPROCAL_FRAC

AUTO_LUT_MUL_MAX_BITS = 12  # auto multipliers: LUTs when both signed operand widths add up to at most this
AUTO_LUTRAM_MAX_WORDS = 64  # auto buffer storage per bank: LUTRAM up to this depth or ...
AUTO_LUTRAM_MAX_BITS = 1024  # ... this many bits, BRAM above
ROM_LUT_MAX_WORDS = 1024  # auto constant tables per bank: LUT ROM up to this depth, BRAM above
MULTIPLYING = ("mac", "pool")
SOFTMAX_LANES = 4  # the softmax's lanes when auto: 4 quotients a clock on 4 dividers
RING_DISTANCE = 4  # clocks at least between an exponential written to the ring and its quotient reading it
# the C++ functions that hold the design's pipelined loops (flow/hls/engine.py writes them)
ENGINE_FUNCTION, ENGINE_LOOP = "tsflow_engine", "Clocks"
INPUT_FUNCTION, POOL_FUNCTION = "tsflow_input", "tsflow_pool"
WRAPPER_FUNCTION = "tsflow_ip"  # the function synthesised for hls.interface s_axilite / axis (flow.hls.interface)


def fused_layers(cfg) -> dict:
    """Element-wise layer -> the dense layer that computes it at its output (no loop, no buffer of its own
    before it: the dense output and the residual sum exist only in the C simulation trace)."""
    out = {"pos": "embed"}
    for i in range(cfg.model.layers):
        e = f"enc{i}."
        out.update({e + "add1": e + "o", e + "norm1": e + "o", e + "add2": e + "ffn2", e + "norm2": e + "ffn2"})
    return out


@dataclass(frozen=True)
class Engine:
    """The shared multiply lanes: ``lanes`` multipliers of signed ``a_width`` x ``b_width`` operands."""

    lanes: int
    a_width: int
    b_width: int
    mapping: str  # dsp | lut
    users: tuple = ()

    @property
    def sum_width(self) -> int:
        return lanes_sum_width(self.a_width, self.b_width, self.lanes)


@dataclass(frozen=True)
class Loop:
    """One layer's pipelined loop nest: ``trips`` clocks at II=1, ``lanes`` operations per clock.

    ``outputs`` results, each a sum over ``terms`` (mac) or one element (the others). ``reads``: the
    buffers whose consecutive words the lanes read in one clock.
    """

    name: str
    kind: str  # mac | add | softmax | pool | concat
    outputs: int
    terms: int
    lanes: int
    trips: int
    reads: tuple
    writes: str  # the buffer it stores
    writes_per_clock: int
    shared: bool = False
    mapping: str | None = None  # multiplier of a multiplying layer: dsp | lut
    a_width: int = 0  # signed operand widths of its products
    b_width: int = 0
    residual: str | None = None  # a buffer read one word a clock at the output (residual add)
    epilogue: tuple = ()  # layers done at its output, one value a clock: (positional add) or (add, norm)
    norm_mapping: str | None = None  # the multiplier of a norm in the epilogue
    norm_widths: tuple = (0, 0)
    nest: tuple = ()  # a multiplying layer's counters in the engine, innermost first: (chunks, outputs, rows, groups)

    @property
    def macs(self) -> int:
        return self.outputs * self.terms if self.kind == "mac" else 0


@dataclass(frozen=True)
class Memory:
    """A buffer or constant table: ``banks`` cyclic banks (``words`` banks: registers), each ``storage``."""

    name: str
    words: int
    width: int
    requested: str
    storage: str  # registers | lutram | bram | lutrom | port
    banks: int
    rom: bool = False
    transposed: bool = False
    internal: bool = False  # not a layer boundary: row maxima and sums, pooling sums
    reshaped: bool = False  # BRAM banks side by side in one wide word (aligned reads, whole-word writes)
    stride: int = 0  # words a stored row takes, padded to whole chunks of its reader's lanes (0: not padded)

    @property
    def bank_words(self) -> int:
        return math.ceil(self.words / self.banks)


@dataclass(frozen=True)
class HLSPlan:
    tool: str
    engine: Engine | None
    loops: dict = field(default_factory=dict)  # name -> Loop, in execution order
    buffers: dict = field(default_factory=dict)  # name -> Memory
    roms: dict = field(default_factory=dict)  # name -> Memory
    interface: str = "ap_vld"  # hls.interface: the ports of the IP (flow.hls.interface)

    @property
    def macs(self) -> int:
        return sum(loop.macs for loop in self.loops.values())

    def pipelined_loops(self) -> list[dict]:
        """Every loop the C++ pipelines, what the tool must keep: {function, label, trips {min, max}, ii}.
        One engine loop runs every multiplying layer, a call per layer; each other stage is a function of
        its own; a layer of one clock (the input at once, the delta add) is wires, no loop."""
        def loop(function, label, lo, hi=None):
            return {"function": function, "label": label, "trips": {"min": lo, "max": hi or lo}, "ii": 1}

        macs = [lp.trips for lp in self.loops.values() if lp.kind == "mac"]
        out = [loop(ENGINE_FUNCTION, ENGINE_LOOP, min(macs), max(macs))] if macs else []
        if self.loops["input"].trips > 1:
            out.append(loop(INPUT_FUNCTION, "Cast", self.loops["input"].trips))
        out += [loop(lp.name.replace(".", "_") + "_rows", "SoftmaxRows", lp.trips)
                for lp in self.loops.values() if lp.kind == "softmax"]
        if "pool" in self.loops:
            pool, channels = self.loops["pool"], self.buffers["pool"].words
            out += [loop(POOL_FUNCTION, "PoolSums", pool.trips - channels), loop(POOL_FUNCTION, "PoolScale", channels)]
        if "head_in" in self.loops:
            out.append(loop(POOL_FUNCTION, "HeadInput", self.loops["head_in"].trips))
        if self.interface != "ap_vld":  # the wrapper's capture of the window, and its forecast words
            out.append(loop(WRAPPER_FUNCTION, "Capture", self.buffers["input"].words))
            forecast = next(m.words for m in self.buffers.values() if m.storage == "port")
            if forecast > 1:
                out.append(loop(WRAPPER_FUNCTION, "Forecast", forecast))
        return out

    def to_dict(self) -> dict:
        engine = None
        if self.engine:  # dsp: filled in by the estimate that prices the lanes (Estimate.plan_dict)
            engine = {"function": ENGINE_FUNCTION, "call_sites": 1, **asdict(self.engine), "dsp": None}
        return {"tool": self.tool, "engine": engine, "loops": self.pipelined_loops(),
                "layers": {n: asdict(v) for n, v in self.loops.items()},
                "buffers": {n: asdict(v) for n, v in self.buffers.items()},
                "roms": {n: asdict(v) for n, v in self.roms.items()}, "interface": self.interface}


@dataclass(frozen=True)
class Choice:
    """What ``auto`` settles to: the lanes of the shared multipliers and of each layer left to auto, the
    multipliers of the shared lanes and of the layers with lanes of their own, and auto buffers' storage.
    Explicit YAML settings always win over it."""

    auto_lanes: int = 1
    engine_mapping: str | None = None  # dsp | lut for an auto hls.default_multiplier
    private_mapping: str | None = None  # dsp | lut for auto layers off the shared lanes
    lanes: dict = field(default_factory=dict)  # layer -> lanes, below auto_lanes
    storage: dict = field(default_factory=dict)  # auto buffer -> lutram | bram | registers


def lanes_sum_width(a_width: int, b_width: int, lanes: int) -> int:
    """Width of the exact sum of ``lanes`` signed a x b products (the lanes' adder tree)."""
    return a_width + b_width + (lanes - 1).bit_length()


def signed_width(t: FixedType) -> int:
    """Operand width as a signed multiplier sees it (an unsigned operand needs one bit more)."""
    return t.width + (0 if t.signed else 1)


def auto_mapping(wa: int, wb: int) -> str:
    return "lut" if wa + wb <= AUTO_LUT_MUL_MAX_BITS else "dsp"


def pow2_floor(n: int) -> int:
    return 1 << (max(1, n).bit_length() - 1)


def aligned_lanes(row: int, most: int) -> int:
    """The most lanes, a power of two up to ``most``, that divide ``row``: every clock's reads start at a
    multiple of the lanes, so lane l always reads bank l, an index the tool resolves at compile time."""
    lanes = pow2_floor(most)
    while row % lanes:
        lanes //= 2
    return lanes


def padded_lanes(terms: int, most: int) -> int:
    """Lanes over ``terms`` read from registers and a weight table padded to whole chunks: a power of two up
    to ``most``, no more than the terms need."""
    return min(pow2_floor(most), 1 << (max(1, terms) - 1).bit_length())


def pool_accumulator(x: FixedType, steps: int) -> FixedType:
    return exact_sum_type(steps * x.min_int, steps * x.max_int, x.frac)


POOL_RECIPROCAL = FixedType(POOL_RECIPROCAL_FRAC, 0, signed=False)


def _layer_shapes(cfg, prec, n_features: int) -> list[dict]:
    """Every loop of the design in execution order, before lanes are chosen."""
    m, T, t = cfg.model, cfg.tokens, prec.types
    D, H, FF, S = m.d_model, m.heads, m.ffn_width, cfg.data.steps
    DH = D // H
    W, F = cfg.data.window, n_features * (m.patch.length if m.patch else 1)  # words of the window, of a token
    out = [dict(name="input", kind="add", rows=1, cols=W * n_features, row=W * n_features, reads=()),
           dict(name="embed", kind="mac", outputs=T * D, terms=F, row=F, nest=(D, T, 1),
                reads=("input",),
                a=t["input"]["output"], b=t["embed"]["weight"], dense=(F, D), epilogue=("pos",),
                writes="pos")]
    prev = "pos"
    for i in range(m.layers):
        e = f"enc{i}."
        spec = prec.softmax[i]
        x = t[prev]["output"]
        out += [dict(name=e + r, kind="mac", outputs=T * D, terms=D, row=D, nest=(D, T, 1), reads=(prev,), a=x,
                     b=t[e + r]["weight"], dense=(D, D)) for r in "qkv"]
        out += [dict(name=e + "scores", kind="mac", outputs=H * T * T, terms=DH, row=DH, nest=(T, T, H),
                     reads=(e + "q", e + "k"),
                     a=t[e + "q"]["output"], b=t[e + "k"]["output"]),
                dict(name=e + "softmax", kind="softmax", outputs=H * T * T, row=T,
                     reads=(e + "scores", e + "exp_table")),
                dict(name=e + "context", kind="mac", outputs=H * T * DH, terms=T, row=T, nest=(DH, T, H),
                     reads=(e + "softmax", e + "v"),
                     a=spec.prob, b=t[e + "v"]["output"]),
                dict(name=e + "o", kind="mac", outputs=T * D, terms=D, row=D, nest=(D, T, 1), reads=(e + "context",),
                     a=t[e + "context"]["output"], b=t[e + "o"]["weight"], dense=(D, D), residual=prev,
                     epilogue=(e + "add1", e + "norm1"), writes=e + "norm1",
                     norm=(t[e + "add1"]["output"], t[e + "norm1"]["scale"])),
                dict(name=e + "ffn1", kind="mac", outputs=T * FF, terms=D, row=D, nest=(FF, T, 1),
                     reads=(e + "norm1",),
                     a=t[e + "norm1"]["output"], b=t[e + "ffn1"]["weight"], dense=(D, FF)),
                dict(name=e + "ffn2", kind="mac", outputs=T * D, terms=FF, row=FF, nest=(D, T, 1),
                     reads=(e + "ffn1",),
                     a=t[e + "ffn1"]["output"], b=t[e + "ffn2"]["weight"], dense=(FF, D), residual=e + "norm1",
                     epilogue=(e + "add2", e + "norm2"), writes=e + "norm2",
                     norm=(t[e + "add2"]["output"], t[e + "norm2"]["scale"]))]
        prev = e + "norm2"
    x = t[prev]["output"]
    if m.head == "flatten":  # every token's row, one after another: the lanes run along a token's d_model
        out.append(dict(name="head", kind="mac", outputs=S, terms=T * D, row=D, nest=(S, 1, 1), reads=(prev,),
                        a=x, b=t["head"]["weight"], dense=(T * D, S), flat=True))
        return _delta_add(out, m, S)
    out.append(dict(name="pool", kind="pool", rows=T, cols=D, row=D, reads=(prev,),
                    a=pool_accumulator(x, T), b=POOL_RECIPROCAL))
    if m.head == "mean_last":
        out.append(dict(name="head_in", kind="concat", outputs=2 * D, reads=("pool", prev)))
        out.append(dict(name="head", kind="mac", outputs=S, terms=2 * D, row=2 * D, nest=(S, 1, 1),
                        reads=("head_in",),
                        a=union_type(t["pool"]["output"], x), b=t["head"]["weight"], dense=(2 * D, S)))
    else:
        out.append(dict(name="head", kind="mac", outputs=S, terms=D, row=D, nest=(S, 1, 1), reads=("pool",),
                        a=t["pool"]["output"], b=t["head"]["weight"], dense=(D, S)))
    return _delta_add(out, m, S)


def _delta_add(shapes: list[dict], m, steps: int) -> list[dict]:
    if m.predict_delta:
        shapes.append(dict(name="delta", kind="add", rows=1, cols=steps, row=steps, reads=()))
    return shapes


def _lanes(cfg, s: dict, choice: Choice) -> int:
    """A loop's lanes: powers of two that divide the row its reads run along (the embedding, reading its
    window from registers, pads its weight rows instead), so lane l always reads bank l."""
    h = cfg.hls
    if s["kind"] == "concat":
        return 1
    name = s["name"]
    if s["kind"] == "softmax":  # auto only: a few lanes, the ring of exponentials C >= RING_DISTANCE clocks deep
        if h.rom.get(name.removesuffix("softmax") + "exp_table", h.default_rom) != "auto":
            return 1  # a table placed by hand has one read port
        most = min(SOFTMAX_LANES, choice.lanes.get(name, SOFTMAX_LANES), max(1, s["row"] // RING_DISTANCE))
        return aligned_lanes(s["row"], most)
    s, pad = _row_of(cfg, s, choice)
    if name in h.parallelism:
        return _explicit(h.parallelism[name], s, pad, f"hls.parallelism.{shown_key(name)}")
    if name == "input" and not input_at_once(cfg, s["cols"], choice):
        # a window not captured at once is written in the chunks of a step the embedding reads: its lanes
        return aligned_lanes(chunk_words(cfg, s["cols"] // cfg.data.window), _most(cfg, "embed", choice))
    if name == "input":  # the window is captured from the port at once (registers), whatever the default
        return s["cols"]
    if h.default_parallelism != "auto":
        value = h.default_parallelism
        return padded_lanes(s["row"], value) if pad else aligned_lanes(s["row"], value)
    most = _most(cfg, name, choice)
    return padded_lanes(s["row"], most) if pad else aligned_lanes(s["row"], most)


def _row_of(cfg, s: dict, choice: Choice) -> tuple[dict, bool]:
    """The loop with the row its lanes run along, and whether that row is padded to whole chunks of them.

    Rows are padded to whole chunks of the lanes that read them (_stride; the embedding reads its window
    from registers and pads its weight rows), except a head's slice of the q and k rows the scores read
    and a window the input writes in chunks."""
    name = s["name"]
    pad = (s["kind"] in ("mac", "pool") and not name.endswith(".scores") and name != "embed" and not s.get("flat")) or \
        (name == "embed" and input_at_once(cfg, cfg.data.window * n_channels(cfg, s), choice))
    if name == "embed" and not pad:  # reading banked memory: its lanes start every token on bank 0
        s = {**s, "row": chunk_words(cfg, n_channels(cfg, s))}
    return s, pad


def allowed_lanes(row: int, pad: bool) -> list[int]:
    """The lane counts a loop over ``row`` values can take: powers of two up to the row's (padded) words
    where the row is padded to whole chunks, else the powers of two that divide it."""
    if pad:
        useful = 1 << max(0, math.ceil(math.log2(max(1, row))))
        return [1 << i for i in range(useful.bit_length())]
    return [1 << k for k in range(row.bit_length()) if row % (1 << k) == 0]


def _follow_explicit(cfg, shapes: list[dict], lanes: dict, choice: Choice) -> None:
    """With hls.default_parallelism auto, a layer left to auto that reads a buffer which a layer with explicit
    lanes reads with several takes those lanes, or one lane where its row does not allow them: every reader
    with several lanes reads a buffer bank by bank (lanes = banks), and auto would otherwise pick counts the
    explicit one then forbids. A numeric default is the user's: a clash with it is refused (_check_banks)."""
    h = cfg.hls
    if h.default_parallelism != "auto":
        return
    fixed = {}
    for s in shapes:
        if s["name"] in h.parallelism and s["kind"] in MULTIPLYING and lanes[s["name"]] > 1:
            for buffer in s["reads"]:  # two explicit counts that differ are the user's: _check_banks names both
                fixed.setdefault(buffer, lanes[s["name"]])
    for s in shapes:
        name, counts = s["name"], {fixed[b] for b in s["reads"] if b in fixed}
        if name in h.parallelism or s["kind"] not in MULTIPLYING or lanes[name] == 1 or counts <= {lanes[name]}:
            continue
        row, pad = _row_of(cfg, s, choice)
        (p,) = counts if len(counts) == 1 else (1,)  # two buffers read with different counts: one lane
        lanes[name] = p if p in allowed_lanes(row["row"], pad) else 1


def n_channels(cfg, embed: dict) -> int:
    """Input channels, from the embedding's terms (a step's channels, or a patch's steps of them)."""
    return embed["terms"] // (cfg.model.patch.length if cfg.model.patch else 1)


def chunk_words(cfg, channels: int) -> int:
    """Words that the lanes of a window written in chunks may span: a token starts every stride and spans
    its length, so lanes that divide both (and the channels) read bank l at lane l (a step without patches)."""
    patch = cfg.model.patch
    return channels * (math.gcd(patch.length, patch.stride) if patch else 1)


def _most(cfg, name: str, choice: Choice) -> int:
    """The most lanes a layer may take: its own explicit count, the default's, or what auto settled."""
    h = cfg.hls
    if name in h.parallelism:
        return h.parallelism[name]
    if h.default_parallelism != "auto":
        return h.default_parallelism
    return min(choice.auto_lanes, choice.lanes.get(name, choice.auto_lanes))


def _explicit(value: int, s: dict, pad: bool, key: str) -> int:
    """An explicit lane count, honoured exactly if the tool can bank it at compile time."""
    allowed = [str(n) for n in allowed_lanes(s["row"], False)]
    if value & (value - 1) or (not pad and s["row"] % value):
        what = ("a power of two" if pad else
                f"a power of two that divides the {s['row']} values each clock's reads run along")
        raise ConfigError(f"invalid configuration: {key} = {value}: the lanes must be {what}, so every lane "
                          f"reads its own bank at an index fixed at compile time; allowed: "
                          f"{'1, 2, 4, 8, ...' if pad else ', '.join(allowed)}")
    useful = 1 << max(0, math.ceil(math.log2(max(1, s["row"]))))
    if value > useful:  # the lanes past a row's (padded) words would only read padding
        raise ConfigError(f"invalid configuration: {key} = {value}: more lanes than the {s['row']} value(s) its reads "
                          f"run along a clock (the lanes past {useful} would read only padding, and its tables grow "
                          f"with the lanes); allowed: {', '.join(str(n) for n in allowed_lanes(s['row'], True))}")
    return value


def input_at_once(cfg, cols: int, choice: Choice = Choice()) -> bool:
    """The window (``cols`` words) is captured from the port at once into registers (else in chunks into
    banked memory): its storage registers, or left to auto and not moved to memory by ``choice`` (a wide window's
    registers can outgrow the part's flip-flops), and no lane count that takes fewer words a clock."""
    h = cfg.hls
    lanes = h.parallelism.get("input", h.default_parallelism)
    req = h.storage.get("input", h.default_storage)
    memory = req == "auto" and choice.storage.get("input") in ("lutram", "bram")
    return req in ("auto", "registers") and not memory and (lanes == "auto" or lanes >= cols)


def _trips(s: dict, lanes: int) -> int:
    kind = s["kind"]
    if kind == "mac":
        return s["outputs"] * math.ceil(s["terms"] / lanes)
    if kind == "add":
        return s["rows"] * math.ceil(s["cols"] / lanes)
    if kind == "pool":  # sums over time, lanes across channels; then one multiply per channel
        return math.ceil(s["cols"] / lanes) * s["rows"] + s["cols"]
    if kind == "softmax":  # the sums of row r beside the quotients of row r - 1: one loop, a row more
        rows = s["outputs"] // s["row"]
        return (rows + 1) * (s["row"] // lanes)
    return s["outputs"]


def _engine(cfg, shapes: list[dict], lanes: dict, choice: Choice) -> tuple[Engine | None, dict]:
    """The shared lanes and each multiplying layer's (shared, mapping).

    A multiplying layer shares the lanes unless its ``hls.multiplier`` differs from theirs, or it is left
    to auto and takes a single lane (the shared lanes would only add it to their multiplexers); the
    pooling always multiplies on its own.
    """
    h = cfg.hls
    default = choice.engine_mapping or h.default_multiplier
    multiplying = [s for s in shapes if s["kind"] == "mac"]
    widths = {s["name"]: (signed_width(s["a"]), signed_width(s["b"])) for s in shapes if s["kind"] in MULTIPLYING}
    auto_parallel = h.default_parallelism == "auto"
    alone = {s["name"] for s in multiplying if auto_parallel and s["name"] not in h.parallelism
             and lanes[s["name"]] == 1 and s["name"] not in h.multiplier}
    wanted = {s["name"]: h.multiplier.get(s["name"], default) for s in multiplying if s["name"] not in alone}
    follow = [n for n, w in wanted.items() if w in ("auto", default)]
    how = {}
    engine = None
    if wanted:
        if follow:
            mapping = default if default != "auto" else auto_mapping(max(widths[n][0] for n in follow),
                                                                     max(widths[n][1] for n in follow))
        else:  # every layer on the lanes asks for a kind of its own: the lanes are of the kind most ask for
            asked = [wanted[n] for n in wanted]
            mapping = max(("dsp", "lut"), key=asked.count)
        shared = [n for n, w in wanted.items() if w in ("auto", mapping) or n in follow]
        engine = Engine(lanes=max(lanes[n] for n in shared), a_width=max(widths[n][0] for n in shared),
                        b_width=max(widths[n][1] for n in shared), mapping=mapping, users=tuple(shared))
        how = {n: (True, mapping) for n in shared}
    private = {n: widths[n] for n in [*wanted, *alone, "pool"] if n in widths and n not in how}
    private.update({s["epilogue"][1]: tuple(signed_width(t) for t in s["norm"]) for s in shapes if "norm" in s})
    for n, (wa, wb) in private.items():
        w = h.multiplier.get(n, "auto") if n in h.multiplier or n not in wanted else wanted[n]
        if w == "auto":
            w = choice.private_mapping or (h.default_multiplier if h.default_multiplier != "auto"
                                           else auto_mapping(wa, wb))
        how[n] = (False, w)
    return engine, how


def row_length(cfg, name: str, n_features: int) -> int:
    """Words in a row of a boundary buffer, along which its readers' lanes run: channels of a step (v,
    stored transposed, and the scores and probabilities: steps); one row for the vectors."""
    if name in ("input", "pool", "head", "delta"):
        return {"input": cfg.data.window * n_features, "pool": cfg.model.d_model}.get(name, cfg.data.steps)
    if name.endswith((".v", ".scores", ".softmax")):
        return cfg.tokens
    return cfg.model.ffn_width if name.endswith(".ffn1") else cfg.model.d_model


def _buffer_shapes(cfg, prec, n_features: int) -> dict:
    """Boundary buffer -> (words, width)."""
    m, T, t = cfg.model, cfg.tokens, prec.types
    D, H = m.d_model, m.heads
    shapes = {"input": cfg.data.window * n_features, "embed": T * D, "pos": T * D, "pool": D, "head": cfg.data.steps,
              "delta": cfg.data.steps}
    for i in range(m.layers):
        e = f"enc{i}."
        shapes.update({e + n: T * D for n in ("q", "k", "v", "context", "o", "add1", "norm1", "ffn2", "add2", "norm2")})
        shapes.update({e + "scores": H * T * T, e + "softmax": H * T * T, e + "ffn1": T * m.ffn_width})
    out = {}
    for name in layer_kinds(cfg):
        width = t[name]["output"].width
        if name.endswith(".softmax"):
            width = prec.softmax[int(name.split(".")[0][3:])].prob.width
        out[name] = (shapes[name], width)
    return out


def _storage(requested: str, words: int, width: int, banks: int, chosen: str | None = None) -> str:
    per_bank = math.ceil(words / banks)
    if words == 1 or (requested == "auto" and per_bank == 1):
        return "registers"
    if requested != "auto":
        return requested
    if chosen:
        return chosen
    return "lutram" if per_bank <= AUTO_LUTRAM_MAX_WORDS or per_bank * width <= AUTO_LUTRAM_MAX_BITS else "bram"


def storage_notes(cfg, plan: HLSPlan) -> list[str]:
    """An ``hls.storage.<buffer>`` the plan does not use: a buffer of one word is always a register (``_storage``),
    since a memory for one word would only add its read clock; said, as any other storage choice is honoured."""
    return [f"hls.storage.{name} = {req}: {name} holds 1 word, which is always kept in a register (a "
            f"{'RAMB18' if req == 'bram' else 'LUTRAM'} for one word would only add a read clock); the {req} choice is "
            f"not used" for name, req in cfg.hls.storage.items()
            if name in plan.buffers and plan.buffers[name].words == 1 and plan.buffers[name].storage == "registers"
            and req not in ("auto", "registers")]


def _whole_words(name: str, storage: str, words: int, banks: int, transposed: bool, loops: dict) -> bool:
    """A BRAM buffer whose banks can sit side by side in one wide word (ARRAY_RESHAPE): a dense layer
    writes it in order, a whole word at a time (it collects ``banks`` outputs in registers first), and
    every reader with more than one lane reads one aligned word a clock (its lanes equal the banks and
    its rows are whole words). One wide BRAM instead of a BRAM per bank."""
    if storage != "bram" or banks < 2 or transposed or words % banks:
        return False
    writer = next((lp for lp in loops.values() if lp.writes == name), None)
    if writer is None or writer.kind != "mac" or writer.name.endswith((".scores", ".context")):
        return False
    return all(lp.lanes == 1 or (lp.kind == "mac" and lp.lanes == banks and lp.terms % banks == 0)
               for lp in loops.values() if name in lp.reads)


def _rom_storage(requested: str, words: int, banks: int) -> str:
    if requested != "auto":
        return requested
    return "lutrom" if math.ceil(words / banks) <= ROM_LUT_MAX_WORDS else "bram"


def _roms(cfg, prec, shapes: list[dict], loops: dict, choice: Choice) -> dict:
    """Constant tables. A weight table is banked by its layer's lanes; in BRAM, when every clock's lanes
    start at a multiple of the lane count (rows a multiple of it), the banks are one wide word instead
    (ARRAY_RESHAPE), one BRAM read a clock."""
    t, h = prec.types, cfg.hls
    tables = []  # (name, words, width, banks, aligned, stride)
    for s in shapes:
        n, lanes = s["name"], loops[s["name"]].lanes
        if "dense" in s:  # rows [n_out][n_in], padded to whole chunks of the lanes where they do not divide n_in
            n_in, n_out = s["dense"]
            row = math.ceil(n_in / lanes) * lanes
            tables += [(n + ".weight", row * n_out, t[n]["weight"].width, lanes, lanes > 1, row if row != n_in else 0),
                       (n + ".bias", n_out, t[n]["bias"].width, 1, False, 0)]
        if "norm" in s:  # read one word a clock at the dense layer's output
            norm = s["epilogue"][1]
            tables += [(norm + "." + r, s["dense"][1], t[norm][r].width, 1, False, 0) for r in ("scale", "shift")]
        if n == "embed":
            tables.append(("pos.table", s["outputs"], t["pos"]["table"].width, 1, False, 0))
        elif s["kind"] == "softmax":
            spec = prec.softmax[int(n.split(".")[0][3:])]
            tables.append((n.removesuffix("softmax") + "exp_table", spec.table_size, spec.exp_frac + 1, 1, False, 0))
    out = {}
    for name, words, width, banks, aligned, stride in tables:
        banks = min(banks, words)
        req = h.rom.get(name, h.default_rom)
        storage = choice.storage.get(name) if req == "auto" and name in choice.storage else _rom_storage(req, words, banks)
        if name.endswith("exp_table") and loops[name.removesuffix("exp_table") + "softmax"].lanes > 1:
            storage = "registers"  # read by every lane of the softmax a clock: constants as logic
        out[name] = Memory(name, words, width, req, storage, words if storage == "registers" else banks, rom=True,
                           reshaped=storage == "bram" and aligned, stride=stride)
    return out


def rom_names(cfg) -> list[str]:
    """Every constant table of the design (``hls.rom`` keys)."""
    names = ["embed.weight", "embed.bias", "pos.table"]
    for i in range(cfg.model.layers):
        e = f"enc{i}."
        names += [e + r + "." + k for r in ("q", "k", "v", "o") for k in ("weight", "bias")]
        names += [e + "exp_table", e + "norm1.scale", e + "norm1.shift"]
        names += [e + r + "." + k for r in ("ffn1", "ffn2") for k in ("weight", "bias")]
        names += [e + "norm2.scale", e + "norm2.shift"]
    return names + ["head.weight", "head.bias"]


def allowed_names(cfg) -> dict:
    """hls section (storage, rom, parallelism, multiplier) -> the names it may key in this model."""
    kinds = layer_kinds(cfg)
    fused = fused_layers(cfg)
    stored = set(fused.values()) | set(fused)  # the dense layers with an epilogue and their epilogues
    written = {"pos"} | {n for n in fused if n.endswith("norm1") or n.endswith("norm2")}
    buffers = [n for n in kinds if n not in stored or n in written]
    loops = [n for n in kinds if not n.endswith(".softmax") and n not in fused]
    multiplying = [n for n, k in kinds.items() if k in ("dense", "norm") or n.endswith((".scores", ".context"))
                   or n == "pool"]
    return {"storage": buffers, "rom": rom_names(cfg), "parallelism": loops, "multiplier": multiplying}


_HAS_NO = {"storage": "no buffer of its own", "rom": "no constant table of its own",
           "parallelism": "no lanes hls.parallelism sets", "multiplier": "no multiplier hls.multiplier sets"}


def _takes_value(h, key: str, name: str, value) -> bool:
    """Whether the hls section's mapping ``key`` would take ``{name: value}`` (its own type and bounds)."""
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(type(h).model_fields[key].annotation).validate_python({name: value})
    except ValidationError:
        return False
    return True


def check_names(cfg, shapes: list[dict] | None = None) -> None:
    """Every name under hls.storage / rom / parallelism / multiplier exists in this model (``shapes``: its
    loops, where the caller has them: the auto search plans a design hundreds of times)."""
    h = cfg.hls
    names = allowed_names(cfg)
    for key, allowed in names.items():
        unknown = sorted(set(getattr(h, key)) - set(allowed))
        if unknown:
            name = unknown[0]
            value = getattr(h, key)[name]
            homes = [other for other, there in names.items() if other != key and name in there]
            fits = [other for other in homes if _takes_value(h, other, name, value)]
            listed = " and ".join(f"hls.{other}" for other in fits or homes)
            if fits:
                home = f" ({shown_key(name)} is a name of {listed}, not of hls.{key}: move it there)"
            elif homes:
                home = (f" ({shown_key(name)} is a name of {listed} only, which take{'s' if len(homes) == 1 else ''} "
                        f"no {value!r}: it has {_HAS_NO[key]}; remove it from hls.{key})")
            else:
                home = ""
            raise ConfigError(f"invalid configuration: hls.{key}.{shown_key(name)}: unknown name{home}; "
                              f"allowed for this model: {', '.join(allowed)}")
    _check_lane_counts(cfg, shapes or _layer_shapes(cfg, resolve_precisions(cfg), n_features=1))


def _check_lane_counts(cfg, shapes: list[dict]) -> None:
    """The lane counts of the YAML that the data does not decide, refused when the config is read (before
    any folder or training) as the plan would refuse them: powers of two, and a divisor of the row where the
    row is not padded (a head's slice of q and k the scores read, the adds), and no more than the row's words
    (the lanes past them read only padding). The embedding's and the input's
    depend on the data's channels and are checked when the design is planned."""
    h = cfg.hls
    value = h.default_parallelism
    if value != "auto" and value & (value - 1):
        raise ConfigError(f"invalid configuration: hls.default_parallelism = {value}: lanes are a power of two "
                          f"(each layer takes the most of them that divide its rows); allowed: auto, 1, 2, 4, 8, ...")
    for shape in shapes:
        name = shape["name"]
        if name in h.parallelism and name not in ("embed", "input"):
            _lanes(cfg, shape, Choice())  # refuses what _explicit refuses


def _stride(row: int, banks: int, storage: str) -> int:
    """Words a stored row takes: where the lanes that read a row (its banks) do not divide it, the row is
    padded to whole chunks (the padding is never read), so each clock's reads still start at a multiple of
    the lanes; 0 where nothing is padded (registers and fused buffers have no banks to align)."""
    if banks < 2 or row % banks == 0 or storage in ("registers", "fused", "port"):
        return 0
    return math.ceil(row / banks) * banks


def _check_banks(cfg, shapes: list[dict], loops: dict, buffers: dict, choice: Choice) -> None:
    """Every layer that reads a buffer with several lanes finds exactly one word in each bank (lanes =
    banks): fewer lanes than banks would pick banks at run time. Every such buffer is named at once, with
    each of its readers' lanes and where they come from, and what each layer that must change may take."""
    rows = {s["name"]: _row_of(cfg, s, choice) for s in shapes}
    problems = []
    for name, mem in buffers.items():
        if mem.storage in ("registers", "fused"):
            continue
        readers = [lp for lp in loops.values() if name in lp.reads and lp.lanes > 1 and lp.kind in MULTIPLYING]
        wrong = [lp for lp in readers if lp.lanes != mem.banks]
        if not wrong:
            continue
        writer = next((lp for lp in loops.values() if lp.writes == name and lp.writes_per_clock == mem.banks), None)
        how = [_source(cfg, lp) for lp in readers]
        if writer and all(lp.lanes != mem.banks for lp in readers):
            how.append(f"written {mem.banks} words a clock by {shown_key(writer.name)}")
        fixes = []
        for lp in wrong:
            row, pad = rows[lp.name]
            counts = [1] + ([mem.banks] if mem.banks in allowed_lanes(row["row"], pad) else [])
            fixes.append(f"hls.parallelism.{shown_key(lp.name)}: {' or '.join(map(str, counts))}")
        problems.append(f"{name} has {mem.banks} banks ({'; '.join(how)}), and a layer reading it with several "
                        f"lanes must take as many as its banks (lane l reads bank l): allowed {', '.join(fixes)}, or one "
                        f"count for every layer that reads {name}")
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))


def _source(cfg, lp) -> str:
    """A loop's lanes and where they come from: the YAML key that sets them, or what left them to auto."""
    if lp.name in cfg.hls.parallelism:
        return f"hls.parallelism.{shown_key(lp.name)} = {lp.lanes}"
    return (f"hls.parallelism.{shown_key(lp.name)} (left to hls.default_parallelism = "
            f"{cfg.hls.default_parallelism}: {lp.lanes} lanes)")


def hls_plan(cfg, prec, n_features: int, choice: Choice = Choice()) -> HLSPlan:
    """The design for ``cfg``, with what ``auto`` leaves open settled by ``choice``."""
    shapes = _layer_shapes(cfg, prec, n_features)
    check_names(cfg, shapes)
    lanes = {s["name"]: _lanes(cfg, s, choice) for s in shapes}
    _follow_explicit(cfg, shapes, lanes, choice)
    for s in shapes:  # the softmax writes the probabilities into the context's banks, no more a clock
        if s["kind"] == "softmax":
            lanes[s["name"]] = min(lanes[s["name"]], lanes[s["name"].removesuffix("softmax") + "context"])
    engine, how = _engine(cfg, shapes, lanes, choice)
    loops = {}
    for s in shapes:
        n, kind, p = s["name"], s["kind"], lanes[s["name"]]
        shared, mapping = how.get(n, (False, None))
        outputs = s.get("outputs", s.get("rows", 1) * s.get("cols", 1))
        norm = s["epilogue"][1] if "norm" in s else None
        loops[n] = Loop(n, kind, outputs, s.get("terms", 1), p, _trips(s, p), s["reads"], s.get("writes", n),
                        p if kind in ("add", "softmax") else 1, shared, mapping,
                        signed_width(s["a"]) if "a" in s else 0, signed_width(s["b"]) if "b" in s else 0,
                        s.get("residual"), s.get("epilogue", ()), how[norm][1] if norm else None,
                        tuple(signed_width(t) for t in s["norm"]) if norm else (0, 0),
                        (math.ceil(s["terms"] / p), *s["nest"]) if kind == "mac" else ())
    buffers = {}
    output = "delta" if cfg.model.predict_delta else "head"
    written = {lp.writes for lp in loops.values()}
    for name, (words, width) in _buffer_shapes(cfg, prec, n_features).items():
        row = row_length(cfg, name, n_features)
        readers = [lp.lanes for lp in loops.values() if name in lp.reads]
        writer = next((lp.writes_per_clock for lp in loops.values() if lp.writes == name), 1)
        banks = max([writer, *readers])  # a row shorter than the lanes is padded to them, not cut
        req = cfg.hls.storage.get(name, cfg.hls.default_storage)
        if name == output:
            storage = "port"
        elif name not in written:
            storage = "fused"  # computed at a dense layer's output on its way to the buffer it stores
        else:
            storage = _storage(req, words, width, min(words, banks), choice.storage.get(name))
        stride = _stride(row, banks, storage)
        if stride:
            words = words // row * stride
        banks = 1 if storage == "fused" else words if storage == "registers" else min(words, banks)
        transposed = name.endswith(".v")
        reshaped = not stride and _whole_words(name, storage, words, banks, transposed, loops)
        buffers[name] = Memory(name, words, width, req, storage, banks, transposed=transposed, reshaped=reshaped,
                               stride=stride)
    _check_banks(cfg, shapes, loops, buffers, choice)
    for i in range(cfg.model.layers):  # the softmax's row maxima, and its ring of two rows of exponentials
        e, spec = f"enc{i}.", prec.softmax[i]
        rows, steps, lanes = cfg.model.heads * cfg.tokens, cfg.tokens, loops[f"enc{i}.softmax"].lanes
        buffers[e + "rowmax"] = Memory(e + "rowmax", rows, spec.score.width, "lutram",
                                       _storage("lutram", rows, spec.score.width, 1), 1, internal=True)
        ring = _storage("lutram", 2 * steps, spec.exp_frac + 1, lanes)
        buffers[e + "ring"] = Memory(e + "ring", 2 * steps, spec.exp_frac + 1, "lutram", ring,
                                     2 * steps if ring == "registers" else lanes, internal=True)
    last = prec.types[f"enc{cfg.model.layers - 1}.norm2"]["output"]
    acc = pool_accumulator(last, cfg.tokens)
    D = cfg.model.d_model
    if "pool" in loops:
        buffers["pool.sum"] = Memory("pool.sum", D, acc.width, "registers", "registers", D, internal=True)
    if "head_in" in loops:
        width = union_type(prec.types["pool"]["output"], last).width
        buffers["head_in"] = Memory("head_in", 2 * D, width, "registers", "registers", 2 * D, internal=True)
    return HLSPlan(cfg.hls.tool, engine, loops, buffers, _roms(cfg, prec, shapes, loops, choice), cfg.hls.interface)
