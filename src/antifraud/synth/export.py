"""Generating a synthetic export in memory and writing it to disk."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import antifraud
from antifraud.io import write_csv, write_json, write_text
from antifraud.schema import COLUMN_BY_NAME
from antifraud.synth.background import honest_orders
from antifraud.synth.buyers import honest_accounts
from antifraud.kinds import RING_KINDS
from antifraud.synth.config import SynthConfig
from antifraud.synth.events import plan_events
from antifraud.synth.fulfilment import fulfil
from antifraud.synth.identity import AddressBook
from antifraud.synth.orders import Ids, order_identities, render_orders
from antifraud.synth.plan import Difficulty, OrderPlan
from antifraud.synth.reviews import review
from antifraud.synth.rings import plan_rings
from antifraud.synth.shops import SHOP_TRAPS, make_shops
from antifraud.synth.timeline import epoch_seconds
from antifraud.synth.trap_truth import World, trap_truth
from antifraud.synth.traps import TRAP_NAMES, intensity
from antifraud.synth.truth import build_truth

__all__ = ["SyntheticExport", "generate", "write_synthetic_export"]

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # rings.jsonl periods; CSV writes timestamp[s] this way


def _two_decimals(column: pa.ChunkedArray) -> pa.Array:
    """Numbers rounded to cents as ``decimal128(19, 2)``, which CSV renders as ``12.50``."""
    values = column.to_numpy(zero_copy_only=False).astype(np.float64)
    missing = np.isnan(values)
    cents = pa.array(np.rint(np.where(missing, 0.0, values) * 100).astype(np.int64), mask=missing)
    return cents.cast(pa.decimal128(19, 0)).view(pa.decimal128(19, 2))


def _export_table(orders: pd.DataFrame) -> pa.Table:
    """The order frame typed for export text: naive timestamps in whole seconds (written
    ``YYYY-MM-DD HH:MM:SS``), money and weights as two-decimal numbers."""
    table = pa.Table.from_pandas(orders, preserve_index=False)
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        kind = COLUMN_BY_NAME[name].kind if name in COLUMN_BY_NAME else None
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("s"))
        elif kind in ("amount", "weight"):
            column = _two_decimals(column)
        columns[name] = column
    return pa.table(columns)


@dataclass(frozen=True)
class SyntheticExport:
    """A synthetic order/review export with its ground truth, in memory.

    Attributes
    ----------
    config : SynthConfig
        The resolved configuration that produced it.
    orders : pandas.DataFrame
        The export: canonical columns of :mod:`antifraud.schema` in order, one row per order
        sorted by creation time. Ids and personal values are raw strings; times are naive local
        China time (``datetime64[s]``); money is ``float64`` yuan; ``rating`` is ``Int8``, missing
        where there is no review.
    accounts : pandas.DataFrame
        ``account_id, is_fraud, role, ring_ids`` for every buyer in ``orders``; role is
        ``honest`` or, by the kind of the account's first ring, ``paid_buyer``, ``hijacked``,
        ``farm``, ``operator`` or ``attacker`` (:data:`antifraud.synth.rings.ROLES`).
    merchants : pandas.DataFrame
        ``seller_id, is_fraud, role, ring_ids`` for every shop; role is ``honest``, ``brushing``
        or ``victim`` (target of a negative attack, not fraudulent).
    order_labels : pandas.DataFrame
        ``order_id, is_fraud, ring_id`` aligned with ``orders``. Camouflage orders (ring accounts
        buying at honest shops) carry their ring id with ``is_fraud`` 0.
    rings : pandas.DataFrame
        ``ring_id, kind, difficulty, accounts, merchants, victims, orders, start, end``: the
        kind from :data:`antifraud.kinds.RING_KINDS`, the difficulty ``easy``, ``medium`` or
        ``hard``, lists of ids, and the period of the ring's fraud orders.
    traps : pandas.DataFrame
        ``trap_id, trap, accounts, merchants, values, orders, start, end``: one row per instance
        of an honest trap (:data:`antifraud.synth.traps.TRAPS`) with the honest accounts showing
        it, their shops, the identity values they share, its number of orders and their period
        (see :mod:`antifraud.synth.trap_truth`).

    ``ring_ids`` are ``;``-joined ring ids, empty when none.

    Examples
    --------
    >>> export = generate(SynthConfig(n_orders=5_000, seed=1))
    >>> len(export.orders), sorted(export.rings["kind"].unique()) == sorted(RING_KINDS)
    (5000, True)
    """

    config: SynthConfig
    orders: pd.DataFrame
    accounts: pd.DataFrame
    merchants: pd.DataFrame
    order_labels: pd.DataFrame
    rings: pd.DataFrame
    traps: pd.DataFrame

    def counts(self) -> dict[str, Any]:
        """Sizes of the export and its truth, as written to ``truth/synth.json``.

        Examples
        --------
        >>> generate(SynthConfig(n_orders=5_000, seed=1)).counts()["orders"]
        5000
        """
        labels = self.order_labels
        return {
            "orders": len(self.orders),
            "fraud_orders": int(labels["is_fraud"].sum()),
            "camouflage_orders": int(((labels["ring_id"] != "") & (labels["is_fraud"] == 0)).sum()),
            "reviews": int(self.orders["rating"].notna().sum()),
            "accounts": len(self.accounts),
            "fraud_accounts": int(self.accounts["is_fraud"].sum()),
            "merchants": len(self.merchants),
            "fraud_merchants": int(self.merchants["is_fraud"].sum()),
            "victim_merchants": int((self.merchants["role"] == "victim").sum()),
            "rings": {kind: int((self.rings["kind"] == kind).sum()) for kind in RING_KINDS},
            "difficulties": {
                level.label: int((self.rings["difficulty"] == level.label).sum())
                for level in Difficulty
            },
            "traps": {name: int((self.traps["trap"] == name).sum()) for name in TRAP_NAMES},
        }

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write ``orders.csv`` and ``truth/`` into ``out_dir`` (created if needed); return it.

        ``orders.csv`` is UTF-8 with the canonical header, local times as
        ``YYYY-MM-DD HH:MM:SS``, money and weights with two decimals and empty cells where a
        value is missing. ``truth/`` holds ``accounts.csv``, ``merchants.csv``, ``orders.csv``,
        ``rings.jsonl`` (one ring per line, ``period`` as ``[start, end]``), ``traps.jsonl`` (one
        honest trap instance per line, likewise) and ``synth.json`` (configuration, seed,
        counts, toolkit version). Every file is written atomically.

        Examples
        --------
        >>> import tempfile
        >>> out = generate(SynthConfig(n_orders=5_000)).write(tempfile.mkdtemp())
        >>> sorted(p.name for p in (out / "truth").iterdir())
        ['accounts.csv', 'merchants.csv', 'orders.csv', 'rings.jsonl', 'synth.json', 'traps.jsonl']
        """
        out = Path(out_dir)
        truth = out / "truth"
        write_csv(_export_table(self.orders), out / "orders.csv")
        write_csv(self.accounts, truth / "accounts.csv")
        write_csv(self.merchants, truth / "merchants.csv")
        write_csv(self.order_labels, truth / "orders.csv")
        lines = []
        for ring in self.rings.itertuples(index=False):
            lines.append(
                json.dumps(
                    {
                        "ring_id": ring.ring_id,
                        "kind": ring.kind,
                        "difficulty": ring.difficulty,
                        "accounts": ring.accounts,
                        "merchants": ring.merchants,
                        "victims": ring.victims,
                        "orders": ring.orders,
                        "period": [
                            ring.start.strftime(_TIME_FORMAT),
                            ring.end.strftime(_TIME_FORMAT),
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        write_text(truth / "rings.jsonl", "".join(line + "\n" for line in lines))
        write_text(
            truth / "traps.jsonl",
            "".join(
                json.dumps(
                    {
                        "trap_id": trap.trap_id,
                        "trap": trap.trap,
                        "accounts": trap.accounts,
                        "merchants": trap.merchants,
                        "values": trap.values,
                        "orders": int(trap.orders),
                        "period": [trap.start.strftime(_TIME_FORMAT), trap.end.strftime(_TIME_FORMAT)],
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for trap in self.traps.itertuples(index=False)
            ),
        )
        write_json(
            truth / "synth.json",
            {
                "generator": "antifraud.synth",
                "version": antifraud.__version__,
                "seed": self.config.seed,
                "config": self.config.to_dict(),
                "counts": self.counts(),
            },
        )
        return out


def generate(config: SynthConfig | None = None) -> SyntheticExport:
    """Generate a synthetic export with planted brushing rings, in memory.

    Builds the shops and the honest buyer population, plans the rings of every kind, fills the
    rest of ``n_orders`` with honest background orders, then renders payment, logistics, reviews
    and identifiers. Everything is vectorised; the same configuration gives the same frames.

    Parameters
    ----------
    config : SynthConfig, optional
        What to generate; the defaults of :class:`SynthConfig` when omitted.

    Returns
    -------
    SyntheticExport

    Examples
    --------
    >>> export = generate(SynthConfig(n_orders=5_000, seed=7))
    >>> export.orders["order_id"].iloc[0], export.orders["created_at"].is_monotonic_increasing
    ('o000000000', True)
    >>> set(export.merchants["role"]) == {"honest", "brushing", "victim"}
    True
    """
    cfg = (config or SynthConfig()).resolved()
    rng = np.random.default_rng(cfg.seed)
    # A stream added for a new trait goes last, so that every other stream draws as it did.
    population, ring_rng, background_rng, fulfil_rng, review_rng, render_rng, event_rng, repeat_rng = rng.spawn(8)
    start, end = epoch_seconds(cfg.start), epoch_seconds(cfg.end)
    on_festival = cfg.festival_day is not None and "festival_rush" in cfg.traps
    festival = epoch_seconds(cfg.festival_day) if on_festival else None

    shops = make_shops(population, cfg.n_shops, cfg.n_orders)
    addresses = AddressBook()
    accounts = honest_accounts(
        population,
        cfg.n_buyers,
        start,
        addresses,
        household_share=intensity(cfg, "household"),
        buyers_per_nat_ip=cfg.buyers_per_nat_ip,
        fresh_share=intensity(cfg, "fresh_accounts"),
        loyal_share=intensity(cfg, "loyal_regulars"),
        shop_popularity=shops.popularity,
        office_share=intensity(cfg, "office_campus"),
        station_share=intensity(cfg, "parcel_station"),
        default_device_share=intensity(cfg, "default_device"),
        net_cafe_share=intensity(cfg, "net_cafe"),
        pasted_share=intensity(cfg, "pasted_review"),
    )
    ring_plan, rings = plan_rings(
        ring_rng,
        rings_per_kind=cfg.rings_per_kind if cfg.fraud_share > 0 else 0,
        medium_share=cfg.medium_share,
        hard_share=cfg.hard_share,
        camouflage_scale=cfg.camouflage_scale,
        fraud_orders=cfg.fraud_share * cfg.n_orders,
        accounts=accounts,
        n_honest_accounts=cfg.n_buyers,
        addresses=addresses,
        shops=shops,
        window=(start, end),
    )
    # honest traps go to shops no ring touches, so each instance is honest through and through
    honest_shops = np.setdiff1d(np.arange(len(shops)), ring_plan.shop[ring_plan.fraud])
    shops.add_traps(event_rng, honest_shops, {name: intensity(cfg, name) for name in SHOP_TRAPS})
    shops.add_repeat_purchase(repeat_rng, honest_shops, intensity(cfg, "repeat_purchase"))
    event_plan, events = plan_events(
        event_rng,
        accounts=accounts,
        n_honest_accounts=cfg.n_buyers,
        shops=shops,
        eligible=honest_shops,
        window=(start, end),
        drop_orders=intensity(cfg, "product_drop") * cfg.n_orders,
        incident_orders=intensity(cfg, "quality_incident") * cfg.n_orders,
    )
    if len(ring_plan) + len(event_plan) > cfg.n_orders // 2:
        raise ValueError(
            f"the rings and shop events need {len(ring_plan) + len(event_plan)} of {cfg.n_orders} "
            "orders; raise n_orders or lower fraud_share / rings_per_kind / drop_share / incident_share"
        )
    background, rushes = honest_orders(
        background_rng,
        cfg.n_orders - len(ring_plan) - len(event_plan),
        accounts,
        cfg.n_buyers,
        shops,
        (start, end),
        festival,
        cfg.festival_share,
        first_event=len(events),
        reorder_rng=repeat_rng,
    )
    plan = OrderPlan.concat([background, ring_plan, event_plan])
    plan = plan.take(np.argsort(plan.created, kind="stable"))

    done = fulfil(fulfil_rng, plan, shops, end, festival)
    reviews = review(
        review_rng,
        plan,
        done,
        shops,
        accounts.column("pasted_review"),
        end,
        cfg.review_share,
        default_texts="default_text" in cfg.traps,
    )
    ids = Ids.assign(render_rng, n_orders=len(plan), n_accounts=accounts.size, n_shops=len(shops))
    truth = build_truth(plan, rings, ids)
    identities = order_identities(
        render_rng,
        plan,
        accounts,
        mobile_share=intensity(cfg, "carrier_nat"),
        privacy_share=intensity(cfg, "privacy_number"),
        masked_share=intensity(cfg, "masked_phone"),
    )
    table = render_orders(
        plan,
        ids,
        accounts,
        accounts.registration(plan.buyer, plan.created),
        addresses,
        shops,
        shops.uscc(render_rng, cfg.invalid_uscc_share),
        done,
        reviews,
        identities,
    )
    world = World(plan, accounts, addresses, shops, events + rushes, done, reviews, identities, table, ids)
    traps = trap_truth(world, np.unique(plan.buyer[plan.fraud]))
    del plan, done, reviews, world  # the order table is the big object from here on
    return SyntheticExport(
        config=cfg,
        orders=table.to_pandas(types_mapper={pa.int8(): pd.Int8Dtype()}.get, self_destruct=True),
        accounts=truth.accounts,
        merchants=truth.merchants,
        order_labels=truth.orders,
        rings=truth.rings,
        traps=traps,
    )


def write_synthetic_export(
    out_dir: str | os.PathLike[str], seed: int = 0, n_orders: int = 100_000, **overrides: Any
) -> Path:
    """Generate a synthetic export and write it to ``out_dir``; return ``out_dir``.

    ``overrides`` are further :class:`SynthConfig` fields (``fraud_share=0.05``,
    ``festival_day="2024-11-11"``, ...).

    Examples
    --------
    >>> import tempfile
    >>> out = write_synthetic_export(tempfile.mkdtemp(), seed=3, n_orders=5_000, hard_share=1.0,
    ...                              medium_share=0.0)
    >>> import pandas as pd
    >>> pd.read_csv(out / "orders.csv", dtype=str)["seller_id"].str.len().unique().tolist()
    [6]
    """
    return generate(SynthConfig(n_orders=n_orders, seed=seed, **overrides)).write(out_dir)
