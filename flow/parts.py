"""Xilinx 7-series parts: programmable-logic resources per device and strict Vivado part-string validation.

``parse_part("xc7s15ftgb196-2")`` returns a :class:`Part`, the budget the resource estimator checks
against. A string that is not a Vivado part of a known device raises :class:`UnknownPart`, whose message
names the value and lists what is allowed (the known devices, or that device's packages or speed grades).
"""
from __future__ import annotations

import re
from dataclasses import dataclass


class UnknownPart(ValueError):
    """Not a Vivado part of a known device; ``str()`` names the value and what is allowed."""


@dataclass(frozen=True)
class Resources:
    """Programmable-logic resources of a device.

    ``lut`` 6-input LUTs; ``lutram`` LUTs usable as distributed RAM (the SLICEM LUTs), ``None`` where no
    source gives the figure; ``ff`` CLB flip-flops; ``bram18`` 18 Kb block RAMs (two per 36 Kb block);
    ``dsp`` DSP48E1 slices.
    """

    family: str
    lut: int
    lutram: int | None
    ff: int
    bram18: int
    dsp: int


@dataclass(frozen=True)
class Device(Resources):
    """One row of :data:`PARTS`: resources, packages and speed grades.

    ``speed_grades`` maps the letter Vivado puts between device and package to the grades spelled that
    way: ``""`` for the usual parts, ``"i"`` / ``"l"`` for the low-voltage ones (``xc7a35ticsg324-1L``,
    ``xc7a35tlcsg324-2L``).
    """

    packages: tuple[str, ...]
    speed_grades: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Part(Resources):
    """A Vivado part: its device's resources, package and speed grade. ``part`` is the canonical
    Vivado spelling (lower case, speed grade as Vivado writes it, e.g. ``xc7a35ticsg324-1L``);
    ``speed_grade`` includes the dash (``-1IL``)."""

    device: str
    part: str
    package: str
    speed_grade: str


_SPARTAN7 = {"": ("-1", "-2", "-1IL", "-1Q")}
_ARTIX7 = {"": ("-1", "-2", "-2L", "-3"), "i": ("-1L",), "l": ("-2L",)}
_ZYNQ_SINGLE_CORE = {"": ("-1", "-2")}
_ZYNQ = {"": ("-1", "-2", "-3")}
_ZYNQ_LOW_POWER = {**_ZYNQ, "i": ("-1L",)}


def _row(family: str, grades: dict[str, tuple[str, ...]], lut: int, lutram: int | None, ff: int, bram36: int,
         dsp: int, packages: str) -> Device:
    return Device(family, lut, lutram, ff, 2 * bram36, dsp, tuple(packages.split()), grades)


# Resources: DS180 "7 Series FPGAs Data Sheet: Overview" (Spartan-7 and Artix-7 feature summaries: LUT =
# 4 x slices, CLB flip-flops, LUTRAM = max distributed RAM Kb * 1024 / 64, 36 Kb block RAMs, DSP slices) and
# DS190 "Zynq-7000 SoC Data Sheet: Overview" (PL only: LUTs, flip-flops, 36 Kb block RAMs, DSP slices).
# DS190 gives no distributed-RAM figure: the Zynq LUTRAM is 4 x the SLICEM count where a Vivado report
# (xc7z020, xc7z045) or a published SLICEM count (xc7z010: 1,500) gives it, else None. DS180 rounds the distributed RAM of the XC7A100T (1,187.5 Kb) and XC7A200T
# (2,887.5 Kb): those two use Vivado's exact counts. Checked against Vivado report_utilization "Available"
# figures for xc7s50, xc7a35t (LUT, FF, BRAM, DSP), xc7a100t, xc7a200t, xc7z020 and xc7z045.
# Packages: Xilinx package/device pinout files pages; speed grades: the Vivado part list.
PARTS: dict[str, Device] = {
    # device: _row(family, speed grades, LUT, LUTRAM, FF, BRAM36, DSP, packages)
    "xc7s6": _row("spartan7", _SPARTAN7, 3_750, 1_120, 7_500, 5, 10, "cpga196 csga225 ftgb196"),
    "xc7s15": _row("spartan7", _SPARTAN7, 8_000, 2_400, 16_000, 10, 20, "cpga196 csga225 ftgb196"),
    "xc7s25": _row("spartan7", _SPARTAN7, 14_600, 5_008, 29_200, 45, 80, "csga225 csga324 ftgb196"),
    "xc7s50": _row("spartan7", _SPARTAN7, 32_600, 9_600, 65_200, 75, 120, "csga324 fgga484 ftgb196"),
    "xc7s75": _row("spartan7", _SPARTAN7, 48_000, 13_312, 96_000, 90, 140, "fgga484 fgga676"),
    "xc7s100": _row("spartan7", _SPARTAN7, 64_000, 17_600, 128_000, 120, 160, "fgga484 fgga676"),
    "xc7a12t": _row("artix7", _ARTIX7, 8_000, 2_736, 16_000, 20, 40, "cpg238 csg325"),
    "xc7a15t": _row("artix7", _ARTIX7, 10_400, 3_200, 20_800, 25, 45, "cpg236 csg324 csg325 fgg484 ftg256"),
    "xc7a25t": _row("artix7", _ARTIX7, 14_600, 5_008, 29_200, 45, 80, "cpg238 csg325"),
    "xc7a35t": _row("artix7", _ARTIX7, 20_800, 6_400, 41_600, 50, 90, "cpg236 csg324 csg325 fgg484 ftg256"),
    "xc7a50t": _row("artix7", _ARTIX7, 32_600, 9_600, 65_200, 75, 120, "cpg236 csg324 csg325 fgg484 ftg256"),
    "xc7a75t": _row("artix7", _ARTIX7, 47_200, 14_272, 94_400, 105, 180, "csg324 fgg484 fgg676 ftg256"),
    "xc7a100t": _row("artix7", _ARTIX7, 63_400, 19_000, 126_800, 135, 240, "csg324 fgg484 fgg676 ftg256"),
    "xc7a200t": _row("artix7", _ARTIX7, 134_600, 46_200, 269_200, 365, 740,
                     "fbg484 fbg676 fbv484 fbv676 ffg1156 ffv1156 sbg484 sbv484"),
    "xc7z007s": _row("zynq7000", _ZYNQ_SINGLE_CORE, 14_400, None, 28_800, 50, 66, "clg225 clg400"),
    "xc7z012s": _row("zynq7000", _ZYNQ_SINGLE_CORE, 34_400, None, 68_800, 72, 120, "clg485"),
    "xc7z014s": _row("zynq7000", _ZYNQ_SINGLE_CORE, 40_600, None, 81_200, 107, 170, "clg400 clg484"),
    "xc7z010": _row("zynq7000", _ZYNQ_LOW_POWER, 17_600, 6_000, 35_200, 60, 80, "clg225 clg400"),
    "xc7z015": _row("zynq7000", _ZYNQ_LOW_POWER, 46_200, None, 92_400, 95, 160, "clg485"),
    "xc7z020": _row("zynq7000", _ZYNQ_LOW_POWER, 53_200, 17_400, 106_400, 140, 220, "clg400 clg484"),
    "xc7z030": _row("zynq7000", {**_ZYNQ, "i": ("-2L",)}, 78_600, None, 157_200, 265, 400,
                    "fbg484 fbg676 fbv484 fbv676 ffg676 ffv676 sbg485 sbv485"),
    "xc7z035": _row("zynq7000", _ZYNQ, 171_900, None, 343_800, 500, 900,
                    "fbg676 fbv676 ffg676 ffg900 ffv676 ffv900"),
    "xc7z045": _row("zynq7000", _ZYNQ, 218_600, 70_400, 437_200, 545, 900,
                    "fbg676 fbv676 ffg676 ffg900 ffv676 ffv900"),
}

# The global clock tree's maximum frequency (FMAX_BUFG) per speed grade: no design clocks faster than its clock
# net. Spartan-7: DS189 v1.10 Table 32 (-2 628.00 MHz; -1 and the 0.95 V -1L, Vivado's -1IL, 464.00; a -1Q part
# has the timing of -1, DS189 introduction). Zynq-7000 Z-7007S to Z-7020: DS187 v1.21 Table 67 (-3 and -2
# 628.00, -1 and -1LI 464.00). The Artix-7 (DS181) and the Z-7030 to Z-7045 (DS191) figures were not at hand:
# those parts' clocks are not checked.
_BUFG_DS187 = {"-3": 628.0, "-2": 628.0, "-1": 464.0, "-1L": 464.0}
FMAX_BUFG: dict[str, tuple[dict[str, float], str]] = {
    **{d: ({"-2": 628.0, "-1": 464.0, "-1IL": 464.0, "-1Q": 464.0}, "DS189 v1.10, Table 32")
       for d in PARTS if PARTS[d].family == "spartan7"},
    **{d: (_BUFG_DS187, "DS187 v1.21, Table 67")
       for d in ("xc7z007s", "xc7z010", "xc7z012s", "xc7z014s", "xc7z015", "xc7z020")},
}


def clock_ceiling(part: Part) -> tuple[float, str] | None:
    """(FMAX_BUFG in MHz, its data-sheet table) for ``part``'s device and speed grade; None where not known."""
    row = FMAX_BUFG.get(part.device)
    return (row[0][part.speed_grade], row[1]) if row and part.speed_grade in row[0] else None


_SHAPE = re.compile(r"([a-z0-9]+)-([0-9][a-z0-9]*)")


def known_devices() -> tuple[str, ...]:
    """The devices of :data:`PARTS`, smallest first within each product line (the single-core Zynq-7000S
    before the Zynq-7000, as DS190 lists them)."""
    return tuple(PARTS)


# families Vivado knows and this table does not (their slices, DSPs and BRAMs differ): named, not "not a part"
OTHER_FAMILIES = (("xczu", "a Zynq UltraScale+"), ("xcku", "a Kintex UltraScale or UltraScale+"),
                  ("xcvu", "a Virtex UltraScale or UltraScale+"), ("xcau", "an Artix UltraScale+"),
                  ("xc7k", "a Kintex-7"), ("xc7v", "a Virtex-7"), ("xcvc", "a Versal"), ("xcve", "a Versal"),
                  ("xc6s", "a Spartan-6"))


def parse_part(text: str) -> Part:
    """The :class:`Part` named by a Vivado part string such as ``xc7s15ftgb196-2`` (any letter case). An orderable
    part number (``XC7S50-1CSGA324C``) is refused with the part string to write (``reordered``)."""
    try:
        return _parse_part(text)
    except UnknownPart:
        meant = reordered(text)
        if meant is None:
            raise
    raise UnknownPart(f"{text!r} is the orderable part number of {meant} (the speed grade before the package, a "
                      f"temperature grade after it); tsflow takes Vivado's part string, <device><package>-<speed "
                      f"grade>: write {meant}") from None


# temperature grades of an orderable part number (C commercial, I industrial, E extended, Q expanded, A automotive)
_TEMPERATURE = "ciqea"


def reordered(text: str) -> str | None:
    """The Vivado part string of an orderable part number, which puts the speed grade before the package and may
    add a temperature grade (``XC7S50-1CSGA324C`` is ``xc7s50csga324-1``, ``XC7A35T-L1CSG324I`` is
    ``xc7a35ticsg324-1L``), or None: where the string is not one, or names no single part of the table."""
    low = text.lower()
    device = next((d for d in sorted(PARTS, key=len, reverse=True)
                   if low.startswith(d + "-") and not low[len(d) + 1:len(d) + 2] in ("", "-")), None)
    if device is None:
        return None
    spec = PARTS[device]
    packages = "|".join(sorted(spec.packages, key=len, reverse=True))
    shape = re.fullmatch(rf"(l?)([0-9])(l?)({packages})([{_TEMPERATURE}]?)(l?)", low[len(device) + 1:])
    if shape is None:
        return None
    low_power, digit, low_power_after, package, temperature, low_power_last = shape.groups()
    low_power = bool(low_power or low_power_after or low_power_last)
    found = []
    for variant, grades in spec.speed_grades.items():
        for grade in grades:
            g = grade.lower()
            if g[1] != digit or ("l" in g[2:]) != low_power or ("i" in g[2:] and temperature != "i"):
                continue
            found.append(f"{device}{variant}{package}{grade}")
    expanded = [f for f in found if f.endswith("Q")]  # -1Q: the expanded (Q) temperature grade's own speed grade
    found = list(dict.fromkeys(expanded if temperature == "q" and expanded else
                               [f for f in found if not f.endswith("Q")]))
    return found[0] if len(found) == 1 else None


def _parse_part(text: str) -> Part:
    other = next((name for prefix, name in OTHER_FAMILIES if text.lower().startswith(prefix)), None)
    if other:
        raise UnknownPart(f"{text!r} is {other} part, a family tsflow does not price or build for; known devices: "
                          f"{', '.join(PARTS)}")
    shape = _SHAPE.fullmatch(text.lower())
    if shape is None:
        raise UnknownPart(f"{text!r} is not a Vivado part string (<device><package>-<speed grade>, e.g. "
                          f"xc7s15ftgb196-2); known devices: {', '.join(PARTS)}")
    base, speed = shape.groups()
    device = next((d for d in PARTS if base.startswith(d) and not base[len(d):len(d) + 1].isdigit()), None)
    if device is None:
        raise UnknownPart(f"{text}: unknown device; known devices: {', '.join(PARTS)}")
    spec = PARTS[device]
    rest = base[len(device):]
    variant = rest[:1] if rest[:1] in spec.speed_grades and rest[1:] in spec.packages else ""
    package = rest[len(variant):]
    if package not in spec.packages:
        raise UnknownPart(f"{text}: package {package or '(none)'} does not exist for {device}; "
                          f"allowed: {', '.join(spec.packages)}")
    grade = next((g for g in spec.speed_grades[variant] if g.lower() == f"-{speed}"), None)
    if grade is None:
        given = "-" + text.rsplit("-", 1)[1]
        elsewhere = [f"{device}{v}{package}{g}" for v, grades in spec.speed_grades.items() if v != variant
                     for g in grades if g.lower() == f"-{speed}"]
        hint = f" ({given} is spelled {' or '.join(elsewhere)})" if elsewhere else ""
        raise UnknownPart(f"{text}: speed grade {given} does not exist for {device}{variant}{package}; "
                          f"allowed: {', '.join(spec.speed_grades[variant])}{hint}")
    return Part(device=device, family=spec.family, lut=spec.lut, lutram=spec.lutram, ff=spec.ff,
                bram18=spec.bram18, dsp=spec.dsp, part=f"{device}{variant}{package}{grade}", package=package,
                speed_grade=grade)


def same_part(a: str, b: str) -> bool:
    """One part however a tool spells it: Vivado reports ``7z020clg400-1``, the HLS tools
    ``xc7z020-clg400-1``, configurations ``xc7z020clg400-1``."""
    def norm(s: str) -> str:
        s = s.lower().replace("-", "")
        return s[2:] if s.startswith("xc") else s

    return norm(a) == norm(b)
