"""The ``acr/1`` record as Python types: :class:`typing.TypedDict` classes over plain JSON dicts.

Records stay the dicts JSON gives (nothing to convert on the way in or out); these types let a
type checker follow them through the code. ``tests/records/test_model.py`` checks that every
class has exactly the schema's fields, the same required ones, and the same enumerations.
(No ``from __future__ import annotations`` here: ``NotRequired`` must be seen when each class is
made, for ``__required_keys__`` to be right.)
"""

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "RecordType", "Status", "Role", "Category", "SharingLevel", "IdKind", "Relation", "EventType",
    "Issuer", "Merchant", "Account", "Member", "Edge", "Ring", "Subject", "Period", "Behavior", "Signal",
    "Assessment", "Authority", "Determination", "Listing", "EvidenceRef", "Objection", "Repair", "Event",
    "Sharing", "Provenance", "Signature", "Record",
]

RecordType = Literal["merchant_finding", "account_finding", "ring_finding", "list_entry"]
Status = Literal["issued", "amended", "under_objection", "repaired", "revoked", "expired"]
Role = Literal["organizer", "participant", "beneficiary", "service_provider", "victim"]
Category = Literal["fake_transaction", "fake_review", "review_removal", "malicious_registration", "subsidy_fraud",
                   "empty_parcel", "malicious_negative_review", "brushing_service"]
SharingLevel = Literal["clear", "green", "amber", "amber+strict", "red"]
IdKind = Literal["platform_account", "phone", "device", "payment", "address"]
Relation = Literal["ordered_from", "reviewed", "co_purchase", "shared_device", "shared_phone", "shared_address",
                   "shared_ip", "lockstep"]
EventType = Literal["issued", "reviewed", "amended", "objection_filed", "objection_resolved", "repaired", "revoked",
                    "expired"]


class Issuer(TypedDict):
    member_id: str
    uscc: str | None
    role: Literal["platform", "analyst", "regulator"]


class Merchant(TypedDict):
    uscc: str | None
    uscc_check: Literal["ok", "pilot_exception", "absent"]
    name: str | None
    shop_ids: list[str]
    platform: str


class Account(TypedDict):
    pseudonym: str
    key_id: str
    id_kind: IdKind
    platform: str


class Member(TypedDict):
    kind: Literal["account", "merchant"]
    ref: str
    key_id: NotRequired[str]
    role: Role


class Edge(TypedDict):
    src: str
    dst: str
    relation: Relation
    weight: float


class Ring(TypedDict):
    members: list[Member]
    edges: list[Edge]


class Subject(TypedDict, total=False):
    """Exactly one of the three."""

    merchant: Merchant
    account: Account
    ring: Ring


class Period(TypedDict):
    start: str
    end: str


class Behavior(TypedDict):
    category: Category
    role: Role
    period: Period
    metrics: dict[str, float]


class Signal(TypedDict):
    name: str
    value: float | str | bool | None
    population_percentile: float | None
    explanation: str


class Assessment(TypedDict):
    confidence: int
    detector: str
    detector_version: str
    score: float
    threshold: float
    signals: list[Signal]
    human_reviewed: bool
    reviewer: str | None


class Authority(TypedDict):
    name: str
    uscc: NotRequired[str]


class Determination(TypedDict):
    basis: Literal["platform_rule", "administrative_penalty", "court", "alliance"]
    authority: Authority
    document_no: NotRequired[str]
    legal_basis: NotRequired[str]
    decided_on: str
    measures: list[str]
    severity: Literal["minor", "general", "serious"]


class Listing(TypedDict):
    list: Literal["black", "red", "watch"]
    listed_on: str
    publish_until: str


class EvidenceRef(TypedDict):
    bundle_id: str
    path: str
    sha256: str
    media_type: str


class Objection(TypedDict):
    filed_at: str
    by: str
    statement: str
    evidence: list[EvidenceRef]
    result: Literal["pending", "upheld", "rejected", "partial"]
    resolved_at: NotRequired[str]


class Repair(TypedDict):
    applied_at: str
    commitment: str
    decided_at: NotRequired[str]
    effective_at: NotRequired[str]


class Event(TypedDict):
    type: EventType
    at: str
    by: str
    reason: str


class Sharing(TypedDict):
    level: SharingLevel
    purpose: str
    legal_basis: str
    retention_until: str
    contains_personal_data: bool


class Provenance(TypedDict):
    source_system: str
    data_as_of: str
    input_sha256: list[str]
    run_id: str
    toolkit_version: str


class Signature(TypedDict):
    alg: Literal["ed25519"]
    key_id: str
    value: str


class Record(TypedDict):
    """One version of a credit record."""

    schema: Literal["acr/1"]
    id: str
    version: int
    created: str
    modified: str
    prev_hash: str | None
    record_type: RecordType
    status: Status
    issuer: Issuer
    subject: Subject
    behavior: Behavior
    assessment: Assessment
    determination: NotRequired[Determination]
    listing: NotRequired[Listing]
    evidence: list[EvidenceRef]
    objection: NotRequired[Objection]
    repair: NotRequired[Repair]
    events: list[Event]
    sharing: Sharing
    provenance: Provenance
    signature: NotRequired[Signature]
