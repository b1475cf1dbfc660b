import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.ingest.pseudonym import Pseudonymizer


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=20))
def test_fast_hmac_equals_reference(values):
    p = Pseudonymizer(b"0123456789abcdef-key")
    assert p.pseudonymize("device_id", values).to_pylist() == [p.reference("device_id", v) for v in values]


def test_long_key_hashed_like_hmac():
    p = Pseudonymizer(b"k" * 100)
    assert p.pseudonymize("buyer_ip", ["1.2.3.4"]).to_pylist() == [p.reference("buyer_ip", "1.2.3.4")]


def test_domain_separation_and_nulls():
    p = Pseudonymizer(b"k" * 32)
    phone = p.pseudonymize_array("ship_phone", pa.array(["13800138000", None, "  "]))
    device = p.pseudonymize_array("device_id", pa.array(["13800138000"]))
    assert phone.to_pylist()[1:] == [None, None]
    assert phone.to_pylist()[0] != device.to_pylist()[0]


def test_pseudonym_is_the_credit_record_hmac():
    """acr/1: HMAC-SHA256(key, kind + "|" + canonical value), hex."""
    import hashlib
    import hmac

    key = b"alliance-key-0123456789"
    expected = hmac.new(key, b"phone|13800138000", hashlib.sha256).hexdigest()
    p = Pseudonymizer(key)
    assert p.pseudonymize("ship_phone", ["13800138000"]).to_pylist() == [expected]
    assert p.pseudonymize_array("ship_phone", pa.array(["+86 138 0013 8000"])).to_pylist() == [expected]


def test_account_ids_keep_their_case():
    p = Pseudonymizer(b"k" * 32)
    out = p.pseudonymize_array("buyer_id", pa.array(["Ab12", "ab12", " Ab12 "])).to_pylist()
    assert out[0] == out[2] != out[1]


def test_chunked_column_pseudonymised_like_the_whole_column():
    p = Pseudonymizer(b"k" * 32)
    values = ["+86 138-0013-8000", None, "13900139000", "13800138000", " ", "１３８００１３８０００"]
    whole = p.pseudonymize_array("ship_phone", pa.array(values))
    chunked = p.pseudonymize_array("ship_phone", pa.chunked_array([values[:3], values[3:]]))
    assert chunked.to_pylist() == whole.to_pylist()
    assert all(chunk.dictionary.equals(whole.dictionary) for chunk in chunked.chunks)
    assert whole.dictionary.to_pylist() == [p.reference("ship_phone", "13800138000"),
                                            p.reference("ship_phone", "13900139000")]


def test_key_from_environment():
    env = {"ANTIFRAUD_PSEUDONYM_KEY": "ab" * 16}
    assert Pseudonymizer.from_environment(env).key_id == Pseudonymizer(bytes.fromhex("ab" * 16)).key_id
    generated = Pseudonymizer.from_environment({})
    assert generated.source == "generated run key" and not generated.shareable
    named = Pseudonymizer.from_environment({**env, "ANTIFRAUD_PSEUDONYM_KEY_ID": "alliance-2026q4"})
    assert named.key_id == "alliance-2026q4" and named.shareable
    with pytest.raises(ValueError):
        Pseudonymizer.from_environment({"ANTIFRAUD_PSEUDONYM_KEY": "short"})
    assert "ab" * 16 not in repr(Pseudonymizer.from_environment(env))


def test_key_file(tmp_path):
    key = tmp_path / "alliance.key"
    key.write_text("cd" * 32)
    p = Pseudonymizer.from_environment({"ANTIFRAUD_PSEUDONYM_KEY_FILE": str(key)})
    assert p.key_id == Pseudonymizer(bytes.fromhex("cd" * 32)).key_id

