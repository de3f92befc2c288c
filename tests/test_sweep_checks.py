"""tsflow sweep: what each point's lanes are (tour 6, b36) and a line per point while it runs (a65)."""
import re

from flow.config import parse_config
from flow.estimate import estimate
from flow.sweep import lanes, sweep

from .conftest import small_raw


def _cfg(**hls):
    raw = small_raw()
    raw["hls"] = hls
    return parse_config(raw)


def test_a_config_with_fixed_lanes_keeps_them_at_every_point_and_the_heading_says_so():
    """b36: with hls.default_parallelism 4 the points are not auto designs; the heading and the rows say whose
    lanes they are, and each point is the design that configuration builds at that size."""
    cfg = _cfg(default_parallelism=4)
    assert lanes(cfg) == "lanes hls.default_parallelism 4 from the configuration at every point, not auto"
    rows = sweep(cfg, n_features=1, d_models=(8,), bits=(4,), heads=(1,), storages=("bram", "auto"))
    assert [(r["parallelism"], r["shared_lanes"]) for r in rows] == [(4, 4), (4, 4)]
    raw = small_raw(ffn=32)  # the sweep's FFN: 4 x d_model
    raw["quantization"]["bits"] = 4
    raw["hls"] = {"default_parallelism": 4, "default_storage": "bram"}
    assert rows[0]["total"] == estimate(parse_config(raw), n_features=1).total
    raw["hls"] = {"default_storage": "bram"}
    assert rows[0]["total"] != estimate(parse_config(raw), n_features=1).total  # auto lanes: another design


def test_the_heading_names_auto_lanes_and_per_layer_lanes_from_the_configuration():
    assert lanes(_cfg()) == "lanes auto"
    assert lanes(_cfg(parallelism={"enc0.ffn2": 2})) == \
        "lanes auto except hls.parallelism enc0.ffn2 2 (from the configuration)"
    assert lanes(_cfg(default_parallelism=8, parallelism={"enc0.ffn2": 2})) == \
        "lanes hls.default_parallelism 8 and hls.parallelism enc0.ffn2 2 from the configuration at every point, not auto"
    auto = sweep(_cfg(), n_features=1, d_models=(8,), bits=(8,), heads=(1,), storages=("auto",))
    assert auto[0]["parallelism"] == "auto" and auto[0]["shared_lanes"] > 1


def test_each_point_is_told_as_it_is_estimated_with_its_verdict_and_seconds():
    """a65: a sweep of a long window took 14 minutes with nothing printed; each point now gets a line."""
    told = []
    rows = sweep(_cfg(), n_features=1, d_models=(8, 64), bits=(8,), heads=(1,), storages=("registers", "auto"),
                 note=told.append)
    assert len(told) == len(rows) == 4
    pattern = (r"sweep point (\d) of 4 \(d_model (\d+), bits 8, heads 1, all (\w+)\): (fits|does not fit: [\w, ]+), "
               r"([\d,.]+) us; estimated in \d+\.\d s")
    for i, (line, row) in enumerate(zip(told, rows), 1):
        n, d, storage, verdict, us = re.fullmatch(pattern, line).groups()
        assert (int(n), int(d), storage) == (i, row["d_model"], row["storage"])
        assert verdict == ("fits" if row["fits"] else "does not fit: " + ", ".join(row["overflowing"]))
        assert us == f"{row['latency_us']:,.1f}"
    assert "does not fit: " in told[2]  # d_model 64 in registers overflows the XC7S15


def test_a_point_auto_cannot_keep_within_the_headroom_says_so():
    """tour 6, a66's point: it fits the part, not the 80 % auto promises; its line and row say which."""
    raw = {"data": {"window": 336, "steps": 96, "features": ["temp"], "target": "temp",
                    "split": {"train": 0.6, "val": 0.2, "test": 0.2, "lookback": "previous"}},
           "model": {"head": "flatten", "patch": {"length": 16, "stride": 8}}}
    told = []
    [row] = sweep(parse_config(raw), n_features=2, d_models=(16,), bits=(4,), heads=(2,), storages=("auto",),
                  note=told.append)
    assert row["fits"] and row["over_headroom"] == ["lut", "bram18"]
    assert ": fits, over the headroom: lut, bram18, " in told[0]


def test_per_layer_bits_are_kept_at_every_point_and_said_in_the_warning_heading_and_rows():
    """tour 7 a69: quantization.layers' bits stay at every point, so a bits 4 point is a mixed design: the
    warning, the heading's words and each row's kept_bits say so; the point is that mixed design."""
    from flow.sweep import kept_bits, precision

    raw = small_raw()
    raw["quantization"]["layers"] = {"enc0.ffn1": {"weight": {"bits": 8}}, "enc0.ffn2": {"weight": {"bits": 8}}}
    cfg = parse_config(raw)
    assert kept_bits(cfg) == {"enc0.ffn1.weight": 8, "enc0.ffn2.weight": 8}
    assert precision(cfg) == ("the point's bits except quantization.layers enc0.ffn1.weight 8, enc0.ffn2.weight 8 "
                              "(from the configuration) at every point")
    assert precision(_cfg()) == "every tensor at the point's bits"
    told = []
    rows = sweep(cfg, n_features=1, d_models=(8,), bits=(4,), heads=(1,), storages=("auto",), note=told.append)
    assert told[0] == ("warning: quantization.layers sets enc0.ffn1.weight 8 bits, enc0.ffn2.weight 8 bits, which "
                       "every point keeps: a point's bits (4) set quantization.bits, the width of the other tensors, "
                       "so a point at other bits is a mixed design; remove those bits from quantization.layers to "
                       "sweep uniform widths")
    assert rows[0]["kept_bits"] == {"enc0.ffn1.weight": 8, "enc0.ffn2.weight": 8}
    uniform = sweep(_cfg(), n_features=1, d_models=(8,), bits=(4,), heads=(1,), storages=("auto",))
    assert uniform[0]["kept_bits"] == {} and uniform[0]["total"] != rows[0]["total"]


def test_explicit_lanes_of_one_reader_do_not_abort_the_sweep_on_autos_lanes_for_the_others():
    """tour 7 a110: hls.parallelism enc0.q 8, the rest auto; auto used to give enc0.k 4 lanes at some points,
    which pos's 8 banks forbid, and the whole sweep stopped; every point is now a design."""
    rows = sweep(_cfg(parallelism={"enc0.q": 8}), n_features=1, d_models=(8, 16), bits=(4,), heads=(1,),
                 storages=("bram", "auto"))
    assert len(rows) == 4
