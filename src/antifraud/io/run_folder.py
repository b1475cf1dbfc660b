"""The folder a run writes, replaced as a whole: never a mix of two runs' files.

A run never writes into its folder ``out`` itself. :func:`staged_folder`

1. takes the lock ``.<name>.lock`` beside ``out`` (``flock``, not waiting: a second run into the
   same folder is refused at once; the kernel drops the lock of a run that dies, even by SIGKILL,
   and a run that ends removes the file);
2. removes what killed runs left beside ``out``: ``.<name>.staging-*`` and ``.<name>.old-*``
   folders (``.part`` files of a killed run are inside them, or in the old ``out``, which goes);
3. hands the run a fresh ``.<name>.staging-<random>`` folder beside ``out``, so on the same
   filesystem, to write everything into (``run.json`` last, by convention);
4. if the run succeeds, swaps: ``rename(out, .<name>.old-<random>)``, ``rename(staging, out)``,
   fsync of the parent, then the old folder is removed. If it fails, the staging folder is
   removed and ``out`` is untouched.

Only renames: nothing is copied, whatever the size of the outputs. Why two renames and not a
symlink swap: ``out`` stays a real folder, which ``tar``, ``cp -r`` and ``shutil.rmtree`` treat
as before, and POSIX ``rename(2)`` replaces a folder only by another when the target is empty,
so no single portable call swaps two full folders (Linux's ``renameat2(RENAME_EXCHANGE)`` is not
POSIX). A reader therefore sees the complete old set, then for the instant between the renames
no folder, then the complete new set. A crash in that instant leaves no ``out`` (and the complete
new set in the staging folder); the next run cleans up.

A folder is replaced only if everything in it is a file runs write (or a ``.part`` file they
left): a run refuses an ``out`` holding anything else, so it never deletes what it did not write.

Reproducibility: the same inputs, parameters, seed and pseudonym key, with the issuing time
fixed (``SOURCE_DATE_EPOCH`` or ``detect --issued-at``), give byte-identical files, all but
``run.json``, which also differs only in the members named by :data:`RUN_TIMINGS`.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path

from antifraud.io.atomic import _umask

__all__ = ["FolderBusyError", "RUN_TIMINGS", "check_owned", "folder_lock", "staged_folder"]

#: The members of ``run.json`` that say when and how long the run took: they vary run to run.
RUN_TIMINGS: tuple[str, ...] = ("started_at", "finished_at", "timings_s")


class FolderBusyError(ValueError):
    """Another run holds the folder's lock."""


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike[str], owned: Collection[str]) -> Iterator[Path]:
    """Lock ``out``, yield an empty staging folder beside it, and on success make it ``out``.

    Parameters
    ----------
    out : path-like
        The run folder; created if absent (and its parents).
    owned : collection of str
        The names a run writes at the top of ``out``; an existing ``out`` holding anything else
        (other than ``.part`` leftovers) is refused.

    Raises
    ------
    FolderBusyError
        If another run is writing ``out``.
    ValueError
        If ``out`` is not a folder, or holds files a run does not write.
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(out):
        check_owned(out, owned)
        for kind in ("staging", "old"):
            for leftover in out.parent.glob(f"{glob.escape(f'.{out.name}.{kind}-')}*"):
                shutil.rmtree(leftover)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        try:
            stage.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; a run folder gets the usual mode
            yield stage
            _swap(stage, out)
        finally:
            shutil.rmtree(stage, ignore_errors=True)  # gone already after a swap


@contextlib.contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``out`` (naming the holder's process id); remove it when done."""
    path = out.parent / f".{out.name}.lock"
    while True:
        lock = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            lock.close()
            raise FolderBusyError(f"another run is writing {out} (process {holder}); wait for it to finish "
                                  "or choose another folder") from None
        if _same_file(lock.fileno(), path):
            break
        lock.close()  # its holder removed it as we took it: take the one now there
    try:
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield
    finally:
        path.unlink(missing_ok=True)  # before the lock goes, so nobody can hold a removed file's lock
        lock.close()


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def check_owned(out: Path, owned: Collection[str], why: str = "it replaces the folder as a whole") -> None:
    """Refuse an ``out`` holding anything but ``owned`` names (and leftovers), saying ``why``."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"{out}: not a folder")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in owned and not _leftover(p.name))
    if foreign:
        raise ValueError(f"{out}: holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}, which a run "
                         f"does not write; {why}, so choose a new or empty one")


def _leftover(name: str) -> bool:
    """Whether ``name`` is a temporary file of :func:`antifraud.io.atomic_path`."""
    return name.startswith(".") and name.endswith(".part")


def _swap(stage: Path, out: Path) -> None:
    for folder in (*(p for p in stage.rglob("*") if p.is_dir()), stage):
        _fsync(folder)  # the files' names are durable before they become visible
    old = out.parent / f".{out.name}.old-{stage.name.rsplit('-', 1)[-1]}"
    if out.exists():
        os.rename(out, old)
    os.rename(stage, out)
    _fsync(out.parent)
    shutil.rmtree(old, ignore_errors=True)


def _fsync(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
