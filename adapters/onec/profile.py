"""OData mapping profiles: which entity sets and properties hold tasks, users, documents, and
what each decision writes. Built-ins live in `profiles/<name>.toml`; ONEC_PROFILE may be a path.

A profile is validated when loaded: every problem is reported at once, naming the TOML key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from gateway.domain.tasks import Decision, Importance
from gateway.errors import ConfigurationError

BUILTIN_DIR: Final = Path(__file__).parent / "profiles"
FORMATS: Final = ("text", "date", "datetime", "money", "number", "boolean")
TEMPLATE_VARIABLES: Final = (
    "comment",
    "user_name",
    "user_id",
    "decision_label",
    "result_line",
    "at",
)


@dataclass(frozen=True, slots=True)
class Column:
    """A document property (or table column) shown on the card and in the PDF."""

    label: str
    property: str
    format: str = "text"
    reference: str = ""  # entity set of a single-type reference (`<property>_Key` holds the GUID)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A tabular section of a document and the columns to show."""

    label: str
    property: str
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """How one document type is read: its title, card fields and tables."""

    entity_set: str
    title: str
    fields: tuple[Column, ...] = ()
    tables: tuple[TableSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Operation:
    """One OData write of a decision: a PATCH of templated fields, or a POST action."""

    patch: tuple[tuple[str, str], ...] = ()
    action: str = ""


@dataclass(frozen=True, slots=True)
class DecisionSpec:
    """What a decision writes, in order, and the words 1C's result text uses for it."""

    decision: Decision
    label: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class Addressing:
    """Where БСП keeps who a task is for (design 5.5); every name has БСП's default."""

    role: str = "РольИсполнителя_Key"
    performer_group: str = "ГруппаИсполнителейЗадач_Key"
    process_state: str = "СостояниеБизнесПроцесса"
    accepted: str = "ПринятаКИсполнению"
    register: str = "InformationRegister_ИсполнителиЗадач"
    register_performer: str = "Исполнитель"  # composite
    roles: str = "Catalog_РолиИсполнителей"
    user_groups: str = "Catalog_ГруппыПользователей"
    group_members: str = "Состав"
    group_member: str = "Пользователь_Key"


ADDRESSING_KEYS: Final = tuple(Addressing.__dataclass_fields__)


@dataclass(frozen=True)
class Profile:
    """A validated profile."""

    name: str
    task_set: str
    pending_filter: str
    order_by: str
    page_size: int
    document_recheck_passes: int
    task_fields: dict[str, str]
    importance: dict[str, Importance]
    stage_name: str
    stage_number: str
    stage_count: str
    process_state_field: str
    process_stopped_values: tuple[str, ...]
    process_check_each_pass: bool
    users_set: str
    user_fields: dict[str, str]
    phone_kind_value: str
    phone_fields: tuple[str, ...]
    users_refresh_seconds: float
    decision_field: str
    decision_codes: dict[str, Decision]
    decisions: dict[Decision, DecisionSpec]
    documents: dict[str, DocumentSpec] = field(default_factory=dict)
    server_timezone: timezone | None = None  # None: 1C's dates are in the gateway host's zone
    approval_processes: tuple[str, ...] = ()  # used while ONEC_APPROVAL_PROCESSES is empty
    addressing: Addressing = field(default_factory=Addressing)

    def document(self, entity_set: str) -> DocumentSpec:
        """The spec for this document set; unknown types show their presentation only."""
        return self.documents.get(entity_set) or DocumentSpec(entity_set=entity_set, title="")


TASK_FIELDS: Final = (
    "id",
    "version",
    "number",
    "created_at",
    "title",
    "due_at",
    "importance",
    "executed",
    "deletion_mark",
    "performer",
    "initiator",
    "initiator_name",
    "subject",
    "subject_presentation",
    "business_process",
    "result",
    "executed_at",
)
USER_FIELDS: Final = ("id", "name", "deletion_mark", "invalid", "contacts", "contact_kind")


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile file by path; ConfigurationError lists problems."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = BUILTIN_DIR / f"{name_or_path}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"ONEC_PROFILE: no profile {name_or_path!r}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"ONEC_PROFILE: cannot read {path}: {exc}") from exc
    return parse_profile(data, source=str(path))


def parse_profile(data: dict[str, Any], source: str = "<profile>") -> Profile:
    """Validate profile data (as parsed from TOML)."""
    reader = _Reader(data)
    profile = reader.profile()
    if reader.problems:
        lines = "\n".join(f"  {p}" for p in reader.problems)
        raise ConfigurationError(f"ONEC_PROFILE: {source} is invalid:\n{lines}")
    assert profile is not None
    return profile


class _Reader:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []

    def table(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = parent.get(key)
        if not isinstance(value, dict):
            self.problems.append(f"[{where}{key}]: missing table")
            return {}
        return value

    def text(self, parent: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = parent.get(key, "" if not required else None)
        if not isinstance(value, str) or (required and not value):
            self.problems.append(f"{where}{key}: expected a non-empty string")
            return ""
        return value

    def integer(self, parent: dict[str, Any], key: str, where: str, default: int) -> int:
        value = parent.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            self.problems.append(f"{where}{key}: expected a positive integer")
            return default
        return value

    def boolean(self, parent: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = parent.get(key, default)
        if not isinstance(value, bool):
            self.problems.append(f"{where}{key}: expected true or false")
            return default
        return value

    def strings(self, parent: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = parent.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{where}{key}: expected a list of strings")
            return ()
        return tuple(value)

    def mapping(self, parent: dict[str, Any], keys: tuple[str, ...], where: str) -> dict[str, str]:
        result = {}
        for key in keys:
            result[key] = self.text(parent, key, where)
        unknown = sorted(set(parent) - set(keys))
        if unknown:
            self.problems.append(f"[{where.rstrip('.')}]: unknown keys {', '.join(unknown)}")
        return result

    def decision(self, value: Any, where: str) -> Decision | None:
        try:
            return Decision(value)
        except ValueError:
            allowed = ", ".join(d.value for d in Decision)
            self.problems.append(f"{where}: {value!r} is not one of {allowed}")
            return None

    def column(self, raw: Any, where: str) -> Column | None:
        if not isinstance(raw, dict):
            self.problems.append(f"{where}: expected an inline table")
            return None
        fmt = raw.get("format", "text")
        if fmt not in FORMATS:
            self.problems.append(f"{where}.format: {fmt!r} is not one of {', '.join(FORMATS)}")
        reference = raw.get("reference", "")
        if not isinstance(reference, str):
            self.problems.append(f"{where}.reference: expected an entity set name")
            reference = ""
        return Column(
            label=self.text(raw, "label", f"{where}."),
            property=self.text(raw, "property", f"{where}."),
            format=fmt if fmt in FORMATS else "text",
            reference=reference,
        )

    def columns(self, raw: Any, where: str) -> tuple[Column, ...]:
        if not isinstance(raw, list):
            self.problems.append(f"{where}: expected a list of inline tables")
            return ()
        found = (self.column(item, f"{where}[{i}]") for i, item in enumerate(raw))
        return tuple(c for c in found if c)

    def document(self, entity_set: str, raw: Any) -> DocumentSpec:
        where = f'documents."{entity_set}"'
        if not isinstance(raw, dict):
            self.problems.append(f"[{where}]: expected a table")
            return DocumentSpec(entity_set=entity_set, title="")
        tables = []
        for i, t in enumerate(raw.get("tables", [])):
            if not isinstance(t, dict):
                self.problems.append(f"{where}.tables[{i}]: expected a table")
                continue
            tables.append(
                TableSpec(
                    label=self.text(t, "label", f"{where}.tables[{i}]."),
                    property=self.text(t, "property", f"{where}.tables[{i}]."),
                    columns=self.columns(t.get("columns"), f"{where}.tables[{i}].columns"),
                )
            )
        return DocumentSpec(
            entity_set=entity_set,
            title=self.text(raw, "title", f"{where}."),
            fields=self.columns(raw.get("fields", []), f"{where}.fields"),
            tables=tuple(tables),
        )

    def operations(self, raw: Any, where: str) -> tuple[Operation, ...]:
        if not isinstance(raw, list) or not raw:
            self.problems.append(f"{where}: expected a non-empty list of operations")
            return ()
        result = []
        for i, op in enumerate(raw):
            here = f"{where}[{i}]"
            if (
                not isinstance(op, dict)
                or len(op) != 1
                or next(iter(op)) not in ("patch", "action")
            ):
                self.problems.append(
                    f'{here}: expected {{ patch = {{...}} }} or {{ action = "..." }}'
                )
                continue
            if "action" in op:
                result.append(Operation(action=self.text(op, "action", f"{here}.")))
                continue
            patch = op["patch"]
            if not isinstance(patch, dict) or not all(isinstance(v, str) for v in patch.values()):
                self.problems.append(f'{here}.patch: expected property = "template" pairs')
                continue
            for prop, template in patch.items():
                self.check_template(template, f"{here}.patch.{prop}")
            result.append(Operation(patch=tuple(patch.items())))
        return tuple(result)

    def server_timezone(self, value: Any) -> timezone | None:
        if value is None:
            return None
        try:
            offset = datetime.fromisoformat(f"2000-01-01T00:00:00{value}").utcoffset()
        except (TypeError, ValueError):
            offset = None
        if offset is None:
            self.problems.append(f'server_utc_offset: {value!r} is not an offset like "+03:00"')
            return None
        return timezone(offset)

    def addressing(self, raw: Any) -> Addressing:
        if not isinstance(raw, dict):
            self.problems.append("[addressing]: expected a table")
            return Addressing()
        unknown = sorted(set(raw) - set(ADDRESSING_KEYS))
        if unknown:
            self.problems.append(f"[addressing]: unknown keys {', '.join(unknown)}")
        values = {k: self.text(raw, k, "addressing.") for k in ADDRESSING_KEYS if k in raw}
        return Addressing(**values)

    def check_template(self, template: str, where: str) -> None:
        try:
            template.format(**dict.fromkeys(TEMPLATE_VARIABLES, ""))
        except (KeyError, IndexError, ValueError) as exc:
            allowed = ", ".join("{" + v + "}" for v in TEMPLATE_VARIABLES)
            self.problems.append(f"{where}: bad template ({exc}); variables are {allowed}")

    def profile(self) -> Profile | None:
        d = self.data
        tasks = self.table(d, "tasks", "")
        fields = self.mapping(self.table(tasks, "fields", "tasks."), TASK_FIELDS, "tasks.fields.")
        importance: dict[str, Importance] = {}
        for word, value in self.table(tasks, "importance", "tasks.").items():
            try:
                importance[word] = Importance(value)
            except ValueError:
                self.problems.append(f"tasks.importance.{word}: {value!r} is not normal/high/low")
        stage = self.table(d, "stage", "")
        process = self.table(d, "business_process", "")
        users = self.table(d, "users", "")
        decisions_raw = self.table(d, "decisions", "")
        codes_raw = decisions_raw.pop("codes", {}) if isinstance(decisions_raw, dict) else {}
        decisions: dict[Decision, DecisionSpec] = {}
        for key, spec in decisions_raw.items():
            if key == "field":
                continue
            decision = self.decision(key, f"[decisions.{key}]")
            if decision is None or not isinstance(spec, dict):
                continue
            decisions[decision] = DecisionSpec(
                decision=decision,
                label=self.text(spec, "label", f"decisions.{key}."),
                operations=self.operations(spec.get("operations"), f"decisions.{key}.operations"),
            )
        if Decision.APPROVE not in decisions:
            self.problems.append("[decisions.approve]: every profile must define approval")
        codes = {}
        if not isinstance(codes_raw, dict):
            self.problems.append("decisions.codes: expected a table of code = decision")
            codes_raw = {}
        for code, value in codes_raw.items():
            decision = self.decision(value, f"decisions.codes.{code}")
            if decision:
                codes[code] = decision
        documents = {
            name: self.document(name, spec) for name, spec in d.get("documents", {}).items()
        }
        profile = Profile(
            approval_processes=self.strings(process, "approval_processes", "business_process."),
            addressing=self.addressing(d.get("addressing", {})),
            server_timezone=self.server_timezone(d.get("server_utc_offset")),
            name=self.text(d, "name", ""),
            task_set=self.text(tasks, "entity_set", "tasks."),
            pending_filter=self.text(tasks, "pending_filter", "tasks."),
            order_by=self.text(tasks, "order_by", "tasks."),
            page_size=self.integer(tasks, "page_size", "tasks.", 500),
            document_recheck_passes=self.integer(tasks, "document_recheck_passes", "tasks.", 20),
            task_fields=fields,
            importance=importance,
            stage_name=self.text(stage, "name", "stage.", required=False),
            stage_number=self.text(stage, "number", "stage.", required=False),
            stage_count=self.text(stage, "count", "stage.", required=False),
            process_state_field=self.text(
                process, "state_field", "business_process.", required=False
            ),
            process_stopped_values=self.strings(process, "stopped_values", "business_process."),
            process_check_each_pass=self.boolean(
                process, "check_each_pass", "business_process.", True
            ),
            users_set=self.text(users, "entity_set", "users."),
            user_fields=self.mapping(
                self.table(users, "fields", "users."), USER_FIELDS, "users.fields."
            ),
            phone_kind_value=self.text(users, "phone_kind_value", "users."),
            phone_fields=self.strings(users, "phone_fields", "users."),
            users_refresh_seconds=float(users.get("refresh_seconds", 600)),
            decision_field=self.text(decisions_raw, "field", "decisions.", required=False)
            if isinstance(decisions_raw, dict)
            else "",
            decision_codes=codes,
            decisions=decisions,
            documents=documents,
        )
        return profile
