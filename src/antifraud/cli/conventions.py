"""The conventions every ``antifraud`` command follows, kept in one place.

:class:`App` (a :class:`typer.Typer`) builds every command with :class:`Command` and every group
with :class:`Group`, so that each of them

- answers ``-h`` as well as ``--help``;
- names its values with conventional metavars (``FILE``, ``DIR``, ``TEXT``, ``N``, ``NUMBER``; a
  flag with none) instead of Python types: an option's own ``metavar`` where it gives one, else
  one from its type;
- ends its help with the exit codes (:data:`~antifraud.cli.errors.EXIT_CODES_HELP`); the example
  is the docstring's ``Example:`` paragraph;
- takes ``--quiet`` and ``--json`` (:data:`QuietOpt`, :data:`JsonOpt`), declared once on the app's
  callback and accepted after any command as well as before it; commands read them through
  :mod:`antifraud.cli.output` while the command runs;
- keeps the old names of renamed options (:data:`ALIASES`) working, hidden from its help, with a
  warning on stderr;
- reports every missing required option at once, not one per attempt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from antifraud.cli.errors import EXIT_CODES_HELP
from antifraud.cli.output import FLAGS

__all__ = ["ALIASES", "App", "Command", "Group", "JsonOpt", "QuietOpt", "OUTPUT_FLAGS"]

HELP_OPTION_NAMES = ["-h", "--help"]
#: Old option names that still work, hidden from the help: old name -> the name to use.
ALIASES = {"--member-id": "--member", "--as": "--member"}
#: The metavar of a value of each type, where the option names none of its own.
_METAVARS = {"str": "TEXT", "int": "N", "float": "NUMBER", "Path": "PATH"}
#: Where the output flags are kept: ``ctx.meta`` is shared by a command and the groups above it.
OUTPUT_FLAGS = "antifraud.output"


#: The output options, which every command takes, and the flag each sets.
_OUTPUT_OPTIONS = {"--quiet": "quiet", "--json": "json"}


def _set_output_flag(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value:
        ctx.meta.setdefault(OUTPUT_FLAGS, set()).update(_OUTPUT_OPTIONS[o] for o in param.opts if o in _OUTPUT_OPTIONS)


QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", callback=_set_output_flag, expose_value=False, is_eager=True,
    help="Print only errors and the essential result (no summary, no progress, no warnings).")]
JsonOpt = Annotated[bool, typer.Option(
    "--json", callback=_set_output_flag, expose_value=False, is_eager=True,
    help="Print one JSON document on stdout: the command's result (e.g. the run manifest).")]


def _no_type(ctx: Any) -> str:
    return ""


def _conventional_metavar(param: Any) -> None:
    """Give ``param`` a conventional metavar unless it has one: none for a flag, else by type."""
    if param.param_type_name == "argument":
        param.display_type_rich = _no_type  # typer shows an argument's Python type beside its metavar
    if param.metavar is not None:
        return
    if getattr(param, "is_flag", False):
        param.metavar = ""
        return
    bare = param.bare_type()
    bare = bare.removeprefix("list[").removesuffix("]")
    param.metavar = _METAVARS.get(bare, param.name.upper())


@contextlib.contextmanager
def _aliases_hidden(params: Sequence[Any]) -> Iterator[None]:
    """Leave the old names out of the options while the help is written."""
    shown = [(p, p.opts) for p in params if any(o in ALIASES for o in p.opts)]
    for param, opts in shown:
        param.opts = [o for o in opts if o not in ALIASES]
    try:
        yield
    finally:
        for param, opts in shown:
            param.opts = opts


class Command(TyperCommand):
    """A command following the conventions of the module docstring."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        root = ctx.find_root().command
        shared = [p for p in root.params if set(p.opts) & set(_OUTPUT_OPTIONS)] if root is not self else []
        params = [*params[:-1], *(p for p in shared if p not in params), params[-1]]  # --help stays last
        for param in params:
            _conventional_metavar(param)
        return params

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with _aliases_hidden(self.get_params(ctx)):
            super().format_help(ctx, formatter)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not ctx.resilient_parsing:
            _refuse_missing(self, ctx, args)
        old_names = dict.fromkeys(a.partition("=")[0] for a in args if a.partition("=")[0] in ALIASES)
        rest = super().parse_args(ctx, args)  # consumes ``args``
        if _OUTPUT_OPTIONS["--quiet"] not in ctx.meta.get(OUTPUT_FLAGS, ()):
            for old in old_names:
                typer.echo(f"warning: {old} is an old name of {ALIASES[old]}; use {ALIASES[old]}", err=True)
        return rest

    def invoke(self, ctx: Any) -> Any:
        token = FLAGS.set(frozenset(ctx.meta.get(OUTPUT_FLAGS, ())))
        try:
            return super().invoke(ctx)
        finally:
            FLAGS.reset(token)


def _refuse_missing(command: Command, ctx: Any, args: list[str]) -> None:
    """Fail naming every required parameter that is given neither on the command line nor in
    the environment (click stops at the first)."""
    params = command.get_params(ctx)
    opts, _, _ = command.make_parser(ctx).parse_args(args=list(args))
    if opts.get("help"):
        return  # asking for the help needs nothing else
    missing = [p for p in params if p.required and p.value_is_missing(p.consume_value(ctx, opts)[0])]
    if len(missing) > 1:
        ctx.fail("missing " + "; ".join(f"{_name(p)} ({p.help.rstrip('.')})" if p.help else _name(p)
                                        for p in missing))


def _name(param: Any) -> str:
    long = [o for o in param.opts if o.startswith("--") and o not in ALIASES]
    return long[0] if long else param.metavar or param.name.upper()


class Group(TyperGroup):
    """A group of commands following the conventions of the module docstring."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            _conventional_metavar(param)
        return params


class App(typer.Typer):
    """A :class:`typer.Typer` whose commands and groups follow the module's conventions.

    Parameters
    ----------
    name, help : str
        The group's name on the command line and its one-line help.
    """

    def __init__(self, *, name: str, help: str, **kwargs: Any) -> None:
        super().__init__(name=name, help=help, cls=Group, no_args_is_help=True, add_completion=False,
                         rich_markup_mode="rich", context_settings={"help_option_names": HELP_OPTION_NAMES},
                         **kwargs)

    def command(self, name: str | None = None, **kwargs: Any) -> Any:  # noqa: D102 - typer's
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        return super().command(name, cls=Command, **kwargs)
