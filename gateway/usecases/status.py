"""The gateway's status for operators (`GET /status`): facts from the store, no personal data.

Counts only: no names, phones, chat ids or secrets, so the answer can go to a monitoring system
that approvers' data must not reach. Text stored by other processes (the last sync error quotes
1C's answer, which may quote a request) passes through the same masking as the logs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from gateway.ports.storage import StatusField


class StatusSource(Protocol):
    """What the status reads from the store (a narrow view of the Store port)."""

    def get_status(self) -> dict[str, str]: ...

    def outbox_depth(self) -> int: ...

    def dead_letter_count(self) -> int: ...

    def dead_update_count(self) -> int: ...

    def tracked_tasks(self) -> Collection[str]: ...

    def all_links(self) -> Collection[object]: ...


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """The fields of `/status`; see docs/troubleshooting.md for what each one tells."""

    version: str
    connector: str
    telegram_mode: str
    last_sync_at: str | None
    last_sync_age_seconds: float | None
    sync_lag_seconds: float | None
    last_sync_pending: int | None
    last_sync_error: str | None
    sync_failures: int
    tasks_tracked: int
    linked_users: int
    outbox_depth: int
    dead_letters: int
    dead_updates: int
    sync_leader: str | None
    onec_reachable: bool
    onec_down_since: str | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object `/status` answers."""
        return asdict(self)


def collect_status(
    store: StatusSource,
    *,
    version: str,
    connector: str,
    telegram_mode: str,
    poll_interval: float,
    leader: str | None,
    now: datetime,
    mask: Callable[[str], str],
) -> GatewayStatus:
    """Read the shared status fields and counts and derive the ages operators alert on; `mask`
    hides secrets in every text read from the store.

    The sync lag is how far the last successful pass is behind the schedule: its age less one
    poll interval, never negative; it grows without bound when no sync succeeds.
    """
    fields = store.get_status()
    last_sync = _moment(fields.get(StatusField.LAST_SYNC_AT))
    age = max(0.0, (now - last_sync).total_seconds()) if last_sync else None
    down_since = _moment(fields.get(StatusField.ONEC_DOWN_SINCE))
    return GatewayStatus(
        version=version,
        connector=connector,
        telegram_mode=telegram_mode,
        last_sync_at=last_sync.isoformat() if last_sync else None,
        last_sync_age_seconds=round(age, 3) if age is not None else None,
        sync_lag_seconds=round(max(0.0, age - poll_interval), 3) if age is not None else None,
        last_sync_pending=_int(fields.get(StatusField.LAST_SYNC_PENDING)),
        last_sync_error=mask(fields.get(StatusField.LAST_SYNC_ERROR) or "") or None,
        sync_failures=_int(fields.get(StatusField.SYNC_FAILURES)) or 0,
        tasks_tracked=len(store.tracked_tasks()),
        linked_users=len(store.all_links()),
        outbox_depth=store.outbox_depth(),
        dead_letters=store.dead_letter_count(),
        dead_updates=store.dead_update_count(),
        sync_leader=mask(leader) if leader else None,
        onec_reachable=down_since is None,
        onec_down_since=down_since.isoformat() if down_since else None,
    )


# What every base shares (one process version, one bot, one update stream); a base's own entry
# in the several-bases answer leaves these out.
SHARED_FIELDS: Final = ("version", "telegram_mode", "dead_updates")


def bases_status(
    reports: Mapping[str, GatewayStatus], titles: Mapping[str, str], dead_updates: int
) -> dict[str, Any]:
    """`/status` with several bases: the shared fields once, then each base's own under its
    name, with its title."""
    first = next(iter(reports.values()))
    return {
        "version": first.version,
        "telegram_mode": first.telegram_mode,
        "dead_updates": dead_updates,
        "bases": {
            name: {
                "title": titles[name],
                **{k: v for k, v in report.as_dict().items() if k not in SHARED_FIELDS},
            }
            for name, report in reports.items()
        },
    }


def last_sync_timestamp(store: StatusSource) -> float | None:
    """Unix time of the last successful sync pass (for the metrics gauge), None if none yet."""
    moment = _moment(store.get_status().get(StatusField.LAST_SYNC_AT))
    return moment.timestamp() if moment else None


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None  # a field written by a future or broken version is "unknown", not a 500
    return moment if moment.tzinfo else moment.astimezone()  # naive means server-local


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
