"""Hostile input to the parsers (issue 9, findings 5 and 7).

* The absurd-price bounds are inclusive: exactly 10,000 USD per 1M tokens
  (0.01 USD per token) and exactly 10,000 USD per hour are refused, just below
  is a price.
* A pathological JSON document (nested 200,000 levels deep, or 50 MB of
  nesting) fails with one plain ParseError sentence, quickly and in bounded
  memory, never with a RecursionError.
* A pathological number (1e308, 1e22 per token, NaN, Infinity, an exponent
  Decimal cannot hold, 5,000 digits) quarantines its row; it never fails the
  file and never escapes as decimal.InvalidOperation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import genai_prices, gpu_catalog, hardware_csv, litellm, llm_prices, llmperf, openrouter
from scrapers.bench_records import MAX_USD_PER_HOUR
from scrapers.records import (
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    MAX_USD_PER_MTOK,
    ParseError,
    ParseResult,
    json_depth,
    json_shape,
    load_json,
    normalize,
    per_token_to_per_mtok,
    to_decimal,
)

REPO = Path(__file__).resolve().parents[2]


def _litellm(price: str, key: str = "m") -> bytes:
    """A LiteLLM map with one model whose input price is the literal ``price`` and one good model."""
    return (
        '{"good": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06, '
        '"output_cost_per_token": 2e-06}, '
        f'"{key}": {{"litellm_provider": "wandb", "mode": "chat", "input_cost_per_token": {price}, '
        '"output_cost_per_token": 1e-06}}'
    ).encode()


def _reasons(result: ParseResult) -> dict[str, str]:
    return {r.locator: r.reason for r in result.rejects}


# --- the bounds are inclusive ----------------------------------------------------------------------


def test_the_bounds_are_the_documented_ten_thousand() -> None:
    assert Decimal(10_000) == MAX_USD_PER_MTOK
    assert Decimal(10_000) == MAX_USD_PER_HOUR


@pytest.mark.parametrize("literal", ["0.01", "1e-2", "1E-2", "0.010", "1.0e-2", "0.1e-1"])
def test_litellm_refuses_exactly_a_cent_per_token(literal: str) -> None:
    result = litellm.parse(_litellm(literal))
    assert [r.source_model_id for r in result.records] == ["good"]
    assert _reasons(result) == {
        "m": "input_cost_per_token is absurd (10000 USD per 1M tokens, at or above 10000)"}


def test_litellm_accepts_just_below_a_cent_per_token() -> None:
    result = litellm.parse(_litellm("0.009999999"))
    assert result.rejects == []
    record = next(r for r in result.records if r.source_model_id == "m")
    assert record.input_usd_per_mtok == Decimal("9999.999")


@pytest.mark.parametrize("name", ["model_prices_2025-09-30_rocry-72e074a.json",
                                  "model_prices_2026-01-31_rocry-94b6c3b.json",
                                  "model_prices_2026-07-24_rocry-8442b93.json"])
def test_litellm_refuses_the_real_wandb_entries_at_exactly_a_cent(shared_data: Path, name: str) -> None:
    result = litellm.parse((shared_data / "litellm" / name).read_bytes())
    reasons = _reasons(result)
    for key in ("wandb/Qwen/Qwen3-235B-A22B-Instruct-2507", "wandb/Qwen/Qwen3-235B-A22B-Thinking-2507"):
        assert reasons[key] == "input_cost_per_token is absurd (10000 USD per 1M tokens, at or above 10000)"
        assert key not in {r.source_model_id for r in result.records}


def test_openrouter_refuses_exactly_a_cent_per_token() -> None:
    def model(model_id: str, prompt: str) -> dict[str, object]:
        return {"id": model_id, "pricing": {"prompt": prompt, "completion": "0.000001"}}

    doc = {"data": [model("at/bound", "0.01"), model("below/bound", "0.0099999")]}
    result = openrouter.parse(json.dumps(doc).encode())
    assert _reasons(result) == {"at/bound": "pricing.prompt is absurd (10000 USD per 1M tokens, at or above 10000)"}
    assert [(r.source_model_id, r.input_usd_per_mtok) for r in result.records] == [
        ("below/bound", Decimal("9999.9"))]


def test_llm_prices_refuses_exactly_ten_thousand_per_million() -> None:
    def model(model_id: str, output: str) -> str:
        return (f'{{"id": "{model_id}", "name": "{model_id}", "price_history": '
                f'[{{"input": 1, "output": {output}, "from_date": null, "to_date": null}}]}}')

    data = f'{{"vendor": "acme", "models": [{model("at", "10000")}, {model("below", "9999.99")}]}}'
    result = llm_prices.parse(data.encode())
    assert _reasons(result) == {
        "models[0] at price_history[0]": "output is absurd (10000 USD per 1M tokens, at or above 10000)"}
    assert [(r.source_model_id, r.output_usd_per_mtok) for r in result.records] == [("below", Decimal("9999.99"))]


GPU_HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice\n"


@pytest.mark.parametrize(("price", "spot"), [("10000", ""), ("10000.00", ""), ("1e4", ""), ("31.92", "10000")])
def test_gpu_catalog_refuses_exactly_ten_thousand_per_hour(price: str, spot: str) -> None:
    row = f"gpu_x,H100,8.0,208.0,1800.0,{price},us-east-1,,{spot}\n"
    result = gpu_catalog.parse((GPU_HEADER + row).encode())
    assert len(result.records) == 0
    assert [r.locator for r in result.rejects] == ["line 2"]
    assert "USD per hour is absurd" in result.rejects[0].reason
    assert "at or above 10000" in result.rejects[0].reason


def test_gpu_catalog_accepts_just_below_ten_thousand_per_hour() -> None:
    row = "gpu_x,H100,8.0,208.0,1800.0,9999.99,us-east-1,,9999.99\n"
    result = gpu_catalog.parse((GPU_HEADER + row).encode())
    assert result.rejects == []
    assert [r.usd_per_hour for r in result.records] == [Decimal("9999.99"), Decimal("9999.99")]


HW_HEADER = "provider,instance_type,accelerator,accelerator_count,usd_per_hour,pricing_model,region,observed_on"


@pytest.mark.parametrize("price", ["10000", "10,000", "$10000.00", "1e4"])
def test_hardware_csv_refuses_exactly_ten_thousand_per_hour(price: str) -> None:
    text = f'{HW_HEADER}\nLambda,gpu_8x,H100,8,"{price}",,,2025-06-01\nLambda,gpu_1x,H100,1,9999.99,,,2025-06-01\n'
    result = hardware_csv.parse(text.encode())
    assert [r.instance_type for r in result.records] == ["gpu_1x"]
    assert [r.locator for r in result.rejects] == ["line 2"]
    assert "usd_per_hour 10000" in result.rejects[0].reason
    assert "is absurd (at or above 10000)" in result.rejects[0].reason


# --- nesting depth ----------------------------------------------------------------------------------


def _nest(depth: int, inner: str = "1") -> bytes:
    return ("[" * depth + inner + "]" * depth).encode()


def test_a_document_200000_levels_deep_fails_with_one_sentence_fast() -> None:
    started = time.process_time()  # CPU, not wall: the bound is on the work, not on the machine's other load
    with pytest.raises(ParseError) as excinfo:
        load_json(_nest(200_000), expect=list)
    assert time.process_time() - started < 5
    message = str(excinfo.value)
    assert message.startswith("the JSON nests 200000 levels deep (limit 64)")
    assert "\n" not in message


@pytest.mark.parametrize("parser", [litellm, openrouter, llm_prices, llmperf, genai_prices])
def test_every_json_parser_refuses_deep_nesting_as_a_parse_error(parser) -> None:
    data = b'{"data": ' + _nest(200_000) + b"}"
    with pytest.raises(ParseError, match=r"nests 200001 levels deep \(limit 64\)"):
        parser.parse(data)


def test_unclosed_deep_nesting_is_refused_too() -> None:
    with pytest.raises(ParseError, match="nests 200000 levels deep"):
        load_json(b"[" * 200_000, expect=list)


def test_objects_count_as_levels_too() -> None:
    data = ('{"a": ' * 100 + "1" + "}" * 100).encode()
    with pytest.raises(ParseError, match="nests 100 levels deep"):
        load_json(data, expect=dict)


def test_the_limit_itself_is_allowed() -> None:
    assert MAX_JSON_DEPTH == 64
    assert load_json(_nest(MAX_JSON_DEPTH), expect=list)
    with pytest.raises(ParseError, match="nests 65 levels deep"):
        load_json(_nest(MAX_JSON_DEPTH + 1), expect=list)


@pytest.mark.parametrize(("data", "depth"), [
    (b'{"a": "[[[[[[[[[[{{{{{{{{"}', 1),  # brackets in a string are text
    (b'{"a": "\\"[[[[[[[[["}', 1),  # an escaped quote does not end the string
    (b'{"a": "\\\\", "b": [[[1]]]}', 4),  # an escaped backslash does: the brackets after it count
    (b'["\\\\\\"[[[[", [1]]', 2),  # \\ then \" inside one string
    (b'{"\\u005b[": ["]]]]"]}', 2),  # brackets in keys and escapes are text
    ('["é[", {"ü": ["ß"]}]'.encode(), 3),  # multibyte UTF-8 never contains a bracket byte
    (b"[]", 1),
    (b"1", 0),
    (b"", 0),
])
def test_the_depth_scan_reads_strings_and_escapes_right(data: bytes, depth: int) -> None:
    assert json_depth(data) == depth


def test_an_unterminated_string_full_of_brackets_is_invalid_json_not_too_deep() -> None:
    data = b'{"a": "' + b"[" * 10_000
    assert json_depth(data) == 1
    with pytest.raises(ParseError, match="not valid JSON"):
        load_json(data, expect=dict)


def test_a_wide_shallow_document_is_fine() -> None:
    data = b"[" + b",".join([b"[[1]]"] * 200_000) + b"]"
    assert len(load_json(data, expect=list)) == 200_000


def test_a_document_of_too_many_values_is_refused_before_decoding() -> None:
    # 50 MB of tiny values decodes to over a GB of Python objects: refused by count.
    assert MAX_JSON_VALUES == 1_000_000
    at_limit = b"[" + b"1," * (MAX_JSON_VALUES - 2) + b"1]"
    assert json_shape(at_limit).values == MAX_JSON_VALUES - 1
    assert len(load_json(at_limit, expect=list)) == MAX_JSON_VALUES - 1
    over = b'{"a": [' + b'"x,[{",' * MAX_JSON_VALUES + b"1]}"
    assert json_shape(over).values == MAX_JSON_VALUES + 2  # commas and brackets in strings do not count
    with pytest.raises(ParseError, match=r"the JSON holds about 1,000,002 values \(limit 1,000,000\)"):
        load_json(over, expect=dict)


def test_recursion_and_memory_errors_in_the_decoder_become_a_parse_error(monkeypatch) -> None:
    import scrapers.records as records

    for error in (RecursionError, MemoryError):
        def boom(*args: object, _error: type[BaseException] = error, **kwargs: object) -> object:
            raise _error()

        monkeypatch.setattr(records.json, "loads", boom)
        with pytest.raises(ParseError) as excinfo:
            load_json(b"[1]", expect=list)
        assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("depth", [4_000, 200_000])
def test_llmperf_reads_a_deeply_nested_error_code_string_as_a_note(depth: int) -> None:
    # The string is JSON inside JSON: llmperf decodes it through the same guarded path.
    doc = {"model": "m", "framework": "f", "timestamp": 1700000000, "results_mean_output_throughput_token_per_s": 10,
           "results_error_code_frequency": "[" * depth + "]" * depth}
    result = llmperf.parse(json.dumps(doc).encode())
    assert result.rejects == []
    assert "unreadable results_error_code_frequency" in result.records[0].notes


# Measured in a fresh interpreter, by the kernel's high-water mark of its own
# memory (VmHWM: ru_maxrss would count the forked pytest parent too).
_MEASURE = textwrap.dedent("""
    import sys, time

    def peak_mib():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) // 1024

    from scrapers.records import ParseError
    from scrapers import litellm
    data = open(sys.argv[1], "rb").read()
    base = peak_mib()
    started = time.perf_counter()
    try:
        litellm.parse(data)
    except ParseError as exc:
        message = str(exc)
    else:
        message = "parsed"
    elapsed = time.perf_counter() - started
    print(f"{elapsed:.3f} {base} {peak_mib()} {message[:80]}")
""")


@pytest.mark.parametrize(("name", "content", "outcome"), [
    ("deep-200k.json", lambda: _nest(200_000), "the JSON nests 200000 levels deep"),
    ("deep-50mb.json", lambda: b"[" * (25 << 20) + b"]" * (25 << 20), "the JSON nests 26214400 levels deep"),
    ("deep-50mb-open.json", lambda: b'{"a": ' + b"[" * (50 << 20) + b"}", "the JSON nests 52428801 levels deep"),
    ("wide-50mb.json", lambda: b'{"a": [' + b",".join([b'["ab",{"c":[1.5]}]'] * (3 << 20)) + b"]}",
     "the JSON holds about"),
    # One 50 MB string of escaped quotes and brackets is text: it decodes, bounded, and its entry is a reject.
    ("escaped-50mb.json", lambda: b'{"a": "' + b'\\"[' * (17 << 20) + b'"}', "parsed"),
])
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="measures memory through Linux /proc")
def test_a_hostile_file_fails_in_bounded_time_and_memory(tmp_path: Path, name: str, content, outcome: str) -> None:
    path = tmp_path / name
    path.write_bytes(content())
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    elapsed, _base_mib, peak_mib, message = proc.stdout.strip().split(" ", 3)
    assert message.startswith(outcome), message
    assert float(elapsed) < 5
    assert int(peak_mib) < 500  # the whole interpreter, the file's 50 MB included


# --- pathological numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(("literal", "reason"), [
    ("1e308", "input_cost_per_token is absurd (1E+314 USD per 1M tokens, at or above 10000)"),
    ("1e22", "input_cost_per_token is absurd (1E+28 USD per 1M tokens, at or above 10000)"),
    ("1.5e22", "input_cost_per_token is absurd (1.5E+28 USD per 1M tokens, at or above 10000)"),
    ("1e21", "input_cost_per_token is absurd (1000000000000000000000000000 USD per 1M tokens, at or above 10000)"),
    ("1" + "0" * 5000, "input_cost_per_token is not a number (1" + "0" * 38 + "…)"),
    ("1e999999999", "input_cost_per_token is not a number (1e999999999)"),
    ("1e99999999999999999999", "input_cost_per_token is not a number (1e99999999999999999999)"),
    ("-1e308", "input_cost_per_token is negative (-1E+314 USD per 1M tokens)"),
    ("1e-999999999", "input_cost_per_token is not a number (1e-999999999)"),
    ("0." + "0" * 5000 + "1", "input_cost_per_token is not a number (0." + "0" * 37 + "…)"),
    ("NaN", "input_cost_per_token is not a number (NaN)"),
    ("Infinity", "input_cost_per_token is not a number (Infinity)"),
    ("-Infinity", "input_cost_per_token is not a number (-Infinity)"),
])
def test_litellm_quarantines_a_pathological_price(literal: str, reason: str) -> None:
    result = litellm.parse(_litellm(literal))
    assert [r.source_model_id for r in result.records] == ["good"]
    assert _reasons(result) == {"m": reason}


@pytest.mark.parametrize("literal", ["NaN", "1e999999999", "1" + "0" * 5000, "-Infinity"])
def test_litellm_ignores_a_pathological_token_limit_quickly(literal: str) -> None:
    data = (f'{{"m": {{"litellm_provider": "openai", "input_cost_per_token": 1e-06, '
            f'"max_input_tokens": {literal}}}}}').encode()
    started = time.process_time()  # CPU, not wall: the bound is on the work, not on the machine's other load
    result = litellm.parse(data)
    assert time.process_time() - started < 1
    assert result.rejects == []
    assert result.records[0].max_input_tokens is None


@pytest.mark.parametrize(("value", "reason"), [
    ("1e308", "pricing.prompt is absurd (1E+314 USD per 1M tokens, at or above 10000)"),
    ("1e999999999", "pricing.prompt is not a number ('1e999999999')"),
    ("NaN", "pricing.prompt is not a number ('NaN')"),
    ("Infinity", "pricing.prompt is not a number ('Infinity')"),
    ("1" * 5000, "pricing.prompt is not a number ('" + "1" * 38 + "…)"),
])
def test_openrouter_quarantines_a_pathological_price_string(value: str, reason: str) -> None:
    doc = {"data": [{"id": "bad/m", "pricing": {"prompt": value, "completion": "0"}},
                    {"id": "good/m", "pricing": {"prompt": "0.000001", "completion": "0.000002"}}]}
    result = openrouter.parse(json.dumps(doc).encode())
    assert _reasons(result) == {"bad/m": reason}
    assert [r.source_model_id for r in result.records] == ["good/m"]


@pytest.mark.parametrize(("literal", "reason"), [
    ("1e308", "input is absurd (1E+308 USD per 1M tokens, at or above 10000)"),
    ("NaN", "input is not a number (NaN)"),
    ("1e999999999", "input is not a number (1e999999999)"),
])
def test_llm_prices_quarantines_a_pathological_price(literal: str, reason: str) -> None:
    data = ('{"vendor": "acme", "models": [{"id": "bad", "name": "Bad", "price_history": '
            f'[{{"input": {literal}, "output": 1, "from_date": null, "to_date": null}}]}}, '
            '{"id": "good", "name": "Good", "price_history": '
            '[{"input": 1, "output": 2, "from_date": null, "to_date": null}]}]}').encode()
    result = llm_prices.parse(data)
    assert _reasons(result) == {"models[0] bad price_history[0]": reason}
    assert [r.source_model_id for r in result.records] == ["good"]


@pytest.mark.parametrize(("literal", "needle"), [
    ("1e308", "results_ttft_s_quantiles_p50 is absurd (1E+308"),
    ("1e22", "results_ttft_s_quantiles_p50 is absurd (1E+22"),
    ("NaN", "results_ttft_s_quantiles_p50 is not a number (NaN)"),
    ("Infinity", "results_ttft_s_quantiles_p50 is not a number (Infinity)"),
    ("1e999999999", "results_ttft_s_quantiles_p50 is not a number (1e999999999)"),
])
def test_llmperf_quarantines_a_run_with_a_pathological_metric(literal: str, needle: str) -> None:
    data = ('{"model": "m", "framework": "f", "timestamp": 1700000000, '
            f'"results_mean_output_throughput_token_per_s": 10, "results_ttft_s_quantiles_p50": {literal}}}').encode()
    result = llmperf.parse(data)
    assert len(result.records) == 0
    assert needle in result.rejects[0].reason


def test_llmperf_refuses_a_nan_timestamp_as_a_parse_error() -> None:
    data = b'{"model": "m", "framework": "f", "timestamp": NaN, "results_mean_output_throughput_token_per_s": 10}'
    with pytest.raises(ParseError, match="timestamp NaN is not unix seconds"):
        llmperf.parse(data)


@pytest.mark.parametrize(("cells", "needle"), [
    ("1e999999999,1800.0,31.92", "vCPUs"),
    ("208.0,1e308,31.92", "MemoryGiB"),
    ("208.0,1800.0,1e999999999", "Price"),
])
def test_gpu_catalog_quarantines_a_pathological_number(cells: str, needle: str) -> None:
    row = f"gpu_x,H100,8.0,{cells},us-east-1,,\n"
    result = gpu_catalog.parse((GPU_HEADER + row).encode())
    assert len(result.records) == 0
    assert needle in result.rejects[0].reason and "absurd" in result.rejects[0].reason


@pytest.mark.parametrize(("column", "value"), [("vcpus", "1e999999999"), ("memory_gib", "1e308"),
                                               ("usd_per_hour", "1e308")])
def test_hardware_csv_quarantines_a_pathological_number(column: str, value: str) -> None:
    cells = {"usd_per_hour": "31.92", "vcpus": "208", "memory_gib": "1800", column: value}
    text = (f"{HW_HEADER},vcpus,memory_gib\n"
            f"Lambda,gpu_8x,H100,8,{cells['usd_per_hour']},,,2025-06-01,{cells['vcpus']},{cells['memory_gib']}\n")
    result = hardware_csv.parse(text.encode())
    assert len(result.records) == 0
    assert column in result.rejects[0].reason and "absurd" in result.rejects[0].reason


def test_normalize_never_raises_for_a_huge_integer() -> None:
    # quantize() cannot write out an integer longer than the context precision (28 digits).
    assert normalize(Decimal("1E+314")) == Decimal("1E+314")
    assert normalize(Decimal("1E+27")) == Decimal(10**27)
    assert str(normalize(Decimal("1E+27"))) == "1" + "0" * 27
    assert per_token_to_per_mtok(Decimal("1e22")) == Decimal("1E+28")


@pytest.mark.parametrize("value", [Decimal("1e1001"), Decimal("1e-1001"), "1e999999999", "-1e999999999"])
def test_to_decimal_refuses_an_exponent_out_of_range(value: object) -> None:
    with pytest.raises(ValueError, match="not a number"):
        to_decimal(value)
    assert to_decimal(Decimal("0E-999999")) == 0
