"""The evidence report: self-contained, escaped, and rendered for real by headless Chromium."""

import base64
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from antifraud.evidence.report import CSP, MAX_REVIEWS, render_report
from antifraud.evidence.wording import KIND_TEXTS, LIMITATIONS, text

IMAGE_IDS = ("ring-graph", "timeline", "rating-history")
RING_RED = np.array([0xC6, 0x28, 0x28]) / 255


@pytest.fixture(scope="module")
def inputs(small_run):
    rings = [json.loads(line) for line in (small_run.run / "rings.jsonl").read_text(encoding="utf-8").splitlines()]
    ring = next(r for r in rings if r["merchants"])
    # as in a bundle: accounts as their alliance pseudonyms (the evidence table has no raw ids)
    pseudonyms = small_run.detection.ingest.pseudonymizer.pseudonymize_array("buyer_id", pa.array(ring["accounts"]))
    ring = {**ring, "accounts": pseudonyms.to_pylist()}
    manifest = json.loads((small_run.run / "run.json").read_text(encoding="utf-8"))
    return ring, pq.read_table(small_run.evidence), manifest


@pytest.fixture(scope="module")
def records(small_run, inputs):
    """The ring's finding records, as a bundle gives them."""
    lines = (small_run.run / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ring_id = inputs[0]["ring_id"]
    mine = [r for r in map(json.loads, lines)
            if any(s["name"] == "ring" and s["value"] == ring_id for s in r["assessment"]["signals"])]
    assert mine
    return mine


@pytest.fixture(scope="module")
def page(inputs, records):
    ring, orders, manifest = inputs
    return render_report(ring, records, orders, manifest)


@pytest.fixture(scope="module")
def page_en(inputs, records):
    ring, orders, manifest = inputs
    return render_report(ring, records, orders, manifest, lang="en")


def _ring_rows(orders: pa.Table, ring_id: str):
    """The ring's own orders, computed here from the evidence table."""
    frame = orders.to_pandas()
    return frame[frame["ring_ids"].map(lambda ids: ring_id in list(ids))]


def test_page_carries_everything_and_loads_nothing(inputs, records, page):
    ring, _, manifest = inputs
    assert f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">' in page
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", page)
    for needle in ("<script", "http:", "https:", "//", "url(", "@import", "<link", "<iframe", "<object"):
        assert needle not in text, needle
    assert re.findall(r'(?:src|href)="([a-z]+:)', text) == ["data:"] * len(IMAGE_IDS)
    for image_id in IMAGE_IDS:
        src = re.search(rf'<img id="{image_id}" alt="[^"]+" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
        assert src, image_id
        assert base64.b64decode(src.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert '<table id="signals">' in page
    for signal in ring["signals"]:
        assert html.escape(signal["texts"]["zh"]) in page
    assert manifest["inputs"][0]["sha256"] in page
    assert manifest["toolkit"]["version"] in page and f"随机种子 {manifest['parameters']['seed']}" in page
    assert all(a in page for a in ring["accounts"]) and all(m in page for m in ring["merchants"])
    assert all(r["id"] in page for r in records)


def test_everything_from_the_data_is_escaped(inputs, records):
    ring, orders, manifest = inputs
    evil = '<img src=x onerror="alert(1)">'
    ring = dict(ring, kind=evil, signals=[{"signal": evil, "value": 1, "percentile": None, "text": evil}])
    manifest = dict(manifest, inputs=[{"path": evil, "sha256": "0" * 64, "bytes": 1, "rows": {"read": 1}}])
    page = render_report(ring, [dict(records[0], id=evil)], orders, manifest)
    assert evil not in page and html.escape(evil) in page
    assert page.count("<img ") == len(IMAGE_IDS)


def test_same_page_from_arrow_or_pandas_and_on_every_call(inputs, records, page, page_en):
    ring, orders, manifest = inputs
    assert render_report(ring, records, orders.to_pandas(), manifest) == page
    assert render_report(ring, records, orders.to_pandas(), manifest, lang="en") == page_en


def test_chinese_by_default_english_on_request(inputs, page, page_en):
    ring = inputs[0]
    assert '<html lang="zh-CN">' in page and '<html lang="en">' in page_en
    for key in ("summary", "why", "amounts", "reviews", "glossary", "limitations", "not_reviewed"):
        assert html.escape(text(key, "zh")) in page and html.escape(text(key, "en")) not in page
        assert html.escape(text(key, "en")) in page_en and html.escape(text(key, "zh")) not in page_en
    for signal in ring["signals"]:
        assert html.escape(signal["texts"]["en"]) in page_en and html.escape(signal["texts"]["en"]) not in page
    # the page's own words are Chinese: outside ids, numbers and names from the data, no English sentence
    visible = re.sub(r"<code>.*?</code>|<td class=\"id\">.*?</td>|<[^>]+>|base64,[A-Za-z0-9+/=]+", " ", page)
    assert not re.search(r"\b(the|and|of|orders?|accounts?)\b", visible)
    assert all(item["zh"] in page for item in LIMITATIONS)


def test_summary_counts_and_amount_are_the_data_s(inputs, records, page, page_en):
    ring, orders, _ = inputs
    ours = _ring_rows(orders, ring["ring_id"])
    assert len(ours) == len(ring["orders"]) > 0
    summary = re.search(r'<p id="summary">(.*?)</p>', page_en).group(1)
    assert f"{len(ring['accounts'])} accounts that placed {len(ours)} orders" in summary
    china = [(pd.Timestamp(t) + pd.Timedelta(hours=8)).strftime("%Y-%m-%d") for t in ring["period"]]  # the export's zone
    assert f"between {china[0]} and {china[1]}" in summary
    names = ours.groupby("seller_id")["seller_name"].first()
    assert all(html.escape(f"{names[shop]} ({shop})") in summary for shop in ring["merchants"])
    total = f"{ours['amount'].sum():,.2f}"
    assert f"paid {total} yuan in total" in summary
    zh = re.search(r'<p id="summary">(.*?)</p>', page).group(1)
    assert f"{len(ring['accounts'])} 个账户" in zh and f"{len(ours)} 笔订单" in zh and f"{total} 元" in zh
    amounts = re.search(r'<table id="amounts">(.*?)</table>', page, re.S).group(1)
    for shop in ring["merchants"]:
        assert f"{ours.loc[ours['seller_id'] == shop, 'amount'].sum():,.2f}" in amounts
    ring_, orders_, manifest = inputs
    bare = render_report(ring_, records, orders_.drop_columns(["amount"]), manifest, lang="en")
    assert html.escape(text("no_amount_column", "en")) in bare and "yuan in total" not in bare


def test_sample_reviews_are_the_ring_s_most_used_texts_escaped(inputs, records, page):
    ring, orders, manifest = inputs
    ours = _ring_rows(orders, ring["ring_id"])
    counts = ours["review_text"].dropna().value_counts()
    assert counts.size > 0
    table = re.search(r'<table id="reviews">(.*?)</table>', page, re.S).group(1)
    assert table.count("<tr>") == 1 + min(MAX_REVIEWS, counts.size)
    assert html.escape(counts.index[0]) in table
    evil = "<script>alert('好评')</script>"
    frame = orders.to_pandas()
    mine = frame["ring_ids"].map(lambda ids: ring["ring_id"] in list(ids))
    frame.loc[mine, "review_text"] = evil
    hacked = render_report(ring, records, frame, manifest)
    assert evil not in hacked and html.escape(evil) in hacked


def test_review_status_is_large_and_says_reviewed_only_when_every_record_does(inputs, records, page, page_en):
    ring, orders, manifest = inputs
    status = re.search(r'<p class="status (\w+)" id="review-status">(.*?)</p>', page)
    assert status.groups() == ("pending", "未经人工复核")
    assert '<p class="status pending" id="review-status">Not reviewed by a person</p>' in page_en
    reviewed = [{**r, "assessment": {**r["assessment"], "human_reviewed": True, "reviewer": "王审核"}}
                for r in records]
    page = render_report(ring, reviewed, orders, manifest)
    assert '<p class="status reviewed" id="review-status">已经人工复核（王审核）</p>' in page
    assert "未经人工复核" not in page
    partly = reviewed[:1] + records[1:]
    assert "未经人工复核" in render_report(ring, partly, orders, manifest)
    assert "未经人工复核" in render_report(ring, [], orders, manifest)


@pytest.mark.parametrize("kind", sorted(KIND_TEXTS))
def test_title_and_caveat_follow_the_ring_kind(inputs, kind):
    ring, orders, manifest = inputs
    words = KIND_TEXTS[kind]
    for lang in ("zh", "en"):
        page = render_report(dict(ring, kind=kind), [], orders, manifest, lang=lang)
        assert f'<h1 id="title">{html.escape(words.title[lang])} <code>' in page
        assert ('id="caveat"' in page) == (words.caveat is not None)
        if words.caveat:
            assert html.escape(words.caveat[lang]) in page


def test_household_like_rings_are_not_titled_brushing(inputs):
    ring, orders, manifest = inputs
    farm = render_report(dict(ring, kind="account_farm"), [], orders, manifest, lang="en")
    title = re.search(r'<h1 id="title">(.*?) <code>', farm).group(1)
    assert "brushing" not in title.lower()
    caveat = re.search(r'<p class="caveat" id="caveat">(.*?)</p>', farm).group(1)
    assert "household" in caveat and "does not show brushing" in caveat
    dense = render_report(dict(ring, kind="dense_block"), [], orders, manifest)
    assert 'id="caveat"' not in dense and '<h1 id="title">刷单团伙 <code>' in dense


def test_rings_without_shops_or_with_victims_still_render(inputs):
    ring, orders, manifest = inputs
    lone = dict(ring, merchants=[], victims=[], orders=[], period=None)
    attack = dict(ring, kind="one_star_attack", victims=ring["merchants"][:1], merchants=[])
    for variant in (lone, attack):
        page = render_report(variant, [], orders, manifest, lang="en")
        assert all(f'<img id="{image_id}"' in page for image_id in IMAGE_IDS)
    assert "No finding records" in page and "victim" in page
    assert "受害方" in render_report(attack, [], orders, manifest)


# -- a real browser --------------------------------------------------------------------------------

def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium not installed (make test installs it on Debian as root): browser checks skipped")
    return found


def _browse(tmp_path: Path, page: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Open ``page`` in headless Chromium with every network route blocked (``env``: more
    environment variables)."""
    args = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000", *extra, page.as_uri(),
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path,
                          env={**os.environ, **(env or {})})


# Probes added to a copy of the page only: one allowed by its hash in the CSP, one not.
_PROBE = """
window.addEventListener("load", () => {
  const found = {};
  for (const img of document.images) found[img.id] = [img.complete, img.naturalWidth, img.naturalHeight];
  const signals = document.getElementById("signals");
  found.signal_rows = signals ? signals.tBodies[0].rows.length : -1;
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(found);
  document.body.appendChild(pre);
});
"""
_INTRUDER = 'document.body.setAttribute("data-intruder", "ran");'


def _probe(tmp_path: Path, page: str, script: str, *extra: str) -> tuple[dict, str]:
    """What ``script`` (allowed by its hash in the CSP of a copy of ``page``, beside an intruder
    script that is not) writes into ``<pre id="probe">``, and the DOM Chromium ends with."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = html.escape(CSP)
    probed = page.replace(csp, f"{csp}; script-src &#x27;sha256-{digest}&#x27;", 1).replace(
        "</body>", f"<script>{script}</script><script>{_INTRUDER}</script></body>", 1)
    assert probed.count(digest) == 1
    path = tmp_path / "probed.html"
    path.write_text(probed, encoding="utf-8")
    dom = _browse(tmp_path, path, "--dump-dom", *extra).stdout
    probe = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert probe, "the hashed probe script did not run"
    return json.loads(html.unescape(probe.group(1))), dom


def test_chromium_decodes_every_picture_and_finds_the_signals(inputs, page, tmp_path):
    ring = inputs[0]
    found, dom = _probe(tmp_path, page, _PROBE)
    for image_id in IMAGE_IDS:
        complete, width, height = found[image_id]
        assert complete and width > 300 and height > 150, (image_id, found[image_id])
    assert found["signal_rows"] == len(ring["signals"]) > 0
    assert not re.search(r"<body[^>]*data-intruder", dom)  # the CSP blocks a script without its hash


def test_chromium_screenshot_shows_the_pictures(page, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    _browse(tmp_path, path, f"--screenshot={shot}", "--window-size=1100,2600", "--hide-scrollbars")
    pixels = matplotlib.image.imread(io.BytesIO(shot.read_bytes()), format="png")[..., :3]
    assert pixels.shape[:2] == (2600, 1100)
    assert pixels.std() > 0.05  # not a blank page
    red = (np.abs(pixels - RING_RED) < 0.08).all(axis=-1)
    assert red.sum() > 200  # only the embedded pictures draw in the ring's red


# Where an element's right edge lies beyond the page's width, and how wide the document scrolls.
_WIDTH_PROBE = """
window.addEventListener("load", () => {
  const root = document.documentElement;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right > root.clientWidth + 0.5) wide.push(el.id || el.tagName);
  }
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({scroll: root.scrollWidth, client: root.clientWidth, wide: wide});
  document.body.appendChild(pre);
});
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nothing_is_wider_than_a_narrow_page(inputs, records, tmp_path, lang):
    """At 600 px, narrower than A4's printable width (about 690 px at 96 dpi), no table, id or
    picture sticks out and the document does not scroll sideways."""
    ring, orders, manifest = inputs
    long_id = "acr--" + "0123456789abcdef" * 6  # far longer than any line: must wrap, not widen its table
    page = render_report(ring, [dict(records[0], id=long_id), *records[1:]], orders, manifest, lang=lang)
    found, _ = _probe(tmp_path, page, _WIDTH_PROBE, "--window-size=600,900", "--hide-scrollbars")
    assert found["client"] == 600
    assert found["wide"] == [] and found["scroll"] <= found["client"], found


_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


def _cjk_font_installed() -> None:
    listed = shutil.which("fc-list") and subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                                                          text=True).stdout.strip()
    if not listed:
        pytest.skip("no CJK font installed (make system installs fonts-wqy-microhei on Debian as root): "
                    "Chinese rendering check skipped")


def _heading_change(tmp_path: Path, page: str, env: dict | None = None) -> float:
    """Share of the pixels of the title and review status (the top 130 px at 800 px wide) that
    change when every Chinese character of ``page`` is replaced by a private-use character, which
    no font draws: 0 where the Chinese was drawn as the same missing-glyph boxes."""
    shots = []
    for name, html_text in (("chinese", page), ("boxes", _CJK.sub("\ue000", page))):
        path = tmp_path / f"{name}.html"
        path.write_text(html_text, encoding="utf-8")
        shot = tmp_path / f"{name}.png"
        _browse(tmp_path, path, f"--screenshot={shot}", "--window-size=800,700", "--hide-scrollbars", env=env)
        shots.append(matplotlib.image.imread(io.BytesIO(shot.read_bytes()), format="png")[:130, :, :3])
    return float((np.abs(shots[0] - shots[1]).max(axis=-1) > 0.1).mean())


def test_chromium_draws_the_chinese_heading_not_boxes(page, tmp_path):
    _chromium()
    _cjk_font_installed()
    assert "未经人工复核" in page and _CJK.search(re.search(r'<h1 id="title">(.*?)</h1>', page).group(1))
    assert _heading_change(tmp_path, page) > 0.02


def test_the_heading_check_sees_boxes_without_a_cjk_font(page, tmp_path):
    """The check above fails where Chromium has no CJK font: here, only DejaVu."""
    _chromium()
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip(f"{dejavu} absent: no known font without CJK to check against")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>{dejavu}</dir>"
                    f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>", encoding="utf-8")
    assert _heading_change(tmp_path, page, env={"FONTCONFIG_FILE": str(conf)}) < 0.001
