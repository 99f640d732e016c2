// Shared helpers for the lab's pages. Every number shown comes from the server's JSON API,
// which ConvKit computes; this file only draws and sends.
const Lab = {
  pages: [["index.html", "Lab"], ["playground.html", "Filter playground"], ["stepper.html", "Convolution stepper"],
          ["conv1d.html", "1-D convolution"], ["receptive-field.html", "Receptive field"],
          ["connectivity.html", "Connectivity"], ["params.html", "Parameters"], ["digits.html", "Digit lab"],
          ["photo.html", "Photo lab"]],

  header() {
    const here = location.pathname.split("/").pop() || "index.html";
    const h = this.el("header", {}, this.el("span", { class: "brand", text: "ConvKit lab" }),
      this.pages.slice(1).map(([href, name]) => this.el("a", { href, class: href === here ? "here" : "", text: name })));
    document.body.prepend(h);
  },

  // Builds an element. Text and attribute values are set as text (never parsed as markup),
  // so a name from a shared link or the server cannot inject script. props: class, text,
  // style (an object), dataset (an object), on<event> (a function), other attributes.
  el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = String(v);
      else if (k === "style") Object.assign(e.style, v);
      else if (k === "dataset") Object.assign(e.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
      else if (k === "value") e.value = String(v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  },

  // Replaces an element's children (strings become text nodes).
  fill(target, ...children) {
    const e = typeof target === "string" ? document.getElementById(target) : target;
    e.replaceChildren(...children.flat(Infinity).filter(c => c !== undefined && c !== null && c !== false).map(c => c instanceof Node ? c : document.createTextNode(String(c))));
    return e;
  },

  // Shows an error (as text) or clears it.
  error(message) { const e = document.getElementById("error"); if (e) e.textContent = message || ""; },

  // A table of numbers; cell(y, x, v) may return { class, content } to decorate a cell.
  table(grid, cell) {
    return this.el("table", { class: "grid" }, grid.map((row, y) => this.el("tr", {}, row.map((v, x) => {
      const c = cell ? cell(y, x, v) : null;
      return this.el("td", { class: c && c.class }, c && c.content !== undefined ? c.content : String(v));
    }))));
  },

  // A number input bound to one value: marks itself invalid (and calls nothing) until it holds a finite number.
  // event: "input" (every keystroke) or "change" (when the cell is left), for pages that redraw their inputs.
  numberInput(value, onValue, props = {}, event = "input") {
    const inp = this.el("input", Object.assign({ class: "cell", value }, props));
    inp.addEventListener(event, () => {
      const text = inp.value.trim(), v = Number(text);
      const ok = text !== "" && Number.isFinite(v);
      inp.classList.toggle("invalid", !ok);
      inp.title = ok ? "" : "not a number";
      if (ok) onValue(v);
    });
    return inp;
  },

  // The course's quick checks for this page, answered by the server: change a number and the
  // answer and its working follow. Appended to <main>; nothing when the page has none.
  async quickChecks(page) {
    const checks = await this.get("api/quick-checks?page=" + encodeURIComponent(page));
    if (!checks.length) return;
    const section = this.el("div", { class: "panel gap", id: "quick-checks" }, this.el("b", { text: "Quick checks" }),
      this.el("span", { class: "small", text: "  the course's own questions; change the numbers and the engine works them through" }));
    for (const check of checks) {
      const box = this.el("div", { class: "gap10 quick-check", dataset: { id: check.id } });
      const render = c => {
        const values = {}, wasOpen = box.querySelector("details")?.open;  // a shown answer stays shown
        c.inputs.forEach(i => { values[i.name] = i.value; });
        const send = async () => {
          try { render(await this.post("api/quick-check", { id: c.id, values })); box.querySelector(".qc-error").textContent = ""; }
          catch (e) { box.querySelector(".qc-error").textContent = e.message; }
        };
        this.fill(box,
          this.el("div", { text: c.question }),
          this.el("div", { class: "small", text: c.source }),
          this.el("div", { class: "gap" }, c.inputs.flatMap(i => [this.el("label", { text: i.label }),
            this.numberInput(i.value, v => { values[i.name] = v; send(); }, { class: "w90", title: `${i.minimum}…${i.maximum}` }, "change")])),
          this.el("details", { class: "gap", open: wasOpen ? "" : null }, this.el("summary", { text: "answer" }),
            this.el("div", { class: "qc-answer", text: c.answer }),
            this.el("ul", { class: "small mono" }, c.steps.map(s => this.el("li", { text: s })))),
          this.el("div", { class: "error qc-error" }));
      };
      render(check);
      section.appendChild(box);
    }
    document.querySelector("main").appendChild(section);
  },

  // The newest request of one kind wins: `const isLatest = Lab.ticket("kind")` before sending,
  // and `if (!isLatest()) return;` when the answer (or its error) arrives. A slow answer that a
  // newer request has overtaken is dropped instead of overwriting the newer result.
  tickets: {},
  ticket(kind) {
    const mine = (this.tickets[kind] = (this.tickets[kind] || 0) + 1);
    return () => this.tickets[kind] === mine;
  },

  async post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  },

  async get(path) {
    const r = await fetch(path);
    const data = await r.json();
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  },

  // Page state lives in the URL hash (JSON, URI-encoded), so a link reproduces the page.
  // Values of another type than the default's (a link edited by hand) are ignored.
  readState(defaults) {
    const state = JSON.parse(JSON.stringify(defaults));
    let saved = {};
    try { saved = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}"); } catch { saved = {}; }
    if (saved && typeof saved === "object") for (const k of Object.keys(defaults)) {
      const v = saved[k], d = defaults[k];
      if (v !== undefined && typeof v === typeof d && Array.isArray(v) === Array.isArray(d)) state[k] = v;
    }
    return state;
  },
  writeState(state) { history.replaceState(null, "", "#" + encodeURIComponent(JSON.stringify(state))); },

  // Draws a 2-D grid of numbers on a canvas: gray for non-negative data, blue/red for signed.
  drawGrid(canvas, grid, opts = {}) {
    const h = grid.length, w = grid[0] ? grid[0].length : 0;
    const scale = opts.scale || Math.max(1, Math.floor((opts.size || 168) / Math.max(w, h, 1)));
    canvas.width = w * scale; canvas.height = h * scale;
    const ctx = canvas.getContext("2d");
    const values = grid.flat().filter(Number.isFinite);
    const lo = Math.min(...values, 0), hi = Math.max(...values, 0);
    const signed = opts.signed ?? lo < 0;
    const m = Math.max(Math.abs(lo), Math.abs(hi), 1e-9);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const v = grid[y][x];
      if (signed) {
        const t = Math.min(1, Math.abs(v) / m), c = Math.round(255 * (1 - t));
        ctx.fillStyle = v >= 0 ? `rgb(${c},${c},255)` : `rgb(255,${c},${c})`;
      } else {
        const g = Math.round(255 * (1 - (v - lo) / Math.max(hi - lo, 1e-9)));
        ctx.fillStyle = `rgb(${g},${g},${g})`;
      }
      ctx.fillRect(x * scale, y * scale, scale, scale);
    }
    return scale;
  },

  // A line chart of one or more series on a canvas.
  drawLines(canvas, series, colors = ["#2767c9", "#e8710a", "#2e9d4f"]) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, m = 24;
    ctx.clearRect(0, 0, W, H);
    const all = series.flat().filter(Number.isFinite);
    if (!all.length) return;
    let lo = Math.min(...all), hi = Math.max(...all);
    if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
    ctx.strokeStyle = "#ccc"; ctx.strokeRect(m, m / 2, W - 2 * m, H - 1.5 * m);
    ctx.fillStyle = "#5b6475"; ctx.font = "11px sans-serif";
    ctx.fillText(hi.toFixed(3), 2, m / 2 + 10); ctx.fillText(lo.toFixed(3), 2, H - m);
    const n = Math.max(...series.map(s => s.length), 2);
    series.forEach((s, i) => {
      ctx.strokeStyle = colors[i % colors.length]; ctx.beginPath();
      s.forEach((v, j) => {
        const x = m + (W - 2 * m) * j / (n - 1), y = m / 2 + (H - 1.5 * m) * (1 - (v - lo) / (hi - lo));
        j ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      });
      ctx.stroke();
    });
  },

  fmt(v) { return Number.isInteger(v) ? String(v) : (Math.round(v * 1e4) / 1e4).toString(); },
  group(n) { return Math.round(n).toLocaleString("en-US"); },
};
document.addEventListener("DOMContentLoaded", () => {
  Lab.header();
  const page = (location.pathname.split("/").pop() || "index.html").replace(/\.html$/, "");
  Lab.quickChecks(page).catch(e => Lab.error(e.message));
});
