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


def test_a_price_that_did_not_move_enough_or_a_paused_watch_says_nothing(market, user):
    gpt4o, _ = market
    quiet = watch(user, model=gpt4o, change_pct=Decimal(25))  # the move is 20 %
    paused = watch(user, model=gpt4o, paused=True)
    ingest(doc({"gpt-4o": (2e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 2)
    assert MarketEvent.objects.filter(kind="price").count() == 1
    assert not Alert.objects.filter(watch__in=[quiet, paused]).exists()


def test_thresholds_fire_on_crossing_and_the_blend_uses_the_watch_ratio(market, user):
    gpt4o, openai = market
    below = watch(user, target=Watch.Target.OFFERING, model=gpt4o, provider=openai, condition="below",
                  threshold_usd_per_mtok=Decimal("2.2"), change_pct=None)
    # Blended 1:1 = (2.5 + 10) / 2 = 6.25 before, (2 + 10) / 2 = 6 after: below 6.1 only after.
    blend = watch(user, model=gpt4o, condition="below", component="blended", blend_input_ratio=1,
                  blend_output_ratio=1, threshold_usd_per_mtok=Decimal("6.1"), change_pct=None)
    above = watch(user, target=Watch.Target.PROVIDER, provider=openai, condition="above",
                  threshold_usd_per_mtok=Decimal("1"), change_pct=None)  # 2.5 and 2 both above: no crossing
    ingest(doc({"gpt-4o": (2e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 2)
    assert Alert.objects.get(watch=below).new_usd_per_mtok == Decimal(2)
    assert Alert.objects.get(watch=blend).new_usd_per_mtok == Decimal(6)
    assert not Alert.objects.filter(watch=above).exists()
    ingest(doc({"gpt-4o": (1.9e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 3)  # still below: not again
    assert Alert.objects.filter(watch=below).count() == 1


def test_new_provider_disappearing_offering_and_size_class(market, user):
    gpt4o, _ = market
    Model.objects.filter(slug="gpt-4o").update(size_class="frontier")
    new = watch(user, model=gpt4o, condition="new-provider", change_pct=None)
    gone = watch(user, target=Watch.Target.SIZE_CLASS, size_class="frontier", condition="disappears",
                 change_pct=None)
    ingest(doc({"gpt-4o": (2.5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07),
                "azure/gpt-4o": (3e-06, 1.2e-05, "azure")}), 2)
    azure = Alert.objects.get(watch=new)
    assert azure.event.kind == "appeared" and azure.event.provider.slug == "azure-openai"
    assert azure.new_usd_per_mtok == Decimal(3)
    ingest(doc({"gpt-4o": (2.5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 3)
    assert {(a.event.kind, a.event.provider.slug) for a in Alert.objects.filter(watch=gone)} == {
        ("disappeared", "azure-openai")}


def test_sources_starting_to_disagree(market, user):
    from apps.sources.models import Source

    gpt4o, _ = market
    w = watch(user, model=gpt4o, condition="disagreement", change_pct=None)
    Source.objects.create(key="mirror", name="A second LiteLLM-format feed", format="litellm", priority=5)
    ingest(doc({"gpt-4o": (2.5e-06, 1.5e-05)}), 1, key="mirror")
    assert [a.event.kind for a in Alert.objects.filter(watch=w)] == ["disagreement"]


def test_a_watch_hears_only_of_what_happens_after_it_was_made(market, user):
    gpt4o, _ = market
    ingest(doc({"gpt-4o": (2e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 2)
    late = watch(user, model=gpt4o)
    services.alerts_process()
    assert not Alert.objects.filter(watch=late).exists()


def test_the_daily_digest_groups_a_days_alerts_in_one_email(market, user):
    from apps.alerts.tasks import digests_send

    gpt4o, _ = market
    w = watch(user, model=gpt4o, digest=True)
    ingest(doc({"gpt-4o": (2e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 2)
    ingest(doc({"gpt-4o": (3e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 3)
    assert Alert.objects.filter(watch=w).count() == 2 and mail.outbox == []  # no per-alert email
    day = Alert.objects.filter(watch=w).first().created_at.date().isoformat()
    assert digests_send(day) == 1
    assert digests_send(day) == 0  # one digest per watch and day, however often the task runs
    assert len(mail.outbox) == 1
    assert "2 alert(s)" in mail.outbox[0].subject
    assert "2.5 -> 2 USD" in mail.outbox[0].body and "2 -> 3 USD" in mail.outbox[0].body
    assert Delivery.objects.get(watch=w).channel == "digest"


def test_a_digest_holds_only_alerts_not_emailed_already_and_catches_up_missed_days(market, user):
    from datetime import timedelta

    from django.utils import timezone

    from apps.alerts.tasks import digests_send

    gpt4o, _ = market
    w = watch(user, model=gpt4o)
    ingest(doc({"gpt-4o": (2e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 2)  # emailed at once
    Watch.objects.filter(pk=w.pk).update(digest=True)
    ingest(doc({"gpt-4o": (3e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 3)  # for the digest
    assert len(mail.outbox) == 1
    # Both alerts were two days ago, and yesterday's beat never ran: today's catches up.
    Alert.objects.filter(watch=w).update(created_at=timezone.now() - timedelta(days=2))
    assert digests_send() == 1 and digests_send() == 0
    assert len(mail.outbox) == 2
    assert "1 alert(s)" in mail.outbox[1].subject and "2 -> 3 USD" in mail.outbox[1].body
    assert "2.5 -> 2 USD" not in mail.outbox[1].body


def test_a_deleted_model_leaves_no_event_that_could_not_be_stored(market, user):
    from apps.alerts.models import MarketState
    from apps.pricing.models import MarketPrice

    gpt4o, _ = market
    other = watch(user, model=Model.objects.get(slug="gpt-4o-mini"), condition="disappears", change_pct=None)
    MarketPrice.objects.filter(model=gpt4o).delete()
    Model.objects.filter(pk=gpt4o.pk).delete()  # cascades its offerings' market rows; the alerts' state stays
    MarketPrice.objects.filter(model__slug="gpt-4o-mini").delete()
    services.alerts_process()
    assert not MarketState.objects.filter(model_id=gpt4o.pk).exists()
    assert [a.event.kind for a in Alert.objects.filter(watch=other)] == ["disappeared"]
