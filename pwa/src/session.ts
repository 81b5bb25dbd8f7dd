/**
 * The composition root of the page: one Api, one SyncClient, one SyncScheduler, wired to
 * local writes. Login keeps another user's unsynced work safe; logout warns first.
 */
import { Api } from "./api";
import { db, getMeta, setMeta } from "./db";
import { normalizeLocale, setLocale, type Locale } from "./i18n";
import { SyncClient } from "./sync/client";
import { clientId, onLocalWrite, outboxCounts } from "./sync/outbox";
import { SyncScheduler } from "./sync/scheduler";

const LOCALE_KEY = "revisit.locale";

export class Session {
  readonly api = new Api();
  readonly client = new SyncClient({ api: this.api });
  readonly scheduler = new SyncScheduler({
    run: async () => {
      if (await getMeta("needs_login", false)) return; // wait for the user to sign in again
      await this.client.sync();
    },
    hasUnsent: async () => (await outboxCounts()).unsent > 0,
    onBlocked: (reason) => {
      if (reason === "update") void this.onUpdateNeeded?.();
    },
  });
  onUpdateNeeded: (() => void) | null = null;
  private unlisten: (() => void) | null = null;

  /** Start syncing if someone is signed in and their session is usable. */
  async start(): Promise<void> {
    const user = await getMeta("user", null);
    const needsLogin = await getMeta("needs_login", false);
    if (!user || needsLogin) return;
    if (!this.unlisten) this.unlisten = onLocalWrite(() => this.scheduler.afterWrite());
    this.scheduler.start();
  }

  syncNow(reason = "manual"): Promise<void> {
    return this.scheduler.trigger(reason);
  }

  async login(username: string, password: string): Promise<void> {
    const previous = await getMeta("user", null);
    if (previous && previous.username.toLowerCase() !== username.toLowerCase()) {
      const { unsent, rejected } = await outboxCounts();
      if (unsent + rejected > 0) throw new Error(`other_user:${previous.username}`);
      await wipe(); // another user on this device: start from an empty replica and a new client id
    }
    const user = await this.api.login(username, password, await clientId());
    // Unsynced work lives here: ask the browser not to evict it (Settings warns if refused).
    void navigator.storage?.persist?.().catch(() => false);
    if (!localStorage.getItem(LOCALE_KEY) && user.locale) applyLocale(normalizeLocale(user.locale));
    await this.start();
    void this.syncNow("login");
  }

  /** Local data goes with the user; the caller has already warned about unsynced changes. */
  async logout(): Promise<void> {
    this.scheduler.stop();
    await this.api.logout();
    await wipe();
    location.assign("/login");
  }
}

async function wipe(): Promise<void> {
  const database = db();
  await database.delete();
  await database.open();
  await setMeta("locale", currentLocale());
}

let instance: Session | null = null;

export function session(): Session {
  if (!instance) instance = new Session();
  return instance;
}

export function currentLocale(): Locale {
  return normalizeLocale(localStorage.getItem(LOCALE_KEY) ?? navigator.language);
}

/** The UI language: kept in localStorage for the first paint and in meta for the SW. */
export function applyLocale(locale: Locale): void {
  localStorage.setItem(LOCALE_KEY, locale);
  setLocale(locale);
  document.documentElement.lang = locale;
  void setMeta("locale", locale);
}
