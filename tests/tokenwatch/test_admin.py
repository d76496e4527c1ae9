"""Django admin works for every registered model (changelist and, where allowed, add form)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("curator", "c@example.com", "pw")
    client.force_login(user)
    return client


def test_it_serves_every_admin_page(staff_client, ingest_file):
    from datetime import UTC, datetime

    ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = staff_client.get(url)
        assert response.status_code == 200, url
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert staff_client.get(change).status_code == 200, change


def test_the_unresolved_queue_filters_aliases(staff_client, ingest_file):
    from datetime import UTC, datetime

    ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    response = staff_client.get(reverse("admin:catalog_modelalias_changelist") + "?queue=unresolved")
    assert response.status_code == 200
    assert b"unresolved" in response.content.lower()
