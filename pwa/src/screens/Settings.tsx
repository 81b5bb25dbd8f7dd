import { useEffect, useState } from "preact/hooks";
import { Link } from "../components/bits";
import { getMeta } from "../db";
import { useUnsyncedCount } from "../hooks";
import { LOCALE_NAMES, LOCALES, formatNumber, getLocale, t, type Locale } from "../i18n";
import { useLive } from "../live";
import { disablePush, enablePush, needsHomeScreenHint, pushSupported } from "../push";
import { session } from "../session";

/** Language, reminders, storage protection, logout. */
export function Settings({ onLocale }: { onLocale: (l: Locale) => void }) {
  const user = useLive(() => getMeta("user", null), [], null);
  const device = useLive(() => getMeta("client_id", ""), [], "");
  const notifications = useLive(() => getMeta("notifications", false), [], false);
  const unsent = useUnsyncedCount();
  const [persisted, setPersisted] = useState<boolean | null>(null);
  const [pushError, setPushError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmLogout, setConfirmLogout] = useState(false);

  useEffect(() => {
    void navigator.storage?.persisted?.().then(setPersisted);
  }, []);

  async function protect() {
    setPersisted((await navigator.storage?.persist?.()) ?? false);
  }

  async function togglePush(on: boolean) {
    setBusy(true);
    setPushError(null);
    try {
      if (on) await enablePush(session().api);
      else await disablePush(session().api);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      setPushError(msg === "denied" ? t("settings.notifications_denied") : t("settings.notifications_failed", { detail: msg }));
    } finally {
      setBusy(false);
    }
  }

  async function logout() {
    if (unsent > 0 && !confirmLogout) {
      setConfirmLogout(true);
      return;
    }
    await session().logout();
  }

  return (
    <main data-testid="settings-screen">
      <h1>{t("settings.title")}</h1>
      {user && (
        <p class="muted" data-testid="settings-user">
          {t("settings.signed_in_as", { name: user.display_name, role: t(`role.${user.role}`) })}
        </p>
      )}

      <section class="card">
        <label class="field">
          <span>{t("settings.language")}</span>
          <select
            data-testid="language-select"
            value={getLocale()}
            onChange={(e) => onLocale((e.target as HTMLSelectElement).value as Locale)}
          >
            {LOCALES.map((l) => (
              <option key={l} value={l}>
                {LOCALE_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
      </section>

      <section class="card">
        <h2 style="margin-top:0">{t("settings.notifications")}</h2>
        {!pushSupported() ? (
          <p class="muted">{t("settings.notifications_unsupported")}</p>
        ) : (
          <div class="stars" role="radiogroup" aria-label={t("settings.notifications")}>
            <button
              role="radio"
              aria-checked={notifications}
              class={notifications ? "on" : ""}
              disabled={busy}
              onClick={() => void togglePush(true)}
              data-testid="notifications-on"
            >
              {t("settings.notifications_on")}
            </button>
            <button
              role="radio"
              aria-checked={!notifications}
              class={!notifications ? "on" : ""}
              disabled={busy}
              onClick={() => void togglePush(false)}
              data-testid="notifications-off"
            >
              {t("settings.notifications_off")}
            </button>
          </div>
        )}
        {pushError && <p class="banner error" data-testid="push-error">{pushError}</p>}
        {needsHomeScreenHint() && <p class="banner info">{t("settings.ios_hint")}</p>}
      </section>

      <section class="card">
        <h2 style="margin-top:0">{t("settings.storage")}</h2>
        <p data-testid="storage-state">
          {persisted ? t("settings.storage_persisted") : t("settings.storage_not_persisted")}
        </p>
        {!persisted && unsent > 0 && (
          <p class="banner" data-testid="storage-warning">
            {t("app.storage_at_risk", { n: formatNumber(unsent) })}
          </p>
        )}
        {!persisted && (
          <button onClick={() => void protect()} data-testid="storage-persist">
            {t("settings.storage_request")}
          </button>
        )}
      </section>

      <section class="card">
        <Link href="/import-export" class="btn" testid="settings-import-export">
          {user?.role === "admin" ? t("io.title") : t("io.title_export")}
        </Link>
      </section>

      <section class="card">
        {confirmLogout && (
          <p class="banner error" data-testid="logout-warning">
            {t("settings.logout_warning", { n: formatNumber(unsent) })}
          </p>
        )}
        <button class="danger" style="width:100%" onClick={() => void logout()} data-testid="logout">
          {confirmLogout ? t("settings.logout_confirm") : t("settings.logout")}
        </button>
        <p class="muted">{t("settings.device", { id: device.slice(0, 8) })}</p>
      </section>
    </main>
  );
}
