import { useMemo, useState } from "preact/hooks";
import { Link } from "../components/bits";
import { todayIn } from "../dates";
import { db, getMeta, type CadenceRule, type GiftItem, type Region } from "../db";
import { uuid7 } from "../ids";
import { formatNumber, t } from "../i18n";
import { useLive } from "../live";
import { dueWithin, type Data } from "../manager/stats";
import { createRows, putFields } from "../sync/outbox";
import { AdminUsers } from "./AdminUsers";
import { STAGES, TIERS } from "./Customers";

type RuleDraft = Pick<CadenceRule, "id" | "tier" | "region_id" | "stage" | "interval_days" | "reminder_lead_days"> & { isNew?: boolean };

async function loadData(): Promise<Data> {
  const d = db();
  const [customers, visits, rules] = await Promise.all([d.customers.toArray(), d.visits.toArray(), d.cadence_rules.toArray()]);
  return { customers, visits, gifts: [], notes: [], plans: [], rules, users: [] };
}

/** Admin: cadence rules (with a preview of their effect) and the gift catalog, written through sync. */
export function Admin() {
  return (
    <main data-testid="admin-screen">
      <h1>{t("admin.title")}</h1>
      <p>
        <Link href="/import-export" class="btn" testid="admin-import-export">
          {t("io.title")}
        </Link>
      </p>
      <CadenceRules />
      <GiftCatalog />
      <AdminUsers />
    </main>
  );
}

function CadenceRules() {
  const user = useLive(() => getMeta("user", null), [], null);
  const data = useLive(loadData, [], null as Data | null);
  const regions = useLive(() => db().regions.toArray(), [], [] as Region[]);
  const [drafts, setDrafts] = useState<Record<string, RuleDraft>>({});
  const [saved, setSaved] = useState(false);
  const today = todayIn(user?.time_zone);
  const rules = (data?.rules ?? []).filter((r) => !r.deleted);
  const edited: CadenceRule[] = useMemo(
    () => [
      ...rules.map((r) => ({ ...r, ...(drafts[r.id] ?? {}) })),
      ...Object.values(drafts)
        .filter((d) => d.isNew)
        .map((d) => ({ ...d, clocks: {}, deleted: false, v: 0 }) as CadenceRule),
    ],
    [rules, drafts],
  );
  if (!data) return <p>{t("app.loading")}</p>;
  const before = dueWithin(data, rules, today);
  const after = dueWithin(data, edited, today);
  const changed = Object.keys(drafts).length > 0;
  const set = (r: RuleDraft, patch: Partial<RuleDraft>) => {
    setSaved(false);
    setDrafts({ ...drafts, [r.id]: { ...r, ...(drafts[r.id] ?? {}), ...patch } });
  };

  async function save() {
    for (const d of Object.values(drafts)) {
      const fields = { tier: d.tier, region_id: d.region_id || null, stage: d.stage || null, interval_days: d.interval_days, reminder_lead_days: d.reminder_lead_days };
      if (d.isNew) await createRows([{ table: "cadence_rules", row: { id: d.id, ...fields } }]);
      else await putFields("cadence_rules", d.id, fields);
    }
    setDrafts({});
    setSaved(true);
  }

  return (
    <section class="card">
      <h2 style="margin-top:0">{t("admin.rules")}</h2>
      <table class="table" data-testid="rules-table">
        <thead>
          <tr>
            <th>{t("tier.label")}</th>
            <th>{t("admin.region")}</th>
            <th>{t("stage.label")}</th>
            <th>{t("admin.interval")}</th>
            <th>{t("admin.lead")}</th>
          </tr>
        </thead>
        <tbody>
          {edited.map((r) => (
            <tr key={r.id} data-testid="rule-row" data-tier={r.tier} data-scoped={r.region_id || r.stage ? "1" : "0"}>
              <td>
                <select value={r.tier} onChange={(e) => set(r, { tier: (e.target as HTMLSelectElement).value as CadenceRule["tier"] })}>
                  {TIERS.map((x) => (
                    <option key={x} value={x}>{x}</option>
                  ))}
                </select>
              </td>
              <td>
                <select value={r.region_id ?? ""} onChange={(e) => set(r, { region_id: (e.target as HTMLSelectElement).value || null })}>
                  <option value="">{t("common.all")}</option>
                  {regions.map((g) => (
                    <option key={g.id} value={g.id}>{g.name}</option>
                  ))}
                </select>
              </td>
              <td>
                <select value={r.stage ?? ""} onChange={(e) => set(r, { stage: (e.target as HTMLSelectElement).value || null })}>
                  <option value="">{t("common.all")}</option>
                  {STAGES.map((x) => (
                    <option key={x} value={x}>{t(`stage.${x}`)}</option>
                  ))}
                </select>
              </td>
              <td>
                <input type="number" min="1" max="3650" value={r.interval_days} data-testid="rule-interval" onInput={(e) => set(r, { interval_days: Math.max(1, Number((e.target as HTMLInputElement).value) || 1) })} />
              </td>
              <td>
                <input type="number" min="0" max="365" value={r.reminder_lead_days} onInput={(e) => set(r, { reminder_lead_days: Math.max(0, Number((e.target as HTMLInputElement).value) || 0) })} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p data-testid="rules-preview">{t("admin.preview", { before: formatNumber(before), after: formatNumber(after) })}</p>
      {saved && <p class="banner ok">{t("admin.saved")}</p>}
      <div class="actions">
        <button onClick={() => { const id = uuid7(); set({ id, tier: "C", region_id: null, stage: null, interval_days: 30, reminder_lead_days: 1, isNew: true }, {}); }} data-testid="rule-add">
          + {t("admin.add_rule")}
        </button>
        <button onClick={() => setDrafts({})} disabled={!changed}>{t("common.cancel")}</button>
        <button class="primary" disabled={!changed} onClick={() => void save()} data-testid="rules-save">{t("common.save")}</button>
      </div>
    </section>
  );
}

function GiftCatalog() {
  const items = useLive(() => db().gift_items.filter((g) => !g.deleted).toArray(), [], [] as GiftItem[]);
  const [adding, setAdding] = useState(false);
  return (
    <section class="card">
      <h2 style="margin-top:0">{t("admin.catalog")}</h2>
      <table class="table" data-testid="catalog-table">
        <thead>
          <tr>
            <th>{t("admin.name_en")}</th>
            <th>{t("admin.name_zh")}</th>
            <th>{t("admin.unit_value")}</th>
            <th>{t("admin.cap")}</th>
            <th>{t("admin.active")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <ItemRow key={i.id} item={i} />
          ))}
          {adding && <ItemRow item={null} onDone={() => setAdding(false)} />}
        </tbody>
      </table>
      {!adding && <button onClick={() => setAdding(true)} data-testid="item-add">+ {t("admin.add_item")}</button>}
    </section>
  );
}

function ItemRow({ item, onDone }: { item: GiftItem | null; onDone?: () => void }) {
  const [f, setF] = useState({
    name_en: item?.name_en ?? "",
    name_zh: item?.name_zh ?? "",
    unit_value: item?.unit_value ?? "0.00",
    yearly_cap: item?.yearly_cap ?? "0.00",
    active: item?.active ?? true,
  });
  const dirty = !item || f.name_en !== item.name_en || f.name_zh !== item.name_zh || f.unit_value !== item.unit_value || f.yearly_cap !== item.yearly_cap || f.active !== item.active;
  const money = (s: string) => (Number.isFinite(Number(s)) && Number(s) >= 0 ? Number(s).toFixed(2) : null);
  async function save() {
    const unit = money(f.unit_value);
    const cap = money(f.yearly_cap);
    if (!f.name_en.trim() || !f.name_zh.trim() || unit === null || cap === null) return;
    const fields = { name_en: f.name_en.trim(), name_zh: f.name_zh.trim(), unit_value: unit, yearly_cap: cap, active: f.active };
    if (item) await putFields("gift_items", item.id, fields);
    else await createRows([{ table: "gift_items", row: { id: uuid7(), currency: "CNY", ...fields } }]);
    onDone?.();
  }
  const input = (k: "name_en" | "name_zh" | "unit_value" | "yearly_cap") => (
    <input value={f[k]} onInput={(e) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })} aria-label={t(`admin.${k === "yearly_cap" ? "cap" : k}`)} />
  );
  return (
    <tr data-testid="item-row">
      <td>{input("name_en")}</td>
      <td>{input("name_zh")}</td>
      <td>{input("unit_value")}</td>
      <td>{input("yearly_cap")}</td>
      <td>
        <input type="checkbox" checked={f.active} onChange={() => setF({ ...f, active: !f.active })} style="width:28px;min-height:28px" aria-label={t("admin.active")} />
      </td>
      <td>
        <button disabled={!dirty} onClick={() => void save()}>{t("common.save")}</button>
      </td>
    </tr>
  );
}
