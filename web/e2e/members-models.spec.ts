import { expect, test } from "@playwright/test";

import { createOrgThroughUi, openSection, screenshot, signIn, uniqueSuffix } from "./support";

test.describe.configure({ mode: "serial" });

// The copy buttons write to the clipboard; reading it back needs the permission too.
test.use({ permissions: ["clipboard-read", "clipboard-write"] });

test("invite someone, change their role, read the models, settings and audit log", async ({
  page,
  browser,
  baseURL,
}) => {
  const suffix = uniqueSuffix();
  const orgName = `Members test ${suffix}`;
  const invitee = { name: `Grace ${suffix}`, email: `grace-${suffix}@example.com` };
  const origin = new URL(baseURL ?? "").origin;

  await signIn(page);
  const orgId = await createOrgThroughUi(page, orgName);

  let link = "";
  await test.step("invite by email: a bad address is caught before sending", async () => {
    await openSection(page, "Members");
    await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();
    const email = page.getByLabel("Email");
    await email.fill("not-an-email");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(page.getByText("Enter an email address like name@example.com.")).toBeVisible();

    await email.fill(invitee.email);
    await expect(page.getByLabel("Role", { exact: true })).toHaveValue("member");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const linkField = page.getByRole("textbox", { name: "Invite link" });
    await expect(linkField).toHaveValue(new RegExp(`^${origin}/invites/[\\w-]+$`));
    link = await linkField.inputValue();
    await page.getByRole("button", { name: "Copy invite link" }).click();
    await expect(page.getByRole("button", { name: "Copied invite link" })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

    const invites = page.getByRole("table", { name: "Invites" });
    await expect(invites.getByRole("row", { name: new RegExp(invitee.email) })).toContainText("Pending");
  });

  await test.step("the invitee joins through the link in their own browser", async () => {
    const context = await browser.newContext();
    try {
      const theirs = await context.newPage();
      await theirs.goto(link);
      await expect(theirs.getByRole("heading", { name: `Join ${orgName}` })).toBeVisible();
      await theirs.getByLabel("Your name").fill(invitee.name);
      await theirs.getByLabel("Password").fill(`Blue-Kettle-${suffix}-Harbor-42`);
      await theirs.getByRole("button", { name: "Create account and join" }).click();
      await expect(theirs).toHaveURL(new RegExp(`/orgs/${orgId}$`));
      await expect(theirs.getByRole("heading", { level: 1, name: orgName })).toBeVisible();

      // A member sees who is there but manages nobody, and has no audit log.
      const nav = theirs.getByRole("navigation", { name: "Organization" });
      await expect(nav.getByRole("link", { name: "Members" })).toBeVisible();
      await expect(nav.getByRole("link", { name: "Audit log" })).toHaveCount(0);
      await openSection(theirs, "Members");
      await expect(theirs.getByRole("cell", { name: invitee.email })).toBeVisible();
      await expect(theirs.getByRole("combobox")).toHaveCount(0);
      await expect(theirs.getByRole("heading", { name: "Invites" })).toHaveCount(0);
    } finally {
      await context.close();
    }
  });

  await test.step("the owner sees them, makes them admin, and it sticks", async () => {
    await page.reload();
    const row = page.getByRole("row", { name: new RegExp(invitee.email) }).first();
    await expect(row).toContainText(invitee.name);
    const role = page.getByLabel(`Role of ${invitee.name}`);
    await expect(role).toHaveValue("member");
    await role.selectOption("admin");
    await expect(page.getByText(`${invitee.name} is now admin`)).toBeVisible();
    await page.reload();
    await expect(page.getByLabel(`Role of ${invitee.name}`)).toHaveValue("admin");
    await expect(
      page.getByRole("table", { name: "Invites" }).getByRole("row", { name: new RegExp(invitee.email) }),
    ).toContainText("Accepted");
    await screenshot(page, "members");
  });

  await test.step("models: the catalog and a snippet to copy", async () => {
    await openSection(page, "Models");
    await expect(page.getByRole("heading", { level: 1, name: "Models" })).toBeVisible();
    await expect(page.getByRole("cell", { name: "demo-chat", exact: true })).toBeVisible();
    await page.getByRole("button", { name: "Show code for demo-chat" }).click();
    await expect(page.getByRole("heading", { name: "Call demo-chat" })).toBeVisible();

    const curl = page.getByLabel("curl example", { exact: true });
    await expect(curl).toContainText(`curl ${origin}/v1/chat/completions`);
    await expect(curl).toContainText('"model":"demo-chat"');

    await page.getByRole("tab", { name: "Python" }).click();
    await page.getByRole("button", { name: "Copy Python example" }).click();
    await expect(page.getByRole("button", { name: "Copied Python example" })).toBeVisible();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain(`base_url="${origin}/v1"`);
    expect(copied).toContain('model="demo-chat"');
    expect(copied).toContain('os.environ["IAS_API_KEY"]');
    await screenshot(page, "models");
  });

  await test.step("settings: the name, the limits, deleting behind the name", async () => {
    await openSection(page, "Settings");
    await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
    await expect(page.getByLabel("Organization name")).toHaveValue(orgName);
    await expect(page.getByText("Requests per minute")).toBeVisible();
    await expect(page.getByText("Only platform administrators change limits", { exact: false })).toBeVisible();
    await page.getByRole("button", { name: "Delete organization" }).click();
    const dialog = page.getByRole("dialog", { name: `Delete ${orgName}?` });
    await expect(dialog.getByRole("button", { name: "Delete for good" })).toBeDisabled();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await screenshot(page, "settings");
  });

  await test.step("audit log: the invite and the role change are there", async () => {
    await openSection(page, "Audit log");
    const log = page.getByRole("table", { name: "Audit log" });
    await expect(log.getByRole("row", { name: /invite\.created/ })).toContainText(invitee.email);
    await expect(log.getByRole("row", { name: /invite\.accepted/ })).toBeVisible();
    await expect(log.getByRole("row", { name: /member\.role_changed/ })).toContainText("member → admin");
    await screenshot(page, "audit");
  });
});
