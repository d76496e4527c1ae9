"""Whether benchmark runs can be ranked together, and if not, which part of their context differs.

Runs are comparable when they measure the same model under the same workload at the same precision on the same
hardware (DESIGN.md: "results measured under different workloads are marked not comparable rather than silently
ranked together"). A value the source does not state is shown as "not stated": a run with a stated precision and
one without are not known to match, so they differ; when no run states it, the statement says so instead of
claiming a match. Pure: plain values in, a sentence out; no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NOT_STATED = "not stated"
Workload = tuple[int | None, int | None, int | None]  # input tokens, output tokens, concurrency


@dataclass(frozen=True)
class RunContext:
    """What makes two runs comparable; each part already a display label ("" or None = not stated)."""

    model: str
    workload: Workload = (None, None, None)
    precision: str = ""
    hardware: str = ""


@dataclass(frozen=True)
class Comparability:
    comparable: bool
    differences: tuple[str, ...]  # "precision differs: FP16 vs INT4", in the order model, workload, precision, hardware
    same: tuple[str, ...]  # "precision (FP16)" for each part every run shares
    statement: str  # the sentence the page shows after "Comparable:"


def workload_label(workload: Workload) -> str:
    if workload == (None, None, None):
        return NOT_STATED
    inp, out, conc = ("?" if v is None else v for v in workload)
    return f"{inp} in / {out} out tokens, {conc} concurrent"


def _distinct(values: Iterable[str]) -> list[str]:
    """Distinct labels, stated ones sorted, "not stated" last."""
    labels = {(v or "").strip() or NOT_STATED for v in values}
    return sorted(labels - {NOT_STATED}, key=str.casefold) + ([NOT_STATED] if NOT_STATED in labels else [])


def comparability(runs: Sequence[RunContext]) -> Comparability:
    """Compare the runs' model, workload, precision and hardware; say which differ, or what they share.

    >>> comparability([RunContext("Llama 3 70B", precision="FP16", hardware="8x H100"),
    ...                RunContext("Llama 3 70B", precision="INT4", hardware="8x H100")]).statement
    'no: precision differs: FP16 vs INT4'
    """
    parts = [
        ("model", _distinct(r.model for r in runs)),
        ("workload", _distinct(workload_label(r.workload) for r in runs)),
        ("precision", _distinct(r.precision for r in runs)),
        ("hardware", _distinct(r.hardware for r in runs)),
    ]
    differences: list[str] = []
    same: list[str] = []
    unstated: list[str] = []
    for name, values in parts:
        if len(values) > 1:
            shown = " vs ".join(values) if len(values) <= 6 else f"{len(values)} different values"
            differences.append(f"{name} differs: {shown}")
        elif values == [NOT_STATED]:
            unstated.append(name)
        elif values:
            same.append(f"{name} ({values[0]})")
    if not runs:
        statement = "no runs"
    elif differences:
        statement = "no: " + "; ".join(differences)
    else:
        statement = "yes: same " + _and(same) if same else "yes"
        if unstated:
            statement += ("; " if same else ": ") + _and(unstated) + " not stated"
    return Comparability(comparable=bool(runs) and not differences, differences=tuple(differences),
                         same=tuple(same), statement=statement)


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
