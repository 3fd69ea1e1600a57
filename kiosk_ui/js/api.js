// REST client for /api/v1: adds the bearer token, turns the server's error shape {code, message, message_en,
// details} into ApiError, and reports 401s (SESSION_EXPIRED, UNAUTHENTICATED) so the page can lock itself.
const TOKEN_KEY = "hcc.token";
let unauthorizedHandler = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message_en || body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || "HTTP_ERROR";
    this.message_zh = body?.message || "";
    this.message_en = body?.message_en || "";
    this.details = body?.details || {};
  }
}

export function getToken() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
export function setToken(t) { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); }
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

export async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  const token = getToken();
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { code: "NETWORK", message: "无法连接控制器", message_en: "cannot reach the controller" });
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !path.startsWith("/auth/")) unauthorizedHandler(err);
    throw err;
  }
  return data;
}

export const get = (p) => api("GET", p);
export const post = (p, b = {}) => api("POST", p, b);

/** True when an endpoint is simply not there yet (a device feature that has not landed): 404/405 NOT_FOUND. */
export function isMissing(err) {
  return err instanceof ApiError && (err.status === 404 || err.status === 405) &&
    (err.code === "NOT_FOUND" || err.code === "METHOD_NOT_ALLOWED" || err.code === "HTTP_ERROR");
}
