"""``detect --work``: a cold run, a run interrupted in the detectors, and its reruns (issue 14).

Usage::

    PYTHONPATH=src python -m antifraud synth --out /tmp/s1m --seed 1 --orders 1000000
    PYTHONPATH=src python benchmarks/resume.py /tmp/s1m/orders.csv --scratch /tmp/bench14

Each run is ``antifraud detect`` in a fresh process, under a fixed alliance key and issuing time:

1. ``plain``: without a work folder;
2. ``cold``: with an empty one;
3. ``interrupted``: with another empty one, sent SIGINT (Ctrl-C) ``--delay`` seconds after its
   ingest stage is marked finished, so in the graphs or the detectors;
4. ``resumed``: rerun into that folder (the ingest resumed, the detectors computed);
5. ``again``: rerun once more (both resumed).

It prints each run's wall time (process start included), its ``timings_s`` and what it resumed,
then which output files of each run differ from ``plain``'s (``run.json`` only, by its timings and
its ``work`` note, if resuming is exact).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

KEY = "00" * 16 + "ab" * 16


def _detect(export: Path, out: Path, work: Path | None, interrupt_after: float | None) -> dict:
    """Run ``antifraud detect``; with ``interrupt_after``, send SIGINT that long after the ingest
    stage is finished. Return the wall time, exit code and ``run.json``."""
    env = dict(os.environ, ANTIFRAUD_PSEUDONYM_KEY=KEY)
    command = [sys.executable, "-m", "antifraud", "--quiet", "detect", str(export), "--out", str(out),
               "--issued-at", "2026-12-01T00:00:00Z", *(["--work", str(work)] if work else [])]
    t0 = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    if interrupt_after is not None:
        while not (work / "ingest.done.json").exists() and process.poll() is None:
            time.sleep(0.05)
        time.sleep(interrupt_after)
        process.send_signal(signal.SIGINT)
    code = process.wait()
    manifest = out / "run.json"
    return {"wall_s": round(time.perf_counter() - t0, 1), "exit": code,
            "run": json.loads(manifest.read_text()) if code == 0 else {}}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--scratch", type=Path, required=True, help="folder for the runs; emptied first")
    parser.add_argument("--delay", type=float, default=3.0, help="seconds after the ingest to interrupt")
    args = parser.parse_args()
    shutil.rmtree(args.scratch, ignore_errors=True)
    args.scratch.mkdir(parents=True)
    runs = [("plain", None, None), ("cold", "work-cold", None), ("interrupted", "work", args.delay),
            ("resumed", "work", None), ("again", "work", None)]
    for name, work, delay in runs:
        done = _detect(args.export, args.scratch / name, work and args.scratch / work, delay)
        run = done["run"]
        print(f"{name}: exit {done['exit']}, {done['wall_s']} s; timings_s {run.get('timings_s')}; "
              f"work {run.get('work', {}).get('resumed')} resumed, {run.get('work', {}).get('computed')} computed",
              flush=True)
    sizes = {p.relative_to(args.scratch).as_posix(): p.stat().st_size
             for p in sorted((args.scratch / "work-cold").rglob("*")) if p.is_file()}
    print("work folder bytes:", sizes)
    plain = _files(args.scratch / "plain")
    for name in ("cold", "resumed", "again"):
        other = _files(args.scratch / name)
        differ = sorted(n for n in plain.keys() | other.keys() if plain.get(n) != other.get(n))
        first, second = (json.loads(files["run.json"]) for files in (plain, other))
        members = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
        print(f"{name} vs plain: files differing {differ}; run.json members differing {members}")


if __name__ == "__main__":
    main()
