"""The demo page's Flask app: the page itself and a JSON API over the emulators' control APIs.

The browser never talks to the emulators directly: every call goes through this app, so the page
is one origin and works the same behind any port the demo picked. With several 1C emulators
(one per infobase) every 1C call names its base (`?base=erp`); without, the first base is meant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import requests
from flask import Flask, Response, jsonify, request, send_from_directory

from sandbox.demo.approvers import INITIATOR_SURNAME, INITIATORS_BY_SEED, Approver, seed
from sandbox.onec.client import OneCSandbox, SandboxError
from sandbox.telegram.client import SandboxControlError, TelegramSandbox

STATIC: Final = Path(__file__).parent / "static"
CALLBACK_ANSWER_WAIT: Final = 3.0  # seconds to wait for the bot's answer to a press
FAULT_MODES: Final = ("none", "down")
DOCUMENT_TYPES: Final = ("ЗаявкаНаРасходованиеДенежныхСредств", "ЭкземплярОтчета")
MAX_TEXT: Final = 4096


class DemoError(Exception):
    """A request the page cannot carry out; answered as `{"error"}` with `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def create_app(telegram_url: str, onec_url: str | Mapping[str, str]) -> Flask:
    """The demo app for emulators at these server roots (1C: one, or one per base name);
    seeds the approvers' Telegram users."""
    app = Flask(__name__, static_folder=None)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # read by people in the network tab
    onec_urls = {"": onec_url} if isinstance(onec_url, str) else dict(onec_url)
    infobases: dict[str, dict[str, Any]] = {}
    with TelegramSandbox(telegram_url) as telegram:
        onecs = {name: OneCSandbox(url) for name, url in onec_urls.items()}
        try:
            approvers = seed(telegram, onecs)
            for name, client in onecs.items():
                infobase = client.infobase()
                initiator = INITIATORS_BY_SEED.get(infobase["seed"], INITIATOR_SURNAME)
                infobases[name] = {
                    "name": name,
                    "title": infobase["title"],
                    "initiator": client.user(initiator),
                }
        finally:
            for client in onecs.values():
                client.close()
    by_id = {a.telegram_id: a for a in approvers}
    details = {name: DocumentDetails() for name in onec_urls}

    def chosen_base() -> str:
        """The base a request names (`?base=`), the first one when it names none."""
        name = request.args.get("base", next(iter(onec_urls)))
        if name not in onec_urls:
            raise DemoError(f"нет такой базы: {name}", 404)
        return name

    @contextmanager
    def clients() -> Iterator[tuple[TelegramSandbox, OneCSandbox]]:
        # One session per request: the server is threaded and requests.Session is not thread-safe.
        with (
            TelegramSandbox(telegram_url) as telegram,
            OneCSandbox(onec_urls[chosen_base()]) as onec,
        ):
            yield telegram, onec

    def approver(chat_id: int) -> Approver:
        if chat_id not in by_id:
            raise DemoError(f"нет такого согласующего: {chat_id}", 404)
        return by_id[chat_id]

    @app.errorhandler(DemoError)
    def demo_error(error: DemoError) -> tuple[Response, int]:
        return jsonify(error=str(error)), error.status

    @app.errorhandler(SandboxControlError)
    def telegram_error(error: SandboxControlError) -> tuple[Response, int]:
        return jsonify(error=f"Telegram: {error.error}"), 400

    @app.errorhandler(SandboxError)
    def onec_error(error: SandboxError) -> tuple[Response, int]:
        return jsonify(error=f"1С: {error}"), 400

    @app.errorhandler(requests.RequestException)
    def unreachable(error: requests.RequestException) -> tuple[Response, int]:
        return jsonify(error=f"эмулятор не отвечает: {error}"), 502

    @app.get("/")
    def index() -> Response:
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name: str) -> Response:
        return send_from_directory(STATIC, name)

    @app.get("/api/state")
    def state() -> Response:
        """Everything the page shows: the chats (the selected one in full), the bases (each
        one's title and whether it is off) and the selected base's 1C side."""
        selected = request.args.get("chat", type=int)
        base = chosen_base()
        with clients() as (telegram, onec):
            chats = []
            for a in approvers:
                messages = telegram.messages(a.telegram_id)
                chat: dict[str, Any] = {
                    **a.as_json(),
                    "bot_messages": sum(1 for m in messages if m["from"]["is_bot"]),
                }
                if a.telegram_id == selected:
                    chat["messages"] = messages
                    chat["keyboard"] = telegram.keyboard(a.telegram_id)
                chats.append(chat)
            approvals = onec.approvals()
            for approval in approvals:
                approval["document"]["fields"] = details[base].of(onec, approval)
            roles = [{"id": r["id"], "name": r["name"]} for r in onec.roles()]
            bases = [
                {
                    "name": name,
                    "title": infobases[name]["title"],
                    "fault": _fault(onec if name == base else None, url),
                }
                for name, url in onec_urls.items()
            ]
            return jsonify(
                chats=chats,
                bases=bases,
                onec={
                    "base": base,
                    "title": infobases[base]["title"],
                    "fault": next(b["fault"] for b in bases if b["name"] == base),
                    "initiator": infobases[base]["initiator"],
                    "approvals": approvals,
                    "roles": roles,
                },
            )

    @app.post("/api/chats/<int:chat_id>/send")
    def send(chat_id: int) -> Response:
        """The approver writes: a text, or a reply (to the bot's ForceReply prompt)."""
        body = _body()
        text = str(body.get("text", "")).strip()
        if not text or len(text) > MAX_TEXT:
            raise DemoError("введите текст сообщения (до 4096 символов)")
        reply_to = body.get("reply_to_message_id")
        if reply_to is not None and not isinstance(reply_to, int):
            raise DemoError("reply_to_message_id должен быть числом")
        with clients() as (telegram, _):
            update = telegram.send_text(
                approver(chat_id).telegram_id, text, reply_to_message_id=reply_to
            )
        return jsonify(update=update)

    @app.post("/api/chats/<int:chat_id>/keyboard")
    def press_reply_keyboard(chat_id: int) -> Response:
        """A button of the reply keyboard (e.g. «Поделиться номером телефона»)."""
        button = str(_body().get("button", ""))
        with clients() as (telegram, _):
            update = telegram.press(approver(chat_id).telegram_id, button)
        return jsonify(update=update)

    @app.post("/api/chats/<int:chat_id>/press")
    def press_inline(chat_id: int) -> Response:
        """An inline button; answers the bot's callback answer (an alert or a note) if it came."""
        body = _body()
        message_id = body.get("message_id")
        if not isinstance(message_id, int):
            raise DemoError("message_id должен быть числом")
        with clients() as (telegram, _):
            update = telegram.press(
                approver(chat_id).telegram_id, str(body.get("button", "")), message_id=message_id
            )
            query_id = update["callback_query"]["id"]
            deadline = time.monotonic() + CALLBACK_ANSWER_WAIT
            answer = telegram.callback_answer(query_id)
            while answer is None and time.monotonic() < deadline:
                time.sleep(0.1)  # the worker answers within its long-poll round trip
                answer = telegram.callback_answer(query_id)
        return jsonify(update=update, answer=answer)

    @app.get("/api/files/<file_id>")
    def file(file_id: str) -> Response:
        """A document the bot sent, shown inline (the browser's PDF viewer)."""
        # Not TelegramSandbox.file(): it drops the file's name and type, which the viewer needs.
        answer = requests.get(
            f"{telegram_url.rstrip('/')}/_sandbox/files/{quote(file_id, safe='')}", timeout=30
        )
        if answer.status_code != 200:
            raise DemoError("файл не найден", 404)
        name = answer.headers.get("X-File-Name", "document.pdf").encode("latin-1").decode()
        response = Response(answer.content, mimetype=answer.headers.get("Content-Type"))
        response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
        return response

    @app.post("/api/approvals")
    def start_approval() -> Response:
        """1C: a new document with an approval along the chosen route, initiated by the base's
        initiator (УХ: Иванов)."""
        body = _body()
        document_type = str(body.get("document_type", DOCUMENT_TYPES[0]))
        if document_type not in DOCUMENT_TYPES:
            raise DemoError("неизвестный вид документа")
        route = body.get("route")
        if not isinstance(route, list) or not route or not all(isinstance(r, str) for r in route):
            raise DemoError("выберите хотя бы одного согласующего")
        purpose = str(body.get("purpose", "")).strip() or "Оплата по договору"
        with clients() as (_, onec):
            initiator = infobases[chosen_base()]["initiator"]["id"]
            created = onec.create_approval(
                route=[_performer(item) for item in route],
                initiator=initiator,
                fields=_fields(document_type, body.get("amount"), purpose),
                document_type=document_type,
            )
        return jsonify(created)

    @app.post("/api/assignments")
    def start_assignment() -> Response:
        """1C: a БСП «Задание» (not an approval) for a person or a role, given by the base's
        initiator."""
        body = _body()
        title = str(body.get("title", "")).strip()
        if not title or len(title) > 200:
            raise DemoError("введите текст задания (до 200 символов)")
        performer = body.get("performer")
        if not isinstance(performer, str) or not performer:
            raise DemoError("выберите исполнителя задания")
        with clients() as (_, onec):
            author = infobases[chosen_base()]["initiator"]["id"]
            created = onec.create_assignment(title, _performer(performer), author=author)
        return jsonify(created)

    @app.post("/api/processes/<process_id>/stop")
    def stop(process_id: str) -> Response:
        """1C: the business process is stopped (its open tasks are no longer to be done)."""
        with clients() as (_, onec):
            return jsonify(stopped=onec.stop_process(process_id))

    @app.post("/api/approvals/<document_id>/cancel")
    def cancel(document_id: str) -> Response:
        with clients() as (_, onec):
            return jsonify(onec.cancel_approval(document_id))

    @app.post("/api/tasks/<task_id>/complete")
    def complete(task_id: str) -> Response:
        """1C: the performer executes the task in 1C itself (approves, with a comment)."""
        with clients() as (_, onec):
            return jsonify(onec.complete_task(task_id, comment="Согласовано в 1С"))

    @app.post("/api/faults")
    def fault() -> Response:
        """1C off (`down`: connections dropped) or on (`none`)."""
        mode = str(_body().get("mode", ""))
        if mode not in FAULT_MODES:
            raise DemoError("mode: none или down")
        with clients() as (_, onec):
            return jsonify(onec.set_fault(mode))

    return app


def _fault(onec: OneCSandbox | None, url: str) -> str:
    """A base's fault mode (`none`, `down`, ...), with its open client or a short-lived one."""
    if onec is None:
        with OneCSandbox(url) as other:
            return _fault(other, url)
    answer = onec.session.get(f"{onec.base_url}/_sandbox/faults", timeout=10).json()
    return str(answer.get("mode", "none"))


class DocumentDetails:
    """The card fields of each document under approval, read once (the demo never edits them).

    The control API's approval list names the document but not its fields; the page shows the
    amount and purpose so that one approval can be told from another.
    """

    SHOWN: Final = ("Сумма", "Назначение платежа", "Вид отчета", "Период", "Комментарий")

    def __init__(self) -> None:
        self._fields: dict[str, list[dict[str, str]]] = {}
        self._lock = threading.Lock()

    def of(self, onec: OneCSandbox, approval: dict[str, Any]) -> list[dict[str, str]]:
        """The shown fields of the approval's document: `[{"name", "value"}]`."""
        document_id = str(approval["document"]["id"])
        with self._lock:
            if document_id in self._fields:
                return self._fields[document_id]
        if not approval["tasks"]:
            return []
        subject = onec.task(approval["tasks"][0]["id"])["subject"]
        fields = [
            {"name": str(f["name"]), "value": str(f["value"])}
            for f in subject.get("fields", [])
            if f["name"] in self.SHOWN and f["value"] not in (None, "")
        ]
        with self._lock:
            self._fields[document_id] = fields
        return fields


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DemoError("ожидается JSON-объект")
    return body


def _performer(value: str) -> str | dict[str, str]:
    """A route item from the page: a 1C user id, or `role:<id>` for a performer role."""
    return {"role": value.removeprefix("role:")} if value.startswith("role:") else value


def _fields(document_type: str, amount: Any, purpose: str) -> dict[str, Any]:
    """The document's attributes for the emulator (references by description)."""
    if document_type == "ЭкземплярОтчета":
        return {
            "ВидОтчета": "Бюджет движения денежных средств",
            "Период": "Ноябрь 2026",
            "Комментарий": purpose,
        }
    try:
        value = Decimal(str(amount or "0").replace(" ", "").replace(",", "."))
    except InvalidOperation as exc:
        raise DemoError("сумма должна быть числом") from exc
    if not value.is_finite() or value <= 0 or value >= Decimal("1e13"):
        raise DemoError("сумма должна быть больше нуля")
    return {
        "СуммаДокумента": str(value.quantize(Decimal("0.01"))),
        "НазначениеПлатежа": purpose,
    }
