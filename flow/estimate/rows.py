"""The rows of an estimate (a layer's, a buffer's) and the control every loop adds: shared by the core's
estimate (``design``) and what the interface puts around it (``interface``)."""
from __future__ import annotations

from dataclasses import dataclass

from .costs import Cost

CONTROL_LUT, CONTROL_FF = 24, 16  # per loop, an assumption (flow.estimate.design), besides its index counters
WRITE_STAGES = 1  # the cast to the output type and the write


@dataclass
class LayerEstimate:
    name: str
    what: str  # the loop nest in words
    cost: Cost
    cycles: int
    loops: tuple = ()  # trip counts of its pipelined loops, in order, each nest flattened (as HLS reports them)


@dataclass
class BufferEstimate:
    name: str
    storage: str  # registers | lutram | bram | lutrom | port
    words: int
    width: int
    banks: int
    cost: Cost
