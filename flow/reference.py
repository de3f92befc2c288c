"""Bit-accurate reference forward in integer arithmetic (numpy int64).

Every layer boundary is returned as integer mantissas with its ``FixedType``: the C simulation is
compared against exactly this trace, layer by layer.  Products and sums are exact integers; the only
roundings are ``fixedpoint.requantize`` calls, one per boundary, and the softmax of ``tables``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fixedpoint import FixedType, quantize, requantize
from .precision import Precisions
from .tables import POOL_RECIPROCAL_FRAC, reciprocal_constant, score_shift, softmax_int


@dataclass
class Boundary:
    mantissa: np.ndarray
    type: FixedType

    @property
    def values(self) -> np.ndarray:
        return self.mantissa.astype(np.float64) * self.type.lsb


def _align(m: np.ndarray, frac: int, target_frac: int) -> np.ndarray:
    return m << (target_frac - frac)


def _dense(x: Boundary, w: np.ndarray, b: np.ndarray, types: dict, relu: bool = False) -> Boundary:
    fw, fb = types["weight"].frac, types["bias"].frac
    f_prod = x.type.frac + fw
    f_acc = max(f_prod, fb)
    acc = _align(np.matmul(x.mantissa, w), f_prod, f_acc) + _align(b, fb, f_acc)
    if relu:
        acc = np.maximum(acc, 0)
    return Boundary(requantize(acc, f_acc, types["output"]), types["output"])


def _add(a: Boundary, b: Boundary, t: FixedType) -> Boundary:
    f = max(a.type.frac, b.type.frac)
    return Boundary(requantize(_align(a.mantissa, a.type.frac, f) + _align(b.mantissa, b.type.frac, f), f, t), t)


def _affine(x: Boundary, scale: np.ndarray, shift: np.ndarray, types: dict) -> Boundary:
    f_prod = x.type.frac + types["scale"].frac
    fs = types["shift"].frac
    f = max(f_prod, fs)
    acc = _align(x.mantissa * scale, f_prod, f) + _align(shift, fs, f)
    return Boundary(requantize(acc, f, types["output"]), types["output"])


def _attention(h: Boundary, params: dict, prec: Precisions, i: int, heads: int, trace: dict) -> Boundary:
    p = f"enc{i}."
    t = prec.types
    q, k, v = (_dense(h, params[p + n]["weight"], params[p + n]["bias"], t[p + n]) for n in ("q", "k", "v"))
    trace.update({p + "q": q, p + "k": k, p + "v": v})
    n, L, d = q.mantissa.shape
    dh = d // heads

    def split(a):
        return a.reshape(n, L, heads, dh).transpose(0, 2, 1, 3)

    shift = score_shift(dh)
    f_scores = q.type.frac + k.type.frac + shift
    raw = np.matmul(split(q.mantissa), split(k.mantissa).transpose(0, 1, 3, 2))
    st = t[p + "scores"]["output"]
    scores = Boundary(requantize(raw, f_scores, st), st)
    spec = prec.softmax[i]
    probs = Boundary(softmax_int(scores.mantissa, spec), spec.prob)
    ct = t[p + "context"]["output"]
    ctx_raw = np.matmul(probs.mantissa, split(v.mantissa))
    ctx = Boundary(requantize(ctx_raw, probs.type.frac + v.type.frac, ct), ct)
    trace.update({p + "scores": scores, p + "softmax": probs, p + "context": ctx})
    merged = Boundary(ctx.mantissa.transpose(0, 2, 1, 3).reshape(n, L, d), ct)
    out = _dense(merged, params[p + "o"]["weight"], params[p + "o"]["bias"], t[p + "o"])
    trace[p + "o"] = out
    return out


def _patches(x: Boundary, patch) -> Boundary:
    """The embedding's tokens: each patch's steps side by side (n, tokens, length * channels), or the steps."""
    if patch is None:
        return x
    n, steps, channels = x.mantissa.shape
    starts = range(0, steps - patch.length + 1, patch.stride)
    tokens = np.stack([x.mantissa[:, s:s + patch.length, :].reshape(n, -1) for s in starts], axis=1)
    return Boundary(tokens, x.type)


def reference_forward(x: np.ndarray, params: dict, prec: Precisions, model_cfg, target_index: int) -> dict:
    """Run the integer model on float windows ``x`` (n, window, features); returns name -> Boundary.

    The last entry (``delta`` or ``head``) is the model output, shape (n, data.steps).
    """
    t = prec.types
    trace = {}
    xin = Boundary(quantize(x, t["input"]["output"]), t["input"]["output"])
    trace["input"] = xin
    h = _dense(_patches(xin, model_cfg.patch), params["embed"]["weight"], params["embed"]["bias"], t["embed"])
    trace["embed"] = h
    pe = Boundary(params["pos"]["table"], t["pos"]["table"])
    h = _add(h, Boundary(np.broadcast_to(pe.mantissa, h.mantissa.shape), pe.type), t["pos"]["output"])
    trace["pos"] = h
    for i in range(model_cfg.layers):
        p = f"enc{i}."
        a = _attention(h, params, prec, i, model_cfg.heads, trace)
        h = trace[p + "add1"] = _add(h, a, t[p + "add1"]["output"])
        h = trace[p + "norm1"] = _affine(h, params[p + "norm1"]["scale"], params[p + "norm1"]["shift"], t[p + "norm1"])
        f = trace[p + "ffn1"] = _dense(h, params[p + "ffn1"]["weight"], params[p + "ffn1"]["bias"], t[p + "ffn1"],
                                        relu=True)
        f = trace[p + "ffn2"] = _dense(f, params[p + "ffn2"]["weight"], params[p + "ffn2"]["bias"], t[p + "ffn2"])
        h = trace[p + "add2"] = _add(h, f, t[p + "add2"]["output"])
        h = trace[p + "norm2"] = _affine(h, params[p + "norm2"]["scale"], params[p + "norm2"]["shift"], t[p + "norm2"])
    w, b, ht = params["head"]["weight"], params["head"]["bias"], t["head"]
    if model_cfg.head == "flatten":  # every token's values, token after token
        trace["head"] = y = _dense(Boundary(h.mantissa.reshape(h.mantissa.shape[0], -1), h.type), w, b, ht)
        return _delta(trace, y, xin, model_cfg, t, target_index)
    tokens = h.mantissa.shape[1]
    c = reciprocal_constant(tokens, POOL_RECIPROCAL_FRAC)
    pt = t["pool"]["output"]
    pooled = Boundary(requantize(h.mantissa.sum(axis=1) * c, h.type.frac + POOL_RECIPROCAL_FRAC, pt), pt)
    trace["pool"] = pooled
    if model_cfg.head == "mean_last":
        d = pooled.mantissa.shape[1]
        last = Boundary(h.mantissa[:, -1, :], h.type)
        f1 = pooled.type.frac + ht["weight"].frac
        f2 = last.type.frac + ht["weight"].frac
        f = max(f1, f2, ht["bias"].frac)
        acc = (_align(pooled.mantissa @ w[:d], f1, f) + _align(last.mantissa @ w[d:], f2, f)
               + _align(b, ht["bias"].frac, f))
        y = Boundary(requantize(acc, f, ht["output"]), ht["output"])
    else:
        y = _dense(pooled, w, b, ht)
    trace["head"] = y
    return _delta(trace, y, xin, model_cfg, t, target_index)


def _delta(trace: dict, y: Boundary, xin: Boundary, model_cfg, t: dict, target_index: int) -> dict:
    """With predict_delta: the window's last level of the target added to every step of the head."""
    if model_cfg.predict_delta:
        last_target = Boundary(xin.mantissa[:, -1, target_index:target_index + 1], xin.type)
        trace["delta"] = _add(y, last_target, t["delta"]["output"])
    return trace


def output_of(trace: dict) -> Boundary:
    return trace["delta"] if "delta" in trace else trace["head"]
