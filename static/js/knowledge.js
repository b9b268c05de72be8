// The Knowledge page: live ingest progress over /ws/knowledge/ and drag-and-drop uploads.
// htmx posts the forms; this file only keeps the documents tables in step with the server.
(function () {
  "use strict";
  const root = document.getElementById("knowledge");
  if (!root) return;
  const live = document.getElementById("live");
  const template = document.getElementById("document-row-template");

  // The page translates status codes (knowledge.events.DocumentProgress), never prose.
  const LABELS = {
    queued: "Queued", parsing: "Parsing", chunking: "Chunking",
    embedding: "Embedding", ready: "Ready", failed: "Failed",
  };
  const RANK = { queued: 0, parsing: 1, chunking: 2, embedding: 3, ready: 4, failed: 4 };
  // The newest message per document: re-applied after htmx swaps in a table rendered
  // a moment before that message was sent.
  const latest = new Map();

  function order(version, status, progress) {
    return [Number(version), RANK[status] ?? 0, Number(progress)];
  }

  // Messages can arrive out of step with a server-rendered row; never move a row backwards.
  function notOlder(message, row) {
    const a = order(message.version, message.status, message.progress);
    const b = order(row.dataset.version, row.dataset.status, row.dataset.progress);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return true;
  }

  // Rows come and go by socket messages, htmx swaps and deletes: count what is there.
  const collections = document.getElementById("collections");
  const empty = document.getElementById("no-collections");
  function recount() {
    // The notice stays in the page (an out-of-band target); shown when no card is left.
    if (empty && collections) {
      const none = !collections.querySelector(".collection");
      if (empty.hidden === none) empty.hidden = !none;
    }
    for (const tbody of root.querySelectorAll("tbody[data-collection]")) {
      const count = tbody.closest(".collection").querySelector(".document-count");
      // Writing only on change: a write is itself a mutation, which would call us again.
      if (count && count.textContent !== String(tbody.rows.length)) {
        count.textContent = String(tbody.rows.length);
      }
    }
  }
  new MutationObserver(recount).observe(root, { childList: true, subtree: true });

  function addRow(message) {
    const tbody = document.getElementById("documents-" + message.collection);
    if (!tbody || !template) return null;
    const row = template.content.firstElementChild.cloneNode(true);
    row.id = "document-" + message.document;
    const remove = row.querySelector("[hx-post]");
    remove.setAttribute("hx-post", root.dataset.deleteUrl.replace("/0/", "/" + message.document + "/"));
    remove.setAttribute("hx-confirm", "Delete " + message.name +
      "? Its file and chunks are removed at once and it can no longer be cited.");
    tbody.appendChild(row);
    if (window.htmx) window.htmx.process(row);
    return row;
  }

  function text(row, selector, value) {
    const cell = row.querySelector(selector);
    if (cell) cell.textContent = value;
  }

  // An upload's "file: queued" line is news only until the document's row moves on: once
  // the row is Ready or Failed (the row shows why), the line goes, and the list with its last.
  const SETTLED = new Set(["ready", "failed"]);
  function clearOutcome(documentId, status) {
    if (!SETTLED.has(status)) return;
    for (const line of root.querySelectorAll('.outcomes li[data-document="' + documentId + '"]')) {
      const list = line.parentElement;
      line.remove();
      if (list && !list.querySelector("li")) list.remove();
    }
  }
  function sweepOutcomes() {
    for (const line of root.querySelectorAll(".outcomes li[data-document]")) {
      const row = document.getElementById("document-" + line.dataset.document);
      if (row) clearOutcome(line.dataset.document, row.dataset.status);
    }
  }

  function fill(row, message) {
    row.dataset.version = message.version;
    row.dataset.status = message.status;
    row.dataset.progress = message.progress;
    text(row, ".name", message.name);
    text(row, ".title", message.title);
    text(row, ".version", message.version);
    text(row, ".status", LABELS[message.status] || message.status);
    row.querySelector(".status").className = "status status-" + message.status;
    text(row, ".chunks", message.chunks);
    text(row, ".error", message.error);
    const bar = row.querySelector("progress.bar");
    if (bar) bar.value = message.progress;
    clearOutcome(message.document, message.status);
  }

  function apply(message) {
    if (message.type !== "document.progress") return;
    const row = document.getElementById("document-" + message.document);
    if (message.status === "deleted") {
      latest.delete(message.document);
      if (row) row.remove();
      return;
    }
    latest.set(message.document, message);
    if (row) {
      if (notOlder(message, row)) fill(row, message);
    } else {
      const added = addRow(message);
      if (added) fill(added, message);
    }
  }

  let retryDelay = 500;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.addEventListener("open", () => { retryDelay = 500; live.textContent = "Live"; });
    socket.addEventListener("message", (event) => apply(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      live.textContent = "Reconnecting…";
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }
  connect();

  document.body.addEventListener("htmx:afterSettle", () => {
    for (const message of latest.values()) apply(message);
    // A file may be Ready before its upload's answer is swapped in: no message will follow.
    sweepOutcomes();
  });
  // The upload's own sending progress, before the server has seen the files.
  document.body.addEventListener("htmx:xhr:progress", (event) => {
    const bar = event.target.querySelector && event.target.querySelector("progress.sending");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((100 * event.detail.loaded) / event.detail.total);
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const bar = event.target.querySelector && event.target.querySelector("progress.sending");
    if (bar) { bar.hidden = true; bar.value = 0; }
  });

  // Drag and drop: dropped files go into the zone's file input and the form is sent.
  root.addEventListener("dragover", (event) => {
    const zone = event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("over");
  });
  root.addEventListener("dragleave", (event) => {
    const zone = event.target.closest(".dropzone");
    if (zone) zone.classList.remove("over");
  });
  root.addEventListener("drop", (event) => {
    const zone = event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("over");
    const input = zone.querySelector("input[type=file]");
    input.files = event.dataTransfer.files;
    zone.closest("form").requestSubmit();
  });
  function hint(input) {
    const label = input.parentElement.querySelector(".hint");
    const n = input.files.length;
    if (label) label.textContent = n ? n + " file(s) chosen" : "Drop files here, or choose them";
  }
  root.addEventListener("change", (event) => {
    if (event.target.matches(".dropzone input[type=file]")) hint(event.target);
  });
  // A form reset fires no change event; the inputs are empty once it is done.
  root.addEventListener("reset", (event) => {
    setTimeout(() => event.target.querySelectorAll(".dropzone input[type=file]").forEach(hint));
  });
})();
