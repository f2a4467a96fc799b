"""Profile names checked against `$metadata`: what the infobase lacks is left out, named once."""

from __future__ import annotations

import logging

import pytest

from adapters.onec.metadata import EntitySet, Property, TabularSection
from adapters.onec.odata_schema import RETRY_SECONDS, Schema
from gateway.errors import UpstreamUnavailable

TASKS = EntitySet(
    "Task_ЗадачаИсполнителя",
    (Property("DataVersion", "Edm.String"), Property("Исполнитель", "Edm.String", True)),
    (TabularSection("Строки", ()),),
)


def test_names_the_set_lacks_are_left_out_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    schema = Schema(lambda: [TASKS])
    names = ["Ref_Key", "DataVersion", "Исполнитель", "Исполнитель_Type", "Строки", "НомерЭтапа"]
    with caplog.at_level(logging.WARNING):
        assert schema.keep(TASKS.name, names) == names[:-1]
        assert schema.keep(TASKS.name, names) == names[:-1]
    assert schema.missing == ["Task_ЗадачаИсполнителя.НомерЭтапа"]
    assert len([r for r in caplog.records if "НомерЭтапа" in r.getMessage()]) == 1
    assert not schema.has_set("InformationRegister_ИсполнителиЗадач")


def test_while_metadata_cannot_be_read_the_profile_is_trusted_and_asked_again_later() -> None:
    now = [0.0]
    calls = []

    def read() -> list[EntitySet]:
        calls.append(now[0])
        if len(calls) == 1:
            raise UpstreamUnavailable("1C", "down")
        return [TASKS]

    schema = Schema(read, clock=lambda: now[0])
    assert schema.keep(TASKS.name, ["НомерЭтапа"]) == ["НомерЭтапа"]
    assert schema.has_set("InformationRegister_ИсполнителиЗадач")
    assert len(calls) == 1
    now[0] = RETRY_SECONDS + 1
    assert schema.keep(TASKS.name, ["НомерЭтапа"]) == []
    assert len(calls) == 2
