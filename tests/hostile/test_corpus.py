"""The hostile-file corpus (issue 12) through `manage.py ingest`: one line naming the file, and no table changed.

A file that cannot be read fails with exactly one line that names it, leaves a failed run
and a failed snapshot (the bytes are kept, invariant 1), and changes no other table. A file
with bad rows quarantines exactly those rows, each with a one-line reason, and adds exactly
what the same file without them adds. Nothing logs a traceback. Time and memory per case
are measured by bench/hostile.py, not here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from apps.sources.models import IngestRun, Rejection, Snapshot
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import get_source
from tests.hostile.corpus import CASES, OBSERVED_AT, Case
from tests.hostile.domain import domain_dump

pytestmark = pytest.mark.django_db


def expected_after_good_rows(case: Case) -> dict[str, list[tuple]]:
    """The domain tables as the file without its bad rows leaves them (applied, dumped, rolled back)."""
    if case.good is None:
        return domain_dump()
    with transaction.atomic():
        run = source_ingest_bytes(source=get_source(case.source), content=case.good(), trigger="command",
                                  meta=FetchMeta(filename="good-" + case.name), observed_at=_observed())
        assert run.status == IngestRun.Status.OK, run.message
        assert run.rejected_count == 0, run.message
        dump = domain_dump()
        transaction.set_rollback(True)
    return dump


def _observed():
    from apps.sources.management.commands.ingest import parse_observed_at

    return parse_observed_at(OBSERVED_AT)


def assert_logged_at_most_one_line(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) <= 1, [r.getMessage()[:200] for r in loud]
    for record in loud:
        assert record.exc_info is None, f"a traceback was logged: {record.getMessage()[:200]}"
        assert "\n" not in record.getMessage()


@pytest.mark.parametrize("name", sorted(CASES))
def test_it_ends_every_hostile_file_in_one_line_naming_it(name: str, tmp_path: Path, caplog, capsys) -> None:
    case = CASES[name]
    source = get_source(case.source)
    expected = expected_after_good_rows(case) if case.quarantined else domain_dump()
    path = tmp_path / name
    path.write_bytes(case.make())
    caplog.clear()
    caplog.set_level(logging.INFO)

    if case.failed:
        with pytest.raises(CommandError) as excinfo:
            call_command("ingest", source.key, file=[str(path)], observed_at=OBSERVED_AT)
        message = str(excinfo.value)
        assert "\n" not in message and "Traceback" not in message
        assert message.startswith(f"{name}: "), message
        assert case.failed in message, message
        run = IngestRun.objects.get()
        assert (run.status, run.message) == (IngestRun.Status.FAILED, message)
        assert capsys.readouterr().out == ""
        # Nothing is lost: a file that got as far as being stored is kept as a failed snapshot.
        assert set(Snapshot.objects.values_list("parse_status", flat=True)) <= {Snapshot.Status.FAILED}
        assert not Rejection.objects.exists()
    else:
        call_command("ingest", source.key, file=[str(path)], observed_at=OBSERVED_AT)
        out = capsys.readouterr().out.splitlines()
        assert len(out) == 1, out
        assert out[0].startswith(f"{name}: ") and out[0].endswith(f" {len(case.quarantined)} rejected"), out[0]
        run = IngestRun.objects.get()
        assert run.status == IngestRun.Status.OK, run.message
        rejections = dict(Rejection.objects.values_list("locator", "reason"))
        assert set(rejections) == set(case.quarantined), rejections
        for reason in rejections.values():
            assert reason and "\n" not in reason and len(reason) < 300, reason
    assert_logged_at_most_one_line(caplog)
    assert domain_dump() == expected


def test_the_corpus_has_at_least_fifty_cases_of_every_kind() -> None:
    assert len(CASES) >= 50
    kinds = {case.source for case in CASES.values()}
    assert kinds == {"litellm", "openrouter", "llm-prices", "genai-prices", "llmperf", "gpu-catalog",
                     "hardware-csv", "benchmarks-csv", "market-csv", "providers-csv"}
    assert sum(1 for c in CASES.values() if c.failed) >= 20
    assert sum(1 for c in CASES.values() if c.quarantined) >= 20
