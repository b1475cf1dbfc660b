import re
import subprocess
import sys

import pandas as pd
import pytest

from antifraud.ingest import PROFILES, Pseudonymizer, ingest
from antifraud.schema import PERSONAL


def test_broken_fixture_quarantines_exactly_the_listed_rows(fixtures, tmp_path):
    result = ingest([fixtures / "broken" / "orders.csv"], PROFILES["generic"])
    expected = pd.read_csv(fixtures / "broken" / "expected_quarantine.csv", dtype=str, keep_default_na=False)
    got = result.quarantine.select(["line", "column", "reason"]).to_pandas().astype(str)
    assert got.to_dict("records") == expected.to_dict("records")
    assert result.rows_read == len(result.orders) + result.quarantine.num_rows == 20
    manifest = result.manifest()
    rows = manifest["rows"]
    assert rows["read"] == rows["accepted"] + rows["quarantined"]
    assert rows["quarantined"] == sum(rows["quarantined_by_reason"].values())
    assert manifest["inputs"][0]["rows"] == rows


def test_quarantine_keeps_raw_values_but_not_personal_data(fixtures, tmp_path):
    result = ingest([fixtures / "broken" / "orders.csv"], PROFILES["generic"])
    paths = result.write(tmp_path)
    text = paths["quarantine"].read_text(encoding="utf-8")
    assert "-12.00" in text and "2024-13-45 25:00:00" in text  # the bad values as written
    assert "13800138001" not in text and re.search(r"\b[0-9a-f]{64}\b", text)
    assert "13800138000" not in (tmp_path / "run.json").read_text(encoding="utf-8")
    # review text that a spreadsheet would run is escaped
    assert '"\'=HYPERLINK' in text


def test_gbk_fixture_canonical_types(fixtures):
    result = ingest([fixtures / "taobao_gbk" / "orders.csv"], PROFILES["taobao"])
    orders = result.orders
    assert result.quarantine.num_rows == 0 and len(orders) == 21
    assert orders["seller_id"].iloc[0] == "00731"  # leading zeros kept
    assert "00088user" in set(orders["buyer_id"])  # full-width normalised
    assert orders.loc[orders["order_id"] == "20241100003", "amount"].item() == 129.0
    first = orders.iloc[0]
    assert first["created_at"] == pd.Timestamp("2024-11-01 01:05:00", tz="UTC")  # 09:05 China time
    assert first["rating"] == 5 and first["status"] == "completed"
    assert set(orders["rating"].dropna().unique()) == {1, 3, 5}
    assert orders["ship_phone"].str.fullmatch("[0-9a-f]{64}").all()
    # the two spellings of 137-0000-1111 link to one pseudonym
    wang = orders.loc[orders["buyer_id"] == "tb_老王", "ship_phone"].unique()
    assert len(wang) == 1
    assert result.uscc["by_status"] == {"invalid": 1, "valid": 3}


def test_pseudonyms_stable_under_one_key_and_differ_under_another(fixtures):
    path = fixtures / "taobao_gbk" / "orders.csv"
    a = ingest([path], PROFILES["taobao"], pseudonymizer=Pseudonymizer(b"a" * 32))
    b = ingest([path], PROFILES["taobao"], pseudonymizer=Pseudonymizer(b"a" * 32))
    c = ingest([path], PROFILES["taobao"], pseudonymizer=Pseudonymizer(b"c" * 32))
    assert a.orders["ship_phone"].tolist() == b.orders["ship_phone"].tolist()
    assert set(a.orders["ship_phone"]).isdisjoint(set(c.orders["ship_phone"]))


def test_duplicates_across_files(tmp_path):
    header = "order_id,buyer_id,seller_id,created_at\n"
    (tmp_path / "a.csv").write_text(header + "o1,b1,s1,2024-01-01 10:00:00\no2,b2,s1,2024-01-01 11:00:00\n")
    (tmp_path / "b.csv").write_text(header + "o2,b2,s1,2024-01-01 11:00:00\no3,b3,s2,2024-01-02\n")
    result = ingest([tmp_path / "a.csv", tmp_path / "b.csv"], PROFILES["generic"])
    assert result.orders["order_id"].tolist() == ["o1", "o2", "o3"]
    q = result.quarantine.to_pylist()
    assert [(r["source_file"].endswith("b.csv"), r["line"], r["reason"]) for r in q] == [(True, 2, "exact_duplicate")]
    assert "a.csv:3" in q[0]["detail"]
    assert [f.rows_accepted for f in result.files] == [2, 1]
    assert result.files[1].quarantined == {"exact_duplicate": 1}


def test_exact_duplicates_without_order_id(tmp_path):
    (tmp_path / "r.csv").write_text("user_id,product_id,rating,date\n1,7,5.0,2011-06-08\n1,7,5.0,2011-06-08\n2,7,4.0,2011-06-09\n")
    result = ingest([tmp_path / "r.csv"], PROFILES["yelp"])
    assert len(result.orders) == 2
    assert result.quarantine.column("reason").to_pylist() == ["exact_duplicate"]


def test_parquet_with_native_types(tmp_path):
    df = pd.DataFrame({
        "buyer_id": ["001", "002"],
        "seller_id": ["s", "s"],
        "created_at": pd.to_datetime(["2024-11-11 08:00", "2024-11-11 09:00"]),
        "amount": [10.0, -1.0],
    })
    df.to_parquet(tmp_path / "o.parquet")
    result = ingest([tmp_path / "o.parquet"], PROFILES["generic"])
    assert result.orders["created_at"].iloc[0] == pd.Timestamp("2024-11-11 00:00", tz="UTC")
    assert result.quarantine.column("reason").to_pylist() == ["negative_amount"]
    assert result.quarantine.column("line").to_pylist() == [2]


def test_signals_follow_columns(fixtures):
    result = ingest([fixtures / "taobao_gbk" / "orders.csv"], PROFILES["taobao"])
    missing = {s.name: s.missing(result.columns) for s in result.signals()}
    assert missing["communities"] == missing["identity_degree"] == ()  # phones and addresses
    assert {name: m for name, m in missing.items() if m} == {
        "takeover": ("one of device_id/buyer_ip",),
        "age_first_order_d": ("buyer_registered_at",),
        "confirm_delay_h": ("confirmed_at",),
        "parcel_weight_kg": ("parcel_weight_kg",),
    }
    assert result.manifest()["signals"]["unavailable"]["age_first_order_d"] == ["buyer_registered_at"]
    assert set(result.manifest()["pseudonymisation"]["fields"]) == {"ship_phone", "ship_address"} <= set(PERSONAL)


def test_ingest_does_not_import_the_detectors():
    # Its signals come from the detectors, which it imports only when asked for them.
    heavy = "('sklearn', 'antifraud.detectors', 'antifraud.features')"
    code = f"import sys, antifraud.ingest; print([m for m in {heavy} if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_manifest_never_holds_the_key(fixtures):
    pseudonymizer = Pseudonymizer.from_environment({"ANTIFRAUD_PSEUDONYM_KEY": "my-very-secret-alliance-key"})
    result = ingest([fixtures / "taobao_gbk" / "orders.csv"], PROFILES["taobao"], pseudonymizer=pseudonymizer)
    assert "my-very-secret" not in str(result.manifest())
    assert result.manifest()["pseudonymisation"]["key_source"].startswith("environment")


def test_without_a_key_the_run_generates_one_and_ignores_the_environment(fixtures, monkeypatch):
    monkeypatch.setenv("ANTIFRAUD_PSEUDONYM_KEY", "my-very-secret-alliance-key")
    result = ingest([fixtures / "taobao_gbk" / "orders.csv"], PROFILES["taobao"])
    assert result.manifest()["pseudonymisation"]["key_source"] == "generated run key"
    assert result.pseudonymizer.key_id.startswith("run-") and not result.pseudonymizer.shareable


@pytest.mark.parametrize("tz,expected", [("+08:00", "2024-11-11 00:00"), ("UTC", "2024-11-11 08:00")])
def test_timezone(tmp_path, tz, expected):
    from dataclasses import replace

    (tmp_path / "o.csv").write_text("buyer_id,seller_id,created_at\nb,s,2024-11-11 08:00:00\n")
    result = ingest([tmp_path / "o.csv"], replace(PROFILES["generic"], timezone=tz))
    assert result.orders["created_at"].iloc[0] == pd.Timestamp(expected, tz="UTC")


def test_generic_fixture_is_accepted_whole_and_matches_its_truth(fixtures):
    result = ingest([fixtures / "generic" / "orders.csv"], PROFILES["generic"])
    assert result.rows_read == result.rows_accepted == 2000
    assert not [s.name for s in result.signals() if s.missing(result.columns)]  # every signal usable
    truth = pd.read_csv(fixtures / "generic" / "truth" / "orders.csv", dtype={"order_id": str})
    ids = set(result.table.column("order_id").to_pylist())
    assert set(truth["order_id"]) == ids
    merchants = pd.read_csv(fixtures / "generic" / "truth" / "merchants.csv", dtype=str)
    assert result.uscc["distinct_codes"] == len(merchants)


def test_file_whose_every_row_is_malformed(tmp_path):
    (tmp_path / "o.csv").write_text("buyer_id,seller_id,created_at\nb1,s1\nb2\n")
    result = ingest([tmp_path / "o.csv"], PROFILES["generic"])
    assert result.rows_read == 2 and result.rows_accepted == 0
    assert result.quarantine.column("reason").to_pylist() == ["wrong_field_count"] * 2
    assert result.table.schema.field("created_at").type == __import__("pyarrow").timestamp("s", tz="UTC")


def test_quarantine_keeps_columns_of_every_file(tmp_path):
    (tmp_path / "a.csv").write_text("buyer_id,seller_id,created_at,rating\nb1,s1,2024-01-01,9\n")
    (tmp_path / "b.csv").write_text("buyer_id,seller_id,created_at\nb2,s2,2024-01-02\n")
    result = ingest([tmp_path / "a.csv", tmp_path / "b.csv"], PROFILES["generic"])
    assert result.quarantine.column("rating").to_pylist() == ["9"]
    assert "rating" not in result.table.column_names  # not in every file


def test_excel_text_formulas_are_unwrapped_and_ids_excel_damaged_are_quarantined(tmp_path):
    """An export that went through Excel: ``="..."`` keeps an id whole; ``3.8E+18`` has lost its
    digits and cannot be matched to anything, so its row is quarantined, saying how to re-export."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,buyer_id,seller_id,created_at,amount,tracking_no,review_text\n"
        '="3800123456789012345",b1,s1,2024-11-11 10:00:00,10.5,="799434000123456","=""great"""\n'
        "3.8E+18,b2,s1,2024-11-11 10:01:00,10.5,SF1,\n"
        "o3,b3,s1,2024-11-11 10:02:00,10.5,7.99434E+13,\n"
        "o4,2.5E+11,s1,2024-11-11 10:03:00,10.5,SF4,\n"
        "o5,b5,s1,2024-11-11 10:04:00,10.5,2E5,\n", encoding="utf-8")
    result = ingest([path], PROFILES["generic"])
    orders = result.orders.set_index("order_id")
    assert orders.loc["3800123456789012345", "tracking_no"] == "799434000123456"
    assert orders.loc["3800123456789012345", "review_text"] == '="great"'  # free text as written
    assert orders.loc["o5", "tracking_no"] == "2E5"  # too short for Excel to have rewritten it
    bad = result.quarantine.select(["line", "column", "reason"]).to_pandas()
    assert bad.to_dict("list") == {"line": [3, 4, 5], "column": ["order_id", "tracking_no", "buyer_id"],
                                   "reason": ["excel_number"] * 3}
    assert "export the file again" in result.quarantine.column("detail")[0].as_py()
    rows = result.manifest()["rows"]
    assert rows["read"] == 5 == rows["accepted"] + rows["quarantined"] and rows["quarantined_by_reason"] == {
        "excel_number": 3}
