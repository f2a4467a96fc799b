"""Documents (upload, reuse by file_id, download, size limit) and flood control."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter

from sandbox.telegram.client import SandboxControlError
from sandbox.telegram.flood import FloodControl
from sandbox.telegram.harness import running

PDF = b"%PDF-1.4\n% sandbox test\n"


def test_an_uploaded_document_keeps_its_name_and_bytes(bot, user, control):
    sent = bot.send_document(
        user["id"],
        PDF,
        filename="Заявка №5.pdf",
        caption="<b>Заявка</b> на оплату",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]]),
    )
    document = sent.document
    assert (document.file_name, document.mime_type, document.file_size) == (
        "Заявка №5.pdf",
        "application/pdf",
        len(PDF),
    )
    assert (sent.caption, sent.caption_entities[0].type) == ("Заявка на оплату", "bold")
    assert control.file(document.file_id) == PDF
    assert control.last_message(user["id"])["document"]["file_id"] == document.file_id


def test_a_document_can_be_sent_again_by_file_id(bot, user):
    first = bot.send_document(user["id"], PDF, filename="a.pdf")
    again = bot.send_document(user["id"], first.document.file_id)
    assert again.document.file_unique_id == first.document.file_unique_id
    assert again.message_id == first.message_id + 1


def test_an_unknown_file_id_is_wrong(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier/http url specified"):
        bot.send_document(user["id"], "no-such-file-id")


def test_get_file_gives_a_path_to_download_from(bot, user):
    sent = bot.send_document(user["id"], PDF, filename="a.pdf")
    file = bot.get_file(sent.document.file_id)
    assert file.file_path.endswith(".pdf")
    assert bytes(bot.run(file.download_as_bytearray())) == PDF


def test_a_caption_longer_than_1024_is_too_long(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        bot.send_document(user["id"], PDF, filename="a.pdf", caption="я" * 1025)


def test_editing_a_caption_keeps_the_document(bot, user, control):
    sent = bot.send_document(user["id"], PDF, filename="a.pdf", caption="ждёт")
    edited = bot.edit_message_caption(
        chat_id=user["id"], message_id=sent.message_id, caption="<i>отменено</i>", parse_mode="HTML"
    )
    assert (edited.caption, edited.document.file_id) == ("отменено", sent.document.file_id)
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        bot.edit_message_text("x", chat_id=user["id"], message_id=sent.message_id)


def test_an_upload_over_the_limit_is_too_large():
    with running(max_upload_bytes=1000) as small:
        small.client.create_user(7)
        response = requests.post(
            f"{small.api_url}{small.token}/sendDocument",
            data={"chat_id": "7"},
            files={"document": ("big.pdf", b"x" * 5000, "application/pdf")},
            timeout=5,
        )
        assert response.status_code == 413
        assert response.json()["description"] == "Request Entity Too Large"


def test_an_empty_upload_is_refused(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)file must be non-empty"):
        bot.send_document(user["id"], b"", filename="empty.pdf")


def test_a_file_path_of_another_bot_is_not_found(bot, user, sandbox):
    sent = bot.send_document(user["id"], PDF, filename="a.pdf")
    path = requests.get(
        f"{sandbox.api_url}{sandbox.token}/getFile",
        params={"file_id": sent.document.file_id},
        timeout=5,
    ).json()["result"]["file_path"]
    assert path.startswith("documents/")
    assert requests.get(f"{sandbox.file_url}{sandbox.token}/{path}", timeout=5).content == PDF
    assert requests.get(f"{sandbox.file_url}1:other/{path}", timeout=5).status_code == 401
    assert requests.get(f"{sandbox.file_url}{sandbox.token}/nope", timeout=5).status_code == 404


@pytest.fixture
def timedelta_retry_after(monkeypatch):
    """PTB 22 warns when RetryAfter is built unless it is told to use timedelta already."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


def test_a_chat_over_its_rate_gets_retry_after(bot, user, control, timedelta_retry_after):
    control.set_flood(global_per_second=0, chat_per_second=1)
    for n in range(3):  # the burst
        bot.send_message(user["id"], str(n))
    with pytest.raises(RetryAfter) as refused:
        bot.send_message(user["id"], "one too many")
    retry_after = refused.value.retry_after
    assert isinstance(retry_after, timedelta) and retry_after.total_seconds() >= 1


def test_the_429_body_is_telegrams(sandbox, user, control):
    control.set_flood(global_per_second=0, chat_per_second=1)
    url = f"{sandbox.api_url}{sandbox.token}/sendMessage"
    answers = [
        requests.post(url, data={"chat_id": user["id"], "text": "x"}, timeout=5) for _ in "1234"
    ]
    assert answers[3].status_code == 429
    body = answers[3].json()
    assert body["ok"] is False and body["error_code"] == 429
    assert (
        body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"
    )


def test_other_chats_are_not_slowed_by_one_busy_chat(bot, user, control):
    control.create_user(2002)
    control.set_flood(global_per_second=0, chat_per_second=1)
    for n in range(3):
        bot.send_message(user["id"], str(n))
    assert bot.send_message(2002, "free").text == "free"


def test_the_global_limit_counts_every_chat(bot, control, timedelta_retry_after):
    for user_id in range(3001, 3006):
        control.create_user(user_id)
    control.set_flood(global_per_second=2, chat_per_second=0)
    with pytest.raises(RetryAfter):
        for user_id in range(3001, 3006):
            bot.send_message(user_id, "x")


def test_zero_turns_flood_control_off(bot, user, control):
    limits = control.set_flood(0, 0)
    assert limits == {"global_per_second": 0, "chat_per_second": 0, "mode": "bucket"}
    for n in range(20):
        bot.send_message(user["id"], str(n))


def test_the_command_line_defaults_are_realistic():
    from sandbox.telegram.config import SandboxConfig

    config = SandboxConfig()
    assert (config.global_per_second, config.chat_per_second) == (30.0, 1.0)


def test_a_token_bucket_refills_over_time():
    now = [0.0]
    flood = FloodControl(0, 1, chat_burst=2, clock=lambda: now[0])
    assert [flood.acquire(1), flood.acquire(1)] == [None, None]
    assert flood.acquire(1) == 1
    now[0] += 1.0
    assert flood.acquire(1) is None
    assert flood.acquire(1) == 1


def test_a_flood_refusal_does_not_spend_a_token():
    now = [0.0]
    flood = FloodControl(0, 0.5, chat_burst=1, clock=lambda: now[0])
    assert flood.acquire(1) is None
    assert flood.acquire(1) == 2
    now[0] += 2.0
    assert flood.acquire(1) is None


def test_an_oversized_upload_through_ptb_fails(user):
    """PTB has no special exception for 413; it surfaces as a NetworkError."""
    from tests.sandbox.telegram.conftest import SyncBot

    with running(max_upload_bytes=100) as small:
        small.client.create_user(user["id"])
        small_bot = SyncBot(small)
        try:
            with pytest.raises(NetworkError):
                small_bot.send_document(user["id"], b"x" * 500, filename="big.pdf")
        finally:
            small_bot.close()


def test_latency_holds_every_call_until_reset(bot, user, control):
    control.set_latency(0.3)
    started = time.monotonic()
    bot.send_message(user["id"], "далеко")
    assert time.monotonic() - started >= 0.3  # a lower bound: the sleep, not a speed
    assert control._call("GET", "/latency") == {"seconds": 0.3}
    control.reset()
    assert control._call("GET", "/latency") == {"seconds": 0.0}


@pytest.mark.parametrize("seconds", [-1, 11, "1", True])
def test_a_latency_out_of_range_is_refused(control, seconds):
    with pytest.raises(SandboxControlError, match="0 to 10"):
        control.set_latency(seconds)


def test_the_strict_mode_counts_any_sliding_window_not_a_bucket():
    now = [0.0]
    flood = FloodControl(3, 0, chat_burst=3, clock=lambda: now[0], mode="strict")
    assert flood.acquire(1) is None
    now[0] = 0.5
    assert [flood.acquire(1), flood.acquire(1)] == [None, None]
    now[0] = 0.9
    assert flood.acquire(1) == 1  # a bucket would have refilled 2.7 tokens by now
    now[0] = 1.0
    assert flood.acquire(1) is None  # the first of the three has left the window
    assert flood.acquire(1) == 1


def test_the_strict_mode_allows_one_message_per_chat_in_any_second():
    now = [0.0]
    flood = FloodControl(0, 1, chat_burst=3, clock=lambda: now[0], mode="strict")
    assert flood.acquire(7) is None
    now[0] = 0.99
    assert flood.acquire(7) == 1  # bucket mode lets 3 through at once
    assert flood.acquire(8) is None
    now[0] = 1.0
    assert flood.acquire(7) is None


def test_a_chat_rate_below_one_widens_the_strict_window():
    now = [0.0]
    flood = FloodControl(0, 0.5, chat_burst=1, clock=lambda: now[0], mode="strict")
    assert flood.acquire(1) is None
    now[0] = 1.5
    assert flood.acquire(1) == 1
    now[0] = 2.0
    assert flood.acquire(1) is None


def test_the_mode_is_set_through_the_control_api_and_kept_when_left_out(
    bot, user, control, timedelta_retry_after
):
    assert control.set_flood(0, 1, mode="strict")["mode"] == "strict"
    limits = control.set_flood(0, 1)
    assert limits == {"global_per_second": 0, "chat_per_second": 1, "mode": "strict"}
    bot.send_message(user["id"], "one")
    with pytest.raises(RetryAfter):
        bot.send_message(user["id"], "two")


def test_an_unknown_mode_is_refused(control):
    with pytest.raises(SandboxControlError) as refused:
        control.set_flood(30, 1, mode="leaky")
    assert refused.value.status == 400


def test_the_command_line_takes_the_way_of_counting():
    from sandbox.telegram.cli import parse_args

    assert parse_args([]).flood_mode == "bucket"
    assert parse_args(["--flood-mode", "strict"]).flood_mode == "strict"
