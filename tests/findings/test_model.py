import numpy as np

from antifraud.kinds import RING_KINDS


def test_rings_are_numbered_best_first_with_the_ensembles_members(run):
    data, ensemble, findings, _ = run
    assert [r.ring_id for r in findings.rings] == [f"R{k:04d}" for k in range(1, len(ensemble.rings_) + 1)]
    assert [r.score for r in findings.rings] == sorted((r.score for r in findings.rings), reverse=True)
    for ring, found in zip(findings.rings, ensemble.rings_):
        assert ring.accounts is found.accounts and ring.detectors == tuple(found.detectors)


def test_an_attack_is_counted_at_its_victims_and_a_brushing_ring_at_its_merchants(run):
    data, _, findings, truth = run
    attacks = [r for r in findings.rings if r.kind == "negative_attack"]
    attackers = {a for r in truth if r["kind"] == "negative_attack" for a in r["accounts"]}
    planted = {v for r in truth if r["kind"] == "negative_attack" for v in r["victims"]}
    found = [r for r in attacks if attackers & set(data.graph.row_labels[r.accounts])]
    assert found and all(set(findings.seller_ids[r.targets]) <= planted for r in found)
    for ring in findings.rings:
        attack = ring.kind == "negative_attack"
        assert ring.target_role == ("victim" if attack else "beneficiary")
        assert ring.category == RING_KINDS[ring.kind]
        # Its orders are exactly its accounts' orders at its targets.
        assert np.array_equal(ring.orders, data.orders_of(ring.accounts, ring.targets))
        assert ring.edges[:, 2].sum() == ring.orders.size
        assert set(ring.edges[:, 0]) <= set(ring.accounts.tolist())


def test_flagged_entities_are_the_ensembles_labels(run):
    _, ensemble, findings, _ = run
    assert [m.merchant for m in findings.merchants] == np.flatnonzero(ensemble.merchant_labels_).tolist()
    in_rings = np.unique(np.concatenate([r.accounts for r in findings.rings]))
    flagged = np.flatnonzero(ensemble.account_labels_)
    assert [a.account for a in findings.accounts] == flagged[np.isin(flagged, in_rings)].tolist()
    for account in findings.accounts:
        assert account.account in account.ring.accounts
        assert all(account.ring.score >= r.score for r in findings.rings if account.account in r.accounts)


def test_promoted_shop_rings_lead_with_their_tests_in_words(run):
    _, _, findings, _ = run
    promoted = [r for r in findings.rings if "promoted_shops" in r.detectors]
    assert promoted
    for ring in promoted:
        first = ring.signals[0]
        assert first.name in ("co_purchase_lift", "suspicious_crowd")
        assert first.percentile is None and "p < 1e-" in first.text


def test_ring_signals_are_only_features_in_the_suspicious_tail(run):
    _, _, findings, _ = run
    features = [s for r in findings.rings for s in r.signals if s.percentile is not None]
    assert features
    assert all(s.percentile >= 90 or s.percentile <= 10 for s in features)
