// Shared helpers for the dashboard's scripts. Data reaches the page through
// json_script blocks or JSON endpoints, and is only ever put into the DOM as
// text (textContent) or into chart libraries as data, never as HTML.

export function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

// For the few places a library insists on an HTML string (chart tooltips).
export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function fmtTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

export function fmtDay(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}

export function fmtNumber(n) {
  return Number(n).toLocaleString("en-US");
}

export function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

export const TYPE_COLORS = {
  A: "#2563eb", AAAA: "#4f46e5", CNAME: "#16a34a", NS: "#d97706", MX: "#db2777",
  TXT: "#9333ea", SOA: "#64748b", PTR: "#0d9488", SRV: "#ea580c",
};
export const PALETTE = ["#2563eb", "#0d9488", "#d97706", "#db2777", "#7c3aed", "#16a34a", "#64748b", "#ea580c"];

export function typeColor(type) {
  return TYPE_COLORS[type] || "#475569";
}
