"""Where `detect`'s time goes: each stage's wall time, and each detector's under cProfile.

Usage::

    python benchmarks/profile_detect.py benchmarks/.data/synth-10000000/orders.csv
    python benchmarks/profile_detect.py orders.csv --top 40      # more of the profile

The ensemble is fitted with one detector at a time (``n_jobs=1``) under cProfile, so each
detector's time is its own; the profiler inflates code that makes many Python calls, so use the
table to find where to look, and ``benchmarks/speed.py`` to measure a change.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time
from pathlib import Path

from joblib import parallel_config

from antifraud.detectors import BrushingEnsemble
from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, Pseudonymizer, ingest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path, help="a generic-profile export, e.g. from antifraud synth")
    parser.add_argument("--top", type=int, default=25, help="functions of the profile to print")
    args = parser.parse_args()

    t0 = time.perf_counter()
    result = ingest([args.export], PROFILES["generic"], pseudonymizer=Pseudonymizer(b"benchmark-key-0123456789"))
    stages = {"ingest": time.perf_counter() - t0, **{f"  {k}": v for k, v in result.timings.items()}}
    t0 = time.perf_counter()
    data = prepare(result.table)
    stages["graphs and features"] = time.perf_counter() - t0
    del result
    ensemble = BrushingEnsemble(random_state=0)
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    with parallel_config(backend="threading", n_jobs=1):
        profile.enable()
        ensemble.fit(data)
        profile.disable()
    stages["detectors (one at a time, profiled)"] = time.perf_counter() - t0

    print(f"\n{args.export}: {len(data.order_rows):,} orders; peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    print(f"{'stage':<40}{'seconds':>9}")
    for stage, seconds in stages.items():
        print(f"{stage:<40}{seconds:>9.1f}")
    stats = pstats.Stats(profile)
    fits = {name: row for name, row in stats.stats.items() if name[2] in ("_fit", "_test", "_shared_buyers",
                                                                            "_behaviour")}
    print(f"\n{'detector step (file:function)':<52}{'seconds':>9}")
    for (path, _, func), (_, _, _, cumulative, _) in sorted(fits.items(), key=lambda kv: -kv[1][3]):
        print(f"{Path(path).stem + ':' + func:<52}{cumulative:>9.1f}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
