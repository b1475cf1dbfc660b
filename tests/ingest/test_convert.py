import pyarrow as pa
import pytest

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
    assert reasons(issues) == {"bad_amount": [3, 4], "negative_amount": [2]}


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
