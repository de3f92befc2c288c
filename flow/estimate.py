"""Analytic resource and latency estimate of the design ``tsflow build`` generates, on 7-series fabric.

The model follows the generated C++ (``hls_templates/tsflow_layers.h``) loop by loop: every layer
runs in turn (no dataflow), its innermost loop is pipelined at II=1 over ``P = hls.parallelism``
lanes, each lane one multiplier, and every intermediate buffer exists once with the storage the
YAML gives it. Device facts used (``shared/notes/target-and-model-facts.md``, DS180, UG901):

* DSP48E1: one signed 25x18 product; wider products are split into 24x17 unsigned pieces, one DSP
  per pair of pieces (2 for 26..49 x 18, 4 for 35x35). The post-adder and the
  cascade absorb the lane's accumulate, so a DSP lane costs no LUT adder.
* LUT multiplier: about 400 LUTs for 18x18, growing with W1*W2 -> ``1.25 * W1 * W2`` LUTs.
* A W-bit adder or comparator: W LUTs (carry chain). Rounding on a cast: one adder of the output
  width; saturation: a compare over the dropped integer bits plus a W-bit mux.
* RAMB18E1 shapes 16Kx1, 8Kx2, 4Kx4, 2Kx9, 1Kx18 (true dual port) and 512x36 (simple dual port):
  the cheapest shape count is taken; 512x36 only when one read per clock is needed.
* LUTRAM: RAM32M = 4 LUTs for 32x6, RAM64X1D = 2 LUTs for 64x1 (one write/read port and one read
  port); deeper buffers are banks of 64 words plus a read mux (4 words per LUT6).
* Registers: W flip-flops per word; a variable-index read costs a N:1 mux per bit per lane (N/4
  LUTs with F7/F8 muxes); a variable-index write costs a word enable per word (one LUT6 each,
  after a shared address predecode).
* A memory (BRAM or LUTRAM, bound as RAM_2P) gives 2 reads and 1 write per clock: a loop reading
  P lanes from it runs at II = ceil(P / 2), one writing P lanes into it at II = P; registers never
  limit II. Weight ROMs, the positional table and the norm constants are partitioned cyclically by
  P in the C++ (weights stored [out][in]), so every lane has its own bank.

Assumptions that are not device facts (calibration corrects the totals, YAML can force them):
``auto`` storage becomes LUTRAM for buffers of at most 64 words or 1,024 bits, else BRAM; ``auto``
multipliers go to LUTs when both operands together have at most 12 bits as signed widths (6x6),
else DSPs; weight ROMs (cyclically split into P banks) sit in LUTs (64 words per LUT per bit) up to
1,024 words per bank, BRAM above; no multiplier is shared between layers; control costs 24 LUTs and 16 FFs per
layer plus one counter per loop level.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .fixedpoint import FixedType, exact_sum_type, product_accumulator, union_type
from .hls.plan import hls_plan
from .precision import resolve_precisions
from .tables import POOL_RECIPROCAL_FRAC, score_shift

RESOURCES = ("lut", "lutram", "ff", "bram18", "dsp")
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18))  # true dual port
BRAM18_SDP_SHAPE = (512, 36)
LUT_MUL_PER_BIT_PRODUCT = 1.25
AUTO_LUT_MUL_MAX_BITS = 12
AUTO_LUTRAM_MAX_WORDS = 64
AUTO_LUTRAM_MAX_BITS = 1024
ROM_LUT_MAX_WORDS = 1024
MEMORY_READ_PORTS = 2
CONTROL_LUT, CONTROL_FF = 24, 16
READ_LATENCY = {"registers": 0, "lutram": 1, "bram": 2}
DSP_MUL_STAGES, LUT_MUL_STAGES = 3, 2


@dataclass
class Cost:
    lut: float = 0.0  # every LUT: logic and LUTRAM (Vivado's "Slice LUTs")
    lutram: float = 0.0  # the part of ``lut`` used as memory
    ff: float = 0.0
    bram18: float = 0.0
    dsp: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(*(getattr(self, r) + getattr(other, r) for r in RESOURCES))

    def times(self, n: float) -> "Cost":
        return Cost(*(getattr(self, r) * n for r in RESOURCES))

    def rounded(self) -> dict:
        return {r: int(math.ceil(getattr(self, r))) for r in RESOURCES}


@dataclass
class LayerEstimate:
    name: str
    what: str  # the loop nest in words, e.g. "24x16 outputs, 16 MAC, 1 lane 8x8 dsp"
    cost: Cost
    cycles: int


@dataclass
class BufferEstimate:
    name: str
    storage: str  # registers | lutram | bram (auto resolved) | output_port
    words: int
    width: int
    cost: Cost


@dataclass
class Estimate:
    part: str
    clock_mhz: float
    layers: list
    buffers: list
    total: dict
    budget: dict
    latency_cycles: int
    calibrated: bool = False
    overflowing: list = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return not self.overflowing

    @property
    def latency_us(self) -> float:
        return self.latency_cycles / self.clock_mhz

    def to_dict(self) -> dict:
        return {"part": self.part, "clock_mhz": self.clock_mhz, "total": self.total, "budget": self.budget,
                "percent": {r: round(100 * self.total[r] / self.budget[r], 1) if self.budget[r] else None
                            for r in RESOURCES},  # None: the data sheet gives no budget (LUTRAM of some Zynq parts)
                "fits": self.fits, "overflowing": self.overflowing, "latency_cycles": self.latency_cycles,
                "latency_us": round(self.latency_us, 3), "calibrated": self.calibrated,
                "layers": [{"name": e.name, "what": e.what, "cycles": e.cycles, **e.cost.rounded()}
                           for e in self.layers],
                "buffers": [{**{k: v for k, v in asdict(b).items() if k != "cost"}, **b.cost.rounded()}
                            for b in self.buffers]}


# ---- primitives ----------------------------------------------------------------------------------

def clog2(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 2))))


def adder(width: int) -> Cost:
    return Cost(lut=width, ff=width)


def counter(trips: int) -> Cost:
    bits = clog2(trips + 1)
    return Cost(lut=bits + 1, ff=bits)


def multiplier(wa: int, wb: int, mapping: str) -> tuple[Cost, str]:
    """One pipelined wa x wb multiplier; ``mapping`` dsp | lut | auto -> (cost, resolved mapping)."""
    if mapping == "auto":
        mapping = "lut" if wa + wb <= AUTO_LUT_MUL_MAX_BITS else "dsp"
    if mapping == "lut":
        return Cost(lut=LUT_MUL_PER_BIT_PRODUCT * wa * wb, ff=wa + wb), "lut"
    dsps = min(dsp_tiles(wa, wb), dsp_tiles(wb, wa))
    return Cost(dsp=dsps, ff=wa + wb if dsps > 1 else 0), "dsp"


def signed_width(t: FixedType) -> int:
    """Operand width as the DSP48E1's signed multiplier sees it (an unsigned operand needs one bit more)."""
    return t.width + (0 if t.signed else 1)


def dsp_tiles(wa: int, wb: int) -> int:
    """DSP48E1s for a signed wa x wb product: ``wa`` split into a signed 25-bit top and unsigned 24-bit
    pieces, ``wb`` into a signed 18-bit top and unsigned 17-bit pieces, one DSP per pair."""
    return (1 + math.ceil(max(0, wa - 25) / 24)) * (1 + math.ceil(max(0, wb - 18) / 17))


def cast(src: FixedType, dst: FixedType) -> Cost:
    """Rounding and overflow logic of converting ``src`` to ``dst``."""
    cost = Cost()
    if dst.rounding != "trn" and src.frac > dst.frac:
        cost += Cost(lut=dst.width)
    if dst.overflow == "sat" and src.integer > dst.integer:
        cost += Cost(lut=(src.integer - dst.integer) + dst.width)
    return cost + Cost(ff=dst.width)


def rom(words: int, width: int, banks: int) -> Cost:
    """A constant table split cyclically into ``banks``: LUT ROM (64 words/LUT/bit) or BRAM."""
    per_bank = math.ceil(words / banks)
    if per_bank > ROM_LUT_MAX_WORDS:
        return Cost(bram18=bram18_count(per_bank, width, reads=1)).times(banks)
    luts = width * math.ceil(per_bank / 64) + width * max(0, math.ceil(per_bank / 256) - 1)
    return Cost(lut=luts).times(banks)


def bram18_count(words: int, width: int, reads: int) -> int:
    shapes = BRAM18_SHAPES + ((BRAM18_SDP_SHAPE,) if reads <= 1 else ())
    return min(math.ceil(words / d) * math.ceil(width / w) for d, w in shapes)


def resolve_storage(kind: str, words: int, width: int) -> str:
    if kind != "auto":
        return kind
    return "lutram" if words <= AUTO_LUTRAM_MAX_WORDS or words * width <= AUTO_LUTRAM_MAX_BITS else "bram"


def buffer_cost(storage: str, words: int, width: int, reads: int) -> Cost:
    """One intermediate buffer read ``reads`` lanes per clock and written one word per clock.

    ``output_port``: the model output is the top function's argument, partitioned into registers as
    hls4ml declares it. (The input port ``window`` is costed with the input cast that reads it.)
    """
    if storage == "output_port":
        return Cost(ff=words * width)
    if storage == "bram":
        return Cost(bram18=bram18_count(words, width, reads))
    if storage == "lutram":
        if words <= 32:
            mem = 4 * math.ceil(width / 6)
        else:
            mem = 2 * width * math.ceil(words / 64)
        mux = width * math.ceil((math.ceil(words / 64) - 1) / 3) * min(reads, MEMORY_READ_PORTS)
        return Cost(lut=mem + mux, lutram=mem)
    read_mux = reads * width * math.ceil(words / 4)
    decode = words  # one LUT6 per word enable after a shared address predecode
    return Cost(lut=read_mux + decode, ff=words * width)


def read_interval(lanes: int, storage: str) -> int:
    """Clocks per iteration when ``lanes`` words a clock are read from one buffer (2 RAM ports)."""
    return 1 if storage == "registers" else math.ceil(lanes / MEMORY_READ_PORTS)


def write_interval(lanes: int, storage: str) -> int:
    """Clocks per iteration when ``lanes`` words a clock are written into one RAM_2P (one write port)."""
    return 1 if storage in ("registers", "output_port") else lanes


# ---- layers --------------------------------------------------------------------------------------

@dataclass
class _Ctx:
    """What every layer estimate needs: types, plan and the storage of each buffer."""

    prec: object
    plan: object
    storage: dict  # buffer name -> resolved storage

    def where(self, buffer: str) -> str:
        return self.storage.get(buffer, "registers")  # buffers outside the plan (wires, 1-word) are registers

    def interval(self, lanes: int, sources: list, dest: str | None = None) -> int:
        ii = max(read_interval(lanes, self.where(s)) for s in sources)
        return max(ii, write_interval(lanes, self.where(dest))) if dest else ii

    def read_latency(self, sources: list) -> int:
        return max(READ_LATENCY.get(self.where(s), 0) for s in sources)


def _mac_loop(ctx, name, sources, outputs, terms, lanes, xa: FixedType, xb: FixedType, acc: FixedType,
              out: FixedType, levels: int, what: str) -> LayerEstimate:
    """``outputs`` sums of ``terms`` products, ``lanes`` per clock, each cast to ``out`` and written once."""
    mul, mapping = multiplier(signed_width(xa), signed_width(xb), ctx.plan.multiplier.get(name, "auto"))
    cost = mul.times(lanes)
    if mapping == "lut":
        cost += adder(acc.width).times(lanes)
    cost += Cost(ff=acc.width) + cast(acc, out) + Cost(lut=CONTROL_LUT, ff=CONTROL_FF)
    cost += counter(terms).times(levels)
    ii = ctx.interval(lanes, sources)
    depth = ctx.read_latency(sources) + (DSP_MUL_STAGES if mapping == "dsp" else LUT_MUL_STAGES) + clog2(lanes) + 1
    cycles = outputs * (math.ceil(terms / lanes) * ii + depth + 1)
    return LayerEstimate(name, f"{what}, {lanes} lane(s) {signed_width(xa)}x{signed_width(xb)} {mapping}, II {ii}",
                         cost, cycles)


def dense_accumulator_bound(x: FixedType, w: FixedType, b: FixedType, terms: int) -> FixedType:
    """Accumulator of b + sum of ``terms`` products over the full type ranges (before training)."""
    prod = product_accumulator(x, w, terms)
    f = max(prod.frac, b.frac)
    lo = prod.min_int * 2 ** (f - prod.frac) + b.min_int * 2 ** (f - b.frac)
    hi = prod.max_int * 2 ** (f - prod.frac) + b.max_int * 2 ** (f - b.frac)
    return exact_sum_type(lo, hi, f)


def _dense(ctx, name, src, x: FixedType, steps, n_in, n_out) -> LayerEstimate:
    t = ctx.prec[name]
    lanes = ctx.plan.parallelism[name]
    w, b = t["weight"], t["bias"]
    acc = dense_accumulator_bound(x, w, b, n_in)
    est = _mac_loop(ctx, name, [src], steps * n_out, n_in, lanes, x, w, acc, t["output"], 3,
                    f"{steps}x{n_out} outputs of {n_in} MACs")
    est.cost += rom(n_in * n_out, w.width, lanes) + rom(n_out, b.width, 1)
    return est


def _elementwise(ctx, name, sources, rows, per_row, width, extra: Cost, what: str,
                 lane_writes: bool = True) -> LayerEstimate:
    """``rows`` pipelined loops of ``per_row`` elements, ``lanes`` a clock; each lane writes one word of
    ``name`` per clock unless ``lane_writes`` is false (pooling writes once per row)."""
    lanes = ctx.plan.parallelism.get(name, 1)
    ii = ctx.interval(lanes, sources, name if lane_writes else None)
    cost = (adder(width) + extra).times(lanes) + Cost(lut=CONTROL_LUT, ff=CONTROL_FF) + counter(rows * per_row)
    cycles = rows * (math.ceil(per_row / lanes) * ii + ctx.read_latency(sources) + 3)
    return LayerEstimate(name, f"{what}{rows * per_row} elements, {lanes} lane(s), II {ii}", cost, cycles)


def _softmax(ctx, enc: int, heads: int, steps: int) -> LayerEstimate:
    spec = ctx.prec.softmax[enc]
    exp_w = spec.exp_frac + 1
    sum_w = exp_w + steps.bit_length()
    num_w = exp_w + spec.prob.frac
    divider = Cost(lut=num_w * sum_w, ff=num_w * (sum_w + num_w) / 2)
    cost = (adder(spec.score.width + 1).times(3) + rom(spec.table_size, exp_w, 1) + adder(sum_w) + divider
            + cast(FixedType(num_w, num_w - spec.prob.frac, False), spec.prob)
            + Cost(lut=CONTROL_LUT, ff=CONTROL_FF) + counter(steps).times(2))
    rows = heads * steps
    cycles = rows * (3 * steps + num_w + 8)
    return LayerEstimate(f"enc{enc}.softmax", f"{rows} rows of {steps}, table {spec.table_size}x{exp_w}, "
                         f"{num_w}/{sum_w}-bit divider", cost, cycles)


def layer_estimates(cfg, ctx: _Ctx, n_features: int) -> list[LayerEstimate]:
    m = cfg.model
    T, D, H = cfg.data.window, m.d_model, m.heads
    DH = D // H
    p = ctx.prec
    t_in = p["input"]["output"]
    est = _elementwise(ctx, "input", ["window"], 1, T * n_features, t_in.width, Cost(), "input cast, ")
    # the port `window` is one wide word (ARRAY_RESHAPE): each lane selects its element with a mux
    est.cost += Cost(lut=ctx.plan.parallelism["input"] * t_in.width * math.ceil(T * n_features / 4))
    out = [est, _dense(ctx, "embed", "input", t_in, T, n_features, D)]
    pos = p["pos"]
    est = _elementwise(ctx, "pos", ["embed"], 1, T * D, pos["output"].width + 1, cast(pos["table"], pos["output"]),
                       "positional add, ")
    est.cost += rom(T * D, pos["table"].width, ctx.plan.parallelism["pos"])
    out.append(est)
    prev = "pos"
    for i in range(m.layers):
        e = f"enc{i}."
        x = p[prev]["output"]
        for r in "qkv":
            out.append(_dense(ctx, e + r, prev, x, T, D, D))
        q, k = p[e + "q"]["output"], p[e + "k"]["output"]
        score_acc = product_accumulator(q, k, DH)
        spec = p.softmax[i]
        scaled = FixedType(score_acc.width, score_acc.integer - score_shift(DH), True, "trn", "wrap")
        out.append(_mac_loop(ctx, e + "scores", [e + "q", e + "k"], H * T * T, DH, ctx.plan.parallelism[e + "scores"],
                             q, k, scaled, spec.score, 4, f"{H}x{T}x{T} scores of {DH} MACs"))
        out.append(_softmax(ctx, i, H, T))
        v = p[e + "v"]["output"]
        ctx_acc = product_accumulator(spec.prob, v, T)
        out.append(_mac_loop(ctx, e + "context", [e + "softmax", e + "v"], H * T * DH, T,
                             ctx.plan.parallelism[e + "context"], spec.prob, v, ctx_acc, p[e + "context"]["output"], 4,
                             f"{H}x{T}x{DH} context of {T} MACs"))
        out.append(_dense(ctx, e + "o", e + "context", p[e + "context"]["output"], T, D, D))
        for add, a, b, norm, after in ((e + "add1", prev, e + "o", e + "norm1", e + "ffn1"),
                                       (e + "add2", e + "norm1", e + "ffn2", e + "norm2", None)):
            o = p[add]["output"]
            out.append(_elementwise(ctx, add, [a, b], 1, T * D, o.width + 1,
                                    cast(FixedType(o.width + 1, o.integer + 1), o), "residual add, "))
            nt = p[norm]
            mul, mapping = multiplier(signed_width(o), signed_width(nt["scale"]), ctx.plan.multiplier.get(norm, "auto"))
            est = _elementwise(ctx, norm, [add], T, D, nt["output"].width + 2, mul + cast(nt["shift"], nt["output"]),
                               f"affine ({mapping} multiplier), ")
            lanes = ctx.plan.parallelism[norm]
            est.cost += rom(D, nt["scale"].width, lanes) + rom(D, nt["shift"].width, lanes)
            out.append(est)
            if after:
                out.append(_dense(ctx, e + "ffn1", norm, p[norm]["output"], T, D, m.ffn_width))
                out.append(_dense(ctx, e + "ffn2", e + "ffn1", p[e + "ffn1"]["output"], T, m.ffn_width, D))
        prev = e + "norm2"
    x = p[prev]["output"]
    pool_acc = exact_sum_type(T * x.min_int, T * x.max_int, x.frac)
    recip = FixedType(POOL_RECIPROCAL_FRAC, 0, signed=False)
    mul, mapping = multiplier(signed_width(pool_acc), signed_width(recip), ctx.plan.multiplier.get("pool", "auto"))
    est = _elementwise(ctx, "pool", [prev], D, T, pool_acc.width, Cost(), f"mean over time ({mapping} multiplier), ",
                       lane_writes=False)
    est.cost += mul + cast(FixedType(pool_acc.width + recip.width, pool_acc.integer), p["pool"]["output"])
    est.cycles += D * (DSP_MUL_STAGES if mapping == "dsp" else LUT_MUL_STAGES)
    out.append(est)
    if m.head == "mean_last":  # [pooled, last step] side by side in their union type, then the head
        head_in = union_type(p["pool"]["output"], x)
        est = _elementwise(ctx, "head_in", ["pool", prev], 1, 2 * D, head_in.width, Cost(),
                           "concatenation into registers, ")
        est.cost += Cost(ff=2 * D * head_in.width)
        out.append(est)
        out.append(_dense(ctx, "head", "head_in", head_in, 1, 2 * D, 1))
    else:
        out.append(_dense(ctx, "head", "pool", p["pool"]["output"], 1, D, 1))
    if m.predict_delta:
        o = p["delta"]["output"]
        out.append(_elementwise(ctx, "delta", ["head"], 1, 1, o.width + 1,
                                cast(FixedType(o.width + 1, o.integer + 1), o), "delta add, "))
    return out


def buffer_estimates(cfg, prec, plan, n_features: int) -> tuple[dict, list[BufferEstimate]]:
    """Resolved storage and cost of every intermediate buffer."""
    m = cfg.model
    T, D, H = cfg.data.window, m.d_model, m.heads
    shapes = {"input": T * n_features, "embed": T * D, "pos": T * D, "pool": D, "head": 1, "delta": 1}
    for i in range(m.layers):
        e = f"enc{i}."
        shapes.update({e + n: T * D for n in ("q", "k", "v", "context", "o", "add1", "norm1", "ffn2", "add2", "norm2")})
        shapes.update({e + "scores": H * T * T, e + "softmax": H * T * T, e + "ffn1": T * m.ffn_width})
    consumers = _consumers(cfg)
    storage, out = {}, []
    output_name = "delta" if m.predict_delta else "head"
    for name in plan.storage:
        enc = int(name.split(".")[0][3:]) if name.startswith("enc") else None
        width = prec[name]["output"].width
        if name.endswith(".softmax"):
            width = prec.softmax[enc].prob.width
        elif name.endswith(".scores"):
            width = prec.softmax[enc].score.width
        words = shapes[name]
        lanes = max((plan.parallelism.get(c, 1) for c in consumers.get(name, [])), default=1)
        if name == output_name:  # the model output is the top function's port
            storage[name] = "output_port"
        else:
            storage[name] = resolve_storage(plan.storage[name], words, width)
        out.append(BufferEstimate(name, storage[name], words, width, buffer_cost(storage[name], words, width, lanes)))
    return storage, out


def _consumers(cfg) -> dict:
    """Buffer -> the layers whose lanes read it (their parallelism sets the buffer's read lanes)."""
    c = {"input": ["embed"], "embed": ["pos"]}
    prev = "pos"
    for i in range(cfg.model.layers):
        e = f"enc{i}."
        c[prev] = [e + "q", e + "k", e + "v", e + "add1"]
        c.update({e + "q": [e + "scores"], e + "k": [e + "scores"], e + "v": [e + "context"],
                  e + "softmax": [e + "context"], e + "context": [e + "o"], e + "o": [e + "add1"],
                  e + "add1": [e + "norm1"], e + "norm1": [e + "ffn1", e + "add2"], e + "ffn1": [e + "ffn2"],
                  e + "ffn2": [e + "add2"], e + "add2": [e + "norm2"]})
        prev = e + "norm2"
    c[prev] = ["pool"]
    c["pool"] = ["head"]
    return c


def n_features_of(cfg) -> int:
    """Input channels of the model: the feature columns (plus the target level for differences)."""
    extra = 1 if cfg.data.inputs == "differences" else 0
    if cfg.data.features:
        return len(cfg.data.features) + extra
    from .data import _columns, load_frame

    frame, _ = load_frame(cfg.data)
    return len(_columns(frame, cfg.data)) + extra


def estimate(cfg, n_features: int | None = None, calibration: dict | None = None) -> Estimate:
    """Per-layer and per-buffer estimate against ``cfg.target.part``; ``calibration`` scales totals."""
    from .parts import parse_part

    part = parse_part(cfg.target.part)
    n_features = n_features or n_features_of(cfg)
    prec = resolve_precisions(cfg)
    plan = hls_plan(cfg)
    storage, buffers = buffer_estimates(cfg, prec, plan, n_features)
    layers = layer_estimates(cfg, _Ctx(prec, plan, storage), n_features)
    cost = Cost()
    for item in (*layers, *buffers):
        cost += item.cost
    cost += Cost(lut=CONTROL_LUT * 2, ff=CONTROL_FF * 2)  # top-level FSM and the ap_ctrl handshake
    cycles = sum(e.cycles for e in layers)
    factors = (calibration or {}).get("factors", {})
    total = {r: int(math.ceil(getattr(cost, r) * factors.get(r, 1.0))) for r in RESOURCES}
    cycles = int(math.ceil(cycles * factors.get("latency", 1.0)))
    budget = {"lut": part.lut, "lutram": part.lutram, "ff": part.ff, "bram18": part.bram18, "dsp": part.dsp}
    overflowing = [r for r in RESOURCES if budget[r] is not None and total[r] > budget[r]]
    return Estimate(part=cfg.target.part, clock_mhz=cfg.target.clock_mhz, layers=layers, buffers=buffers,
                    total=total, budget=budget, latency_cycles=cycles, calibrated=bool(factors),
                    overflowing=overflowing)
