"""The estimate stage: fabric costs (``costs``) and the design's resources and cycles (``design``)."""
from .costs import RESOURCES, Cost, bram18_count, multiplier
from .design import (BufferEstimate, Estimate, LayerEstimate, estimate, estimate_plan, n_features_of, plan_design,
                     within_headroom)

__all__ = ["RESOURCES", "Cost", "bram18_count", "multiplier", "BufferEstimate", "Estimate", "LayerEstimate",
           "estimate", "estimate_plan", "n_features_of", "plan_design", "within_headroom"]
