"""Connector for 1C's standard OData interface (`ONEC_CONNECTOR=odata`), driven by a profile.

Nothing is installed in 1C. A sync pass lists pending tasks with only `Ref_Key` and `DataVersion`
(paged with `$top`/`$skip` over a stable `$orderby`, in large pages), then reads details only of
tasks whose version changed, in batches; documents are re-read only when their own `DataVersion`
changed. Who may decide a task follows БСП (design 5.5): its `Исполнитель`, else every performer
the register `ИсполнителиЗадач` names for the task's group, read in one request a pass. A stopped
process shows on the task itself (`СостояниеБизнесПроцесса`); processes are read for that only on
infobases without the field. Tasks of processes not listed as approvals are `TaskKind.TASK`, never
executed from here. Names of referenced catalog items (performers, roles, a document's
references) are read for a whole pass at once, one batched request per catalog, then every task
is mapped without a request.

A decision re-reads the task and its document first (one read each) and writes nothing unless
both are at the versions the approver's card showed; its PATCH carries that task version in
`If-Match`. On a role task the same PATCH makes the approver the task's `Исполнитель` (so 1C
shows who decided). It marks 1C's result text with a key derived from the approver's press, so a
retried decision is recognised as already applied and never executed twice. An exception in 1C's
code on the writes is a refusal, final, unless 1C's text says lock conflict or timeout.

Profile names the infobase lacks are left out of every `$select` (see `odata_schema`). The
parts: `odata_transport` (HTTP), `odata_cache` (what is kept between passes), `odata_mapping`
(rows to tasks, pure); this module orchestrates them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Final

from adapters.onec import odata_values as v
from adapters.onec.metadata import read_metadata
from adapters.onec.odata_cache import Directory, MappedTasks, Names, Register, Users, VersionedRows
from adapters.onec.odata_documents import NOT_DOCUMENTS, DocumentViews
from adapters.onec.odata_errors import refusal_or_transient
from adapters.onec.odata_mapping import (
    Known,
    TaskMapper,
    Wanted,
    performers_by_group,
    user_of,
    want,
)
from adapters.onec.odata_schema import Schema
from adapters.onec.odata_transport import BATCH, KEY, ODataTransport
from adapters.onec.odata_values import Row
from adapters.onec.profile import Profile
from adapters.onec.session import UPSTREAM, OneCSession
from adapters.onec.user_groups import read_group_members
from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import OneCUser, Task
from gateway.errors import (
    AccessDenied,
    AlreadyCompleted,
    GatewayError,
    InvalidRequest,
    NotPerformer,
    RequestRejected,
    StaleDecision,
    UpstreamApplicationError,
    VersionConflict,
)

REGISTER_PAGE: Final = 5000
USERS_PAGE: Final = 500
ALREADY_EXECUTED: Final = "уже была выполнена"
VERSION: Final = "DataVersion"
NAME: Final = "Description"


def marker(idempotency_key: str) -> str:
    """The tag a decision leaves in 1C's result text, so a retry can tell it was applied."""
    return f"[tg1c {hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]}]"


class ODataConnector:
    """The OneC port over standard OData."""

    name = "odata"
    prefers_print_form = False

    def __init__(
        self,
        session: OneCSession,
        base_url: str,
        profile: Profile,
        *,
        approval_processes: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._base_url = base_url
        self._http = ODataTransport(session, base_url)
        self.profile = profile
        self.approval_processes = frozenset(approval_processes) or frozenset(
            profile.approval_processes
        )
        self.schema = Schema(lambda: read_metadata(session, base_url), clock)
        self._f = profile.task_fields
        self._a = profile.addressing
        self._mapper = TaskMapper(profile, self.approval_processes)
        self._documents = DocumentViews(profile, self.schema)
        self._tasks = VersionedRows()  # task id → (version, raw row)
        self._related = VersionedRows()  # document/process id → (version, row)
        self._names = Names()  # (entity set, GUID) → Description
        self._register = Register()  # group → performers
        self._mapped = MappedTasks()  # task id → (inputs, task)
        self._directory = Directory(profile.users_refresh_seconds, clock)
        self._passes = 0

    # --- the port: reading ---------------------------------------------------------------------

    def ping(self) -> None:
        """One cheap authenticated read of the task set."""
        self._http.rows(self.profile.task_set, {"$top": 1, "$select": self._f["id"]})

    def pending_tasks(self) -> list[Task]:
        """Every pending task; only what changed since the last pass is read in detail."""
        f = self._f
        listing = self._http.paged(
            self.profile.task_set,
            {
                "$filter": self.profile.pending_filter,
                "$select": ",".join((f["id"], f["version"])),
                "$orderby": self.profile.order_by,
            },
            self.profile.page_size,
        )
        versions = {str(row[f["id"]]): str(row.get(f["version"], "")) for row in listing}
        changed = self._tasks.stale(versions)
        for row in self._http.by_keys(self.profile.task_set, changed, self._task_select()):
            self._tasks.store(str(row[f["id"]]), str(row.get(f["version"], "")), row)
        self._tasks.keep_only(versions)
        self._mapped.keep_only(versions)
        known_rows = self._tasks.view()
        rows = [known_rows[tid].value for tid in versions if tid in known_rows]
        # Documents of unchanged tasks are re-checked only every few passes: OData cannot say
        # which documents changed, and asking for all of them each pass costs a request per 40.
        self._passes += 1
        every = self.profile.document_recheck_passes
        recheck_all = every <= 1 or self._passes % every == 1
        self._refresh_related(rows, documents_of=None if recheck_all else set(changed))
        self._refresh_register(rows)
        return [task for task in self._map_pass(rows) if task.is_pending]

    def get_task(self, task_id: str) -> Task:
        """One task in any state, read fresh from 1C."""
        return self._read_task(task_id)[1]

    def group_members(self, name: str) -> frozenset[str]:
        """1C user ids of the users group `name` (its `Состав`), in one request."""
        return read_group_members(self._session, self._base_url, name, self._a)

    def schema_problems(self) -> list[str]:
        """Profile names (fields, tables, sets) the infobase lacks, one line each, for `check`."""
        self.schema.keep(self.profile.task_set, self._task_select_names())
        self.schema.keep(self.profile.users_set, self._user_select_names())
        for entity_set in self.profile.documents:
            if self.schema.has_set(entity_set):
                self.schema.keep(
                    entity_set, self._documents.select_names(self.profile.documents[entity_set])
                )
        if not self.schema.has_set(self._a.register):
            self.schema.note_missing(self._a.register)
        return [f"1C infobase has no {what}" for what in self.schema.missing]

    def find_users_by_phone(self, phone: str) -> list[OneCUser]:
        """Valid users with this phone, from a directory of all users refreshed periodically.

        `Catalog_Пользователи` has no phone index, so the directory is read whole; a miss
        re-reads it at most once a minute, so a phone added in 1C works without a restart.
        """
        return self._directory.find(phone, self._read_directory)

    def print_form(self, task: Task) -> bytes | None:
        """Standard OData has no print forms: the gateway renders its own."""
        return None

    # --- the port: writing ---------------------------------------------------------------------

    def submit_decision(self, request: DecisionRequest) -> Task:
        """Re-read, check, then apply the profile's operations once (see module docstring).

        Raises StaleDecision, writing nothing, when the task or its document is not at the
        version the approver's card showed (design 6.12), and Refused when 1C's own code
        refuses to execute it (design 6.13).
        """
        spec = self.profile.decisions.get(request.decision)
        if spec is None:
            raise InvalidRequest(
                UPSTREAM,
                "invalid",
                f"profile {self.profile.name} does not define {request.decision}",
            )
        tag = marker(request.idempotency_key)
        row, task = self._read_task(request.task_id)
        ours = tag in str(row.get(self._f["result"], ""))  # an earlier attempt of this press
        if not task.is_pending:
            if ours:
                return task  # our own earlier attempt went through
            raise AlreadyCompleted(UPSTREAM, f"the task is {task.state.value} in 1C", task)
        if not task.is_approval:
            raise InvalidRequest(
                UPSTREAM,
                "not_approval",
                f"the task belongs to {self._process_type(row) or 'no business process'}, "
                "which is not an approval process (ONEC_APPROVAL_PROCESSES): it is never "
                "executed from Telegram",
            )
        if not task.may_decide(request.user_id):
            raise NotPerformer(UPSTREAM, "not_performer", "the user is not the task's performer")
        # An earlier attempt of this press that wrote its PATCH but failed before the action
        # changed the task's version itself: then only the document is compared.
        _check_shown(request, task, compare_task=not ours)
        try:
            # The PATCH goes under `If-Match` with the task version just compared equal to the
            # card's: a change after this read is refused by 1C with 412.
            self._apply(request, spec.label, tag, row, claim=task.performer is None)
        except VersionConflict as exc:
            raise StaleDecision(
                UPSTREAM, f"the task changed since it was read: {exc.message}", self._fresh(task)
            ) from exc
        except UpstreamApplicationError as exc:
            if ALREADY_EXECUTED in exc.message:
                return self.get_task(request.task_id)
            raise refusal_or_transient(exc) from exc
        return self.get_task(request.task_id)

    def _fresh(self, known: Task) -> Task:
        """The task read again, or `known` if 1C cannot tell it now."""
        try:
            return self.get_task(known.id)
        except GatewayError:
            return known

    def _apply(
        self, request: DecisionRequest, label: str, tag: str, row: Row, *, claim: bool
    ) -> None:
        """The profile's operations; with `claim` (a role task), the approver also becomes the
        task's performer, as БСП would otherwise record the gateway's own 1C user (design 5.5).
        The claim goes into the first PATCH, so a retry finds it together with the result's
        marker (or neither)."""
        resource = self._task_resource(request.task_id)
        version = str(row.get(self._f["version"], ""))
        spec = self.profile.decisions[request.decision]
        values = self._template_values(request, label, tag)
        claimed: dict[str, object] = {}
        if claim:
            performer = self._f["performer"]
            claimed = {
                performer: request.user_id,
                f"{performer}_Type": f"{v.TYPE_PREFIX}{self.profile.users_set}",
            }
            if self.schema.has(self.profile.task_set, self._a.accepted):
                claimed[self._a.accepted] = True
            if not any(not op.action for op in spec.operations):
                version = self._patch(resource, claimed, version)
                claimed = {}
        for op in spec.operations:
            if op.action:
                self._http.act(resource, op.action)
            else:
                patch = {prop: template.format(**values) for prop, template in op.patch}
                version = self._patch(resource, {**claimed, **patch}, version)
                claimed = {}

    def _patch(self, resource: str, body: dict[str, object], version: str) -> str:
        """PATCH under `If-Match: version`; answers the entity's new DataVersion."""
        field = self._f["version"]
        patched = self._http.patch(resource, body, version)
        if patched is not None and field in patched:
            return str(patched[field])
        # 1C answered without the entity: its new version is needed for the next If-Match.
        return str(self._http.get(resource, {"$select": field}).get(field, ""))

    def _template_values(self, request: DecisionRequest, label: str, tag: str) -> dict[str, str]:
        at = request.requested_at.astimezone(self.profile.server_timezone)
        stamp = at.strftime("%d.%m.%Y %H:%M")
        comment = request.comment.strip()
        result_line = f"{label} через Telegram{_account(request)}: {request.user_name}, {stamp}."
        if comment:
            result_line += f" Комментарий: {comment}"
        return {
            "comment": comment,
            "user_name": request.user_name,
            "user_id": request.user_id,
            "decision_label": label,
            "at": stamp,
            "result_line": f"{result_line} {tag}",
        }

    # --- internals: reading --------------------------------------------------------------------

    def _read_task(self, task_id: str) -> tuple[Row, Task]:
        """One task's row read fresh, with its document, process and group, and its task."""
        row = self._http.get(self._task_resource(task_id), {"$select": self._task_select()})
        self._refresh_related([row], fresh=True)
        self._refresh_register([row], whole=False)
        known = self._read_known([row])
        return row, self._mapper.task(row, known)

    def _task_resource(self, task_id: str) -> str:
        return f"{self.profile.task_set}({v.guid_literal(task_id)})"

    def _process_type(self, row: Row) -> str:
        """The task's business process type (`BusinessProcess_…`), '' if it has none."""
        found = self._mapper.process_ref(row)
        return found[0] if found else ""

    def _task_select_names(self) -> list[str]:
        f, a = self._f, self._a
        names = [f[k] for k in ("id", "version", "number", "created_at", "title", "due_at")]
        names += [f[k] for k in ("importance", "executed", "deletion_mark", "initiator_name")]
        names += [f["subject_presentation"], f["result"], f["executed_at"]]
        for composite in ("performer", "initiator", "subject", "business_process"):
            names += [f[composite], f"{f[composite]}_Type"]
        names += [n for n in (self.profile.stage_name, self.profile.stage_number) if n]
        if self.profile.decision_field:
            names.append(self.profile.decision_field)
        names += [a.role, a.performer_group, a.process_state]
        return list(dict.fromkeys(names))

    def _task_select(self) -> str:
        return ",".join(self.schema.keep(self.profile.task_set, self._task_select_names()))

    def _state_on_task(self) -> bool:
        """True where tasks carry `СостояниеБизнесПроцесса` (no process reads needed)."""
        sets = self.schema.sets()
        return sets is not None and self.schema.has(self.profile.task_set, self._a.process_state)

    def _refresh_related(
        self,
        rows: list[Row],
        *,
        fresh: bool = False,
        documents_of: set[str] | None = None,
    ) -> None:
        """Re-read documents and business processes of `rows` whose DataVersion changed.

        Processes already known are re-checked only with `fresh` (a single task's read) or when
        the profile says a stopped process leaves its tasks untouched (`check_each_pass`).
        With `documents_of`, known documents are re-checked only for those task ids.
        """
        wanted: Wanted = {}
        related = self._related.view()
        state_on_task = self._state_on_task()
        recheck_processes = not state_on_task and (fresh or self.profile.process_check_each_pass)
        # A process is read at all only for what the task cannot tell: its state on older БСП,
        # or the stage count a profile takes from it.
        read_processes = not state_on_task or bool(self.profile.stage_count)
        for row in rows:
            document = self._mapper.subject_ref(row)
            if document and self._documents.spec(document[0]) is not None:
                task_id = str(row.get(self._f["id"], ""))
                if documents_of is None or task_id in documents_of or document[1] not in related:
                    want(wanted, *document)
            process = self._mapper.process_ref(row)
            if process and read_processes and (recheck_processes or process[1] not in related):
                want(wanted, *process)
        for entity_set, keys in wanted.items():
            try:
                self._read_related(entity_set, sorted(keys))
            except (RequestRejected, AccessDenied) as exc:
                # A query 1C refuses concerns this type only: its tasks keep their presentation.
                self.schema.note_missing(f"{entity_set} (1C refused to read it: {exc})")

    def _read_related(self, entity_set: str, ordered: list[str]) -> None:
        if not self.schema.has_set(entity_set):
            self.schema.note_missing(entity_set)
            return
        versions = {
            str(r[KEY]): str(r.get(VERSION, ""))
            for r in self._http.by_keys(entity_set, ordered, f"{KEY},{VERSION}")
        }
        stale = self._related.stale({k: versions[k] for k in ordered if k in versions})
        if stale:
            for row in self._http.by_keys(entity_set, stale, self._related_select(entity_set)):
                self._related.store(str(row[KEY]), str(row.get(VERSION, "")), row)
        for missing in set(ordered) - set(versions):
            self._related.gone(missing)

    def _related_select(self, entity_set: str) -> str:
        spec = None if entity_set.startswith(NOT_DOCUMENTS) else self._documents.spec(entity_set)
        if spec is not None:
            names = self._documents.select_names(spec)
        else:
            names = [KEY, VERSION, "DeletionMark"]
            names += [n for n in (self.profile.process_state_field, self.profile.stage_count) if n]
        return ",".join(self.schema.keep(entity_set, names))

    def _refresh_register(self, rows: list[Row], *, whole: bool = True) -> None:
        """Re-read who performs which group (`ИсполнителиЗадач`) if any of `rows` is a role task.

        A pass reads the whole register in one request (paged only past REGISTER_PAGE
        records), so a change in 1C reaches the cards within one pass; a single task's read
        (`whole=False`) asks only for its own group's records.
        """
        wanted = sorted({g for row in rows if (g := self._mapper.role_group(row))})
        if not wanted:
            return
        a = self._a
        if not self.schema.has_set(a.register):
            self.schema.note_missing(a.register)
            return
        performer = a.register_performer
        params: dict[str, object] = {
            "$select": ",".join((a.performer_group, performer, f"{performer}_Type"))
        }
        if not whole:
            params["$filter"] = v.any_of(a.performer_group, wanted[:BATCH])
        try:
            records = self._http.paged(a.register, params, REGISTER_PAGE)
            found = performers_by_group(records, a, wanted)
        except (RequestRejected, AccessDenied) as exc:
            self.schema.note_missing(f"{a.register} (1C refused to read it: {exc})")
            return
        if whole:
            self._register.replace(found)
        else:
            self._register.update(found)

    def _user_select_names(self) -> list[str]:
        uf = self.profile.user_fields
        return [uf[k] for k in ("id", "name", "deletion_mark", "invalid", "contacts")]

    def _read_directory(self) -> Users:
        uf = self.profile.user_fields
        select = ",".join(self.schema.keep(self.profile.users_set, self._user_select_names()))
        directory: Users = {}
        rows = self._http.paged(
            self.profile.users_set, {"$select": select, "$orderby": uf["id"]}, USERS_PAGE
        )
        for row in rows:
            user = user_of(row, self.profile)
            if user is None:
                continue
            for phone in user.phones:
                directory.setdefault(phone, []).append(user)
        return directory

    # --- internals: mapping --------------------------------------------------------------------

    def _map_pass(self, rows: list[Row]) -> list[Task]:
        """The tasks of a pass: those whose inputs did not change as mapped before, the others
        mapped after one batched read of the names they show."""
        related, register = self._related.view(), self._register.view()
        inputs = [self._mapper.inputs(row, related, register) for row in rows]
        ids = [str(row.get(self._f["id"], "")) for row in rows]
        kept = [self._mapped.get(tid, key) for tid, key in zip(ids, inputs, strict=True)]
        todo = [row for row, task in zip(rows, kept, strict=True) if task is None]
        known = self._read_known(todo)
        tasks = []
        for row, tid, key, task in zip(rows, ids, inputs, kept, strict=True):
            if task is None:
                task = self._mapper.task(row, known)
                self._mapped.put(tid, key, task)
            tasks.append(task)
        return tasks

    def _read_known(self, rows: list[Row]) -> Known:
        """What mapping `rows` reads, names included: those not known yet are read now, one
        batch per catalog for all the rows together."""
        specs = {}
        for row in rows:
            if subject := self._mapper.subject_ref(row):
                specs[subject[0]] = self._documents.spec(subject[0])
        # Views, not copies: the names read below are in `known` when the rows are mapped.
        known = Known(self._related.view(), self._names.view(), self._register.view(), specs)
        wanted: Wanted = {}
        for row in rows:
            for entity_set, keys in self._mapper.references(row, known).items():
                wanted.setdefault(entity_set, set()).update(keys)
        self._read_names(wanted)
        return known

    def _read_names(self, wanted: Wanted) -> None:
        """Read the Descriptions of `wanted` references not known yet, a batch per catalog; a
        catalog 1C does not publish or refuses to read leaves the names empty."""
        for entity_set, missing in self._names.unknown(wanted).items():
            if not self.schema.has_set(entity_set):
                self.schema.note_missing(entity_set)
            else:
                try:
                    for row in self._http.by_keys(entity_set, missing, f"{KEY},{NAME}"):
                        self._names.learn(entity_set, str(row[KEY]), str(row.get(NAME, "")))
                except (RequestRejected, AccessDenied) as exc:
                    self.schema.note_missing(f"{entity_set} (1C refused to read it: {exc})")
            self._names.settle(entity_set, missing)


def _check_shown(request: DecisionRequest, task: Task, *, compare_task: bool) -> None:
    """StaleDecision unless the task and its document are at the versions the decision's card
    showed; a decision that does not tell a version is not compared on it."""
    expected = request.expected_version
    if compare_task and expected and expected != task.version:
        raise StaleDecision(UPSTREAM, "the task changed since the approver's card showed it", task)
    expected_subject = request.expected_subject_version
    if expected_subject and expected_subject != task.subject.version:
        raise StaleDecision(
            UPSTREAM, "the document changed since the approver's card showed it", task
        )


def _account(request: DecisionRequest) -> str:
    """The Telegram account that decided, as the result text names it: " (Иван, id 42)"; OData
    has no field of its own for it (the extension's audit register does)."""
    if request.telegram_user_id is None:
        return ""
    name = request.telegram_user_name.strip()
    return (
        f" ({name}, id {request.telegram_user_id})" if name else f" (id {request.telegram_user_id})"
    )
