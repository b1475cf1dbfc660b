"""A model folder: the fitted model, what it was trained on, and how well it did.

``model.skops`` holds the :class:`~antifraud.learning.model.BrushingModel` in the skops format,
which rebuilds only the types it is told to trust (a pickle runs whatever it holds: a model
folder from someone else is hostile until checked); ``model.json`` says what it was trained on
(the exports' and label files' SHA-256, the label counts, the features of each kind, the toolkit
version, the cross-validated figures) and holds the SHA-256 of ``model.skops`` and
``scores.csv`` (every training entity's out-of-fold score), which :func:`load_model`
checks before it reads anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import skops.io as sio

from antifraud.ingest.manifest import sha256_file
from antifraud.learning.model import BrushingModel

__all__ = ["FORMAT", "MODEL_FILES", "ModelFolderError", "TRUSTED_TYPES", "load_model", "model_about"]

#: The ``format`` of ``model.json``.
FORMAT = "antifraud-model/1"
#: What a model folder holds.
MODEL_FILES: tuple[str, ...] = ("model.skops", "model.json", "scores.csv")
#: The types a model folder's ``model.skops`` may hold beyond those skops trusts itself: the
#: project's model and the default classifier's trees.
TRUSTED_TYPES: tuple[str, ...] = (
    "antifraud.learning.model.BrushingModel",
    "antifraud.learning.pu.PUClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


class ModelFolderError(ValueError):
    """A model folder that is incomplete, altered, or holds types nobody trusted."""


def model_about(folder: str | Path) -> dict[str, Any]:
    """``model.json`` of a model folder, its files checked against their SHA-256.

    Raises
    ------
    ModelFolderError
        If a file is missing, the format unknown, or a file's SHA-256 differs from
        ``model.json``'s.
    """
    folder = Path(folder)
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelFolderError(f"{folder}: not a model folder (missing {', '.join(missing)}); "
                               "antifraud train writes one")
    about = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    if about.get("format") != FORMAT:
        raise ModelFolderError(f"{folder / 'model.json'}: format {about.get('format')!r}, expected {FORMAT!r}")
    for name, digest in about.get("files", {}).items():
        if sha256_file(folder / name) != digest:
            raise ModelFolderError(f"{folder / name}: its SHA-256 is not the one model.json records: "
                                   "the folder was altered after training")
    if set(about.get("files", {})) != {"model.skops", "scores.csv"}:
        raise ModelFolderError(f"{folder / 'model.json'}: it records no SHA-256 for model.skops and scores.csv")
    return about


def load_model(folder: str | Path, trust: tuple[str, ...] = ()) -> tuple[BrushingModel, dict[str, Any]]:
    """The model of a folder and its ``model.json``, after :func:`model_about`'s checks.

    Parameters
    ----------
    folder : path
    trust : tuple of str
        Types to rebuild beyond :data:`TRUSTED_TYPES` (the classes of a classifier a researcher
        swapped in, e.g. ``"sklearn.pipeline.Pipeline"``).

    Raises
    ------
    ModelFolderError
        As :func:`model_about`, or if ``model.skops`` holds types not trusted, naming them.
    """
    about = model_about(folder)
    path = Path(folder) / "model.skops"
    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES) - set(trust))
    if refused:
        raise ModelFolderError(f"{path}: holds types nobody trusted: {', '.join(refused)} (pass them in trust= "
                               "if you know where the model comes from)")
    model = sio.load(path, trusted=untrusted)
    if not isinstance(model, BrushingModel):
        raise ModelFolderError(f"{path}: holds a {type(model).__name__}, not a BrushingModel")
    return model, about
