"""/api/v1/aliases/: raw ids and their canonical model; staff resolve the unresolved queue."""

from __future__ import annotations

import pytest

from apps.catalog.models import ModelAlias
from tests.api.conftest import FORMULA_ID, all_pages

pytestmark = pytest.mark.django_db
URL = "/api/v1/aliases/"


def unresolved_formula_alias() -> ModelAlias:
    return ModelAlias.objects.get(raw_id=FORMULA_ID)


def test_it_lists_the_unresolved_queue(client_user, prices):
    queue = all_pages(client_user, f"{URL}?status=unresolved")
    assert FORMULA_ID in {r["raw_id"] for r in queue}
    assert all(r["model"] is None for r in queue)
    resolved = all_pages(client_user, f"{URL}?resolved=true&source=litellm")
    assert resolved and all(r["model"] for r in resolved)


def test_it_lets_staff_resolve_an_alias_through_the_service(client_staff, prices):
    alias = unresolved_formula_alias()
    response = client_staff.post(f"{URL}{alias.pk}/resolve/", {"model": "gpt-4o"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["model"] == "gpt-4o"
    alias.refresh_from_db()
    assert (alias.model.slug, alias.status, alias.rule) == ("gpt-4o", "manual", "manual")


def test_it_refuses_readers_and_unknown_models(client_user, client_staff, anon, prices):
    alias = unresolved_formula_alias()
    assert client_user.post(f"{URL}{alias.pk}/resolve/", {"model": "gpt-4o"}, format="json").status_code == 403
    assert anon.post(f"{URL}{alias.pk}/resolve/", {"model": "gpt-4o"}, format="json").status_code == 401
    response = client_staff.post(f"{URL}{alias.pk}/resolve/", {"model": "gpt-5-turbo-max"}, format="json")
    assert response.status_code == 400 and "model" in response.json()
    assert client_staff.post(f"{URL}999999/resolve/", {"model": "gpt-4o"}, format="json").status_code == 404
    alias.refresh_from_db()
    assert alias.model is None
