"""The deterministic seeds: a small holding's УХ (its people and a handful of approvals in
progress) and, for several bases, a company's ERP with other people, ids and tasks."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.onec import addressing, routing
from sandbox.onec.documents import PAYMENT_REQUEST, REPORT_INSTANCE
from sandbox.onec.model import UH_NUMBER_PREFIX, USERS, CatalogItem, Infobase, guid
from sandbox.onec.state import DEFAULT_SEED, Sandbox

SEED_START = datetime(2026, 11, 20, 9, 0, 0)


@dataclass(frozen=True)
class SeedUser:
    """A seeded 1C user: login, full name, phones (as 1C presents them), flags."""

    key: str
    login: str
    name: str
    phones: tuple[str, ...] = ()
    invalid: bool = False
    deleted: bool = False

    @property
    def ref(self) -> uuid.UUID:
        """The user's fixed Ref_Key."""
        return guid(USERS, self.key)


SEED_USERS = (
    SeedUser("admin", "Администратор", "Администратор"),
    SeedUser("gateway", "Шлюз", "Шлюз Telegram (служебный)"),
    SeedUser("ivanov", "ИвановИП", "Иванов Иван Петрович", ("+7 (912) 345-67-89",)),
    SeedUser(
        "petrova",
        "ПетроваАС",
        "Петрова Анна Сергеевна",
        ("+7 (912) 111-22-33", "+7 (343) 210-00-01"),
    ),
    SeedUser("sidorov", "СидоровПН", "Сидоров Павел Николаевич", ("+7 (922) 555-44-33",)),
    SeedUser("sidorova", "СидороваЕВ", "Сидорова Елена Викторовна", ("+7 (922) 555-44-33",)),
    SeedUser("morozov", "МорозовДО", "Морозов Дмитрий Олегович", ("+7 (912) 700-80-90",)),
    SeedUser("volkov", "ВолковСА", "Волков Сергей Александрович", ("+7 (912) 999-00-11",)),
    SeedUser(
        "kuznetsova",
        "КузнецоваМА",
        "Кузнецова Мария Андреевна",
        ("+7 (900) 100-20-30",),
        invalid=True,
    ),
    SeedUser(
        "lebedev", "ЛебедевОИ", "Лебедев Олег Игоревич", ("+7 (912) 000-00-01",), deleted=True
    ),
)
SEED_USERS_BY_KEY = {user.key: user for user in SEED_USERS}

# The ERP of ООО «Уральская сталь»: other 1C users (other ids), one of them the УХ's Морозов
# under another name and login with the same mobile number, written the way ERP's card has it.
ERP_USERS = (
    SeedUser("erp-admin", "Администратор", "Администратор"),
    SeedUser("erp-gateway", "Шлюз", "Шлюз Telegram (служебный)"),
    SeedUser("erp-morozov", "МорозовДО", "Морозов Д. О. (Уральская сталь)", ("+7 912 700-80-90",)),
    SeedUser("erp-nikitin", "НикитинАВ", "Никитин Андрей Викторович", ("+7 (912) 321-00-77",)),
    SeedUser("erp-sokolova", "СоколоваИП", "Соколова Ирина Павловна", ("+7 (912) 444-55-66",)),
)
ERP_USERS_BY_KEY = {user.key: user for user in ERP_USERS}
# The УХ task whose GUID the ERP seed gives one of its own tasks: ids are unique within an
# infobase only, and a gateway serving both must keep the two tasks apart.
SHARED_TASK_PURPOSE = "Аванс за сервисное обслуживание"

ORGANIZATIONS = (
    ("АО «Уральский холдинг»", "6670000001", "667001001"),
    ("ООО «Уральская сталь»", "6670000002", "667001001"),
    ("ООО «Торговый дом Урал»", "6670000003", "667001001"),
)
COUNTERPARTIES = (("ООО «ТехноСервис»", "7700000001"), ("АО «Энергосбыт Плюс»", "5600000002"))
TECHNO, ENERGO = (name for name, _ in COUNTERPARTIES)  # the payees of the seeded requests
ERP_COUNTERPARTIES = (("ООО «МеталлТорг»", "6600000011"), ("АО «ТрансЛогистик»", "6600000012"))
CURRENCIES = (("643", "руб."), ("840", "USD"))
REPORT_KINDS = ("Бюджет движения денежных средств", "Отчет о прибылях и убытках")
# Performer roles and users groups of the seed; no seeded task is addressed to a role.
ROLE_FINANCE = "Финансовый контроль"  # three performers, no addressing object
ROLE_CFO = "Финансовый директор"  # one performer per organization
USERS_GROUP = "Пользователи Telegram"
ADMINS_GROUP = "Администраторы Telegram"
PERIODS = ("Октябрь 2026", "3 квартал 2026")
WAREHOUSES = ("Основной склад", "Склад запчастей")
ITEMS = (("Подшипник 6205-2RS", "SKF-6205"), ("Масло индустриальное И-40А, 200 л", "И-40А-200"))


def phone_digits(text: str) -> str:
    """A phone as international digits, as the gateway's extension reads a card: written with
    "+" it is international already (but "+89…" is a Russian `8…`: no country code starts with
    89); otherwise `8XXXXXXXXXX` and ten digits are Russian local forms of `7XXXXXXXXXX`."""
    digits = "".join(ch for ch in text if ch.isdigit())
    trunk = len(digits) == 11 and digits.startswith("8")
    if text.strip().startswith("+") and not (trunk and digits.startswith("89")):
        return digits
    if trunk:
        return "7" + digits[1:]
    return "7" + digits if len(digits) == 10 else digits


@dataclass(frozen=True)
class Seed:
    """One infobase to seed: its title, number prefix, users and who starts or gets tasks."""

    name: str
    title: str
    number_prefix: str
    users: tuple[SeedUser, ...]
    fill: Callable[[Infobase], None]
    admin: str  # user keys: the default author of assignments,
    initiator: str  # the initiator of bulk approvals,
    approver: str  # and their default approver

    def ref(self, key: str) -> uuid.UUID:
        """The GUID of one of this seed's users (by key)."""
        return next(user.ref for user in self.users if user.key == key)


def seed(ib: Infobase, kind: str = DEFAULT_SEED) -> None:
    """Fill an empty infobase with a seed ("uh" or "erp"); times are fixed so every start is
    the same."""
    chosen = SEEDS[kind]
    with ib.lock, _fixed_clock(ib):
        ib.number_prefix = chosen.number_prefix
        chosen.fill(ib)


def _fill_uh(ib: Infobase) -> None:
    """The УХ seed: the holding's people, roles, groups and six approvals."""
    _catalogs(ib, SEED_USERS, ORGANIZATIONS, COUNTERPARTIES)
    u = {key: user.ref for key, user in SEED_USERS_BY_KEY.items()}
    _addressing(ib, u)

    def pay(purpose: str, counterparty: str, amount: str, route: str, **options: Any) -> None:
        """A payment request by Иванов (unless `initiator`) along `route` (user keys)."""
        initiator = u[options.pop("initiator", "ivanov")]
        people = [u[key] for key in route.split()]
        _approval(ib, PAYMENT_REQUEST, counterparty, amount, purpose, people, initiator, **options)

    pay("Оплата ремонта прокатного стана", TECHNO, "1250000", "petrova morozov volkov")
    pay("Оплата электроэнергии за октябрь", ENERGO, "384500.5", "sidorov morozov", approve=1)
    pay(
        "Аванс за сервисное обслуживание",
        TECHNO,
        "96000",
        "morozov volkov",
        initiator="petrova",
        importance="Высокая",
    )
    _report(ib, [u["petrova"], u["volkov"]], u["ivanov"])
    pay("Оплата связи", ENERGO, "15000", "petrova", approve=1)
    pay("Закупка канцелярских товаров", TECHNO, "42000", "sidorova", due_days=None)


def _fill_erp(ib: Infobase) -> None:
    """The ERP seed: the company's people, a role, groups and four approvals, one of them with
    the GUID of a УХ task (SHARED_TASK_PURPOSE), pending on the ERP Морозов."""
    _catalogs(ib, ERP_USERS, ORGANIZATIONS[1:2], ERP_COUNTERPARTIES)
    u = {key: user.ref for key, user in ERP_USERS_BY_KEY.items()}
    finance = addressing.create_role(ib, ROLE_FINANCE)
    addressing.set_performers(
        ib, finance.ref, [(u[key], addressing.NO_OBJECT) for key in ("erp-morozov", "erp-nikitin")]
    )
    people = ("erp-morozov", "erp-nikitin", "erp-sokolova")
    addressing.create_user_group(ib, USERS_GROUP, [u[key] for key in people])
    addressing.create_user_group(ib, ADMINS_GROUP, [u["erp-nikitin"]])
    metal, transport = (name for name, _ in ERP_COUNTERPARTIES)

    def pay(purpose: str, counterparty: str, amount: str, route: str, **options: Any) -> None:
        """A payment request by Соколова along `route` (user keys)."""
        people = [u[key] for key in route.split()]
        _approval(
            ib, PAYMENT_REQUEST, counterparty, amount, purpose, people, u["erp-sokolova"], **options
        )

    pay("Оплата металлопроката по договору 15/26", metal, "2840000", "erp-morozov erp-nikitin")
    pay(
        "Оплата перевозки рулонной стали", transport, "318000", "erp-nikitin erp-morozov", approve=1
    )
    pay("Закупка спецодежды", metal, "57400", "erp-nikitin")
    pay(
        "Оплата аудиторских услуг",
        transport,
        "120000",
        "erp-morozov",
        task_ref=_uh_task_ref(SHARED_TASK_PURPOSE),
    )


def _uh_task_ref(purpose: str) -> uuid.UUID:
    """The GUID of the first task of the УХ seed's payment request for `purpose`."""
    uh = Infobase()
    seed(uh, "uh")
    tasks = sorted(uh.tasks.values(), key=lambda task: task.ordinal)
    return next(
        task.ref
        for task in tasks
        if (document := uh.find_document(task.subject.ref)) is not None
        and document.attrs.get("НазначениеПлатежа") == purpose
    )


SEEDS: dict[str, Seed] = {
    "uh": Seed("uh", "УХ", UH_NUMBER_PREFIX, SEED_USERS, _fill_uh, "admin", "ivanov", "morozov"),
    "erp": Seed(
        "erp", "ERP", "ЕР00", ERP_USERS, _fill_erp, "erp-admin", "erp-sokolova", "erp-morozov"
    ),
}


def reseed(sandbox: Sandbox) -> None:
    """Empty the infobase and seed it again (plus the configured bulk approvals)."""
    with sandbox.infobase.lock:
        sandbox.infobase.clear()
        sandbox.print_cache.clear()
        seed(sandbox.infobase, sandbox.config.seed)
        if sandbox.config.bulk:
            bulk(sandbox.infobase, sandbox.config.bulk, kind=sandbox.config.seed)


def bulk(
    ib: Infobase,
    count: int,
    performer: uuid.UUID | None = None,
    role: uuid.UUID | None = None,
    kind: str = DEFAULT_SEED,
) -> int:
    """Add `count` one-stage approvals pending on one approver or role (load tests: 10,000);
    by default on the seed `kind`'s approver (УХ: Морозов)."""
    chosen = SEEDS[kind]
    approver: routing.Performer = (
        routing.RoleRoute(role) if role else performer or chosen.ref(chosen.approver)
    )
    initiator = chosen.ref(chosen.initiator)
    with ib.lock:
        for n in range(count):
            amount = Decimal(1000 + n % 997 * 10)
            document = routing.create_document(
                ib,
                PAYMENT_REQUEST,
                {
                    "СуммаДокумента": amount,
                    "НазначениеПлатежа": f"Платеж по массовой заявке {n + 1}",
                    "РасшифровкаПлатежа": [
                        {
                            "СтатьяДвиженияДенежныхСредств": "Прочие расходы",
                            "Назначение": "Массовая заявка",
                            "Сумма": amount,
                        }
                    ],
                },
                author=initiator,
            )
            routing.start_approval(ib, document, [approver], initiator)
    return count


def phone_rows(phones: tuple[str, ...] | list[str]) -> list[dict[str, object]]:
    """`КонтактнаяИнформация` rows for phones as 1C keeps them."""
    return [
        {
            "LineNumber": n,
            "Тип": "Телефон",
            "Вид": "Мобильный телефон" if n == 1 else "Рабочий телефон",
            "Представление": phone,
            "НомерТелефона": "+" + phone_digits(phone),
        }
        for n, phone in enumerate(phones, start=1)
    ]


def add_user(ib: Infobase, user: SeedUser) -> CatalogItem:
    """A user card in `Catalog_Пользователи` (seed, or created through the control API)."""
    item = CatalogItem(
        USERS,
        user.ref,
        user.name,
        code=f"{len(ib.catalog(USERS)) + 1:09d}",
        attrs={
            "Недействителен": user.invalid,
            "ИдентификаторПользователяИБ": guid("ib-user", user.key),
        },
        tables={"КонтактнаяИнформация": phone_rows(user.phones)},
        deletion_mark=user.deleted,
        login=user.login,
    )
    ib.add_catalog_item(item)
    return item


def _catalogs(
    ib: Infobase,
    users: tuple[SeedUser, ...],
    organizations: tuple[tuple[str, str, str], ...],
    counterparties: tuple[tuple[str, str], ...],
) -> None:
    for user in users:
        add_user(ib, user)
    for n, (name, inn, kpp) in enumerate(organizations, start=1):
        ib.add_catalog_item(
            CatalogItem(
                "Catalog_Организации", guid("org", name), name, f"{n:09d}", {"ИНН": inn, "КПП": kpp}
            )
        )
    for n, (name, inn) in enumerate(counterparties, start=1):
        ib.add_catalog_item(
            CatalogItem(
                "Catalog_Контрагенты",
                guid("Catalog_Контрагенты", name),
                name,
                f"{n:09d}",
                {"ИНН": inn},
            )
        )
    for code, name in CURRENCIES:
        ib.add_catalog_item(CatalogItem("Catalog_Валюты", guid("currency", code), name, code))
    for n, name in enumerate(REPORT_KINDS, start=1):
        ib.add_catalog_item(
            CatalogItem("Catalog_ВидыОтчетов", guid("report-kind", name), name, f"{n:09d}")
        )
    for n, name in enumerate(PERIODS, start=1):
        ib.add_catalog_item(CatalogItem("Catalog_Периоды", guid("period", name), name, f"{n:09d}"))
    for n, name in enumerate(WAREHOUSES, start=1):
        ib.add_catalog_item(
            CatalogItem("Catalog_Склады", guid("warehouse", name), name, f"{n:09d}")
        )
    for n, (name, article) in enumerate(ITEMS, start=1):
        ib.add_catalog_item(
            CatalogItem(
                "Catalog_Номенклатура", guid("item", name), name, f"{n:09d}", {"Артикул": article}
            )
        )


def _addressing(ib: Infobase, u: dict[str, uuid.UUID]) -> None:
    finance = addressing.create_role(ib, ROLE_FINANCE)
    addressing.set_performers(
        ib,
        finance.ref,
        [(u[key], addressing.NO_OBJECT) for key in ("petrova", "morozov", "volkov")],
    )
    cfo = addressing.create_role(ib, ROLE_CFO)
    addressing.set_performers(
        ib,
        cfo.ref,
        [
            (u["volkov"], addressing.organization(ib, ORGANIZATIONS[0][0])),
            (u["morozov"], addressing.organization(ib, ORGANIZATIONS[1][0])),
        ],
    )
    approvers = ("ivanov", "petrova", "sidorov", "sidorova", "morozov", "volkov", "kuznetsova")
    addressing.create_user_group(ib, USERS_GROUP, [u[key] for key in approvers])
    addressing.create_user_group(ib, ADMINS_GROUP, [u["volkov"]])


def _approval(
    ib: Infobase,
    kind: str,
    counterparty: str,
    amount: str,
    purpose: str,
    route: list[uuid.UUID],
    initiator: uuid.UUID,
    approve: int = 0,
    importance: str = "Обычная",
    due_days: int | None = 3,
    task_ref: uuid.UUID | None = None,
) -> None:
    half = Decimal(amount) / 2
    document = routing.create_document(
        ib,
        kind,
        {
            "Контрагент": counterparty,
            "СуммаДокумента": amount,
            "НазначениеПлатежа": purpose,
            "РасшифровкаПлатежа": [
                {
                    "СтатьяДвиженияДенежныхСредств": "Оплата поставщикам",
                    "Назначение": purpose,
                    "Сумма": half,
                },
                {
                    "СтатьяДвиженияДенежныхСредств": "Прочие расходы",
                    "Назначение": "НДС",
                    "Сумма": half,
                },
            ],
        },
        author=initiator,
    )
    _, task = routing.start_approval(
        ib, document, route, initiator, importance=importance, due_days=due_days, task_ref=task_ref
    )
    for _ in range(approve):
        following = routing.execute_task(ib, task, "approve", "Согласовано.")
        if following is None:
            break
        task = following


def _report(ib: Infobase, route: list[uuid.UUID], initiator: uuid.UUID) -> None:
    document = routing.create_document(
        ib,
        REPORT_INSTANCE,
        {
            "ВидОтчета": REPORT_KINDS[0],
            "Период": PERIODS[0],
            "Показатели": [
                {"Показатель": "Поступления от покупателей", "Значение": "48200000"},
                {"Показатель": "Платежи поставщикам", "Значение": "31750000.25"},
                {"Показатель": "Чистый денежный поток", "Значение": "16449999.75"},
            ],
        },
        author=initiator,
    )
    routing.start_approval(ib, document, route, initiator)


@contextmanager
def _fixed_clock(ib: Infobase) -> Iterator[None]:
    """Seeded objects get times one minute apart from SEED_START, whatever the real time."""
    ticks = iter(range(10**9))
    real = ib.clock
    ib.clock = lambda: SEED_START + timedelta(minutes=next(ticks))
    try:
        yield
    finally:
        ib.clock = real
