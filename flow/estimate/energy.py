"""Energy per inference: (the part's static power + the design's dynamic power) x the latency.

No Xilinx data sheet figure could be read here (DS189's quiescent currents, WP488, XPE's models), so
every coefficient comes from Vivado itself: ``report_power`` outputs of real 7-series designs, read at
typical process, 25 C ambient, with no simulation activity file (Vivado's vectorless default: a 12.5 %
toggle rate on primary inputs, UG835 ``set_switching_activity -default_toggle_rate``; UG440 calls 12.5 %
"an average extracted from a suite of customer designs").

- Static: the ``Device Static (W)`` line of reports of the same device near 25 C junction. The XC7S15's
  0.020 W is the figure of every report in ``tests/data/power_reports`` (four designs, Vivado 2018.2 and
  2019.2, all ``xc7s15ftgb196-1``; no report of a -2 part was found, and the -1 figure is used for every
  speed grade). Static power grows with junction temperature (an xc7z020 report reads 0.115 W at 29.8 C,
  another 0.196 W at 56.3 C); the figure assumes a die near 25 C.
- Dynamic: per unit and per MHz, the median over ten single-design reports of each component row's power
  divided by its used count and clock (``COEFFICIENTS``; the spread between designs is 2.5x for BRAM and
  DSP and up to 35x for logic and nets, where Vivado assumed near-zero activity behind a processor bus).
  Nets are counted as LUT + FF (0.85 to 1.23 nets per LUT + FF in the four reports that give all three).
  The clock tree is priced per flip-flop and does not scale with the toggle rate; everything else scales
  linearly with ``target.toggle_rate`` / 12.5.

Only the IP's own resources are priced: no clock manager (an MMCM reads 0.105-0.106 W in six reports, five
times the XC7S15's static power), no I/O, no processor. ``tsflow calibrate`` with the design's own
``report_power`` output replaces the static figure by the report's and scales the dynamic total to it
(``calibrated_from`` names the reports).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VIVADO_DEFAULT_TOGGLE = 12.5  # percent of the clock, UG835 set_switching_activity -default_toggle_rate

# Device Static (W) of report_power near 25 C junction, by device; devices without a report are absent
STATIC_W = {
    "xc7s15": 0.020,  # tests/data/power_reports: four reports, Tj 25.5-26.4 C, Vivado 2018.2 / 2019.2
}
STATIC_SOURCES = {
    "xc7s15": "report_power, Device Static (W) 0.020 at Tj 25.5-26.4 C in all four reports of "
              "tests/data/power_reports (xc7s15ftgb196-1, Vivado 2018.2 and 2019.2)",
}

# microwatts per MHz of clock per unit, at Vivado's vectorless default activity: the median over the
# report_power outputs of ten public 7-series designs (xc7a35t, xc7a100t x4, xc7a200t, xc7z020 x3, xc7s15),
# with the range across them
COEFFICIENTS = {
    "lut": 0.061,      # LUT as Logic, 0.0053-0.101 over 10 reports
    "net": 0.054,      # Signals per net, 0.0023-0.080 over 10 reports
    "ff": 0.0065,      # Register, 0.0012-0.0085 over the 4 reports that give more than "<0.001"
    "lutram": 0.053,   # LUT as Distributed RAM, 1 report
    "bram18": 9.55,    # Block RAM, 19.1 per RAMB36 (10.2-25.8 over 7 reports), half of it per RAMB18
    "dsp": 6.8,        # DSPs, 4.2-10.2 over 5 reports (a sixth read 0.000 W for 148 DSPs behind an AXI-Lite bus)
    "clock_per_ff": 0.050,  # Clocks, divided by the flip-flops they drive, 0.016-0.185 over 10 reports
}


@dataclass(frozen=True)
class Energy:
    """Power by part (W) and energy per inference (uJ). ``calibrated_from``: the ``report_power`` files of a
    calibration that gave the static power and scaled the dynamic one (empty: the coefficients above). A
    calibrated figure is not a measurement of this design: the report's dynamic power is spread over this
    design's resources by the estimate's ratios."""

    static_w: float
    dynamic_w: dict
    latency_us: float
    toggle_rate: float
    calibrated_from: tuple = ()

    @property
    def source(self) -> str:
        """Where the figure comes from, in words for a summary line."""
        if not self.calibrated_from:
            return "estimate"
        names = ", ".join(Path(p).name for p in self.calibrated_from)
        return f"calibrated by report_power of {names}"

    @property
    def total_w(self) -> float:
        return self.static_w + sum(self.dynamic_w.values())

    @property
    def energy_uj(self) -> float:
        return self.total_w * self.latency_us

    def to_dict(self) -> dict:
        return {"static_w": round(self.static_w, 6), "dynamic_w": {k: round(v, 6) for k, v in self.dynamic_w.items()},
                "total_w": round(self.total_w, 6), "latency_us": round(self.latency_us, 3),
                "energy_uj": round(self.energy_uj, 4), "energy_mj": round(self.energy_uj / 1000, 7),
                "toggle_rate": self.toggle_rate, "calibrated_from": list(self.calibrated_from)}


def dynamic_power(resources: dict, clock_mhz: float, toggle_rate: float) -> dict:
    """Watts by component for ``resources`` (lut, lutram, ff, bram18, dsp counts) at ``clock_mhz``."""
    scale = toggle_rate / VIVADO_DEFAULT_TOGGLE
    uw = {"logic": COEFFICIENTS["lut"] * resources["lut"] * scale,
          "nets": COEFFICIENTS["net"] * (resources["lut"] + resources["ff"]) * scale,
          "registers": COEFFICIENTS["ff"] * resources["ff"] * scale,
          "lutram": COEFFICIENTS["lutram"] * resources["lutram"] * scale,
          "bram": COEFFICIENTS["bram18"] * resources["bram18"] * scale,
          "dsp": COEFFICIENTS["dsp"] * resources["dsp"] * scale,
          "clocks": COEFFICIENTS["clock_per_ff"] * resources["ff"]}
    return {k: v * clock_mhz * 1e-6 for k, v in uw.items()}


def energy_of(device: str, resources: dict, clock_mhz: float, latency_cycles: int, toggle_rate: float,
              power: dict | None = None) -> Energy | None:
    """The energy of one inference; ``None`` where no static figure is known for ``device`` and no
    ``power`` of a calibration (``{"static_w", "dynamic_scale", "sources"}``, fitted to report_power) is given."""
    latency_us = latency_cycles / clock_mhz
    dynamic = dynamic_power(resources, clock_mhz, toggle_rate)
    if power:
        dynamic = {k: v * power["dynamic_scale"] for k, v in dynamic.items()}
        return Energy(power["static_w"], dynamic, latency_us, toggle_rate,
                      calibrated_from=tuple(map(str, power.get("sources") or ["report_power (not named in the calibration)"])))
    if device not in STATIC_W:
        return None
    return Energy(STATIC_W[device], dynamic, latency_us, toggle_rate)
