"""Turning a user's mistake into one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

__all__ = ["EXIT_OK", "EXIT_FINDINGS", "EXIT_USAGE", "EXIT_CODES_HELP", "user_errors", "fail"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
#: What the exit codes mean, at the end of every command's help.
EXIT_CODES_HELP = (f"Exit codes: {EXIT_OK} success; {EXIT_FINDINGS} a check failed, or there were findings you asked "
                   f"to fail on (as said above; never otherwise); {EXIT_USAGE} a usage or input error, reported in "
                   f"one line on stderr.")

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Report :class:`~antifraud.ingest.errors.InputError`, ``ValueError`` and ``OSError``
    raised by a command as one line with exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from antifraud.ingest.errors import InputError

        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except (InputError, ValueError) as exc:
            raise fail(str(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise fail(f"{where}{exc.strerror or exc}") from None

    return wrapper
