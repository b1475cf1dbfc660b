import pytest

from antifraud.records.chain import successor_problems
from antifraud.records.lifecycle import (
    TransitionError,
    amend,
    expire,
    list_entry,
    object_to,
    repair,
    resolve,
    review,
    revoke,
)
from antifraud.records.validation import validate_record

T = [f"2026-11-{d:02d}T00:00:00.000Z" for d in range(2, 29)]


def _listed(record):
    """A reviewed black-list entry decided as a general case on 2026-11-01."""
    record.update(record_type="list_entry", determination={
        "basis": "platform_rule", "authority": {"name": "platform-a", "uscc": "914403001922038216"},
        "document_no": "PA-2026-117", "decided_on": "2026-11-01", "measures": ["delisted"], "severity": "general"},
        listing={"list": "black", "listed_on": "2026-11-01", "publish_until": "2027-05-01"})
    record["assessment"].update(human_reviewed=True, reviewer="reviewer 3")
    return validate_record(record)


def _check(prev, new, status, event):
    validate_record(new)
    assert successor_problems(prev, new) == []
    assert new["status"] == status and new["events"][-1]["type"] == event
    assert new["version"] == prev["version"] + 1


def test_every_transition_gives_a_valid_successor(record):
    v2 = review(record, reviewer="analyst 7", at=T[0])
    _check(record, v2, "amended", "reviewed")
    assert v2["assessment"]["human_reviewed"] and v2["assessment"]["reviewer"] == "analyst 7"
    v3 = amend(v2, {"sharing.level": "green", "behavior.metrics.orders": 413}, by="a", at=T[1], reason="fix")
    _check(v2, v3, "amended", "amended")
    v4 = object_to(v3, by="the merchant", statement="These were real customers.", at=T[2])
    _check(v3, v4, "under_objection", "objection_filed")
    v5 = resolve(v4, result="rejected", by="a", at=T[3], reason="orders came from one device farm")
    _check(v4, v5, "amended", "objection_resolved")
    assert v5["objection"]["result"] == "rejected" and v5["objection"]["resolved_at"] == T[3]
    v6 = repair(v5, commitment="We will not buy orders again.", applied_at=T[4], by="a", at=T[5])
    _check(v5, v6, "repaired", "repaired")
    v7 = revoke(v6, by="a", at=T[6], reason="issued in error")
    _check(v6, v7, "revoked", "revoked")
    assert [e["type"] for e in v7["events"]] == [
        "issued", "reviewed", "amended", "objection_filed", "objection_resolved", "repaired", "revoked"]


def test_upheld_objection_revokes(record):
    v2 = object_to(record, by="merchant", statement="not us", at=T[0])
    v3 = resolve(v2, result="upheld", by="a", at=T[1], reason="the orders were real")
    _check(v2, v3, "revoked", "objection_resolved")


def test_revocation_is_final(record):
    v2 = revoke(record, by="a", at=T[0], reason="issued in error")
    for action in (lambda r: amend(r, {"sharing.level": "red"}, by="a", at=T[1], reason="x"),
                   lambda r: object_to(r, by="m", statement="s", at=T[1]),
                   lambda r: repair(r, commitment="c", applied_at=T[1], by="a", at=T[1]),
                   lambda r: expire(r, by="a", at="2030-01-01T00:00:00.000Z"),
                   lambda r: revoke(r, by="a", at=T[1], reason="again")):
        with pytest.raises(TransitionError, match="revocation is final"):
            action(v2)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda r: resolve(r, result="rejected", by="a", at=T[0], reason="x"), "allowed only when under_objection"),
        (lambda r: amend(r, {"id": "acr--x"}, by="a", at=T[0], reason="x"), "id: cannot be amended"),
        (lambda r: amend(r, {"status": "repaired"}, by="a", at=T[0], reason="x"), "status: cannot be amended"),
        (lambda r: amend(r, {"sharing.level": "green"}, by="a", at=T[0], reason="x"), "not human-reviewed"),
        (lambda r: amend(r, {}, by="a", at=T[0], reason="x"), "at least one field"),
        (lambda r: amend(r, {"sharing.level": "red"}, by="a", at="2026-10-01T00:00:00.000Z", reason="x"),
         "before the current version"),
        (lambda r: expire(r, by="a", at=T[0]), "runs until 2029-11-01"),
        (lambda r: revoke(r, by="a", at=T[0], reason=" "), "gives its reason"),
        (lambda r: repair(r, commitment="c", applied_at=T[1], by="a", at=T[0]), "before it was applied"),
    ],
)
def test_illegal_transitions_are_refused_with_a_reason(record, make, message):
    with pytest.raises(TransitionError, match=message):
        make(record)


def test_no_amendment_or_second_objection_while_under_objection(record):
    v2 = object_to(record, by="merchant", statement="not us", at=T[0])
    with pytest.raises(TransitionError, match="under_objection"):
        amend(v2, {"sharing.level": "red"}, by="a", at=T[1], reason="x")
    with pytest.raises(TransitionError, match="under_objection"):
        object_to(v2, by="merchant", statement="again", at=T[1])


def test_repair_waits_for_the_minimum_time_on_the_list(record):
    listed = _listed(record)
    with pytest.raises(TransitionError, match="only after 3 months on the list, from 2027-02-01"):
        repair(listed, commitment="c", applied_at=T[0], by="a", at=T[1])
    repaired = repair(listed, commitment="c", applied_at=T[0], by="a", at="2027-02-01T00:00:00.000Z")
    _check(listed, repaired, "repaired", "repaired")


def test_expiry_after_the_later_period(record):
    listed = _listed(record)
    record_end = listed["sharing"]["retention_until"]
    with pytest.raises(TransitionError):
        expire(listed, by="a", at=f"{record_end}T12:00:00.000Z")
    _check(listed, expire(listed, by="a", at="2029-11-02T00:00:00.000Z"), "expired", "expired")


def test_actions_never_change_their_argument(record):
    before = repr(record)
    amend(record, {"sharing.level": "red"}, by="a", at=T[0], reason="x")
    assert repr(record) == before


DECISION = {"basis": "platform_rule", "authority": {"name": "platform-a", "uscc": "914403001922038216"},
            "document_no": "PA-2026-117", "decided_on": "2026-11-03", "measures": ["delisted"], "severity": "general"}


def test_list_entry_only_from_a_reviewed_finding(record):
    with pytest.raises(TransitionError, match="has not been reviewed"):
        list_entry(record, list_name="black", determination=DECISION, listed_on="2026-11-03",
                   publish_until="2027-05-03", by="platform-a", at=T[2])
    reviewed = review(record, reviewer="analyst 7", at=T[0])
    entry = list_entry(reviewed, list_name="black", determination=DECISION, listed_on="2026-11-03",
                       publish_until="2027-05-03", by="platform-a", at=T[2])
    validate_record(entry)
    assert entry["record_type"] == "list_entry" and entry["version"] == 1 and entry["id"] != record["id"]
    assert entry["subject"] == record["subject"] and record["id"] in entry["events"][0]["reason"]
    with pytest.raises(TransitionError, match="publication for a general case lasts 3 to 12 months"):
        list_entry(reviewed, list_name="black", determination=DECISION, listed_on="2026-11-03",
                   publish_until="2029-11-03", by="platform-a", at=T[2])
    revoked = revoke(reviewed, by="a", at=T[3], reason="error")
    with pytest.raises(TransitionError, match="revocation is final"):
        list_entry(revoked, list_name="black", determination=DECISION, listed_on="2026-11-03",
                   publish_until="2027-05-03", by="platform-a", at=T[4])
