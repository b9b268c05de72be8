// The chat page's side of the websocket protocol (docs/protocol.md).
// htmx handles the sidebar (search, rename, delete); streaming answers need a socket of their own.
(function () {
  "use strict";
  const chat = document.getElementById("chat");
  if (!chat) return;
  const log = document.getElementById("log");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const cancel = document.getElementById("cancel");
  const status = document.getElementById("status");
  const counter = document.getElementById("counter");
  const sidebar = document.getElementById("conversations");
  const drawerToggle = document.getElementById("drawer-toggle");
  const COUNT_FROM = 1800; // the counter shows near the limit only
  let conversation = chat.dataset.conversation ? Number(chat.dataset.conversation) : null;
  let socket = null;
  let current = null; // {id, textNode, item}
  let retryDelay = 500;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + chat.dataset.wsPath);
    socket.addEventListener("open", () => { retryDelay = 500; setStatus(""); send.disabled = false; });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      send.disabled = true;
      if (current) fail(current, "The connection was lost; please ask again.");
      if (event.code === 4401) { setStatus("You are signed out. Sign in again to go on."); return; }
      setStatus("Reconnecting…");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  function setStatus(text) { status.textContent = text; }

  function addMessage(role, text) {
    const hint = log.querySelector(".hint");
    if (hint) hint.remove();
    const item = document.createElement("li");
    item.className = "msg " + role;
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    item.appendChild(body);
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return { item, body };
  }

  function renderSources(item, sources, cached) {
    if (sources.length) {
      const list = document.createElement("ul");
      list.className = "sources";
      for (const s of sources) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = s.url;
        a.textContent = s.title;
        li.appendChild(a);
        if (s.heading) li.append(" ", span("› " + s.heading));
        if (s.page) li.append(" ", span("p. " + s.page));
        list.appendChild(li);
      }
      item.appendChild(list);
    }
    if (cached) {
      const badge = span("cached");
      badge.className = "badge";
      item.appendChild(badge);
    }
  }

  const NOTES = {
    model_failed: "The language model was unavailable: the document's own words stand alone.",
  };

  // The same buttons the server renders under saved answers (templates/chatbot/_message.html).
  function renderActions(item, message) {
    if (message.outcome && NOTES[message.outcome]) {
      const note = document.createElement("p");
      note.className = "note muted";
      note.textContent = NOTES[message.outcome];
      item.appendChild(note);
    }
    if (message.message == null) return;
    item.dataset.message = String(message.message);
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.setAttribute("role", "group");
    actions.setAttribute("aria-label", "Answer actions");
    actions.append(
      button("Copy", "act copy", "Copy answer"),
      rateButton("up", "Helpful", "Helpful"),
      rateButton("down", "Not helpful", "Not helpful"),
      button("Regenerate", "act regenerate", "Answer this question again"),
    );
    item.appendChild(actions);
  }

  function button(text, className, label) {
    const el = document.createElement("button");
    el.type = "button";
    el.className = className;
    el.textContent = text;
    el.setAttribute("aria-label", label);
    return el;
  }

  function rateButton(rating, text, label) {
    const el = button(text, "act rate", label);
    el.dataset.rating = rating;
    el.setAttribute("aria-pressed", "false");
    return el;
  }

  // Streamed tokens are only ever text (textContent). The final answer may be shown as markup
  // only because the server rendered and sanitised it (done.html, knowledge/markup.py).
  function showAnswer(body, message) {
    if (typeof message.html !== "string") {
      body.textContent = message.answer;
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = message.html;
    body.replaceChildren(template.content);
    body.classList.add("md");
  }

  function span(text) {
    const el = document.createElement("span");
    el.className = "muted";
    el.textContent = text;
    return el;
  }

  function finish() {
    if (current) current.item.classList.remove("streaming");
    current = null;
    send.hidden = false;
    cancel.hidden = true;
    input.disabled = false;
    input.focus();
  }

  function fail(entry, message) {
    entry.item.classList.add("failed");
    entry.body.textContent = (entry.body.textContent ? entry.body.textContent + "\n\n" : "") + message;
    finish();
  }

  // The sidebar is the server's list (search, dates, rename, delete): fetched again, never built here.
  function refreshSidebar() {
    if (window.htmx) window.htmx.ajax("GET", "/conversations/", { target: "#conversation-list" });
  }

  function handle(message) {
    if (message.type === "hello" || message.type === "pong") return;
    if (message.type === "feedback_saved") { feedbackSaved(message.message); return; }
    if (!current || message.id !== current.id) {
      if (message.type === "error") setStatus(message.message);
      return;
    }
    if (message.type === "started") {
      // Saved: the address names the conversation now, so a reload mid-answer comes back to it.
      if (message.conversation !== conversation) {
        conversation = message.conversation;
        history.replaceState(null, "", "/c/" + conversation + "/");
        refreshSidebar();
      }
    } else if (message.type === "queued") {
      setStatus(message.position === 1
        ? "Waiting for the model: your question is next."
        : "Waiting for the model: " + (message.position - 1) + " question(s) before yours.");
    } else if (message.type === "token") {
      if (status.textContent.startsWith("Waiting for the model")) setStatus("");
      current.body.textContent += message.text;
      current.item.scrollIntoView({ block: "end" });
    } else if (message.type === "done") {
      if (status.textContent.startsWith("Waiting for the model")) setStatus("");
      showAnswer(current.body, message);
      renderSources(current.item, message.sources, message.cached);
      renderActions(current.item, message);
      if (message.conversation && message.conversation !== conversation) {
        conversation = message.conversation;
        history.replaceState(null, "", "/c/" + conversation + "/");
      }
      refreshSidebar();
      finish();
    } else if (message.type === "error") {
      fail(current, message.message);
    }
  }

  function ask(text, fresh) {
    if (!text || current || !socket || socket.readyState !== WebSocket.OPEN) return false;
    addMessage("user", text);
    const id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()));
    const { item, body } = addMessage("assistant", "");
    item.classList.add("streaming");
    current = { id, item, body };
    socket.send(JSON.stringify({ type: "ask", id, text, conversation, fresh: Boolean(fresh) }));
    input.disabled = true;
    send.hidden = true;
    cancel.hidden = false;
    return true;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (ask(input.value.trim(), false)) { input.value = ""; updateCounter(); }
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function updateCounter() {
    const used = input.value.length;
    const limit = Number(input.getAttribute("maxlength"));
    counter.textContent = used >= COUNT_FROM ? used.toLocaleString() + " / " + limit.toLocaleString() + " characters" : "";
  }
  input.addEventListener("input", updateCounter);
  updateCounter(); // text typed before this script ran, or restored by the browser on "Back"

  cancel.addEventListener("click", () => {
    if (current) socket.send(JSON.stringify({ type: "cancel", id: current.id }));
  });

  // --- answer actions: copy, 👍/👎 with an optional comment, regenerate ---------------------

  function feedback(messageId, rating, comment) {
    if (!socket || socket.readyState !== WebSocket.OPEN) { setStatus("Not connected; try again in a moment."); return; }
    const payload = { type: "feedback", message: messageId, rating };
    if (comment) payload.comment = comment;
    socket.send(JSON.stringify(payload));
  }

  const pendingRatings = new Map(); // message id -> rating sent, until feedback_saved
  function feedbackSaved(messageId) {
    const item = log.querySelector('[data-message="' + messageId + '"]');
    const rating = pendingRatings.get(messageId);
    pendingRatings.delete(messageId);
    if (!item) return;
    for (const b of item.querySelectorAll(".act.rate")) {
      b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
    }
    const box = item.querySelector(".comment");
    if (box) box.remove();
    setStatus("Thanks for the feedback.");
  }

  function commentBox(item, messageId) {
    if (item.querySelector(".comment")) return;
    const box = document.createElement("form");
    box.className = "comment";
    const label = document.createElement("label");
    label.textContent = "What was wrong? (optional)";
    const text = document.createElement("textarea");
    text.rows = 2;
    text.maxLength = 2000;
    label.appendChild(text);
    const submit = button("Send", "", "Send feedback");
    submit.type = "submit";
    box.append(label, submit);
    box.addEventListener("submit", (event) => {
      event.preventDefault();
      pendingRatings.set(messageId, "down");
      feedback(messageId, "down", text.value.trim());
    });
    item.appendChild(box);
    text.focus();
  }

  async function copy(item) {
    const text = item.querySelector(".text").innerText;
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    setStatus("Answer copied.");
  }

  function questionBefore(item) {
    for (let el = item.previousElementSibling; el; el = el.previousElementSibling) {
      if (el.classList.contains("user")) return el.querySelector(".text").innerText.trim();
    }
    return "";
  }

  log.addEventListener("click", (event) => {
    const suggestion = event.target.closest(".suggestion");
    if (suggestion) { ask(suggestion.textContent.trim(), false); return; }
    const target = event.target.closest(".act");
    if (!target) return;
    const item = target.closest(".msg");
    const messageId = Number(item.dataset.message);
    if (target.classList.contains("copy")) copy(item);
    else if (target.classList.contains("regenerate")) ask(questionBefore(item), true);
    else if (target.dataset.rating === "up") { pendingRatings.set(messageId, "up"); feedback(messageId, "up"); }
    else if (target.dataset.rating === "down") commentBox(item, messageId);
  });

  // --- a question asked before a reload: its answer is picked up when it is saved -----------

  function catchUp() {
    const url = chat.dataset.pendingUrl;
    if (!url) return;
    const placeholder = document.getElementById("pending");
    const poll = async () => {
      const response = await fetch(url, { headers: { "HX-Request": "true" } });
      if (response.status === 204) { setTimeout(poll, 1500); return; }
      if (response.ok) {
        // Server-rendered and sanitised (templates/chatbot/_message.html, knowledge/markup.py).
        const template = document.createElement("template");
        template.innerHTML = await response.text();
        placeholder.replaceWith(template.content);
      } else {
        placeholder.querySelector(".note").textContent = "This answer was lost; please ask again.";
        placeholder.classList.remove("streaming");
      }
    };
    poll();
  }

  // --- the sidebar as a drawer on narrow screens -----------------------------------------

  function setDrawer(open) {
    sidebar.classList.toggle("open", open);
    drawerToggle.setAttribute("aria-expanded", String(open));
    if (open) sidebar.querySelector("a, input, button").focus();
  }
  drawerToggle.addEventListener("click", () => setDrawer(!sidebar.classList.contains("open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && sidebar.classList.contains("open")) { setDrawer(false); drawerToggle.focus(); }
  });

  catchUp();
  connect();
})();
