"""How much each of the ensemble's combiner weights matters, as a table.

Usage::

    python benchmarks/sensitivity.py                               # 100k orders, seeds 1 2 3
    python benchmarks/sensitivity.py --orders 1000000 --seeds 1
    python benchmarks/sensitivity.py --params behaviour_floor min_ring_score

For every named weight of :class:`~antifraud.detectors.ensemble.BrushingEnsemble`, the ensemble
is fitted with the default and with a lower and a higher value (each alone, everything else at
its default) on synthetic exports of several seeds, and each run is scored with
:func:`antifraud.evaluate.evaluate`. The table gives the **worst** figure over the seeds (account
and merchant AP, ring recall and precision): a default is well chosen when neither neighbour
is much better anywhere, and a weight whose neighbours give the same figures is one the bench
cannot tell apart. This measures; it does not tune: the defaults stay what the docs say chose
them.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

#: Each weight's lower and higher value tried beside its default.
NEIGHBOURS: dict[str, tuple[float, float]] = {
    "behaviour_floor": (0.25, 0.75),
    "attack_max_rating": (1.0, 3.0),
    "attack_min_share": (0.3, 0.7),
    "merchant_full_share": (0.25, 0.75),
    "outside_ring_weight": (0.25, 0.75),
    "feature_weight": (0.25, 0.75),
    "merge_jaccard": (0.3, 0.7),
    "min_ring_score": (0.4, 0.6),
    "ring_merchant_share": (0.3, 0.7),
}


def main() -> None:
    from antifraud.detectors import BrushingEnsemble
    from antifraud.evaluate import evaluate
    from antifraud.features.data import prepare
    from antifraud.findings import build_findings, write_findings
    from antifraud.ingest import PROFILES, ingest
    from antifraud.synth import write_synthetic_export

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--params", nargs="+", choices=list(NEIGHBOURS), default=list(NEIGHBOURS))
    args = parser.parse_args()
    defaults = BrushingEnsemble().get_params(deep=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            export = write_synthetic_export(Path(tmp) / f"export-{seed}", seed=seed, n_orders=args.orders)
            data = prepare(ingest([export / "orders.csv"], PROFILES["generic"]).table)
            settings = [("default", None, None)] + [(p, p, v) for p in args.params for v in NEIGHBOURS[p]]
            for label, param, value in settings:
                ensemble = BrushingEnsemble(random_state=seed)
                if param is not None:
                    ensemble.set_params(**{param: value})
                run = Path(tmp) / "run"
                write_findings(build_findings(data, ensemble.fit(data)), run)
                report = evaluate(run, export / "truth")
                rows.append({"parameter": label, "value": "" if param is None else value,
                             "seed": seed, "account AP": report["accounts"]["average_precision"],
                             "merchant AP": report["merchants"]["average_precision"],
                             "ring recall": report["rings"]["recall"], "ring precision": report["rings"]["precision"]})
    frame = pd.DataFrame(rows)
    worst = frame.groupby(["parameter", "value"], sort=False)[["account AP", "merchant AP", "ring recall",
                                                                 "ring precision"]].min()
    print(f"\nworst over seeds {args.seeds} at {args.orders:,} orders (each weight alone; defaults: "
          + ", ".join(f"{p}={defaults[p]}" for p in args.params) + ")")
    columns = list(worst.columns)
    print("| parameter | value | " + " | ".join(columns) + " |\n|---|---:|" + "---:|" * len(columns))
    for (param, value), figures in worst.iterrows():
        print(f"| {param} | {value} | " + " | ".join(f"{figures[c]:.3f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
