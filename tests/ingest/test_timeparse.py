import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.ingest.timeparse import parse_common_times

EPOCH = dt.datetime(1970, 1, 1)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 12, 31)),
       st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]))
def test_matches_datetime(moment, fmt):
    moment = moment.replace(microsecond=0)
    if fmt == "%Y-%m-%d":
        moment = moment.replace(hour=0, minute=0, second=0)
    secs, ok = parse_common_times(pa.array([moment.strftime(fmt)]))
    assert ok[0] and secs[0] == int((moment - EPOCH).total_seconds())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789-/: T", min_size=8, max_size=20))
def test_never_accepts_what_strptime_rejects_or_rolls_over(text):
    secs, ok = parse_common_times(pa.array([text]))
    if ok[0]:
        parsed = dt.datetime.strptime(text.replace("/", "-").replace("T", " "),
                                      "%Y-%m-%d %H:%M:%S" if len(text) == 19 else "%Y-%m-%d")
        assert secs[0] == int((parsed - EPOCH).total_seconds())


def test_impossible_and_odd_values():
    values = ["2024-02-29 00:00:00", "2023-02-29 00:00:00", "2024-04-31", "2024-13-01", "2024-01-01 24:00:00",
              "2024-01-01 10:00", " 2024-01-01", "2024-01-01 10:00:00+08:00", None]
    _, ok = parse_common_times(pa.array(values))
    assert ok.tolist() == [True] + [False] * 8


def test_sliced_arrays_use_their_offset():
    arr = pa.array(["x", "2024-01-01 00:00:00", "2024-01-02 00:00:00"]).slice(1)
    secs, ok = parse_common_times(arr)
    assert ok.all() and secs[1] - secs[0] == 86400
