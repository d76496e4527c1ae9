"""Every ingest path ends a hostile file the same way (issue 12): the Celery task, the upload API, the admin form.

`manage.py ingest` runs the whole corpus (test_corpus.py); here a failing and a quarantining
case of every source kind go through the other three paths. Each ends in one line that
names the file, a failed run or quarantined rows, no HTTP 500, no snapshot left "pending"
(tests run Celery eagerly: the embedded default, no broker), and no domain table changed
by a failed file.
"""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.sources.models import IngestRun, Rejection, Snapshot
from apps.sources.services import FetchMeta, snapshot_store
from apps.sources.tasks import ingest_snapshot
from tests.conftest import get_source
from tests.hostile.corpus import CASES, OBSERVED_AT
from tests.hostile.domain import domain_dump
from tests.hostile.test_corpus import _observed, assert_logged_at_most_one_line

pytestmark = pytest.mark.django_db

# A failing and a quarantining case of every source kind (the JSON ones and the CSV ones).
PATH_CASES = [
    "litellm-deep.json", "litellm-1e308.json", "litellm-nul-key.json", "litellm-surrogate-key.json",
    "litellm-long-key.json", "litellm-huge-max-input.json", "litellm-tiny.json",
    "openrouter-deep.json", "openrouter-long-id.json",
    "llm-prices-deep.json", "llm-prices-1e22.json",
    "genai-prices-deep.json", "genai-prices-nul-id.json",
    "llmperf-array.json", "llmperf-nul-model.json",
    "gpu-catalog-nul-header.csv", "gpu-catalog-nul-cell.csv",
    "hardware-unknown-column.csv", "hardware-huge-count.csv",
    "benchmarks-dup-columns.csv", "benchmarks-crlf-nul.csv",
    "market-million-columns.csv", "market-1e22.csv",
    "providers-surrogate.csv", "providers-long-name.csv",
]


def _check_failed_run(run: IngestRun, name: str, needle: str) -> None:
    assert run.status == IngestRun.Status.FAILED, run.message
    assert "\n" not in run.message and "Traceback" not in run.message
    assert run.message.startswith(name), run.message
    assert needle in run.message, run.message
    snapshot = Snapshot.objects.get(pk=run.snapshot_id)
    assert snapshot.parse_status == Snapshot.Status.FAILED
    assert snapshot.error == run.message
    assert not Rejection.objects.exists()


def _check_quarantined(run: IngestRun, locators: tuple[str, ...]) -> None:
    assert run.status == IngestRun.Status.OK, run.message
    assert "\n" not in run.message
    assert run.message.endswith(f" {len(locators)} rejected"), run.message
    assert set(Rejection.objects.values_list("locator", flat=True)) == set(locators)
    assert Snapshot.objects.get(pk=run.snapshot_id).parse_status == Snapshot.Status.OK


@pytest.mark.parametrize("name", PATH_CASES)
def test_the_task_ends_a_hostile_snapshot_in_one_line(name: str, caplog) -> None:
    case = CASES[name]
    before = domain_dump()
    snapshot, created = snapshot_store(source=get_source(case.source), content=case.make(), observed_at=_observed(),
                                       meta=FetchMeta(filename=name))
    assert created
    caplog.set_level(logging.INFO)
    run = IngestRun.objects.get(pk=ingest_snapshot.delay(snapshot.pk).get())
    if case.failed:
        _check_failed_run(run, f"{name} (snapshot {snapshot.pk}): ", case.failed)
        assert domain_dump() == before
    else:
        _check_quarantined(run, case.quarantined)
    assert_logged_at_most_one_line(caplog)


@pytest.mark.parametrize("name", PATH_CASES)
def test_the_admin_upload_ends_a_hostile_file_in_one_line(name: str, admin_client, caplog) -> None:
    case = CASES[name]
    source = get_source(case.source)
    before = domain_dump()
    caplog.set_level(logging.INFO)
    response = admin_client.post(reverse("admin:sources_source_upload"), {
        "source": source.pk, "observed_at": OBSERVED_AT, "file": SimpleUploadedFile(name, case.make())})
    assert response.status_code in (200, 302)
    run = IngestRun.objects.get(trigger=IngestRun.Trigger.UPLOAD)
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == [run.message]
    if case.failed:
        _check_failed_run(run, f"{name}: ", case.failed)
        assert domain_dump() == before
    else:
        _check_quarantined(run, case.quarantined)
    assert_logged_at_most_one_line(caplog)


@pytest.mark.parametrize("name", PATH_CASES)
def test_the_upload_api_ends_a_hostile_file_without_a_500_or_a_pending_snapshot(
        name: str, client_staff, django_capture_on_commit_callbacks, caplog) -> None:
    case = CASES[name]
    get_source(case.source)
    before = domain_dump()
    caplog.set_level(logging.INFO)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post("/api/v1/uploads/", {
            "source": case.source, "observed_at": OBSERVED_AT, "file": SimpleUploadedFile(name, case.make())},
            format="multipart")
    assert response.status_code in (200, 202, 400), response.content[:300]
    if response.status_code == 400:
        # Refused up front (not stored): the error is the same one line, naming the file.
        (message,) = response.json()["file"]
        assert case.failed and message.startswith(f"{name}: ") and "\n" not in message, message
        assert not Snapshot.objects.exists()
    else:
        snapshot = Snapshot.objects.get(pk=response.json()["snapshot"])
        assert snapshot.parse_status != Snapshot.Status.PENDING
        run = IngestRun.objects.get(snapshot=snapshot)
        if case.failed:
            _check_failed_run(run, f"{name} (snapshot {snapshot.pk}): ", case.failed)
        else:
            _check_quarantined(run, case.quarantined)
    if case.failed:
        assert domain_dump() == before
    assert_logged_at_most_one_line(caplog)
