"""Detection quality on the synthetic bench and on YelpChi, as tables.

Usage::

    python benchmarks/quality.py                        # synthetic 100k x 3 seeds and 1M x 1, YelpChi
    python benchmarks/quality.py --only synthetic --orders 100000 --seeds 1 2
    python benchmarks/quality.py --only yelpchi

The synthetic section generates exports with :mod:`antifraud.synth`, runs the whole
``antifraud detect`` job and scores it with :func:`antifraud.evaluate.evaluate`. The YelpChi
section reads ``../shared/data/yelpchi`` (skipped with a message where it is absent) and scores
reviews (order scores) and users (account scores) against Yelp's filter labels, beside the
trivial ``1 / reviews_by_user`` baseline.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def synthetic(orders: list[int], seeds: list[int]) -> None:
    """Generate, detect and evaluate; one row per (size, seed)."""
    from antifraud.detect import detect
    from antifraud.evaluate import evaluate
    from antifraud.ingest import PROFILES
    from antifraud.synth import write_synthetic_export

    rows = []
    for n in orders:
        for seed in seeds if n <= 200_000 else seeds[:1]:
            with tempfile.TemporaryDirectory() as tmp:
                export = write_synthetic_export(Path(tmp) / "export", seed=seed, n_orders=n)
                t0 = time.perf_counter()
                detect([export / "orders.csv"], PROFILES["generic"], out_dir=Path(tmp) / "run", seed=seed)
                seconds = time.perf_counter() - t0
                report = evaluate(Path(tmp) / "run", export / "truth")
            kinds = report["rings"]["by_kind"]
            rows.append({
                "orders": n, "seed": seed, "seconds": round(seconds, 1),
                "acc_auc": report["accounts"]["roc_auc"], "acc_ap": report["accounts"]["average_precision"],
                "mer_ap": report["merchants"]["average_precision"], "ord_ap": report["orders"]["average_precision"],
                "ring_recall": report["rings"]["recall"], "ring_prec": report["rings"]["precision"],
                **{f"r_{k}": v["recall"] for k, v in kinds.items()},
                "victims_flagged": report["merchants"]["victims_flagged"],
            })
            print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False), flush=True)
    print("\nsynthetic bench (ring recall at Jaccard >= 0.5; r_* = recall per ring kind)")
    print(pd.DataFrame(rows).round(3).to_string(index=False))


def yelpchi() -> None:
    """Review- and user-level ROC-AUC / AP on YelpChi against the trivial baseline."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from antifraud.detect import detect
    from antifraud.ingest import PROFILES

    path = SHARED / "yelpchi" / "yelpchi_reviews.csv.gz"
    if not path.is_file():
        print(f"YelpChi skipped: {path} not found (the shared data folder is absent)")
        return
    labels = pd.read_csv(path, dtype={"user_id": str, "product_id": str})
    labels["line"] = np.arange(len(labels)) + 2  # header is line 1, one review per line
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        detect([path], PROFILES["yelp"], out_dir=tmp, seed=0)
        seconds = time.perf_counter() - t0
        orders = pd.read_csv(Path(tmp) / "orders.csv", dtype={"order_id": str})
        accounts = pd.read_csv(Path(tmp) / "accounts.csv", dtype={"account_id": str})
    orders["line"] = orders["order_id"].str.removeprefix("row:").astype(int)
    reviews = labels.merge(orders, on="line", how="inner")
    trivial = 1 / reviews.groupby("user_id")["line"].transform("size")
    users = labels.groupby("user_id").agg(is_fake=("is_fake", "max"), n=("line", "size"))
    users = users.join(accounts.set_index("account_id")["score"], how="inner")
    rows = []
    for level, y, ours, base in (
        ("review", reviews["is_fake"], reviews["score"], trivial),
        ("user", users["is_fake"], users["score"], 1 / users["n"]),
    ):
        rows.append({
            "level": level, "n": len(y),
            "auc": roc_auc_score(y, ours), "ap": average_precision_score(y, ours),
            "trivial_auc": roc_auc_score(y, base), "trivial_ap": average_precision_score(y, base),
            "speagle_auc": 0.766 if level == "review" else 0.663,
            "speagle_ap": 0.302 if level == "review" else 0.318,
        })
    print(f"\nYelpChi ({len(labels):,} reviews; detect took {seconds:.1f} s)")
    print(pd.DataFrame(rows).round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["synthetic", "yelpchi"], action="append")
    parser.add_argument("--orders", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    sections = args.only or ["synthetic", "yelpchi"]
    if "synthetic" in sections:
        synthetic(args.orders, args.seeds)
    if "yelpchi" in sections:
        yelpchi()


if __name__ == "__main__":
    main()
