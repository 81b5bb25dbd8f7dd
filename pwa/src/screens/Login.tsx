import { useState } from "preact/hooks";
import { ApiError, NetworkError } from "../api";
import { getMeta } from "../db";
import { t } from "../i18n";
import { useLive } from "../live";
import { session } from "../session";

/** Sign in. Also shown when the refresh token died: the outbox stays untouched. */
export function Login() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reauth = useLive(() => getMeta("needs_login", false), [], false);
  const previous = useLive(() => getMeta("user", null), [], null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session().login(username.trim(), password);
    } catch (err) {
      if (err instanceof NetworkError) setError(t("login.error_network"));
      else if (err instanceof ApiError && (err.status === 401 || err.status === 400)) setError(t("login.error_invalid"));
      else if (err instanceof ApiError) setError(t("login.error_other", { detail: err.detail }));
      else if (err instanceof Error && err.message.startsWith("other_user:"))
        setError(t("login.other_user", { name: err.message.slice("other_user:".length) }));
      else setError(t("login.error_other", { detail: String(err) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login" data-testid="login-screen">
      <h1>{t("login.title")}</h1>
      <p class="muted">{t("login.subtitle")}</p>
      {reauth && previous && (
        <p class="banner" data-testid="login-reauth">
          {t("login.reauth")}
        </p>
      )}
      <form onSubmit={submit} class="card">
        <label class="field">
          <span>{t("login.username")}</span>
          <input
            data-testid="login-username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            required
            value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="field">
          <span>{t("login.password")}</span>
          <input
            data-testid="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        {error && (
          <p class="banner error" data-testid="login-error" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy} data-testid="login-submit" style="width:100%">
          {busy ? t("login.busy") : t("login.submit")}
        </button>
      </form>
    </main>
  );
}
