// Arabic first (right to left), English on request. Each app passes its own message table;
// `t(key, vars)` fills {name} placeholders. The document's lang/dir follow the language.
export type Language = "ar" | "en";
export type Messages = Record<string, { ar: string; en: string }>;

export function makeTranslator<M extends Messages>(messages: M, language: () => Language) {
  return function t(key: keyof M & string, vars?: Record<string, string | number>): string {
    const entry = messages[key];
    let text = entry ? entry[language()] : key;
    if (vars) for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
    return text;
  };
}

/** The localized half of a pair of fields such as name_ar / name_en (falls back to the other). */
export function localized(record: Record<string, any> | null | undefined, field: string, language: Language): string {
  if (!record) return "";
  const other: Language = language === "ar" ? "en" : "ar";
  return record[`${field}_${language}`] || record[`${field}_${other}`] || "";
}

export function applyLanguage(language: Language, root: HTMLElement = document.documentElement): void {
  root.lang = language;
  root.dir = language === "ar" ? "rtl" : "ltr";
}

export function storedLanguage(app: string, fallback: Language = "ar"): Language {
  const value = globalThis.localStorage?.getItem(`jawla.${app}.language`);
  return value === "en" || value === "ar" ? value : fallback;
}

export function storeLanguage(app: string, language: Language): void {
  globalThis.localStorage?.setItem(`jawla.${app}.language`, language);
}
