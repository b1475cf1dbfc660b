"""Masked values (``138****1234``) are missing, not identities: counted, never linked, and a column
masked in (nearly) every row is missing for the detection."""

import numpy as np
import pyarrow as pa
import pytest

from antifraud.graphs import identity_links
from antifraud.ingest import PROFILES, ingest
from antifraud.ingest.masking import MISSING_SHARE, Masking, is_masked
from antifraud.ingest.pseudonym import normalize_personal

HEADER = "buyer_id,seller_id,created_at,ship_phone,ship_address\n"


def write(path, rows):
    path.write_text(HEADER + "".join(f"{','.join(row)}\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(("value", "masked"), [
    ("138****1234", True), ("１３８＊＊＊＊１２３４", True), ("138××××1234", True), ("t**1", True),
    ("浙江省杭州市西湖区****", True), ("*", True), (" * * ", True), ("×", True),
    ("13800138000", False), ("3*4号楼", False), ("a*b*c", False), ("", False),
])
def test_what_is_masked(value, masked):
    assert is_masked(pa.array([value])).to_pylist() == [masked]


def test_masked_personal_values_normalise_to_missing_but_account_names_stay():
    values = pa.array(["+86 138-****-1234", "13800138000", "t**1"])
    assert normalize_personal("ship_phone", values).to_pylist() == [None, "13800138000", None]
    assert normalize_personal("buyer_id", values).to_pylist()[2] == "t**1"


def test_two_strangers_with_the_same_masked_phone_are_not_linked(tmp_path):
    rows = [("a1", "s1", "2024-11-01 10:00:00", "138****1234", "addr 1"),
            ("a2", "s2", "2024-11-01 11:00:00", "138****1234", "addr 2"),
            ("a3", "s1", "2024-11-01 12:00:00", "13900001111", "addr 3"),
            ("a4", "s2", "2024-11-01 13:00:00", "139-0000-1111", "addr 4")]
    result = ingest([write(tmp_path / "o.csv", rows)], PROFILES["generic"])
    assert result.rows_accepted == 4 and "ship_phone" in result.table.column_names
    links, accounts = identity_links(result.table)
    code = {label: i for i, label in enumerate(accounts.labels)}
    assert links[code["a1"], code["a2"]] == 0  # the same masked phone: nobody
    assert links[code["a3"], code["a4"]] == 1  # the same real phone, spelt two ways
    assert links.nnz == 2


def test_masked_values_are_counted_and_the_counts_add_up(tmp_path):
    rows = [(f"b{i}", "s1", "2024-11-01 10:00:00", "138****1234" if i < 3 else f"1380000000{i}",
             "" if i == 0 else "浙江省****" if i < 2 else f"文三路{i}号") for i in range(8)]
    rows.append(("t**1", "s1", "bad time", "13800000009", "x"))  # quarantined: not counted
    result = ingest([write(tmp_path / "o.csv", rows)], PROFILES["generic"])
    assert result.rows_read == 9 and result.rows_accepted == 8
    phone, address, buyer = (result.masking[c] for c in ("ship_phone", "ship_address", "buyer_id"))
    assert (phone.masked, phone.empty, phone.kept) == (3, 0, 5) and phone.share == 3 / 8 and not phone.missing
    assert (address.masked, address.empty, address.kept) == (1, 1, 6) and address.share == 1 / 7
    assert (buyer.masked, buyer.kept) == (0, 8)
    assert result.table.column("ship_phone").null_count == 3  # the rows stay, the value is missing
    counted = result.manifest()["masked_values"]["columns"]
    assert all(c["masked"] + c["empty"] + c["kept"] == c["rows"] == 8 for c in counted.values())
    assert counted["ship_phone"]["masked_share"] == 0.375


def test_a_column_masked_in_nearly_every_row_is_missing(tmp_path):
    n = 40
    rows = [(f"b{i}", "s1", "2024-11-01 10:00:00", "13800138000" if i == 0 else f"13{i:02d}****0000", f"路{i}号")
            for i in range(n)]
    result = ingest([write(tmp_path / "o.csv", rows)], PROFILES["generic"])
    phone = result.masking["ship_phone"]
    assert phone.share == (n - 1) / n >= MISSING_SHARE and phone.missing
    assert result.rows_accepted == n  # no row is lost
    assert "ship_phone" not in result.table.column_names and "ship_phone" not in result.columns
    assert result.manifest()["missing_columns"]["ship_phone"] == {"reason": "masked in 97.5 % of rows",
                                                                  "disables": []}  # the address still links


def test_masked_account_names_stay_the_key_and_are_reported(tmp_path):
    rows = [("t**1", "s1", "2024-11-01 10:00:00", "13800138000", "路1号"),
            ("t**1", "s2", "2024-11-01 11:00:00", "13900139000", "路2号"),
            ("tb_x", "s2", "2024-11-01 12:00:00", "13700137000", "路3号")]
    result = ingest([write(tmp_path / "o.csv", rows)], PROFILES["generic"])
    assert result.table.column("buyer_id").to_pylist() == ["t**1", "t**1", "tb_x"]
    buyer = result.masking["buyer_id"]
    assert (buyer.masked, round(buyer.share, 3), buyer.missing) == (2, 0.667, False)
    assert result.manifest()["missing_columns"]["buyer_id"]["reason"] == \
        "masked in 66.7 % of rows, kept as the account key"


def test_quarantined_rows_never_show_a_pseudonym_of_a_masked_value(tmp_path):
    rows = [("b1", "s1", "never", "138****1234", "路1号"), ("b2", "s1", "never", "13800138000", "路1号")]
    result = ingest([write(tmp_path / "o.csv", rows)], PROFILES["generic"])
    phones = result.quarantine.column("ship_phone").to_pylist()
    assert phones[0] is None and len(phones[1]) == 64


def test_share_and_threshold():
    assert Masking("device_id", rows=10, masked=0, empty=10).share == 0.0
    assert not Masking("device_id", rows=100, masked=94, empty=0).missing
    assert Masking("device_id", rows=100, masked=95, empty=0).missing
    assert not Masking("buyer_id", rows=100, masked=100, empty=0).missing  # the key is never missing
    assert np.isclose(Masking("ship_phone", rows=100, masked=50, empty=50).share, 1.0)
