"""Size classes as people read them: ordered by size, with short labels ("7–8B", "300B+", "Frontier (closed)").

The stored value is the slug :func:`apps.catalog.identity.size_class` assigns
("7-8b-class"); URLs, filters and exports keep using it. Pages show the label
and list the classes smallest first, open models before closed ones: sorted
as text, "300b-plus-class" came before "40-65b-class".
"""

from __future__ import annotations

from collections.abc import Iterable

# Smallest first; the ranges are identity.size_class's buckets (published parameters, total for MoE).
SIZE_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("small", "≤4B", "Open models up to 4B parameters"),
    ("7-8b-class", "7–8B", "Open models of 4–10B parameters"),
    ("10-20b-class", "10–20B", "Open models of 10–20B parameters"),
    ("20-40b-class", "20–40B", "Open models of 20–40B parameters"),
    ("40-65b-class", "40–65B", "Open models of 40–65B parameters"),
    ("70b-class", "70B", "Open models of 65–75B parameters"),
    ("75-300b-class", "75–300B", "Open models of 75–300B parameters"),
    ("300b-plus-class", "300B+", "Open models of 300B parameters or more"),
    ("small-closed", "Small (closed)", "The small tiers of closed models: mini, nano, haiku, flash, lite…"),
    ("frontier-closed", "Frontier (closed)", "Closed models of undisclosed size, not a small tier"),
    ("unknown", "Size unknown", "Open models (or moving aliases) of undisclosed size"),
    ("unclassified", "Unclassified", "Models with no size class"),
)
_ORDER = {slug: position for position, (slug, _, _) in enumerate(SIZE_CLASSES)}
_LABELS = {slug: label for slug, label, _ in SIZE_CLASSES}
_DESCRIPTIONS = {slug: text for slug, _, text in SIZE_CLASSES}


def size_class_label(slug: str) -> str:
    """ "70b-class" → "70B"; a class this table does not know is shown as stored."""
    return _LABELS.get(slug, slug)


def size_class_description(slug: str) -> str:
    return _DESCRIPTIONS.get(slug, "")


def size_class_sort_key(slug: str) -> tuple[int, str]:
    """Smallest first; unknown classes after the known ones, alphabetically."""
    return (_ORDER.get(slug, len(_ORDER)), slug)


def size_class_choices(slugs: Iterable[str]) -> list[tuple[str, str]]:
    """(slug, label) for a picker, ordered by size."""
    return [(slug, size_class_label(slug)) for slug in sorted(set(slugs), key=size_class_sort_key)]
