"""Every text an approver or admin reads, in Russian (default) and English.

Texts are HTML for Telegram's `parse_mode=HTML`: values from 1C go through `escape` before they
are placed, so a name like `ООО <Ромашка> & Ко` shows as written.
"""

from __future__ import annotations

import html
from typing import Final

from gateway.domain.tasks import Decision, Importance

LANGUAGES: Final = ("ru", "en")

_RU: Final[dict[str, str]] = {
    "btn.approve": "Согласовать",
    "btn.return_previous": "Вернуть на предыдущий этап",
    "btn.return_initiator": "Вернуть инициатору",
    "btn.share_phone": "Поделиться номером телефона",
    "welcome": (
        "Здравствуйте! Этот бот присылает задачи согласования из 1С и принимает решения.\n\n"
        "Чтобы подключиться, нажмите кнопку <b>«Поделиться номером телефона»</b> внизу: "
        "номер сверяется с карточкой пользователя 1С."
    ),
    "contact.foreign": (
        "Это не ваш контакт. Поделитесь, пожалуйста, своим номером кнопкой "
        "<b>«Поделиться номером телефона»</b>."
    ),
    "contact.unknown": (
        "Номер <code>+{phone}</code> не найден среди пользователей 1С.\n"
        "Попросите администратора 1С указать этот телефон в вашей карточке пользователя "
        "и поделитесь номером ещё раз."
    ),
    "contact.ambiguous": (
        "Номер <code>+{phone}</code> указан у нескольких пользователей 1С ({count}), "
        "поэтому подключение невозможно. Попросите администратора 1С оставить номер "
        "только в вашей карточке."
    ),
    "contact.linked": "Подключение установлено: <b>{name}</b>\nЗадач на согласовании: {count}.",
    "contact.linked_bases": "Подключение установлено:\n{bases}",
    "contact.linked_base": "• <b>{base}</b>: {name}, задач на согласовании: {count}",
    "contact.missing_bases": (
        "Не подключено:\n{bases}\nКогда администратор 1С исправит карточку, поделитесь "
        "номером ещё раз."
    ),
    "contact.none_linked": (
        "Номер <code>+{phone}</code> не удалось подключить ни в одной базе 1С:\n{bases}\n"
        "Когда администратор 1С исправит карточку, поделитесь номером ещё раз."
    ),
    "contact.base.unknown": (
        "• <b>{base}</b>: номер не найден среди пользователей 1С — попросите администратора "
        "этой базы указать телефон <code>+{phone}</code> в вашей карточке пользователя"
    ),
    "contact.base.ambiguous": (
        "• <b>{base}</b>: номер указан у нескольких пользователей 1С ({count}) — попросите "
        "администратора этой базы оставить его только в вашей карточке"
    ),
    "contact.base.not_in_group": (
        "• <b>{base}</b>: пользователь 1С «{name}» не входит в группу «{group}» — попросите "
        "администратора этой базы включить вас в неё"
    ),
    "contact.base.unavailable": "• <b>{base}</b>: 1С сейчас недоступна — попробуйте позже",
    "contact.not_in_group": (
        "Пользователь 1С «{name}» не входит в группу пользователей «{group}», которой "
        "разрешено подключаться к боту. Попросите администратора 1С включить вас в эту группу "
        "и поделитесь номером ещё раз."
    ),
    "link.left_group": (
        "Подключение к 1С отключено: пользователь 1С «{name}» больше не входит в группу "
        "пользователей «{group}». Если это ошибка, попросите администратора 1С вернуть вас "
        "в группу и поделитесь номером ещё раз."
    ),
    "link.lost": (
        "Подключение к 1С сброшено: номер <code>+{phone}</code> больше не указан у "
        "действующего пользователя 1С «{name}». Поделитесь номером ещё раз, когда администратор "
        "1С обновит карточку."
    ),
    "link.replaced": (
        "Подключение к 1С перенесено на другой аккаунт Telegram: пользователь 1С «{name}» "
        "теперь получает задачи там. Кнопки на прежних карточках здесь больше не действуют. "
        "Если это сделали не вы, сообщите администратору 1С."
    ),
    "help": (
        "Бот присылает задачи согласования из 1С: документ в PDF и кнопки "
        "«Согласовать», «Вернуть на предыдущий этап», «Вернуть инициатору».\n\n"
        "/tasks — мои задачи на согласовании\n/help — эта справка\n"
        "/cancel — отменить ввод причины возврата"
    ),
    "help.admin": "/status — состояние шлюза (для администраторов)",
    "tasks.none": "Задач на согласовании нет.",
    "tasks.header": "Задачи на согласовании: {count}",
    "tasks.item": "• {title} — этап {stage}, срок {due}",
    "tasks.resent": "Отправляю карточки задач ниже.",
    "tasks.base": "\n<b>{base}</b> — задач на согласовании: {count}",
    "tasks.base_unavailable": "\n<b>{base}</b> — 1С сейчас недоступна, список не получен",
    "card.title": "Согласование",
    "base.line": "<b>{base}</b> · {text}",
    "card.initiator": "Инициатор",
    "card.stage": "Этап",
    "card.role": "Адресована роли",
    "card.stage_of": "{number} из {count}",
    "card.due": "Срок",
    "card.importance.high": "Важность: высокая",
    "card.importance.low": "Важность: низкая",
    "card.pdf.print_form": "PDF: печатная форма 1С",
    "card.pdf.rendered": "PDF сформирован шлюзом по данным 1С",
    "card.pdf.none": "PDF не приложен: {reason}",
    "card.pdf.failed": "документ не удалось сформировать, подробности в карточке 1С",
    "card.pdf.cut": "В PDF показаны первые {shown} строк из {total}; весь документ — в 1С",
    "card.no_due": "не указан",
    "card.denied": (
        "🔒 Документ вам недоступен в 1С, поэтому его реквизиты и PDF не показаны. {reason}"
    ),
    "outcome.approve": "✅ Согласовано",
    "outcome.return_previous": "↩️ Возвращено на предыдущий этап",
    "outcome.return_initiator": "↩️ Возвращено инициатору",
    "outcome.line": "{outcome}: {who}, {when}",
    "outcome.comment": "Комментарий: {comment}",
    "outcome.pending": "⏳ Решение «{decision}» принято и передаётся в 1С…",
    "outcome.failed": "⚠️ Решение «{decision}» не удалось передать в 1С: {reason}",
    "outcome.done_in_1c": "☑️ Задача выполнена в 1С",
    "outcome.cancelled": "🚫 Согласование отменено",
    "outcome.reassigned": "➡️ Задача передана другому исполнителю",
    "outcome.superseded": "🔄 Карточка обновлена — актуальная версия ниже",
    "outcome.not_addressed": "➖ Задача больше не адресована вам",
    "outcome.unlinked": "🔌 Подключение отключено — решение по задаче принимается в 1С",
    "card.notify": "ℹ️ Для сведения: задача выполняется в 1С, не в Telegram",
    "cancelled.caption": "Согласование отменено: {subject}",
    "reason.ask": (
        "Укажите причину: «{decision}» для «{subject}». "
        "Ответьте на это сообщение; /cancel — отменить."
    ),
    "reason.placeholder": "Причина возврата",
    "reason.empty": "Причина не может быть пустой. Напишите её ответом на сообщение или /cancel.",
    "reason.cancelled": "Ввод причины отменён, решение не принято.",
    "reason.nothing": "Нечего отменять.",
    "alert.forged": "Кнопка недействительна.",
    "alert.not_linked": "Сначала подключитесь: поделитесь номером телефона.",
    "alert.foreign": "Эта задача адресована другому исполнителю.",
    "alert.done": "Задача уже выполнена в 1С — карточка обновлена.",
    "alert.cancelled": "Согласование отменено в 1С — карточка обновлена.",
    "alert.stale": "Карточка устарела — обновил её, проверьте и нажмите снова.",
    "alert.not_allowed": "Это решение сейчас недоступно для задачи.",
    "alert.accepted": "Принято, передаю в 1С.",
    "alert.reason": "Напишите причину ответом на сообщение.",
    "alert.unavailable": "1С сейчас недоступна. Попробуйте позже.",
    "alert.in_progress": "Решение уже передаётся в 1С.",
    "alert.taken": "Решение по задаче уже принял другой согласующий.",
    "alert.not_approval": "Эта задача выполняется в 1С, не в Telegram.",
    "decision.not_performer": "1С не приняла решение: вы не исполнитель задачи.",
    "decision.already": "1С не приняла решение: задача уже выполнена или отменена.",
    "decision.rejected": "1С отклонила решение: {reason}",
    "decision.stale": (
        "⚠️ Решение «{decision}» не передано в 1С: документ изменился после того, как вы его"
        " открыли. Актуальная версия — ниже, проверьте её и решите снова."
    ),
    "decision.refused": "⛔ 1С отказалась выполнить решение: {reason}",
    "decision.dead": (
        "Решение «{decision}» по «{subject}» не удалось передать в 1С после {attempts} "
        "попыток. Администратор уведомлён; примите решение в 1С."
    ),
    "reminder": "⏰ Напоминание: задача ждёт вашего решения с {since}.",
    "admin.granted": "Вы назначены администратором шлюза.",
    "admin.invalid": "Ссылка для назначения администратора недействительна или устарела.",
    "admin.only": "Команда доступна только администраторам.",
    "unknown_command": "Неизвестная команда. /help — список команд.",
    "error.unavailable": "1С или Telegram сейчас недоступны, попробуйте чуть позже.",
    "flood.ignored": (
        "Слишком много сообщений подряд: следующие в течение минуты будут пропущены. "
        "Пожалуйста, подождите немного и повторите."
    ),
    "status": (
        "<b>Состояние шлюза</b>\nПоследняя синхронизация: {last_sync}\n"
        "1С недоступна с: {onec}\nПоследняя ошибка: {error}\n"
        "Решений в очереди: {outbox}\nНе переданы (dead letter): {dead}\n"
        "Отслеживаемых задач: {tracked}\nПодключённых пользователей: {linked}"
    ),
    "admin.blocked": "Пользователь «{name}» заблокировал бота: задача «{task}» не доставлена.",
    "admin.dead_letter": (
        "⚠️ Решение «{decision}» по «{subject}» ({who}) не передано в 1С: {error}"
    ),
    "admin.onec_down": "⚠️ 1С недоступна с {since}: {error}",
    "admin.onec_back": "✅ 1С снова доступна (была недоступна с {since}).",
    "admin.sync_failing": "⚠️ Синхронизация с 1С не удаётся {count} раз подряд: {error}",
    "admin.link_replaced": (
        "🔁 Пользователь 1С «{name}» подключён с другого аккаунта Telegram: {new} вместо {old} "
        "(номер {phone}). Прежний аккаунт отключён."
    ),
}

_EN: Final[dict[str, str]] = {
    "btn.approve": "Approve",
    "btn.return_previous": "Return to previous stage",
    "btn.return_initiator": "Return to initiator",
    "btn.share_phone": "Share phone number",
    "welcome": (
        "Hello! This bot brings you approval tasks from 1C and takes your decisions.\n\n"
        "To connect, press <b>“Share phone number”</b> below: the number is matched to your "
        "1C user card."
    ),
    "contact.foreign": "This is not your contact. Please share your own number with the button.",
    "contact.unknown": (
        "The number <code>+{phone}</code> is not on any 1C user.\nAsk the 1C administrator to "
        "add it to your user card, then share your number again."
    ),
    "contact.ambiguous": (
        "The number <code>+{phone}</code> is on several 1C users ({count}), so it cannot be "
        "linked. Ask the 1C administrator to keep it on your card only."
    ),
    "contact.linked": "Connected: <b>{name}</b>\nTasks awaiting your approval: {count}.",
    "contact.linked_bases": "Connected:\n{bases}",
    "contact.linked_base": "• <b>{base}</b>: {name}, tasks awaiting your approval: {count}",
    "contact.missing_bases": (
        "Not connected:\n{bases}\nOnce the 1C administrator fixes your card, share your "
        "number again."
    ),
    "contact.none_linked": (
        "The number <code>+{phone}</code> could not be connected in any 1C base:\n{bases}\n"
        "Once the 1C administrator fixes your card, share your number again."
    ),
    "contact.base.unknown": (
        "• <b>{base}</b>: the number is not on any 1C user — ask this base's administrator "
        "to add <code>+{phone}</code> to your user card"
    ),
    "contact.base.ambiguous": (
        "• <b>{base}</b>: the number is on several 1C users ({count}) — ask this base's "
        "administrator to keep it on your card only"
    ),
    "contact.base.not_in_group": (
        "• <b>{base}</b>: 1C user “{name}” is not in the group “{group}” — ask this base's "
        "administrator to add you to it"
    ),
    "contact.base.unavailable": "• <b>{base}</b>: 1C is unavailable now — try again later",
    "contact.not_in_group": (
        "1C user “{name}” is not in the users group “{group}” allowed to connect to the bot. "
        "Ask the 1C administrator to add you to that group, then share your number again."
    ),
    "link.left_group": (
        "Disconnected from 1C: 1C user “{name}” is no longer in the users group “{group}”. "
        "If this is a mistake, ask the 1C administrator to add you back, then share your "
        "number again."
    ),
    "link.lost": (
        "Disconnected from 1C: the number <code>+{phone}</code> is no longer on the active 1C "
        "user “{name}”. Share your number again once the 1C administrator updates the card."
    ),
    "link.replaced": (
        "Your 1C connection moved to another Telegram account: 1C user “{name}” now gets the "
        "tasks there. The buttons on earlier cards here no longer work. If this was not you, "
        "tell the 1C administrator."
    ),
    "help": (
        "The bot brings approval tasks from 1C: the document as PDF and the buttons Approve, "
        "Return to previous stage, Return to initiator.\n\n/tasks — my pending tasks\n"
        "/help — this help\n/cancel — cancel typing a return reason"
    ),
    "help.admin": "/status — gateway status (admins)",
    "tasks.none": "No tasks awaiting your approval.",
    "tasks.header": "Tasks awaiting your approval: {count}",
    "tasks.item": "• {title} — stage {stage}, due {due}",
    "tasks.resent": "Sending the task cards below.",
    "tasks.base": "\n<b>{base}</b> — tasks awaiting your approval: {count}",
    "tasks.base_unavailable": "\n<b>{base}</b> — 1C is unavailable now, no list",
    "card.title": "Approval",
    "base.line": "<b>{base}</b> · {text}",
    "card.initiator": "Initiator",
    "card.stage": "Stage",
    "card.role": "Addressed to the role",
    "card.stage_of": "{number} of {count}",
    "card.due": "Due",
    "card.importance.high": "Importance: high",
    "card.importance.low": "Importance: low",
    "card.pdf.print_form": "PDF: 1C's print form",
    "card.pdf.rendered": "PDF made by the gateway from 1C's data",
    "card.pdf.none": "No PDF attached: {reason}",
    "card.pdf.failed": "the document could not be rendered; see the task in 1C",
    "card.pdf.cut": "The PDF shows the first {shown} of {total} rows; the whole document is in 1C",
    "card.no_due": "not set",
    "card.denied": (
        "🔒 The document is not available to you in 1C, so its fields and PDF are not shown. "
        "{reason}"
    ),
    "outcome.approve": "✅ Approved",
    "outcome.return_previous": "↩️ Returned to the previous stage",
    "outcome.return_initiator": "↩️ Returned to the initiator",
    "outcome.line": "{outcome}: {who}, {when}",
    "outcome.comment": "Comment: {comment}",
    "outcome.pending": "⏳ Decision “{decision}” accepted and being passed to 1C…",
    "outcome.failed": "⚠️ Decision “{decision}” could not be passed to 1C: {reason}",
    "outcome.done_in_1c": "☑️ Completed in 1C",
    "outcome.cancelled": "🚫 Approval cancelled",
    "outcome.reassigned": "➡️ Task reassigned to another performer",
    "outcome.superseded": "🔄 Card updated — the current version is below",
    "outcome.not_addressed": "➖ This task is no longer addressed to you",
    "outcome.unlinked": "🔌 Disconnected — the task is decided in 1C",
    "card.notify": "ℹ️ For information: this task is done in 1C, not in Telegram",
    "cancelled.caption": "Approval cancelled: {subject}",
    "reason.ask": (
        "Give the reason: “{decision}” for “{subject}”. Reply to this message; /cancel to abort."
    ),
    "reason.placeholder": "Reason",
    "reason.empty": "The reason cannot be empty. Reply with it, or /cancel.",
    "reason.cancelled": "Reason entry cancelled; no decision was made.",
    "reason.nothing": "Nothing to cancel.",
    "alert.forged": "This button is not valid.",
    "alert.not_linked": "Connect first: share your phone number.",
    "alert.foreign": "This task belongs to another performer.",
    "alert.done": "The task is already completed in 1C — card updated.",
    "alert.cancelled": "The approval was cancelled in 1C — card updated.",
    "alert.stale": "The card was out of date — updated it; check and press again.",
    "alert.not_allowed": "This decision is not available for the task now.",
    "alert.accepted": "Accepted, passing it to 1C.",
    "alert.reason": "Reply to the message with the reason.",
    "alert.unavailable": "1C is unavailable now. Try again later.",
    "alert.in_progress": "The decision is already being passed to 1C.",
    "alert.taken": "Another approver has already decided this task.",
    "alert.not_approval": "This task is done in 1C, not in Telegram.",
    "decision.not_performer": "1C refused the decision: you are not the task's performer.",
    "decision.already": "1C refused the decision: the task is already completed or cancelled.",
    "decision.rejected": "1C rejected the decision: {reason}",
    "decision.stale": (
        "⚠️ Decision “{decision}” was not passed to 1C: the document changed after you opened"
        " it. The current version is below; check it and decide again."
    ),
    "decision.refused": "⛔ 1C refused to execute the decision: {reason}",
    "decision.dead": (
        "The decision “{decision}” on “{subject}” could not be passed to 1C after {attempts} "
        "attempts. The administrator was notified; please decide in 1C."
    ),
    "reminder": "⏰ Reminder: this task has been waiting for your decision since {since}.",
    "admin.granted": "You are now a gateway administrator.",
    "admin.invalid": "This admin link is invalid or expired.",
    "admin.only": "This command is for administrators only.",
    "unknown_command": "Unknown command. /help lists the commands.",
    "error.unavailable": "1C or Telegram is unavailable right now; please try again shortly.",
    "flood.ignored": (
        "Too many messages in a row: the next ones within a minute will be skipped. "
        "Please wait a little and try again."
    ),
    "status": (
        "<b>Gateway status</b>\nLast sync: {last_sync}\n1C unreachable since: {onec}\n"
        "Last error: {error}\nDecisions queued: {outbox}\nDead letters: {dead}\n"
        "Tasks tracked: {tracked}\nLinked users: {linked}"
    ),
    "admin.blocked": "User “{name}” blocked the bot: task “{task}” was not delivered.",
    "admin.dead_letter": "⚠️ Decision “{decision}” on “{subject}” ({who}) did not reach 1C: {error}",
    "admin.onec_down": "⚠️ 1C unreachable since {since}: {error}",
    "admin.onec_back": "✅ 1C is reachable again (was down since {since}).",
    "admin.sync_failing": "⚠️ Sync with 1C failed {count} times in a row: {error}",
    "admin.link_replaced": (
        "🔁 1C user “{name}” connected from another Telegram account: {new} instead of {old} "
        "(number {phone}). The earlier account is disconnected."
    ),
}

_CATALOGS: Final = {"ru": _RU, "en": _EN}


def escape(value: object) -> str:
    """A value from 1C, safe inside Telegram HTML."""
    return html.escape(str(value), quote=False)


class Texts:
    """Bot texts in one language; `t(key, **values)` formats a text (values already escaped)."""

    def __init__(self, language: str = "ru") -> None:
        self.language = language if language in _CATALOGS else "ru"
        self._catalog = _CATALOGS[self.language]

    def t(self, key: str, **values: object) -> str:
        """The text `key` with `values` placed in it."""
        return self._catalog[key].format(**values)

    def button(self, decision: Decision) -> str:
        """The label of a decision's button."""
        return self._catalog[f"btn.{decision.value}"]

    def outcome(self, decision: Decision) -> str:
        """The outcome line's head for a decision."""
        return self._catalog[f"outcome.{decision.value}"]

    def importance(self, importance: Importance) -> str | None:
        """A line for unusual importance, None for normal."""
        if importance is Importance.NORMAL:
            return None
        return self._catalog[f"card.importance.{importance.value}"]


def catalog_keys(language: str) -> set[str]:
    """Every key of a language's catalog (tests check the languages match)."""
    return set(_CATALOGS[language])
