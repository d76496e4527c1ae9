"""A probe run stored end to end (snapshot -> BenchmarkRun, ProbeRun, samples); the key never leaks; the guard."""

from __future__ import annotations

import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.benchmarks.models import BenchmarkRun
from apps.probes.admin import samples_csv
from apps.probes.models import ProbeRun, ProbeSample
from apps.probes.services import ProbeError, probe_target_run, probe_target_schedule_sync
from apps.sources.models import Snapshot
from apps.sources.services import snapshot_reparse
from tests.probes.conftest import API_KEY, API_KEY_ENV, make_target

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(loopback, api_key):
    loopback.control(api_key=API_KEY, fail_429_every=4)
    return make_target(name="loop-llama", url=loopback.url, provider_slug="loop-cloud", requests=8, concurrency=4)


def every_value_in_the_database():
    """Every cell of every table, as text or bytes."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - names from the introspection
            for row in cursor.fetchall():
                yield from row


def test_it_stores_a_run_with_its_context_metrics_and_samples(target):
    outcome = probe_target_run(target=target)
    assert outcome.ingest_run.status == "ok", outcome.ingest_run.message
    run = BenchmarkRun.objects.select_related("source", "provider", "alias__model").get()
    assert run.source.key == "probe" and run.provider.slug == "loop-cloud"
    assert run.alias.model.slug == "llama-3-70b-instruct"
    assert (run.input_tokens, run.output_tokens, run.concurrency) == (100, 64, 4)
    assert run.requests_completed == 6 and run.requests_failed == 2 and run.error_counts == {"http_429": 2}
    assert str(run.error_rate) == "0.250000"
    assert 180 < run.ttft_p50_ms <= run.ttft_p90_ms <= run.ttft_p99_ms
    assert 18 < run.inter_token_latency_p50_ms < 22
    assert run.tokens_per_s and run.request_tokens_per_s_p50 and run.measured_at
    assert "tokenwatch 0.1.0 probe of loop-llama" in run.notes
    probe_run = ProbeRun.objects.get()
    assert probe_run.benchmark_run == run and probe_run.target == target
    assert ProbeSample.objects.filter(run=probe_run).count() == 8
    # The raw document is the snapshot: re-parsing it changes nothing (invariant 3).
    snapshot = Snapshot.objects.get(source__key="probe")
    snapshot_reparse(snapshot=snapshot)
    assert BenchmarkRun.objects.count() == 1 and ProbeSample.objects.count() == 8
    assert BenchmarkRun.objects.get().ttft_p50_ms == run.ttft_p50_ms


def test_the_api_key_is_nowhere_in_the_database_logs_or_exports(target, loopback, caplog, client):
    from django.contrib.auth.models import User

    caplog.set_level(logging.DEBUG)
    probe_target_run(target=target)
    assert loopback.stats()["auth_ok"] == 8  # it was sent, to the server, every time
    needle = API_KEY.encode()
    for value in every_value_in_the_database():
        if isinstance(value, memoryview | bytes | bytearray):
            assert needle not in bytes(value)
        else:
            assert API_KEY not in str(value)
    assert API_KEY not in caplog.text
    document = bytes(Snapshot.objects.get(source__key="probe").content)
    assert b'"samples"' in document and API_KEY_ENV.encode() not in document
    exported = samples_csv(ProbeRun.objects.all()).content.decode()
    assert "http_429" in exported and API_KEY not in exported
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)
    for url in ["/api/v1/probe-samples/?format=csv", "/api/v1/probe-targets/?format=csv",
                "/api/v1/benchmarks/?format=csv", "/api/v1/probe-samples/", "/api/v1/probe-targets/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert needle not in body, url
    raw = client.get(f"/api/v1/snapshots/{Snapshot.objects.get(source__key='probe').pk}/raw/")
    assert raw.status_code == 200
    assert needle not in (b"".join(raw.streaming_content) if raw.streaming else raw.content)


def test_a_missing_key_variable_is_a_clear_error(loopback, monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    target = make_target(name="no-key", url=loopback.url, provider_slug="loop-cloud")
    with pytest.raises(ProbeError, match=f"the environment variable {API_KEY_ENV} that should hold its API key"):
        probe_target_run(target=target)
    assert loopback.stats()["requests"] == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1", "http://10.0.0.8/v1", "http://169.254.169.254/v1",
                                 "file:///etc/passwd"])
def test_the_ssrf_guard_refuses_hosts_not_on_the_allow_list(db, settings, api_key, url):
    settings.TOKENWATCH_PROBE_ALLOWED_HOSTS = []
    target = make_target(name="blocked", url=url, provider_slug="x-cloud")
    with pytest.raises(ProbeError, match="refused"):
        probe_target_run(target=target)


def test_the_allow_list_lets_a_listed_host_through_and_only_it(loopback, api_key, settings):
    settings.TOKENWATCH_PROBE_ALLOWED_HOSTS = ["localhost"]
    target = make_target(name="loop", url=loopback.url, provider_slug="loop-cloud", requests=1, concurrency=1)
    with pytest.raises(ProbeError, match="add the host to TOKENWATCH_PROBE_ALLOWED_HOSTS"):
        probe_target_run(target=target)
    settings.TOKENWATCH_PROBE_ALLOWED_HOSTS = ["127.0.0.1"]
    assert probe_target_run(target=target).probe_run is not None


def test_limits_from_settings_refuse_before_any_request(loopback, api_key, settings):
    settings.TOKENWATCH_PROBE_MAX_REQUESTS = 5
    make_target(name="big", url=loopback.url, provider_slug="loop-cloud", requests=6)
    with pytest.raises(CommandError, match="requests 6 is over the limit of 5 \\(TOKENWATCH_PROBE_MAX_REQUESTS\\)"):
        call_command("probe", "big")
    assert loopback.stats()["requests"] == 0


def test_the_command_runs_a_probe_with_workload_overrides(target, capsys):
    call_command("probe", "loop-llama", "--requests", "3", "--concurrency", "3", "--output-tokens", "16")
    out = capsys.readouterr().out
    assert "loop-llama: " in out and "TTFT p50" in out
    run = BenchmarkRun.objects.get()
    assert (run.output_tokens, run.concurrency, run.requests_completed + run.requests_failed) == (16, 3, 3)
    assert ProbeSample.objects.filter(error="").first().output_tokens == 16


def test_an_unknown_target_names_the_known_ones(target):
    with pytest.raises(CommandError, match="no probe target named 'nope'; known: loop-llama"):
        call_command("probe", "nope")


def test_an_enabled_scheduled_target_gets_a_beat_task(target):
    from django_celery_beat.models import PeriodicTask

    target.schedule = "*/30 * * * *"
    target.save()
    probe_target_schedule_sync(target=target)
    task = PeriodicTask.objects.get(name=f"probe-target:{target.pk}")
    assert task.enabled and task.task == "apps.probes.tasks.probe_target" and task.args == f"[{target.pk}]"
    target.enabled = False
    probe_target_schedule_sync(target=target)
    assert not PeriodicTask.objects.get(name=f"probe-target:{target.pk}").enabled


def test_probe_targets_are_staff_only(client, target):
    from django.contrib.auth.models import User

    assert client.get("/api/v1/probe-targets/").status_code == 401
    client.force_login(User.objects.create_user("reader", password="x"))
    assert client.get("/api/v1/probe-targets/").status_code == 403
