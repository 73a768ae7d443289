// The Slack stand-in's page: renders what the bot posted (Block Kit), and sends what the
// person does back through the stand-in, which signs it as Slack would.
"use strict";

const state = { version: -1, data: null, values: {}, errors: {}, tab: "channel" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function post(path, body, headers = {}) {
  const answer = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: body instanceof Blob ? body : JSON.stringify(body),
  });
  return answer.json();
}

// --- text ------------------------------------------------------------------------------

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Slack's mrkdwn: the text arrives with &, < and > escaped by the sender; links, mentions and
// channels are <...>; then *bold*, _italic_, ~strike~, `code` and ```pre```.
function mrkdwn(source) {
  const pieces = [];
  const text = String(source || "");
  const pattern = /```([\s\S]*?)```|`([^`\n]+)`|<([^>\n]+)>/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    pieces.push(inline(text.slice(last, match.index)));
    if (match[1] !== undefined) pieces.push(`<pre>${match[1]}</pre>`);
    else if (match[2] !== undefined) pieces.push(`<code>${match[2]}</code>`);
    else pieces.push(special(match[3]));
    last = match.index + match[0].length;
  }
  pieces.push(inline(text.slice(last)));
  return pieces.join("");
}

// The shortcodes Slack shows as emoji (the ones the bot uses, and a few common ones).
const EMOJI = {
  warning: "⚠️", x: "❌", white_check_mark: "✅", heavy_check_mark: "✔️", tada: "🎉",
  memory: "📝", hourglass_flowing_sand: "⏳", hourglass: "⌛", grey_question: "❔",
  question: "❓", double_vertical_bar: "⏸️", arrow_forward: "▶️", information_source: "ℹ️",
  bar_chart: "📊", chart_with_downwards_trend: "📉", chart_with_upwards_trend: "📈",
  package: "📦", pizza: "🍕", bell: "🔔", mag: "🔍", wrench: "🔧", rotating_light: "🚨",
  red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", clock1: "🕐",
  calendar: "📅", inbox_tray: "📥", outbox_tray: "📤", leftwards_arrow_with_hook: "↩️",
  no_entry: "⛔", thumbsup: "👍", "+1": "👍", eyes: "👀", link: "🔗", lock: "🔒",
};

function emoji(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}

function inline(text) {
  return emoji(text)
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, "$1<s>$2</s>");
}

function special(inner) {
  const [target, label] = inner.split("|");
  if (target.startsWith("@")) {
    const me = state.data && state.data.me;
    const name = label || (me && me.id === target.slice(1) ? me.name : target.slice(1));
    return `<span class="mention">@${name}</span>`;
  }
  if (target.startsWith("#")) {
    const name = label || (state.data && state.data.channel.id === target.slice(1)
      ? state.data.channel.name : target.slice(1));
    return `<span class="mention">#${name}</span>`;
  }
  if (target.startsWith("!")) return `<span class="mention">@${target.slice(1)}</span>`;
  return `<a href="${target}" target="_blank" rel="noopener">${label || target}</a>`;
}

function textNode(object, className) {
  const node = el("div", { class: className });
  if (!object) return node;
  if (object.type === "mrkdwn") node.innerHTML = mrkdwn(object.text);
  else node.textContent = object.emoji === false ? object.text : emoji(object.text);
  return node;
}

// --- elements --------------------------------------------------------------------------

function optionLabel(option) {
  return option.text ? option.text.text : option.value;
}

function elementNode(element, where) {
  switch (element.type) {
    case "button": {
      const style = element.style ? ` ${element.style}` : "";
      return el("button", {
        class: `btn${style}`,
        type: "button",
        "data-action-id": element.action_id,
        onclick: () => confirmed(element.confirm, () => {
          if (element.url) window.open(element.url, "_blank");
          act(where, element, { type: "button", value: element.value || "" });
        }),
      }, emoji(element.text.text));
    }
    case "static_select":
    case "overflow": {
      const select = el("select", { "data-action-id": element.action_id },
        el("option", { value: "" }, element.placeholder ? element.placeholder.text : "Choose…"));
      const groups = element.option_groups || [{ options: element.options || [] }];
      for (const group of groups) {
        for (const option of group.options) {
          const chosen = element.initial_option && element.initial_option.value === option.value;
          select.append(el("option", { value: option.value, selected: chosen }, optionLabel(option)));
        }
      }
      select.addEventListener("change", () => {
        if (!select.value) return;
        const option = groups.flatMap((g) => g.options).find((o) => o.value === select.value);
        if (where.input) where.input(element, { type: element.type, selected_option: option });
        else act(where, element, { type: element.type, selected_option: option });
      });
      return select;
    }
    case "external_select":
      return externalSelect(element, where);
    case "datepicker": {
      const input = el("input", { type: "date", value: element.initial_date || "",
        "data-action-id": element.action_id });
      input.addEventListener("change", () => {
        const value = { type: "datepicker", selected_date: input.value };
        if (where.input) where.input(element, value);
        else act(where, element, value);
      });
      return input;
    }
    case "image":
      return el("img", { src: element.image_url, alt: element.alt_text, class: "block-image" });
    default:
      return el("span", {}, `[${element.type}]`);
  }
}

function externalSelect(element, where) {
  const box = el("div", { class: "external" });
  const input = el("input", {
    type: "text",
    "data-action-id": element.action_id,
    placeholder: element.placeholder ? element.placeholder.text : "Type to search…",
    value: element.initial_option ? optionLabel(element.initial_option) : "",
  });
  const list = el("div", { class: "suggestions hidden", "data-testid": "suggestions" });
  let asked = 0;
  const search = async () => {
    const mine = ++asked;
    const answer = await post("/ui/options", {
      action_id: element.action_id, block_id: where.blockId, value: input.value,
      view_id: where.viewId,
    });
    if (mine !== asked) return;
    list.replaceChildren();
    const groups = answer.option_groups || [{ options: answer.options || [] }];
    for (const group of groups) {
      if (group.label) list.append(el("div", { class: "group" }, group.label.text));
      for (const option of group.options) {
        list.append(el("div", {
          "data-value": option.value,
          onclick: () => {
            input.value = optionLabel(option);
            list.classList.add("hidden");
            const value = { type: "external_select", selected_option: option };
            if (where.input) where.input(element, value);
            else act(where, element, value);
          },
        }, optionLabel(option)));
      }
    }
    list.classList.toggle("hidden", !list.children.length);
  };
  input.addEventListener("input", search);
  input.addEventListener("focus", search);
  if (where.input && element.initial_option) {
    where.input(element, { type: "external_select", selected_option: element.initial_option });
  }
  box.append(input, list);
  return box;
}

// --- blocks ----------------------------------------------------------------------------

function blockNode(block, where) {
  const here = { ...where, blockId: block.block_id };
  switch (block.type) {
    case "header":
      return textNode(block.text, "block header");
    case "section": {
      const node = el("div", { class: "block section" });
      const body = el("div", { class: "text" });
      if (block.text) body.append(textNode(block.text, ""));
      if (block.fields) {
        body.append(el("div", { class: "fields" }, block.fields.map((f) => textNode(f, "field"))));
      }
      node.append(body);
      if (block.accessory) node.append(elementNode(block.accessory, here));
      return node;
    }
    case "context":
      return el("div", { class: "block context" }, (block.elements || []).map((item) =>
        item.type === "image" ? el("img", { src: item.image_url, alt: item.alt_text })
          : textNode(item, "")));
    case "divider":
      return el("hr", { class: "divider" });
    case "image":
      return el("div", { class: "block" },
        block.title ? textNode(block.title, "") : null,
        el("img", { src: block.image_url, alt: block.alt_text, class: "block-image" }));
    case "actions":
      return el("div", { class: "block actions" },
        (block.elements || []).map((item) => elementNode(item, here)));
    case "input":
      return inputNode(block, here);
    default:
      return el("div", { class: "block" }, `[${block.type}]`);
  }
}

function blocksNode(blocks, where) {
  return el("div", { class: "blocks" }, (blocks || []).map((block) => blockNode(block, where)));
}

// --- messages --------------------------------------------------------------------------

// A Block Kit `confirm` object: Slack asks first and sends nothing unless confirmed.
function confirmed(confirm, go) {
  if (!confirm) { go(); return; }
  const close = () => overlay.remove();
  const overlay = el("div", { class: "confirm-overlay", "data-testid": "confirm-dialog" },
    el("div", { class: "confirm" },
      el("div", { class: "modal-head" }, confirm.title ? confirm.title.text : "Are you sure?"),
      textNode(confirm.text, "confirm-text"),
      el("div", { class: "modal-foot" },
        el("button", { class: "btn", type: "button", "data-testid": "confirm-deny",
          onclick: close }, confirm.deny ? confirm.deny.text : "Cancel"),
        el("button", { class: `btn ${confirm.style === "danger" ? "danger" : "primary"}`,
          type: "button", "data-testid": "confirm-yes",
          onclick: () => { close(); go(); } }, confirm.confirm ? confirm.confirm.text : "Yes"))));
  document.body.append(overlay);
}

async function act(where, element, action) {
  const payload = { action: { ...action, action_id: element.action_id, block_id: where.blockId } };
  if (where.viewId) payload.view_id = where.viewId;
  else payload.message_ts = where.messageTs;
  await post("/ui/action", payload);
}

function who(message) {
  const me = state.data.me;
  if (message.user === "USLACKBOT") return "Slackbot";
  return message.user === me.id ? me.name : "Stockpot";
}

function messageNode(message) {
  const node = el("div", {
    class: `message${message.ephemeral ? " ephemeral" : ""}`,
    "data-testid": "message",
    "data-ts": message.ts,
  });
  node.append(el("div", {}, el("span", { class: "who" }, who(message)),
    message.ephemeral ? el("span", { class: "only-you" }, "Only visible to you") : null));
  if (message.blocks && message.blocks.length) {
    node.append(blocksNode(message.blocks, { messageTs: message.ts }));
  } else if (message.text) {
    node.append(textNode({ type: "mrkdwn", text: message.text }, "text"));
  }
  for (const file of message.files || []) {
    const name = file.title || file.name;
    const box = el("div", { class: "file", "data-testid": "file" }, `📎 ${name}`);
    if (file.url && /\.png$/i.test(file.name || "")) {
      box.append(el("img", { src: file.url, alt: name }));
    } else if (file.url) {
      box.append(" ", el("a", { href: file.url, target: "_blank" }, "download"));
    }
    node.append(box);
  }
  return node;
}

function renderMessages() {
  const list = document.getElementById("messages");
  const grew = list.dataset.count !== String(state.data.messages.length);
  list.dataset.count = String(state.data.messages.length);
  const messages = state.data.messages.filter((m) => m.channel === state.data.channel.id || !m.channel);
  const top = messages.filter((m) => !m.thread_ts || !messages.some((p) => p.ts === m.thread_ts));
  list.replaceChildren(...top.map((message) => {
    const node = messageNode(message);
    const replies = messages.filter((m) => m.thread_ts === message.ts && m.ts !== message.ts);
    if (replies.length) node.append(el("div", { class: "thread" }, replies.map(messageNode)));
    return node;
  }));
  if (grew) list.scrollTop = list.scrollHeight;
}

// --- modals ----------------------------------------------------------------------------

function inputNode(block, where) {
  const element = block.element;
  const blockId = block.block_id;
  const record = (item, value) => {
    state.values[blockId] = { [item.action_id]: value };
  };
  const field = where.input ? { ...where, input: record } : where;
  let control;
  if (element.type === "plain_text_input" || element.type === "number_input") {
    const numeric = element.type === "number_input";
    control = el(element.multiline ? "textarea" : "input", {
      type: numeric ? "number" : "text", step: numeric ? "any" : null,
      "data-action-id": element.action_id,
      placeholder: element.placeholder ? element.placeholder.text : null,
    });
    const typed = (state.values[blockId] || {})[element.action_id];
    if (typed) control.value = typed.value || "";
    else if (element.initial_value) control.value = element.initial_value;
    const keep = () => record(element, { type: element.type, value: control.value });
    control.addEventListener("input", keep);
    keep();
  } else if (element.type === "file_input") {
    control = el("input", { type: "file", "data-action-id": element.action_id });
    control.addEventListener("change", async () => {
      const chosen = control.files[0];
      if (!chosen) return;
      const shared = await post("/ui/upload", chosen, {
        "Content-Type": chosen.type || "text/csv", "X-File-Name": chosen.name, "X-Share": "no",
      });
      record(element, { type: "file_input", files: [{ id: shared.file_id, name: chosen.name }] });
    });
  } else {
    control = elementNode(element, field);
  }
  if (element.type === "datepicker") {
    // As Slack: a picker left on its initial date submits that date (a date picked, kept
    // across a redraw with errors, stays).
    const picked = (state.values[blockId] || {})[element.action_id];
    if (picked) control.value = picked.selected_date || "";
    else if (element.initial_date) {
      record(element, { type: "datepicker", selected_date: element.initial_date });
    }
  }
  const error = state.errors[blockId];
  return el("div", { class: "input-block", "data-block-id": blockId },
    el("label", {}, block.label ? block.label.text : ""),
    control,
    block.hint ? el("div", { class: "hint" }, block.hint.text) : null,
    error ? el("div", { class: "input-error", "data-testid": "modal-error" }, error) : null);
}

let shownModal = null;
let shownViewId = null;

function renderModal() {
  const layer = document.getElementById("modal-layer");
  const view = state.data.modal;
  if (!view) {
    layer.classList.add("hidden");
    layer.replaceChildren();
    shownModal = null;
    shownViewId = null;
    return;
  }
  const signature = JSON.stringify(view) + JSON.stringify(state.errors);
  if (signature === shownModal) return;
  if (view.id !== shownViewId) state.values = {};
  shownModal = signature;
  shownViewId = view.id;
  const where = { viewId: view.id, input: true };
  const modal = el("form", { class: "modal", "data-testid": "modal", "data-callback-id": view.callback_id || "" },
    el("div", { class: "modal-head", "data-testid": "modal-title" }, view.title ? view.title.text : ""),
    el("div", { class: "modal-body" }, blocksNode(view.blocks, where)),
    el("div", { class: "modal-foot" },
      el("button", { type: "button", class: "btn", "data-testid": "modal-close",
        onclick: async () => { state.errors = {}; await post("/ui/close", {}); } },
        view.close ? view.close.text : "Cancel"),
      view.submit ? el("button", { type: "submit", class: "btn primary", "data-testid": "modal-submit" },
        view.submit.text) : null));
  modal.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await post("/ui/submit", { view_id: view.id, values: state.values });
    state.errors = answer.response_action === "errors" ? answer.errors || {} : {};
    shownModal = null;
    if (state.data && state.data.modal) renderModal();
  });
  layer.replaceChildren(modal);
  layer.classList.remove("hidden");
}

// --- home and tabs ---------------------------------------------------------------------

function renderHome() {
  const home = state.data.home;
  document.getElementById("home-view").replaceChildren(
    home ? blocksNode(home.blocks, { viewId: home.id }) : el("p", {}, "Opening…"));
}

function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".nav")) {
    button.classList.toggle("active", button.dataset.tab === tab);
  }
  document.getElementById("channel").classList.toggle("hidden", tab !== "channel");
  document.getElementById("home").classList.toggle("hidden", tab !== "home");
  if (tab === "home") post("/ui/home", {});
}

// --- the loop --------------------------------------------------------------------------

function render() {
  document.getElementById("channel-name").textContent = state.data.channel.name;
  document.getElementById("channel-title").textContent = state.data.channel.name;
  document.getElementById("message-box").placeholder =
    `Message #${state.data.channel.name} — try /pos help`;
  renderMessages();
  renderModal();
  renderHome();
}

async function poll() {
  for (;;) {
    try {
      const answer = await fetch(`/ui/state?since=${state.version}`);
      const data = await answer.json();
      if (data.version !== state.version) {
        if (!state.data || JSON.stringify(data.modal) !== JSON.stringify(state.data.modal)) {
          state.errors = {};
        }
        state.data = data;
        state.version = data.version;
        render();
      }
    } catch (error) {
      await new Promise((done) => setTimeout(done, 1000));
    }
  }
}

document.getElementById("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = document.getElementById("message-box");
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  await post("/ui/command", { text });
});

document.getElementById("upload").addEventListener("change", async (event) => {
  const chosen = event.target.files[0];
  if (!chosen) return;
  await post("/ui/upload", chosen, { "Content-Type": chosen.type || "text/csv", "X-File-Name": chosen.name });
  event.target.value = "";
});

for (const button of document.querySelectorAll(".nav")) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}

poll();
