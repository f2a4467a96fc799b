// The demo page: polls /api/state every second and draws the chats and the 1C side.
// Every text shown comes from 1C or the bot, so it is only ever put in the page as text nodes
// (textContent / append(string)); no HTML string is built from data.
"use strict";

const POLL_MS = 1000;
const DECISIONS = {
  approve: "Согласовано",
  return_previous: "Возвращено на предыдущий этап",
  return_initiator: "Возвращено инициатору",
};
const TASK_STATES = { pending: "ожидает", completed: "выполнена", cancelled: "отменена" };
const APPROVAL_STATES = { active: "в работе", completed: "завершено", stopped: "отменено" };

const view = {
  chat: Number(location.hash.slice(1)) || null,
  base: null,          // the 1C base shown on the right (null: the first one)
  routeBase: undefined, // the base the route and performer lists were drawn for
  last: "",
  seen: {},            // chat id -> bot messages already seen
  dismissedPrompt: {}, // chat id -> ForceReply prompt the user chose not to answer
};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key.startsWith("data-") || key === "title" || key === "type" || key === "href" ||
             key === "target" || key === "rel" || key === "value") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

let toastTimer = null;
function toast(text, isError) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.classList.toggle("error", Boolean(isError));
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

// Every 1C call names the base shown, so a decision in 1C lands in the base it was made in.
function inBase(path) {
  return view.base ? `${path}?base=${encodeURIComponent(view.base)}` : path;
}

async function act(method, path, body) {
  try {
    const data = await api(method, path, body);
    poll(true);
    return data;
  } catch (error) {
    toast(error.message, true);
    return null;
  }
}

// --- Telegram: formatted text from text + entities (UTF-16 offsets, as JavaScript strings) ---

function safeUrl(url) {
  return /^(https?:|tg:|mailto:)/i.test(url) ? url : null;
}

function entityElement(entity, content) {
  switch (entity.type) {
    case "bold": return el("strong");
    case "italic": return el("em");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "spoiler": return el("span", { class: "spoiler", title: "Скрытый текст" });
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote": case "expandable_blockquote": return el("blockquote");
    case "text_link": case "url": {
      const url = safeUrl(entity.type === "url" ? content : entity.url || "");
      return url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" })
                 : el("span");
    }
    case "bot_command": return el("span", { class: "command" });
    default: return el("span");
  }
}

function formatted(text, entities) {
  const root = document.createDocumentFragment();
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  function build(parent, from, to, list) {
    let pos = from;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      if (entity.offset < pos) { i += 1; continue; }  // overlaps the one before: text only
      if (entity.offset > pos) parent.append(text.slice(pos, entity.offset));
      const end = Math.min(entity.offset + entity.length, to);
      const inner = [];
      let j = i + 1;
      while (j < list.length && list[j].offset < end) { inner.push(list[j]); j += 1; }
      const node = entityElement(entity, text.slice(entity.offset, end));
      build(node, entity.offset, end, inner);
      parent.append(node);
      pos = end;
      i = j;
    }
    if (pos < to) parent.append(text.slice(pos, to));
  }
  build(root, 0, text.length, sorted);
  return root;
}

function clock(unix) {
  return new Date(unix * 1000).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
}

function messageNode(chat, message) {
  const fromBot = message.from && message.from.is_bot;
  const node = el("div", {
    class: `msg ${fromBot ? "bot" : "user"}`,
    "data-testid": "message",
    "data-message-id": String(message.message_id),
  });
  if (message.reply_to_message) {
    const quoted = message.reply_to_message.text || message.reply_to_message.caption || "";
    node.append(el("div", { class: "quote" }, quoted.length > 80 ? quoted.slice(0, 80) + "…" : quoted));
  }
  if (message.document) {
    const doc = message.document;
    node.append(el("a", {
      class: "document",
      href: `/api/files/${encodeURIComponent(doc.file_id)}`,
      target: "_blank",
      rel: "noopener",
      "data-testid": "pdf-link",
      title: "Открыть PDF",
    }, el("span", { class: "doc-icon" }, "PDF"),
       el("span", { class: "doc-name" }, doc.file_name || "документ"),
       el("span", { class: "doc-open" }, "Открыть")));
  }
  if (message.contact) {
    node.append(el("div", { class: "contact" }, "📱 Контакт: ", message.contact.phone_number || ""));
  }
  const text = message.text !== undefined ? message.text : message.caption;
  const entities = message.text !== undefined ? message.entities : message.caption_entities;
  if (text) node.append(el("div", { class: "text" }, formatted(text, entities)));
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (rows.length) {
    const keyboard = el("div", { class: "inline-keyboard" });
    for (const row of rows) {
      const line = el("div", { class: "row" });
      for (const button of row) {
        if (button.url && safeUrl(button.url)) {
          line.append(el("a", { class: "inline-button", href: button.url, target: "_blank",
                                rel: "noopener noreferrer" }, button.text));
        } else {
          line.append(el("button", {
            type: "button",
            class: "inline-button",
            "data-testid": "inline-button",
            onclick: () => pressInline(chat.telegram_id, message.message_id, button.text),
          }, button.text));
        }
      }
      keyboard.append(line);
    }
    node.append(keyboard);
  }
  node.append(el("div", { class: "meta" }, message.edit_date ? "изменено " : "", clock(message.date)));
  return node;
}

async function pressInline(chatId, messageId, button) {
  const data = await act("POST", `/api/chats/${chatId}/press`, { message_id: messageId, button });
  const answer = data && data.answer && data.answer.answer;
  if (answer && answer.text) toast(answer.text, answer.show_alert);
}

function pendingPrompt(chat) {
  const prompt = chat.keyboard && chat.keyboard.force_reply;
  if (!prompt || view.dismissedPrompt[chat.telegram_id] === prompt.message_id) return null;
  const answered = chat.messages.some(
    (m) => !m.from.is_bot && m.message_id > prompt.message_id);
  return answered ? null : prompt;
}

function renderChat(chat) {
  document.getElementById("chat-title").replaceChildren(
    el("strong", {}, chat.name), el("span", { class: "phone" }, ` · ${chat.phone}`));
  const box = document.getElementById("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  if (chat.messages.length) {
    box.replaceChildren(...chat.messages.map((m) => messageNode(chat, m)));
  } else {
    box.replaceChildren(el("div", { class: "empty" },
      "Чат с ботом пуст. Нажмите «Начать», как в Telegram."));
  }
  if (atBottom || view.scrollToEnd) box.scrollTop = box.scrollHeight;
  view.scrollToEnd = false;

  const keys = document.getElementById("reply-keyboard");
  const reply = chat.keyboard && chat.keyboard.reply_keyboard;
  if (!chat.messages.length) {
    keys.replaceChildren(el("button", { type: "button", class: "reply-button",
      "data-testid": "start", onclick: () => act("POST", `/api/chats/${chat.telegram_id}/send`,
                                                 { text: "/start" }) }, "Начать"));
  } else if (reply && reply.keyboard) {
    keys.replaceChildren(...reply.keyboard.map((row) => el("div", { class: "row" },
      ...row.map((button) => {
        const text = typeof button === "string" ? button : button.text;
        return el("button", {
          type: "button",
          class: "reply-button",
          "data-testid": "reply-button",
          onclick: () => act("POST", `/api/chats/${chat.telegram_id}/keyboard`, { button: text }),
        }, button.request_contact ? `📱 ${text}` : text);
      }))));
  } else {
    keys.replaceChildren();
  }

  const prompt = pendingPrompt(chat);
  const banner = document.getElementById("force-reply");
  banner.hidden = !prompt;
  const input = document.getElementById("compose-text");
  if (prompt) {
    const asked = chat.messages.find((m) => m.message_id === prompt.message_id);
    document.getElementById("force-reply-text").textContent =
      `Ответ на: «${(asked && (asked.text || asked.caption)) || "сообщение бота"}»`;
    input.placeholder = prompt.input_field_placeholder || "Ваш ответ";
    banner.dataset.messageId = String(prompt.message_id);
  } else {
    input.placeholder = "Сообщение или /команда";
    delete banner.dataset.messageId;
  }
}

function renderChats(chats) {
  const nav = document.getElementById("chats");
  nav.replaceChildren(...chats.map((chat) => {
    if (chat.telegram_id === view.chat) view.seen[chat.telegram_id] = chat.bot_messages;
    const unread = chat.bot_messages - (view.seen[chat.telegram_id] || 0);
    return el("button", {
      type: "button",
      class: `chat-tab${chat.telegram_id === view.chat ? " selected" : ""}`,
      "data-testid": "chat-tab",
      "data-chat-id": String(chat.telegram_id),
      onclick: () => selectChat(chat.telegram_id),
    }, el("span", { class: "name" }, chat.name),
       unread > 0 ? el("span", { class: "badge", title: "Новые сообщения" }, String(unread)) : null);
  }));
}

function selectChat(id) {
  view.chat = id;
  view.scrollToEnd = true;
  history.replaceState(null, "", `#${id}`);
  poll(true);
}

// --- 1C ---

function shortName(name) {
  const [surname, first, middle] = name.split(" ");
  return [surname, first ? `${first[0]}.` : "", middle ? `${middle[0]}.` : ""].join(" ").trim();
}

function approvalNode(approval) {
  const active = approval.state === "active";
  const node = el("article", {
    class: `approval ${approval.state}`,
    "data-testid": "approval",
    "data-document-id": approval.document.id,
  });
  const assignment = approval.process === "BusinessProcess_Задание";
  node.append(el("header", {},
    el("strong", {}, assignment
      ? `Задание ${approval.number}: ${approval.title}`
      : approval.document.presentation),
    el("span", { class: `state ${approval.state}`, "data-testid": "approval-state" },
       APPROVAL_STATES[approval.state] || approval.state)));
  const fields = (approval.document.fields || []).map((f) => el("span", { class: "field" },
    el("span", { class: "label" }, `${f.name}: `), f.value));
  if (fields.length) node.append(el("div", { class: "fields" }, ...fields));
  let stage = "";
  if (active) {
    stage = approval.stage.number > 0
      ? ` · Этап ${approval.stage.number} из ${approval.stage.count}: ${approval.stage.name}`
      : " · Доработка инициатором";
  }
  node.append(el("div", { class: "stage" },
    `Инициатор: ${shortName(approval.initiator.name)}${stage}`));
  node.append(el("ol", { class: "route" }, ...approval.route.map((stage) => el("li", {
    class: active && stage.number === approval.stage.number ? "current" : "",
  }, `${stage.name} — ${stage.role ? `роль «${stage.role.name}»` : shortName(stage.performer.name)}`))));

  const table = el("table", { class: "tasks" }, el("thead", {}, el("tr", {},
    ...["Задача", "Этап", "Исполнитель", "Состояние", "Решение", "Комментарий", ""].map(
      (h) => el("th", {}, h)))));
  const body = el("tbody");
  for (const task of approval.tasks) {
    body.append(el("tr", { "data-testid": "task", "data-task-id": task.id, class: task.state },
      el("td", {}, task.number),
      el("td", {}, task.stage === 0 ? "доработка" : String(task.stage)),
      el("td", { "data-testid": "task-performer" }, performerText(task)),
      el("td", { "data-testid": "task-state" }, TASK_STATES[task.state] || task.state),
      el("td", { "data-testid": "task-decision" },
         task.decision ? DECISIONS[task.decision] || task.decision : ""),
      el("td", { "data-testid": "task-comment", class: "comment" }, task.comment || ""),
      el("td", {}, task.state === "pending" ? el("button", {
        type: "button",
        "data-testid": "complete-task",
        title: "Исполнитель выполняет задачу в самой 1С (согласует)",
        onclick: () => act("POST", inBase(`/api/tasks/${task.id}/complete`)),
      }, "Выполнить в 1С") : null)));
  }
  table.append(body);
  node.append(table);
  if (active && !assignment) {
    node.append(el("button", {
      type: "button",
      class: "cancel",
      "data-testid": "cancel-approval",
      onclick: () => act("POST", inBase(`/api/approvals/${approval.document.id}/cancel`)),
    }, "Отменить согласование"));
  }
  if (active) {
    node.append(el("button", {
      type: "button",
      class: "cancel",
      "data-testid": "stop-process",
      title: "Бизнес-процесс останавливается, как командой «Остановить» в 1С",
      onclick: () => act("POST", inBase(`/api/processes/${approval.id}/stop`)),
    }, "Остановить процесс"));
  }
  return node;
}

function performerText(task) {
  if (task.performer.name || !task.role) return shortName(task.performer.name);
  const names = (task.candidates || []).map((c) => shortName(c.name)).join(", ");
  return `роль «${task.role.name}»${names ? `: ${names}` : ""}`;
}

// A chat's 1C user in the base shown: in each base the same person has another id.
function onecIdIn(chat, base) {
  return (chat.onec_ids && chat.onec_ids[base]) || (base ? null : chat.onec_id);
}

function performerOptions(people, roles) {
  return [
    ...people.map((person) => el("option", { value: person.id }, shortName(person.name))),
    ...roles.map((role) => el("option", { value: `role:${role.id}` }, `Роль: ${role.name}`)),
  ];
}

function renderBases(bases, shown) {
  const nav = document.getElementById("bases");
  nav.hidden = bases.length < 2;
  nav.replaceChildren(...bases.map((base) => el("button", {
    type: "button",
    class: `base-tab${base.name === shown ? " selected" : ""}${base.fault === "down" ? " down" : ""}`,
    "data-testid": "base-tab",
    "data-base": base.name,
    title: base.fault === "down" ? "1С выключена" : "1С работает",
    onclick: () => selectBase(base.name),
  }, base.title, base.fault === "down" ? " ⏻" : "")));
}

function selectBase(name) {
  view.base = name;
  poll(true);
}

function renderOneC(onec, chats) {
  const several = document.getElementById("bases").childElementCount > 1;
  document.getElementById("onec-title").textContent =
    several ? `1С: ${onec.title}` : "1С:Управление холдингом";
  document.getElementById("initiator").textContent = shortName(onec.initiator.name);
  const down = onec.fault === "down";
  const status = document.getElementById("onec-status");
  status.textContent = down ? "1С выключена: соединения обрываются" : "1С работает";
  status.classList.toggle("down", down);
  const toggle = document.getElementById("fault-toggle");
  toggle.textContent = down ? "Включить 1С" : "Выключить 1С";
  toggle.onclick = () => act("POST", inBase("/api/faults"), { mode: down ? "none" : "down" });

  if (view.routeBase !== onec.base) {
    const people = chats
      .map((c) => ({ id: onecIdIn(c, onec.base), name: c.name }))
      .filter((p) => p.id && p.id !== onec.initiator.id);
    const roles = onec.roles || [];
    ["stage1", "stage2", "stage3"].forEach((name, index) => {
      const select = document.querySelector(`select[name=${name}]`);
      const options = index === 0 ? [] : [el("option", { value: "" }, "—")];
      select.replaceChildren(...options, ...performerOptions(people, roles));
      if (index === 1 && people.length > 1) select.value = people[1].id;
    });
    document.querySelector("select[name=performer]").replaceChildren(
      ...performerOptions(people, roles));
    view.routeBase = onec.base;
  }
  const list = document.getElementById("approvals");
  list.replaceChildren(...[...onec.approvals].reverse().map(approvalNode));
}

// --- polling ---

let polling = null;
async function poll(now) {
  if (polling) { if (now) polling.again = true; return; }
  polling = { again: false };
  try {
    const base = view.base ? `&base=${encodeURIComponent(view.base)}` : "";
    const response = await fetch(`/api/state?chat=${view.chat || ""}${base}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    document.getElementById("link-status").textContent = "";
    if (text !== view.last) {
      view.last = text;
      const state = JSON.parse(text);
      if (!view.chat && state.chats.length) { selectChat(state.chats[0].telegram_id); }
      renderChats(state.chats);
      renderBases(state.bases, state.onec.base);
      const chat = state.chats.find((c) => c.telegram_id === view.chat);
      if (chat && chat.messages) renderChat(chat);
      renderOneC(state.onec, state.chats);
    }
  } catch (error) {
    document.getElementById("link-status").textContent = "Нет связи со стендом: он остановлен?";
  } finally {
    const again = polling.again;
    polling = null;
    if (again) poll(false);
  }
}

document.getElementById("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("compose-text");
  const text = input.value.trim();
  if (!text || !view.chat) return;
  const banner = document.getElementById("force-reply");
  const body = { text };
  if (!banner.hidden && banner.dataset.messageId) body.reply_to_message_id = Number(banner.dataset.messageId);
  view.scrollToEnd = true;
  if (await act("POST", `/api/chats/${view.chat}/send`, body)) input.value = "";
});

document.getElementById("force-reply-cancel").addEventListener("click", () => {
  const banner = document.getElementById("force-reply");
  view.dismissedPrompt[view.chat] = Number(banner.dataset.messageId);
  banner.hidden = true;
  view.last = "";
  poll(true);
});

document.getElementById("new-approval").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const route = ["stage1", "stage2", "stage3"].map((n) => form.elements[n].value).filter(Boolean);
  const created = await act("POST", inBase("/api/approvals"), {
    document_type: form.elements.document_type.value,
    amount: form.elements.amount.value,
    purpose: form.elements.purpose.value,
    route,
  });
  if (created) toast("Согласование начато: задача первого этапа создана в 1С.");
});

document.getElementById("new-assignment").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const created = await act("POST", inBase("/api/assignments"), {
    title: form.elements.title.value,
    performer: form.elements.performer.value,
  });
  if (created) toast("Задание создано в 1С: это не согласование, решения по нему не принимаются.");
});

setInterval(() => poll(false), POLL_MS);
poll(true);
