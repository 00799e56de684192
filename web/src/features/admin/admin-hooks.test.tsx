import { QueryClientProvider } from "@tanstack/react-query";
import { act, render, renderHook, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { createQueryClient } from "@/app/query-client";
import { AuthProvider } from "@/features/auth/auth-context";
import { api } from "@/lib/api";

import { useAdminOrgs } from "./api";
import { ADMIN_ROUTE } from "./routes";
import { usePager } from "./use-pager";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** Stubs fetch with a tiny fake API keyed by "METHOD /path"; records every URL asked. */
function serve(routes: Record<string, (url: URL) => Response>) {
  const seen: URL[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const url = new URL(request.url);
      seen.push(url);
      const route = routes[`${request.method} ${url.pathname}`];
      return route
        ? route(url)
        : json(404, { error: { message: "Not found.", type: "not_found_error", param: null, code: null } });
    }),
  );
  return seen;
}

function wrapper({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={createQueryClient()}>{children}</QueryClientProvider>;
}

const org = (id: string) => ({
  id,
  name: `Org ${id}`,
  slug: `org-${id}`,
  members: 1,
  limits: { rpm: null, tpm: null, monthly_token_quota: null, monthly_budget_usd: null, concurrency: null },
  created_at: "2025-01-01T00:00:00Z",
});

beforeEach(() => {
  api.tokens.clear();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("usePager", () => {
  it("walks forward by cursor and back again, and starts over on a new search", () => {
    const { result, rerender } = renderHook(({ q }) => usePager(q), { initialProps: { q: "" } });
    expect(result.current).toMatchObject({ cursor: null, page: 1, hasPrevious: false });

    act(() => result.current.next("c2"));
    act(() => result.current.next("c3"));
    expect(result.current).toMatchObject({ cursor: "c3", page: 3, hasPrevious: true });

    act(() => result.current.previous());
    expect(result.current).toMatchObject({ cursor: "c2", page: 2 });

    rerender({ q: "acme" });
    expect(result.current).toMatchObject({ cursor: null, page: 1, hasPrevious: false });
    act(() => result.current.previous());
    expect(result.current.page).toBe(1);
  });
});

describe("useAdminOrgs", () => {
  it("asks for one page with the search and the cursor, and returns the next cursor", async () => {
    api.tokens.set("token");
    const seen = serve({
      "GET /api/admin/orgs": (url) =>
        url.searchParams.get("cursor") === "next"
          ? json(200, { data: [org("2")], next_cursor: null })
          : json(200, { data: [org("1")], next_cursor: "next" }),
    });

    const { result, rerender } = renderHook(({ cursor }) => useAdminOrgs(" acme ", cursor), {
      wrapper,
      initialProps: { cursor: null as string | null },
    });
    await waitFor(() => expect(result.current.data?.next_cursor).toBe("next"));
    expect(result.current.data?.data[0]?.name).toBe("Org 1");
    expect(seen[0]?.searchParams.get("q")).toBe("acme");
    expect(seen[0]?.searchParams.has("cursor")).toBe(false);

    rerender({ cursor: "next" });
    // The previous page stays on screen while the next one loads.
    expect(result.current.data?.data[0]?.name).toBe("Org 1");
    await waitFor(() => expect(result.current.data?.data[0]?.name).toBe("Org 2"));
    expect(seen[1]?.searchParams.get("cursor")).toBe("next");
  });

  it("surfaces the server's refusal as a readable error", async () => {
    api.tokens.set("token");
    serve({
      "GET /api/admin/orgs": () =>
        json(403, { error: { message: "Super admins only.", type: "permission_error", param: null, code: null } }),
    });
    const { result } = renderHook(() => useAdminOrgs("", null), { wrapper });
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.error?.message).toBe("Super admins only.");
  });
});

describe("the /admin area", () => {
  it("tells someone who is not a super admin that it is not for them, and asks for nothing", async () => {
    const seen = serve({
      "POST /api/auth/refresh": () => json(200, { access_token: "t", token_type: "bearer", expires_in: 900 }),
      "GET /api/me": () =>
        json(200, {
          id: "u1",
          email: "ada@example.com",
          name: "Ada",
          is_super_admin: false,
          created_at: "2025-01-01T00:00:00Z",
          memberships: [],
        }),
    });
    const router = createMemoryRouter([ADMIN_ROUTE], { initialEntries: ["/admin/users"] });
    render(
      <QueryClientProvider client={createQueryClient()}>
        <AuthProvider>
          <RouterProvider router={router} />
        </AuthProvider>
      </QueryClientProvider>,
    );
    expect(await screen.findByRole("heading", { name: "Not allowed" })).toBeTruthy();
    expect(seen.some((url) => url.pathname.startsWith("/api/admin"))).toBe(false);
  });
});
