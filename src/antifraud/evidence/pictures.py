"""Pictures of a ring for its evidence report, as PNG bytes.

Each function draws on its own :class:`matplotlib.figure.Figure` with the Agg canvas (never
``pyplot``), inside an :func:`matplotlib.rc_context` with a fixed style, so nothing leaks into
or from the caller's matplotlib state, and the same input gives the same bytes (PNG metadata
carries no software version or date).

Times are anything :class:`numpy.datetime64` accepts (epoch seconds included) and are drawn in
UTC. Labels are in the language asked for (:mod:`antifraud.evidence.wording`, Chinese by default).
Latin text is drawn in DejaVu Sans, and Chinese (labels and shop names alike) in the first
installed font that covers it (:func:`cjk_font`, e.g. WenQuanYi Micro Hei from ``make system``);
without one, Chinese labels fall back to English, so that the pictures draw no boxes of their own.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.font_manager import findSystemFonts, fontManager
from matplotlib.ft2font import FT2Font
from numpy.typing import ArrayLike

from antifraud.evidence.wording import DEFAULT_LANGUAGE, counted, text

__all__ = ["CJK_SAMPLE", "cjk_font", "picture_language", "rating_history_png", "ring_graph_png", "timeline_png"]

RING_COLOUR = "#c62828"
ORGANIC_COLOUR = "#90a4ae"
ACCOUNT_COLOUR = "#1565c0"

#: Characters a font must cover to draw the pictures' Chinese: common ones of labels and shop names.
CJK_SAMPLE = "店铺账户订单评价团伙旗舰专营"

_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "date.epoch": "1970-01-01T00:00:00",
}


def _covers(path: str, sample: str) -> bool:
    """Whether the font file at ``path`` has a glyph of its own for each character of ``sample``
    (distinct glyphs: a last-resort font maps a whole block to one placeholder box)."""
    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError):  # a font file FreeType cannot read is no candidate
        return False
    glyphs = [charmap.get(ord(c), 0) for c in set(sample)]
    return 0 not in glyphs and len(set(glyphs)) == len(glyphs)


@functools.cache
def cjk_font() -> str | None:
    """The family name of the first installed font (by name) that covers :data:`CJK_SAMPLE`, or
    ``None`` when there is none.

    Fonts installed after matplotlib built its font cache are added to its font manager first,
    so a font installed by ``make system`` is found without clearing the cache.
    """
    known = {entry.fname for entry in fontManager.ttflist}
    for path in sorted(set(findSystemFonts()) - known):
        if _covers(path, CJK_SAMPLE):
            fontManager.addfont(path)
    covering = sorted({(entry.name, entry.fname) for entry in fontManager.ttflist if _covers(entry.fname, CJK_SAMPLE)})
    return covering[0][0] if covering else None


def picture_language(lang: str) -> str:
    """The language the pictures are labelled in when ``lang`` is asked for: Chinese only with a
    font that draws it (:func:`cjk_font`), English otherwise.

    Examples
    --------
    >>> picture_language("en")
    'en'
    """
    return "en" if lang == "zh" and cjk_font() is None else lang


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    """A figure on an Agg canvas, drawn under the module's fixed style; Latin text in DejaVu Sans,
    the rest in the CJK font where one is installed."""
    cjk = cjk_font()
    with matplotlib.rc_context({**_STYLE, "font.family": ["DejaVu Sans", *([cjk] if cjk else [])]}):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _times(values: ArrayLike) -> np.ndarray:
    """Times as ``datetime64[s]`` (naive UTC); epoch seconds are taken as such."""
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[s]")
    if arr.dtype == object:  # timezone-aware pandas timestamps
        return pd.to_datetime(arr, utc=True).tz_localize(None).to_numpy().astype("datetime64[s]")
    return arr.astype(np.int64).astype("datetime64[s]")


def _date_axis(ax: Axes) -> None:
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set_axis_off()


def ring_graph_png(
    buyers: ArrayLike, sellers: ArrayLike, merchants: Sequence[str], *, role: str = "merchants",
    seed: int = 0, max_labels: int = 30, lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """The ring as a bipartite graph: accounts and shops, one edge per pair weighted by orders.

    Parameters
    ----------
    buyers, sellers : array-like of str
        Account and shop of each of the ring's orders.
    merchants : sequence of str
        The ring's merchants (or victims): drawn as large red squares; other shops grey.
    role : {"merchants", "victims"}
        What ``merchants`` are, for the legend.
    seed : int
        Seed of the spring layout.
    max_labels : int
        Accounts are labelled only when there are at most this many (shops always are).
    lang : {"zh", "en"}
        Language of the labels (:func:`picture_language`).

    Returns
    -------
    bytes
        A PNG image.

    Examples
    --------
    >>> png = ring_graph_png(["a1", "a2", "a2"], ["s1", "s1", "s2"], ["s1"])
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    pairs = pd.DataFrame({"buyer": np.asarray(buyers, dtype=str), "seller": np.asarray(sellers, dtype=str)})
    counts = pairs.groupby(["buyer", "seller"], sort=True).size()
    accounts = sorted(set(pairs["buyer"]))
    shops = sorted(set(pairs["seller"]))
    graph = nx.Graph()
    graph.add_nodes_from(("a", a) for a in accounts)
    graph.add_nodes_from(("s", s) for s in shops)
    graph.add_weighted_edges_from((("a", b), ("s", s), int(n)) for (b, s), n in counts.items())
    lang = picture_language(lang)
    with _figure(7.5, 6.0) as fig:
        ax = fig.add_subplot()
        ax.set_axis_off()
        if not accounts:
            _empty(ax, text("no_orders", lang))
            return _png(fig)
        # Shops fixed on a circle, so that accounts ordering from all of them cannot pile them up.
        angles = 2 * np.pi * np.arange(len(shops)) / len(shops)
        radius = 0.0 if len(shops) == 1 else 1.0
        fixed = {("s", s): (radius * np.cos(a), radius * np.sin(a)) for s, a in zip(shops, angles)}
        pos = nx.spring_layout(graph, pos=fixed, fixed=list(fixed), seed=seed, weight="weight")
        weights = np.array([d["weight"] for _, _, d in graph.edges(data=True)], dtype=float)
        segments = [(pos[u], pos[v]) for u, v in graph.edges()]
        ax.add_collection(LineCollection(segments, linewidths=0.4 + 2.6 * weights / weights.max(),
                                         colors="#78909c", alpha=0.6, zorder=1))
        acc = np.array([pos[("a", a)] for a in accounts])
        ax.scatter(acc[:, 0], acc[:, 1], s=18, c=ACCOUNT_COLOUR, zorder=2,
                   label=text("legend_accounts", lang, n=len(accounts)))
        ours = set(merchants)
        for flag, colour, label in ((True, RING_COLOUR, text(f"role_{role}", lang)),
                                    (False, ORGANIC_COLOUR, text("other_shops", lang))):
            chosen = [s for s in shops if (s in ours) == flag]
            if chosen:
                xy = np.array([pos[("s", s)] for s in chosen])
                ax.scatter(xy[:, 0], xy[:, 1], s=160, marker="s", c=colour, edgecolors="black", zorder=3,
                           label=text("legend_count", lang, label=label, n=len(chosen)))
        labelled = [("s", s) for s in shops] + ([("a", a) for a in accounts] if len(accounts) <= max_labels else [])
        for node in labelled:
            x, y = pos[node]
            shop = node[0] == "s"
            box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
            ax.annotate(node[1], (x, y), xytext=(0, 9), textcoords="offset points", ha="center",
                        fontsize=8 if shop else 6, zorder=5 if shop else 4, bbox=box if shop else None)
        ax.legend(loc="lower left", fontsize=8, frameon=False)
        ax.set_title(text("graph_title", lang, accounts=counted("n_accounts", len(accounts), lang),
                          shops=counted("n_shops", len(shops), lang), orders=counted("n_orders", len(pairs), lang)))
        ax.autoscale()
        ax.margins(0.08)
        return _png(fig)


def timeline_png(
    times: ArrayLike, sellers: ArrayLike, in_ring: ArrayLike, *, merchants: Sequence[str] | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """Orders on a time line, one row per shop: the ring's orders against the shop's organic ones.

    Parameters
    ----------
    times : array-like
        Creation time of each order.
    sellers : array-like of str
        Shop of each order.
    in_ring : array-like of bool
        Whether each order is one of the ring's.
    merchants : sequence of str, optional
        The shops to show, top to bottom (default: every shop, sorted).
    lang : {"zh", "en"}
        Language of the labels (:func:`picture_language`).

    Returns
    -------
    bytes
        A PNG image.

    Examples
    --------
    >>> png = timeline_png([0, 3600, 7200], ["s1", "s1", "s2"], [True, False, True])
    >>> png[:4] == b"\\x89PNG"
    True
    """
    when = _times(times)
    sellers = np.asarray(sellers, dtype=str)
    ring = np.asarray(in_ring, dtype=bool)
    rows = list(merchants) if merchants is not None else sorted(set(sellers.tolist()))
    row_of = {s: k for k, s in enumerate(rows)}
    y = np.array([row_of.get(s, -1) for s in sellers.tolist()], dtype=float)
    shown = y >= 0
    # Spread the points of a row a little (seeded) so that simultaneous orders stay visible.
    y = y + np.random.default_rng(0).uniform(-0.3, 0.3, y.size)
    lang = picture_language(lang)
    with _figure(8.0, 1.6 + 0.45 * max(len(rows), 1)) as fig:
        ax = fig.add_subplot()
        if not shown.any():
            _empty(ax, text("no_orders", lang))
            return _png(fig)
        organic = shown & ~ring
        ax.scatter(when[organic], y[organic], s=6, c=ORGANIC_COLOUR, alpha=0.6, linewidths=0,
                   label=text("organic_orders", lang, n=int(organic.sum())))
        ours = shown & ring
        ax.scatter(when[ours], y[ours], s=12, c=RING_COLOUR, alpha=0.8, linewidths=0,
                   label=text("ring_orders_legend", lang, n=int(ours.sum())))
        ax.set_yticks(range(len(rows)), rows)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        _date_axis(ax)
        ax.set_xlabel(text("order_created", lang))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        ax.set_title(text("timeline_title", lang))
        return _png(fig)


def _bins(seconds: np.ndarray, daily: bool) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each time (days, or weeks starting on Monday) and each bin's start.

    Examples
    --------
    >>> codes, starts = _bins(np.array([0, 86400 * 4]), daily=False)  # a Thursday, a Monday
    >>> codes.tolist(), starts.astype(str).tolist()
    ([0, 1], ['1969-12-29', '1970-01-05'])
    """
    days = seconds // 86400
    keys = days if daily else (days + 3) // 7  # 1970-01-01 was a Thursday
    first = int(keys.min())
    codes = keys - first
    starts = np.arange(first, int(keys.max()) + 1)
    starts = starts if daily else starts * 7 - 3
    return codes, starts.astype("datetime64[D]")


def rating_history_png(
    times: ArrayLike, ratings: ArrayLike, in_ring: ArrayLike, *, shop: str, weights: ArrayLike | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """A shop's rating history: average and count per day (or week, over long spans), ring vs organic.

    Parameters
    ----------
    times : array-like
        When each review was posted.
    ratings : array-like of float
        Rating 1-5 of each review; NaN (no review) is left out.
    in_ring : array-like of bool
        Whether each review is on one of the ring's orders.
    shop : str
        The shop's id, for the title.
    weights : array-like of float, optional
        How many reviews each stands for (a sample of a big shop's organic reviews); counts are
        weighted, averages are not (a sample spread evenly over time keeps the average).
    lang : {"zh", "en"}
        Language of the labels (:func:`picture_language`).

    Returns
    -------
    bytes
        A PNG image; reviews are binned by day when they span at most 60 days, else by week.

    Examples
    --------
    >>> png = rating_history_png([0, 86400, 86400], [5, 5, 3], [True, True, False], shop="s1")
    >>> png[:4] == b"\\x89PNG"
    True
    """
    when = _times(times)
    rating = np.asarray(ratings, dtype=float)
    ring = np.asarray(in_ring, dtype=bool)
    weight = np.ones(rating.size) if weights is None else np.asarray(weights, dtype=float)
    known = ~np.isnan(rating) & ~np.isnat(when)
    when, rating, ring, weight = when[known], rating[known], ring[known], weight[known]
    lang = picture_language(lang)
    with _figure(8.0, 5.0) as fig:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        if not rating.size:
            _empty(top, text("no_reviews_at", lang, shop=shop))
            bottom.set_axis_off()
            return _png(fig)
        seconds = when.astype(np.int64)
        daily = seconds.max() - seconds.min() <= 60 * 86400
        codes, starts = _bins(seconds, daily)
        n_bins = starts.size
        days = 1 if daily else 7
        centres = starts.astype("datetime64[s]") + np.timedelta64(days * 43200, "s")
        below = np.zeros(n_bins)
        for flag, colour, label in ((False, ORGANIC_COLOUR, "organic"), (True, RING_COLOUR, "ring")):
            mine = ring == flag
            sampled = np.bincount(codes[mine], minlength=n_bins)
            total = np.bincount(codes[mine], weights=rating[mine], minlength=n_bins)
            mean = np.divide(total, sampled, out=np.full(n_bins, np.nan), where=sampled > 0)
            count = np.bincount(codes[mine], weights=weight[mine], minlength=n_bins)
            # NaN where a bin has no review breaks the line instead of bridging the gap.
            top.plot(centres, mean, marker="o", ms=3, lw=1.2, color=colour,
                     label=text(f"{label}_reviews", lang, n=f"{count.sum():,.0f}"))
            bottom.bar(starts, count, width=0.9 * days, bottom=below, align="edge", color=colour,
                       label=text(label, lang))
            below = below + count
        if (~ring).any():
            top.axhline(rating[~ring].mean(), color=ORGANIC_COLOUR, ls="--", lw=1,
                        label=text("organic_baseline", lang, mean=f"{rating[~ring].mean():.2f}"))
        top.set_ylim(0.8, 5.2)
        top.set_ylabel(text("average_rating", lang))
        top.legend(loc="lower left", fontsize=8, frameon=False)
        period = "day" if daily else "week"
        top.set_title(text(f"rating_title_{period}", lang, shop=shop))
        bottom.set_ylabel(text(f"reviews_per_{period}", lang))
        bottom.set_xlabel(text("review_posted", lang))
        _date_axis(bottom)
        return _png(fig)
