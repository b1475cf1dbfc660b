"""Hostile exports: one bad record is quarantined with its line and reason, every other is read.

Each test builds a small export whose answer is known: which lines must be quarantined and why,
and that ``read == accepted + quarantined``.
"""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from antifraud.ingest import PROFILES, InputError, ingest
from antifraud.ingest.records import MAX_RECORD_BYTES

GENERIC = PROFILES["generic"]
HEADER = "order_id,buyer_id,seller_id,amount,created_at,review_text\n"


def row(i: int, review: str = "ok", amount: str = "1.00") -> str:
    return f'o{i},b{i},s1,{amount},2024-01-01 00:00:{i % 60:02d},"{review}"\n'


def quarantined(result) -> list[tuple[int, str, str]]:
    """(line, column, reason) of every quarantined row, after checking that every row adds up."""
    manifest = result.manifest()["rows"]
    assert manifest["read"] == manifest["accepted"] + manifest["quarantined"] == result.rows_read
    assert result.rows_accepted + result.quarantine.num_rows == result.rows_read
    return [(r["line"], r["column"], r["reason"]) for r in result.quarantine.to_pylist()]


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("name", ["big.csv", "big.csv.gz"])
def test_an_over_long_csv_field_is_quarantined_and_the_rest_read(tmp_path, name):
    text = HEADER + row(1) + row(2, "x" * (10 << 20)) + row(3, "two\nlines") + row(4)
    result = ingest([write(tmp_path, name, text.encode())], GENERIC)
    assert quarantined(result) == [(3, "", "too_long")]
    assert "10,485," in result.quarantine.column("detail")[0].as_py()
    assert result.table.column("source_line").to_pylist() == [2, 4, 6]
    assert result.table.column("review_text").to_pylist() == ["ok", "two\nlines", "ok"]


def test_a_record_at_the_limit_is_read(tmp_path):
    filler = "y" * (MAX_RECORD_BYTES - len(row(2, "")))
    result = ingest([write(tmp_path, "o.csv", (HEADER + row(1) + row(2, filler) + row(3)).encode())], GENERIC)
    assert quarantined(result) == [] and result.rows_accepted == 3


def test_nul_bytes_are_quarantined_alike_in_the_first_mib_and_after_it(tmp_path):
    early = HEADER + row(1, "a\0b") + "".join(row(i) for i in range(2, 40000)) + row(40000, "c\0d")
    assert early.index("c\0d") > 1 << 20
    result = ingest([write(tmp_path, "nul.csv", early.encode())], GENERIC)
    assert quarantined(result) == [(2, "review_text", "nul_byte"), (40001, "review_text", "nul_byte")]
    assert all("\0" not in v for v in result.table.column("review_text").to_pylist())
    assert "\0" not in result.quarantine.column("detail")[0].as_py()


def test_a_nul_in_the_header_is_still_a_binary_file(tmp_path):
    with pytest.raises(InputError, match="binary"):
        ingest([write(tmp_path, "bin.csv", b"buyer_id\0,seller_id,created_at\nb,s,2024-01-01\n")], GENERIC)


@pytest.mark.parametrize(("encoding", "bad"), [("utf-8", b"\xff\xfe"), ("gbk", b"\x81\x20")])
def test_undecodable_bytes_after_the_first_mib_quarantine_their_row(tmp_path, encoding, bad):
    good = "".join(row(i, "好评") for i in range(1, 30000))
    data = (HEADER + good).encode(encoding) + row(30000, "XX").encode(encoding).replace(b"XX", bad) + row(30001).encode()
    assert len(data) > 1 << 20
    result = ingest([write(tmp_path, "o.csv", data)], GENERIC)
    assert result.files[0].encoding == encoding
    assert quarantined(result) == [(30001, "review_text", "bad_encoding")]
    assert result.rows_accepted == 30000


def jsonl(*objects) -> bytes:
    return b"".join((o if isinstance(o, bytes) else json.dumps(o, ensure_ascii=False).encode()) + b"\n"
                    for o in objects)


def order(i: int, **values) -> dict:
    return {"buyer_id": f"b{i}", "seller_id": "s1", "created_at": "2024-01-01 00:00:00", "amount": "1.50",
            **values}


def test_a_bad_json_line_is_quarantined_with_its_file_line(tmp_path):
    data = jsonl(order(1), order(2), b"", b'{"buyer_id": "b3", ', order(4), b"[1, 2]", b'"text"', order(5))
    result = ingest([write(tmp_path, "o.jsonl", data)], GENERIC)
    assert quarantined(result) == [(4, "", "bad_json"), (6, "", "bad_json"), (7, "", "bad_json")]
    assert "row" not in " ".join(result.quarantine.column("detail").to_pylist())
    assert result.table.column("source_line").to_pylist() == [1, 2, 5, 8]


def test_jsonl_numbers_and_strings_mix_and_keep_their_text(tmp_path):
    data = jsonl(order(1), order(2, amount=12.5), order(3, amount=12), order(4, buyer_id=7), order(5, amount="3"),
                 order(6, buyer_id=12345678901234567890123), order(7, amount=None), order(8, amount=1e308),
                 order(9, amount=True))
    result = ingest([write(tmp_path, "o.jsonl", data)], GENERIC)
    assert quarantined(result) == [(8, "amount", "amount_out_of_range"), (9, "amount", "bad_amount")]
    assert result.table.column("amount").to_pylist() == [1.5, 12.5, 12.0, 1.5, 3.0, 1.5, None]
    assert result.table.column("buyer_id").to_pylist()[3:6] == ["7", "b5", "12345678901234567890123"]


def test_jsonl_nested_values_duplicate_keys_and_bad_text(tmp_path):
    data = jsonl(order(1), order(2, amount=[1]), b'{"buyer_id": "b3", "buyer_id": "x", "seller_id": "s", '
                 b'"created_at": "2024-01-01"}', order(4, review_text="a\u0000b"),
                 b'{"buyer_id": "b5", "seller_id": "s", "created_at": "2024-01-01", "review_text": "bad \xff"}',
                 order(6, notes={"free": [1, True]}))
    result = ingest([write(tmp_path, "o.jsonl", data)], GENERIC)
    assert quarantined(result) == [(2, "amount", "wrong_type"), (3, "buyer_id", "bad_json"),
                                   (4, "review_text", "nul_byte"), (5, "review_text", "bad_encoding")]
    assert result.table.column("source_line").to_pylist() == [1, 6]  # unused keys may hold anything


@pytest.mark.parametrize("name", ["big.jsonl", "big.jsonl.gz"])
def test_an_over_long_jsonl_line_is_quarantined(tmp_path, name):
    data = jsonl(order(1), order(2, review_text="x" * (100 << 20)), order(3))
    result = ingest([write(tmp_path, name, data)], GENERIC)
    assert quarantined(result) == [(2, "", "too_long")]
    assert result.table.column("source_line").to_pylist() == [1, 3]


def test_a_truncated_jsonl_file_loses_only_its_last_line(tmp_path):
    data = jsonl(order(1), order(2))[:-10]
    result = ingest([write(tmp_path, "o.jsonl", data)], GENERIC)
    assert quarantined(result) == [(2, "", "bad_json")]


def test_parquet_values_are_screened_like_text(tmp_path):
    table = pa.table({"buyer_id": ["b1", "b\x002", "b3"], "seller_id": ["s", "s", "s"],
                      "created_at": ["2024-01-01"] * 3, "review_text": ["ok", "ok", "x" * (MAX_RECORD_BYTES + 1)]})
    pq.write_table(table, tmp_path / "o.parquet")
    result = ingest([tmp_path / "o.parquet"], GENERIC)
    assert quarantined(result) == [(2, "buyer_id", "nul_byte"), (3, "review_text", "too_long")]


def parquet(tmp_path, buyer_id: pa.Array):
    pq.write_table(pa.table({"buyer_id": buyer_id, "seller_id": ["s", "s"], "created_at": ["2024-01-01"] * 2}),
                   tmp_path / "o.parquet")
    return tmp_path / "o.parquet"


@pytest.mark.parametrize(("values", "kind"), [(pa.array([[1], [2]]), "list<"), (pa.array([{"a": 1}, {"a": 2}]), "struct<")])
def test_a_parquet_column_that_holds_no_text_is_an_input_error(tmp_path, values, kind):
    with pytest.raises(InputError) as err:
        ingest([parquet(tmp_path, values)], GENERIC)
    assert "column 'buyer_id': holds " + kind in str(err.value)


@pytest.mark.parametrize(
    ("values", "reason"),
    [(pa.array([b"ok", b"\xff"], pa.binary()), "bad_encoding"),
     (pa.array(["ok", "a\x00"]).dictionary_encode(), "nul_byte"),
     (pa.array([b"ok", b"a\x00"], pa.binary(2)), "nul_byte")],
)
def test_binary_and_dictionary_parquet_columns_are_screened_as_text(tmp_path, values, reason):
    result = ingest([parquet(tmp_path, values)], GENERIC)
    assert quarantined(result) == [(2, "buyer_id", reason)]
    assert result.table.column("buyer_id").to_pylist() == ["ok"]


def test_in_json_lines_the_first_line_is_data_like_any_other(tmp_path):
    data = b"\x00 not json\n\x1f\n \t \n" + jsonl(order(4))
    result = ingest([write(tmp_path, "o.jsonl", data)], GENERIC)
    assert quarantined(result) == [(1, "", "bad_json"), (2, "", "bad_json")]  # line 3 is blank
    assert result.table.column("source_line").to_pylist() == [4]


def test_a_chunk_of_only_over_long_lines_is_quarantined(tmp_path):
    data = jsonl(order(1), order(2, review_text="x" * (70 << 20)))  # the long line is a chunk of its own
    result = ingest([write(tmp_path, "o.jsonl", data)], GENERIC)
    assert quarantined(result) == [(2, "", "too_long")]


def test_a_header_longer_than_the_sample_is_an_input_error(tmp_path):
    header = "buyer_id,seller_id,created_at," + ",".join(f"c{i}" for i in range(200_000)) + "\n"
    with pytest.raises(InputError, match="header") as err:
        ingest([write(tmp_path, "wide.csv", (header + "b,s,2024-01-01\n").encode())], GENERIC)
    assert err.value.line == 1
