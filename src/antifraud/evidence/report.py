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
from antifraud.findings.rings import listed_targets, target_role

__all__ = ["CSP", "Picture", "render_report", "ring_pictures"]

#: The page's Content-Security-Policy: images from data: URIs and inline styles, nothing else.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = """
body { font: 14px/1.45 system-ui, "Noto Sans CJK SC", sans-serif; margin: 2em auto; max-width: 1000px;
       padding: 0 1em; color: #1b1b1b; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.8em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2em 1.2em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; }
th, td { border: 1px solid #d0d0d0; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f1f3f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, td.id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .92em; word-break: break-all; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { color: #555; font-size: .92em; }
footer { margin-top: 2em; color: #555; font-size: .9em; }
"""


def _e(value: object) -> str:
    """``value`` as escaped HTML text (quotes included)."""
    return html.escape(str(value), quote=True)


def _cell(value: object) -> str:
    """A table cell: numbers right-aligned, missing values as an en dash, everything escaped."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "<td>&ndash;</td>"
    if isinstance(value, bool):
        return f"<td>{_e('yes' if value else 'no')}</td>"
    if isinstance(value, (int, float, np.integer, np.floating)):
        text = f"{value:,}" if isinstance(value, (int, np.integer)) else f"{value:,.4g}"
        return f'<td class="num">{_e(text)}</td>'
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return f"<td>{_e(value)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, table_id: str | None = None,
           id_columns: int = 0) -> str:
    """An HTML table; the first ``id_columns`` cells of each row are set as identifiers."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = [f'<td class="id">{_e(v)}</td>' for v in row[:id_columns]]
        cells += [_cell(v) for v in row[id_columns:]]
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


def ring_pictures(ring: dict, orders: pa.Table | pd.DataFrame, run_manifest: dict) -> list[Picture]:
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
    role = "victims" if target_role(ring.get("victims") or []) == "victim" else "ring merchants"
    graph = ring_graph_png(ours["buyer_id"].to_numpy(), ours["seller_id"].to_numpy(), targets, role=role, seed=seed)
    timeline = timeline_png(_utc(shops["created_at"]), shops["seller_id"].to_numpy(), shops["in_ring"].to_numpy(),
                            merchants=targets)
    ratings = shops["rating"].astype("float64") if "rating" in shops else pd.Series(np.nan, index=shops.index)
    reviewed = ours[ratings.reindex(ours.index).notna()]["seller_id"].value_counts()
    shop = reviewed.index[0] if reviewed.size else (targets[0] if targets else "")
    at = (shops["seller_id"] == shop).to_numpy()
    posted = shops["reviewed_at"].fillna(shops["created_at"]) if "reviewed_at" in shops else shops["created_at"]
    weights = shops["weight"].to_numpy()[at] if "weight" in shops else None
    history = rating_history_png(_utc(posted[at]), ratings[at].to_numpy(), shops["in_ring"].to_numpy()[at], shop=shop,
                                 weights=weights)
    return [
        Picture("ring-graph.png", "ring-graph", graph,
                alt=f"Graph of ring {rid}: {ours['buyer_id'].nunique()} accounts and their {len(ours)} orders "
                    f"at its {role} {', '.join(targets)}",
                caption="Accounts (blue) and shops (squares; the ring's in red), joined by their orders; "
                        "thicker lines are more orders."),
        Picture("timeline.png", "timeline", timeline,
                alt=f"Time line of the orders at {', '.join(targets)}: {len(ours)} ring orders (red) "
                    f"against {int((~shops['in_ring']).sum())} organic orders (grey)",
                caption="Every order at the ring's shops by creation time: the ring's (red) and the others (grey; "
                       "for a big shop an even sample over time)."),
        Picture("rating-history.png", "rating-history", history,
                alt=f"Rating history of {shop}: average rating and number of reviews over time, "
                    "ring reviews against the organic baseline",
                caption=f"Reviews at {shop} (the ring's shop with the most ring reviews): average rating "
                        "and count, ring reviews (red) against the organic ones (grey)."),
    ]


def _members(ring: dict, orders: pd.DataFrame, targets: list[str]) -> str:
    ours = orders[orders["in_ring"]]
    by_account = ours.groupby("buyer_id")["created_at"].agg(["size", "min", "max"]).reindex(ring["accounts"])
    counts = by_account["size"].fillna(0).astype(int).tolist()
    first, last = (_when(by_account[c]).astype(object).where(by_account[c].notna(), None) for c in ("min", "max"))
    accounts = _table(
        ["account (pseudonymised)", "ring orders", "first ring order", "last ring order"],
        list(zip(ring["accounts"], counts, first, last)),
        id_columns=1,
    )
    rated = "rating" in orders
    rows = []
    for shop in targets:
        at = orders[orders["seller_id"] == shop]
        mine = at["in_ring"].to_numpy()
        ring_mean = at["rating"][mine].astype("float64").mean() if rated else np.nan
        organic_mean = at["rating"][~mine].astype("float64").mean() if rated else np.nan
        weight = at["weight"].to_numpy() if "weight" in at else np.ones(len(at))
        others = float(weight[~mine].sum())
        rows.append((shop, target_role(ring.get("victims") or []), int(mine.sum()),
                     round(others), mine.sum() / (mine.sum() + others) if len(at) else None, ring_mean, organic_mean))
    merchants = _table(["shop", "role", "ring orders", "other orders", "ring share", "ring mean rating",
                        "organic mean rating"], rows, id_columns=1)
    return (f"<h3>Merchants ({len(targets)})</h3>{merchants}"
            f"<h3>Accounts ({len(ring['accounts'])})</h3>{accounts}")


def _records(records: list[dict]) -> str:
    """One row per ``acr/1`` record about the ring (the full records are in the bundle's
    ``findings.jsonl``)."""
    if not records:
        return "<p>No finding records accompany this ring.</p>"
    rows = []
    for r in records:
        assessment, period = r["assessment"], r["behavior"]["period"]
        rows.append((r["id"], r["record_type"], _subject(r["subject"]), f"{r['status']} (version {r['version']})",
                     assessment["confidence"], assessment["human_reviewed"], r["sharing"]["level"],
                     f"{period['start'][:10]} to {period['end'][:10]}"))
    return (f"<p>{len(records)} records, issued by <code>{_e(records[0]['issuer']['member_id'])}</code>; "
            "each in full in <code>findings.jsonl</code>.</p>"
            + _table(["record", "type", "subject", "status", "confidence", "reviewed by a person", "sharing",
                      "period"], rows, id_columns=1))


def _subject(subject: dict) -> str:
    if "merchant" in subject:
        m = subject["merchant"]
        return f"merchant {m['uscc'] or ', '.join(m['shop_ids'])}" + (f" ({m['name']})" if m["name"] else "")
    if "account" in subject:
        return f"account {subject['account']['pseudonym']}"
    members = subject["ring"]["members"]
    accounts = sum(m["kind"] == "account" for m in members)
    return f"ring of {accounts} accounts and {len(members) - accounts} merchants"


def _inputs(run_manifest: dict) -> str:
    rows = [(i.get("path"), i.get("sha256"), i.get("bytes"), (i.get("rows") or {}).get("read"))
            for i in run_manifest.get("inputs", [])]
    return _table(["file", "sha256", "bytes", "rows read"], rows, id_columns=2)


def render_report(
    ring: dict,
    records: list[dict],
    orders: pa.Table | pd.DataFrame,
    run_manifest: dict,
    pictures: Sequence[Picture] | None = None,
) -> str:
    """Render one ring's evidence as a self-contained HTML page.

    Parameters
    ----------
    ring : dict
        The ring as in ``rings.jsonl``: ``ring_id``, ``accounts``, ``merchants``, ``victims``,
        ``orders``, ``score``, ``kind``, ``detectors``, ``signals`` and ``period``.
    records : list of dict
        The finding records about this ring (may be empty); shown as a table of their fields.
    orders : pyarrow.Table or pandas.DataFrame
        ``evidence/orders.parquet`` (or any part of it holding this ring's shops).
    run_manifest : dict
        The run's ``run.json``: inputs with their sha256, toolkit version, seed.
    pictures : sequence of Picture, optional
        The ring's pictures, if already drawn (:func:`ring_pictures` otherwise).

    Returns
    -------
    str
        The HTML page, images embedded as ``data:`` URIs; it loads nothing else.
    """
    rid = str(ring["ring_id"])
    targets = listed_targets(ring)
    frame = _ring_orders(orders, rid, targets)
    figures = "".join(_image(p.png, image_id=p.image_id, alt=p.alt, caption=p.caption)
                      for p in (pictures if pictures is not None else ring_pictures(ring, orders, run_manifest)))
    toolkit = run_manifest.get("toolkit", {})
    seed = run_manifest.get("parameters", {}).get("seed")
    period = ring.get("period")
    facts = [
        ("kind", ring.get("kind")),
        ("score", f"{float(ring['score']):.3f}"),
        ("period", f"{period[0]} to {period[1]}" if period else "no orders"),
        ("detectors", ", ".join(ring.get("detectors", []))),
        ("accounts", len(ring.get("accounts", []))),
        ("merchants (beneficiaries)", ", ".join(ring.get("merchants", [])) or "none"),
        ("victims", ", ".join(ring.get("victims", [])) or "none"),
        ("ring orders", len(ring.get("orders", []))),
    ]
    signals = _table(
        ["signal", "value", "population percentile", "explanation"],
        [(s.get("signal"), s.get("value"), "n/a" if s.get("percentile") is None else s["percentile"], s.get("text"))
         for s in ring.get("signals", [])],
        table_id="signals", id_columns=1,
    )
    key_id = run_manifest.get("pseudonymisation", {}).get("key_id")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence: brushing ring {_e(rid)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>Brushing ring <code>{_e(rid)}</code></h1>
<dl class="facts">{''.join(f'<dt>{_e(k)}</dt><dd>{_e(v)}</dd>' for k, v in facts)}</dl>
</header>
<section><h2>Why it is suspicious</h2>{signals}</section>
<section><h2>Pictures</h2>{figures}</section>
<section><h2>Members</h2>
<p>Account and personal identifiers are pseudonyms as written by the run{
    f' (key id <code>{_e(key_id)}</code>)' if key_id else ''}; no raw personal data is shown.</p>
{_members(ring, frame, targets)}</section>
<section><h2>Finding records</h2>{_records(records)}</section>
<section><h2>Inputs</h2>{_inputs(run_manifest)}</section>
<footer>Produced by {_e(toolkit.get('name', 'antifraud'))} {_e(toolkit.get('version', 'unknown'))}
(command <code>{_e(run_manifest.get('command', 'detect'))}</code>, seed {_e(seed)}, findings issued
{_e((run_manifest.get('issued') or {}).get('at', 'unknown'))}).</footer>
</body>
</html>
"""
