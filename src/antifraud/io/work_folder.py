"""A run's work folder: the result of each finished stage, reused by a rerun with the same inputs.

A stage (``ingest``, ``detectors``, ``model``) keeps its files in the subfolder of its name and
is finished once its marker ``<stage>.done.json`` exists: written last, atomically, it holds the
stage's key and the SHA-256 of each of its files. A stage is reused only if its marker holds the
key asked for and every file still has the SHA-256 the marker gives; otherwise it is recomputed:
its marker is removed first, then its folder, so a stage interrupted while being written is
never taken for finished.

The key is the SHA-256 of everything the result depends on (:func:`stage_key`); only the hash is
written, so nothing that went into it (such as the pseudonym key's fingerprint) can be read back.

The folder is created readable by its owner only (0700) and one run at a time holds it (the lock
``.<name>.lock`` beside it, as :func:`~antifraud.io.run_folder.staged_folder` takes). Stages may
hold pickles (joblib), which run code when loaded: only its owner can write into it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from antifraud.ingest.manifest import now_iso, sha256_file
from antifraud.io.atomic import write_json
from antifraud.io.canonical import canonical_bytes
from antifraud.io.run_folder import check_owned, folder_lock

__all__ = ["WorkFolder", "stage_key"]

T = TypeVar("T")


def stage_key(*parts: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``parts``: what a stage's result depends on.

    Examples
    --------
    >>> stage_key("ingest", ["ab12"]) == stage_key("ingest", ["ab12"]) != stage_key("ingest", ["ab13"])
    True
    """
    return hashlib.sha256(canonical_bytes(list(parts))).hexdigest()


class WorkFolder:
    """The finished stages of a run, in ``path`` (held by one run at a time: :meth:`open`).

    Parameters
    ----------
    path : path-like
        The work folder.
    stages : sequence of str
        The names of the stages it may hold; anything else in an existing folder is refused.
    """

    def __init__(self, path: str | os.PathLike[str], stages: Sequence[str]) -> None:
        self.path = Path(path).resolve()
        self.stages = tuple(stages)
        #: The stages reused so far, and those computed and kept.
        self.resumed: list[str] = []
        self.written: list[str] = []
        #: Seconds spent checking and loading each reused stage (``resume_<stage>``) and saving each
        #: computed one (``save_<stage>``).
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def open(self) -> Iterator[WorkFolder]:
        """Lock the folder, create it (0700) or check it holds only stages, and yield ``self``.

        Raises
        ------
        FolderBusyError
            If another run holds the folder.
        ValueError
            If the folder holds files that are not stages'.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with folder_lock(self.path):
            check_owned(self.path, {name for s in self.stages for name in (s, self._marker(s).name)},
                         "it removes the stages it recomputes")
            self.path.mkdir(mode=0o700, exist_ok=True)
            self.path.chmod(0o700)
            yield self

    def reuse_or_run(self, stage: str, key: str, compute: Callable[[], T], save: Callable[[T, Path], None],
                     load: Callable[[Path], T], say: Callable[..., None] = lambda *_args: None) -> T:
        """``load`` the result of ``stage`` if it finished with ``key``; otherwise ``compute`` it and
        ``save`` it into the stage's folder, marked finished with ``key``.

        Parameters
        ----------
        stage : str
            One of :attr:`stages`.
        key : str
            What the result depends on (:func:`stage_key`).
        compute : callable
            Makes the result.
        save, load : callable
            Write a result into a folder; read it back.
        say : callable, optional
            Told when a stage is reused.
        """
        t0 = time.perf_counter()
        folder = self.finished(stage, key)
        if folder is not None:
            say(f"resuming {stage} from {self.path}")
            value = load(folder)
            self.resumed.append(stage)
            self.timings[f"resume_{stage}"] = time.perf_counter() - t0
            return value
        value = compute()
        t0 = time.perf_counter()
        with self.writing(stage, key) as folder:
            save(value, folder)
        self.written.append(stage)
        self.timings[f"save_{stage}"] = time.perf_counter() - t0
        return value

    def finished(self, stage: str, key: str) -> Path | None:
        """The folder of ``stage`` if it finished with ``key`` and its files are intact, else None."""
        try:
            marker = json.loads(self._marker(stage).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        folder = self.path / stage
        if marker.get("key") != key:
            return None
        for name, sha256 in marker["files"].items():
            if not (folder / name).is_file() or sha256_file(folder / name) != sha256:
                return None
        return folder

    @contextlib.contextmanager
    def writing(self, stage: str, key: str) -> Iterator[Path]:
        """Yield the emptied folder of ``stage`` to write its result into; mark it finished with
        ``key`` if the block succeeds."""
        self._marker(stage).unlink(missing_ok=True)
        folder = self.path / stage
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        yield folder
        files = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}
        write_json(self._marker(stage), {"stage": stage, "key": key, "files": files, "finished_at": now_iso()})

    def _marker(self, stage: str) -> Path:
        return self.path / f"{stage}.done.json"
