"""`onec tasks`, `onec discover` and `render-pdf`: 1C as the gateway sees it, for integrators."""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from adapters.onec import ODataConnector, OneCSession
from adapters.onec.contract_json import task_to_dict
from adapters.onec.discovery import PendingTypes, pending_types, starting_profile
from adapters.onec.metadata import EntitySet, Property, read_metadata
from adapters.onec.profile import load_profile
from gateway.bootstrap import BaseGateway
from gateway.domain.documents import Document, DocumentSource
from gateway.domain.tasks import Task
from gateway.entrypoints.subcommands import (
    EXIT_OK,
    Command,
    add_base_option,
    built,
    chosen_base,
    refuse,
)
from gateway.errors import ConfigurationError, GatewayError, NotFound, UpstreamUnavailable
from gateway.ports.documents import PdfRenderer
from gateway.ports.onec import OneC
from gateway.settings import OneCBaseSettings, Settings
from gateway.usecases.documents import document_for

DISCOVER_PREFIXES: Final = ("Task_", "BusinessProcess_", "Document_")
MAX_PRESENTATION: Final = 70


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `onec tasks`, `onec discover` and `render-pdf` to the CLI's subparsers."""
    onec = commands.add_parser("onec", help="1C as the connector sees it")
    onec_commands = onec.add_subparsers(dest="onec_command", required=True, metavar="subcommand")

    tasks = onec_commands.add_parser("tasks", help="list pending approval tasks")
    tasks.add_argument(
        "--json", action="store_true", help="one JSON object per line (contract v1 Task)"
    )
    add_base_option(tasks)
    tasks.set_defaults(handler=cmd_onec_tasks)

    discover = onec_commands.add_parser(
        "discover", help="list task, business process and document sets from $metadata"
    )
    discover.add_argument(
        "--profile",
        action="store_true",
        help="print a starting TOML profile for the document types of pending tasks",
    )
    add_base_option(discover)
    discover.set_defaults(handler=cmd_onec_discover)

    render = commands.add_parser("render-pdf", help="write a task's PDF as an approver gets it")
    render.add_argument("task_id", metavar="TASK_ID")
    render.add_argument("-o", "--output", required=True, type=Path, metavar="FILE")
    add_base_option(render)
    render.set_defaults(handler=cmd_render_pdf)


def _one_line_errors(command: Command) -> Command:
    """A GatewayError becomes one line on stderr and exit 1; bad set-up goes on to cli (exit 2)."""

    @functools.wraps(command)
    def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return command(settings, args)
        except ConfigurationError:
            raise
        except GatewayError as exc:
            return refuse(f"error: {exc}")

    return run


# --- check ----------------------------------------------------------------------------------------


def onec_findings(base: OneCBaseSettings, onec: OneC) -> tuple[list[str], list[str]]:
    """What `check` says about a base's 1C beyond its answering: (warnings, failures), one line
    each, naming the base's own variables.

    Warnings: no approval process set (odata), profile names the infobase lacks. Failures: a
    users group named in the settings that 1C does not have.
    """
    warnings: list[str] = []
    failures: list[str] = []
    connector = getattr(onec, "inner", onec)  # under the metrics wrapper
    if isinstance(connector, ODataConnector):
        processes = base.variable("ONEC_APPROVAL_PROCESSES")
        if not connector.approval_processes:
            warnings.append(
                f"{processes} is empty: no task is an approval, so approvers get no "
                "decision buttons (`python -m gateway onec discover` lists the business processes)"
            )
        for process in sorted(connector.approval_processes):
            if not connector.schema.has_set(process):
                warnings.append(f"{processes}: 1C infobase has no {process}")
        warnings += connector.schema_problems()
    for setting, name in (
        (base.variable("ONEC_USERS_GROUP"), base.users_group),
        (base.variable("ONEC_ADMINS_GROUP"), base.admins_group),
    ):
        if not name:
            continue
        try:
            onec.group_members(name)
        except NotFound as exc:
            failures.append(f"{setting}: {exc}")
        except GatewayError as exc:
            failures.append(f"{setting}: could not read the group: {exc}")
    return warnings, failures


# --- onec tasks ---------------------------------------------------------------------------------


@_one_line_errors
def cmd_onec_tasks(settings: Settings, args: argparse.Namespace) -> int:
    """Pending tasks as JSON lines (design 5.4) or as a table."""
    base = chosen_base(settings, args)
    with built(settings) as gateway:
        tasks = list(gateway.bases[base.name].onec.pending_tasks())
    if args.json:
        for task in tasks:
            print(json.dumps(task_to_dict(task), ensure_ascii=False))
    else:
        print_table(tasks)
    return EXIT_OK


def print_table(tasks: Sequence[Task]) -> None:
    """Number, stage N/M, performer, document and due date, one task a line."""
    rows = [("number", "stage", "performer", "document", "due")]
    for task in tasks:
        presentation = task.subject.presentation
        if len(presentation) > MAX_PRESENTATION:
            presentation = presentation[: MAX_PRESENTATION - 1] + "…"
        rows.append(
            (
                task.number,
                f"{task.stage.number}/{task.stage.count}",
                task.addressee,
                presentation,
                task.due_at.strftime("%d.%m.%Y %H:%M") if task.due_at else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(f"{len(tasks)} pending task{'' if len(tasks) == 1 else 's'}")


# --- onec discover ------------------------------------------------------------------------------


@_one_line_errors
def cmd_onec_discover(settings: Settings, args: argparse.Namespace) -> int:
    """Sets a profile is written against, from OData `$metadata`, whatever ONEC_CONNECTOR says."""
    # $metadata is read over OData even when the gateway uses the http or soap connector, so
    # this needs the session (the same auth and timeouts), not the configured connector.
    base = chosen_base(settings, args)
    session = OneCSession(
        username=base.username,
        password=base.password.reveal(),
        timeout=base.timeout,
    )
    try:
        sets = read_metadata(session, base.base_url)
        profile = load_profile(base.profile)
        pending = pending_types(session, base.base_url, profile)
    finally:
        session.close()
    if args.profile:
        print(starting_profile(sets, [name for name, _ in pending.documents.most_common()]))
        return EXIT_OK
    shown = [s for prefix in DISCOVER_PREFIXES for s in sets if s.name.startswith(prefix)]
    for entity_set in shown:
        print_entity_set(entity_set)
    print(
        f"{len(shown)} of {len(sets)} entity sets shown; composite fields come as X and X_Type, "
        "references as X_Key (GUID)"
    )
    print_process_counts(sets, pending)
    return EXIT_OK


def print_process_counts(sets: Sequence[EntitySet], pending: PendingTypes) -> None:
    """Each business process type with its pending tasks: what ONEC_APPROVAL_PROCESSES lists."""
    row_sets = {f"{s.name}_{t.name}" for s in sets for t in s.tables}  # tabular sections
    processes = [
        s.name for s in sets if s.name.startswith("BusinessProcess_") and s.name not in row_sets
    ]
    processes += [name for name in pending.processes if name and name not in processes]
    print()
    print("pending tasks by business process (ONEC_APPROVAL_PROCESSES takes these names):")
    width = max((len(name) for name in processes), default=0)
    for name in sorted(processes, key=lambda n: (-pending.processes[n], n)):
        print(f"  {name.ljust(width)}  {pending.processes[name]}")
    if pending.processes[""]:
        print(f"  {'(no business process)'.ljust(width)}  {pending.processes['']}")


def print_entity_set(entity_set: EntitySet) -> None:
    """The set's name, then a line per property, table and its columns, and its actions."""
    print(entity_set.name)
    width = max((len(p.name) for p in entity_set.properties), default=0)
    for prop in entity_set.properties:
        print(f"  {prop.name.ljust(width)}  {describe(prop)}")
    for table in entity_set.tables:
        print(f"  table {table.name}:")
        columns = [c for c in table.columns if c.name != "Ref_Key"]
        column_width = max((len(c.name) for c in columns), default=0)
        for column in columns:
            print(f"    {column.name.ljust(column_width)}  {describe(column)}")
    if entity_set.actions:
        print(f"  actions: {', '.join(entity_set.actions)}")
    print()


def describe(prop: Property) -> str:
    """The property's type, marking the key, composite fields and single-type references."""
    if prop.composite:
        return f"composite ({prop.name} + {prop.name}_Type)"
    if prop.name == "Ref_Key":
        return f"{prop.type} key"
    if prop.is_reference:
        return f"{prop.type} reference"
    return prop.type


# --- render-pdf ---------------------------------------------------------------------------------


@_one_line_errors
def cmd_render_pdf(settings: Settings, args: argparse.Namespace) -> int:
    """Read the task, make its PDF as document_for does for an approver, write it to FILE."""
    name = chosen_base(settings, args).name
    with built(settings) as gateway:
        base = gateway.bases[name]
        try:
            task = base.onec.get_task(args.task_id)
        except NotFound:
            return refuse(f"error: 1C has no task {args.task_id}")
        if task.subject.denied is not None:
            # The approvers may not read it in 1C: the gateway makes no PDF of it for anyone.
            return refuse(f"error: 1C withholds the document: {task.subject.denied}")
        document = document_for(
            task,
            onec=base.onec,
            renderer=gateway.renderer,
            cache=base.documents,
            prefer_print_form=base.prefers_print_form,
            language=settings.gateway_language,
        )
        content = _content(base, gateway.renderer, task, document)
        origin = (
            "1C print form"
            if document.source is DocumentSource.PRINT_FORM
            else f"rendered by {gateway.renderer.engine} ({gateway.renderer.template_for(task)})"
        )
    output: Path = args.output
    try:
        output.write_bytes(content)
    except OSError as exc:
        return refuse(f"error: cannot write {output}: {exc.strerror or exc}")
    print(f"{output}: {origin}, {len(content)} bytes")
    return EXIT_OK


def _content(base: BaseGateway, renderer: PdfRenderer, task: Task, document: Document) -> bytes:
    """The PDF bytes, also for a document known only by its Telegram file id or too large."""
    if document.content is not None:
        return document.content
    try:
        cached = base.documents.get_pdf(document.key)
    except UpstreamUnavailable:
        cached = None  # the cache only saves work
    if cached is not None:
        return cached
    if document.source is DocumentSource.PRINT_FORM:
        form = base.onec.print_form(task)
        if form is not None:
            return form
    return renderer.render(task)
