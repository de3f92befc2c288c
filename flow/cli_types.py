"""Flag value types shared by the ``tsflow`` commands and the benchmarks' command lines (click and argparse), so a
bad number is answered the same way everywhere: what the flag counts and its range, not click's 'integer range'
or argparse's 'invalid int value'."""
from __future__ import annotations

import argparse

import click


class WholeNumber(click.IntRange):
    """A whole number of WHAT (a plural noun, or "" for a bare number) from MIN (to MAX, if given); ``hint`` says
    what else to do (such as leaving the flag out). A click type, or through ``for_argparse`` an argparse ``type=``."""

    name = "number"

    def __init__(self, what: str, min: int | None = 1, max: int | None = None, hint: str = ""):
        super().__init__(min=min, max=max)
        self.what, self.hint = what, hint

    def allowed(self) -> str:
        number = f"a whole number of {self.what}" if self.what else "a whole number"
        if self.min is None and self.max is None:
            return number
        if self.max is None:
            return f"{number} ({self.min} or more)"
        return f"{number} ({self.max} at most)" if self.min is None else f"{number} from {self.min} to {self.max}"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail(f"{value!r} is empty (an unset shell variable?); give {self.allowed()}", param, ctx)
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            hint = f", {self.hint}" if self.hint else ""
            self.fail(f"{value!r}: give {self.allowed()}{hint}", param, ctx)

    def for_argparse(self):
        """The same check as an argparse ``type=``: argparse prints 'argument --FLAG: MESSAGE'."""
        def parse(text: str) -> int:
            try:
                return self.convert(text, None, None)
            except click.BadParameter as exc:
                raise argparse.ArgumentTypeError(exc.message) from None
        return parse
