// A shop's card in the app (opened from its shop-front QR, a link or a typed code): name, category,
// licence, address, the last result and the open findings, and "start a visit". Shown from the copy
// on the phone at once and refreshed from the API when there is a connection.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "@shared/api";
import { api, db, t, useLive } from "../app";
import { fetchShopCard } from "../lib/sync";
import type { ChecklistVersion, Establishment } from "../lib/types";
import type { MessageKey } from "../messages";
import { Day, name, outcomeLabel } from "./common";

interface ChecklistSummary {
  id: number;
  name_ar: string;
  name_en: string;
  published_version: { id: number } | null;
}

export function ShopView({ establishmentId }: { establishmentId: number }) {
  const found = useLive(async () => ({ card: (await db.shops.get(establishmentId)) ?? null }), [establishmentId], undefined);
  const [refreshing, setRefreshing] = useState(true);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetchShopCard(api, establishmentId)
      .then((card) => db.shops.put(card))
      .catch((caught) => setError(caught instanceof ApiError && caught.network ? null : caught instanceof ApiError && caught.status === 404 ? t("shop_not_found") : String((caught as Error).message)))
      .finally(() => setRefreshing(false));
  }, [establishmentId]);

  const shop = found?.card?.establishment;
  if (!shop) {
    if (found === undefined || refreshing) return <p class="muted">…</p>;
    return <p class="card error" role="alert">{error ?? t("shop_not_cached")}</p>;
  }
  const card = found!.card!;
  return (
    <section class="shop" aria-labelledby="shop-title" data-testid="shop-view" data-establishment-id={shop.id}>
      <article class="card shop-card">
        <h2 id="shop-title">{name(shop)}</h2>
        <p class="muted">
          {name({ name_ar: shop.category_name_ar, name_en: shop.category_name_en })} · {t("shop_licence", { licence: shop.licence_no })}
        </p>
        {shop.address && <p class="muted">{shop.address}</p>}
        <p data-testid="last-result">
          {card.last_visit ? (
            <>
              {t("last_result", { outcome: outcomeLabel(card.last_visit.effective_outcome), date: "" })}
              <Day value={card.last_visit.finished_at} />
            </>
          ) : (
            t("no_last_result")
          )}
        </p>
        {card.open_findings.length > 0 && (
          <div class="findings" data-testid="open-findings">
            <h3>{t("open_findings", { count: card.open_findings.length })}</h3>
            <ul>
              {card.open_findings.map((finding) => (
                <li>
                  <strong>{finding.item_code}</strong> · {t(`severity_${finding.severity}` as MessageKey)} · {t("due", { date: "" })}
                  <Day value={finding.due_date} />
                </li>
              ))}
            </ul>
          </div>
        )}
      </article>
      {error && <p class="error">{error}</p>}
      <StartVisit shop={shop} />
      <a class="button wide" href="#/scan" data-testid="scan-again">
        {t("scan_again")}
      </a>
    </section>
  );
}

/** "Start a visit" at a shop off the round: the published checklist for its category (a choice when
 * there are several), cached on the phone, then the visit form. */
function StartVisit({ shop }: { shop: Establishment }) {
  const [choices, setChoices] = useState<ChecklistSummary[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function open(checklist: ChecklistSummary) {
    const versionId = checklist.published_version!.id;
    if (!(await db.versions.get(versionId))) await db.versions.put(await api.get<ChecklistVersion>(`checklists/versions/${versionId}`));
    location.hash = `#/visit/shop/${shop.id}/${versionId}`;
  }

  async function start() {
    setBusy(true);
    setError(null);
    try {
      const page = await api.get<{ items: ChecklistSummary[] }>("checklists", { category: shop.category, published: "true" });
      const published = page.items.filter((checklist) => checklist.published_version);
      if (published.length === 1) await open(published[0]);
      else setChoices(published);
    } catch (caught) {
      setError(caught instanceof ApiError && caught.network ? t("search_offline") : String((caught as Error).message));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <button type="button" class="primary big" onClick={() => void start()} disabled={busy} data-testid="shop-start-visit">
        {t("start_visit")}
      </button>
      {error && <p class="error">{error}</p>}
      {choices && (
        <div class="card">
          <h3>{t("choose_checklist")}</h3>
          {choices.length === 0 && <p class="muted">{t("no_checklist")}</p>}
          {choices.map((checklist) => (
            <button type="button" class="secondary wide" onClick={() => void open(checklist)}>
              {name(checklist)}
            </button>
          ))}
        </div>
      )}
    </>
  );
}
