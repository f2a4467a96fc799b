"""The document use case with the shared fakes: one rendering and one upload per rendition,
within the bounds on rows and text, with the card's note when the PDF was cut."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from gateway.domain.documents import (
    MAX_TABLE_ROWS,
    MAX_TEXT_CHARS,
    MAX_TOTAL_ROWS,
    MAX_VALUE_CHARS,
    TELEGRAM_DOCUMENT_LIMIT_BYTES,
    Document,
    DocumentSource,
    TableCut,
    bounded,
    document_filename,
    rendition_key,
)
from gateway.domain.tasks import (
    Field,
    Importance,
    Table,
    Task,
)
from gateway.ports.documents import DocumentCache
from gateway.presentation import cards
from gateway.presentation.texts import Texts
from gateway.usecases.documents import document_for, remember_upload
from tests.factories import make_task
from tests.fakes import PDF, FakeOneC, FakeRenderer, MemoryDocuments

PRINT_FORM = b"%PDF-1.4 1C print form\n%%EOF"


def down_cache() -> MemoryDocuments:
    """A DocumentCache whose Redis is unreachable."""
    cache = MemoryDocuments()
    cache.down = True
    return cache


class FakeTelegram:
    """Uploads bytes (counted) or reuses a file id, as sendDocument does."""

    def __init__(self) -> None:
        self.uploads = 0
        self.sent_file_ids: list[str] = []

    def send(self, document: Document) -> str:
        if document.file_id is not None:
            self.sent_file_ids.append(document.file_id)
            return document.file_id
        assert document.content is not None
        self.uploads += 1
        return f"file-{self.uploads}"


def document_of(
    task: Task | None = None,
    *,
    onec: FakeOneC | None = None,
    renderer: FakeRenderer | None = None,
    cache: DocumentCache | None = None,
    prefer_print_form: bool = False,
    language: str = "ru",
) -> Document:
    """`document_for` of `task` (a default one), with fresh fakes for the parts not given."""
    return document_for(
        make_task() if task is None else task,
        onec=FakeOneC() if onec is None else onec,
        renderer=FakeRenderer() if renderer is None else renderer,
        cache=MemoryDocuments() if cache is None else cache,
        prefer_print_form=prefer_print_form,
        language=language,
    )


def deliver(
    task: Task,
    renderer: FakeRenderer,
    cache: DocumentCache,
    telegram: FakeTelegram,
    onec: FakeOneC | None = None,
    prefer_print_form: bool = False,
) -> Document:
    """What the delivery use case does per approver: get the document, send, remember."""
    document = document_of(
        task, onec=onec, renderer=renderer, cache=cache, prefer_print_form=prefer_print_form
    )
    file_id = telegram.send(document)
    if document.file_id is None:
        remember_upload(document.key, file_id, cache)
    return document


def test_many_approvers_of_one_document_cost_one_rendering_and_one_upload() -> None:
    renderer, cache, telegram = FakeRenderer(), MemoryDocuments(), FakeTelegram()
    approvers_tasks = [make_task(f"task-{n}", version=f"v{n}.doc-1") for n in range(10)]

    documents = [deliver(task, renderer, cache, telegram) for task in approvers_tasks]

    assert renderer.renders == 1
    assert telegram.uploads == 1
    assert telegram.sent_file_ids == ["file-1"] * 9
    assert {d.key for d in documents} == {documents[0].key}


def parallel_task(n: int, **subject: Any) -> Task:
    """The task of the n-th of several approvers of one document at one stage: own id, version,
    number and creation time (seconds apart, the same day), everything else shared."""
    task = make_task(f"parallel-{n}", version=f"v{n}", **subject)
    return dataclasses.replace(
        task,
        number=f"{124 + n:09d}",
        created_at=task.created_at + timedelta(seconds=n),
    )


def test_parallel_approvers_tasks_of_one_document_share_one_rendering_and_upload() -> None:
    renderer, cache, telegram = FakeRenderer(), MemoryDocuments(), FakeTelegram()

    documents = [deliver(parallel_task(n), renderer, cache, telegram) for n in range(5)]

    assert renderer.renders == 1
    assert telegram.uploads == 1
    assert len({d.key for d in documents}) == 1


def test_parallel_approvers_share_1cs_print_form_too() -> None:
    renderer, cache, telegram = FakeRenderer(), MemoryDocuments(), FakeTelegram()
    onec = FakeOneC(print_form=PRINT_FORM)

    for n in range(5):
        deliver(parallel_task(n), renderer, cache, telegram, onec, prefer_print_form=True)

    assert len(onec.print_form_requests) == 1
    assert telegram.uploads == 1


def test_without_a_number_field_the_pdf_shows_the_tasks_number_so_each_task_has_its_own() -> None:
    without_number = {"fields": (Field("Сумма", "1 250 000,00"),)}
    first, second = parallel_task(1, **without_number), parallel_task(2, **without_number)

    assert rendition_key(first, "t", "e") != rendition_key(second, "t", "e")


def test_a_change_of_importance_is_a_new_rendition() -> None:
    task = make_task()
    urgent = dataclasses.replace(task, importance=Importance.HIGH)

    assert rendition_key(task, "t", "e") != rendition_key(urgent, "t", "e")


def test_a_cached_rendering_is_sent_again_before_its_first_upload_is_remembered() -> None:
    renderer, cache = FakeRenderer(), MemoryDocuments()
    first = document_of(renderer=renderer, cache=cache)
    second = document_of(renderer=renderer, cache=cache)
    assert renderer.renders == 1
    assert first.content == second.content == PDF
    assert second.file_id is None


def test_a_new_document_version_is_rendered_anew() -> None:
    renderer, cache, telegram = FakeRenderer(), MemoryDocuments(), FakeTelegram()
    old = deliver(make_task(), renderer, cache, telegram)
    changed = (Field("Номер", "0000-000042"), Field("Сумма", "2 000 000,00"))
    new = deliver(make_task(version="v1.doc-2", fields=changed), renderer, cache, telegram)

    assert renderer.renders == 2
    assert telegram.uploads == 2
    assert old.key != new.key


def test_the_key_names_template_and_engine_so_either_change_makes_a_new_rendition() -> None:
    task = make_task()
    keys = {
        rendition_key(task, "default.html#v1.ru", "pdfkit"),
        rendition_key(task, "default.html#v2.ru", "pdfkit"),
        rendition_key(task, "default.html#v1.en", "pdfkit"),
        rendition_key(task, "default.html#v1.ru", "weasyprint"),
    }
    assert len(keys) == 4


def test_a_long_or_ambiguous_key_is_hashed() -> None:
    task = make_task()
    assert rendition_key(task, "x" * 300, "pdfkit").startswith("sha256:")
    assert rendition_key(task, "a:b", "c") != rendition_key(task, "a", "b:c")
    readable = rendition_key(task, "default.html#v1.ru", "pdfkit")
    assert readable.startswith("Document_ЗаявкаНаРасходованиеДенежныхСредств:d-42:")
    assert readable.endswith(":default.html#v1.ru:pdfkit")


def test_1c_print_form_is_preferred_when_1c_has_one() -> None:
    renderer, cache, onec = FakeRenderer(), MemoryDocuments(), FakeOneC(print_form=PRINT_FORM)
    first = document_of(onec=onec, renderer=renderer, cache=cache, prefer_print_form=True)
    again = document_of(
        make_task("task-2"), onec=onec, renderer=renderer, cache=cache, prefer_print_form=True
    )
    assert (first.source, first.content) == (DocumentSource.PRINT_FORM, PRINT_FORM)
    assert again.source == DocumentSource.PRINT_FORM
    assert len(onec.print_form_requests) == 1
    assert renderer.renders == 0


def test_without_a_print_form_in_1c_the_document_is_rendered_and_1c_asked_once() -> None:
    renderer, cache, onec = FakeRenderer(), MemoryDocuments(), FakeOneC()
    documents = [
        document_of(
            make_task(f"task-{n}"),
            onec=onec,
            renderer=renderer,
            cache=cache,
            prefer_print_form=True,
        )
        for n in range(3)
    ]
    assert [d.source for d in documents] == [DocumentSource.RENDERED] * 3
    assert documents[0].source == "rendered"
    assert renderer.renders == 1
    assert len(onec.print_form_requests) == 1


def test_odata_connector_never_asks_1c_for_a_print_form() -> None:
    onec = FakeOneC(print_form=PRINT_FORM)
    document = document_of(onec=onec)
    assert document.source == DocumentSource.RENDERED
    assert onec.print_form_requests == []


def test_a_document_over_telegrams_limit_is_not_sent_and_the_note_says_why() -> None:
    huge = b"%PDF" + b"0" * TELEGRAM_DOCUMENT_LIMIT_BYTES
    document = document_of(renderer=FakeRenderer(huge))
    assert document.too_large
    assert document.content is None and document.file_id is None
    assert "50 МБ" in document.note
    assert document.size == len(huge)


def test_a_document_of_exactly_the_limit_is_sent() -> None:
    exact = b"0" * TELEGRAM_DOCUMENT_LIMIT_BYTES
    document = document_of(renderer=FakeRenderer(exact))
    assert not document.too_large
    assert document.content == exact


def test_the_note_follows_the_language() -> None:
    huge = b"0" * (TELEGRAM_DOCUMENT_LIMIT_BYTES + 1)
    document = document_of(renderer=FakeRenderer(huge), language="en")
    assert "over Telegram's 50 MB limit" in document.note


def test_a_cache_that_is_down_costs_a_rendering_not_the_delivery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    renderer, telegram = FakeRenderer(), FakeTelegram()
    first = deliver(make_task(), renderer, down_cache(), telegram)
    second = deliver(make_task(), renderer, down_cache(), telegram)
    assert first.content == second.content == PDF
    assert renderer.renders == 2
    assert "document cache: could not" in caplog.text


def test_the_filename_is_the_document_kind_and_number() -> None:
    assert document_filename(make_task()) == "Заявка_0000-000042.pdf"


def test_the_filename_falls_back_to_the_task_number_and_drops_unsafe_characters() -> None:
    task = make_task(fields=())
    task = dataclasses.replace(
        task, subject=dataclasses.replace(task.subject, presentation='Счёт/"проект" 7')
    )
    assert document_filename(task) == "Счёт_проект_000000123.pdf"


def test_the_document_source_reads_as_the_card_expects() -> None:
    assert [s.value for s in DocumentSource] == ["1c_print_form", "rendered"]


# --- bounds ----------------------------------------------------------------------------------


def with_tables(*tables: Table, fields: tuple[Field, ...] = ()) -> Task:
    task = make_task()
    return dataclasses.replace(
        task, subject=dataclasses.replace(task.subject, tables=tables, fields=fields)
    )


def rows(count: int, text: str = "x") -> tuple[tuple[str, ...], ...]:
    return tuple((str(n), text) for n in range(1, count + 1))


def test_a_document_within_the_bounds_is_left_whole() -> None:
    task = with_tables(Table("Строки", ("№", "Текст"), rows(MAX_TABLE_ROWS)))
    bound = bounded(task)
    assert bound.task == task
    assert bound.cuts == ()
    assert bound.rows_shown == bound.rows_total == MAX_TABLE_ROWS


def test_a_long_table_keeps_its_first_rows_and_says_how_many_it_had() -> None:
    bound = bounded(with_tables(Table("Строки", ("№", "Текст"), rows(MAX_TABLE_ROWS + 7))))
    [table] = bound.task.subject.tables
    assert table.rows == rows(MAX_TABLE_ROWS)
    assert bound.cuts == (TableCut("Строки", MAX_TABLE_ROWS, MAX_TABLE_ROWS + 7),)


def test_the_total_bound_cuts_a_later_table_even_to_nothing() -> None:
    bound = bounded(
        with_tables(
            Table("Первая", ("№", "Текст"), rows(MAX_TABLE_ROWS)),
            Table("Вторая", ("№", "Текст"), rows(MAX_TABLE_ROWS)),
            Table("Третья", ("№", "Текст"), rows(3)),
        )
    )
    shown = [len(t.rows) for t in bound.task.subject.tables]
    assert shown == [MAX_TABLE_ROWS, MAX_TOTAL_ROWS - MAX_TABLE_ROWS, 0]
    assert (bound.rows_shown, bound.rows_total) == (MAX_TOTAL_ROWS, 2 * MAX_TABLE_ROWS + 3)
    assert bound.cuts[-1] == TableCut("Третья", 0, 3)


def test_the_text_bound_cuts_rows_of_long_text() -> None:
    wide = "ж" * (MAX_VALUE_CHARS - 1)
    bound = bounded(with_tables(Table("Строки", ("№", "Текст"), rows(400, wide))))
    [table] = bound.task.subject.tables
    assert 0 < len(table.rows) < 400
    assert sum(len(cell) for row in table.rows for cell in row) <= MAX_TEXT_CHARS
    assert bound.cuts == (TableCut("Строки", len(table.rows), 400),)


def test_a_long_value_is_shortened_with_an_ellipsis() -> None:
    long = "ы" * (MAX_VALUE_CHARS * 3)
    bound = bounded(
        with_tables(Table("Строки", ("Текст",), ((long,),)), fields=(Field("Описание", long),))
    )
    cell = bound.task.subject.tables[0].rows[0][0]
    value = bound.task.subject.fields[0].value
    assert len(cell) == len(value) == MAX_VALUE_CHARS
    assert cell.endswith("…") and value.endswith("…")
    assert bound.cuts == ()


def test_our_rendering_of_a_cut_document_says_so_and_1cs_print_form_does_not() -> None:
    task = with_tables(Table("Строки", ("№", "Текст"), rows(MAX_TABLE_ROWS + 1)))
    cache = MemoryDocuments()
    ours = document_of(task, cache=cache)
    again = document_of(task, cache=cache)
    form = document_of(task, onec=FakeOneC(print_form=PRINT_FORM), prefer_print_form=True)
    assert ours.cut and (ours.rows_shown, ours.rows_total) == (MAX_TABLE_ROWS, MAX_TABLE_ROWS + 1)
    assert again.cut  # from the cache, too
    assert not form.cut
    assert not document_of().cut


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "В PDF показаны первые 500 строк из 1200"), ("en", "first 500 of 1200 rows")],
)
def test_the_card_of_a_cut_pdf_says_so_under_its_fields(language: str, expected: str) -> None:
    document = Document("k", "f.pdf", DocumentSource.RENDERED, rows_shown=500, rows_total=1200)
    texts = Texts(language)
    lines = cards.document_lines(document, texts)
    assert expected in lines[-1]
    card = cards.fit(["<b>" + "Поле " * 400 + "</b>"], lines)
    assert expected in card  # the note stays however long the card
    whole = Document("k", "f.pdf", DocumentSource.RENDERED, rows_shown=3, rows_total=3)
    assert len(cards.document_lines(whole, texts)) == 1
