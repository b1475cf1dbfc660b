import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from antifraud.ingest import PROFILES, InputError
from antifraud.ingest.reader import open_export

GENERIC = PROFILES["generic"]


class Read:
    """Everything read from one file: the export, its rows as one table, and the summary."""

    def __init__(self, path, profile):
        with open_export(path, profile) as export:
            batches = list(export.batches())
            self.summary = export.finish()
        self.export = export
        self.table = pa.Table.from_batches(batches) if batches else None


def read_file(path, profile):
    return Read(path, profile)
HEADER = "order_id,buyer_id,seller_id,created_at\n"


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b"\n\n  \n", "the file is empty"),
        ("header.csv", HEADER.encode(), "header but no data rows"),
        ("bin.csv", b"\x00\x01\x02garbage\x00" * 20, "binary file"),
        ("book.csv", b"PK\x03\x04" + b"\x00" * 50, "ZIP archive"),
        ("cut.csv", (HEADER + 'o1,b1,s1,2024-01-01 00:00:00\no2,"b2').encode(), "truncated"),
        ("cut2.csv", (HEADER + "o1,b1,s1,2024-01-01 00:00:00\no2,b2").encode(), "truncated"),
        ("latin.csv", (HEADER + "o1,b1,s1,2024-01-01\n").encode() + b"o2,\xff\xfe\x80\x80,s,2024\n", "cannot decode"),
        ("utf16.csv", HEADER.encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_files_raise_one_line_errors(tmp_path, name, data, message):
    path = write(tmp_path, name, data)
    with pytest.raises(InputError) as err:
        read_file(path, GENERIC)
    text = str(err.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text


@pytest.mark.parametrize(("data", "encoding", "message"), [
    ((HEADER + "o1,买家一,s1,2024-01-01 00:00:00\n").encode("gbk"), "utf-8",
     "this file is not utf-8; it looks like gbk: pass --encoding gbk"),
    ((HEADER + "o1,b1,s1,2024-01-01 00:00:00\n").encode("utf-16"), "utf-16", "the file is UTF-16"),
    ((HEADER + "o1,b1,s1,2024-01-01 00:00:00\n").encode(), "utf-9", "'utf-9' is not an encoding"),
])
def test_an_encoding_the_file_is_not_in_says_what_it_looks_like(tmp_path, data, encoding, message):
    """A GBK file read as UTF-8 must not go on with garbled headers (a "missing column")."""
    path = write(tmp_path, "orders.csv", data * 20_000)  # beyond the sample, where decoding once ignored errors
    with pytest.raises(InputError, match=message):
        open_export(path, GENERIC, encoding=encoding)


def test_truncated_gzip(tmp_path):
    full = gzip.compress((HEADER + "o1,b1,s1,2024-01-01 00:00:00\n" * 5000).encode())
    path = write(tmp_path, "cut.csv.gz", full[: len(full) // 2])
    with pytest.raises(InputError, match="cut.csv.gz"):
        read_file(path, GENERIC)


def test_truncated_names_the_line(tmp_path):
    path = write(tmp_path, "cut.csv", (HEADER + 'o1,b1,s1,2024-01-01\no2,b2,s2,"2024\n').encode())
    with pytest.raises(InputError) as err:
        read_file(path, GENERIC)
    assert err.value.line == 3


def test_missing_required_column_suggests_closest(tmp_path):
    path = write(tmp_path, "x.csv", b"order_id,buyer,seller_id,created_at\no1,b1,s1,2024-01-01\n")
    with pytest.raises(InputError) as err:
        read_file(path, GENERIC)
    assert "'buyer_id'" in str(err.value) and "'buyer'" in str(err.value)


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        read_file("/nonexistent/orders.csv", GENERIC)


def test_gbk_chinese_headers(fixtures):
    raw = read_file(fixtures / "taobao_gbk" / "orders.csv", PROFILES["taobao"])
    assert raw.export.encoding == "gbk"
    assert raw.export.columns["buyer_id"] == "买家会员名"
    assert raw.export.columns["seller_id"] == "店铺Id"
    assert "收货人姓名" in raw.export.ignored_columns
    assert "tb_小明2019" in raw.table.column("buyer_id").to_pylist()


def test_bom_crlf_and_multiline_values(tmp_path):
    text = HEADER.replace("\n", "\r\n") + 'o1,"b\r\n1",s1,2024-01-01\r\no2,b2,s2,2024-01-02\r\n'
    raw = read_file(write(tmp_path, "x.csv", b"\xef\xbb\xbf" + text.encode()), GENERIC)
    assert raw.export.encoding == "utf-8-sig"
    assert raw.export.columns["order_id"] == "order_id"
    assert raw.summary.lines.tolist() == [2, 4]


def test_bare_cr_line_endings(tmp_path):
    raw = read_file(write(tmp_path, "mac.csv", (HEADER + "o1,b1,s1,2024-01-01\n").replace("\n", "\r").encode()), GENERIC)
    assert raw.table.num_rows == 1 and raw.summary.lines.tolist() == [2]


def test_wrong_field_count_is_reported_not_fatal(tmp_path):
    path = write(tmp_path, "x.csv", (HEADER + "o1,b1,s1,2024-01-01\no2,b2\no3,b3,s3,2024-01-02,extra\no4,b4,s4,2024-01-03\n").encode())
    raw = read_file(path, GENERIC)
    assert raw.summary.lines.tolist() == [2, 5]
    assert [(b.line, b.reason) for b in raw.summary.bad_records] == [(3, "wrong_field_count"), (4, "wrong_field_count")]
    assert raw.summary.rows_read == 4
    assert raw.summary.sha256 == __import__("hashlib").sha256(path.read_bytes()).hexdigest()


def test_parquet_and_jsonl(tmp_path):
    table = pa.table({"buyer_id": ["007", "008"], "seller_id": ["s1", "s2"], "created_at": ["2024-01-01 10:00:00", "x"]})
    pq.write_table(table, tmp_path / "o.parquet")
    raw = read_file(tmp_path / "o.parquet", GENERIC)
    assert raw.export.format == "parquet" and raw.table.column("buyer_id").to_pylist() == ["007", "008"]
    path = write(tmp_path, "o.jsonl", b'{"buyer_id": "007", "seller_id": "s1", "created_at": "2024-01-01"}\n\n'
                 b'{"buyer_id": "008", "seller_id": "s2", "created_at": "2024-01-02"}\n')
    raw = read_file(path, GENERIC)
    assert raw.export.format == "jsonl" and raw.summary.lines.tolist() == [1, 3]


def test_not_parquet(tmp_path):
    with pytest.raises(InputError, match="Parquet"):
        read_file(write(tmp_path, "o.parquet", b"PAR1 this is not really parquet"), GENERIC)


def test_malformed_jsonl(tmp_path):
    with pytest.raises(InputError, match="JSON"):
        read_file(write(tmp_path, "o.jsonl", b'{"buyer_id": "1", "seller_id": \n'), GENERIC)


def test_a_directory_is_not_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_file(tmp_path, GENERIC)


def test_a_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "orders.csv"
    __import__("os").mkfifo(fifo)
    with pytest.raises(InputError, match="is not a regular file"):
        read_file(fifo, GENERIC)
