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


def test_a_name_under_the_wrong_hls_mapping_is_moved_only_where_its_value_fits():
    """Tour 10 a16: hls.storage.embed: bram was told to move to hls.parallelism, which takes no 'bram' (the
    embedding has no buffer of its own: its output is the positional add's)."""
    import pytest

    from flow.config import ConfigError
    from flow.hls.plan import check_names

    def refusal(**hls):
        with pytest.raises(ConfigError) as caught:
            check_names(parse_config(_raw(**hls)))
        return str(caught.value).split("; allowed")[0]

    assert refusal(storage={"embed": "bram"}) == (
        "invalid configuration: hls.storage.embed: unknown name (embed is a name of hls.parallelism and "
        "hls.multiplier only, which take no 'bram': it has no buffer of its own; remove it from hls.storage)")
    assert refusal(storage={"embed": "auto"}) == (  # 'auto' is also a multiplier: there it fits
        "invalid configuration: hls.storage.embed: unknown name (embed is a name of hls.multiplier, not of "
        "hls.storage: move it there)")
    assert refusal(parallelism={"enc0.softmax": 4}) == (
        "invalid configuration: hls.parallelism.enc0.softmax: unknown name (enc0.softmax is a name of hls.storage "
        "only, which takes no 4: it has no lanes hls.parallelism sets; remove it from hls.parallelism)")


def test_a_window_of_every_column_wider_than_the_model_is_said_with_its_cost(tmp_path):
    """Tour 10 a82 re-run: the window fitted once in memory, yet nothing said that leaving data.features out made
    201 columns inputs, though the input stage took most of the LUT."""
    def cautions(features):
        raw = _raw()
        raw["data"] = {**raw["data"], "source": "csv", "path": str(tmp_path / "wide.csv"), "target": "t",
                       "features": features}
        return [c for c in estimate(parse_config(raw), n_features=WIDE if features is None else 2).cautions
                if c.startswith("data.features")]

    said = cautions(None)
    assert len(said) == 1 and said[0].startswith(
        f"data.features is not given, so every numeric column of {tmp_path / 'wide.csv'} is an input: {WIDE} input "
        f"values a token, more than model.d_model = 8; the window's buffer and the embedding take ")
    assert said[0].endswith("name the features you mean in data.features to shrink them")
    assert cautions(["a"]) == []  # features named: nothing to say
