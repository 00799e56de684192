import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { APIRequestContext, Page } from "@playwright/test";

/** Screenshots worth keeping (docs, reviews) go here; failures' go to test-results/. */
export const SCREENSHOTS =
  process.env.SCREENSHOT_DIR ?? fileURLToPath(new URL("./screenshots", import.meta.url));

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

export const admin = {
  email: process.env.ADMIN_EMAIL ?? "",
  password: process.env.ADMIN_PASSWORD ?? "",
};

/** A short random suffix, so names made by one run never meet those of another. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Sign in through the login page as `who` (default: the super admin) and wait for the app. */
export async function signIn(page: Page, who: { email: string; password: string } = admin) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Account" }).waitFor();
}

/** Calls `/api` straight, as a client would, with an access token from `POST /api/auth/login`. */
export class ApiSession {
  private constructor(
    private readonly request: APIRequestContext,
    readonly token: string,
  ) {}

  static async signIn(request: APIRequestContext, who = admin): Promise<ApiSession> {
    const response = await request.post("/api/auth/login", {
      data: { email: who.email, password: who.password },
    });
    if (!response.ok()) throw new Error(`sign-in failed: ${response.status()} ${await response.text()}`);
    const body = (await response.json()) as { access_token: string };
    return new ApiSession(request, body.access_token);
  }

  async call<T = unknown>(method: string, path: string, data?: unknown): Promise<T> {
    const response = await this.request.fetch(`/api${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}` },
      ...(data === undefined ? {} : { data }),
    });
    if (!response.ok()) {
      throw new Error(`${method} /api${path}: ${response.status()} ${await response.text()}`);
    }
    return (response.status() === 204 ? undefined : await response.json()) as T;
  }

  /** A new organization; the caller becomes its owner. */
  createOrg(name: string): Promise<{ id: string; name: string; slug: string }> {
    return this.call("POST", "/orgs", { name });
  }

  /** Invites `email` to the org and accepts the invite as a new account; returns its password. */
  async addUser(orgId: string, email: string, role = "member"): Promise<{ email: string; password: string }> {
    const invite = await this.call<{ token: string }>("POST", `/orgs/${orgId}/invites`, { email, role });
    const password = `Pw-${uniqueSuffix()}-${uniqueSuffix()}`;
    const accepted = await this.request.post(`/api/invites/${invite.token}/accept`, {
      data: { name: `E2E ${email.split("@")[0]}`, password },
    });
    if (!accepted.ok()) throw new Error(`accept invite: ${accepted.status()} ${await accepted.text()}`);
    return { email, password };
  }

  /** A new API key of the org; its secret appears only here. */
  async createApiKey(orgId: string, name: string): Promise<string> {
    const key = await this.call<{ key: string }>("POST", `/orgs/${orgId}/api-keys`, { name });
    return key.key;
  }
}

/** Creates an organization with the switcher's dialog and returns its id (you become owner). */
export async function createOrgThroughUi(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: /Switch organization/ }).click();
  await page.getByRole("menuitem", { name: "Create organization" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an organization" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create" }).click();
  // The start page may have opened another org already: wait for this one's heading.
  await page.getByRole("heading", { level: 1, name }).waitFor();
  await page.waitForURL(/\/orgs\/[0-9a-f-]{36}$/);
  return new URL(page.url()).pathname.split("/").pop() ?? "";
}

/** Opens a section of the current organization from its navigation. */
export async function openSection(page: Page, title: string): Promise<void> {
  await page.getByRole("navigation", { name: "Organization" }).getByRole("link", { name: title }).click();
}
