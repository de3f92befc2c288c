"""Output folders that are either complete or clearly marked failed, never silently overwritten.

Work goes into ``DIR.partial``; only a finished stage renames it to ``DIR``.  An existing ``DIR`` is
replaced only with an explicit ``force``.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

from .config import ConfigError


class OutputExists(ConfigError):
    """The output folder holds earlier work and no --force was given."""


class OutputNotWritable(ConfigError):
    """The output folder cannot be created where it was asked for."""


@contextmanager
def staged_output(out: Path, force: bool):
    """Yield a staging folder; on success it becomes ``out``; on failure it stays ``out.partial``
    with a FAILED file naming the error."""
    out = Path(out).resolve()
    staging = out.with_name(out.name + ".partial")
    for existing in (out, staging):
        if existing.exists() and not force:
            raise OutputExists(f"output folder {existing} already exists; pass --force to replace it")
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
    except OSError as exc:  # a parent that is a file, or not writable: a user error, not a traceback
        raise OutputNotWritable(f"cannot create the output folder {out}: {exc.filename}: "
                                f"{exc.strerror or exc}") from None
    try:
        yield staging
    except BaseException as exc:
        (staging / "FAILED").write_text(f"{type(exc).__name__}: {exc}\n")
        raise
    if out.exists():
        if not force:
            raise OutputExists(f"output folder {out} appeared while this run worked; its result stays in {staging}")
        shutil.rmtree(out)
    staging.rename(out)
