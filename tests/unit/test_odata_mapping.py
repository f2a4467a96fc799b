"""The OData mapper on plain rows: state, kind, decisions, people, documents, results, and the
names a row asks for, with everything it reads given up front (no emulator, no requests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.onec.odata_cache import Performers, Ref, Versioned
from adapters.onec.odata_mapping import (
    Known,
    TaskMapper,
    document_references,
    performers_by_group,
    user_of,
)
from adapters.onec.profile import Addressing, Column, DocumentSpec, Profile, TableSpec, load_profile
from gateway.domain.tasks import (
    Decision,
    Field,
    Importance,
    OneCUser,
    Person,
    Result,
    Stage,
    Subject,
    Table,
    TaskKind,
    TaskState,
)
from gateway.errors import MalformedAnswer

PROFILE = load_profile("sandbox")
MSK = timezone(timedelta(hours=3))
TASK = "11111111-0000-0000-0000-000000000001"
USERS = "Catalog_Пользователи"
ROLES = "Catalog_РолиИсполнителей"
PROCESS_SET = "BusinessProcess_Согласование"
PAYMENT = "Document_ЗаявкаНаРасходованиеДенежныхСредств"
PETROVA, VOLKOV, IVANOV = (f"22222222-0000-0000-0000-00000000000{n}" for n in (1, 2, 3))
ROLE, GROUP = "33333333-0000-0000-0000-000000000001", "33333333-0000-0000-0000-000000000002"
PROCESS, DOCUMENT = "44444444-0000-0000-0000-000000000001", "55555555-0000-0000-0000-000000000001"
ORG, COUNTERPARTY = "66666666-0000-0000-0000-000000000001", "66666666-0000-0000-0000-000000000002"
NAMES: dict[Ref, str] = {
    (USERS, PETROVA): "Петрова Анна Сергеевна",
    (USERS, VOLKOV): "Волков Сергей Александрович",
    (USERS, IVANOV): "Иванов Иван Петрович",
    (ROLES, ROLE): "Казначей",
    ("Catalog_Организации", ORG): "АО «Уральский холдинг»",
}
PAYMENT_SPEC = DocumentSpec(
    PAYMENT,
    "Заявка на расходование денежных средств",
    fields=(
        Column("Организация", "Организация", reference="Catalog_Организации"),
        Column("Сумма", "СуммаДокумента", "money"),
    ),
    tables=(
        TableSpec(
            "Расшифровка",
            "РасшифровкаПлатежа",
            (
                Column("Контрагент", "Контрагент", reference="Catalog_Контрагенты"),
                Column("Сумма", "Сумма", "money"),
            ),
        ),
    ),
)


def task_row(**changes: Any) -> dict[str, Any]:
    """A pending person task of an approval at stage 1 of 2, addressed to Петрова."""
    row: dict[str, Any] = {
        "Ref_Key": TASK,
        "DataVersion": "AAA=",
        "Number": " 000000001 ",
        "Date": "2026-11-27T10:00:00",
        "Description": "Согласовать заявку",
        "СрокИсполнения": "0001-01-01T00:00:00",
        "Важность": "Высокая",
        "Executed": False,
        "DeletionMark": False,
        "АвторСтрокой": "Иванов И. П.",
        "ПредметСтрокой": "Заявка 0000-000001",
        "РезультатВыполнения": "",
        "ДатаИсполнения": "0001-01-01T00:00:00",
        "Исполнитель": PETROVA,
        "Исполнитель_Type": f"StandardODATA.{USERS}",
        "Автор": IVANOV,
        "Автор_Type": f"StandardODATA.{USERS}",
        "Предмет": DOCUMENT,
        "Предмет_Type": f"StandardODATA.{PAYMENT}",
        "BusinessProcess": PROCESS,
        "BusinessProcess_Type": f"StandardODATA.{PROCESS_SET}",
        "НаименованиеЭтапа": "Утверждение",
        "НомерЭтапа": "1",
        "РешениеСогласования": "",
    }
    row.update(changes)
    return row


def role_row(**changes: Any) -> dict[str, Any]:
    """The same task addressed to the role Казначей through its performers group."""
    addressed = {
        "Исполнитель": "00000000-0000-0000-0000-000000000000",
        "Исполнитель_Type": "StandardODATA.Undefined",
        "РольИсполнителя_Key": ROLE,
        "ГруппаИсполнителейЗадач_Key": GROUP,
    }
    return task_row(**{**addressed, **changes})


def payment(**changes: Any) -> dict[str, Any]:
    """The task's document row."""
    doc: dict[str, Any] = {
        "Ref_Key": DOCUMENT,
        "DataVersion": "DOC=",
        "Number": "0000-000001",
        "Date": "2026-11-26T00:00:00",
        "Организация_Key": ORG,
        "СуммаДокумента": 1250000,
        "РасшифровкаПлатежа": [
            {"LineNumber": "2", "Контрагент_Key": COUNTERPARTY, "Сумма": 250000},
            {"LineNumber": "1", "Контрагент_Key": None, "Сумма": 1000000},
        ],
    }
    doc.update(changes)
    return doc


def known(
    *,
    related: Mapping[str, Versioned] | None = None,
    register: Mapping[str, Performers] | None = None,
    specs: Mapping[str, DocumentSpec | None] | None = None,
    names: Mapping[Ref, str] = NAMES,
) -> Known:
    """What was read besides the row: by default the process (2 stages) and no document."""
    process = Versioned("P=", {"Ref_Key": PROCESS, "Состояние": "Активен", "КоличествоЭтапов": 2})
    return Known(
        related={PROCESS: process} if related is None else related,
        names=names,
        register={} if register is None else register,
        specs={} if specs is None else specs,
    )


def mapper(profile: Profile = PROFILE, processes: tuple[str, ...] = (PROCESS_SET,)) -> TaskMapper:
    return TaskMapper(profile, frozenset(processes))


# --- a person task ------------------------------------------------------------------------------


def test_a_person_task_is_mapped_field_by_field() -> None:
    task = mapper().task(task_row(), known())
    assert task.id == TASK
    assert task.version == "AAA="  # no document read: the task's own version
    assert task.number == "000000001"
    assert task.created_at == datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
    assert task.due_at is None
    assert task.importance is Importance.HIGH
    assert task.title == "Согласовать заявку"
    assert task.performer == Person(PETROVA, "Петрова Анна Сергеевна")
    assert task.initiator == Person(IVANOV, "Иванов Иван Петрович")
    assert task.stage == Stage("Утверждение", 1, 2)
    assert (task.role, task.candidates) == (None, (task.performer,))
    assert task.kind is TaskKind.APPROVAL
    assert task.result is None


def test_a_name_not_read_is_empty_and_the_initiator_falls_back_to_its_text() -> None:
    task = mapper().task(task_row(), known(names={}))
    assert task.performer == Person(PETROVA, "")
    assert task.initiator == Person(IVANOV, "Иванов И. П.")


def test_an_initiator_without_a_reference_is_its_text_alone() -> None:
    task = mapper().task(task_row(Автор=None), known())
    assert task.initiator == Person("", "Иванов И. П.")


@pytest.mark.parametrize("missing", ["Ref_Key", "Date"])
def test_a_row_without_id_or_date_is_a_malformed_answer(missing: str) -> None:
    with pytest.raises(MalformedAnswer):
        mapper().task(task_row(**{missing: ""}), known())


# --- state, kind, decisions ---------------------------------------------------------------------

STOPPED = {"Ref_Key": PROCESS, "Состояние": "Остановлен"}
PENDING = TaskState.PENDING


@pytest.mark.parametrize(
    ("changes", "related", "state"),
    [
        ({}, None, TaskState.PENDING),
        ({"Executed": True}, None, TaskState.COMPLETED),
        ({"Executed": True, "DeletionMark": True}, None, TaskState.COMPLETED),
        ({"DeletionMark": True}, None, TaskState.CANCELLED),
        ({"СостояниеБизнесПроцесса": "Остановлен"}, None, TaskState.CANCELLED),
        ({"СостояниеБизнесПроцесса": "Активен"}, {PROCESS: Versioned("P=", STOPPED)}, PENDING),
        ({}, {PROCESS: Versioned("P=", STOPPED)}, TaskState.CANCELLED),
        ({}, {PROCESS: Versioned("P=", {"DeletionMark": True})}, TaskState.CANCELLED),
        ({}, {PROCESS: Versioned("", None)}, TaskState.CANCELLED),  # read: 1C has it no more
        ({}, {}, TaskState.PENDING),  # never read: nothing says it stopped
        ({"BusinessProcess": None}, {PROCESS: Versioned("", None)}, TaskState.PENDING),
    ],
)
def test_the_state_comes_from_the_task_else_from_its_process(
    changes: dict[str, Any], related: dict[str, Versioned] | None, state: TaskState
) -> None:
    """The task's own `СостояниеБизнесПроцесса`, where it has one, wins over the process row."""
    assert mapper().task(task_row(**changes), known(related=related)).state is state


@pytest.mark.parametrize(
    ("processes", "process_type", "kind"),
    [
        ((PROCESS_SET,), PROCESS_SET, TaskKind.APPROVAL),
        ((PROCESS_SET,), "BusinessProcess_Задание", TaskKind.TASK),
        ((), PROCESS_SET, TaskKind.TASK),
    ],
)
def test_only_tasks_of_approval_processes_are_approvals(
    processes: tuple[str, ...], process_type: str, kind: TaskKind
) -> None:
    row = task_row(BusinessProcess_Type=f"StandardODATA.{process_type}")
    task = mapper(processes=processes).task(row, known())
    assert task.kind is kind
    assert bool(task.allowed_decisions) is (kind is TaskKind.APPROVAL)


ALL = (Decision.APPROVE, Decision.RETURN_PREVIOUS, Decision.RETURN_INITIATOR)


@pytest.mark.parametrize(
    ("stage", "allowed"),
    [
        ("0", (Decision.APPROVE,)),  # the initiator's rework: resubmit only
        ("1", (Decision.APPROVE, Decision.RETURN_INITIATOR)),  # no previous stage
        ("2", ALL),
        ("", (Decision.APPROVE,)),  # no number reads as 0
    ],
)
def test_the_stage_rules_out_decisions(stage: str, allowed: tuple[Decision, ...]) -> None:
    assert mapper().task(task_row(НомерЭтапа=stage), known()).allowed_decisions == allowed


def test_without_a_stage_number_every_decision_of_the_profile_is_allowed() -> None:
    profile = dataclasses.replace(PROFILE, stage_number="")
    assert mapper(profile).task(task_row(НомерЭтапа="0"), known()).allowed_decisions == ALL


@pytest.mark.parametrize(
    "changes", [{"Executed": True}, {"DeletionMark": True}], ids=["completed", "cancelled"]
)
def test_a_task_no_longer_pending_allows_no_decision(changes: dict[str, Any]) -> None:
    assert mapper().task(task_row(**changes), known()).allowed_decisions == ()


# --- role tasks ---------------------------------------------------------------------------------


def test_a_role_task_is_for_every_performer_the_register_names_in_its_order() -> None:
    register = {GROUP: ((USERS, VOLKOV), (USERS, PETROVA))}
    task = mapper().task(role_row(), known(register=register))
    assert task.performer is None
    assert task.role == Person(ROLE, "Казначей")
    assert task.candidates == (
        Person(VOLKOV, "Волков Сергей Александрович"),
        Person(PETROVA, "Петрова Анна Сергеевна"),
    )


@pytest.mark.parametrize(
    "register", [{}, {"another group": ((USERS, VOLKOV),)}], ids=["empty", "other group"]
)
def test_a_role_task_whose_group_the_register_does_not_name_has_no_candidates(
    register: dict[str, Performers],
) -> None:
    task = mapper().task(role_row(), known(register=register))
    assert (task.role, task.candidates) == (Person(ROLE, "Казначей"), ())


def test_a_task_with_neither_performer_nor_role_has_nobody() -> None:
    row = role_row(РольИсполнителя_Key=None, ГруппаИсполнителейЗадач_Key=None)
    task = mapper().task(row, known(register={GROUP: ((USERS, VOLKOV),)}))
    assert (task.performer, task.role, task.candidates) == (None, None, ())


def test_a_person_task_ignores_the_register() -> None:
    row = task_row(ГруппаИсполнителейЗадач_Key=GROUP, РольИсполнителя_Key=ROLE)
    task = mapper().task(row, known(register={GROUP: ((USERS, VOLKOV),)}))
    assert (task.role, [p.id for p in task.candidates]) == (None, [PETROVA])


# --- the document -------------------------------------------------------------------------------


def with_document(document: Versioned, spec: DocumentSpec | None = PAYMENT_SPEC) -> Known:
    return known(related={PROCESS: Versioned("P=", {}), DOCUMENT: document}, specs={PAYMENT: spec})


def test_a_read_document_shows_its_fields_and_tables_with_names_of_references() -> None:
    task = mapper().task(task_row(), with_document(Versioned("DOC=", payment())))
    assert task.version == "AAA=.DOC="  # a new document version is a new task version
    assert task.subject == Subject(
        type=PAYMENT,
        id=DOCUMENT,
        presentation="Заявка 0000-000001",
        fields=(
            Field("Номер", "0000-000001"),
            Field("Дата", "26.11.2026"),
            Field("Организация", "АО «Уральский холдинг»"),
            Field("Сумма", "1 250 000,00"),
        ),
        tables=(
            Table(
                "Расшифровка",
                ("№", "Контрагент", "Сумма"),
                (("1", "", "1 000 000,00"), ("2", "", "250 000,00")),  # by LineNumber
            ),
        ),
        version="DOC=",
    )


@pytest.mark.parametrize(
    ("document", "spec", "expected"),
    [
        (None, PAYMENT_SPEC, Subject(PAYMENT, DOCUMENT, "Заявка 0000-000001")),
        (Versioned("", None), PAYMENT_SPEC, Subject(PAYMENT, DOCUMENT, "Заявка 0000-000001")),
        (
            Versioned("DOC=", payment()),
            None,
            Subject(PAYMENT, DOCUMENT, "Заявка 0000-000001", version="DOC="),
        ),
        (
            Versioned("DOC=", payment()),
            dataclasses.replace(PAYMENT_SPEC, title=""),
            Subject(PAYMENT, DOCUMENT, "Заявка 0000-000001", version="DOC="),
        ),
    ],
    ids=["not read", "deleted", "no spec", "spec without title"],
)
def test_a_document_not_shown_keeps_its_presentation(
    document: Versioned | None, spec: DocumentSpec | None, expected: Subject
) -> None:
    related = {PROCESS: Versioned("P=", {})} | ({DOCUMENT: document} if document else {})
    task = mapper().task(task_row(), known(related=related, specs={PAYMENT: spec}))
    assert task.subject == expected
    assert task.version == ("AAA=.DOC=" if document and document.value else "AAA=")


def test_a_task_without_a_document_has_an_empty_subject() -> None:
    task = mapper().task(task_row(Предмет=None), known())
    assert task.subject == Subject(type="", id="", presentation="Заявка 0000-000001")


def test_the_stage_count_needs_the_process_row() -> None:
    assert mapper().task(task_row(), known(related={})).stage == Stage("Утверждение", 1, 0)


# --- the result ---------------------------------------------------------------------------------

DONE = {"Executed": True, "ДатаИсполнения": "2026-11-28T09:30:00", "РезультатВыполнения": "ok"}


@pytest.mark.parametrize(
    ("changes", "result"),
    [
        (
            {**DONE, "РешениеСогласования": "ВернутьИнициатору"},
            Result(
                Decision.RETURN_INITIATOR, "ok", PETROVA, datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
            ),
        ),
        ({**DONE, "РешениеСогласования": "Неизвестно"}, None),
        ({**DONE, "РешениеСогласования": "Согласовать", "ДатаИсполнения": ""}, None),
        ({"РешениеСогласования": "Согласовать", "ДатаИсполнения": DONE["ДатаИсполнения"]}, None),
    ],
    ids=["completed", "unknown code", "no date", "not completed"],
)
def test_a_completed_task_carries_its_decision(
    changes: dict[str, Any], result: Result | None
) -> None:
    assert mapper().task(task_row(**changes), known()).result == result


def test_a_profile_without_a_decision_field_gives_no_result() -> None:
    profile = dataclasses.replace(PROFILE, decision_field="")
    row = task_row(**DONE, РешениеСогласования="Согласовать")
    assert mapper(profile).task(row, known()).result is None


# --- what a row asks for ------------------------------------------------------------------------


def test_a_person_task_asks_for_its_performer_and_initiator() -> None:
    assert mapper().references(task_row(), known()) == {USERS: {PETROVA, IVANOV}}


def test_a_role_task_asks_for_its_role_and_every_candidate() -> None:
    register = {GROUP: ((USERS, VOLKOV), ("Catalog_ВнешниеПользователи", PETROVA))}
    assert mapper().references(role_row(), known(register=register)) == {
        USERS: {IVANOV, VOLKOV},
        ROLES: {ROLE},
        "Catalog_ВнешниеПользователи": {PETROVA},
    }


def test_a_shown_document_asks_for_the_references_of_its_fields_and_lines() -> None:
    wanted = mapper().references(task_row(), with_document(Versioned("DOC=", payment())))
    assert wanted == {
        USERS: {PETROVA, IVANOV},
        "Catalog_Организации": {ORG},
        "Catalog_Контрагенты": {COUNTERPARTY},
    }


def test_a_document_not_shown_asks_for_nothing() -> None:
    wanted = mapper().references(task_row(), with_document(Versioned("DOC=", payment()), None))
    assert wanted == {USERS: {PETROVA, IVANOV}}


def test_document_references_skip_empty_references() -> None:
    doc = payment(Организация_Key="00000000-0000-0000-0000-000000000000", РасшифровкаПлатежа=[])
    assert document_references(PAYMENT_SPEC, doc) == []


def test_every_name_a_task_shows_is_one_it_asked_for() -> None:
    """A name outside `references` would show empty: the pass reads only what was asked."""
    everything = dataclasses.replace(
        with_document(Versioned("DOC=", payment())), register={GROUP: ((USERS, VOLKOV),)}
    )
    for row in (task_row(), role_row()):
        asked = mapper().references(row, everything)
        names = {(s, key): f"{s}/{key}" for s, keys in asked.items() for key in keys}
        task = mapper().task(row, dataclasses.replace(everything, names=names))
        shown = [task.initiator, *task.candidates, *([task.role] if task.role else [])]
        assert all(person.name.endswith(f"/{person.id}") for person in shown)
        fields = {field.name: field.value for field in task.subject.fields}
        assert fields["Организация"] == f"Catalog_Организации/{ORG}"


# --- what a pass compares -----------------------------------------------------------------------


def test_the_inputs_change_with_the_task_its_document_its_process_and_its_performers() -> None:
    m = mapper()
    related = {PROCESS: Versioned("P=", {}), DOCUMENT: Versioned("DOC=", payment())}
    register = {GROUP: ((USERS, VOLKOV),)}
    base = m.inputs(role_row(), related, register)
    assert m.inputs(role_row(), dict(related), dict(register)) == base
    assert m.inputs(role_row(DataVersion="BBB="), related, register) != base
    assert m.inputs(role_row(), {**related, DOCUMENT: Versioned("D2=", {})}, register) != base
    assert m.inputs(role_row(), {**related, PROCESS: Versioned("P2=", {})}, register) != base
    assert m.inputs(role_row(), related, {GROUP: ((USERS, PETROVA),)}) != base
    assert m.inputs(task_row(), related, register) == m.inputs(task_row(), related, {})


# --- the register and the users -----------------------------------------------------------------


def record(group: str, user: str) -> dict[str, Any]:
    return {
        "ГруппаИсполнителейЗадач_Key": group,
        "Исполнитель": user,
        "Исполнитель_Type": f"StandardODATA.{USERS}",
    }


def test_register_records_become_performers_by_group_each_once_in_order() -> None:
    records = [
        record(GROUP, VOLKOV),
        record(GROUP, PETROVA),
        record(GROUP, VOLKOV),
        record("other", IVANOV),
        record("00000000-0000-0000-0000-000000000000", IVANOV),  # no group
        {**record(GROUP, IVANOV), "Исполнитель_Type": "StandardODATA.Undefined"},  # nobody
    ]
    assert performers_by_group(records, Addressing(), [GROUP, "empty"]) == {
        GROUP: ((USERS, VOLKOV), (USERS, PETROVA)),
        "other": ((USERS, IVANOV),),
        "empty": (),  # asked for and named by no record: nobody performs it now
    }


def contact(kind: str, **values: str) -> dict[str, str]:
    return {"Тип": kind, **values}


def user_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Ref_Key": PETROVA,
        "Description": "Петрова Анна Сергеевна",
        "DeletionMark": False,
        "Недействителен": False,
        "КонтактнаяИнформация": [
            contact("Телефон", НомерТелефона="8 (912) 345-67-89"),
            contact("АдресЭлектроннойПочты", Представление="petrova@example.com"),
            contact("Телефон", НомерТелефона="", Представление="+7 912 345 67 89"),
            contact("Телефон", Представление="+7 (343) 000-00-01"),
            "not a contact",
        ],
    }
    row.update(changes)
    return row


def test_a_user_has_each_phone_once_normalized_from_the_first_field_that_has_one() -> None:
    assert user_of(user_row(), PROFILE) == OneCUser(
        PETROVA, "Петрова Анна Сергеевна", ("79123456789", "73430000001")
    )


@pytest.mark.parametrize("flag", ["DeletionMark", "Недействителен"])
def test_a_deleted_or_invalid_user_is_nobody(flag: str) -> None:
    assert user_of(user_row(**{flag: True}), PROFILE) is None


def test_a_user_without_contacts_has_no_phones() -> None:
    assert user_of(user_row(КонтактнаяИнформация=None), PROFILE) == OneCUser(
        PETROVA, "Петрова Анна Сергеевна", ()
    )
