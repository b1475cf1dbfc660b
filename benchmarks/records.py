"""Speed of the credit-record side on a real detection run: validation, store, feeds, bundles.

Usage: ``python benchmarks/records.py RUN_DIR`` where RUN_DIR was written by ``antifraud detect``
(for example on ``benchmarks/.data/synth-1000000/orders.csv``). Prints a table of seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from jsonschema import Draft7Validator

from antifraud.evidence import verify_archive
from antifraud.evidence.bundle import write_bundle
from antifraud.records.chain import record_hash
from antifraud.records.feed import export_feed, import_feed
from antifraud.records.store import RecordStore
from antifraud.records.validation import schema, validate_record
from antifraud.signing import Keyring, Signer, generate_key, sign_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path)
    args = parser.parse_args()
    records = [json.loads(line) for line in (args.run_dir / "findings.jsonl").read_text("utf-8").splitlines()]
    work = Path(tempfile.mkdtemp())
    rows = []

    def timed(step: str, func, count: int | None = None) -> None:  # noqa: ANN001
        t0 = time.perf_counter()
        func()
        seconds = time.perf_counter() - t0
        per = f"{1000 * seconds / count:.3f}" if count else ""
        rows.append((step, seconds, count or "", per))

    n = len(records)
    timed("validate (jsonschema-rs schema + record rules)", lambda: [validate_record(r) for r in records], n)
    sample = records[: min(n, 2000)]
    reference = Draft7Validator(schema())
    timed("validate (Python jsonschema, the test oracle; sample)", lambda: [reference.is_valid(r) for r in sample],
          len(sample))
    timed("record_hash (RFC 8785 + SHA-256)", lambda: [record_hash(r) for r in records], n)
    member = records[0]["issuer"]["member_id"]
    signer = Signer.from_file(generate_key(work / "keys" / member).private_path)
    keyring = Keyring.from_directory(work / "keys")
    signed = work / "findings.jsonl"

    def sign_all() -> None:
        with open(signed, "w", encoding="utf-8") as fh:
            for r in records:
                r = {k: v for k, v in r.items() if k != "signature"}
                fh.write(json.dumps(r | {"signature": sign_json(r, signer)}, ensure_ascii=False) + "\n")

    timed("sign (Ed25519 over RFC 8785)", sign_all, n)
    store = RecordStore(work / "store")
    timed("records add (validate, verify, store, resolve)",
          lambda: import_feed(store, signed, expect_manifest=False, keyring=keyring), n)
    timed("records add again (every line already held)",
          lambda: import_feed(store, signed, expect_manifest=False, keyring=keyring), n)
    if records[0]["issuer"]["uscc"] is not None:
        timed("feed export (full, signed)",
              lambda: export_feed(store, work / "feed", member_id=member, signer=signer), n)
        timed("feed import into an empty store",
              lambda: import_feed(RecordStore(work / "peer"), work / "feed", keyring=keyring), n)
        timed("feed import again (idempotent)",
              lambda: import_feed(RecordStore(work / "peer"), work / "feed", keyring=keyring), n)
    timed("bundle of ring R0001", lambda: write_bundle(args.run_dir, work / "one.zip", finding="R0001"))
    timed("verify that bundle", lambda: verify_archive(work / "one.zip", require_signature=False))
    timed("bundle of the whole run", lambda: write_bundle(args.run_dir, work / "all.zip"))
    timed("verify that bundle", lambda: verify_archive(work / "all.zip", require_signature=False))
    size = (work / "all.zip").stat().st_size / 1e6
    print(f"{n:,} records from {args.run_dir}; whole-run bundle {size:.1f} MB\n")
    print("| step | seconds | records | ms per record |\n|---|---:|---:|---:|")
    for step, seconds, count, per in rows:
        print(f"| {step} | {seconds:.2f} | {count:,} | {per} |" if count else f"| {step} | {seconds:.2f} | | |")


if __name__ == "__main__":
    main()
