"""What the MicroBlaze system of ``tsflow export --block-design`` adds around the IP, core by core.

The cores are the ones ``vivado_scripts/block_design.tcl.in`` asks for: the MicroBlaze block automation
with ``preset Microcontroller``, ``local_mem`` of ``export.local_memory_kb``, ``ecc None``, ``cache None``,
``debug_module {Debug Only}``, ``axi_periph Enabled`` and ``axi_intc 0``, clocked by the input port
``sys_clk`` (so no Clocking Wizard, PG065, and no interrupt controller); it adds the local memory (two LMB
buses, two LMB BRAM controllers, one block memory), the debug module, one processor system reset and the
AXI interconnect ``microblaze_0_axi_periph``; the script adds an AXI UART Lite. Each core's figures come
from a Xilinx publication where one could be read, else from an assumption marked ``assumed`` with its
reason; :data:`SOURCES` lists them and ``docs/export.md`` repeats them. Figures are for 7-series fabric;
nothing here was compared with a synthesis of the system.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .costs import RESOURCES

PUBLISHED, ASSUMED, DERIVED = "published", "assumed", "derived"

# MicroBlaze, 32-bit, Microcontroller preset: UG984 "MicroBlaze Processor Reference Guide" (2026.1, docs.amd.com),
# appendix Performance and Resource Utilization, "Spartan 7 Devices", Table 1 "Device Utilization - Spartan 7
# FPGAs (XC7S25 csga225-2)": 1175 LUTs, 811 FFs, 0 BRAMs (36K). The Artix 7 table (XC7A200T fbg676-3) gives
# 1174 / 811 / 0 for the same preset. The table has no DSP or LUTRAM column.
MICROBLAZE_LUT, MICROBLAZE_FF = 1175, 811
# assumed: the preset's hardware multiplier is on (C_USE_HW_MUL = 1, MUL32; no document read says which the
# Microcontroller preset sets) and takes the DSP48E1s a 32x32 product takes under the estimator's own tiling
# (costs.dsp_tiles(32, 32) = 2 x 2 = 4); UG1629 (2024.1), Tables 1-4, give 4 DSP48 for the Microcontroller
# preset of MicroBlaze V, a different core with the same preset name
MICROBLAZE_DSP = 4
# assumed: the register file (32 x 32 bits, three read ports rA, rB, rD and one write port) in RAM32M, each a
# 32 x 2-bit quad-port RAM of 4 LUTs with three read and one read/write address (UG474): 32 / 2 x 4 = 64
MICROBLAZE_LUTRAM = 64
# local memory: one RAMB18E1 holds 1K x 18 bits in true dual port mode (UG953, RAMB18E1), 16 of them data:
# 1024 x 16 bits = 2 KB of 32-bit words; the instruction and data LMB share it through its two ports
LOCAL_MEMORY_KB_PER_BRAM18 = 2

# assumed, no figure read: PG112 (LMB BRAM controller) and PG115 (MDM) point to an online "Performance and
# Resource Utilization" page that could not be read, and no figure for the LMB bus was found; PG059 (AXI
# Interconnect) has a table "AXI Crossbar Resource Utilization: SASD, AXI4-Lite Protocol" whose figures could
# not be read either; PG142 (AXI UART Lite v2.0) and PG164 (Processor System Reset v5.0) were not readable.
# Each is meant as an upper-end guess from what the core holds, so that an error in it more likely refuses a
# design than hides an overflow.
LMB_LUT, LMB_FF = 100, 50  # two lmb_v10 buses and two LMB BRAM controllers without ECC: address decode, ready
MDM_LUT, MDM_FF = 300, 300  # one debug port, no JTAG UART (Debug Only): BSCAN shift and debug registers
UART_LUT, UART_FF = 150, 150  # AXI4-Lite slave, baud generator, TX/RX shift registers, status and control
UART_LUTRAM = 16  # its 16-character TX and RX FIFOs (AMD's product page), 8 bits, one SRL16E (UG474) a bit: 2 x 8
INTERCONNECT_LUT, INTERCONNECT_FF = 300, 300  # 1 AXI4-Lite master to 2 slaves: a shared-access (SASD) crossbar,
#                                               which PG059 says AXI4-Lite always uses, address decode, muxes
RESET_LUT, RESET_FF = 50, 100  # proc_sys_reset: input debouncing, sequence counter, reset output registers

SOURCES = {
    "microblaze_0": "UG984 (2026.1) Spartan 7 Devices, Table 1, XC7S25 csga225-2, 32-bit Microcontroller Preset: "
                    "1175 LUTs, 811 FFs, 0 BRAMs (36K)",
    "mul, registers": "assumed (UG984's table has no DSP or LUTRAM column): hardware multiplier on, 2 x 2 "
                      "DSP48E1; register file in 16 RAM32M (UG474), LUTs already in microblaze_0's",
    "local memory": "UG953 RAMB18E1 (1K x 18 true dual port, 16 data bits a word): 2 KB of 32-bit words a BRAM18",
    "LMB": "assumed (PG112 figures not read, none found for the LMB bus)",
    "mdm_1": "assumed (PG115 figures not read)",
    "uart_0": "assumed (PG142 figures not read); FIFOs as SRL16E, UG474",
    "interconnect": "assumed (PG059 SASD AXI4-Lite crossbar table not read)",
    "processor reset": "assumed (PG164 figures not read)",
    "clock": "none: sys_clk is an input port, no Clocking Wizard (PG065) in the design",
}


@dataclass(frozen=True)
class Core:
    """One core of the system: its resources and whether they were read from a publication."""

    name: str
    what: str
    basis: str  # PUBLISHED, ASSUMED, or DERIVED (from the configured memory size)
    lut: int = 0
    lutram: int = 0
    ff: int = 0
    bram18: int = 0
    dsp: int = 0

    def resources(self) -> dict[str, int]:
        return {r: getattr(self, r) for r in RESOURCES}


def cores(local_memory_kb: int) -> list[Core]:
    """The cores the block-design script instantiates, with ``local_memory_kb`` of local memory."""
    return [
        Core("microblaze_0", "MicroBlaze, 32-bit, Microcontroller preset, no caches, debug on", PUBLISHED,
             lut=MICROBLAZE_LUT, ff=MICROBLAZE_FF),
        Core("mul, registers", "microblaze_0's multiplier (DSP) and register file (LUTRAM, within its LUTs)", ASSUMED,
             lutram=MICROBLAZE_LUTRAM, dsp=MICROBLAZE_DSP),
        Core("local memory", f"{local_memory_kb} KB block RAM behind the instruction and data LMB", DERIVED,
             bram18=local_memory_kb // LOCAL_MEMORY_KB_PER_BRAM18),
        Core("LMB", "2 LMB buses, 2 LMB BRAM controllers (no ECC)", ASSUMED, lut=LMB_LUT, ff=LMB_FF),
        Core("mdm_1", "MicroBlaze Debug Module, Debug Only", ASSUMED, lut=MDM_LUT, ff=MDM_FF),
        Core("uart_0", "AXI UART Lite, 115200 baud", ASSUMED, lut=UART_LUT, lutram=UART_LUTRAM, ff=UART_FF),
        Core("interconnect", "AXI interconnect microblaze_0_axi_periph, 1 master, 2 slaves", ASSUMED,
             lut=INTERCONNECT_LUT, ff=INTERCONNECT_FF),
        Core("processor reset", "Processor System Reset on sys_clk", ASSUMED, lut=RESET_LUT, ff=RESET_FF),
    ]


def total(parts: list[dict[str, int]]) -> dict[str, int]:
    """Resource by resource sum of ``parts``."""
    return {r: sum(p[r] for p in parts) for r in RESOURCES}


@dataclass(frozen=True)
class SystemFit:
    """The IP beside the system on one part, against the budget less ``target.headroom``."""

    part: str
    headroom: float
    ip: dict[str, int]
    ip_calibrated: bool
    cores: list[Core]
    budget: dict[str, int | None]

    @property
    def system(self) -> dict[str, int]:
        return total([c.resources() for c in self.cores])

    @property
    def total(self) -> dict[str, int]:
        return total([self.ip, self.system])

    @property
    def limit(self) -> dict[str, int | None]:
        """What ``target.headroom`` leaves of each budget (None where the data sheet gives no budget)."""
        return {r: None if b is None else int((1 - self.headroom) * b) for r, b in self.budget.items()}

    @property
    def over(self) -> list[str]:
        """Resources whose total leaves less than the headroom free."""
        return [r for r in RESOURCES if self.budget[r] and self.total[r] > (1 - self.headroom) * self.budget[r]]

    def percent(self, r: str) -> float | None:
        return None if not self.budget[r] else 100 * self.total[r] / self.budget[r]

    def to_dict(self) -> dict:
        return {"estimate": True,
                "note": "estimates, not synthesis results: the IP from estimate.json, the processor system from "
                        "published Xilinx figures where read and labelled assumptions elsewhere "
                        "(flow/estimate/system.py)",
                "part": self.part, "headroom": self.headroom,
                "ip": {"source": "estimate.json", "calibrated": self.ip_calibrated, **self.ip},
                "system": {"cores": [{**asdict(c), "source": SOURCES[c.name]} for c in self.cores],
                           "clock": SOURCES["clock"], "total": self.system},
                "total": self.total, "budget": self.budget, "limit": self.limit,
                "percent": {r: None if self.percent(r) is None else round(self.percent(r), 1) for r in RESOURCES},
                "within_headroom": not self.over, "over": self.over}


def fit(ip: dict[str, int], budget: dict[str, int | None], part: str, headroom: float, local_memory_kb: int,
        ip_calibrated: bool = False) -> SystemFit:
    """The IP's totals (``estimate.json``) beside the system with ``local_memory_kb`` on a part's ``budget``."""
    return SystemFit(part, headroom, {r: int(ip[r]) for r in RESOURCES}, ip_calibrated, cores(local_memory_kb),
                     dict(budget))


def larger_part(current: SystemFit) -> SystemFit | None:
    """The smallest device of the parts table, same family first, on which this IP and system leave the
    headroom free; its package and speed grade as close to the current part's as the device offers."""
    from ..parts import PARTS, parse_part

    here = parse_part(current.part)
    devices = sorted(PARTS.items(), key=lambda kv: (kv[1].family != here.family, kv[1].lut))
    for device, spec in devices:
        if spec.lut <= here.lut:
            continue
        package = here.package if here.package in spec.packages else spec.packages[0]
        grades = spec.speed_grades[""]
        part = parse_part(f"{device}{package}{here.speed_grade if here.speed_grade in grades else grades[0]}")
        budget = {r: getattr(part, r) for r in RESOURCES}
        candidate = SystemFit(part.part, current.headroom, current.ip, current.ip_calibrated, current.cores, budget)
        if not candidate.over:
            return candidate
    return None
