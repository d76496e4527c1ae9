"""manage.py probe TARGET [--requests N --concurrency C --input-tokens I --output-tokens O]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.probes.load import LimitError
from apps.probes.models import ProbeTarget
from apps.probes.services import ProbeError, probe_target_run
from apps.sources.models import IngestRun


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Probe a target now (N streamed requests at concurrency C) and store the run as a benchmark run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="The probe target's name.")
        parser.add_argument("--requests", type=positive, help="Requests to send (default: the target's).")
        parser.add_argument("--concurrency", type=positive, help="Requests in flight at once.")
        parser.add_argument("--input-tokens", type=positive, help="Prompt length, tokens (approximate).")
        parser.add_argument("--output-tokens", type=positive, help="max_tokens per request.")

    def handle(self, *args: object, **options: object) -> None:
        target = ProbeTarget.objects.select_related("provider", "model").filter(name=options["target"]).first()
        if target is None:
            names = ", ".join(ProbeTarget.objects.values_list("name", flat=True)) or "none yet (add one in the admin)"
            raise CommandError(f"no probe target named {options['target']!r}; known: {names}")
        try:
            outcome = probe_target_run(
                target=target, trigger=IngestRun.Trigger.COMMAND, requests=options["requests"],
                concurrency=options["concurrency"], input_tokens=options["input_tokens"],
                output_tokens=options["output_tokens"])
        except (ProbeError, LimitError) as exc:
            raise CommandError(str(exc)) from None
        if outcome.probe_run is None:
            raise CommandError(f"the run could not be stored: {outcome.ingest_run.message}")
        run = outcome.probe_run.benchmark_run
        self.stdout.write(
            f"{target.name}: {run.requests_completed} ok, {run.requests_failed} failed "
            f"(error rate {run.error_rate}) in {outcome.load.wall_s:.1f} s; TTFT p50 {run.ttft_p50_ms} ms, "
            f"p90 {run.ttft_p90_ms} ms, p99 {run.ttft_p99_ms} ms; inter-token p50 {run.inter_token_latency_p50_ms} "
            f"ms, p99 {run.inter_token_latency_p99_ms} ms; {run.request_tokens_per_s_p50} tokens/s per request "
            f"(p50), {run.tokens_per_s} tokens/s system; benchmark run {run.pk}")
        for note in outcome.load.notes:
            self.stdout.write(note)
