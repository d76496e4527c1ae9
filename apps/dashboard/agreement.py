"""How a market row says where its sources disagree: a mark, who says what, and why one was chosen.

The market price of an offering is one source's statement, chosen by the policy in
:mod:`apps.pricing.market` (newest confirmation wins, source priority breaks ties); the
others stay beside it as evidence. This module turns a row's evidence
(:class:`apps.dashboard.selectors.Word`, chosen first) into what the pages show and the
exports write: the mark ("⚠ sources differ (+23.1 %)"), the other sources' values as one
line of text, a tooltip and the body of an expandable cell. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .selectors import Word, agreement_note
from .tables import as_decimal

POLICY = "The market price is the newest confirmed source statement; source priority breaks ties."
EXTRA_COMPONENTS = (("cached_input_usd_per_mtok", "cached"), ("cache_write_usd_per_mtok", "cache write"),
                    ("reasoning_usd_per_mtok", "reasoning"))


def number(value: Decimal | None) -> str:
    """An exact price as written in evidence: 0.65, 3, 0.000125; "—" for none."""
    exact = as_decimal(value, 8)
    return "—" if exact is None else format(exact, "f")


def day(value: datetime | None) -> str:
    if value is None:
        return "no date"
    return (value.astimezone(UTC) if value.tzinfo else value).strftime("%Y-%m-%d")


def values_text(word: Word) -> str:
    """"0.65/2.75" (input/output), with cached and other components where the source gives them; a label
    (free, variable, unknown) where the source states one instead of a number."""
    if word.price_label and all(v is None for v in word.values):
        return word.price_label
    text = f"{number(word.value('input_usd_per_mtok'))}/{number(word.value('output_usd_per_mtok'))}"
    for component, name in EXTRA_COMPONENTS:
        value = word.value(component)
        if value is not None:
            text += f", {name} {number(value)}"
    if word.price_label:
        text += f" ({word.price_label})"
    return text


def word_text(word: Word) -> str:
    """"litellm: 0.65/2.75 (2024-09-22)": a source, its values, its last confirmation."""
    return f"{word.source}: {values_text(word)} ({day(word.last_confirmed_at)})"


def other_sources(words: Sequence[Word]) -> str:
    """Every source but the chosen one, as one line: what the export's "Other sources" column holds."""
    return "; ".join(word_text(word) for word in words[1:])


def agreement_text(agree: bool | None, count: int, gap: Decimal | None) -> str | None:
    """The cell a person reads: the mark where sources differ, else how many sources say the same."""
    if agree is None or pd.isna(agree):
        return None
    if not agree:
        return agreement_note(False, gap)
    return "✓ one source" if count <= 1 else f"✓ {count} sources agree"


def short_mark(agree: bool | None, gap: Decimal | None) -> str:
    """The mark where space is short (a ranking line): "⚠ +97.5 %"."""
    if agree is None or pd.isna(agree) or agree:
        return ""
    return "⚠" if gap is None else f"⚠ +{gap.quantize(Decimal('0.1')).normalize():f} %"


def title_text(words: Sequence[Word], why: str) -> str:
    """Who says what, for a tooltip: the chosen source first and why it was chosen."""
    if not words:
        return ""
    parts = [f"{words[0].source} {values_text(words[0])} (last confirmed {day(words[0].last_confirmed_at)}; "
             f"chosen: {why})"]
    parts += [f"{w.source} {values_text(w)} (last confirmed {day(w.last_confirmed_at)})" for w in words[1:]]
    return "Who says what: " + "; ".join(parts)


def evidence_html(words: Sequence[Word], why: str) -> SafeString:
    """The body of the expandable cell: each source's values and last confirmation, the chosen one marked,
    values that differ from the chosen one highlighted, and why it was chosen. Every piece is escaped
    (a page of a provider with hundreds of offerings builds this per row: plain f-strings, not templates)."""
    components = [("input_usd_per_mtok", "Input"), ("output_usd_per_mtok", "Output"),
                  ("cached_input_usd_per_mtok", "Cached input")]
    components += [(c, name.capitalize()) for c, name in EXTRA_COMPONENTS[1:]
                   if any(w.value(c) is not None for w in words)]
    chosen = words[0]
    head = "".join(f'<th scope="col" class="num">{label}</th>' for _, label in components)
    rows = []
    for index, word in enumerate(words):
        cells = []
        for component, _ in components:
            value, reference = word.value(component), chosen.value(component)
            differs = index > 0 and value is not None and reference is not None and value != reference
            cells.append(f'<td class="num{" differs" if differs else ""}">{number(value)}</td>')
        tag = ' <span class="chosen-tag">chosen</span>' if index == 0 else ""
        label = f' <span class="hint">{escape(word.price_label)}</span>' if word.price_label else ""
        css = ' class="chosen"' if index == 0 else ""
        rows.append(f'<tr{css}><th scope="row" '
                    f'title="{escape(word.source_model_id)}">{escape(word.source)}{label}{tag}</th>{"".join(cells)}'
                    f"<td>{day(word.last_confirmed_at)}</td></tr>")
    return mark_safe(  # noqa: S308 - every value above is escaped or a number or date we formatted
        f'<table class="evidence-table"><caption>Chosen: {escape(chosen.source)}, {escape(why)}. {POLICY}</caption>'
        f'<thead><tr><th scope="col">Source</th>{head}<th scope="col">Last confirmed</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>')


def annotate(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the agreement columns the tables, charts and exports read to a market frame
    (:func:`apps.dashboard.selectors.market_offering_prices`). The HTML-only columns (tooltip, expandable
    body) come from :func:`with_evidence`, once a page knows which rows it shows."""
    if frame.empty:
        return frame.assign(agreement=[], market_note=[], market_mark=[], other_sources=[])
    records = list(zip(frame["sources_agree"], frame["source_count"], frame["max_gap_pct"], frame["words"],
                       strict=True))
    return frame.assign(
        agreement=[agreement_text(a, n, g) for a, n, g, _ in records],
        market_note=[agreement_note(None if a is None or pd.isna(a) else bool(a), g) for a, _, g, _ in records],
        market_mark=[short_mark(a, g) for a, _, g, _ in records],
        other_sources=[other_sources(w) for _, _, _, w in records],
    )


def with_evidence(frame: pd.DataFrame) -> pd.DataFrame:
    """Who says what, for the rows a page shows: a tooltip and the body of the expandable cell, for
    offerings with more than one source (one source's name and date are in the row already)."""
    if frame.empty or "words" not in frame:
        return frame.assign(evidence_title=[], evidence_html=[]) if frame.empty else frame
    pairs = list(zip(frame["words"], frame["why"], strict=True))
    return frame.assign(evidence_title=[title_text(w, why) if len(w) > 1 else "" for w, why in pairs],
                        evidence_html=[evidence_html(w, why) if len(w) > 1 else None for w, why in pairs])
