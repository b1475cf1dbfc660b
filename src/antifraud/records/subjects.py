"""Who and what a store's records are about: the subject, the ring, the shops.

A record names its subject in ``subject`` (``acr/1``): a merchant by credit code, name, shop ids
and platform; an account by pseudonym; a ring by its members, merchants under the key their
records are issued under (:func:`~antifraud.findings.records.merchant_keys`: the credit code, else
``shop:<platform>:<shop id>``). The ring of the run a finding came from (``R0001``) is its
``ring`` signal (``assessment.signals``): a ring finding is that ring, a merchant finding is
about a target of it, an account finding about a member; a list entry keeps the finding's.
Ring ids are a run's, so two runs' ``R0001`` are two rings.

:class:`Subjects` indexes current versions for the ``records list`` table, for ``query`` by
shop or ring, and to find the record a ring id names (:meth:`Subjects.record_named`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Row", "Subjects", "merchant_keys", "ring_of", "subject_kind"]

_SHOP_PREFIX = "shop:"
_KINDS = ("ring", "merchant", "account")


def ring_of(record: Mapping[str, Any]) -> str | None:
    """The run's ring id a record is about (its ``ring`` signal), or None.

    Examples
    --------
    >>> ring_of({"assessment": {"signals": [{"name": "ring", "value": "R0001"}]}})
    'R0001'
    """
    return next((s["value"] for s in record["assessment"]["signals"] if s["name"] == "ring"), None)


def subject_kind(record: Mapping[str, Any]) -> str:
    """``merchant``, ``account`` or ``ring``: the one subject an ``acr/1`` record has."""
    return next(iter(record["subject"]))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def merchant_keys(merchant: Mapping[str, Any]) -> list[str]:
    """The keys a record's ``subject.merchant`` names its merchant by, the one it is issued under
    first: its credit code where it has one, then ``shop:<platform>:<shop id>`` of each shop.

    Examples
    --------
    >>> merchant_keys({"uscc": None, "platform": "taobao", "shop_ids": ["s7"]})
    ['shop:taobao:s7']
    """
    keys = [merchant["uscc"]] if merchant["uscc"] else []
    return keys + [f"{_SHOP_PREFIX}{merchant['platform']}:{shop}" for shop in merchant["shop_ids"]]


@dataclass(frozen=True)
class Row:
    """One record as the ``records list`` table shows it.

    Attributes
    ----------
    id, record_type, status, issuer : str
        As in the record.
    kind : {"merchant", "account", "ring"}
        Its subject's kind.
    who : str
        The subject: a merchant's name (else its shop id or code), an account's pseudonym
        (shortened), a ring's size and the names of its shops where the store knows them.
    ring : str or None
        The run's ring id it is about.
    issued : str
        When version 1 was issued (``created``).
    """

    id: str
    record_type: str
    kind: str
    who: str
    ring: str | None
    status: str
    issued: str
    issuer: str


class Subjects:
    """An index of current record versions by what they are about.

    Parameters
    ----------
    current : mapping
        Record id -> current version (:attr:`~antifraud.records.store.Resolution.current`).
    """

    def __init__(self, current: Mapping[str, Mapping[str, Any]]) -> None:
        self.current = current
        self._names: dict[str, str] = {}  # merchant key -> shop name, from the merchant records
        self._known: dict[str, set[str]] = {}  # merchant key -> what names the merchant, folded
        for record in current.values():
            merchant = record["subject"].get("merchant")
            if merchant is None:
                continue
            keys = merchant_keys(merchant)
            known = {_fold(n) for n in (*keys, *merchant["shop_ids"], merchant.get("name") or "") if n}
            for key in keys:
                self._known.setdefault(key, set()).update(known)
                if merchant.get("name"):
                    self._names.setdefault(key, merchant["name"])

    def merchant_keys(self, record: Mapping[str, Any]) -> list[str]:
        """The keys of the merchants a record is about (a merchant's own; a ring's members')."""
        subject = record["subject"]
        if "merchant" in subject:
            return merchant_keys(subject["merchant"])
        if "ring" in subject:
            return [m["ref"] for m in subject["ring"]["members"] if m["kind"] == "merchant"]
        return []

    def shop_name(self, key: str) -> str:
        """A merchant's name where a record in the store gives it, else its shop id or code."""
        return self._names.get(key) or key.rpartition(":")[2]

    def names_shop(self, record: Mapping[str, Any], shop: str) -> bool:
        """True when ``shop`` (a name, shop id, credit code or merchant key, in any case) is one of
        the merchants ``record`` is about; a ring's merchants are known by what the store's
        merchant records say of them."""
        wanted = _fold(shop)
        for key in self.merchant_keys(record):
            own = _fold(key.rpartition(":")[2] if key.startswith(_SHOP_PREFIX) else key)
            if wanted in (_fold(key), own) or wanted in self._known.get(key, ()):
                return True
        return False

    def who(self, record: Mapping[str, Any]) -> str:
        """The subject in a few words (see :class:`Row`)."""
        subject = record["subject"]
        if "account" in subject:
            return f"account {subject['account']['pseudonym'][:12]}..."
        if "merchant" in subject:
            merchant = subject["merchant"]
            return merchant.get("name") or (merchant["shop_ids"] or [merchant["uscc"]])[0]
        members = subject["ring"]["members"]
        accounts = sum(m["kind"] == "account" for m in members)
        shops = [self.shop_name(m["ref"]) for m in members if m["kind"] == "merchant"]
        more = f" +{len(shops) - 3}" if len(shops) > 3 else ""
        return f"{accounts} accounts, {len(shops)} shops: {', '.join(shops[:3])}{more}"

    def select(self, *, ring: str | None = None, shop: str | None = None, status: str | None = None,
               records: Iterable[Mapping[str, Any]] | None = None) -> list[Mapping[str, Any]]:
        """The current versions about ``ring`` and ``shop`` with ``status`` (each if given), oldest
        first, a ring's finding before its shops' and accounts'; ``records`` narrows the versions
        looked at (default all)."""
        found = [r for r in (self.current.values() if records is None else records)
                 if (ring is None or ring_of(r) == ring.upper()) and (shop is None or self.names_shop(r, shop))
                 and (status is None or r["status"] == status)]
        return sorted(found, key=lambda r: (r["created"], ring_of(r) or "", _KINDS.index(subject_kind(r)), r["id"]))

    def rows(self, records: Iterable[Mapping[str, Any]]) -> list[Row]:
        """The table rows of ``records``."""
        return [Row(r["id"], r["record_type"], subject_kind(r), self.who(r), ring_of(r), r["status"], r["created"],
                    r["issuer"]["member_id"]) for r in records]

    def record_named(self, name: str, member: str | None = None) -> str:
        """The record id ``name`` stands for: a record id as it is, or a ring id (``R0001``) that
        names exactly one ring finding (of ``member``'s, if given).

        Raises
        ------
        ValueError
            Naming what matches when a ring id names no record, or several.
        """
        if name.startswith("acr--"):
            return name
        issued = [r for r in self.current.values() if member is None or r["issuer"]["member_id"] == member]
        rings = [r for r in self.select(ring=name, records=issued) if r["record_type"] == "ring_finding"]
        whose = f"{member}'s records" if member else "the store"
        if len(rings) == 1:
            return rings[0]["id"]
        if not rings:
            others = self.select(ring=name, records=issued)
            hint = (f" ({len(others)} records are about it: records list --ring {name})" if others
                    else "; records list shows the ids")
            raise ValueError(f"{name}: no ring finding of that ring in {whose}{hint}")
        matches = ", ".join(f"{r['id']} (issued {r['created']}, run {r['provenance']['run_id']})" for r in rings)
        raise ValueError(f"{name} names {len(rings)} ring findings in {whose}, one a run: {matches}; give the record id")
