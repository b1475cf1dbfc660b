"""What a command prints, as ``--quiet`` and ``--json`` (:mod:`antifraud.cli.conventions`) ask.

A command hands its result to :func:`result` once: with ``--json`` its JSON document is the only
thing on stdout; with ``--quiet`` its essential line; otherwise what a person reads (the summary
functions of :mod:`antifraud.cli.report`, or the essential line). Warnings go through
:func:`warn` (stderr, not with ``--quiet``), progress through :func:`progress` (not with
``--quiet`` or ``--json``). Errors are never silenced (:mod:`antifraud.cli.errors`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import typer

__all__ = ["FLAGS", "as_json", "quiet", "result", "warn", "progress"]

#: The output flags of the command running (set by :class:`~antifraud.cli.conventions.Command`).
FLAGS: ContextVar[frozenset[str]] = ContextVar("antifraud_output_flags", default=frozenset())


def quiet() -> bool:
    """True when the command runs with ``--quiet``."""
    return "quiet" in FLAGS.get()


def as_json() -> bool:
    """True when the command runs with ``--json``."""
    return "json" in FLAGS.get()


def result(document: Any, *, essential: str, human: Callable[[], None] | None = None) -> None:
    """Print a command's result once, as the output flags ask.

    Parameters
    ----------
    document : object
        The result as JSON (paths and other objects are written as text).
    essential : str
        The result in one line (``--quiet``; also the human output when ``human`` is None).
    human : callable, optional
        Prints the result for a person (a summary), when neither flag is given.
    """
    if as_json():
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    elif quiet() or human is None:
        typer.echo(essential)
    else:
        human()


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr, unless ``--quiet``."""
    if not quiet():
        typer.echo(f"warning: {message}", err=True)


@contextlib.contextmanager
def progress() -> Iterator[Callable[..., None]]:
    """The progress bar of :func:`~antifraud.cli.report.stage_progress`, or nothing with ``--quiet``
    or ``--json``."""
    if quiet() or as_json():
        yield lambda message, fraction=None: None
        return
    from antifraud.cli.report import stage_progress

    with stage_progress() as update:
        yield update
