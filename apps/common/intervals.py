"""Writing a rebuilt validity-interval history with only the differences.

Price and hardware-price histories are recomputed from observations, then
compared with what is stored: rows whose start vanished are deleted, rows whose
end or values moved are updated, new starts are created. Writing only the
differences keeps ids stable and makes a re-ingest of the same data a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar


class _Interval(Protocol):
    effective_from: Any


class _Row(Protocol):
    pk: Any


I = TypeVar("I", bound=_Interval)  # noqa: E741 - the conventional name for an interval type
R = TypeVar("R", bound=_Row)


@dataclass
class IntervalPlan(Generic[R, I]):
    delete: list[Any] = field(default_factory=list)  # primary keys
    update: list[tuple[R, I]] = field(default_factory=list)  # stored row, interval it must become
    create: list[tuple[int, I]] = field(default_factory=list)  # owner id, interval
    # owner id -> "created" (had nothing before), "changed" or "unchanged"
    status: dict[int, str] = field(default_factory=dict)


def plan_interval_writes(
    owner_ids: Iterable[int],
    desired: dict[int, list[I]],
    current: dict[int, dict[Hashable, R]],
    same: Callable[[R, I], bool],
) -> IntervalPlan[R, I]:
    """Diff desired intervals against stored rows, both keyed by (owner, effective_from)."""
    plan: IntervalPlan[R, I] = IntervalPlan()
    for owner_id in owner_ids:
        want = {interval.effective_from: interval for interval in desired.get(owner_id, [])}
        have = current.get(owner_id, {})
        dirty = False
        for start, row in have.items():
            if start not in want:
                plan.delete.append(row.pk)
                dirty = True
        for start, interval in want.items():
            row = have.get(start)
            if row is None:
                plan.create.append((owner_id, interval))
                dirty = True
            elif not same(row, interval):
                plan.update.append((row, interval))
                dirty = True
        plan.status[owner_id] = ("created" if not have and want else "changed") if dirty else "unchanged"
    return plan
