// Parameter calculator: the server counts (ParameterCount in the library); this page only shows.
const defaults = { height: 224, width: 224, channels: 3, hidden: 1000, kernel: 3, filters: 64 };
const state = Lab.readState(defaults), fields = Object.keys(defaults);
const E = (tag, props, ...c) => Lab.el(tag, props, ...c);
async function refresh() {
  fields.forEach(f => state[f] = document.getElementById(f).value === "" ? NaN : +document.getElementById(f).value);
  Lab.writeState(state);
  try {
    const query = fields.map(f => `${f}=${encodeURIComponent(document.getElementById(f).value)}`).join("&");
    const r = await Lab.get("api/params?" + query);
    const c = r.custom[0];
    Lab.fill("result",
      `fully connected: ${Lab.group(c.inputs)} inputs × ${Lab.group(c.hidden)} + ${Lab.group(c.hidden)} = `, E("b", { text: Lab.group(c.fullyConnected) }), E("br"),
      `convolution: ${c.kernel}×${c.kernel}×${c.channels}×${c.filters} + ${c.filters} = `, E("b", { text: Lab.group(c.convolution) }), E("br"),
      "ratio: ", E("b", { text: Lab.group(c.ratio) + "×" }), " fewer with the convolution");
    Lab.fill("table", E("tr", {}, ["image", "inputs", "fully connected", "convolution", "ratio"].map(h => E("th", { text: h }))),
      r.course.map(c => E("tr", {}, [c.name, Lab.group(c.inputs), Lab.group(c.fullyConnected), Lab.group(c.convolution), Lab.group(c.ratio) + "×"]
        .map(v => E("td", { text: v })))));
    Lab.error("");
  } catch (e) { Lab.fill("result"); Lab.fill("table"); Lab.error(e.message); }
}
fields.forEach(f => { const el = document.getElementById(f); el.value = state[f]; el.oninput = refresh; });
document.querySelectorAll("[data-p]").forEach(b => b.onclick = () => {
  const [h, w, c] = b.dataset.p.split(",");
  document.getElementById("height").value = h; document.getElementById("width").value = w; document.getElementById("channels").value = c; refresh();
});
refresh();
