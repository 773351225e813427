// Tollgate dashboard: reads the analytics API under /ui/api (same credentials as the page) and draws it with Chart.js.
"use strict";

const cents = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });
const precise = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumSignificantDigits: 3 });

// Dollars and cents, but a cost under a cent keeps its first three significant digits: $0.000123, never $0.00.
function usd(value) {
  const v = Number(value);
  return v !== 0 && Math.abs(v) < 0.01 ? precise.format(v) : cents.format(v);
}

// Axis ticks get as many decimals as their step needs, so neighbouring ticks never read the same.
function axisUsd(value, index, ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1].value - ticks[0].value) : Math.abs(value);
  const decimals = step > 0 ? Math.min(10, Math.max(2, Math.ceil(-Math.log10(step)))) : 2;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
}
const palette = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#db2777", "#4b5563", "#7c3aed"];
const charts = {};
window.tollgate = { charts, totals: {}, usd, axisUsd };

function query() {
  const range = document.getElementById("range").value;
  if (range !== "custom") return { from: range };
  const from = document.getElementById("from").value, to = document.getElementById("to").value;
  return to ? { from, to } : { from };
}

async function api(path, params = {}) {
  const search = new URLSearchParams(params).toString();
  // Built on the origin, which never holds credentials: a page opened as http://user:key@host/ui has them in its own
  // URL, and fetch refuses any URL resolved against it. The browser still sends the Basic credentials it signed in with.
  const url = new URL(`/ui/api/${path}${search ? "?" + search : ""}`, window.location.origin);
  const response = await fetch(url, { credentials: "same-origin" });
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
    options: { maintainAspectRatio: false, animation: false, scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: axisUsd } } } },
  });
}

function drawBreakdown(id, rows, limit, label = group => group) {
  const top = rows.slice(0, limit);
  draw(id, {
    type: "bar",
    data: { labels: top.map(r => label(r.group)), datasets: [{ label: "Cost (USD)", backgroundColor: palette[0], data: top.map(r => Number(r.cost_usd)) }] },
    options: { indexAxis: "y", maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { x: { ticks: { callback: axisUsd } } } },
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
    const [byModelDaily, byFeature, byCostCenter, byUser, byKey, recent, forecast, budgets, anomalies, top, keys, routes, byEndpoint, advice] = await Promise.all([
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
      api("keys"),
      api("spend", { ...range, group_by: "route" }),
      api("spend", { ...range, group_by: "endpoint" }),
      api("advice", range),
    ]);
    const keyNames = new Map(keys.data.map(k => [k.id, k.name]));

    const total = sum(byFeature.rows);
    window.tollgate.totals.range = total;
    document.getElementById("total-range").textContent = usd(total);
    const unpriced = sum(byFeature.rows, "unpriced_requests");
    document.getElementById("requests-range").textContent = `${sum(byFeature.rows, "requests")} requests` +
      (unpriced > 0 ? ` · ${unpriced} unpriced (cost unknown, not in this total)` : "");
    const today = recent.rows.map(r => r.period).sort().at(-1);
    document.getElementById("total-today").textContent = usd(sum(recent.rows.filter(r => r.period === today)));
    document.getElementById("total-month").textContent = usd(Number(forecast.spent_usd));
    document.getElementById("forecast").textContent = usd(Number(forecast.forecast_usd));
    document.getElementById("forecast-range").textContent =
      `${usd(Number(forecast.low_usd))} – ${usd(Number(forecast.high_usd))}` +
      forecast.budgets.map(b => ` · ${b.name}: ${b.forecast_percent ?? "–"}% of ${usd(Number(b.limit_usd))} (${b.status.replace("_", " ")})`).join("");
    document.getElementById("savings").textContent = usd(sum(byFeature.rows, "cache_savings_usd"));
    const hits = sum(byFeature.rows, "response_cache_hits");
    const requests = sum(byFeature.rows, "requests");
    document.getElementById("response-cache-saved").textContent = usd(sum(byFeature.rows, "response_cache_saved_usd"));
    document.getElementById("response-cache-note").textContent = `${hits} of ${requests} requests answered from the cache` +
      (requests > 0 ? ` (${(100 * hits / requests).toFixed(1)}%)` : "") + ` · the cache's own calls cost ${usd(sum(byFeature.rows, "response_cache_spent_usd"))}`;
    document.getElementById("routing-saved").textContent = usd(sum(byFeature.rows, "routing_saved_usd"));
    // Groups are "router → target"; "(none)" holds the requests no router handled.
    const routeRows = routes.rows.filter(r => r.group !== "(none)").map(r => ({ ...r, router: r.group.split(" → ")[0], target: r.group.split(" → ")[1] }));
    const routed = routeRows.reduce((n, r) => n + r.requests, 0);
    document.getElementById("routing-note").textContent = `${routed} routed requests, against each router's reference model`;
    const perRouter = new Map();
    routeRows.forEach(r => perRouter.set(r.router, (perRouter.get(r.router) ?? 0) + r.requests));
    fillTable("routing", routeRows, r => [
      r.router, r.target, r.requests, `${(100 * r.requests / perRouter.get(r.router)).toFixed(1)}%`, usd(Number(r.cost_usd)), usd(Number(r.routing_saved_usd)),
    ], "No routed requests in this range.");
    // Batch lines are recorded as "batch.<endpoint>"; what they saved is their cost at realtime prices less their cost.
    const batchRows = byEndpoint.rows.filter(r => r.group.startsWith("batch."));
    document.getElementById("batch-saved").textContent = usd(sum(byEndpoint.rows, "batch_saved_usd"));
    document.getElementById("batch-note").textContent = `${batchRows.reduce((n, r) => n + r.requests, 0)} batch lines cost ${usd(sum(batchRows))}` +
      ` instead of ${usd(sum(batchRows) + sum(batchRows, "batch_saved_usd"))} at realtime prices`;
    fillTable("endpoints", byEndpoint.rows, r => [
      r.group, r.requests, usd(Number(r.cost_usd)), usd(Number(r.cost_usd) + Number(r.batch_saved_usd)), usd(Number(r.batch_saved_usd)),
    ], "No requests in this range.");
    fillTable("response-cache", byFeature.rows.filter(r => r.response_cache_hits > 0 || Number(r.response_cache_spent_usd) > 0), r => [
      r.group, r.requests, r.response_cache_hits, `${(100 * r.response_cache_hits / r.requests).toFixed(1)}%`,
      usd(Number(r.response_cache_saved_usd)), usd(Number(r.response_cache_spent_usd)),
    ], "No answers from the response cache in this range.");

    // The advisor's findings over the same range, best first; what each is worth is a saving unless it says otherwise.
    const worth = { saving: "", reservation_freed: " of budget room", loss: " lost", cost: " spent", idle: " paid while idle" };
    fillTable("advice", advice.data, a => {
      const amount = document.createElement("span");
      amount.textContent = `${usd(Number(a.monthly_usd))}${worth[a.worth] ?? ` (${a.worth})`}`;
      return [a.rank, a.subject, a.finding, a.action, amount];
    }, "Nothing to advise in this range: no repeated prompt prefix, duplicate requests, batchable job or unused max_tokens worth acting on.");
    document.querySelectorAll("#advice tbody tr td:last-child").forEach(td => td.classList.add("num"));
    const savings = advice.data.filter(a => a.worth === "saving").reduce((total, a) => total + Number(a.monthly_usd), 0);
    document.getElementById("advice-note").textContent = advice.data.length === 0 ? "" :
      `Savings add up to about ${usd(savings)} a month at this range's rate (where two overlap, less). The same list: tollgate advise.`;

    drawDaily(byModelDaily.rows);
    drawBreakdown("chart-feature", byFeature.rows, 10);
    drawBreakdown("chart-cost-center", byCostCenter.rows, 10);
    drawBreakdown("chart-user", byUser.rows, 10);
    drawBreakdown("chart-key", byKey.rows, 10, id => keyNames.has(id) ? `${keyNames.get(id)} (${id})` : id);

    fillTable("budgets", budgets.data, b => [b.name, b.period, usd(Number(b.spent_usd)), usd(Number(b.limit_usd)), usageBar(Number(b.spent_usd), Number(b.limit_usd))], "No budgets configured.");
    const list = document.getElementById("anomalies");
    list.replaceChildren(...anomalies.data.map(a => Object.assign(document.createElement("li"), {
      textContent: `${a.period}: ${a.dimension} “${a.value}” cost ${usd(Number(a.cost_usd))}, ${a.ratio}× its usual ${usd(Number(a.baseline_usd))}`,
    })));
    if (anomalies.data.length === 0) list.innerHTML = `<li class="empty">No anomalies in the last 30 days.</li>`;
    fillTable("top", top, r => [new Date(r.timestamp).toLocaleString(), r.feature ?? "—", r.user ?? "—", r.upstream_model, `${r.input_tokens ?? "?"} / ${r.output_tokens ?? "?"}`, usd(Number(r.cost_total_usd))], "No requests in this range.");

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
