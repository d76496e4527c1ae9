"""Market events, evaluation and delivery against a market built by the real ingest pipeline."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from apps.alerts import services
from apps.alerts.models import Alert, Delivery, MarketEvent, Watch
from apps.catalog.models import Model, Provider
from tests.alerts.conftest import doc, ingest

pytestmark = pytest.mark.django_db(transaction=True)


def watch(owner, **fields) -> Watch:
    defaults = {"target": Watch.Target.MODEL, "condition": Watch.Condition.CHANGE, "change_pct": Decimal(10),
                "component": "input_usd_per_mtok"}
    return services.watch_save(watch=Watch(owner=owner, **(defaults | fields)))


@pytest.fixture
def market(user):
    """gpt-4o at 2.5 / 10 USD per 1M tokens, mini at 0.15 / 0.6; the first look is the baseline."""
    ingest(doc({"gpt-4o": (2.5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 1)
    return Model.objects.get(slug="gpt-4o"), Provider.objects.get(slug="openai")


def test_it_alerts_once_after_commit_and_emails_the_owner(market, user):
    gpt4o, _ = market
    w = watch(user, model=gpt4o)
    ingest(doc({"gpt-4o": (2e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 2)  # input 2.5 -> 2.0: -20 %
    alert = Alert.objects.get(watch=w)
    assert (alert.old_usd_per_mtok, alert.new_usd_per_mtok, alert.percent_change) == (
        Decimal("2.5"), Decimal("2"), Decimal("-20.00"))
    assert alert.event.source.key == "litellm" and alert.event.snapshot_id is not None
    delivery = Delivery.objects.get(alert=alert)
    assert (delivery.channel, delivery.status, delivery.attempts) == ("email", "delivered", 1)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ann@example.com"]
    assert "2.5 -> 2 USD per 1M tokens (-20.00%)" in mail.outbox[0].body
