"""Choose a provider (/advice/) in headless Chromium: the SLA form re-ranks, the charts draw with the SLA line,
the router export downloads in rank order, and the page fits a phone."""

from __future__ import annotations

import pytest
import yaml
from django.utils import timezone

from tests.browser.conftest import wait_for_charts
from tests.routing.conftest import MODEL, make_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def probed(site) -> tuple[str, str, str]:
    """The two cheapest priced providers of the model, probed: the cheaper slow, the dearer fast."""
    from apps.pricing.models import MarketPrice

    rows = MarketPrice.objects.filter(model__slug=MODEL, service_tier="standard", min_prompt_tokens=0,
                                      price_label="", input_usd_per_mtok__gt=0, output_usd_per_mtok__gt=0)
    slugs = sorted({(row.input_usd_per_mtok * 10 + row.output_usd_per_mtok * 2, row.provider.slug) for row in rows})
    (_, cheap), (_, dear) = slugs[0], next(s for s in slugs if s[1] != slugs[0][1])
    now = timezone.now()
    make_run(cheap, ttft_ms="420", tokens_per_s="250", error_rate="0", measured_at=now)
    make_run(dear, ttft_ms="150", tokens_per_s="90", error_rate="0", measured_at=now)
    return site, cheap, dear


def test_the_sla_form_reranks_and_the_charts_draw_the_sla(page, probed):
    site, cheap, dear = probed
    page.goto(f"{site}/advice/?model={MODEL}&input_mtok=10&output_mtok=2")
    assert wait_for_charts(page) == 2
    ranked = page.locator("[data-table=ranked] tbody tr")
    assert ranked.count() >= 2
    assert ranked.first.locator(f"a[href='/providers/{cheap}/']").count() == 1
    page.fill("#max_ttft_ms", "300")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**max_ttft_ms=300**")
    assert wait_for_charts(page) == 2
    assert "SLA ≤ 300 ms" in page.locator("#plot-ttft").inner_text()
    assert page.locator("[data-table=ranked] tbody tr").count() == 1
    assert ranked.first.locator(f"a[href='/providers/{dear}/']").count() == 1
    assert "TTFT p50 420 ms > 300 ms" in page.locator("[data-table=not-ranked]").inner_text()
    assert page.console_errors == []


def test_the_litellm_export_downloads_in_rank_order(page, probed):
    site, _, dear = probed
    page.goto(f"{site}/advice/?model={MODEL}&input_mtok=10&output_mtok=2&max_ttft_ms=300")
    with page.expect_download() as download:
        page.click("[data-download=litellm-yaml]")
    config = yaml.safe_load(open(download.value.path()).read())  # noqa: SIM115
    assert [d["model_info"]["provider"] for d in config["model_list"]] == [dear]


def test_it_fits_a_phone(browser, probed):
    site, _, _ = probed
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        phone.goto(f"{site}/advice/?model={MODEL}&max_ttft_ms=300&min_output_tokens_per_s=50")
        wait_for_charts(phone)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        assert phone.locator("#plot-ttft[data-narrow=true]").count() == 1
    finally:
        context.close()
