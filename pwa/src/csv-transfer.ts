/**
 * CSV files to and from the server: an upload that reports its progress (fetch cannot,
 * XMLHttpRequest can) and a download of an authorized export as a file. Only the import and
 * export screen imports this module, so it stays out of the first screen's bundle.
 */
import { NetworkError, type Api } from "./api";

export type UploadPhase = { kind: "upload"; loaded: number; total: number } | { kind: "checking" };

const UPLOAD_TIMEOUT_MS = 5 * 60_000; // a 5 MB file on a slow line, then the server's check

/** POST `file` as the raw `text/csv` body; the answer as a Response whatever its status. */
function post(url: string, file: Blob, token: string, onPhase: (p: UploadPhase) => void): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", "text/csv");
    xhr.setRequestHeader("Accept", "application/json");
    onPhase({ kind: "upload", loaded: 0, total: file.size });
    xhr.upload.onprogress = (e) => onPhase({ kind: "upload", loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    // Every byte is sent: the server now reads and checks the rows.
    xhr.upload.onload = () => onPhase({ kind: "checking" });
    xhr.onload = () =>
      resolve(
        new Response(xhr.responseText, {
          status: xhr.status,
          statusText: xhr.statusText,
          headers: { "Content-Type": xhr.getResponseHeader("Content-Type") ?? "application/json" },
        }),
      );
    xhr.onerror = () => reject(new NetworkError("upload failed"));
    xhr.ontimeout = () => reject(new NetworkError("upload timed out"));
    xhr.onabort = () => reject(new NetworkError("upload aborted"));
    xhr.send(file);
  });
}

/** Upload a CSV file to an import endpoint and read its JSON answer (ApiError on 4xx/5xx). */
export async function uploadCsv<T>(api: Api, path: string, file: Blob, onPhase: (p: UploadPhase) => void): Promise<T> {
  const res = await api.authorized((token) => post(api.base + path, file, token, onPhase));
  return (await res.json()) as T;
}

/** The file name a `Content-Disposition` header gives (`filename*=` first), else `fallback`. */
export function filenameFrom(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = /filename\*\s*=\s*[^']*'[^']*'([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1]!.trim());
    } catch {
      /* malformed: try the plain form */
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/i.exec(header);
  const name = (plain?.[1] ?? plain?.[2] ?? "").trim();
  return name || fallback;
}

/** Fetch an export with the bearer token and hand it to the browser as a download. */
export async function downloadCsv(api: Api, path: string, fallback: string): Promise<string> {
  const res = await api.authorized(async (token) => {
    try {
      return await api.fetchFn(api.base + path, {
        headers: { Authorization: `Bearer ${token}`, Accept: "text/csv" },
        cache: "no-store",
      });
    } catch (e) {
      throw new NetworkError(e);
    }
  });
  const name = filenameFrom(res.headers.get("Content-Disposition"), fallback);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download has started from the URL; keep it alive a little for slow starts.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
