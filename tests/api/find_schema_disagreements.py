"""Census of the places where the OpenAPI schema and the API disagree (not part of the suite: run it by path).

    env -u DATABASE_URL .venv/bin/pytest tests/api/find_schema_disagreements.py -q -s
    SCHEMA_CENSUS_EXAMPLES=200 .venv/bin/pytest tests/api/find_schema_disagreements.py -q -s
    SCHEMA_CENSUS_STORED_KEYS=1 ...   # valid requests drawn as test_schemathesis.py draws them

With SCHEMA_CENSUS_STORED_KEYS=1, valid requests name stored rows, carry no cursor and keep the rules
between parameters, as in test_schemathesis.py (what a static schema cannot say); without it, every
random key and cursor the API refuses counts.

Every operation, valid and invalid requests (schemathesis, derandomised), judged by the two
conformance checks: ``positive_data_acceptance`` (a request valid by the schema answered 400)
and ``negative_data_rejection`` (a request invalid by the schema answered 2xx). Unlike
test_schemathesis.py, which stops at the first failure, this keeps going and counts distinct
places: (operation, direction, parameter blamed). The parameter is the one the 400 body names
(valid requests) or the one schemathesis made invalid (invalid requests).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.api.test_schemathesis import (  # noqa: F401  (live_app: its fixture)
    OPERATIONS,
    keep_what_the_schema_cannot_say,
    live_app,
    stored_keys,
)

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("SCHEMA_CENSUS_EXAMPLES", "100"))
STORED_KEYS = os.environ.get("SCHEMA_CENSUS_STORED_KEYS") == "1"


def _blamed_parameters(case, response, mode: GenerationMode) -> list[str]:
    if mode is GenerationMode.POSITIVE:
        try:
            body = json.loads(response.content)
        except ValueError:
            return ["?"]
        return sorted(body) if isinstance(body, dict) else ["?"]
    data = case.meta.phase.data if case.meta else None
    names = [getattr(data, "parameter", None)]
    names += [m.parameter for m in getattr(data, "mutations", None) or () if getattr(m, "parameter", None)]
    names = [n for n in names if n]
    return sorted(set(names)) or [str(getattr(data, "description", None) or "?")]


def test_census(live_app, client_staff):  # noqa: F811
    token = client_staff._credentials["HTTP_AUTHORIZATION"]
    places: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    started = time.monotonic()

    def probe(operation, mode: GenerationMode, check) -> None:
        direction = "valid rejected" if mode is GenerationMode.POSITIVE else "invalid accepted"

        strategy = operation.as_strategy(generation_mode=mode)
        if STORED_KEYS and mode is GenerationMode.POSITIVE:
            keys = stored_keys()
            strategy = strategy.map(lambda case: keep_what_the_schema_cannot_say(case, keys))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call(headers={"Authorization": token})
            try:
                case.validate_response(response, checks=[check], headers={"Authorization": token})
            except (Failure, FailureGroup):
                for name in _blamed_parameters(case, response, mode):
                    key = (case.operation.label, direction, name)
                    if len(places[key]) < 2:
                        places[key].append(f"{response.status_code} {case.formatted_path}?{case.query}"[:300])

        run()

    for operation in OPERATIONS:
        probe(operation, GenerationMode.POSITIVE, positive_data_acceptance)
        probe(operation, GenerationMode.NEGATIVE, negative_data_rejection)
    elapsed = time.monotonic() - started
    for (label, direction, name), examples in sorted(places.items()):
        print(f"{direction:16} {label:48} {name:24} {examples[0]}")
    by_direction = defaultdict(int)
    for _, direction, _ in places:
        by_direction[direction] += 1
    print(f"\n{len(places)} disagreements ({dict(by_direction)}); {len(OPERATIONS)} operations, "
          f"{EXAMPLES} examples per operation per mode, stored keys {STORED_KEYS}, {elapsed:.0f} s")
