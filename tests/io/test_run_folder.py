"""A run folder is replaced as a whole: locked, staged beside it, swapped by rename."""

import os
import subprocess
import sys

import pytest

from antifraud.io import write_text
from antifraud.io.run_folder import FolderBusyError, staged_folder

OWNED = ("run.json", "findings.jsonl", "evidence")


def _old_run(out):
    (out / "evidence").mkdir(parents=True)
    (out / "evidence" / "orders.parquet").write_text("old evidence")
    (out / "run.json").write_text("old")
    (out / ".findings.jsonl.x1y2.part").write_text("half written by a killed run")


def _tree(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_the_old_outputs_are_replaced_as_a_set(tmp_path):
    out = tmp_path / "run"
    _old_run(out)
    with staged_folder(out, OWNED) as stage:
        assert stage.parent == tmp_path and stage.name.startswith(".run.staging-")
        write_text(stage / "run.json", "new")
        assert (out / "run.json").read_text() == "old"  # nothing is visible before the swap
    assert _tree(out) == ["run.json"] and (out / "run.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failed_run_leaves_the_old_outputs_alone(tmp_path):
    out = tmp_path / "run"
    _old_run(out)
    before = _tree(out)
    with pytest.raises(RuntimeError, match="disk full"), staged_folder(out, OWNED) as stage:
        write_text(stage / "run.json", "new")
        raise RuntimeError("disk full")
    assert _tree(out) == before and (out / "run.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "run"
    with staged_folder(out, OWNED) as stage:
        write_text(stage / "run.json", "first")
        busy = f"another run is writing {out} \\(process {os.getpid()}\\)"
        with pytest.raises(FolderBusyError, match=busy), staged_folder(out, OWNED):
            pass
        assert (tmp_path / ".run.lock").read_text() == f"{os.getpid()}\n"  # the refused run left it alone
    assert (out / "run.json").read_text() == "first" and not (tmp_path / ".run.lock").exists()
    with staged_folder(out, OWNED) as stage:  # free again once the first is done
        write_text(stage / "run.json", "second")
    assert (out / "run.json").read_text() == "second"


def test_a_folder_with_files_a_run_does_not_write_is_refused(tmp_path):
    out = tmp_path / "project"
    _old_run(out)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="notes.txt"), staged_folder(out, OWNED):
        pass
    assert (out / "notes.txt").read_text() == "mine" and (out / "run.json").read_text() == "old"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"), staged_folder(tmp_path / "file", OWNED):
        pass


_KILLED = """
import os, signal, sys
from antifraud.io import write_text
from antifraud.io.run_folder import staged_folder
with staged_folder(sys.argv[1], sys.argv[2:]) as stage:
    write_text(stage / "findings.jsonl", "new findings")
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("name", ["run", "run[1]"])
def test_what_a_killed_run_leaves_is_cleaned_by_the_next(tmp_path, name):
    out = tmp_path / name
    _old_run(out)
    subprocess.run([sys.executable, "-c", _KILLED, str(out), *OWNED], check=False)
    assert any(p.name.startswith(f".{name}.staging-") for p in tmp_path.iterdir())
    assert (out / "run.json").read_text() == "old"  # the killed run changed nothing visible
    (tmp_path / f".{name}.old-abc123").mkdir()  # as if killed between the two renames of a swap
    with staged_folder(out, OWNED) as stage:  # the dead run's lock went with it
        write_text(stage / "run.json", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name] and _tree(out) == ["run.json"]
