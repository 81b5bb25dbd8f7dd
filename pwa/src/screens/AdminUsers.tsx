import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { db, type Region } from "../db";
import { useOnline } from "../hooks";
import { t } from "../i18n";
import { useLive } from "../live";
import { session } from "../session";

interface AdminUser {
  id: string;
  username: string;
  display_name: string;
  role: "rep" | "manager" | "admin";
  region_id: string | null;
  active: boolean;
}

const ROLES = ["rep", "manager", "admin"] as const;

/** Users and regions are account data, not field data: managed online through the admin API. */
export function AdminUsers() {
  const online = useOnline();
  const regions = useLive(() => db().regions.filter((r) => !r.deleted).toArray(), [], [] as Region[]);
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState({ username: "", display_name: "", password: "", role: "rep", region_id: "" });
  const [regionName, setRegionName] = useState("");
  const api = session().api;

  async function refresh() {
    try {
      const page = await api.call<{ items: AdminUser[] }>("/api/admin/users/?limit=200");
      setUsers(page.items);
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }
  useEffect(() => {
    if (online) void refresh();
  }, [online]);

  async function act(fn: () => Promise<unknown>) {
    try {
      await fn();
      await refresh();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  const regionName_ = (id: string | null) => regions.find((r) => r.id === id)?.name ?? "—";

  return (
    <section class="card" data-testid="admin-users">
      <h2 style="margin-top:0">{t("admin.users")}</h2>
      {!online && <p class="banner">{t("admin.online_only")}</p>}
      {error && <p class="banner error" data-testid="admin-error">{error}</p>}
      <div style="overflow-x:auto">
        <table class="table">
          <thead>
            <tr>
              <th>{t("login.username")}</th>
              <th>{t("admin.display_name")}</th>
              <th>{t("admin.role")}</th>
              <th>{t("admin.region")}</th>
              <th>{t("admin.active")}</th>
              <th>{t("admin.password")}</th>
            </tr>
          </thead>
          <tbody>
            {(users ?? []).map((u) => (
              <tr key={u.id} data-testid="user-row" data-username={u.username}>
                <td>{u.username}</td>
                <td>{u.display_name}</td>
                <td>
                  <select value={u.role} disabled={!online} onChange={(e) => void act(() => api.call(`/api/admin/users/${u.id}`, "PATCH", { role: (e.target as HTMLSelectElement).value }))}>
                    {ROLES.map((r) => (
                      <option key={r} value={r}>{t(`role.${r}`)}</option>
                    ))}
                  </select>
                </td>
                <td>
                  <select value={u.region_id ?? ""} disabled={!online} onChange={(e) => void act(() => api.call(`/api/admin/users/${u.id}`, "PATCH", { region_id: (e.target as HTMLSelectElement).value || null }))}>
                    <option value="">—</option>
                    {regions.map((r) => (
                      <option key={r.id} value={r.id}>{r.name}</option>
                    ))}
                  </select>
                </td>
                <td>
                  <button disabled={!online} data-testid="user-active" onClick={() => void act(() => api.call(`/api/admin/users/${u.id}`, "PATCH", { active: !u.active }))}>
                    {u.active ? t("admin.deactivate") : t("admin.reactivate")}
                  </button>
                </td>
                <td>
                  <button
                    disabled={!online}
                    onClick={() => {
                      const pw = window.prompt(t("admin.new_password", { name: u.username }));
                      if (pw) void act(() => api.call(`/api/admin/users/${u.id}/password`, "POST", { password: pw }));
                    }}
                  >
                    {t("admin.reset_password")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>{t("admin.new_user")}</h3>
      <form
        class="grid2"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.call("/api/admin/users/", "POST", { ...form, region_id: form.region_id || null, display_name: form.display_name || null });
            setForm({ username: "", display_name: "", password: "", role: "rep", region_id: "" });
          });
        }}
      >
        <input required placeholder={t("login.username")} aria-label={t("login.username")} value={form.username} onInput={(e) => setForm({ ...form, username: (e.target as HTMLInputElement).value })} />
        <input placeholder={t("admin.display_name")} aria-label={t("admin.display_name")} value={form.display_name} onInput={(e) => setForm({ ...form, display_name: (e.target as HTMLInputElement).value })} />
        <input required type="password" placeholder={t("admin.password")} aria-label={t("admin.password")} value={form.password} onInput={(e) => setForm({ ...form, password: (e.target as HTMLInputElement).value })} />
        <select value={form.role} aria-label={t("admin.role")} onChange={(e) => setForm({ ...form, role: (e.target as HTMLSelectElement).value })}>
          {ROLES.map((r) => (
            <option key={r} value={r}>{t(`role.${r}`)}</option>
          ))}
        </select>
        <select value={form.region_id} aria-label={t("admin.region")} onChange={(e) => setForm({ ...form, region_id: (e.target as HTMLSelectElement).value })}>
          <option value="">—</option>
          {regions.map((r) => (
            <option key={r.id} value={r.id}>{r.name}</option>
          ))}
        </select>
        <button class="primary" type="submit" disabled={!online}>{t("common.add")}</button>
      </form>
      <h3>{t("admin.regions")}</h3>
      <p class="muted">{regions.map((r) => regionName_(r.id)).join(" · ")}</p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (regionName.trim()) void act(async () => { await api.call("/api/admin/regions/", "POST", { name: regionName.trim() }); setRegionName(""); await session().syncNow("manual"); });
        }}
      >
        <input class="grow" placeholder={t("admin.region_name")} aria-label={t("admin.region_name")} value={regionName} onInput={(e) => setRegionName((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={!online}>{t("common.add")}</button>
      </form>
    </section>
  );
}
