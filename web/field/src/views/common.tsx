import { gregorian, hijri, time } from "@shared/dates";
import { localized } from "@shared/i18n";
import { state, t } from "../app";
import type { MessageKey } from "../messages";

export function name(record: Record<string, any> | null | undefined): string {
  return localized(record, "name", state.language);
}

/** A day for people: Gregorian and Hijri (Umm al-Qura) side by side. */
export function Day({ value }: { value: string }) {
  return (
    <span class="day">
      {gregorian(value, state.language)} · {hijri(value, state.language)}
    </span>
  );
}

export function clock(value: number | string): string {
  return time(typeof value === "number" ? new Date(value) : value, state.language);
}

export function outcomeLabel(outcome: string): string {
  return t(`outcome_${outcome}` as MessageKey);
}

export function stopStatusLabel(status: string): string {
  return t(`stop_${status}` as MessageKey);
}
