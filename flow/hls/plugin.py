"""Entry point of the ``hls4ml.backends`` plugin group (see pyproject.toml).

hls4ml loads plugins while its own packages import. When that import was started by
``flow.hls.backend`` itself, the module is not complete yet; ``backend.ensure_registered``
then registers everything once it is, before any conversion.
"""
import sys


def register(register_backend, register_writer):
    loading = sys.modules.get("flow.hls.backend")
    if loading is not None and not hasattr(loading, "register"):
        return
    from .backend import register as register_tsflow

    register_tsflow(register_backend, register_writer)
