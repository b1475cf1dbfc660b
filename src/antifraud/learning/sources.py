"""Confirmed cases from a record store: the member's own reviewed findings and list entries, and
those it imported from other members' feeds, as :class:`~antifraud.learning.labels.Labels`.

What the current version of a record says of its subject (:func:`record_label`):

==========================================  =====================================================
current version                             label
==========================================  =====================================================
``list_entry`` on the black list            1, confirmed fraud (a decision was taken)
``list_entry`` on the red list              0, confirmed honest (listed as trustworthy)
``list_entry`` on the watch list            none: suspected, not confirmed
finding a person reviewed                   1 (``assessment.human_reviewed``)
finding nobody reviewed                     none: a model must not learn from its own output
``under_objection``                         none until the objection is resolved
``revoked`` after an upheld objection       0 for an account or merchant: a person examined the
                                            subject's objection and found for it; none for a
                                            ring, whose objection one of its members may have filed
``revoked`` otherwise                       none: issued in error, which says nothing of the
                                            subject (a wrong export, a duplicate run)
``repaired``                                none: repair lifts every measure against the subject
``expired``                                 none: past its retention, no longer to be used
==========================================  =====================================================

The first four hold while the record is ``issued`` or ``amended`` (an objection rejected or
partly upheld returns a record to ``amended``). A ring's label goes to its accounts and
merchants, but for the shops it attacked (role ``victim``), and so does a merchant finding's
unless its merchant is the victim.

Only what its issuer signed counts. The store keeps versions, not the feeds they came in, and a
store may have been filled with ``--allow-unsigned``; so the current version of every record is
verified again, against the keyring, as ``feed import`` verifies without ``--allow-unsigned``
(:func:`~antifraud.records.feed.signature_problem`): signed with its issuer's key, own records
included. The signature covers ``prev_hash``, so it vouches for the whole chain.

Records name accounts by pseudonym and merchants by credit code or shop key. An export's
accounts are pseudonymised under the alliance key as a detection run pseudonymises them
(``platform_account``); only records under that key's id can match. A merchant matches under its
credit code (where the export has a valid one) or its ``shop:<platform>:<shop id>`` key
(:func:`~antifraud.findings.records.merchant_keys`). A record's case group is the id of the ring
finding it is about (the one its ``ring`` signal names, or its own for a ring finding).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from antifraud.features.data import DetectionData
from antifraud.findings.model import Shop, merchant_shops
from antifraud.findings.records import merchant_keys, record_id
from antifraud.ingest.manifest import sha256_file
from antifraud.ingest.pseudonym import Pseudonymizer
from antifraud.learning.labels import KINDS, LabelError, Labels, LabelSource, labels_of
from antifraud.records.feed import signature_problem
from antifraud.records.store import IN_FORCE, RecordStore
from antifraud.records.subjects import merchant_keys as subject_keys
from antifraud.signing import Keyring

__all__ = ["CONFIRMING", "UNSIGNED", "StoreCases", "case_group", "record_label"]

#: Statuses under which a record confirms what it says: in force, and not disputed.
CONFIRMING = IN_FORCE - {"under_objection"}
_LISTS = {"black": (1, ""), "red": (0, ""), "watch": (None, "on the watch list: suspected, not confirmed")}
_NOT_CONFIRMING = {
    "under_objection": "under objection, not yet resolved",
    "repaired": "repaired: no longer held against its subject",
    "expired": "expired: past its retention",
}
#: Why a record whose current version its issuer did not sign gives no label.
UNSIGNED = "not signed with its issuer's key in the keyring"
_NO_ENTITY = "names no account or shop of an export (an account by its phone, device, payment or address)"


def record_label(version: Mapping[str, Any]) -> tuple[int | None, str]:
    """The label a record's current version gives its subject, or None and the reason it gives
    none (see the module's table).

    Examples
    --------
    >>> finding = {"status": "amended", "record_type": "account_finding", "subject": {"account": {}},
    ...            "assessment": {"human_reviewed": True}}
    >>> record_label(finding)
    (1, '')
    >>> record_label(finding | {"assessment": {"human_reviewed": False}})
    (None, 'not reviewed by a person')
    >>> record_label(finding | {"status": "revoked", "objection": {"result": "upheld"}})
    (0, '')
    """
    status = version["status"]
    if status == "revoked":
        if version.get("objection", {}).get("result") != "upheld":
            return None, "revoked: issued in error"
        if "ring" in version["subject"]:
            return None, "revoked: a ring's objection upheld, which clears no one member"
        return 0, ""
    if status not in CONFIRMING:
        return None, _NOT_CONFIRMING[status]
    if version["record_type"] == "list_entry":
        return _LISTS[version["listing"]["list"]]
    if not version["assessment"]["human_reviewed"]:
        return None, "not reviewed by a person"
    return 1, ""


def case_group(version: Mapping[str, Any]) -> str:
    """The id of the ring finding a record is about: the one its ``ring`` signal names (records
    of one run name its rings so), its own for a ring finding without one, else empty."""
    ring = next((s["value"] for s in version["assessment"]["signals"] if s["name"] == "ring"), None)
    if ring is not None:
        return record_id(version["issuer"]["member_id"], version["provenance"]["run_id"], "ring_finding", str(ring))
    return version["id"] if version["record_type"] == "ring_finding" else ""


@dataclass(frozen=True)
class StoreCases:
    """The labels a record store's trusted records give, before they are matched to an export.

    Build with :meth:`read`; :meth:`labels` matches them to an export's entities.

    Attributes
    ----------
    path : Path
    sha256 : str
        Of the store's ``versions.jsonl``.
    claims : pandas.DataFrame
        One row per labelled subject of a record: ``kind`` (of :data:`KINDS`), ``refs`` (a tuple
        of keys: an account's pseudonym; a merchant's credit code and shop keys), ``key_id``
        (accounts' pseudonym key, else empty), ``label``, ``group`` and ``where`` (the record).
    skipped : dict
        Why records gave no label -> how many.
    pseudonymizer : Pseudonymizer
        The alliance key, to pseudonymise an export's accounts.
    platform : str
        The platform of the exports, for shop keys.
    """

    path: Path
    sha256: str
    claims: pd.DataFrame
    skipped: dict[str, int]
    pseudonymizer: Pseudonymizer
    platform: str

    @classmethod
    def read(cls, path: str | Path, keyring: Keyring, *, pseudonymizer: Pseudonymizer, platform: str) -> StoreCases:
        """Read the current version of every record in the store at ``path`` and keep what a
        trusted record confirms (see the module's description).

        Raises
        ------
        LabelError
            If ``path`` holds no record store.
        """
        store = RecordStore(path)
        versions = store.path / RecordStore.FILE
        if not versions.is_file():
            raise LabelError(f"{store.path}: not a record store (no {RecordStore.FILE})")
        rows, skipped = [], Counter()
        for rid, version in sorted(store.resolution().current.items()):
            issuer = version["issuer"]["member_id"]
            label, why = record_label(version)
            subjects = list(_subjects(version))
            if signature_problem(version, issuer, keyring):
                label, why = None, UNSIGNED  # nothing an unverified version says is believed
            elif label is not None and not subjects:
                label, why = None, _NO_ENTITY
            if label is None:
                skipped[why] += 1
                continue
            where = f"{store.path} {rid} version {version['version']} ({issuer})"
            group = case_group(version)
            for kind, refs, key_id, role in subjects:
                if label == 1 and role == "victim":
                    skipped["a shop a ring attacked: its victim, not its party"] += 1
                    continue
                rows.append({"kind": kind, "refs": refs, "key_id": key_id, "label": label, "group": group,
                             "where": where})
        claims = pd.DataFrame(rows, columns=["kind", "refs", "key_id", "label", "group", "where"])
        return cls(store.path, sha256_file(versions), claims, dict(skipped), pseudonymizer, platform)

    def labels(self, data: DetectionData) -> Labels:
        """The labels of ``data``'s accounts and merchants (ids as in the export).

        Raises
        ------
        LabelError
            For an entity two records label both ways, naming both.
        """
        accounts = [str(a) for a in data.graph.row_labels]
        pseudonyms = self.pseudonymizer.pseudonymize_array("platform_account", pa.array(accounts, pa.string()))
        by_key = {"accounts": dict(zip(pseudonyms.to_pylist(), ([a] for a in accounts)))}
        by_key["merchants"] = _by_key(merchant_shops(data).values(), self.platform)
        skipped = Counter(self.skipped)
        other_key = (self.claims["kind"] == "accounts") & (self.claims["key_id"] != self.pseudonymizer.key_id)
        if other_key.any():
            skipped[f"an account pseudonymised under another key than {self.pseudonymizer.key_id}"] += int(
                other_key.sum())
        claims = self.claims[~other_key]
        rows, unmatched = {}, {}
        for kind in KINDS:
            mine = claims[claims["kind"] == kind]
            named = by_key.get(kind, {})  # records name no order
            ids = pd.Series([sorted({i for ref in refs for i in named.get(ref, ())}) for refs in mine["refs"]],
                            index=mine.index, dtype=object)
            unmatched[kind] = int((~ids.astype(bool).groupby(mine["refs"]).any()).sum())  # subjects, not records
            rows[kind] = mine.assign(id=ids).explode("id").dropna(subset=["id"])[["id", "label", "group", "where"]]
        found = labels_of(rows, ())
        source = LabelSource("store", str(self.path), self.sha256, found.counts(), unmatched,
                             dict(sorted(skipped.items())))
        return Labels(found.frames, (source,))


def _subjects(version: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...], str, str]]:
    """``(kind, refs, key_id, role)`` of each entity a record is about."""
    subject, role = version["subject"], version["behavior"]["role"]
    if "account" in subject:
        account = subject["account"]
        if account["id_kind"] == "platform_account":
            yield "accounts", (account["pseudonym"],), account["key_id"], role
    elif "merchant" in subject:
        yield "merchants", tuple(subject_keys(subject["merchant"])), "", role
    else:
        for member in subject["ring"]["members"]:
            kind = "accounts" if member["kind"] == "account" else "merchants"
            yield kind, (member["ref"],), member.get("key_id", ""), member["role"]


def _by_key(shops: Iterable[Shop], platform: str) -> dict[str, list[str]]:
    """Merchant key -> the shop ids it names (a credit code may name several shops)."""
    out: dict[str, list[str]] = {}
    for shop in shops:
        for key in merchant_keys(shop, platform):
            out.setdefault(key, []).append(shop.seller_id)
    return out
