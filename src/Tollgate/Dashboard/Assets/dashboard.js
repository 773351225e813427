// Tollgate dashboard: reads the analytics API under /ui/api (same credentials as the page) and draws it with Chart.js.
"use strict";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4 });
const palette = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#db2777", "#4b5563", "#7c3aed"];
const charts = {};
window.tollgate = { charts, totals: {} };

function query() {
  const range = document.getElementById("range").value;
  if (range !== "custom") return { from: range };
  const from = document.getElementById("from").value, to = document.getElementById("to").value;
  return to ? { from, to } : { from };
}

async function api(path, params = {}) {
  const search = new URLSearchParams(params).toString();
  const response = await fetch(`/ui/api/${path}${search ? "?" + search : ""}`, { credentials: "same-origin" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

const sum = (rows, field = "cost_usd") => rows.reduce((total, row) => total + Number(row[field]), 0);

function draw(id, config) {
  charts[id]?.destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

function drawDaily(rows) {
  const days = [...new Set(rows.map(r => r.period))].sort();
  const models = [...new Set(rows.map(r => r.group))];
  draw("chart-daily", {
    type: "bar",
    data: {
      labels: days,
      datasets: models.map((model, i) => ({
        label: model,
        backgroundColor: palette[i % palette.length],
        data: days.map(day => sum(rows.filter(r => r.period === day && r.group === model))),
      })),
    },
    options: { maintainAspectRatio: false, animation: false, scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: v => money.format(v) } } } },
  });
}

function drawBreakdown(id, rows, limit) {
  const top = rows.slice(0, limit);
  draw(id, {
    type: "bar",
    data: { labels: top.map(r => r.group), datasets: [{ label: "Cost (USD)", backgroundColor: palette[0], data: top.map(r => Number(r.cost_usd)) }] },
    options: { indexAxis: "y", maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { x: { ticks: { callback: v => money.format(v) } } } },
  });
}

function fillTable(id, rows, cells, empty) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  if (rows.length === 0) {
    body.innerHTML = `<tr><td colspan="6" class="empty">${empty}</td></tr>`;
    return;
  }
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const cell of cells(row)) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = cell;
      tr.append(td);
    }
    body.append(tr);
  }
}

function usageBar(spent, limit) {
  const bar = document.createElement("div");
  const share = limit > 0 ? spent / limit : 1;
  bar.className = share >= 1 ? "bar over" : "bar";
  bar.title = `${(share * 100).toFixed(1)}%`;
  const fill = document.createElement("span");
  fill.style.width = `${Math.min(100, share * 100)}%`;
  bar.append(fill);
  return bar;
}

async function load() {
  const status = document.getElementById("status");
  document.body.dataset.ready = "false";
  status.textContent = "Loading…";
  try {
    const range = query();
    const [byModelDaily, byFeature, byCostCenter, byUser, byKey, recent, forecast, budgets, anomalies, top] = await Promise.all([
      api("spend", { ...range, group_by: "model", interval: "day" }),
      api("spend", { ...range, group_by: "feature" }),
      api("spend", { ...range, group_by: "cost-center" }),
      api("spend", { ...range, group_by: "user" }),
      api("spend", { ...range, group_by: "key" }),
      api("spend", { from: "2d", group_by: "model", interval: "day" }),
      api("forecast"),
      api("budgets"),
      api("anomalies", { from: "30d" }),
      api("top-requests", { ...range, limit: 10 }),
    ]);

    const total = sum(byFeature.rows);
    window.tollgate.totals.range = total;
    document.getElementById("total-range").textContent = money.format(total);
    document.getElementById("requests-range").textContent = `${sum(byFeature.rows, "requests")} requests`;
    const today = recent.rows.map(r => r.period).sort().at(-1);
    document.getElementById("total-today").textContent = money.format(sum(recent.rows.filter(r => r.period === today)));
    document.getElementById("total-month").textContent = money.format(Number(forecast.spent_usd));
    document.getElementById("forecast").textContent = money.format(Number(forecast.forecast_usd));
    document.getElementById("forecast-range").textContent =
      `${money.format(Number(forecast.low_usd))} – ${money.format(Number(forecast.high_usd))}` +
      forecast.budgets.map(b => ` · ${b.name}: ${b.forecast_percent ?? "–"}% of ${money.format(Number(b.limit_usd))} (${b.status.replace("_", " ")})`).join("");
    document.getElementById("savings").textContent = money.format(sum(byFeature.rows, "cache_savings_usd"));

    drawDaily(byModelDaily.rows);
    drawBreakdown("chart-feature", byFeature.rows, 10);
    drawBreakdown("chart-cost-center", byCostCenter.rows, 10);
    drawBreakdown("chart-user", byUser.rows, 10);
    drawBreakdown("chart-key", byKey.rows, 10);

    fillTable("budgets", budgets.data, b => [b.name, b.period, money.format(Number(b.spent_usd)), money.format(Number(b.limit_usd)), usageBar(Number(b.spent_usd), Number(b.limit_usd))], "No budgets configured.");
    const list = document.getElementById("anomalies");
    list.replaceChildren(...anomalies.data.map(a => Object.assign(document.createElement("li"), {
      textContent: `${a.period}: ${a.dimension} “${a.value}” cost ${money.format(Number(a.cost_usd))}, ${a.ratio}× its usual ${money.format(Number(a.baseline_usd))}`,
    })));
    if (anomalies.data.length === 0) list.innerHTML = `<li class="empty">No anomalies in the last 30 days.</li>`;
    fillTable("top", top, r => [new Date(r.timestamp).toLocaleString(), r.feature ?? "—", r.user ?? "—", r.upstream_model, `${r.input_tokens ?? "?"} / ${r.output_tokens ?? "?"}`, money.format(Number(r.cost_total_usd))], "No requests in this range.");

    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.ready = "true";
  } catch (error) {
    status.textContent = `Could not load: ${error.message}`;
    document.body.dataset.ready = "error";
  }
}

document.getElementById("range").addEventListener("change", event => {
  const custom = event.target.value === "custom";
  document.getElementById("range-form").classList.toggle("custom", custom);
  if (!custom) load();
});
document.getElementById("range-form").addEventListener("submit", event => { event.preventDefault(); load(); });
load();
