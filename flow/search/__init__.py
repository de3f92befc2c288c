"""tsflow search: resource-aware mixed-precision search (space, study, Pareto report)."""
