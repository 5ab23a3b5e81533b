import { describe, expect, it } from "vitest";
import { cellKey, loadRatio, planGrid, riskColour, topFactors, type PlanRound } from "./plan";

const round = (id: number, inspector: number, date: string, stops: number): PlanRound => ({
  id,
  date,
  inspector_id: inspector,
  inspector_name: `i${inspector}`,
  checklist_id: 1,
  status: "planned",
  is_draft: true,
  tour_length_m: 0,
  stops: Array.from({ length: stops }, (_, index) => ({
    id: id * 100 + index,
    establishment_id: index,
    name_ar: "",
    name_en: "",
    lat: 0,
    lon: 0,
    position: index + 1,
    status: "pending",
    is_follow_up: false,
  })),
});

describe("planGrid", () => {
  it("puts rounds in inspector x day cells and sums the week's load", () => {
    const grid = planGrid([round(1, 7, "2026-12-06", 3), round(2, 7, "2026-12-07", 2), round(3, 8, "2026-12-06", 4)]);
    expect(grid.days).toEqual(["2026-12-06", "2026-12-07"]);
    expect(grid.cells.get(cellKey(8, "2026-12-06"))?.map((r) => r.id)).toEqual([3]);
    expect(grid.loads.get(7)).toBe(5);
    expect(loadRatio(grid)).toBe(1.25);
  });
  it("lists inspectors without rounds so a stop can be dropped on them", () => {
    const grid = planGrid([round(1, 7, "2026-12-06", 3)], [{ id: 9, name: "nine" }]);
    expect(grid.inspectors.map((person) => person.id)).toContain(9);
    expect(loadRatio(grid)).toBe(Infinity);
  });
});

describe("risk display", () => {
  it("colours overdue high-risk shops darkest and explains the top factors", () => {
    expect(riskColour({ risk_class: "high", overdue_days: 3 })).toBe("#8b0000");
    expect(riskColour({ risk_class: "low", overdue_days: 0 })).toBe("#a6bddb");
    const factors = [
      { name: "violations", value: 2, share: 0.5, weight: 40, points: 20 },
      { name: "category", value: 0.1, share: 0.1, weight: 15, points: 1.5 },
      { name: "open_findings", value: 1, share: 0.33, weight: 15, points: 5 },
    ];
    expect(topFactors(factors).map((factor) => factor.name)).toEqual(["violations", "open_findings"]);
    const reported = [...factors, { name: "confirmed_reports", value: 2, share: 0.2, weight: 10, points: 2 }];
    expect(topFactors(reported).map((factor) => factor.name)).toEqual(["violations", "open_findings", "confirmed_reports"]);
  });
});
