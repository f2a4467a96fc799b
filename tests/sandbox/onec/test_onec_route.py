"""One document walks the approval route through each interface: approve, return to previous,
return to initiator, resubmit, cancel; tasks, states and the event feed are checked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any, Protocol

import pytest
import requests
import zeep
from zeep.transports import Transport

TASKS = "Task_ЗадачаИсполнителя"
CODES = {
    "approve": "Согласовать",
    "return_previous": "ВернутьНаПредыдущийЭтап",
    "return_initiator": "ВернутьИнициатору",
}


class Interface(Protocol):
    def decide(self, task_id: str, decision: str, comment: str, user_id: str) -> None: ...
    def state(self, task_id: str) -> str: ...


class ODataInterface:
    """Decisions as the `sandbox` profile writes them: PATCH with If-Match, then ExecuteTask."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.root = base_url + "/odata/standard.odata"
        self.session = session

    def _url(self, task_id: str) -> str:
        return f"{self.root}/{TASKS}(guid'{task_id}')"

    def decide(self, task_id: str, decision: str, comment: str, user_id: str) -> None:
        task = self.session.get(self._url(task_id), params={"$format": "json"}, timeout=30).json()
        patch = self.session.patch(
            self._url(task_id),
            json={"РешениеСогласования": CODES[decision], "РезультатВыполнения": comment},
            headers={"If-Match": task["DataVersion"]},
            timeout=30,
        )
        assert patch.status_code == 200, patch.text
        assert self.session.post(self._url(task_id) + "/ExecuteTask", timeout=30).status_code == 200

    def state(self, task_id: str) -> str:
        task = self.session.get(self._url(task_id), params={"$format": "json"}, timeout=30).json()
        process = self.session.get(
            f"{self.root}/BusinessProcess_Согласование(guid'{task['BusinessProcess']}')",
            params={"$format": "json"},
            timeout=30,
        ).json()
        if task["Executed"]:
            return "completed"
        stopped = process["Состояние"] == "Остановлен" or process["DeletionMark"]
        return "cancelled" if task["DeletionMark"] or stopped else "pending"


class HttpInterface:
    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.root = base_url + "/hs/approvals/v1"
        self.session = session
        self.presses = 0

    def decide(self, task_id: str, decision: str, comment: str, user_id: str) -> None:
        self.presses += 1
        body = {
            "decision": decision,
            "comment": comment,
            "user_id": user_id,
            "idempotency_key": f"p{self.presses}",
        }
        answer = self.session.post(f"{self.root}/tasks/{task_id}/decision", json=body, timeout=30)
        assert answer.status_code == 200, answer.text

    def state(self, task_id: str) -> str:
        state: str = self.session.get(f"{self.root}/tasks/{task_id}", timeout=30).json()["state"]
        return state


class SoapInterface:
    def __init__(self, base_url: str, session: requests.Session) -> None:
        client = zeep.Client(f"{base_url}/ws/approvals?wsdl", transport=Transport(session=session))
        self.service = client.service
        self.presses = 0

    def decide(self, task_id: str, decision: str, comment: str, user_id: str) -> None:
        self.presses += 1
        self.service.SubmitDecision(
            task_id=task_id,
            decision=decision,
            comment=comment,
            user_id=user_id,
            idempotency_key=f"s{self.presses}",
        )

    def state(self, task_id: str) -> str:
        return str(self.service.GetTask(id=task_id).state)


@pytest.fixture(params=["odata", "http", "soap"])
def interface(request: pytest.FixtureRequest, onec: Any) -> Iterator[Interface]:
    session = onec.session()
    kinds: dict[str, Callable[[str, requests.Session], Interface]] = {
        "odata": ODataInterface,
        "http": HttpInterface,
        "soap": SoapInterface,
    }
    yield kinds[request.param](onec.base_url, session)
    session.close()


def test_a_document_walks_the_route_through_each_interface(
    onec: Any, interface: Interface, users: Any
) -> None:
    petrova, morozov, volkov, ivanov = (
        users[n]["id"] for n in ("Петрова", "Морозов", "Волков", "Иванов")
    )
    with onec.session() as session:
        feed_root = onec.base_url + "/hs/approvals/v1/events"
        cursor = session.get(feed_root, params={"limit": 1000}, timeout=30).json()["cursor"]
        started = onec.client.create_approval(
            [petrova, morozov, volkov],
            ivanov,
            {"СуммаДокумента": 777000, "НазначениеПлатежа": "Маршрут"},
        )

        def current() -> dict[str, Any]:
            approval: dict[str, Any] = onec.client.approvals(started["document_id"])[0]
            return approval

        def newest() -> dict[str, Any]:
            task: dict[str, Any] = current()["tasks"][-1]
            return task

        steps = [
            ("approve", petrova, (morozov, 2)),
            ("return_previous", morozov, (petrova, 1)),
            ("return_initiator", petrova, (ivanov, 0)),
            ("approve", ivanov, (petrova, 1)),
        ]
        decided = []
        for decision, performer, (next_performer, next_stage) in steps:
            task = newest()
            assert (task["performer"]["id"], task["state"]) == (performer, "pending")
            interface.decide(task["id"], decision, f"Комментарий: {decision}", performer)
            assert interface.state(task["id"]) == "completed"
            decided.append(task["id"])
            following = newest()
            assert (following["performer"]["id"], following["stage"]) == (
                next_performer,
                next_stage,
            )
            assert current()["stage"]["number"] == next_stage
        assert [t["decision"] for t in current()["tasks"][:4]] == [s[0] for s in steps]

        last = newest()
        onec.client.cancel_approval(started["document_id"])
        assert interface.state(last["id"]) == "cancelled"
        assert current()["state"] == "stopped"

        events = session.get(feed_root, params={"after": cursor, "limit": 1000}, timeout=30).json()[
            "events"
        ]
    task_ids = [*decided, last["id"]]
    expected = [("created", task_ids[0])]
    for done, following in pairwise(task_ids):
        expected += [("updated", done)] if isinstance(interface, ODataInterface) else []
        expected += [("completed", done), ("created", following)]
    expected.append(("cancelled", last["id"]))
    assert [(e["type"], e["task_id"]) for e in events] == expected
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
