// Address colours in the pivot graph: by AS (the default) or by country, from the `asn`, `as_name` and
// `country` the pivot API puts on address nodes (the latest context the enrichment worker kept). Each AS
// (or country) gets the next of TINTS in the order it first appears, so colours stay put as the graph
// grows; the legend lists them with their address counts. The legend's swatches are CSS classes
// (.tint-0 … .tint-9 in app.css), never inline styles, for the CSP.
import { el, fmtNumber } from "./common.js";

export const TINTS = ["#e11d48", "#059669", "#7c3aed", "#0891b2", "#65a30d", "#c026d3", "#0f766e", "#4338ca",
  "#be123c", "#854d0e"];

function keyOf(node, by) {
  if (by === "as") return node.data("asn") == null ? null : `AS${node.data("asn")}`;
  if (by === "country") return node.data("country") || null;
  return null;
}

function labelOf(node, by) {
  if (by === "as") return [`AS${node.data("asn")}`, node.data("as_name")].filter(Boolean).join(" ");
  return node.data("country");
}

export class AddressTint {
  constructor(cy, legend) {
    this.cy = cy;
    this.legend = legend;
    this.by = "as";
    this.order = new Map(); // key -> {index, label}
  }

  // Colour every address node by the current choice and redraw the legend.
  apply() {
    const counts = new Map();
    let unknown = 0;
    this.cy.batch(() => {
      this.cy.nodes("[kind = 'ip']").forEach((node) => {
        const key = keyOf(node, this.by);
        if (key === null) {
          node.removeData("tint");
          unknown += this.by === "none" ? 0 : 1;
          return;
        }
        if (!this.order.has(key)) this.order.set(key, { index: this.order.size, label: labelOf(node, this.by) });
        const index = this.order.get(key).index % TINTS.length;
        node.data("tint", TINTS[index]);
        counts.set(key, (counts.get(key) || 0) + 1);
      });
    });
    this.drawLegend(counts, unknown);
    return counts;
  }

  choose(by) {
    this.by = by;
    this.order.clear();
    this.apply();
  }

  drawLegend(counts, unknown) {
    if (!this.legend) return;
    const items = [];
    for (const [key, entry] of this.order) {
      if (!counts.has(key)) continue;
      const item = el("span", { class: "tint-item", "data-key": key });
      item.append(el("span", { class: `dot tint-${entry.index % TINTS.length}` }), el("bdi", {}, entry.label),
        el("span", { class: "muted" }, ` ${fmtNumber(counts.get(key))}`));
      items.push(item);
    }
    if (unknown) {
      items.push(el("span", { class: "tint-item muted" }, `${this.by === "as" ? "AS" : "country"} unknown: ${fmtNumber(unknown)}`));
    }
    this.legend.replaceChildren(...items);
    this.legend.hidden = items.length === 0;
  }
}

// "AS13335 Cloudflare, Inc. · AU" for an address node's details, or "".
export function contextText(node) {
  const parts = [];
  if (node.data("asn") != null) parts.push([`AS${node.data("asn")}`, node.data("as_name")].filter(Boolean).join(" "));
  else if (node.data("as_name")) parts.push(node.data("as_name"));
  if (node.data("country")) parts.push(node.data("country"));
  return parts.join(" · ");
}
