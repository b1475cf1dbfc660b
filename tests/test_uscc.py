"""Tests for :mod:`antifraud.uscc` against /work/shared/spec/uscc.md (GB 32100-2015)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from antifraud import uscc
from antifraud.uscc import (
    ALPHABET,
    PILOT_EXCEPTIONS,
    STATUSES,
    WEIGHTS,
    UsccResult,
    check_character,
    is_valid,
    normalize,
    organisation_check_character,
    validate,
    validate_many,
)

FULL_WIDTH_HUAWEI = "９１４４０３００１９２２０３８２１６"

# The spec's test-vector table: code, expected status.
SPEC_VECTORS = [
    ("914403001922038216", "valid"),  # Huawei Technologies Co., Ltd.
    ("91440300708461136T", "valid"),  # Shenzhen Tencent Computer Systems Co., Ltd.
    ("91110000600037341L", "valid"),
    ("91350100M000100Y43", "valid"),  # the standard's worked example
    ("914403001922038217", "invalid"),  # check character
    ("91350100M000100Y4Z", "invalid"),  # Z outside the alphabet, and the check fails
    ("91350211M0000XUF46", "pilot_exception"),
    (FULL_WIDTH_HUAWEI, "valid"),  # full-width, valid after normalisation
]
VALID_VECTORS = [code for code, status in SPEC_VECTORS if status == "valid" and code.isascii()]

alphabet_chars = st.sampled_from(ALPHABET)
prefixes = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


# --- the spec's table -----------------------------------------------------------------------


@pytest.mark.parametrize(("code", "expected"), SPEC_VECTORS)
def test_spec_vectors(code: str, expected: str) -> None:
    result = validate(code)
    assert result.status == expected
    assert result.valid is (expected != "invalid")
    assert is_valid(code) is (expected != "invalid")
    assert result.pilot_exception is (expected == "pilot_exception")
    assert result.input == code
    assert (result.reasons == ()) is (expected != "invalid")


def test_spec_weights() -> None:
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)


@pytest.mark.parametrize("code", VALID_VECTORS)
def test_check_character_of_valid_vectors(code: str) -> None:
    assert check_character(code[:17]) == code[17]


def test_bad_check_character_says_expected_and_found() -> None:
    result = validate("914403001922038217")
    assert result.reasons == ("check character (position 18) is '7', expected '6'",)


def test_z_outside_alphabet_and_check_fails() -> None:
    result = validate("91350100M000100Y4Z")
    assert result.status == "invalid"
    assert len(result.reasons) == 2
    assert "'Z' at position 18" in result.reasons[0]
    assert "not used in credit codes" in result.reasons[0]
    assert result.reasons[1] == "check character (position 18) is 'Z', expected '3'"


# --- normalisation --------------------------------------------------------------------------


def test_full_width_input() -> None:
    assert normalize(FULL_WIDTH_HUAWEI) == "914403001922038216"
    result = validate(FULL_WIDTH_HUAWEI)
    assert result.code == "914403001922038216"
    assert result.input == FULL_WIDTH_HUAWEI
    # full-width letters, full-width hyphen and the ideographic space
    assert normalize("９１３５０１００－ｍ０００１００ｙ４３\u3000") == "91350100M000100Y43"
    assert validate("９１３５０１００－Ｍ０００１００Ｙ４３").status == "valid"


@pytest.mark.parametrize(
    "typed",
    [
        "9144-0300-1922-0382-16",
        "9144 0300 1922 0382 16",
        " 914403001922038216 ",
        "9144\u300003001922038216",  # ideographic space
        "9144\u00a00300\t1922\n038216",  # no-break space, tab, newline
        "9144\u20100300\u2013192203\u22128216",  # hyphen, en dash, minus sign
        "\ufeff914403001922038216\u200b",  # BOM and zero-width space
    ],
)
def test_hyphen_and_space_normalisation(typed: str) -> None:
    assert normalize(typed) == "914403001922038216"
    assert validate(typed).status == "valid"


def test_lower_case_accepted_after_normalisation() -> None:
    assert normalize("91350100m000100y43") == "91350100M000100Y43"
    assert validate("91350100m000100y43").status == "valid"
    assert validate("91440300708461136t").status == "valid"


def test_o_is_never_read_as_zero() -> None:
    code = "91350100MOOO100Y43"  # the worked example with letters O for digits 0
    assert normalize(code) == code
    result = validate(code)
    assert result.status == "invalid"
    assert result.code == code
    assert result.reasons == (
        "'O' at positions 10, 11 and 12: the letter O is not used in credit codes "
        "(was the digit 0 meant?)",
    )
    assert validate(code.replace("O", "0")).status == "valid"


def test_i_is_never_read_as_one() -> None:
    result = validate("91I50100M000100Y43")
    assert result.status == "invalid"
    assert result.reasons[0] == (
        "'I' at position 3: the letter I is not used in credit codes (was the digit 1 meant?)"
    )
    assert result.reasons[1] == "region code (positions 3-8) must be 6 digits, found 'I50100'"


@pytest.mark.parametrize("letter", list("SVZ"))
def test_excluded_letters_named(letter: str) -> None:
    result = validate("91350100M000100Y" + letter + "3")
    assert result.status == "invalid"
    assert result.reasons == (
        f"'{letter}' at position 17: the letter {letter} is not used in credit codes "
        "(the alphabet has no I, O, S, V or Z)",
    )


def test_other_characters_named_with_code_point() -> None:
    # Cyrillic А looks like Latin A, and NFKC does not change it
    result = validate("\u0410" + "1110000MA0000001K")
    assert result.status == "invalid"
    assert result.reasons == (
        "'А' (U+0410 CYRILLIC CAPITAL LETTER A) at position 1 is outside the credit-code "
        f"alphabet {ALPHABET}",
    )
    assert validate("A1110000MA0000001K").status == "valid"
    dotted = validate("91350100.000100Y43")
    assert dotted.reasons[0] == f"'.' at position 9 is outside the credit-code alphabet {ALPHABET}"


# --- structure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "length"),
    [("91350100M000100Y4", 17), ("91350100M000100Y433", 19), ("9", 1)],
)
def test_wrong_length(code: str, length: int) -> None:
    result = validate(code)
    assert result.status == "invalid"
    assert f"has {length} characters after normalisation, expected 18" in result.reasons


def test_length_counted_after_normalisation() -> None:
    result = validate("9135-0100-M000-100Y-4")
    assert result.reasons == ("has 17 characters after normalisation, expected 18",)


@pytest.mark.parametrize("code", ["", "   ", "-\u3000-"])
def test_empty(code: str) -> None:
    result = validate(code)
    assert result.status == "invalid"
    assert result.code == ""
    assert result.reasons == ("the code is empty",)


def test_region_code_must_be_digits() -> None:
    prefix = "91A50100M000100Y4"
    result = validate(prefix + check_character(prefix))
    assert result.status == "invalid"
    assert result.reasons == ("region code (positions 3-8) must be 6 digits, found 'A50100'",)


@pytest.mark.parametrize("first_two", ["N1", "Y1", "A1", "21", "8N", "1Y", "0A", "YY"])
def test_any_alphabet_character_accepted_at_positions_1_and_2(first_two: str) -> None:
    prefix = first_two + "110000" + "60003734"
    prefix += organisation_check_character(prefix[8:16])
    code = prefix + check_character(prefix)
    result = validate(code)
    assert result.status == "valid", result.reasons
    assert result.warnings == ()


def test_stdnum_rejects_letter_authorities_we_accept() -> None:
    for code in ("N1110000MA00000017", "Y1110000MA0000001Y", "A1110000MA0000001K"):
        assert validate(code).status == "valid"
        assert not stdnum_uscc.is_valid(code)


def test_result_is_frozen() -> None:
    result = validate("914403001922038216")
    assert isinstance(result, UsccResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "invalid"  # type: ignore[misc]


def test_validate_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        validate(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "91350100M000100Y", "91350100M000100Y43", "91350100MO00100Y4"])
def test_check_character_rejects_bad_prefixes(bad: str) -> None:
    with pytest.raises(ValueError):
        check_character(bad)


# --- pilot exceptions -----------------------------------------------------------------------


def test_pilot_exception_list_is_the_spec_list() -> None:
    assert PILOT_EXCEPTIONS == frozenset(
        {"91350211M0000XUF46", "91350100M0001TGQXM", "91350203M0001FUE2P"}
    )


@pytest.mark.parametrize("code", sorted(PILOT_EXCEPTIONS))
def test_pilot_exceptions_flagged(code: str) -> None:
    # the check itself is not loosened: these codes really fail it
    assert check_character(code[:17]) != code[17]
    assert not stdnum_uscc.is_valid(code)
    result = validate(code)
    assert result.status == "pilot_exception"
    assert result.valid and result.pilot_exception and is_valid(code)
    assert result.reasons == ()
    assert any("pilot-area" in w and "check character (position 18)" in w for w in result.warnings)
    # normalised forms match too
    assert validate(code.lower()).status == "pilot_exception"
    assert validate(code[:8] + "-" + code[8:]).status == "pilot_exception"


@pytest.mark.parametrize("code", sorted(PILOT_EXCEPTIONS))
def test_pilot_exception_is_exact(code: str) -> None:
    for i in range(18):
        for ch in "0A":
            if ch == code[i]:
                continue
            variant = code[:i] + ch + code[i + 1 :]
            result = validate(variant)
            assert not result.pilot_exception
            assert result.status != "pilot_exception"
            # a variant may pass the check by chance, but never through the exception list
            if check_character(variant[:17]) != variant[17]:
                assert result.status == "invalid"


# --- organisation code (position 17) ----------------------------------------------------------


@pytest.mark.parametrize("code", VALID_VECTORS + sorted(PILOT_EXCEPTIONS))
def test_organisation_check_on_known_good_codes(code: str) -> None:
    assert organisation_check_character(code[8:16]) == code[16]
    assert validate(code).warnings == () or validate(code).pilot_exception


def test_organisation_check_by_hand() -> None:
    # weights 3 7 9 10 5 8 4 2; M=22, Y=34: 66 + 5 + 68 = 139 = 12*11 + 7 -> 11 - 7 = 4
    assert organisation_check_character("M000100Y") == "4"
    # sum 0 -> 11 - 0 = 11, written 0
    assert organisation_check_character("00000000") == "0"
    # sum 12 = 11 + 1 -> 11 - 1 = 10, written X
    assert organisation_check_character("00000006") == "X"
    # letters use the full Latin alphabet: Z = 35 -> 70 = 6*11 + 4 -> 7
    assert organisation_check_character("0000000Z") == "7"
    with pytest.raises(ValueError):
        organisation_check_character("m000100y")


def test_organisation_mismatch_is_a_warning_only() -> None:
    code = "91350100M000100Y56"  # position 17 should be 4; position 18 recomputed
    assert check_character(code[:17]) == code[17]
    result = validate(code)
    assert result.status == "valid"
    assert result.valid and is_valid(code)
    assert result.reasons == ()
    assert result.warnings == (
        "organisation code check character (position 17, GB 11714) is '5', expected '4'",
    )


def test_organisation_mismatch_reported_on_invalid_codes_too() -> None:
    result = validate("91440300192203820X")
    assert result.status == "invalid"
    assert result.reasons == ("check character (position 18) is 'X', expected '3'",)
    assert result.warnings == (
        "organisation code check character (position 17, GB 11714) is '0', expected '1'",
    )


# --- properties -----------------------------------------------------------------------------


@given(prefixes)
@settings(max_examples=200)
def test_appended_check_character_passes_and_single_changes_fail(prefix: str) -> None:
    code = prefix + check_character(prefix)
    assert code[17] in ALPHABET
    assert check_character(code[:17]) == code[17]
    if code[2:8].isdigit():
        assert validate(code).valid
    for i in range(18):
        for ch in ALPHABET:
            if ch == code[i]:
                continue
            changed = code[:i] + ch + code[i + 1 :]
            assert check_character(changed[:17]) != changed[17]
            result = validate(changed)
            expected = "pilot_exception" if changed in PILOT_EXCEPTIONS else "invalid"
            assert result.status == expected


@given(prefixes, st.integers(min_value=0, max_value=15))
def test_adjacent_transpositions_fail(prefix: str, i: int) -> None:
    code = prefix + check_character(prefix)
    if code[i] == code[i + 1]:
        return
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert check_character(swapped[:17]) != swapped[17]


@given(st.text(alphabet=ALPHABET + "IOSVZ-  ab", max_size=25))
def test_validate_is_total_and_consistent(code: str) -> None:
    result = validate(code)
    assert result.code == normalize(code)
    assert result.valid is (result.status != "invalid")
    assert result.valid is (result.reasons == ())
    assert result.status in {"valid", "pilot_exception", "invalid"}


# --- cross-check with python-stdnum ---------------------------------------------------------

# stdnum wants digits at positions 1-8, so cross-check on codes that start with 1-9.
stdnum_codes = st.builds(
    lambda first, region_kind, rest, last, use_check: (
        (p := first + region_kind + rest) + (check_character(p) if use_check else last)
    ),
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
    alphabet_chars,
    st.booleans(),
)


@given(stdnum_codes)
@settings(max_examples=300)
def test_agrees_with_stdnum(code: str) -> None:
    assert stdnum_uscc.calc_check_digit(code[:17]) == check_character(code[:17])
    assert stdnum_uscc.is_valid(code) == (validate(code).status == "valid")


@pytest.mark.parametrize(("code", "expected"), [(c, s) for c, s in SPEC_VECTORS if c.isascii()])
def test_spec_vectors_agree_with_stdnum(code: str, expected: str) -> None:
    assert stdnum_uscc.is_valid(code) is (expected == "valid")


# --- validate_many --------------------------------------------------------------------------


def test_validate_many_columns_and_statuses() -> None:
    codes = [
        "914403001922038216",
        None,
        "914403001922038217",
        FULL_WIDTH_HUAWEI,
        "",
        "91350211M0000XUF46",
        "91350100MOOO100Y4Z",
        "91350100M000100Y56",
    ]
    df = validate_many(codes)
    assert list(df.columns) == ["input", "code", "status", "reasons", "warnings"]
    assert list(df.index) == list(range(len(codes)))
    assert list(df["status"]) == [
        "valid",
        "missing",
        "invalid",
        "valid",
        "missing",
        "pilot_exception",
        "invalid",
        "valid",
    ]
    assert list(df["status"].cat.categories) == list(STATUSES)
    assert df.loc[3, "input"] == FULL_WIDTH_HUAWEI
    assert df.loc[3, "code"] == "914403001922038216"
    assert df.loc[0, "reasons"] == "" and df.loc[0, "warnings"] == ""
    assert df.loc[2, "reasons"] == "check character (position 18) is '7', expected '6'"
    assert df.loc[6, "reasons"] == "; ".join(validate(codes[6]).reasons)
    assert df.loc[6, "reasons"].count("; ") == len(validate(codes[6]).reasons) - 1 == 1
    assert "pilot-area" in df.loc[5, "warnings"]
    assert "position 17" in df.loc[7, "warnings"]
    assert pd.isna(df.loc[1, "code"]) and pd.isna(df.loc[4, "code"])


def test_validate_many_missing_values() -> None:
    df = validate_many(pd.Series([None, np.nan, pd.NA, "", " \u3000 "], dtype=object))
    assert (df["status"] == "missing").all()
    assert (df["reasons"] == "").all()


def test_validate_many_works_once_per_distinct_value(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = uscc.validate

    def counting(code: str) -> UsccResult:
        calls.append(code)
        return real(code)

    monkeypatch.setattr(uscc, "validate", counting)
    sellers = ["914403001922038216", "914403001922038217", "91440300708461136T", None]
    series = pd.Series(sellers * 25_000, index=np.arange(100_000) * 2)
    df = validate_many(series)
    assert len(calls) == len(set(calls)) and set(calls) <= {s for s in sellers if s is not None}
    assert len(df) == 100_000
    assert df.index.equals(series.index)
    assert list(df["status"][:4]) == ["valid", "invalid", "valid", "missing"]
    assert all(isinstance(df[c].dtype, pd.CategoricalDtype) for c in df.columns[1:])


def test_validate_many_categorical_input_and_generators() -> None:
    series = pd.Series(["91350100M000100Y43", "bad", "91350100M000100Y43"], dtype="category")
    df = validate_many(series)
    assert list(df["status"]) == ["valid", "invalid", "valid"]
    generated = validate_many(code for code in ["91350100M000100Y43", None])
    assert list(generated["status"]) == ["valid", "missing"]
    assert validate_many([]).empty


def test_validate_many_numbers_from_spreadsheets() -> None:
    df = validate_many(pd.Series([914403001922038216, 9.14403001922038e17], dtype=object))
    assert list(df["status"]) == ["valid", "invalid"]
    assert "must be read as strings" in df.loc[1, "reasons"]


@given(st.text(max_size=25))
def test_messages_survive_joining(code: str) -> None:
    # validate_many joins with "; ", so no single message may contain it
    result = validate(code)
    assert all("; " not in message for message in result.reasons + result.warnings)


_ALPHA = st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=1, max_size=1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(_ALPHA, min_size=2, max_size=2), st.text("0123456789", min_size=6, max_size=6),
                          st.lists(_ALPHA, min_size=9, max_size=9),
                          st.sampled_from(["check", "other", "organisation", "region", "lower", "wide", "short"])),
                min_size=1, max_size=30))
def test_validate_many_agrees_with_validate_on_every_code(drawn) -> None:
    # Codes checked as one array (the clean ones: "organisation" makes them) must get exactly
    # what validate says, and so must every other kind of code.
    codes = []
    for head, region, tail, how in drawn:
        first17 = "".join(head) + (region if how != "region" else "A" + region[1:]) + "".join(tail)
        code = first17 + check_character(first17)
        if how == "other":
            code = code[:17] + ("0" if code[17] != "0" else "1")
        elif how == "organisation":
            first = code[:16] + organisation_check_character(code[8:16])
            code = first + check_character(first)
        elif how == "lower":
            code = code.lower()
        elif how == "wide":
            code = "".join(chr(ord(c) + 0xFEE0) for c in code)
        elif how == "short":
            code = code[:-1]
        codes.append(code)
    df = validate_many(codes)
    for code, (_, row) in zip(codes, df.iterrows()):
        want = validate(code)
        assert (row["code"], row["status"]) == (want.code, want.status)
        assert (row["reasons"], row["warnings"]) == ("; ".join(want.reasons), "; ".join(want.warnings))
