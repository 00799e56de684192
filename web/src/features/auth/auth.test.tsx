import { QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, renderHook, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { createQueryClient, shouldRetry } from "@/app/query-client";
import { api, ApiError } from "@/lib/api";

import { AuthProvider, useAuth } from "./auth-context";
import { LoginPage } from "./login-page";
import { useMe } from "./use-me";

const ME = {
  id: "00000000-0000-0000-0000-000000000001",
  email: "ada@example.com",
  name: "Ada",
  is_super_admin: false,
  created_at: "2025-01-01T00:00:00Z",
  memberships: [{ org_id: "00000000-0000-0000-0000-0000000000aa", org_name: "Acme", role: "owner" }],
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

type Route = (request: Request) => Response;

/** Stubs the global fetch with a small fake API keyed by "METHOD /path". */
function serve(routes: Record<string, Route>) {
  const seen: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const key = `${request.method} ${new URL(request.url).pathname}`;
      seen.push(key);
      const route = routes[key];
      return route ? route(request) : json(404, { error: { message: "Unknown path.", type: "not_found_error", param: null, code: null } });
    }),
  );
  return seen;
}

function wrapper({ children }: { children: ReactNode }) {
  return (
    <QueryClientProvider client={createQueryClient()}>
      <AuthProvider>{children}</AuthProvider>
    </QueryClientProvider>
  );
}

beforeEach(() => {
  api.tokens.clear();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the session at start", () => {
  it("is restored from the refresh cookie, and useMe loads the person", async () => {
    const seen = serve({
      "POST /api/auth/refresh": () => json(200, { access_token: "restored", token_type: "bearer", expires_in: 900 }),
      "GET /api/me": (request) =>
        request.headers.get("authorization") === "Bearer restored" ? json(200, ME) : json(401, {}),
    });

    const { result } = renderHook(() => ({ auth: useAuth(), me: useMe() }), { wrapper });

    expect(result.current.auth.status).toBe("restoring");
    await waitFor(() => expect(result.current.me.data?.name).toBe("Ada"));
    expect(result.current.auth.status).toBe("signed-in");
    expect(seen.filter((s) => s === "POST /api/auth/refresh")).toHaveLength(1);
  });

  it("is signed out when there is no cookie, and nothing else is asked", async () => {
    const seen = serve({ "POST /api/auth/refresh": () => json(401, { error: { message: "No session.", type: "authentication_error", param: null, code: null } }) });

    const { result } = renderHook(() => ({ auth: useAuth(), me: useMe() }), { wrapper });

    await waitFor(() => expect(result.current.auth.status).toBe("signed-out"));
    expect(result.current.me.fetchStatus).toBe("idle");
    expect(seen).toEqual(["POST /api/auth/refresh"]);
  });

  it("signs out: the server is told and the token forgotten", async () => {
    const seen = serve({
      "POST /api/auth/refresh": () => json(200, { access_token: "restored", token_type: "bearer", expires_in: 900 }),
      "POST /api/auth/logout": () => new Response(null, { status: 204 }),
    });
    const { result } = renderHook(() => useAuth(), { wrapper });
    await waitFor(() => expect(result.current.status).toBe("signed-in"));

    await act(() => result.current.signOut());

    expect(result.current.status).toBe("signed-out");
    expect(api.tokens.get()).toBeNull();
    expect(seen).toContain("POST /api/auth/logout");
  });
});

describe("the sign-in page", () => {
  function renderLogin() {
    const router = createMemoryRouter(
      [
        { path: "/login", element: <LoginPage /> },
        { path: "/", element: <p>Signed in home</p> },
      ],
      { initialEntries: ["/login"] },
    );
    return render(<RouterProvider router={router} />, { wrapper });
  }

  it("shows the server's message when the password is wrong", async () => {
    serve({
      "POST /api/auth/refresh": () => json(401, {}),
      "POST /api/auth/login": () =>
        json(429, { error: { message: "Too many sign-in attempts; try again in 60 seconds.", type: "rate_limit_error", param: null, code: "too_many_attempts" } }),
    });
    renderLogin();

    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("alert")).toHaveProperty(
      "textContent",
      "Too many sign-in attempts; try again in 60 seconds.",
    );
  });

  it("lands in the app with the right password", async () => {
    serve({
      "POST /api/auth/refresh": () => json(401, {}),
      "POST /api/auth/login": () => json(200, { access_token: "fresh", token_type: "bearer", expires_in: 900 }),
    });
    renderLogin();

    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "right" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByText("Signed in home")).toBeDefined();
    expect(api.tokens.get()).toBe("fresh");
  });
});

describe("query retries", () => {
  it("never retry a 4xx, retry a failed server twice", () => {
    expect(shouldRetry(0, new ApiError("Not found.", 404))).toBe(false);
    expect(shouldRetry(0, new ApiError("Bad gateway.", 502))).toBe(true);
    expect(shouldRetry(2, new ApiError("Bad gateway.", 502))).toBe(false);
    expect(shouldRetry(0, new ApiError("Cannot reach.", 0))).toBe(true);
  });
});
