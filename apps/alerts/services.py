"""Writes for alerts: derive market events, check them against the watches, deliver the alerts.

Flow (README "Watches and alerts"): a snapshot's transaction changes market prices and registers, with
``transaction.on_commit``, a hint (apps.alerts.tasks.market_events_process). The task, and the periodic
sweep that stands in for a lost hint (invariant 8), run ``alerts_process``:

1. ``market_events_derive`` compares every market price with the state the alerts last saw
   (MarketState) and writes one MarketEvent per change (price moved, offering appeared or disappeared,
   sources started disagreeing), keyed by (offering, state version, kind);
2. ``alerts_evaluate`` checks the events not yet evaluated against the active watches, set-based: one read
   of the candidate watches for all events, one insert of the alerts, one of the deliveries;
3. the pending deliveries are handed to Celery after that transaction commits.

Both steps run under one row lock (DeriveLock), so two workers take turns; the unique keys on events,
alerts (watch, event) and deliveries (alert, channel) make a repeat insert nothing, and a delivery is
claimed with a compare-and-set before it is sent, so no alert goes out twice.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.catalog.models import Model, Provider
from apps.common.bulk import batched, bulk_update_rows, insert_ignoring_conflicts
from apps.common.timestamps import timestamp_text
from apps.pricing.models import COMPONENTS, MarketPrice

from .models import BLENDED, UNIT, Alert, Delivery, DeriveLock, MarketEvent, MarketState, Watch
from .webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, WebhookError, signature_header, webhook_post

logger = logging.getLogger(__name__)

Key = tuple[int, int, str, str, int]  # provider id, model id, region, service tier, min prompt tokens
KEY_FIELDS = ("provider_id", "model_id", "region", "service_tier", "min_prompt_tokens")
LABEL = "price_label"
INPUT, OUTPUT = COMPONENTS[0], COMPONENTS[1]
# A claim older than this is a worker that died mid-send: the sweep makes the delivery due again.
STALE_CLAIM = timedelta(minutes=15)


# --- 1. market events ---------------------------------------------------------------------------------------


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(text: str | Decimal | None) -> Decimal | None:
    return text if text is None or isinstance(text, Decimal) else Decimal(text)


def _decimals(values: dict[str, Any]) -> dict[str, Any]:
    """An event's stored values with the prices as Decimals, parsed once per event rather than per watch."""
    return {name: (_decimal(value) if name in COMPONENTS else value) for name, value in values.items()}


def _differs(old: str | None, new: str | None) -> bool:
    """By value, as decimals (2.5 == 2.50); None differs from any number."""
    return (old is None) != (new is None) or (old is not None and Decimal(old) != Decimal(new))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Seen:
    """A market price as the derivation reads it."""

    values: dict[str, str | None]
    sources_agree: bool
    source_id: int
    snapshot_id: int | None
    observed_at: datetime | None


def _market_now() -> dict[Key, Seen]:
    fields = (*KEY_FIELDS, *COMPONENTS, LABEL, "sources_agree", "source_id", "price__snapshot_id",
              "last_confirmed_at", "effective_from")
    market: dict[Key, Seen] = {}
    n = len(COMPONENTS)
    for row in MarketPrice.objects.values_list(*fields):
        key, comps, (label, agree, source_id, snapshot_id, confirmed, start) = row[:5], row[5:5 + n], row[5 + n:]
        values: dict[str, str | None] = {c: _text(v) for c, v in zip(COMPONENTS, comps, strict=True)}
        values[LABEL] = label
        market[key] = Seen(values, agree, source_id, snapshot_id, confirmed or start)  # type: ignore[index]
    return market


def _lock() -> DeriveLock:
    DeriveLock.objects.get_or_create(pk=1)  # a flushed test database has lost the migration's row
    return DeriveLock.objects.select_for_update().get(pk=1)


def market_events_derive() -> int:
    """Compare the market prices with the last state seen; write the events and the new state. Returns the
    number of events written. Call inside a transaction (alerts_process holds the lock)."""
    lock = _lock()
    market = _market_now()
    states = {(s.provider_id, s.model_id, s.region, s.service_tier, s.min_prompt_tokens): s
              for s in MarketState.objects.all()}
    baseline = not lock.baselined
    now = timezone.now()
    events: list[dict[str, Any]] = []
    new_states: list[dict[str, Any]] = []
    changed_states: list[dict[str, Any]] = []

    def event(kind: str, key: Key, version: int, old: dict[str, Any], seen: Seen | None) -> None:
        if baseline:  # the first look at a market describes it; nothing has happened yet
            return
        events.append({
            "kind": kind, **dict(zip(KEY_FIELDS, key, strict=True)), "version": version, "old_values": old,
            "new_values": seen.values if seen else {}, "source_id": seen.source_id if seen else None,
            "snapshot_id": seen.snapshot_id if seen else None, "observed_at": seen.observed_at if seen else None,
            "created_at": now, "evaluated_at": None})

    for key, seen in market.items():
        state = states.get(key)
        if state is None:
            event(MarketEvent.Kind.APPEARED, key, 1, {}, seen)
            new_states.append({**dict(zip(KEY_FIELDS, key, strict=True)), "present": True, "version": 1,
                               "values": seen.values, "sources_agree": seen.sources_agree})
            continue
        version = state.version
        if not state.present:
            version += 1
            event(MarketEvent.Kind.APPEARED, key, version, state.values, seen)
        else:
            moved = any(_differs(state.values.get(c), seen.values.get(c)) for c in COMPONENTS)
            split = state.sources_agree and not seen.sources_agree
            if not (moved or split or state.values.get(LABEL) != seen.values.get(LABEL)
                    or state.sources_agree != seen.sources_agree):
                continue
            if moved or split:
                version += 1
            if moved:
                event(MarketEvent.Kind.PRICE, key, version, state.values, seen)
            if split:
                event(MarketEvent.Kind.DISAGREEMENT, key, version, state.values, seen)
        changed_states.append({"id": state.pk, "present": True, "version": version, "values": seen.values,
                               "sources_agree": seen.sources_agree})
    gone = [state for key, state in states.items() if state.present and key not in market]
    # A curator may have deleted (merged) the model or provider itself: its states go, with no event to name it.
    models_left = set(Model.objects.filter(pk__in={s.model_id for s in gone}).values_list("pk", flat=True))
    providers_left = set(Provider.objects.filter(pk__in={s.provider_id for s in gone}).values_list("pk", flat=True))
    orphans = []
    for state in gone:
        if state.model_id not in models_left or state.provider_id not in providers_left:
            orphans.append(state.pk)
            continue
        key = (state.provider_id, state.model_id, state.region, state.service_tier, state.min_prompt_tokens)
        event(MarketEvent.Kind.DISAPPEARED, key, state.version + 1, state.values, None)
        changed_states.append({"id": state.pk, "present": False, "version": state.version + 1,
                               "values": state.values, "sources_agree": state.sources_agree})
    for chunk in batched(orphans):
        MarketState.objects.filter(pk__in=chunk).delete()

    insert_ignoring_conflicts(MarketState, new_states, conflict=list(KEY_FIELDS), expect_new=True)
    bulk_update_rows(MarketState, changed_states, ["present", "version", "values", "sources_agree"])
    # Under the lock every key here is new (expect_new: COPY straight into the table); the unique keys are for a
    # writer that got past it: (offering, version, kind) makes a repeat of the same derivation write nothing.
    insert_ignoring_conflicts(MarketEvent, events, conflict=[*KEY_FIELDS, "version", "kind"], expect_new=True)
    if baseline:
        DeriveLock.objects.filter(pk=1).update(baselined=True)
    return len(events)


# --- 2. evaluation ------------------------------------------------------------------------------------------


def blended(values: dict[str, Any], input_ratio: int, output_ratio: int) -> Decimal | None:
    i, o = _decimal(values.get(INPUT)), _decimal(values.get(OUTPUT))
    if i is None or o is None or input_ratio + output_ratio == 0:
        return None
    return (i * input_ratio + o * output_ratio) / (input_ratio + output_ratio)


def watched_value(watch: Watch, values: dict[str, Any]) -> Decimal | None:
    if watch.component == BLENDED:
        return blended(values, watch.blend_input_ratio, watch.blend_output_ratio)
    return _decimal(values.get(watch.component))


@dataclass(frozen=True)
class Match:
    old: Decimal | None
    new: Decimal | None
    percent: Decimal | None


def percent_change(old: Decimal | None, new: Decimal | None) -> Decimal | None:
    if old is None or new is None or old == 0:
        return None
    return ((new - old) / old * 100).quantize(Decimal("0.01"))


def condition_match(watch: Watch, event: MarketEvent) -> Match | None:
    """Whether the event fires the watch. Thresholds fire on crossing (the price was not already beyond it),
    so a watch is not told the same thing at every confirmation."""
    kind, cond = event.kind, watch.condition
    if cond in (Watch.Condition.BELOW, Watch.Condition.ABOVE, Watch.Condition.CHANGE):
        if kind not in (MarketEvent.Kind.PRICE, MarketEvent.Kind.APPEARED):
            return None
        old = watched_value(watch, event.old_values) if kind == MarketEvent.Kind.PRICE else None
        new = watched_value(watch, event.new_values)
        pct = percent_change(old, new)
        if cond == Watch.Condition.CHANGE:
            if kind != MarketEvent.Kind.PRICE or old is None or new is None or old == new:
                return None
            # From or to zero (free) is a change beyond any percentage.
            return Match(old, new, pct) if pct is None or abs(pct) > watch.change_pct else None  # type: ignore[operator]
        threshold = watch.threshold_usd_per_mtok
        if new is None or threshold is None:
            return None
        if cond == Watch.Condition.BELOW:
            return Match(old, new, pct) if new < threshold and (old is None or old >= threshold) else None
        return Match(old, new, pct) if new > threshold and (old is None or old <= threshold) else None
    wanted = {Watch.Condition.NEW_PROVIDER: MarketEvent.Kind.APPEARED,
              Watch.Condition.DISAPPEARS: MarketEvent.Kind.DISAPPEARED,
              Watch.Condition.DISAGREEMENT: MarketEvent.Kind.DISAGREEMENT}[cond]  # type: ignore[index]
    if kind != wanted:
        return None
    values = event.old_values if kind == MarketEvent.Kind.DISAPPEARED else event.new_values
    value = watched_value(watch, values)
    return Match(value if kind == MarketEvent.Kind.DISAPPEARED else None,
                 None if kind == MarketEvent.Kind.DISAPPEARED else value, None)


# Which conditions each kind of event can fire: the evaluation reads and indexes only those watches.
CONDITIONS_OF = {
    MarketEvent.Kind.PRICE: (Watch.Condition.CHANGE, Watch.Condition.BELOW, Watch.Condition.ABOVE),
    MarketEvent.Kind.APPEARED: (Watch.Condition.BELOW, Watch.Condition.ABOVE, Watch.Condition.NEW_PROVIDER),
    MarketEvent.Kind.DISAPPEARED: (Watch.Condition.DISAPPEARS,),
    MarketEvent.Kind.DISAGREEMENT: (Watch.Condition.DISAGREEMENT,),
}
WATCH_FIELDS = ("id", "target", "model_id", "provider_id", "size_class", "condition", "component",
                "blend_input_ratio", "blend_output_ratio", "threshold_usd_per_mtok", "change_pct", "email", "digest",
                "webhook_url", "created_at")


class WatchIndex:
    """Active watches by (condition, target key): the candidates of an event are a few dictionary lookups."""

    def __init__(self, watches: list[Watch]) -> None:
        self.by: dict[tuple[str, str, Any], list[Watch]] = defaultdict(list)
        for watch in watches:
            if watch.target == Watch.Target.MODEL:
                key: Any = watch.model_id
            elif watch.target == Watch.Target.PROVIDER:
                key = watch.provider_id
            elif watch.target == Watch.Target.OFFERING:
                key = (watch.provider_id, watch.model_id)
            else:
                key = watch.size_class
            self.by[(watch.condition, watch.target, key)].append(watch)

    def candidates(self, event: MarketEvent, size_class: str | None) -> list[Watch]:
        found: list[Watch] = []
        for condition in CONDITIONS_OF[event.kind]:  # type: ignore[index]
            found += self.by.get((condition, Watch.Target.MODEL, event.model_id), ())
            found += self.by.get((condition, Watch.Target.PROVIDER, event.provider_id), ())
            found += self.by.get((condition, Watch.Target.OFFERING, (event.provider_id, event.model_id)), ())
            if size_class:
                found += self.by.get((condition, Watch.Target.SIZE_CLASS, size_class), ())
        return found


def alerts_evaluate(*, now: datetime | None = None) -> list[int]:
    """Check every event not yet evaluated against the active watches; write alerts and deliveries; mark the
    events evaluated. Returns the ids of the deliveries to send now. Call under the lock."""
    now = now or timezone.now()
    events = list(MarketEvent.objects.filter(evaluated_at__isnull=True).order_by("id"))
    if not events:
        return []
    model_ids = {e.model_id for e in events}
    size_of = dict(Model.objects.filter(pk__in=model_ids).exclude(size_class="").values_list("pk", "size_class"))
    conditions = {c for kind in {e.kind for e in events} for c in CONDITIONS_OF[kind]}  # type: ignore[index]
    # One read of every watch any event can concern (index ranges by model, provider, size class), then a
    # hash join in memory.
    watches = list(Watch.objects.filter(paused=False, condition__in=conditions).filter(
        Q(model_id__in=model_ids) | Q(provider_id__in={e.provider_id for e in events})
        | Q(target=Watch.Target.SIZE_CLASS, size_class__in=set(size_of.values()))).only(*WATCH_FIELDS))
    index = WatchIndex(watches)
    for event in events:  # in memory only: the rows keep their decimal text
        event.old_values, event.new_values = _decimals(event.old_values), _decimals(event.new_values)
    alerts: list[dict[str, Any]] = []
    channels: dict[int, list[str]] = {}  # watch id -> immediate channels
    for event in events:
        for watch in index.candidates(event, size_of.get(event.model_id)):
            if watch.created_at > event.created_at:  # a watch hears of what happens after it was made
                continue
            match = condition_match(watch, event)
            if match is None:
                continue
            alerts.append({"watch_id": watch.pk, "event_id": event.pk, "old_usd_per_mtok": match.old,
                           "new_usd_per_mtok": match.new, "percent_change": match.percent, "created_at": now})
            channels[watch.pk] = ([Delivery.Channel.EMAIL] if watch.email and not watch.digest else []) + (
                [Delivery.Channel.WEBHOOK] if watch.webhook_url else [])
    # (watch, event) is unique: an alert another run wrote already is skipped, not doubled.
    insert_ignoring_conflicts(Alert, alerts, conflict=["watch_id", "event_id"], expect_new=True)
    event_ids = [e.pk for e in events]
    deliveries: list[dict[str, Any]] = []
    for ids in batched(event_ids):
        for alert_id, watch_id in Alert.objects.filter(event_id__in=ids, deliveries__isnull=True).values_list(
                "pk", "watch_id"):
            for channel in channels.get(watch_id, ()):
                deliveries.append({
                    "watch_id": watch_id, "alert_id": alert_id, "channel": channel, "digest_day": None,
                    "status": Delivery.Status.PENDING, "attempts": 0, "response_code": None, "last_error": "",
                    "next_retry_at": None, "claimed_at": None, "delivered_at": None,
                    "idempotency_key": uuid.uuid4(), "created_at": now})
    insert_ignoring_conflicts(Delivery, deliveries, conflict=["alert_id", "channel"], expect_new=True)
    for ids in batched(event_ids):
        MarketEvent.objects.filter(pk__in=ids).update(evaluated_at=now)
    due: list[int] = []
    for ids in batched(event_ids):
        due.extend(Delivery.objects.filter(alert__event_id__in=ids, status=Delivery.Status.PENDING)
                   .values_list("pk", flat=True))
    return due


def alerts_process() -> list[int]:
    """Derive and evaluate in one transaction, one worker at a time; returns the deliveries to send (once
    the transaction has committed, so a worker finds them)."""
    with transaction.atomic():
        market_events_derive()
        return alerts_evaluate()


# --- 3. delivery --------------------------------------------------------------------------------------------


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.permanent, self.status = message, permanent, status


def watch_link(watch: Watch) -> str:
    return settings.TOKENWATCH_SITE_URL.rstrip("/") + reverse("alerts:watch-detail", args=[watch.pk])


def _money(value: Decimal | None) -> dict[str, str | None]:
    return {"value": _text(value), "unit": UNIT}


def alert_payload(alert: Alert, delivery: Delivery) -> dict[str, Any]:
    """The JSON body of a webhook (README "Watches and alerts")."""
    watch, event = alert.watch, alert.event
    return {
        "id": str(delivery.idempotency_key),
        "type": f"watch.{watch.condition}",
        "created_at": timestamp_text(alert.created_at),
        "watch": {"id": watch.pk, "name": str(watch), "target": watch.target, "target_label": watch.target_label(),
                  "condition": watch.condition, "component": watch.component,
                  "threshold_usd_per_mtok": _text(watch.threshold_usd_per_mtok),
                  "change_pct": _text(watch.change_pct)},
        "event": {"id": event.pk, "kind": event.kind},
        "offering": {"provider": event.provider.slug, "model": event.model.slug, "region": event.region,
                     "service_tier": event.service_tier, "min_prompt_tokens": event.min_prompt_tokens},
        "old": _money(alert.old_usd_per_mtok),
        "new": _money(alert.new_usd_per_mtok),
        "percent_change": _text(alert.percent_change),
        "old_values_usd_per_mtok": event.old_values,
        "new_values_usd_per_mtok": event.new_values,
        "source": event.source.key if event.source else None,
        "snapshot": event.snapshot_id,
        "observed_at": timestamp_text(event.observed_at) if event.observed_at else None,
        "link": watch_link(watch),
    }


def alert_summary(alert: Alert) -> str:
    event, watch = alert.event, alert.watch
    where = f"{event.model.name} at {event.provider.name}" + (f" ({event.service_tier})"
                                                             if event.service_tier != "standard" else "")
    if event.kind == MarketEvent.Kind.PRICE:
        pct = f" ({alert.percent_change:+}%)" if alert.percent_change is not None else ""
        what = (f"{watch.get_component_display()} {alert.old_usd_per_mtok} -> {alert.new_usd_per_mtok} "
                f"{UNIT}{pct}")
    else:
        what = event.get_kind_display().lower()
        if alert.new_usd_per_mtok is not None:
            what += f", {watch.get_component_display()} {alert.new_usd_per_mtok} {UNIT}"
    return f"{where}: {what}"


def _send_email(delivery: Delivery) -> int | None:
    watch = delivery.watch
    address = watch.owner.email
    if not address:
        raise DeliveryError("the watch's owner has no email address", permanent=True)
    if delivery.channel == Delivery.Channel.DIGEST:
        alerts = list(digest_alerts(watch.alerts.all(), delivery.digest_day)  # type: ignore[arg-type]
                      .select_related("event__provider", "event__model", "event__source").order_by("id"))
        subject = f"tokenwatch digest {delivery.digest_day}: {len(alerts)} alert(s) for {watch}"
        lines = [alert_summary(a) for a in alerts]
    else:
        alert = delivery.alert
        subject = f"tokenwatch: {watch} - {alert_summary(alert)}"[:250]  # type: ignore[arg-type]
        lines = [alert_summary(alert)]  # type: ignore[arg-type]
        alerts = [alert]  # type: ignore[list-item]
    sources = sorted({f"{a.event.source.key} (snapshot {a.event.snapshot_id})" for a in alerts if a.event.source})
    body = "\n".join([*lines, "", f"Source: {', '.join(sources) or 'n/a'}", f"Watch: {watch_link(watch)}"])
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    except OSError as exc:  # smtplib's errors are OSErrors: a server or network problem, worth a retry
        raise DeliveryError(f"email not sent ({type(exc).__name__}: {exc})", permanent=False) from None
    return None


def _send_webhook(delivery: Delivery) -> int | None:
    watch = delivery.watch
    body = json.dumps(alert_payload(delivery.alert, delivery), separators=(",", ":")).encode()  # type: ignore[arg-type]
    stamp = int(timezone.now().timestamp())
    try:
        response = webhook_post(url=watch.webhook_url, body=body, timeout_s=settings.TOKENWATCH_WEBHOOK_TIMEOUT_S,
                                headers={SIGNATURE_HEADER: signature_header(watch.webhook_secret, stamp, body),
                                         IDEMPOTENCY_HEADER: str(delivery.idempotency_key),
                                         "Tokenwatch-Delivery": str(delivery.pk),
                                         "Tokenwatch-Attempt": str(delivery.attempts)})
    except WebhookError as exc:
        raise DeliveryError(exc.message, permanent=exc.permanent, status=exc.status) from None
    return response.status


def backoff_s(attempts: int) -> float:
    return float(settings.TOKENWATCH_ALERT_RETRY_BACKOFF_S) * 2 ** max(attempts - 1, 0)


def delivery_attempt(*, delivery_id: int) -> float | None:
    """Claim a due delivery and send it once. Returns seconds until the next try when it should be retried,
    else None (sent, given up, not due, or another worker has it)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now), pk=delivery_id,
        status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
    ).update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related(
        "watch__owner", "alert__event__provider", "alert__event__model", "alert__event__source").get(pk=delivery_id)
    sender = _send_webhook if delivery.channel == Delivery.Channel.WEBHOOK else _send_email
    try:
        status = sender(delivery)
    except DeliveryError as exc:
        give_up = exc.permanent or delivery.attempts >= settings.TOKENWATCH_ALERT_MAX_TRIES
        wait = None if give_up else backoff_s(delivery.attempts)
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED if give_up else Delivery.Status.RETRYING, response_code=exc.status,
            last_error=exc.message[:500], next_retry_at=None if wait is None else now + timedelta(seconds=wait))
        logger.info("delivery %s attempt %s failed: %s", delivery_id, delivery.attempts, exc.message)
        return wait
    Delivery.objects.filter(pk=delivery_id).update(status=Delivery.Status.DELIVERED, response_code=status,
                                                   last_error="", next_retry_at=None,
                                                   delivered_at=timezone.now())
    return None


def deliveries_due(*, now: datetime | None = None) -> list[int]:
    """Deliveries to (re)send: pending, retry time passed, or claimed by a worker that died (made due again)."""
    now = now or timezone.now()
    Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Delivery.Status.RETRYING, next_retry_at=now)
    return list(Delivery.objects.filter(Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now),
                                        status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
                .order_by("id").values_list("pk", flat=True))


def digest_alerts(alerts: QuerySet[Alert], day: date) -> QuerySet[Alert]:
    """The alerts of the UTC ``day`` that belong in a digest: those not already sent by email one by one (made
    before the watch switched to the digest)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return alerts.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1)).exclude(
        deliveries__channel=Delivery.Channel.EMAIL)


def digests_create(*, day: date) -> list[int]:
    """One digest delivery per digest watch with alerts on the UTC ``day`` (unique per watch and day);
    returns the pending digest deliveries of that day."""
    watch_ids = set(digest_alerts(Alert.objects.filter(watch__digest=True, watch__email=True), day)
                    .values_list("watch_id", flat=True))
    Delivery.objects.bulk_create([Delivery(watch_id=w, channel=Delivery.Channel.DIGEST, digest_day=day)
                                  for w in sorted(watch_ids)], ignore_conflicts=True)
    return list(Delivery.objects.filter(channel=Delivery.Channel.DIGEST, digest_day=day,
                                        status=Delivery.Status.PENDING).values_list("pk", flat=True))


# --- watches ------------------------------------------------------------------------------------------------


def watch_save(*, watch: Watch) -> Watch:
    """Validate (Watch.clean: the target and condition fit, the webhook passes the guard) and save."""
    watch.full_clean()
    watch.save()
    return watch


def watch_set_paused(*, watch: Watch, paused: bool) -> Watch:
    Watch.objects.filter(pk=watch.pk).update(paused=paused, updated_at=timezone.now())
    watch.paused = paused
    return watch


def watch_delete(*, watch: Watch) -> None:
    watch.delete()
