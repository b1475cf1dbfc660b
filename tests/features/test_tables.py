import pandas as pd
import pyarrow as pa

from antifraud.features import account_features, merchant_features
from antifraud.features.tables import ACCOUNT_FEATURE_COLUMNS, FEATURE_WORDS, FEATURE_WORDS_ZH, MERCHANT_FEATURE_COLUMNS
from antifraud.graphs import order_graph
from antifraud.ingest import PROFILES, ingest


def test_features_separate_the_fixture_ring(fixtures):
    result = ingest([fixtures / "taobao_gbk" / "orders.csv"], PROFILES["taobao"])
    graph = order_graph(result.table)
    accounts = account_features(result.table, graph)
    ring = accounts.index.str.startswith("shua_")
    assert (accounts.loc[ring, "n_shops"] == 2).all()
    assert (accounts.loc[ring, "identity_degree"] > accounts.loc[~ring, "identity_degree"].max()).all()
    assert (accounts.loc[ring, "five_star_share"] == 1).all()
    assert set(accounts.attrs["skipped"]) == {"age_first_order_d", "confirm_delay_h", "parcel_weight_kg"}
    merchants = merchant_features(result.table, graph)
    assert merchants.loc["00731", "burst_1h"] >= 5  # the ring's hour
    assert "fresh_buyer_share" in merchants.attrs["skipped"]


def test_fraud_accounts_differ_on_the_generic_fixture(fixtures):
    result = ingest([fixtures / "generic" / "orders.csv"], PROFILES["generic"])
    graph = order_graph(result.table)
    accounts = account_features(result.table, graph)
    assert len(accounts) == graph.n_rows and not accounts.attrs["skipped"]
    truth = pd.read_csv(fixtures / "generic" / "truth" / "accounts.csv", dtype={"account_id": str})
    med = accounts.join(truth.set_index("account_id")["is_fraud"]).groupby("is_fraud").median()
    assert med.loc[1, "review_delay_h"] < med.loc[0, "review_delay_h"] / 5
    assert med.loc[1, "age_first_order_d"] < med.loc[0, "age_first_order_d"]


def test_features_are_the_declared_ones_and_skipped_by_their_columns(fixtures):
    table = ingest([fixtures / "generic" / "orders.csv"], PROFILES["generic"]).table
    graph = order_graph(table)
    assert list(account_features(table, graph).columns) == list(ACCOUNT_FEATURE_COLUMNS)
    assert list(merchant_features(table, graph).columns) == list(MERCHANT_FEATURE_COLUMNS)
    assert set(FEATURE_WORDS) == set(ACCOUNT_FEATURE_COLUMNS) | set(MERCHANT_FEATURE_COLUMNS)  # each one worded
    assert set(FEATURE_WORDS_ZH) == set(FEATURE_WORDS)  # in both languages
    # The review delay reads the review and receipt (or payment) times, not the rating.
    table = table.drop_columns(["rating", "confirmed_at"])
    accounts = account_features(table, graph)
    assert accounts["review_delay_h"].notna().any()
    assert accounts.attrs["skipped"] == {"five_star_share": "needs rating", "rating_extremity": "needs rating",
                                         "confirm_delay_h": "needs confirmed_at"}
    assert set(merchant_features(table, graph).attrs["skipped"]) == {"mean_rating", "five_star_share", "one_star_share"}


def test_minimal_columns(tmp_path):
    (tmp_path / "o.csv").write_text("buyer_id,seller_id,created_at\nb1,s1,2024-01-01 10:00:00\nb1,s2,2024-01-01 10:30:00\n")
    result = ingest([tmp_path / "o.csv"], PROFILES["generic"])
    accounts = account_features(result.table, order_graph(result.table))
    assert accounts.loc["b1", "burst_1h"] == 2 and accounts.loc["b1", "gap_median_h"] == 0.5
    assert set(accounts.attrs["skipped"]) == {"age_first_order_d", "five_star_share", "rating_extremity",
                                              "review_delay_h", "identity_degree", "confirm_delay_h",
                                              "parcel_weight_kg"}
    assert isinstance(result.table, pa.Table)


def test_orders_of_accounts_and_merchants(fixtures):
    import numpy as np

    from antifraud.features.data import prepare

    data = prepare(ingest([fixtures / "generic" / "orders.csv"], PROFILES["generic"]).table)
    accounts, merchants = np.array([0, 5, 9]), np.array([1, 2, 3])
    expected = np.flatnonzero(np.isin(data.order_rows, accounts))
    assert data.orders_of(accounts).tolist() == expected.tolist()
    both = np.flatnonzero(np.isin(data.order_rows, accounts) & np.isin(data.order_cols, merchants))
    assert data.orders_of(accounts, merchants).tolist() == both.tolist()
    assert data.orders_of(np.array([], dtype=int)).size == 0
