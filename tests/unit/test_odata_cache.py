"""What the OData connector keeps between passes: which rows are stale, which names are still
unknown, the register read whole or in part, mapped tasks, and when the users directory is read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.onec.odata_cache import (
    MISS_REFRESH_SECONDS,
    UNSEEN,
    Directory,
    MappedTasks,
    Names,
    Register,
    Users,
    VersionedRows,
)
from gateway.domain.tasks import Importance, OneCUser, Person, Stage, Subject, Task, TaskState

PETROVA = OneCUser("u-1", "Петрова Анна Сергеевна", ("79123456789",))


def test_rows_never_read_or_read_at_another_version_are_stale_in_order() -> None:
    rows = VersionedRows()
    rows.store("a", "1", {"Ref_Key": "a"})
    rows.store("b", "1", {"Ref_Key": "b"})
    assert rows.stale({"c": "1", "b": "2", "a": "1"}) == ["c", "b"]
    assert rows.version("c") == UNSEEN.version


def test_a_row_1c_no_longer_has_is_kept_as_gone_and_others_can_be_forgotten() -> None:
    rows = VersionedRows()
    rows.store("a", "1", {})
    rows.gone("b")
    assert rows.view()["b"].value is None and "b" not in rows.stale({"b": ""})
    rows.keep_only(["b"])
    assert list(rows.view()) == ["b"]


def test_names_are_unknown_until_learned_or_settled_as_empty() -> None:
    names = Names()
    names.learn("Catalog_Пользователи", "u-1", "Петрова")
    assert names.unknown({"Catalog_Пользователи": ["u-2", "u-1", "u-0"], "Catalog_Роли": []}) == {
        "Catalog_Пользователи": ["u-0", "u-2"]
    }
    names.settle("Catalog_Пользователи", ["u-0", "u-1"])
    assert names.view()[("Catalog_Пользователи", "u-0")] == ""
    assert names.view()[("Catalog_Пользователи", "u-1")] == "Петрова"  # not overwritten
    assert names.unknown({"Catalog_Пользователи": ["u-0", "u-1"]}) == {}


def test_the_register_read_whole_replaces_and_read_in_part_updates() -> None:
    register = Register()
    register.replace({"g1": (("Catalog_Пользователи", "u-1"),), "g2": ()})
    register.update({"g2": (("Catalog_Пользователи", "u-2"),)})
    assert register.view() == {
        "g1": (("Catalog_Пользователи", "u-1"),),
        "g2": (("Catalog_Пользователи", "u-2"),),
    }
    register.replace({"g3": ()})
    assert register.view() == {"g3": ()}


def test_a_mapped_task_is_given_back_only_for_the_same_inputs() -> None:
    task = Task(
        id="t-1",
        version="1",
        number="1",
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
        due_at=None,
        importance=Importance.NORMAL,
        state=TaskState.PENDING,
        title="",
        performer=None,
        initiator=Person("", ""),
        stage=Stage("", 0, 0),
        subject=Subject("", "", ""),
        allowed_decisions=(),
    )
    mapped = MappedTasks()
    mapped.put("t-1", ("1", None), task)
    assert mapped.get("t-1", ("1", None)) is task
    assert mapped.get("t-1", ("2", None)) is None
    mapped.keep_only([])
    assert mapped.get("t-1", ("1", None)) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reads:
    """The directory's reader: counts its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> Users:
        self.count += 1
        return {phone: [PETROVA] for phone in PETROVA.phones}


@pytest.mark.parametrize(
    ("phone", "after", "reads"),
    [
        ("+7 912 345-67-89", 599.0, 1),  # known, younger than max_age: kept
        ("+7 912 345-67-89", 601.0, 2),  # older than max_age: read again
        ("+7 999 000-00-00", MISS_REFRESH_SECONDS - 1, 1),  # a miss soon after: kept
        ("+7 999 000-00-00", MISS_REFRESH_SECONDS + 1, 2),  # a miss a minute later: read
    ],
)
def test_the_directory_is_read_first_then_when_old_or_on_a_late_miss(
    phone: str, after: float, reads: int
) -> None:
    clock, read = Clock(), Reads()
    directory = Directory(600.0, clock)
    assert directory.find("8 (912) 345-67-89", read) == [PETROVA]
    clock.now += after
    directory.find(phone, read)
    assert read.count == reads
