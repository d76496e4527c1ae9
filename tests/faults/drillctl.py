"""What a fault drill does inside the drill database, run as a subprocess with that DATABASE_URL.

The pytest process is bound to its own test database; the drills run against a throw-away
cluster, so their writes and reads go through this small command line instead:

    python -m tests.faults.drillctl configure-sweep INTERVAL_S RUN_DEADLINE_S PENDING_GRACE_S
    python -m tests.faults.drillctl submit FILES_JSON    # store + queue, as an upload does
    python -m tests.faults.drillctl ingest FILES_JSON    # the clean reference: in-process, in date order
    python -m tests.faults.drillctl dump OUT.pickle      # every ingest table (tests/tables.py)
    python -m tests.faults.drillctl reference FILES_JSON OUT.pickle   # ingest, then dump

FILES_JSON is a list of [source key, path, observed_at ISO].
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from datetime import datetime
from pathlib import Path


def _files(arg: str) -> list[tuple[str, Path, datetime]]:
    return [(key, Path(path), datetime.fromisoformat(when)) for key, path, when in json.loads(arg)]


def configure_sweep(interval_s: str, run_deadline_s: str, pending_grace_s: str) -> None:
    """The drill's beat sweeps every few seconds with short thresholds; production's schedule is 5 minutes."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=int(interval_s), period=IntervalSchedule.SECONDS)
    updated = PeriodicTask.objects.filter(name="sweep-work").update(
        interval=every, kwargs=json.dumps({"run_deadline_s": float(run_deadline_s),
                                           "pending_grace_s": float(pending_grace_s)}))
    assert updated == 1, "the sweep-work schedule (migration sources 0006) is missing"


def submit(arg: str) -> None:
    from django.db import transaction

    from apps.sources.models import Source
    from apps.sources.services import FetchMeta, snapshot_submit

    ids = []
    for key, path, when in _files(arg):
        with transaction.atomic():  # queued on commit, as the upload API does
            snapshot = snapshot_submit(source=Source.objects.get(key=key), content=path.read_bytes(),
                                       observed_at=when, meta=FetchMeta(filename=path.name))
        ids.append(snapshot.pk)
    print(json.dumps(ids))


def ingest(arg: str) -> None:
    from apps.sources.models import IngestRun, Source
    from apps.sources.services import FetchMeta, source_ingest_bytes

    for key, path, when in sorted(_files(arg), key=lambda f: f[2]):
        run = source_ingest_bytes(source=Source.objects.get(key=key), content=path.read_bytes(),
                                  trigger=IngestRun.Trigger.COMMAND, observed_at=when,
                                  meta=FetchMeta(filename=path.name))
        assert run.status == IngestRun.Status.OK, run.message
        print(run.message)


def dump(out: str) -> None:
    from tests.tables import dump_tables

    Path(out).write_bytes(pickle.dumps(dump_tables()))


def reference(arg: str, out: str) -> None:
    ingest(arg)
    dump(out)


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
    assert os.environ.get("DATABASE_URL", "").startswith("postgres://"), "drillctl runs against a drill database"
    import django

    django.setup()
    commands = {"configure-sweep": configure_sweep, "submit": submit, "ingest": ingest, "dump": dump,
                "reference": reference}
    commands[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
