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
    with pytest.raises(InputError, match="no such profile \\(did you mean 'taobao'\\?\\)"):
        load_profile("TaoBoa")


def test_profile_names_in_any_case():
    assert load_profile("Taobao") is PROFILES["taobao"] and load_profile("GENERIC") is PROFILES["generic"]


def test_overrides():
    profile = PROFILES["generic"].with_overrides({"buyer_id": "会员"})
    assert resolve_columns(["会员", "seller_id", "created_at"], profile, "x")["buyer_id"] == "会员"
    with pytest.raises(ValueError, match="unknown canonical"):
        PROFILES["generic"].with_overrides({"buyer": "x"})


def test_missing_required_names_closest_chinese_header():
    with pytest.raises(InputError) as err:
        resolve_columns(["买家会员", "店铺Id", "订单创建时间"], PROFILES["taobao"], "t.csv")
    assert "'buyer_id'" in str(err.value) and "'买家会员'" in str(err.value)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[columns]\nseller_id = 5\n', "columns.seller_id"),
        ('[columns]\nseller_id = ["shop", 5]\n', "columns.seller_id"),
        ('[columns]\nseller_id = []\n', "columns.seller_id"),
        ('columns = "buyer"\n', "columns"),
        ('timezone = 8\n[columns]\nseller_id = "shop"\n', "timezone"),
        ('timezone = "+99:99"\n[columns]\nseller_id = "shop"\n', "timezone"),
        ('name = ["x"]\n[columns]\nseller_id = "shop"\n', "name"),
        ('encoding = "klingon"\n[columns]\nseller_id = "shop"\n', "encoding"),
        ('delimiter = ";;"\n[columns]\nseller_id = "shop"\n', "delimiter"),
        ('delimiter = "\\""\n[columns]\nseller_id = "shop"\n', "delimiter"),
        ('timezon = "+08:00"\n[columns]\nseller_id = "shop"\n', "timezon"),
    ],
)
def test_toml_profile_values_are_checked(tmp_path, toml, key):
    path = tmp_path / "p.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(str(path))
    assert str(err.value).startswith(f"{path}: key '{key}': ")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("tz", ["+99:99", "+14:30", "-15:00", "+08:60", "+8:5"])
def test_timezone_outside_plus_minus_14_hours_is_rejected(tz):
    from dataclasses import replace

    with pytest.raises(ValueError, match="UTC offset"):
        replace(PROFILES["generic"], timezone=tz)


@pytest.mark.parametrize("tz,seconds", [("+14:00", 14 * 3600), ("-12:00", -12 * 3600), ("+05:45", 20700)])
def test_timezone_extremes_are_accepted(tz, seconds):
    from dataclasses import replace

    from antifraud.ingest.convert import parse_utc_offset

    assert replace(PROFILES["generic"], timezone=tz).timezone == tz
    assert parse_utc_offset(tz) == seconds


@pytest.mark.parametrize(
    ("header", "first", "second"),
    [
        (["buyer_id", "seller_id", "created_at", "buyer_id"], "buyer_id", "buyer_id"),
        (["buyer_id", "seller_id", "created_at", " Buyer_ID "], "buyer_id", " Buyer_ID "),
    ],
)
def test_a_used_column_twice_in_the_header_is_an_input_error(header, first, second):
    with pytest.raises(InputError) as err:
        resolve_columns(header, PROFILES["generic"], "o.csv")
    text = str(err.value)
    assert text.startswith("o.csv:1: ") and f"{first!r}" in text and f"{second!r}" in text
    assert "'buyer_id'" in text


def test_two_aliases_of_one_column_are_an_input_error_naming_both():
    header = ["订单编号", "买家会员名", "店铺Id", "订单创建时间", "订单号"]
    with pytest.raises(InputError) as err:
        resolve_columns(header, PROFILES["taobao"], "t.csv")
    assert "'订单编号'" in str(err.value) and "'订单号'" in str(err.value) and "--map order_id=" in str(err.value)
    # --map says which one holds it, and then the other is an unused column
    chosen = PROFILES["taobao"].with_overrides({"order_id": "订单号"})
    assert resolve_columns(header, chosen, "t.csv")["order_id"] == "订单号"


def test_an_unused_column_twice_is_harmless():
    header = ["buyer_id", "seller_id", "created_at", "备注", "备注"]
    assert resolve_columns(header, PROFILES["generic"], "o.csv") == {
        "buyer_id": "buyer_id", "seller_id": "seller_id", "created_at": "created_at"}
