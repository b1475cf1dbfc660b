"""Configuring an ensemble from a mapping or a TOML file (``antifraud detect --config``).

A configuration has two tables, both turned into one :meth:`BrushingEnsemble.set_params` call:

- ``[detectors]``: one key per step. ``name = "drop"`` leaves the step out; a table
  ``[detectors.name]`` sets the step's parameters (``name__param``), nested tables its
  estimators' (``name__param__sub``).
- ``[ensemble]``: the ensemble's own parameters (``contamination``, ``min_ring_score``, ...);
  a table such as ``[ensemble.reviews]`` sets an estimator parameter's parameters
  (``reviews__param``).

Every key is checked against ``ensemble.get_params(deep=True)``, every value against the kind
of its current value (a number for a number, text for text) and against the constraints of the
estimator it belongs to (``_parameter_constraints``: the ensemble's, a step's, the review
scorer's), before anything is set: a misspelt step or parameter is refused with the closest
valid name, a value out of range by its dotted key, and the ensemble is left as it was.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterator, Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

from antifraud.detectors.ensemble import BrushingEnsemble

__all__ = ["configure", "load_config"]

_TABLES = ("detectors", "ensemble")


def configure(
    ensemble: BrushingEnsemble, config: Mapping[str, Any], *, source: str = "configuration"
) -> BrushingEnsemble:
    """Set the parameters ``config`` names on ``ensemble`` and return it.

    Parameters
    ----------
    ensemble : BrushingEnsemble
        Configured in place (its default steps are copied first, never changed); unchanged
        when the configuration is refused.
    config : mapping
        ``{"detectors": {step: "drop" | {param: value}}, "ensemble": {param: value}}``, as read
        from TOML; both tables are optional.
    source : str
        Named in error messages, e.g. the file the mapping was read from.

    Returns
    -------
    ensemble : BrushingEnsemble

    Raises
    ------
    ValueError
        For an unknown table, step or parameter (with the closest valid name), a value that
        replaces an estimator by anything but ``"drop"``, a value of another kind than the
        parameter's current one (text for a number, a fraction for a count), or a value
        outside the constraints of its estimator (the ensemble, a step or the review scorer).

    Examples
    --------
    >>> ensemble = configure(BrushingEnsemble(), {"detectors": {"dense_block": "drop", "lockstep": {"window": 3600}},
    ...                                           "ensemble": {"contamination": 0.03}})
    >>> ensemble.get_params()["dense_block"], ensemble.get_params()["lockstep__window"], ensemble.contamination
    ('drop', 3600, 0.03)
    >>> configure(BrushingEnsemble(), {"detectors": {"lockstep": {"windw": 60}}}, source="detectors.toml")
    Traceback (most recent call last):
    ...
    ValueError: detectors.toml: unknown parameter detectors.lockstep.windw of LockstepDetector (did you mean detectors.lockstep.window?)
    """
    current = ensemble.get_params(deep=True)
    steps = [name for name, _ in ensemble.detectors]
    params, dotted = {}, {}
    for table, path, value in _entries(config, source):
        if table == "detectors" and path[0] not in steps:
            raise ValueError(f"{source}: unknown detector {path[0]!r}{_hint(path[0], steps, quote=True)}; "
                             f"the steps are {', '.join(steps)}")
        if table == "ensemble" and path[0] in [*steps, "detectors"]:
            raise ValueError(f"{source}: ensemble.{path[0]} is set in [detectors], not in [ensemble]")
        key = "__".join(path)
        dotted[key] = f"{table}.{'.'.join(path)}"
        if key not in current:
            raise ValueError(f"{source}: unknown parameter {_unknown(table, path, current)}")
        dropped = table == "detectors" and len(path) == 1 and value == "drop"
        if isinstance(current[key], BaseEstimator) and not dropped:
            where = "a detector takes" if table == "detectors" else "an estimator takes"
            raise ValueError(f"{source}: {dotted[key]} = {value!r}: {where} "
                             + ('"drop" or ' if table == "detectors" and len(path) == 1 else "")
                             + "a table of its parameters")
        expected = _kind_mismatch(value, current[key])
        if expected:
            raise ValueError(f"{source}: {dotted[key]} = {value!r}: expected {expected}, "
                             f"like its current value {current[key]!r}")
        params[key] = value
    configured = clone(ensemble).set_params(**params)
    resolved = configured.get_params(deep=True)
    for key, value in params.items():
        owner, _, name = key.rpartition("__")
        estimator = resolved[owner] if owner else configured
        constraints = estimator._parameter_constraints
        if name not in constraints:
            continue
        try:
            validate_parameter_constraints({name: constraints[name]}, {name: value}, type(estimator).__name__)
        except InvalidParameterError as exc:
            raise ValueError(f"{source}: {dotted[key]} = {value!r}: {exc}") from None
    return ensemble.set_params(**params)


def load_config(path: str | Path, ensemble: BrushingEnsemble | None = None) -> BrushingEnsemble:
    """The ensemble configured by the TOML file at ``path`` (:func:`configure`).

    Parameters
    ----------
    path : path
        A TOML file with ``[detectors]`` and ``[ensemble]`` tables.
    ensemble : BrushingEnsemble, optional
        The ensemble to configure (default: a new one with the default steps).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> toml = pathlib.Path(tempfile.mkdtemp()) / "detectors.toml"
    >>> _ = toml.write_text('[detectors]\\ndense_block = "drop"\\n[ensemble]\\ncontamination = 0.03\\n')
    >>> [name for name, step in load_config(toml).detectors if step != "drop"][:4]
    ['promoted_shops', 'lockstep', 'takeover', 'communities']
    """
    path = Path(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    return configure(BrushingEnsemble() if ensemble is None else ensemble, config, source=str(path))


def _entries(config: Mapping[str, Any], source: str) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """``(table, key path, value)`` of every leaf of the ``[detectors]`` and ``[ensemble]`` tables."""
    for table, body in config.items():
        if table not in _TABLES:
            raise ValueError(f"{source}: unknown table [{table}]{_hint(table, _TABLES)}; "
                             "a configuration has [detectors] and [ensemble]")
        if not isinstance(body, Mapping):
            raise ValueError(f"{source}: {table} must be a table, got {body!r}")
        yield from ((table, path, value) for path, value in _leaves(body))


def _kind_mismatch(value: Any, current: Any) -> str | None:
    """The kind of value ``current`` calls for, when ``value`` is not of it; else None.

    A parameter whose current value is None (a seed) or an estimator is not checked here.
    """
    if isinstance(current, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(current, Integral):
        return None if isinstance(value, Integral) and not isinstance(value, bool) else "a whole number"
    if isinstance(current, Real):
        return None if isinstance(value, Real) and not isinstance(value, bool) else "a number"
    if isinstance(current, str):
        return None if isinstance(value, str) else "text"
    return None


def _leaves(table: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def _unknown(table: str, path: tuple[str, ...], current: Mapping[str, Any]) -> str:
    """``table.a.b`` in words: of which estimator, and the closest parameter it has."""
    owner = "__".join(path[:-1])
    if owner and owner not in current:
        return _unknown(table, path[:-1], current)
    name = f"{table}.{'.'.join(path)}"
    if owner and not isinstance(current[owner], BaseEstimator):
        return f"{name}: {table}.{owner.replace('__', '.')} is {current[owner]!r}"
    siblings = [k for k in current if k.rpartition("__")[0] == owner]
    dotted = [f"{table}.{k.replace('__', '.')}" for k in siblings]
    of = type(current[owner]).__name__ if owner else "BrushingEnsemble"
    return f"{name} of {of}{_hint(name, dotted)}"


def _hint(word: str, candidates: Any, quote: bool = False) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1)
    if not close:
        return ""
    return f" (did you mean {close[0]!r}?)" if quote else f" (did you mean {close[0]}?)"
