"""One ring's evidence as a single self-contained HTML page for a regulator.

The page needs nothing but itself: pictures are PNGs in ``data:`` URIs, styles are inline, and a
Content-Security-Policy forbids every other source (no scripts, fonts, frames or requests), so it
opens offline and cannot call out. Every value from the data is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.evidence.pictures import rating_history_png, ring_graph_png, timeline_png
from antifraud.evidence.wording import (
    DEFAULT_LANGUAGE,
    GLOSSARY,
    HTML_LANG,
    LIMITATIONS,
    counted,
    kind_meaning,
    kind_texts,
    text,
)
from antifraud.findings.rings import listed_targets, target_role
from antifraud.times import local_time

__all__ = ["CSP", "MAX_REVIEWS", "Picture", "render_report", "ring_pictures"]

#: The page's Content-Security-Policy: images from data: URIs and inline styles, nothing else.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

#: At most this many sample review texts are shown.
MAX_REVIEWS = 5

# Sized for an A4 (or letter) page: long ids and texts wrap anywhere rather than widen a table.
_STYLE = """
@page { size: A4; margin: 14mm; }
body { font: 14px/1.5 system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 1.5em auto;
       max-width: 180mm; padding: 0 1em; color: #1b1b1b; overflow-wrap: anywhere; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
.status { font-size: 1.7em; font-weight: 700; margin: .4em 0 .2em; padding: .3em .6em; border: 3px solid; }
.status.pending { color: #b71c1c; border-color: #b71c1c; } .status.reviewed { color: #1b5e20; border-color: #1b5e20; }
.caveat { background: #fff8e1; border-left: 5px solid #f9a825; padding: .5em .8em; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2em 1.2em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; }
th, td { border: 1px solid #d0d0d0; padding: .25em .4em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f1f3f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, td.id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; word-break: break-all; }
figure { margin: 1em 0; break-inside: avoid; } figure img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { color: #555; font-size: .92em; }
dl.glossary dt { font-weight: 600; margin-top: .4em; } dl.glossary dd { margin-left: 1.2em; }
footer { margin-top: 2em; color: #555; font-size: .9em; }
"""


def _e(value: object) -> str:
    """``value`` as escaped HTML text (quotes included)."""
    return html.escape(str(value), quote=True)


def _cell(value: object, lang: str) -> str:
    """A table cell: numbers right-aligned, missing values as an en dash, everything escaped."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "<td>&ndash;</td>"
    if isinstance(value, (bool, np.bool_)):
        return f"<td>{_e(text('yes' if value else 'no', lang))}</td>"
    if isinstance(value, (int, float, np.integer, np.floating)):
        shown = f"{value:,}" if isinstance(value, (int, np.integer)) else f"{value:,.4g}"
        return f'<td class="num">{_e(shown)}</td>'
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return f"<td>{_e(value)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], lang: str, *, table_id: str | None = None,
           id_columns: int = 0) -> str:
    """An HTML table with headers ``headers`` (keys of the wording); the first ``id_columns`` cells
    of each row are set as identifiers."""
    head = "".join(f"<th>{_e(text(h, lang))}</th>" for h in headers)
    body = []
    for row in rows:
        cells = [f'<td class="id">{_e(v)}</td>' for v in row[:id_columns]]
        cells += [_cell(v, lang) for v in row[id_columns:]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f' id="{_e(table_id)}"' if table_id else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _image(png: bytes, *, image_id: str, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img id="{_e(image_id)}" alt="{_e(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _ring_orders(orders: pa.Table | pd.DataFrame, ring_id: str, targets: Sequence[str]) -> pd.DataFrame:
    """The evidence orders of one ring and of its shops, with an ``in_ring`` flag."""
    table = orders if isinstance(orders, pa.Table) else pa.Table.from_pandas(orders, preserve_index=False)
    lists = table.column("ring_ids").combine_chunks()
    hits = pc.equal(pc.list_flatten(lists), ring_id)
    members = pc.unique(pc.filter(pc.list_parent_indices(lists), hits))
    in_ring = np.zeros(table.num_rows, dtype=bool)
    in_ring[members.to_numpy(zero_copy_only=False)] = True
    sellers = pc.cast(table.column("seller_id"), pa.string())
    at_target = pc.is_in(sellers, value_set=pa.array(list(targets), pa.string()))
    keep = in_ring | at_target.to_numpy(zero_copy_only=False)
    frame = table.drop_columns(["ring_ids"]).filter(pa.array(keep)).to_pandas()
    frame["in_ring"] = in_ring[keep]
    for name in ("buyer_id", "seller_id"):
        frame[name] = frame[name].astype(str)
    return frame


def _local(stamp: str, run_manifest: dict) -> str:
    """An ``acr/1`` time (RFC 3339, UTC) as people read it, in the export's time zone (its profile's)."""
    zone = run_manifest.get("profile", {}).get("timezone") or "+00:00"
    return local_time(pd.Timestamp(stamp).timestamp(), zone)


def _shops(ids: Sequence[str], orders: pd.DataFrame) -> str:
    """Shops as people know them: name and id, where the evidence orders give a name."""
    names = {}
    if "seller_name" in orders.columns:
        named = orders.dropna(subset=["seller_name"])
        names = dict(zip(named["seller_id"], named["seller_name"].astype(str)))
    return ", ".join(f"{names[i]} ({i})" if names.get(i) else str(i) for i in ids)


def _utc(series: pd.Series) -> np.ndarray:
    """Times as naive UTC ``datetime64[s]``."""
    return pd.to_datetime(series, utc=True).dt.tz_localize(None).to_numpy().astype("datetime64[s]")


def _when(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Picture:
    """One picture of a ring's evidence: its file name in a bundle, page element id, PNG and words."""

    name: str
    image_id: str
    png: bytes
    alt: str
    caption: str


def ring_pictures(ring: dict, orders: pa.Table | pd.DataFrame, run_manifest: dict, *,
                  lang: str = DEFAULT_LANGUAGE) -> list[Picture]:
    """The three pictures of a ring: its subgraph, its orders on a time line, and the rating
    history of its most-reviewed shop against the organic baseline.

    Parameters are as for :func:`render_report`; the seed of the run lays out the graph.
    """
    rid = str(ring["ring_id"])
    targets = listed_targets(ring)
    orders = _ring_orders(orders, rid, targets)
    seed = run_manifest.get("parameters", {}).get("seed")
    seed = seed if isinstance(seed, int) else 0
    ours = orders[orders["in_ring"]]
    shops = orders[orders["seller_id"].isin(targets)]
    role = "victims" if target_role(ring.get("victims") or []) == "victim" else "merchants"
    graph = ring_graph_png(ours["buyer_id"].to_numpy(), ours["seller_id"].to_numpy(), targets, role=role, seed=seed,
                           lang=lang)
    timeline = timeline_png(_utc(shops["created_at"]), shops["seller_id"].to_numpy(), shops["in_ring"].to_numpy(),
                            merchants=targets, lang=lang)
    ratings = shops["rating"].astype("float64") if "rating" in shops else pd.Series(np.nan, index=shops.index)
    reviewed = ours[ratings.reindex(ours.index).notna()]["seller_id"].value_counts()
    shop = reviewed.index[0] if reviewed.size else (targets[0] if targets else "")
    at = (shops["seller_id"] == shop).to_numpy()
    posted = shops["reviewed_at"].fillna(shops["created_at"]) if "reviewed_at" in shops else shops["created_at"]
    weights = shops["weight"].to_numpy()[at] if "weight" in shops else None
    history = rating_history_png(_utc(posted[at]), ratings[at].to_numpy(), shops["in_ring"].to_numpy()[at], shop=shop,
                                 weights=weights, lang=lang)
    listed = ", ".join(targets)
    return [
        Picture("ring-graph.png", "ring-graph", graph,
                alt=text("graph_alt", lang, ring=rid, accounts=counted("n_accounts", ours["buyer_id"].nunique(), lang),
                         orders=counted("n_orders", len(ours), lang), role=text(f"role_{role}", lang), targets=listed),
                caption=text("graph_caption", lang)),
        Picture("timeline.png", "timeline", timeline,
                alt=text("timeline_alt", lang, targets=listed, ring_orders=len(ours),
                         organic=int((~shops["in_ring"]).sum())),
                caption=text("timeline_caption", lang)),
        Picture("rating-history.png", "rating-history", history,
                alt=text("rating_alt", lang, shop=shop), caption=text("rating_caption", lang, shop=shop)),
    ]


def _members(ring: dict, orders: pd.DataFrame, targets: list[str], lang: str) -> str:
    ours = orders[orders["in_ring"]]
    by_account = ours.groupby("buyer_id")["created_at"].agg(["size", "min", "max"]).reindex(ring["accounts"])
    counts = by_account["size"].fillna(0).astype(int).tolist()
    first, last = (_when(by_account[c]).astype(object).where(by_account[c].notna(), None) for c in ("min", "max"))
    accounts = _table(["account", "ring_orders", "first_order", "last_order"],
                      list(zip(ring["accounts"], counts, first, last)), lang, id_columns=1)
    rated = "rating" in orders
    role = text(f"role_{target_role(ring.get('victims') or [])}", lang)
    rows = []
    for shop in targets:
        at = orders[orders["seller_id"] == shop]
        mine = at["in_ring"].to_numpy()
        ring_mean = at["rating"][mine].astype("float64").mean() if rated else np.nan
        organic_mean = at["rating"][~mine].astype("float64").mean() if rated else np.nan
        weight = at["weight"].to_numpy() if "weight" in at else np.ones(len(at))
        others = float(weight[~mine].sum())
        rows.append((shop, _shop_name(at), role, int(mine.sum()), round(others),
                     mine.sum() / (mine.sum() + others) if len(at) else None, ring_mean, organic_mean))
    merchants = _table(["shop", "shop_name", "role", "ring_orders", "other_orders", "ring_share", "ring_rating",
                        "organic_rating"], rows, lang, id_columns=1)
    return (f"<h3>{_e(counted('n_shops', len(targets), lang))}</h3>{merchants}"
            f"<h3>{_e(counted('n_accounts', len(ring['accounts']), lang))}</h3>{accounts}")


def _shop_name(orders: pd.DataFrame) -> str | None:
    """The most frequent name of a shop in its orders (``None`` where the export has none)."""
    if "seller_name" not in orders:
        return None
    names = orders["seller_name"].dropna().astype(str).value_counts()
    return str(names.index[0]) if names.size else None


def _amount(orders: pd.DataFrame) -> float | None:
    """The sum of the ring's order amounts, ``None`` where the export has no amount column."""
    if "amount" not in orders:
        return None
    return float(orders.loc[orders["in_ring"], "amount"].astype("float64").sum())


def _yuan(amount: float) -> str:
    return f"{amount:,.2f}"


def _amounts(orders: pd.DataFrame, targets: list[str], lang: str) -> str:
    """The amounts of the ring's orders per shop and in total."""
    total = _amount(orders)
    if total is None:
        return f"<p>{_e(text('no_amount_column', lang))}</p>"
    ours = orders[orders["in_ring"]]
    paid = ours["amount"].astype("float64")
    rows = [(shop, int((ours["seller_id"] == shop).sum()), _yuan(paid[ours["seller_id"] == shop].sum()))
            for shop in targets]
    rows.append((text("total", lang), len(ours), _yuan(total)))
    return _table(["shop", "ring_orders", "ring_amount"], rows, lang, table_id="amounts", id_columns=1)


def _reviews(orders: pd.DataFrame, lang: str) -> str:
    """The :data:`MAX_REVIEWS` review texts most used on the ring's orders, with how often and at
    which shops (the data's own words, escaped)."""
    ours = orders[orders["in_ring"]]
    if "review_text" in ours:
        written = ours[ours["review_text"].fillna("").astype(str).str.strip() != ""]
    else:
        written = ours.iloc[:0]
    if written.empty:
        return f"<p>{_e(text('no_review_texts', lang))}</p>"
    ratings = written["rating"].astype("float64") if "rating" in written else pd.Series(np.nan, index=written.index)
    grouped = written.assign(rating=ratings, review_text=written["review_text"].astype(str)).groupby("review_text")
    used = grouped.agg(n=("seller_id", "size"), rating=("rating", "mean"),
                       shops=("seller_id", lambda v: ", ".join(sorted(set(v)))))
    top = used.reset_index().sort_values(["n", "review_text"], ascending=[False, True]).head(MAX_REVIEWS)
    rows = [(r.review_text, r.n, r.shops, r.rating) for r in top.itertuples()]
    return (f"<p>{_e(text('reviews_note', lang, n=MAX_REVIEWS))}</p>"
            + _table(["review_text", "times_used", "shop", "mean_rating"], rows, lang, table_id="reviews"))


def _records(records: list[dict], run_manifest: dict, lang: str) -> str:
    """One row per ``acr/1`` record about the ring (the full records are in the bundle's
    ``findings.jsonl``)."""
    if not records:
        return f"<p>{_e(text('no_records', lang))}</p>"
    rows = []
    for r in records:
        assessment, period = r["assessment"], r["behavior"]["period"]
        rows.append((r["id"], r["record_type"], _subject(r["subject"], lang),
                     text("status_version", lang, status=r["status"], version=r["version"]),
                     assessment["confidence"], assessment["human_reviewed"], r["sharing"]["level"],
                     text("period_range", lang, start=_local(period["start"], run_manifest)[:10],
                          end=_local(period["end"], run_manifest)[:10])))
    return (f"<p>{_e(text('records_note', lang, n=len(records), issuer=records[0]['issuer']['member_id']))}</p>"
            + _table(["record", "record_type", "subject", "status", "confidence", "human_reviewed", "sharing",
                      "period"], rows, lang, table_id="records", id_columns=1))


def _subject(subject: dict, lang: str) -> str:
    if "merchant" in subject:
        m = subject["merchant"]
        key = m["uscc"] or ", ".join(m["shop_ids"])
        return text("subject_merchant", lang, key=key) + (f" ({m['name']})" if m["name"] else "")
    if "account" in subject:
        return text("subject_account", lang, key=subject["account"]["pseudonym"])
    members = subject["ring"]["members"]
    accounts = sum(m["kind"] == "account" for m in members)
    return text("subject_ring", lang, accounts=counted("n_accounts", accounts, lang),
                merchants=counted("n_merchants", len(members) - accounts, lang))


def _inputs(run_manifest: dict, lang: str) -> str:
    rows = [(i.get("path"), i.get("sha256"), i.get("bytes"), (i.get("rows") or {}).get("read"))
            for i in run_manifest.get("inputs", [])]
    return _table(["file", "sha256", "bytes", "rows_read"], rows, lang, id_columns=2)


def _review_status(records: list[dict], lang: str) -> str:
    """The review status in large type: reviewed only when every record about the ring says so."""
    reviewed = bool(records) and all(r["assessment"]["human_reviewed"] for r in records)
    if not reviewed:
        return (f'<p class="status pending" id="review-status">{_e(text("not_reviewed", lang))}</p>'
                f"<p>{_e(text('not_reviewed_note', lang))}</p>")
    names = sorted({r["assessment"].get("reviewer") or text("unknown_reviewer", lang) for r in records})
    return (f'<p class="status reviewed" id="review-status">{_e(text("reviewed", lang, reviewer=", ".join(names)))}'
            f"</p><p>{_e(text('reviewed_note', lang))}</p>")


def _summary(ring: dict, orders: pd.DataFrame, targets: list[str], run_manifest: dict, lang: str) -> str:
    """The finding in plain sentences: who, how many, where, when, how much, found how."""
    accounts = counted("n_accounts", len(ring.get("accounts", [])), lang)
    period = ring.get("period")
    if period:
        sentences = [text("summary_orders", lang, accounts=accounts, orders=counted("n_orders", len(ring["orders"]),
                                                                                    lang),
                          shops=counted("n_shops", len(targets), lang), targets=_shops(targets, orders),
                          start=_local(period[0], run_manifest)[:10], end=_local(period[1], run_manifest)[:10]),
                     text(f"summary_{target_role(ring.get('victims') or [])}", lang)]
    else:
        sentences = [text("summary_no_orders", lang, accounts=accounts)]
    amount = _amount(orders)
    sentences.append(text("no_amount_column", lang) if amount is None
                     else text("summary_amount", lang, amount=_yuan(amount)))
    sentences.append(text("summary_score", lang, detectors=", ".join(ring.get("detectors", [])) or "-",
                          score=f"{float(ring['score']):.3f}"))
    return f'<p id="summary">{_e(text("sentence_gap", lang).join(sentences))}</p>'


def _glossary(kind: str, lang: str) -> str:
    terms = [(kind_texts(kind).title[lang], kind_meaning(kind, lang)), *(entry[lang] for entry in GLOSSARY)]
    return '<dl class="glossary">' + "".join(f"<dt>{_e(t)}</dt><dd>{_e(d)}</dd>" for t, d in terms) + "</dl>"


def render_report(
    ring: dict,
    records: list[dict],
    orders: pa.Table | pd.DataFrame,
    run_manifest: dict,
    pictures: Sequence[Picture] | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
) -> str:
    """Render one ring's evidence as a self-contained HTML page.

    Parameters
    ----------
    ring : dict
        The ring as in ``rings.jsonl``: ``ring_id``, ``accounts``, ``merchants``, ``victims``,
        ``orders``, ``score``, ``kind``, ``detectors``, ``signals`` and ``period``.
    records : list of dict
        The finding records about this ring (may be empty); shown as a table of their fields,
        and the page says "reviewed by a person" only when every one of them was.
    orders : pyarrow.Table or pandas.DataFrame
        ``evidence/orders.parquet`` (or any part of it holding this ring's shops).
    run_manifest : dict
        The run's ``run.json``: inputs with their sha256, toolkit version, seed.
    pictures : sequence of Picture, optional
        The ring's pictures, if already drawn (:func:`ring_pictures` otherwise, in ``lang``).
    lang : {"zh", "en"}
        The page's language (:mod:`antifraud.evidence.wording`): Chinese by default.

    Returns
    -------
    str
        The HTML page, images embedded as ``data:`` URIs; it loads nothing else. It opens with
        the ring's title by kind (and the kind's caveat, where an honest explanation is common),
        its review status and a summary in sentences, then the signals, amounts, sample
        reviews, pictures, members, records, inputs, a glossary and the finding's limitations.
    """
    rid = str(ring["ring_id"])
    kind = str(ring.get("kind"))
    words = kind_texts(kind)
    title = words.title[lang]
    targets = listed_targets(ring)
    frame = _ring_orders(orders, rid, targets)
    drawn = pictures if pictures is not None else ring_pictures(ring, orders, run_manifest, lang=lang)
    figures = "".join(_image(p.png, image_id=p.image_id, alt=p.alt, caption=p.caption) for p in drawn)
    toolkit = run_manifest.get("toolkit", {})
    period = ring.get("period")
    none = text("none", lang)
    facts = [
        ("kind", f"{title} ({kind})"),
        ("score", f"{float(ring['score']):.3f}"),
        ("period", text("period_range", lang, start=_local(period[0], run_manifest), end=_local(period[1], run_manifest))
         if period else text("no_orders", lang)),
        ("detectors", ", ".join(ring.get("detectors", []))),
        ("accounts", len(ring.get("accounts", []))),
        ("beneficiaries", _shops(ring.get("merchants", []), frame) or none),
        ("victims", _shops(ring.get("victims", []), frame) or none),
        ("ring_orders", len(ring.get("orders", []))),
    ]
    signals = _table(
        ["signal", "value", "percentile", "explanation"],
        [(s.get("signal"), s.get("value"), text("not_applicable", lang) if s.get("percentile") is None
          else s["percentile"], (s.get("texts") or {}).get(lang, s.get("text")))
         for s in ring.get("signals", [])],
        lang, table_id="signals", id_columns=1,
    )
    key_id = run_manifest.get("pseudonymisation", {}).get("key_id")
    caveat = f'<p class="caveat" id="caveat">{_e(words.caveat[lang])}</p>' if words.caveat else ""
    limitations = "".join(f"<li>{_e(item[lang])}</li>" for item in LIMITATIONS)
    footer = text("footer", lang, toolkit=toolkit.get("name", "antifraud"), version=toolkit.get("version", "unknown"),
                  command=run_manifest.get("command", "detect"), seed=run_manifest.get("parameters", {}).get("seed"),
                  issued=(run_manifest.get("issued") or {}).get("at", text("unknown", lang)))
    return f"""<!DOCTYPE html>
<html lang="{HTML_LANG[lang]}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(text("page_title", lang, title=title, ring=rid))}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1 id="title">{_e(title)} <code>{_e(rid)}</code></h1>
{_review_status(records, lang)}
{caveat}
<section><h2>{_e(text("summary", lang))}</h2>{_summary(ring, frame, targets, run_manifest, lang)}</section>
<dl class="facts">{''.join(f'<dt>{_e(text(k, lang))}</dt><dd>{_e(v)}</dd>' for k, v in facts)}</dl>
</header>
<section><h2>{_e(text("why", lang))}</h2>{signals}</section>
<section><h2>{_e(text("amounts", lang))}</h2>{_amounts(frame, targets, lang)}</section>
<section><h2>{_e(text("reviews", lang))}</h2>{_reviews(frame, lang)}</section>
<section><h2>{_e(text("pictures", lang))}</h2>{figures}</section>
<section><h2>{_e(text("members", lang))}</h2>
<p>{_e(text("pseudonyms_note", lang, key=text("key_id", lang, key_id=key_id) if key_id else ""))}</p>
{_members(ring, frame, targets, lang)}</section>
<section><h2>{_e(text("records", lang))}</h2>{_records(records, run_manifest, lang)}</section>
<section><h2>{_e(text("inputs", lang))}</h2>{_inputs(run_manifest, lang)}</section>
<section><h2>{_e(text("glossary", lang))}</h2>{_glossary(kind, lang)}</section>
<section><h2>{_e(text("limitations", lang))}</h2><ul id="limitations">{limitations}</ul></section>
<footer>{_e(footer)}</footer>
</body>
</html>
"""
