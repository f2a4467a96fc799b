"""Standard OData reads: $metadata, JSON shapes, $filter (incl. the cast rule), $select, paging."""

from __future__ import annotations

from typing import Any

from lxml import etree

TASKS = "Task_ЗадачаИсполнителя"
USERS = "Catalog_Пользователи"
PAYMENT = "Document_ЗаявкаНаРасходованиеДенежныхСредств"
PENDING = "Executed eq false and DeletionMark eq false"
EMPTY_REF = "00000000-0000-0000-0000-000000000000"


def test_metadata_is_csdl_xml_with_task_fields_and_bound_actions(odata: Any) -> None:
    answer = odata.session.get(odata.url("$metadata"), timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/xml")
    root = etree.fromstring(answer.content)
    edm = "{http://schemas.microsoft.com/ado/2009/11/edm}"
    task_type = root.find(f".//{edm}EntityType[@Name='{TASKS}']")
    assert task_type is not None
    names = {p.get("Name") for p in task_type.findall(f"{edm}Property")}
    for field in (
        "Ref_Key",
        "DataVersion",
        "DeletionMark",
        "Executed",
        "BusinessProcess",
        "BusinessProcess_Type",
        "RoutePoint",
        "Исполнитель",
        "Исполнитель_Type",
        "Предмет",
        "Предмет_Type",
        "РезультатВыполнения",
        "РешениеСогласования",
        "НомерЭтапа",
    ):
        assert field in names
    functions = {
        (f.get("Name"), f.find(f"{edm}Parameter").get("Type"))
        for f in root.iter(f"{edm}FunctionImport")
    }
    assert ("ExecuteTask", f"StandardODATA.{TASKS}") in functions
    assert ("Post", f"StandardODATA.{PAYMENT}") in functions


def test_collections_come_with_odata_metadata_and_value(odata: Any) -> None:
    body = odata.get(USERS).json()
    assert body["odata.metadata"].endswith(f"/$metadata#{USERS}")
    assert len(body["value"]) == 10


def test_the_three_metadata_levels_differ_as_in_odata_v3(odata: Any) -> None:
    none = odata.get(USERS, **{"$format": "application/json;odata=nometadata", "$top": "1"}).json()
    full = odata.get(
        USERS, **{"$format": "application/json;odata=fullmetadata", "$top": "1"}
    ).json()
    minimal = odata.session.get(
        odata.url(USERS), params={"$top": "1"}, headers={"Accept": "application/json"}, timeout=30
    ).json()
    assert "odata.metadata" not in none
    assert "odata.metadata" in minimal and "odata.type" not in minimal["value"][0]
    entity = full["value"][0]
    assert entity["odata.type"] == f"StandardODATA.{USERS}"
    assert entity["odata.id"].endswith(f"{USERS}(guid'{entity['Ref_Key']}')")


def test_data_without_json_requested_is_refused_since_only_json_is_emulated(odata: Any) -> None:
    answer = odata.session.get(odata.url(USERS), timeout=30)
    assert answer.status_code == 406
    assert odata.error(answer)[0] == "14"


def test_plain_eq_on_a_composite_field_matches_nothing_but_cast_matches(
    odata: Any, users: Any
) -> None:
    petrova = users["Петрова"]["id"]
    plain = odata.rows(TASKS, **{"$filter": f"Исполнитель eq guid'{petrova}'"})
    cast = odata.rows(TASKS, **{"$filter": f"Исполнитель eq cast(guid'{petrova}', '{USERS}')"})
    assert plain == []
    assert cast and all(row["Исполнитель"] == petrova for row in cast)
    assert all(row["Исполнитель_Type"] == f"StandardODATA.{USERS}" for row in cast)


def test_cast_to_another_type_does_not_match(odata: Any, users: Any) -> None:
    petrova = users["Петрова"]["id"]
    rows = odata.rows(
        TASKS, **{"$filter": f"Исполнитель eq cast(guid'{petrova}', 'Catalog_Организации')"}
    )
    assert rows == []


def test_filter_combines_and_or_not_with_parentheses(odata: Any, users: Any) -> None:
    everything = odata.rows(TASKS)
    pending = odata.rows(TASKS, **{"$filter": PENDING})
    executed = odata.rows(TASKS, **{"$filter": "not (Executed eq false) or DeletionMark eq true"})
    assert len(pending) == 5
    assert len(pending) + len(executed) == len(everything)
    stage_two = odata.rows(
        TASKS, **{"$filter": f"({PENDING}) and (НомерЭтапа ge 2 or Важность eq 'Высокая')"}
    )
    assert {row["НомерЭтапа"] for row in stage_two} == {1, 2}
    assert len(stage_two) == 2


def test_filter_understands_datetime_guid_numbers_and_doubled_quotes(odata: Any) -> None:
    later = odata.rows(TASKS, **{"$filter": "Date gt datetime'2026-11-20T09:10:00'"})
    assert later and all(row["Date"] > "2026-11-20T09:10:00" for row in later)
    big = odata.rows(PAYMENT, **{"$filter": "СуммаДокумента ge 100000"})
    assert {row["СуммаДокумента"] for row in big} == {1250000, 384500.5}
    quoted = odata.rows(
        USERS, **{"$filter": "Description eq 'O''Brien' or Description eq 'Администратор'"}
    )
    assert [row["Description"] for row in quoted] == ["Администратор"]
    one = odata.rows(USERS, **{"$filter": f"Ref_Key eq guid'{quoted[0]['Ref_Key']}'"})
    assert len(one) == 1


def test_substringof_finds_text_case_insensitively(odata: Any) -> None:
    rows = odata.rows(USERS, **{"$filter": "substringof('петрова ', Description)"})
    assert [row["Description"] for row in rows] == ["Петрова Анна Сергеевна"]


def test_unsupported_functions_and_bad_syntax_are_error_14(odata: Any) -> None:
    for text in (
        "tolower(Description) eq 'x'",
        "length(Description) gt 1",
        "Description eq",
        "Nope eq 1",
    ):
        answer = odata.get(USERS, **{"$filter": text})
        assert answer.status_code == 400, text
        assert odata.error(answer)[0] == "14"


def test_comparing_a_guid_field_with_a_string_is_refused(odata: Any) -> None:
    answer = odata.get(USERS, **{"$filter": f"Ref_Key eq '{EMPTY_REF}'"})
    assert odata.error(answer)[0] == "14"


def test_select_returns_only_chosen_fields_and_presentations(odata: Any) -> None:
    rows = odata.rows(
        TASKS,
        **{
            "$filter": PENDING,
            "$select": "Ref_Key,Исполнитель,Предмет____Presentation,Исполнитель____Presentation",
        },
    )
    assert set(rows[0]) == {
        "Ref_Key",
        "Исполнитель",
        "Исполнитель_Type",
        "Предмет____Presentation",
        "Исполнитель____Presentation",
    }
    assert rows[0]["Предмет____Presentation"].startswith(
        "Заявка на расходование денежных средств 0000-"
    )
    document = odata.rows(
        PAYMENT, **{"$top": "1", "$select": "Number,Организация____Presentation"}
    )[0]
    assert document == {
        "Number": "0000-000001",
        "Организация____Presentation": "АО «Уральский холдинг»",
    }


def test_top_skip_orderby_and_inlinecount_page_a_collection(odata: Any) -> None:
    ordered = odata.rows(TASKS, **{"$orderby": "Number desc"})
    body = odata.get(
        TASKS, **{"$orderby": "Number desc", "$top": "3", "$skip": "2", "$inlinecount": "allpages"}
    ).json()
    assert body["odata.count"] == str(len(ordered))
    assert [row["Number"] for row in body["value"]] == [row["Number"] for row in ordered[2:5]]
    assert "odata.nextLink" not in body


def test_a_single_entity_is_read_by_its_guid_key(odata: Any) -> None:
    first = odata.rows(TASKS, **{"$top": "1"})[0]
    entity = odata.entity(f"{TASKS}(guid'{first['Ref_Key']}')")
    assert entity["odata.metadata"].endswith(f"#{TASKS}/@Element")
    assert entity["Ref_Key"] == first["Ref_Key"]


def test_expand_on_a_single_entity_is_refused(odata: Any) -> None:
    first = odata.rows(TASKS, **{"$top": "1"})[0]
    answer = odata.get(f"{TASKS}(guid'{first['Ref_Key']}')", **{"$expand": "Исполнитель"})
    assert odata.error(answer)[0] == "14"


def test_tabular_sections_are_embedded_with_line_numbers_as_strings(odata: Any) -> None:
    document = odata.rows(PAYMENT, **{"$top": "1"})[0]
    lines = document["РасшифровкаПлатежа"]
    assert [line["LineNumber"] for line in lines] == ["1", "2"]
    assert lines[0]["Ref_Key"] == document["Ref_Key"]
    petrova = odata.rows(USERS, **{"$filter": "substringof('Петрова', Description)"})[0]
    phones = petrova["КонтактнаяИнформация"]
    assert [(p["Тип"], p["Представление"]) for p in phones] == [
        ("Телефон", "+7 (912) 111-22-33"),
        ("Телефон", "+7 (343) 210-00-01"),
    ]


def test_empty_references_and_dates_read_as_1c_writes_them(odata: Any) -> None:
    task = odata.rows(TASKS, **{"$filter": PENDING, "$top": "1"})[0]
    assert task["РольИсполнителя_Key"] == EMPTY_REF
    assert task["ДатаИсполнения"] == "0001-01-01T00:00:00"
    assert "+" not in task["Date"] and not task["Date"].endswith("Z")


def test_invalid_and_deleted_users_are_visible_through_odata(odata: Any) -> None:
    flags = {
        row["Description"]: (row["Недействителен"], row["DeletionMark"])
        for row in odata.rows(USERS)
    }
    assert flags["Кузнецова Мария Андреевна"] == (True, False)
    assert flags["Лебедев Олег Игоревич"] == (False, True)


def test_business_process_exposes_stage_number_count_and_route(odata: Any) -> None:
    task = odata.rows(TASKS, **{"$filter": f"{PENDING} and НомерЭтапа eq 2"})[0]
    process = odata.entity(f"BusinessProcess_Согласование(guid'{task['BusinessProcess']}')")
    assert task["BusinessProcess_Type"] == "StandardODATA.BusinessProcess_Согласование"
    assert process["ТекущийЭтап"] == 2 and process["КоличествоЭтапов"] == 2
    assert process["Состояние"] == "Активен"
    assert [line["НаименованиеЭтапа"] for line in process["Маршрут"]] == [
        "Согласование финансовой службой",
        "Утверждение",
    ]


def test_bad_urls_and_unknown_keys_answer_codes_6_and_9(odata: Any) -> None:
    assert odata.error(odata.get("Catalog_НетТакого"))[0] == "6"
    assert odata.error(odata.get(f"{TASKS}(guid'not-a-guid')"))[0] == "6"
    missing = odata.get(f"{TASKS}(guid'{EMPTY_REF}')")
    assert missing.status_code == 404
    assert odata.error(missing)[0] == "9"


def test_unknown_query_options_and_bad_paging_are_error_14(odata: Any) -> None:
    for params in (
        {"$top": "-1"},
        {"$skip": "x"},
        {"$inlinecount": "some"},
        {"$search": "x"},
        {"$orderby": "Nope"},
    ):
        assert odata.error(odata.get(TASKS, **params))[0] == "14", params


def test_count_segment_counts_the_filtered_collection(odata: Any) -> None:
    answer = odata.session.get(
        odata.url(f"{TASKS}/$count"), params={"$filter": PENDING}, timeout=30
    )
    assert answer.text == "5"
