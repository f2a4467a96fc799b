"""The document an approver reads, as values: what it is, how it is bounded, keyed and named.

One rendition per (subject, subject version, template, engine): its bytes and the Telegram
file id of its first upload live in the DocumentCache under one key, so every other approver of
the same document gets the same file without a new rendering or upload.

Our rendering is bounded (`bounded`): at most MAX_TABLE_ROWS rows per table, MAX_TOTAL_ROWS in
all, MAX_TEXT_CHARS characters of text (which bounds the page handed to the engine), each value
at most MAX_VALUE_CHARS. The renderer shows the first rows and says how many there were; the
card says the PDF was cut. 1C's own print form is sent as 1C made it.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, replace
from typing import Final

from gateway.domain.tasks import Field, Table, Task

TELEGRAM_DOCUMENT_LIMIT_BYTES: Final = 50 * 1024 * 1024
"""Bots may send documents up to 50 MB (Bot API `sendDocument`)."""

PRINT_FORM_TEMPLATE: Final = "1c-print-form"
PRINT_FORM_ENGINE: Final = "1c"
MAX_TABLE_ROWS: Final = 500
"""Rows of one table in our PDF; the rest are cut, with a note in the PDF and on the card."""
MAX_TOTAL_ROWS: Final = 1000
"""Rows of all tables together in our PDF."""
MAX_TEXT_CHARS: Final = 300_000
"""Characters of field and cell text in our PDF: about 1 MB of HTML, ~10 s of WeasyPrint."""
MAX_VALUE_CHARS: Final = 2000
"""Characters of one field value or cell; a longer one ends with «…»."""
CUT_MARK: Final = "…"
MAX_READABLE_KEY_BYTES: Final = 200
MAX_FILENAME_STEM: Final = 80

_KEY_PART_RE = re.compile(r"^[^\s:]+$")
_UNSAFE_FILENAME_CHARS = re.compile(r"[^\w.-]+")
_NUMBER_FIELDS = ("номер", "number")
_DATE_FIELDS = ("дата", "date")


class DocumentSource(enum.StrEnum):
    """Where the approver's PDF came from; the card names it."""

    PRINT_FORM = "1c_print_form"
    RENDERED = "rendered"


@dataclass(frozen=True, slots=True)
class Document:
    """The PDF to send: bytes for a first upload or the file id of an earlier one.

    `too_large` documents carry neither: Telegram would refuse them, and `note` says why.
    """

    key: str
    filename: str
    source: DocumentSource
    size: int = 0
    content: bytes | None = None
    file_id: str | None = None
    too_large: bool = False
    note: str = ""
    rows_shown: int = 0
    rows_total: int = 0

    @property
    def cut(self) -> bool:
        """True when the PDF shows only the first rows of the document's tables."""
        return self.rows_shown < self.rows_total


@dataclass(frozen=True, slots=True)
class TableCut:
    """A table our PDF shows only the start of: `shown` of its `total` rows."""

    name: str
    shown: int
    total: int


@dataclass(frozen=True, slots=True)
class Bounded:
    """The task as our PDF shows it, and what was cut from its tables."""

    task: Task
    cuts: tuple[TableCut, ...]
    rows_shown: int
    rows_total: int


def bounded(task: Task) -> Bounded:
    """The task with its tables cut to the bounds and long values shortened.

    Rows are kept in order, table after table, while the table's bound, the total bound and
    the text bound all allow; a table the bounds reach keeps its first rows only (a later
    one may keep none). Field text counts against the text bound before any row.
    """
    subject = task.subject
    fields = tuple(Field(f.name, _short(f.value)) for f in subject.fields)
    text = sum(len(f.name) + len(f.value) for f in fields)
    shown_total = 0
    all_rows = 0
    tables = []
    cuts = []
    for table in subject.tables:
        kept: list[tuple[str, ...]] = []
        for row in table.rows:
            cells = tuple(_short(cell) for cell in row)
            size = sum(len(cell) for cell in cells)
            if (
                len(kept) >= MAX_TABLE_ROWS
                or shown_total >= MAX_TOTAL_ROWS
                or text + size > MAX_TEXT_CHARS
            ):
                break
            kept.append(cells)
            shown_total += 1
            text += size
        all_rows += len(table.rows)
        if len(kept) < len(table.rows):
            cuts.append(TableCut(table.name, len(kept), len(table.rows)))
        tables.append(Table(table.name, table.columns, tuple(kept)))
    cut_subject = replace(subject, fields=fields, tables=tuple(tables))
    return Bounded(replace(task, subject=cut_subject), tuple(cuts), shown_total, all_rows)


def _short(value: str) -> str:
    if len(value) <= MAX_VALUE_CHARS:
        return value
    return value[: MAX_VALUE_CHARS - len(CUT_MARK)] + CUT_MARK


def subject_version(task: Task) -> str:
    """A digest of everything the rendition shows, standing in for the subject's version.

    `Task.version` is the task's own version: two approvers of one document hold two tasks
    with different versions, so keying on it would render and upload once per approver. The
    digest changes with every document version that changes what the PDF shows (fields,
    tables, stage, due date, importance, history), and only then. The task's own number and
    creation time count only where the PDF shows them in place of the document's own number
    and date: parallel approvers hold tasks that differ in nothing else.
    """
    subject = task.subject
    parts: list[object] = [
        subject.type,
        subject.id,
        subject.presentation,
        task.title,
        _named(task, _NUMBER_FIELDS) or task.number,
        _named(task, _DATE_FIELDS) or task.created_at.date().isoformat(),
        task.due_at.isoformat() if task.due_at else "",
        task.importance.value,
        task.initiator.name,
        (task.stage.name, task.stage.number, task.stage.count),
        [(f.name, f.value) for f in subject.fields],
        [(t.name, t.columns, t.rows) for t in subject.tables],
    ]
    if task.result is not None:
        result = task.result
        parts.append((result.decision.value, result.comment, result.user_id, result.at))
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:20]


def _named(task: Task, names: tuple[str, ...]) -> str:
    """The value of the subject's first field called one of `names` (as the PDF finds it)."""
    return next((f.value for f in task.subject.fields if f.name.strip().lower() in names), "")


def rendition_key(task: Task, template: str, engine: str) -> str:
    """The cache key of the task's document: subject type, id, version, template and engine.

    Readable while short and unambiguous; a SHA-256 digest when long or when a part holds a
    separator, so two different renditions can never share a key.
    """
    parts = [task.subject.type, task.subject.id, subject_version(task), template, engine]
    readable = ":".join(parts)
    if len(readable.encode("utf-8")) <= MAX_READABLE_KEY_BYTES and all(
        _KEY_PART_RE.match(p) for p in parts
    ):
        return readable
    framed = "\0".join(f"{len(p)}:{p}" for p in parts)
    return "sha256:" + hashlib.sha256(framed.encode("utf-8")).hexdigest()


def document_filename(task: Task) -> str:
    """A file name safe on every platform and readable in Russian: `Заявка_0000-000042.pdf`."""
    kind = task.subject.presentation.split(" ", 1)[0] or task.subject.type.removeprefix("Document_")
    number = next(
        (f.value for f in task.subject.fields if f.name.strip().lower() in _NUMBER_FIELDS),
        task.number,
    )
    stem = _UNSAFE_FILENAME_CHARS.sub("_", f"{kind}_{number}")
    stem = re.sub("_{2,}", "_", stem).strip("._")
    return f"{stem[:MAX_FILENAME_STEM] or 'document'}.pdf"
