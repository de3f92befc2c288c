"""Benchmarks that print figures (accuracy, latency, HLS, search, sensitivity); each runs as ``python -m
flow.benchmarks.NAME``, and ``python -m flow.benchmarks`` lists them."""
from __future__ import annotations

import sys


def load_config_or_exit(path):
    """The configuration at ``path``; a bad one is one ``error:`` line and exit 2, as ``tsflow`` gives it."""
    from flow.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
