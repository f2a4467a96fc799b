"""A document type the `bsp`/`sandbox` profile does not describe still reaches the approver whole.

`Document_ЗаказПоставщику` in the 1C emulator has a reference (`Склад`) and a tabular section
(`Товары`, with a reference column) that no built-in profile names: the card and its PDF are made
from `$metadata` on odata, and from 1C's own print form on http (issue 16, point 7).
"""

from __future__ import annotations

import subprocess

import pytest

from sandbox.onec.harness import RunningSandbox
from tests.e2e.conftest import Approver

pytestmark = pytest.mark.usefixtures("worker")

ORDER_LINES = [
    {"Номенклатура": "Подшипник 6205-2RS", "Количество": "10", "Цена": "450", "Сумма": "4500"},
    {
        "Номенклатура": "Масло индустриальное И-40А, 200 л",
        "Количество": "2.5",
        "Цена": "19200",
        "Сумма": "48000",
    },
]


def pdf_text(pdf: bytes) -> str:
    extracted = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(extracted.stdout.decode("utf-8").split())


def test_a_purchase_order_no_profile_describes_arrives_with_its_fields_and_rows(
    onec: RunningSandbox, make_approver
) -> None:
    approver: Approver = make_approver("Морозов")
    approver.connect()
    onec.client.create_approval(
        route=[approver.onec_user["id"]],
        initiator=onec.client.user("Иванов")["id"],
        fields={
            "Контрагент": "АО «Энергосбыт Плюс»",
            "Склад": "Склад запчастей",
            "СуммаЗаказа": "52500",
            "Товары": ORDER_LINES,
        },
        document_type="ЗаказПоставщику",
    )
    card = approver.card("Заказ поставщику")
    assert approver.buttons(card)[0] == "Согласовать"
    text = pdf_text(approver.telegram.client.file(card["document"]["file_id"]))
    for expected in ("Склад запчастей", "Подшипник 6205-2RS", "Масло индустриальное И-40А"):
        assert expected in text
    assert "48 000,00" in text
