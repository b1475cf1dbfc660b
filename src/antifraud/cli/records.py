"""``antifraud records``, ``antifraud feed`` and ``antifraud query``: credit records as a member
keeps, changes, shares and looks them up.

The store folder comes from ``--store`` or ``ANTIFRAUD_STORE``; the member acting from
``--member`` or ``ANTIFRAUD_MEMBER_ID`` (``--as`` and ``--member-id`` are its old names). A record
is named by its id or, in the commands that take one, by the run's ring id (``R0001``) when that
names one ring finding (:meth:`~antifraud.records.subjects.Subjects.record_named`). Acting as a member takes that member's signing key
(``--signing-key`` or ``ANTIFRAUD_SIGNING_KEY``): only the issuer of a record makes its next
version, and every version it makes is signed. What enters the store is checked against the
keyring (``--keyring`` or ``ANTIFRAUD_KEYRING``): only versions signed with their issuer's key
are accepted unless ``--allow-unsigned`` says otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from antifraud.cli import output
from antifraud.cli.conventions import App
from antifraud.cli.errors import EXIT_FINDINGS, fail, user_errors

if TYPE_CHECKING:
    from antifraud.ingest.pseudonym import Pseudonymizer
    from antifraud.records.store import RecordStore
    from antifraud.signing import Keyring, Signer

records_app = App(name="records", help="Keep, list and change your credit records (acr/1).")
feed_app = App(name="feed", help="Share records with alliance members: export and import feeds.")


#: What each status of a record means (the statuses of the acr/1 schema).
STATUSES = {
    "issued": "as issued, not changed since",
    "amended": "changed since: reviewed, amended, or an objection resolved without revoking it",
    "under_objection": "the subject objected (异议) and the objection is pending, still in force",
    "repaired": "credit repair granted (信用修复): no longer published or shared, history kept",
    "revoked": "issued in error, final",
    "expired": "its publication and retention periods have passed",
}
#: What becomes of a version offered to a store (records add, feed import).
VERDICTS = {
    "accepted": "valid, signed by its issuer, and the next version of its record",
    "held": "waits for an earlier version of its record that the store does not hold yet, as when a delta feed "
            "comes before the full one, and is accepted when that arrives",
    "rejected": "can never be accepted: it breaks or forks its record's chain, changes a field that never changes, "
                "follows a revocation, or fails the schema or its signature; it is set aside with the reason",
}


def _words(meanings: dict[str, str]) -> str:
    return "; ".join(f"{name}: {meaning}" for name, meaning in meanings.items())


#: The statuses of a record, and what becomes of a version offered to a store, for the help.
STATUS_HELP = f"What a status means. {_words(STATUSES)}."
VERDICT_HELP = f"What becomes of a version. {_words(VERDICTS)}."
_MEMBER = ("--member", "--member-id", "--as")  # one option; the old names are hidden (cli.conventions.ALIASES)
_MEMBER_HELP = "Your alliance member id (or ANTIFRAUD_MEMBER_ID)."

StoreOpt = Annotated[Path, typer.Option("--store", "-s", envvar="ANTIFRAUD_STORE", metavar="DIR",
                                        help="Record store folder (or ANTIFRAUD_STORE).")]
MemberOpt = Annotated[str, typer.Option(*_MEMBER, envvar="ANTIFRAUD_MEMBER_ID", metavar="ID",
                                        help=f"{_MEMBER_HELP} Only a record's issuer changes it.")]
OptionalMemberOpt = Annotated[str | None, typer.Option(*_MEMBER, envvar="ANTIFRAUD_MEMBER_ID", metavar="ID",
                                                       help=f"{_MEMBER_HELP} The records are issued in its name.")]
AtOpt = Annotated[str | None, typer.Option("--at", metavar="TIME", help="Time of the change, RFC 3339 (default: now; "
                                                                        "never in the future).")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="Record id (acr--...), or the run's ring id (R0001) "
                                                         "when it names one ring finding.")]
SigningKeyOpt = Annotated[Path | None, typer.Option(
    "--signing-key", envvar="ANTIFRAUD_SIGNING_KEY", metavar="FILE",
    help="Your Ed25519 private key (or ANTIFRAUD_SIGNING_KEY); every version you make is signed with it.")]
KeyringOpt = Annotated[Path | None, typer.Option(
    "--keyring", "-k", envvar="ANTIFRAUD_KEYRING", metavar="DIR",
    help="Folder of members' public keys, <member id>.pub (or ANTIFRAUD_KEYRING).")]


def _explained(func: Callable[..., None]) -> Callable[..., None]:
    """Fill the ``{statuses}`` and ``{verdicts}`` of a command's docstring with their words."""
    func.__doc__ = (func.__doc__ or "").format(statuses=STATUS_HELP, verdicts=VERDICT_HELP)
    return func


RecordFilesArg = Annotated[list[Path], typer.Argument(metavar="FILE",
                                                      help="Record files (JSON Lines), e.g. RUN/findings.jsonl.")]
AllowUnsignedOpt = Annotated[bool, typer.Option(
    "--allow-unsigned", help="Also accept versions that are unsigned or signed with a key the keyring does not hold, "
                             "from members whose key it does not hold.")]


def _store(path: Path) -> RecordStore:
    from antifraud.records.store import RecordStore

    return RecordStore(path)


def _record_id(store: Path, name: str, member: str | None = None) -> str:
    """The record id ``name`` (a record id or a ring id) stands for in ``store``, among
    ``member``'s records if given."""
    from antifraud.records.subjects import Subjects

    if name.startswith("acr--"):
        return name
    return Subjects(_store(store).resolution().current).record_named(name, member)


def _keyring(path: Path | None) -> Keyring | None:
    from antifraud.signing import Keyring

    return Keyring.from_directory(path) if path is not None else None


def _member_signer(member: str, signing_key: Path | None, keyring: Keyring | None) -> Signer:
    """``member``'s signer from ``signing_key``, refused when the keyring says the key is not
    ``member``'s."""
    from antifraud.signing import Signer

    if signing_key is None:
        raise ValueError(f"acting as {member} needs {member}'s signing key (--signing-key or ANTIFRAUD_SIGNING_KEY): "
                         f"the alliance accepts in a member's name only what its key signed")
    signer = Signer.from_file(signing_key)
    if keyring is not None:
        owner, known = keyring.owner(signer.key_id), keyring.key_ids_of(member)
        if owner not in (None, member) or (owner is None and known):
            whose = f"{owner}'s key" if owner else f"not in the keyring, which holds {member}'s key {known[0]}"
            raise ValueError(f"{signing_key} ({signer.key_id}) is {whose}; you cannot act as {member}")
    return signer


def _check_signed_with(signer: Signer, keyring: Keyring | None, member: str, versions: Iterable[dict]) -> None:
    """Refuse to sign for ``member`` with a key other than the one its versions carry, unless the
    keyring vouches for the new key (key rotation)."""
    if keyring is not None and keyring.owner(signer.key_id) == member:
        return
    for v in versions:
        kid = (v.get("signature") or {}).get("key_id")
        if kid is not None and kid != signer.key_id:
            raise ValueError(f"{v['id']} version {v['version']} is signed with {kid}, not with {signer.key_id}: "
                             f"you cannot act as {member} with this key (to change keys, put the new one in the "
                             f"keyring as {member}.pub)")


def _own(current: dict, member: str) -> None:
    if current["issuer"]["member_id"] != member:
        raise ValueError(f"{current['id']} was issued by {current['issuer']['member_id']}; only the issuer makes "
                         f"new versions (others file an objection or a finding of their own)")


def _at(at: str | None) -> str | None:
    from antifraud.records.lifecycle import parse_timestamp

    return parse_timestamp(at, not_after_now=True) if at is not None else None


def _act(store_path: Path, record_id: str, member: str, signing_key: Path | None, keyring_path: Path | None,
         at: str | None, make: Callable[[dict, str], dict]) -> dict:
    """Make and store the version ``make(current, at)`` derives from one of ``member``'s records,
    signed with ``member``'s key, holding the store's lock from reading the record to writing."""
    from antifraud.records.lifecycle import utc_now
    from antifraud.signing import sign_json

    keyring = _keyring(keyring_path)
    signer = _member_signer(member, signing_key, keyring)
    at = _at(at)
    record_id = _record_id(store_path, record_id, member)

    def signed_successor(current: dict) -> list[dict]:
        _own(current, member)
        _check_signed_with(signer, keyring, member, [current])
        new = make(current, at or utc_now())  # the time is taken under the lock, after any concurrent change
        new["signature"] = sign_json(new, signer)
        return [new]

    return _store(store_path).change(record_id, signed_successor)[0]


def _change(store_path: Path, record_id: str, member: str, signing_key: Path | None, keyring: Path | None,
            at: str | None, action: str, **kwargs: Any) -> None:
    """Apply a lifecycle action to the current version of one of ``member``'s records."""
    from antifraud.records import lifecycle

    new = _act(store_path, record_id, member, signing_key, keyring, at,
               lambda current, when: getattr(lifecycle, action)(current, at=when, **kwargs))
    output.result(new, essential=f"{new['id']}: version {new['version']}, {new['status']}")


@records_app.command("add")
@user_errors
@_explained
def add(files: RecordFilesArg, store: StoreOpt, keyring: KeyringOpt = None,
        allow_unsigned: AllowUnsignedOpt = False) -> None:
    """Add records (your run's findings.jsonl) to the store, validating every line and signature.

    Exit 1 when any version was held or rejected.

    {verdicts}

    Example: antifraud records add run/findings.jsonl --store store/ --keyring keys/
    """
    from antifraud.records.feed import import_feed

    ring = _keyring(keyring)
    reports = [import_feed(_store(store), path, expect_manifest=False, keyring=ring, allow_unsigned=allow_unsigned)
               for path in files]
    _print_imports(reports)
    if any(report.rejected or report.held for report in reports):
        raise typer.Exit(EXIT_FINDINGS)


@records_app.command("show")
@user_errors
def show(record_id: IdArg, store: StoreOpt,
         history: Annotated[bool, typer.Option("--history", help="Every version, not just the current one.")]
         = False) -> None:
    """Print a record's current version (or whole chain) as JSON.

    Example: antifraud records show R0001 --store store/ --history
    """
    from antifraud.records.validation import schema

    record_id = _record_id(store, record_id)
    chain = _store(store).resolution().chains.get(record_id)
    if chain is None:
        raise ValueError(f"{record_id}: not in the store {store}")
    order = list(schema()["properties"])  # the store keeps canonical (sorted) keys; show the schema's order
    shown = [{k: v[k] for k in order if k in v} for v in chain]
    typer.echo(json.dumps(shown if history else shown[-1], ensure_ascii=False, indent=2))


@records_app.command("validate")
@user_errors
def validate_records(files: RecordFilesArg, keyring: KeyringOpt = None, allow_unsigned: AllowUnsignedOpt = False) -> None:
    """Check every line against acr/1, its signature and every chain of versions; name each broken field.

    Exit 1 when anything is wrong. With --json, prints the problems and the counts.

    Example: antifraud records validate run/findings.jsonl --keyring keys/
    """
    from antifraud.records.feed import read_feed, signature_problem
    from antifraud.records.store import resolve

    ring = _keyring(keyring)
    problems, versions = [], []
    for path in files:
        with open(path, "rb") as fh:
            for number, record, problem in read_feed(fh):
                if record is not None:
                    problem = signature_problem(record, record["issuer"]["member_id"], ring,
                                                allow_unsigned=allow_unsigned)
                if problem:
                    problems.append(f"{path}:{number}: {problem}")
                else:
                    versions.append(record)
    resolution = resolve(versions)
    problems += [f"{version['id']} version {version['version']}: {reason}"
                 for version, reason in resolution.rejected + resolution.held]
    counts = f"{len(versions)} valid versions of {len(resolution.chains)} records; {len(problems)} problems"
    output.result({"valid_versions": len(versions), "records": len(resolution.chains), "problems": problems},
                  essential="\n".join([*problems, counts]))
    if problems:
        raise typer.Exit(EXIT_FINDINGS)


@records_app.command("quarantine")
@user_errors
def quarantine(store: StoreOpt) -> None:
    """List the versions the store set aside (forks, broken chains), with the reason for each.

    With --json, prints them as a list of reason and version.

    Example: antifraud records quarantine --store store/
    """
    entries = _store(store).quarantine()
    lines = [f"{len(entries)} versions set aside in {store}"]
    lines += [f"{version['id']} version {version['version']} ({version['issuer']['member_id']}, "
              f"{version['modified']}): {reason}" for version, reason in entries]
    output.result([{"reason": reason, "version": version} for version, reason in entries], essential="\n".join(lines))


@records_app.command("list")
@user_errors
@_explained
def list_records(
    store: StoreOpt,
    ring: Annotated[str | None, typer.Option(metavar="RING", help="Only the records about this ring of a run (R0001): "
                                                                  "its ring finding, its shops' and accounts'.")]
    = None,
    shop: Annotated[str | None, typer.Option(metavar="NAME|ID", help="Only the records about this shop: its name, "
                                                                     "shop id or credit code, in any case.")] = None,
    status: Annotated[str | None, typer.Option(metavar="STATUS", help=", ".join(STATUSES) + ".")] = None,
) -> None:
    """List the store's records: id, subject (kind and who), ring, status and when issued.

    The record ids are what records show, review and the other record commands take; a ring id
    (R0001) stands for its ring finding where it names one. With --json, prints the rows as a
    list.

    {statuses}

    Example: antifraud records list --store store/ --ring R0001
    """
    from dataclasses import asdict

    from antifraud.records.subjects import Subjects

    if status is not None and status not in STATUSES:
        raise ValueError(f"--status {status!r}: a status is one of {', '.join(STATUSES)}")
    subjects = Subjects(_store(store).resolution().current)
    rows = subjects.rows(subjects.select(ring=ring, shop=shop, status=status))
    output.result([asdict(row) for row in rows], essential=f"{len(rows)} records in {store}",
                  human=lambda: _print_rows(rows, store))


def _print_rows(rows: list[Any], store: Path) -> None:
    from rich.table import Table

    from antifraud.cli.report import console

    table = Table(title=f"{len(rows)} records in {store}", title_justify="left", show_edge=False)
    for column in ("record", "subject", "who", "ring", "status", "issued (UTC)"):
        table.add_column(column, no_wrap=column == "record")
    for row in rows:
        table.add_row(row.id, row.kind, row.who, row.ring or "-", row.status, row.issued[:19].replace("T", " "))
    console().print(table)


@records_app.command("grades")
@user_errors
def grades(
    store: StoreOpt,
    keyring: KeyringOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", metavar="DATE",
                                              help="The day publication periods are judged on (default: today, UTC).")]
    = None,
) -> None:
    """Grade every merchant the store's records are about, A to D, with the records behind each grade.

    D: on a black list, or a reviewed finding determined serious. C: another reviewed finding, or on
    a watch list. B: a finding nobody reviewed, or a record under objection. A: nothing in force
    against it. The worst record decides; docs/credit-grades.md gives the rule. With --keyring, a
    record counts only when its issuer signed it.

    Example: antifraud records grades --store store/ --keyring keys/
    """
    from datetime import date

    from antifraud.records.grades import grade_merchants
    from antifraud.records.lifecycle import utc_now

    day = date.fromisoformat(as_of).isoformat() if as_of else utc_now()[:10]
    found = grade_merchants(_store(store).resolution().current.values(), day, _keyring(keyring))
    counts = {g: sum(1 for x in found if x.grade == g) for g in "ABCD"}
    output.result([g.to_json() for g in found], essential=", ".join(f"{g} {n}" for g, n in counts.items()),
                  human=lambda: _print_grades(found, day))


def _print_grades(found: list[Any], day: str) -> None:
    from rich.table import Table

    from antifraud.cli.report import console
    from antifraud.records.grades import GRADES

    table = Table(title=f"{len(found)} merchants graded on {day} (--json: every record behind each grade)",
                  title_justify="left", show_edge=False)
    for column in ("grade", "merchant", "name", "records", "why"):
        table.add_column(column, no_wrap=column != "why", justify="right" if column == "records" else "left")
    for g in found:
        deciding = g.reasons[0]
        table.add_row(g.grade, g.key, g.name or "-", str(len(g.reasons)),
                      deciding["why"] if deciding["grade"] == g.grade else GRADES["A"])
    console().print(table)


@records_app.command("review")
@user_errors
def review(record_id: IdArg, store: StoreOpt, member: MemberOpt,
           reviewer: Annotated[str, typer.Option(help="Who reviewed the finding.")],
           reason: Annotated[str, typer.Option(help="What the review found.")] = "", signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Record a person's review of a finding (needed to share beyond amber or to list it).

    Example: antifraud records review R0001 --store store/ --member platform-a --reviewer "analyst 7"
    """
    _change(store, record_id, member, signing_key, keyring, at, "review", reviewer=reviewer, reason=reason)


@records_app.command("amend")
@user_errors
def amend(record_id: IdArg, store: StoreOpt, member: MemberOpt,
          set_: Annotated[list[str], typer.Option("--set", metavar="FIELD=JSON", help="field.path=JSON value (repeatable), e.g. "
                                                  "sharing.level='\"green\"' or behavior.metrics.orders=412.")],
          reason: Annotated[str, typer.Option(help="Why the record changes.")], signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Change fields of a record; its identity and history stay.

    Example: antifraud records amend R0001 --member platform-a --set sharing.level=green --reason "reviewed"
    """
    changes = {}
    for item in set_:
        path, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set takes field.path=value, got {item!r}")
        try:
            changes[path.strip()] = json.loads(value)
        except json.JSONDecodeError:
            changes[path.strip()] = value  # a bare word is a string
    _change(store, record_id, member, signing_key, keyring, at, "amend", changes=changes, by=member, reason=reason)


@records_app.command("object")
@user_errors
def object_(record_id: IdArg, store: StoreOpt, member: MemberOpt,
            by: Annotated[str, typer.Option(help="Who objects (the subject or its representative).")],
            statement: Annotated[str, typer.Option(help="The objection in the subject's words.")],
            signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Record an objection (异议) received from the subject; the record is under objection.

    Example: antifraud records object ID --member platform-a --by "the merchant" --statement "real buyers"
    """
    _change(store, record_id, member, signing_key, keyring, at, "object_to", by=by, statement=statement)


@records_app.command("resolve")
@user_errors
def resolve_objection(record_id: IdArg, store: StoreOpt, member: MemberOpt,
                      result: Annotated[str, typer.Option(help="upheld (revokes), rejected or partial.")],
                      reason: Annotated[str, typer.Option(help="Why.")], signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Resolve a pending objection: upheld revokes the record, rejected or partial amends it.

    Example: antifraud records resolve ID --member platform-a --result rejected --reason "orders confirmed fake"
    """
    _change(store, record_id, member, signing_key, keyring, at, "resolve", result=result, by=member, reason=reason)


@records_app.command("repair")
@user_errors
def repair(record_id: IdArg, store: StoreOpt, member: MemberOpt,
           commitment: Annotated[str, typer.Option(help="The subject's public credit promise.")],
           applied_at: Annotated[str, typer.Option(metavar="TIME", help="When the subject applied, RFC 3339 UTC.")],
           reason: Annotated[str, typer.Option(help="Why repair is granted.")] = "", signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Grant credit repair (信用修复): stop publishing and sharing, keep the history.

    Example: antifraud records repair ID --member platform-a --commitment "no more bought orders" --applied-at 2026-12-01
    """
    from antifraud.records.lifecycle import parse_timestamp

    _change(store, record_id, member, signing_key, keyring, at, "repair", commitment=commitment,
            applied_at=parse_timestamp(applied_at, not_after_now=True), by=member, reason=reason)


@records_app.command("revoke")
@user_errors
def revoke(record_id: IdArg, store: StoreOpt, member: MemberOpt,
           reason: Annotated[str, typer.Option(help="Why the record was issued in error.")],
           signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Revoke a record issued in error. Final.

    Example: antifraud records revoke ID --member platform-a --reason "issued in error"
    """
    _change(store, record_id, member, signing_key, keyring, at, "revoke", by=member, reason=reason)


@records_app.command("expire")
@user_errors
def expire(record_id: IdArg, store: StoreOpt, member: MemberOpt, signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Mark a record expired once its publication and retention periods have passed.

    Example: antifraud records expire ID --member platform-a
    """
    _change(store, record_id, member, signing_key, keyring, at, "expire", by=member)


@records_app.command("list-entry")
@user_errors
def list_entry(
    record_id: IdArg, store: StoreOpt, member: MemberOpt,
    list_name: Annotated[str, typer.Option("--list", metavar="LIST", help="black, red or watch.")],
    severity: Annotated[str, typer.Option(metavar="SEVERITY", help="minor, general or serious.")],
    basis: Annotated[str, typer.Option(metavar="BASIS", help="platform_rule, administrative_penalty, court or "
                                                             "alliance.")],
    authority: Annotated[str, typer.Option(help="Who decided (name).")],
    decided_on: Annotated[str, typer.Option(metavar="DATE", help="Date of the decision, YYYY-MM-DD.")],
    listed_on: Annotated[str, typer.Option(metavar="DATE", help="First day of publication, YYYY-MM-DD.")],
    publish_until: Annotated[str, typer.Option(metavar="DATE", help="Last day of publication (公示截止期), "
                                                                    "YYYY-MM-DD.")],
    measure: Annotated[list[str] | None, typer.Option(help="A measure taken (repeatable).")] = None,
    authority_uscc: Annotated[str | None, typer.Option(metavar="CODE", help="The authority's credit code.")] = None,
    document_no: Annotated[str | None, typer.Option(help="Decision document number (决定书文号).")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="The rule or law applied.")] = None,
    signing_key: SigningKeyOpt = None,
    keyring: KeyringOpt = None,
    at: AtOpt = None,
) -> None:
    """Issue a list entry from a reviewed finding and the decision taken on it (once per list and day).

    The finding must have been reviewed (records review) and be in force. Publication lasts 3
    months to 1 year for a general case, 1 to 3 years for a serious one.

    Example: antifraud records list-entry R0001 --member platform-a --list black --severity general
    --basis platform_rule --authority platform-a --decided-on 2026-12-01 --listed-on 2026-12-01
    --publish-until 2027-06-01
    """
    from antifraud.records import lifecycle

    decision = {"basis": basis, "authority": {"name": authority} | ({"uscc": authority_uscc} if authority_uscc else {}),
                "decided_on": decided_on, "measures": measure or [], "severity": severity}
    decision |= {k: v for k, v in (("document_no", document_no), ("legal_basis", legal_basis)) if v}
    record_id = _record_id(store, record_id, member)
    entry = _act(store, record_id, member, signing_key, keyring, at,
                 lambda current, when: lifecycle.list_entry(current, list_name=list_name, determination=decision,
                                                            listed_on=listed_on, publish_until=publish_until,
                                                            by=member, at=when))
    output.result(entry, essential=f"{entry['id']}: {list_name} list entry from {record_id}, published {listed_on} "
                                   f"to {publish_until}")


@feed_app.command("export")
@user_errors
def export(store: StoreOpt, member: MemberOpt,
           out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                             help="Folder for feed.jsonl and feed.manifest.json.")],
           since: Annotated[str | None, typer.Option(metavar="TIME", help="Delta feed: versions modified after this RFC 3339 time, "
                                                          "e.g. 2026-12-01T00:00:00+08:00.")] = None,
           signing_key: SigningKeyOpt = None, keyring: KeyringOpt = None) -> None:
    """Write your records as a full feed, or a delta feed with --since; the manifest is signed with your key.

    Records whose pseudonyms are under a run key (detect without the alliance key) cannot be
    shared. With --json, prints the manifest.

    Example: antifraud feed export --store store/ --member platform-a --out feed/ --signing-key keys/platform-a
    """
    from antifraud.records.feed import export_feed

    ring = _keyring(keyring)
    signer = _member_signer(member, signing_key, ring)
    records = _store(store)
    own = [v for chain in records.resolution().chains.values() for v in chain if v["issuer"]["member_id"] == member]
    _check_signed_with(signer, ring, member, own)
    manifest = export_feed(records, out, member_id=member, since=since, signer=signer)
    kind = f"delta since {manifest['since']}" if since else "full"
    output.result(manifest, essential=f"wrote {manifest['records']} versions ({kind}) to {out}; "
                                      f"sha256 {manifest['sha256']}")


@feed_app.command("import")
@user_errors
@_explained
def import_(
    feeds: Annotated[list[Path], typer.Argument(metavar="FEED", help="Feed folders or feed.jsonl files.")],
    store: StoreOpt,
    keyring: KeyringOpt = None,
    allow_unsigned: AllowUnsignedOpt = False,
    require_signatures: Annotated[bool, typer.Option(
        "--require-signatures", help="Reject versions not signed by their issuer's key (the default; kept for "
                                     "scripts).")] = False,
) -> None:
    """Validate other members' feeds line by line and merge the good versions (idempotent).

    A version is accepted only when signed with its issuer's key from the keyring, and a feed
    only when its manifest checks and is signed by the feed's issuer. Exit 1 when any line was
    rejected or held, or a manifest did not check.

    {verdicts}

    Example: antifraud feed import peer-feed/ --store store/ --keyring keys/
    """
    from antifraud.records.feed import import_feed

    if require_signatures and allow_unsigned:
        raise ValueError("--require-signatures and --allow-unsigned contradict each other")
    ring = _keyring(keyring)
    reports = [import_feed(_store(store), path, keyring=ring, allow_unsigned=allow_unsigned) for path in feeds]
    _print_imports(reports)
    if not all(report.ok for report in reports):
        raise typer.Exit(EXIT_FINDINGS)


def _print_imports(reports: list[Any]) -> None:
    """The result of importing record files or feeds: per file its counts and every line not accepted."""
    from dataclasses import asdict

    lines, documents = [], []
    for report in reports:
        lines.append(f"{report.source}: {report.lines} lines, {report.accepted} accepted, {report.new} new, "
                     f"{report.duplicates} already held, {len(report.held)} held, {len(report.rejected)} rejected")
        lines += [f"  feed: {problem}" for problem in report.feed_problems]
        lines += [f"  rejected {item}" for item in report.rejected]
        lines += [f"  held {item}" for item in report.held]
        documents.append({"source": report.source, "lines": report.lines, "accepted": report.accepted,
                          "new": report.new, "already_held": report.duplicates, "feed_problems": report.feed_problems,
                          "held": [asdict(item) for item in report.held],
                          "rejected": [asdict(item) for item in report.rejected]})
    output.result(documents, essential="\n".join(lines))


def query(
    store: StoreOpt,
    uscc: Annotated[str | None, typer.Option(metavar="CODE", help="A merchant's unified social credit code.")] = None,
    shop: Annotated[str | None, typer.Option(metavar="NAME|ID", help="A shop: its name, shop id or credit code, "
                                                                     "in any case.")] = None,
    ring: Annotated[str | None, typer.Option(metavar="RING", help="A ring of a run (R0001): its ring finding and "
                                                                  "the findings on its shops and accounts.")] = None,
    pseudonym: Annotated[str | None, typer.Option(metavar="HEX", help="An account pseudonym (64 hex characters).")]
    = None,
    account: Annotated[str | None, typer.Option(metavar="ID", help="A raw account id, pseudonymised here under the "
                                                "alliance key (ANTIFRAUD_PSEUDONYM_KEY_FILE or _KEY); it never leaves "
                                                "this machine.")] = None,
    kind: Annotated[str, typer.Option(metavar="KIND", help="Kind of --account: platform_account, phone, device, "
                                                           "payment, address.")] = "platform_account",
) -> None:
    """What the alliance holds on a credit code, a shop, a ring or an account: every current record about it.

    In force first, then newest first. With --json, prints the records as a list.

    Example: antifraud query --store store/ --shop 某某旗舰店
    """
    from antifraud import uscc as codes
    from antifraud.records.store import IN_FORCE, holdings
    from antifraud.records.subjects import Subjects

    if sum(x is not None for x in (uscc, shop, ring, pseudonym, account)) != 1:
        raise ValueError("give exactly one of --uscc, --shop, --ring, --pseudonym or --account")
    if uscc is not None:
        result = codes.validate(uscc)
        if not result.valid:
            raise ValueError(f"{uscc!r} is not a valid credit code: {'; '.join(result.reasons)}")
        uscc = result.code
    if account is not None:
        pseudonym = _pseudonym_of(account, kind)
    current = _store(store).resolution().current
    if shop is None and ring is None:
        found = holdings(current, uscc=uscc, pseudonym=pseudonym)
    else:
        found = holdings(current, ids=[r["id"] for r in Subjects(current).select(shop=shop, ring=ring)])
    lines = [f"{len(found)} records ({sum(r['status'] in IN_FORCE for r in found)} in force)"]
    for r in found:
        a = r["assessment"]
        lines.append(f"{r['id']}  v{r['version']}  {r['status']:<15} {r['record_type']:<16} "
                     f"{r['issuer']['member_id']:<14} {r['behavior']['category']:<24} "
                     f"confidence {a['confidence']:>3}  {'reviewed' if a['human_reviewed'] else 'unreviewed'}  "
                     f"{r['behavior']['period']['start'][:10]}..{r['behavior']['period']['end'][:10]}")
    output.result(found, essential="\n".join(lines))


def alliance_pseudonymizer(needed_by: str) -> Pseudonymizer:
    """The pseudonymizer of the alliance key from the environment; without a configured key,
    exit 2 saying that ``needed_by`` needs it (a run's own key matches no record)."""
    from antifraud.ingest.pseudonym import KEY_ENV, KEY_FILE_ENV, Pseudonymizer

    if not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        raise fail(f"{needed_by} needs the alliance key in {KEY_ENV} or {KEY_FILE_ENV}")
    return Pseudonymizer.from_environment()


def _pseudonym_of(value: str, kind: str) -> str:
    import pyarrow as pa

    from antifraud.ingest.pseudonym import normalize_personal

    pseudonymizer = alliance_pseudonymizer("--account")
    normal = normalize_personal(kind, pa.array([value])).to_pylist()[0]
    if normal is None:
        raise ValueError("--account is empty")
    return pseudonymizer.pseudonymize(kind, [normal]).to_pylist()[0]
