import { useState } from "preact/hooks";
import { Link, PendingMark, TierBadge } from "../components/bits";
import { db, getMeta, type Customer, type GiftItem, type UserRow } from "../db";
import { formatDateTime, formatDay, formatMoney, formatNumber, getLocale, t } from "../i18n";
import { useLive } from "../live";
import { customerDetail, type CustomerDetail, type TimelineEntry } from "../queries";
import { sendCommand } from "../sync/outbox";
import { editCustomer } from "../writes";
import { STAGES, TIERS } from "./Customers";

/** One customer: profile, contacts, timeline, next visit; edits become put mutations. */
export function CustomerDetailView({ id }: { id: string }) {
  const d = useLive(() => customerDetail(id), [id], null as CustomerDetail | null);
  const items = useLive(() => db().gift_items.toArray(), [], [] as GiftItem[]);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  if (!d) return <p class="muted">{t("app.loading")}</p>;
  const c = d.customer;
  if (!c) return <p class="card" data-testid="customer-missing">{t("customer.not_found")}</p>;
  const itemName = (itemId: string) => {
    const it = items.find((i) => i.id === itemId);
    return it ? (getLocale() === "zh-CN" ? it.name_zh : it.name_en) : "?";
  };
  const mapHref =
    c.latitude != null && c.longitude != null
      ? `https://maps.google.com/?q=${c.latitude},${c.longitude}`
      : c.address
        ? `https://maps.google.com/?q=${encodeURIComponent(c.address)}`
        : null;

  return (
    <article data-testid="customer-detail" data-customer-id={c.id}>
      <div class="row phone-only">
        <Link href="/customers" class="btn" testid="back-to-list">
          ← {t("common.back")}
        </Link>
      </div>
      <h1 class="row" style="gap:8px">
        <span data-testid="customer-name" data-content>{c.name}</span> <TierBadge customer={c} />
        {d.pendingIds.has(c.id) && <PendingMark />}
      </h1>
      <p class="muted">
        {t(`stage.${c.stage}`)}
        {c.archived && ` · ${t("customer.archived")}`}
      </p>
      {d.openConflicts > 0 && (
        <p class="banner">
          <Link href="/sync">{t("customer.open_conflicts", { n: d.openConflicts })}</Link>
        </p>
      )}
      <div class="actions">
        <Link href={`/customers/${c.id}/visit`} class="btn primary" testid="log-visit">
          {t("customer.log_visit")}
        </Link>
        <Link href={`/customers/${c.id}/note`} class="btn" testid="quick-note">
          {t("customer.quick_note")}
        </Link>
        {c.phone && (
          <a class="btn" href={`tel:${c.phone.replace(/[^\d+]/g, "")}`} data-testid="call-link">
            {t("customer.call")}
          </a>
        )}
        {mapHref && (
          <a class="btn" href={mapHref} target="_blank" rel="noopener" data-testid="map-link">
            {t("customer.map")}
          </a>
        )}
      </div>

      <section class="card" data-testid="next-visit" data-due={d.nextPlan?.due_date ?? ""}>
        <strong>{t("customer.next_visit")}: </strong>
        {d.nextPlan ? formatDay(d.nextPlan.due_date) : t("customer.no_plan")}
      </section>

      <section class="card">
        <div class="row">
          <h2 class="grow" style="margin-top:0">{t("customer.profile")}</h2>
          {!editing && (
            <button onClick={() => setEditing(true)} data-testid="edit-profile">
              {t("customer.edit")}
            </button>
          )}
        </div>
        {saved && !editing && (
          <p class="banner ok" data-testid="profile-saved">
            {t("customer.saved")}
          </p>
        )}
        {editing ? (
          <ProfileForm
            customer={c}
            onDone={(didSave) => {
              setEditing(false);
              setSaved(didSave);
            }}
          />
        ) : (
          <dl class="kv" data-content>
            <dt>{t("customer.field.phone")}</dt>
            <dd data-testid="field-phone">{c.phone || "—"}</dd>
            <dt>{t("customer.field.address")}</dt>
            <dd data-testid="field-address">{c.address || "—"}</dd>
            <dt>{t("customer.field.preferences")}</dt>
            <dd data-testid="field-preferences">{c.preferences || "—"}</dd>
          </dl>
        )}
      </section>

      <Reassign customer={c} />

      <section class="card">
        <h2 style="margin-top:0">{t("customer.contacts")}</h2>
        {d.contacts.length === 0 && <p class="muted">{t("customer.no_contacts")}</p>}
        <ul class="list" data-content>
          {d.contacts.map((p) => (
            <li key={p.id} class="item">
              <div class="grow">
                <div class="title">{p.name}</div>
                <div class="sub">{[p.title, p.email].filter(Boolean).join(" · ")}</div>
              </div>
              {p.phone && (
                <a class="btn" href={`tel:${p.phone.replace(/[^\d+]/g, "")}`}>
                  {t("customer.call")}
                </a>
              )}
            </li>
          ))}
        </ul>
      </section>

      <section class="card">
        <h2 style="margin-top:0">{t("customer.timeline")}</h2>
        {d.timeline.length === 0 && <p class="muted">{t("timeline.empty")}</p>}
        <ul class="list timeline" data-testid="timeline">
          {d.timeline.map((e) => (
            <TimelineItem key={`${e.kind}:${e.row.id}`} entry={e} itemName={itemName} />
          ))}
        </ul>
      </section>
    </article>
  );
}

function TimelineItem({ entry, itemName }: { entry: TimelineEntry; itemName: (id: string) => string }) {
  const when = formatDateTime(entry.at);
  if (entry.kind === "visit") {
    const v = entry.row;
    return (
      <li data-testid="timeline-visit" data-id={v.id}>
        <div class="row">
          <strong>{t("timeline.visit")}</strong>
          <span class="muted">{when}</span>
          {entry.pending && <PendingMark />}
        </div>
        <div>
          {t(`purpose.${v.purpose}` as "purpose.routine")}
          {v.satisfaction != null && ` · ${t("timeline.satisfaction", { n: v.satisfaction })}`}
          {Number(v.order_value) > 0 && ` · ${t("timeline.order", { value: formatMoney(v.order_value, v.currency) })}`}
        </div>
        {v.outcome && <div class="muted" data-content>{v.outcome}</div>}
        {v.notes && <div class="muted" data-content>{v.notes}</div>}
      </li>
    );
  }
  if (entry.kind === "gift") {
    const g = entry.row;
    return (
      <li data-testid="timeline-gift" data-id={g.id}>
        <div class="row">
          <strong>{t("timeline.gift", { qty: formatNumber(g.quantity), item: itemName(g.item_id) })}</strong>
          <span class="muted">{when}</span>
          {entry.pending && <PendingMark />}
        </div>
        <div class="muted">
          {formatMoney(g.quantity * Number(g.unit_value), g.currency)}
          {g.over_cap && ` · ${t("timeline.over_cap")}`}
        </div>
      </li>
    );
  }
  const n = entry.row;
  return (
    <li data-testid="timeline-note" data-id={n.id}>
      <div class="row">
        <strong>{t(`timeline.${n.kind}` as "timeline.note")}</strong>
        <span class="muted">{when}</span>
        {entry.pending && <PendingMark />}
      </div>
      <div data-content>{n.body}</div>
    </li>
  );
}

function ProfileForm({ customer, onDone }: { customer: Customer; onDone: (saved: boolean) => void }) {
  const [form, setForm] = useState({
    name: customer.name,
    phone: customer.phone,
    address: customer.address,
    preferences: customer.preferences,
    tier: customer.tier,
    stage: customer.stage,
  });
  const set = (k: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  async function save(e: Event) {
    e.preventDefault();
    if (!form.name.trim()) return;
    await editCustomer(customer.id, { ...form, name: form.name.trim() });
    onDone(true);
  }
  return (
    <form onSubmit={save} data-testid="profile-form">
      <label class="field">
        <span>{t("customer.field.name")}</span>
        <input data-testid="edit-name" required value={form.name} onInput={set("name")} />
      </label>
      <label class="field">
        <span>{t("customer.field.phone")}</span>
        <input data-testid="edit-phone" type="tel" value={form.phone} onInput={set("phone")} />
      </label>
      <label class="field">
        <span>{t("customer.field.address")}</span>
        <input data-testid="edit-address" value={form.address} onInput={set("address")} />
      </label>
      <label class="field">
        <span>{t("customer.field.preferences")}</span>
        <textarea data-testid="edit-preferences" value={form.preferences} onInput={set("preferences")} />
      </label>
      <div class="grid2">
        <label class="field">
          <span>{t("customer.field.tier")}</span>
          <select data-testid="edit-tier" value={form.tier} onChange={set("tier")}>
            {TIERS.map((x) => (
              <option key={x} value={x}>
                {t(`tier.${x}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t("customer.field.stage")}</span>
          <select data-testid="edit-stage" value={form.stage} onChange={set("stage")}>
            {STAGES.map((x) => (
              <option key={x} value={x}>
                {t(`stage.${x}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="actions">
        <button type="button" onClick={() => onDone(false)}>
          {t("common.cancel")}
        </button>
        <button class="primary" type="submit" data-testid="save-profile">
          {t("common.save")}
        </button>
      </div>
    </form>
  );
}

/** Managers and admins move a customer to another rep (a command the server decides, R-CMD-1). */
function Reassign({ customer }: { customer: Customer }) {
  const me = useLive(() => getMeta("user", null), [], null);
  const reps = useLive(
    () => db().users.filter((u) => !u.deleted && u.role === "rep" && u.active !== false).toArray(),
    [],
    [] as UserRow[],
  );
  const [target, setTarget] = useState("");
  const [queued, setQueued] = useState(false);
  if (!me || me.role === "rep") return null;
  const options = reps.filter((r) => r.id !== customer.owner_id && (me.role === "admin" || r.region_id === me.region_id));
  const owner = reps.find((r) => r.id === customer.owner_id)?.display_name ?? "—";
  return (
    <section class="card" data-testid="reassign">
      <h2 style="margin-top:0">{t("dash.reassign")}</h2>
      <p class="muted">{t("customer.owner", { name: owner })}</p>
      {queued && <p class="banner ok" data-testid="reassign-queued">{t("dash.reassign_queued", { n: 1, name: reps.find((r) => r.id === target)?.display_name ?? "" })}</p>}
      <div class="row">
        <select class="grow" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} data-testid="reassign-to" aria-label={t("dash.to_rep")}>
          <option value="">{t("dash.to_rep")}</option>
          {options.map((r) => (
            <option key={r.id} value={r.id} data-username={r.username}>
              {r.display_name}
            </option>
          ))}
        </select>
        <button
          class="primary"
          disabled={!target}
          data-testid="reassign-submit"
          onClick={() => void sendCommand("reassign_customer", { customer_id: customer.id, to_rep_id: target }, customer.id).then(() => setQueued(true))}
        >
          {t("dash.reassign_apply")}
        </button>
      </div>
    </section>
  );
}
