// Kartei's little JavaScript: the screen pop (server-sent events) and desktop notifications.
// Everything from the server is inserted with textContent, never as HTML.
"use strict";
(function () {
  const pops = document.getElementById("pops");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const button = document.getElementById("notify-permission");
  if (button && "Notification" in window) {
    button.addEventListener("click", () => Notification.requestPermission());
  }
  if (!pops || !window.EventSource) return;
  const t = (key) => pops.dataset["t" + key[0].toUpperCase() + key.slice(1)] || key;
  const cards = new Map();

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function post(url, fields) {
    const body = new URLSearchParams(fields);
    return fetch(url, { method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf } });
  }

  function ring(m) {
    if (cards.has(m.call)) return;
    const card = el("section", "pop ringing");
    card.dataset.call = m.call;
    const close = el("button", "pop-close", "×");
    close.title = t("close");
    close.addEventListener("click", () => { card.remove(); cards.delete(m.call); });
    card.append(close);
    const name = m.contact_id ? m.name : (m.caller_name || t("unknown"));
    if (m.contact_id) {
      const link = el("a", "pop-name-link");
      link.href = "/contacts/" + encodeURIComponent(m.contact_id);
      link.append(el("p", "pop-name", name));
      card.append(link);
    } else {
      card.append(el("p", "pop-name", name));
    }
    if (m.company && m.company !== m.name) card.append(el("div", "pop-company", m.company));
    card.append(el("div", "pop-number muted", m.number_text || m.number || ""));
    if (m.customer_number) card.append(el("div", "pop-customer muted", t("customer") + " " + m.customer_number));
    const more = el("div", "pop-more");
    card.append(more);
    if (!m.contact_id && m.number) {
      const create = el("a", "pop-create", t("create"));
      create.href = "/contacts/new?phone=" + encodeURIComponent(m.number);
      card.append(create);
    }
    card.append(el("div", "pop-state muted", ""));
    cards.set(m.call, { card, m });
    pops.prepend(card);
    if ("recent" in m) details(m);
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      new Notification(name, { body: [m.company, m.number].filter(Boolean).join(" · "), tag: m.call });
    }
  }

  // The rest of the card arrives in a second message, right after the name.
  function details(m) {
    const entry = cards.get(m.call);
    if (!entry) return;
    const more = entry.card.querySelector(".pop-more");
    if (!more || more.childElementCount) return;
    if (m.risk) more.append(el("div", "badge risk", t("risk") + ": " + m.risk));
    if (m.last_complaint) more.append(el("div", "pop-complaint muted", t("complaint") + ": " + (m.last_complaint.subject || "")));
    if (m.tasks && m.tasks.length) {
      more.append(el("strong", "", t("tasks")));
      const ul = el("ul");
      m.tasks.forEach((x) => ul.append(el("li", "", x)));
      more.append(ul);
    }
    if (m.recent && m.recent.length) {
      more.append(el("strong", "", t("recent")));
      const ul = el("ul", "pop-recent");
      m.recent.forEach((x) => ul.append(el("li", "", (x.when || x.at.slice(0, 10)) + " " + x.text)));
      more.append(ul);
    }
  }

  function answered(m) {
    const entry = cards.get(m.call);
    if (!entry) return;
    entry.card.classList.replace("ringing", "answered");
    entry.card.querySelector(".pop-state").textContent = t("answered") + (m.by ? " · " + m.by : "");
  }

  function ended(m) {
    const entry = cards.get(m.call);
    if (!entry) return;
    const card = entry.card;
    card.classList.remove("ringing", "answered");
    card.classList.add("ended");
    // The cause in the user's words: data-t-cause-missed etc. on #pops (base.html).
    const cause = m.cause ? pops.dataset["tCause" + m.cause[0].toUpperCase() + m.cause.slice(1)] || m.cause : "";
    card.querySelector(".pop-state").textContent = t("ended") + (cause ? " · " + cause : "");
    const contact = entry.m.contact_id;
    if (!contact) return;
    const form = el("form", "pop-outcome");
    const input = el("input", "pop-note");
    input.name = "text"; input.maxLength = 500; input.placeholder = t("outcome");
    const label = el("label", "", "");
    const follow = el("input"); follow.type = "checkbox"; follow.className = "pop-follow";
    label.append(follow, document.createTextNode(" " + t("followup")));
    const save = el("button", "pop-save", t("save")); save.type = "submit";
    form.append(input, label, save);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const base = "/contacts/" + encodeURIComponent(contact);
      if (input.value.trim()) await post(base + "/notes", { text: input.value, about: m.call, back: "none" });
      if (follow.checked) await post(base + "/tasks", { title: input.value || t("followup"), back: "none" });
      card.remove(); cards.delete(m.call);
    });
    card.append(form);
  }

  const source = new EventSource("/pop/stream");
  source.addEventListener("pop", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "ring") ring(m);
    else if (m.type === "card") details(m);
    else if (m.type === "answered") answered(m);
    else if (m.type === "ended") ended(m);
  });
  source.addEventListener("open", () => { document.body.dataset.pop = "connected"; });
})();
