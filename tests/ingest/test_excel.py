"""Excel workbooks and the Taobao report as it comes back from Excel (fixtures/taobao_excel)."""

import csv
import datetime as dt
from pathlib import Path

import pyarrow.compute as pc
import pytest
import xlsxwriter

from antifraud.ingest import PROFILES, ingest
from antifraud.ingest.errors import InputError
from antifraud.ingest.excel import cell_text
from antifraud.ingest.pseudonym import Pseudonymizer

FIXTURE = Path(__file__).parents[2] / "fixtures" / "taobao_excel"


def _ingest(path):
    return ingest([path], PROFILES["taobao"], pseudonymizer=Pseudonymizer(b"k" * 32))


def _expected() -> list[tuple[int, str, str]]:
    with open(FIXTURE / "expected_quarantine.csv", encoding="utf-8") as fh:
        return [(int(r["line"]), r["column"], r["reason"]) for r in csv.DictReader(fh)]


def _quarantined(result) -> list[tuple[int, str, str]]:
    q = result.quarantine
    return list(zip(q.column("line").to_pylist(), q.column("column").to_pylist(), q.column("reason").to_pylist()))


@pytest.mark.parametrize("name", ["orders.csv", "orders.xlsx"])
def test_the_excel_damaged_report_quarantines_exactly_the_rewritten_ids(name):
    result = _ingest(FIXTURE / name)
    assert _quarantined(result) == _expected()
    assert result.rows_read == result.rows_accepted + result.quarantine.num_rows == 21
    ids = result.table.column("order_id").cast("string")
    assert pc.all(pc.match_substring_regex(ids, r"^3801245678901\d{6}$")).as_py()  # ="..." unwrapped, whole
    tracking = result.table.column("tracking_no").cast("string")
    assert pc.all(pc.match_substring_regex(tracking, r"^799434123\d{5}$")).as_py()


def test_the_xlsx_twin_gives_the_same_accepted_rows_as_its_csv():
    from_csv, from_xlsx = _ingest(FIXTURE / "orders.csv"), _ingest(FIXTURE / "orders.xlsx")
    drop = ["source_file"]
    a = from_csv.table.drop_columns(drop).to_pandas().astype(str)
    b = from_xlsx.table.drop_columns(drop).to_pandas().astype(str)
    assert a.equals(b)
    assert from_xlsx.files[0].format == "excel" and from_xlsx.files[0].sheet == "订单报表"
    assert from_xlsx.files[0].to_dict()["sheet"] == "订单报表"


def test_masked_phones_link_nobody_and_their_share_is_reported():
    result = _ingest(FIXTURE / "orders.csv")
    masking = result.masking["ship_phone"]
    phones = result.table.column("ship_phone")
    assert masking.rows == 18 and masking.masked == phones.null_count > 0
    ring = pc.starts_with(result.table.column("buyer_id").cast("string"), "shua_")
    ring_phones = set(phones.filter(ring).to_pylist())
    assert len(ring_phones) == 1 and None not in ring_phones  # the organiser's real phone still links the ring


def _workbook(path: Path, sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()) -> Path:
    book = xlsxwriter.Workbook(str(path))
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, when)
                elif value is not None:
                    sheet.write(r, c, value)
        if name in hidden:  # a hidden sheet cannot be the active one
            sheet.hide()
        else:
            sheet.activate()
    book.close()
    return path


HEADER = ["order_id", "buyer_id", "seller_id", "created_at", "amount"]


def test_numbers_dates_and_row_numbers_are_read_as_the_sheet_shows_them(tmp_path):
    rows = [HEADER,
            ["A1", 13812341234, "s1", dt.datetime(2024, 11, 1, 9, 5), 12.5],
            [None, None, None, None, None],  # a blank row is skipped, like a blank line
            [3800123456789012345, "b2", "s1", "2024-11-02 10:00:00", 59]]
    path = _workbook(tmp_path / "o.xlsx", {"说明": [], "orders": rows})
    result = ingest([path], PROFILES["generic"], pseudonymizer=Pseudonymizer(b"k" * 32))
    assert result.rows_read == 2 and result.rows_accepted == 1
    assert _quarantined(result) == [(4, "order_id", "excel_number")]  # the sheet's own row number
    row = result.table.to_pylist()[0]
    assert row["buyer_id"] == "13812341234" and row["amount"] == 12.5
    assert row["created_at"] == dt.datetime(2024, 11, 1, 1, 5, tzinfo=dt.timezone.utc)  # +08:00 by default
    assert result.files[0].sheet == "orders"  # the empty first sheet is passed over


def test_a_hidden_sheet_is_not_read(tmp_path):
    visible = [HEADER, ["A1", "b1", "s1", "2024-11-01 09:00", 1]]
    path = _workbook(tmp_path / "o.xlsx", {"old": [HEADER, ["Z9", "b9", "s9", "2024-01-01 09:00", 1]],
                                           "orders": visible}, hidden=("old",))
    result = ingest([path], PROFILES["generic"])
    assert result.files[0].sheet == "orders"
    assert result.table.column("order_id").cast("string").to_pylist() == ["A1"]


def test_a_workbook_that_cannot_be_read_names_the_file(tmp_path):
    empty = _workbook(tmp_path / "empty.xlsx", {"orders": []})
    with pytest.raises(InputError, match=r"empty\.xlsx.*no worksheet"):
        ingest([empty], PROFILES["generic"])
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"order_id,buyer_id\n1,2\n")
    with pytest.raises(InputError, match=r"fake\.xlsx.*cannot read the file as an Excel workbook"):
        ingest([fake], PROFILES["generic"])


@pytest.mark.parametrize(("value", "text"), [
    (3.80012345678901e17, "3.80012345678901E+17"),  # Excel's 15 digits: the id is damaged
    (123456789012345.0, "123456789012345"),  # 15 digits survive
    (59.0, "59"), (12.5, "12.5"), (True, "TRUE"), ("", None), (None, None), ("=x", "=x"),
    (dt.date(2024, 11, 1), "2024-11-01"), (dt.datetime(2024, 11, 1, 9, 5), "2024-11-01 09:05:00"),
])
def test_cell_text(value, text):
    assert cell_text(value) == text
