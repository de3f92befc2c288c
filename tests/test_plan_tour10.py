"""Tour 10 a82: a wide window (200 sensor columns) captured at once into registers overflowed the flip-flops, auto
never tried memory for it, and 'DOES NOT FIT: ff' named no buffer."""
from __future__ import annotations

from flow.config import parse_config
from flow.estimate import estimate

from .conftest import small_raw

WIDE = 202  # channels of the a82 window: 201 sensor columns taken as features, and the target's level


def _raw(**hls):
    raw = small_raw()
    raw["data"].pop("split")
    if hls:
        raw["hls"] = hls
    return raw


def test_auto_keeps_a_window_too_wide_for_registers_in_memory_as_the_explicit_choice_does():
    auto = estimate(parse_config(_raw()), n_features=WIDE)
    explicit = estimate(parse_config(_raw(storage={"input": "bram"})), n_features=WIDE)
    assert explicit.fits and auto.fits
    assert auto.plan.buffers["input"].storage in ("bram", "lutram")
    assert auto.total["ff"] <= explicit.total["ff"] * 1.1 and auto.latency_cycles <= 1.01 * explicit.latency_cycles
    narrow = estimate(parse_config(_raw()), n_features=1)  # a window registers hold is still captured at once
    assert narrow.plan.buffers["input"].storage == "registers"


def test_a_design_over_the_part_names_the_rows_that_take_the_resource_and_their_key():
    est = estimate(parse_config(_raw(storage={"input": "registers"})), n_features=WIDE)
    assert not est.fits and est.overflowing == ["ff"]
    told = est.warnings()[0]
    assert told.startswith(f"the design does not fit {est.part}: FF {est.total['ff']:,} of 16,000")
    assert "most of it the input buffer (1,616 x 12 bit, registers)" in told
    assert "hls.storage.input: bram (or lutram) keeps it in memory" in told
    assert estimate(parse_config(_raw()), n_features=1).overflow_warning() is None
