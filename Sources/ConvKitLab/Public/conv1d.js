// 1-D convolution: the server parses the kernel and writes out every window (traceConvolution);
// this page draws the series, the output and the window the server reports.
const defaults = { kernel: "1,0,-1", padding: "0", mode: "zeros", stride: "1", dilation: "1", position: 0, cin: 17, cout: 64, k: 3 };
const state = Lab.readState(defaults);
// A deterministic sensor-like series (fixed, so shared links show the same data).
const series = Array.from({ length: 60 }, (_, i) => +(0.02 * i + Math.sin(i / 4) * 0.8 + Math.sin(i * 12.9898) * 0.15 + 1).toFixed(3));
let result = null;

function draw() {
  const cv = document.getElementById("chart"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  if (!result) { document.getElementById("explain").textContent = ""; return; }
  const steps = result.steps[0], pad = result.lines[0].padBefore;
  const all = series.concat(result.sums), lo = Math.min(...all), hi = Math.max(...all);
  const X = i => 20 + (W - 40) * i / (series.length - 1), Y = v => 10 + (H - 20) * (1 - (v - lo) / (hi - lo || 1));
  // Each output sits at the centre of its window, in input positions (the server's paddedCells minus the leading padding).
  const centre = s => (s.paddedCells[0][0] + s.paddedCells[s.paddedCells.length - 1][0]) / 2 - pad;
  const p = Math.min(state.position, steps.length - 1); state.position = p;
  const first = steps[p].paddedCells[0][0] - pad, last = steps[p].paddedCells[steps[p].paddedCells.length - 1][0] - pad;
  const a = X(Math.max(first, 0)), b = X(Math.min(last, series.length - 1));
  ctx.fillStyle = "#fff3c4"; ctx.fillRect(a - 4, 0, Math.max(b - a, 0) + 8, H);
  ctx.strokeStyle = "#9aa3b2"; ctx.beginPath(); series.forEach((v, i) => i ? ctx.lineTo(X(i), Y(v)) : ctx.moveTo(X(i), Y(v))); ctx.stroke();
  ctx.strokeStyle = "#2767c9"; ctx.beginPath();
  steps.forEach((s, j) => j ? ctx.lineTo(X(centre(s)), Y(s.sum)) : ctx.moveTo(X(centre(s)), Y(s.sum))); ctx.stroke();
  ctx.fillStyle = "#2767c9"; ctx.beginPath(); ctx.arc(X(centre(steps[p])), Y(steps[p].sum), 4, 0, 7); ctx.fill();
  document.getElementById("explain").textContent = steps[p].text + "   (" + result.formula[0] + ")";
  Lab.writeState(state);
}

async function refresh() {
  ["kernel", "padding", "mode", "stride", "dilation"].forEach(id => state[id] = document.getElementById(id).value);
  const isLatest = Lab.ticket("steps");
  try {
    const r = await Lab.post("api/steps", { signal: series, kernelText: state.kernel, padding: state.padding === "same" ? "same" : +state.padding,
      mode: state.mode, stride: +state.stride, dilation: +state.dilation });
    if (!isLatest()) return;
    result = r;
    Lab.error("");
  } catch (e) { if (!isLatest()) return; result = null; Lab.error(e.message); }
  draw();
}
async function params() {
  ["cin", "cout", "k"].forEach(id => state[id] = document.getElementById(id).value);
  const isLatest = Lab.ticket("params");
  try {
    const q = ["in", "out", "kernel"].map((key, i) => `${key}=${encodeURIComponent([state.cin, state.cout, state.k][i])}`).join("&");
    const r = await Lab.get("api/conv1d-params?" + q);
    if (isLatest()) document.getElementById("params").textContent = "= " + r.formula + " parameters";
  } catch (e) { if (isLatest()) document.getElementById("params").textContent = e.message; }
  Lab.writeState(state);
}
["kernel", "padding", "mode", "stride", "dilation"].forEach(id => { const el = document.getElementById(id); el.value = state[id]; el.onchange = () => { state.position = 0; refresh(); }; });
["cin", "cout", "k"].forEach(id => { const el = document.getElementById(id); el.value = state[id]; el.oninput = params; });
document.querySelectorAll(".preset").forEach(b => b.onclick = () => { document.getElementById("kernel").value = b.dataset.k; state.position = 0; refresh(); });
document.getElementById("step").onclick = () => { if (result) { state.position = (state.position + 1) % result.sums.length; draw(); } };
document.getElementById("back").onclick = () => { if (result) { state.position = (state.position + result.sums.length - 1) % result.sums.length; draw(); } };
refresh(); params();
