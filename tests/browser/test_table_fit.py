"""Tables fit a laptop: at 1440 px no table is wider than its box and no header is cut ('Chang', 'Kind');
on a phone a wide table scrolls inside its own box, never the page."""

from __future__ import annotations

import pytest

from apps.dashboard.tables import WHOLE_WORD

from .conftest import wait_for_charts

pytestmark = pytest.mark.browser

PAGES = ["/", "/trends/", "/trends/?model=llama-3-70b-instruct&lines=offering", "/compare/", "/benchmarks/",
         "/market/", "/sources/", "/models/", "/providers/", "/models/llama-3-70b-instruct/", "/models/gpt-4o/",
         "/providers/groq/"]

MEASURE = """() => Array.from(document.querySelectorAll('.table-scroll')).map(box => {
  const table = box.querySelector(':scope > table');
  const cut = Array.from(table.querySelectorAll(':scope > thead > tr > th'))
    .filter(th => th.scrollWidth > th.clientWidth + 1).map(th => th.dataset.header);
  return {name: table.dataset.table, table: table.scrollWidth, box: box.clientWidth, cut: cut};
})"""


def test_every_table_fits_its_box_at_1440_px(page, site):
    measured = 0
    for url in PAGES:
        page.goto(site + url)
        wait_for_charts(page)
        for table in page.evaluate(MEASURE):
            measured += 1
            assert table["cut"] == [], (url, table)
            assert table["table"] <= table["box"] + 1, (url, table)
    assert measured >= 10


def test_on_a_phone_wide_tables_scroll_inside_their_box(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(site + "/trends/")
        wait_for_charts(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        boxes = page.evaluate(MEASURE)
        assert any(b["table"] > b["box"] for b in boxes)  # one line per cell: the box scrolls sideways
        # The trend chart took its phone layout: the legend below the plot, the short axis title.
        assert page.get_attribute("#plot-trend", "data-narrow") == "true"
        layout = page.evaluate("document.getElementById('plot-trend').layout")
        assert layout["legend"]["orientation"] == "h" and layout["yaxis"]["title"]["text"].startswith("$/1M")
    finally:
        context.close()


# Table cells of one word of vocabulary ("standard", "observed", "published"): a word drawn on two lines is cut
# mid-word ("stand|ard"). Such a word of up to tables.WHOLE_WORD letters must be drawn whole wherever the table is
# squeezed; ids, keys and names of several words may still break, which is what lets a wide table fit (the test
# above). Free text that wraps (td.wrap) and badges (one line each) are left out.
CUT_WORDS = """(limit) => {
  const cut = [];
  for (const cell of document.querySelectorAll('.table-scroll > table > tbody :is(td, th)')) {
    const word = cell.textContent.trim();
    if (cell.matches('.wrap, .badge, .mark') || word.length > limit || !/^\\p{L}+$/u.test(word)) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (lines.size > 1) cut.push(word);
  }
  return cut;
}"""


def test_short_words_in_tables_are_never_cut_at_1440_px(page, site):
    for url in ["/providers/groq/", "/models/llama-3-70b-instruct/", "/compare/", "/trends/", "/", "/sources/"]:
        page.goto(site + url)
        wait_for_charts(page)
        assert page.evaluate(CUT_WORDS, WHOLE_WORD) == [], url
