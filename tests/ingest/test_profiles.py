import pytest

from antifraud.ingest import PROFILES, InputError, load_profile, resolve_columns


def test_toml_profile(tmp_path):
    path = tmp_path / "shop.toml"
    path.write_text('name = "shop"\ntimezone = "+00:00"\n[columns]\nbuyer_id = ["用户", "user"]\n'
                    'seller_id = "store"\ncreated_at = "时间"\n', encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.name == "shop" and profile.timezone == "+00:00"
    assert resolve_columns(["USER", "store", "时间"], profile, "x") == {
        "buyer_id": "USER", "seller_id": "store", "created_at": "时间"}


def test_toml_profile_with_unknown_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[columns]\nbuyerid = "u"\n')
    with pytest.raises(InputError, match="did you mean 'buyer_id'"):
        load_profile(str(path))


def test_unknown_profile():
    with pytest.raises(InputError, match="generic, taobao, yelp"):
        load_profile("amazon")


def test_overrides():
    profile = PROFILES["generic"].with_overrides({"buyer_id": "会员"})
    assert resolve_columns(["会员", "seller_id", "created_at"], profile, "x")["buyer_id"] == "会员"
    with pytest.raises(ValueError, match="unknown canonical"):
        PROFILES["generic"].with_overrides({"buyer": "x"})


def test_missing_required_names_closest_chinese_header():
    with pytest.raises(InputError) as err:
        resolve_columns(["买家会员", "店铺Id", "订单创建时间"], PROFILES["taobao"], "t.csv")
    assert "'buyer_id'" in str(err.value) and "'买家会员'" in str(err.value)
