/**
 * Tiny i18n: two dictionaries, `{name}` placeholders, and Intl formatting per locale.
 * Used by the page and by the service worker (notifications), so no DOM access here.
 */
import { en, type MessageKey } from "./en";
import { zh } from "./zh";

export type Locale = "en" | "zh-CN";
export const LOCALES: readonly Locale[] = ["en", "zh-CN"];
export const LOCALE_NAMES: Record<Locale, string> = { en: "English", "zh-CN": "简体中文" };

const DICTS: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zh };

let current: Locale = "en";

export function normalizeLocale(value: string | null | undefined): Locale {
  if (!value) return "en";
  return value.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export function setLocale(locale: Locale): void {
  current = locale;
}

export function getLocale(): Locale {
  return current;
}

export type Params = Record<string, string | number>;

/** Translate a key in the current (or given) locale, filling `{name}` placeholders. */
export function t(key: MessageKey, params?: Params, locale: Locale = current): string {
  const text = DICTS[locale][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in params ? String(params[name]) : m,
  );
}

export type { MessageKey };

// --- formatting ------------------------------------------------------------------------

/** A calendar date "YYYY-MM-DD" (no time zone) shown per locale. */
export function formatDay(day: string, locale: Locale = current): string {
  const [y, m, d] = day.split("-").map(Number);
  const date = new Date(Date.UTC(y!, (m ?? 1) - 1, d ?? 1));
  return new Intl.DateTimeFormat(locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    weekday: "short",
    timeZone: "UTC",
  }).format(date);
}

export function formatDateTime(iso: string, locale: Locale = current, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, {
    dateStyle: "medium",
    timeStyle: "short",
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(iso));
}

export function formatTime(iso: string, locale: Locale = current): string {
  return new Intl.DateTimeFormat(locale, { timeStyle: "short" }).format(new Date(iso));
}

export function formatNumber(n: number, locale: Locale = current, digits = 0): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(n);
}

export function formatMoney(value: string | number, currency = "CNY", locale: Locale = current): string {
  const n = typeof value === "string" ? Number(value) : value;
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(
    Number.isFinite(n) ? n : 0,
  );
}
