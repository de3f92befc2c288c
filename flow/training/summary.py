"""The line ``tsflow train`` and ``tsflow build`` print about the data, in the same words."""
from __future__ import annotations


def data_line(ds, cfg) -> str:
    """``data NAME: 3 input channel(s) (the changes of 2 feature(s), HUFL and OT, and the level of OT) -> OT, window
    8, horizon 1; windows train ..., val ..., test ...``: what the model reads (``data.inputs: differences`` adds the
    target's level to the features' changes) and the windows of each split."""
    channels = len(ds.features)
    what = ""
    if cfg.data.inputs == "differences":
        columns = [f.removeprefix("d_") for f in ds.features[:-1]]
        names = ", ".join(columns[:-1]) + f" and {columns[-1]}" if 1 < len(columns) <= 6 else \
            columns[0] if len(columns) == 1 else f"{', '.join(columns[:5])}, ..."
        what = f" (the changes of {len(columns)} feature(s), {names}, and the level of {ds.target})"
    steps = f", steps {cfg.data.steps}" if cfg.data.steps > 1 else ""
    return (f"data {ds.name}: {channels} input channel(s){what} -> {ds.target}, window {cfg.data.window}, horizon "
            f"{cfg.data.horizon}{steps}; windows train {len(ds.train.y):,}, val {len(ds.val.y):,}, "
            f"test {len(ds.test.y):,}")
