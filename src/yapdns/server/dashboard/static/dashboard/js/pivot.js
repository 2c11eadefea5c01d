// The pivot graph: Cytoscape.js fed by GET /api/v1/pivot, one bounded page per
// expansion. Click a node to expand it (or to load more of it), double-click to
// open its page. Labels are drawn on a canvas; details are shown as text only.
import { el, fmtNumber, fmtTime, typeColor } from "./common.js";
import { AddressTint, contextText } from "./tint.js";

const container = document.getElementById("pivot-graph");
const statusLine = document.getElementById("graph-status");
const detail = document.getElementById("graph-detail");
const moreButton = document.getElementById("graph-more");
const PAGE = 50;
const COLLAPSE_AT = 12; // more leaves of one kind than this around a node are drawn as one counted group
const more = new Map(); // node id -> {out, in} cursors of its next pages

const cy = window.cytoscape({
  container,
  minZoom: 0.15,
  maxZoom: 3,
  style: [
    { selector: "node", style: {
      label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 5, color: "#0f172a",
      "text-max-width": 170, "text-wrap": "ellipsis", "text-background-color": "#fbfcfe", "text-background-opacity": 0.85,
      "text-background-padding": 2, width: 22, height: 22, "border-width": 2 } },
    { selector: "node[kind = 'name']", style: { "background-color": "#dbeafe", "border-color": "#2563eb" } },
    { selector: "node[kind = 'ip']", style: { shape: "round-rectangle", "background-color": "#ffedd5", "border-color": "#ea580c",
      "font-family": "DejaVu Sans Mono, monospace" } },
    { selector: "node[?expanded][kind = 'name']", style: { "background-color": "#2563eb" } },
    { selector: "node[?expanded][kind = 'ip']", style: { "background-color": "#ea580c" } },
    { selector: "node[kind = 'ip'][tint]", style: { "background-color": "data(tint)", "border-color": "data(tint)" } },
    { selector: "node[?expanded][kind = 'ip'][tint]", style: { "border-color": "#1e293b" } },
    { selector: "node[?seed]", style: { width: 32, height: 32, "border-width": 4, "border-color": "#0f172a", "font-weight": "bold" } },
    { selector: "node[?hasMore]", style: { "border-style": "dashed" } },
    { selector: "node:selected", style: { "overlay-color": "#2563eb", "overlay-opacity": 0.15, "overlay-padding": 6 } },
    { selector: "edge", style: {
      width: 1.6, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
      "line-color": "data(color)", "target-arrow-color": "data(color)", label: "data(rrtype)", "font-size": 9,
      color: "#475569", "text-rotation": "autorotate", "text-background-color": "#fbfcfe", "text-background-opacity": 1 } },
    { selector: "edge:selected", style: { width: 3 } },
    { selector: "node[?pinned]", style: { "border-color": "#0f172a", "border-width": 4 } },
    { selector: ".found", style: { "overlay-color": "#f59e0b", "overlay-opacity": 0.35, "overlay-padding": 8 } },
    { selector: ".later, .collapsed", style: { display: "none" } },
    { selector: "node[kind = 'group']", style: { shape: "ellipse", width: 40, height: 40, "background-color": "#e2e8f0",
      "border-color": "#64748b", "border-style": "double", "border-width": 4, "font-weight": "bold" } },
  ],
});
const tint = new AddressTint(cy, document.getElementById("graph-tint-legend"));
const pinButton = document.getElementById("graph-pin");
const timeSlider = document.getElementById("graph-time");
const timeLabel = document.getElementById("graph-time-label");

function params(node, cursors) {
  const query = new URLSearchParams({ node, limit: String(PAGE) });
  for (const id of ["pivot-from", "pivot-to"]) {
    const input = document.getElementById(id);
    if (input && input.value) query.set(id === "pivot-from" ? "from" : "to", input.value);
  }
  if (cursors && cursors.out) query.set("cursor_out", cursors.out);
  if (cursors && cursors.in) query.set("cursor_in", cursors.in);
  return query;
}

async function expand(id, cursors = null) {
  const node = cy.getElementById(id);
  const value = node.nonempty() ? node.data("value") : id.slice(id.indexOf(":") + 1);
  setStatus("Loading…");
  let answer;
  try {
    const response = await fetch(`${container.dataset.api}?${params(value, cursors)}`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  } catch (error) {
    setStatus(`Could not expand: ${error.message}`);
    return;
  }
  merge(answer, answer.node);
  const center = cy.getElementById(answer.node);
  const hasMore = Boolean(answer.more.out || answer.more.in);
  if (hasMore) more.set(answer.node, answer.more); else more.delete(answer.node);
  center.data({ expanded: true, hasMore });
  collapse(center);
  tint.apply();
  layout();
  showNode(center);
}

// New nodes start on a ring around the node they came from, so the layout
// only has to settle them rather than untangle a pile.
function merge(answer, from) {
  const origin = cy.getElementById(from);
  const center = origin.nonempty() ? origin.position() : { x: 0, y: 0 };
  const fresh = answer.nodes.filter((n) => cy.getElementById(n.id).empty() && n.id !== from);
  const radius = 90 + 12 * fresh.length;
  const added = [];
  for (const n of answer.nodes) {
    if (cy.getElementById(n.id).nonempty()) continue;
    const i = fresh.indexOf(n);
    const angle = (2 * Math.PI * Math.max(i, 0)) / Math.max(fresh.length, 1);
    const position = i < 0 ? center : { x: center.x + radius * Math.cos(angle), y: center.y + radius * Math.sin(angle) };
    added.push({ group: "nodes", data: { ...n, seed: n.id === container.dataset.seed }, position });
  }
  for (const e of answer.edges) {
    if (cy.getElementById(e.id).empty()) added.push({ group: "edges", data: { ...e, color: typeColor(e.rrtype) } });
  }
  cy.add(added);
}

function layout() {
  const folded = cy.nodes(".collapsed");
  const shown = cy.elements().not(folded.union(folded.connectedEdges()));
  shown.layout({
    name: "cose", animate: false, randomize: false, padding: 40, nodeRepulsion: () => 60000, idealEdgeLength: () => 110,
    nodeOverlap: 40, numIter: 2500, gravity: 0.6, componentSpacing: 120,
  }).run();
  if (cy.zoom() > 1.4) cy.zoom({ level: 1.4, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  cy.center(shown);
  container.dataset.nodes = String(cy.nodes().length);
  container.dataset.edges = String(cy.edges().length);
  resetReplay();
  const nodes = shown.nodes().length;
  const groups = folded.length ? ` · ${fmtNumber(folded.length)} folded into groups` : "";
  setStatus(`${fmtNumber(nodes)} nodes · ${fmtNumber(shown.edges().length)} edges${groups}`);
}

function setStatus(text) {
  statusLine.textContent = text;
}

function showNode(node) {
  detail.replaceChildren();
  const kind = node.data("kind") === "ip" ? "Address" : "Name";
  detail.append(el("strong", {}, `${kind} `), el("bdi", { class: "mono" }, node.data("value")));
  if (node.data("label") !== node.data("value")) detail.append(el("span", { class: "muted" }, ` (${node.data("label")})`));
  const context = node.data("kind") === "ip" ? contextText(node) : "";
  if (context) detail.append(" · ", el("bdi", { class: "graph-context" }, context));
  const link = el("a", { href: pageUrl(node) }, "Open page");
  detail.append(" · ", link, el("span", { class: "muted" }, ` · ${node.degree()} edges`));
  moreButton.hidden = !more.has(node.id());
  moreButton.dataset.node = node.id();
  pinButton.hidden = false;
  pinButton.dataset.node = node.id();
  pinButton.textContent = node.locked() ? "Unpin" : "Pin";
}

function showEdge(edge) {
  detail.replaceChildren();
  const d = edge.data();
  detail.append(
    el("bdi", {}, edge.source().data("label")), ` —${d.rrtype}→ `, el("bdi", {}, edge.target().data("label")),
    el("span", { class: "muted" }, ` · first ${fmtTime(d.first)} · last ${fmtTime(d.last)} · ${fmtNumber(d.count)} observations`),
  );
  moreButton.hidden = true;
  pinButton.hidden = true;
}

function pageUrl(node) {
  const value = encodeURIComponent(node.data("value")).replace(/%2F/g, "/");
  return node.data("kind") === "ip"
    ? container.dataset.ipUrl.replace("ADDR", value)
    : container.dataset.domainUrl.replace("NAME", value);
}

// Readability at hundreds of nodes: the leaves of one kind around a busy node (nodes with no other edge, not
// pinned, not the start) fold into one counted group node; tapping the group unfolds it.
function collapse(center) {
  for (const kind of ["name", "ip"]) {
    const leaves = center.neighborhood("node").filter((n) => n.data("kind") === kind && n.degree() === 1
      && !n.data("seed") && !n.locked() && !n.hasClass("collapsed"));
    if (leaves.length <= COLLAPSE_AT) continue;
    const id = `group:${center.id()}:${kind}:${cy.nodes("[kind = 'group']").length}`;
    const edges = leaves.connectedEdges();
    const firsts = edges.map((e) => e.data("first"));
    const lasts = edges.map((e) => e.data("last"));
    leaves.addClass("collapsed");
    const label = `${fmtNumber(leaves.length)} ${kind === "ip" ? "addresses" : "names"}`;
    cy.add([
      { group: "nodes", data: { id, kind: "group", value: label, label, members: leaves.map((n) => n.id()) },
        position: { x: center.position().x + 140, y: center.position().y + (kind === "ip" ? 60 : -60) } },
      { group: "edges", data: { id: `${id}:edge`, source: center.id(), target: id, rrtype: `${fmtNumber(leaves.length)}×`,
        color: "#94a3b8", first: Math.min(...firsts), last: Math.max(...lasts),
        count: edges.reduce((sum, e) => sum + e.data("count"), 0) } },
    ]);
  }
}

function unfold(group) {
  for (const id of group.data("members")) cy.getElementById(id).removeClass("collapsed");
  cy.remove(group);
  layout();
}

cy.on("tap", "node", (event) => {
  const node = event.target;
  if (node.data("kind") === "group") unfold(node);
  else if (!node.data("expanded")) expand(node.id());
  else showNode(node);
});
cy.on("dbltap", "node[kind != 'group']", (event) => { window.location.assign(pageUrl(event.target)); });
cy.on("tap", "edge", (event) => showEdge(event.target));
moreButton.addEventListener("click", () => {
  const id = moreButton.dataset.node;
  if (more.has(id)) expand(id, more.get(id));
});
document.getElementById("graph-fit").addEventListener("click", () => cy.fit(undefined, 30));
document.getElementById("graph-tint").addEventListener("change", (event) => tint.choose(event.target.value));
document.getElementById("graph-layout").addEventListener("click", layout);

// Pinning: a pinned node keeps its place through re-layouts (and can still be dragged).
pinButton.addEventListener("click", () => {
  const node = cy.getElementById(pinButton.dataset.node);
  if (node.empty()) return;
  if (node.locked()) { node.unlock(); node.data("pinned", false); } else { node.lock(); node.data("pinned", true); }
  showNode(node);
});

// Find: highlight the nodes whose value or label contains the text, and centre on the first.
document.getElementById("graph-find").addEventListener("input", (event) => {
  const text = event.target.value.trim().toLowerCase();
  cy.nodes().removeClass("found");
  if (!text) return;
  const hits = cy.nodes().filter((n) => n.data("value").toLowerCase().includes(text)
    || String(n.data("label")).toLowerCase().includes(text));
  hits.addClass("found");
  setStatus(`${fmtNumber(hits.length)} found`);
  if (hits.nonempty()) cy.animate({ center: { eles: hits.first() }, duration: 200 });
});

// Replay: the slider walks the edges in first-seen order; later edges, and nodes left without a shown
// edge (except the start), are hidden.
function edgesByFirst() {
  return cy.edges().toArray().sort((a, b) => a.data("first") - b.data("first"));
}

function resetReplay() {
  const n = cy.edges().length;
  timeSlider.max = String(n);
  timeSlider.value = String(n);
  replay();
}

function replay() {
  const ordered = edgesByFirst();
  const shown = Number(timeSlider.value);
  cy.batch(() => {
    ordered.forEach((e, i) => { if (i < shown) e.removeClass("later"); else e.addClass("later"); });
    cy.nodes().forEach((n) => {
      const visible = n.data("seed") || n.connectedEdges().some((e) => !e.hasClass("later"));
      if (visible) n.removeClass("later"); else n.addClass("later");
    });
  });
  timeLabel.textContent = shown >= ordered.length ? "all" : (shown === 0 ? "start" : fmtTime(ordered[shown - 1].data("first")));
}
timeSlider.addEventListener("input", replay);

// Exports: the graph as drawn (PNG) and as data (JSON: nodes, and edges with first/last seen and count).
function download(blob, name) {
  const link = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function graphData() {
  return {
    seed: container.dataset.seed,
    exported_at: new Date().toISOString(),
    nodes: cy.nodes("[kind != 'group']").map((n) => ({ id: n.id(), kind: n.data("kind"), value: n.data("value"),
      label: n.data("label"), pinned: Boolean(n.data("pinned")),
      ...(n.data("kind") === "ip" ? { asn: n.data("asn") ?? null, as_name: n.data("as_name") ?? null,
        country: n.data("country") ?? null } : {}) })),
    edges: cy.edges().filter((e) => e.target().data("kind") !== "group").map((e) => ({ id: e.id(), source: e.source().id(), target: e.target().id(), rrtype: e.data("rrtype"),
      first: e.data("first"), last: e.data("last"), first_iso: new Date(e.data("first") * 1000).toISOString(),
      last_iso: new Date(e.data("last") * 1000).toISOString(), count: e.data("count") })),
  };
}

function fileStem() {
  return `yapdns-pivot-${container.dataset.seed.replace(/[^A-Za-z0-9.-]+/g, "_")}`;
}

document.getElementById("graph-png").addEventListener("click", () => {
  download(cy.png({ output: "blob", full: true, bg: "#ffffff", scale: 2 }), `${fileStem()}.png`);
});
document.getElementById("graph-json").addEventListener("click", () => {
  download(new Blob([JSON.stringify(graphData(), null, 2)], { type: "application/json" }), `${fileStem()}.json`);
});

// For scripted use (and the end-to-end tests): the graph of this page.
window.yapdnsPivot = { cy, expand, graphData, tint };
expand(container.dataset.seed);
