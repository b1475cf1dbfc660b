"""Merchant credit grades from the records that concern each merchant."""

import copy

from antifraud.records.grades import grade_merchants
from antifraud.records.lifecycle import list_entry, object_to, repair, review, revoke

T = ["2026-11-02T08:00:00.000Z", "2026-11-03T08:00:00.000Z", "2026-11-04T08:00:00.000Z"]
DECISION = {"basis": "platform_rule", "authority": {"name": "platform-a", "uscc": "914403001922038216"},
            "decided_on": "2026-11-03", "measures": ["delisted"], "severity": "general"}
AS_OF = "2026-12-01"


def _about(record, uscc, name="店"):
    other = copy.deepcopy(record)
    other["id"] = "acr--" + uscc.lower().ljust(8, "0")[:8] + record["id"][13:]
    other["subject"]["merchant"].update(uscc=uscc, name=name)
    return other


def _grades(*versions, keyring=None):
    return {g.key: g for g in grade_merchants(versions, AS_OF, keyring)}


def test_each_kind_of_record_gives_its_grade_and_the_worst_one_wins(record):
    suspected = record  # an automated finding nobody reviewed
    reviewed = review(_about(record, "914403001922038216"), reviewer="analyst 7", at=T[0])
    black = list_entry(review(_about(record, "91350100M000100Y43"), reviewer="a", at=T[0]), list_name="black",
                       determination=DECISION, listed_on="2026-11-03", publish_until="2027-05-03", by="platform-a",
                       at=T[1])
    grades = _grades(suspected, reviewed, black)
    assert {key: g.grade for key, g in grades.items()} == {
        "91440300708461136T": "B", "914403001922038216": "C", "91350100M000100Y43": "D"}
    assert grades["91350100M000100Y43"].reasons[0]["why"] == "on the black list"
    # A second, reviewed finding about the suspected merchant: the worst record decides, both are listed.
    both = _grades(suspected, review(_about(record, "91440300708461136T"), reviewer="a", at=T[0]))
    merchant = both["91440300708461136T"]
    assert merchant.grade == "C" and [r["grade"] for r in merchant.reasons] == ["C", "B"]


def test_records_no_longer_in_force_or_past_their_period_hold_nothing_against_the_merchant(record):
    reviewed = review(record, reviewer="a", at=T[0])
    assert _grades(revoke(reviewed, by="platform-a", at=T[1], reason="wrong export"))[
        "91440300708461136T"].grade == "A"
    entry = list_entry(reviewed, list_name="black", determination=DECISION, listed_on="2026-05-01",
                       publish_until="2026-11-01", by="platform-a", at=T[1])
    lapsed = _grades(entry)["91440300708461136T"]
    assert lapsed.grade == "A" and lapsed.reasons[0]["why"] == "past its publication period (2026-11-01)"
    repaired = repair(entry, commitment="no more brushing", applied_at=T[1], by="platform-a", at=T[2])
    assert _grades(repaired)["91440300708461136T"].grade == "A"


def test_an_objection_holds_a_merchant_at_b_until_it_is_resolved(record):
    reviewed = review(record, reviewer="a", at=T[0])
    disputed = object_to(reviewed, by="merchant", statement="these were real orders", at=T[1])
    grade = _grades(disputed)["91440300708461136T"]
    assert grade.grade == "B" and "under objection" in grade.reasons[0]["why"]


def test_only_what_its_issuer_signed_counts_with_a_keyring(record, members):
    reviewed = review(_about(record, "914403001922038216"), reviewer="a", at=T[0])
    grades = _grades(members.sign(record), reviewed, keyring=members.keyring())
    assert grades["91440300708461136T"].grade == "B"
    unsigned = grades["914403001922038216"]
    assert unsigned.grade == "A" and unsigned.reasons[0]["grade"] is None
    assert unsigned.reasons[0]["why"].startswith("not counted: signature")


def test_a_shop_a_ring_attacked_is_not_graded(record):
    victim = copy.deepcopy(record)
    victim["behavior"]["role"] = "victim"
    assert _grades(victim) == {}


def test_a_feed_carries_the_grades_its_records_give_and_a_forged_grade_stops_its_import(tmp_path, record, members):
    import json

    from antifraud.records.feed import GRADES, MANIFEST, export_feed, import_feed
    from antifraud.records.store import RecordStore

    store = RecordStore(tmp_path / "own")
    v1 = members.sign(record)
    store.add([v1, members.sign(review(v1, reviewer="analyst 7", at=T[0]))])
    manifest = export_feed(store, tmp_path / "feed", member_id="platform-a", signer=members.signer("platform-a"))
    lines = (tmp_path / "feed" / GRADES).read_text(encoding="utf-8").splitlines()
    grades = [json.loads(line) for line in lines]
    assert [(g["merchant"], g["grade"]) for g in grades] == [("91440300708461136T", "C")]
    assert grades[0]["records"][0]["record_id"] == record["id"] and grades[0]["records"][0]["version"] == 2
    assert manifest["grades"]["merchants"] == 1
    assert json.loads((tmp_path / "feed" / MANIFEST).read_text())["grades"] == manifest["grades"]
    assert import_feed(RecordStore(tmp_path / "peer"), tmp_path / "feed", keyring=members.keyring()).ok

    forged = grades[0] | {"grade": "A"}
    (tmp_path / "feed" / GRADES).write_text(json.dumps(forged, ensure_ascii=False) + "\n", encoding="utf-8")
    peer = RecordStore(tmp_path / "peer2")
    report = import_feed(peer, tmp_path / "feed", keyring=members.keyring())
    assert report.feed_problems == [f"{GRADES}: sha256 does not match the manifest (altered or truncated in transit)"]
    assert peer.versions() == []
