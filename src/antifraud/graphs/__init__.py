"""Canonical tables -> graphs in CSR arrays: accounts x merchants, and accounts linked by
shared identity attributes."""

from antifraud.graphs.bipartite import (
    BipartiteGraph,
    build_bipartite,
    order_graph,
    time_expanded,
)
from antifraud.graphs.co_purchase import SharedBuyers, shared_buyers
from antifraud.graphs.codes import Codes, encode
from antifraud.graphs.communities import louvain_labels
from antifraud.graphs.shared import IdentityGroups, identity_groups, identity_links, shared_groups, shared_links

__all__ = [
    "BipartiteGraph",
    "Codes",
    "IdentityGroups",
    "SharedBuyers",
    "build_bipartite",
    "encode",
    "identity_groups",
    "identity_links",
    "louvain_labels",
    "order_graph",
    "shared_buyers",
    "shared_groups",
    "shared_links",
    "time_expanded",
]
