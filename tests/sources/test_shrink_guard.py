"""Invariant 7: a truncated upstream file can never erase the market (issue 9, finding 1).

The scenario is the real one: the newest LiteLLM file, then a valid JSON file holding
only its first 40 % of entries a day later (a half-written upstream file).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.catalog.models import Provider
from apps.pricing.models import Price, PriceChange
from apps.sources.models import IngestRun, Snapshot
from apps.sources.services import FetchMeta, ReviewError, snapshot_review, snapshot_store, source_ingest_bytes
from apps.sources.tasks import ingest_snapshot
from tests.conftest import FIXTURES, get_source

pytestmark = pytest.mark.django_db

NEWEST = FIXTURES / "litellm" / "model_prices_2026-07-24_rocry-8442b93.json"
DAY1 = datetime(2026, 7, 24, 18, 0, tzinfo=UTC)


def truncated(share: float = 0.4) -> bytes:
    """A valid JSON document with only the first share of the newest file's entries."""
    document = json.loads(NEWEST.read_bytes())
    keys = list(document)
    return json.dumps({k: document[k] for k in keys[: int(len(keys) * share)]}).encode()


def ingest(content: bytes, when: datetime, name: str, key: str = "litellm") -> IngestRun:
    return source_ingest_bytes(source=get_source(key), content=content, trigger="command", observed_at=when,
                               meta=FetchMeta(filename=name))


def history() -> list[tuple]:
    return sorted(Price.objects.values_list("offering_id", "effective_from", "effective_to", "input_usd_per_mtok",
                                            "output_usd_per_mtok", "snapshot_id"),
                  key=lambda r: tuple(str(v) for v in r))


def current_gpt4o() -> Price:
    return Price.objects.get(offering__source__key="litellm", offering__source_model_id="gpt-4o",
                             offering__provider__slug="openai", offering__service_tier="standard",
                             offering__min_prompt_tokens=0, effective_to__isnull=True)


@pytest.fixture
def full_then_truncated():
    first = ingest(NEWEST.read_bytes(), DAY1, NEWEST.name)
    assert first.status == IngestRun.Status.OK, first.message
    before = history()
    held = ingest(truncated(), DAY1 + timedelta(days=1), "truncated.json")
    return before, held


def test_a_truncated_file_is_held_with_its_numbers_and_changes_no_price(full_then_truncated):
    before, run = full_then_truncated
    assert run.status == IngestRun.Status.HELD
    # "would end 1,952 of 3,385 current prices (58 %)": the numbers, the previous snapshot and the threshold.
    assert "held for review: would end " in run.message and "threshold 25 %" in run.message
    ended, listed = (int(n.replace(",", "")) for n in
                     run.message.split("would end ")[1].split(" current prices")[0].split(" of "))
    assert listed > 3000 and ended / listed > 0.5
    snapshot = run.snapshot
    assert snapshot.parse_status == Snapshot.Status.HELD
    assert snapshot.record_count > 1000  # parsed and counted, nothing lost
    assert bytes(Snapshot.objects.get(pk=snapshot.pk).content) == truncated()
    assert history() == before
    assert current_gpt4o().effective_to is None
    assert not snapshot.observations.exists()


def test_a_held_snapshot_does_not_block_the_next_one(full_then_truncated):
    _, held = full_then_truncated
    document = json.loads(NEWEST.read_bytes())
    document["gpt-4o"] = {**document["gpt-4o"], "input_cost_per_token": 2e-06}
    run = ingest(json.dumps(document).encode(), DAY1 + timedelta(days=2), "next.json")
    assert run.status == IngestRun.Status.OK, run.message
    assert current_gpt4o().input_usd_per_mtok == Decimal("2")
    assert Snapshot.objects.get(pk=held.snapshot_id).parse_status == Snapshot.Status.HELD


def test_accepting_applies_it(full_then_truncated):
    _, held = full_then_truncated
    snapshot = Snapshot.objects.get(pk=held.snapshot_id)

    run = snapshot_review(snapshot=snapshot, accept=True, by="curator")
    assert run.status == IngestRun.Status.OK, run.message
    assert run.trigger == IngestRun.Trigger.REVIEW
    ended = Price.objects.filter(effective_to=DAY1 + timedelta(days=1)).count()
    assert ended > 1500
    snapshot.refresh_from_db()
    assert (snapshot.parse_status, snapshot.review, snapshot.reviewed_by) == ("ok", "accepted", "curator")
    # An accepted snapshot is not held again by a reparse.
    call_command("reparse", snapshot.pk, stdout=io.StringIO())
    snapshot.refresh_from_db()
    assert snapshot.parse_status == Snapshot.Status.OK


def test_rejecting_leaves_history_as_if_it_never_arrived(full_then_truncated):
    before, held = full_then_truncated
    changes = list(PriceChange.objects.values_list("pk", flat=True))
    out = io.StringIO()
    call_command("snapshot_review", held.snapshot_id, "--reject", "--by", "curator", stdout=out)
    assert "rejected by curator; history is unchanged" in out.getvalue()
    assert history() == before
    assert list(PriceChange.objects.values_list("pk", flat=True)) == changes
    snapshot = Snapshot.objects.get(pk=held.snapshot_id)
    assert snapshot.parse_status == Snapshot.Status.REJECTED
    # A reparse of every snapshot keeps it out; so does the same file fetched again.
    call_command("reparse", "--source", "litellm", stdout=io.StringIO())
    assert history() == before
    again = ingest(truncated(), DAY1 + timedelta(days=3), "truncated.json")
    assert again.status == IngestRun.Status.REJECTED
    assert history() == before
    with pytest.raises(ReviewError):
        snapshot_review(snapshot=snapshot, accept=True)
    with pytest.raises(CommandError, match="not held"):
        call_command("snapshot_review", held.snapshot_id, "--accept")


def test_the_held_file_fetched_again_says_why_once(full_then_truncated):
    # The same bytes a day later: still held, its reason said once, not the first run's whole line nested in it
    # ("…, still held for review: truncated.json: held for review: would end …").
    _, held = full_then_truncated
    again = ingest(truncated(), DAY1 + timedelta(days=2), "truncated.json")
    assert again.status == IngestRun.Status.HELD
    assert again.message.startswith(f"truncated.json: same bytes as snapshot {held.snapshot_id} ")
    assert again.message.count("held for review") == 1 and again.message.count("truncated.json") == 1
    assert again.message.split("still held for review: ")[1] == held.message.split("held for review: ")[1]


def test_the_intact_file_again_confirms_the_prices(full_then_truncated):
    before, _ = full_then_truncated
    later = DAY1 + timedelta(days=4)
    run = ingest(NEWEST.read_bytes(), later, NEWEST.name)
    assert run.status == IngestRun.Status.UNCHANGED
    assert "seen again" in run.message and "prices confirmed" in run.message
    price = current_gpt4o()
    assert price.last_confirmed_at == later
    assert price.first_seen_at == DAY1
    assert history() == before


def test_the_command_shows_why_and_reviews(full_then_truncated):
    _, held = full_then_truncated
    out = io.StringIO()
    call_command("snapshot_review", held.snapshot_id, stdout=out)
    assert "held" in out.getvalue() and "--accept|--reject" in out.getvalue()
    out = io.StringIO()
    call_command("snapshot_review", held.snapshot_id, "--accept", stdout=out)
    assert "created" in out.getvalue()
    with pytest.raises(CommandError, match="no snapshot"):
        call_command("snapshot_review", 999999, "--accept")


def test_the_command_says_a_held_file_once(db, tmp_path, caplog):
    # The command prints each run's line on stdout; the services also logged a held run's line, which a terminal
    # showed a second time on stderr. Now the caller reports the line once: the command on stdout, a worker's
    # task in its log.
    first = tmp_path / NEWEST.name
    first.write_bytes(NEWEST.read_bytes())
    call_command("ingest", "litellm", "--file", str(first), stdout=io.StringIO())
    cut = tmp_path / "truncated.json"
    cut.write_bytes(truncated())
    out = io.StringIO()
    with caplog.at_level("INFO"):
        call_command("ingest", "litellm", "--file", str(cut), "--observed-at", "2026-07-26", stdout=out)
    assert out.getvalue().count("held for review") == 1
    assert not [r for r in caplog.records if "held for review" in r.getMessage()]
    caplog.clear()
    snapshot, _ = snapshot_store(source=get_source("litellm"), content=truncated(0.3),
                                 observed_at=DAY1 + timedelta(days=3), meta=FetchMeta(filename="fetched.json"))
    with caplog.at_level("INFO"):
        ingest_snapshot(snapshot.pk)
    held = [r for r in caplog.records if "held for review" in r.getMessage()]
    assert [(r.name, r.levelname) for r in held] == [("apps.sources.tasks", "INFO")]


def test_held_runs_are_in_the_api(full_then_truncated, client, django_user_model):
    _, held = full_then_truncated
    client.force_login(django_user_model.objects.create_user("analyst", password="x"))
    body = client.get("/api/v1/ingest-runs/", {"status": "held"}).json()
    assert [row["id"] for row in body["results"]] == [held.pk]
    assert "would end" in body["results"][0]["message"]
    snapshot = client.get(f"/api/v1/snapshots/{held.snapshot_id}/").json()
    assert snapshot["parse_status"] == "held"


def _doc(models: dict[str, str]) -> bytes:
    return json.dumps({name: {"litellm_provider": provider, "mode": "chat", "input_cost_per_token": 1e-06,
                              "output_cost_per_token": 2e-06} for name, provider in models.items()}).encode()


def test_dropping_a_whole_provider_is_held():
    many = {f"m{i}": "openai" for i in range(100)} | {f"g{i}": "groq" for i in range(12)}
    assert ingest(_doc(many), DAY1, "a.json").status == IngestRun.Status.OK
    without_groq = {k: v for k, v in many.items() if v != "groq"}  # 12 of 112 ended: 11 %, under the share
    run = ingest(_doc(without_groq), DAY1 + timedelta(days=1), "b.json")
    assert run.status == IngestRun.Status.HELD
    assert "would drop every offering of 1 provider(s): groq (12)" in run.message
    assert Price.objects.filter(offering__provider__slug="groq", effective_to__isnull=True).count() == 12


def test_small_churn_and_small_providers_pass():
    many = {f"m{i}": "openai" for i in range(100)} | {f"a{i}": "aleph_alpha" for i in range(6)}
    assert ingest(_doc(many), DAY1, "a.json").status == IngestRun.Status.OK
    # Real upstream files retire small providers (LiteLLM dropped Aleph Alpha's 6 offerings in 2026).
    fewer = {k: v for k, v in many.items() if v != "aleph_alpha" and k not in {"m1", "m2"}}
    run = ingest(_doc(fewer), DAY1 + timedelta(days=1), "b.json")
    assert run.status == IngestRun.Status.OK, run.message
    assert not Provider.objects.get(slug="aleph-alpha").offerings.filter(prices__effective_to__isnull=True).exists()


def test_the_threshold_is_per_source_and_editable():
    source = get_source("litellm")
    source.shrink_guard_max_ended_pct = Decimal(100)
    source.shrink_guard_provider_min = 0
    source.save()
    assert ingest(NEWEST.read_bytes(), DAY1, NEWEST.name).status == IngestRun.Status.OK
    assert ingest(truncated(), DAY1 + timedelta(days=1), "t.json").status == IngestRun.Status.OK
    assert get_source("openrouter").shrink_guard_max_ended_pct == Decimal(50)  # measured churn, see migration


def test_a_backfill_is_compared_with_the_snapshot_before_it():
    """The previous snapshot is by observation time, not by arrival."""
    many = {f"m{i}": "openai" for i in range(100)}
    assert ingest(_doc(many), DAY1, "a.json").status == IngestRun.Status.OK
    assert ingest(_doc(many | {"new": "openai"}), DAY1 + timedelta(days=10), "c.json").status == "ok"
    # Arrives last, belongs in the middle, and lists what the one before it listed: not a shrink.
    assert ingest(_doc(many | {"x": "openai"}), DAY1 + timedelta(days=5), "b.json").status == "ok"


def test_a_truncated_gpu_price_sheet_does_not_end_the_other_instances(shared_data):
    """The same accident on a complete hardware price sheet (SkyPilot's Lambda catalog)."""
    from apps.benchmarks.models import HardwarePrice

    sheet = (shared_data / "gpu-cloud" / "skypilot_lambda_vms_v8.csv").read_bytes()
    lines = sheet.splitlines(keepends=True)
    assert ingest(sheet, DAY1, "vms.csv", key="gpu-catalog").status == IngestRun.Status.OK
    current = set(HardwarePrice.objects.filter(effective_to__isnull=True).values_list("offering_id", "usd_per_hour"))
    assert len(current) > 100

    cut = b"".join(lines[: int(len(lines) * 0.4)])
    run = ingest(cut, DAY1 + timedelta(days=1), "vms-cut.csv", key="gpu-catalog")
    assert run.status == IngestRun.Status.HELD, run.message
    assert "would end" in run.message
    assert set(HardwarePrice.objects.filter(effective_to__isnull=True)
               .values_list("offering_id", "usd_per_hour")) == current

    # The whole sheet seen again later moves along its timeline; nothing ends.
    again = ingest(sheet, DAY1 + timedelta(days=2), "vms.csv", key="gpu-catalog")
    assert again.status == IngestRun.Status.UNCHANGED, again.message
    assert set(HardwarePrice.objects.filter(effective_to__isnull=True)
               .values_list("offering_id", "usd_per_hour")) == current


def test_the_guard_does_not_read_the_previous_document_s_bytes(db):
    """It compares what the two snapshots list, by the previous one's id: loading the previous document (1.5 MB for
    a LiteLLM file, decompressed by the database and copied to the worker) on every ingest was for nothing."""
    import hashlib

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert ingest(NEWEST.read_bytes(), DAY1, NEWEST.name).status == IngestRun.Status.OK
    changed = NEWEST.read_bytes().replace(b'"gpt-4o"', b'"gpt-4o-renamed"', 1)
    with CaptureQueriesContext(connection) as queries:
        second = ingest(changed, DAY1 + timedelta(days=1), "second.json")
    assert second.status == IngestRun.Status.OK, second.message
    assert "would end" not in second.message
    # Only the new document's own row may be asked for whole (storing it: get_or_create finds none).
    read_content = [q["sql"] for q in queries.captured_queries
                    if q["sql"].lstrip().upper().startswith("SELECT") and '"sources_snapshot"."content"' in q["sql"]
                    and hashlib.sha256(changed).hexdigest() not in q["sql"]]
    assert read_content == []


def test_the_listings_are_compared_in_sql_as_in_python():
    """price_listings_compared counts in one statement what listings_compared counts from the two listings read
    whole: per provider, offerings before, ended, after (real files: one drops providers, adds others)."""
    from apps.pricing.models import PriceObservation
    from apps.pricing.services import price_listings_compared
    from apps.sources.registry import listings_compared

    for name, when in [("model_prices_2025-09-30_rocry-72e074a.json", DAY1 - timedelta(days=300)),
                       ("model_prices_2026-01-31_rocry-94b6c3b.json", DAY1 - timedelta(days=170))]:
        assert ingest((FIXTURES / "litellm" / name).read_bytes(), when, name).status == IngestRun.Status.OK
    first, second = Snapshot.objects.filter(source__key="litellm").order_by("observed_at").values_list("pk", flat=True)

    def listing(snapshot_id: int) -> dict[int, int]:
        return dict(PriceObservation.objects.filter(snapshot_id=snapshot_id)
                    .values_list("offering_id", "offering__provider_id"))

    for before, after in [(first, second), (second, first), (first, first)]:
        assert sorted(price_listings_compared(before, after)) == sorted(listings_compared(listing(before),
                                                                                          listing(after)))
    counts = price_listings_compared(first, second)
    # Both kinds are there: providers that lose some offerings and keep others, providers new in the second.
    assert any(c.ended and c.after for c in counts) and any(c.after and not c.before for c in counts)
    assert not any(c.ended for c in price_listings_compared(first, first))
