"""What the page speed-ups (issues 13/14, bench/pages.py) must not change: select options built in Python are
the bytes the template loop wrote, and the server process keeps startup objects out of the GC's walks."""

import gc

import pytest
from django.template import engines

from apps.dashboard.pages.common import options_html

TEMPLATE_LOOP = ('{% load dashboard %}{% for slug, name in choices %}<option value="{{ slug }}"'
                 '{{ selected|get:"model"|selected:slug }}>{{ name }}</option>{% endfor %}')
CHOICES = [("llama-3-70b", "Llama 3 70B (12)"), ("a&b", 'A <b> "quoted" & \'single\''), ("7", "Seven"),
           ("", "(blank)"), ("x", "Llama 3 70B (12)")]


@pytest.mark.parametrize("chosen", [[], ["llama-3-70b"], ["a&b", "x"], ["7"], ["nothing"]])
def test_it_writes_the_options_the_template_loop_wrote(chosen):
    expected = engines["django"].from_string(TEMPLATE_LOOP).render({"choices": CHOICES,
                                                                    "selected": {"model": chosen}})
    assert options_html(CHOICES, chosen) == expected


def test_it_marks_one_chosen_value_as_compare_does():
    html = options_html(CHOICES, "a&b")
    assert html.count(" selected") == 1
    assert '<option value="a&amp;b" selected>A &lt;b&gt; &quot;quoted&quot; &amp; &#x27;single&#x27;</option>' in html


def test_it_freezes_startup_objects_in_the_server_process():
    threshold = gc.get_threshold()
    try:
        import tokenwatch.wsgi  # noqa: F401 - importing the WSGI module is what a server does

        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 5_000
    finally:  # the rest of the test session collects as it did
        gc.unfreeze()
        gc.set_threshold(*threshold)
