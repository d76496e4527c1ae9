"""/api/schema/, /api/docs/, /api/redoc/: OpenAPI 3 that validates, describes every field, and works offline."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_it_generates_a_valid_schema_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


def test_it_describes_every_field_and_parameter(schema):
    missing = []
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            if not spec.get("description") and "$ref" not in spec and "allOf" not in spec:
                missing.append(f"{name}.{field}")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description") and parameter["in"] == "query" and parameter["name"] != "format":
                    missing.append(f"{method.upper()} {path} ?{parameter['name']}")
    assert missing == []


def test_it_documents_money_as_decimal_strings(schema):
    price = schema["components"]["schemas"]["Price"]["properties"]
    assert price["input_usd_per_mtok"]["type"] == "string"
    assert price["input_usd_per_mtok"]["format"] == "decimal"
    assert "USD per 1M input tokens" in price["input_usd_per_mtok"]["description"]
    assert "JSON strings" in schema["info"]["description"]


def test_it_documents_csv_pagination_and_errors_on_lists(schema):
    operation = schema["paths"]["/api/v1/prices/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert operation["responses"]["200"]["content"]["text/csv"]["schema"]["type"] == "string"
    names = {p["name"] for p in operation["parameters"]}
    assert {"cursor", "page_size", "ordering", "format", "as_of", "provider", "model", "family", "region",
            "service_tier", "provider_kind", "min_input_usd_per_mtok", "max_output_usd_per_mtok"} <= names
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 1000
    assert {"400", "401", "403", "429"} <= set(operation["responses"])
    assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_it_serves_the_schema_and_offline_docs_to_anyone(anon):
    response = anon.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3" in response.content
    for url in ("/api/docs/", "/api/redoc/"):
        page = anon.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        # Every script and stylesheet comes from our own static files (drf-spectacular-sidecar), no CDN.
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert assets and all(a.startswith("/static/") for a in assets), assets
