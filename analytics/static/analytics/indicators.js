/* Jawla indicators page: one month (Gregorian or Umm al-Qura) over a scope, from GET analytics/indicators
   (session cookie). Each indicator shows its value, interval, target and traffic light (an icon and a
   word, never colour alone) and where the target was set (the scope's own, its Amanah's, its class's or
   the national default), its definition on demand; admins set a target for the chosen scope, nationally
   or for a municipality class A-E (PUT) and remove a scope's own target or the class target a figure
   takes (DELETE), so the scope falls back to the next in line (Amanah's, class's, national).
   A "Rows" choice groups the table (and the CSV and PDF) by municipality, Amanah or municipality class.
   The page's query string keeps the choice, so a link opens the same month, scope and rows. */
(function () {
  "use strict";
  const root = document.querySelector(".indicators-page");
  const S = JSON.parse(document.getElementById("indicator-strings").textContent);
  const lang = root.dataset.lang || "ar";
  const isAdmin = root.dataset.admin === "1";
  // Latin digits in both languages, as every other surface of the product (the dashboard, PDFs, CSV).
  const locale = lang === "ar" ? "ar-SA-u-nu-latn" : "en-GB";
  const pct = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const dec1 = new Intl.NumberFormat(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const dec2 = new Intl.NumberFormat(locale, { maximumFractionDigits: 2, minimumFractionDigits: 2 });
  const int = new Intl.NumberFormat(locale);
  const API = "/api/v1/analytics/";
  const form = document.getElementById("i-filters");
  // The breakdown's rows (the API's group_by); outside the filters form, in the table's card header.
  const rowsSelect = document.getElementById("i-rows");
  const ROWS = ["municipality", "amanah", "municipality_class"];
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  const ICON = { green: "✓", amber: "!", red: "✕", none: "–" };
  // "Class A".."Class E" as <option value="class:A">, rendered by the template for admins (translated there).
  const classOptions = (document.getElementById("i-class-options") || { innerHTML: "" }).innerHTML;
  let loads = 0;

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function fmt(def, value) {
    if (value == null) return "—";
    if (def.proportion) return pct.format(value);
    if (def.code === "median_days_to_closure") return dec1.format(value) + " " + S.days;
    if (def.code === "penalties_issued") return int.format(value);
    if (def.code === "penalties_amount_sar") return dec2.format(value) + " " + S.sar;
    return dec2.format(value);
  }
  function el(id) { return document.getElementById(id); }

  // --- the choice (form <-> query string) ----------------------------------------------------------
  function calendarName() { return form.elements.calendar.value; }
  function showCalendar() {
    form.querySelectorAll("[data-calendar]").forEach((field) => { field.hidden = field.dataset.calendar !== calendarName(); });
  }
  function pad(n) { return String(n).padStart(2, "0"); }
  /** The API's parameters, or an explanation of what is wrong with the choice (nothing is fetched then). */
  function params() {
    const hijri = calendarName() === "hijri";
    const year = Number(form.elements[hijri ? "hijri_year" : "gregorian_year"].value);
    const month = Number(form.elements[hijri ? "hijri_month" : "gregorian_month"].value);
    const [low, high] = hijri ? [1343, 1500] : [1900, 2100];
    if (!Number.isInteger(year) || year < low || year > high) {
      return { error: (hijri ? S.bad_hijri_year : S.bad_year) };
    }
    const p = new URLSearchParams();
    p.set(hijri ? "hijri_month" : "month", year + "-" + pad(month));
    if (form.elements.municipality.value) p.set("municipality", form.elements.municipality.value);
    return { params: p };
  }
  function rows() { return ROWS.includes(rowsSelect.value) ? rowsSelect.value : "municipality"; }
  /** The page's own query string: the API's parameters and, unless by municipality, the rows. */
  function pageQuery(p) {
    const q = new URLSearchParams(p);
    if (rows() !== "municipality") q.set("rows", rows());
    return q;
  }
  function showRows() {
    el("i-breakdown-title").textContent = rowsSelect.selectedOptions[0].textContent;
  }
  function fromQuery() {
    const q = new URLSearchParams(location.search);
    // An unknown value falls back to municipality.
    rowsSelect.value = ROWS.includes(q.get("rows")) ? q.get("rows") : "municipality";
    const scope = q.get("municipality");
    if (scope && form.elements.municipality.querySelector('option[value="' + CSS.escape(scope) + '"]')) form.elements.municipality.value = scope;
    const hijri = q.get("hijri_month"), month = q.get("month");
    const match = /^(\d{4})-(\d{2})$/.exec(hijri || month || "");
    if (match) {
      form.elements.calendar.value = hijri ? "hijri" : "gregorian";
      form.elements[hijri ? "hijri_year" : "gregorian_year"].value = String(Number(match[1]));
      form.elements[hijri ? "hijri_month" : "gregorian_month"].value = String(Number(match[2]));
    }
  }

  async function request(path, p) {
    const response = await fetch(API + path + "?" + p.toString(), {
      credentials: "same-origin", headers: { "Accept": "application/json", "Accept-Language": lang },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && body.detail) || S.error);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // --- drawing -----------------------------------------------------------------------------------
  function light(name) {
    const key = name || "none";
    return '<span class="light light-' + key + '"><span class="light-icon" aria-hidden="true">' + ICON[key] + "</span>" + esc(S.light[key]) + "</span>";
  }
  /** Whether the figure's target was set on `scope` itself (not inherited from above it; a class target
      never is: it is national). */
  function ownTarget(figure, scope) {
    return figure.target != null && figure.target_class == null && figure.target_scope === scope;
  }
  /** "Target from: <scope>" ("Class C" for a class target), and "(inherited)" when it was set above the
      scope the figure is for. */
  function origin(figure, scope) {
    if (figure.target == null) return "";
    return S.target_from + ": " + (figure.target_scope_label || S.national) + (ownTarget(figure, scope) ? "" : " (" + S.inherited + ")");
  }
  function card(def, figure, row) {
    const interval = figure.ci_low != null ? S.interval + ": " + fmt(def, figure.ci_low) + " – " + fmt(def, figure.ci_high) : "";
    const ratio = figure.numerator != null && figure.denominator ? int.format(figure.numerator) + " " + S.of + " " + int.format(figure.denominator) : "";
    const target = figure.target != null ? S.target + ": " + fmt(def, figure.target) : "";
    let html = '<article class="card indicator" data-code="' + esc(def.code) + '" data-light="' + esc(figure.light || "none") + '">' +
      "<h3>" + esc(def.name) + "</h3>" +
      '<div class="ind-value"><strong>' + (figure.value == null ? "—" : fmt(def, figure.value)) + "</strong>" + light(figure.light) + "</div>" +
      (figure.value == null ? '<p class="muted small">' + esc(S.no_value) + "</p>" : "") +
      (interval ? '<p class="ind-ci">' + esc(interval) + "</p>" : "") +
      (ratio ? '<p class="muted small ind-ratio">' + esc(ratio) + "</p>" : "") +
      (target ? '<p class="ind-target">' + esc(target) + "</p>" : "") +
      (target ? '<p class="muted small ind-origin">' + esc(origin(figure, row.scope)) + "</p>" : "") +
      '<details class="ind-def"><summary>' + esc(S.definition) + "</summary><p>" + esc(def.definition) + "</p></details>";
    if (isAdmin) {
      const scale = def.proportion ? 100 : 1;
      const unit = def.proportion ? " (" + S.percent_hint + ")" : "";
      html += '<details class="ind-set"><summary>' + esc(S.set_target) + '</summary><form class="target-form" data-code="' + esc(def.code) +
        '" data-scale="' + scale + '"><label>' + esc(S.target + unit) + '<input name="target" type="number" step="any" min="0"' +
        (def.proportion ? ' max="100"' : "") + ' required value="' + (figure.target != null ? +(figure.target * scale).toFixed(4) : "") + '"></label>' +
        "<label>" + esc(S.margin + unit) + '<input name="amber_margin" type="number" step="any" min="0"' + (def.proportion ? ' max="100"' : "") +
        ' value="' + (figure.amber_margin != null ? +(figure.amber_margin * scale).toFixed(4) : "0") + '"></label>' +
        "<label>" + esc(S.applies_to) + '<select name="municipality"><option value="' + (row.scope == null ? "" : esc(row.scope)) + '">' +
        esc(row.scope_label) + "</option>" + (row.scope == null ? "" : '<option value="">' + esc(S.national) + "</option>") + classOptions + "</select></label>" +
        '<button type="submit" class="primary">' + esc(S.save) + "</button>" +
        (ownTarget(figure, row.scope)
          ? '<button type="button" class="link-button small remove-target" data-scope="' + (row.scope == null ? "" : esc(row.scope)) + '">' +
            esc(S.remove_target.replace("{scope}", row.scope_label)) + "</button>"
          : "") +
        (figure.target_class != null
          ? '<button type="button" class="link-button small remove-target" data-scope="class:' + esc(figure.target_class) + '">' +
            esc(S.remove_target.replace("{scope}", figure.target_scope_label)) + "</button>"
          : "") +
        '<output class="small"></output></form></details>';
    }
    return html + "</article>";
  }
  function drawCards(body) {
    const row = body.rows[0];
    el("i-cards").innerHTML = row
      ? body.definitions.map((def) => card(def, row.indicators[def.code], row)).join("")
      : '<p class="card empty">' + esc(S.no_rows) + "</p>";
  }
  function drawBreakdown(body) {
    const table = el("i-breakdown");
    // One municipality needs no table; but another grouping stays shown (with its "Rows" choice, so the
    // user can come back) even when it has a single row.
    el("i-breakdown-card").hidden = body.rows.length === 0 || (body.rows.length < 2 && rows() === "municipality");
    table.querySelector("thead").innerHTML = "<tr><th>" + esc(S.row_head[rows()]) + "</th>" +
      body.definitions.map((def) => "<th>" + esc(def.name) + "</th>").join("") + "</tr>";
    table.querySelector("tbody").innerHTML = body.rows.map((row) => "<tr><th scope=\"row\">" + esc(row.label) + "</th>" +
      body.definitions.map((def) => {
        const figure = row.indicators[def.code], key = figure.light || "none";
        const title = figure.target != null ? S.target + ": " + fmt(def, figure.target) + " · " + origin(figure, row.scope) : S.light.none;
        const own = ownTarget(figure, row.scope);
        return '<td class="num" data-light="' + key + '" title="' + esc(title) + '"' + (own ? ' data-own-target="1"' : "") +
          (figure.target_class != null ? ' data-target-class="' + esc(figure.target_class) + '"' : "") + ">" + fmt(def, figure.value) +
          (figure.light ? ' <span class="light-icon light-' + key + '" title="' + esc(S.light[key]) + '" aria-label="' + esc(S.light[key]) + '">' + ICON[key] + "</span>" : "") +
          // Where the target was set, visible without hovering (a phone has no title tooltips).
          (figure.target != null ? '<br><span class="muted small cell-origin">' + esc(figure.target_scope_label || S.national) + "</span>" : "") + "</td>";
      }).join("") + "</tr>").join("");
  }
  function drawPeriod(period) {
    const first = period.first_hijri || period.first, last = period.last_hijri || period.last;
    const hijri = period.calendar === "hijri";
    const title = hijri
      ? form.elements.hijri_month.selectedOptions[0].textContent + " " + period.key.slice(0, 4) + (lang === "ar" ? " هـ" : " AH")
      : form.elements.gregorian_month.selectedOptions[0].textContent + " " + period.key.slice(0, 4);
    el("i-period").textContent = title;
    el("i-period-other").textContent = (hijri ? period.first + " – " + period.last : first + " – " + last) +
      " · " + int.format(period.working_days) + " " + S.working_days;
  }
  function clear(message) {
    el("i-cards").innerHTML = "";
    el("i-breakdown").querySelector("thead").innerHTML = "";
    el("i-breakdown").querySelector("tbody").innerHTML = "";
    el("i-breakdown-card").hidden = true;
    el("i-period").textContent = "—";
    el("i-period-other").textContent = "";
    ["i-csv", "i-pdf"].forEach((id) => { el(id).removeAttribute("href"); el(id).setAttribute("aria-disabled", "true"); });
    el("i-error").textContent = message;
    el("i-error").hidden = false;
  }

  async function refresh() {
    const choice = params();
    if (choice.error) { clear(choice.error); finish(); return; }
    const p = choice.params;
    history.replaceState(null, "", "?" + pageQuery(p).toString());
    showRows();
    document.body.classList.add("loading");
    try {
      const total = new URLSearchParams(p); total.set("group_by", "total");
      const each = new URLSearchParams(p); each.set("group_by", rows());
      const [summary, breakdown] = await Promise.all([request("indicators", total), request("indicators", each)]);
      el("i-error").hidden = true;
      drawPeriod(summary.period);
      drawCards(summary);
      drawBreakdown(breakdown);
      el("i-csv").href = API + "indicators.csv?" + each.toString();
      el("i-pdf").href = API + "indicators.pdf?" + each.toString();
      ["i-csv", "i-pdf"].forEach((id) => el(id).removeAttribute("aria-disabled"));
    } catch (error) {
      clear(error.message || S.error);
    } finally {
      document.body.classList.remove("loading");
      finish();
    }
  }
  function finish() { document.body.dataset.loads = String(++loads); }

  /** PUT (set) or DELETE (remove) a target for the form's indicator and scope: "" is national, "class:C"
      a municipality class (national too), else a municipality's or Amanah's id. */
  async function writeTarget(formEl, method, scope) {
    const code = formEl.dataset.code;
    const out = formEl.querySelector("output");
    let url = API + "indicators/targets/" + encodeURIComponent(code), payload;
    const klass = scope.startsWith("class:") ? scope.slice(6) : "";
    if (method === "PUT") {
      const scale = Number(formEl.dataset.scale);
      payload = { target: Number(formEl.elements.target.value) / scale, amber_margin: Number(formEl.elements.amber_margin.value || 0) / scale };
      if (klass) payload.municipality_class = klass;
      else if (scope) payload.municipality = Number(scope);
    } else if (klass) {
      url += "?municipality_class=" + encodeURIComponent(klass);
    } else if (scope) {
      url += "?municipality=" + encodeURIComponent(scope);
    }
    const response = await fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "Accept-Language": lang, "X-CSRFToken": csrf },
      body: payload ? JSON.stringify(payload) : undefined,
    });
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      out.textContent = (body && body.detail) || S.error;
      out.className = "small alert-text";
      return;
    }
    await refresh();
    const again = document.querySelector('.target-form[data-code="' + CSS.escape(code) + '"]');
    if (again) { again.closest("details").open = true; again.querySelector("output").textContent = method === "PUT" ? S.saved : S.removed; }
  }

  form.addEventListener("change", () => { showCalendar(); refresh(); });
  form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  rowsSelect.addEventListener("change", refresh);
  el("i-cards").addEventListener("submit", (event) => {
    if (!event.target.matches(".target-form")) return;
    event.preventDefault();
    writeTarget(event.target, "PUT", event.target.elements.municipality.value);
  });
  el("i-cards").addEventListener("click", (event) => {
    const button = event.target.closest(".remove-target");
    if (!button) return;
    writeTarget(button.closest(".target-form"), "DELETE", button.dataset.scope);
  });
  fromQuery();
  showCalendar();
  showRows();
  refresh();
})();
