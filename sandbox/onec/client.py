"""A Python client of the emulator's control API (`/_sandbox/`), on requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.control_client import ControlClient


class SandboxError(RuntimeError):
    """The control API refused a call."""


class OneCSandbox(ControlClient):
    """Drives a running 1C emulator: its server root is `base_url` (not the publication root)."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        super().__init__(base_url, timeout)

    def infobase(self) -> dict[str, Any]:
        """Which infobase the emulator serves: `{"seed", "title", "base"}`."""
        return self._call("GET", "/infobase")

    def users(self) -> list[dict[str, Any]]:
        """The seeded users: id, name, login, phones, invalid, deletion_mark."""
        users: list[dict[str, Any]] = self._call("GET", "/users")["users"]
        return users

    def user(self, name_or_login: str) -> dict[str, Any]:
        """One user by full name, surname or login."""
        for user in self.users():
            if name_or_login in (user["name"], user["login"], user["name"].split()[0]):
                return user
        raise SandboxError(f"no user {name_or_login!r}")

    def create_user(
        self, name: str, phones: list[str], login: str | None = None, invalid: bool = False
    ) -> str:
        """A new 1C user; answers its id."""
        body = {"name": name, "phones": phones, "login": login, "invalid": invalid}
        return str(self._call("POST", "/users", body)["id"])

    def edit_user(self, user_id: str, **changes: Any) -> dict[str, Any]:
        """Change a user card (`phones`, `invalid`, `name`), as a 1C administrator would."""
        return self._call("PATCH", f"/users/{user_id}", changes)

    def create_approval(
        self,
        route: Sequence[str | dict[str, str]],
        initiator: str,
        fields: dict[str, Any] | None = None,
        document_type: str = "ЗаявкаНаРасходованиеДенежныхСредств",
        **options: Any,
    ) -> dict[str, Any]:
        """Start an approval (route: user ids or `{"role": id}`); answers the new ids."""
        body = {
            "document_type": document_type,
            "fields": fields or {},
            "route": route,
            "initiator": initiator,
            **options,
        }
        return self._call("POST", "/approvals", body)

    def approvals(self, document_id: str | None = None) -> list[dict[str, Any]]:
        """Approvals (of one document, if given) with route, stage, state and tasks."""
        path = f"/approvals/{document_id}" if document_id else "/approvals"
        approvals: list[dict[str, Any]] = self._call("GET", path)["approvals"]
        return approvals

    def cancel_approval(self, document_id: str) -> dict[str, Any]:
        """Cancel the document's running approval."""
        return self._call("POST", f"/approvals/{document_id}/cancel")

    def task(self, task_id: str) -> dict[str, Any]:
        """A task in the contract's shape."""
        return self._call("GET", f"/tasks/{task_id}")

    def complete_task(
        self, task_id: str, decision: str = "approve", comment: str = "Выполнено в 1С"
    ) -> dict[str, Any]:
        """Complete a task "in 1C"; answers `{"task", "next_task_id"}`."""
        return self._call(
            "POST", f"/tasks/{task_id}/complete", {"decision": decision, "comment": comment}
        )

    def create_document(
        self,
        fields: dict[str, Any],
        document_type: str = "ЗаявкаНаРасходованиеДенежныхСредств",
        author: str | None = None,
    ) -> dict[str, Any]:
        """A document without an approval; answers `{"document_id", "version"}`."""
        return self._call(
            "POST",
            "/documents",
            {"document_type": document_type, "fields": fields, "author": author},
        )

    def edit_document(self, document_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A new version of a document; answers `{"document_id", "version"}`."""
        return self._call("PATCH", f"/documents/{document_id}", {"fields": fields})

    def create_role(self, name: str, performers: list[dict[str, Any]]) -> str:
        """A performer role with register records `{"user", "organization"}`; answers its id."""
        return str(self._call("POST", "/roles", {"name": name, "performers": performers})["id"])

    def set_role_performers(self, role_id: str, performers: list[dict[str, Any]]) -> list[str]:
        """Replace the role's register records; answers the tasks whose candidates changed."""
        answer = self._call("PUT", f"/roles/{role_id}/performers", {"performers": performers})
        return [str(task) for task in answer["updated_tasks"]]

    def roles(self) -> list[dict[str, Any]]:
        """Roles with their register records."""
        roles: list[dict[str, Any]] = self._call("GET", "/roles")["roles"]
        return roles

    def role(self, name: str) -> str:
        """A role's id by name."""
        for role in self.roles():
            if role["name"] == name:
                return str(role["id"])
        raise SandboxError(f"no role {name!r}")

    def create_assignment(
        self,
        title: str,
        performer: str | dict[str, str],
        document_id: str | None = None,
        author: str | None = None,
    ) -> dict[str, Any]:
        """A БСП `Задание` for a user id or `{"role": id}`; answers `{"task_id", "process_id"}`."""
        body = dict(title=title, performer=performer, document_id=document_id, author=author)
        return self._call("POST", "/assignments", body)

    def stop_process(self, process_id: str) -> list[str]:
        """Stop a business process as БСП does; answers the ids of its tasks that were pending."""
        return [
            str(t) for t in self._call("POST", f"/processes/{process_id}/stop")["stopped_tasks"]
        ]

    def create_user_group(self, name: str, members: list[str]) -> str:
        """A users group (`Catalog_ГруппыПользователей`); answers its id."""
        return str(self._call("POST", "/user-groups", {"name": name, "members": members})["id"])

    def set_group_members(self, group_id: str, members: list[str]) -> dict[str, Any]:
        """Replace a users group's members."""
        return self._call("PUT", f"/user-groups/{group_id}/members", {"members": members})

    def user_groups(self) -> list[dict[str, Any]]:
        """Users groups with their members' ids."""
        groups: list[dict[str, Any]] = self._call("GET", "/user-groups")["groups"]
        return groups

    def set_refusal(self, document_id: str, message: str | None) -> dict[str, Any]:
        """Executing the document's tasks fails with `message` as 1C's text (None: allow)."""
        return self._call("PUT", f"/documents/{document_id}/refusal", {"message": message})

    def set_card(
        self, set_name: str, fields: list[str] | None, tables: list[str] | None = None
    ) -> dict[str, Any]:
        """The extension's card settings for a document type (None fields: every field)."""
        body = {"fields": fields, "tables": tables or []}
        return self._call("PUT", f"/extension/cards/{set_name}", body)

    def set_read_denied(self, document_id: str, users: list[str]) -> dict[str, Any]:
        """Users who may not read the document in 1C (empty: everyone may)."""
        return self._call("PUT", f"/documents/{document_id}/access", {"denied": users})

    def lock_task(self, task_id: str, locked: bool = True) -> dict[str, Any]:
        """A 1C user holds the task: decisions on it answer 503 until it is released."""
        return self._call("PUT", f"/tasks/{task_id}/lock", {"locked": locked})

    def audit(self) -> list[dict[str, Any]]:
        """The extension's register of decisions from Telegram, oldest first."""
        decisions: list[dict[str, Any]] = self._call("GET", "/audit")["decisions"]
        return decisions

    def set_fault(
        self, mode: str, seconds: float | None = None, duration: float | None = None
    ) -> dict[str, Any]:
        """Inject a fault (see the README for `seconds` and `duration`)."""
        return self._call(
            "POST", "/faults", {"mode": mode, "seconds": seconds, "duration": duration}
        )

    def clear_fault(self) -> dict[str, Any]:
        """Back to normal."""
        return self.set_fault("none")

    def requests_log(self) -> list[dict[str, Any]]:
        """The request log of the 1C routes, oldest first."""
        entries: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return entries

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._call("DELETE", "/requests")

    def reset(self, bulk: int = 0) -> dict[str, Any]:
        """Reseed (plus `bulk` extra one-stage approvals); clears faults and the log."""
        return self._call("POST", "/reset", {"bulk": bulk} if bulk else {})

    def bulk_seed(
        self, count: int, performer: str | None = None, role: str | None = None
    ) -> dict[str, Any]:
        """Add `count` one-stage approvals pending on `performer` (or addressed to `role`)."""
        return self._call("POST", "/bulk", {"count": count, "performer": performer, "role": role})

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = self.session.request(
            method, f"{self.base_url}/_sandbox{path}", json=body, timeout=self.timeout
        )
        if answer.status_code >= 400:
            raise SandboxError(f"{method} {path}: HTTP {answer.status_code}: {answer.text}")
        data: dict[str, Any] = answer.json()
        return data
