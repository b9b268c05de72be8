// The chat page's side of the websocket protocol (docs/protocol.md).
// htmx handles the page's other interactions; streaming answers need a socket of their own.
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
  let conversation = chat.dataset.conversation ? Number(chat.dataset.conversation) : null;
  let socket = null;
  let current = null; // {id, textNode, item}
  let retryDelay = 500;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + chat.dataset.wsPath);
    socket.addEventListener("open", () => { retryDelay = 500; setStatus(""); send.disabled = false; });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      send.disabled = true;
      if (current) fail(current, "The connection was lost; please ask again.");
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

  function handle(message) {
    if (message.type === "hello") return;
    if (!current || message.id !== current.id) {
      if (message.type === "error") setStatus(message.message);
      return;
    }
    if (message.type === "token") {
      current.body.textContent += message.text;
      current.item.scrollIntoView({ block: "end" });
    } else if (message.type === "done") {
      showAnswer(current.body, message);
      renderSources(current.item, message.sources, message.cached);
      if (message.conversation && message.conversation !== conversation) {
        conversation = message.conversation;
        history.replaceState(null, "", "/c/" + conversation + "/");
      }
      finish();
    } else if (message.type === "error") {
      fail(current, message.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || current || !socket || socket.readyState !== WebSocket.OPEN) return;
    addMessage("user", text);
    const id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()));
    const { item, body } = addMessage("assistant", "");
    item.classList.add("streaming");
    current = { id, item, body };
    socket.send(JSON.stringify({ type: "ask", id, text, conversation }));
    input.value = "";
    input.disabled = true;
    send.hidden = true;
    cancel.hidden = false;
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  cancel.addEventListener("click", () => {
    if (current) socket.send(JSON.stringify({ type: "cancel", id: current.id }));
  });

  connect();
})();
