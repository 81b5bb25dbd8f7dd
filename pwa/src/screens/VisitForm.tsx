import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Link } from "../components/bits";
import { db, type Customer, type GiftItem } from "../db";
import { formatMoney, formatTime, getLocale, t } from "../i18n";
import { useLive } from "../live";
import { activeGiftItems, checkCap, giftValueInYear } from "../queries";
import { navigate } from "../router";
import { cadenceDateAfter, logVisit } from "../writes";

export const PURPOSES = ["routine", "order", "delivery", "complaint", "relationship", "collection", "demo"] as const;

interface GiftDraft {
  item_id: string;
  quantity: number;
}

interface VisitDraft {
  plan_id: string | null;
  started_at: string | null;
  ended_at: string | null;
  latitude: number | null;
  longitude: number | null;
  accuracy: number | null;
  located: boolean | null;
  purpose: string;
  outcome: string;
  satisfaction: number | null;
  order_value: string;
  notes: string;
  gifts: GiftDraft[];
  next_visit: string;
}

function emptyDraft(planId: string | null): VisitDraft {
  return {
    plan_id: planId,
    started_at: null,
    ended_at: null,
    latitude: null,
    longitude: null,
    accuracy: null,
    located: null,
    purpose: "routine",
    outcome: "",
    satisfaction: null,
    order_value: "",
    notes: "",
    gifts: [],
    next_visit: "",
  };
}

/** Log a visit on one screen; the draft is saved on every change and survives reloads. */
export function VisitForm({ customerId, planId }: { customerId: string; planId: string | null }) {
  const customer = useLive(() => db().customers.get(customerId), [customerId], undefined as Customer | undefined);
  const items = useLive(activeGiftItems, [], [] as GiftItem[]);
  const year = new Date().getFullYear();
  const spent = useLive(() => giftValueInYear(customerId, year), [customerId, year], 0);
  const [draft, setDraftState] = useState<VisitDraft | null>(null);
  const [restored, setRestored] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const key = `visit:${customerId}`;
  const draftRef = useRef<VisitDraft | null>(null);

  const setDraft = (next: VisitDraft) => {
    draftRef.current = next;
    setDraftState(next);
    void db().drafts.put({ key, value: next as unknown as Record<string, unknown>, updated_at: new Date().toISOString() });
  };
  const patch = (p: Partial<VisitDraft>) => draftRef.current && setDraft({ ...draftRef.current, ...p });

  useEffect(() => {
    let cancelled = false;
    void db()
      .drafts.get(key)
      .then((d) => {
        if (cancelled) return;
        if (d) {
          draftRef.current = d.value as unknown as VisitDraft;
          setDraftState(draftRef.current);
          setRestored(true);
        } else {
          draftRef.current = emptyDraft(planId);
          setDraftState(draftRef.current);
          checkIn(); // opening the form is the check-in
        }
      });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [customerId]);

  // Default next visit from the cadence rule, once the customer and rules are known.
  useEffect(() => {
    if (!draft || draft.next_visit || !customer) return;
    void cadenceDateAfter(customer, draft.started_at ?? new Date().toISOString()).then((day) => {
      if (day && draftRef.current && !draftRef.current.next_visit) patch({ next_visit: day });
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draft?.next_visit, customer]);

  /** Location is read only here (check-in) and at check-out, never in the background. */
  function locate(onto: "in" | "out") {
    if (!("geolocation" in navigator)) {
      patch({ located: false });
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => {
        if (onto === "out" && draftRef.current?.latitude != null) return;
        patch({
          latitude: p.coords.latitude,
          longitude: p.coords.longitude,
          accuracy: Math.round(p.coords.accuracy),
          located: true,
        });
      },
      () => {
        if (draftRef.current?.latitude == null) patch({ located: false });
      },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
    );
  }

  function checkIn() {
    patch({ started_at: new Date().toISOString() });
    locate("in");
  }

  function checkOut() {
    patch({ ended_at: new Date().toISOString() });
    locate("out");
  }

  const lines = useMemo(
    () =>
      (draft?.gifts ?? [])
        .map((g) => ({ item: items.find((i) => i.id === g.item_id), quantity: g.quantity }))
        .filter((l): l is { item: GiftItem; quantity: number } => !!l.item && l.quantity > 0),
    [draft?.gifts, items],
  );
  const cap = lines.length ? checkCap(spent, lines) : null;
  const currency = items[0]?.currency ?? "CNY";

  async function save(e: Event) {
    e.preventDefault();
    const d = draftRef.current;
    if (!d || !customer) return;
    if (!d.started_at) return setError(t("visit.need_check_in"));
    const value = d.order_value.trim() === "" ? 0 : Number(d.order_value);
    if (!Number.isFinite(value) || value < 0) return setError(t("visit.bad_value"));
    setSaving(true);
    const plan = d.plan_id ? await db().planned_revisits.get(d.plan_id) : undefined;
    await logVisit({
      customer,
      planned_for: plan?.due_date ?? null,
      started_at: d.started_at,
      ended_at: d.ended_at,
      latitude: d.latitude,
      longitude: d.longitude,
      accuracy: d.accuracy,
      purpose: d.purpose,
      outcome: d.outcome.trim(),
      satisfaction: d.satisfaction,
      order_value: value.toFixed(2),
      currency,
      notes: d.notes.trim(),
      gifts: lines.map((l) => ({
        item_id: l.item.id,
        quantity: l.quantity,
        unit_value: l.item.unit_value,
        currency: l.item.currency,
      })),
      next_visit: d.next_visit || null,
    });
    await db().drafts.delete(key);
    navigate(`/customers/${customer.id}?saved=visit`, true);
  }

  async function discard() {
    await db().drafts.delete(key);
    navigate(`/customers/${customerId}`, true);
  }

  if (!draft || customer === undefined) return <main>{t("app.loading")}</main>;
  if (!customer) return <main class="card">{t("customer.not_found")}</main>;
  const name = (i: GiftItem) => (getLocale() === "zh-CN" ? i.name_zh : i.name_en);

  return (
    <main data-testid="visit-screen">
      <div class="row">
        <Link href={`/customers/${customer.id}`} class="btn">
          ← {t("common.back")}
        </Link>
      </div>
      <h1>{t("visit.title")}</h1>
      <p class="muted" data-testid="visit-customer">
        {t("visit.customer")}: <span data-content>{customer.name}</span>
      </p>
      {restored && (
        <p class="banner info row" data-testid="draft-restored">
          <span class="grow">{t("visit.draft_restored")}</span>
          <button type="button" onClick={discard} data-testid="discard-draft">
            {t("visit.discard_draft")}
          </button>
        </p>
      )}
      <form onSubmit={save} class="card" data-testid="visit-form">
        <div class="grid2">
          <div>
            {draft.started_at ? (
              <div data-testid="checked-in">{t("visit.checked_in", { time: formatTime(draft.started_at) })}</div>
            ) : (
              <button type="button" onClick={checkIn} data-testid="check-in">
                {t("visit.check_in")}
              </button>
            )}
          </div>
          <div>
            {draft.ended_at ? (
              <div data-testid="checked-out">{t("visit.checked_out", { time: formatTime(draft.ended_at) })}</div>
            ) : (
              <button type="button" onClick={checkOut} disabled={!draft.started_at} data-testid="check-out">
                {t("visit.check_out")}
              </button>
            )}
          </div>
        </div>
        {draft.located === true && <p class="muted">{t("visit.location_ok", { m: draft.accuracy ?? 0 })}</p>}
        {draft.located === false && <p class="muted">{t("visit.location_none")}</p>}

        <label class="field">
          <span>{t("visit.purpose")}</span>
          <select data-testid="visit-purpose" value={draft.purpose} onChange={(e) => patch({ purpose: (e.target as HTMLSelectElement).value })}>
            {PURPOSES.map((p) => (
              <option key={p} value={p}>
                {t(`purpose.${p}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t("visit.outcome")}</span>
          <input data-testid="visit-outcome" value={draft.outcome} onInput={(e) => patch({ outcome: (e.target as HTMLInputElement).value })} />
        </label>
        <div class="field">
          <span class="muted">{t("visit.satisfaction")}</span>
          <div class="stars" role="radiogroup" aria-label={t("visit.satisfaction")}>
            {[1, 2, 3, 4, 5].map((n) => (
              <button
                type="button"
                key={n}
                role="radio"
                aria-checked={draft.satisfaction === n}
                class={draft.satisfaction === n ? "on" : ""}
                data-testid={`satisfaction-${n}`}
                onClick={() => patch({ satisfaction: draft.satisfaction === n ? null : n })}
              >
                {n}
              </button>
            ))}
          </div>
        </div>
        <label class="field">
          <span>{t("visit.order_value", { currency })}</span>
          <input
            data-testid="visit-order-value"
            inputMode="decimal"
            value={draft.order_value}
            onInput={(e) => patch({ order_value: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label class="field">
          <span>{t("visit.notes")}</span>
          <textarea data-testid="visit-notes" value={draft.notes} onInput={(e) => patch({ notes: (e.target as HTMLTextAreaElement).value })} />
        </label>

        <h2>{t("visit.gifts")}</h2>
        {draft.gifts.map((g, idx) => (
          <div class="row" key={idx} data-testid="gift-line">
            <select
              class="grow"
              data-testid="gift-item"
              aria-label={t("visit.gift_item")}
              value={g.item_id}
              onChange={(e) => {
                const gifts = [...draft.gifts];
                gifts[idx] = { ...g, item_id: (e.target as HTMLSelectElement).value };
                patch({ gifts });
              }}
            >
              {items.map((i) => (
                <option key={i.id} value={i.id}>
                  {name(i)} ({formatMoney(i.unit_value, i.currency)})
                </option>
              ))}
            </select>
            <input
              style="width:80px"
              type="number"
              min="1"
              data-testid="gift-qty"
              aria-label={t("visit.gift_qty")}
              value={g.quantity}
              onInput={(e) => {
                const gifts = [...draft.gifts];
                gifts[idx] = { ...g, quantity: Math.max(0, Math.floor(Number((e.target as HTMLInputElement).value) || 0)) };
                patch({ gifts });
              }}
            />
            <button type="button" aria-label={t("common.remove")} onClick={() => patch({ gifts: draft.gifts.filter((_, i) => i !== idx) })}>
              ✕
            </button>
          </div>
        ))}
        {items.length > 0 && (
          <button
            type="button"
            data-testid="add-gift"
            onClick={() => patch({ gifts: [...draft.gifts, { item_id: items[0]!.id, quantity: 1 }] })}
          >
            + {t("visit.add_gift")}
          </button>
        )}
        {cap?.over && (
          <p class="banner" data-testid="cap-warning" role="alert">
            {t("visit.cap_warning", { total: formatMoney(cap.total, currency), cap: formatMoney(cap.cap, currency) })}
          </p>
        )}

        <label class="field">
          <span>{t("visit.next_visit")}</span>
          <input
            type="date"
            data-testid="visit-next"
            value={draft.next_visit}
            onInput={(e) => patch({ next_visit: (e.target as HTMLInputElement).value })}
          />
        </label>
        {error && (
          <p class="banner error" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" style="width:100%" disabled={saving} data-testid="save-visit">
          {t("visit.save")}
        </button>
      </form>
    </main>
  );
}
