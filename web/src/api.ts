// The dashboard's only way to the server: the JSON API with the session cookie (same origin).
// Every state change carries the session's CSRF token; a refusal becomes an ApiError holding
// the server's own message, which the forms show as is.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = "";
export const setCsrf = (token: string): void => {
  csrfToken = token;
};

/** A fresh Idempotency-Key per submitted form: a retried submit never buys twice. */
export const idempotencyKey = (): string => crypto.randomUUID();

export async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const h: Record<string, string> = { accept: "application/json", ...headers };
  if (method !== "GET") h["x-csrf-token"] = csrfToken;
  if (body !== undefined) h["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, credentials: "same-origin", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached; check your connection and try again.");
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? "http_error", err?.message ?? `The server answered ${res.status}.`);
  }
  return parsed as T;
}
