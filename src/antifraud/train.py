"""Learning from confirmed cases: exports and labels in, a model folder out.

>>> from antifraud.train import train
>>> from antifraud.ingest import PROFILES
>>> trained = train(["fixtures/generic/orders.csv"], PROFILES["generic"], labels=["black.csv"],
...                 out_dir="model", seed=0)  # doctest: +SKIP

Labels come from label files, a record store (:class:`~antifraud.learning.sources.StoreCases`),
or both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio
from joblib import parallel_config

from antifraud import __version__
from antifraud.detectors.ensemble import BrushingEnsemble
from antifraud.features.data import prepare
from antifraud.ingest import Profile, ingest
from antifraud.ingest.manifest import sha256_file
from antifraud.io import write_csv, write_json
from antifraud.io.run_folder import staged_folder
from antifraud.learning.features import entity_features, uninformed
from antifraud.learning.folder import FORMAT, MODEL_FILES
from antifraud.learning.labels import KINDS, merge_labels, read_labels
from antifraud.learning.model import BrushingModel
from antifraud.learning.sources import StoreCases
from antifraud.learning.validation import operation_groups
from antifraud.records.lifecycle import timestamp

__all__ = ["Training", "train"]


@dataclass
class Training:
    """A finished training run: the fitted model and its folder's ``model.json``."""

    model: BrushingModel
    about: dict[str, Any]
    path: Path


def train(
    paths: Sequence[str | Path],
    profile: Profile,
    *,
    labels: Sequence[str | Path] = (),
    store: StoreCases | None = None,
    out_dir: str | Path,
    seed: int = 0,
    encoding: str | None = None,
    model: BrushingModel | None = None,
    ensemble: BrushingEnsemble | None = None,
    progress: Callable[..., None] | None = None,
    n_jobs: int | None = -1,
) -> Training:
    """Ingest ``paths``, run the ensemble, learn from ``labels`` and write a model folder.

    Parameters
    ----------
    paths : sequence of path
        Export files, read with ``profile``.
    labels : sequence of path
        Label files (:func:`~antifraud.learning.labels.read_labels`).
    store : StoreCases, optional
        What a record store confirms (:meth:`StoreCases.read
        <antifraud.learning.sources.StoreCases.read>`), matched to the exports' entities and
        merged with the files' labels (:func:`~antifraud.learning.labels.merge_labels`).
    out_dir : path
        The model folder (:data:`~antifraud.learning.folder.MODEL_FILES`), replaced as a whole
        once every file is written.
    seed : int
        Seed of the ensemble and the model (unless they are given).
    model : BrushingModel, optional
        Unfitted; default ``BrushingModel(random_state=seed)``.
    ensemble : BrushingEnsemble, optional
        Unfitted; default ``BrushingEnsemble(random_state=seed)``. Its scores are features: a
        model applies to exports detected with the same ensemble.

    Raises
    ------
    LabelError
        For a label file that cannot be used, or an entity two sources label both ways.
    LeakageError
        For a feature that knows the labels.
    ValueError
        If no labels are given, no kind has enough confirmed fraud, or no row of the exports was
        accepted.
    """
    if not labels and store is None:
        raise ValueError("nothing to learn from: give label files or a record store")
    say = progress or (lambda *_args: None)
    timings: dict[str, float] = {}
    cases = read_labels(labels)
    model = BrushingModel(random_state=seed) if model is None else model
    ensemble = BrushingEnsemble(random_state=seed) if ensemble is None else ensemble
    out = Path(out_dir)
    with staged_folder(out, MODEL_FILES) as stage:
        result = ingest(paths, profile, encoding=encoding, progress=progress)
        if not result.rows_accepted:
            raise ValueError(f"0 of {result.rows_read:,} rows accepted: nothing to learn from")
        say("building graphs and features")
        t0 = time.perf_counter()
        data = prepare(result.table)
        with parallel_config(backend="threading", n_jobs=n_jobs):
            ensemble.fit(data)
        # Order frames are a row per order: built where orders are labelled (records name none).
        features = entity_features(data, ensemble, orders=not cases.frames["orders"].empty)
        timings["detect"] = time.perf_counter() - t0
        if store is not None:
            cases = merge_labels([cases, store.labels(data)])
        ids = {"accounts": features.accounts.index, "merchants": features.merchants.index,
               "orders": pd.Index([]) if features.orders is None else features.orders.index}
        aligned = {kind: cases.align(kind, ids[kind]) for kind in KINDS}
        groups = operation_groups(data, ensemble, {kind: a[1] for kind, a in aligned.items()})
        say("learning from the confirmed cases")
        t0 = time.perf_counter()
        model.fit(features, {kind: a[0] for kind, a in aligned.items()}, groups)
        timings["learn"] = time.perf_counter() - t0
        sio.dump(model, stage / "model.skops")
        scores = pd.concat([pd.DataFrame({"kind": kind, "id": ids[kind], "label": aligned[kind][0],
                                          "group": groups[kind], "oof_score": model.oof_[kind]})
                            for kind in model.models_], ignore_index=True)
        write_csv(scores, stage / "scores.csv")
        counts = cases.counts()
        about = {
            "format": FORMAT,
            "toolkit_version": __version__,
            "created_at": timestamp(time.time()),
            "training": {
                "exports": [{"path": str(f.path), "sha256": f.sha256} for f in result.files],
                "labels": [source.to_json() for source in cases.sources],
                "profile": profile.name,
                "rows_accepted": result.rows_accepted,
                "ensemble": {k: repr(v) for k, v in ensemble.get_params(deep=False).items() if k != "detectors"},
            },
            "labels": {kind: counts[kind] | {
                "matched": int((aligned[kind][0] >= 0).sum()), "unmatched": aligned[kind][2]} for kind in KINDS},
            "features": model.features_,
            "uninformed": {kind: uninformed(features.frame(kind)) for kind in model.models_},
            "model": {"classifier": repr(model.classifier),
                      "params": {k: repr(v) for k, v in model.get_params().items()}},
            "cross_validation": model.cv_,
            "timings": timings,
            "files": {name: sha256_file(stage / name) for name in ("model.skops", "scores.csv")},
        }
        write_json(stage / "model.json", _plain(about))
    return Training(model, about, out)


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN as None, for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
