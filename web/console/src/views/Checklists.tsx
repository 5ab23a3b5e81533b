// Checklists: every supervisor reads them; administrators draft a version from the published one,
// edit its items (texts, choices with Arabic and English labels, thresholds, severity, fine, photo
// rule, categories), validate, publish and retire, all through the checklist API.
import { useEffect, useState } from "preact/hooks";
import { localized } from "@shared/i18n";
import { api, errorText, useConsole } from "../context";

interface Item {
  id: number;
  code: string;
  text_ar: string;
  text_en: string;
  answer_type: string;
  choices: string[];
  failing_choices: string[];
  choice_options?: { value: string; label_ar: string; label_en: string }[];
  min_value: number | null;
  max_value: number | null;
  severity: string;
  fine_sar: string;
  photo_required_on_fail: boolean;
  categories: string[];
}
interface Version {
  id: number;
  checklist_id: number;
  number: number;
  status: string;
  items: Item[];
}
interface Checklist {
  id: number;
  code: string;
  name_ar: string;
  name_en: string;
  published_version: { id: number; number: number } | null;
}

function ItemEditor({ item, onSave, onCancel }: { item: Partial<Item>; onSave: (body: Record<string, unknown>) => void; onCancel: () => void }) {
  const { t } = useConsole();
  const labels = (item.choice_options ?? []).map((option) => `${option.value}:${option.label_ar}:${option.label_en}`).join("\n");
  function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const answerType = String(form.get("answer_type"));
    const body: Record<string, unknown> = {
      text_ar: String(form.get("text_ar")),
      text_en: String(form.get("text_en")),
      answer_type: answerType,
      severity: String(form.get("severity")),
      fine_sar: String(form.get("fine_sar") || "0"),
      photo_required_on_fail: form.get("photo") === "on",
      category_codes: String(form.get("categories") || "")
        .split(",")
        .map((code) => code.trim())
        .filter(Boolean),
    };
    if (!item.id) body.code = String(form.get("code"));
    if (answerType === "choice") {
      const lines = String(form.get("choices") || "")
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => line.split(":").map((part) => part.trim()));
      body.choices = lines.map(([value]) => value);
      body.choice_labels = Object.fromEntries(
        lines.filter((parts) => parts.length >= 3).map(([value, ar, en]) => [value, { ar, en }]),
      );
      body.failing_choices = String(form.get("failing") || "")
        .split(",")
        .map((value) => value.trim())
        .filter(Boolean);
    } else {
      body.choices = [];
      body.failing_choices = [];
      body.choice_labels = {};
    }
    const number = (name: string) => (String(form.get(name) ?? "").trim() === "" ? null : Number(form.get(name)));
    body.min_value = answerType === "number" ? number("min") : null;
    body.max_value = answerType === "number" ? number("max") : null;
    onSave(body);
  }
  return (
    <form class="item-editor card" onSubmit={submit} data-testid="item-editor">
      {!item.id && (
        <label>
          {t("code")} <input name="code" required pattern="[A-Za-z0-9_.-]+" />
        </label>
      )}
      <label>
        {t("textAr")} <input name="text_ar" dir="rtl" value={item.text_ar ?? ""} required />
      </label>
      <label>
        {t("textEn")} <input name="text_en" dir="ltr" value={item.text_en ?? ""} required />
      </label>
      <label>
        {t("answerType")}{" "}
        <select name="answer_type" value={item.answer_type ?? "yes_no_na"}>
          <option value="yes_no_na">yes / no / n.a.</option>
          <option value="number">number</option>
          <option value="choice">choice</option>
        </select>
      </label>
      <label>
        {t("choices")} <textarea name="choices" rows={3} value={labels} />
      </label>
      <label>
        {t("failing")} <input name="failing" value={(item.failing_choices ?? []).join(", ")} />
      </label>
      <label>
        {t("min")} <input name="min" type="number" step="any" value={item.min_value ?? ""} />
      </label>
      <label>
        {t("max")} <input name="max" type="number" step="any" value={item.max_value ?? ""} />
      </label>
      <label>
        {t("severity")}{" "}
        <select name="severity" value={item.severity ?? "minor"}>
          {["minor", "major", "critical"].map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("fine")} <input name="fine_sar" type="number" min="0" step="0.01" value={item.fine_sar ?? "0"} />
      </label>
      <label class="inline">
        <input name="photo" type="checkbox" checked={item.photo_required_on_fail ?? false} /> {t("photo")}
      </label>
      <label>
        {t("categories")} <input name="categories" value={(item.categories ?? []).join(", ")} />
      </label>
      <div class="actions">
        <button type="submit">{t("save")}</button>
        <button type="button" class="secondary" onClick={onCancel}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}

export function Checklists() {
  const { t, language, isAdmin } = useConsole();
  const [checklists, setChecklists] = useState<Checklist[]>([]);
  const [current, setCurrent] = useState<Checklist | null>(null);
  const [version, setVersion] = useState<Version | null>(null);
  const [editing, setEditing] = useState<Partial<Item> | null>(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");

  const loadList = () => api.get<{ items: Checklist[] }>("checklists", { limit: 200 }).then((page) => setChecklists(page.items));
  useEffect(() => {
    loadList().catch((failure) => setError(errorText(failure)));
  }, []);

  async function open(checklist: Checklist) {
    setCurrent(checklist);
    setEditing(null);
    setMessage("");
    setVersion(checklist.published_version ? await api.get<Version>(`checklists/versions/${checklist.published_version.id}`) : null);
  }
  async function run(work: () => Promise<void>) {
    try {
      setError("");
      await work();
    } catch (failure) {
      setError(errorText(failure));
    }
  }
  const newDraft = () => run(async () => setVersion(await api.post<Version>(`checklists/${current!.id}/drafts`, {})));
  const save = (body: Record<string, unknown>) =>
    run(async () => {
      const path = editing?.id ? `checklists/versions/${version!.id}/items/${editing.id}` : `checklists/versions/${version!.id}/items`;
      setVersion(editing?.id ? await api.patch<Version>(path, body) : await api.post<Version>(path, body));
      setEditing(null);
    });
  const validate = () =>
    run(async () => {
      const result = await api.get<{ valid: boolean; problems: { item: string | null; detail: string }[] }>(
        `checklists/versions/${version!.id}/validation`,
      );
      setMessage(result.valid ? t("valid") : result.problems.map((problem) => `${problem.item ?? ""} ${problem.detail}`).join(" · "));
    });
  const publish = () =>
    run(async () => {
      setVersion(await api.post<Version>(`checklists/versions/${version!.id}/publish`, {}));
      await loadList();
    });
  const retire = () =>
    run(async () => {
      setVersion(await api.post<Version>(`checklists/versions/${version!.id}/retire`, {}));
      await loadList();
    });

  const isDraft = version?.status === "draft";
  return (
    <section class="checklists">
      <div class="toolbar">
        <h2>{t("checklists")}</h2>
        {!isAdmin && <span class="muted">{t("readOnly")}</span>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {message && <p class="ok" role="status">{message}</p>}
      <div class="columns narrow-first">
        <ul class="card list">
          {checklists.map((checklist) => (
            <li key={checklist.id}>
              <button class={`link ${current?.id === checklist.id ? "active" : ""}`} onClick={() => open(checklist)}>
                {localized(checklist, "name", language)}
              </button>
            </li>
          ))}
        </ul>
        <div>
          {current && (
            <div class="toolbar">
              <h3>{localized(current, "name", language)}</h3>
              {version && (
                <span class="badge" data-testid="version-status" data-status={version.status}>
                  {t("version", { number: version.number, status: t(`status_${version.status}` as any) })}
                </span>
              )}
              {isAdmin && !isDraft && (
                <button onClick={newDraft} data-testid="new-draft">
                  {t("newDraft")}
                </button>
              )}
              {isAdmin && isDraft && (
                <>
                  <button class="secondary" onClick={() => setEditing({})}>
                    {t("addItem")}
                  </button>
                  <button class="secondary" onClick={validate}>
                    {t("validate")}
                  </button>
                  <button onClick={publish} data-testid="publish-version">
                    {t("publishVersion")}
                  </button>
                </>
              )}
              {isAdmin && version?.status === "published" && (
                <button class="warn" onClick={retire}>
                  {t("retire")}
                </button>
              )}
            </div>
          )}
          {editing && <ItemEditor item={editing} onSave={save} onCancel={() => setEditing(null)} />}
          {version && (
            <ol class="items">
              {version.items.map((item) => (
                <li key={item.id} class="card" data-item={item.code}>
                  <div class="item-head">
                    <code>{item.code}</code>
                    <strong>{language === "ar" ? item.text_ar : item.text_en}</strong>
                    <span class={`flag severity-${item.severity}`}>{item.severity}</span>
                    {isAdmin && isDraft && (
                      <button class="link" onClick={() => setEditing(item)} data-testid={`edit-${item.code}`}>
                        ✎
                      </button>
                    )}
                  </div>
                  <div class="muted">
                    {item.answer_type}
                    {item.choice_options?.length ? ` · ${item.choice_options.map((option) => (language === "ar" ? option.label_ar : option.label_en)).join(" / ")}` : ""}
                    {item.min_value != null || item.max_value != null ? ` · ${item.min_value ?? "…"}–${item.max_value ?? "…"}` : ""}
                    {` · ${item.fine_sar} SAR`}
                    {item.photo_required_on_fail ? ` · 📷` : ""}
                    {item.categories.length ? ` · ${item.categories.join(", ")}` : ""}
                  </div>
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
    </section>
  );
}
