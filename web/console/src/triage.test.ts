import { describe, expect, it } from "vitest";
import { caseAge, tomorrowInRiyadh } from "./triage";

const t = (key: string, vars?: Record<string, number>) => (vars ? `${key}:${vars.count}` : key);

describe("public reports", () => {
  it("says a case's age in minutes, hours, then days", () => {
    const now = new Date("2026-11-30T12:00:00Z");
    expect(caseAge("2026-11-30T11:48:00Z", t, now)).toBe("ageMinutes:12");
    expect(caseAge("2026-11-30T07:00:00Z", t, now)).toBe("ageHours:5");
    expect(caseAge("2026-11-27T06:00:00Z", t, now)).toBe("ageDays:3");
    expect(caseAge("2026-11-30T11:59:30Z", t, now)).toBe("ageNow");
    expect(caseAge("2026-11-30T12:05:00Z", t, now)).toBe("ageNow"); // a clock ahead is not negative
  });
  it("defaults the round to tomorrow in Riyadh, whatever the device's zone", () => {
    expect(tomorrowInRiyadh(new Date("2026-11-30T20:59:00Z"))).toBe("2026-12-01"); // 23:59 in Riyadh
    expect(tomorrowInRiyadh(new Date("2026-11-30T21:01:00Z"))).toBe("2026-12-02"); // 00:01 next day
    expect(tomorrowInRiyadh(new Date("2026-12-31T10:00:00Z"))).toBe("2027-01-01");
  });
});
