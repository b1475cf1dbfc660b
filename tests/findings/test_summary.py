"""The run summary for people: run.json's ``summary``, summary.md, and the names and reasons of the score files."""

import datetime as dt
import json

import pandas as pd
import pytest

from antifraud.times import local_time


@pytest.mark.parametrize(("timezone", "text"), [
    ("+08:00", "2024-11-10 10:05 +08:00"), ("-05:30", "2024-11-09 20:35 -05:30"), ("UTC", "2024-11-10 02:05 +00:00"),
])
def test_local_time(timezone, text):
    assert local_time(dt.datetime(2024, 11, 10, 2, 5, 59, tzinfo=dt.UTC).timestamp(), timezone) == text


@pytest.fixture(scope="module")
def finished(detection_run):
    run = detection_run / "run"
    export = pd.read_csv(detection_run / "export" / "orders.csv", dtype={"order_id": str, "seller_id": str})
    rings = [json.loads(line) for line in (run / "rings.jsonl").read_text(encoding="utf-8").splitlines()]
    return run, export, json.loads((run / "run.json").read_text(encoding="utf-8")), rings


def test_the_summary_names_each_ring_with_its_shops_amount_and_local_period(finished):
    _, export, manifest, rings = finished
    summary = manifest["summary"]
    assert summary["timezone"] == "+08:00" and len(rings) > 3
    assert [r["ring_id"] for r in summary["rings"]] == [r["ring_id"] for r in rings]
    names = export.groupby("seller_id")["seller_name"].first()
    amounts = export.set_index("order_id")["amount"]
    for said, ring in zip(summary["rings"], rings):
        targets = ring["victims"] or ring["merchants"]
        assert [s["seller_id"] for s in said["shops"]] == targets
        assert [s["name"] for s in said["shops"]] == names[targets].tolist()
        assert said["amount"] == pytest.approx(amounts[ring["orders"]].sum(), abs=0.01)
        utc = [dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in ring["period"]]
        china = [(t + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M +08:00") for t in utc]
        assert said["period"] == china
        assert said["reason"] == ring["signals"][0]["text"]
        assert said["role"] == ("victim" if ring["victims"] else "beneficiary")


def test_summary_md_gives_the_accounting_every_ring_and_the_next_commands(finished):
    run, _, manifest, rings = finished
    text = (run / "summary.md").read_text(encoding="utf-8")
    rows = manifest["rows"]
    assert f"{rows['read']:,} rows read = {rows['accepted']:,} accepted + {rows['quarantined']:,} quarantined" in text
    for ring in manifest["summary"]["rings"]:
        line = next(line for line in text.splitlines() if line.startswith(f"| {ring['ring_id']} |"))
        assert ring["kind"] in line and ring["shops"][0]["name"] in line and ring["period"][0] in line
    assert "antifraud bundle RUN --finding R0001" in text and str(run) not in text
    assert len(rings) == manifest["findings"]["rings"]


def test_the_score_files_name_the_shops_and_give_each_flagged_entity_its_main_reason(finished):
    run, export, _, _ = finished
    merchants = pd.read_csv(run / "merchants.csv", dtype=str, keep_default_na=False)
    names = export.groupby("seller_id")["seller_name"].first()
    assert merchants["seller_name"].tolist() == names[merchants["seller_id"]].tolist()
    for table in (merchants, pd.read_csv(run / "accounts.csv", dtype=str, keep_default_na=False)):
        flagged = table["flagged"] == "1"
        assert flagged.any() and (table["reason"] != "").tolist() == flagged.tolist()
        in_ring = table[table["ring_ids"] != ""]
        best = in_ring["ring_ids"].str.split(";").str[0]
        assert all(reason.startswith(f"ring {ring} (") for reason, ring in zip(in_ring["reason"], best))


def test_a_damaged_export_summary_shows_the_first_row_of_each_quarantine_reason(fixtures, tmp_path):
    from antifraud.detect import detect
    from antifraud.ingest import PROFILES

    run = detect([fixtures / "taobao_excel" / "orders.xlsx"], PROFILES["taobao"], out_dir=tmp_path / "run")
    assert run.summary["quarantine_examples"]["excel_number"].startswith("orders.xlsx:5 order_id: '3.8012456789")
    text = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    assert "(excel, sheet 订单报表)" in text and "`excel_number`: 3 rows, e.g. orders.xlsx:5 order_id" in text
    assert "| ship_phone | masked in" in text
