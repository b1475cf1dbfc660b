import io
import warnings

import matplotlib
import matplotlib.image
import numpy as np
import pytest

from antifraud.evidence.pictures import (
    cjk_font,
    picture_language,
    rating_history_png,
    ring_graph_png,
    timeline_png,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _ring(seed=0):
    rng = np.random.default_rng(seed)
    n = 120
    buyers = np.array([f"b{k:03d}" for k in rng.integers(0, 25, n)])
    sellers = np.array([f"s{k}" for k in rng.integers(0, 3, n)])
    times = 1_730_000_000 + np.sort(rng.integers(0, 40 * 86400, n))
    ratings = np.where(rng.random(n) < 0.7, rng.integers(1, 6, n), np.nan)
    in_ring = rng.random(n) < 0.4
    return buyers, sellers, times, ratings, in_ring


def _draw(seed=0):
    buyers, sellers, times, ratings, in_ring = _ring(seed)
    return {
        "graph": ring_graph_png(buyers[in_ring], sellers[in_ring], ["s0", "s1"], seed=seed),
        "timeline": timeline_png(times, sellers, in_ring, merchants=["s0", "s1", "s2"]),
        "rating": rating_history_png(times[sellers == "s0"], ratings[sellers == "s0"], in_ring[sellers == "s0"],
                                     shop="s0"),
    }


@pytest.fixture(scope="module")
def pictures():
    return _draw()


@pytest.mark.parametrize("name", ["graph", "timeline", "rating"])
def test_pictures_are_valid_non_blank_pngs(pictures, name):
    png = pictures[name]
    assert png.startswith(PNG_SIGNATURE)
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400
    red = (pixels[..., 0] > 0.6) & (pixels[..., 1] < 0.35) & (pixels[..., 2] < 0.35)
    assert red.sum() > 20  # the ring's colour is drawn, not only axes


def test_same_input_same_bytes_and_no_state_leaks(pictures):
    before = dict(matplotlib.rcParams)
    with matplotlib.rc_context({"font.size": 20, "figure.dpi": 300, "figure.figsize": (2, 2)}):
        again = _draw()
    assert again == pictures
    assert dict(matplotlib.rcParams) == before


def test_layout_follows_the_seed():
    buyers, sellers, _, _, in_ring = _ring()
    assert ring_graph_png(buyers, sellers, ["s0"], seed=1) != ring_graph_png(buyers, sellers, ["s0"], seed=2)


def test_nothing_to_draw_still_gives_a_picture():
    none = np.array([], dtype=str)
    assert ring_graph_png(none, none, []).startswith(PNG_SIGNATURE)
    assert timeline_png(np.array([], dtype=np.int64), none, np.array([], bool)).startswith(PNG_SIGNATURE)
    assert rating_history_png([0, 60], [np.nan, np.nan], [True, False], shop="s0").startswith(PNG_SIGNATURE)


def test_long_histories_are_weekly_and_short_ones_daily():
    days = np.arange(200) * 86400 + 1_730_000_000
    weekly = rating_history_png(days, np.full(200, 5.0), np.arange(200) % 2 == 0, shop="s0")
    daily = rating_history_png(days[:30], np.full(30, 5.0), np.arange(30) % 2 == 0, shop="s0")
    assert weekly != daily
    assert weekly.startswith(PNG_SIGNATURE) and daily.startswith(PNG_SIGNATURE)


SHOP = "恒汇玩具旗舰店"


def _draw_chinese(lang: str) -> list[str]:
    """The glyph warnings matplotlib gives while drawing every picture with a Chinese shop name."""
    times = 1_730_000_000 + np.arange(6) * 86400
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ring_graph_png(["b1", "b2", "b2"], [SHOP, SHOP, "s2"], [SHOP], lang=lang)
        timeline_png(times, [SHOP, "s2"] * 3, [True, False] * 3, lang=lang)
        rating_history_png(times, [5, 5, 1, 5, 3, 5], [True, False] * 3, shop=SHOP, lang=lang)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_chinese_shop_names_and_labels_are_drawn_without_missing_glyphs():
    if cjk_font() is None:
        pytest.skip("no font covering Chinese is installed (make system installs fonts-wqy-microhei on Debian "
                    "as root): Chinese picture check skipped")
    assert picture_language("zh") == "zh"
    assert _draw_chinese("zh") == []


def test_without_a_cjk_font_chinese_goes_missing_and_labels_fall_back_to_english(monkeypatch):
    """The check above can fail: drawn in DejaVu alone, the shop name's glyphs are missing."""
    import antifraud.evidence.pictures as pictures

    monkeypatch.setattr(pictures, "cjk_font", lambda: None)
    assert picture_language("zh") == "en"
    missing = _draw_chinese("zh")
    assert missing and {chr(int(m.split()[1])) for m in missing} <= set(SHOP)  # "Glyph 24658 (...) missing ..."


def test_labels_follow_the_language():
    if cjk_font() is None:
        pytest.skip("no font covering Chinese is installed: Chinese labels fall back to English")
    buyers, sellers, _, _, in_ring = _ring()
    zh = ring_graph_png(buyers, sellers, ["s0"], lang="zh")
    assert zh != ring_graph_png(buyers, sellers, ["s0"], lang="en")
    assert zh == ring_graph_png(buyers, sellers, ["s0"])  # Chinese by default
