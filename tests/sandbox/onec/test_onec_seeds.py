"""Two infobases from two emulators: the ERP seed has its own people, ids and tasks, one approver
shared with УХ by phone, and one task with the GUID of a УХ task."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.onec import harness
from sandbox.onec.cli import parse
from sandbox.onec.harness import RunningSandbox
from sandbox.onec.seed import SHARED_TASK_PURPOSE


def pending_tasks(onec: RunningSandbox) -> dict[str, dict[str, Any]]:
    """Pending task id → the task with its approval's document presentation."""
    return {
        task["id"]: {**task, "document": approval["document"]["presentation"]}
        for approval in onec.client.approvals()
        for task in approval["tasks"]
        if task["state"] == "pending"
    }


def test_each_emulator_says_which_infobase_it_serves(
    onec: RunningSandbox, erp: RunningSandbox
) -> None:
    assert onec.client.infobase() == {"seed": "uh", "title": "УХ", "base": "/uh"}
    assert erp.client.infobase() == {"seed": "erp", "title": "ERP", "base": "/erp"}


def test_a_title_of_ones_own_replaces_the_seeds() -> None:
    with harness.running(seed="erp", title="ERP Уральская сталь") as erp:
        assert erp.client.infobase()["title"] == "ERP Уральская сталь"


def test_the_shared_approver_has_the_same_phone_but_another_id_and_name(
    onec: RunningSandbox, erp: RunningSandbox
) -> None:
    uh_morozov, erp_morozov = onec.client.user("Морозов"), erp.client.user("Морозов")

    assert erp_morozov["phones"] == uh_morozov["phones"] == ["+79127008090"]
    assert erp_morozov["id"] != uh_morozov["id"]
    assert erp_morozov["name"] != uh_morozov["name"]
    uh_ids = {user["id"] for user in onec.client.users()}
    assert not uh_ids & {user["id"] for user in erp.client.users()}


def test_erp_documents_carry_its_prefix_and_only_one_task_id_is_shared(
    onec: RunningSandbox, erp: RunningSandbox
) -> None:
    uh_tasks, erp_tasks = pending_tasks(onec), pending_tasks(erp)

    assert all(" ЕР00-" in task["document"] for task in erp_tasks.values())
    shared = set(uh_tasks) & set(erp_tasks)
    assert len(shared) == 1
    (task_id,) = shared
    erp_morozov = erp.client.user("Морозов")["id"]
    assert erp_tasks[task_id]["performer"]["id"] == erp_morozov
    assert uh_tasks[task_id]["performer"]["id"] == onec.client.user("Морозов")["id"]
    uh_subject = onec.client.task(task_id)["subject"]
    assert {"name": "Назначение платежа", "value": SHARED_TASK_PURPOSE} in uh_subject["fields"]
    mine = [t for t in erp_tasks.values() if t["performer"]["id"] == erp_morozov]
    assert len(mine) == 3


def test_a_task_id_may_be_chosen_but_not_twice_in_one_infobase(
    onec: RunningSandbox, erp: RunningSandbox
) -> None:
    task_id = next(iter(pending_tasks(onec)))
    sokolova, nikitin = erp.client.user("Соколова")["id"], erp.client.user("Никитин")["id"]

    fresh = "7c0f6a52-4b1e-4d7e-9a51-1b2c3d4e5f60"
    created = erp.client.create_approval([nikitin], sokolova, task_id=fresh)
    assert created["task_id"] == fresh
    with pytest.raises(Exception, match="exists already"):
        erp.client.create_approval([nikitin], sokolova, task_id=fresh)
    assert erp.client.task(fresh)["performer"]["id"] == nikitin
    assert task_id in pending_tasks(onec)  # УХ is untouched


def test_assignments_with_the_same_title_get_ids_of_their_bases(
    onec: RunningSandbox, erp: RunningSandbox
) -> None:
    uh = onec.client.create_assignment("Проверить договор", onec.client.user("Волков")["id"])
    in_erp = erp.client.create_assignment("Проверить договор", erp.client.user("Никитин")["id"])

    assert uh["task_id"] != in_erp["task_id"]
    assert uh["process_id"] != in_erp["process_id"]


def test_bulk_approvals_in_erp_go_to_its_own_approver(erp: RunningSandbox) -> None:
    before = len(pending_tasks(erp))
    erp.client.bulk_seed(3)

    tasks = pending_tasks(erp)
    assert len(tasks) == before + 3
    erp_morozov = erp.client.user("Морозов")["id"]
    assert sum(1 for t in tasks.values() if t["performer"]["id"] == erp_morozov) == 3 + 3


def test_the_command_line_takes_a_seed_and_a_title() -> None:
    args = parse(["--seed", "erp", "--title", "ERP", "--base", "/erp"])
    assert (args.seed, args.title, args.base) == ("erp", "ERP", "/erp")
    assert parse([]).seed == "uh"
    with pytest.raises(SystemExit):
        parse(["--seed", "bp"])
