// Public reports: the triage queue of community cases (Open311), ranked as the API ranks them
// (volunteers' reports first, then the most reported, then the oldest). Each case is added to a
// round (an inspector's round on a day, tomorrow by default: the existing one, or a new one) or
// dismissed with a reason; its status then follows the stop and the visit.
import { useEffect, useState } from "preact/hooks";
import { gregorian, todayInRiyadh } from "@shared/dates";
import { localized } from "@shared/i18n";
import { api, errorText, useConsole } from "../context";
import { useRoundChoices } from "../roundChoices";
import { caseAge, tomorrowInRiyadh, type CaseState } from "../triage";

export interface CommunityCase {
  id: number;
  service_code: string;
  service_name_ar: string;
  service_name_en: string;
  establishment_id: number | null;
  establishment_name_ar: string | null;
  establishment_name_en: string | null;
  municipality_id: number;
  lat: number;
  long: number;
  description: string;
  state: CaseState;
  reporters: number;
  volunteers: number;
  opened_at: string;
  round_id: number | null;
  round_date: string | null;
  inspector_name: string | null;
  inspection_outcome: string | null;
  violation_count: number | null;
  dismissed_reason: string;
  photo_url: string | null;
}
interface RoundSummary {
  id: number;
  status: string;
  checklist_id: number;
}
interface Nearby {
  id: number;
  name_ar: string;
  name_en: string;
  distance_m?: number;
}

const STATES: CaseState[] = ["new", "acknowledged", "in_progress", "closed", "dismissed"];

export function Triage() {
  const { t, language, municipalityId } = useConsole();
  const [state, setState] = useState<CaseState>("new");
  const [cases, setCases] = useState<CommunityCase[]>([]);
  const [count, setCount] = useState(0);
  const { inspectors, checklists } = useRoundChoices(municipalityId);
  const [open, setOpen] = useState<{ id: number; action: "triage" | "dismiss" } | null>(null);
  const [nearby, setNearby] = useState<Nearby[]>([]);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");

  async function load() {
    try {
      const page = await api.get<{ items: CommunityCase[]; count: number }>("community/cases", {
        state,
        municipality: municipalityId,
        limit: 200,
      });
      setCases(page.items);
      setCount(page.count);
      setError("");
    } catch (failure) {
      setError(errorText(failure));
    }
  }
  useEffect(() => {
    load();
  }, [municipalityId, state]);

  function choose(item: CommunityCase, action: "triage" | "dismiss") {
    setOpen({ id: item.id, action });
    setMessage("");
    setNearby([]);
    if (action === "triage" && item.establishment_id === null) {
      api
        .get<{ items: Nearby[] }>("establishments", { near: `${item.lat},${item.long}`, radius_m: 500, municipality: item.municipality_id, limit: 20 })
        .then((page) => setNearby(page.items), (failure) => setError(errorText(failure)));
    }
  }

  function replace(updated: CommunityCase) {
    setCases((current) => current.map((item) => (item.id === updated.id ? updated : item)));
  }

  async function triage(event: Event, item: CommunityCase) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const inspectorId = Number(form.get("inspector"));
    const date = String(form.get("date"));
    const checklistId = Number(form.get("checklist"));
    setBusy(true);
    try {
      // The inspector's round on that day if there is one that still takes stops, else a new round.
      const rounds = await api.get<{ items: RoundSummary[] }>("rounds", { municipality: municipalityId, inspector: inspectorId, date, limit: 20 });
      const usable = rounds.items.find((round) => round.status === "planned" || round.status === "in_progress");
      const body: Record<string, unknown> = usable
        ? { round_id: usable.id }
        : { inspector_id: inspectorId, date, checklist_id: checklistId };
      if (item.establishment_id === null) body.establishment_id = Number(form.get("establishment"));
      const updated = await api.post<CommunityCase>(`community/cases/${item.id}/triage`, body);
      replace(updated);
      setOpen(null);
      setMessage(t("triaged", { id: item.id, inspector: updated.inspector_name ?? "", date: gregorian(date, language) }));
      setError("");
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  }

  async function dismiss(event: Event, item: CommunityCase) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    setBusy(true);
    try {
      await api.post<CommunityCase>(`community/cases/${item.id}/dismiss`, { reason: String(form.get("reason") ?? "") });
      // A dismissed case leaves the queue (it is under "dismissed", with its reason).
      setCases((current) => current.filter((other) => other.id !== item.id));
      setCount((current) => Math.max(current - 1, 0));
      setOpen(null);
      setMessage(t("dismissedCase", { id: item.id }));
      setError("");
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="triage">
      <div class="toolbar">
        <h2>{t("triage")}</h2>
        <span class="muted" data-testid="case-count">
          {t("caseCount", { count })}
        </span>
        <div class="states" role="group" aria-label={t("caseState")}>
          {STATES.map((name) => (
            <button
              key={name}
              class={`link ${state === name ? "active" : ""}`}
              aria-pressed={state === name}
              data-state={name}
              onClick={() => {
                setOpen(null);
                setMessage("");
                setState(name);
              }}
            >
              {t(`case_${name}`)}
            </button>
          ))}
        </div>
        <button class="secondary small" onClick={load}>
          {t("refresh")}
        </button>
      </div>
      {state === "new" && <p class="muted">{t("triageHint")}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {message && <p class="ok" role="status">{message}</p>}
      {!cases.length && <p class="muted">{t("nothing")}</p>}
      <ol class="case-list">
        {cases.map((item, index) => (
          <li key={item.id} class={`card case state-${item.state}`} data-case={item.id}>
            <div class="case-photo">
              {item.photo_url ? (
                <a href={item.photo_url} target="_blank" rel="noopener">
                  <img src={item.photo_url} alt={t("photoOf", { id: item.id })} loading="lazy" width={96} height={96} />
                </a>
              ) : (
                <span class="no-photo" aria-label={t("noPhoto")}>
                  {t("noPhoto")}
                </span>
              )}
            </div>
            <div class="case-body">
              <div class="case-head">
                {state === "new" && <span class="rank">{index + 1}</span>}
                <strong>{localized(item, "service_name", language) || item.service_code}</strong>
                <span class={`badge case-state state-${item.state}`} data-testid="case-state" data-state={item.state}>
                  {t(`case_${item.state}`)}
                </span>
                {item.volunteers > 0 && <span class="badge volunteer">{t("volunteerReport", { count: item.volunteers })}</span>}
                <span class="muted">#{item.id}</span>
              </div>
              <div class="case-where">
                {item.establishment_id ? (
                  <span>{localized(item, "establishment_name", language)}</span>
                ) : (
                  <span class="muted">{t("location", { lat: item.lat.toFixed(5), lon: item.long.toFixed(5) })}</span>
                )}
              </div>
              <div class="case-meta muted">
                <span data-testid="reporters">{t("reporters", { count: item.reporters })}</span>
                <span>·</span>
                <span title={item.opened_at}>{caseAge(item.opened_at, t)}</span>
              </div>
              {item.description && (
                <p class="case-text" dir="auto">
                  {item.description}
                </p>
              )}
              <CaseStatus item={item} />
              {item.state === "new" && open?.id !== item.id && (
                <div class="actions">
                  <button data-testid="add-to-round" onClick={() => choose(item, "triage")}>
                    {t("addToRound")}
                  </button>
                  <button class="warn" data-testid="dismiss" onClick={() => choose(item, "dismiss")}>
                    {t("dismiss")}
                  </button>
                </div>
              )}
              {open?.id === item.id && open.action === "triage" && (
                <form class="decide triage-form" onSubmit={(event) => triage(event, item)}>
                  <label>
                    {t("inspector")}
                    <select name="inspector" required>
                      {inspectors.map((person) => (
                        <option key={person.id} value={person.id}>
                          {person.name}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label>
                    {t("date")}
                    <input name="date" type="date" required min={todayInRiyadh()} value={tomorrowInRiyadh()} />
                  </label>
                  <label>
                    {t("checklist")}
                    <select name="checklist" required>
                      {checklists.map((checklist) => (
                        <option key={checklist.id} value={checklist.id}>
                          {localized(checklist, "name", language)}
                        </option>
                      ))}
                    </select>
                  </label>
                  {item.establishment_id === null && (
                    <label>
                      {t("establishment")}
                      <select name="establishment" required>
                        {nearby.map((place) => (
                          <option key={place.id} value={place.id}>
                            {localized(place, "name", language)}
                            {place.distance_m != null ? ` (${t("metres", { m: Math.round(place.distance_m) })})` : ""}
                          </option>
                        ))}
                      </select>
                    </label>
                  )}
                  <p class="muted hint">{t("roundHint")}</p>
                  <button type="submit" disabled={busy}>
                    {t("confirm")}
                  </button>
                  <button type="button" class="secondary" onClick={() => setOpen(null)}>
                    {t("cancel")}
                  </button>
                </form>
              )}
              {open?.id === item.id && open.action === "dismiss" && (
                <form class="decide" onSubmit={(event) => dismiss(event, item)}>
                  <label class="grow">
                    {t("reason")} <textarea name="reason" required rows={2} maxLength={2000} />
                  </label>
                  <button type="submit" class="warn" disabled={busy}>
                    {t("dismiss")}
                  </button>
                  <button type="button" class="secondary" onClick={() => setOpen(null)}>
                    {t("cancel")}
                  </button>
                </form>
              )}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

function CaseStatus({ item }: { item: CommunityCase }) {
  const { t, language } = useConsole();
  if (item.state === "acknowledged" || item.state === "in_progress") {
    return (
      <p class="case-status" data-testid="case-round" data-round={item.round_id ?? ""}>
        {t("inRound", { round: item.round_id ?? "", inspector: item.inspector_name ?? "", date: item.round_date ? gregorian(item.round_date, language) : "" })}
      </p>
    );
  }
  if (item.state === "closed") {
    return (
      <p class="case-status">
        {t("inspected", {
          outcome: item.inspection_outcome ? t(`outcome_${item.inspection_outcome}` as any) : "",
          violations: item.violation_count ?? 0,
        })}
      </p>
    );
  }
  if (item.state === "dismissed") {
    return <p class="case-status">{t("dismissedBecause", { reason: item.dismissed_reason })}</p>;
  }
  return null;
}
