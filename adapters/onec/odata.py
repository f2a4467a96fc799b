"""Connector for 1C's standard OData interface (`ONEC_CONNECTOR=odata`), driven by a profile.

Nothing is installed in 1C. A sync pass lists pending tasks with only `Ref_Key` and `DataVersion`
(paged with `$top`/`$skip` over a stable `$orderby`, in large pages), then reads details only of
tasks whose version changed, in batches; documents are re-read only when their own `DataVersion`
changed. Who may decide a task follows БСП (design 5.5): its `Исполнитель`, else every performer
the register `ИсполнителиЗадач` names for the task's group, read in one request a pass. A stopped
process shows on the task itself (`СостояниеБизнесПроцесса`); processes are read for that only on
infobases without the field. Tasks of processes not listed as approvals are `TaskKind.TASK`, never
executed from here.

A decision re-reads the task and its document first (one read each) and writes nothing unless
both are at the versions the approver's card showed; its PATCH carries that task version in
`If-Match`. On a role task the same PATCH makes the approver the task's `Исполнитель` (so 1C
shows who decided). It marks 1C's result text with a key derived from the approver's press, so a
retried decision is recognised as already applied and never executed twice. An exception in 1C's
code on the writes is a refusal, final, unless 1C's text says lock conflict or timeout.

Profile names the infobase lacks are left out of every `$select` (see `odata_schema`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Any, Final
from urllib.parse import quote

from adapters.onec import odata_values as v
from adapters.onec.metadata import read_metadata
from adapters.onec.odata_documents import NOT_DOCUMENTS, DocumentViews, as_int
from adapters.onec.odata_errors import odata_error, refusal_or_transient
from adapters.onec.odata_schema import Schema
from adapters.onec.profile import Profile
from adapters.onec.session import UPSTREAM, OneCSession, safe_url
from adapters.onec.user_groups import read_group_members
from gateway.domain.phones import normalize_phone
from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import (
    Decision,
    Importance,
    OneCUser,
    Person,
    Result,
    Stage,
    Subject,
    Task,
    TaskKind,
    TaskState,
)
from gateway.errors import (
    AccessDenied,
    AlreadyCompleted,
    GatewayError,
    InvalidRequest,
    MalformedAnswer,
    NotPerformer,
    RequestRejected,
    StaleDecision,
    UpstreamApplicationError,
    VersionConflict,
)

log = logging.getLogger(__name__)

BATCH: Final = 40  # GUIDs per `or` filter: keeps the URL well under web servers' 8 KB limit
REGISTER_PAGE: Final = 5000
MISS_REFRESH_SECONDS: Final = 60.0
ALREADY_EXECUTED: Final = "уже была выполнена"


def marker(idempotency_key: str) -> str:
    """The tag a decision leaves in 1C's result text, so a retry can tell it was applied."""
    return f"[tg1c {hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]}]"


@dataclass(frozen=True, slots=True)
class _Versioned:
    version: str
    value: Any


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
        self._root = f"{base_url.rstrip('/')}/odata/standard.odata"
        self.profile = profile
        self.approval_processes = frozenset(approval_processes) or frozenset(
            profile.approval_processes
        )
        self.schema = Schema(lambda: read_metadata(session, base_url), clock)
        self._clock = clock
        self._f = profile.task_fields
        self._a = profile.addressing
        self._register: dict[str, tuple[tuple[str, str], ...]] = {}  # group → performers
        self._mapped: dict[str, tuple[tuple[object, ...], Task]] = {}  # task id → (inputs, task)
        self._documents = DocumentViews(
            profile, self.schema, self._names_of, lambda s, k: self._names.get((s, k), "")
        )
        self._tasks: dict[str, _Versioned] = {}  # task id → (version, raw row)
        self._related: dict[str, _Versioned] = {}  # document/process id → (version, row)
        self._names: dict[tuple[str, str], str] = {}  # (entity set, GUID) → Description
        self._directory: dict[str, list[OneCUser]] = {}
        self._directory_at: float | None = None
        self._lock = threading.Lock()
        self._passes = 0

    # --- requests ------------------------------------------------------------------------------

    def _get(self, resource: str, params: dict[str, object]) -> Any:
        url = f"{self._root}/{quote(resource, safe=chr(39) + '(),=')}"
        answer = self._session.request("GET", url, params={"$format": "json", **params})
        if answer.status != 200:
            raise odata_error(answer)
        body = answer.json()
        if not isinstance(body, dict):
            raise MalformedAnswer(UPSTREAM, f"{safe_url(url)} answered JSON that is not an object")
        return body

    def _rows(self, resource: str, params: dict[str, object]) -> list[dict[str, Any]]:
        body = self._get(resource, params)
        rows = body.get("value")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise MalformedAnswer(UPSTREAM, f"{resource}: answer without a `value` list of rows")
        return rows

    def _paged(
        self, resource: str, params: dict[str, object], size: int
    ) -> Iterator[dict[str, Any]]:
        skip = 0
        while True:
            page = self._rows(resource, {**params, "$top": size, "$skip": skip})
            yield from page
            if len(page) < size:
                return
            skip += size

    def _by_keys(self, resource: str, keys: list[str], select: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            rows += self._rows(resource, {"$filter": v.any_of("Ref_Key", chunk), "$select": select})
        return rows

    # --- the port: reading ---------------------------------------------------------------------

    def ping(self) -> None:
        """One cheap authenticated read of the task set."""
        self._rows(self.profile.task_set, {"$top": 1, "$select": self._f["id"]})

    def pending_tasks(self) -> list[Task]:
        """Every pending task; only what changed since the last pass is read in detail."""
        f = self._f
        listing = list(
            self._paged(
                self.profile.task_set,
                {
                    "$filter": self.profile.pending_filter,
                    "$select": ",".join((f["id"], f["version"])),
                    "$orderby": self.profile.order_by,
                },
                self.profile.page_size,
            )
        )
        versions = {str(row[f["id"]]): str(row.get(f["version"], "")) for row in listing}
        changed = [
            tid for tid, ver in versions.items() if self._tasks.get(tid, _NONE).version != ver
        ]
        fresh = self._by_keys(self.profile.task_set, changed, self._task_select())
        for row in fresh:
            self._tasks[str(row[f["id"]])] = _Versioned(str(row.get(f["version"], "")), row)
        self._prefetch_people(fresh)
        for gone in set(self._tasks) - set(versions):
            del self._tasks[gone]
        for gone in set(self._mapped) - set(versions):
            del self._mapped[gone]
        rows = [self._tasks[tid].value for tid in versions if tid in self._tasks]
        # Documents of unchanged tasks are re-checked only every few passes: OData cannot say
        # which documents changed, and asking for all of them each pass costs a request per 40.
        self._passes += 1
        every = self.profile.document_recheck_passes
        recheck_all = every <= 1 or self._passes % every == 1
        self._refresh_related(rows, documents_of=None if recheck_all else set(changed))
        self._refresh_register(rows)
        tasks = []
        for row in rows:
            task = self._map_cached(row)
            if task.is_pending:
                tasks.append(task)
        return tasks

    def _map_cached(self, row: dict[str, Any]) -> Task:
        """`_map`, skipped when nothing it reads changed since the last pass (an idle pass maps
        thousands of unchanged tasks otherwise)."""
        task_id = str(row.get(self._f["id"], ""))
        subject = v.composite(row, self._f["subject"])
        process = v.composite(row, self._f["business_process"])
        inputs = (
            row.get(self._f["version"]),
            self._related.get(subject[1], _NONE).version if subject else None,
            self._related.get(process[1], _NONE).version if process else None,
            self._candidate_keys(row),
        )
        cached = self._mapped.get(task_id)
        if cached is not None and cached[0] == inputs:
            return cached[1]
        task = self._map(row)
        self._mapped[task_id] = (inputs, task)
        return task

    def get_task(self, task_id: str) -> Task:
        """One task in any state, read fresh from 1C."""
        row = self._task_row(task_id)
        self._refresh_related([row], fresh=True)
        self._refresh_register([row], whole=False)
        return self._map(row)

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
        wanted = normalize_phone(phone)
        with self._lock:
            now = self._clock()
            age = None if self._directory_at is None else now - self._directory_at
            if (
                age is None
                or age > self.profile.users_refresh_seconds
                or (wanted not in self._directory and age > MISS_REFRESH_SECONDS)
            ):
                self._directory = self._read_directory()
                self._directory_at = now
            return list(self._directory.get(wanted, []))

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
        row = self._task_row(request.task_id)
        self._refresh_related([row], fresh=True)
        self._refresh_register([row], whole=False)
        task = self._map(row)
        ours = tag in str(row.get(self._f["result"], ""))  # an earlier attempt of this press
        if not task.is_pending:
            if ours:
                return task  # our own earlier attempt went through
            raise AlreadyCompleted(UPSTREAM, f"the task is {task.state.value} in 1C", task)
        if not task.is_approval:
            raise InvalidRequest(
                UPSTREAM,
                "not_approval",
                f"the task belongs to {task_process(row, self._f) or 'no business process'}, "
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
        self, request: DecisionRequest, label: str, tag: str, row: dict[str, Any], *, claim: bool
    ) -> None:
        """The profile's operations; with `claim` (a role task), the approver also becomes the
        task's performer, as БСП would otherwise record the gateway's own 1C user (design 5.5).
        The claim goes into the first PATCH, so a retry finds it together with the result's
        marker (or neither)."""
        key = v.guid_literal(request.task_id)
        resource = f"{self.profile.task_set}({key})"
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
                url = f"{self._root}/{quote(resource, safe=chr(39) + '(),=')}/{op.action}"
                answer = self._session.request("POST", url, params={"$format": "json"})
                if answer.status not in (200, 204):
                    raise odata_error(answer)
            else:
                patch = {prop: template.format(**values) for prop, template in op.patch}
                version = self._patch(resource, {**claimed, **patch}, version)
                claimed = {}

    def _patch(self, resource: str, body: Mapping[str, object], version: str) -> str:
        """PATCH under `If-Match: version`; answers the entity's new DataVersion."""
        url = f"{self._root}/{quote(resource, safe=chr(39) + '(),=')}"
        answer = self._session.request(
            "PATCH", url, params={"$format": "json"}, json_body=body, headers={"If-Match": version}
        )
        if answer.status not in (200, 204):
            raise odata_error(answer)
        patched = answer.json() if answer.status == 200 and answer.body else None
        if isinstance(patched, dict) and self._f["version"] in patched:
            return str(patched[self._f["version"]])
        # 1C answered without the entity: its new version is needed for the next If-Match.
        fresh = self._get(resource, {"$select": self._f["version"]})
        return str(fresh.get(self._f["version"], ""))

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

    # --- internals: rows -----------------------------------------------------------------------

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

    def _task_row(self, task_id: str) -> dict[str, Any]:
        resource = f"{self.profile.task_set}({v.guid_literal(task_id)})"
        row: dict[str, Any] = self._get(resource, {"$select": self._task_select()})
        return row

    def _refresh_related(
        self,
        rows: list[dict[str, Any]],
        *,
        fresh: bool = False,
        documents_of: set[str] | None = None,
    ) -> None:
        """Re-read documents and business processes of `rows` whose DataVersion changed.

        Processes already known are re-checked only with `fresh` (a single task's read) or when
        the profile says a stopped process leaves its tasks untouched (`check_each_pass`).
        With `documents_of`, known documents are re-checked only for those task ids.
        """
        wanted: dict[str, set[str]] = {}
        state_on_task = self._state_on_task()
        recheck_processes = not state_on_task and (fresh or self.profile.process_check_each_pass)
        # A process is read at all only for what the task cannot tell: its state on older БСП,
        # or the stage count a profile takes from it.
        read_processes = not state_on_task or bool(self.profile.stage_count)
        for row in rows:
            document = v.composite(row, self._f["subject"])
            if document and self._documents.spec(document[0]) is not None:
                task_id = str(row.get(self._f["id"], ""))
                if (
                    documents_of is None
                    or task_id in documents_of
                    or document[1] not in self._related
                ):
                    wanted.setdefault(document[0], set()).add(document[1])
            process = v.composite(row, self._f["business_process"])
            if (
                process
                and read_processes
                and (recheck_processes or process[1] not in self._related)
            ):
                wanted.setdefault(process[0], set()).add(process[1])
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
            str(r["Ref_Key"]): str(r.get("DataVersion", ""))
            for r in self._by_keys(entity_set, ordered, "Ref_Key,DataVersion")
        }
        stale = [
            k
            for k in ordered
            if k in versions and self._related.get(k, _NONE).version != versions[k]
        ]
        if stale:
            fresh = self._by_keys(entity_set, stale, self._related_select(entity_set))
            for row in fresh:
                self._related[str(row["Ref_Key"])] = _Versioned(
                    str(row.get("DataVersion", "")), row
                )
            spec = (
                None if entity_set.startswith(NOT_DOCUMENTS) else self._documents.spec(entity_set)
            )
            if spec is not None:
                self._documents.prefetch(spec, fresh)
        for missing in set(ordered) - set(versions):
            self._related[missing] = _Versioned("", None)  # deleted from the infobase

    def _prefetch_people(self, rows: list[dict[str, Any]]) -> None:
        """Names of the performers, authors and roles of `rows`, a batch per catalog."""
        wanted: dict[str, set[str]] = {}
        for row in rows:
            for name in ("performer", "initiator"):
                if found := v.composite(row, self._f[name]):
                    wanted.setdefault(found[0], set()).add(found[1])
            if role := v.ref(row.get(self._a.role)):
                wanted.setdefault(self._a.roles, set()).add(role)
        for entity_set, keys in wanted.items():
            self._names_of(entity_set, keys)

    def _refresh_register(self, rows: list[dict[str, Any]], *, whole: bool = True) -> None:
        """Re-read who performs which group (`ИсполнителиЗадач`) if any of `rows` is a role task.

        A pass reads the whole register in one request (paged only past REGISTER_PAGE
        records), so a change in 1C reaches the cards within one pass; a single task's read
        (`whole=False`) asks only for its own group's records.
        """
        wanted = sorted({g for row in rows if (g := self._role_group(row))})
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
        groups: dict[str, dict[tuple[str, str], None]] = {g: {} for g in wanted}
        try:
            for record in self._paged(a.register, params, REGISTER_PAGE):
                group = v.ref(record.get(a.performer_group))
                who = v.composite(record, performer)
                if group and who:
                    groups.setdefault(group, {})[who] = None
        except (RequestRejected, AccessDenied) as exc:
            self.schema.note_missing(f"{a.register} (1C refused to read it: {exc})")
            return
        found = {group: tuple(people) for group, people in groups.items()}
        self._register = found if whole else {**self._register, **found}
        by_set: dict[str, set[str]] = {}
        for people in found.values():
            for entity_set, key in people:
                by_set.setdefault(entity_set, set()).add(key)
        for entity_set, keys in by_set.items():
            self._names_of(entity_set, keys)  # every performer's name in a batch, once

    def _role_group(self, row: dict[str, Any]) -> str | None:
        """The performers group of a role task (no `Исполнитель`), else None."""
        if v.composite(row, self._f["performer"]) is not None:
            return None
        return v.ref(row.get(self._a.performer_group))

    def _candidate_keys(self, row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        group = self._role_group(row)
        return self._register.get(group, ()) if group else ()

    def _related_select(self, entity_set: str) -> str:
        spec = None if entity_set.startswith(NOT_DOCUMENTS) else self._documents.spec(entity_set)
        if spec is not None:
            names = self._documents.select_names(spec)
        else:
            names = ["Ref_Key", "DataVersion", "DeletionMark"]
            names += [n for n in (self.profile.process_state_field, self.profile.stage_count) if n]
        return ",".join(self.schema.keep(entity_set, names))

    def _user_select_names(self) -> list[str]:
        uf = self.profile.user_fields
        return [uf[k] for k in ("id", "name", "deletion_mark", "invalid", "contacts")]

    def _read_directory(self) -> dict[str, list[OneCUser]]:
        uf = self.profile.user_fields
        select = ",".join(self.schema.keep(self.profile.users_set, self._user_select_names()))
        directory: dict[str, list[OneCUser]] = {}
        for row in self._paged(
            self.profile.users_set, {"$select": select, "$orderby": uf["id"]}, 500
        ):
            if row.get(uf["deletion_mark"]) or row.get(uf["invalid"]):
                continue
            phones: list[str] = []
            for contact in row.get(uf["contacts"]) or []:
                if not isinstance(contact, dict):
                    continue
                if contact.get(uf["contact_kind"]) != self.profile.phone_kind_value:
                    continue
                for name in self.profile.phone_fields:
                    phone = normalize_phone(str(contact.get(name) or ""))
                    if phone:
                        phones.append(phone)
                        break
            user = OneCUser(
                str(row[uf["id"]]), str(row.get(uf["name"], "")), tuple(dict.fromkeys(phones))
            )
            for phone in user.phones:
                directory.setdefault(phone, []).append(user)
        return directory

    def _names_of(self, entity_set: str, keys: set[str]) -> None:
        """Fill the Description cache for references (catalog descriptions rarely change), in
        batches; a catalog 1C does not publish or refuses to read leaves the names empty."""
        missing = sorted(k for k in keys if (entity_set, k) not in self._names)
        if missing and self.schema.has_set(entity_set):
            try:
                for row in self._by_keys(entity_set, missing, "Ref_Key,Description"):
                    self._names[(entity_set, str(row["Ref_Key"]))] = str(row.get("Description", ""))
            except (RequestRejected, AccessDenied) as exc:
                self.schema.note_missing(f"{entity_set} (1C refused to read it: {exc})")
        elif missing:
            self.schema.note_missing(entity_set)
        for key in missing:
            self._names.setdefault((entity_set, key), "")

    # --- internals: mapping --------------------------------------------------------------------

    def _map(self, row: dict[str, Any]) -> Task:
        f, p = self._f, self.profile
        zone = p.server_timezone
        task_id = str(row.get(f["id"], ""))
        created = v.date(row.get(f["created_at"]), zone)
        if not task_id or created is None:
            raise MalformedAnswer(
                UPSTREAM, f"{p.task_set}: a task without {f['id']} or {f['created_at']}"
            )
        subject_ref = v.composite(row, f["subject"])
        process_ref = v.composite(row, f["business_process"])
        known = self._related.get(process_ref[1]) if process_ref else None
        process = known.value if known else None
        state = TaskState.PENDING
        if row.get(f["executed"]):
            state = TaskState.COMPLETED
        elif row.get(f["deletion_mark"]) or self._process_cancelled(row, process_ref, process):
            state = TaskState.CANCELLED
        kind = TaskKind.TASK
        if process_ref is not None and process_ref[0] in self.approval_processes:
            kind = TaskKind.APPROVAL
        document = self._related.get(subject_ref[1]) if subject_ref else None
        version = str(row.get(f["version"], ""))
        if document is not None and document.value is not None:
            # A new document version must look like a new task version (new card, new PDF).
            version = f"{version}.{document.version}"
        stage = self._stage(row, process)
        performer = self._performer(row)
        return Task(
            id=task_id,
            version=version,
            number=str(row.get(f["number"], "")).strip(),
            created_at=created,
            due_at=v.date(row.get(f["due_at"]), zone),
            importance=p.importance.get(str(row.get(f["importance"], "")), Importance.NORMAL),
            state=state,
            title=str(row.get(f["title"], "")),
            performer=performer,
            initiator=self._person(row, "initiator", str(row.get(f["initiator_name"], ""))),
            stage=stage,
            subject=self._subject(row, subject_ref),
            allowed_decisions=self._allowed(stage)
            if state is TaskState.PENDING and kind is TaskKind.APPROVAL
            else (),
            result=self._result(row, state, zone),
            kind=kind,
            role=self._role(row) if performer is None else None,
            candidates=self._candidates(row) if performer is None else (performer,),
        )

    def _role(self, row: dict[str, Any]) -> Person | None:
        key = v.ref(row.get(self._a.role))
        if key is None:
            return None
        self._names_of(self._a.roles, {key})
        return Person(key, self._names.get((self._a.roles, key), ""))

    def _candidates(self, row: dict[str, Any]) -> tuple[Person, ...]:
        people = self._candidate_keys(row)
        by_set: dict[str, set[str]] = {}
        for entity_set, key in people:
            by_set.setdefault(entity_set, set()).add(key)
        for entity_set, keys in by_set.items():
            self._names_of(entity_set, keys)  # one batch for all of a role's performers
        return tuple(Person(key, self._names.get((s, key), "")) for s, key in people)

    def _allowed(self, stage: Stage) -> tuple[Decision, ...]:
        """The profile's decisions, less those the stage rules out where the stage is known:
        stage 1 has no previous stage, and stage 0 (the initiator's rework) can only resubmit."""
        allowed = [d for d in Decision if d in self.profile.decisions]
        if self.profile.stage_number:
            if stage.number == 0:
                allowed = [Decision.APPROVE]
            elif stage.number == 1:
                allowed = [d for d in allowed if d is not Decision.RETURN_PREVIOUS]
        return tuple(allowed)

    def _process_cancelled(
        self, row: dict[str, Any], ref: tuple[str, str] | None, process: dict[str, Any] | None
    ) -> bool:
        if ref is None:
            return False
        if self._a.process_state in row:
            return str(row[self._a.process_state]) in self.profile.process_stopped_values
        if process is None:
            return ref[1] in self._related  # looked up and not found: deleted
        state = str(process.get(self.profile.process_state_field, ""))
        return bool(process.get("DeletionMark")) or state in self.profile.process_stopped_values

    def _performer(self, row: dict[str, Any]) -> Person | None:
        """The task's `Исполнитель`; None for a task addressed to a role."""
        if v.composite(row, self._f["performer"]) is None:
            return None
        return self._person(row, "performer")

    def _person(self, row: dict[str, Any], field_name: str, fallback: str = "") -> Person:
        found = v.composite(row, self._f[field_name])
        if found is None:
            return Person("", fallback)
        entity_set, key = found
        self._names_of(entity_set, {key})
        return Person(key, self._names.get((entity_set, key)) or fallback)

    def _stage(self, row: dict[str, Any], process: dict[str, Any] | None) -> Stage:
        p = self.profile
        name = str(row.get(p.stage_name, "")) if p.stage_name else ""
        number = as_int(row.get(p.stage_number)) if p.stage_number else 0
        count = as_int(process.get(p.stage_count)) if p.stage_count and process else 0
        return Stage(name=name, number=number, count=count)

    def _subject(self, row: dict[str, Any], ref: tuple[str, str] | None) -> Subject:
        presentation = str(row.get(self._f["subject_presentation"], ""))
        if ref is None:
            return Subject(type="", id="", presentation=presentation)
        entity_set, key = ref
        document = self._related.get(key)
        spec = self._documents.spec(entity_set)
        if document is None or document.value is None:
            return Subject(type=entity_set, id=key, presentation=presentation)
        if spec is None or not spec.title:
            return Subject(
                type=entity_set, id=key, presentation=presentation, version=document.version
            )
        return Subject(
            type=entity_set,
            id=key,
            presentation=presentation,
            fields=self._documents.fields(spec, document.value),
            tables=self._documents.tables(spec, document.value),
            version=document.version,
        )

    def _result(
        self, row: dict[str, Any], state: TaskState, zone: timezone | None
    ) -> Result | None:
        if state is not TaskState.COMPLETED or not self.profile.decision_field:
            return None
        decision = self.profile.decision_codes.get(str(row.get(self.profile.decision_field, "")))
        at = v.date(row.get(self._f["executed_at"]), zone)
        if decision is None or at is None:
            return None
        performer = v.composite(row, self._f["performer"])
        return Result(
            decision=decision,
            comment=str(row.get(self._f["result"], "")),
            user_id=performer[1] if performer else "",
            at=at,
        )


_NONE = _Versioned("\0", None)


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


def task_process(row: dict[str, Any], fields: dict[str, str]) -> str:
    """The task's business process type (`BusinessProcess_…`), '' if it has none."""
    found = v.composite(row, fields["business_process"])
    return found[0] if found else ""


def _account(request: DecisionRequest) -> str:
    """The Telegram account that decided, as the result text names it: " (Иван, id 42)"; OData
    has no field of its own for it (the extension's audit register does)."""
    if request.telegram_user_id is None:
        return ""
    name = request.telegram_user_name.strip()
    return (
        f" ({name}, id {request.telegram_user_id})" if name else f" (id {request.telegram_user_id})"
    )
