"""`python -m gateway demo` in a real browser: the approver's Telegram and the 1C side on one page,
two infobases (УХ and ERP) behind one bot, the page switching between them.

The demo runs as a person starts it (every process real, the worker being `python -m gateway run`;
the command forwards to the sandbox's launcher, `python -m sandbox demo`);
Chromium from Debian drives the page headless through Playwright. Screenshots go to
tests/artifacts/ (gitignored), whatever the outcome, so a failure can be looked at.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_SECONDS = 90.0
STOP_SECONDS = 30.0
UI_TIMEOUT_MS = 25_000  # a sync pass every 2 s, a PDF render, a poll of the page every 1 s
URL_LINE = re.compile(r"^\s+(http://127\.0\.0\.1:\d+/)\s*$")


class RunningDemo:
    """`python -m gateway demo` as a child process, its output collected for failure reports."""

    def __init__(self, tmp: Path, *options: str) -> None:
        self.prefix = f"tg1c-demo-test:{uuid.uuid4().hex[:8]}:"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "demo", "--redis-prefix", self.prefix, *options],
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._urls: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            found = URL_LINE.match(line)
            if found:
                self._urls.put(found.group(1))

    def url(self) -> str:
        """The one URL the demo prints, once everything is up."""
        try:
            return self._urls.get(timeout=START_SECONDS)
        except queue.Empty:
            self.stop()
            raise AssertionError("the demo printed no URL:\n" + self.output()) from None

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; answers the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError("the demo did not stop on SIGINT:\n" + self.output()) from None
        finally:
            self._reader.join(5)
            assert self.process.stdout is not None
            self.process.stdout.close()
        self._forget_keys()
        return code

    def _forget_keys(self) -> None:
        client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        try:
            keys = list(client.scan_iter(match=self.prefix + "*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running demo on free ports; answers the page's URL."""
    running = RunningDemo(
        tmp_path_factory.mktemp("demo"),
        *("--port", "0", "--telegram-port", "0", "--onec-port", "0", "--web-port", "0"),
        *("--erp-port", "0"),
    )
    url = running.url()
    yield url
    code = running.stop()
    assert code == 0, running.output()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not installed (make test installs it: system-deps.sh)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Browser, demo: str) -> Iterator[Page]:
    """The demo page, Морозов's chat open and connected (in УХ and ERP) by sharing his phone."""
    expect.set_options(timeout=UI_TIMEOUT_MS)
    context = browser.new_context(base_url=demo, viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(demo)
    expect(opened.get_by_test_id("chat-title")).to_contain_text("Морозов")
    opened.get_by_test_id("start").click()
    opened.get_by_test_id("reply-button").filter(has_text="Поделиться номером телефона").click()
    linked = opened.get_by_test_id("message").filter(has_text="Подключение установлено")
    expect(linked).to_contain_text("Морозов Дмитрий Олегович")  # his name in УХ
    expect(linked).to_contain_text("Морозов Д. О. (Уральская сталь)")  # and in ERP
    yield opened
    context.close()
    assert errors == [], errors


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Iterator[None]:
    """A screenshot of the page after each test, passed or failed."""
    yield
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{request.node.name}.png"
    # The note of the last action would cover the page's title; it fades by itself after 5 s.
    page.evaluate("document.getElementById('toast').hidden = true")
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")


def start_approval(page: Page, purpose: str, route: tuple[str, ...] = ("Морозов",)) -> Locator:
    """Start an approval from the 1C side; answers its card there (a locator)."""
    page.get_by_test_id("purpose").fill(purpose)
    for stage in (1, 2, 3):
        select = page.get_by_test_id(f"stage{stage}")
        if stage <= len(route):
            select.select_option(
                label=next(o for o in route_labels(select) if route[stage - 1] in o)
            )
        else:
            select.select_option(value="")
    page.get_by_test_id("start-approval").click()
    approval = page.get_by_test_id("approval").filter(has_text=purpose)
    expect(approval).to_have_count(1)
    return approval


def route_labels(select: Locator) -> list[str]:
    return [str(t) for t in select.locator("option").all_inner_texts()]


def task_card(page: Page, purpose: str) -> Locator:
    """The bot's card of the task whose document has `purpose`, once it arrived with buttons."""
    card = (
        page.get_by_test_id("message")
        .filter(has_text=purpose)
        .filter(has=page.get_by_test_id("inline-button"))
    )
    expect(card).to_have_count(1)
    return card


def purpose_of(test: str) -> str:
    return f"{test} {uuid.uuid4().hex[:6]}"


def approval_with_card(page: Page, subject: str) -> tuple[str, Locator, Locator]:
    """An approval of a purpose of its own started from the 1C side, once its card is in the
    chat: (the purpose, the approval on the 1C side, the card in the chat)."""
    purpose = purpose_of(subject)
    approval = start_approval(page, purpose)
    return purpose, approval, task_card(page, purpose)


def test_sharing_the_contact_connects_the_approver_and_delivers_his_tasks(
    page: Page, shot: None
) -> None:
    # «Задач на согласовании: N» with one base; a line per base with several.
    expect(page.get_by_test_id("messages")).to_contain_text(
        "задач на согласовании", ignore_case=True
    )
    expect(page.get_by_test_id("pdf-link").first).to_be_visible()


def test_an_approved_task_arrives_with_its_pdf_and_1c_shows_the_decision(
    page: Page, shot: None
) -> None:
    purpose, approval, card = approval_with_card(page, "Закупка серверов")
    href = card.get_by_test_id("pdf-link").get_attribute("href")
    assert href is not None, "the card links no PDF"
    pdf = page.request.get(href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    card.get_by_test_id("inline-button").filter(has_text="Согласовать").click()

    expect(approval.get_by_test_id("task-decision")).to_have_text("Согласовано")
    expect(approval.get_by_test_id("approval-state")).to_have_text("завершено")
    edited = page.get_by_test_id("message").filter(has_text=purpose).filter(has_text="Согласовано")
    expect(edited.get_by_test_id("inline-button")).to_have_count(0)


def test_a_return_asks_for_the_reason_and_1c_gets_it_as_the_comment(page: Page, shot: None) -> None:
    _, approval, card = approval_with_card(page, "Аренда склада")
    card.get_by_test_id("inline-button").filter(has_text="Вернуть инициатору").click()

    expect(page.get_by_test_id("force-reply")).to_be_visible()
    page.get_by_test_id("compose-text").fill("Приложите счёт поставщика")
    page.get_by_test_id("compose-send").click()

    returned = approval.get_by_test_id("task").filter(has_text="Возвращено инициатору")
    expect(returned.get_by_test_id("task-comment")).to_contain_text("Приложите счёт поставщика")
    expect(page.get_by_test_id("force-reply")).to_be_hidden()


def test_an_approval_cancelled_in_1c_reaches_the_chat(page: Page, shot: None) -> None:
    _, approval, _ = approval_with_card(page, "Командировка")

    approval.get_by_test_id("cancel-approval").click()

    expect(approval.get_by_test_id("approval-state")).to_have_text("отменено")
    expect(page.get_by_test_id("message").filter(has_text="Согласование отменено")).to_have_count(1)


def test_a_decision_made_while_1c_is_off_reaches_1c_once_it_is_on_again(
    page: Page, shot: None
) -> None:
    _, approval, card = approval_with_card(page, "Ремонт кровли")

    page.get_by_test_id("fault-toggle").click()
    expect(page.get_by_test_id("onec-status")).to_have_text("1С выключена: соединения обрываются")
    card.get_by_test_id("inline-button").filter(has_text="Согласовать").click()
    expect(page.get_by_test_id("toast")).to_be_visible()  # the bot's answer: it will be passed on
    page.get_by_test_id("fault-toggle").click()
    expect(page.get_by_test_id("onec-status")).to_have_text("1С работает")

    expect(approval.get_by_test_id("task-decision")).to_have_text("Согласовано")


def select_base(page: Page, title: str) -> None:
    page.get_by_test_id("base-tab").filter(has_text=title).click()
    expect(page.get_by_test_id("onec-title")).to_have_text(f"1С: {title}")


def test_the_page_switches_to_erp_where_a_decision_lands_while_uh_is_untouched(
    page: Page, shot: None
) -> None:
    purpose = purpose_of("Поставка окатышей")
    select_base(page, "ERP")
    expect(page.get_by_test_id("initiator")).to_have_text("Соколова И. П.")
    approval = start_approval(page, purpose)
    card = task_card(page, purpose)
    expect(card).to_contain_text("ERP")  # the card names its base

    card.get_by_test_id("inline-button").filter(has_text="Согласовать").click()

    expect(approval.get_by_test_id("task-decision")).to_have_text("Согласовано")
    edited = page.get_by_test_id("message").filter(has_text=purpose).filter(has_text="Согласовано")
    expect(edited.get_by_test_id("inline-button")).to_have_count(0)
    select_base(page, "УХ")
    expect(page.get_by_test_id("initiator")).to_have_text("Иванов И. П.")
    expect(page.get_by_test_id("approval").filter(has_text=purpose)).to_have_count(0)


def test_the_1c_side_starts_a_stage_for_a_role_and_creates_a_zadanie_it_can_stop(
    page: Page, shot: None
) -> None:
    # Last of the page's tests: what the gateway makes of role tasks and Задание is tested with
    # the gateway's flow; here the 1C side's buttons and what 1C then shows.
    purpose = purpose_of("Лизинг погрузчиков")
    approval = start_approval(page, purpose, route=("Финансовый контроль",))
    expect(approval.get_by_test_id("task-performer")).to_have_text(
        "роль «Финансовый контроль»: Петрова А. С., Морозов Д. О., Волков С. А."
    )

    title = purpose_of("Ознакомиться с регламентом")
    page.get_by_test_id("assignment-title").fill(title)
    performer = page.get_by_test_id("assignment-performer")
    performer.select_option(label=next(o for o in route_labels(performer) if "Петрова" in o))
    page.get_by_test_id("start-assignment").click()
    assignment = page.get_by_test_id("approval").filter(has_text=title)
    expect(assignment).to_contain_text("Задание")
    expect(assignment.get_by_test_id("task-performer")).to_have_text("Петрова А. С.")
    expect(assignment.get_by_test_id("cancel-approval")).to_have_count(0)

    assignment.get_by_test_id("stop-process").click()
    expect(assignment.get_by_test_id("approval-state")).to_have_text("отменено")
    expect(assignment.get_by_test_id("task-state")).to_have_text("отменена")


def test_ctrl_c_stops_every_process_of_the_single_base_demo(tmp_path: Path) -> None:
    ports = free_ports(4)
    options = ("--port", "--telegram-port", "--onec-port", "--web-port")
    pairs = [a for pair in zip(options, map(str, ports), strict=True) for a in pair]
    running = RunningDemo(tmp_path, "--single-base", *pairs)
    running.url()
    assert all(listening(port) for port in ports), running.output()

    assert running.stop() == 0, running.output()

    deadline = time.monotonic() + 5  # the kernel closes the listening sockets as processes exit
    while any(listening(port) for port in ports) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(listening(port) for port in ports), running.output()


def test_a_port_in_use_is_refused_naming_the_option_to_change(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        running = RunningDemo(tmp_path, "--onec-port", port)
        assert running.process.wait(STOP_SECONDS) == 2
        running.stop()
    assert f"port {port} (the 1C emulator) is in use" in running.output()
    assert "--onec-port N" in running.output()
