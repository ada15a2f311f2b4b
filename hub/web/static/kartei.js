// Kartei's little JavaScript: the nav search's suggestions, the screen pop (server-sent
// events) and desktop notifications. Everything from the server is inserted with
// textContent, never as HTML.
"use strict";
(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const button = document.getElementById("notify-permission");
  if (button && "Notification" in window) {
    button.addEventListener("click", () => Notification.requestPermission());
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    const use = document.createElementNS(ns, "use");
    use.setAttribute("href", "/static/vendor/lucide/icons.svg#" + name);
    svg.append(use);
    return svg;
  }

  // --- Search suggestions as one types (GET /search/suggest?q=, behind the login) ---
  const search = document.querySelector("form.search[data-suggest]");
  if (search) {
    const input = search.querySelector("input[type=search]");
    const list = search.querySelector(".suggestions");
    let timer = 0, asked = "", active = -1;
    const items = () => Array.from(list.querySelectorAll("li"));
    const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; };
    const mark = (i) => {
      items().forEach((li, n) => li.setAttribute("aria-selected", String(n === i)));
      active = i;
      const li = items()[i];
      input.setAttribute("aria-activedescendant", li ? li.id : "");
    };
    async function suggest() {
      const q = input.value.trim();
      if (q.length < 2) { close(); return; }
      if (q === asked) return;
      asked = q;
      const r = await fetch(search.dataset.suggest + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
      if (!r.ok || input.value.trim() !== q) return;
      const found = await r.json();
      list.replaceChildren();
      found.forEach((s, n) => {
        const li = el("li"); li.id = "suggestion-" + n; li.setAttribute("role", "option");
        const a = el("a"); a.href = s.href; a.tabIndex = -1;
        a.append(el("span", "", s.name), el("span", "muted", s.sub));
        li.append(a); list.append(li);
      });
      list.hidden = !found.length;
      input.setAttribute("aria-expanded", String(!!found.length));
      active = -1;
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 150); });
    input.addEventListener("keydown", (ev) => {
      const all = items();
      if (list.hidden || !all.length) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); mark((active + 1) % all.length); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); mark((active - 1 + all.length) % all.length); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); window.location = all[active].querySelector("a").href; }
      else if (ev.key === "Escape") { close(); }
    });
    input.addEventListener("blur", () => setTimeout(close, 200));
  }

  // --- The screen pop ---
  const pops = document.getElementById("pops");
  if (!pops || !window.EventSource) return;
  const t = (key) => pops.dataset["t" + key.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join("")] || key;
  const fadeSeconds = parseInt(pops.dataset.fade || "0", 10);
  const cards = new Map();
  const gone = new Set();  // calls whose pop was closed: a replay does not bring them back

  function post(url, fields) {
    const body = new URLSearchParams(fields);
    return fetch(url, { method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf } });
  }

  function remove(call) {
    const entry = cards.get(call);
    if (!entry) return;
    clearTimeout(entry.fade);
    entry.card.remove();
    cards.delete(call);
    if (gone.size > 1000) gone.clear();
    gone.add(call);
  }

  function state(entry, cls, iconName, text) {
    entry.card.classList.remove("ringing", "answered", "ended", "missed");
    entry.card.classList.add(...cls.split(" "));
    const s = entry.card.querySelector(".pop-state");
    s.replaceChildren(icon(iconName), document.createTextNode(text));
  }

  // An ended pop fades after [web] pop_fade_seconds, unless someone is writing in it or
  // pointing at it: then it waits until they are done.
  function fadeLater(entry) {
    if (!fadeSeconds) return;
    clearTimeout(entry.fade);
    entry.fade = setTimeout(() => {
      const card = entry.card;
      if (card.matches(":hover") || card.contains(document.activeElement)) { fadeLater(entry); return; }
      card.classList.add("fading");
      setTimeout(() => remove(entry.m.call), 650);
    }, fadeSeconds * 1000);
  }

  function ring(m) {
    if (cards.has(m.call)) {  // replayed (the stream broke between name and card)
      if ("recent" in m) details(m);
      return;
    }
    if (gone.has(m.call)) return;  // closed by the user, then replayed
    const card = el("section", "pop ringing");
    card.dataset.call = m.call;
    card.tabIndex = -1;
    const name = m.contact_id ? m.name : (m.caller_name || t("unknown"));
    card.setAttribute("aria-label", name);
    const close = el("button", "pop-close");
    close.type = "button";
    close.title = t("close");
    close.setAttribute("aria-label", t("close"));
    close.append(icon("x"));
    close.addEventListener("click", () => remove(m.call));
    card.append(close);
    card.append(el("div", "pop-state", ""));
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
      const create = el("a", "pop-create btn", "");
      create.append(icon("user-plus"), document.createTextNode(t("create")));
      create.href = "/contacts/new?phone=" + encodeURIComponent(m.number);
      card.append(create);
    }
    card.append(el("div", "pop-hint", t("keys")));
    const entry = { card, m, fade: 0 };
    cards.set(m.call, entry);
    state(entry, "ringing", "phone-incoming", t("ringing"));
    pops.prepend(card);
    if ("recent" in m) details(m);
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      new Notification(name, { body: [m.company, m.number_text || m.number].filter(Boolean).join(" · "), tag: m.call });
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
    state(entry, "answered", "phone", m.by ? t("answered-by") + " " + m.by : t("answered"));
  }

  function ended(m) {
    const entry = cards.get(m.call);
    if (!entry || entry.card.classList.contains("ended")) return;
    const card = entry.card;
    const missed = m.cause === "missed" || (m.cause !== "answered" && card.classList.contains("ringing"));
    // The cause in the user's words: data-t-cause-missed etc. on #pops (base.html).
    const cause = m.cause ? pops.dataset["tCause" + m.cause[0].toUpperCase() + m.cause.slice(1)] || m.cause : "";
    if (missed) state(entry, "ended missed", "phone-missed", t("missed"));
    else state(entry, "ended", "phone", t("ended") + (cause ? " · " + cause : ""));
    fadeLater(entry);
    const contact = entry.m.contact_id;
    if (!contact) return;
    const form = el("form", "pop-outcome");
    const input = el("input", "pop-note");
    input.name = "text"; input.maxLength = 500; input.placeholder = t("outcome");
    input.setAttribute("aria-label", t("outcome"));
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
      remove(m.call);
    });
    card.append(form);
  }

  // Keyboard: Esc closes the newest pop; Enter opens its card (unless typing somewhere).
  document.addEventListener("keydown", (ev) => {
    const newest = pops.querySelector(".pop");
    if (!newest) return;
    const typing = ev.target.closest && ev.target.closest("input, textarea, select, button, a");
    if (ev.key === "Escape") {
      remove(newest.dataset.call);
      ev.preventDefault();
    } else if (ev.key === "Enter" && (!typing || ev.target === newest)) {
      const link = newest.querySelector(".pop-name-link, .pop-create");
      if (link) { ev.preventDefault(); window.location = link.href; }
    }
  });

  // The stream. After a dropped connection EventSource comes back by itself and sends the
  // last id it saw (Last-Event-ID), so nothing is missed. But an answer that is not a 200
  // event stream (a proxy's 502 while Kartei restarts, a 503 while its database is away, a
  // login page) closes it for good. Then the page opens a new one after a growing wait
  // with jitter (25 browsers need not knock at once), resuming after the last id it saw
  // (?after=): the server replays the calls in between. The first `hello` event carries
  // the position the stream starts at, since a page can read ids only from events.
  let lastId = "", failures = 0, source = null;

  function handle(ev) {
    if (ev.lastEventId) lastId = ev.lastEventId;
    if (ev.type !== "pop") return;
    const m = JSON.parse(ev.data);
    if (m.type === "ring") ring(m);
    else if (m.type === "card") details(m);
    else if (m.type === "answered") answered(m);
    else if (m.type === "ended") ended(m);
  }

  function connect() {
    const url = "/pop/stream?hello=1" + (lastId ? "&after=" + encodeURIComponent(lastId) : "");
    source = new EventSource(url);
    source.addEventListener("hello", handle);
    source.addEventListener("pop", handle);
    source.addEventListener("open", () => { failures = 0; document.body.dataset.pop = "connected"; });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) return;  // it tries again by itself
      document.body.dataset.pop = "reconnecting";
      failures += 1;
      const wait = Math.min(10000, 500 * 2 ** Math.min(failures, 5));
      setTimeout(connect, wait / 2 + Math.random() * wait / 2);
    });
  }
  connect();
})();
