import { expect, test, type Page } from "@playwright/test";

import { admin, ApiSession, screenshot, signIn, uniqueSuffix } from "./support";

test.describe.configure({ mode: "serial" });

/** A screenshot of the page as a person sees it on arrival: from the top, without toasts. */
async function shoot(page: Page, name: string) {
  const notifications = page.getByRole("region", { name: "Notifications" });
  const dismiss = notifications.getByRole("button", { name: "Dismiss" });
  while ((await dismiss.count()) > 0) await dismiss.first().click();
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name);
}

async function openAdminTab(page: Page, name: string) {
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name }).click();
}

test("a super admin manages models, org limits and users, and sees platform usage", async ({
  page,
  request,
  baseURL,
}) => {
  const run = uniqueSuffix();
  const modelName = `e2e-${run}`;
  const api = await ApiSession.signIn(request);
  const org = await api.createOrg(`Admin e2e ${run}`);
  const member = await api.addUser(org.id, `e2e-user-${run}@example.com`);

  await signIn(page);

  await test.step("the Admin link leads to the platform administration", async () => {
    await page.getByRole("link", { name: "Admin", exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/orgs$/);
    await expect(page.getByRole("heading", { level: 1, name: "Platform administration" })).toBeVisible();
  });

  await test.step("add a chat model served by the built-in engine", async () => {
    await openAdminTab(page, "Models");
    await page.getByRole("button", { name: "Add model" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a model" });
    await dialog.getByLabel("Name", { exact: true }).fill(modelName);
    await dialog.getByLabel("Kind").selectOption("chat");
    await dialog.getByLabel("Upstream model").fill("demo-chat");
    await dialog.getByLabel("Context length").fill("4096");
    await dialog.getByLabel("Input price", { exact: true }).fill("-1");
    await dialog.getByLabel("Output price").fill("1.5");
    await dialog.getByRole("button", { name: "Add model" }).click();
    await expect(dialog.getByText("Enter an amount of at least 0.")).toBeVisible();

    await dialog.getByLabel("Input price", { exact: true }).fill("0.5");
    await dialog.getByRole("button", { name: "Add model" }).click();
    await expect(dialog).toBeHidden();
    const card = page.getByRole("region", { name: modelName });
    await expect(card).toContainText("No backend yet");

    await card.getByRole("button", { name: `Add a backend to ${modelName}` }).click();
    const backendDialog = page.getByRole("dialog", { name: `Add a backend to ${modelName}` });
    await backendDialog.getByLabel("URL").fill(`${baseURL}/_engine`);
    await backendDialog.getByRole("button", { name: "Add backend" }).click();
    await expect(backendDialog).toBeHidden();
    await expect(card.getByRole("table", { name: `Backends of ${modelName}` })).toContainText("/_engine");
    await shoot(page, "admin-models");
  });

  await test.step("the catalog lists the model, and /v1 answers with it", async () => {
    const catalog = await api.call<{ data: { id: string; pricing: { input_per_mtok_usd: number } }[] }>(
      "GET",
      "/models",
    );
    expect(catalog.data.find((m) => m.id === modelName)?.pricing.input_per_mtok_usd).toBe(0.5);
  });

  await test.step("set the organization's limits; wrong numbers are caught", async () => {
    await openAdminTab(page, "Organizations");
    await page.getByLabel("Search by name or slug").fill(org.name);
    await page.getByRole("button", { name: `Edit limits of ${org.name}` }).click();
    const dialog = page.getByRole("dialog", { name: `Limits of ${org.name}` });
    await dialog.getByLabel("Requests per minute").fill("six hundred");
    await dialog.getByRole("button", { name: "Save limits" }).click();
    await expect(dialog.getByText("Enter a whole number, without decimals or letters.")).toBeVisible();

    await dialog.getByLabel("Requests per minute").fill("600");
    await dialog.getByLabel("Tokens per month").fill("1,000,000");
    await dialog.getByLabel("Budget per month (USD)").fill("25.50");
    await dialog.getByRole("button", { name: "Save limits" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("row", { name: new RegExp(org.name) })).toContainText("600 req/min");
    const saved = await api.call<{ limits: Record<string, number | null> }>("GET", `/orgs/${org.id}`);
    expect(saved.limits).toMatchObject({ rpm: 600, monthly_token_quota: 1_000_000, monthly_budget_usd: 25.5 });
    await shoot(page, "admin-orgs");
  });

  await test.step("a quota below what the org used this month is refused, with the server's words", async () => {
    const key = await api.createApiKey(org.id, `e2e ${run}`);
    const completion = await request.post("/v1/chat/completions", {
      headers: { authorization: `Bearer ${key}` },
      data: { model: modelName, messages: [{ role: "user", content: "Hello" }] },
    });
    expect(completion.status()).toBe(200);
    expect(((await completion.json()) as { model: string }).model).toBe(modelName);

    await page.getByRole("button", { name: `Edit limits of ${org.name}` }).click();
    const dialog = page.getByRole("dialog", { name: `Limits of ${org.name}` });
    await dialog.getByLabel("Tokens per month").fill("1");
    await dialog.getByRole("button", { name: "Save limits" }).click();
    await expect(dialog.getByRole("alert")).toContainText("already used");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
  });

  await test.step("disable a user, then enable them again", async () => {
    await openAdminTab(page, "Users");
    await page.getByLabel("Search by email or name").fill(member.email);
    const row = page.getByRole("row", { name: new RegExp(member.email) });
    await expect(row).toContainText("Active");

    await row.getByRole("button", { name: `Disable ${member.email}` }).click();
    const disable = page.getByRole("dialog", { name: `Disable ${member.email}?` });
    await disable.getByRole("button", { name: "Disable account" }).click();
    await expect(disable).toBeHidden();
    await expect(row).toContainText("Disabled");
    const refused = await request.post("/api/auth/login", { data: member });
    expect(refused.ok()).toBe(false);
    await shoot(page, "admin-users");

    await row.getByRole("button", { name: `Enable ${member.email}` }).click();
    const enable = page.getByRole("dialog", { name: `Enable ${member.email}?` });
    await enable.getByRole("button", { name: "Enable account" }).click();
    await expect(enable).toBeHidden();
    await expect(row).toContainText("Active");
    const welcomed = await request.post("/api/auth/login", { data: member });
    expect(welcomed.ok()).toBe(true);
  });

  await test.step("removing your own super admin rights is refused, with the server's words", async () => {
    await page.getByLabel("Search by email or name").fill(admin.email);
    const row = page.getByRole("row", { name: new RegExp(admin.email) });
    await row.getByRole("button", { name: `Remove super admin from ${admin.email}` }).click();
    const dialog = page.getByRole("dialog", { name: `Remove super admin rights from ${admin.email}?` });
    await dialog.getByRole("button", { name: "Remove super admin" }).click();
    await expect(dialog.getByRole("alert")).toContainText("your own");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(row).toContainText("Super admin");
  });

  await test.step("platform usage shows the organization's tokens", async () => {
    await openAdminTab(page, "Usage");
    await expect(page.getByLabel("Group by")).toHaveValue("org");
    const byOrg = page.getByRole("table", { name: "Usage by organization" });
    await expect(async () => {
      await page.reload();
      await expect(byOrg.getByRole("row", { name: new RegExp(org.name) })).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 15_000 });
    await expect(page.getByRole("img", { name: /Tokens per day/ })).toBeVisible();
    await shoot(page, "admin-usage");

    await page.getByLabel("Group by").selectOption("model");
    await expect(page.getByRole("table", { name: "Usage by model" })).toContainText(modelName);
  });

  await test.step("the audit log records the changes, filtered by action", async () => {
    await openAdminTab(page, "Audit log");
    await page.getByLabel("Only the action, e.g. user.disabled").fill("user.disabled");
    const log = page.getByRole("table", { name: "Audit log" });
    const entry = log.getByRole("row").filter({ hasText: member.email });
    await expect(entry).toHaveCount(1);
    await expect(entry).toContainText("user.disabled");
    await expect(entry).toContainText(admin.email);
  });

  await test.step("the administration fits a phone's width; wide tables scroll in their box", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const tab of ["Organizations", "Users", "Models", "Usage", "Audit log"]) {
      await openAdminTab(page, tab);
      await expect(page.getByRole("heading", { level: 1, name: "Platform administration" })).toBeVisible();
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, tab).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await test.step("delete the model, after confirming", async () => {
    await openAdminTab(page, "Models");
    const card = page.getByRole("region", { name: modelName });
    await card.getByRole("button", { name: `Delete ${modelName}` }).click();
    const dialog = page.getByRole("dialog", { name: `Delete ${modelName}?` });
    await dialog.getByRole("button", { name: "Delete model" }).click();
    await expect(dialog).toBeHidden();
    await expect(card).toBeHidden();
    const catalog = await api.call<{ data: { id: string }[] }>("GET", "/models");
    expect(catalog.data.map((m) => m.id)).not.toContain(modelName);
  });
});

test("someone who is not a super admin gets a readable not-allowed page", async ({ page, request }) => {
  const run = uniqueSuffix();
  const api = await ApiSession.signIn(request);
  const org = await api.createOrg(`Admin e2e closed ${run}`);
  const member = await api.addUser(org.id, `e2e-member-${run}@example.com`);

  await signIn(page, member);
  await expect(page.getByRole("link", { name: "Admin", exact: true })).toHaveCount(0);
  await page.goto("/admin/users");
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
});
