// The photo lab: sends a photo and a model choice, shows what the server (ConvKit) returns.
let photo = null;        // base64 of an uploaded PNG/JPEG, or null for the bundled sample
let choices = [];        // [{model, weights, available, command}]

function selected() { return choices[Number(document.getElementById("model").value)] || null; }

async function analyze() {
  Lab.error("");
  const isLatest = Lab.ticket("analyze");  // also drops an answer still on its way for another model
  const choice = selected();
  if (!choice) return;
  Lab.fill("fetch", choice.available ? "" : `weights not on disk; fetch them with: ${choice.command}`);
  if (!choice.available) { clear(); return; }
  const layer = document.getElementById("layer").value || undefined;
  const body = { model: choice.model, weights: choice.weights, layer };
  const method = document.getElementById("method").value, target = document.getElementById("target").value;
  if (method) body.explain = method;
  if (method && target !== "") body.target = Number(target);
  if (photo) body.image = photo; else body.sample = document.getElementById("sample").value;
  try {
    const r = await Lab.post("api/photo/analyze", body);
    if (!isLatest()) return;
    document.getElementById("prepared").src = r.prepared;
    document.getElementById("filters").src = r.filters || "";
    document.getElementById("maps").src = r.featureMaps || "";
    if (r.heatmap) document.getElementById("heatmap").src = r.heatmap; else document.getElementById("heatmap").removeAttribute("src");
    document.getElementById("explained").textContent = r.explained || "";
    // The class list offers the top five (the explanation's class stays chosen while they are shown).
    Lab.fill("target", [Lab.el("option", { value: "", text: "top" })].concat(
      r.top.map(c => Lab.el("option", { value: String(c.index), text: `${c.index} ${c.name}` }))));
    document.getElementById("target").value = target;
    Lab.fill("top", r.top.map(c => Lab.el("div", { text: `${(c.probability * 100).toFixed(2).padStart(6)}%  ${c.name}` })));
    const current = r.layer;
    Lab.fill("layer", r.layers.map(path => Lab.el("option", { value: path, text: path })));
    document.getElementById("layer").value = current;
  } catch (e) {
    if (!isLatest()) return;
    Lab.error(e.message);
    clear();
  }
}

// No stale result: pictures, classes and layers of another model or photo are removed.
function clear() {
  document.getElementById("explained").textContent = "";
  for (const id of ["prepared", "filters", "maps", "heatmap"]) document.getElementById(id).removeAttribute("src");
  Lab.fill("top");
  Lab.fill("layer");
}

async function loadModels(keep) {
  choices = await Lab.get("api/photo/models");
  Lab.fill("model", choices.map((c, i) => Lab.el("option", {
    value: i, text: `${c.model} (${c.weights}${c.available ? "" : ", not downloaded"})` })));
  const first = choices.findIndex(c => keep ? c.model === keep.model && c.weights === keep.weights : c.available);
  document.getElementById("model").value = String(Math.max(first, 0));
}

document.getElementById("sample").addEventListener("change", () => { photo = null; document.getElementById("upload").value = ""; analyze(); });
document.getElementById("model").addEventListener("change", () => { Lab.fill("layer"); analyze(); });
document.getElementById("layer").addEventListener("change", analyze);
document.getElementById("method").addEventListener("change", analyze);
document.getElementById("target").addEventListener("change", analyze);
document.getElementById("upload").addEventListener("change", async e => {
  const file = e.target.files[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  photo = btoa(text);
  analyze();
});
document.getElementById("weights").addEventListener("change", async e => {
  const file = e.target.files[0], choice = selected();
  if (!file || !choice) return;
  try {
    const r = await fetch("api/photo/weights?model=" + encodeURIComponent(choice.model), { method: "POST", body: await file.arrayBuffer() });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error || r.statusText);
    await loadModels({ model: choice.model, weights: "uploaded" });
    Lab.fill("layer");
    analyze();
  } catch (err) { Lab.error(err.message); }
});
loadModels().then(analyze).catch(e => Lab.error(e.message));
