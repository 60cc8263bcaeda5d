// ALLy web chat page. Streams answers from POST /v1/chat (server-sent events read with fetch and a
// ReadableStream), turns citation markers [n] into buttons that open the cited passage
// (GET /v1/passages/{chunk_id}), records feedback (POST /v1/feedback) and runs the patient
// pathway (POST /v1/pathway), lists the documents held (GET /v1/documents, with the corpus version
// from GET /readyz) and copies an answer with its references as plain text.
// All text from the server is inserted with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const askForm = $("ask-form");
  const question = $("question");
  const askButton = $("ask-button");
  const askStatus = $("ask-status");
  const patientForm = $("patient-form");
  const patientError = $("patient-error");
  const pathwayResult = $("pathway-result");
  const dialog = $("passage-dialog");
  const keyInput = $("api-key");
  let conversationId = newConversationId();
  let lastOpener = null;

  // --- small helpers ----------------------------------------------------------------------------

  function newConversationId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return "web-" + window.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function headers(json) {
    const h = { Accept: json ? "application/json" : "text/event-stream" };
    h["Content-Type"] = "application/json";
    const key = keyInput.value.trim();
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }

  keyInput.value = sessionStorage.getItem("ally-api-key") || "";
  keyInput.addEventListener("change", () => sessionStorage.setItem("ally-api-key", keyInput.value.trim()));

  async function errorText(response) {
    let detail = response.status + " " + response.statusText;
    let field = null;
    try {
      const body = await response.json();
      if (body && body.detail) detail = String(body.detail);
      if (body && body.field) field = String(body.field);
    } catch (_) { /* not JSON */ }
    if (response.status === 401) {
      $("key-settings").open = true;
      detail += " — enter the API key at the top of the page.";
    }
    return { detail, field, status: response.status };
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: headers(true) });
    if (!response.ok) throw await errorText(response);
    return response.json();
  }

  async function postJSON(url, body) {
    const response = await fetch(url, { method: "POST", headers: headers(true), body: JSON.stringify(body) });
    if (!response.ok) throw await errorText(response);
    return response.json();
  }

  // --- citations and passages -----------------------------------------------------------------

  // Append `text` to `container`, turning each [n] marker into a button that opens citation n.
  function appendCited(container, text, message) {
    const pattern = /\[(\d+)\]/g;
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) container.append(document.createTextNode(text.slice(last, match.index)));
      const n = Number(match[1]);
      const button = el("button", { type: "button", className: "cite", "data-n": n, text: "[" + n + "]" });
      button.setAttribute("aria-label", "Open source " + n);
      button.addEventListener("click", () => openCitation(message, n, button));
      message.citeButtons.push(button);
      container.append(button);
      last = pattern.lastIndex;
    }
    if (last < text.length) container.append(document.createTextNode(text.slice(last)));
  }

  function labelCiteButtons(message) {
    for (const button of message.citeButtons) {
      const citation = message.citations.get(Number(button.dataset.n));
      if (!citation) continue;
      button.dataset.chunkId = citation.chunk_id;
      button.setAttribute("aria-label", "Open source " + citation.n + ": " + (citation.title || citation.doc_id));
      button.title = citation.title || citation.doc_id;
    }
  }

  function openCitation(message, n, opener) {
    const citation = message.citations.get(n);
    if (!citation) {
      message.status.textContent = "Source " + n + " is still arriving; try again in a moment.";
      return;
    }
    openPassage(citation.chunk_id, opener);
  }

  async function openPassage(chunkId, opener) {
    lastOpener = opener || document.activeElement;
    try {
      const passage = await getJSON("/v1/passages/" + encodeURIComponent(chunkId));
      showPassage(passage);
    } catch (err) {
      askStatus.textContent = "Could not open the passage: " + (err.detail || err);
    }
  }

  function showPassage(passage) {
    const doc = passage.document || {};
    $("passage-title").textContent = passage.title || doc.title || passage.doc_id;
    $("passage-section").textContent = passage.section || "(top of the document)";
    $("passage-text").textContent = passage.text;
    $("passage-chunk-id").textContent = passage.chunk_id;
    dialog.dataset.chunkId = passage.chunk_id;
    const meta = $("passage-meta");
    meta.replaceChildren();
    const rows = [
      ["Document", passage.doc_id],
      ["Publisher", doc.publisher],
      ["Kind", doc.kind],
      ["Year", doc.year],
      ["Published", doc.published],
      ["Authors", (doc.authors || []).join(", ")],
      ["DOI", doc.doi],
    ];
    for (const [name, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      meta.append(el("dt", { text: name }), el("dd", { text: value }));
    }
    if (!dialog.open) dialog.showModal();
    $("passage-close").focus();
  }

  $("passage-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (lastOpener && document.contains(lastOpener)) lastOpener.focus();
  });

  function citationList(citations, message) {
    const list = el("ol", { className: "sources", "aria-label": "Sources" });
    for (const c of citations) {
      const open = el("button", { type: "button", className: "source-link", "data-chunk-id": c.chunk_id });
      // The server's label ("Title, year · section · subsection") names the source on every transport.
      const [head, ...path] = String(c.label || c.title || c.doc_id).split(" · ");
      open.append(el("span", { className: "source-n", text: "[" + c.n + "] " }), head);
      open.addEventListener("click", () => openPassage(c.chunk_id, open));
      const item = el("li", { value: c.n }, open);
      if (path.length) item.append(el("span", { className: "source-meta", text: " · " + path.join(" · ") }));
      if (c.population_note) item.append(el("p", { className: "note", text: c.population_note }));
      list.append(item);
    }
    if (message) labelCiteButtons(message);
    return list;
  }

  // --- pathway rendering ----------------------------------------------------------------------

  function pathwayCitations(citations) {
    const list = el("ul", { className: "pathway-cites" });
    for (const c of citations || []) {
      const item = el("li");
      if (c.chunk_id) {
        const open = el("button", { type: "button", className: "source-link", "data-chunk-id": c.chunk_id,
          text: "Source: " + (c.source || c.doc_id) });
        open.addEventListener("click", () => openPassage(c.chunk_id, open));
        item.append(open);
      } else {
        item.append(el("span", { className: "source-meta", text: "Source: " + (c.source || c.doc_id) }));
      }
      item.append(el("q", { text: c.text }));
      list.append(item);
    }
    return list;
  }

  function renderPathway(result) {
    const box = el("div", { className: "pathway-card" });
    box.append(el("h3", { text: "Pathway node" }),
      el("p", { className: "node", text: result.node || "No pathway node reached with what is known." }));
    const options = el("ol", { className: "options", "aria-label": "Options at this node" });
    for (const option of result.options || []) {
      const item = el("li", { className: "option" }, el("strong", { className: "therapy", text: option.therapy }));
      if (option.detail) item.append(el("p", { text: option.detail }));
      const extra = [option.level ? "Level " + option.level : null, option.source].filter(Boolean);
      if (extra.length) item.append(el("p", { className: "source-meta", text: extra.join(" · ") }));
      if ((option.conditions || []).length) item.append(el("p", { text: "Conditions: " + option.conditions.join("; ") }));
      item.append(pathwayCitations(option.citations));
      options.append(item);
    }
    box.append(el("h3", { text: "Options" }));
    box.append((result.options || []).length ? options : el("p", { text: "No options at this node." }));
    if ((result.missing || []).length) {
      box.append(el("h3", { text: "Missing information" }));
      const missing = el("ul", { className: "missing" });
      for (const m of result.missing) missing.append(el("li", { text: m }));
      box.append(missing);
    }
    if ((result.branches || []).length) {
      box.append(el("h3", { text: "What each answer would lead to" }));
      const branches = el("ul", { className: "branches", "aria-label": "What each answer to a missing field would lead to" });
      for (const branch of result.branches) branches.append(renderBranch(branch));
      box.append(branches);
    }
    if ((result.notes || []).length) {
      box.append(el("h3", { text: "Notes" }));
      const notes = el("ul", { className: "notes" });
      for (const n of result.notes) notes.append(el("li", { text: n }));
      box.append(notes);
    }
    if (result.check) {
      const check = result.check;
      const card = el("div", { className: "check verdict-" + check.verdict });
      card.append(el("h3", { text: "Therapy check: " + check.therapy }),
        el("p", { className: "verdict", text: "Verdict: " + verdictLabel(check.verdict) }),
        el("p", { text: check.reason }));
      if ((check.alternatives || []).length) card.append(el("p", { text: "On-pathway options: " + check.alternatives.join("; ") }));
      if ((check.missing || []).length) card.append(el("p", { text: "Needed to decide: " + check.missing.join(", ") }));
      card.append(pathwayCitations(check.citations));
      box.append(card);
    }
    return box;
  }

  function branchValue(value) {
    return value === true ? "yes" : value === false ? "no" : String(value);
  }

  // One what-if branch in a line: "If high_risk is yes: <node> — <options> [citations]".
  function renderBranch(branch) {
    const when = branch.label || branch.field + " is " + branchValue(branch.value);
    const options = (branch.options || []).map((o) => o.therapy).join("; ") || "no options listed";
    const item = el("li", { className: "branch" },
      el("strong", { className: "branch-when", text: "If " + when + ": " }),
      el("span", { className: "branch-node", text: (branch.node || "no node reached") + " — " }),
      el("span", { className: "branch-options", text: options }));
    const seen = new Set();
    const cites = el("span", { className: "branch-cites" });
    for (const option of branch.options || []) {
      for (const c of option.citations || []) {
        const name = c.source || c.doc_id;
        const key = name + "\u0000" + (c.chunk_id || "");
        if (seen.has(key)) continue;
        seen.add(key);
        cites.append(seen.size === 1 ? " [" : ", ");
        if (c.chunk_id) {
          const open = el("button", { type: "button", className: "source-link", "data-chunk-id": c.chunk_id, text: name });
          open.addEventListener("click", () => openPassage(c.chunk_id, open));
          cites.append(open);
        } else {
          cites.append(el("span", { className: "source-meta", text: name }));
        }
      }
    }
    if (seen.size) {
      cites.append("]");
      item.append(cites);
    }
    if ((branch.missing || []).length) {
      item.append(el("span", { className: "branch-missing", text: " (still needs: " + branch.missing.join(", ") + ")" }));
    }
    return item;
  }

  function verdictLabel(verdict) {
    return { on: "on pathway", off: "off pathway", conditional: "conditional", needs_info: "needs more information" }[verdict] || verdict;
  }

  // --- the conversation -----------------------------------------------------------------------

  function newMessage(text) {
    const hint = $("empty-hint");
    if (hint) hint.remove();
    log.append(el("div", { className: "turn user" }, el("p", { className: "who", text: "You" }), el("p", { text })));
    const article = el("article", { className: "turn assistant streaming", "aria-label": "ALLy's answer" });
    const status = el("p", { className: "status", text: "Searching the sources…" });
    const body = el("div", { className: "answer" });
    const para = el("p");
    body.append(para);
    article.append(el("p", { className: "who", text: "ALLy" }), status, body);
    log.append(article);
    article.scrollIntoView({ block: "end" });
    return { article, status, body, para, extra: null, citations: new Map(), citeButtons: [], answer: null };
  }

  function handleEvent(message, type, data) {
    if (type === "retrieval") {
      const n = data.count ?? (data.retrieved || data.passages || []).length;
      message.status.textContent = n ? "Found " + n + " passages; composing the answer…" : "Composing the answer…";
    } else if (type === "sentence") {
      const text = typeof data.text === "string" ? data.text : String(data.sentence || "");
      if (message.para.childNodes.length) message.para.append(document.createTextNode("\n"));
      appendCited(message.para, text, message);
    } else if (type === "citations") {
      for (const c of data.citations || []) message.citations.set(Number(c.n), c);
      labelCiteButtons(message);
    } else if (type === "pathway") {
      const result = data.pathway || data;
      if (result && (result.node !== undefined || result.options)) {
        message.pathway = renderPathway(result);
      }
    } else if (type === "done") {
      finish(message, data.answer);
    } else if (type === "error") {
      failMessage(message, data.detail || "the answer could not be completed");
    }
  }

  function finish(message, answer) {
    message.answer = answer;
    message.article.classList.remove("streaming");
    message.article.classList.add("done");
    message.article.dataset.answerId = answer.answer_id || "";
    for (const c of answer.citations || []) message.citations.set(Number(c.n), c);
    // The final answer object is authoritative: re-render its text with citation buttons.
    message.citeButtons = [];
    message.para.replaceChildren();
    appendCited(message.para, answer.answer, message);
    if ((answer.more || []).length) {
      // Beyond the answer's length budget: what else the sources say, cited, one click away.
      const more = el("details", { className: "more" });
      more.append(el("summary", { text: "More from the sources (" + answer.more.length + ")" }));
      for (const line of answer.more) {
        const p = el("p");
        appendCited(p, line, message);
        more.append(p);
      }
      message.body.append(more);
    }
    if (answer.abstained) {
      message.article.classList.add("abstained");
      message.status.textContent = "No supported answer: the sources do not cover this.";
      message.status.className = "status abstained-banner";
    } else {
      message.status.textContent = "Answer with " + (answer.citations || []).length + " cited sources.";
    }
    if ((answer.citations || []).length) {
      message.body.append(el("h3", { className: "sources-title", text: "Sources" }), citationList(answer.citations, message));
    }
    if (answer.abstained && (answer.related || []).length) {
      message.body.append(el("h3", { className: "sources-title", text: "Closest passages (not an answer)" }));
      const related = el("ul", { className: "sources" });
      for (const r of answer.related) {
        const open = el("button", { type: "button", className: "source-link", "data-chunk-id": r.chunk_id,
          text: (r.title || r.doc_id) + (r.section ? " — " + r.section : "") });
        open.addEventListener("click", () => openPassage(r.chunk_id, open));
        related.append(el("li", {}, open));
      }
      message.body.append(related);
    }
    if ((answer.missing || []).length) {
      message.body.append(el("p", { className: "note", text: "Not covered by the sources: " + answer.missing.join("; ") }));
    }
    if (answer.pathway) message.pathway = renderPathway(answer.pathway);
    if (message.pathway) message.body.append(message.pathway);
    labelCiteButtons(message);
    message.article.dataset.corpusVersion = answer.corpus_version || "";
    message.body.append(answerMeta(answer), feedbackBar(answer));
  }

  // --- provenance and copying -----------------------------------------------------------------

  function answerMeta(answer) {
    const meta = el("p", { className: "answer-meta" });
    const version = answer.corpus_version || "unknown";
    meta.append(el("span", { className: "label", text: "Corpus version: " }),
      el("code", { className: "corpus-version", title: version, text: version }));
    return meta;
  }

  // The answer as plain text with its numbered references, as the server renders it for every
  // transport (`plain_text`, computed in the schema): not put together a second time here.
  function answerPlainText(answer) {
    return String(answer.plain_text ?? answer.answer ?? "");
  }

  // Copy with the asynchronous clipboard where the page is a secure context, else with a hidden
  // textarea and execCommand("copy") (plain http on a LAN address).
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (_) { /* denied: try the fallback */ }
    }
    const area = el("textarea", { className: "copy-buffer", readonly: true, "aria-hidden": "true", tabindex: "-1" });
    area.value = text;
    document.body.append(area);
    const focused = document.activeElement;
    area.select();
    area.setSelectionRange(0, text.length);
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (_) {
      ok = false;
    }
    area.remove();
    if (focused && typeof focused.focus === "function") focused.focus();
    return ok;
  }

  window.ALLy = Object.freeze({ answerPlainText, copyText });

  function failMessage(message, detail) {
    message.article.classList.remove("streaming");
    message.article.classList.add("failed");
    message.status.textContent = "Error: " + detail;
    message.status.setAttribute("role", "alert");
  }

  function feedbackBar(answer) {
    const bar = el("div", { className: "feedback", role: "group", "aria-label": "Was this answer helpful?" });
    const note = el("span", { className: "feedback-status", role: "status" });
    const send = async (helpful, button) => {
      try {
        await postJSON("/v1/feedback", { answer_id: answer.answer_id, helpful });
        for (const b of bar.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
        button.setAttribute("aria-pressed", "true");
        note.textContent = "Thank you — feedback recorded.";
      } catch (err) {
        note.textContent = "Feedback not recorded: " + (err.detail || err);
      }
    };
    const yes = el("button", { type: "button", className: "secondary", "aria-pressed": "false", text: "Helpful" });
    const no = el("button", { type: "button", className: "secondary", "aria-pressed": "false", text: "Not helpful" });
    yes.addEventListener("click", () => send(true, yes));
    no.addEventListener("click", () => send(false, no));
    const plain = answerPlainText(answer);
    const copy = el("button", { type: "button", className: "secondary copy-answer", text: "Copy answer",
      "aria-label": "Copy the answer with its references as plain text" });
    copy.dataset.copyText = plain;
    copy.addEventListener("click", async () => {
      const ok = await copyText(plain);
      note.textContent = ok ? "Copied the answer and its references." : "Copying failed: select the text and copy it.";
    });
    bar.append(el("span", { text: "Was this helpful? " }), yes, no, copy, note);
    return bar;
  }

  // Parse a stream of server-sent events, calling onEvent(type, data) for each.
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
        let type = "message";
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(type, JSON.parse(data.join("\n")));
      }
      if (done) break;
    }
  }

  async function ask(text) {
    const message = newMessage(text);
    askButton.disabled = true;
    askStatus.textContent = "Answering…";
    const body = { question: text, conversation_id: conversationId };
    if ($("use-patient").checked) {
      const patient = readPatient();
      if (Object.keys(patient).length) body.patient = patient;
    }
    try {
      const response = await fetch("/v1/chat", { method: "POST", headers: headers(false), body: JSON.stringify(body) });
      if (!response.ok) {
        const err = await errorText(response);
        failMessage(message, err.detail);
        askStatus.textContent = "";
        return;
      }
      await readEvents(response, (type, data) => handleEvent(message, type, data));
      if (!message.answer && !message.article.classList.contains("failed")) {
        failMessage(message, "the stream ended before the answer was complete; ask again");
      }
      askStatus.textContent = message.answer ? (message.answer.abstained ? "ALLy abstained." : "Answer complete.") : "";
    } catch (err) {
      failMessage(message, err.detail || String(err));
      askStatus.textContent = "";
    } finally {
      askButton.disabled = false;
      message.article.scrollIntoView({ block: "nearest" });
    }
  }

  askForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text) {
      askStatus.textContent = "Type a question first.";
      question.focus();
      return;
    }
    question.value = "";
    ask(text);
  });

  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      askForm.requestSubmit();
    }
  });

  $("new-conversation").addEventListener("click", () => {
    conversationId = newConversationId();
    log.replaceChildren(el("p", { className: "empty-hint", id: "empty-hint", text: "New conversation started." }));
    question.focus();
  });

  // --- the sources view ----------------------------------------------------------------------

  const library = $("library");
  const sourcesButton = $("sources-button");
  const libraryList = $("library-list");
  const libraryStatus = $("library-status");

  // /readyz answers 503 with the same body while the model loads: the corpus version is there too.
  async function readiness() {
    const response = await fetch("/readyz", { headers: { Accept: "application/json" } });
    try {
      return await response.json();
    } catch (_) {
      return {};
    }
  }

  function documentItem(doc) {
    const untrusted = (doc.untrusted || []).length > 0;
    const item = el("li", { className: "doc" + (untrusted ? " untrusted" : ""), "data-doc-id": doc.doc_id,
      "data-chunks": doc.chunks });
    item.append(el("h3", { className: "doc-title", text: doc.title || doc.doc_id }));
    if (untrusted) {
      item.append(el("p", { className: "doc-flag", text: "Kept out of answers: " + doc.untrusted.join("; ") }));
    }
    const source = [doc.publisher, doc.year].filter((x) => x !== null && x !== undefined && x !== "");
    if (source.length) item.append(el("p", { className: "doc-source", text: source.join(", ") }));
    const meta = el("dl", { className: "meta doc-meta" });
    const rows = [
      ["Kind", doc.kind, "doc-kind"],
      ["Chunks", String(doc.chunks ?? 0), "doc-chunks"],
      ["Published", doc.published, "doc-published"],
      ["Added", doc.added_at, "doc-added"],
      ["Updated", doc.updated_at !== doc.added_at ? doc.updated_at : null, "doc-updated"],
      ["Authors", (doc.authors || []).join(", "), "doc-authors"],
      ["Subjects", (doc.subjects || []).join(", "), "doc-subjects"],
      ["DOI", doc.doi, "doc-doi"],
      ["Document id", doc.doc_id, "doc-id"],
    ];
    for (const [name, value, cls] of rows) {
      if (value === null || value === undefined || value === "") continue;
      meta.append(el("dt", { text: name }), el("dd", { className: cls, text: value }));
    }
    item.append(meta);
    return item;
  }

  async function loadLibrary() {
    libraryStatus.textContent = "Loading the documents…";
    library.setAttribute("aria-busy", "true");
    try {
      const [docs, ready] = await Promise.all([getJSON("/v1/documents"), readiness()]);
      $("corpus-version").textContent = ready.corpus_version || "unknown";
      $("corpus-generation").textContent = ready.generation ?? "unknown";
      const chunks = docs.reduce((sum, d) => sum + (Number(d.chunks) || 0), 0);
      const kept = docs.filter((d) => (d.untrusted || []).length).length;
      $("library-count").textContent = docs.length + " (" + chunks + " chunks" +
        (kept ? "; " + kept + " kept out of answers" : "") + ")";
      libraryList.replaceChildren(...docs.map(documentItem));
      library.dataset.corpusVersion = ready.corpus_version || "";
      libraryStatus.textContent = docs.length ? "" : "No documents are ingested yet.";
      library.classList.add("loaded");
    } catch (err) {
      libraryStatus.textContent = "Could not list the documents: " + (err.detail || String(err));
    } finally {
      library.removeAttribute("aria-busy");
    }
  }

  function showLibrary(open) {
    library.hidden = !open;
    sourcesButton.setAttribute("aria-expanded", String(open));
    if (open) {
      loadLibrary();
      $("library-title").focus();
    } else {
      sourcesButton.focus();
    }
  }

  sourcesButton.addEventListener("click", () => showLibrary(library.hidden));
  $("library-close").addEventListener("click", () => showLibrary(false));
  $("library-refresh").addEventListener("click", () => loadLibrary());

  // --- the patient panel ----------------------------------------------------------------------

  function readPatient() {
    const patient = {};
    for (const control of patientForm.querySelectorAll("input, select")) {
      if (control.name === "propose" || !control.name) continue;
      const raw = control.value.trim();
      if (raw === "") continue;
      const kind = control.dataset.kind;
      if (kind === "bool") patient[control.name] = raw === "true";
      else if (kind === "int") patient[control.name] = Number.isInteger(Number(raw)) ? Number(raw) : raw;
      else if (control.type === "number") patient[control.name] = Number(raw);
      else patient[control.name] = raw;
    }
    return patient;
  }

  function clearInvalid() {
    for (const control of patientForm.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
    patientError.textContent = "";
  }

  patientForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearInvalid();
    const body = { patient: readPatient() };
    const propose = $("p-propose").value.trim();
    if (propose) body.propose = propose;
    pathwayResult.replaceChildren(el("p", { className: "status", text: "Checking the pathway…" }));
    try {
      const result = await postJSON("/v1/pathway", body);
      pathwayResult.replaceChildren(renderPathway(result));
    } catch (err) {
      pathwayResult.replaceChildren();
      patientError.textContent = "Error: " + (err.detail || String(err));
      const name = (err.field || "").replace(/^patient\./, "");
      const control = name && patientForm.querySelector('[name="' + CSS.escape(name) + '"]');
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.focus();
      }
    }
  });

  patientForm.addEventListener("reset", () => {
    clearInvalid();
    pathwayResult.replaceChildren();
  });
})();
