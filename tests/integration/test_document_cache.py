"""The DocumentCache port on a real Redis, and the document use case over it."""

from __future__ import annotations

import os

import pytest
import redis

from adapters.redis_store import RedisDocumentCache, connect_binary
from gateway.domain.documents import Document, DocumentSource
from gateway.domain.tasks import Field, Task
from gateway.errors import UpstreamUnavailable
from gateway.usecases.documents import document_for, remember_upload
from tests import factories
from tests.fakes import FakeOneC, FakeRenderer

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Bytes no text decoding survives: a PDF is binary.
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n\x00\xff\x80 binary\n%%EOF"


@pytest.fixture
def client() -> redis.Redis:
    return connect_binary(URL)


@pytest.fixture
def cache(client: redis.Redis, redis_prefix: str) -> RedisDocumentCache:
    return RedisDocumentCache(client, redis_prefix, ttl_seconds=3600, max_pdf_bytes=1024)


def make_task(task_id: str, amount: str = "1 250 000,00") -> Task:
    """A task of its own over the one document; another `amount` is another document."""
    fields = (Field("Номер", "0000-000042"), Field("Сумма", amount))
    return factories.make_task(task_id, f"{task_id}.doc", fields=fields)


def test_pdf_bytes_come_back_unchanged_with_the_ttl_set(
    cache: RedisDocumentCache, client: redis.Redis
) -> None:
    cache.put_pdf("k1", PDF)
    assert cache.get_pdf("k1") == PDF
    assert 3590 <= client.ttl(cache.pdf_key("k1")) <= 3600


def test_a_file_id_is_kept_apart_from_the_pdf_with_the_same_ttl(
    cache: RedisDocumentCache, client: redis.Redis, redis_prefix: str
) -> None:
    cache.put_file_id("k1", "BQACAgIAAxkBAAIBc2Zn")
    assert cache.get_file_id("k1") == "BQACAgIAAxkBAAIBc2Zn"
    assert cache.get_pdf("k1") is None
    assert cache.file_id_key("k1") == f"{redis_prefix}pdf-file-id:k1"
    assert 3590 <= client.ttl(cache.file_id_key("k1")) <= 3600


def test_unknown_keys_are_none(cache: RedisDocumentCache) -> None:
    assert cache.get_pdf("missing") is None
    assert cache.get_file_id("missing") is None


def test_a_pdf_over_the_size_cap_is_not_kept(cache: RedisDocumentCache) -> None:
    cache.put_pdf("big", b"0" * 1025)
    cache.put_pdf("fits", b"0" * 1024)
    assert cache.get_pdf("big") is None
    assert cache.get_pdf("fits") == b"0" * 1024


def test_keys_carry_the_prefix_and_say_what_they_hold(
    cache: RedisDocumentCache, client: redis.Redis, redis_prefix: str
) -> None:
    cache.put_pdf("Document_Заявка:d-42:abc:default.html:pdfkit", PDF)
    keys = [k.decode() for k in client.scan_iter(match=redis_prefix + "*")]
    assert keys == [f"{redis_prefix}pdf:Document_Заявка:d-42:abc:default.html:pdfkit"]


def test_the_second_approver_gets_the_cached_rendering_then_the_remembered_upload(
    cache: RedisDocumentCache,
) -> None:
    renderer = FakeRenderer(PDF)

    def fetch(task: Task) -> Document:
        return document_for(
            task, onec=FakeOneC(), renderer=renderer, cache=cache, prefer_print_form=True
        )

    first = fetch(make_task("t-1"))
    second = fetch(make_task("t-2"))
    assert renderer.renders == 1
    assert first.content == second.content == PDF
    assert first.source == second.source == DocumentSource.RENDERED

    remember_upload(first.key, "file-id-1", cache)
    third = fetch(make_task("t-3"))
    assert (third.file_id, third.content) == ("file-id-1", None)
    assert renderer.renders == 1

    changed = fetch(make_task("t-4", amount="2 000 000,00"))
    assert renderer.renders == 2
    assert changed.key != first.key


def test_an_unreachable_redis_is_upstream_unavailable(redis_prefix: str) -> None:
    # Port 9 (discard) has no Redis; the connection is refused at once.
    cache = RedisDocumentCache(connect_binary("redis://127.0.0.1:9/0"), redis_prefix)
    with pytest.raises(UpstreamUnavailable, match="Redis"):
        cache.get_pdf("k")
    with pytest.raises(UpstreamUnavailable, match="Redis"):
        cache.ping()
