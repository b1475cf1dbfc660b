"""A work folder keeps finished stages under the key of their inputs, and only those."""

import json

import pytest

from antifraud.io.run_folder import FolderBusyError
from antifraud.io.work_folder import WorkFolder, stage_key

STAGES = ("first", "second")


def _save(value, folder):
    (folder / "value.txt").write_text(value)


def _load(folder):
    return (folder / "value.txt").read_text()


def _run(work, key, value, stage="first"):
    computed = []

    def compute():
        computed.append(value)
        return value

    return work.reuse_or_run(stage, key, compute, _save, _load), computed


def test_a_finished_stage_is_reused_for_its_key_only(tmp_path):
    with WorkFolder(tmp_path / "work", STAGES).open() as work:
        assert _run(work, stage_key("a"), "made for a") == ("made for a", ["made for a"])
        assert _run(work, stage_key("a"), "not computed") == ("made for a", [])
        assert _run(work, stage_key("b"), "made for b") == ("made for b", ["made for b"])  # replaced
        assert _run(work, stage_key("a"), "made for a again") == ("made for a again", ["made for a again"])
        assert work.resumed == ["first"] and work.written == ["first"] * 3
        assert set(work.timings) == {"resume_first", "save_first"}
    marker = json.loads((tmp_path / "work" / "first.done.json").read_text())
    assert marker["key"] == stage_key("a") and set(marker["files"]) == {"value.txt"}
    assert (tmp_path / "work").stat().st_mode & 0o777 == 0o700


def test_a_damaged_stage_is_recomputed(tmp_path):
    with WorkFolder(tmp_path / "work", STAGES).open() as work:
        _run(work, stage_key("a"), "whole")
        (tmp_path / "work" / "first" / "value.txt").write_text("torn")
        assert work.finished("first", stage_key("a")) is None
        assert _run(work, stage_key("a"), "whole") == ("whole", ["whole"])


def test_a_stage_interrupted_while_saved_is_not_finished(tmp_path):
    with WorkFolder(tmp_path / "work", STAGES).open() as work:
        _run(work, stage_key("a"), "old")
        with pytest.raises(KeyboardInterrupt), work.writing("first", stage_key("b")) as folder:
            (folder / "value.txt").write_text("half")
            raise KeyboardInterrupt
        assert work.finished("first", stage_key("a")) is None  # the old result went first
        assert work.finished("first", stage_key("b")) is None


def test_a_folder_with_other_files_or_in_use_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("not a stage")
    with pytest.raises(ValueError, match="notes.txt, which a run does not write; it removes the stages"):
        WorkFolder(tmp_path / "mine", STAGES).open().__enter__()
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]  # untouched
    with WorkFolder(tmp_path / "work", STAGES).open(), pytest.raises(FolderBusyError):
        WorkFolder(tmp_path / "work", STAGES).open().__enter__()
