import { expect, test, type APIRequestContext, type Page } from "@playwright/test";

import { ApiSession, openSection, SCREENSHOTS, screenshot, signIn, uniqueSuffix } from "./support";

test.describe.configure({ mode: "serial" });

const KEY_NAME = "e2e playground key";

/** Calls the OpenAI-compatible API straight, as any client would. */
async function callModel(request: APIRequestContext, key: string, path: string, data: unknown) {
  const response = await request.post(`/v1${path}`, {
    headers: { authorization: `Bearer ${key}` },
    data,
  });
  expect(response.status(), await response.text()).toBe(200);
}

async function totalRequests(page: Page): Promise<number> {
  const text = await page.getByTestId("total-requests-value").innerText();
  return Number(text.replace(/[^\d]/g, ""));
}

test("create a key, stream with it, see its usage, revoke it", async ({ page, request }) => {
  const session = await ApiSession.signIn(request);
  const org = await session.createOrg(`Keys and usage ${uniqueSuffix()}`);
  await signIn(page);
  await page.goto(`/orgs/${org.id}`);
  let secret = "";

  await test.step("create a key: checked before sending, its secret shown once", async () => {
    await openSection(page, "API keys");
    await expect(page.getByRole("heading", { level: 1, name: "API keys" })).toBeVisible();
    await expect(page.getByText("No API keys yet")).toBeVisible();
    await page.getByRole("button", { name: "Create API key" }).click();

    const form = page.getByRole("dialog", { name: "Create an API key" });
    await form.getByRole("button", { name: "Create key" }).click();
    await expect(form.getByText("Give the key a name")).toBeVisible();

    await form.getByLabel("Name").fill(KEY_NAME);
    await form.getByLabel("All models, including ones added later").uncheck();
    await form.getByLabel("demo-chat").check();
    await form.getByLabel("Requests / minute").fill("600");
    await form.getByRole("button", { name: "Create key" }).click();

    const created = page.getByRole("dialog", { name: "API key created" });
    await expect(created.getByText("Copy this key now")).toBeVisible();
    secret = await created.getByTestId("new-key-secret").inputValue();
    expect(secret).toMatch(/^ias_/);
    await created.getByRole("button", { name: "I have copied it" }).click();
    await expect(created).toBeHidden();

    const row = page.getByTestId("api-key-row").filter({ hasText: KEY_NAME });
    await expect(row).toContainText("demo-chat");
    await expect(row).toContainText("Active");
    await expect(row).toContainText("You");
    expect(await page.content()).not.toContain(secret);

    await page.reload();
    await expect(page.getByTestId("api-key-row").filter({ hasText: KEY_NAME })).toBeVisible();
    expect(await page.content()).not.toContain(secret);
    await screenshot(page, "keys");
  });

  await test.step("stream an answer in the playground with that key", async () => {
    // The demo engine answers at once; slowing it per request (its `mock.delay` option, passed
    // through by the router) lets the test see the tokens arrive one after another.
    await page.route("**/v1/chat/completions", async (route) => {
      const body = route.request().postDataJSON() as Record<string, unknown>;
      await route.continue({ postData: JSON.stringify({ ...body, mock: { delay: 0.15 } }) });
    });
    await openSection(page, "Playground");
    await expect(page.getByRole("heading", { level: 1, name: "Playground" })).toBeVisible();
    await page.getByLabel("Model", { exact: true }).selectOption("demo-chat");
    await page.getByLabel("API key", { exact: true }).fill(secret);
    await page.getByLabel("Message").fill("Tell me about inference.");
    await page.getByRole("button", { name: "Send" }).click();

    const answer = page.getByTestId("assistant-text").last();
    await expect(answer).not.toBeEmpty();
    const partial = (await answer.innerText()).trim();
    await expect(page.getByRole("button", { name: "Stop" })).toBeVisible();

    await expect(page.getByTestId("stat-total-tokens")).toBeVisible({ timeout: 20_000 });
    const full = (await answer.innerText()).trim();
    expect(full.length).toBeGreaterThan(partial.length);
    expect(full.startsWith(partial)).toBe(true);

    const count = async (id: string) => Number((await page.getByTestId(`stat-${id}`).innerText()).replace(/[^\d]/g, ""));
    const [prompt, completion, total] = [await count("prompt-tokens"), await count("completion-tokens"), await count("total-tokens")];
    expect(prompt).toBeGreaterThan(0);
    expect(completion).toBeGreaterThan(0);
    expect(total).toBe(prompt + completion);
    await expect(page.getByTestId("stat-latency")).toBeVisible();
    await page.unroute("**/v1/chat/completions");
    await screenshot(page, "playground");
  });

  await test.step("see that request on the dashboard", async () => {
    // A little more traffic, from a second key and on both demo models, for a fuller picture.
    const batchKey = await session.createApiKey(org.id, "batch jobs");
    const prompts = ["Summarise the report.", "Translate: bonjour", "Write a haiku about GPUs."];
    for (const content of prompts) {
      await callModel(request, batchKey, "/chat/completions", {
        model: "demo-chat",
        messages: [{ role: "user", content }],
      });
    }
    await callModel(request, batchKey, "/embeddings", {
      model: "demo-embed",
      input: ["search query one", "search query two"],
    });
    await callModel(request, secret, "/chat/completions", {
      model: "demo-chat",
      messages: [{ role: "user", content: "One more question, please." }],
    });

    await openSection(page, "Usage");
    await expect(page.getByRole("heading", { level: 1, name: "Usage" })).toBeVisible();
    await page.getByRole("button", { name: "24 h" }).click();
    // The ledger records a request within moments of its end.
    await expect(async () => {
      await page.getByRole("button", { name: "Refresh usage" }).click();
      expect(await totalRequests(page)).toBeGreaterThanOrEqual(6);
    }).toPass({ timeout: 20_000 });
    await expect(page.getByRole("table", { name: "By model" })).toContainText("demo-embed");
    await expect(page.getByRole("table", { name: "By API key" })).toContainText(KEY_NAME);
    await expect(page.getByRole("table", { name: "By API key" })).toContainText("batch jobs");
    await page.getByRole("tab", { name: "Tokens" }).click();
    await expect(page.locator(".recharts-bar-rectangle").first()).toBeVisible();
    await screenshot(page, "dashboard");
    await page.screenshot({ path: `${SCREENSHOTS}/readme-dashboard.png` });
  });

  await test.step("revoke the key: the playground is refused, in words", async () => {
    await openSection(page, "API keys");
    await page.getByRole("button", { name: `Revoke ${KEY_NAME}` }).click();
    const confirm = page.getByRole("dialog", { name: "Revoke this API key?" });
    await confirm.getByRole("button", { name: "Revoke key" }).click();
    await expect(confirm).toBeHidden();
    await expect(page.getByTestId("api-key-row").filter({ hasText: KEY_NAME })).toContainText("Revoked");

    await openSection(page, "Playground");
    // Kept in memory while the tab lives: still there after moving between sections.
    await expect(page.getByLabel("API key", { exact: true })).toHaveValue(secret);
    await page.getByLabel("Message").fill("Are you still there?");
    await page.getByRole("button", { name: "Send" }).click();
    const refusal = page.getByTestId("assistant-message").last().getByRole("alert");
    await expect(refusal).toContainText("The API key was refused");
    await expect(refusal).toContainText("Incorrect API key");
    // The server's message, not its JSON envelope.
    await expect(refusal).not.toContainText('"error"');
    await expect(refusal).not.toContainText("authentication_error");
  });

  await test.step("signing out forgets the pasted key", async () => {
    await page.getByRole("button", { name: "Account" }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await signIn(page);
    await page.goto(`/orgs/${org.id}`);
    await openSection(page, "Playground");
    await expect(page.getByLabel("API key", { exact: true })).toHaveValue("");
  });
});
