"""Everything the detectors look at, computed once from a canonical order table."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.features.kernels import group_by
from antifraud.features.tables import account_features, merchant_features
from antifraud.graphs import BipartiteGraph, IdentityGroups, identity_groups, order_graph
from antifraud.schema import PERSONAL

__all__ = ["DetectionData", "prepare"]


@dataclass
class DetectionData:
    """A canonical order table with its graphs and features.

    Attributes
    ----------
    table : pyarrow.Table
        Canonical orders.
    graph : BipartiteGraph
        Accounts x merchants; its row and column codes index everything below.
    accounts, merchants : pandas.DataFrame
        Feature tables (:mod:`antifraud.features.tables`).
    identity : IdentityGroups or None
        The accounts of every shared identity value, from which their links are built
        (:class:`~antifraud.graphs.shared.IdentityGroups`), when the table has personal columns.
    order_rows, order_cols : ndarray of int32
        Account and merchant code of every order.
    times : ndarray of int64
        Creation time of every order (epoch seconds).
    ratings : ndarray of float64 or None
        Rating of every order (NaN without review), when the table has ratings.
    """

    table: pa.Table
    graph: BipartiteGraph
    accounts: pd.DataFrame
    merchants: pd.DataFrame
    identity: IdentityGroups | None
    order_rows: np.ndarray
    order_cols: np.ndarray
    times: np.ndarray
    ratings: np.ndarray | None

    @functools.cached_property
    def _by_account(self) -> tuple[np.ndarray, np.ndarray]:
        return group_by(self.order_rows, self.graph.n_rows)

    def orders_of(self, accounts: np.ndarray, merchants: np.ndarray | None = None) -> np.ndarray:
        """Positions of the orders placed by ``accounts`` (at ``merchants``, if given), ascending."""
        indptr, order = self._by_account
        accounts = np.asarray(accounts, dtype=np.int64)
        if accounts.size == 0:
            return np.zeros(0, dtype=np.int64)
        starts, ends = indptr[accounts], indptr[accounts + 1]
        lengths = ends - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions = np.sort(order[np.arange(lengths.sum()) + offsets])
        if merchants is not None:
            positions = positions[np.isin(self.order_cols[positions], merchants)]
        return positions

    @functools.cached_property
    def order_ids(self) -> pa.Array:
        """The orders' ids in one chunk, ``row:N`` (N the source line) where the export has none."""
        if "order_id" in self.table.column_names:
            return self.table.column("order_id").combine_chunks()
        lines = self.table.column("source_line").combine_chunks()
        return pc.binary_join_element_wise("row:", pc.cast(lines, pa.string()), "")

    @property
    def first_order(self) -> np.ndarray:
        """Time of each account's first order (seconds)."""
        first = np.full(self.graph.n_rows, np.inf)
        np.minimum.at(first, self.order_rows, self.times.astype(np.float64))
        return first


def prepare(table: pa.Table) -> DetectionData:
    """Build the graphs and feature tables of ``table`` for the detectors."""
    graph = order_graph(table)
    # Merchant features need neither the identity groups nor the account features: build them
    # alongside (the kernels release the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        merchants = pool.submit(merchant_features, table, graph)
        identity = identity_groups(table)[0] if any(c in table.column_names for c in PERSONAL) else None
        accounts = account_features(table, graph, identity)
        merchants = merchants.result()
    ratings = None
    if "rating" in table.column_names:
        ratings = table.column("rating").cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    return DetectionData(
        table=table,
        graph=graph,
        accounts=accounts,
        merchants=merchants,
        identity=identity,
        order_rows=graph.order_rows,
        order_cols=graph.order_cols,
        times=table.column("created_at").cast(pa.int64()).to_numpy(zero_copy_only=False),
        ratings=ratings,
    )
