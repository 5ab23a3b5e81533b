// The console's shared pieces: one API client (tokens kept under the "console" key, apart from the
// field app's), the language, and the translator handed to every view through a Preact context.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { Api } from "@shared/api";
import { localAuthStore } from "@shared/auth-storage";
import { makeTranslator, storedLanguage, type Language } from "@shared/i18n";
import { MESSAGES } from "./messages";

let language: Language = storedLanguage("console");

export const getLanguage = () => language;
export const setLanguageValue = (value: Language) => {
  language = value;
};

export const api = new Api({ store: localAuthStore("console"), language: getLanguage });
export const translate = makeTranslator(MESSAGES, getLanguage);
export type T = typeof translate;

export interface ConsoleContext {
  t: T;
  language: Language;
  municipalityId: number | null;
  isAdmin: boolean;
  role: string | null;
}

export const Ctx = createContext<ConsoleContext>({
  t: translate,
  language: "ar",
  municipalityId: null,
  isAdmin: false,
  role: null,
});

export const useConsole = () => useContext(Ctx);

/** The message of an API error for the person (the server already speaks their language). */
export function errorText(error: unknown): string {
  return (error as { message?: string })?.message ?? String(error);
}
