// The one way the dashboard talks to the service: JSON routes under /api/v1 with the bearer
// token the user pasted at sign-in (kept in sessionStorage: gone when the tab closes).

const KEY = "cerebro.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

/** A refusal from the service: its status, code, one-sentence message and the field named. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

function headers(extra = {}) {
  const value = token.get();
  return value ? { Authorization: `Bearer ${value}`, ...extra } : extra;
}

async function refusal(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  const error = body && body.error ? body.error : {};
  return new ApiError(
    response.status,
    error.code || "error",
    error.message || `the service answered ${response.status} ${response.statusText}.`,
    error.field || null,
  );
}

/** Call a route; the parsed JSON (null for 204), or an ApiError. `body` is sent as JSON,
 * `form` (a FormData) as multipart. `query` drops empty values. */
export async function api(path, { method = "GET", body, form, query } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(name, value);
    }
    if ([...params].length) url += `?${params}`;
  }
  const init = { method, headers: headers() };
  if (form) init.body = form;
  else if (body !== undefined) {
    init.headers = headers({ "Content-Type": "application/json" });
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "network", "the service does not answer; is `cerebro serve` running?");
  }
  if (!response.ok) throw await refusal(response);
  if (response.status === 204) return null;
  return response.json();
}

/** A binary answer (a plot, a report) as an object URL the page can show or save. */
export async function blobUrl(path) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw await refusal(response);
  return URL.createObjectURL(await response.blob());
}

/** Whether a route exists on this server: a 404 "no such route." is the app's own answer for
 * a path it does not serve (a route built in another branch may be missing). */
export function missingRoute(error) {
  return error instanceof ApiError && error.status === 404 && error.message === "no such route.";
}
