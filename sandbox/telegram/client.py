"""A small client of the control API, for tests and the demo (acts as users, reads chats)."""

from __future__ import annotations

from typing import Any

from sandbox.control_client import ControlClient


class SandboxControlError(Exception):
    """The control API refused a request; `status` and `error` say why."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"{status}: {error}")
        self.status = status
        self.error = error


class TelegramSandbox(ControlClient):
    """The `/_sandbox/` routes of one emulator at `base_url` (e.g. `http://127.0.0.1:8081`)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(base_url, timeout)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A control route answering JSON."""
        answer = self._request(method, path, body)
        if not isinstance(answer, dict):
            raise SandboxControlError(500, f"{path} did not answer a JSON object")
        return answer

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/_sandbox{path}", json=body, timeout=self.timeout
        )
        with response:
            if response.status_code >= 400:
                try:
                    error = response.json().get("error", response.text)
                except ValueError:
                    error = response.text
                raise SandboxControlError(response.status_code, error)
            if response.headers.get("Content-Type", "").startswith("application/json"):
                return response.json()
            return response.content

    def create_user(
        self,
        user_id: int | None = None,
        first_name: str = "",
        last_name: str = "",
        username: str = "",
        phone: str = "",
        language_code: str = "",
    ) -> dict[str, Any]:
        """Create a user with a private chat (chat id = user id); answers the User object."""
        body = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "phone": phone,
            "language_code": language_code,
        }
        return self._call("POST", "/users", {k: v for k, v in body.items() if v})

    def send_text(
        self, user_id: int, text: str, reply_to_message_id: int | None = None
    ) -> dict[str, Any]:
        """The user sends text (optionally as a reply); answers the Update."""
        body: dict[str, Any] = {"text": text}
        if reply_to_message_id is not None:
            body["reply_to_message_id"] = reply_to_message_id
        return self._call("POST", f"/users/{user_id}/send", body)

    def start(self, user_id: int, payload: str = "") -> dict[str, Any]:
        """The user opens the bot with `/start <payload>` (a deep link); answers the Update."""
        return self._call("POST", f"/users/{user_id}/start", {"payload": payload})

    def share_contact(
        self,
        user_id: int,
        phone_number: str | None = None,
        first_name: str | None = None,
        contact_user_id: int | None = None,
    ) -> dict[str, Any]:
        """Share a contact: no arguments = the user's own; else one with the given fields only."""
        contact: dict[str, Any] = {}
        if phone_number is not None:
            contact["phone_number"] = phone_number
        if first_name is not None:
            contact["first_name"] = first_name
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._call("POST", f"/users/{user_id}/send", {"contact": contact})

    def press(
        self, user_id: int, button: str, message_id: int | None = None, data: str | None = None
    ) -> dict[str, Any]:
        """Press a button by its text: inline on `message_id`, else on the reply keyboard.

        `data` sends other callback data than the button's, as a modified client could.
        """
        body: dict[str, Any] = {"button": button}
        if message_id is not None:
            body["message_id"] = message_id
        if data is not None:
            body["data"] = data
        return self._call("POST", f"/users/{user_id}/press", body)

    def block(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot; answers the my_chat_member Update."""
        return self._call("POST", f"/users/{user_id}/block")

    def unblock(self, user_id: int) -> dict[str, Any]:
        """The user unblocks the bot; answers the my_chat_member Update."""
        return self._call("POST", f"/users/{user_id}/unblock")

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages in Bot API shape, oldest first, edits applied."""
        return list(self._call("GET", f"/chats/{chat_id}")["messages"])

    def last_message(self, chat_id: int) -> dict[str, Any]:
        """The newest message of a chat."""
        return self.messages(chat_id)[-1]

    def keyboard(self, chat_id: int) -> dict[str, Any]:
        """What the user's app shows besides messages: reply keyboard, force reply, last action."""
        return dict(self._call("GET", f"/chats/{chat_id}/keyboard"))

    def file(self, file_id: str) -> bytes:
        """The bytes the bot uploaded under `file_id`."""
        return bytes(self._request("GET", f"/files/{file_id}"))

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """The Bot API call log (optionally one method): method, params, status, error, time."""
        path = "/calls" if method is None else f"/calls?method={method}"
        return list(self._call("GET", path)["calls"])

    def callback_answers(self) -> list[dict[str, Any]]:
        """Every button press with the bot's answer (None while unanswered)."""
        return list(self._call("GET", "/callback_answers")["callback_answers"])

    def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        """The bot's answer to one press, or None."""
        for entry in self.callback_answers():
            if entry["callback_query_id"] == callback_query_id:
                answer: dict[str, Any] | None = entry["answer"]
                return answer
        raise SandboxControlError(404, f"callback query {callback_query_id} not found")

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        return list(self._call("GET", "/updates")["updates"])

    def set_flood(
        self, global_per_second: float, chat_per_second: float, mode: str | None = None
    ) -> dict[str, Any]:
        """Set flood limits (0 turns one off) and, if given, how they count ("bucket", "strict")."""
        body: dict[str, Any] = {
            "global_per_second": global_per_second,
            "chat_per_second": chat_per_second,
        }
        if mode is not None:
            body["mode"] = mode
        return dict(self._call("POST", "/flood", body))

    def set_latency(self, seconds: float) -> None:
        """Make every Bot API call wait `seconds` before it is handled (0: none)."""
        self._call("POST", "/latency", {"seconds": seconds})

    def reset(self) -> None:
        """Empty the emulator's state."""
        self._call("POST", "/reset", {})
