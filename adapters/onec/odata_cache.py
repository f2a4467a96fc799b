"""What the OData connector keeps between sync passes, so an idle pass reads (almost) nothing:
rows by the `DataVersion` they were read at, names of referenced catalog items, the performers
register, the tasks last mapped, and the users directory. No HTTP here: the connector reads,
these remember.

The sync loop and the decision workers share one connector. Single dict operations are atomic
in CPython, and a row read twice is only a wasted read, so the version and name caches take no
lock; the directory does, so that concurrent misses re-read it once, not once each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.domain.phones import normalize_phone
from gateway.domain.tasks import OneCUser, Task

MISS_REFRESH_SECONDS: Final = 60.0  # an unknown phone re-reads the directory at most this often

Ref = tuple[str, str]  # (entity set, GUID) of a referenced object
Performers = tuple[Ref, ...]


@dataclass(frozen=True, slots=True)
class Versioned:
    """A row as read at its `DataVersion`; `value` None: 1C no longer has it."""

    version: str
    value: Any


UNSEEN: Final = Versioned("\0", None)  # never read: its version equals no version 1C gives


class VersionedRows:
    """Rows by GUID with the version they were read at."""

    def __init__(self) -> None:
        self._rows: dict[str, Versioned] = {}

    def view(self) -> Mapping[str, Versioned]:
        """The rows as they are now (a live, read-only view, not a copy)."""
        return self._rows

    def stale(self, versions: Mapping[str, str]) -> list[str]:
        """Keys of `versions` (GUID → version 1C has now) not kept at that version, in order."""
        return [key for key, version in versions.items() if self.version(key) != version]

    def version(self, key: str) -> str:
        """The version `key` was read at; UNSEEN's for a row never read."""
        return self._rows.get(key, UNSEEN).version

    def store(self, key: str, version: str, row: Any) -> None:
        """Keep `row` as read at `version`."""
        self._rows[key] = Versioned(version, row)

    def gone(self, key: str) -> None:
        """Remember that 1C has no such row (deleted from the infobase)."""
        self._rows[key] = Versioned("", None)

    def keep_only(self, keys: Collection[str]) -> None:
        """Forget every row whose key is not in `keys`."""
        for key in set(self._rows) - set(keys):
            del self._rows[key]


class Names:
    """Descriptions of referenced catalog items. Catalog descriptions rarely change, so a name
    is kept once read; one 1C could not give is kept as ''."""

    def __init__(self) -> None:
        self._names: dict[Ref, str] = {}

    def view(self) -> Mapping[Ref, str]:
        """The names as they are now (a live, read-only view, not a copy)."""
        return self._names

    def unknown(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
        """Of `wanted` (entity set → GUIDs), those never looked up, sorted, by entity set."""
        unknown = {
            entity_set: sorted(key for key in set(keys) if (entity_set, key) not in self._names)
            for entity_set, keys in wanted.items()
        }
        return {entity_set: keys for entity_set, keys in unknown.items() if keys}

    def learn(self, entity_set: str, key: str, name: str) -> None:
        """Keep the name 1C gave."""
        self._names[(entity_set, key)] = name

    def settle(self, entity_set: str, keys: Iterable[str]) -> None:
        """Keep '' for those of `keys` 1C gave no name, so they are not asked again."""
        for key in keys:
            self._names.setdefault((entity_set, key), "")


class Register:
    """Who performs each performers group, as `ИсполнителиЗадач` last said."""

    def __init__(self) -> None:
        self._groups: dict[str, Performers] = {}

    def view(self) -> Mapping[str, Performers]:
        """Performers by group as they are now (read-only)."""
        return self._groups

    def replace(self, groups: Mapping[str, Performers]) -> None:
        """The whole register was read: it is what it said."""
        self._groups = dict(groups)

    def update(self, groups: Mapping[str, Performers]) -> None:
        """Some groups were read: those change, the others stay."""
        self._groups = {**self._groups, **groups}


class MappedTasks:
    """The task last mapped from each row, with what its mapping read, so an idle pass does not
    map thousands of unchanged tasks again."""

    def __init__(self) -> None:
        self._tasks: dict[str, tuple[tuple[object, ...], Task]] = {}

    def get(self, task_id: str, inputs: tuple[object, ...]) -> Task | None:
        """The task mapped from the same inputs, None if they changed or it was never mapped."""
        cached = self._tasks.get(task_id)
        return cached[1] if cached is not None and cached[0] == inputs else None

    def put(self, task_id: str, inputs: tuple[object, ...], task: Task) -> None:
        """Remember the task mapped from `inputs`."""
        self._tasks[task_id] = (inputs, task)

    def keep_only(self, task_ids: Collection[str]) -> None:
        """Forget tasks no longer listed."""
        for gone in set(self._tasks) - set(task_ids):
            del self._tasks[gone]


Users = dict[str, list[OneCUser]]  # normalized phone → valid users with it


class Directory:
    """Valid users by phone: `Catalog_Пользователи` has no phone index, so it is read whole and
    kept; re-read when older than `max_age`, and on a miss at most once a MISS_REFRESH_SECONDS
    (a phone added in 1C then works without a restart)."""

    def __init__(self, max_age: float, clock: Callable[[], float]) -> None:
        self._max_age = max_age
        self._clock = clock
        self._users: Users = {}
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def find(self, phone: str, read: Callable[[], Users]) -> list[OneCUser]:
        """Users with `phone` (any spelling), after `read` re-reads the directory if it is due."""
        wanted = normalize_phone(phone)
        with self._lock:
            now = self._clock()
            age = None if self._read_at is None else now - self._read_at
            if (
                age is None
                or age > self._max_age
                or (wanted not in self._users and age > MISS_REFRESH_SECONDS)
            ):
                self._users = read()
                self._read_at = now
            return list(self._users.get(wanted, []))
