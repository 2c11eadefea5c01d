// Draws every [data-chart] element of a page with Apache ECharts (SVG renderer)
// from the page's json_script block. Tooltips are built from escaped text.
import { esc, fmtDay, fmtNumber, fmtTime, PALETTE, readJson, typeColor } from "./common.js";

const GANTT_VISIBLE_ROWS = 22;
const ROW_PX = 26;
const BASE = {
  animation: false,
  textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif" },
  grid: { left: 12, right: 24, top: 30, bottom: 30, containLabel: true },
};

function narrow(node) {
  return node.clientWidth < 600;
}

function timeline(node, data) {
  const rows = data.timeline;
  const compact = narrow(node);
  const labels = rows.map((r) => r.label);
  const items = rows.map((r, i) => ({
    value: [i, r.first * 1000, Math.max(r.last, r.first) * 1000, r.count],
    itemStyle: { color: typeColor(r.type) },
    row: r,
  }));
  const visible = Math.min(rows.length, GANTT_VISIBLE_ROWS);
  node.style.height = `${visible * ROW_PX + 100}px`;
  const zoomY = rows.length > GANTT_VISIBLE_ROWS
    ? [{ type: "slider", yAxisIndex: 0, right: 4, width: 14, startValue: 0, endValue: visible - 1, showDetail: false },
       { type: "inside", yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true }]
    : [];
  return {
    ...BASE,
    grid: { ...BASE.grid, right: zoomY.length ? 36 : 24, bottom: 50 },
    tooltip: {
      formatter: (p) => {
        const r = p.data.row;
        return `<b>${esc(r.label)}</b><br>first ${esc(fmtTime(r.first))}<br>last ${esc(fmtTime(r.last))}`
          + `<br>${esc(fmtNumber(r.count))} observations`;
      },
    },
    xAxis: { type: "time", splitNumber: compact ? 3 : 8, axisLine: { show: false },
      splitLine: { show: true, lineStyle: { color: "#eef2f6" } } },
    yAxis: {
      type: "category", data: labels, inverse: true,
      axisLabel: { width: compact ? 120 : 260, overflow: "truncate", fontFamily: "DejaVu Sans Mono, monospace", fontSize: 11 },
      axisTick: { show: false },
    },
    dataZoom: [{ type: "slider", xAxisIndex: 0, height: 18, bottom: 8 }, { type: "inside", xAxisIndex: 0 }, ...zoomY],
    series: [{
      type: "custom",
      encode: { x: [1, 2], y: 0 },
      data: items,
      renderItem: (params, api) => {
        const start = api.coord([api.value(1), api.value(0)]);
        const end = api.coord([api.value(2), api.value(0)]);
        const height = api.size([0, 1])[1] * 0.56;
        const shape = { x: start[0], y: start[1] - height / 2, width: Math.max(end[0] - start[0], 4), height };
        return { type: "rect", shape, style: api.style(), transition: [] };
      },
    }],
  };
}

function activity(node, data) {
  const a = data.activity;
  const times = a.buckets.map((t) => t * 1000);
  return {
    ...BASE,
    color: ["#2563eb", "#0d9488"],
    legend: { top: 0, right: 0 },
    tooltip: { trigger: "axis", formatter: (ps) => axisTooltip(ps, `per ${a.unit}`) },
    xAxis: { type: "time", splitNumber: narrow(node) ? 3 : 8 },
    yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef2f6" } } },
    series: [
      { name: "active", type: "line", step: "end", areaStyle: { opacity: 0.12 }, showSymbol: false,
        data: times.map((t, i) => [t, a.active[i]]) },
      { name: "first seen", type: "bar", barMaxWidth: 14, data: times.map((t, i) => [t, a.new[i]]) },
    ],
  };
}

function axisTooltip(params, note, headFormat = fmtDay) {
  const head = esc(headFormat(params[0].value[0] / 1000)) + (note ? ` <span>(${esc(note)})</span>` : "");
  const lines = params.map((p) => `${esc(p.seriesName)}: <b>${esc(fmtNumber(p.value[1]))}</b>`);
  return [head, ...lines].join("<br>");
}

// Small multiples: observations per sensor (lines, not stacked, so no series is drawn on top of another) above,
// new records below on an axis of their own (on a shared axis they flatten to zero beside the observations).
function ingest(node, data) {
  const d = data.ingest;
  const times = d.hours.map((h) => h * 1000);
  const compact = narrow(node);
  node.style.height = compact ? "420px" : "380px";
  const axisX = (gridIndex, show) => ({ type: "time", gridIndex, splitNumber: compact ? 3 : 8,
    axisLabel: { show, formatter: (v) => fmtDay(v / 1000) } });
  const axisY = (gridIndex, name, splitNumber) => ({ type: "value", gridIndex, name, splitNumber,
    nameTextStyle: { align: "left" }, minInterval: 1, splitLine: { lineStyle: { color: "#eef2f6" } } });
  const series = d.series.map((s) => ({
    name: s.name, type: "line", xAxisIndex: 0, yAxisIndex: 0, showSymbol: false, smooth: false,
    data: times.map((t, i) => [t, s.data[i]]),
  }));
  series.push({ name: "new records", type: "bar", xAxisIndex: 1, yAxisIndex: 1, color: "#0f172a",
    barMaxWidth: 6, data: times.map((t, i) => [t, d.new_records[i]]) });
  return {
    ...BASE,
    color: PALETTE,
    legend: { top: 0, type: "scroll" },
    tooltip: { trigger: "axis", formatter: (ps) => axisTooltip(ps, "per hour", fmtTime) },
    axisPointer: { link: [{ xAxisIndex: "all" }] },
    grid: [
      { left: 12, right: 24, top: 48, height: "44%", containLabel: true },
      { left: 12, right: 24, bottom: 24, height: "22%", containLabel: true },
    ],
    xAxis: [axisX(0, false), axisX(1, true)],
    yAxis: [axisY(0, "observations / hour", 5), axisY(1, "new records / hour", 2)],
    series,
  };
}

function types(node, data) {
  const pairs = data.types.slice().reverse();
  return {
    ...BASE,
    tooltip: { formatter: (p) => `${esc(p.name)}: <b>${esc(fmtNumber(p.value))}</b> records` },
    xAxis: { type: "value", splitLine: { lineStyle: { color: "#eef2f6" } } },
    yAxis: { type: "category", data: pairs.map((p) => p[0]), axisTick: { show: false },
      axisLabel: { fontFamily: "DejaVu Sans Mono, monospace" } },
    series: [{ type: "bar", barMaxWidth: 18, data: pairs.map((p) => ({ value: p[1], itemStyle: { color: typeColor(p[0]) } })) }],
  };
}

const BUILDERS = { timeline, activity, ingest, types };

function draw() {
  if (!window.echarts) return;
  const charts = [];
  for (const node of document.querySelectorAll("[data-chart]")) {
    const data = readJson(node.dataset.source);
    const build = BUILDERS[node.dataset.chart];
    if (!data || !build) continue;
    const option = build(node, data);
    const chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption(option);
    node.dataset.drawn = "true";
    charts.push(chart);
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
}

draw();
