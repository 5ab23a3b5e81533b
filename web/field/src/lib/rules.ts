// The checklist's answer rules, as the server applies them (inspections/services/visits.py), so
// the form can show a failing item, demand its photo and pick the outcome before sending.
import type { ChecklistItem, ChecklistVersion, Finding, Outcome } from "./types";

export type AnswerValue = string | number;

export function answerFails(item: ChecklistItem, value: AnswerValue | undefined): boolean {
  if (value === undefined || value === "") return false;
  if (item.answer_type === "yes_no_na") return value === "no";
  if (item.answer_type === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) return false;
    return (item.min_value !== null && value < item.min_value) || (item.max_value !== null && value > item.max_value);
  }
  return item.failing_choices.includes(String(value));
}

/** The items that apply to a shop of this category, open findings' items first (to re-check first). */
export function applicableItems(version: ChecklistVersion, category: string, findings: Finding[] = []): ChecklistItem[] {
  const open = new Set(findings.map((finding) => finding.item_code));
  return version.items
    .filter((item) => item.categories.length === 0 || item.categories.includes(category))
    .sort((a, b) => Number(open.has(b.code)) - Number(open.has(a.code)) || a.position - b.position);
}

export function suggestedOutcome(items: ChecklistItem[], answers: Record<string, AnswerValue>): Outcome {
  return items.some((item) => answerFails(item, answers[item.code])) ? "violations" : "compliant";
}

export interface FormProblem {
  code: string;
  kind: "required" | "photo" | "invalid";
}

/** What stops the visit from being saved: unanswered required items, failing items without their photo. */
export function formProblems(items: ChecklistItem[], answers: Record<string, AnswerValue>, photos: Record<string, unknown[]>, outcome: Outcome): FormProblem[] {
  if (outcome === "closed" || outcome === "refused_entry") return [];
  const problems: FormProblem[] = [];
  for (const item of items) {
    const value = answers[item.code];
    if (value === undefined || value === "") {
      if (item.required) problems.push({ code: item.code, kind: "required" });
      continue;
    }
    if (item.answer_type === "number" && (typeof value !== "number" || !Number.isFinite(value))) {
      problems.push({ code: item.code, kind: "invalid" });
      continue;
    }
    if (answerFails(item, value) && item.photo_required_on_fail && !(photos[item.code]?.length > 0)) {
      problems.push({ code: item.code, kind: "photo" });
    }
  }
  return problems;
}
