"""БСП task addressing: performer roles, the register `ИсполнителиЗадач`, users groups.

Each rule cites the БСП 3.1 source it follows (the configuration's own code, not a guess):
a task is addressed to a person (`Исполнитель`) or to a role (`РольИсполнителя` narrowed by
`ОсновнойОбъектАдресации` and `ДополнительныйОбъектАдресации`); a role task's performers are the
register records with the same role and addressing objects, found through the shared
`ГруппаИсполнителейЗадач`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sandbox.onec.model import (
    EMPTY_REF,
    ORGANIZATIONS,
    PERFORMER_GROUPS,
    ROLES,
    USER_GROUPS,
    USERS,
    CatalogItem,
    Composite,
    Infobase,
    PerformerRecord,
    Task,
    guid,
    is_pending,
)

NO_OBJECT = Composite(EMPTY_REF)


def create_role(ib: Infobase, name: str) -> CatalogItem:
    """A new element of `Catalog_РолиИсполнителей`, usable with or without addressing objects."""
    attrs = {"ИспользуетсяБезОбъектовАдресации": True, "ИспользуетсяСОбъектамиАдресации": True}
    with ib.lock:
        return ib.add_catalog_item(_numbered_item(ib, ROLES, name, attrs))


def _numbered_item(ib: Infobase, set_name: str, name: str, attrs: dict[str, Any]) -> CatalogItem:
    """A new element of a catalog, coded with the catalog's next number (the lock held)."""
    number = ib.next_number(set_name)
    return CatalogItem(set_name, guid(set_name, name, str(number)), name, f"{number:09d}", attrs)


def performer_group(ib: Infobase, role: uuid.UUID, main: Composite, extra: Composite) -> uuid.UUID:
    """The `ГруппаИсполнителейЗадач` of a role and addressing objects, created when missing.

    БСП: CommonModules/БизнесПроцессыИЗадачиСервер/Ext/Module.bsl, ГруппаИсполнителейЗадач
    (called by the task's ПередЗаписью) and ГруппыИсполнителейЗадач (called by the register's
    ПередЗаписью): one group per (role, main object, extra object); an empty role gives no group.
    """
    if role == EMPTY_REF:
        return EMPTY_REF
    with ib.lock:
        groups = ib.catalog(PERFORMER_GROUPS)
        for item in groups.values():
            attrs = item.attrs
            if (
                attrs["РольИсполнителя_Key"] == role
                and attrs["ОсновнойОбъектАдресации"] == main
                and attrs["ДополнительныйОбъектАдресации"] == extra
            ):
                return item.ref
        role_item = ib.catalog(ROLES).get(role)
        name = role_item.description if role_item else ""
        if main.ref != EMPTY_REF:
            name = f"{name}, {_description(ib, main)}"
        if extra.ref != EMPTY_REF:
            name = f"{name}, {_description(ib, extra)}"
        item = CatalogItem(
            PERFORMER_GROUPS,
            guid(PERFORMER_GROUPS, str(role), str(main.ref), str(extra.ref)),
            name,
            f"{len(groups) + 1:09d}",
            {
                "РольИсполнителя_Key": role,
                "ОсновнойОбъектАдресации": main,
                "ДополнительныйОбъектАдресации": extra,
            },
        )
        return ib.add_catalog_item(item).ref


def organization(ib: Infobase, name_or_id: str | None) -> Composite:
    """An organization as an addressing object (by GUID or name); None gives no object."""
    if name_or_id is None:
        return NO_OBJECT
    catalog = ib.catalog(ORGANIZATIONS)
    try:
        ref = uuid.UUID(str(name_or_id))
    except ValueError:
        ref = next((i.ref for i in catalog.values() if i.description == name_or_id), EMPTY_REF)
    if ref not in catalog:
        raise ValueError(f"unknown organization {name_or_id!r}")
    return Composite(ref, ORGANIZATIONS)


def set_performers(
    ib: Infobase, role: uuid.UUID, performers: Sequence[tuple[uuid.UUID, Composite]]
) -> list[Task]:
    """Replace the role's register records; pending tasks whose candidates changed are answered.

    Each record gets its `ГруппаИсполнителейЗадач` as БСП's RecordSetModule.ПередЗаписью does
    (InformationRegisters/ИсполнителиЗадач/Ext/RecordSetModule.bsl). The caller emits `updated`.
    """
    with ib.lock:
        if role not in ib.catalog(ROLES):
            raise LookupError(f"no role {role}")
        for user, _ in performers:
            if ib.user(user) is None:
                raise ValueError(f"unknown user {user}")
        role_tasks = [
            t
            for t in ib.tasks.values()
            if t.role == role and is_pending(t, ib.approvals.get(t.approval))
        ]
        before = {t.ref: set(candidates(ib, t)) for t in role_tasks}
        kept = [r for r in ib.performers if r.role != role]
        added = [
            PerformerRecord(role, user, main, NO_OBJECT, performer_group(ib, role, main, NO_OBJECT))
            for user, main in dict.fromkeys(performers)
        ]
        ib.performers = kept + added
        return [t for t in role_tasks if set(candidates(ib, t)) != before[t.ref]]


def candidates(ib: Infobase, task: Task) -> list[uuid.UUID]:
    """Who may perform the task now: its `Исполнитель` if filled, else the role's register users.

    БСП: CommonModules/БизнесПроцессыИЗадачиСервер/Ext/Module.bsl, ИсполнителиЗадач (the task
    joined with the register on role and both addressing objects; a filled Исполнитель wins, as
    ЗадачаИсполнителя's ObjectModule.РеквизитыАдресацииЗаполнены reads "performer or role").
    """
    if task.performer != EMPTY_REF:
        return [task.performer]
    if task.group == EMPTY_REF:
        return []
    return list(dict.fromkeys(r.user for r in ib.performers if r.group == task.group))


def addressees(ib: Infobase, task: Task) -> list[uuid.UUID]:
    """Everyone the task was addressed to: its performer and, for a role task, the role's users.

    Once a role task is taken or done, its other candidates are no longer performers, but they
    were addressed: the contract answers them "already completed", not "not a performer".
    """
    users = [task.performer] if task.performer != EMPTY_REF else []
    if task.group != EMPTY_REF:
        users += [r.user for r in ib.performers if r.group == task.group]
    return list(dict.fromkeys(users))


def role_name(ib: Infobase, role: uuid.UUID) -> str:
    """A role's description, '' when empty or unknown."""
    item = ib.catalog(ROLES).get(role)
    return item.description if item else ""


def create_user_group(ib: Infobase, name: str, members: Iterable[uuid.UUID]) -> CatalogItem:
    """A new element of `Catalog_ГруппыПользователей` with its `Состав` rows."""
    with ib.lock:
        item = _numbered_item(ib, USER_GROUPS, name, {"Parent_Key": EMPTY_REF, "Комментарий": ""})
        set_members(ib, item, members)
        return ib.add_catalog_item(item)


def set_members(ib: Infobase, group: CatalogItem, members: Iterable[uuid.UUID]) -> None:
    """Replace a users group's `Состав` (rows of `Пользователь_Key`) and give it a new version."""
    with ib.lock:
        unique = list(dict.fromkeys(members))
        for user in unique:
            if ib.user(user) is None:
                raise ValueError(f"unknown user {user}")
        group.tables["Состав"] = [
            {"LineNumber": n, "Пользователь_Key": user} for n, user in enumerate(unique, start=1)
        ]
        ib.touch(group)


def _description(ib: Infobase, value: Composite) -> str:
    if value.set_name == USERS:
        return ib.user_name(value.ref)
    item = ib.catalog(value.set_name).get(value.ref)
    return item.description if item else ""
