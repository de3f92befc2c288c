"""The estimate stage: fabric costs (``costs``) and the design's resources and cycles (``design``)."""
from .costs import RESOURCES, Cost, bram18_count, multiplier
from .design import Estimate, estimate, estimate_plan, n_features_of, plan_design, within_headroom
from .rows import BufferEstimate, LayerEstimate

__all__ = ["RESOURCES", "Cost", "bram18_count", "multiplier", "BufferEstimate", "Estimate", "LayerEstimate",
           "estimate", "estimate_plan", "n_features_of", "plan_design", "within_headroom"]
