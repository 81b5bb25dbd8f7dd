import { useMemo, useState } from "preact/hooks";
import { Link, TierBadge } from "../components/bits";
import { todayIn } from "../dates";
import { db, getMeta, type Gift, type UserRow } from "../db";
import { formatDay, formatMoney, formatNumber, getLocale, t } from "../i18n";
import { useLive } from "../live";
import { atRisk, coverageByWeek, pareto, repStats, type Data } from "../manager/stats";
import { sendCommand, putFields } from "../sync/outbox";

async function loadData(): Promise<Data> {
  const d = db();
  const [customers, visits, gifts, notes, plans, rules, users] = await Promise.all([
    d.customers.toArray(),
    d.visits.toArray(),
    d.gifts.toArray(),
    d.notes.toArray(),
    d.planned_revisits.toArray(),
    d.cadence_rules.toArray(),
    d.users.toArray(),
  ]);
  return { customers, visits, gifts, notes, plans, rules, users };
}

const pct = (x: number | null) => (x === null ? "—" : `${formatNumber(Math.round(x * 100))}%`);

/** The manager's region at a glance, computed from the local replica (reads offline). */
export function Dashboard() {
  const user = useLive(() => getMeta("user", null), [], null);
  const data = useLive(loadData, [], null as Data | null);
  const today = todayIn(user?.time_zone);
  const stats = useMemo(() => (data ? repStats(data, today, new Date(), user?.time_zone) : []), [data, today, user?.time_zone]);
  const weeks = useMemo(() => (data ? coverageByWeek(data, today) : []), [data, today]);
  const par = useMemo(() => (data ? pareto(data, today) : null), [data, today]);
  const risks = useMemo(() => (data ? atRisk(data, today) : []), [data, today]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [target, setTarget] = useState("");
  const [done, setDone] = useState<string | null>(null);
  if (!data) return <main>{t("app.loading")}</main>;
  const reps = data.users.filter((u) => u.role === "rep" && !u.deleted && u.active !== false);
  const customersById = new Map(data.customers.map((c) => [c.id, c]));
  const open = data.plans.filter((p) => !p.deleted && p.status === "planned");
  const overdue = [...new Map(open.filter((p) => p.due_date < today).sort((a, b) => a.due_date.localeCompare(b.due_date)).map((p) => [p.customer_id, p])).values()];
  const complaints = data.notes.filter((n) => !n.deleted && n.kind === "complaint" && n.status === "open");
  const overCap = data.gifts.filter((g) => !g.deleted && g.over_cap && g.review_status === "pending");
  const repName = (id: string | null) => data.users.find((u) => u.id === id)?.display_name ?? "—";
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  async function reassign() {
    if (!target || selected.size === 0) return;
    for (const id of selected) await sendCommand("reassign_customer", { customer_id: id, to_rep_id: target }, id);
    setDone(t("dash.reassign_queued", { n: selected.size, name: repName(target) }));
    setSelected(new Set());
  }

  const Select = ({ id }: { id: string }) => (
    <input type="checkbox" aria-label={t("dash.select")} checked={selected.has(id)} onChange={() => toggle(id)} style="width:28px;min-height:28px" data-testid="select-customer" />
  );

  return (
    <main data-testid="dashboard-screen">
      <h1>{t("dash.title")}</h1>
      <section class="card" style="overflow-x:auto">
        <h2 style="margin-top:0">{t("dash.reps")}</h2>
        <table class="table" data-testid="rep-table">
          <thead>
            <tr>
              <th>{t("dash.rep")}</th>
              <th>{t("dash.owned")}</th>
              <th>{t("dash.coverage_a")}</th>
              <th>{t("dash.coverage_b")}</th>
              <th>{t("dash.coverage_c")}</th>
              <th>{t("dash.overdue")}</th>
              <th>{t("dash.forgotten")}</th>
              <th>{t("dash.visits_week")}</th>
              <th>{t("dash.visits_month")}</th>
              <th>{t("dash.gift_spend")}</th>
              <th>{t("dash.satisfaction")}</th>
              <th>{t("dash.complaints")}</th>
            </tr>
          </thead>
          <tbody>
            {stats.map((s) => (
              <tr key={s.rep.id} data-testid="rep-row" data-rep-id={s.rep.id}>
                <td>{s.rep.display_name}</td>
                <td data-testid="rep-owned">{formatNumber(s.owned)}</td>
                {(["A", "B", "C"] as const).map((tier) => (
                  <td key={tier}>{pct(s.coverage[tier].total ? s.coverage[tier].covered / s.coverage[tier].total : null)}</td>
                ))}
                <td data-testid="rep-overdue">{formatNumber(s.overdue)}</td>
                <td>{formatNumber(s.forgotten)}</td>
                <td>{formatNumber(s.visitsWeek)}</td>
                <td>{formatNumber(s.visitsMonth)}</td>
                <td>
                  {formatMoney(s.giftSpend)}
                  {s.overCap > 0 && <span class="badge overdue" style="margin-left:4px">{s.overCap}</span>}
                </td>
                <td>{s.avgSatisfaction === null ? "—" : formatNumber(s.avgSatisfaction, undefined, 1)}</td>
                <td>
                  {formatNumber(s.openComplaints)}
                  {s.oldestComplaintDays !== null && ` (${t("dash.days", { n: s.oldestComplaintDays })})`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <div class="grid-charts">
        <section class="card">
          <h2 style="margin-top:0">{t("dash.coverage_chart")}</h2>
          <CoverageChart weeks={weeks} />
        </section>
        {par && (
          <section class="card">
            <h2 style="margin-top:0">{t("dash.pareto")}</h2>
            <p class="muted" data-testid="pareto-share">{t("dash.pareto_share", { share: pct(par.topShare) })}</p>
            <ParetoChart values={par.rows.map((r) => r.value)} />
            <h3>{t("dash.tier_suggestions")}</h3>
            <ul class="list">
              {par.rows
                .filter((r) => r.suggestedTier !== r.customer.tier)
                .slice(0, 8)
                .map((r) => (
                  <li key={r.customer.id} class="item" data-testid="tier-suggestion">
                    <TierBadge customer={r.customer} />
                    <span class="grow">
                      {r.customer.name} → {r.suggestedTier} <span class="muted">({formatMoney(r.value)})</span>
                    </span>
                    <button onClick={() => void putFields("customers", r.customer.id, { tier: r.suggestedTier })} data-testid="accept-tier">
                      {t("dash.accept")}
                    </button>
                  </li>
                ))}
            </ul>
          </section>
        )}
      </div>

      <section class="card">
        <h2 style="margin-top:0">{t("dash.reassign")}</h2>
        {done && <p class="banner ok" data-testid="reassign-done">{done}</p>}
        <div class="row">
          <span class="muted">{t("dash.selected", { n: selected.size })}</span>
          <select class="grow" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} data-testid="reassign-target" aria-label={t("dash.to_rep")}>
            <option value="">{t("dash.to_rep")}</option>
            {reps.map((r: UserRow) => (
              <option key={r.id} value={r.id}>
                {r.display_name}
              </option>
            ))}
          </select>
          <button class="primary" disabled={!target || selected.size === 0} onClick={() => void reassign()} data-testid="reassign-apply">
            {t("dash.reassign_apply")}
          </button>
        </div>
      </section>

      <div class="grid-charts">
        <section class="card">
          <h2 style="margin-top:0">{t("dash.overdue_list")} ({formatNumber(overdue.length)})</h2>
          <ul class="list" data-testid="overdue-list">
            {overdue.slice(0, 50).map((p) => {
              const c = customersById.get(p.customer_id);
              if (!c) return null;
              return (
                <li key={p.id} class="item">
                  <Select id={c.id} />
                  <TierBadge customer={c} />
                  <Link href={`/customers/${c.id}`} class="grow">
                    <div class="title">{c.name}</div>
                    <div class="sub">
                      {repName(c.owner_id)} · {t("today.due_on", { date: formatDay(p.due_date) })}
                    </div>
                  </Link>
                </li>
              );
            })}
          </ul>
        </section>
        <section class="card">
          <h2 style="margin-top:0">{t("dash.at_risk")} ({formatNumber(risks.length)})</h2>
          <ul class="list" data-testid="risk-list">
            {risks.slice(0, 50).map((r) => (
              <li key={r.customer.id} class="item">
                <Select id={r.customer.id} />
                <TierBadge customer={r.customer} />
                <Link href={`/customers/${r.customer.id}`} class="grow">
                  <div class="title">{r.customer.name}</div>
                  <div class="sub">
                    {repName(r.customer.owner_id)} ·{" "}
                    {r.reason === "no_visit"
                      ? r.daysSinceVisit === null
                        ? t("dash.never_visited")
                        : t("dash.no_visit_for", { n: r.daysSinceVisit })
                      : t("dash.orders_falling")}
                  </div>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      </div>

      <div class="grid-charts">
        <section class="card">
          <h2 style="margin-top:0">{t("dash.open_complaints")} ({formatNumber(complaints.length)})</h2>
          <ul class="list" data-testid="complaint-list">
            {complaints.map((n) => (
              <li key={n.id} class="item">
                <div class="grow">
                  <div class="title">{customersById.get(n.customer_id)?.name ?? "—"}</div>
                  <div class="sub">
                    {n.body} · {t("dash.days", { n: Math.max(0, Math.round((Date.now() - Date.parse(n.created_at)) / 86_400_000)) })}
                  </div>
                </div>
                <button
                  onClick={() => void putFields("notes", n.id, { status: "resolved", resolved_at: new Date().toISOString() })}
                  data-testid="resolve-complaint"
                >
                  {t("dash.resolve")}
                </button>
              </li>
            ))}
          </ul>
        </section>
        <section class="card">
          <h2 style="margin-top:0">{t("dash.over_cap")} ({formatNumber(overCap.length)})</h2>
          <ul class="list" data-testid="overcap-list">
            {overCap.map((g) => (
              <OverCapItem key={g.id} gift={g} customer={customersById.get(g.customer_id)?.name ?? "—"} rep={repName(g.rep_id)} />
            ))}
          </ul>
          <p class="muted">
            <Link href="/sync">{t("dash.conflicts_link")}</Link>
          </p>
        </section>
      </div>
    </main>
  );
}

function OverCapItem({ gift, customer, rep }: { gift: Gift; customer: string; rep: string }) {
  const [comment, setComment] = useState("");
  return (
    <li class="item" data-testid="overcap-item">
      <div class="grow">
        <div class="title">{customer}</div>
        <div class="sub">
          {rep} · {formatMoney(gift.quantity * Number(gift.unit_value), gift.currency)} · {formatDay(gift.given_at.slice(0, 10))}
        </div>
        <input placeholder={t("dash.comment")} aria-label={t("dash.comment")} value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
      </div>
      <button
        onClick={() => void putFields("gifts", gift.id, { review_status: "approved", review_comment: comment })}
        data-testid="approve-gift"
      >
        {t("dash.approve")}
      </button>
    </li>
  );
}

const COLORS = { A: "#b45309", B: "#1d4ed8", C: "#475569" };

function CoverageChart({ weeks }: { weeks: ReturnType<typeof coverageByWeek> }) {
  const w = 320;
  const h = 160;
  const x = (i: number) => 30 + (i * (w - 40)) / Math.max(1, weeks.length - 1);
  const y = (v: number) => h - 20 - v * (h - 30);
  return (
    <svg viewBox={`0 0 ${w} ${h}`} width="100%" role="img" aria-label={t("dash.coverage_chart")} data-testid="coverage-chart">
      {[0, 0.5, 1].map((v) => (
        <g key={v}>
          <line x1={30} x2={w - 10} y1={y(v)} y2={y(v)} stroke="#e2e8f0" />
          <text x={0} y={y(v) + 4} font-size="10" fill="#64748b">
            {Math.round(v * 100)}%
          </text>
        </g>
      ))}
      {(["A", "B", "C"] as const).map((tier) => (
        <polyline
          key={tier}
          fill="none"
          stroke={COLORS[tier]}
          stroke-width="2"
          points={weeks
            .map((p, i) => (p[tier] === null ? null : `${x(i)},${y(p[tier]!)}`))
            .filter(Boolean)
            .join(" ")}
        />
      ))}
      {(["A", "B", "C"] as const).map((tier, i) => (
        <text key={tier} x={40 + i * 40} y={h - 4} font-size="11" fill={COLORS[tier]}>
          ■ {tier}
        </text>
      ))}
      {weeks.length > 0 && (
        <text x={w - 10} y={h - 4} font-size="10" fill="#64748b" text-anchor="end">
          {new Intl.DateTimeFormat(getLocale(), { month: "short", day: "numeric" }).format(new Date(`${weeks[weeks.length - 1]!.week}T00:00:00Z`))}
        </text>
      )}
    </svg>
  );
}

function ParetoChart({ values }: { values: number[] }) {
  const w = 320;
  const h = 140;
  const total = values.reduce((s, v) => s + v, 0) || 1;
  const max = values[0] || 1;
  const n = Math.max(1, values.length);
  const bw = (w - 20) / n;
  let run = 0;
  const cum = values.map((v) => (run += v) / total);
  return (
    <svg viewBox={`0 0 ${w} ${h}`} width="100%" role="img" aria-label={t("dash.pareto")} data-testid="pareto-chart">
      {values.map((v, i) => (
        <rect key={i} x={10 + i * bw} y={h - 10 - (v / max) * (h - 20)} width={Math.max(0.5, bw - 0.3)} height={(v / max) * (h - 20)} fill={i < n * 0.2 ? "#0f766e" : "#94a3b8"} />
      ))}
      <polyline fill="none" stroke="#b45309" stroke-width="1.5" points={cum.map((c, i) => `${10 + (i + 0.5) * bw},${h - 10 - c * (h - 20)}`).join(" ")} />
      <line x1={10 + n * 0.2 * bw} x2={10 + n * 0.2 * bw} y1={5} y2={h - 10} stroke="#64748b" stroke-dasharray="3 3" />
    </svg>
  );
}
