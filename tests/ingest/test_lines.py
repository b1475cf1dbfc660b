import csv
import gzip
import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.ingest.lines import scan_records

FIELD = st.text(alphabet=st.sampled_from(list('ab,"\n 中\r')), max_size=6)


def reference(text: str, n_cols: int) -> tuple[list[int], list[int]]:
    """Line each record starts on and its field count, via the standard csv module."""
    starts, counts = [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for row in reader:
        if row:
            starts.append(line)
            counts.append(len(row))
        line = reader.line_num + 1
    return starts, counts


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(FIELD, min_size=1, max_size=4), min_size=1, max_size=8))
def test_matches_csv_module(tmp_path_factory, rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    text = buf.getvalue()
    path = tmp_path_factory.mktemp("scan") / "x.csv"
    path.write_bytes(text.encode("utf-8"))
    starts, counts = reference(text, 0)
    got = scan_records(path)
    assert got.start_line.tolist() == starts
    assert got.n_fields.tolist() == counts
    assert not got.unterminated_quote


def test_gzip_blank_lines_and_truncation(tmp_path):
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(b'a,b\r\n\r\n1,"x\r\ny"\r\n2,3\r\n4,"cut'))
    got = scan_records(path)
    assert got.start_line.tolist() == [1, 3, 5, 6]
    assert got.n_fields.tolist() == [2, 2, 2, 2]
    assert got.unterminated_quote
    assert not got.ends_with_newline


def test_gbk_bytes_are_safe(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes('订单编号,评价内容\n1,"很好,\n非常好"\n2,好\n'.encode("gbk"))
    got = scan_records(path)
    assert got.start_line.tolist() == [1, 2, 4]
    assert np.all(got.n_fields == 2)
