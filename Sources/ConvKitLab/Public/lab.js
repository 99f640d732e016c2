// Shared helpers for the lab's pages. Every number shown comes from the server's JSON API,
// which ConvKit computes; this file only draws and sends.
const Lab = {
  pages: [["index.html", "Lab"], ["playground.html", "Filter playground"], ["stepper.html", "Convolution stepper"],
          ["conv1d.html", "1-D convolution"], ["receptive-field.html", "Receptive field"],
          ["connectivity.html", "Connectivity"], ["params.html", "Parameters"], ["digits.html", "Digit lab"]],

  header() {
    const here = location.pathname.split("/").pop() || "index.html";
    const h = document.createElement("header");
    h.innerHTML = '<span class="brand">ConvKit lab</span>' + this.pages.slice(1)
      .map(([href, name]) => `<a href="${href}"${href === here ? ' class="here"' : ""}>${name}</a>`).join("");
    document.body.prepend(h);
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
  readState(defaults) {
    try { return Object.assign({}, defaults, JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}")); }
    catch { return Object.assign({}, defaults); }
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
document.addEventListener("DOMContentLoaded", () => Lab.header());
