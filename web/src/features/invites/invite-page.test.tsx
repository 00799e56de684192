import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";

import { createQueryClient } from "@/app/query-client";
import { AuthProvider } from "@/features/auth/auth-context";

import { InvitePage } from "./invite-page";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const PREVIEW = {
  org_name: "Acme",
  email: "bob@example.com",
  role: "member",
  expires_at: "2030-01-08T00:00:00Z",
  status: "pending",
  account_exists: false,
};

function openInvite(preview: Response) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith("/auth/refresh")) return json(401, {});
      return preview.clone();
    }),
  );
  const router = createMemoryRouter([{ path: "/invite/:token", element: <InvitePage /> }], {
    initialEntries: ["/invite/tok"],
  });
  render(
    <QueryClientProvider client={createQueryClient()}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the invite page", () => {
  it("offers a new account for a pending invite to an unknown email", async () => {
    openInvite(json(200, PREVIEW));
    expect(await screen.findByRole("heading", { name: "Join Acme" })).toBeDefined();
    expect(await screen.findByRole("button", { name: "Create account and join" })).toBeDefined();
    expect(screen.getByLabelText("Your name")).toBeDefined();
  });

  it("asks an existing account to sign in first", async () => {
    openInvite(json(200, { ...PREVIEW, account_exists: true }));
    expect(await screen.findByRole("link", { name: "Sign in to accept" })).toHaveProperty(
      "href",
      expect.stringContaining("/login?next=%2Finvite%2Ftok"),
    );
  });

  it("explains an expired invite in words", async () => {
    openInvite(json(200, { ...PREVIEW, status: "expired" }));
    expect(await screen.findByText(/This invite expired on .*Ask someone at Acme/)).toBeDefined();
  });

  it("says an unknown link is not valid", async () => {
    openInvite(json(404, { error: { message: "Unknown invite.", type: "not_found_error", param: null, code: null } }));
    expect(await screen.findByText("This invite link is not valid")).toBeDefined();
  });
});
