import { describe, expect, it, vi } from "vitest";

import { createApiClient, unwrap } from "./client";
import { ApiError, apiErrorFrom } from "./errors";
import { TokenStore } from "./session";

const BASE = "http://portal.test/api";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const ME = {
  id: "00000000-0000-0000-0000-000000000001",
  email: "ada@example.com",
  name: "Ada",
  is_super_admin: false,
  created_at: "2025-01-01T00:00:00Z",
  memberships: [],
};

const EXPIRED = { error: { message: "Token expired.", type: "authentication_error", param: null, code: "token_expired" } };

type Call = { url: string; method: string; authorization: string | null; body: string | null };

/** A fake server: answers from `handler`, and records what it was sent. */
function fakeFetch(handler: (call: Call, index: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const call = {
      url: request.url,
      method: request.method,
      authorization: request.headers.get("authorization"),
      body: request.body ? await request.text() : null,
    };
    calls.push(call);
    return handler(call, calls.length - 1);
  });
  return { fetch, calls };
}

describe("the API client", () => {
  it("sends the in-memory access token", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, ME));
    const tokens = new TokenStore();
    tokens.set("first");
    const api = createApiClient({ baseUrl: BASE, fetch, tokens });

    const me = await unwrap(api.GET("/me"));

    expect(me.email).toBe("ada@example.com");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ url: `${BASE}/me`, authorization: "Bearer first" });
  });

  it("renews the session once on a 401 and retries with the new token", async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.url.endsWith("/auth/refresh")) {
        return json(200, { access_token: "second", token_type: "bearer", expires_in: 900 });
      }
      return call.authorization === "Bearer second" ? json(201, { id: "org-1", name: "Acme" }) : json(401, EXPIRED);
    });
    const tokens = new TokenStore();
    tokens.set("first");
    const api = createApiClient({ baseUrl: BASE, fetch, tokens });

    const org = await unwrap(api.POST("/orgs", { body: { name: "Acme" } }));

    expect(org).toMatchObject({ name: "Acme" });
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      "POST /api/orgs",
      "POST /api/auth/refresh",
      "POST /api/orgs",
    ]);
    // The retry carries the same body: it was copied before the first send read it.
    expect(calls[2]?.body).toBe(JSON.stringify({ name: "Acme" }));
    expect(calls[1]?.authorization).toBeNull();
    expect(tokens.get()).toBe("second");
  });

  it("renews only once for requests that fail together", async () => {
    let renewals = 0;
    const { fetch } = fakeFetch(async (call) => {
      if (call.url.endsWith("/auth/refresh")) {
        renewals += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return json(200, { access_token: "second", token_type: "bearer", expires_in: 900 });
      }
      return call.authorization === "Bearer second" ? json(200, ME) : json(401, EXPIRED);
    });
    const api = createApiClient({ baseUrl: BASE, fetch });

    const results = await Promise.all([unwrap(api.GET("/me")), unwrap(api.GET("/me")), unwrap(api.GET("/me"))]);

    expect(results.map((r) => r.name)).toEqual(["Ada", "Ada", "Ada"]);
    expect(renewals).toBe(1);
  });

  it("does not loop when the retried request is refused again", async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.url.endsWith("/auth/refresh")
        ? json(200, { access_token: "second", token_type: "bearer", expires_in: 900 })
        : json(401, EXPIRED),
    );
    const api = createApiClient({ baseUrl: BASE, fetch });

    await expect(unwrap(api.GET("/me"))).rejects.toMatchObject({ status: 401, message: "Token expired." });
    expect(calls).toHaveLength(3);
  });

  it("ends the session when it cannot be renewed", async () => {
    const onSessionEnded = vi.fn();
    const { fetch, calls } = fakeFetch((call) =>
      call.url.endsWith("/auth/refresh")
        ? json(401, { error: { message: "Sign in again.", type: "authentication_error", param: null, code: null } })
        : json(401, EXPIRED),
    );
    const tokens = new TokenStore();
    tokens.set("first");
    const api = createApiClient({ baseUrl: BASE, fetch, tokens, onSessionEnded });

    await expect(unwrap(api.GET("/me"))).rejects.toBeInstanceOf(ApiError);
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    expect(tokens.get()).toBeNull();
    expect(calls).toHaveLength(2);
  });

  it("never renews on a failed sign-in: its message is the answer", async () => {
    const { fetch, calls } = fakeFetch(() =>
      json(401, { error: { message: "Wrong email or password.", type: "authentication_error", param: null, code: "invalid_credentials" } }),
    );
    const api = createApiClient({ baseUrl: BASE, fetch });

    const failure = unwrap(api.POST("/auth/login", { body: { email: "ada@example.com", password: "nope" } }));

    await expect(failure).rejects.toThrow("Wrong email or password.");
    expect(calls).toHaveLength(1);
  });

  it("says so when the server cannot be reached", async () => {
    const fetch = vi.fn(() => Promise.reject(new TypeError("Failed to fetch")));
    const api = createApiClient({ baseUrl: BASE, fetch });

    await expect(unwrap(api.GET("/me"))).rejects.toMatchObject({
      status: 0,
      message: expect.stringContaining("Cannot reach the IAS server"),
    });
  });

  it("restores a session from the cookie at start", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, { access_token: "restored", token_type: "bearer", expires_in: 900 }));
    const api = createApiClient({ baseUrl: BASE, fetch });

    expect(await api.refresh()).toBe("renewed");
    expect(api.tokens.get()).toBe("restored");
    expect(calls[0]).toMatchObject({ method: "POST", url: `${BASE}/auth/refresh` });
  });

  it("reports a missing cookie as an ended session, a down server as unreachable", async () => {
    const ended = createApiClient({ baseUrl: BASE, fetch: fakeFetch(() => json(401, EXPIRED)).fetch });
    const down = createApiClient({ baseUrl: BASE, fetch: fakeFetch(() => json(502, "bad gateway")).fetch });

    expect(await ended.refresh()).toBe("ended");
    expect(await down.refresh()).toBe("unreachable");
  });
});

describe("API errors", () => {
  it("carry the message, type, code and param of the error envelope", () => {
    const error = apiErrorFrom(429, {
      error: { message: "Too many sign-in attempts; try again in 60 seconds.", type: "rate_limit_error", param: null, code: "too_many_attempts" },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("Too many sign-in attempts; try again in 60 seconds.");
    expect(error).toMatchObject({ status: 429, type: "rate_limit_error", code: "too_many_attempts", param: null });
  });

  it("are readable when the body is not an envelope", () => {
    expect(apiErrorFrom(502, "<html>Bad Gateway</html>").message).toMatch(/not reachable/);
    expect(apiErrorFrom(500, undefined).message).toBe("The server failed to answer (HTTP 500). Try again later.");
    expect(apiErrorFrom(418, { detail: "teapot" }).message).toBe("The request failed (HTTP 418).");
  });
});
