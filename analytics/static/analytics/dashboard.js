/* Jawla dashboard: reads the analytics API (session cookie) and draws the map, figures, chart and tables. */
(function () {
  "use strict";
  const root = document.querySelector(".dashboard");
  const S = JSON.parse(document.getElementById("dashboard-strings").textContent);
  const lang = root.dataset.lang || "ar";
  const rtl = document.documentElement.dir === "rtl";
  const locale = lang === "ar" ? "ar-SA-u-nu-latn" : "en-GB";
  const int = new Intl.NumberFormat(locale);
  const pct = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1, minimumFractionDigits: 1 });
  // The server's Umm al-Qura table (one calendar for every surface), not the browser's Intl calendar.
  const hijriTable = JSON.parse(document.getElementById("hijri-table").textContent);
  const API = "/api/v1/analytics/";
  const form = document.getElementById("filters");
  let loads = 0;

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function fmtRate(value) { return value == null ? "—" : pct.format(value); }
  function filterParams() {
    const params = new URLSearchParams();
    for (const name of ["from", "to", "municipality", "category", "checklist"]) {
      const value = form.elements[name].value;
      if (value) params.set(name, value);
    }
    return params;
  }
  async function getJSON(path, params) {
    const response = await fetch(API + path + "?" + params.toString(), {
      credentials: "same-origin", headers: { "Accept": "application/json", "Accept-Language": lang },
    });
    if (!response.ok) {
      // The API explains a refused filter ({"detail": ...}, in the page's language): shown as such.
      const body = await response.json().catch(() => null);
      const error = new Error((body && body.detail) || S.error);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }
  function wilson(k, n) {
    if (!n) return [null, null];
    const z = 1.959963984540054, p = k / n, d = 1 + z * z / n;
    const c = (p + z * z / (2 * n)) / d, h = (z * Math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d;
    return [Math.max(0, c - h), Math.min(1, c + h)];
  }

  // --- Hijri hints under the date inputs --------------------------------------------------------
  function updateHijri() {
    document.querySelectorAll(".hijri").forEach((el) => {
      const value = document.getElementById(el.dataset.for).value;
      el.textContent = window.JawlaHijri.hijriLabel(hijriTable, value); // "" outside the table
    });
  }

  // --- map ---------------------------------------------------------------------------------------
  const map = L.map("map", { zoomControl: true, attributionControl: true, preferCanvas: false }).setView([26.4, 50.1], 9);
  if (root.dataset.tileUrl) {
    L.tileLayer(root.dataset.tileUrl, { attribution: root.dataset.tileAttribution || "", maxZoom: 18 }).addTo(map);
  } else {
    map.attributionControl.addAttribution(lang === "ar" ? "بلا خريطة أساس: حدود البلديات وخلايا H3" : "No base map: municipality outlines and H3 cells");
  }
  let cellLayer = null, outlineLayer = null, fittedTo = null;
  // Labels shrink when zoomed out so neighbouring municipalities' names do not cover each other.
  function labelSize() { document.getElementById("map").classList.toggle("labels-small", map.getZoom() < 9); }
  map.on("zoomend", labelSize);
  const STOPS = [[0, [26, 152, 80]], [0.25, [254, 224, 139]], [0.5, [215, 48, 39]]];
  function colour(rate) {
    const r = Math.max(0, Math.min(0.5, rate || 0));
    for (let i = 1; i < STOPS.length; i++) {
      if (r <= STOPS[i][0]) {
        const [a, ca] = STOPS[i - 1], [b, cb] = STOPS[i], t = (r - a) / (b - a);
        return "rgb(" + ca.map((v, j) => Math.round(v + (cb[j] - v) * t)).join(",") + ")";
      }
    }
    return "rgb(215,48,39)";
  }
  function tip(p, title) {
    return '<div class="cell-tip"><b>' + esc(title) + "</b>" + esc(S.visits) + ": " + int.format(p.visits) + "<br>" +
      esc(S.violating) + ": " + int.format(p.violating_visits) + "<br>" + esc(S.rate) + ": " + fmtRate(p.rate) +
      "<br>" + esc(S.interval) + ": " + fmtRate(p.ci_low) + " – " + fmtRate(p.ci_high) + "</div>";
  }
  function drawMap(collection) {
    if (cellLayer) cellLayer.remove();
    if (outlineLayer) outlineLayer.remove();
    const maxVisits = Math.max(1, ...collection.features.map((f) => f.properties.visits));
    cellLayer = L.geoJSON(collection, {
      style: (f) => ({
        className: "h3-cell", color: colour(f.properties.rate), weight: 0.8, opacity: 0.9,
        fillColor: colour(f.properties.rate),
        fillOpacity: 0.2 + 0.65 * Math.log(f.properties.visits + 1) / Math.log(maxVisits + 1),
      }),
      onEachFeature: (f, layer) => layer.bindTooltip(tip(f.properties, S.cell + " " + f.properties.cell), { sticky: true }),
    }).addTo(map);
    outlineLayer = L.geoJSON(collection.municipalities || { type: "FeatureCollection", features: [] }, {
      style: () => ({ className: "municipality-outline", color: "#0f4c5c", weight: 1.4, dashArray: "5 4", fill: false }),
      // A permanent name and rate on each outline keeps the map readable without base tiles.
      onEachFeature: (f, layer) => layer.bindTooltip(esc(f.properties.label) + " · " + fmtRate(f.properties.rate),
        { permanent: true, direction: "center", className: "muni-label" }),
    }).addTo(map);
    outlineLayer.bringToBack();
    const bounds = outlineLayer.getLayers().length ? outlineLayer.getBounds() : cellLayer.getBounds();
    // Zoom to the selection whenever it changes (a municipality chosen, or all of them again).
    const selection = form.elements.municipality.value || "all";
    if (fittedTo !== selection && bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], animate: false });
      fittedTo = selection;
      document.getElementById("map").dataset.fitted = selection;
    }
    labelSize();
    document.getElementById("map").dataset.cells = String(collection.features.length);
  }

  // --- figures and tables ------------------------------------------------------------------------
  // The bar is placed through the CSSOM after the rows are written (the CSP refuses style attributes).
  function ciBar(row) {
    if (row.ci_low == null) return "";
    return '<div class="ci" title="' + fmtRate(row.ci_low) + " – " + fmtRate(row.ci_high) + '" data-low="' + row.ci_low +
      '" data-high="' + row.ci_high + '" data-rate="' + row.rate + '"><span></span><b></b></div><span class="ci-text">' +
      fmtRate(row.ci_low) + " – " + fmtRate(row.ci_high) + "</span>";
  }
  function placeCiBars(container) {
    const side = rtl ? "right" : "left";
    container.querySelectorAll(".ci[data-low]").forEach((bar) => {
      const low = Number(bar.dataset.low), high = Number(bar.dataset.high), rate = Number(bar.dataset.rate);
      const span = bar.querySelector("span"), mark = bar.querySelector("b");
      span.style[side] = (low * 100).toFixed(1) + "%";
      span.style.width = ((high - low) * 100).toFixed(1) + "%";
      mark.style[side] = "calc(" + (rate * 100).toFixed(1) + "% - 1px)";
    });
  }
  // `drill`: the label chooses that municipality; `code`: the key (an item's code) under the label, as
  // in the overdue table (two checklists' items can read the same).
  function rateRows(tbody, rows, empty, drill, code) {
    const label = (row) => drill && /^\d+$/.test(row.key)
      ? '<button type="button" class="link-button" data-municipality="' + esc(row.key) + '" title="' + esc(S.choose) + '">' + esc(row.label) + "</button>"
      : esc(row.label) + (code ? ' <small class="muted">' + esc(row.key) + "</small>" : "");
    tbody.innerHTML = rows.length ? rows.map((row) => "<tr><td>" + label(row) + '</td><td class="num">' + int.format(row.visits) +
      '</td><td class="num">' + int.format(row.violating_visits) + '</td><td class="num"><strong>' + fmtRate(row.rate) +
      "</strong></td><td>" + ciBar(row) + "</td></tr>").join("")
      : '<tr><td colspan="5" class="empty">' + esc(empty) + "</td></tr>";
    placeCiBars(tbody);
  }
  // An Amanah has hundreds of inspectors: the busiest few are shown, the rest behind "Show all" (the
  // rows are all written, so the button only unhides them).
  const INSPECTORS_SHOWN = 10;
  function drawInspectors(rows) {
    const tbody = document.querySelector("#inspector-table tbody");
    rateRows(tbody, rows.slice().sort((a, b) => b.visits - a.visits), S.no_data);
    if (rows.length) tbody.querySelectorAll("tr").forEach((tr, i) => { tr.hidden = i >= INSPECTORS_SHOWN; });
    const more = document.getElementById("inspector-all");
    more.hidden = rows.length <= INSPECTORS_SHOWN;
    more.textContent = S.show_all + " (" + int.format(rows.length) + ")";
  }
  function showAllInspectors() {
    document.querySelectorAll("#inspector-table tbody tr").forEach((tr) => { tr.hidden = false; });
    document.getElementById("inspector-all").hidden = true;
  }
  function drawKpis(rows) {
    const visits = rows.reduce((s, r) => s + r.visits, 0), violating = rows.reduce((s, r) => s + r.violating_visits, 0);
    const [low, high] = wilson(violating, visits);
    document.getElementById("kpi-visits").textContent = int.format(visits);
    document.getElementById("kpi-violating").textContent = int.format(violating);
    document.getElementById("kpi-rate").textContent = visits ? fmtRate(violating / visits) : "—";
    document.getElementById("kpi-interval").textContent = visits ? S.interval + ": " + fmtRate(low) + " – " + fmtRate(high) : "";
  }
  // --- tables paged through their endpoint: rows, "Showing n of N", a button for more ----------------
  function pagedTable({ table, more, note, empty, columns, row, moreLabel }) {
    const tbody = document.querySelector(table + " tbody");
    const paged = { shown: 0, total: 0 };
    paged.draw = (rows, total, append) => {
      paged.shown = (append ? paged.shown : 0) + rows.length;
      paged.total = total;
      const html = rows.map(row).join("");
      if (append) tbody.insertAdjacentHTML("beforeend", html);
      else tbody.innerHTML = html || '<tr><td colspan="' + columns + '" class="empty">' + esc(empty) + "</td></tr>";
      const button = document.getElementById(more);
      button.hidden = paged.shown >= paged.total;
      button.textContent = moreLabel(paged.total);
      document.getElementById(note).textContent = paged.total
        ? S.showing + " " + int.format(paged.shown) + " " + S.of + " " + int.format(paged.total) : "";
    };
    return paged;
  }
  function reportLink(visitId, text) {
    return '<a href="' + API + "exports/visits/" + visitId + '/report.pdf" target="_blank" rel="noopener">' + esc(text) + "</a>";
  }

  // Open findings past due: the first dozen, then all of them on request.
  const overdueTable = pagedTable({
    table: "#overdue-table", more: "overdue-all", note: "overdue-note", empty: S.no_overdue, columns: 6,
    moreLabel: (total) => S.show_all + " (" + int.format(total) + ")",
    row: (f) => "<tr><td>" + reportLink(f.visit_id, f.establishment) + "</td><td>" + esc(f.municipality) + "</td><td>" +
      esc(f.item) + ' <small class="muted">' + esc(f.item_code) + '</small></td><td><span class="sev ' + esc(f.severity) + '">' + esc(S.severity[f.severity] || f.severity) +
      '</span></td><td class="when">' + esc(f.due_date) + '<br><small class="muted">' + esc(f.due_date_hijri) + '</small></td><td class="num">' +
      int.format(f.days_overdue) + "</td></tr>",
  });
  function drawOverdue(data, append) {
    document.getElementById("kpi-overdue").textContent = int.format(data.count);
    overdueTable.draw(data.results, data.count, append);
  }
  async function showAllOverdue() {
    const button = document.getElementById("overdue-all");
    button.disabled = true;
    try {
      while (overdueTable.shown < overdueTable.total) {
        const page = new URLSearchParams([...filterParams(), ["limit", "200"], ["offset", String(overdueTable.shown)]]);
        const data = await getJSON("overdue-findings", page);
        if (!data.results.length) break;
        drawOverdue(data, true);
      }
    } catch (error) {
      showError(error.message);
    } finally {
      button.disabled = false;
      document.body.dataset.overdueLoaded = String(overdueTable.shown);
    }
  }

  // The drill-down's visits: newest first, twenty at a time, each opening its PDF report.
  const visitsTable = pagedTable({
    table: "#visits-table", more: "visits-more", note: "visits-note", empty: S.no_visits, columns: 5,
    moreLabel: () => S.show_more,
    row: (v) => '<tr><td class="when">' + esc(v.day) + '<br><small class="muted">' + esc(v.day_hijri) + "</small></td><td>" +
      reportLink(v.id, v.establishment) + "</td><td>" + esc(v.inspector) + "</td><td>" + esc(S.outcome[v.outcome] || v.outcome) +
      '</td><td class="num">' + int.format(v.violation_count) + "</td></tr>",
  });
  function drawVisits(data, append) {
    visitsTable.draw(data.items, data.count, append);
    document.body.dataset.visitsLoaded = String(visitsTable.shown);
  }
  async function moreVisits() {
    const button = document.getElementById("visits-more");
    button.disabled = true;
    try {
      const page = new URLSearchParams([...filterParams(), ["limit", "20"], ["offset", String(visitsTable.shown)]]);
      drawVisits(await getJSON("visits", page), true);
    } catch (error) {
      showError(error.message);
    } finally {
      button.disabled = false;
    }
  }

  // --- monthly trend: a hand-drawn SVG (rate line, 95% band, visits bars) ------------------------
  function drawTrend(rows) {
    const el = document.getElementById("trend");
    if (!rows.length) { el.innerHTML = '<p class="empty">' + esc(S.no_data) + "</p>"; return; }
    const W = 560, H = 400, m = { l: 46, r: 46, t: 18, b: 62 }, w = W - m.l - m.r, h = H - m.t - m.b;
    const top = Math.min(1, Math.max(0.1, Math.ceil(Math.max(...rows.map((r) => r.ci_high || 0)) * 10) / 10));
    const maxV = Math.max(...rows.map((r) => r.visits));
    const step = w / rows.length, x = (i) => m.l + step * (i + 0.5), y = (v) => m.t + h - (v / top) * h;
    let svg = '<svg viewBox="0 0 ' + W + " " + H + '" direction="ltr" font-size="11" font-family="inherit">';
    for (let t = 0; t <= 4; t++) {
      const v = (top * t) / 4, yy = y(v);
      svg += '<line x1="' + m.l + '" x2="' + (W - m.r) + '" y1="' + yy + '" y2="' + yy + '" stroke="#e2e8f0"/>' +
        '<text x="' + (m.l - 6) + '" y="' + (yy + 4) + '" text-anchor="end" fill="#64748b">' + pct.format(v) + "</text>";
    }
    rows.forEach((r, i) => {
      const bh = (r.visits / maxV) * h * 0.35;
      svg += '<rect class="bar" x="' + (x(i) - step * 0.3) + '" y="' + (m.t + h - bh) + '" width="' + step * 0.6 + '" height="' + bh +
        '" fill="#cbd5e1" opacity="0.7"><title>' + esc(r.label) + " — " + esc(S.trend_visits) + ": " + int.format(r.visits) + "</title></rect>";
    });
    const band = rows.map((r, i) => x(i) + "," + y(r.ci_high)).concat(rows.map((r, i) => x(i) + "," + y(r.ci_low)).reverse());
    svg += '<polygon points="' + band.join(" ") + '" fill="#fca5a5" opacity="0.45"/>';
    svg += '<polyline points="' + rows.map((r, i) => x(i) + "," + y(r.rate)).join(" ") + '" fill="none" stroke="#b91c1c" stroke-width="2.2"/>';
    const every = Math.ceil(rows.length / 12);
    rows.forEach((r, i) => {
      svg += '<circle class="point" cx="' + x(i) + '" cy="' + y(r.rate) + '" r="3.5" fill="#b91c1c"><title>' + esc(r.label) + ": " +
        fmtRate(r.rate) + " (" + fmtRate(r.ci_low) + " – " + fmtRate(r.ci_high) + "), " + int.format(r.visits) + " " + esc(S.visits) + "</title></circle>";
      if (i % every === 0) {
        const hijri = trendKind() === "hijri_month" ? r.label : (r.label.match(/\(([^)]*)\)/) || [, ""])[1];
        svg += '<text x="' + x(i) + '" y="' + (H - m.b + 16) + '" text-anchor="middle" fill="#334155">' + esc(r.key) + "</text>" +
          '<text x="' + x(i) + '" y="' + (H - m.b + 30) + '" text-anchor="middle" fill="#138a72" font-size="9.5">' + esc(hijri.replace(/ \d{4}.*$/, "")) + "</text>";
      }
    });
    svg += '<text x="' + m.l + '" y="' + (H - 8) + '" fill="#b91c1c">— ' + esc(S.trend_rate) + '</text><text x="' + (m.l + 150) +
      '" y="' + (H - 8) + '" fill="#94a3b8">▮ ' + esc(S.trend_visits) + " (≤ " + int.format(maxV) + ")</text></svg>";
    el.innerHTML = svg;
  }

  // --- the same Hijri month a year earlier -----------------------------------------------------------
  function trendKind() { return document.getElementById("f-trend").value; }
  async function drawComparison(params) {
    const to = form.elements.to.value || new Date().toISOString().slice(0, 10);
    const parts = window.JawlaHijri.hijriParts(hijriTable, to);
    const ids = ["compare-now", "compare-before", "compare-change", "compare-now-n", "compare-before-n", "compare-now-label", "compare-before-label"];
    ids.forEach((id) => { document.getElementById(id).textContent = id.endsWith("-n") || id.endsWith("label") ? "" : "—"; });
    if (!parts) { document.getElementById("compare-now-label").textContent = S.no_hijri; return; }
    const months = [[parts.year, parts.month], [parts.year - 1, parts.month]];
    const figures = await Promise.all(months.map(async ([year, month]) => {
      const range = window.JawlaHijri.monthRange(hijriTable, year, month);
      if (!range) return null;
      const p = new URLSearchParams(params); p.set("from", range[0]); p.set("to", range[1]); p.set("group_by", "municipality");
      const rows = await getJSON("violation-rates", p);
      const visits = rows.reduce((t, r) => t + r.visits, 0), violating = rows.reduce((t, r) => t + r.violating_visits, 0);
      return { label: hijriTable.months[month - 1] + " " + year + hijriTable.suffix, visits, rate: visits ? violating / visits : null };
    }));
    ["now", "before"].forEach((name, i) => {
      const f = figures[i];
      if (!f) return;
      document.getElementById("compare-" + name + "-label").textContent = f.label;
      document.getElementById("compare-" + name).textContent = fmtRate(f.rate);
      document.getElementById("compare-" + name + "-n").textContent = int.format(f.visits) + " " + S.visits;
    });
    if (figures[0] && figures[1] && figures[0].rate != null && figures[1].rate != null) {
      const diff = (figures[0].rate - figures[1].rate) * 100;
      document.getElementById("compare-change").textContent = (diff > 0 ? "+" : diff < 0 ? "−" : "") +
        new Intl.NumberFormat(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(Math.abs(diff)) + " " + S.points;
    }
  }

  // --- an invalid filter: explained, and nothing on screen half-filtered --------------------------------
  function showError(message) {
    const box = document.getElementById("f-error");
    box.textContent = S.filter_error + " " + message;
    box.hidden = false;
  }
  function clearFigures() {
    ["kpi-visits", "kpi-violating", "kpi-rate", "kpi-overdue"].forEach((id) => { document.getElementById(id).textContent = "—"; });
    document.getElementById("kpi-interval").textContent = "";
    document.querySelectorAll("#municipality-table tbody, #item-table tbody, #overdue-table tbody, #inspector-table tbody, #visits-table tbody")
      .forEach((tbody) => { tbody.innerHTML = ""; });
    document.getElementById("visits-card").hidden = true;
    document.getElementById("visits-more").hidden = true;
    document.getElementById("visits-note").textContent = "";
    document.getElementById("trend").innerHTML = "";
    document.getElementById("overdue-all").hidden = true;
    document.getElementById("inspector-all").hidden = true;
    document.getElementById("overdue-note").textContent = "";
    if (cellLayer) { cellLayer.remove(); cellLayer = null; }
    if (outlineLayer) { outlineLayer.remove(); outlineLayer = null; }
    document.getElementById("map").dataset.cells = "0";
    document.querySelectorAll("a[data-export]").forEach((a) => { a.removeAttribute("href"); a.setAttribute("aria-disabled", "true"); });
  }
  function drawDrill() {
    const select = form.elements.municipality;
    const drill = document.getElementById("drill");
    drill.hidden = !select.value;
    document.getElementById("drill-label").textContent = select.value ? S.drill + " " + select.selectedOptions[0].textContent : "";
  }

  // --- the filters in the address: a view can be bookmarked, shared, and walked back ----------------
  // Only a whole link is applied: one value outside the caller's scope (or a malformed date) and the
  // default view is shown with the reason, never a mix of the link and the defaults.
  const ADDRESS = ["from", "to", "municipality", "category", "checklist", "resolution", "trend", "area"];
  const trendSelect = document.getElementById("f-trend");
  const areaSelect = document.getElementById("f-area");
  let addressNotice = null;
  function addressField(name) {
    if (name === "trend") return trendSelect;
    return name === "area" ? areaSelect : form.elements[name];
  }
  function fieldDefault(field) {
    if (field.tagName !== "SELECT") return field.defaultValue;
    // The option marked selected in the page, else the first (as the browser shows a fresh select).
    const chosen = [...field.options].find((option) => option.defaultSelected) || field.options[0];
    return chosen ? chosen.value : "";
  }
  function applyAddress() {
    const query = new URLSearchParams(location.search);
    // The page's own fields judge the link: a date input refuses a malformed date, a select a value
    // it has no option for (a municipality, category or checklist outside the caller's scope).
    const refused = ADDRESS.some((name) => {
      if (!query.has(name)) return false;
      const field = addressField(name);
      field.value = query.get(name);
      return field.value !== query.get(name);
    });
    ADDRESS.forEach((name) => {
      const field = addressField(name);
      field.value = !refused && query.has(name) ? query.get(name) : fieldDefault(field);
    });
    addressNotice = refused ? S.bad_link : null;
  }
  function addressOf() {
    // Only what differs from the default view: a bookmark of the overview keeps its rolling dates.
    const query = new URLSearchParams();
    ADDRESS.forEach((name) => {
      const field = addressField(name);
      if (field.value !== fieldDefault(field)) query.set(name, field.value);
    });
    const text = query.toString();
    return location.pathname + (text ? "?" + text : "");
  }
  function recordAddress(push) {
    const address = addressOf();
    const next = document.querySelector(".lang-switch input[name=next]");
    if (next) next.value = address;  // switching language keeps the view
    if (address === location.pathname + location.search) return;
    history[push ? "pushState" : "replaceState"](null, "", address);
  }

  // --- loading -----------------------------------------------------------------------------------
  async function refresh(push = true) {
    const params = filterParams();
    document.getElementById("f-error").hidden = true;
    recordAddress(push);
    if (addressNotice) { showError(addressNotice); addressNotice = null; }
    drawDrill();
    if (params.get("from") && params.get("to") && params.get("from") > params.get("to")) {
      clearFigures();
      showError(S.bad_range);
      document.body.dataset.loads = String(++loads);
      return;
    }
    const resolution = form.elements.resolution.value;
    document.body.classList.add("loading");
    try {
      const heatParams = new URLSearchParams(params); heatParams.set("resolution", resolution); heatParams.set("layers", "municipalities");
      const withGroup = (g) => { const p = new URLSearchParams(params); p.set("group_by", g); return p; };
      const drilled = Boolean(params.get("municipality"));
      const [heat, byMunicipality, byMonth, byItem, byInspector, overdue, , visits] = await Promise.all([
        getJSON("heatmap", heatParams), getJSON("violation-rates", withGroup(areaSelect.value)),
        getJSON("violation-rates", withGroup(trendKind())), getJSON("violation-rates", withGroup("item")),
        getJSON("violation-rates", withGroup("inspector")),
        getJSON("overdue-findings", new URLSearchParams([...params, ["limit", "12"]])),
        drawComparison(params),
        drilled ? getJSON("visits", new URLSearchParams([...params, ["limit", "20"]])) : null,
      ]);
      drawMap(heat);
      drawKpis(byMunicipality);
      // Municipalities open their drill-down; Amanahs and classes are compared, not drilled into.
      const byArea = areaSelect.value === "municipality";
      document.getElementById("area-head").textContent = areaSelect.selectedOptions[0].textContent;
      document.getElementById("area-note").hidden = !byArea;
      rateRows(document.querySelector("#municipality-table tbody"), byMunicipality.slice().sort((a, b) => (b.rate || 0) - (a.rate || 0)), S.no_data, byArea);
      drawInspectors(byInspector);
      const items = byItem.filter((r) => r.violating_visits > 0)
        .sort((a, b) => b.violating_visits - a.violating_visits || (b.rate || 0) - (a.rate || 0)).slice(0, 10);
      rateRows(document.querySelector("#item-table tbody"), items, S.no_data, false, true);
      drawTrend(byMonth);
      drawOverdue(overdue, false);
      document.getElementById("visits-card").hidden = !drilled;
      if (drilled) drawVisits(visits, false);
      document.querySelectorAll("a[data-export]").forEach((a) => { a.href = API + "exports/" + a.dataset.export + "?" + params; a.removeAttribute("aria-disabled"); });
    } catch (error) {
      clearFigures();
      showError(error.message || S.error);
    } finally {
      document.body.classList.remove("loading");
      document.body.dataset.loads = String(++loads);
    }
  }
  form.addEventListener("change", () => { updateHijri(); refresh(); });
  trendSelect.addEventListener("change", () => refresh());
  areaSelect.addEventListener("change", () => refresh());
  document.getElementById("overdue-all").addEventListener("click", showAllOverdue);
  document.getElementById("inspector-all").addEventListener("click", showAllInspectors);
  document.getElementById("visits-more").addEventListener("click", moreVisits);
  document.getElementById("drill-reset").addEventListener("click", () => { form.elements.municipality.value = ""; refresh(); });
  document.getElementById("municipality-table").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-municipality]");
    if (!button) return;
    form.elements.municipality.value = button.dataset.municipality;
    refresh();
    document.getElementById("map").scrollIntoView({ block: "nearest" });
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  window.addEventListener("popstate", () => { applyAddress(); updateHijri(); refresh(false); });
  applyAddress();
  updateHijri();
  refresh(false);
})();
