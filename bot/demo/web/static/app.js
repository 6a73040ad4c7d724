// The StreamOps demo page. It shows what the fake Slack received and sends what you do
// to the bot as Slack would. Every piece of text is set with textContent: nothing the bot,
// a provider or a user wrote is ever parsed as HTML.
"use strict";

const ui = {
  me: "",
  channel: "",
  view: "channel", // "channel" | "home"
  thread: null, // {channel, ts}
  state: null,
  generation: 0,
  seen: new Set(),
  openModal: "",
  read: {}, // channel id -> how many messages were there when last looked at
};

const $ = (id) => document.getElementById(id);

function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children || [])) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function safeHref(href) {
  return /^(https?:\/\/|mailto:)/i.test(href || "") ? href : null;
}

// -- dates: Slack's <!date^…> tokens, in the viewer's local time ---------------------------

const DAY = 86400000;
function ordinal(n) {
  const s = ["th", "st", "nd", "rd"], v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}
function dayDiff(date) {
  const start = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  return Math.round((start(date) - start(new Date())) / DAY);
}
function pretty(date, fallback) {
  const diff = dayDiff(date);
  if (diff === 0) return "today";
  if (diff === -1) return "yesterday";
  if (diff === 1) return "tomorrow";
  return fallback;
}
function ago(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const future = seconds < 0, s = Math.abs(seconds);
  const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [name, size] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      const phrase = `${n} ${name}${n === 1 ? "" : "s"}`;
      return future ? `in ${phrase}` : `${phrase} ago`;
    }
  }
  return future ? "in a few seconds" : "just now";
}
function formatDate(ts, fmt) {
  const d = new Date(ts * 1000);
  const month = (style) => d.toLocaleDateString(undefined, { month: style });
  const weekday = d.toLocaleDateString(undefined, { weekday: "long" });
  const pad = (n) => String(n).padStart(2, "0");
  const dateLong = `${month("long")} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
  const dateShort = `${month("short")} ${d.getDate()}, ${d.getFullYear()}`;
  const values = {
    date_num: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    date: dateLong,
    date_short: dateShort,
    date_long: `${weekday}, ${dateLong}`,
    date_pretty: pretty(d, dateLong),
    date_short_pretty: pretty(d, dateShort),
    date_long_pretty: pretty(d, `${weekday}, ${dateLong}`),
    time: d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" }),
    time_secs: d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" }),
    ago: ago(d),
  };
  return fmt.replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
}
function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

// -- mrkdwn nodes (parsed by the server) -> DOM ----------------------------------------------

function inline(nodes) {
  const out = document.createDocumentFragment();
  for (const n of nodes || []) out.append(inlineNode(n));
  return out;
}
function inlineNode(n) {
  switch (n.t) {
    case "text": return document.createTextNode(n.v);
    case "br": return el("br");
    case "b": return el("b", {}, inline(n.c));
    case "i": return el("i", {}, inline(n.c));
    case "s": return el("s", {}, inline(n.c));
    case "code": return el("code", { text: n.v });
    case "pre": return el("pre", { text: n.v });
    case "quote": return el("blockquote", {}, inline(n.c));
    case "emoji": return el("span", { class: "emoji", title: `:${n.name}:`, text: n.v });
    case "user": case "channel": case "special":
      return el("span", { class: "mention", text: n.v });
    case "date": {
      const shown = formatDate(n.ts, n.fmt);
      const node = el("time", {
        class: "date-token", datetime: new Date(n.ts * 1000).toISOString(),
        title: new Date(n.ts * 1000).toLocaleString(), text: shown,
      });
      const href = safeHref(n.href);
      return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, node) : node;
    }
    case "link": {
      const href = safeHref(n.href);
      if (!href) return inline(n.c);
      return el("a", { href, target: "_blank", rel: "noopener noreferrer", title: href }, inline(n.c));
    }
    default: return document.createTextNode(n.v || "");
  }
}
function textObject(obj, cls) {
  if (!obj) return null;
  if (typeof obj === "string") return el("span", { class: cls, text: obj });
  return el("span", { class: `mrkdwn ${cls || ""}` }, inline(obj.nodes || [{ t: "text", v: obj.text || "" }]));
}
function plainText(obj) {
  if (!obj) return "";
  return typeof obj === "string" ? obj : obj.text || "";
}

// -- Block Kit -> DOM -------------------------------------------------------------------------
// `where` says where a click goes: {kind: "message", channel, ts} or {kind: "view", viewId}.

function renderBlocks(blocks, where, inModal) {
  const box = el("div", { class: "blocks" });
  for (const block of blocks || []) box.append(renderBlock(block, where, inModal));
  return box;
}

function renderBlock(block, where, inModal) {
  const blockId = block.block_id || "";
  switch (block.type) {
    case "header":
      return el("div", { class: "block-header" }, textObject(block.text));
    case "divider":
      return el("hr", { class: "block-divider" });
    case "section": {
      const main = el("div", { class: "section-main" }, [
        block.text ? el("div", { class: "text" }, textObject(block.text)) : null,
        block.fields ? el("div", { class: "fields" }, block.fields.map((f) => el("div", { class: "text" }, textObject(f)))) : null,
      ]);
      const accessory = block.accessory
        ? el("div", { class: "section-accessory" }, renderElement(block.accessory, blockId, where))
        : null;
      return el("div", { class: "block-section", "data-block-id": blockId }, [main, accessory]);
    }
    case "context":
      return el("div", { class: "block-context" }, (block.elements || []).map((e) =>
        e.type === "image" ? el("span", { class: "context-image", title: e.alt_text || "", text: "🖼" }) : textObject(e)));
    case "actions":
      return el("div", { class: "block-actions", "data-block-id": blockId },
        (block.elements || []).map((e) => renderElement(e, blockId, where)));
    case "image":
      return el("div", { class: "block-image" }, [
        block.title ? el("div", { class: "text" }, textObject(block.title)) : null,
        el("div", { text: `🖼 ${block.alt_text || "image"}` }),
      ]);
    case "rich_text":
      return el("div", { class: "text mrkdwn" }, (block.elements || []).map(richElement));
    case "input":
      return renderInput(block, inModal);
    case "video":
      return el("div", { class: "block-image" }, [el("div", { text: `▶ ${plainText(block.title) || "video"}` })]);
    case "file":
      return el("div", { class: "file" }, [el("span", { class: "file-icon", text: "📄" }), el("span", { text: block.external_id || "file" })]);
    default:
      return el("div", { class: "block-unknown", text: `[${block.type} block]` });
  }
}

function richText(items) {
  const frag = document.createDocumentFragment();
  for (const item of items || []) {
    let node;
    if (item.type === "text") {
      node = document.createTextNode(item.text || "");
      const style = item.style || {};
      if (style.code) node = el("code", {}, node);
      if (style.bold) node = el("b", {}, node);
      if (style.italic) node = el("i", {}, node);
      if (style.strike) node = el("s", {}, node);
    } else if (item.type === "link") {
      const href = safeHref(item.url);
      node = href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: item.text || item.url }) : document.createTextNode(item.text || "");
    } else if (item.type === "user") {
      node = el("span", { class: "mention", text: "@" + ((ui.state && ui.state.users[item.user_id]) || item.user_id) });
    } else if (item.type === "channel") {
      node = el("span", { class: "mention", text: "#" + ((ui.state && ui.state.users[item.channel_id]) || item.channel_id) });
    } else if (item.type === "emoji") {
      node = el("span", { class: "emoji", text: item.unicode ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16))) : `:${item.name}:` });
    } else if (item.type === "date") {
      node = el("time", { class: "date-token", text: formatDate(item.timestamp, item.format || "{date_short} {time}") });
    } else {
      node = document.createTextNode(item.text || "");
    }
    frag.append(node);
  }
  return frag;
}
function richElement(section) {
  switch (section.type) {
    case "rich_text_section": return el("div", {}, richText(section.elements));
    case "rich_text_preformatted": return el("pre", {}, richText(section.elements));
    case "rich_text_quote": return el("blockquote", {}, richText(section.elements));
    case "rich_text_list":
      return el(section.style === "ordered" ? "ol" : "ul", { class: "rich-list" },
        (section.elements || []).map((s) => el("li", {}, richText(s.elements))));
    default: return el("div", {}, richText(section.elements));
  }
}

function optionsOf(element) {
  const options = [...(element.options || [])];
  for (const group of element.option_groups || []) options.push(...(group.options || []));
  return options;
}

function renderElement(element, blockId, where) {
  const actionId = element.action_id || "";
  switch (element.type) {
    case "button": {
      const style = element.style ? ` ${element.style}` : "";
      return el("button", {
        type: "button", class: `btn${style}`, "data-action-id": actionId,
        onclick: () => pressButton(element, blockId, where),
      }, inline((element.text && element.text.nodes) || []));
    }
    case "static_select": case "overflow": case "external_select": case "radio_buttons": {
      const placeholder = element.type === "overflow" ? "⋯" : plainText(element.placeholder) || "Select an option";
      const select = el("select", { class: "element", "data-action-id": actionId }, [
        el("option", { value: "", text: placeholder }),
        ...optionsOf(element).map((o) => el("option", { value: o.value || "", text: plainText(o.text) })),
      ]);
      select.addEventListener("change", () => {
        if (select.value) act(where, blockId, actionId, select.value, element.confirm);
      });
      return select;
    }
    case "datepicker": case "timepicker": {
      const input = el("input", { class: "element", type: element.type === "datepicker" ? "date" : "time", "data-action-id": actionId });
      input.addEventListener("change", () => act(where, blockId, actionId, input.value, element.confirm));
      return input;
    }
    case "image":
      return el("span", { class: "context-image", title: element.alt_text || "", text: "🖼" });
    default:
      return el("span", { class: "block-unknown", text: `[${element.type}]` });
  }
}

function pressButton(element, blockId, where) {
  const go = () => {
    const href = safeHref(element.url);
    if (href) window.open(href, "_blank", "noopener");
    act(where, blockId, element.action_id || "", "", null);
  };
  if (element.confirm) confirmDialog(element.confirm, go);
  else go();
}

function act(where, blockId, actionId, selected, confirm) {
  const send = () => {
    if (where.kind === "message") {
      post("/api/click", { channel: where.channel, ts: where.ts, block_id: blockId, action_id: actionId, selected });
    } else {
      post("/api/view_click", { view_id: where.viewId, block_id: blockId, action_id: actionId, selected });
    }
  };
  if (confirm) confirmDialog(confirm, send);
  else send();
}

function confirmDialog(confirm, onYes) {
  const layer = $("confirm-layer");
  const close = () => { layer.hidden = true; layer.replaceChildren(); };
  const yesStyle = confirm.style === "danger" ? "danger" : "primary";
  const dialog = el("div", { class: "dialog small", role: "alertdialog", "aria-modal": "true" }, [
    el("div", { class: "dialog-header" }, [el("div", { class: "dialog-title", text: plainText(confirm.title) || "Are you sure?" })]),
    el("div", { class: "dialog-body" }, [el("div", { class: "text" }, textObject(confirm.text))]),
    el("div", { class: "dialog-footer" }, [
      el("button", { type: "button", class: "btn btn-large confirm-deny", text: plainText(confirm.deny) || "Cancel", onclick: close }),
      el("button", {
        type: "button", class: `btn btn-large ${yesStyle} confirm-yes`, text: plainText(confirm.confirm) || "Yes",
        onclick: () => { close(); onYes(); },
      }),
    ]),
  ]);
  layer.replaceChildren(dialog);
  layer.hidden = false;
  layer.querySelector(".confirm-yes").focus();
}

// -- modals -----------------------------------------------------------------------------------

function renderInput(block, inModal) {
  const element = block.element || {};
  const errors = (ui.state && ui.state.modal && ui.state.modal.errors) || {};
  const label = el("label", { class: "input-label" }, [
    textObject(block.label),
    block.optional ? el("span", { class: "input-optional", text: " (optional)" }) : null,
  ]);
  const failed = errors[block.block_id] ? " has-error" : "";
  return el("div", { class: `input-block${failed}`, "data-block-id": block.block_id || "" }, [
    label,
    inputControl(element),
    block.hint ? el("div", { class: "input-hint" }, textObject(block.hint)) : null,
    errors[block.block_id] ? el("div", { class: "input-error", text: errors[block.block_id] }) : null,
  ]);
}

function inputControl(element) {
  const id = element.action_id || "";
  const initial = element.initial_value || "";
  const people = (ui.state && ui.state.people) || [];
  const channels = (ui.state && ui.state.channels) || [];
  const choice = (type, name, o, checked) => el("label", { class: "choice" }, [
    el("input", { type, name, value: o.value || "", "data-action-id": id, checked }),
    textObject(o.text),
  ]);
  switch (element.type) {
    case "plain_text_input":
      return element.multiline
        ? el("textarea", { class: "element", rows: 4, "data-action-id": id, placeholder: plainText(element.placeholder) }, initial)
        : el("input", { class: "element", type: "text", "data-action-id": id, value: initial, placeholder: plainText(element.placeholder) });
    case "number_input": case "email_text_input": case "url_text_input": {
      const type = { number_input: "number", email_text_input: "email", url_text_input: "url" }[element.type];
      return el("input", { class: "element", type, "data-action-id": id, value: initial, placeholder: plainText(element.placeholder) });
    }
    case "static_select": case "external_select": {
      const chosen = element.initial_option ? element.initial_option.value : "";
      return el("select", { class: "element", "data-action-id": id }, [
        el("option", { value: "", text: plainText(element.placeholder) || "Select an option" }),
        ...optionsOf(element).map((o) => el("option", { value: o.value || "", text: plainText(o.text), selected: o.value === chosen })),
      ]);
    }
    case "radio_buttons": {
      const chosen = element.initial_option ? element.initial_option.value : "";
      return el("div", { class: "choices" }, optionsOf(element).map((o) => choice("radio", id, o, o.value === chosen)));
    }
    case "checkboxes": {
      const chosen = new Set((element.initial_options || []).map((o) => o.value));
      return el("div", { class: "choices" }, optionsOf(element).map((o) => choice("checkbox", id, o, chosen.has(o.value))));
    }
    case "datepicker":
      return el("input", { class: "element", type: "date", "data-action-id": id, value: element.initial_date || "" });
    case "timepicker":
      return el("input", { class: "element", type: "time", "data-action-id": id, value: element.initial_time || "" });
    case "users_select":
      return el("select", { class: "element", "data-action-id": id }, [
        el("option", { value: "", text: "Select a person" }),
        ...people.map((p) => el("option", { value: p.id, text: p.name, selected: p.id === element.initial_user })),
      ]);
    case "conversations_select": case "channels_select":
      return el("select", { class: "element", "data-action-id": id }, [
        el("option", { value: "", text: "Select a channel" }),
        ...channels.filter((c) => !c.dm).map((c) => el("option", { value: c.id, text: `#${c.name}` })),
      ]);
    default:
      return el("div", { class: "block-unknown", text: `[${element.type}]` });
  }
}

function modalValues(dialog) {
  const values = {};
  for (const block of dialog.querySelectorAll(".input-block")) {
    const blockId = block.getAttribute("data-block-id");
    const answers = (values[blockId] = values[blockId] || {});
    for (const control of block.querySelectorAll("[data-action-id]")) {
      const actionId = control.getAttribute("data-action-id");
      if (control.type === "checkbox") {
        if (control.checked) answers[actionId] = answers[actionId] ? `${answers[actionId]},${control.value}` : control.value;
        else answers[actionId] = answers[actionId] || "";
      } else if (control.type === "radio") {
        if (control.checked) answers[actionId] = control.value;
        else answers[actionId] = answers[actionId] || "";
      } else {
        answers[actionId] = control.value;
      }
    }
  }
  return values;
}

function renderModal(modal) {
  const layer = $("modal-layer");
  if (!modal) {
    layer.hidden = true;
    layer.replaceChildren();
    ui.openModal = "";
    return;
  }
  const key = JSON.stringify([modal.id, modal.view, modal.errors]);
  if (ui.openModal === key) return; // unchanged: keep what is being typed
  const previous = layer.querySelector(".dialog");
  const typed = previous && previous.getAttribute("data-view-id") === modal.id ? modalValues(previous) : null;
  ui.openModal = key;
  const view = modal.view;
  const where = { kind: "view", viewId: modal.id };
  const cancel = () => post("/api/close", { view_id: modal.id });
  const dialog = el("form", { class: "dialog modal", "data-view-id": modal.id, role: "dialog", "aria-modal": "true" }, [
    el("div", { class: "dialog-header" }, [
      el("div", { class: "dialog-title", text: plainText(view.title) || "StreamOps" }),
      el("button", { type: "button", class: "icon-button", "aria-label": "Close", text: "✕", onclick: cancel }),
    ]),
    el("div", { class: "dialog-body" }, renderBlocks(view.blocks, where, true)),
    el("div", { class: "dialog-footer" }, [
      el("button", { type: "button", class: "btn btn-large modal-cancel", text: plainText(view.close) || "Cancel", onclick: cancel }),
      view.submit ? el("button", { type: "submit", class: "btn btn-large primary modal-submit", text: plainText(view.submit) }) : null,
    ]),
  ]);
  dialog.addEventListener("submit", (event) => {
    event.preventDefault();
    post("/api/submit", { view_id: modal.id, values: modalValues(dialog) });
  });
  if (typed) restoreValues(dialog, typed);
  layer.replaceChildren(dialog);
  layer.hidden = false;
}

function restoreValues(dialog, values) {
  for (const block of dialog.querySelectorAll(".input-block")) {
    const answers = values[block.getAttribute("data-block-id")] || {};
    for (const control of block.querySelectorAll("[data-action-id]")) {
      const answer = answers[control.getAttribute("data-action-id")];
      if (answer === undefined) continue;
      if (control.type === "checkbox" || control.type === "radio") control.checked = answer.split(",").includes(control.value);
      else control.value = answer;
    }
  }
}

// -- messages ---------------------------------------------------------------------------------

function avatar(message, small) {
  const cls = `avatar${small ? " small" : ""}${message.slackbot ? " slackbot" : ""}`;
  return el("div", { class: cls, "aria-hidden": "true", text: message.slackbot ? "SB" : "SO" });
}

function renderMessage(message, options) {
  const where = { kind: "message", channel: message.channel, ts: message.ts };
  const key = `${message.channel}/${message.ts}/${message.edited}`;
  const fresh = !ui.seen.has(key) && Date.now() / 1000 - message.time < 3;
  ui.seen.add(key);
  const body = el("div", { class: "body" }, [
    message.ephemeral ? el("div", { class: "only-you" }, [el("span", { text: "👁" }), el("span", { text: "Only visible to you" })]) : null,
    el("div", { class: "meta" }, [
      el("span", { class: "author", text: message.author }),
      message.bot ? el("span", { class: "badge", text: "App" }) : null,
      el("span", { class: "time", text: clock(message.time), title: new Date(message.time * 1000).toLocaleString() }),
    ]),
    message.text.length ? el("div", { class: "text mrkdwn" }, [inline(message.text), message.edited ? edited() : null]) : null,
    message.blocks.length ? blocksWithEdit(message, where) : null,
    message.files.length ? el("div", { class: "files" }, message.files.map((f) => el("div", { class: "file" }, [el("span", { class: "file-icon", text: "📄" }), el("span", { text: f })]))) : null,
    options.summary && message.reply_count ? threadSummary(message) : null,
  ]);
  if (options.compact) body.querySelector(".meta").remove(); // Slack groups a sender's run of messages
  const cls = `message${message.ephemeral ? " ephemeral" : ""}${fresh ? " flash" : ""}${options.compact ? " compact" : ""}`;
  const gutter = options.compact
    ? el("div", { class: "gutter", text: clock(message.time).replace(/\s?[AP]M$/i, ""), title: new Date(message.time * 1000).toLocaleString() })
    : avatar(message, false);
  return el("div", { class: cls, "data-ts": message.ts }, [gutter, body]);
}

function edited() {
  return el("span", { class: "edited", text: " (edited)" });
}

function blocksWithEdit(message, where) {
  const blocks = renderBlocks(message.blocks, where, false);
  if (message.edited) {
    const texts = blocks.querySelectorAll(".section-main > .text, .block-header, .rich-text");
    (texts.length ? texts[texts.length - 1] : blocks).append(edited());
  }
  return blocks;
}

function threadSummary(message) {
  const count = message.reply_count;
  return el("button", {
    type: "button", class: "thread-summary",
    onclick: () => { ui.thread = { channel: message.channel, ts: message.ts }; render(); },
  }, [
    avatar(message, true),
    el("span", { class: "reply-count", text: `${count} ${count === 1 ? "reply" : "replies"}` }),
    el("span", { class: "last-reply", text: `Last reply ${formatDate(message.last_reply, "{date_short_pretty} at {time}")}` }),
  ]);
}

function keepScroll(container, fill) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  const top = container.scrollTop;
  fill();
  container.scrollTop = atBottom ? container.scrollHeight : top;
}

function renderChannel(state) {
  const box = $("messages");
  const messages = state.messages[ui.channel] || [];
  box.replaceChildren(...(messages.length
    ? messages.map((m, i) => renderMessage(m, { summary: true, compact: followsSameSender(messages[i - 1], m) }))
    : [el("div", { class: "empty", text: "No messages yet. Type a slash command below, such as /streamops help." })]));
}

function followsSameSender(previous, message) {
  return Boolean(previous) && previous.author === message.author && !previous.ephemeral
    && !message.ephemeral && !previous.reply_count && message.time - previous.time < 300;
}

function renderThread(state) {
  const pane = $("thread");
  const parent = ui.thread && (state.messages[ui.thread.channel] || []).find((m) => m.ts === ui.thread.ts);
  if (!parent) { pane.hidden = true; ui.thread = null; return; }
  pane.hidden = false;
  const channel = state.channels.find((c) => c.id === parent.channel);
  $("thread-where").textContent = channel ? (channel.dm ? channel.name : `#${channel.name}`) : "";
  const box = $("thread-messages");
  const count = parent.replies.length;
  keepScroll(box, () => box.replaceChildren(
    renderMessage(parent, { summary: false }),
    el("div", { class: "thread-divider", text: `${count} ${count === 1 ? "reply" : "replies"}` }),
    ...parent.replies.map((r) => renderMessage(r, { summary: false })),
  ));
}

function renderHome(state) {
  const box = $("home");
  if (!state.home) {
    box.replaceChildren(el("div", { class: "empty", text: "Opening the Home tab…" }));
    return;
  }
  box.replaceChildren(renderBlocks(state.home.blocks, { kind: "view", viewId: state.home.id }, false));
}

function renderSwitcher(state) {
  const switcher = $("user-switcher");
  if (switcher.options.length !== state.people.length) {
    switcher.replaceChildren(...state.people.map((p) => el("option", { value: p.id, text: p.name })));
  }
  switcher.value = ui.me;
}

function renderSidebar(state) {
  const item = (label, prefix, active, onclick) => el("li", {}, el("button", { type: "button", class: active ? "active" : "", onclick }, [prefix, el("span", { text: label })]));
  const open = (id) => () => { ui.channel = id; ui.view = "channel"; ui.thread = null; render(); };
  const count = (id) => (state.messages[id] || []).length;
  if (ui.view === "channel") ui.read[ui.channel] = count(ui.channel);
  const unread = (id) => count(id) > (ui.read[id] || 0);
  const entry = (c, prefix) => {
    const active = ui.view === "channel" && ui.channel === c.id;
    const li = item(c.name, prefix, active, open(c.id));
    if (!active && unread(c.id)) li.firstChild.classList.add("unread");
    return li;
  };
  $("channel-list").replaceChildren(...state.channels.filter((c) => !c.dm).map((c) => entry(c, el("span", { class: "hash", text: "#" }))));
  $("dm-list").replaceChildren(...state.channels.filter((c) => c.dm).map((c) => entry(c, el("span", { class: "presence" }))));
  $("app-list").replaceChildren(item("StreamOps", el("span", { class: "presence" }), ui.view === "home", openHome));
  const me = state.people.find((p) => p.id === ui.me);
  $("user-note").textContent = me ? `You are ${me.name}: ${me.can}.` : "";
}

function openHome() {
  ui.view = "home";
  ui.thread = null;
  render();
  post("/api/home", {});
}

function renderHeader(state) {
  const channel = state.channels.find((c) => c.id === ui.channel);
  const title = $("pane-title");
  const tabs = $("pane-tabs");
  if (ui.view === "home") {
    title.textContent = "StreamOps";
    const dm = state.channels.find((c) => c.dm);
    tabs.replaceChildren(
      el("button", { type: "button", class: "active", text: "Home" }),
      el("button", { type: "button", text: "Messages", onclick: () => { ui.view = "channel"; ui.channel = dm.id; render(); } }),
    );
  } else {
    title.textContent = channel ? (channel.dm ? channel.name : `# ${channel.name}`) : "";
    tabs.replaceChildren();
  }
  const name = channel ? (channel.dm ? channel.name : `#${channel.name}`) : "";
  $("composer-input").placeholder = `Message ${name}`;
}

function render() {
  const state = ui.state;
  if (!state) return;
  if (!state.channels.some((c) => c.id === ui.channel)) ui.channel = state.home_channel;
  renderSwitcher(state);
  renderSidebar(state);
  renderHeader(state);
  const box = $("messages");
  const atBottom = box.hidden || box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const top = box.scrollTop;
  const home = ui.view === "home";
  $("messages").hidden = home;
  $("composer").hidden = home;
  $("home").hidden = !home;
  if (home) renderHome(state);
  else renderChannel(state);
  renderThread(state);
  box.scrollTop = atBottom ? box.scrollHeight : top; // follow new messages, keep a reader's place
  renderModal(state.modal);
}

// -- talking to the server --------------------------------------------------------------------

function toast(text) {
  const note = el("div", { class: "toast", role: "status", text });
  document.body.append(note);
  setTimeout(() => note.remove(), 4000);
}

async function post(path, body) {
  try {
    const response = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: ui.me, ...body }),
    });
    const answer = await response.json();
    if (!answer.ok) toast(answer.error || "That did not work.");
  } catch (error) {
    toast("The demo is not running any more.");
  }
}

async function load(after) {
  const generation = ui.generation;
  const response = await fetch(`/api/state?user=${encodeURIComponent(ui.me)}&after=${after}`);
  const state = await response.json();
  if (state.ok === false) throw new Error(state.error);
  if (generation !== ui.generation) return null;
  ui.state = state;
  render();
  return state.version;
}

async function poll() {
  let version = -1;
  let generation = ui.generation;
  for (;;) {
    try {
      if (generation !== ui.generation) { generation = ui.generation; version = -1; }
      const next = await load(version);
      if (next !== null && next !== undefined) version = next;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

const SUGGESTIONS = ["/streamops help", "/build projects", "/build builds showroom", "/media list", "/live list", "/audit"];

function setUp() {
  const params = new URLSearchParams(location.search);
  ui.me = params.get("user") || "UDEMOADMIN";
  const switcher = $("user-switcher");
  switcher.addEventListener("change", () => {
    ui.me = switcher.value;
    ui.generation += 1;
    ui.seen.clear();
    ui.read = {};
    ui.openModal = "";
    if (ui.view === "home") post("/api/home", {});
    load(-1);
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    if (!text.startsWith("/")) { toast("In this demo, type a slash command, such as /streamops help"); return; }
    input.value = "";
    post("/api/command", { channel: ui.channel, text });
  });
  $("composer-hint").replaceChildren(el("span", { text: "Try:" }), ...SUGGESTIONS.map((s) =>
    el("button", { type: "button", class: "chip", text: s, onclick: () => { const i = $("composer-input"); i.value = s; i.focus(); } })));
  $("thread-close").addEventListener("click", () => { ui.thread = null; render(); });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("confirm-layer").hidden) { $("confirm-layer").hidden = true; }
  });
  poll();
}

document.addEventListener("DOMContentLoaded", setUp);
