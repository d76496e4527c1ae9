"""Property-based run of the whole API against its own OpenAPI schema (schemathesis, in-process WSGI, no network).

The schema is read from /api/schema/. Every operation gets a bounded,
derandomised set of generated requests, valid ones and invalid ones, as a
staff user on a public API over small real data. A 5xx, an undocumented
status or content type, or a body that breaks the schema it is documented
with fails the test; so does a disagreement between the schema and the API
in either direction (issue 12, finding 6): a request valid by the schema
answered 400 (positive_data_acceptance), or one invalid by it answered 2xx
(negative_data_rejection).

What a static schema cannot say, the valid requests are drawn to keep (and the
operations' descriptions say in words):
- values that name stored data (a provider, model or source key, a benchmark run
  or hardware price id) are drawn from the data: an unknown key stays a 400
  naming it, as a random path id is a 404;
- a cursor is only valid as the API wrote it (next/previous links), so valid
  requests carry none; tests/api/test_pagination.py follows real ones;
- rules between parameters (one of model or size_class, a ratio that is not
  0:0, a throughput or a run to take it from) hold;
- an uploaded file's content is beyond "format: binary": a 400 naming only
  ``file`` is the file check, not a disagreement.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest
import schemathesis
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tokenwatch.wsgi import application

pytestmark = pytest.mark.django_db
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
CONFORMANCE = {GenerationMode.POSITIVE: positive_data_acceptance, GenerationMode.NEGATIVE: negative_data_rejection}
# A 400 naming only these fields of these operations is about what the schema cannot describe (see above).
BEYOND_THE_SCHEMA = {"POST /api/v1/uploads/": {"file"}}
# A watch's rules between fields (a target names its model or provider, a condition its threshold, a webhook its
# secret and an address the SSRF guard passes) and stored slugs: a 400 naming only those fields.
_WATCH_RULES = {"model", "provider", "size_class", "threshold_usd_per_mtok", "change_pct", "blend_input_ratio",
                "webhook_url", "webhook_secret", "email"}
BEYOND_THE_SCHEMA |= {f"{method} /api/v1/watches/{suffix}": _WATCH_RULES
                      for method, suffix in [("POST", ""), ("PUT", "{id}/"), ("PATCH", "{id}/")]}


def served(environ, start_response):
    # As every WSGI server does (the throttles key anonymous clients by address); werkzeug's test client does not.
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return application(environ, start_response)


# Serving the schema needs no database (with the throttles, which count in a cache table, off), so it is
# loaded once, at collection.
with override_settings(TOKENWATCH_API_THROTTLE_RATES={"anon": None, "user": None}):
    SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", served)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def live_app(economics, public_api, wsgi_connections_kept, monkeypatch):
    # A generated fetch request must not reach the network.
    monkeypatch.setattr("apps.sources.api.views.fetch_source.delay", lambda source_id: None)


def stored_keys() -> dict[str, list[Any]]:
    """Values of the parameters that name stored data, from the test's data."""
    from apps.benchmarks.models import BenchmarkRun, HardwarePrice
    from apps.catalog.models import Model, Provider
    from apps.fx.models import FxCurrency
    from apps.sources.models import Source

    return {
        "provider": sorted(Provider.objects.values_list("slug", flat=True)),
        "model": sorted(Model.objects.values_list("slug", flat=True)),
        "source": sorted(Source.objects.values_list("key", flat=True)),
        "benchmark": sorted(BenchmarkRun.objects.exclude(tokens_per_s=None).values_list("id", flat=True)),
        "hardware_price": sorted(HardwarePrice.objects.values_list("id", flat=True)),
        # ?currency= names a currency with stored ECB rates (apps.fx), or USD.
        "currency": sorted({"USD", *FxCurrency.objects.values_list("code", flat=True)}),
    }


def _pick(known: list[Any], value: Any) -> Any:
    # The same generated value always names the same stored row (derandomised runs repeat).
    return known[zlib.crc32(repr(value).encode()) % len(known)]


def keep_what_the_schema_cannot_say(case, keys: dict[str, list[Any]]):
    """A valid-by-schema case made valid by the data and the rules between parameters (module docstring)."""
    for part in (case.query, case.body if isinstance(case.body, dict) else None):
        if not part:
            continue
        part.pop("cursor", None)
        for name, known in keys.items():
            value = part.get(name)
            if value is None or value == "" or not known:
                continue
            part[name] = [_pick(known, v) for v in value] if isinstance(value, list) else _pick(known, value)
    query = case.query if case.query is not None else {}
    label = case.operation.label
    if query.get("input_ratio") in (0, "0") and query.get("output_ratio") in (0, "0"):
        query["output_ratio"] = 1
    if label == "GET /api/v1/economics/price-trend/":
        if query.get("model") not in (None, ""):
            query.pop("size_class", None)
        elif query.get("size_class") in (None, ""):
            query["model"] = keys["model"][0]
        since, until = query.get("since"), query.get("until")
        if since not in (None, "") and until not in (None, ""):
            query.pop("until")
    if label == "GET /api/v1/economics/break-even/":
        if query.get("model") in (None, "") and query.get("benchmark") in (None, ""):
            query["model"] = keys["model"][0]
        if query.get("tokens_per_s") in (None, "") and query.get("benchmark") in (None, ""):
            query["benchmark"] = keys["benchmark"][0]
        if query.get("usd_per_hour") in (None, "") and query.get("hardware_price") in (None, ""):
            query["hardware_price"] = keys["hardware_price"][0]
    if case.query is None and query:
        case.query = query
    return case


def test_it_tests_every_operation():
    assert len(OPERATIONS) >= 30
    assert {"GET /api/v1/prices/", "GET /api/v1/compare/", "POST /api/v1/uploads/"} <= {o.label for o in OPERATIONS}


def beyond_the_schema(case, response) -> bool:
    named = BEYOND_THE_SCHEMA.get(case.operation.label)
    if not named or response.status_code != 400:
        return False
    try:
        return set(json.loads(response.content)) <= named
    except ValueError:
        return False


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.label for o in OPERATIONS])
def test_it_never_fails_and_keeps_to_its_schema(live_app, client_staff, operation, mode):
    token = client_staff._credentials["HTTP_AUTHORIZATION"]
    strategy = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE:
        keys = stored_keys()
        strategy = strategy.map(lambda case: keep_what_the_schema_cannot_say(case, keys))

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers={"Authorization": token})
        checks = CHECKS if beyond_the_schema(case, response) else [*CHECKS, CONFORMANCE[mode]]
        case.validate_response(response, checks=checks, headers={"Authorization": token})

    run()
