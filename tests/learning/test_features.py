import re

import numpy as np
import pytest

from antifraud.learning.features import (
    ACCOUNT_COLUMNS,
    MERCHANT_COLUMNS,
    ORDER_COLUMNS,
    entity_features,
    feature_words,
    uninformed,
)


def test_frames_have_every_column_by_id(fitted):
    data, ensemble = fitted
    features = entity_features(data, ensemble)
    assert tuple(features.accounts.columns) == ACCOUNT_COLUMNS
    assert tuple(features.merchants.columns) == MERCHANT_COLUMNS
    assert features.accounts.index.tolist() == list(data.graph.row_labels)
    assert features.merchants.index.tolist() == list(data.graph.col_labels)
    # detectors that score accounts only leave their merchant column uninformed
    assert "det_lockstep" in uninformed(features.merchants)
    assert not {"shops_max_n_orders", "cobuyers_ensemble", "identity_behaviour"} & set(uninformed(features.accounts))


def test_orders_carry_their_buyer_and_shop_by_order_id(fitted):
    data, ensemble = fitted
    features = entity_features(data, ensemble, orders=True)
    orders = features.orders
    assert tuple(orders.columns) == ORDER_COLUMNS and len(orders) == data.table.num_rows
    rows = data.table.to_pandas().set_index("order_id")
    some = orders.index[::53]
    buyers, sellers = rows.loc[some, "buyer_id"], rows.loc[some, "seller_id"]
    assert np.array_equal(orders.loc[some, "buyer_n_orders"], features.accounts.loc[buyers, "n_orders"])
    assert np.array_equal(orders.loc[some, "shop_n_buyers"], features.merchants.loc[sellers, "n_buyers"])
    assert np.allclose(orders.loc[some, "rating"], rows.loc[some, "rating"], equal_nan=True)
    deviation = rows.loc[some, "rating"].to_numpy() - features.merchants.loc[sellers, "mean_rating"].to_numpy()
    assert np.allclose(orders.loc[some, "rating_deviation"], deviation, atol=1e-5, equal_nan=True)
    with pytest.raises(ValueError, match="orders=True"):
        entity_features(data, ensemble).frame("orders")


def test_neighbourhoods_against_the_orders(fitted):
    data, ensemble = fitted
    features = entity_features(data, ensemble)
    buyers = data.table.column("buyer_id").to_pylist()
    sellers = data.table.column("seller_id").to_pylist()
    shop_orders = features.merchants["n_orders"]
    score = features.accounts["ensemble"]
    for account in list(features.accounts.index[::97]):
        shops = {s for b, s in zip(buyers, sellers) if b == account}
        row = features.accounts.loc[account]
        assert row["shops_max_n_orders"] == max(shop_orders[s] for s in shops)
        # co-buyers: every other buyer's score at each of the account's orders' shops
        values, weights = [], []
        for b, s in zip(buyers, sellers):
            if b == account:
                others = [(o, n) for o, n in _buyers_of(s, buyers, sellers).items() if o != account]
                if others:
                    values.append(sum(score[o] * n for o, n in others) / sum(n for _, n in others))
                    weights.append(1)
        np.testing.assert_allclose(row["cobuyers_ensemble"], np.average(values, weights=weights) if values else np.nan,
                                   rtol=1e-5)


def _buyers_of(shop, buyers, sellers):
    out = {}
    for b, s in zip(buyers, sellers):
        if s == shop:
            out[b] = out.get(b, 0) + 1
    return out


def test_identity_neighbours_over_the_shared_values(fitted):
    data, ensemble = fitted
    features = entity_features(data, ensemble)
    groups = np.split(data.identity.members, data.identity.indptr[1:-1])
    score = features.accounts["ensemble"].to_numpy()
    links = {}
    for members in groups:
        for a in members:
            links.setdefault(a, []).extend(b for b in members if b != a)
    for a, others in list(links.items())[::7]:
        assert features.accounts["identity_n"].iloc[a] == len(others)
        np.testing.assert_allclose(features.accounts["identity_ensemble"].iloc[a], score[others].mean(), rtol=1e-5)
    lonely = np.setdiff1d(np.arange(len(score)), list(links))
    assert lonely.size and (features.accounts["identity_n"].iloc[lonely] == 0).all()
    assert features.accounts["identity_ensemble"].iloc[lonely].isna().all()


def test_every_learned_column_has_words_of_its_own():
    for columns in (ACCOUNT_COLUMNS, MERCHANT_COLUMNS, ORDER_COLUMNS):
        for lang in ("en", "zh"):
            assert len({feature_words(c, lang) for c in columns}) == len(columns)
        assert not any(re.search(r"[a-z]{3}", feature_words(c, "zh")) for c in columns if "det_" not in c)
    with pytest.raises(KeyError, match="not a column"):
        feature_words("shops_mean_is_fraud")
