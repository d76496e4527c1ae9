"""No broken links (issue 13): a missing URL is never an href, an unresolved model id reads as the source's raw id
(a link to the curation queue for staff), and every internal link on every page leads somewhere."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pandas as pd
import pytest
from django.urls import reverse

from apps.dashboard.pages.common import link_models, link_providers
from apps.dashboard.tables import Column, cell
from apps.dashboard.templatetags.dashboard import _row_html

# Every page of apps/dashboard/urls.py without an argument, and the data-quality page the sources page links to.
START = ["/", "/trends/", "/compare/", "/benchmarks/", "/market/", "/sources/", "/models/", "/providers/",
         "/quality/"]
HREF = re.compile(r'href="([^"]*)"')
BROKEN = {"", "nan", "none", "null", "undefined", "#"}


def _hrefs(html: str) -> list[str]:
    return HREF.findall(html)


def _broken(href: str) -> bool:
    path = urlsplit(href).path.lower()
    return href.strip().lower() in BROKEN or any(part in BROKEN - {""} for part in path.split("/"))


def test_it_never_links_a_missing_slug():
    frame = pd.DataFrame({"model_slug": ["llama-3-70b-instruct", "", None, math.nan],
                          "provider_slug": [math.nan, "groq", None, ""]})
    linked = link_providers(link_models(frame))
    assert linked["model_url"].tolist() == ["/models/llama-3-70b-instruct/", None, None, None]
    assert linked["provider_url"].tolist() == [None, "/providers/groq/", None, None]


@pytest.mark.parametrize("href", [math.nan, None, "", pd.NA, float("nan")])
def test_it_renders_a_cell_without_a_url_as_text(href):
    made = cell(Column("model", "Model", link="model_url"), "groq/llama3-70b-8192", href=href)
    assert made.href is None
    assert "href" not in _row_html([made])
    assert "groq/llama3-70b-8192" in _row_html([made])


def test_it_shows_an_unresolved_id_as_the_sources_raw_id(web):
    html = web.get("/providers/groq/").content.decode()
    assert "(unresolved id)" not in html
    # llama2-70b-4096 has no canonical model in the subset: its own id, as text, not a link.
    assert ">groq/llama2-70b-4096<" in html
    assert 'href="/admin/' not in html


def test_it_links_an_unresolved_id_to_the_curation_queue_for_staff(web, admin_user):
    web.force_login(admin_user)
    html = web.get("/providers/groq/").content.decode()
    queue = reverse("admin:catalog_modelalias_changelist")
    links = [h.replace("&amp;", "&") for h in _hrefs(html) if h.startswith(queue)]
    assert links, "no link to the curation queue"
    asked = parse_qs(urlsplit(links[0]).query)
    assert asked["queue"] == ["unresolved"] and asked["q"][0].startswith("groq/")
    response = web.get(links[0])
    assert response.status_code == 200 and asked["q"][0] in response.content.decode()


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    settings.TOKENWATCH_PAGE_THROTTLE_ANON = None  # a crawl is hundreds of anonymous requests
    return client


def _kind(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Links that differ only in a sort column or a page number, or only in the slug of a page already visited
    with that query, can only fail the same way: one of each is followed. Downloads keep their format and
    table (an unknown table is a 404)."""
    parts = urlsplit(url)
    query = tuple(sorted((key, value if key in ("download", "table") else "")
                         for key, values in parse_qs(parts.query, keep_blank_values=True).items() for value in values))
    path = parts.path
    if query:
        path = re.sub(r"^/(models|providers)/[^/]+/$", r"/\1/<slug>/", path)
    return path, query


def _crawl(client) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Every start page, then every model and provider page they link to; every kind of internal link on those
    pages (:func:`_kind`) followed once. Returns (page: broken hrefs) and (link: status) for the links that did
    not lead anywhere."""
    broken: dict[str, list[str]] = {}
    internal: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    pages = list(START)
    seen: set[str] = set()
    while pages:
        url = pages.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        for href in _hrefs(response.content.decode()):
            if _broken(href):
                broken.setdefault(url, []).append(href)
                continue
            target = urljoin(url, href.replace("&amp;", "&"))
            if urlsplit(target).netloc or target.startswith("/static/"):
                continue
            internal.setdefault(_kind(target), target)
            if url in START and re.fullmatch(r"/(models|providers)/[^/?#]+/", target):
                pages.append(target)  # a detail page linked from a list: crawl it too
    dead = {}
    for target in sorted(set(internal.values()) - seen):
        status = client.get(target).status_code
        if status == 404 or status >= 500:
            dead[target] = status
    return broken, dead


def test_it_has_no_broken_link_on_any_page(web):
    broken, dead = _crawl(web)
    assert broken == {}
    assert dead == {}


def test_it_has_no_broken_link_for_staff(web, admin_user):
    web.force_login(admin_user)
    broken, dead = _crawl(web)
    assert broken == {}
    assert dead == {}
