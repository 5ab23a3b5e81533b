// Pure helpers of the public-reports screen (no DOM): a case's age in words and tomorrow in Riyadh
// (the default day of the round a case is added to). Unit-tested in triage.test.ts.
import { todayInRiyadh } from "@shared/dates";

export type CaseState = "new" | "acknowledged" | "in_progress" | "closed" | "dismissed";

type Translate = (key: "ageNow" | "ageMinutes" | "ageHours" | "ageDays", vars?: Record<string, number>) => string;

/** "just now" / "12 minutes" / "5 hours" / "3 days" since `opened` (never negative). */
export function caseAge(opened: string, t: Translate, now: Date = new Date()): string {
  const minutes = Math.max(Math.floor((now.getTime() - new Date(opened).getTime()) / 60_000), 0);
  if (minutes < 1) return t("ageNow");
  if (minutes < 60) return t("ageMinutes", { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t("ageHours", { count: hours });
  return t("ageDays", { count: Math.floor(hours / 24) });
}

/** Tomorrow's date (YYYY-MM-DD) in Riyadh, whatever the device's zone. */
export function tomorrowInRiyadh(now: Date = new Date()): string {
  const today = todayInRiyadh(now);
  const noon = new Date(`${today}T12:00:00+03:00`);
  return todayInRiyadh(new Date(noon.getTime() + 24 * 3600 * 1000));
}
