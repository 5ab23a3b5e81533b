// Pure helpers of the planning screens (no DOM): loads per inspector and day, colours by risk and
// overdue, and the short "why" of a shop's score. Unit-tested in plan.test.ts.

export interface PlanStop {
  id: number;
  establishment_id: number;
  name_ar: string;
  name_en: string;
  lat: number;
  lon: number;
  position: number;
  status: string;
  is_follow_up: boolean;
}

export interface PlanRound {
  id: number;
  date: string;
  inspector_id: number;
  inspector_name: string;
  checklist_id: number;
  status: string;
  is_draft: boolean;
  tour_length_m: number | null;
  stops: PlanStop[];
}

export interface Factor {
  name: string;
  value: number;
  share: number;
  weight: number;
  points: number;
}

export interface RiskRow {
  establishment_id: number;
  name_ar: string;
  name_en: string;
  licence_no: string;
  category: string;
  lat: number;
  lon: number;
  score: number;
  risk_class: "high" | "medium" | "low";
  last_inspection: string | null;
  due_date: string;
  overdue_days: number;
  open_findings: number;
  follow_up_due: string | null;
  factors: Factor[];
}

export interface Grid {
  inspectors: { id: number; name: string }[];
  days: string[];
  cells: Map<string, PlanRound[]>; // key `${inspector}|${day}`
  loads: Map<number, number>; // stops per inspector over the week
}

export const cellKey = (inspector: number, day: string) => `${inspector}|${day}`;

/** The week as a grid: one row per inspector, one column per day, the rounds in each cell. */
export function planGrid(rounds: PlanRound[], inspectors: { id: number; name: string }[] = [], days: string[] = []): Grid {
  const people = new Map(inspectors.map((person) => [person.id, person.name]));
  const allDays = new Set(days);
  const cells = new Map<string, PlanRound[]>();
  const loads = new Map<number, number>();
  for (const round of rounds) {
    people.set(round.inspector_id, people.get(round.inspector_id) ?? round.inspector_name);
    allDays.add(round.date);
    const key = cellKey(round.inspector_id, round.date);
    cells.set(key, [...(cells.get(key) ?? []), round]);
    loads.set(round.inspector_id, (loads.get(round.inspector_id) ?? 0) + round.stops.length);
  }
  return {
    inspectors: [...people].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name)),
    days: [...allDays].sort(),
    cells,
    loads,
  };
}

/** max/min of the inspectors' week loads (1 when balanced; Infinity when someone has nothing). */
export function loadRatio(grid: Grid): number {
  const loads = grid.inspectors.map((person) => grid.loads.get(person.id) ?? 0);
  if (loads.length === 0) return 1;
  const low = Math.min(...loads);
  return low === 0 ? (Math.max(...loads) === 0 ? 1 : Infinity) : Math.max(...loads) / low;
}

/** Marker colour: overdue shops darker, by risk class. */
export function riskColour(row: Pick<RiskRow, "risk_class" | "overdue_days">): string {
  const overdue = row.overdue_days > 0;
  if (row.risk_class === "high") return overdue ? "#8b0000" : "#d7301f";
  if (row.risk_class === "medium") return overdue ? "#b35806" : "#fdae61";
  return overdue ? "#2c7fb8" : "#a6bddb";
}

/** The five factors every score has (inspections.domain.risk); any other comes from another app
 * through RISK_EXTRA_FACTORS (e.g. confirmed_reports: public reports an inspection confirmed). */
export const BASE_FACTORS = ["violations", "time_since_inspection", "category", "licence_age", "open_findings"];

/** The factors that weigh most in a score, largest first (what the queue shows as "why"), and every
 * extra factor that adds points, however small: it is news to the supervisor (a confirmed report). */
export function topFactors(factors: Factor[], count = 2): Factor[] {
  const weighing = [...factors].filter((factor) => factor.points > 0.05).sort((a, b) => b.points - a.points);
  const top = weighing.slice(0, count);
  const extras = weighing.filter((factor) => !BASE_FACTORS.includes(factor.name) && !top.includes(factor));
  return [...top, ...extras];
}
