"""Benchmark honesty (issue 13): precision and approximate counts shown and exported, a comparability statement
that names what differs, the date of the hardware price behind a self-hosting cost, and the seed article's
Llama 3 70B runs on that model's page, on the Compare page's speed card and in Groq's benchmark count."""

import csv
import io
import json
import re

import pytest

from .html_tables import read_table

pytestmark = pytest.mark.django_db

LLAMA3 = "llama-3-70b-instruct"


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_it_shows_precision_and_the_approximate_count_in_the_seed_table(web):
    header, rows = read_table(_html(web.get("/benchmarks/")), "seed")
    by_stack = {row[header.index("Serving stack")]: row for row in rows}
    precision, hardware = header.index("Precision"), header.index("Hardware")
    assert by_stack["TensorRT-LLM"][precision] == "INT4"
    assert by_stack["vLLM"][precision] == "FP16"
    assert by_stack["Groq LPU System"][precision] == "not stated"
    assert by_stack["Groq LPU System"][hardware] == "~40x Groq LPU"


def test_it_exports_precision_and_the_approximate_count(web):
    rows = {r["Serving stack"]: r for r in _csv(web.get("/benchmarks/?download=csv&table=seed"))}
    assert rows["TensorRT-LLM"]["Precision"] == "INT4"
    assert rows["Naive PyTorch"]["Precision"] == "FP16"
    assert rows["Groq LPU System"]["Hardware"] == "~40x Groq LPU"
    assert rows["Groq LPU System"]["Approximate count"] == "yes"
    assert rows["vLLM"]["Approximate count"] == "no"


def test_it_says_which_context_differs_instead_of_calling_the_seed_table_comparable(web):
    html = _html(web.get("/benchmarks/"))
    assert "one model, one workload" not in html
    assert ("no: precision differs: FP16 vs INT4 vs not stated; hardware differs: 8x H100 vs ~40x Groq LPU"
            in html)


def test_the_bubble_colours_encode_precision_with_a_legend(web):
    html = _html(web.get("/benchmarks/"))
    figure = json.loads(re.search(r'<script type="application/json" id="fig-seed">(.*?)</script>', html, re.S)[1])
    assert figure["layout"]["showlegend"] and figure["layout"]["legend"]["title"]["text"] == "Precision"
    legend = [t["name"] for t in figure["data"] if t.get("showlegend", True)]
    assert sorted(legend) == ["FP16", "INT4", "not stated"]
    colours = {t["name"]: t["marker"]["color"] for t in figure["data"]}
    assert len(set(colours.values())) == 3  # one colour per precision, both FP16 runs alike


def test_the_self_hosting_cost_names_its_hardware_price_and_its_date(web):
    html = _html(web.get("/benchmarks/"))
    assert re.search(r"Hardware price used: Lambda gpu_8x_h100_sxm5 \(8x H100[^)]*\) at \$[\d.]+/h, "
                     r"price of 2025-06-01", html)
    hosting = _csv(web.get("/benchmarks/?download=csv&table=hosting"))
    assert hosting and {r["Price of (snapshot date)"] for r in hosting} == {"2025-06-01"}


def test_the_seed_runs_are_on_the_llama_3_70b_page(web):
    html = _html(web.get(f"/models/{LLAMA3}/"))
    header, rows = read_table(html, "speed")
    stacks = {row[header.index("Serving stack")]: row for row in rows}
    assert set(stacks) == {"Naive PyTorch", "vLLM", "TensorRT-LLM", "Groq LPU System"}
    assert stacks["TensorRT-LLM"][header.index("Precision")] == "INT4"
    assert stacks["Groq LPU System"][header.index("Hardware")] == "~40x Groq LPU"
    assert stacks["vLLM"][header.index("Source")] == "benchmarks-csv"
    exported = _csv(web.get(f"/models/{LLAMA3}/?download=csv&table=speed"))
    assert len(exported) == 4


def test_the_compare_speed_card_lists_the_seed_runs_with_groqs_price(web):
    html = _html(web.get(f"/compare/?model={LLAMA3}"))
    header, rows = read_table(html, "speed")
    stacks = {row[header.index("Serving stack")]: row for row in rows}
    assert set(stacks) == {"Naive PyTorch", "vLLM", "TensorRT-LLM", "Groq LPU System"}
    groq = stacks["Groq LPU System"]
    assert groq[header.index("Served by")] == "Groq"
    price = next(i for i, h in enumerate(header) if h.startswith("Its price"))
    assert groq[price] not in ("", "—")  # Groq's own Llama 3 70B price
    assert stacks["vLLM"][price] in ("", "—")  # self-hosted: no provider, no price
    assert "lists its 4 measured runs" in html


def test_groqs_page_counts_the_seed_groq_lpu_run(web):
    html = _html(web.get("/providers/groq/"))
    # One LLMPerf run (Llama 2 70B through Groq's API) and the seed article's Groq LPU System.
    assert re.search(r"<dt>Benchmarks</dt><dd><a [^>]*>2 runs</a>", html)
