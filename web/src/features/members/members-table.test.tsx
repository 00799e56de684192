import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it } from "vitest";

import { createQueryClient } from "@/app/query-client";

import type { Member } from "./api";
import { MembersTable } from "./members-table";
import type { Actor } from "./permissions";

const MEMBERS: Member[] = [
  { user_id: "u-owner", name: "Olga", email: "olga@example.com", role: "owner", joined_at: "2025-01-01T00:00:00Z" },
  { user_id: "u-admin", name: "Ada", email: "ada@example.com", role: "admin", joined_at: "2025-01-02T00:00:00Z" },
  { user_id: "u-member", name: "Max", email: "max@example.com", role: "member", joined_at: "2025-01-03T00:00:00Z" },
];

function show(actor: Actor, myUserId: string) {
  render(
    <QueryClientProvider client={createQueryClient()}>
      <MemoryRouter>
        <MembersTable orgId="o1" orgName="Acme" actor={actor} members={MEMBERS} myUserId={myUserId} />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

function options(select: HTMLElement): string[] {
  return within(select)
    .getAllByRole("option")
    .map((o) => o.textContent ?? "");
}

describe("MembersTable", () => {
  it("lets an admin manage members only, with the roles an admin may grant", () => {
    show({ role: "admin", superAdmin: false }, "u-admin");
    expect(screen.queryByLabelText("Role of Olga")).toBeNull();
    expect(screen.queryByLabelText("Role of Ada")).toBeNull();
    expect(options(screen.getByLabelText("Role of Max"))).toEqual(["Member", "Viewer"]);
    expect(screen.queryByRole("button", { name: "Remove Olga" })).toBeNull();
    expect(screen.getByRole("button", { name: "Remove Max" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Leave" })).toBeTruthy();
  });

  it("lets an owner grant every role", () => {
    show({ role: "owner", superAdmin: false }, "u-owner");
    expect(options(screen.getByLabelText("Role of Ada"))).toEqual(["Owner", "Admin", "Member", "Viewer"]);
    expect(screen.getByRole("button", { name: "Remove Ada" })).toBeTruthy();
  });

  it("shows a member the roles without any control but leaving", () => {
    show({ role: "member", superAdmin: false }, "u-member");
    expect(screen.queryAllByRole("combobox")).toHaveLength(0);
    expect(screen.queryByRole("button", { name: /^Remove/ })).toBeNull();
    expect(screen.getByRole("button", { name: "Leave" })).toBeTruthy();
  });
});
