"""OData mapping profiles: built-ins load, a broken profile is refused with every problem named."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from adapters.onec.profile import BUILTIN_DIR, Addressing, load_profile, parse_profile
from gateway.domain.tasks import Decision, Importance
from gateway.errors import ConfigurationError
from gateway.settings import BUILTIN_PROFILES


def bsp_data() -> dict[str, Any]:
    return tomllib.loads((BUILTIN_DIR / "bsp.toml").read_text(encoding="utf-8"))


def test_the_builtin_profiles_are_the_ones_settings_accept() -> None:
    assert sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")) == sorted(BUILTIN_PROFILES)
    for name in BUILTIN_PROFILES:
        assert load_profile(name).name == name


def test_bsp_offers_approval_only_and_reads_the_design_fields() -> None:
    profile = load_profile("bsp")
    assert list(profile.decisions) == [Decision.APPROVE]
    assert profile.task_set == "Task_ЗадачаИсполнителя"
    assert profile.pending_filter == "Executed eq false and DeletionMark eq false"
    assert profile.task_fields["performer"] == "Исполнитель"
    assert profile.importance["Высокая"] is Importance.HIGH
    approve = profile.decisions[Decision.APPROVE]
    assert [op.action or "patch" for op in approve.operations] == ["patch", "ExecuteTask"]


def test_a_profile_file_path_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "holding.toml"
    path.write_text((BUILTIN_DIR / "bsp.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_profile(str(path)).name == "bsp"


def test_a_missing_or_unparsable_profile_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no profile 'holding'"):
        load_profile("holding")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_profile(str(bad))


def test_every_problem_of_a_profile_is_listed_with_its_key() -> None:
    data = bsp_data()
    del data["tasks"]["fields"]["performer"]
    data["tasks"]["fields"]["perfomer"] = "Исполнитель"
    data["tasks"]["importance"]["Срочная"] = "urgent"
    data["decisions"]["approve"]["operations"][0]["patch"]["РезультатВыполнения"] = "{who}"
    data["decisions"]["reject"] = {"label": "Отклонено", "operations": [{"action": "ExecuteTask"}]}
    data["documents"]["Document_ЭкземплярОтчета"]["fields"][0]["format"] = "percent"
    with pytest.raises(ConfigurationError) as caught:
        parse_profile(data, "holding.toml")
    message = str(caught.value)
    assert "tasks.fields.performer: expected a non-empty string" in message
    assert "[tasks.fields]: unknown keys perfomer" in message
    assert "tasks.importance.Срочная: 'urgent' is not normal/high/low" in message
    assert "decisions.approve.operations[0].patch.РезультатВыполнения: bad template" in message
    assert "[decisions.reject]: 'reject' is not one of" in message
    assert "fields[0].format: 'percent' is not one of" in message


def test_a_profile_without_approval_is_refused() -> None:
    data = bsp_data()
    del data["decisions"]["approve"]
    with pytest.raises(ConfigurationError, match="every profile must define approval"):
        parse_profile(data)


def test_a_server_offset_is_read_and_a_bad_one_named() -> None:
    data = bsp_data()
    data["server_utc_offset"] = "+03:00"
    tz = parse_profile(data).server_timezone
    assert tz is not None and str(tz) == "UTC+03:00"
    data["server_utc_offset"] = "MSK"
    with pytest.raises(ConfigurationError, match="server_utc_offset: 'MSK'"):
        parse_profile(data)


def test_addressing_names_default_to_bsp_and_may_be_renamed() -> None:
    assert load_profile("bsp").addressing == Addressing()
    assert Addressing().register == "InformationRegister_ИсполнителиЗадач"
    data = bsp_data()
    data["addressing"] = {"register": "InformationRegister_ИсполнителиЗадачУХ"}
    assert parse_profile(data).addressing.register == "InformationRegister_ИсполнителиЗадачУХ"
    data["addressing"] = {"regster": "x"}
    with pytest.raises(ConfigurationError, match=r"\[addressing\]: unknown keys regster"):
        parse_profile(data)


def test_only_the_sandbox_profile_names_an_approval_process() -> None:
    assert load_profile("sandbox").approval_processes == ("BusinessProcess_Согласование",)
    assert load_profile("bsp").approval_processes == ()
