import { fileURLToPath } from "node:url";

import { defineConfig } from "@playwright/test";

/**
 * Browser tests of the built portal against a running IAS (`tests/e2e/test_portal.py` starts
 * one and sets BASE_URL, ADMIN_EMAIL and ADMIN_PASSWORD). They drive Debian's chromium: no
 * tool downloads a browser of its own. Playwright gives each run a fresh, temporary profile.
 */
const results = fileURLToPath(new URL("../test-results/e2e", import.meta.url));

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  globalSetup: "./global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: true,
  outputDir: results,
  reporter: [["list"]],
  use: {
    baseURL: process.env.BASE_URL,
    browserName: "chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
