import numpy as np
import pytest

from antifraud.learning.labels import LabelError, read_labels


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_accounts_and_merchants_and_aligns(tmp_path):
    black = write(tmp_path / "black.csv", "\ufeffaccount_id,label,group\nb1,1,case-7\nb2,1,case-7\n b3 ,0,\n")
    shops = write(tmp_path / "shops.csv", "seller_id,label\ns1,1\n")
    labels = read_labels([black, shops])
    assert labels.counts() == {"accounts": {"fraud": 2, "honest": 1}, "merchants": {"fraud": 1, "honest": 0},
                               "orders": {"fraud": 0, "honest": 0}}
    y, group, unmatched = labels.align("accounts", ["b3", "b9", "b1"])
    assert y.tolist() == [0, -1, 1] and group.tolist() == ["", "", "case-7"] and unmatched == 1
    assert [(s.kind, s.path) for s in labels.sources] == [("file", str(black)), ("file", str(shops))]
    assert labels.sources[0].counts == {"accounts": {"fraud": 2, "honest": 1}, "merchants": {"fraud": 0, "honest": 0},
                                        "orders": {"fraud": 0, "honest": 0}}


def test_one_file_may_name_every_kind(tmp_path):
    both = write(tmp_path / "both.csv", "account_id,seller_id,order_id,label\nb1,,,1\n,s1,,1\n,,o7,0\n")
    labels = read_labels([both])
    assert labels.align("merchants", ["s1"])[0].tolist() == [1]
    assert labels.align("accounts", ["b1", "s1"])[0].tolist() == [1, -1]
    assert labels.align("orders", ["o6", "o7"])[0].tolist() == [-1, 0]


@pytest.mark.parametrize(("text", "where"), [
    ("account_id,label\nb1,1\nb2,yes\n", "line 3, column label: 'yes'"),
    ("account_id,flag\nb1,1\n", "line 1: a label file needs a 'label' column"),
    ("account_id,seller_id,label\nb1,,1\n,,0\n", "line 3, column account_id / seller_id"),
])
def test_bad_files_name_line_and_column(tmp_path, text, where):
    with pytest.raises(LabelError, match=where):
        read_labels([write(tmp_path / "bad.csv", text)])


def test_conflicting_labels_name_both_lines(tmp_path):
    a = write(tmp_path / "a.csv", "account_id,label\nb1,1\nb2,1\n")
    b = write(tmp_path / "b.csv", "account_id,label\nb2,1\nb1,0\n")
    with pytest.raises(LabelError, match=r"b\.csv:3, column label: account_id 'b1' is given label '0' here and '1' at .*a\.csv:2"):
        read_labels([a, b])
    # the same label twice is one label
    assert read_labels([a, a]).counts()["accounts"] == {"fraud": 2, "honest": 0}
    assert np.array_equal(read_labels([a, a]).align("accounts", ["b1"])[0], [1])
