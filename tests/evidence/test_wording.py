"""The report's wording: every text in both languages, with the same fields, every ring kind named."""

import string

from antifraud.evidence.wording import (
    GLOSSARY,
    KIND_TEXTS,
    LANGUAGES,
    LIMITATIONS,
    TEXTS,
    counted,
    kind_meaning,
    kind_texts,
)
from antifraud.kinds import KIND_WORDS, KIND_WORDS_ZH, RING_KINDS


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_text_is_in_every_language_with_the_same_fields():
    for key, by_language in TEXTS.items():
        assert set(by_language) == set(LANGUAGES), key
        assert all(by_language[lang].strip() or key == "sentence_gap" for lang in LANGUAGES), key
        assert len({frozenset(_fields(by_language[lang])) for lang in LANGUAGES}) == 1, key


def test_every_ring_kind_has_a_title_and_meaning_in_every_language():
    assert set(KIND_TEXTS) == set(KIND_WORDS) == set(KIND_WORDS_ZH) == set(RING_KINDS)
    for kind, texts in KIND_TEXTS.items():
        for part in (texts.title, texts.caveat or dict.fromkeys(LANGUAGES, "-")):
            assert set(part) == set(LANGUAGES) and all(part.values()), kind
        assert all(kind_meaning(kind, lang) != kind for lang in LANGUAGES)
    assert len({texts.title["zh"] for texts in KIND_TEXTS.values()}) == len(KIND_TEXTS)
    assert KIND_TEXTS["account_farm"].caveat is not None  # accounts sharing an address may be one household
    assert kind_texts("no_such_kind").title == KIND_TEXTS["dense_block"].title


def test_glossary_and_limitations_in_every_language():
    for entry in GLOSSARY:
        assert set(entry) == set(LANGUAGES) and all(term and meaning for term, meaning in entry.values())
    for entry in LIMITATIONS:
        assert set(entry) == set(LANGUAGES) and all(entry.values())


def test_counts_take_the_singular_only_for_one():
    assert [counted("n_orders", n, "en") for n in (0, 1, 2, 1500)] == ["0 orders", "1 order", "2 orders",
                                                                       "1,500 orders"]
    assert counted("n_orders", 1, "zh") == "1 笔订单"
