/** Small shared pieces: tier badge, in-app link, pending marker, the syncing label. */
import type { ComponentChildren } from "preact";
import type { Customer } from "../db";
import { formatNumber, t } from "../i18n";
import type { SyncActivity } from "../sync/status";
import { linkClick } from "../router";

export function TierBadge({ customer }: { customer: Pick<Customer, "tier" | "key_account"> }) {
  return (
    <span class="row" style="gap:4px;flex-wrap:nowrap">
      <span class={`badge tier-${customer.tier}`} data-testid="tier-badge" title={t("tier.label")}>
        {t(`tier.${customer.tier}` as "tier.A")}
      </span>
      {customer.key_account && <span class="badge key">{t("tier.key")}</span>}
    </span>
  );
}

export function Link(props: { href: string; class?: string; children: ComponentChildren; testid?: string }) {
  return (
    <a href={props.href} class={props.class} onClick={linkClick} data-testid={props.testid}>
      {props.children}
    </a>
  );
}

export function PendingMark() {
  return (
    <span class="badge pending" data-testid="pending-mark">
      {t("common.pending")}
    </span>
  );
}

/** "Syncing…", with the records received so far once a pull brings many (an initial sync). */
export function syncingLabel(act: SyncActivity): string {
  return act.received > 0 ? t("sync.receiving", { n: formatNumber(act.received) }) : t("sync.running");
}
