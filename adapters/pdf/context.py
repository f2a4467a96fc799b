"""A task as the PDF template sees it: key facts, card fields, tables, history, labels.

Every value is plain text; templates put it only in text nodes, where Jinja2 escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from gateway.domain.documents import TableCut
from gateway.domain.tasks import Decision, Field, Importance, Table, Task

LABELS: Final[dict[str, dict[str, str]]] = {
    "ru": {
        "number": "Номер",
        "date": "Дата",
        "organization": "Организация",
        "amount": "Сумма",
        "initiator": "Инициатор",
        "stage": "Этап",
        "stage_of": "{number} из {count}",
        "due": "Срок",
        "no_due": "не указан",
        "task": "Задача",
        "importance": "Важность",
        "fields": "Реквизиты",
        "history": "История согласования",
        "decision": "Решение",
        "comment": "Комментарий",
        "who": "Кто",
        "when": "Когда",
        "rows": "строк",
        "empty_table": "Нет строк",
        "cut": "Показаны первые {shown} строк из {total}. Весь документ — в 1С.",
        "page": "Стр.",
        "of": "из",
        "generated": "Сформировано {when} шлюзом tg1c ({engine})",
    },
    "en": {
        "number": "Number",
        "date": "Date",
        "organization": "Organization",
        "amount": "Amount",
        "initiator": "Initiator",
        "stage": "Stage",
        "stage_of": "{number} of {count}",
        "due": "Due",
        "no_due": "not set",
        "task": "Task",
        "importance": "Importance",
        "fields": "Details",
        "history": "Approval history",
        "decision": "Decision",
        "comment": "Comment",
        "who": "Who",
        "when": "When",
        "rows": "rows",
        "empty_table": "No rows",
        "cut": "The first {shown} of {total} rows are shown. The whole document is in 1C.",
        "page": "Page",
        "of": "of",
        "generated": "Generated {when} by the tg1c gateway ({engine})",
    },
}
DECISIONS: Final = {
    "ru": {
        Decision.APPROVE: "Согласовано",
        Decision.RETURN_PREVIOUS: "Возвращено на предыдущий этап",
        Decision.RETURN_INITIATOR: "Возвращено инициатору",
    },
    "en": {
        Decision.APPROVE: "Approved",
        Decision.RETURN_PREVIOUS: "Returned to the previous stage",
        Decision.RETURN_INITIATOR: "Returned to the initiator",
    },
}
IMPORTANCE: Final = {
    "ru": {Importance.HIGH: "высокая", Importance.LOW: "низкая", Importance.NORMAL: "обычная"},
    "en": {Importance.HIGH: "high", Importance.LOW: "low", Importance.NORMAL: "normal"},
}
DATE_FORMATS: Final = {"ru": ("%d.%m.%Y", "%d.%m.%Y %H:%M"), "en": ("%Y-%m-%d", "%Y-%m-%d %H:%M")}

# The card fields 1C configurations name these facts by; the first match wins.
NUMBER_FIELDS: Final = ("номер", "number")
DATE_FIELDS: Final = ("дата", "date")
ORGANIZATION_FIELDS: Final = ("организация", "organization")
AMOUNT_FIELDS: Final = ("сумма", "суммадокумента", "сумма документа", "amount")
CURRENCY_FIELDS: Final = ("валюта", "валютадокумента", "валюта документа", "currency")


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of the document's header block: a label and its value."""

    label: str
    value: str


def document_context(
    task: Task,
    *,
    language: str,
    generated_at: datetime,
    engine: str,
    engine_version: str,
    cuts: Sequence[TableCut] = (),
) -> dict[str, Any]:
    """The template's variables for `task`, with labels in `language` (`ru` or `en`).

    `task` is already cut to the bounds (`bounded` in gateway.domain.documents); `cuts` says
    lost rows: their `total` is the count before the cut and `note` says so («Показаны первые
    N строк из M…»); an uncut table's note is empty.

    Only what every approver of the document at this stage shares goes in: the task's own
    number and creation time stay on the card, so one rendering serves them all (design 7).

    `engine` (`pdfkit`, `weasyprint`) lets a template adjust to its engine; `engine_version`
    is for the footer.
    """
    labels = LABELS[language]
    date_format, datetime_format = DATE_FORMATS[language]
    fields = task.subject.fields
    number = _field(fields, NUMBER_FIELDS) or task.number
    date = _field(fields, DATE_FIELDS) or task.created_at.strftime(date_format)
    amount = " ".join(
        v for v in (_field(fields, AMOUNT_FIELDS), _field(fields, CURRENCY_FIELDS)) if v
    )
    stage = labels["stage_of"].format(number=task.stage.number, count=task.stage.count)
    facts = [
        Fact(labels["number"], number),
        Fact(labels["date"], date),
        Fact(labels["organization"], _field(fields, ORGANIZATION_FIELDS)),
        Fact(labels["amount"], amount),
        Fact(labels["initiator"], task.initiator.name),
        Fact(labels["stage"], f"{stage}: {task.stage.name}" if task.stage.name else stage),
        Fact(
            labels["due"],
            task.due_at.strftime(datetime_format) if task.due_at else labels["no_due"],
        ),
    ]
    if task.importance is not Importance.NORMAL:
        facts.append(Fact(labels["importance"], IMPORTANCE[language][task.importance]))
    history = []
    if task.result is not None:
        result = task.result
        who = task.name_of(result.user_id)
        history.append(
            {
                "decision": DECISIONS[language][result.decision],
                "comment": result.comment,
                "who": who,
                "when": result.at.strftime(datetime_format),
            }
        )
    return {
        "language": language,
        "engine": engine,
        "labels": labels,
        "title": task.subject.presentation or task.title,
        "subject_type": task.subject.type,
        "facts": [f for f in facts if f.value],
        "fields": [Fact(f.name, f.value) for f in fields],
        "tables": _tables(task, cuts, labels),
        "history": history,
        "generated": labels["generated"].format(
            when=generated_at.strftime(datetime_format), engine=engine_version
        ),
    }


def _tables(task: Task, cuts: Sequence[TableCut], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Each table with its cut, if any (names may repeat: cuts come in table order)."""
    pending = list(cuts)
    tables = []
    for table in task.subject.tables:
        cut = None
        if pending and pending[0].name == table.name and pending[0].shown == len(table.rows):
            cut = pending.pop(0)
        tables.append(_table(table, cut, labels))
    return tables


def _table(table: Table, cut: TableCut | None, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "name": table.name,
        "columns": list(table.columns),
        "rows": [list(r) for r in table.rows],
        "total": cut.total if cut else len(table.rows),
        "note": labels["cut"].format(shown=cut.shown, total=cut.total) if cut else "",
    }


def _field(fields: Sequence[Field], names: Sequence[str]) -> str:
    for name in names:
        for field in fields:
            if field.name.strip().lower() == name:
                return field.value
    return ""
