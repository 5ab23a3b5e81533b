/* Umm al-Qura dates from the server's own table (inspections/domain/calendar.py: hijri_table), so the
   dashboard shows exactly the Hijri dates the API, the PDF and the exports show. The browser's
   Intl "islamic-umalqura" calendar is not used: it disagrees with that table outside 2000-2029.
   Outside the table hijriLabel returns "" and the Gregorian date stands alone. */
(function (root) {
  "use strict";
  const RJD_OF_UNIX_EPOCH = 40588; // reduced Julian day (JDN - 2400000) of 1970-01-01

  function hijriParts(table, iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!match || iso < table.first_day || iso > table.last_day) return null;
    const rjd = Math.round(Date.UTC(+match[1], +match[2] - 1, +match[3]) / 86400000) + RJD_OF_UNIX_EPOCH;
    const starts = table.month_starts;
    let low = 0, high = starts.length - 1; // the last entry only closes the last month
    while (high - low > 1) {
      const mid = (low + high) >> 1;
      if (starts[mid] <= rjd) low = mid; else high = mid;
    }
    if (rjd < starts[low] || rjd >= starts[starts.length - 1]) return null;
    const months = low + table.month_offset;
    return { year: Math.floor(months / 12) + 1, month: (months % 12) + 1, day: rjd - starts[low] + 1 };
  }

  function hijriLabel(table, iso) {
    const parts = hijriParts(table, iso);
    return parts ? parts.day + " " + table.months[parts.month - 1] + " " + parts.year + table.suffix : "";
  }

  function isoOfRjd(rjd) {
    return new Date((rjd - RJD_OF_UNIX_EPOCH) * 86400000).toISOString().slice(0, 10);
  }

  /** [first, last] Gregorian days (YYYY-MM-DD) of an Umm al-Qura month, or null outside the table. */
  function monthRange(table, year, month) {
    const index = (year - 1) * 12 + (month - 1) - table.month_offset;
    if (index < 0 || index + 1 >= table.month_starts.length) return null;
    return [isoOfRjd(table.month_starts[index]), isoOfRjd(table.month_starts[index + 1] - 1)];
  }

  const api = { hijriParts: hijriParts, hijriLabel: hijriLabel, monthRange: monthRange };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.JawlaHijri = api;
})(typeof self !== "undefined" ? self : this);
