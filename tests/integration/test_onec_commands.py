"""`onec tasks`, `onec discover` and `render-pdf`, run as a user would against the 1C emulator."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from adapters.onec.contract_json import task_from_dict
from adapters.onec.profile import BUILTIN_DIR, load_profile
from sandbox.onec.harness import RunningSandbox

Runner = Callable[..., subprocess.CompletedProcess[str]]

FIRST_TASK = "344808cb-9406-5646-8ba0-2465e52e6ffc"  # payment request 0000-000001, on Петрова
UNKNOWN_TASK = "6f1c1b9e-0000-4000-8000-000000000099"


def pending_ids(onec: RunningSandbox) -> set[str]:
    return {t["id"] for a in onec.client.approvals() for t in a["tasks"] if t["state"] == "pending"}


# --- onec tasks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("connector", ["odata", "http", "soap"])
def test_onec_tasks_json_prints_one_contract_task_per_line(
    runner: Runner, onec_env: dict[str, str], onec: RunningSandbox, connector: str
) -> None:
    result = runner("onec", "tasks", "--json", env={**onec_env, "ONEC_CONNECTOR": connector})
    assert result.returncode == 0, result.stderr
    tasks = [task_from_dict(json.loads(line)) for line in result.stdout.splitlines()]
    assert {t.id for t in tasks} == pending_ids(onec)
    assert "Петрова Анна Сергеевна" in result.stdout  # Cyrillic as is, not \u escapes


@pytest.mark.parametrize("connector", ["odata", "http", "soap"])
def test_onec_tasks_prints_a_table_with_stage_performer_document_and_due_date(
    runner: Runner, onec_env: dict[str, str], connector: str
) -> None:
    result = runner("onec", "tasks", env={**onec_env, "ONEC_CONNECTOR": connector})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["number", "stage", "performer", "document", "due"]
    first = next(line for line in lines if line.startswith("000000001 "))
    for words in ("1/3", "Петрова Анна Сергеевна", "0000-000001", "23.11.2026 18:00"):
        assert words in first
    assert lines[-1] == "5 pending tasks"


def test_onec_tasks_says_in_one_line_that_1c_is_unreachable(
    runner: Runner, env: dict[str, str]
) -> None:
    result = runner("onec", "tasks", env=env)  # ONEC_BASE_URL points where nothing listens
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: 1C is unavailable")
    assert "Traceback" not in result.stderr  # logged retries may come before it


def test_onec_tasks_with_wrong_credentials_is_a_configuration_error(
    runner: Runner, onec_env: dict[str, str]
) -> None:
    result = runner("onec", "tasks", env={**onec_env, "ONEC_PASSWORD": "не тот"})
    assert result.returncode == 2
    assert "HTTP 401" in result.stderr
    assert "Traceback" not in result.stderr


# --- onec discover ------------------------------------------------------------------------------


def test_onec_discover_lists_task_process_and_document_sets_with_their_fields(
    runner: Runner, onec_env: dict[str, str]
) -> None:
    result = runner("onec", "discover", env={**onec_env, "ONEC_CONNECTOR": "http"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    sets = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert sets[:2] == ["Task_ЗадачаИсполнителя", "BusinessProcess_Согласование"]
    assert "BusinessProcess_Задание" in sets
    assert "Document_ЗаявкаНаРасходованиеДенежныхСредств" in sets
    assert "Catalog_Пользователи" not in out
    assert re.search(r"\n  Исполнитель +composite \(Исполнитель \+ Исполнитель_Type\)\n", out)
    assert "Исполнитель_Type " not in out  # shown with its value, not as a field of its own
    assert re.search(r"\n  НомерЭтапа +Edm\.Double\n", out)
    assert "  table РасшифровкаПлатежа:" in out
    assert "  actions: ExecuteTask" in out


def test_onec_discover_names_the_login_page_when_1c_answers_one(
    runner: Runner, onec_env: dict[str, str], onec: RunningSandbox
) -> None:
    onec.client.set_fault("html_login")
    result = runner("onec", "discover", env=onec_env)
    assert result.returncode == 2
    assert "HTML page instead of $metadata" in result.stderr


def test_onec_discover_counts_pending_tasks_by_business_process(
    runner: Runner, onec_env: dict[str, str], onec: RunningSandbox
) -> None:
    onec.client.reset()
    result = runner("onec", "discover", env=onec_env)
    assert result.returncode == 0, result.stderr
    counts = result.stdout.split("pending tasks by business process", 1)[1].splitlines()[1:]
    assert [line.split() for line in counts] == [
        ["BusinessProcess_Согласование", str(len(pending_ids(onec)))],
        ["BusinessProcess_Задание", "0"],
    ]


def test_onec_discover_profile_prints_a_profile_for_the_documents_of_pending_tasks(
    runner: Runner, onec_env: dict[str, str], tmp_path: Path
) -> None:
    result = runner("onec", "discover", "--profile", env=onec_env)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "custom.toml"
    path.write_text(result.stdout, encoding="utf-8")
    profile = load_profile(str(path))
    payment = profile.documents["Document_ЗаявкаНаРасходованиеДенежныхСредств"]
    fields = {c.label: c for c in payment.fields}
    assert fields["Контрагент"].reference == "Catalog_Контрагенты"
    assert fields["Сумма документа"].format == "money"
    assert [t.label for t in payment.tables] == ["Расшифровка платежа"]
    assert "Document_ЭкземплярОтчета" in profile.documents


# --- render-pdf ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("connector", "origin"),
    [("odata", "rendered by pdfkit"), ("http", "1C print form"), ("soap", "1C print form")],
)
def test_render_pdf_writes_the_document_and_says_where_it_came_from(
    runner: Runner, onec_env: dict[str, str], tmp_path: Path, connector: str, origin: str
) -> None:
    output = tmp_path / "task.pdf"
    env = {**onec_env, "ONEC_CONNECTOR": connector}
    result = runner("render-pdf", FIRST_TASK, "-o", str(output), env=env)
    assert result.returncode == 0, result.stderr
    size = output.stat().st_size
    assert result.stdout.startswith(f"{output}: {origin}")
    assert result.stdout.rstrip().endswith(f", {size} bytes")
    text = "".join(page.extract_text() for page in PdfReader(output).pages)
    assert "0000-000001" in text


def test_render_pdf_of_an_unknown_task_says_so_and_exits_1(
    runner: Runner, onec_env: dict[str, str], tmp_path: Path
) -> None:
    output = tmp_path / "task.pdf"
    result = runner("render-pdf", UNKNOWN_TASK, "-o", str(output), env=onec_env)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: 1C has no task {UNKNOWN_TASK}"
    assert not output.exists()


def test_render_pdf_of_a_document_1c_withholds_says_why_and_makes_no_pdf(
    runner: Runner, onec_env: dict[str, str], onec: RunningSandbox, tmp_path: Path
) -> None:
    task = onec.client.task(FIRST_TASK)
    onec.client.set_read_denied(task["subject"]["id"], [onec.client.user("Петрова")["id"]])
    output = tmp_path / "task.pdf"
    env = {**onec_env, "ONEC_CONNECTOR": "http"}
    result = runner("render-pdf", FIRST_TASK, "-o", str(output), env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: 1C withholds the document: Документ недоступен")
    assert not output.exists()


def test_a_document_type_the_profile_gets_wrong_is_listed_and_rendered_in_full(
    runner: Runner, onec_env: dict[str, str], tmp_path: Path
) -> None:
    profile = (BUILTIN_DIR / "sandbox.toml").read_text(encoding="utf-8")
    head, payment = profile.split('[documents."Document_ЗаявкаНаРасходованиеДенежныхСредств"]')
    payment = payment.split('[documents."Document_ЭкземплярОтчета"]')[0]
    wrong = (
        payment.replace('"СуммаДокумента"', '"ИтогоКОплате"')
        .replace('"Организация", reference', '"ОрганизацияПолучатель", reference')
        .replace('"Контрагент", reference', '"Получатель", reference')
        .replace('"Валюта", reference', '"ВалютаПлатежа", reference')
        .replace('"НазначениеПлатежа"', '"ТекстНазначения"')
        .replace('"РасшифровкаПлатежа"', '"Платежи"')
    )
    path = tmp_path / "holding.toml"
    path.write_text(
        head + '[documents."Document_ЗаявкаНаРасходованиеДенежныхСредств"]' + wrong,
        encoding="utf-8",
    )
    env = {**onec_env, "ONEC_PROFILE": str(path)}
    listed = runner("onec", "tasks", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    first = next(
        task_from_dict(json.loads(line))
        for line in listed.stdout.splitlines()
        if json.loads(line)["id"] == FIRST_TASK
    )
    fields = {f.name: f.value for f in first.subject.fields}
    assert fields["Контрагент"] == "ООО «ТехноСервис»"
    assert fields["Сумма документа"] == "1 250 000,00"
    output = tmp_path / "task.pdf"
    rendered = runner("render-pdf", FIRST_TASK, "-o", str(output), env=env)
    assert rendered.returncode == 0, rendered.stderr
    text = " ".join("".join(page.extract_text() for page in PdfReader(output).pages).split())
    for words in ("ООО «ТехноСервис»", "1 250 000,00", "Расшифровка платежа", "625 000,00"):
        assert words in text


# --- check --------------------------------------------------------------------------------------


def test_check_warns_while_no_approval_process_is_set_and_names_missing_fields(
    runner: Runner, onec_env: dict[str, str], tmp_path: Path
) -> None:
    profile = (BUILTIN_DIR / "bsp.toml").read_text(encoding="utf-8")
    profile = profile.replace('name = "Description"', 'name = "Наименование"')
    path = tmp_path / "holding.toml"
    path.write_text(profile, encoding="utf-8")
    unset = {k: v for k, v in onec_env.items() if k != "ONEC_APPROVAL_PROCESSES"}
    result = runner("check", env={**unset, "ONEC_PROFILE": str(path)})
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("1c: warning:")]
    assert warnings[0].startswith("1c: warning: ONEC_APPROVAL_PROCESSES is empty")
    assert "1c: warning: 1C infobase has no Catalog_Пользователи.Наименование" in warnings
    ok = runner("check", env=onec_env)
    assert not [line for line in ok.stdout.splitlines() if "warning" in line]


def test_check_fails_on_a_users_group_1c_does_not_have(
    runner: Runner, onec_env: dict[str, str]
) -> None:
    result = runner("check", env={**onec_env, "ONEC_USERS_GROUP": "Согласующие в Telegram"})
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("1c: FAILED:")]
    assert len(failed) == 1
    assert failed[0].startswith("1c: FAILED: ONEC_USERS_GROUP:")
    assert "no users group 'Согласующие в Telegram'" in failed[0]
