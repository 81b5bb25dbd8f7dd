import { useEffect, useState } from "preact/hooks";
import { Link, syncingLabel } from "./components/bits";
import { getMeta } from "./db";
import { useOnline, useSyncActivity, useUnsyncedCount, useUser } from "./hooks";
import { formatNumber, t, type Locale } from "./i18n";
import { useLive } from "./live";
import { match, navigate, usePath } from "./router";
import type { ComponentType } from "preact";
import { Customers } from "./screens/Customers";
import { Login } from "./screens/Login";
import { QuickNote } from "./screens/QuickNote";
import { Settings } from "./screens/Settings";
import { SyncPanel } from "./screens/SyncPanel";
import { Today } from "./screens/Today";
import { VisitForm } from "./screens/VisitForm";
import { applyLocale, currentLocale, session } from "./session";
import { applyUpdate, applyUpdateIfSafe, checkForUpdate, onUpdateState } from "./sw-register";

/** The shell: top bar with sync state, banners, the current screen, bottom navigation. */
export function App() {
  const [locale, setLocaleState] = useState<Locale>(currentLocale());
  const user = useUser();
  const needsLogin = useLive(() => getMeta("needs_login", false), [], false);
  const path = usePath();
  const route = match(path);

  const changeLocale = (l: Locale) => {
    applyLocale(l);
    setLocaleState(l);
  };

  useEffect(() => {
    if (user && !needsLogin) {
      if (route.name === "login") navigate("/", true);
      void session().start();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [user?.id, needsLogin]);

  if (user === undefined) return <main class="muted">{t("app.loading")}</main>;
  if (!user || needsLogin) return <Login key={locale} />;

  let screen;
  switch (route.name) {
    case "today":
      screen = <Today />;
      break;
    case "customers":
      screen = <Customers selected={null} />;
      break;
    case "customer":
      screen = <Customers selected={route.params.id!} />;
      break;
    case "visit":
      screen = <VisitForm customerId={route.params.id!} planId={route.query.get("plan")} />;
      break;
    case "note":
      screen = <QuickNote customerId={route.params.id!} />;
      break;
    case "sync":
      screen = <SyncPanel />;
      break;
    case "settings":
      screen = <Settings onLocale={changeLocale} />;
      break;
    case "dashboard":
      screen = user.role === "rep" ? <Today /> : <Lazy key="dashboard" load={loadDashboard} />;
      break;
    case "admin":
      screen = user.role === "admin" ? <Lazy key="admin" load={loadAdmin} /> : <Today />;
      break;
    case "import-export": // the screen offers import to admins and export to everyone
      screen = <Lazy key="import-export" load={loadImportExport} />;
      break;
    default:
      screen = <Today />;
  }
  const tab =
    route.name === "customer" || route.name === "visit" || route.name === "note"
      ? "customers"
      : route.name === "import-export"
        ? user.role === "admin"
          ? "admin"
          : "settings"
        : route.name;

  return (
    <div data-locale={locale} key={locale}>
      <TopBar />
      <Banners />
      {route.query.get("saved") && <Saved kind={route.query.get("saved")!} />}
      {screen}
      <nav class="tabs" aria-label={t("nav.main")}>
        <Link href="/" class={tab === "today" ? "active" : ""} testid="nav-today">
          {t("nav.today")}
        </Link>
        {user.role !== "rep" && (
          <Link href="/dashboard" class={tab === "dashboard" ? "active" : ""} testid="nav-dashboard">
            {t("nav.dashboard")}
          </Link>
        )}
        <Link href="/customers" class={tab === "customers" ? "active" : ""} testid="nav-customers">
          {t("nav.customers")}
        </Link>
        <Link href="/sync" class={tab === "sync" ? "active" : ""} testid="nav-sync">
          {t("nav.sync")}
        </Link>
        {user.role === "admin" && (
          <Link href="/admin" class={tab === "admin" ? "active" : ""} testid="nav-admin">
            {t("nav.admin")}
          </Link>
        )}
        <Link href="/settings" class={tab === "settings" ? "active" : ""} testid="nav-settings">
          {t("nav.settings")}
        </Link>
      </nav>
    </div>
  );
}

function TopBar() {
  const unsent = useUnsyncedCount();
  const act = useSyncActivity();
  const online = useOnline();
  const lastSync = useLive(() => getMeta("last_sync", null), [], null);
  return (
    <header class="topbar">
      <span class="appname">{t("app.name")}</span>
      <button
        class="sync-pill"
        data-testid="sync-pill"
        data-unsynced={unsent}
        data-last-sync={lastSync ?? ""}
        data-running={act.running ? "1" : "0"}
        onClick={() => navigate("/sync")}
        aria-label={t("nav.sync")}
      >
        {act.running ? syncingLabel(act) : unsent > 0 ? t("sync.badge", { n: formatNumber(unsent) }) : online ? "✓" : "⚠"}
      </button>
    </header>
  );
}

function Banners() {
  const online = useOnline();
  const unsent = useUnsyncedCount();
  const [waiting, setWaiting] = useState(false);
  const [persisted, setPersisted] = useState<boolean | null>(null);
  useEffect(() => onUpdateState(setWaiting), []);
  useEffect(() => {
    void navigator.storage?.persisted?.().then(setPersisted);
  }, []);
  const syncing = useSyncActivity().running;
  // A waiting version is applied as soon as the outbox is drained; applyUpdateIfSafe waits
  // for the end of a sync round, so this asks again when one ends.
  useEffect(() => {
    if (waiting && unsent === 0) void applyUpdateIfSafe();
  }, [waiting, unsent, syncing]);
  useEffect(() => {
    if (online) void checkForUpdate();
  }, [online]);
  return (
    <div style="padding:8px 12px 0;max-width:1200px;margin:0 auto">
      {!online && (
        <p class="banner" data-testid="offline-banner">
          {t("app.offline")}
        </p>
      )}
      {waiting && (
        <p class="banner info row" data-testid="update-banner">
          <span class="grow">{unsent > 0 ? t("app.update_waiting_outbox") : t("app.update_available")}</span>
          <button onClick={applyUpdate}>{t("app.update_reload")}</button>
        </p>
      )}
      {persisted === false && unsent > 0 && (
        <p class="banner" data-testid="storage-banner">
          <Link href="/settings">{t("app.storage_at_risk", { n: formatNumber(unsent) })}</Link>
        </p>
      )}
    </div>
  );
}

function Saved({ kind }: { kind: string }) {
  const key = kind === "visit" ? "visit.saved" : kind === "note" ? "note.saved" : "customer.saved";
  return (
    <p class="banner ok" style="margin:8px 12px" data-testid="saved-banner">
      {t(key)}
    </p>
  );
}

// Manager and admin screens load on demand: the rep's first screen stays small. Each Lazy
// has its own key, or going from one lazy screen to another would keep the first one.
const loadDashboard = () => import("./screens/Dashboard").then((m) => m.Dashboard);
const loadAdmin = () => import("./screens/office").then((m) => m.Admin);
const loadImportExport = () => import("./screens/office").then((m) => m.ImportExport);
const loaded = new Map<unknown, ComponentType>();

function Lazy({ load }: { load: () => Promise<ComponentType> }) {
  const [C, setC] = useState<ComponentType | null>(() => loaded.get(load) ?? null);
  useEffect(() => {
    if (C) return;
    void load().then((comp) => {
      loaded.set(load, comp);
      setC(() => comp);
    });
  }, [load]);
  return C ? <C /> : <main class="muted">{t("app.loading")}</main>;
}
