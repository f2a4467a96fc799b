"""What the infobase really publishes, from OData `$metadata` read once, checked against a profile.

A profile is written for one configuration; a real infobase may lack a field or a table the
profile names (another release, another configuration). Asking 1C for it in `$select` fails the
whole query (error 14), so every `$select` goes through `keep`, which leaves such names out and
names each one once in the log; `missing` lists them for `check`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Final

from adapters.onec.metadata import TYPE_SUFFIX, EntitySet
from gateway.errors import ConfigurationError, GatewayError

log = logging.getLogger(__name__)

RETRY_SECONDS: Final = 60.0  # after $metadata could not be read, the profile is trusted this long


class Schema:
    """Entity sets and their property names; until `$metadata` is read, every name is trusted."""

    def __init__(
        self, read: Callable[[], list[EntitySet]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read = read
        self._clock = clock
        self._sets: dict[str, EntitySet] | None = None
        self._names: dict[str, frozenset[str]] = {}
        self._failed_at: float | None = None
        self._missing: dict[str, None] = {}
        self._lock = threading.Lock()

    def sets(self) -> dict[str, EntitySet] | None:
        """Entity sets by name, or None while `$metadata` cannot be read."""
        with self._lock:
            if self._sets is not None:
                return self._sets
            if self._failed_at is not None and self._clock() - self._failed_at < RETRY_SECONDS:
                return None
            try:
                found = self._read()
            except ConfigurationError:
                raise
            except GatewayError as exc:
                log.warning("1C $metadata unreadable, the profile is used as written: %s", exc)
                self._failed_at = self._clock()
                return None
            self._sets = {s.name: s for s in found}
            self._names = {name: _names(s) for name, s in self._sets.items()}
            return self._sets

    def entity_set(self, name: str) -> EntitySet | None:
        """The set as `$metadata` describes it, None if unknown or unread."""
        sets = self.sets()
        return None if sets is None else sets.get(name)

    def has_set(self, name: str) -> bool:
        """False only when `$metadata` was read and lacks the set."""
        sets = self.sets()
        return sets is None or name in sets

    def has(self, entity_set: str, name: str) -> bool:
        """False only when `$metadata` was read and the set lacks the property (or table)."""
        sets = self.sets()
        if sets is None:
            return True
        return name in self._names.get(entity_set, frozenset())

    def keep(self, entity_set: str, names: Iterable[str]) -> list[str]:
        """`names` the set has, in order; the others are logged once each and left out."""
        kept = []
        for name in dict.fromkeys(names):
            if self.has(entity_set, name):
                kept.append(name)
            else:
                self.note_missing(f"{entity_set}.{name}")
        return kept

    def note_missing(self, what: str) -> None:
        """Remember (and log once) a profile name the infobase lacks."""
        if what not in self._missing:
            self._missing[what] = None
            log.warning("1C infobase has no %s: left out of what the gateway reads", what)

    @property
    def missing(self) -> list[str]:
        """Profile names the infobase lacks, as `<set>.<property>`, in the order found."""
        return list(self._missing)


def _names(entity_set: EntitySet) -> frozenset[str]:
    names = {"Ref_Key"}
    for prop in entity_set.properties:
        names.add(prop.name)
        if prop.composite:
            names.add(f"{prop.name}{TYPE_SUFFIX}")
    names.update(table.name for table in entity_set.tables)
    return frozenset(names)
