"""OData facts of design 5.2: tabular sections as sets, Edm types, $expand, UTF-8 query strings."""

from __future__ import annotations

import base64
import socket
from typing import Any
from urllib.parse import quote, urlsplit

from lxml import etree

PAYMENT = "Document_ЗаявкаНаРасходованиеДенежныхСредств"
EDM = "{http://schemas.microsoft.com/ado/2009/11/edm}"


def _metadata(odata: Any) -> etree._Element:
    answer = odata.session.get(odata.url("$metadata"), timeout=30)
    assert answer.status_code == 200
    return etree.fromstring(answer.content)


def _entity_type(root: etree._Element, name: str) -> etree._Element:
    (found,) = [e for e in root.iter(f"{EDM}EntityType") if e.get("Name") == name]
    return found


def _types(entity_type: etree._Element) -> dict[str, str]:
    return {p.get("Name"): p.get("Type") for p in entity_type.iter(f"{EDM}Property")}


def _raw_get(onec: Any, target: bytes) -> tuple[int, bytes]:
    """A GET whose request target is sent byte for byte, as a careless client would send it."""
    host, port = urlsplit(onec.url).netloc.split(":")
    auth = base64.b64encode("Шлюз:sandbox".encode()).decode()
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: onec\r\nConnection: close\r\n"
            b"Accept: application/json\r\nAuthorization: Basic " + auth.encode() + b"\r\n\r\n"
        )
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_tabular_sections_are_entity_sets_of_their_own_and_stay_embedded(
    odata: Any, users: Any
) -> None:
    petrova = users["Петрова"]["id"]
    embedded = odata.entity(f"Catalog_Пользователи(guid'{petrova}')")["КонтактнаяИнформация"]
    rows = odata.rows(
        "Catalog_Пользователи_КонтактнаяИнформация", **{"$filter": f"Ref_Key eq guid'{petrova}'"}
    )
    assert rows == embedded
    assert [(r["Ref_Key"], r["LineNumber"]) for r in rows] == [(petrova, "1"), (petrova, "2")]
    lines = odata.rows(f"{PAYMENT}_РасшифровкаПлатежа", **{"$filter": "Сумма gt 300000"})
    assert {line["Сумма"] for line in lines} == {625000}
    assert odata.rows(f"{PAYMENT}_РасшифровкаПлатежа", **{"$filter": "LineNumber eq 2"})


def test_a_tabular_section_set_is_keyed_by_ref_key_and_line_number(odata: Any) -> None:
    root = _metadata(odata)
    entity_type = _entity_type(root, "Catalog_Пользователи_КонтактнаяИнформация")
    keys = [k.get("Name") for k in entity_type.iter(f"{EDM}PropertyRef")]
    assert keys == ["Ref_Key", "LineNumber"]
    single = odata.get(
        f"Catalog_Пользователи_КонтактнаяИнформация(guid'{'0' * 8}-0000-0000-0000-{'0' * 12}')"
    )
    assert odata.error(single)[0] == "6"
    register = _entity_type(root, "InformationRegister_ИсполнителиЗадач")
    assert [k.get("Name") for k in register.iter(f"{EDM}PropertyRef")] == [
        "РольИсполнителя_Key",
        "Исполнитель",
        "ОсновнойОбъектАдресации",
        "ДополнительныйОбъектАдресации",
    ]


def test_metadata_types_numbers_as_double_and_line_numbers_as_int64(odata: Any) -> None:
    root = _metadata(odata)
    document = _types(_entity_type(root, PAYMENT))
    assert document["СуммаДокумента"] == "Edm.Double"
    tasks = _types(_entity_type(root, "Task_ЗадачаИсполнителя"))
    assert tasks["НомерЭтапа"] == "Edm.Double"
    assert tasks["ПринятаКИсполнению"] == "Edm.Boolean"
    assert tasks["СостояниеБизнесПроцесса"] == "Edm.String"
    row_types = {c.get("Name"): _types(c) for c in root.iter(f"{EDM}ComplexType")}
    assert row_types[f"{PAYMENT}_РасшифровкаПлатежа_RowType"]["LineNumber"] == "Edm.Int64"
    assert row_types[f"{PAYMENT}_РасшифровкаПлатежа_RowType"]["Сумма"] == "Edm.Double"
    assert _types(_entity_type(root, f"{PAYMENT}_РасшифровкаПлатежа"))["LineNumber"] == "Edm.Int64"
    amounts = [d["СуммаДокумента"] for d in odata.rows(PAYMENT)]
    assert all(isinstance(a, int | float) for a in amounts)
    assert 384500.5 in amounts


def test_references_have_navigation_properties_that_expand_on_collections(odata: Any) -> None:
    root = _metadata(odata)
    document = _entity_type(root, PAYMENT)
    navigation = {n.get("Name") for n in document.iter(f"{EDM}NavigationProperty")}
    assert {"Контрагент", "Организация", "Валюта", "Автор"} <= navigation
    associations = {a.get("Name") for a in root.iter(f"{EDM}Association")}
    assert f"{PAYMENT}_Контрагент" in associations
    rows = odata.rows(PAYMENT, **{"$expand": "Контрагент,Автор", "$select": "Number,Контрагент"})
    first = rows[0]
    assert first["Контрагент"]["Description"] == "ООО «ТехноСервис»"
    assert first["Контрагент"]["Ref_Key"] == odata.rows(PAYMENT)[0]["Контрагент_Key"]
    assert first["Автор"]["Description"] == "Иванов Иван Петрович"
    tasks = odata.rows("Task_ЗадачаИсполнителя", **{"$expand": "РольИсполнителя", "$top": "1"})
    assert tasks[0]["РольИсполнителя"] is None
    unknown = odata.get(PAYMENT, **{"$expand": "Нет"})
    nested = odata.get(PAYMENT, **{"$expand": "Контрагент/Автор"})
    assert odata.error(unknown)[0] == "14"
    assert odata.error(nested)[0] == "14"
    single = odata.get(f"{PAYMENT}(guid'{first['Контрагент']['Ref_Key']}')", **{"$expand": "Автор"})
    assert odata.error(single)[0] == "14"


def test_a_query_string_in_raw_utf8_is_read_as_the_client_meant(onec: Any) -> None:
    path = quote("/uh/odata/standard.odata/Catalog_Контрагенты").encode()
    query = "?$format=json&$filter=Description%20eq%20'ООО%20«ТехноСервис»'".encode()
    status, body = _raw_get(onec, path + query)
    assert status == 200, body
    assert b"7700000001" in body
    raw_path = "/uh/odata/standard.odata/Catalog_Контрагенты?$format=json".encode()
    status, body = _raw_get(onec, raw_path)
    assert status == 200, body
    assert "ООО «ТехноСервис»".encode() in body


def test_a_query_string_that_is_not_utf8_is_refused_never_misread(onec: Any) -> None:
    path = quote("/uh/odata/standard.odata/Catalog_Контрагенты").encode()
    cp1251 = "'ООО'".encode("cp1251")
    for query in (
        b"?$format=json&$filter=Description%20eq%20" + cp1251,
        b"?$format=json&$filter=Description%20eq%20" + quote(cp1251).encode(),
    ):
        status, body = _raw_get(onec, path + query)
        assert status == 400, body
        assert b'"code": "14"' in body
        assert "не в кодировке UTF-8".encode() in body


def test_a_purchase_order_differs_from_the_profiled_types_and_reads_through_metadata(
    onec: Any, odata: Any, users: Any
) -> None:
    started = onec.client.create_approval(
        [users["Морозов"]["id"]],
        users["Иванов"]["id"],
        {
            "Контрагент": "АО «Энергосбыт Плюс»",
            "Склад": "Склад запчастей",
            "СуммаЗаказа": "52500",
            "Товары": [
                {
                    "Номенклатура": "Подшипник 6205-2RS",
                    "Количество": "10",
                    "Цена": "450",
                    "Сумма": "4500",
                },
                {
                    "Номенклатура": "Масло индустриальное И-40А, 200 л",
                    "Количество": "2.5",
                    "Цена": "19200",
                    "Сумма": "48000",
                },
            ],
        },
        document_type="ЗаказПоставщику",
    )
    order_set = "Document_ЗаказПоставщику"
    root = _metadata(odata)
    assert _types(_entity_type(root, f"{order_set}_Товары"))["Номенклатура_Key"] == "Edm.Guid"
    assert "Склад" in {
        n.get("Name") for n in _entity_type(root, order_set).iter(f"{EDM}NavigationProperty")
    }
    (order,) = odata.rows(order_set, **{"$expand": "Склад"})
    assert order["Ref_Key"] == started["document_id"]
    assert (order["СуммаЗаказа"], order["Склад"]["Description"]) == (52500, "Склад запчастей")
    lines = odata.rows(f"{order_set}_Товары")
    assert [line["Количество"] for line in lines] == [10, 2.5]
    items = {i["Ref_Key"]: i["Description"] for i in odata.rows("Catalog_Номенклатура")}
    assert items[lines[0]["Номенклатура_Key"]] == "Подшипник 6205-2RS"
    subject = onec.client.task(started["task_id"])["subject"]
    assert {"name": "Склад", "value": "Склад запчастей"} in subject["fields"]
    (table,) = subject["tables"]
    assert table["columns"] == ["№", "Номенклатура", "Количество", "Цена", "Сумма"]
    assert table["rows"][1] == [
        "2",
        "Масло индустриальное И-40А, 200 л",
        "2,5",
        "19 200,00",
        "48 000,00",
    ]
