import { useMemo, useState } from "preact/hooks";
import { Link, TierBadge } from "../components/bits";
import type { Customer } from "../db";
import { formatNumber, t } from "../i18n";
import { useLive } from "../live";
import { allCustomers, filterCustomers, type CustomerFilter } from "../queries";
import { CustomerDetailView } from "./CustomerDetail";

export const STAGES = ["prospect", "contacted", "active", "key", "at_risk", "lost"] as const;
export const TIERS = ["A", "B", "C"] as const;
const PAGE = 100;

// Kept across navigation so "back" returns to the same search.
let lastFilter: CustomerFilter = { text: "", tier: "", stage: "" };

/** Customers list (and, on tablets, the selected customer beside it). */
export function Customers({ selected }: { selected: string | null }) {
  const rows = useLive(allCustomers, [], null as Customer[] | null);
  const [filter, setFilterState] = useState<CustomerFilter>(lastFilter);
  const [limit, setLimit] = useState(PAGE);
  const setFilter = (f: CustomerFilter) => {
    lastFilter = f;
    setFilterState(f);
    setLimit(PAGE);
  };
  const matches = useMemo(() => (rows ? filterCustomers(rows, filter) : []), [rows, filter]);
  const shown = matches.slice(0, limit); // rendering is capped; filtering 2,000 rows is ~1 ms

  return (
    <main class={`two-pane${selected ? " has-detail" : ""}`} data-testid="customers-screen">
      <section class="pane-list">
        <h1>{t("customers.title")}</h1>
        <input
          type="search"
          data-testid="customer-search"
          placeholder={t("customers.search")}
          aria-label={t("customers.search")}
          value={filter.text}
          onInput={(e) => setFilter({ ...filter, text: (e.target as HTMLInputElement).value })}
        />
        <div class="grid2" style="margin-top:8px">
          <select
            data-testid="filter-tier"
            aria-label={t("tier.label")}
            value={filter.tier}
            onChange={(e) => setFilter({ ...filter, tier: (e.target as HTMLSelectElement).value })}
          >
            <option value="">
              {t("tier.label")}: {t("common.all")}
            </option>
            {TIERS.map((x) => (
              <option value={x} key={x}>
                {t("tier.label")}: {t(`tier.${x}`)}
              </option>
            ))}
          </select>
          <select
            data-testid="filter-stage"
            aria-label={t("stage.label")}
            value={filter.stage}
            onChange={(e) => setFilter({ ...filter, stage: (e.target as HTMLSelectElement).value })}
          >
            <option value="">
              {t("stage.label")}: {t("common.all")}
            </option>
            {STAGES.map((x) => (
              <option value={x} key={x}>
                {t(`stage.${x}`)}
              </option>
            ))}
          </select>
        </div>
        <p class="muted" data-testid="customer-count">
          {t("customers.count", { shown: formatNumber(shown.length), total: formatNumber(matches.length) })}
        </p>
        {rows !== null && matches.length === 0 && <p class="muted">{t("customers.empty")}</p>}
        <ul class="list" data-testid="customer-list">
          {shown.map((c) => (
            <li key={c.id} data-testid="customer-item" data-customer-id={c.id}>
              <Link href={`/customers/${c.id}`} class="item">
                <TierBadge customer={c} />
                <div class="grow">
                  <div class="title" data-content style={c.id === selected ? "color:var(--brand)" : ""}>
                    {c.name}
                  </div>
                  <div class="sub">
                    {t(`stage.${c.stage}`)} {c.phone && `· ${c.phone}`}
                  </div>
                </div>
              </Link>
            </li>
          ))}
        </ul>
        {matches.length > shown.length && (
          <button style="width:100%;margin-top:8px" onClick={() => setLimit(limit + PAGE)} data-testid="show-more">
            {t("customers.show_more")}
          </button>
        )}
      </section>
      <section class="pane-detail">
        {selected ? (
          <CustomerDetailView id={selected} />
        ) : (
          <p class="pane-empty muted card">{t("customers.select")}</p>
        )}
      </section>
    </main>
  );
}
