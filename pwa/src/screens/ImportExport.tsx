import { Fragment, type ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, NetworkError } from "../api";
import { downloadCsv, uploadCsv, type UploadPhase } from "../csv-transfer";
import { useOnline, useUser } from "../hooks";
import { formatNumber, t, type MessageKey } from "../i18n";
import { session } from "../session";

/** `POST /api/import/customers/{preview,apply}` (server/imports/schemas.py). */
interface ImportIssue {
  row: number;
  column: string | null;
  message: string;
}
interface ImportReport {
  encoding: string;
  rows: number;
  creates: number;
  updates: number;
  unchanged: number;
  invalid_rows: number;
  errors: ImportIssue[];
  ignored_columns: string[];
  applied: boolean;
}

const PREVIEW = "/api/import/customers/preview";
const APPLY = "/api/import/customers/apply";
const SHOWN_ROWS = 50; // invalid rows listed; the rest are counted
const MAX_BYTES = 5 * 1024 * 1024; // server/imports/service.py MAX_BYTES: refused before uploading
// server/imports/export.py CUSTOMER_COLUMNS: names stay English in both languages
const COLUMNS = "external_id, name, tier, stage, kind, owner_username, region, phone, address, latitude, longitude, key_account, tags";
const EXPORTS = [
  { kind: "customers", label: "io.export_customers" },
  { kind: "visits", label: "io.export_visits" },
  { kind: "gifts", label: "io.export_gifts" },
] as const satisfies ReadonlyArray<{ kind: string; label: MessageKey }>;

/** A failed request as one sentence for the user (never a blank screen). */
function problem(e: unknown): string {
  if (e instanceof NetworkError) return t("io.network");
  if (e instanceof ApiError) {
    if (e.status === 413) return t("io.too_large", { detail: e.detail });
    if (e.status === 400) return t("io.unreadable", { detail: e.detail });
    return t("io.failed", { detail: e.detail });
  }
  return t("io.failed", { detail: e instanceof Error ? e.message : String(e) });
}

/** A file size, rounded up to a tenth (a file just over the limit never reads as the limit). */
function sizeText(bytes: number): string {
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, "KB"] : [bytes / 1024 / 1024, "MB"];
  return `${formatNumber(Math.ceil(value * 10) / 10, undefined, 1)} ${unit}`;
}

/** CSV export for every role (own scope) and customer import for admins; online only. */
export function ImportExport() {
  const user = useUser();
  const online = useOnline();
  const admin = user?.role === "admin";
  return (
    <main data-testid="import-export-screen">
      <h1>{admin ? t("io.title") : t("io.title_export")}</h1>
      {!online && (
        <p class="banner" data-testid="io-offline">
          {t("io.online_only")}
        </p>
      )}
      {admin && <ImportSection online={online} />}
      <ExportSection online={online} />
    </main>
  );
}

type Step =
  | { kind: "idle" }
  | { kind: "busy"; action: "preview" | "apply"; phase: UploadPhase }
  | { kind: "previewed"; report: ImportReport }
  | { kind: "applied"; report: ImportReport };

function ImportSection({ online }: { online: boolean }) {
  const [file, setFile] = useState<File | null>(null);
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [error, setError] = useState<string | null>(null);
  const busy = step.kind === "busy";

  async function send(action: "preview" | "apply", chosen: File) {
    const before: Step = action === "apply" ? step : { kind: "idle" }; // a failed apply can be retried
    setError(null);
    setStep({ kind: "busy", action, phase: { kind: "upload", loaded: 0, total: chosen.size } });
    try {
      const report = await uploadCsv<ImportReport>(session().api, action === "preview" ? PREVIEW : APPLY, chosen, (phase) =>
        setStep({ kind: "busy", action, phase }),
      );
      setStep({ kind: action === "preview" ? "previewed" : "applied", report });
      if (action === "apply") void session().syncNow("import"); // bring the new customers to this device
    } catch (e) {
      const report = e instanceof ApiError ? (e.body.report as ImportReport | undefined) : undefined;
      setError(problem(e));
      setStep(report ? { kind: "previewed", report } : before);
    }
  }

  function pick(input: HTMLInputElement) {
    const chosen = input.files?.[0] ?? null;
    input.value = ""; // choosing the same file again (after fixing it) fires change again
    setFile(chosen);
    if (!chosen) return;
    if (chosen.size > MAX_BYTES) {
      setStep({ kind: "idle" });
      setError(t("io.too_large", { detail: `${sizeText(chosen.size)} > ${sizeText(MAX_BYTES)}` }));
      return;
    }
    void send("preview", chosen);
  }

  const report = step.kind === "previewed" || step.kind === "applied" ? step.report : null;
  return (
    <section class="card" data-testid="import-section">
      <h2 style="margin-top:0">{t("io.import")}</h2>
      <p class="muted">{t("io.import_hint", { columns: COLUMNS })}</p>
      <div class="row">
        <label class="btn primary" style={`position:relative${online && !busy ? "" : ";opacity:0.55"}`}>
          {t("io.choose_file")}
          <input
            type="file"
            accept=".csv,text/csv"
            disabled={!online || busy}
            data-testid="import-file"
            onChange={(e) => pick(e.target as HTMLInputElement)}
            style="position:absolute;width:1px;height:1px;opacity:0;overflow:hidden"
          />
        </label>
        {file && (
          <span class="grow muted" data-testid="import-file-name">
            {t("io.file", { name: file.name, size: sizeText(file.size) })}
          </span>
        )}
      </div>
      {step.kind === "busy" && <Progress action={step.action} phase={step.phase} />}
      {error && (
        <p class="banner error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
      {report && (
        <Report report={report}>
          {step.kind === "previewed" && file && (
            <div class="actions">
              <button class="primary" disabled={!online || report.errors.length > 0} onClick={() => void send("apply", file)} data-testid="import-apply">
                {t("io.apply")}
              </button>
            </div>
          )}
          {step.kind === "previewed" && report.errors.length > 0 && <p class="muted">{t("io.fix_first")}</p>}
          {step.kind === "applied" && (
            <p class="banner ok" role="status" data-testid="import-done">
              {t("io.done", { creates: formatNumber(report.creates), updates: formatNumber(report.updates), unchanged: formatNumber(report.unchanged) })}
            </p>
          )}
        </Report>
      )}
    </section>
  );
}

function Progress({ action, phase }: { action: "preview" | "apply"; phase: UploadPhase }) {
  const uploading = phase.kind === "upload";
  const pct = uploading && phase.total > 0 ? Math.min(100, Math.round((phase.loaded / phase.total) * 100)) : 0;
  const label = uploading ? t("io.uploading", { pct: `${pct}%` }) : action === "apply" ? t("io.applying") : t("io.checking");
  return (
    <div data-testid="import-progress" data-phase={phase.kind} role="status" aria-live="polite" style="margin:10px 0">
      {/* no value while the server works: an indeterminate (moving) bar */}
      {uploading ? <progress max={100} value={pct} aria-label={label} style="width:100%;height:12px" /> : <progress aria-label={label} style="width:100%;height:12px" />}
      <div class="muted">{label}</div>
    </div>
  );
}

/** Counts, then `children` (the apply button or the result), then the rows to fix. */
function Report({ report, children }: { report: ImportReport; children: ComponentChildren }) {
  const byRow = new Map<number, ImportIssue[]>();
  for (const issue of report.errors) byRow.set(issue.row, [...(byRow.get(issue.row) ?? []), issue]);
  const rows = [...byRow.entries()].sort((a, b) => a[0] - b[0]);
  const shown = rows.slice(0, SHOWN_ROWS);
  // The header is row 1; `invalid_rows` counts the data rows, also those past the listed errors.
  const more = Math.max(0, report.invalid_rows - shown.filter(([row]) => row > 1).length);
  const counts: Array<[string, MessageKey, number]> = [
    ["rows", "io.rows", report.rows],
    ["creates", "io.creates", report.creates],
    ["updates", "io.updates", report.updates],
    ["unchanged", "io.unchanged", report.unchanged],
    ["invalid", "io.invalid", report.invalid_rows],
  ];
  return (
    <div data-testid="import-report" data-applied={report.applied ? "1" : "0"}>
      <dl class="kv">
        {counts.map(([key, label, n]) => (
          <Fragment key={key}>
            <dt>{t(label)}</dt>
            <dd data-testid={`import-${key}`} data-count={n}>
              {formatNumber(n)}
            </dd>
          </Fragment>
        ))}
      </dl>
      <p class="muted">
        {t("io.encoding", { encoding: report.encoding === "gbk" ? "GBK" : "UTF-8" })}
        {report.ignored_columns.length > 0 && ` · ${t("io.ignored", { columns: report.ignored_columns.join(", ") })}`}
      </p>
      {children}
      {rows.length > 0 && (
        <>
          <h3>{t("io.errors_title")}</h3>
          <div style="overflow-x:auto">
            <table class="table" data-testid="import-errors">
              <thead>
                <tr>
                  <th>{t("io.row")}</th>
                  <th>{t("io.column")}</th>
                  <th>{t("io.problem")}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map(([row, issues]) => (
                  <tr key={row} data-testid="import-error-row" data-row={row}>
                    <td>{row === 1 ? t("io.header_row") : formatNumber(row)}</td>
                    <td>{issues.map((i) => i.column ?? "—").join(", ")}</td>
                    <td style="white-space:normal">{issues.map((i) => i.message).join("; ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {more > 0 && (
            <p class="muted" data-testid="import-errors-more" data-count={more}>
              {t("io.more_rows", { n: formatNumber(more) })}
            </p>
          )}
        </>
      )}
    </div>
  );
}

function ExportSection({ online }: { online: boolean }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function download(kind: string) {
    setBusy(kind);
    setMessage(null);
    try {
      const name = await downloadCsv(session().api, `/api/export/${kind}.csv`, `${kind}.csv`);
      setMessage({ ok: true, text: t("io.downloaded", { name }) });
    } catch (e) {
      setMessage({ ok: false, text: problem(e) });
    } finally {
      setBusy(null);
    }
  }

  return (
    <section class="card" data-testid="export-section">
      <h2 style="margin-top:0">{t("io.export")}</h2>
      <p class="muted">{t("io.export_hint")}</p>
      <div class="actions">
        {EXPORTS.map(({ kind, label }) => (
          <button key={kind} disabled={!online || busy !== null} onClick={() => void download(kind)} data-testid={`export-${kind}`}>
            {busy === kind ? t("io.downloading") : t(label)}
          </button>
        ))}
      </div>
      {message && (
        <p class={`banner ${message.ok ? "ok" : "error"}`} role={message.ok ? "status" : "alert"} data-testid="export-message">
          {message.text}
        </p>
      )}
    </section>
  );
}
