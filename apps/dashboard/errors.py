"""A page's object that does not exist, said on the 404 page with the nearest ones that do.

An analyst who types ``/models/llama-3.3-70b-instruc/`` or follows a link to a provider renamed since gets the
reason ("No canonical model …") and the few real slugs closest to what was asked, as links, instead of a bare
"Not Found" (tokenwatch.errors renders it).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

# How close a slug must be to be offered (difflib's ratio): 0.6 is difflib's own default, and keeps
# "llama-3.3-70b-instruc" -> "llama-3.3-70b-instruct" while dropping unrelated names.
CUTOFF = 0.6
SUGGESTIONS = 5


class Missing(Http404):
    """Http404 with a message written for the reader and links to what they may have meant: (label, url)."""

    def __init__(self, message: str, suggestions: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)


def nearest(asked: str, names: dict[str, str], url: Callable[[str], str]) -> list[tuple[str, str]]:
    """The slugs of ``names`` (slug -> label) closest to ``asked``, best first, as (label, url) links."""
    if not asked or len(asked) > 200:  # a long hostile string is compared with nothing
        return []
    lowered = {slug.lower(): slug for slug in names}
    close = difflib.get_close_matches(asked.lower(), list(lowered), n=SUGGESTIONS, cutoff=CUTOFF)
    return [(f"{names[lowered[c]]} ({lowered[c]})", url(lowered[c])) for c in close]


def missing(what: str, rows: QuerySet, slug: str, url: Callable[[str], str]) -> Missing:
    """No ``what`` (a canonical model, a provider) called ``slug`` among ``rows``: the 404 with the closest of
    them, each linked by ``url(slug)``."""
    return Missing(f"No {what} {slug!r}.", nearest(slug, dict(rows.values_list("slug", "name")), url))


def with_model(request: HttpRequest, slug: str) -> str:
    """The request's query string with ``model`` set to ``slug`` (a page's other filters kept)."""
    query = request.GET.copy()
    query.setlist("model", [slug])
    return query.urlencode()
