"""The cyclic collector is paused around an ingest (apps/common/gcpause.py) and always comes back."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime

import pytest

from apps.sources.models import IngestRun
from scrapers.gcpause import collections_paused


def test_paused_inside_and_enabled_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ValueError), collections_paused():
        assert not gc.isenabled()
        raise ValueError("boom")
    assert gc.isenabled()


def test_nested_and_concurrent_users_keep_it_paused_until_the_last_leaves():
    inside, release = threading.Event(), threading.Event()

    def other():
        with collections_paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with collections_paused():
        thread.start()
        assert inside.wait(10)
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread is still inside
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_left_disabled_if_it_was_disabled_before():
    gc.disable()
    try:
        with collections_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.django_db
def test_an_ingest_runs_with_the_collector_paused(ingest_file, monkeypatch):
    from apps.pricing import services

    seen = []
    real = services.prices_apply_snapshot

    def spy(**kwargs):
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr("apps.sources.registry.FormatSpec.apply",
                        lambda self, *, snapshot, result: spy(snapshot=snapshot, result=result))
    run = ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                      observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    assert run.status == IngestRun.Status.OK, run.message
    assert seen == [False]
    assert gc.isenabled()
