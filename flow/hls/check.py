"""The written C++ against the plan the estimate priced: a build stops when they differ.

The estimate's figures hold only if the C++ forces the structure they assume, so after the writer has
run, the firmware is read back as text: the engine is called from exactly ``engine.call_sites`` places
inside the loop over the layers and no pragma merges copies of it; every loop the plan pipelines is
there under its label in its function, pipelined at II=1, and no other loop is pipelined; the engine
runs each layer for the plan's trips and on the plan's lanes; every buffer and table is banked as
planned.
"""
from __future__ import annotations

import re
from pathlib import Path

from .plan import ENGINE_FUNCTION

_PIPELINE = re.compile(r"#pragma HLS PIPELINE II\s*=\s*1")
_LABEL = re.compile(r"^\s*([A-Za-z_]\w*):\s*$")
_CASE = re.compile(r"case (\d+): nc = (\d+); no = (\d+); nr = (\d+); ng = (\d+); break;\s*// (\S+)")


class PlanMismatch(Exception):
    """The written C++ does not build what the plan (and so the estimate) says."""


def _pipelined_labels(text: str) -> list[str]:
    """The label of every loop that carries a PIPELINE pragma: the nearest label above it."""
    out, label = [], None
    for line in text.splitlines():
        m = _LABEL.match(line)
        if m and not line.strip().startswith(("case", "default", "public", "private")):
            label = m.group(1)
        elif _PIPELINE.search(line):
            out.append(label)
    return out


def _body(text: str, function: str) -> str | None:
    """The braces of the function ``function`` defined in ``text`` (plain or a template), or None."""
    m = re.search(rf"^(?:inline )?[\w:<>, ]*\b{re.escape(function)}\(", text, re.M)
    if m is None:
        return None
    start = text.index("{", m.end())
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    return None


def check_written(firmware: Path, plan: dict, top: str) -> None:
    """Raise PlanMismatch naming every way the firmware in ``firmware`` differs from ``plan``."""
    firmware = Path(firmware)
    top_text = (firmware / f"{top}.cpp").read_text()
    engine_text = (firmware / "tsflow_engine.h").read_text()
    layers_text = (firmware / "nnet_utils" / "tsflow_layers.h").read_text()
    lanes_text = (firmware / "tsflow_lanes.h").read_text()
    problems = []
    everything = top_text + engine_text + layers_text
    if "ALLOCATION" in everything:
        problems.append("an ALLOCATION pragma: the lanes must be shared by the code's structure, not merged by a pragma")
    engine = plan["engine"]
    mac = {n: lp for n, lp in plan["layers"].items() if lp["kind"] == "mac"}
    calls = len(re.findall(rf"\b{ENGINE_FUNCTION}\(", top_text))
    wanted_calls = engine["call_sites"] if engine else (1 if mac else 0)
    if calls != wanted_calls:
        problems.append(f"{ENGINE_FUNCTION} is called from {calls} place(s) in {top}.cpp; the plan says {wanted_calls}")
    elif calls and not re.search(rf"Layers:\s*\n\s*for \(unsigned layer = 0; layer < {len(mac)}; layer\+\+\) \{{\s*\n\s*"
                                 rf"{ENGINE_FUNCTION}\(layer,", top_text):
        problems.append(f"{ENGINE_FUNCTION} is not called first in the loop over the {len(mac)} multiplying layers")
    if engine:
        m = re.search(r"static const unsigned lanes = (\d+);", lanes_text)
        if m is None or int(m.group(1)) != engine["lanes"]:
            problems.append(f"tsflow_lanes.h has {m.group(1) if m else 'no'} lanes; the plan {engine['lanes']}")
    body = _body(engine_text, ENGINE_FUNCTION) or ""
    cases = {m.group(6): int(m.group(2)) * int(m.group(3)) * int(m.group(4)) * int(m.group(5))
             for m in _CASE.finditer(body)}
    for name, lp in mac.items():
        if cases.get(name) != lp["trips"]:
            problems.append(f"the engine runs {name} for {cases.get(name, 'no')} clocks; the plan {lp['trips']}")
    problems += [f"the engine runs {name}, which the plan does not" for name in sorted(set(cases) - set(mac))]
    planned = plan["loops"]
    for loop in planned:
        fn = _body(engine_text, loop["function"]) or _body(top_text, loop["function"])
        if fn is None:
            problems.append(f"no function {loop['function']} for the pipelined loop {loop['label']}")
            continue
        # the loop is in the function, or in the tsflow_layers.h template the function calls
        called = re.findall(r"tsflow::(\w+)<", fn)
        sources = [fn] + [_body(layers_text, c) or "" for c in called]
        if not any(loop["label"] in _pipelined_labels(s) for s in sources):
            problems.append(f"{loop['function']}: no loop {loop['label']} pipelined at II=1")
        if loop["function"] == ENGINE_FUNCTION:
            trips = loop["trips"]
            if f"LOOP_TRIPCOUNT min={trips['min']} max={trips['max']}" not in fn:
                problems.append(f"{ENGINE_FUNCTION}: the trip count of {loop['label']} is not "
                                f"{trips['min']}..{trips['max']}")
    labels = {lp["label"] for lp in planned}
    stray = {lb for lb in _pipelined_labels(engine_text) + _pipelined_labels(top_text) if lb not in labels}
    problems += [f"a pipelined loop the plan does not have: {lb}" for lb in sorted(stray, key=str)]
    for name, mem in {**plan["buffers"], **plan["roms"]}.items():
        if mem["storage"] in ("registers", "fused", "port") or mem["banks"] < 2:
            continue
        how = "ARRAY_RESHAPE" if mem.get("reshaped") else "ARRAY_PARTITION"
        pragma = f"#pragma HLS {how} variable={name.replace('.', '_')} cyclic factor={mem['banks']} dim=1"
        if pragma not in everything:
            problems.append(f"{name}: no '{pragma}'")
    if problems:
        raise PlanMismatch("the written C++ differs from the plan the estimate priced: " + "; ".join(problems))

