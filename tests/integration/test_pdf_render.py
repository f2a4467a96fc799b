"""Both PDF engines for real: content, long tables, hardening against hostile text and templates.

Each engine renders each document once per module (wkhtmltopdf ~0.3 s, WeasyPrint up to ~2 s for
200 rows); the tests read the text back with pdftotext, page by page.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import weasyprint

from adapters.pdf import HtmlPdfRenderer, WkhtmltopdfEngine, create_engine, create_renderer
from adapters.pdf.hardening import neutralise
from adapters.pdf.renderer import MAX_HTML_BYTES
from adapters.pdf.weasyprint_engine import MEMORY_LIMIT_BYTES as WEASYPRINT_MEMORY_LIMIT
from adapters.pdf.weasyprint_engine import WeasyPrintEngine, WeasyPrintProcess
from gateway.domain.documents import MAX_TABLE_ROWS
from gateway.domain.tasks import (
    Decision,
    Field,
    Importance,
    Person,
    Result,
    Stage,
    Table,
    Task,
    TaskState,
)
from gateway.errors import ConfigurationError, RenderFailed
from tests.factories import make_person, make_subject, make_task
from tests.fakes import MSK

ENGINES = ["pdfkit", "weasyprint"]
ROWS = 200
PASSWD_MARK = "root:x:0:0"


class Listener:
    """A TCP server on a free loopback port that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port: int = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(200) or b"(nothing sent)")
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/css\r\n\r\nbody{}")
                except OSError:
                    self.connections.append(b"(no request)")

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def corpus(port: int) -> list[str]:
    """Text a 1C user could type into any field, trying to make the engine fetch or run it."""
    return [
        "<script>document.write('XSS')</script>",
        '<iframe src="file:///etc/passwd"></iframe>',
        f'<img src="http://127.0.0.1:{port}/x">',
        f"<div style=\"background:url('http://127.0.0.1:{port}/css')\">",
        "{{ 7*7 }}",
    ]


def seeded_task(rows: int = ROWS) -> Task:
    """The payment request returned to its initiator, with `rows` rows in its one table."""
    return make_task(
        "6f1c1b9e-0000-4000-8000-000000000042",
        importance=Importance.HIGH,
        state=TaskState.COMPLETED,
        title="Согласовать заявку на расходование ДС 0000-000042",
        performer=make_person(),
        fields=(
            Field("Номер", "0000-000042"),
            Field("Дата", "27.11.2026"),
            Field("Организация", "ООО «Холдинг Северный ветер»"),
            Field("Контрагент", 'ООО "Ромашка"'),
            Field("Сумма", "1 250 000,00"),
            Field("Валюта", "RUB"),
            Field("Назначение платежа", "Оплата аренды офиса за декабрь"),
        ),
        tables=(
            Table(
                "Расшифровка платежа",
                ("№", "Статья ДДС", "Назначение", "Сумма"),
                tuple(
                    (str(n), "Оплата поставщикам", f"Строка-{n:03d} аренда", f"{n} 000,00")
                    for n in range(1, rows + 1)
                ),
            ),
        ),
        allowed_decisions=(),
        result=Result(
            Decision.RETURN_INITIATOR,
            "Приложите договор аренды",
            "p-1",
            datetime(2026, 11, 28, 9, 30, tzinfo=MSK),
        ),
    )


def hostile_task(port: int) -> Task:
    """Every text field of the task holds the whole injection corpus."""
    text = " ".join(corpus(port))
    return make_task(
        "t-hostile",
        "1",
        number=f"N {text}",
        due_at=None,
        title=f"Title {text}",
        performer=Person("p-1", f"Performer {text}"),
        initiator=Person("p-2", f"Initiator {text}"),
        stage=Stage(f"Stage {text}", 1, 2),
        subject=make_subject(
            "d-hostile",
            type=f"Document_{text}",
            presentation=f"Presentation {text}",
            # Name and value in separate rows: two wrapped cells side by side interleave their
            # lines in the extracted text, which would test pdftotext rather than the PDF.
            fields=(Field(f"Name {text}", ""), Field("", f"Value {text}")),
            tables=(Table(f"Table {text}", (f"Column {text}",), ((f"Cell {text}",),)),),
        ),
        result=Result(
            Decision.APPROVE, f"Comment {text}", "p-1", datetime(2026, 11, 28, tzinfo=MSK)
        ),
    )


HOSTILE_TEMPLATE = """{{% extends "layout.html" %}}
{{% block header %}}
<h1>Installation template</h1>
<img src="file:///etc/passwd"><iframe src="file:///etc/passwd"></iframe>
<img src="http://127.0.0.1:{port}/template-img">
<iframe src="http://127.0.0.1:{port}/template-iframe"></iframe>
<link rel="stylesheet" href="http://127.0.0.1:{port}/template-link">
<object data="http://127.0.0.1:{port}/template-object"></object>
<style>@import url(http://127.0.0.1:{port}/template-import);
h1 {{ background: url(http://127.0.0.1:{port}/template-bg) }}
h2 {{ background: \\75 rl(http://127.0.0.1:{port}/template-escaped) }}</style>
<div style="background-image: url('file:///etc/passwd')">styled</div>
<script>document.write('<img src="http://127.0.0.1:{port}/template-script">')</script>
<svg width="10" height="10"><style><img src="http://127.0.0.1:{port}/svg-style"></style></svg>
<math><style><img src="http://127.0.0.1:{port}/math-style"></style></math>
<math><mi><style><img src="http://127.0.0.1:{port}/math-mi-style"></style></mi></math>
<svg><foreignObject></svg></foreignObject><style><img src="http://127.0.0.1:{port}/fo"></style>
<style>p {{}} </style x><img src="http://127.0.0.1:{port}/style-end"></style>
<svg><![CDATA[</svg><img src="http://127.0.0.1:{port}/cdata">]]></svg>
<!-- a --!><img src="http://127.0.0.1:{port}/comment"> -->
<noscript><img src="http://127.0.0.1:{port}/noscript"></noscript>
<template><img src="http://127.0.0.1:{port}/template-tag"></template>
<xmp><img src="http://127.0.0.1:{port}/xmp"></xmp>
<iframe srcdoc="&lt;img src=http://127.0.0.1:{port}/srcdoc&gt;"></iframe>
<div style="background: url(http://127.0.0.1:{port}/unclosed">unclosed</div>
<style>@\69mport 'http://127.0.0.1:{port}/escaped-import';</style>
<svg width="10" height="10"><rect width="10" height="10" fill="url(http://127.0.0.1:{port}/fill#a)"/>
<image l:href="http://127.0.0.1:{port}/prefixed" width="10" height="10"/>
<animate attributeName="href" values="http://127.0.0.1:{port}/animate"/></svg>
{{{{ super() }}}}
{{% endblock %}}
"""

RAW_HOSTILE_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="http://127.0.0.1:{port}/raw-link">
<style>@import url(http://127.0.0.1:{port}/raw-import);
body {{ background: url(http://127.0.0.1:{port}/raw-bg) }}</style>
</head><body><p>Сырой HTML</p>
<img src="http://127.0.0.1:{port}/raw-img"><img src="http://localhost:{port}/raw-localhost">
<img src="https://127.0.0.1:{port}/raw-https"><img src="file:///etc/passwd">
<iframe src="file:///etc/passwd"></iframe><iframe src="http://127.0.0.1:{port}/raw-iframe"></iframe>
<object data="http://127.0.0.1:{port}/raw-object"></object>
<svg width="10" height="10">
<image href="http://127.0.0.1:{port}/raw-svg" width="10" height="10"/></svg>
<script>document.write('<img src="http://127.0.0.1:{port}/raw-script">')</script>
</body></html>"""


# Where Python's HTML parser and the engines' (WebKit, html5lib) disagree: each line is text or
# CSS to the first, markup that fetches to the second.
PARSER_DIFFERENTIALS = """<!DOCTYPE html><html><body><p>Differentials</p>
<svg><style><img src="http://127.0.0.1:{port}/svg-style"></style></svg>
<math><style><img src="http://127.0.0.1:{port}/math-style"></style></math>
<style>p {{}} </style x><img src="http://127.0.0.1:{port}/style-end"></style>
<div style="background: url(http://127.0.0.1:{port}/unclosed">unclosed</div>
<svg width="10" height="10"><rect width="10" height="10" fill="url(http://127.0.0.1:{port}/f#a)"/>
</svg></body></html>"""


def unguarded_render(engine: str, html: str, workdir: Path) -> None:
    """`html` through the engine with none of its own guards: JavaScript, network, files on."""
    if engine == "weasyprint":
        weasyprint.HTML(string=html).write_pdf()
        return
    source = workdir / "page.html"
    source.write_text(html, encoding="utf-8")
    subprocess.run(
        ["wkhtmltopdf", "--quiet", str(source), str(workdir / "page.pdf")],
        env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(workdir)},
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_the_neutraliser_alone_stops_fetches_the_parsers_disagree_on(
    engine: str, tmp_path: Path
) -> None:
    server = Listener()
    try:
        page = PARSER_DIFFERENTIALS.format(port=server.port)
        unguarded_render(engine, neutralise(page), tmp_path)
        assert server.connections == []
        # The same page as written does reach the listener: the corpus is live.
        unguarded_render(engine, page, tmp_path)
        assert server.connections
    finally:
        server.close()


def pages(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext, reading order)."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8").split("\f")[:-1]


def squeezed(text: str) -> str:
    """Text without whitespace: line and word wrapping differ between engines."""
    return re.sub(r"\s+", "", text)


@dataclasses.dataclass
class Rendered:
    engine: str
    renderer: HtmlPdfRenderer
    seeded: bytes
    hostile: bytes
    from_template: bytes
    raw: bytes


@pytest.fixture(scope="module", params=ENGINES)
def rendered(
    request: pytest.FixtureRequest, listener: Listener, tmp_path_factory: pytest.TempPathFactory
) -> Rendered:
    """Each document rendered once per engine, shared by every test of the module."""
    engine_name: str = request.param
    port = listener.port
    templates = tmp_path_factory.mktemp(f"templates-{engine_name}")
    (templates / "default.html").write_text(HOSTILE_TEMPLATE.format(port=port), encoding="utf-8")
    renderer = create_renderer(engine_name)
    return Rendered(
        engine=engine_name,
        renderer=renderer,
        seeded=renderer.render(seeded_task()),
        hostile=renderer.render(hostile_task(port)),
        from_template=create_renderer(engine_name, templates_dir=templates).render(
            seeded_task(rows=3)
        ),
        raw=create_engine(engine_name).to_pdf(RAW_HOSTILE_HTML.format(port=port)),
    )


# --- content ---------------------------------------------------------------------------------


def test_the_pdf_shows_number_date_organization_amount_and_people(rendered: Rendered) -> None:
    text = squeezed("".join(pages(rendered.seeded)))
    for expected in (
        "0000-000042",
        "27.11.2026",
        "ООО «Холдинг Северный ветер»",
        "1 250 000,00 RUB",
        "Петров Пётр Петрович",
        "2 из 3: Финансовый контролер",
        "30.11.2026 18:00",
        'ООО "Ромашка"',
        "Оплата аренды офиса за декабрь",
    ):
        assert squeezed(expected) in text


def test_every_row_of_a_long_table_is_in_the_pdf(rendered: Rendered) -> None:
    text = squeezed("".join(pages(rendered.seeded)))
    missing = [n for n in range(1, ROWS + 1) if f"Строка-{n:03d}аренда{n}000,00" not in text]
    assert missing == []


def test_a_long_table_runs_over_several_pages_with_its_header_on_each(rendered: Rendered) -> None:
    texts = pages(rendered.seeded)
    assert len(texts) > 3
    table_pages = [t for t in texts if "Строка-" in t]
    assert len(table_pages) > 1
    assert all("Статья ДДС" in t for t in table_pages)


def test_the_approval_history_is_shown_when_known(rendered: Rendered) -> None:
    text = squeezed("".join(pages(rendered.seeded)))
    assert "Историясогласования" in text
    assert "Возвращеноинициатору" in text
    assert "Приложитедоговораренды" in text
    assert "ИвановаМарияСергеевна" in text


def test_the_footer_says_when_and_by_what_it_was_generated(rendered: Rendered) -> None:
    last = pages(rendered.seeded)[-1]
    assert "Сформировано" in last
    assert ("wkhtmltopdf" if rendered.engine == "pdfkit" else "WeasyPrint") in last


def test_fonts_with_cyrillic_are_embedded(rendered: Rendered, tmp_path: Path) -> None:
    pdf = tmp_path / "seeded.pdf"  # a file: not every poppler's pdffonts reads stdin
    pdf.write_bytes(rendered.seeded)
    done = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True)
    fonts = [line.split() for line in done.stdout.decode().splitlines()[2:]]
    assert fonts
    assert all("DejaVu" in f[0] for f in fonts)
    assert all(f[-5] == "yes" for f in fonts)  # the "emb" column


def test_weasyprint_numbers_its_pages() -> None:
    pdf = create_renderer("weasyprint").render(seeded_task(rows=120))
    texts = pages(pdf)
    assert f"Стр. 1 из {len(texts)}" in texts[0]
    assert f"Стр. {len(texts)} из {len(texts)}" in texts[-1]


def test_labels_are_english_when_asked() -> None:
    renderer = create_renderer("pdfkit", language="en")
    text = squeezed("".join(pages(renderer.render(seeded_task(rows=2)))))
    assert "Initiator" in text and "2of3" in text and "Approvalhistory" in text
    assert "Инициатор" not in text


def test_the_pdf_leaves_the_tasks_own_number_to_the_card(rendered: Rendered) -> None:
    """Every approver of the document gets the same PDF, so it names no one task."""
    text = squeezed("".join(pages(rendered.seeded)))
    assert "000000123" not in text


# --- hardening -------------------------------------------------------------------------------


def test_injected_markup_appears_literally_in_every_field(
    rendered: Rendered, listener: Listener
) -> None:
    text = squeezed("".join(pages(rendered.hostile)))
    attacks = " ".join(corpus(listener.port))
    # The task's own number and title are on the card, not in the PDF (one rendering per
    # document, design 7); the presentation stands for the title.
    labels = ("Presentation", "Value", "Name", "Table", "Cell", "Column", "Stage")
    for label in (*labels, "Initiator", "Performer", "Comment"):
        assert squeezed(f"{label} {attacks}") in text, label
    assert "XSS" not in text.replace("document.write('XSS')", "")


def test_hostile_text_template_and_raw_html_fetch_nothing(
    rendered: Rendered, listener: Listener
) -> None:
    # The module's listener has seen every rendering of both engines by now.
    assert listener.connections == []


def test_no_local_file_content_gets_into_any_pdf(rendered: Rendered) -> None:
    for pdf in (rendered.hostile, rendered.from_template, rendered.raw):
        assert PASSWD_MARK not in "".join(pages(pdf))


def test_an_installation_template_is_used_but_cannot_run_scripts(rendered: Rendered) -> None:
    text = "".join(pages(rendered.from_template))
    assert "Installation template" in text
    assert "styled" in text
    assert "Строка-003" in text


def test_weasyprint_asks_its_fetcher_for_every_url_and_is_refused(listener: Listener) -> None:
    engine = create_engine("weasyprint")
    assert isinstance(engine, WeasyPrintEngine)
    engine.to_pdf(RAW_HOSTILE_HTML.format(port=listener.port))
    refused = engine.last_refused
    assert any("raw-img" in url for url in refused)
    assert any(url.startswith("file:") for url in refused)
    assert listener.connections == []


def test_the_engine_alone_still_renders_raw_html(rendered: Rendered) -> None:
    assert "Сырой HTML" in "".join(pages(rendered.raw))


# --- bounds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_table_past_the_row_bound_shows_its_first_rows_and_says_how_many_it_has(
    engine: str,
) -> None:
    total = MAX_TABLE_ROWS + 150
    text = squeezed("".join(pages(create_renderer(engine).render(seeded_task(rows=total)))))
    assert f"Строка-{MAX_TABLE_ROWS:03d}аренда" in text
    assert f"Строка-{MAX_TABLE_ROWS + 1:03d}" not in text
    assert squeezed(f"(строк: {total})") in text
    assert (
        squeezed(f"Показаны первые {MAX_TABLE_ROWS} строк из {total}. Весь документ — в 1С.")
        in text
    )


def test_the_cut_note_is_english_when_asked() -> None:
    renderer = create_renderer("pdfkit", language="en")
    text = squeezed("".join(pages(renderer.render(seeded_task(rows=MAX_TABLE_ROWS + 1)))))
    assert squeezed(f"The first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 1} rows are shown") in text


def test_a_table_within_the_bound_has_no_note(rendered: Rendered) -> None:
    assert "Показаны первые" not in "".join(pages(rendered.seeded))


def test_a_template_that_makes_a_page_past_the_size_bound_is_refused(tmp_path: Path) -> None:
    (tmp_path / "default.html").write_text(
        '{% extends "layout.html" %}{% block footer %}{% for i in range(1000) %}'
        "{% for j in range(1000) %}<p>xxxxx</p>{% endfor %}{% endfor %}{% endblock %}",
        encoding="utf-8",
    )
    renderer = create_renderer("pdfkit", templates_dir=tmp_path)
    with pytest.raises(RenderFailed, match=f"MB of HTML, over the {MAX_HTML_BYTES // 1024**2} MB"):
        renderer.render(seeded_task(rows=1))


# --- templates -------------------------------------------------------------------------------


def test_a_document_type_with_its_own_template_gets_it() -> None:
    renderer = create_renderer("pdfkit")
    report = dataclasses.replace(
        seeded_task(rows=1),
        subject=dataclasses.replace(seeded_task(rows=1).subject, type="Document_ЭкземплярОтчета"),
    )
    assert renderer.template_for(report).startswith("Document_ЭкземплярОтчета.html#")
    assert renderer.template_for(seeded_task(rows=1)).startswith("default.html#")
    html = renderer.render_html(report)
    assert html.index("Расшифровка платежа") < html.index("Реквизиты")


def test_a_subject_type_that_is_not_a_plain_name_gets_the_default_template() -> None:
    renderer = create_renderer("pdfkit")
    task = seeded_task(rows=1)
    sneaky = dataclasses.replace(task, subject=dataclasses.replace(task.subject, type="../layout"))
    assert renderer.template_for(sneaky).startswith("default.html#")


def test_the_template_key_changes_with_language_and_installation_templates(
    tmp_path: Path,
) -> None:
    task = seeded_task(rows=1)
    (tmp_path / "default.html").write_text('{% extends "layout.html" %}', encoding="utf-8")
    keys = {
        create_renderer("pdfkit").template_for(task),
        create_renderer("pdfkit", language="en").template_for(task),
        create_renderer("pdfkit", templates_dir=tmp_path).template_for(task),
    }
    assert len(keys) == 3


def test_a_broken_installation_template_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "default.html").write_text("{% block %}", encoding="utf-8")
    renderer = create_renderer("pdfkit", templates_dir=tmp_path)
    with pytest.raises(ConfigurationError, match=r"PDF template default\.html"):
        renderer.render_html(seeded_task(rows=1))


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "default.html").write_text(
        "{{ labels.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8"
    )
    renderer = create_renderer("pdfkit", templates_dir=tmp_path)
    with pytest.raises(ConfigurationError):
        renderer.render_html(seeded_task(rows=1))


# --- engines, errors, ping -------------------------------------------------------------------


def test_a_missing_wkhtmltopdf_says_what_to_install() -> None:
    engine = WkhtmltopdfEngine("wkhtmltopdf-not-installed")
    with pytest.raises(ConfigurationError, match="apt-get install wkhtmltopdf"):
        engine.to_pdf("<p>x</p>")


def test_a_failing_engine_is_render_failed(tmp_path: Path) -> None:
    broken = tmp_path / "wkhtmltopdf"
    broken.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n", encoding="utf-8")
    broken.chmod(0o755)
    with pytest.raises(RenderFailed, match="Segmentation fault"):
        WkhtmltopdfEngine(str(broken)).to_pdf("<p>x</p>")


def test_a_hanging_engine_is_stopped_by_the_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "wkhtmltopdf"
    slow.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    slow.chmod(0o755)
    with pytest.raises(RenderFailed, match="took over"):
        WkhtmltopdfEngine(str(slow), timeout_seconds=0.5).to_pdf("<p>x</p>")


def weasyprint_pids(engine: WeasyPrintEngine) -> list[int]:
    pids = []
    for process in engine._pool._idle:
        assert isinstance(process, WeasyPrintProcess)
        pids.append(process.pid)
    return pids


def test_weasyprint_renders_in_a_process_of_its_own_under_a_memory_limit() -> None:
    engine = WeasyPrintEngine()
    assert engine.to_pdf("<p>x</p>").startswith(b"%PDF-")
    [pid] = weasyprint_pids(engine)
    assert pid != os.getpid()
    limits = Path(f"/proc/{pid}/limits").read_text()
    line = next(x for x in limits.splitlines() if x.startswith("Max address space"))
    assert int(line.split()[3]) == WEASYPRINT_MEMORY_LIMIT
    environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert not [
        v for v in environment if v.startswith((b"TELEGRAM", b"ONEC", b"GATEWAY", b"REDIS"))
    ]
    engine.close()


def test_a_weasyprint_document_past_its_time_is_stopped_and_the_engine_goes_on() -> None:
    html = create_renderer("weasyprint").render_html(seeded_task(rows=1000)).encode()
    process = WeasyPrintProcess(WEASYPRINT_MEMORY_LIMIT)
    process.render(b"<p>warm</p>", 60)  # the process is up: the time below is the document's
    with pytest.raises(RenderFailed, match=r"took over 0\.05 s"):
        process.render(html, 0.05)
    assert not process.alive
    engine = WeasyPrintEngine()
    assert "Сырой" in "".join(pages(engine.to_pdf("<p>Сырой HTML</p>")))
    engine.close()


def test_a_weasyprint_document_past_the_memory_limit_fails_alone() -> None:
    # Raw HTML past the row bound: enough memory to start WeasyPrint, not for 5,000 rows.
    rows = "".join(f"<tr><td>{n}</td><td>Строка {n} аренда офиса</td></tr>" for n in range(5000))
    starved = WeasyPrintEngine(memory_limit_bytes=250 * 1024**2)
    # Python's MemoryError, or Pango's crash when its own allocation fails.
    with pytest.raises(RenderFailed, match="out of memory"):
        starved.to_pdf(f"<table>{rows}</table>")
    engine = WeasyPrintEngine()
    assert "Сырой" in "".join(pages(engine.to_pdf("<p>Сырой HTML</p>")))
    engine.close()


def test_an_unknown_engine_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="PDF_ENGINE"):
        create_engine("chrome")


@pytest.mark.parametrize("engine", ENGINES)
def test_ping_renders_a_sample_document(engine: str) -> None:
    create_renderer(engine).ping()


def test_ping_fails_when_the_engine_is_missing() -> None:
    renderer = HtmlPdfRenderer(WkhtmltopdfEngine("wkhtmltopdf-not-installed"))
    with pytest.raises(ConfigurationError, match="not found"):
        renderer.ping()
