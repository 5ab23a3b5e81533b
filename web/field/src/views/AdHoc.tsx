import { useState } from "preact/hooks";
import { ApiError } from "@shared/api";
import { api, db, t } from "../app";
import { currentFix } from "../lib/geo";
import { fetchShopCard } from "../lib/sync";
import type { ChecklistVersion, Establishment, Page } from "../lib/types";
import { name } from "./common";
import { Icon } from "./icons";

interface ChecklistSummary {
  id: number;
  name_ar: string;
  name_en: string;
  published_version: { id: number } | null;
}

export function AdHocView() {
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<Establishment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [choosing, setChoosing] = useState<{ shop: Establishment; checklists: ChecklistSummary[] } | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(search: () => Promise<Page<Establishment>>) {
    setBusy(true);
    setError(null);
    try {
      setResults((await search()).items);
    } catch (caught) {
      setError(caught instanceof ApiError && caught.network ? t("search_offline") : String((caught as Error).message));
    } finally {
      setBusy(false);
    }
  }

  async function nearMe() {
    const fix = await currentFix();
    if (!fix) {
      setError(t("gps_none"));
      return;
    }
    await run(() => api.get<Page<Establishment>>("establishments", { near: `${fix.lat},${fix.lon}`, radius_m: 1000, limit: 30 }));
  }

  async function pick(shop: Establishment) {
    setBusy(true);
    setError(null);
    try {
      await db.shops.put(await fetchShopCard(api, shop.id, shop));
      const page = await api.get<{ items: ChecklistSummary[] }>("checklists", { category: shop.category, published: "true" });
      const checklists = page.items.filter((checklist) => checklist.published_version);
      if (checklists.length === 1) await open(shop, checklists[0]);
      else setChoosing({ shop, checklists });
    } catch (caught) {
      setError(caught instanceof ApiError && caught.network ? t("search_offline") : String((caught as Error).message));
    } finally {
      setBusy(false);
    }
  }

  async function open(shop: Establishment, checklist: ChecklistSummary) {
    const versionId = checklist.published_version!.id;
    if (!(await db.versions.get(versionId))) await db.versions.put(await api.get<ChecklistVersion>(`checklists/versions/${versionId}`));
    location.hash = `#/visit/shop/${shop.id}/${versionId}`;
  }

  return (
    <section aria-labelledby="adhoc-title">
      <h2 id="adhoc-title">{t("adhoc_title")}</h2>
      <a class="button primary wide" href="#/scan" data-testid="scan-shop">
        <Icon name="qr" /> {t("scan_action")}
      </a>
      <button type="button" class="primary wide" onClick={() => void nearMe()} disabled={busy} data-testid="near-me">
        <Icon name="pin" /> {t("near_me")}
      </button>
      <form
        class="search"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          if (query.trim()) void run(() => api.get<Page<Establishment>>("establishments", { q: query.trim(), limit: 30 }));
        }}
      >
        <input type="search" aria-label={t("search")} placeholder={t("search")} value={query} onInput={(event) => setQuery(event.currentTarget.value)} name="q" />
        <button type="submit" class="secondary" disabled={busy}>
          {t("search_button")}
        </button>
      </form>
      {error && <p class="error">{error}</p>}
      {choosing && (
        <div class="card">
          <h3>{t("choose_checklist")}</h3>
          {choosing.checklists.length === 0 && <p class="muted">{t("no_checklist")}</p>}
          {choosing.checklists.map((checklist) => (
            <button type="button" class="secondary wide" onClick={() => void open(choosing.shop, checklist)}>
              {name(checklist)}
            </button>
          ))}
        </div>
      )}
      {results && results.length === 0 && <p class="muted">{t("no_results")}</p>}
      <ul class="results">
        {(results ?? []).map((shop) => (
          <li>
            <button type="button" class="result" onClick={() => void pick(shop)} data-testid={`shop-${shop.id}`}>
              <strong>{name(shop)}</strong>
              <span class="muted">
                {name({ name_ar: shop.category_name_ar, name_en: shop.category_name_en })} · {shop.licence_no}
                {shop.distance_m !== null ? ` · ${t("distance", { distance: Math.round(shop.distance_m) })}` : ""}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
