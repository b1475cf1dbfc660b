import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.ingest.convert import (
    parse_utc_offset,
    to_dictionary,
    to_number,
    to_rating,
    to_status,
    to_timestamp,
)

CN = 8 * 3600


def reasons(issues):
    out = {}
    for i in issues:
        if i.mask.any():
            out[i.reason] = sorted(out.get(i.reason, []) + i.mask.nonzero()[0].tolist())
    return out


@pytest.mark.parametrize(
    "text",
    [
        "2024-11-11 20:00:00",
        "2024/11/11 20:00:00",
        "2024-11-11T20:00:00",
        "2024-11-11 20:00",
        "2024年11月11日 20:00:00",
        "２０２４-１１-１１ ２０:００:００",
        "2024-11-11T12:00:00+00:00",
        "2024-11-11T20:00:00+08:00",
    ],
)
def test_timestamp_formats_agree(text):
    out, issues = to_timestamp(pa.array([text]), CN)
    assert out.to_pylist()[0].isoformat() == "2024-11-11T12:00:00+00:00"
    assert not reasons(issues)


def test_timestamp_problems():
    text = ["2024-02-30 10:00:00", "1970-01-01", None, "", "2024-01-01", "2023-02-29", "2024-02-29 23:00:00"]
    out, issues = to_timestamp(pa.array(text), CN)
    assert reasons(issues) == {"bad_timestamp": [0, 1, 5]}
    assert out.is_null().to_pylist() == [True, True, True, True, False, True, False]


def test_numbers():
    out, issues = to_number(pa.array(["¥1,234.50", "12", "-3", "abc", "nan", None, "１２．５"]), "amount")
    assert out.to_pylist()[:2] == [1234.5, 12.0] and out.to_pylist()[6] == 12.5
    assert reasons(issues) == {"bad_amount": [3], "amount_out_of_range": [4], "negative_amount": [2]}


@pytest.mark.parametrize(
    ("text", "value"),
    [("1234.50", 1234.5), ("1,234.50", 1234.5), ("1,234,567", 1234567.0), ("¥1,234.50", 1234.5),
     ("￥ 88", 88.0), ("12.5元", 12.5), ("0.5", 0.5), (".5", 0.5), ("1.234", 1.234), ("1e3", 1000.0),
     ("999999999", 999999999.0)],
)
def test_amounts_accepted(text, value):
    out, issues = to_number(pa.array([text, "1"]), "amount")  # "1": the plain path is not the only one tried
    assert out.to_pylist()[0] == value and not reasons(issues)
    out, issues = to_number(pa.array([text]), "amount")
    assert out.to_pylist() == [value] and not reasons(issues)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("1.234,50", "ambiguous_amount"), ("12,5", "ambiguous_amount"), ("1,23,456", "ambiguous_amount"),
     ("1.234.567", "ambiguous_amount"), ("12,50元", "ambiguous_amount"), ("1e308", "amount_out_of_range"),
     ("1e400", "amount_out_of_range"), ("inf", "amount_out_of_range"), ("1000000001", "amount_out_of_range"),
     ("12 yuan", "bad_amount"), ("¥", "bad_amount"), ("1,,234", "ambiguous_amount"), ("--5", "bad_amount")],
)
def test_amounts_quarantined(text, reason):
    for values in ([text], [text, "1"]):
        out, issues = to_number(pa.array(values), "amount")
        assert out.to_pylist()[0] is None and reasons(issues) == {reason: [0]}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.from_regex(r"\A[¥￥]?[-+]?[0-9,.]{0,12}([eE][-+]?[0-9]{1,3})?元?\Z"),
                 st.sampled_from(["nan", "-Inf", "infinity", "１２．５", " 7 "]), st.text(max_size=8)))
def test_plain_and_general_parsers_agree(text):
    """One value is read alike whether its batch takes the one-cast path or the general one."""
    alone, alone_issues = to_number(pa.array([text]), "amount")
    mixed, mixed_issues = to_number(pa.array([text, "¥1,000"]), "amount")
    assert alone.to_pylist() == mixed.to_pylist()[:1]
    assert reasons(alone_issues) == reasons(mixed_issues)


def test_native_amounts_have_the_same_bounds():
    out, issues = to_number(pa.array([1e308, float("nan"), 12.5, -1.0, float("inf")]), "amount")
    assert out.to_pylist()[2] == 12.5
    assert reasons(issues) == {"amount_out_of_range": [0, 1, 4], "negative_amount": [3]}


def test_ratings():
    out, issues = to_rating(pa.array(["好评", "中评", "差评", "5星", "4.0", "0", "4.5", "bad", None]))
    assert out.to_pylist() == [5, 3, 1, 5, 4, None, None, None, None]
    assert reasons(issues) == {"rating_out_of_range": [5, 6], "bad_rating": [7]}


def test_dictionary_keeps_leading_zeros_and_merges_spellings():
    out = to_dictionary(pa.array(["007", " 007", "００７", "", None, "7"]))
    assert out.to_pylist() == ["007", "007", "007", None, None, "7"]
    assert len(out.dictionary) == 2


def test_chunked_dictionary_equals_the_whole_column():
    values = ["007", "b", " 007", None, "b", "００７", "", "c", "7"]
    whole = to_dictionary(pa.array(values))
    chunked = to_dictionary(pa.chunked_array([values[:2], [], values[2:5], values[5:]]))
    assert all(chunk.dictionary.equals(whole.dictionary) for chunk in chunked.chunks)
    assert pa.concat_arrays([c.indices for c in chunked.chunks]).equals(whole.indices)
    assert to_dictionary(pa.chunked_array([], pa.string())).num_chunks == 0


def test_status_words():
    assert to_status(pa.array(["交易成功", "交易关闭", "custom"])).to_pylist() == ["completed", "closed", "custom"]


def test_utc_offsets():
    assert parse_utc_offset("+0530") == 19800
    with pytest.raises(ValueError):
        parse_utc_offset("Mars/Olympus")


@pytest.mark.parametrize("encoded", [
    pa.array(["b", " a", "ａ", None]).dictionary_encode(),
    pa.chunked_array([["b", " a"], ["ａ", None]]).dictionary_encode(),  # one dictionary: kept
    pa.chunked_array([pa.array(values).dictionary_encode() for values in (["b", " a"], ["ａ", None])]),
])
def test_an_encoded_column_gives_what_its_values_give(encoded):
    assert to_dictionary(encoded).to_pylist() == ["b", "a", "a", None]
