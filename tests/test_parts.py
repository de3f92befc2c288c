"""The parts table against the data-sheet figures, and strict parsing of Vivado part strings."""
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
import yaml

from flow.config import TargetConfig
from flow.parts import PARTS, Part, UnknownPart, known_devices, parse_part

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

REQUIRED = ("xc7s6", "xc7s15", "xc7s25", "xc7s50", "xc7s75", "xc7s100",
            "xc7a12t", "xc7a15t", "xc7a25t", "xc7a35t", "xc7a50t", "xc7a75t", "xc7a100t", "xc7a200t",
            "xc7z007s", "xc7z012s", "xc7z014s", "xc7z010", "xc7z015", "xc7z020", "xc7z030", "xc7z035", "xc7z045")

# DS180 feature summaries: slices, max distributed RAM (Kb), 36 Kb block RAMs. DS180 prints 938 slices for
# the XC7S6, rounded up from the 937.5 its 3,750 LUTs and 7,500 flip-flops make.
DS180 = {
    "xc7s6": (937.5, 70, 5), "xc7s15": (2_000, 150, 10), "xc7s25": (3_650, 313, 45),
    "xc7s50": (8_150, 600, 75), "xc7s75": (12_000, 832, 90), "xc7s100": (16_000, 1_100, 120),
    "xc7a12t": (2_000, 171, 20), "xc7a15t": (2_600, 200, 25), "xc7a25t": (3_650, 313, 45),
    "xc7a35t": (5_200, 400, 50), "xc7a50t": (8_150, 600, 75), "xc7a75t": (11_800, 892, 105),
    "xc7a100t": (15_850, 1_188, 135), "xc7a200t": (33_650, 2_888, 365),
}
# DS190 PL: 36 Kb block RAMs (its "Total Block RAM" column gives the count next to the Mb figure).
DS190_BRAM36 = {"xc7z007s": 50, "xc7z012s": 72, "xc7z014s": 107, "xc7z010": 60, "xc7z015": 95,
                "xc7z020": 140, "xc7z030": 265, "xc7z035": 500, "xc7z045": 545}


def _resources(device):
    p = PARTS[device]
    return p.lut, p.lutram, p.ff, p.bram18, p.dsp


def test_the_table_covers_spartan7_artix7_and_zynq7000():
    # the order by hand: each family as its data sheet lists it (DS180 Spartan-7 then Artix-7, DS190 the
    # single-core Zynq-7000S, then the dual-core Zynq-7000)
    assert known_devices() == REQUIRED
    assert {PARTS[d].family for d in known_devices()} == {"spartan7", "artix7", "zynq7000"}


def test_known_devices_are_smallest_first_within_each_family():
    """known_devices() documents "smallest first within each family"; smallest by LUT count. The Zynq-7000
    family is two product lines in DS190, the single-core 7000S (xc7z007s 14,400 LUTs .. xc7z014s 40,600)
    listed before the dual-core 7000 (xc7z010 17,600 ..): the order is by LUT count within each line, not
    across the family (xc7z014s > xc7z010)."""
    lines = {}
    for device in known_devices():
        p = parse_part(device + PARTS[device].packages[0] + PARTS[device].speed_grades[""][0])
        line = p.family + ("-single-core" if device.endswith("s") and p.family == "zynq7000" else "")
        lines.setdefault(line, []).append((p.lut, device))
    assert set(lines) == {"spartan7", "artix7", "zynq7000-single-core", "zynq7000"}
    for line, devices in lines.items():
        luts = [lut for lut, _ in devices]
        assert luts == sorted(luts) and len(set(luts)) == len(luts), f"{line}: {devices}"


def test_spartan7_figures_from_ds180():
    # device: LUT, LUTRAM (150 Kb / 600 Kb of distributed RAM at 64 bits per LUT), FF, BRAM18, DSP
    assert _resources("xc7s15") == (8_000, 2_400, 16_000, 20, 20)
    assert _resources("xc7s50") == (32_600, 9_600, 65_200, 150, 120)
    p = PARTS["xc7s25"]
    assert (p.lut, p.ff, p.bram18, p.dsp) == (14_600, 29_200, 90, 80)


@pytest.mark.parametrize("device", DS180)
def test_luts_and_flip_flops_follow_the_slice_count(device):
    slices = DS180[device][0]
    assert PARTS[device].lut == 4 * slices
    assert PARTS[device].ff == 8 * slices


@pytest.mark.parametrize("device", known_devices())
def test_two_flip_flops_per_lut(device):
    assert PARTS[device].ff == 2 * PARTS[device].lut


@pytest.mark.parametrize("device", DS180)
def test_lutram_is_the_distributed_ram_at_64_bits_per_lut(device):
    # DS180 rounds to whole Kb (1,187.5 -> 1,188 for the XC7A100T); SLICEMs come in whole slices of 4 LUTs
    lutram = PARTS[device].lutram
    assert abs(lutram * 64 / 1024 - DS180[device][1]) <= 0.5
    assert lutram % 4 == 0


@pytest.mark.parametrize("device", known_devices())
def test_lutram_is_a_part_of_the_luts(device):
    lutram = PARTS[device].lutram
    assert lutram is None or 0 < lutram < PARTS[device].lut


@pytest.mark.parametrize("device", known_devices())
def test_two_bram18_per_bram36(device):
    bram36 = DS180[device][2] if device in DS180 else DS190_BRAM36[device]
    assert PARTS[device].bram18 == 2 * bram36


def test_every_default_part_of_the_product_parses():
    in_configs = [yaml.safe_load(path.read_text())["target"]["part"] for path in sorted(CONFIGS.glob("*.yaml"))]
    for text in {TargetConfig().part, *in_configs}:
        assert parse_part(text).part == text
    p = parse_part("xc7s15ftgb196-2")
    assert p == Part(device="xc7s15", family="spartan7", lut=8_000, lutram=2_400, ff=16_000, bram18=20, dsp=20,
                     part="xc7s15ftgb196-2", package="ftgb196", speed_grade="-2")


# By hand, not from flow/parts.py. Resources: DS180 "7 Series FPGAs Data Sheet: Overview", the Spartan-7 and
# Artix-7 feature summary tables (LUT = 4 x the "Slices" column, FF = the "CLB Flip-Flops" column
# (8 per slice), BRAM18 = 2 x the 36 Kb "Block RAM Blocks" column, DSP = the "DSP Slices" column (DSP48E1));
# DS190 "Zynq-7000 SoC Data Sheet: Overview", table 1, programmable logic rows (LUTs, flip-flops, 36 Kb
# block RAM count, DSP slices). Packages: the same tables' package rows; parts: boards that use them
# (Basys 3, Arty S7/A7, Zybo Z7, ZedBoard, PYNQ-Z1) and the Vivado part names.
HAND = {
    #            LUT      FF       BRAM18     DSP  real parts (package, speed grade)
    "xc7s15": (8_000, 16_000, 2 * 10, 20, ("xc7s15ftgb196-1", "xc7s15csga225-2", "xc7s15cpga196-1IL")),
    "xc7s50": (32_600, 65_200, 2 * 75, 120, ("xc7s50csga324-1", "xc7s50ftgb196-2", "xc7s50fgga484-1Q")),
    "xc7a35t": (20_800, 41_600, 2 * 50, 90, ("xc7a35tcpg236-1", "xc7a35ticsg324-1L", "xc7a35tftg256-3",
                                             "xc7a35tfgg484-2", "xc7a35tcsg325-2L")),
    "xc7a100t": (63_400, 126_800, 2 * 135, 240, ("xc7a100tcsg324-1", "xc7a100tfgg676-2", "xc7a100tftg256-3")),
    "xc7z010": (17_600, 35_200, 2 * 60, 80, ("xc7z010clg400-1", "xc7z010clg225-2")),
    "xc7z020": (53_200, 106_400, 2 * 140, 220, ("xc7z020clg400-1", "xc7z020clg484-1", "xc7z020clg400-3",
                                                "xc7z020iclg400-1L")),
}


@pytest.mark.parametrize("device", HAND)
def test_real_parts_parse_to_the_data_sheet_figures(device):
    lut, ff, bram18, dsp, parts = HAND[device]
    for text in parts:
        p = parse_part(text)
        assert p.part == text and p.device == device
        assert text == f"{device}{p.package}{p.speed_grade}" or text == f"{device}i{p.package}{p.speed_grade}"
        assert (p.lut, p.ff, p.bram18, p.dsp) == (lut, ff, bram18, dsp), text


def test_upper_case_is_normalised():
    assert parse_part("XC7S15FTGB196-2").part == "xc7s15ftgb196-2"
    assert parse_part("xc7s15ftgb196-1il").part == "xc7s15ftgb196-1IL"
    assert parse_part("XC7A35TICSG324-1L").part == "xc7a35ticsg324-1L"


def test_low_voltage_parts_spell_the_grade_after_an_i_or_l():
    p = parse_part("xc7a35ticsg324-1L")  # Arty A7-35T
    assert (p.device, p.package, p.speed_grade) == ("xc7a35t", "csg324", "-1L")
    assert parse_part("xc7a35tlcsg324-2L").part == "xc7a35tlcsg324-2L"
    assert parse_part("xc7z020iclg400-1L").device == "xc7z020"


def test_unknown_device_lists_the_known_devices():
    with pytest.raises(UnknownPart) as err:
        parse_part("xc7s16ftgb196-2")
    message = str(err.value)
    assert message.startswith("xc7s16ftgb196-2: unknown device; known devices: xc7s6, xc7s15,")
    assert all(d in message for d in REQUIRED)
    with pytest.raises(UnknownPart, match="xc7s150ftgb196-1: unknown device"):
        parse_part("xc7s150ftgb196-1")
    with pytest.raises(UnknownPart, match="'xc7k325tffg900-2' is a Kintex-7 part, a family tsflow does not price "
                                          "or build for; known devices: xc7s6, xc7s15,"):
        parse_part("xc7k325tffg900-2")


def test_wrong_package_lists_the_packages_of_the_device():
    with pytest.raises(UnknownPart) as err:
        parse_part("xc7s15csga324-1")
    assert str(err.value) == ("xc7s15csga324-1: package csga324 does not exist for xc7s15; "
                              "allowed: cpga196, csga225, ftgb196")
    with pytest.raises(UnknownPart, match="package fgg676 does not exist for xc7a35t; allowed: cpg236, "):
        parse_part("xc7a35tfgg676-1")
    with pytest.raises(UnknownPart, match=r"package \(none\) does not exist for xc7z020"):
        parse_part("xc7z020-1")
    with pytest.raises(UnknownPart, match="package iftgb196 does not exist for xc7s15"):
        parse_part("xc7s15iftgb196-1")  # no low-voltage 'i' parts in Spartan-7


def test_wrong_speed_grade_lists_the_grades_of_the_part():
    with pytest.raises(UnknownPart) as err:
        parse_part("xc7s15ftgb196-3")
    assert str(err.value) == ("xc7s15ftgb196-3: speed grade -3 does not exist for xc7s15ftgb196; "
                              "allowed: -1, -2, -1IL, -1Q")
    with pytest.raises(UnknownPart, match="for xc7z007sclg400; allowed: -1, -2$"):
        parse_part("xc7z007sclg400-3")
    with pytest.raises(UnknownPart) as err:
        parse_part("xc7a35tcsg324-1L")
    assert str(err.value) == ("xc7a35tcsg324-1L: speed grade -1L does not exist for xc7a35tcsg324; "
                              "allowed: -1, -2, -2L, -3 (-1L is spelled xc7a35ticsg324-1L)")


@pytest.mark.parametrize("text", ["hello", "", "xc7s15ftgb196", "xc7s15ftgb196-", "xc7z020-clg400-1",
                                  " xc7s15ftgb196-2", "xc7s15ftgb196_2", "-2"])
def test_garbage_is_not_a_part_string(text):
    with pytest.raises(UnknownPart) as err:
        parse_part(text)
    message = str(err.value)
    assert repr(text) in message or message.startswith(f"{text}:")
    assert "known devices: xc7s6" in message or "does not exist" in message


def test_unknown_part_is_a_value_error_and_parts_are_frozen():
    assert issubclass(UnknownPart, ValueError)
    with pytest.raises(FrozenInstanceError):
        parse_part("xc7s15ftgb196-2").lut = 1


# FMAX_BUFG, "Global clock tree (BUFG)": DS189 v1.10 Table 32 (Spartan-7: -2 628.00, -1 and -1L 464.00 MHz) and
# DS187 v1.21 Table 67 (Z-7007S to Z-7020: -3 and -2 628.00, -1 and -1LI 464.00 MHz)
@pytest.mark.parametrize("part, ceiling", [
    ("xc7s15ftgb196-2", 628), ("xc7s50csga324-1", 464), ("xc7s6cpga196-1IL", 464), ("xc7s100fgga676-1Q", 464),
    ("xc7z020clg400-1", 464), ("xc7z010iclg225-1L", 464), ("xc7z014sclg400-2", 628), ("xc7z020clg484-3", 628),
])
def test_a_clock_above_the_global_clock_tree_limit_is_refused(part, ceiling):
    assert TargetConfig(part=part, clock_mhz=ceiling).clock_mhz == ceiling
    with pytest.raises(ValueError) as exc:
        TargetConfig(part=part, clock_mhz=ceiling + 0.5)
    assert f"above {ceiling} MHz, the most the global clock tree (FMAX_BUFG) of {part}" in str(exc.value)
    assert f"allowed: 0 < clock_mhz <= {ceiling}" in str(exc.value)


def test_parts_without_a_data_sheet_clock_limit_at_hand_are_held_to_the_fastest_known_one():
    """DS181 (Artix-7) and DS191 (Z-7030 and up) are not in the table: their clocks are held to 628 MHz, the
    fastest FMAX_BUFG of the grades that are (a -1 Artix-7 may well stop lower: not known here)."""
    assert TargetConfig(part="xc7a35tcsg324-1", clock_mhz=600).clock_mhz == 600
    with pytest.raises(ValueError) as exc:
        TargetConfig(part="xc7z045ffg900-1", clock_mhz=700)
    assert "faster than the global clock tree of any 7-series speed grade tsflow has a data-sheet figure for " \
           "(628 MHz); allowed: 0 < clock_mhz <= 628 for xc7z045ffg900-1" in str(exc.value)
