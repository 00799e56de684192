import { describe, expect, it } from "vitest";

import { emailProblem, inviteLink } from "./email";

describe("emailProblem", () => {
  it("accepts addresses the API accepts", () => {
    expect(emailProblem("ada@example.com")).toBeNull();
    expect(emailProblem("  Ada.Lovelace+ias@Example.co.uk ")).toBeNull();
    expect(emailProblem("root@localhost")).toBeNull();
  });

  it("says what is wrong with the rest", () => {
    expect(emailProblem("")).toMatch(/Enter the email/);
    expect(emailProblem("ada")).toMatch(/like name@example.com/);
    expect(emailProblem("ada@")).toMatch(/like name@example.com/);
    expect(emailProblem("@example.com")).toMatch(/like name@example.com/);
    expect(emailProblem("a@b@c")).toMatch(/like name@example.com/);
    expect(emailProblem("ada @example.com")).toMatch(/no spaces/);
    expect(emailProblem("ada@example..com")).toMatch(/not a valid domain/);
    expect(emailProblem(`${"a".repeat(320)}@x.io`)).toMatch(/at most 320/);
  });
});

describe("inviteLink", () => {
  it("is this portal's invite page for the token", () => {
    expect(inviteLink("abc_DEF-1", "http://127.0.0.1:8123")).toBe(
      "http://127.0.0.1:8123/invites/abc_DEF-1",
    );
    expect(inviteLink("t", "https://ias.example.com/")).toBe("https://ias.example.com/invites/t");
  });
});
