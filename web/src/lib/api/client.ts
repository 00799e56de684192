/**
 * The typed client of the control plane (`/api`), generated from its OpenAPI document.
 *
 *     const me = await unwrap(api.GET("/me"));
 *     const org = await unwrap(api.POST("/orgs", { body: { name } }));
 *
 * Every request carries the in-memory access token. A 401 renews the session once through
 * `POST /api/auth/refresh` (the HttpOnly cookie does it) and retries the request; if the session
 * cannot be renewed, `onSessionEnded` is told, and the app sends the person to sign in.
 * Failed responses become an `ApiError` carrying the server's message (`unwrap`).
 */
import createClient, { type Client } from "openapi-fetch";

import { apiErrorFrom, networkError } from "./errors";
import type { components, paths } from "./schema";
import { TokenStore } from "./session";

export type Schemas = components["schemas"];

type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export type ApiClientOptions = {
  /** Absolute URL of the control plane; default: this page's origin + `/api`. */
  baseUrl?: string;
  fetch?: FetchLike;
  tokens?: TokenStore;
  /** Called when a request found the session over and it could not be renewed. */
  onSessionEnded?: () => void;
};

/** What renewing the session came to. */
export type RefreshOutcome = "renewed" | "ended" | "unreachable";

export type ApiClient = Client<paths> & {
  tokens: TokenStore;
  /** Renew the session from the refresh cookie; concurrent callers share one request. */
  refresh: () => Promise<RefreshOutcome>;
  /** Replace the hook told when the session ends (the app sets it once it can navigate). */
  setSessionEndedHandler: (handler: () => void) => void;
};

// A failed sign-in or renewal is an answer in itself, not a sign that the token expired.
const NO_RENEWAL_PATHS = ["/auth/login", "/auth/refresh"];

function defaultBaseUrl(): string {
  const origin = typeof window === "undefined" ? "http://localhost" : window.location.origin;
  return `${origin}/api`;
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const baseUrl = (options.baseUrl ?? defaultBaseUrl()).replace(/\/$/, "");
  const rawFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const tokens = options.tokens ?? new TokenStore();
  let onSessionEnded = options.onSessionEnded ?? (() => {});
  let pending: Promise<RefreshOutcome> | null = null;

  async function renew(): Promise<RefreshOutcome> {
    let response: Response;
    try {
      response = await rawFetch(`${baseUrl}/auth/refresh`, {
        method: "POST",
        credentials: "same-origin",
        headers: { accept: "application/json" },
      });
    } catch {
      return "unreachable";
    }
    if (!response.ok) {
      tokens.clear();
      return response.status >= 500 ? "unreachable" : "ended";
    }
    const body = (await response.json()) as Schemas["TokenRead"];
    tokens.set(body.access_token);
    return "renewed";
  }

  function refresh(): Promise<RefreshOutcome> {
    pending ??= renew().finally(() => {
      pending = null;
    });
    return pending;
  }

  async function send(request: Request): Promise<Response> {
    const token = tokens.get();
    if (token !== null) request.headers.set("authorization", `Bearer ${token}`);
    try {
      return await rawFetch(request);
    } catch (error) {
      throw networkError(error);
    }
  }

  async function authorizedFetch(request: Request): Promise<Response> {
    // A body can be read once: keep a copy for the retry before sending.
    const retry = request.clone();
    const response = await send(request);
    const path = new URL(request.url).pathname.slice(new URL(baseUrl).pathname.length);
    if (response.status !== 401 || NO_RENEWAL_PATHS.includes(path)) return response;
    const outcome = await refresh();
    if (outcome === "unreachable") return response;
    if (outcome === "ended") {
      onSessionEnded();
      return response;
    }
    return send(retry);
  }

  const client = createClient<paths>({
    baseUrl,
    credentials: "same-origin",
    fetch: authorizedFetch,
  });
  return Object.assign(client, {
    tokens,
    refresh,
    setSessionEndedHandler(handler: () => void) {
      onSessionEnded = handler;
    },
  });
}

type Result = { data?: unknown; error?: unknown; response: Response };

/** The data of a successful response; throws an `ApiError` with the server's message if not. */
export async function unwrap<R extends Result>(pending: Promise<R>): Promise<Exclude<R["data"], undefined>> {
  const { data, error, response } = await pending;
  if (!response.ok) throw apiErrorFrom(response.status, error);
  return data as Exclude<R["data"], undefined>;
}

/** The app's client: one per tab, so one access token per tab. */
export const api = createApiClient();
