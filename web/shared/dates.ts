// Dates for people: Asia/Riyadh time, the Gregorian date beside the Hijri (Umm al-Qura) one.
// When the server gives both (e.g. `date_hijri`), show what it gives; Intl's islamic-umalqura
// calendar is the fallback for device-made times.
import type { Language } from "./i18n";

export const TIME_ZONE = "Asia/Riyadh";

const locales: Record<Language, string> = { ar: "ar-SA-u-ca-gregory-nu-latn", en: "en-GB" };

export function gregorian(value: string | Date, language: Language): string {
  const date = typeof value === "string" ? parseDay(value) : value;
  return new Intl.DateTimeFormat(locales[language], {
    timeZone: TIME_ZONE,
    day: "numeric",
    month: "short",
    year: "numeric",
  }).format(date);
}

export function hijri(value: string | Date, language: Language): string {
  const date = typeof value === "string" ? parseDay(value) : value;
  return new Intl.DateTimeFormat(language === "ar" ? "ar-SA-u-ca-islamic-umalqura-nu-latn" : "en-u-ca-islamic-umalqura", {
    timeZone: TIME_ZONE,
    day: "numeric",
    month: "long",
    year: "numeric",
  }).format(date);
}

export function time(value: string | Date, language: Language): string {
  const date = typeof value === "string" ? new Date(value) : value;
  return new Intl.DateTimeFormat(locales[language], { timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit" }).format(date);
}

/** Today's date (YYYY-MM-DD) in Riyadh, whatever the device's zone. */
export function todayInRiyadh(now: Date = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE }).format(now);
}

function parseDay(value: string): Date {
  // A bare date is noon in Riyadh, so no time zone can move it to another day.
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00+03:00`) : new Date(value);
}
