import csv
import gzip
import hashlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.ingest.records import Truncated, iter_record_chunks, scan_records

FIELD = st.text(alphabet=st.sampled_from(list('ab,"\n 中\r')), max_size=6)


def reference(text: str) -> tuple[list[int], list[int], list[list[str]]]:
    """Line each record starts on, its field count and its fields, via the csv module."""
    starts, counts, rows = [], [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for row in reader:
        if row:
            starts.append(line)
            counts.append(len(row))
            rows.append(row)
        line = reader.line_num + 1
    return starts, counts, rows


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(FIELD, min_size=1, max_size=4), min_size=1, max_size=8),
    block=st.integers(min_value=1, max_value=40),
    crlf=st.booleans(),
)
def test_chunks_match_csv_module(tmp_path_factory, rows, block, crlf):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    text = buf.getvalue()
    path = tmp_path_factory.mktemp("scan") / "x.csv"
    path.write_bytes(text.encode("utf-8"))
    starts, counts, parsed = reference(text)
    digest = hashlib.sha256()
    chunks = list(iter_record_chunks(path, digest=digest, block=block))
    assert [x for c in chunks for x in c.start_line.tolist()] == starts
    assert [x for c in chunks for x in c.n_fields.tolist()] == counts
    # every chunk holds whole records: parsing the chunks one by one gives the same rows
    again = [row for c in chunks for row in csv.reader(io.StringIO(bytes(c.data).decode(), newline="")) if row]
    assert again == parsed
    joined, raw = b"".join(c.data for c in chunks), text.encode("utf-8")
    assert raw.startswith(joined) and not raw[len(joined):].strip(b"\r\n")  # only blank lines left
    assert digest.hexdigest() == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_gzip_blank_lines_and_truncation(tmp_path):
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(b'a,b\r\n\r\n1,"x\r\ny"\r\n2,3\r\n4,"cut'))
    with pytest.raises(Truncated) as err:
        list(iter_record_chunks(path))
    assert err.value.line == 6


def test_last_line_without_break(tmp_path):
    path = tmp_path / "x.csv.gz"
    data = b'a,b\r\n\r\n1,"x\r\ny"\r\n2,3\r\n4'
    path.write_bytes(gzip.compress(data))
    digest = hashlib.sha256()
    lines, fields = scan_records(path)
    assert lines.tolist() == [1, 3, 5, 6] and fields.tolist() == [2, 2, 2, 1]
    list(iter_record_chunks(path, digest=digest))
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_gbk_bytes_are_safe(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes('订单编号,评价内容\n1,"很好,\n非常好"\n2,好\n'.encode("gbk"))
    lines, fields = scan_records(path)
    assert lines.tolist() == [1, 2, 4]
    assert np.all(fields == 2)


def test_many_tiny_records_stop_early_and_resume(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a\n" + b"1\n" * 1000)
    lines, fields = scan_records(path)
    assert lines.tolist() == list(range(1, 1002))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list('a,"\n\r {}')), max_size=40), block=st.integers(1, 16))
def test_plain_lines_split_like_universal_newlines(tmp_path_factory, text, block):
    """Without a delimiter every line is a record of one field: quotes do not join lines."""
    path = tmp_path_factory.mktemp("lines") / "x.jsonl"
    path.write_bytes(text.encode())
    chunks = list(iter_record_chunks(path, None, block=block))
    expected = [i for i, line in enumerate(io.StringIO(text, newline=None).read().split("\n"), start=1) if line]
    assert [x for c in chunks for x in c.start_line.tolist()] == expected
    assert all((c.n_fields == 1).all() for c in chunks)
    assert b"".join(bytes(c.data) for c in chunks).rstrip(b"\r\n") == text.encode().rstrip(b"\r\n")
