"""The findings in words: how a reason is phrased, from the one table of what each feature
means (:data:`~antifraud.features.tables.FEATURE_WORDS`, and for a learned model's columns
:func:`~antifraud.learning.features.feature_words`, built on it).

Every reason a finding gives, in ``rings.jsonl``, in the ``acr/1`` records, in the terminal
summary and in the regulator's report, is a :class:`Signal` built here, so a feature is described
the same way everywhere and in one place. Each kind of reason has one template per language
(:data:`PHRASES`); a signal carries its phrasing in every language of
:data:`~antifraud.languages.LANGUAGES` (``texts``), English being its ``text``.

Three kinds of reasons:

- :func:`feature_signals`: where an entity's feature (or a ring's median of its members')
  lies in the population, reported only when it is in the suspicious tail
  (:data:`SIGNAL_PERCENTILE` or beyond in the feature's suspicious direction);
- :func:`evidence_signals`: the detectors' own tests behind a ring (co-purchase lift,
  suspicious crowd), with their p-values;
- :func:`model_signals`: with a learned model, the features that raise a ring's members'
  probabilities most (:func:`~antifraud.learning.explain.explain_ring`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from antifraud.features.tables import FEATURE_WORDS, FEATURE_WORDS_ZH
from antifraud.kinds import KIND_WORDS
from antifraud.languages import LANGUAGES
from antifraud.learning.features import feature_words

if TYPE_CHECKING:
    from antifraud.learning.explain import Explanation

__all__ = ["MERCHANT_DIRECTION", "PHRASES", "SIGNAL_PERCENTILE", "Signal", "evidence_signals",
           "feature_signals", "main_reason", "model_signals"]

#: +1 where a merchant feature's high value is the suspicious one, -1 where a low one is (the
#: accounts' directions are the ensemble's :data:`~antifraud.detectors.ensemble.SUSPICIOUS_DIRECTION`).
MERCHANT_DIRECTION: dict[str, int] = {
    "fresh_buyer_share": +1,
    "top_buyer_share": +1,
    "burst_1h": +1,
    "five_star_share": +1,
}

#: A feature is a reason when it lies beyond this percentile in its suspicious direction.
SIGNAL_PERCENTILE = 90.0

#: At most this many feature reasons per finding, most extreme first.
MAX_FEATURE_SIGNALS = 4


#: How each kind of reason is phrased, one template per language; a field given per language
#: (a ``{language: text}`` mapping) is filled in with that language's text.
PHRASES: dict[str, dict[str, str]] = {
    "feature": {
        "en": "{feature}: {median}{value}, {side} than {strength}% of {noun}",
        "zh": "{feature}：{median}{value}，{side}{strength}%的{noun}",
    },
    "co_purchase_lift": {
        "en": "its shops share buyers {lift} times as often as their buyers' activity explains (p < 1e-{p})",
        "zh": "其店铺之间共有买家的频率是买家自身活跃度所能解释的 {lift} 倍（p < 1e-{p}）",
    },
    "suspicious_crowd": {
        "en": "{share} of its shop's buyers behave suspiciously, against {base} of all accounts (p < 1e-{p})",
        "zh": "其店铺有 {share} 的买家行为可疑，而全部账户中仅 {base}（p < 1e-{p}）",
    },
    "model": {
        "en": "learned model: {feature}: {median}{value} against {reference} (median of all {many}), raises "
              "{whose} probability of confirmed fraud by {contribution}, to {probability}",
        "zh": "学习模型：{feature}：{median}{value}，全部{many}的中位数为 {reference}；使{whose}被确认为欺诈的"
              "概率提高 {contribution}，达到 {probability}",
    },
}

#: Words that fill the templates, by language.
_SIDES = {+1: {"en": "higher", "zh": "高于"}, -1: {"en": "lower", "zh": "低于"}}
_MEDIAN = {"en": "median ", "zh": "中位数 "}
_UNKNOWN = {"en": "unknown", "zh": "未知"}
_FEATURES = {"en": FEATURE_WORDS, "zh": FEATURE_WORDS_ZH}
#: What one and many entities of each population are called.
_NOUNS: dict[str, dict[str, tuple[str, str]]] = {
    "accounts": {"en": ("account", "accounts"), "zh": ("账户", "账户")},
    "shops": {"en": ("shop", "shops"), "zh": ("店铺", "店铺")},
}
_NOUNS["merchants"] = _NOUNS["shops"]  # a learned model's name for the shops' kind


def _phrase(kind: str, **fields: str | Mapping[str, str]) -> dict[str, str]:
    """A reason of ``kind`` in every language, its fields filled in (a mapping: per language)."""
    return {lang: PHRASES[kind][lang].format(**{k: v[lang] if isinstance(v, Mapping) else v
                                                 for k, v in fields.items()})
            for lang in LANGUAGES}


@dataclass(frozen=True)
class Signal:
    """One reason for a finding: a named value, its population percentile if it has one, in words
    (``texts``: by language, every one of :data:`~antifraud.languages.LANGUAGES`)."""

    name: str
    value: float | str
    percentile: float | None
    texts: Mapping[str, str]

    @property
    def text(self) -> str:
        """The reason in English."""
        return self.texts["en"]

    def to_json(self) -> dict:
        """The signal as in ``rings.jsonl``: ``signal``, ``value``, ``percentile``, ``text`` (English)
        and ``texts`` (by language)."""
        return {"signal": self.name, "value": self.value, "percentile": self.percentile, "text": self.text,
                "texts": dict(self.texts)}


def _percentiles(population: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Percentile (0-100) of each of ``values`` among the finite ``population``, ties counted
    half (a value everybody shares is at the 50th); NaN where a value is not finite."""
    population = np.sort(population[np.isfinite(population)])
    below = np.searchsorted(population, values, side="left")
    equal = np.searchsorted(population, values, side="right") - below
    with np.errstate(invalid="ignore"):
        pct = 100.0 * (below + 0.5 * equal) / max(population.size, 1)
    return np.where(np.isfinite(values) & (population.size > 0), pct, np.nan)


def feature_signals(table: pd.DataFrame, groups: Sequence[np.ndarray], directions: Mapping[str, int],
                    noun: str) -> list[list[Signal]]:
    """For each group of rows of ``table``, the features in which it stands out, in words.

    A group's value is its members' median (a group of one: the member's own value), placed in
    the population of ``table``'s finite values. A feature is a reason when that value lies at
    :data:`SIGNAL_PERCENTILE` or beyond in the feature's suspicious direction; at most
    :data:`MAX_FEATURE_SIGNALS` reasons, most extreme first.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per entity, one column per feature.
    groups : sequence of ndarray of int
        Row positions of each group (a ring's accounts; ``[i]`` for entity ``i`` alone).
    directions : mapping
        The features to consider: +1 where high is suspicious, -1 where low is.
    noun : {"accounts", "shops"}
        What the population is.

    Examples
    --------
    >>> table = pd.DataFrame({"burst_1h": np.arange(100.0)})
    >>> [s.text for s in feature_signals(table, [np.array([99]), np.array([50])], {"burst_1h": 1}, "accounts")[0]]
    ['most orders in any one hour: 99, higher than 100% of accounts']
    >>> feature_signals(table, [np.array([50])], {"burst_1h": 1}, "accounts")
    [[]]
    """
    columns = [c for c in directions if c in table.columns]
    values = np.full((len(groups), len(columns)), np.nan)
    pcts = np.full_like(values, np.nan)
    singles = np.asarray([g[0] for g in groups], dtype=np.int64) if all(len(g) == 1 for g in groups) else None
    for k, column in enumerate(columns):
        population = table[column].to_numpy(dtype=np.float64)
        if singles is not None:
            values[:, k] = population[singles]
        else:
            for n, group in enumerate(groups):
                mine = population[np.asarray(group, dtype=np.int64)]
                mine = mine[np.isfinite(mine)]
                values[n, k] = np.median(mine) if mine.size else np.nan
        pcts[:, k] = _percentiles(population, values[:, k])
    signs = np.array([directions[c] for c in columns])
    strength = np.where(signs > 0, pcts, 100.0 - pcts)  # how far into the suspicious tail
    strength = np.where(np.isnan(strength), -1.0, strength)
    order = np.argsort(-strength, axis=1, kind="stable")[:, :MAX_FEATURE_SIGNALS]
    out = []
    for n, picks in enumerate(order.tolist()):
        signals = []
        for k in picks:
            if strength[n, k] < SIGNAL_PERCENTILE:
                break
            value = float(values[n, k])
            feature = columns[k]
            signals.append(Signal(feature, round(value, 4), round(float(pcts[n, k]), 1), _phrase(
                "feature", feature={lang: _FEATURES[lang][feature] for lang in LANGUAGES},
                median=_MEDIAN if len(groups[n]) > 1 else "", value=f"{value:.3g}", side=_SIDES[int(signs[k])],
                strength=f"{strength[n, k]:.0f}", noun={lang: _NOUNS[noun][lang][1] for lang in LANGUAGES})))
        out.append(signals)
    return out


def evidence_signals(evidence: Mapping[str, float]) -> list[Signal]:
    """The detectors' own tests behind a ring, in words (a percentile does not apply).

    Examples
    --------
    >>> (lift,) = evidence_signals({"co_purchase_lift": 42.0, "co_purchase_log10_p": 12.3})
    >>> print(lift.text)
    its shops share buyers 42 times as often as their buyers' activity explains (p < 1e-12)
    >>> print(lift.texts["zh"])
    其店铺之间共有买家的频率是买家自身活跃度所能解释的 42 倍（p < 1e-12）
    """
    out = []
    lift, p_co = evidence.get("co_purchase_lift", 0.0), evidence.get("co_purchase_log10_p", 0.0)
    if lift > 0:
        out.append(Signal("co_purchase_lift", round(lift, 1), None,
                          _phrase("co_purchase_lift", lift=f"{lift:,.0f}", p=str(int(p_co)))))
    p_crowd = evidence.get("crowd_log10_p", 0.0)
    if p_crowd > 0:
        share, base = evidence.get("crowd_share", 0.0), evidence.get("crowd_base_rate", 0.0)
        out.append(Signal("suspicious_crowd", round(share, 4), None,
                          _phrase("suspicious_crowd", share=f"{share:.0%}", base=f"{base:.0%}", p=str(int(p_crowd)))))
    return out


def model_signals(explanations: Sequence[Explanation]) -> list[Signal]:
    """A learned model's contributions to a ring's members' probabilities, in words: one signal
    per contribution, named ``model:<kind>:<feature>``, its value the contribution.

    Examples
    --------
    >>> from antifraud.learning.explain import Contribution, Explanation
    >>> explained = Explanation("accounts", 12, 0.41, (Contribution("identity_n", 0.18, 4.0, 0.0),))
    >>> print(model_signals([explained])[0].text)  # doctest: +NORMALIZE_WHITESPACE
    learned model: links to other accounts through shared devices, IPs, phones or addresses: median 4
    against 0 (median of all accounts), raises its 12 accounts' mean probability of confirmed fraud by
    0.18, to 0.41
    """
    out = []
    for explained in explanations:
        nouns = _NOUNS[explained.kind]
        if explained.members == 1:
            whose = {"en": f"its {nouns['en'][0]}'s", "zh": f"该{nouns['zh'][0]}"}
        else:
            whose = {"en": f"its {explained.members} {nouns['en'][1]}' mean",
                     "zh": f"其 {explained.members} 个{nouns['zh'][1]}的平均"}
        median = "" if explained.members == 1 else _MEDIAN
        for c in explained.contributions:
            value = _UNKNOWN if np.isnan(c.value) else f"{c.value:.3g}"
            out.append(Signal(f"model:{explained.kind}:{c.feature}", round(c.contribution, 4), None, _phrase(
                "model", feature={lang: feature_words(c.feature, lang) for lang in LANGUAGES}, median=median,
                value=value, reference=f"{c.reference:.3g}", many={lang: nouns[lang][1] for lang in LANGUAGES},
                whose=whose, contribution=f"{c.contribution:.2f}", probability=f"{explained.probability:.2f}")))
    return out


class _Ring(Protocol):
    ring_id: str
    kind: str


def main_reason(ring: _Ring | None, signals: Sequence[Signal]) -> str:
    """The one-line reason an entity is flagged: its ring (id and kind in words) and the ring's
    first reason, or without a ring its own first reason.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> lift = evidence_signals({"co_purchase_lift": 42.0, "co_purchase_log10_p": 12.3})
    >>> print(main_reason(SimpleNamespace(ring_id="R0001", kind="dense_block"), lift))
    ring R0001 (paid buyers ordering from the same shops in the same windows): its shops share buyers 42 times as \
often as their buyers' activity explains (p < 1e-12)
    >>> main_reason(None, [])
    'its score reaches the threshold, though no one feature stands out'
    """
    first = signals[0].text if signals else None
    if ring is None:
        return first or "its score reaches the threshold, though no one feature stands out"
    about = f"ring {ring.ring_id} ({KIND_WORDS[ring.kind]})"
    return f"{about}: {first}" if first else about
