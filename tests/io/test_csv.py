import pandas as pd
import pyarrow as pa
import pytest

from antifraud.io import atomic_path, escape_formulas, write_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("-12.5", "-12.5"),
        ("+86", "+86"),
        ("1e-3", "1e-3"),
        ("好评", "好评"),
        ("a=b", "a=b"),
    ],
)
def test_escape_formulas(value, expected):
    assert escape_formulas(pa.table({"t": [value]})).column("t").to_pylist() == [expected]


def test_numeric_and_dictionary_columns(tmp_path):
    table = pa.table({
        "n": pa.array([-1.5, 2.0]),
        "d": pa.array(["=x", "y"]).dictionary_encode(),
    })
    out = tmp_path / "o.csv"
    write_csv(table, out)
    back = pd.read_csv(out, dtype=str)
    assert back["n"].tolist() == ["-1.5", "2"]
    assert back["d"].tolist() == ["'=x", "y"]


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "result.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_replaces_existing(tmp_path):
    target = tmp_path / "result.csv"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["result.csv"]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.dictionary(pa.int32(), pa.large_string())])
def test_escape_formulas_keeps_every_string_type(kind):
    # pandas 3 strings arrive as large_string: escaping must not depend on the string type.
    values = pa.array(["+8613800000000", "=cmd", "-x", "ok"], pa.large_string()).cast(kind)
    column = escape_formulas(pa.table({"t": values})).column("t")
    assert column.to_pylist() == ["+8613800000000", "'=cmd", "'-x", "ok"]


def test_write_csv_escapes_pandas_strings(tmp_path):
    out = tmp_path / "o.csv"
    write_csv(pd.DataFrame({"account_id": ["+86138", "@evil", "b1"], "score": [0.5, -1.0, 2.0]}), out)
    back = pd.read_csv(out, dtype=str)
    assert back["account_id"].tolist() == ["+86138", "'@evil", "b1"]
    assert back["score"].tolist() == ["0.5", "-1", "2"]


def test_atomic_path_removes_what_killed_writers_left_but_not_live_ones(tmp_path):
    import fcntl

    target = tmp_path / "bundle.zip"
    dead = tmp_path / ".bundle.zip.k1ll3d.part"
    dead.write_text("a writer killed half-way")
    other = tmp_path / ".bundle.zip.gz.k1ll3d.part"  # another file's: not this write's business
    other.write_text("x")
    live = tmp_path / ".bundle.zip.l1v3.part"
    live.write_text("a writer still at work")
    with open(live) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with atomic_path(target) as tmp:
            tmp.write_text("done")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "bundle.zip"])
