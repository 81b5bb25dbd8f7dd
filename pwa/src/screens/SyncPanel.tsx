import { useState } from "preact/hooks";
import { syncingLabel } from "../components/bits";
import { db, getMeta, type ConflictRow, type OutboxEntry, type UserRow } from "../db";
import { useOnline, useSyncActivity } from "../hooks";
import { formatDateTime, formatNumber, t, type MessageKey } from "../i18n";
import { useLive } from "../live";
import { session } from "../session";
import { discardRejected, resubmitRejected } from "../sync/outbox";
import { conflictValue, dismissConflict, restoreConflict } from "../writes";

function tableName(table: string): string {
  const key = `table.${table}` as MessageKey;
  const s = t(key);
  return s === key ? table : s;
}

/** Sync state in full: pending, last success, refused items, conflicts to restore. */
export function SyncPanel() {
  const online = useOnline();
  const act = useSyncActivity();
  const unsent = useLive(() => db().outbox.where("status").anyOf("pending", "sent").count(), [], 0);
  const rejected = useLive(() => db().outbox.where("status").equals("rejected").toArray(), [], [] as OutboxEntry[]);
  const conflicts = useLive(
    () => db().conflicts.filter((c) => !c.deleted && c.status === "open").toArray(),
    [],
    [] as ConflictRow[],
  );
  const users = useLive(() => db().users.toArray(), [], [] as UserRow[]);
  const lastSync = useLive(() => getMeta("last_sync", null), [], null);
  const lastError = useLive(() => getMeta("last_error", null), [], null);
  const needsLogin = useLive(() => getMeta("needs_login", false), [], false);
  const needsUpdate = useLive(() => getMeta("needs_update", false), [], false);
  const who = (id: string | null) => users.find((u) => u.id === id)?.display_name ?? "—";

  return (
    <main data-testid="sync-screen">
      <h1>{t("sync.title")}</h1>
      {!online && <p class="banner">{t("sync.offline")}</p>}
      {needsLogin && <p class="banner error">{t("sync.relogin")}</p>}
      {needsUpdate && <p class="banner">{t("sync.update_needed")}</p>}
      <section class="card">
        <p data-testid="sync-pending" data-count={unsent}>
          {unsent > 0 ? t("sync.pending", { n: formatNumber(unsent) }) : t("sync.all_synced")}
        </p>
        <p class="muted" data-testid="sync-last">
          {t("sync.last_sync", { when: lastSync ? formatDateTime(lastSync) : t("sync.never") })}
        </p>
        {lastError && online && (
          <p class="banner error" data-testid="sync-error">
            {t("sync.error", { detail: lastError })}
          </p>
        )}
        <button
          class="primary"
          style="width:100%"
          disabled={act.running || !online}
          onClick={() => void session().syncNow("manual")}
          data-testid="sync-now"
        >
          {act.running ? syncingLabel(act) : t("sync.now")}
        </button>
      </section>

      <h2>{t("sync.rejected")}</h2>
      {rejected.length === 0 && <p class="muted">{t("sync.rejected_empty")}</p>}
      {rejected.map((e) => (
        <RejectedItem key={e.n} entry={e} />
      ))}

      <h2>{t("sync.conflicts")}</h2>
      {conflicts.length === 0 && <p class="muted" data-testid="conflicts-empty">{t("sync.conflicts_empty")}</p>}
      {conflicts.map((c) => (
        <section class="card" key={c.id} data-testid="conflict-item" data-row-id={c.row_id} data-field={c.field}>
          <strong>{t("sync.conflict_field", { table: tableName(c.tbl), field: c.field })}</strong>
          <p data-testid="conflict-losing" data-content>{t("sync.losing_value", { value: conflictValue(c.losing_value) })}</p>
          <p class="muted">{t("sync.winning_value", { value: conflictValue(c.winning_value) })}</p>
          <p class="muted">{t("sync.conflict_by", { who: who(c.losing_author), when: formatDateTime(c.created_at) })}</p>
          <div class="actions">
            <button onClick={() => void dismissConflict(c)} data-testid="conflict-dismiss">
              {t("sync.dismiss")}
            </button>
            <button class="primary" onClick={() => void restoreConflict(c)} data-testid="conflict-restore">
              {t("sync.restore")}
            </button>
          </div>
        </section>
      ))}
    </main>
  );
}

function RejectedItem({ entry }: { entry: OutboxEntry }) {
  const [fixing, setFixing] = useState(false);
  const [values, setValues] = useState<Record<string, string>>({});
  const editable = Object.entries(entry.data).filter(([, v]) => v === null || ["string", "number", "boolean"].includes(typeof v));

  async function resend(e: Event) {
    e.preventDefault();
    const data: Record<string, unknown> = {};
    for (const [k, old] of editable) {
      if (!(k in values)) continue;
      const raw = values[k]!;
      data[k] = typeof old === "number" ? Number(raw) : typeof old === "boolean" ? raw === "true" : raw;
    }
    await resubmitRejected(entry.n, data);
    setFixing(false);
  }

  return (
    <section class="card" data-testid="rejected-item" data-n={entry.n}>
      <strong>
        {t(`sync.kind.${entry.kind}`)} · {tableName(entry.table)}
      </strong>
      <p class="muted">{formatDateTime(entry.created_at)}</p>
      <p data-testid="rejected-reason">{t("sync.reason", { code: entry.code ?? "?", message: entry.message ?? "" })}</p>
      {fixing ? (
        <form onSubmit={resend}>
          <h3>{t("sync.fix_title")}</h3>
          {editable.map(([k, v]) => (
            <label class="field" key={k}>
              <span>{k}</span>
              <input
                data-testid={`fix-${k}`}
                value={values[k] ?? (v === null ? "" : String(v))}
                onInput={(ev) => setValues({ ...values, [k]: (ev.target as HTMLInputElement).value })}
              />
            </label>
          ))}
          <div class="actions">
            <button type="button" onClick={() => setFixing(false)}>
              {t("common.cancel")}
            </button>
            <button class="primary" type="submit" data-testid="fix-send">
              {t("common.save")}
            </button>
          </div>
        </form>
      ) : (
        <div class="actions">
          <button class="danger" onClick={() => void discardRejected(entry.n)} data-testid="rejected-discard">
            {t("common.discard")}
          </button>
          <button onClick={() => setFixing(true)} data-testid="rejected-fix">
            {t("common.fix")}
          </button>
        </div>
      )}
    </section>
  );
}
