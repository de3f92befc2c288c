"""An independent, slow forward pass of the tsflow Transformer: the oracle of ``tests/test_oracle.py``.

Written from the numerical contract alone (``../shared/DESIGN.md``, "The numerical contract", and
``docs/numerics.md``), never from the production code: nothing here imports ``flow`` or
``keras_models``. Every value is an exact rational (``fractions.Fraction``); every rounding rule
(half to even, half up, floor) and overflow rule (saturate, wrap) is written out below. What the
contract defines as a table or a constant (the positional encoding, the exp table of the softmax, the
pooling reciprocal, the score shift 1/sqrt(d) as a power of two, the norm's folded scale and shift) is
computed here from its formula; the transcendental ones (sin, cos, exp, sqrt) with ``decimal`` at 80
digits, and a value that lands within 1e-30 of a rounding boundary raises ``Undecided`` instead of
guessing.

The inputs are plain data (``OracleModel``): the model shape, the type of every tensor (width, integer
bits, signedness, rounding, overflow) and the real values of the weights and norm statistics. The
output is, for one window, every layer boundary as integer mantissas with its type, under the names the
integer reference (``flow.reference``) gives them.

The contract, as used here:

- A type ``Fx(W, I, signed, rounding, overflow)`` holds ``m * 2^-(W-I)`` for an integer mantissa ``m``
  in ``[-2^(W-1), 2^(W-1)-1]`` (signed) or ``[0, 2^W-1]``. Quantizing a real ``x`` takes ``x * 2^(W-I)``
  to an integer by the rounding mode (``conv`` half to even, ``rnd`` half towards +inf, ``trn`` floor),
  then saturates or wraps (two's complement: ``((m - lo) mod 2^W) + lo``).
- Weights and biases are quantized to their types in the forward pass. Products and sums are exact and
  every layer rounds once, at its output: a dense layer is ``q(x.W + b)``, the FFN's first layer
  ``q(ReLU(x.W + b))``, an add ``q(a + b)``, the norm ``q(x * q(scale) + q(shift))`` with
  ``scale = gamma / sqrt(var + eps)`` and ``shift = beta - mean * scale``.
- The positional encoding (Vaswani et al.), ``PE(p, 2i) = sin(p / 10000^(2i/d))``,
  ``PE(p, 2i+1) = cos(p / 10000^(2i/d))``, quantized to the table type, is added to the embedding.
- Attention: per head (consecutive ``d/heads`` columns), scores ``q(Q.K^T * 2^-s)`` with
  ``s = round(log2(sqrt(head_dim)))``, a tie (``head_dim`` an odd power of two) going to the larger
  shift; the softmax subtracts the row maximum in score mantissas, takes the difference to the table's
  index precision rounded to the nearest index step, half up (``(d + 2^(k-1)) >> k`` when ``k`` score
  bits are dropped; the index precision is ``quantization.softmax.index_frac``, by default the one at which
  the table spans the score range, ``default_index_frac`` below), looks up ``exp(-idx * 2^-index_frac)`` rounded to nearest in unsigned mantissas
  with the table's fraction bits (0 past the table's end), sums exactly and divides:
  ``floor(((e << F_p) + (sum >> 1)) / sum)``, saturated to the probability type; the context is
  ``q(P.V)``; the heads side by side go through the output projection.
- Encoder layer: attention, ``add1 = q(h + attn)``, norm1, ffn1 (ReLU), ffn2, ``add2 = q(h + ffn)``, norm2.
- Patch tokens (``model.patch``, length P, stride S): token n is the quantized input's steps n*S ..
  n*S+P-1 one after another, every channel of each, the embedding's input; the encoder runs over the tokens.
- Mean over time: the exact sum over the tokens times the unsigned constant ``round(2^16 / tokens)`` (its 16
  fraction bits), rounded once to the pool type.
- Head ``mean``: dense on the pooled summary; ``mean_last``: dense on the pooled summary and the last
  step of the encoder output side by side (unrounded); ``flatten``: no mean, dense on every token's
  encoder output, token after token. ``predict_delta``: the output is
  ``q(head + x_last[target])``, the quantized input's last step of the target channel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction

DIGITS = 80  # decimal digits of every transcendental value
GUARD = Decimal(10) ** -30  # closer than this to a rounding boundary: undecided (never seen in practice)
POOL_RECIPROCAL_FRAC = 16  # "round(2^16 / window)": docs/numerics.md
ROUNDINGS = ("conv", "rnd", "trn")
OVERFLOWS = ("sat", "wrap")


class Undecided(ArithmeticError):
    """A transcendental value too close to a rounding boundary to decide at ``DIGITS`` digits."""


# ---- fixed-point types, rounding and overflow -------------------------------------------------------

@dataclass(frozen=True)
class Fx:
    width: int
    integer: int
    signed: bool
    rounding: str
    overflow: str

    def __post_init__(self):
        assert self.rounding in ROUNDINGS and self.overflow in OVERFLOWS, self

    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def step(self) -> Fraction:
        return Fraction(2) ** -self.frac

    @property
    def lowest(self) -> int:
        return -(2 ** (self.width - 1)) if self.signed else 0

    @property
    def highest(self) -> int:
        return 2 ** (self.width - 1) - 1 if self.signed else 2 ** self.width - 1


def round_to_integer(x: Fraction, rounding: str) -> int:
    """The integer a rational rounds to: ``conv`` nearest, ties to the even one; ``rnd`` nearest, ties
    up (towards +inf); ``trn`` floor."""
    below = math.floor(x)
    rest = x - below  # in [0, 1)
    if rounding == "trn":
        return below
    half = Fraction(1, 2)
    if rounding == "rnd":
        return below + 1 if rest >= half else below
    if rounding == "conv":
        if rest != half:
            return below + 1 if rest > half else below
        return below if below % 2 == 0 else below + 1
    raise ValueError(rounding)


def fit(m: int, t: Fx) -> int:
    """An integer mantissa into the range of ``t``: clamp (``sat``) or two's complement wrap (``wrap``)."""
    if t.overflow == "sat":
        return min(max(m, t.lowest), t.highest)
    span = 2 ** t.width
    return (m - t.lowest) % span + t.lowest


def mantissa(x: Fraction, t: Fx) -> int:
    """The mantissa of the real ``x`` quantized to ``t`` (its rounding, then its overflow)."""
    return fit(round_to_integer(Fraction(x) / t.step, t.rounding), t)


def real(m: int, t: Fx) -> Fraction:
    return m * t.step


def quantized(x: Fraction, t: Fx) -> Fraction:
    return real(mantissa(x, t), t)


# ---- transcendental values, decided exactly or not at all -------------------------------------------

def _pi() -> Decimal:
    """pi to the context's precision (the series of the ``decimal`` documentation's recipe)."""
    with localcontext() as ctx:
        ctx.prec += 4
        three = Decimal(3)
        lasts, t, s, n, na, d, da = 0, three, 3, 1, 0, 0, 24
        while s != lasts:
            lasts = s
            n, na = n + na, na + 8
            d, da = d + da, da + 32
            t = (t * n) / d
            s += t
    return +s


def _sin_cos(x: Decimal) -> tuple[Decimal, Decimal]:
    """sin and cos by their Taylor series after reducing x to [-pi, pi]."""
    with localcontext() as ctx:
        ctx.prec += 10
        two_pi = 2 * _pi()
        x = x - two_pi * (x / two_pi).to_integral_value()
        sin, cos = Decimal(0), Decimal(0)
        term, n = Decimal(1), 0  # x^n / n!
        while True:
            if n % 4 == 0:
                cos += term
            elif n % 4 == 1:
                sin += term
            elif n % 4 == 2:
                cos -= term
            else:
                sin -= term
            n += 1
            term = term * x / n
            if n > 8 and abs(term) < Decimal(10) ** -(ctx.prec + 2):
                break
    return +sin, +cos


def round_transcendental(x: Decimal, rounding: str) -> int:
    """A (non-rational) real known to ``DIGITS`` digits, rounded: refuses to decide within ``GUARD`` of a
    boundary (an integer for floor, a half for the two nearest modes), where the digits could be wrong."""
    below = math.floor(x)
    rest = x - below
    boundary_distance = min(rest, 1 - rest) if rounding == "trn" else abs(rest - Decimal("0.5"))
    if boundary_distance < GUARD:
        raise Undecided(f"{x} is within {GUARD} of a rounding boundary ({rounding})")
    return round_to_integer(Fraction(x), rounding)


def transcendental_mantissa(x: Decimal, t: Fx) -> int:
    with localcontext() as ctx:
        ctx.prec = DIGITS
        scaled = x * Decimal(2) ** t.frac
    return fit(round_transcendental(scaled, t.rounding), t)


def positional_table(length: int, d_model: int, t: Fx) -> list[list[int]]:
    """Vaswani's sinusoidal encoding as mantissas of the table type ``t``."""
    rows = []
    with localcontext() as ctx:
        ctx.prec = DIGITS
        ln_10000 = Decimal(10000).ln()
        for p in range(length):
            row = []
            for i in range(d_model):
                if p == 0:  # angle 0: sin 0 = 0 and cos 0 = 1, exactly
                    row.append(mantissa(Fraction(i % 2), t))
                    continue
                angle = p * (-(Decimal(2 * (i // 2)) / d_model) * ln_10000).exp()  # p / 10000^(2(i//2)/d)
                sin, cos = _sin_cos(angle)
                row.append(transcendental_mantissa(sin if i % 2 == 0 else cos, t))
            rows.append(row)
    return rows


def exp_entry(k: int, index_frac: int, exp_frac: int) -> int:
    """exp(-k * 2^-index_frac) * 2^exp_frac to the nearest integer (exp(0) = 1 exactly)."""
    if k == 0:
        return 2 ** exp_frac
    with localcontext() as ctx:
        ctx.prec = DIGITS
        x = (Decimal(-k) * Decimal(2) ** -index_frac).exp() * Decimal(2) ** exp_frac
    return round_transcendental(x, "conv")


def default_index_frac(score_t: Fx, table_size: int) -> int:
    """The index precision at which the table spans the score range, at most the score's own.

    A score with ``I`` integer bits (the sign among them) spans differences ``max - min`` below ``2^I``; a
    table whose first ``2^n`` entries (``n = floor(log2 table_size)``) step by ``2^-f`` spans ``2^(n-f)``.
    The finest step that still spans the scores is ``f = n - I``; finer than the score's own fraction bits
    would only repeat entries, so ``f = min(score fraction bits, n - I)``. Worked by hand: s6.3 scores, 16
    entries: min(3, 4 - 3) = 1; 256 entries: min(3, 8 - 3) = 3 (no score bit dropped)."""
    n = table_size.bit_length() - 1  # floor(log2 table_size), in integers
    return min(score_t.frac, n - score_t.integer)


def score_shift(head_dim: int) -> int:
    """s = round(log2(sqrt(head_dim))) = round(log2(head_dim) / 2), a tie going to the larger shift: the s
    with 2^(2s-1) <= head_dim < 2^(2s+1), found by counting in integers."""
    s = 0
    while head_dim >= 2 ** (2 * s + 1):
        s += 1
    return s


def pool_reciprocal(window: int) -> int:
    """round(2^16 / window), the unsigned constant of the mean (half to even; no window up to 2^16 ties)."""
    return round_to_integer(Fraction(2 ** POOL_RECIPROCAL_FRAC, window), "conv")


def norm_constants(gamma, beta, mean, var, epsilon, scale_t: Fx, shift_t: Fx) -> tuple[list[int], list[int]]:
    """The deployed norm: mantissas of q(gamma / sqrt(var + eps)) and q(beta - mean * gamma / sqrt(var + eps))."""
    scales, shifts = [], []
    with localcontext() as ctx:
        ctx.prec = DIGITS
        for g, b, mu, v in zip(gamma, beta, mean, var):
            g, b, mu = (Decimal(float(a)) for a in (g, b, mu))  # a float's exact value
            scale = g / (Decimal(float(v)) + Decimal(float(epsilon))).sqrt()
            scales.append(transcendental_mantissa(scale, scale_t))
            shifts.append(transcendental_mantissa(b - mu * scale, shift_t))
    return scales, shifts


# ---- the model -------------------------------------------------------------------------------------

@dataclass
class OracleModel:
    """Everything the oracle needs, as plain data.

    ``types[layer][role]`` for layer names ``input``, ``embed``, ``pos`` (``table``, ``output``),
    ``enc{i}.{q,k,v,o,ffn1,ffn2}`` and ``head`` (``weight``, ``bias``, ``output``), ``enc{i}.scores``,
    ``enc{i}.context``, ``enc{i}.add1``, ``enc{i}.add2``, ``pool``, ``delta`` (``output``),
    ``enc{i}.softmax`` (``table``: the exp table's type, ``output``: the probabilities), ``enc{i}.norm{1,2}``
    (``scale``, ``shift``, ``output``). ``dense[layer] = (kernel[n_in][n_out], bias[n_out])`` as real
    numbers (floats or fractions); ``norms[layer] = dict(gamma, beta, mean, var, epsilon)``;
    ``softmax[i] = dict(table_size, index_frac)``, as the YAML sets them (``index_frac`` None: the default,
    worked out here from the score type, ``default_index_frac``).
    """

    window: int
    n_features: int
    d_model: int
    heads: int
    layers: int
    head: str
    predict_delta: bool
    target_index: int
    types: dict
    dense: dict
    norms: dict
    softmax: dict
    patch: tuple | None = None  # (length, stride): each token a patch of consecutive steps; None: a step
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def tokens(self) -> int:
        """The sequence the encoder runs over: the window's steps, or its patches."""
        if self.patch is None:
            return self.window
        length, stride = self.patch
        return (self.window - length) // stride + 1

    def t(self, layer: str, role: str = "output") -> Fx:
        return self.types[layer][role]

    def weights(self, layer: str) -> tuple[list[list[Fraction]], list[Fraction]]:
        """The quantized kernel and bias of a dense layer, as exact reals."""
        key = ("dense", layer)
        if key not in self._cache:
            kernel, bias = self.dense[layer]
            wt, bt = self.t(layer, "weight"), self.t(layer, "bias")
            self._cache[key] = ([[quantized(Fraction(w), wt) for w in row] for row in kernel],
                                [quantized(Fraction(b), bt) for b in bias])
        return self._cache[key]

    def weight_mantissas(self, layer: str) -> tuple[list[list[int]], list[int]]:
        kernel, bias = self.weights(layer)
        wt, bt = self.t(layer, "weight"), self.t(layer, "bias")
        return [[int(w / wt.step) for w in row] for row in kernel], [int(b / bt.step) for b in bias]

    def norm(self, layer: str) -> tuple[list[Fraction], list[Fraction]]:
        key = ("norm", layer)
        if key not in self._cache:
            st, ht = self.t(layer, "scale"), self.t(layer, "shift")
            scales, shifts = norm_constants(**self.norms[layer], scale_t=st, shift_t=ht)
            self._cache[key] = ([real(m, st) for m in scales], [real(m, ht) for m in shifts])
        return self._cache[key]

    def pos_table(self) -> list[list[int]]:
        if "pos" not in self._cache:
            self._cache["pos"] = positional_table(self.tokens, self.d_model, self.t("pos", "table"))
        return self._cache["pos"]

    def index_frac(self, i: int) -> int:
        """The table index's fraction bits of encoder layer ``i``: the YAML's, or the default."""
        sm = self.softmax[i]
        if sm.get("index_frac") is not None:
            return sm["index_frac"]
        return default_index_frac(self.t(f"enc{i}.scores"), sm["table_size"])

    def exp_table(self, i: int) -> list[int]:
        key = ("exp", i)
        if key not in self._cache:
            et = self.t(f"enc{i}.softmax", "table")
            table = [exp_entry(k, self.index_frac(i), et.frac) for k in range(self.softmax[i]["table_size"])]
            assert all(et.lowest <= e <= et.highest for e in table), "the exp table does not fit its type"
            self._cache[key] = table
        return self._cache[key]


class Trace(dict):
    """name -> (type, mantissas as nested lists) for one window; ``value(name)`` gives the exact reals."""

    def record(self, name: str, t: Fx, m):
        self[name] = (t, m)
        return m

    def value(self, name: str):
        t, m = self[name]
        return _map(lambda v: real(v, t), m)


def _map(f, nested):
    return [_map(f, v) for v in nested] if isinstance(nested, list) else f(nested)


def _dense(rows: list[list[Fraction]], model: OracleModel, layer: str, relu: bool = False) -> list[list[int]]:
    kernel, bias = model.weights(layer)
    out_t = model.t(layer)
    result = []
    for x in rows:
        row = []
        for o in range(len(bias)):
            acc = sum((x[i] * kernel[i][o] for i in range(len(x))), Fraction(0)) + bias[o]
            if relu:
                acc = max(acc, Fraction(0))
            row.append(mantissa(acc, out_t))
        result.append(row)
    return result


def _add(a: list[list[Fraction]], b: list[list[Fraction]], t: Fx) -> list[list[int]]:
    return [[mantissa(x + y, t) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def _norm(rows: list[list[Fraction]], model: OracleModel, layer: str) -> list[list[int]]:
    scale, shift = model.norm(layer)
    t = model.t(layer)
    return [[mantissa(x * scale[c] + shift[c], t) for c, x in enumerate(row)] for row in rows]


def _softmax_row(scores: list[int], score_t: Fx, prob_t: Fx, table: list[int], index_frac: int) -> list[int]:
    top = max(scores)
    drop = score_t.frac - index_frac  # score bits the table index does not have
    exps = []
    for s in scores:
        diff = top - s  # >= 0, in score mantissa units
        if drop > 0:
            idx = (diff + 2 ** (drop - 1)) // 2 ** drop  # nearest index step, half up
        else:
            idx = diff * 2 ** (-drop)
        exps.append(table[idx] if idx < len(table) else 0)
    total = sum(exps)
    return [min((e * 2 ** prob_t.frac + total // 2) // total, prob_t.highest) for e in exps]


def forward(window: list[list[float]], model: OracleModel) -> Trace:
    """Every boundary of one window (``window[step][feature]``, real numbers) as the contract computes it."""
    tr = Trace()
    L, d, H = model.tokens, model.d_model, model.heads
    dh = d // H
    assert len(window) == model.window and all(len(r) == model.n_features for r in window)
    in_t = model.t("input")
    tr.record("input", in_t, [[mantissa(Fraction(v), in_t) for v in row] for row in window])
    steps = tr.value("input")
    if model.patch:  # token n: steps n*stride .. n*stride + length - 1, one after another, all channels each
        length, stride = model.patch
        steps = [[v for row in steps[n * stride:n * stride + length] for v in row] for n in range(L)]
    tr.record("embed", model.t("embed"), _dense(steps, model, "embed"))
    pos_t = model.t("pos", "table")
    table = [[real(m, pos_t) for m in row] for row in model.pos_table()]
    tr.record("pos", model.t("pos"), _add(tr.value("embed"), table, model.t("pos")))
    h = "pos"
    shift = score_shift(dh)
    for i in range(model.layers):
        p = f"enc{i}."
        for n in ("q", "k", "v"):
            tr.record(p + n, model.t(p + n), _dense(tr.value(h), model, p + n))
        q, k, v = (tr.value(p + n) for n in ("q", "k", "v"))
        st, pt, ct = model.t(p + "scores"), model.t(p + "softmax"), model.t(p + "context")
        exp_table, index_frac = model.exp_table(i), model.index_frac(i)
        scores, probs, context = [], [], []
        for head in range(H):
            cols = range(head * dh, (head + 1) * dh)
            s_h = [[mantissa(sum((q[a][c] * k[b][c] for c in cols), Fraction(0)) * Fraction(2) ** -shift, st)
                    for b in range(L)] for a in range(L)]
            p_h = [_softmax_row(row, st, pt, exp_table, index_frac) for row in s_h]
            p_real = [[real(m, pt) for m in row] for row in p_h]
            c_h = [[mantissa(sum((p_real[a][b] * v[b][c] for b in range(L)), Fraction(0)), ct) for c in cols]
                   for a in range(L)]
            scores.append(s_h)
            probs.append(p_h)
            context.append(c_h)
        tr.record(p + "scores", st, scores)
        tr.record(p + "softmax", pt, probs)
        tr.record(p + "context", ct, context)
        ctx = tr.value(p + "context")
        merged = [[ctx[c // dh][a][c % dh] for c in range(d)] for a in range(L)]  # heads side by side
        tr.record(p + "o", model.t(p + "o"), _dense(merged, model, p + "o"))
        tr.record(p + "add1", model.t(p + "add1"), _add(tr.value(h), tr.value(p + "o"), model.t(p + "add1")))
        tr.record(p + "norm1", model.t(p + "norm1"), _norm(tr.value(p + "add1"), model, p + "norm1"))
        tr.record(p + "ffn1", model.t(p + "ffn1"), _dense(tr.value(p + "norm1"), model, p + "ffn1", relu=True))
        tr.record(p + "ffn2", model.t(p + "ffn2"), _dense(tr.value(p + "ffn1"), model, p + "ffn2"))
        tr.record(p + "add2", model.t(p + "add2"),
                  _add(tr.value(p + "norm1"), tr.value(p + "ffn2"), model.t(p + "add2")))
        tr.record(p + "norm2", model.t(p + "norm2"), _norm(tr.value(p + "add2"), model, p + "norm2"))
        h = p + "norm2"
    enc = tr.value(h)
    if model.head == "flatten":  # every token's values, token after token
        head_in = [v for row in enc for v in row]
    else:
        recip = Fraction(pool_reciprocal(L), 2 ** POOL_RECIPROCAL_FRAC)
        pool_t = model.t("pool")
        tr.record("pool", pool_t, [mantissa(sum((enc[a][c] for a in range(L)), Fraction(0)) * recip, pool_t)
                                   for c in range(d)])
        head_in = tr.value("pool") + (enc[L - 1] if model.head == "mean_last" else [])
    tr.record("head", model.t("head"), _dense([head_in], model, "head")[0])
    if model.predict_delta:
        last = tr.value("input")[model.window - 1][model.target_index]
        tr.record("delta", model.t("delta"), [mantissa(tr.value("head")[0] + last, model.t("delta"))])
    return tr


def output_name(model: OracleModel) -> str:
    return "delta" if model.predict_delta else "head"
