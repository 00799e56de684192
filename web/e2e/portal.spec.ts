import { expect, test } from "@playwright/test";

import { admin, screenshot } from "./support";

test.describe.configure({ mode: "serial" });

test("sign in, create an organization, find it in the switcher, sign out", async ({ page }) => {
  await test.step("an unknown visitor is sent to sign in", async () => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login(\?|$)/);
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await screenshot(page, "login");
  });

  await test.step("a wrong password shows the server's message", async () => {
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(`${admin.password}-wrong`);
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await expect(alert).toBeVisible();
    await expect(alert).not.toBeEmpty();
    await expect(alert).not.toContainText("{");
    await expect(page).toHaveURL(/\/login/);
  });

  await test.step("the right password lands in the app", async () => {
    await page.getByLabel("Password").fill(admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("button", { name: "Account" })).toBeVisible();
    await expect(page).not.toHaveURL(/\/login/);
  });

  const orgName = `Portal test ${Date.now().toString(36)}`;
  await test.step("create an organization with the dialog", async () => {
    await page.getByRole("button", { name: /Switch organization/ }).click();
    await page.getByRole("menuitem", { name: "Create organization" }).click();
    const dialog = page.getByRole("dialog", { name: "Create an organization" });
    await expect(dialog).toBeVisible();
    await dialog.getByLabel("Name").fill(orgName);
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect(dialog).toBeHidden();
    await expect(page).toHaveURL(/\/orgs\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { level: 1, name: orgName })).toBeVisible();
    await expect(page.getByText("Owner", { exact: true })).toBeVisible();
    await screenshot(page, "org-home");
  });

  await test.step("the switcher lists it", async () => {
    await page.getByRole("button", { name: /Switch organization/ }).click();
    await expect(page.getByRole("menuitemradio", { name: new RegExp(orgName) })).toBeChecked();
    await page.keyboard.press("Escape");
  });

  await test.step("a reload keeps the session (the refresh cookie restores it)", async () => {
    await page.reload();
    await expect(page.getByRole("heading", { level: 1, name: orgName })).toBeVisible();
  });

  await test.step("the org home is usable at phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(page.getByRole("heading", { level: 1, name: orgName })).toBeVisible();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "org-home-phone");
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await test.step("sign out", async () => {
    await page.getByRole("button", { name: "Account" }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
  });
});

test("a broken invite link says so, in words", async ({ page }) => {
  await page.goto("/invite/not-a-real-token");
  await expect(page.getByText("This invite link is not valid")).toBeVisible();
});

test("an unknown page inside the app is a readable not-found", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Account" })).toBeVisible();
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
