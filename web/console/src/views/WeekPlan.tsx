// The week plan: draft next week, review it as an inspector x day grid (load per day and per week),
// drag a shop to another inspector or day, optimise a round's route, then publish (only then do
// the phones see it) or discard.
import { useEffect, useState } from "preact/hooks";
import { gregorian } from "@shared/dates";
import { localized } from "@shared/i18n";
import { api, errorText, useConsole } from "../context";
import { cellKey, loadRatio, planGrid, type PlanRound } from "../plan";

interface Plan {
  id: number;
  week_start: string;
  status: "draft" | "published" | "discarded";
  summary: Record<string, any>;
  rounds: PlanRound[];
}
interface PlanSummary {
  id: number;
  week_start: string;
  status: string;
}

export function WeekPlan() {
  const { t, language, municipalityId } = useConsole();
  const [plan, setPlan] = useState<Plan | null>(null);
  const [inspectors, setInspectors] = useState<{ id: number; name: string }[]>([]);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  async function loadLatest() {
    const page = await api.get<{ items: PlanSummary[] }>("plans", { municipality: municipalityId, limit: 5 });
    const live = page.items.find((item) => item.status !== "discarded");
    setPlan(live ? await api.get<Plan>(`plans/${live.id}`) : null);
  }
  useEffect(() => {
    loadLatest().catch((failure) => setError(errorText(failure)));
    api.get<{ items: { id: number; name: string }[] }>("inspectors", { municipality: municipalityId }).then((page) => setInspectors(page.items));
  }, [municipalityId]);

  async function act(work: () => Promise<void>) {
    setBusy(true);
    setError("");
    try {
      await work();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  }
  const draft = () =>
    act(async () => {
      setPlan(await api.post<Plan>("plans", { municipality_id: municipalityId }));
      setMessage("");
    });
  const publish = () =>
    act(async () => {
      setPlan(await api.post<Plan>(`plans/${plan!.id}/publish`, {}));
      setMessage(t("published"));
    });
  const discard = () =>
    act(async () => {
      await api.post(`plans/${plan!.id}/discard`, {});
      setPlan(null);
    });
  const refresh = async () => setPlan(await api.get<Plan>(`plans/${plan!.id}`));
  const move = (stopId: number, roundId: number) =>
    act(async () => {
      await api.post("stops/move", { stop_id: stopId, to_round_id: roundId });
      await refresh();
    });
  const optimise = (roundId: number) =>
    act(async () => {
      await api.patch(`rounds/${roundId}`, { optimize_route: true });
      await refresh();
    });

  const grid = plan ? planGrid(plan.rounds, inspectors, plan.summary.days ?? []) : null;
  const editable = plan?.status === "draft" || plan?.status === "published";
  return (
    <section class="week">
      <div class="toolbar">
        <h2>{t("week")}</h2>
        {!plan && (
          <button onClick={draft} disabled={busy} data-testid="draft-week">
            {t("draftWeek")}
          </button>
        )}
        {plan && (
          <>
            <span class={`badge status-${plan.status}`} data-testid="plan-status">
              {t(`status_${plan.status}` as any)}
            </span>
            <span>{gregorian(plan.week_start, language)}</span>
            {plan.status === "draft" && (
              <>
                <button onClick={publish} disabled={busy} data-testid="publish-plan">
                  {t("publish")}
                </button>
                <button class="secondary" onClick={discard} disabled={busy}>
                  {t("discard")}
                </button>
              </>
            )}
          </>
        )}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {message && <p class="ok" role="status">{message}</p>}
      {!plan && <p class="muted">{t("noPlan")}</p>}
      {plan && grid && (
        <>
          <p class="summary" data-testid="plan-summary">
            {t("summary", {
              due: plan.summary.due ?? 0,
              planned: plan.summary.planned ?? 0,
              follow_ups: plan.summary.follow_ups ?? 0,
              capacity: plan.summary.capacity ?? 0,
            })}{" "}
            · {t("loadRatio", { ratio: Number.isFinite(loadRatio(grid)) ? loadRatio(grid).toFixed(2) : "∞" })}
          </p>
          {plan.status === "draft" && <p class="muted">{t("dragHint")}</p>}
          <div class="grid" style={{ gridTemplateColumns: `12rem repeat(${grid.days.length}, minmax(9rem, 1fr)) 5rem` }}>
            <div class="head" />
            {grid.days.map((day) => (
              <div class="head" key={day}>
                {new Intl.DateTimeFormat(language === "ar" ? "ar-SA-u-ca-gregory-nu-latn" : "en-GB", { weekday: "long", timeZone: "Asia/Riyadh" }).format(new Date(`${day}T12:00:00+03:00`))}
                <br />
                <small>{gregorian(day, language)}</small>
              </div>
            ))}
            <div class="head">{t("weekLoad")}</div>
            {grid.inspectors.map((person) => (
              <>
                <div class="row-head" key={`h${person.id}`}>
                  {person.name}
                </div>
                {grid.days.map((day) => {
                  const rounds = grid.cells.get(cellKey(person.id, day)) ?? [];
                  const target = rounds[0];
                  return (
                    <div
                      key={cellKey(person.id, day)}
                      class={`cell ${target ? "" : "empty"}`}
                      data-cell={`${person.id}|${day}`}
                      data-round={target?.id}
                      onDragOver={(event) => target && editable && event.preventDefault()}
                      onDrop={(event) => {
                        event.preventDefault();
                        const stopId = Number(event.dataTransfer?.getData("text/plain"));
                        if (target && stopId) void move(stopId, target.id);
                      }}
                    >
                      {rounds.map((round) => (
                        <div class="round" key={round.id}>
                          <div class="round-head">
                            <span>{t("stops", { count: round.stops.length })}</span>
                            <span>{t("km", { km: ((round.tour_length_m ?? 0) / 1000).toFixed(1) })}</span>
                            {editable && (
                              <button class="link small" title={t("optimise")} onClick={() => optimise(round.id)}>
                                ⤳
                              </button>
                            )}
                          </div>
                          <ol>
                            {round.stops.map((stop) => (
                              <li
                                key={stop.id}
                                class={`chip ${stop.is_follow_up ? "follow-up" : ""}`}
                                draggable={editable}
                                data-stop={stop.id}
                                data-establishment={stop.establishment_id}
                                onDragStart={(event) => event.dataTransfer?.setData("text/plain", String(stop.id))}
                              >
                                {localized(stop, "name", language)}
                              </li>
                            ))}
                          </ol>
                        </div>
                      ))}
                    </div>
                  );
                })}
                <div class="load" key={`l${person.id}`} data-load={person.id}>
                  {grid.loads.get(person.id) ?? 0}
                </div>
              </>
            ))}
          </div>
        </>
      )}
    </section>
  );
}
