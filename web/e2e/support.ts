import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { Page } from "@playwright/test";

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
