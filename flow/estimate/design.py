"""Analytic resource and latency estimate of the design ``tsflow build`` generates, read off its plan.

The plan (``flow.hls.plan``) is the structure the C++ writer emits: the engine's one loop with the
shared multiply lanes, in which each multiplying layer runs its trips and lanes, the softmax and pooling
loops, every buffer and constant table with its banks and storage. Here each piece is priced with the
device facts of ``costs``; cycles are each layer's trips plus its pipeline fill (plus the engine's call,
for a multiplying layer), layers one after another.

Assumptions that are not device facts (calibration corrects the totals): the adder tree of the shared
lanes is in LUTs above its first level (a DSP cascade would save more); each shared lane's operands come
through a multiplexer over the layers that use it; control costs 24 LUTs and 16 FFs per loop (the engine's
one loop for every multiplying layer, each other stage's loops) plus an index counter per nest level (the
engine's with its limit loaded per layer); a pipelined divider is one subtract stage per quotient bit; a
call of the engine costs 2 clocks.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field, replace

from ..errors import ConfigError, shown_key
from ..fixedpoint import FixedType, exact_sum_type, product_accumulator, union_type
from ..hls.plan import (AUTO_LUTRAM_MAX_BITS, POOL_RECIPROCAL, Choice, HLSPlan, hls_plan, pool_accumulator, pow2_floor,
                        storage_notes)
from ..precision import resolve_precisions
from ..tables import score_shift, table_coverage
from .costs import (MUL_STAGES, READ_LATENCY, RESOURCES, Cost, adder, cast, clog2, counter, lane_tree, memory_cost,
                    multiplier, mux)
from .energy import Energy, energy_of
from .interface import interface_estimates
from .rows import CONTROL_FF, CONTROL_LUT, WRITE_STAGES, BufferEstimate, LayerEstimate

TOP_CONTROL_LUT, TOP_CONTROL_FF = 48, 32  # top-level FSM and the ap_ctrl handshake
ENGINE_CALL_CYCLES = 2  # the top function starts the engine on a layer and sees it done
MAX_AUTO_LANES = 64
# above it, uncalibrated cycles are said to be a lower bound (docs/estimate.md): hls4ml's default 5 ns period; the
# estimate's pipeline stages are fixed counts, and the faster the clock, the more stages the tool adds to meet it
UNCALIBRATED_CLOCK_MHZ = 200


@dataclass
class Estimate:
    part: str
    clock_mhz: float
    layers: list
    buffers: list
    total: dict
    budget: dict
    latency_cycles: int
    macs: int
    dsp_bound_cycles: int
    plan: HLSPlan | None = None
    uncalibrated: dict = field(default_factory=dict)  # unrounded totals and cycles before any calibration
    calibrated: bool = False
    overflowing: list = field(default_factory=list)
    headroom: float | None = None  # target.headroom, where auto chose the design (explicit lanes are not held to it)
    energy: Energy | None = None  # None where no static power figure of the device is known (flow/estimate/energy.py)
    cautions: list = field(default_factory=list)  # what the figures mean that a user would not expect (estimate_plan)

    @property
    def fits(self) -> bool:
        return not self.overflowing

    @property
    def over_headroom(self) -> list[str]:
        """The resources past ``1 - headroom`` of the part in a design auto chose."""
        if self.headroom is None:
            return []
        return [r for r in RESOURCES if self.budget[r] and self.total[r] > (1 - self.headroom) * self.budget[r]]

    def headroom_warning(self) -> str | None:
        """What a design that fits the part but not ``target.headroom`` means, where auto chose it: only a
        design over the part stops a build, so without this it reads as fitting with the headroom kept."""
        if not self.fits or not self.over_headroom:
            return None
        keep = 1 - self.headroom
        figures = "; ".join(f"{r.upper()} {self.total[r]:,} of {self.budget[r]:,} "
                            f"({100 * self.total[r] / self.budget[r]:.0f}%, limit {int(keep * self.budget[r]):,})"
                            for r in self.over_headroom)
        e = self.plan.engine
        chosen = f"{e.lanes} shared {e.mapping.upper()} lane(s)" if e else "no shared lanes"
        if any(math.ceil(self.uncalibrated[r]) > keep * self.budget[r] for r in self.over_headroom):
            head = (f"hls.default_parallelism auto could not keep target.headroom {self.headroom:g} on {self.part}: "
                    f"{figures}; auto found no lanes, multipliers and storage that keep every resource within "
                    f"{100 * keep:.0f}% of the part, and took the design that exceeds it least ({chosen})")
        else:
            head = (f"the calibrated estimate exceeds target.headroom {self.headroom:g} on {self.part}: {figures}; "
                    f"auto chose this design ({chosen}) within the headroom on the uncalibrated estimate")
        return (f"{head}; it fits the part, so tsflow build goes on; to keep the headroom, make the model smaller "
                f"(model.d_model, data.window, data.steps) or choose a larger target.part")

    def overflow_warning(self) -> str | None:
        """Where each resource over the part goes: the rows that take most of it, each with the key that moves it
        (the table shows every row; this says which to act on)."""
        if self.fits:
            return None
        told = []
        for r in self.overflowing:
            rows = sorted((e for e in (*self.layers, *self.buffers) if getattr(e.cost, r) >= 0.05 * self.budget[r]),
                          key=lambda e: -getattr(e.cost, r))[:3]
            most = ", ".join(f"{_row_name(self.plan, e)} {math.ceil(getattr(e.cost, r)):,} "
                             f"({100 * getattr(e.cost, r) / self.budget[r]:.0f}%){_lever(self.plan, e)}" for e in rows)
            told.append(f"{r.upper()} {self.total[r]:,} of {self.budget[r]:,} "
                        f"({100 * self.total[r] / self.budget[r]:.0f}%)" + (f", most of it {most}" if most else
                                                                            ", spread over many rows (none 5%)"))
        return f"the design does not fit {self.part}: {'; '.join(told)}"

    def warnings(self) -> list[str]:
        """Every warning the estimate carries: what overflows the part, the headroom auto could not keep, then
        ``cautions``."""
        return [w for w in (self.overflow_warning(), self.headroom_warning()) if w] + list(self.cautions)

    @property
    def latency_us(self) -> float:
        return self.latency_cycles / self.clock_mhz

    @property
    def bound_ratio(self) -> float:
        return self.latency_cycles / self.dsp_bound_cycles if self.dsp_bound_cycles else float("inf")

    def plan_dict(self) -> dict:
        """The plan as ``plan.json`` holds it, with the DSPs the shared lanes take as priced here."""
        out = self.plan.to_dict()
        if out["engine"]:
            out["engine"]["dsp"] = next(e.cost.rounded()["dsp"] for e in self.layers if e.name == "engine")
        return out

    def to_dict(self) -> dict:
        engine = self.plan.engine if self.plan else None
        return {"part": self.part, "clock_mhz": self.clock_mhz, "total": self.total, "budget": self.budget,
                "percent": {r: round(100 * self.total[r] / self.budget[r], 1) if self.budget[r] else None
                            for r in RESOURCES},  # None: the data sheet gives no budget (LUTRAM of some Zynq parts)
                "fits": self.fits, "overflowing": self.overflowing, "headroom": self.headroom,
                "over_headroom": self.over_headroom, "latency_cycles": self.latency_cycles,
                "latency_us": round(self.latency_us, 3), "macs": self.macs, "dsp_bound_cycles": self.dsp_bound_cycles,
                "bound_ratio": round(self.bound_ratio, 3), "calibrated": self.calibrated, "warnings": self.warnings(),
                "energy": self.energy.to_dict() if self.energy else None,
                "engine": self.plan_dict()["engine"] if engine else None,
                "pipelined_loops": self.plan.pipelined_loops() if self.plan else [],
                "layers": [{"name": e.name, "what": e.what, "cycles": e.cycles, "loops": list(e.loops),
                            **e.cost.rounded()} for e in self.layers],
                "buffers": [{**{k: v for k, v in asdict(b).items() if k != "cost"}, **b.cost.rounded()}
                            for b in self.buffers]}


def _row_name(plan: HLSPlan, e) -> str:
    if isinstance(e, BufferEstimate):
        return f"the {e.name} buffer ({e.words:,} x {e.width} bit, {e.storage})"
    return f"layer {e.name}" if e.name in plan.loops else e.name


def _lever(plan: HLSPlan, e) -> str:
    """The key that moves a row's cost, where one does: a buffer's storage, a loop's lanes."""
    if isinstance(e, BufferEstimate):
        if e.name not in plan.buffers or plan.buffers[e.name].internal:
            return ""
        if e.storage == "registers" and e.words > 1:
            return f": hls.storage.{shown_key(e.name)}: bram (or lutram) keeps it in memory"
        return f": hls.storage.{shown_key(e.name)}" if e.storage in ("lutram", "bram", "lutrom") else ""
    lp = plan.loops.get(e.name)
    if lp is not None and lp.lanes > 1:
        return f": hls.parallelism.{shown_key(e.name)} below its {lp.lanes} lanes"
    return ""


def _control(loop) -> Cost:
    levels = (loop.outputs, math.ceil(loop.trips / max(1, loop.outputs))) if loop.kind == "mac" else (loop.trips,)
    cost = Cost(lut=CONTROL_LUT, ff=CONTROL_FF)
    for trips in levels:
        cost += counter(trips)
    return cost


def _read_latency(plan: HLSPlan, loop) -> int:
    return max([READ_LATENCY[plan.buffers[b].storage] for b in loop.reads] or [0])


def _epilogue(cfg, prec, loop) -> tuple[Cost, int, str]:
    """The element-wise layers done at a dense layer's output, one value a clock: cost, stages, words."""
    t = prec.types
    if not loop.epilogue:
        return Cost(), 0, ""
    add = loop.epilogue[0]
    y = t[loop.name]["output"]
    s = t[add]["output"] if add != "pos" else t["pos"]["output"]
    other = t[loop.residual]["output"] if loop.residual else t["pos"]["table"]
    wide = max(y.integer, other.integer) + 1
    frac = max(y.frac, other.frac)
    cost = adder(wide + frac) + cast(FixedType(wide + frac, wide), s)
    stages = 1
    if len(loop.epilogue) == 2:  # and the norm: s * scale + shift on the layer's own multiplier
        norm = t[loop.epilogue[1]]
        wa, wb = loop.norm_widths
        f = s.frac + norm["scale"].frac
        top = max(wa + wb - f, norm["shift"].integer) + 1
        width = top + max(f, norm["shift"].frac)
        cost += multiplier(wa, wb, loop.norm_mapping) + adder(width) + cast(FixedType(width, top), norm["output"])
        stages += MUL_STAGES[loop.norm_mapping] + 1
    return cost, stages, " + ".join(loop.epilogue) + " at its output, "


def _mac(cfg, prec, plan: HLSPlan, loop, acc: FixedType, out: FixedType, relu: bool) -> LayerEstimate:
    """A multiplying layer: its case of the engine loop (accumulator, output stage, own lanes if any); the
    loop's control is the engine's, shared by every layer. Cycles: its trips, the pipeline's fill, and
    the call that starts the engine on it."""
    cost = adder(acc.width) + cast(acc, out)
    if relu:
        cost += Cost(lut=acc.width)  # the sign test and the zeroing mux
    mapping = plan.engine.mapping if loop.shared else loop.mapping
    if not loop.shared:  # the layer's own multipliers and their adder tree
        cost += multiplier(loop.a_width, loop.b_width, mapping).times(loop.lanes)
        cost += lane_tree(loop.lanes, loop.a_width, loop.b_width, loop.a_width + loop.b_width + clog2(loop.lanes),
                          mapping)
    stored = plan.buffers[loop.writes]
    if stored.reshaped:  # the row of outputs collected before a whole-word write, and its fill counter
        cost += Cost(ff=stored.banks * stored.width) + counter(stored.banks)
    epilogue, stages, what = _epilogue(cfg, prec, loop)
    reads = max(_read_latency(plan, loop), READ_LATENCY[plan.buffers[loop.residual].storage] if loop.residual else 0)
    tree = (loop.lanes - 1).bit_length()  # adder-tree levels over the lanes' products
    depth = reads + MUL_STAGES[mapping] + tree + 1 + stages + WRITE_STAGES
    where = "shared lanes" if loop.shared else f"own {mapping} lanes"
    return LayerEstimate(loop.name, f"{loop.outputs} outputs of {loop.terms} MACs, {loop.lanes} lane(s) on {where}, "
                         f"{what}{loop.trips} clocks", cost + epilogue, loop.trips + depth + ENGINE_CALL_CYCLES,
                         (loop.trips,))


def _elementwise(plan: HLSPlan, loop, per_lane: Cost, stages: int, what: str) -> LayerEstimate:
    cost = _control(loop) + per_lane.times(loop.lanes)
    return LayerEstimate(loop.name, f"{what}{loop.outputs} elements, {loop.lanes} lane(s), {loop.trips} clocks", cost,
                         loop.trips + _read_latency(plan, loop) + stages + WRITE_STAGES, (loop.trips,))


def _softmax(plan: HLSPlan, loop, spec, steps: int) -> LayerEstimate:
    """The softmax: ``lanes`` exponentials a clock (difference to the row maximum, the rounding add when
    the index drops score bits, the table, an adder tree into the row's exact sum) beside ``lanes``
    quotients of the row before (one pipelined divider a lane), one loop over the rows and one more."""
    p = loop.lanes
    exp_w = spec.exp_frac + 1
    sum_w = exp_w + steps.bit_length()
    num_w = max(exp_w + spec.prob.frac, sum_w - 1) + 1  # (e << prob_frac) + (sum >> 1): the rounded quotient
    divider = Cost(lut=num_w * sum_w, ff=num_w * (sum_w + num_w))  # one subtract stage per quotient bit
    lookup = adder(spec.score.width + 1).times(2 if spec.index_shift > 0 else 1)
    per_lane = lookup + divider + adder(num_w) + cast(FixedType(num_w, num_w - spec.prob.frac, False), spec.prob)
    cost = (Cost(lut=CONTROL_LUT, ff=CONTROL_FF) + counter(math.ceil(steps / p)) + counter(loop.outputs // steps + 1)
            + per_lane.times(p) + adder(sum_w).times(p) + Cost(ff=2 * sum_w))  # adds into the sum; total, divisor
    # the score read (its buffer's latency), subtract, table, ring; then the divider and the write
    fill = READ_LATENCY[plan.buffers[loop.reads[0]].storage] + 3 + num_w + WRITE_STAGES
    rows = loop.outputs // steps
    return LayerEstimate(loop.name, f"{rows} rows of {steps}, {p} exponential(s) and {p} quotient(s) of the row "
                         f"before a clock, {num_w}/{sum_w}-bit dividers", cost, loop.trips + fill, (loop.trips,))


def _engine(plan: HLSPlan) -> LayerEstimate | None:
    """The engine loop every multiplying layer runs in: its control (one loop counter and four nest
    counters sized for the largest layer, their limits chosen per layer at the call) and the shared lanes
    with the multiplexers that bring each layer's operands to them."""
    macs = [lp for lp in plan.loops.values() if lp.kind == "mac"]
    if not macs:
        return None
    # the clock counter and the four nest counters, each against its limit, loaded per layer at the call
    cost = Cost(lut=CONTROL_LUT, ff=CONTROL_FF)
    for most in (max(lp.trips for lp in macs), *(max(lp.nest[i] for lp in macs) for i in range(4))):
        cost += counter(most) + mux(len(macs), clog2(most + 1))
    e = plan.engine
    if e is None:
        return LayerEstimate("engine", f"the loop of {len(macs)} layers on lanes of their own", cost, 0)
    users = len(e.users)
    lane = multiplier(e.a_width, e.b_width, e.mapping) + mux(users, e.a_width) + mux(users, e.b_width)
    lane += Cost(ff=e.a_width + e.b_width)  # the operand registers
    tree = lane_tree(e.lanes, e.a_width, e.b_width, e.sum_width, e.mapping)
    return LayerEstimate("engine", f"{e.lanes} shared {e.a_width}x{e.b_width} {e.mapping} multiplier(s) and their "
                         f"adder tree, used in turn by {users} layers, in the loop of {len(macs)} layers",
                         cost + lane.times(e.lanes) + tree, 0)


def layer_estimates(cfg, prec, plan: HLSPlan) -> list[LayerEstimate]:
    t = prec.types
    out = []
    engine = _engine(plan)
    if engine:
        out.append(engine)
    for loop in plan.loops.values():
        n = loop.name
        if loop.kind == "mac":
            if n.endswith(".scores"):
                i = int(n.split(".")[0][3:])
                acc = _score_accumulator(prec, i, cfg.model.d_model // cfg.model.heads)
                out.append(_mac(cfg, prec, plan, loop, acc, prec.softmax[i].score, False))
            elif n.endswith(".context"):
                i = int(n.split(".")[0][3:])
                acc = product_accumulator(prec.softmax[i].prob, t[n.removesuffix("context") + "v"]["output"],
                                          cfg.tokens)
                out.append(_mac(cfg, prec, plan, loop, acc, t[n]["output"], False))
            else:
                acc = dense_accumulator_bound(_input_type(cfg, prec, loop), t[n]["weight"], t[n]["bias"], loop.terms)
                out.append(_mac(cfg, prec, plan, loop, acc, t[n]["output"], n.endswith("ffn1")))
        elif loop.kind == "add":
            o = t[n]["output"]
            what = {"input": "input cast, ", "delta": "delta add, "}[n]
            per_lane = adder(o.width + 1) + cast(FixedType(o.width + 1, o.integer + 1), o)
            if n == "input":  # the port is one wide word: each lane selects its element (a wire at full width)
                per_lane = mux(math.ceil(loop.outputs / loop.lanes), o.width)
            out.append(_elementwise(plan, loop, per_lane, 1, what))
        elif loop.kind == "pool":
            x = t[loop.reads[0]]["output"]
            acc = pool_accumulator(x, cfg.tokens)
            est = _elementwise(plan, loop, adder(acc.width), MUL_STAGES[loop.mapping] + 2,
                               f"mean over time ({loop.mapping} multiplier), ")
            est.cost += multiplier(loop.a_width, loop.b_width, loop.mapping)
            est.cost += cast(FixedType(acc.width + POOL_RECIPROCAL.width, acc.integer), t["pool"]["output"])
            channels = cfg.model.d_model  # the sums over time, then one scaling per channel
            est.loops = (loop.trips - channels, channels)
            out.append(est)
        elif loop.kind == "softmax":
            i = int(n.split(".")[0][3:])
            out.append(_softmax(plan, loop, prec.softmax[i], cfg.tokens))
        elif loop.kind == "concat":
            last = t[f"enc{cfg.model.layers - 1}.norm2"]["output"]
            head_in = union_type(t["pool"]["output"], last)
            out.append(_elementwise(plan, loop, Cost(), 0, f"concatenation into {head_in.width}-bit registers, "))
    return out


def _score_accumulator(prec, i: int, head_dim: int) -> FixedType:
    """The exact dot product, its bits read with the 1/sqrt(head_dim) shift (what the score cast rounds)."""
    acc = product_accumulator(prec.types[f"enc{i}.q"]["output"], prec.types[f"enc{i}.k"]["output"], head_dim)
    return FixedType(acc.width, acc.integer - score_shift(head_dim), True, "trn", "wrap")


def _input_type(cfg, prec, loop) -> FixedType:
    """Type of the tensor a dense layer reads (the head of a mean_last model reads both halves' union)."""
    src = loop.reads[0]
    if src == "head_in":
        return union_type(prec.types["pool"]["output"], prec.types[f"enc{cfg.model.layers - 1}.norm2"]["output"])
    return prec.types[src]["output"]


def dense_accumulator_bound(x: FixedType, w: FixedType, b: FixedType, terms: int) -> FixedType:
    """Accumulator of b + sum of ``terms`` products over the full type ranges (before training)."""
    prod = product_accumulator(x, w, terms)
    f = max(prod.frac, b.frac)
    lo = prod.min_int * 2 ** (f - prod.frac) + b.min_int * 2 ** (f - b.frac)
    hi = prod.max_int * 2 ** (f - prod.frac) + b.max_int * 2 ** (f - b.frac)
    return exact_sum_type(lo, hi, f)


def buffer_estimates(plan: HLSPlan) -> list[BufferEstimate]:
    out = []
    for mem in [*plan.buffers.values(), *plan.roms.values()]:
        readers = max([lp.lanes for lp in plan.loops.values() if mem.name in lp.reads] or [1])
        writers = max([lp.writes_per_clock for lp in plan.loops.values() if lp.writes == mem.name] or [1])
        cost = memory_cost(mem.storage, mem.banks, mem.bank_words, mem.width, readers, mem.rom, writers,
                           mem.reshaped)
        out.append(BufferEstimate(mem.name, mem.storage, mem.words, mem.width, mem.banks, cost))
    return out


def n_features_of(cfg) -> int:
    """Input channels of the model: the feature columns (plus the target level for differences)."""
    extra = 1 if cfg.data.inputs == "differences" else 0
    if cfg.data.features and cfg.data.source == "builtin":
        return len(cfg.data.features) + extra
    from ..data import _columns, load_frame

    frame, _ = load_frame(cfg.data)  # a user's CSV: its columns are checked (data.features names them)
    return len(_columns(frame, cfg.data)) + extra


def _budget(part) -> dict:
    return {"lut": part.lut, "lutram": part.lutram, "ff": part.ff, "bram18": part.bram18, "dsp": part.dsp}


def estimate_plan(cfg, prec, plan: HLSPlan, calibration: dict | None = None) -> Estimate:
    """Per-layer and per-buffer estimate of ``plan`` against ``cfg.target.part``; ``calibration`` scales totals
    (and the cycles of the layers it has factors for)."""
    from ..parts import parse_part

    part = parse_part(cfg.target.part)

    before, after, adapter_memories = interface_estimates(cfg, prec, plan)
    layers = before + layer_estimates(cfg, prec, plan) + after
    buffers = buffer_estimates(plan) + adapter_memories
    cost = Cost(lut=TOP_CONTROL_LUT, ff=TOP_CONTROL_FF)
    for item in (*layers, *buffers):
        cost += item.cost
    factors = (calibration or {}).get("factors", {})
    per_layer = (calibration or {}).get("layers", {})  # layers whose own loops were measured
    raw = {**{r: getattr(cost, r) for r in RESOURCES}, "latency": sum(e.cycles for e in layers)}
    total = {r: int(math.ceil(raw[r] * factors.get(r, 1.0))) for r in RESOURCES}
    scaled = sum(e.cycles * per_layer.get(e.name, factors.get("latency", 1.0)) for e in layers)
    cycles = int(math.ceil(round(scaled, 6)))  # a calibrated estimate of the measured design gives its figure
    budget = _budget(part)
    overflowing = [r for r in RESOURCES if budget[r] is not None and total[r] > budget[r]]
    energy = energy_of(part.device, total, cfg.target.clock_mhz, cycles, cfg.target.toggle_rate,
                       (calibration or {}).get("power"))
    cautions = _cautions(cfg, prec, cycles, bool(per_layer or "latency" in factors), energy is not None) + \
        storage_notes(cfg, plan) + _default_features_note(cfg, plan, layers, buffers, raw)
    return Estimate(part=cfg.target.part, clock_mhz=cfg.target.clock_mhz, layers=layers, buffers=buffers,
                    total=total, budget=budget, latency_cycles=cycles, macs=plan.macs,
                    dsp_bound_cycles=math.ceil(plan.macs / part.dsp) if part.dsp else 0, plan=plan,
                    uncalibrated=raw, calibrated=bool(factors or per_layer), overflowing=overflowing,
                    headroom=cfg.target.headroom if cfg.hls.default_parallelism == "auto" else None, energy=energy,
                    cautions=cautions)


def _cautions(cfg, prec, cycles: int, cycles_calibrated: bool, priced: bool) -> list[str]:
    """Valid settings whose figures or function a user would not expect: uncalibrated cycles at a clock above
    ``UNCALIBRATED_CLOCK_MHZ`` (and the energy, where ``priced``: a part with no energy figure is not told one), and a
    softmax table too fine or too coarse for the scores (for scores whose binary point is ``auto`` only the coarse
    step, in score units whatever the point: training tells the rest once it is placed)."""
    out = []
    mhz = cfg.target.clock_mhz
    if mhz > UNCALIBRATED_CLOCK_MHZ and not cycles_calibrated:
        out.append(f"target.clock_mhz = {mhz:g}: the estimate adds no pipeline stages to meet a {1000 / mhz:.3g} ns "
                   f"period, so its {cycles:,} cycles are a lower bound (the tool adds the stages a clock above "
                   f"{UNCALIBRATED_CLOCK_MHZ} MHz needs), and the latency of {cycles / mhz:,.3g} us"
                   f"{' and the energy per inference are' if priced else ' is'} optimistic until 'tsflow calibrate' corrects "
                   f"{'them' if priced else 'it'} from a synthesis at this clock")
    if cfg.quantization.softmax.index_frac is not None:
        for i, spec in prec.softmax.items():
            told = table_coverage(spec, f"enc{i}.scores", placed=(f"enc{i}.scores", "output") not in prec.auto)
            if told:
                out.append(told)
    return out


def _default_features_note(cfg, plan: HLSPlan, layers: list, buffers: list, raw: dict) -> list[str]:
    """A window wider than the model, made of every numeric column because ``data.features`` was left out: said
    with what its input stage costs, as a user who meant a few features would not guess that it is most of it."""
    embed = plan.loops.get("embed")
    if cfg.data.source != "csv" or cfg.data.features is not None or embed is None or embed.terms <= cfg.model.d_model:
        return []
    stage = [e for e in (*layers, *buffers) if e.name in ("input", "embed")]
    shares = [f"{math.ceil(sum(getattr(e.cost, r) for e in stage)):,} of the design's {math.ceil(raw[r]):,} "
              f"{r.upper()}" for r in ("lut", "ff", "bram18") if raw[r] and
              sum(getattr(e.cost, r) for e in stage) >= 0.25 * raw[r]]
    cost = f"; the window's buffer and the embedding take {' and '.join(shares)}" if shares else ""
    return [f"data.features is not given, so every numeric column of {cfg.data.path} is an input: {embed.terms} input "
            f"values a token, more than model.d_model = {cfg.model.d_model}{cost}; name the features you mean in "
            f"data.features to shrink them"]


def within_headroom(est: Estimate, headroom: float) -> bool:
    return all(est.budget[r] is None or est.total[r] <= (1 - headroom) * est.budget[r] for r in RESOURCES)


def _overflow(est: Estimate, headroom: float) -> float:
    """How far past ``1 - headroom`` of each budget the totals are, as a sum of fractions of the budget."""
    return sum(max(0.0, est.total[r] - (1 - headroom) * est.budget[r]) / est.budget[r]
               for r in RESOURCES if est.budget[r])


def _lane_candidates(plan: HLSPlan) -> list[int]:
    """Shared lane counts worth trying, largest first: for the layers that carry most of the MACs, the
    counts at which they need fewer clocks than with one lane less, each as the power of two the plan
    makes of it (``flow.hls.plan.pow2_floor``): counts between two powers give the same design, and
    estimating it once for each made a long window's search take minutes."""
    macs = {}
    for loop in plan.loops.values():
        if loop.kind == "mac":
            macs[loop.terms] = macs.get(loop.terms, 0) + loop.macs
    heavy = [t for t, m in macs.items() if m >= 0.1 * plan.macs]
    counts = {pow2_floor(math.ceil(t / k)) for t in heavy for k in range(1, t + 1)}
    return sorted((n for n in counts if n <= MAX_AUTO_LANES), reverse=True)


def _moves(cfg, est: Estimate, choice: Choice) -> list[Choice]:
    """Changes that give resources back for cycles: auto buffers from LUTRAM to BRAM or back, the window from
    registers to memory (written in chunks, as ``hls.storage.input`` bram / lutram does), halving
    the lanes of an element-wise layer or a softmax left to auto."""
    plan, out = est.plan, []
    over = set(r for r in RESOURCES if est.budget[r] and est.total[r] > (1 - cfg.target.headroom) * est.budget[r])
    movable = [m for m in sorted(plan.buffers.values(), key=lambda m: -m.words * m.width)
               if not m.internal and m.requested == "auto" and m.storage in ("lutram", "bram")]
    to_bram = [m for m in movable if m.storage == "lutram" and over & {"lut", "lutram"}][:4]
    to_lutram = [m for m in movable if m.storage == "bram" and "bram18" in over][:4]
    roms = [m for m in sorted(plan.roms.values(), key=lambda m: -m.words * m.width) if m.requested == "auto"]
    rom_to_bram = [m for m in roms if m.storage == "lutrom" and over & {"lut"} and m.bank_words > 32]
    rom_to_lut = [m for m in roms if m.storage == "bram" and "bram18" in over]
    # the window is captured at once into registers unless moved: a wide one outgrows the flip-flops
    to_memory = [(window, "lutram" if window.words * window.width <= AUTO_LUTRAM_MAX_BITS else "bram")
                 for window in [plan.buffers.get("input")] if window is not None and window.requested == "auto"
                 and window.storage == "registers" and window.words > 1 and over & {"ff", "lut"}
                 and not {"input", "embed"} & set(cfg.hls.parallelism)]  # lanes set for a window in registers
    for mem, target in [*((m, "bram") for m in to_bram), *((m, "lutram") for m in to_lutram),
                        *((m, "bram") for m in rom_to_bram), *((m, "lutrom") for m in rom_to_lut), *to_memory]:
        out.append(replace(choice, storage={**choice.storage, mem.name: target}))
    for loop in sorted(plan.loops.values(), key=lambda lp: -lp.lanes):
        if loop.kind in ("add", "pool", "softmax") and loop.name != "input" and loop.lanes > 1 \
                and loop.name not in cfg.hls.parallelism:
            out.append(replace(choice, lanes={**choice.lanes, loop.name: max(1, loop.lanes // 2)}))
    return out


def _fit(cfg, prec, n_features: int, choice: Choice, est: Estimate | None = None) -> Estimate:
    """The estimate for ``choice`` (``est``, where the caller has it), then the move that removes most
    overflow per clock added, until it fits within the headroom or no move helps."""
    headroom = cfg.target.headroom
    est = est or estimate_plan(cfg, prec, hls_plan(cfg, prec, n_features, choice))
    if est.budget["dsp"] is not None and est.total["dsp"] > (1 - headroom) * est.budget["dsp"]:
        return est  # no move gives DSPs back: the lanes themselves are too many
    while not within_headroom(est, headroom):
        best, best_score = None, 0.0
        for move in _moves(cfg, est, choice):
            trial = estimate_plan(cfg, prec, hls_plan(cfg, prec, n_features, move))
            gain = _overflow(est, headroom) - _overflow(trial, headroom)
            score = gain / max(1, trial.latency_cycles - est.latency_cycles)
            if gain > 0 and score > best_score:
                best, best_score, best_choice = trial, score, move
        if best is None:
            break
        est, choice = best, best_choice
    return est


def _better(a: Estimate, b: Estimate) -> bool:
    """Lower latency wins; within 1 % (a multiplier's pipeline stage here and there), fewer LUTs."""
    if a.latency_cycles < 0.99 * b.latency_cycles:
        return True
    return a.latency_cycles <= 1.01 * b.latency_cycles and a.total["lut"] < b.total["lut"]


def _hopeless(est: Estimate, registers: dict, best: Estimate | None, headroom: float) -> bool:
    """A start with ``registers`` that cannot be kept: no move of ``_fit`` takes a buffer out of registers, so
    their flip-flops stay and the moves only add clocks (too slow to beat ``best``, or never within the
    headroom). Skipping it keeps the second start from doubling the search where it cannot win."""
    if best is not None and est.latency_cycles > 1.01 * best.latency_cycles:
        return True
    ff = sum(b.cost.ff for b in est.buffers if b.name in registers and b.storage == "registers")
    return est.budget["ff"] is not None and ff > (1 - headroom) * est.budget["ff"]


def plan_design(cfg, prec=None, n_features: int | None = None, calibration: dict | None = None) -> Estimate:
    """The design ``cfg`` asks for and its estimate.

    With ``hls.parallelism: auto``: for DSP and for LUT shared lanes (where ``hls.default_multiplier`` is
    auto) and for two starting points of the auto buffers' storage, the most shared lanes at which the
    design can be fitted within ``target.headroom`` (``_fit``; the useful lane counts tried from the most
    down: the cost is not monotonic in the lanes, as lanes that divide the layers' widths bank and align
    better) are found, and the design with the lowest estimated latency is kept; when nothing fits, the
    one that overflows least (the fit check then names what overflows). The storage starts from the rule
    (LUTRAM, BRAM for deep banks), which ``_fit`` moves between LUTRAM and BRAM, and from every auto buffer
    in registers: no read latency, a clock less for each layer that reads them, which a small design can
    afford and the rule never picks; that start is the search ``hls.default_storage: registers`` runs, so
    auto is never slower than it where it fits (beyond the 1 % of ``_better``). The choice is made on the
    uncalibrated model, so a calibration (factors measured on the design this choice gives) scales the
    figures of the same design it was measured on.
    """
    prec = prec or resolve_precisions(cfg)
    n_features = n_features or n_features_of(cfg)
    if cfg.hls.default_parallelism != "auto":
        return estimate_plan(cfg, prec, hls_plan(cfg, prec, n_features), calibration)
    # the layers off the shared lanes take the other kind of multiplier, leaving the shared lanes the most, or
    # DSPs too where the shared DSP lanes leave DSPs idle and the LUTs are what binds
    combos = [("dsp", "lut"), ("lut", "dsp"), ("dsp", "dsp")] if cfg.hls.default_multiplier == "auto" else [(None, None)]
    widest = hls_plan(cfg, prec, n_features, Choice(auto_lanes=MAX_AUTO_LANES))
    candidates = _lane_candidates(widest)
    registers = {m.name: "registers" for m in widest.buffers.values()
                 if m.requested == "auto" and m.storage not in ("fused", "port") and not m.internal}
    best = closest = None
    for storage, (engine_mapping, private_mapping) in itertools.product([{}, registers] if registers else [{}],
                                                                        combos):
        for lanes in candidates:  # most lanes first: the first that fits needs the fewest clocks
            choice = Choice(lanes, engine_mapping, private_mapping, storage=storage)
            est = estimate_plan(cfg, prec, hls_plan(cfg, prec, n_features, choice))
            if storage and _hopeless(est, storage, best, cfg.target.headroom):
                continue
            est = _fit(cfg, prec, n_features, choice, est)
            if within_headroom(est, cfg.target.headroom):
                if best is None or _better(est, best):
                    best = est
                break
            if closest is None or _overflow(est, cfg.target.headroom) < _overflow(closest, cfg.target.headroom):
                closest = est
    return estimate_plan(cfg, prec, (best or closest).plan, calibration)


def require_quantized(cfg, what: str) -> None:
    """``what`` prices the integer design, which only a quantized configuration has: a float one is refused
    as ``tsflow build`` refuses it, not priced as a design at quantization.bits it will never produce."""
    if not cfg.quantization.enabled:
        raise ConfigError(f"invalid configuration: quantization.enabled = False: {what}; a float model has no "
                          f"design to estimate (tsflow build refuses it too: an HLS build needs the quantized "
                          f"model); allowed: true (remove quantization.enabled: false)")


def estimate(cfg, n_features: int | None = None, calibration: dict | None = None) -> Estimate:
    """The estimate of the design ``tsflow build`` generates for ``cfg``."""
    require_quantized(cfg, f"the estimate prices the {cfg.quantization.bits}-bit integer design tsflow build "
                           f"generates")
    return plan_design(cfg, n_features=n_features, calibration=calibration)
