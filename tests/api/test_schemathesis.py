"""Property-based run of the whole API against its own OpenAPI schema (schemathesis, in-process WSGI, no network).

The schema is read from /api/schema/. Every operation gets a bounded,
derandomised set of generated requests, valid ones and invalid ones, as a
staff user on a public API over small real data. A 5xx, an undocumented
status or content type, or a body that breaks the schema it is documented
with fails the test.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tokenwatch.wsgi import application

pytestmark = pytest.mark.django_db
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

# Serving the schema needs no database, so it is loaded once, at collection.
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def live_app(economics, public_api, monkeypatch):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # A generated fetch request must not reach the network.
    monkeypatch.setattr("apps.sources.api.views.fetch_source.delay", lambda source_id: None)
    # As Django's test client does: keep the test's database connection (and its transaction) open
    # across requests made straight to the WSGI application.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_it_tests_every_operation():
    assert len(OPERATIONS) >= 30
    assert {"GET /api/v1/prices/", "GET /api/v1/compare/", "POST /api/v1/uploads/"} <= {o.label for o in OPERATIONS}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.label for o in OPERATIONS])
def test_it_never_fails_and_keeps_to_its_schema(live_app, client_staff, operation, mode):
    token = client_staff._credentials["HTTP_AUTHORIZATION"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)

    run()
