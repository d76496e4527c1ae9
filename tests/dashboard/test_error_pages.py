"""Error pages a reader can act on: the reason our views wrote, the nearest real pages, the site's navigation;
JSON under /api/; never Django's bare "Not Found" nor a traceback."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


def _page(response, status: int) -> str:
    assert response.status_code == status, response.status_code
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<nav aria-label="Main">' in html  # the site's frame, with its way back
    assert "The requested resource was not found on this server" not in html
    return html


def test_a_mistyped_model_says_so_and_offers_the_nearest(web):
    html = _page(web.get("/models/llama-3-70b-instruc/"), 404)
    assert "No canonical model &#x27;llama-3-70b-instruc&#x27;." in html
    assert 'href="/models/llama-3-70b-instruct/"' in html  # one click to what was meant


def test_a_mistyped_provider_says_so_and_offers_the_nearest(web):
    html = _page(web.get("/providers/grok/"), 404)
    assert "No provider &#x27;grok&#x27;." in html
    assert 'href="/providers/groq/"' in html


def test_compare_keeps_the_other_filters_in_its_suggestions(web):
    html = _page(web.get("/compare/", {"model": "llama-3-70b-instruc", "input_tokens": "5"}), 404)
    assert "No canonical model" in html
    assert 'href="?model=llama-3-70b-instruct&amp;input_tokens=5"' in html


def test_an_unrelated_name_gets_the_reason_and_no_suggestions(web):
    html = _page(web.get("/models/zzzzqqqq/"), 404)
    assert "No canonical model" in html and "Did you mean" not in html


def test_the_reader_s_text_is_escaped(web):
    html = _page(web.get("/models/<script>alert(1)<%2Fscript>/"), 404)
    assert "<script>alert(1)" not in html


def test_no_such_path_names_the_path_not_django_s_internals(web):
    html = _page(web.get("/no-such-page/"), 404)
    assert "There is no page at <code>/no-such-page/</code>." in html
    assert "Resolver404" not in html and "tried" not in html


def test_a_page_s_own_reason_is_shown(web):
    html = _page(web.get("/compare/", {"download": "pdf", "table": "offerings"}), 404)
    assert "No such download: use download=csv or download=xlsx" in html


def test_api_paths_answer_json(web):
    response = web.get("/api/no-such/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    response = web.get("/api/v1/no-such/")  # the API's own catch-all, unchanged
    assert response.status_code == 404 and "No such API resource" in response.json()["detail"]


def test_a_request_too_big_to_read_is_a_400_page(web):
    response = web.get("/?" + "&".join(f"p{i}=1" for i in range(1200)))  # over DATA_UPLOAD_MAX_NUMBER_FIELDS
    html = _page(response, 400)
    assert "Bad request" in html and "DATA_UPLOAD_MAX_NUMBER_FIELDS" not in html


def test_a_server_error_says_so_without_internals(db, settings):
    settings.ROOT_URLCONF = "tests.dashboard.urls_boom"
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Server error" in html and 'href="/"' in html
    assert "hunter2" not in html and "Traceback" not in html and "RuntimeError" not in html
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500 and "Server error" in response.json()["detail"]
    assert "hunter2" not in response.content.decode()


def test_permission_denied_has_the_frame_and_a_way_in(db, settings):
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from tokenwatch.errors import permission_denied

    request = RequestFactory().get("/sources/")
    from django.contrib.auth.models import AnonymousUser
    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied("Reviews are for staff."))
    html = _page(response, 403)
    assert "Reviews are for staff." in html and "/accounts/login/?next=/sources/" in html


def test_a_404_from_a_kept_page_has_the_account_corner(web, settings):
    # The page cache has base.html write a marker for the account corner while a page is computed; a page
    # that raised must not leave it set for the error page (an empty corner: no way to sign in).
    settings.TOKENWATCH_PAGE_CACHE = True
    html = _page(web.get("/models/llama-3-70b-instruc/"), 404)
    assert "<!--tokenwatch:account-->" not in html and ">Sign in</a>" in html
