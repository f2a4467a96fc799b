"""Getting the document an approver reads: 1C's print form or our rendering, made once and
reused through the DocumentCache (the values themselves are in `gateway.domain.documents`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Final, TypeVar

from gateway.domain.documents import (
    PRINT_FORM_ENGINE,
    PRINT_FORM_TEMPLATE,
    TELEGRAM_DOCUMENT_LIMIT_BYTES,
    Document,
    DocumentSource,
    bounded,
    document_filename,
    rendition_key,
)
from gateway.domain.tasks import Task
from gateway.errors import UpstreamUnavailable
from gateway.ports.documents import DocumentCache, PdfRenderer
from gateway.ports.onec import TaskSource

log = logging.getLogger(__name__)

_T = TypeVar("_T")

_NOTES: Final = {
    "ru": "Документ не отправлен: {size} МБ больше предела Telegram в {limit} МБ.",
    "en": "The document was not sent: {size} MB is over Telegram's {limit} MB limit.",
}


def document_for(
    task: Task,
    *,
    onec: TaskSource,
    renderer: PdfRenderer,
    cache: DocumentCache,
    prefer_print_form: bool,
    language: str = "ru",
) -> Document:
    """The task's PDF for one approver, from the cache when any approver had it before.

    With `prefer_print_form` (the `http` and `soap` connectors) 1C's own print form wins when
    1C has one; otherwise, or when 1C answers None, the renderer makes ours. A cache that is
    down costs a rendering, never the delivery. Ours carries the rows it shows when `bounded`
    cut the tables, for the card's note.
    """
    document = _document_for(task, onec, renderer, cache, prefer_print_form, language)
    return _with_cut(document, task)


def _document_for(
    task: Task,
    onec: TaskSource,
    renderer: PdfRenderer,
    cache: DocumentCache,
    prefer_print_form: bool,
    language: str,
) -> Document:
    filename = document_filename(task)
    rendered_key = rendition_key(task, renderer.template_for(task), renderer.engine)
    if prefer_print_form:
        form_key = rendition_key(task, PRINT_FORM_TEMPLATE, PRINT_FORM_ENGINE)
        cached = _from_cache(form_key, filename, DocumentSource.PRINT_FORM, cache, language)
        if cached is not None:
            return cached
        # A cached rendering of this very version means 1C had no print form for it before.
        cached = _from_cache(rendered_key, filename, DocumentSource.RENDERED, cache, language)
        if cached is not None:
            return cached
        content = onec.print_form(task)
        if content is not None:
            _store(cache, form_key, content)
            return _fresh(form_key, filename, DocumentSource.PRINT_FORM, content, language)
    else:
        cached = _from_cache(rendered_key, filename, DocumentSource.RENDERED, cache, language)
        if cached is not None:
            return cached
    content = renderer.render(task)
    _store(cache, rendered_key, content)
    return _fresh(rendered_key, filename, DocumentSource.RENDERED, content, language)


def remember_upload(key: str, file_id: str, cache: DocumentCache) -> None:
    """Remember the Telegram file id of a document's first upload, for every later approver."""
    _tolerant(lambda: cache.put_file_id(key, file_id), None, "remember the file id of", key)


def _from_cache(
    key: str, filename: str, source: DocumentSource, cache: DocumentCache, language: str
) -> Document | None:
    file_id = _tolerant(lambda: cache.get_file_id(key), None, "read the file id of", key)
    if file_id is not None:
        return Document(key, filename, source, file_id=file_id)
    content = _tolerant(lambda: cache.get_pdf(key), None, "read", key)
    if content is not None:
        return _fresh(key, filename, source, content, language)
    return None


def _with_cut(document: Document, task: Task) -> Document:
    """Our rendering of `task` says on the card how much of its tables it shows."""
    if document.source is not DocumentSource.RENDERED:
        return document
    bound = bounded(task)
    if not bound.cuts:
        return document
    return replace(document, rows_shown=bound.rows_shown, rows_total=bound.rows_total)


def _store(cache: DocumentCache, key: str, content: bytes) -> None:
    _tolerant(lambda: cache.put_pdf(key, content), None, "store", key)


def _fresh(
    key: str, filename: str, source: DocumentSource, content: bytes, language: str
) -> Document:
    size = len(content)
    if size <= TELEGRAM_DOCUMENT_LIMIT_BYTES:
        return Document(key, filename, source, size=size, content=content)
    note = _NOTES.get(language, _NOTES["ru"]).format(
        size=f"{size / 1024 / 1024:.1f}", limit=TELEGRAM_DOCUMENT_LIMIT_BYTES // 1024 // 1024
    )
    return Document(key, filename, source, size=size, too_large=True, note=note)


def _tolerant(action: Callable[[], _T], fallback: _T, what: str, key: str) -> _T:
    # The cache only saves work: with Redis down the approver still gets the document.
    try:
        return action()
    except UpstreamUnavailable as exc:
        log.warning("document cache: could not %s %s: %s", what, key, exc)
        return fallback
