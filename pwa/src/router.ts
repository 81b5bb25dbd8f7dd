/** A small path router on the History API (the server falls back to index.html). */
import { useEffect, useState } from "preact/hooks";

type Listener = (path: string) => void;
const listeners = new Set<Listener>();

function currentPath(): string {
  return location.pathname + location.search;
}

export function navigate(path: string, replace = false): void {
  if (path === currentPath()) return;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  for (const fn of listeners) fn(currentPath());
  window.scrollTo(0, 0);
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => {
    for (const fn of listeners) fn(currentPath());
  });
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    listeners.add(setPath);
    setPath(currentPath()); // a navigation between the first render and now is not lost
    return () => void listeners.delete(setPath);
  }, []);
  return path;
}

export interface Match {
  name: string;
  params: Record<string, string>;
  query: URLSearchParams;
}

const ROUTES: Array<[string, RegExp]> = [
  ["login", /^\/login$/],
  ["today", /^\/$/],
  ["customers", /^\/customers$/],
  ["visit", /^\/customers\/(?<id>[^/]+)\/visit$/],
  ["note", /^\/customers\/(?<id>[^/]+)\/note$/],
  ["customer", /^\/customers\/(?<id>[^/]+)$/],
  ["sync", /^\/sync$/],
  ["settings", /^\/settings$/],
  ["dashboard", /^\/dashboard$/],
  ["admin", /^\/admin$/],
  ["import-export", /^\/import-export$/],
];

export function match(path: string): Match {
  const [pathname, search = ""] = path.split("?");
  const clean = pathname!.length > 1 ? pathname!.replace(/\/+$/, "") : pathname!;
  for (const [name, re] of ROUTES) {
    const m = re.exec(clean);
    if (m) {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeURIComponent(v);
      return { name, params, query: new URLSearchParams(search) };
    }
  }
  return { name: "notfound", params: {}, query: new URLSearchParams(search) };
}

/** Click handler for in-app anchors: keeps real hrefs (open in new tab works). */
export function linkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href")!);
}
