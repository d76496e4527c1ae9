"""The hostile-file corpus (issue 12): every case is generated here, none is committed as a file.

Each case is a file name, the source whose parser reads it, a function making its bytes
and what must happen: the file fails (``failed`` is a phrase of its one-line error) or
only its bad rows are quarantined (``quarantined`` names their locators; the rest of
the file is ingested). ``good`` makes the same file without the bad rows, so a test can
check that exactly the good rows were added. bench/hostile.py runs the same corpus in
subprocesses to measure time and peak memory per case.
"""

from __future__ import annotations

import codecs
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
OBSERVED_AT = "2026-01-01"


@dataclass(frozen=True)
class Case:
    name: str  # the file name, which the one-line error must name
    source: str  # source key
    make: Callable[[], bytes]
    failed: str = ""  # a phrase of the one-line error, when the whole file must fail
    quarantined: tuple[str, ...] = ()  # locators of the quarantined rows, when only they are refused
    good: Callable[[], bytes] | None = None  # the file without its bad rows (None: no row of it is good)

    def __post_init__(self) -> None:
        assert bool(self.failed) != bool(self.quarantined), self.name


# --- LiteLLM -------------------------------------------------------------------------------------

LITELLM_GOOD = {"good-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                               "output_cost_per_token": 2e-06, "max_input_tokens": 128000}}


def _litellm_text(bad_key: str, bad_entry: str) -> bytes:
    """A LiteLLM map: the good model and one entry written as raw JSON text (so NaN, 1e308 stay literal)."""
    return ("{" + json.dumps(LITELLM_GOOD)[1:-1] + ", " + json.dumps(bad_key) + ": " + bad_entry + "}").encode()


def _litellm_price(literal: str) -> Callable[[], bytes]:
    return lambda: _litellm_text("bad-model", '{"litellm_provider": "openai", "mode": "chat", '
                                 f'"input_cost_per_token": {literal}, "output_cost_per_token": 1e-06}}')


def _litellm_entry(key: str = "bad-model", **fields: object) -> Callable[[], bytes]:
    entry = {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
             "output_cost_per_token": 1e-06, **fields}
    return lambda: _litellm_text(key, json.dumps(entry))


def _litellm_good() -> bytes:
    return json.dumps(LITELLM_GOOD).encode()


LONG_KEY = "k" * 501
NUL_KEY = "bad\u0000model"
SURROGATE_KEY = "bad\ud800model"


def _litellm_raw_key(raw_key: str) -> Callable[[], bytes]:
    # The key as escaped JSON text: "\ud800" is valid JSON and decodes to a lone surrogate.
    entry = '{"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06}'
    return lambda: ("{" + json.dumps(LITELLM_GOOD)[1:-1] + f', "{raw_key}": {entry}}}').encode()


def _deep(levels: int) -> Callable[[], bytes]:
    return lambda: b"[" * levels + b"]" * levels


def _litellm_utf16() -> bytes:
    return codecs.BOM_UTF16_LE + json.dumps(LITELLM_GOOD).encode("utf-16-le")


def _litellm_latin1() -> bytes:
    return json.dumps({"caf\u00e9-model": LITELLM_GOOD["good-model"]}, ensure_ascii=False).encode("latin-1")


def _gzip_bomb() -> bytes:
    # 256 MB of zeros in 250 KB: an uploaded file is never decompressed (the fetcher caps what it inflates).
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    block = bytes(1 << 20)
    return b"".join([*(compressor.compress(block) for _ in range(256)), compressor.flush()])


LITELLM = [
    Case("litellm-deep.json", "litellm", _deep(200_000), failed="the JSON nests 200000 levels deep"),
    Case("litellm-deep-object.json", "litellm", lambda: b'{"gpt-4o": ' + b"[" * 200_000 + b"}",
         failed="levels deep"),
    Case("litellm-empty.json", "litellm", lambda: b"", failed="the file is empty"),
    Case("litellm-blank.json", "litellm", lambda: b" \n\t\r\n ", failed="the file is empty"),
    Case("litellm-truncated.json", "litellm", lambda: _litellm_good()[:-7], failed="not valid JSON"),
    Case("litellm-array.json", "litellm", lambda: b"[1, 2, 3]", failed="expected a JSON object"),
    Case("litellm-scalar.json", "litellm", lambda: b"42", failed="expected a JSON object"),
    Case("litellm-html.json", "litellm", lambda: b"<html><body>502 Bad Gateway</body></html>", failed="HTML"),
    Case("litellm-utf16.json", "litellm", _litellm_utf16, failed="not UTF-8"),
    Case("litellm-latin1.json", "litellm", _litellm_latin1, failed="not UTF-8"),
    Case("litellm-gzip-bomb.json", "litellm", _gzip_bomb, failed="not UTF-8"),
    Case("litellm-nul-bytes.json", "litellm", lambda: b"\x00" * 1000, failed="not valid JSON"),
    Case("litellm-values-flood.json", "litellm", lambda: b"[" + b"0," * 2_000_000 + b"0]", failed="values"),
    Case("litellm-1e22.json", "litellm", _litellm_price("1e22"), quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-1e308.json", "litellm", _litellm_price("1e308"), quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-nan.json", "litellm", _litellm_price("NaN"), quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-infinity.json", "litellm", _litellm_price("Infinity"), quarantined=("bad-model",),
         good=_litellm_good),
    Case("litellm-negative.json", "litellm", _litellm_price("-1e-06"), quarantined=("bad-model",),
         good=_litellm_good),
    Case("litellm-tiny.json", "litellm", _litellm_price("1e-300"), quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-huge-int.json", "litellm", _litellm_price("9" * 5000), quarantined=("bad-model",),
         good=_litellm_good),
    Case("litellm-string-price.json", "litellm", _litellm_price('"1e999"'), quarantined=("bad-model",),
         good=_litellm_good),
    Case("litellm-long-key.json", "litellm", _litellm_entry(LONG_KEY), quarantined=(LONG_KEY[:59] + "…",),
         good=_litellm_good),
    Case("litellm-long-provider.json", "litellm", _litellm_entry(litellm_provider="p" * 101),
         quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-long-mode.json", "litellm", _litellm_entry(mode="m" * 51), quarantined=("bad-model",),
         good=_litellm_good),
    Case("litellm-huge-max-input.json", "litellm", _litellm_entry(max_input_tokens=10**12),
         quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-huge-max-output.json", "litellm", _litellm_entry(max_output_tokens=10**12),
         quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-escape-key.json", "litellm", _litellm_raw_key("bad\\u001bmodel"),
         quarantined=("bad\\x1bmodel",), good=_litellm_good),
    Case("litellm-nul-key.json", "litellm", _litellm_raw_key("bad\\u0000model"), quarantined=("bad\\x00model",),
         good=_litellm_good),
    Case("litellm-surrogate-key.json", "litellm", _litellm_raw_key("bad\\ud800model"),
         quarantined=("bad\\ud800model",), good=_litellm_good),
    Case("litellm-nul-provider.json", "litellm", _litellm_entry(litellm_provider="open\u0000ai"),
         quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-surrogate-mode.json", "litellm",
         lambda: _litellm_text("bad-model", '{"litellm_provider": "openai", "mode": "chat\\udfff", '
                               '"input_cost_per_token": 1e-06}'),
         quarantined=("bad-model",), good=_litellm_good),
    Case("litellm-bom.json", "litellm", lambda: codecs.BOM_UTF8 + _litellm_entry(max_input_tokens=10**12)(),
         quarantined=("bad-model",), good=lambda: codecs.BOM_UTF8 + _litellm_good()),
]

# --- OpenRouter ----------------------------------------------------------------------------------

OPENROUTER_GOOD = {"id": "acme/good", "name": "Acme Good", "context_length": 8192,
                   "pricing": {"prompt": "0.000001", "completion": "0.000002"}}


def _openrouter(*bad: str) -> Callable[[], bytes]:
    """An OpenRouter listing: the good model and models written as raw JSON text."""
    return lambda: ('{"data": [' + ", ".join([json.dumps(OPENROUTER_GOOD), *bad]) + "]}").encode()


def _openrouter_model(model_id: str = "acme/bad", **fields: object) -> str:
    model = {"id": model_id, "name": "Acme Bad", "context_length": 8192,
             "pricing": {"prompt": "0.000001", "completion": "0.000002"}, **fields}
    return json.dumps(model)


OPENROUTER = [
    Case("openrouter-deep.json", "openrouter", _deep(200_000), failed="levels deep"),
    Case("openrouter-wrong-shape.json", "openrouter", lambda: b'{"models": "nope"}', failed="expected a \"data\" list"),
    Case("openrouter-truncated.json", "openrouter", lambda: _openrouter()()[:-3], failed="not valid JSON"),
    Case("openrouter-1e308.json", "openrouter",
         _openrouter('{"id": "acme/bad", "pricing": {"prompt": 1e308, "completion": "0"}}'),
         quarantined=("acme/bad",), good=_openrouter()),
    Case("openrouter-nan-string.json", "openrouter",
         _openrouter('{"id": "acme/bad", "pricing": {"prompt": "NaN", "completion": "0"}}'),
         quarantined=("acme/bad",), good=_openrouter()),
    Case("openrouter-long-id.json", "openrouter", _openrouter(_openrouter_model("acme/" + "x" * 600)),
         quarantined=("acme/" + "x" * 54 + "…",), good=_openrouter()),
    Case("openrouter-huge-context.json", "openrouter",
         _openrouter(_openrouter_model(top_provider={"max_completion_tokens": 10**15})),
         quarantined=("acme/bad",), good=_openrouter()),
    Case("openrouter-nul-name.json", "openrouter", _openrouter(_openrouter_model(name="Acme\u0000Bad")),
         quarantined=("acme/bad",), good=_openrouter()),
]

# --- llm-prices (one vendor per file, USD per 1M, dated) ----------------------------------------

LLM_PRICES_GOOD = {"id": "acme-good", "name": "Acme Good",
                   "price_history": [{"input": 1, "output": 2, "input_cached": None, "from_date": None,
                                      "to_date": None}]}


def _llm_prices(*bad: str) -> Callable[[], bytes]:
    return lambda: ('{"vendor": "acme", "models": [' + ", ".join([json.dumps(LLM_PRICES_GOOD), *bad])
                    + "]}").encode()


def _llm_prices_model(model_id: str = "acme-bad", price: str = "1", **fields: object) -> str:
    head = json.dumps({"id": model_id, "name": "Acme Bad", **fields})[:-1]
    return (head + ', "price_history": [{"input": ' + price + ', "output": 2, "input_cached": null, '
            '"from_date": null, "to_date": null}]}')


LLM_PRICES = [
    Case("llm-prices-deep.json", "llm-prices", _deep(100_000), failed="levels deep"),
    Case("llm-prices-wrong-shape.json", "llm-prices", lambda: b"[]", failed="expected a JSON object"),
    Case("llm-prices-1e22.json", "llm-prices", _llm_prices(_llm_prices_model(price="1e22")),
         quarantined=("models[1] acme-bad price_history[0]",),
         good=_llm_prices()),
    Case("llm-prices-infinity.json", "llm-prices", _llm_prices(_llm_prices_model(price="Infinity")),
         quarantined=("models[1] acme-bad price_history[0]",),
         good=_llm_prices()),
    Case("llm-prices-long-id.json", "llm-prices", _llm_prices(_llm_prices_model("z" * 700)),
         quarantined=("z" * 59 + "…",), good=_llm_prices()),
    Case("llm-prices-long-vendor.json", "llm-prices",
         lambda: json.dumps({"vendor": "v" * 200, "models": [LLM_PRICES_GOOD]}).encode(),
         quarantined=("acme-good",)),
]

# --- genai-prices (all providers in one array, USD per 1M) ---------------------------------------


def _genai_model(model_id: str, prices: str = '{"input_mtok": 1, "output_mtok": 2}', **fields: object) -> str:
    head = json.dumps({"id": model_id, "name": model_id.title(), "match": {"equals": model_id}, **fields})[:-1]
    return head + ', "prices": ' + prices + "}"


def _genai(*bad: str, provider: str = "acme") -> Callable[[], bytes]:
    return lambda: (json.dumps([{"id": provider, "name": "Acme", "models": []}])[:-3]
                    + ", ".join([_genai_model("acme-good"), *bad]) + "]}]").encode()


GENAI = [
    Case("genai-prices-deep.json", "genai-prices", _deep(200_000), failed="levels deep"),
    Case("genai-prices-object.json", "genai-prices", lambda: b'{"providers": []}', failed="expected a JSON array"),
    Case("genai-prices-1e308.json", "genai-prices",
         _genai(_genai_model("acme-bad", '{"input_mtok": 1e308, "output_mtok": 2}')),
         quarantined=("acme/acme-bad prices",), good=_genai()),
    Case("genai-prices-nan.json", "genai-prices",
         _genai(_genai_model("acme-bad", '{"input_mtok": NaN, "output_mtok": 2}')),
         quarantined=("acme/acme-bad prices",), good=_genai()),
    Case("genai-prices-long-id.json", "genai-prices", _genai(_genai_model("q" * 600)),
         quarantined=("q" * 59 + "…",), good=_genai()),
    Case("genai-prices-nul-id.json", "genai-prices", _genai(_genai_model("acme\u0000bad")),
         quarantined=("acme\\x00bad",), good=_genai()),
]

# --- LLMPerf summary (one run per file) ----------------------------------------------------------


def _llmperf(**override: object) -> Callable[[], bytes]:
    def make() -> bytes:
        doc = json.loads((FIXTURES / "llmperf" / "groq_70b.json").read_bytes())
        doc.update(override)
        return json.dumps(doc).encode()
    return make


LLMPERF = [
    Case("llmperf-deep.json", "llmperf", _deep(200_000), failed="levels deep"),
    Case("llmperf-array.json", "llmperf", lambda: b"[{}]", failed="expected a JSON object"),
    Case("llmperf-huge-concurrency.json", "llmperf", _llmperf(num_concurrent_requests=10**12),
         quarantined=("llama2-70b-4096_550_150_summary",)),
    Case("llmperf-nul-model.json", "llmperf", _llmperf(model="llama\u0000-70b"), quarantined=("llama\\x00-70b",)),
]

# --- CSV: SkyPilot catalog, curated hardware, benchmarks, market sizes, provider landscape --------


def _fixture_csv(path: str, rows: int = 3) -> bytes:
    lines = (FIXTURES / path).read_bytes().splitlines(keepends=True)
    return b"".join(lines[: rows + 1])


GPU_HEADER = b"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice\r\n"
GPU_ROW = (b'gpu_1x_h100_pcie,H100,1.0,26.0,200.0,2.49,us-east-1,"{\'Gpus\': [{\'Name\': \'H100\', '
           b"'Manufacturer': 'NVIDIA', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 81920}}], "
           b"'TotalGpuMemoryInMiB': 81920}\",\r\n")


def _gpu(*bad: bytes, header: bytes = GPU_HEADER) -> Callable[[], bytes]:
    return lambda: header + GPU_ROW + b"".join(bad)


HARDWARE = "hardware/lambda_gpu_prices.csv"
BENCHMARKS = "seed-article/benchmarks.csv"
MARKET = "seed-article/market_segments.csv"
PROVIDERS = "seed-article/providers.csv"


def _drop_line(data: bytes, number: int) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join(lines[: number - 1] + lines[number:])


def _with_row(path: str, row: bytes, rows: int = 2) -> Callable[[], bytes]:
    return lambda: _fixture_csv(path, rows) + row


def _replace_header(path: str, old: bytes, new: bytes, rows: int = 2) -> Callable[[], bytes]:
    def make() -> bytes:
        data = _fixture_csv(path, rows)
        header, rest = data.split(b"\n", 1)
        assert old in header
        return header.replace(old, new, 1) + b"\n" + rest
    return make


def _wide_header(columns: int) -> Callable[[], bytes]:
    return lambda: b"segment,base_year,base_value_usd_bn," + b",".join(b"c%d" % i for i in range(columns)) + b"\n"


CSV = [
    Case("gpu-catalog-empty.csv", "gpu-catalog", lambda: b"", failed="the file is empty"),
    Case("gpu-catalog-json.csv", "gpu-catalog", lambda: b'{"InstanceType": 1}', failed="not CSV"),
    Case("gpu-catalog-1e308.csv", "gpu-catalog", _gpu(GPU_ROW.replace(b"gpu_1x_h100_pcie", b"gpu_2").replace(
        b"2.49", b"1e308")), quarantined=("line 3",), good=_gpu()),
    Case("gpu-catalog-nan.csv", "gpu-catalog", _gpu(GPU_ROW.replace(b"gpu_1x_h100_pcie", b"gpu_2").replace(
        b"2.49", b"NaN")), quarantined=("line 3",), good=_gpu()),
    Case("gpu-catalog-nul-cell.csv", "gpu-catalog", _gpu(GPU_ROW.replace(b"gpu_1x_h100_pcie", b"gpu\x00_2")),
         quarantined=("line 3",), good=_gpu()),
    Case("gpu-catalog-cr.csv", "gpu-catalog",
         lambda: _gpu(GPU_ROW.replace(b"gpu_1x_h100_pcie", b"gpu_2").replace(b"2.49", b"-2"))().replace(
             b"\r\n", b"\r"), quarantined=("line 3",), good=lambda: _gpu()().replace(b"\r\n", b"\r")),
    Case("gpu-catalog-dup-header.csv", "gpu-catalog",
         _gpu(header=GPU_HEADER.replace(b"Region", b"Price")), failed="repeats column(s): Price"),
    Case("gpu-catalog-nul-header.csv", "gpu-catalog", _gpu(header=GPU_HEADER.replace(b"Region", b"Reg\x00ion")),
         failed="Reg"),
    Case("hardware-utf16.csv", "hardware-csv",
         lambda: codecs.BOM_UTF16_LE + _fixture_csv(HARDWARE).replace(b"1.29", b"1e22").decode().encode("utf-16-le"),
         quarantined=("line 2",), good=lambda: codecs.BOM_UTF16_LE + _drop_line(_fixture_csv(HARDWARE), 2).decode()
         .encode("utf-16-le")),
    Case("hardware-latin1.csv", "hardware-csv", lambda: _fixture_csv(HARDWARE).replace(b"Lambda,", "Lambd\u00e4,"
         .encode("latin-1"), 1), failed="not UTF-8"),
    Case("hardware-negative.csv", "hardware-csv",
         _with_row(HARDWARE, b"Lambda,gpu_x,A10,1,24,-1.29,on-demand,,,,30,200\n"),
         quarantined=("line 4",), good=_with_row(HARDWARE, b"")),
    Case("hardware-huge-count.csv", "hardware-csv",
         _with_row(HARDWARE, b"Lambda,gpu_x,A10,99999999999999,24,1.29,on-demand,,,,30,200\n"),
         quarantined=("line 4",), good=_with_row(HARDWARE, b"")),
    Case("hardware-mangled-header.csv", "hardware-csv", _replace_header(HARDWARE, b"region", b"reg\x01ion"),
         failed="reg"),
    Case("hardware-unknown-column.csv", "hardware-csv", _replace_header(HARDWARE, b"region", b"regoin"),
         failed="regoin"),
    Case("benchmarks-formula.csv", "benchmarks-csv",
         _with_row(BENCHMARKS, b'=HYPERLINK("http://x"),vLLM,FP16,H100,8,3800,120,2.70,true,seed-article,,\n'),
         quarantined=("line 4",), good=_with_row(BENCHMARKS, b"")),
    Case("benchmarks-1e308.csv", "benchmarks-csv",
         _with_row(BENCHMARKS, b"Llama 3 8B,vLLM,FP16,H100,8,1e308,120,2.70,true,seed-article,,\n"),
         quarantined=("line 4",), good=_with_row(BENCHMARKS, b"")),
    Case("benchmarks-crlf-nul.csv", "benchmarks-csv",
         lambda: _with_row(BENCHMARKS, b"Llama 3 8B,vL\x00LM,FP16,H100,8,3800,120,2.70,true,seed-article,,\n")()
         .replace(b"\n", b"\r\n"), quarantined=("line 4",), good=lambda: _fixture_csv(BENCHMARKS, 2).replace(
             b"\n", b"\r\n")),
    Case("benchmarks-dup-columns.csv", "benchmarks-csv", _replace_header(BENCHMARKS, b"notes", b"Model"),
         failed="repeats column(s): model"),
    Case("market-million-columns.csv", "market-csv", _wide_header(1_000_000), failed="columns"),
    Case("market-60k-columns.csv", "market-csv", _wide_header(60_000), failed="columns"),
    Case("market-5k-columns.csv", "market-csv", _wide_header(5_000), failed="has 5,003 columns (limit 200)"),
    Case("market-dup-150.csv", "market-csv", lambda: b"segment,base_year,base_value_usd_bn," + b"x," * 150 + b"x\n",
         failed="repeats column(s): x"),
    Case("market-dup-60k.csv", "market-csv", lambda: b"segment,base_year,base_value_usd_bn," + b"x," * 60_000 + b"x\n",
         failed="columns"),
    Case("market-nul-header.csv", "market-csv", _replace_header(MARKET, b"stated_cagr_pct", b"stated_cagr\x00_pct"),
         failed="stated_cagr"),
    Case("market-tab-header.csv", "market-csv", _replace_header(MARKET, b"source", b"sou\x0brce"), failed="sou"),
    Case("market-1e22.csv", "market-csv", _with_row(MARKET, b"Hostile Segment,2023,1e22,2027,450,20,x,y\n"),
         quarantined=("line 4",), good=_with_row(MARKET, b"")),
    Case("market-formula.csv", "market-csv", _with_row(MARKET, b"=cmd|' /C calc'!A0,2023,220,2027,450,20,x,y\n"),
         quarantined=("line 4",), good=_with_row(MARKET, b"")),
    Case("market-bom-crlf.csv", "market-csv",
         lambda: codecs.BOM_UTF8 + _with_row(MARKET, b"Hostile,2023,Infinity,2027,450,20,x,y\n")().replace(
             b"\n", b"\r\n"), quarantined=("line 4",),
         good=lambda: codecs.BOM_UTF8 + _fixture_csv(MARKET, 2).replace(b"\n", b"\r\n")),
    Case("market-truncated-quote.csv", "market-csv", _with_row(MARKET, b'"Hostile,2023,220\n' + b"x" * 200_000),
         failed="line 4: the file cannot be read"),
    Case("providers-long-name.csv", "providers-csv", _with_row(PROVIDERS, b"P" * 400 + b",silicon,x,y,z\n"),
         quarantined=("line 4",), good=_with_row(PROVIDERS, b"")),
    Case("providers-surrogate.csv", "providers-csv", _with_row(PROVIDERS, b"Bad\xed\xa0\x80,silicon,x,y,z\n"),
         failed="not UTF-8"),
]

CASES: dict[str, Case] = {case.name: case for case in [*LITELLM, *OPENROUTER, *LLM_PRICES, *GENAI, *LLMPERF, *CSV]}
