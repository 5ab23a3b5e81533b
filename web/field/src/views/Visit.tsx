import { useEffect, useMemo, useState } from "preact/hooks";
import { api, config, db, requestBackgroundSync, sendNow, showToast, state, t, useLive } from "../app";
import type { OutboxPhoto, OutboxVisit, ShopCard } from "../lib/db";
import { bestFix, currentFix, distanceM } from "../lib/geo";
import { newClientId, resubmitVisit, saveVisit } from "../lib/outbox";
import { resizePhoto } from "../lib/photo";
import { type AnswerValue, answerFails, applicableItems, formProblems, suggestedOutcome } from "../lib/rules";
import { fetchShopCard, refreshChecklist } from "../lib/sync";
import type { ChecklistItem, ChecklistVersion, EstablishmentBrief, Fix, Outcome, Round, Stop } from "../lib/types";
import type { MessageKey } from "../messages";
import { Day, name, outcomeLabel } from "./common";
import { Icon } from "./icons";

interface Props {
  stopId?: number;
  establishmentId?: number;
  versionId?: number;
  fixClientId?: string;
}

interface Context {
  shop: EstablishmentBrief;
  stop: Stop | null;
  round: Round | null;
  version: ChecklistVersion | null;
  card: ShopCard | null;
  existing: OutboxVisit | null;
}

type PhotoDraft = { client_id: string; blob: Blob; width: number; height: number; url: string };

async function loadContext(props: Props): Promise<Context | null> {
  if (props.fixClientId) {
    const existing = (await db.outbox.where("client_id").equals(props.fixClientId).first()) ?? null;
    if (!existing) return null;
    const card = (await db.shops.get(existing.payload.establishment_id)) ?? null;
    const round = existing.round_id ? ((await db.rounds.get(existing.round_id)) ?? null) : null;
    const stop = round?.stops.find((candidate) => candidate.id === existing.stop_id) ?? null;
    let version = (await db.versions.get(existing.payload.checklist_version_id)) ?? null;
    // A visit refused because its checklist version was retired is fixed on the current one.
    if (existing.rejection?.errors.some((error) => error.type === "retired_version") && version) {
      const current = (await db.versions.where("checklist_id").equals(version.checklist_id).toArray()).sort((a, b) => b.number - a.number)[0];
      version = current ?? version;
    }
    const shop = card?.establishment ?? stop?.establishment ?? { id: existing.payload.establishment_id, name_ar: existing.shop.name_ar, name_en: existing.shop.name_en, category: "", licence_no: "", address: "", lat: 0, lon: 0 };
    return { shop, stop, round, version, card, existing };
  }
  if (props.stopId) {
    const rounds = await db.rounds.toArray();
    for (const round of rounds) {
      const stop = round.stops.find((candidate) => candidate.id === props.stopId);
      if (stop) {
        const version = round.checklist_version_id ? ((await db.versions.get(round.checklist_version_id)) ?? null) : null;
        return { shop: stop.establishment, stop, round, version, card: (await db.shops.get(stop.establishment.id)) ?? null, existing: null };
      }
    }
    return null;
  }
  const card = (await db.shops.get(props.establishmentId!)) ?? null;
  if (!card?.establishment) return null;
  return { shop: card.establishment, stop: null, round: null, version: (await db.versions.get(props.versionId!)) ?? null, card, existing: null };
}

/** Fixing a refused visit: fetch what the server knows now (the shop's category may have been
 * corrected, the checklist republished) before the form opens; offline, the cached copies serve. */
async function refreshForFix(clientId: string): Promise<void> {
  const existing = await db.outbox.where("client_id").equals(clientId).first();
  if (!existing) return;
  await fetchShopCard(api, existing.payload.establishment_id)
    .then((card) => db.shops.put(card))
    .catch(() => undefined);
  const version = await db.versions.get(existing.payload.checklist_version_id);
  if (version && existing.rejection?.errors.some((error) => error.type === "retired_version")) {
    await refreshChecklist(db, api, version.checklist_id).catch(() => undefined);
  }
}

export function VisitView(props: Props) {
  const [ready, setReady] = useState(!props.fixClientId);
  useEffect(() => {
    if (props.fixClientId) void refreshForFix(props.fixClientId).finally(() => setReady(true));
  }, []);
  const context = useLive(() => (ready ? loadContext(props) : Promise.resolve(undefined)), [ready], undefined);
  if (!ready) return <p class="muted">…</p>;
  if (context === undefined) return <p class="muted">…</p>;
  if (context === null || !context.version) return <p class="card error">{t("checklist_missing")}</p>;
  return <VisitForm context={context as Context & { version: ChecklistVersion }} />;
}

function VisitForm({ context }: { context: Context & { version: ChecklistVersion } }) {
  const { shop, version, card, existing } = context;
  const category = card?.establishment?.category ?? shop.category;
  const findings = card?.open_findings ?? [];
  const items = useMemo(() => applicableItems(version, category, findings), [version, category]);
  const openCodes = new Set(findings.map((finding) => finding.item_code));

  const [startedAt] = useState(() => existing?.payload.started_at ?? new Date().toISOString());
  const [startFix, setStartFix] = useState<Fix | null | undefined>(existing ? existing.fixes.start : undefined);
  const [answers, setAnswers] = useState<Record<string, AnswerValue>>(() => Object.fromEntries((existing?.payload.answers ?? []).map((answer) => [answer.item_code, answer.value])));
  const [photos, setPhotos] = useState<Record<string, PhotoDraft[]>>({});
  const [outcomeChoice, setOutcomeChoice] = useState<Outcome | null>(existing && ["closed", "refused_entry"].includes(existing.payload.outcome) ? existing.payload.outcome : null);
  const [notes, setNotes] = useState(existing?.payload.notes ?? "");
  const [warnings, setWarnings] = useState<string[] | null>(null);
  const [pendingEnd, setPendingEnd] = useState<Fix | null>(null);
  const [showProblems, setShowProblems] = useState(false);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (startFix === undefined) void currentFix().then(setStartFix);
  }, []);

  const outcome: Outcome = outcomeChoice ?? suggestedOutcome(items, answers);
  const problems = formProblems(items, answers, photos, outcome);

  function answer(code: string, value: AnswerValue | undefined) {
    setAnswers((current) => {
      const next = { ...current };
      if (value === undefined) delete next[code];
      else next[code] = value;
      return next;
    });
  }

  async function addPhoto(code: string, files: FileList | null) {
    if (!files) return;
    const added: PhotoDraft[] = [];
    for (const file of Array.from(files)) {
      const resized = await resizePhoto(file);
      added.push({ client_id: newClientId(), ...resized, url: URL.createObjectURL(resized.blob) });
    }
    setPhotos((current) => ({ ...current, [code]: [...(current[code] ?? []), ...added] }));
  }

  async function save() {
    if (problems.length) {
      setShowProblems(true);
      return;
    }
    setSaving(true);
    const endFix = await currentFix(8_000);
    const settings = await config();
    const found: string[] = [];
    const fix = bestFix(startFix ?? null, endFix);
    const lowAccuracy = settings?.geo_low_accuracy_m ?? 100;
    const maxDistance = settings?.geo_verified_max_distance_m ?? 150;
    if (!fix) found.push(t("warn_no_fix"));
    else {
      if (fix.accuracy_m > lowAccuracy) found.push(t("warn_accuracy", { accuracy: Math.round(fix.accuracy_m), limit: lowAccuracy }));
      const distance = shop.lat || shop.lon ? distanceM(fix, shop) : 0;
      if (distance > maxDistance) found.push(t("warn_far", { distance: Math.round(distance), limit: maxDistance }));
    }
    setSaving(false);
    if (found.length) {
      setPendingEnd(endFix);
      setWarnings(found);
      return;
    }
    await store(endFix);
  }

  async function store(endFix: Fix | null) {
    setSaving(true);
    const fix = bestFix(startFix ?? null, endFix);
    const clientId = existing?.client_id ?? newClientId();
    const closedOrRefused = outcome === "closed" || outcome === "refused_entry";
    const payload = {
      client_id: clientId,
      establishment_id: shop.id,
      round_stop_id: context.stop && context.stop.status !== "cancelled" ? context.stop.id : null,
      checklist_version_id: version.id,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      location: fix ? { lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m } : null,
      outcome,
      answers: items
        .filter((item) => answers[item.code] !== undefined && answers[item.code] !== "")
        .filter((item) => !closedOrRefused || !answerFails(item, answers[item.code]))
        .map((item) => ({ item_code: item.code, value: answers[item.code] })),
      notes,
    };
    const photoRows: Omit<OutboxPhoto, "seq" | "status" | "attempts" | "next_attempt_at" | "last_error" | "photo_id">[] = Object.entries(photos).flatMap(([code, drafts]) =>
      drafts.map((draft) => ({ client_id: draft.client_id, visit_client_id: clientId, item_code: code === "_visit" ? null : code, blob: draft.blob, width: draft.width, height: draft.height, saved_at: Date.now() })),
    );
    if (existing) {
      await resubmitVisit(db, clientId, payload, photoRows);
    } else {
      await saveVisit(db, { client_id: clientId, payload, saved_at: Date.now(), shop: { name_ar: shop.name_ar, name_en: shop.name_en }, round_id: context.round?.id ?? null, stop_id: context.stop?.id ?? null, fixes: { start: startFix ?? null, end: endFix } }, photoRows);
    }
    showToast(t("saved"));
    // A new visit at an open shop goes on to the manager's signature (or "Later"); a fixed one back
    // to the outbox it came from.
    location.hash = existing ? "#/outbox" : closedOrRefused ? "#/rounds" : `#/ack/${clientId}`;
    void requestBackgroundSync();
    void sendNow();
  }

  const severity = (item: ChecklistItem) => t(`severity_${item.severity}` as MessageKey);

  return (
    <section class="visit" aria-labelledby="shop-title">
      <article class="card shop-card" data-testid="shop-card">
        <h2 id="shop-title">{name(shop)}</h2>
        <p class="muted">
          {card?.establishment ? name({ name_ar: card.establishment.category_name_ar, name_en: card.establishment.category_name_en }) : shop.category} · {t("shop_licence", { licence: shop.licence_no })}
        </p>
        <p data-testid="last-result">
          {card?.last_visit ? (
            <>
              {t("last_result", { outcome: outcomeLabel(card.last_visit.effective_outcome), date: "" })}
              <Day value={card.last_visit.finished_at} />
            </>
          ) : (
            t("no_last_result")
          )}
        </p>
        {findings.length > 0 && (
          <div class="findings" data-testid="open-findings">
            <h3>{t("open_findings", { count: findings.length })}</h3>
            <ul>
              {findings.map((finding) => (
                <li>
                  <strong>{finding.item_code}</strong> · {t(`severity_${finding.severity}` as MessageKey)} · {t("due", { date: "" })}
                  <Day value={finding.due_date} />
                </li>
              ))}
            </ul>
          </div>
        )}
        <p class="gps" data-testid="gps-start">
          {t("gps_start")}:{" "}
          {startFix === undefined ? t("gps_waiting") : startFix === null ? t("gps_none") : t("gps_fix", { accuracy: Math.round(startFix.accuracy_m), distance: Math.round(distanceM(startFix, shop)) })}
        </p>
      </article>

      {existing?.rejection && (
        <p class="banner danger" role="alert">
          {existing.rejection.message}
        </p>
      )}

      <fieldset class="card outcome">
        <legend>{t("outcome")}</legend>
        <div class="segmented">
          {(["compliant", "violations", "closed", "refused_entry"] as Outcome[]).map((value) => (
            <button type="button" aria-pressed={outcome === value} class={outcome === value ? "selected" : ""} onClick={() => setOutcomeChoice(value === "compliant" || value === "violations" ? null : outcomeChoice === value ? null : value)} disabled={(value === "compliant" || value === "violations") && suggestedOutcome(items, answers) !== value}>
              {outcomeLabel(value)}
            </button>
          ))}
        </div>
      </fieldset>

      {outcome !== "closed" && outcome !== "refused_entry" && (
        <ol class="items">
          {items.map((item) => {
            const value = answers[item.code];
            const failing = answerFails(item, value);
            const needsPhoto = failing && item.photo_required_on_fail;
            return (
              <li class={`card item ${failing ? "failing" : ""}`} data-testid={`item-${item.code}`} data-failing={failing ? "true" : "false"}>
                <div class="item-head">
                  <span class="code">{item.code}</span>
                  {openCodes.has(item.code) && <span class="chip recheck">{t("recheck")}</span>}
                  {item.required && <span class="chip">{t("required")}</span>}
                  <span class={`chip sev-${item.severity}`}>{severity(item)}</span>
                </div>
                <p class="item-text" id={`text-${item.code}`}>
                  {state.language === "ar" ? item.text_ar : item.text_en}
                </p>
                <ItemInput item={item} value={value} onChange={(next) => answer(item.code, next)} />
                {failing && (
                  <p class="fails">
                    {t("fails")} · {t("fine", { amount: Number(item.fine_sar).toLocaleString(state.language === "ar" ? "ar-SA-u-nu-latn" : "en") })}
                  </p>
                )}
                {(failing || (photos[item.code]?.length ?? 0) > 0) && (
                  <PhotoInput code={item.code} required={needsPhoto} drafts={photos[item.code] ?? []} onFiles={(files) => void addPhoto(item.code, files)} />
                )}
              </li>
            );
          })}
        </ol>
      )}

      <div class="card">
        <PhotoInput code="_visit" required={false} drafts={photos._visit ?? []} onFiles={(files) => void addPhoto("_visit", files)} label={t("visit_photos")} />
        <label>
          {t("notes")}
          <textarea rows={3} value={notes} onInput={(event) => setNotes(event.currentTarget.value)} name="notes" />
        </label>
      </div>

      {showProblems && problems.length > 0 && (
        <div class="banner danger" role="alert" data-testid="problems">
          <p>{t("problems")}</p>
          <ul>
            {problems.map((problem) => (
              <li>{t(`problem_${problem.kind}` as MessageKey, { code: problem.code })}</li>
            ))}
          </ul>
        </div>
      )}

      <div class="save-bar">
        <button type="button" class="primary big" onClick={() => void save()} disabled={saving} data-testid="save-visit">
          {t("save_visit")}
        </button>
      </div>

      {warnings && (
        <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="warnings-title" data-testid="warnings">
          <div class="card">
            <h2 id="warnings-title">{t("warnings_title")}</h2>
            <ul>
              {warnings.map((warning) => (
                <li>{warning}</li>
              ))}
            </ul>
            <div class="row">
              <button type="button" class="primary" onClick={() => (setWarnings(null), void store(pendingEnd))} data-testid="save-anyway">
                {t("save_anyway")}
              </button>
              <button type="button" class="secondary" onClick={() => setWarnings(null)}>
                {t("back")}
              </button>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}

function ItemInput({ item, value, onChange }: { item: ChecklistItem; value: AnswerValue | undefined; onChange: (value: AnswerValue | undefined) => void }) {
  if (item.answer_type === "number") {
    const range = [item.min_value ?? "", item.max_value ?? ""].join(" – ");
    return (
      <label class="number">
        <span class="muted">
          {t("range", { range: "" })}
          <bdi class="ltr">
            {range} {item.unit}
          </bdi>
        </span>
        <span class="number-row">
          <input type="number" inputMode="decimal" step="any" aria-labelledby={`text-${item.code}`} value={typeof value === "number" ? value : ""} onInput={(event) => onChange(event.currentTarget.value === "" ? undefined : Number(event.currentTarget.value))} name={item.code} />
          <bdi class="unit ltr">{item.unit}</bdi>
        </span>
      </label>
    );
  }
  const options =
    item.answer_type === "yes_no_na"
      ? [
          { value: "yes", label: t("answer_yes") },
          { value: "no", label: t("answer_no") },
          { value: "na", label: t("answer_na") },
        ]
      : (item.choice_options ?? item.choices.map((choice) => ({ value: choice, label_ar: choice, label_en: choice, fails: item.failing_choices.includes(choice) }))).map((option) => ({
          value: option.value,
          label: state.language === "ar" ? option.label_ar : option.label_en,
        }));
  return (
    <div class="segmented" role="group" aria-labelledby={`text-${item.code}`}>
      {options.map((option) => (
        <button type="button" aria-pressed={value === option.value} class={value === option.value ? "selected" : ""} onClick={() => onChange(value === option.value ? undefined : option.value)} data-value={option.value}>
          {option.label}
        </button>
      ))}
    </div>
  );
}

function PhotoInput({ code, required, drafts, onFiles, label }: { code: string; required: boolean; drafts: PhotoDraft[]; onFiles: (files: FileList | null) => void; label?: string }) {
  return (
    <div class={`photos ${required && drafts.length === 0 ? "missing" : ""}`}>
      {required && drafts.length === 0 && <p class="error">{t("photo_required")}</p>}
      <label class="button secondary photo-button">
        <Icon name="camera" /> {label ?? t("add_photo")}
        <input type="file" accept="image/*" capture="environment" multiple class="visually-hidden" data-testid={`photo-${code}`} onChange={(event) => onFiles(event.currentTarget.files)} />
      </label>
      {drafts.length > 0 && (
        <div class="thumbs">
          {drafts.map((draft) => (
            <img src={draft.url} alt="" width={64} height={64} data-width={draft.width} data-height={draft.height} />
          ))}
          <span class="muted">{t("photos_count", { count: drafts.length })}</span>
        </div>
      )}
    </div>
  );
}

