/** Reminder text from a push payload, in the user's language (pure, unit-tested). */
import type { Locale, MessageKey, Params } from "../i18n";

export interface PushPayload {
  kind?: "due" | "overdue" | "digest" | string;
  customer_id?: string;
  customer_name?: string;
  due_date?: string;
  tier?: string;
  title_key?: string;
  count?: number;
  url?: string;
  items?: Array<{ customer_id: string; customer_name: string }>;
}

type T = (key: MessageKey, params?: Params, locale?: Locale) => string;
type DayFormat = (day: string, locale?: Locale) => string;

export function notificationText(p: PushPayload, locale: Locale, t: T, formatDay: DayFormat): { title: string; body: string } {
  const date = p.due_date ? safeDay(p.due_date, locale, formatDay) : "";
  const params = { name: p.customer_name ?? "", date, tier: p.tier ?? "", n: p.count ?? 0 };
  const many = (p.count ?? 1) > 1;
  if (many && (p.kind === "overdue" || p.kind === "due")) {
    const names = (p.items ?? []).slice(0, 5).map((i) => i.customer_name).join(", ");
    return { title: t(p.kind === "due" ? "push.due.many" : "push.overdue.many", params, locale), body: names || params.name };
  }
  if (p.kind === "overdue") return { title: t("push.overdue.title", params, locale), body: t("push.overdue.body", params, locale) };
  if (p.kind === "due") return { title: t("push.due.title", params, locale), body: t("push.due.body", params, locale) };
  return { title: t("push.digest.title", params, locale), body: t("push.digest.body", params, locale) };
}

function safeDay(day: string, locale: Locale, formatDay: DayFormat): string {
  try {
    return formatDay(day, locale);
  } catch {
    return day;
  }
}
