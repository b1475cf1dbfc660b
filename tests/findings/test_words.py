import string

import numpy as np
import pandas as pd

from antifraud.features.tables import FEATURE_WORDS, FEATURE_WORDS_ZH
from antifraud.findings.words import MAX_FEATURE_SIGNALS, PHRASES, feature_signals
from antifraud.languages import LANGUAGES


def test_a_group_is_described_by_its_median_in_the_suspicious_direction():
    table = pd.DataFrame({
        "review_delay_h": np.r_[np.full(5, 0.1), np.linspace(10, 100, 95)],  # low is suspicious
        "burst_1h": np.r_[np.full(5, 1.0), np.linspace(1, 3, 95)],  # ordinary for the group
    })
    (signals,) = feature_signals(table, [np.arange(5)], {"review_delay_h": -1, "burst_1h": +1}, "accounts")
    assert [s.name for s in signals] == ["review_delay_h"]
    assert signals[0].value == 0.1 and signals[0].percentile == 2.5
    assert signals[0].text == f"{FEATURE_WORDS['review_delay_h']}: median 0.1, lower than 98% of accounts"
    assert signals[0].texts["zh"] == f"{FEATURE_WORDS_ZH['review_delay_h']}：中位数 0.1，低于98%的账户"
    assert signals[0].to_json()["texts"] == {"en": signals[0].text, "zh": signals[0].texts["zh"]}


def test_every_kind_of_reason_has_a_template_in_every_language_with_the_same_fields():
    for kind, templates in PHRASES.items():
        assert set(templates) == set(LANGUAGES), kind
        fields = [{f for _, f, _, _ in string.Formatter().parse(templates[lang]) if f} for lang in LANGUAGES]
        assert all(f == fields[0] for f in fields), kind


def test_at_most_the_most_extreme_features_and_nothing_where_unknown():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({c: rng.random(200) for c in FEATURE_WORDS})
    table.iloc[0] = 2.0  # the highest value of every feature
    table.loc[0, "top3_share"] = np.nan
    directions = dict.fromkeys(FEATURE_WORDS, +1)
    first, second = feature_signals(table, [[0], [1]], directions, "shops")
    assert len(first) == MAX_FEATURE_SIGNALS and "top3_share" not in {s.name for s in first}
    assert all(s.text.endswith("higher than 100% of shops") for s in first)
    assert all(s.percentile >= 90 for s in second)
