/** Checks what the browser tests need before any of them runs, and says what is missing. */

const REQUIRED = ["BASE_URL", "ADMIN_EMAIL", "ADMIN_PASSWORD"] as const;

export default async function globalSetup(): Promise<void> {
  const missing = REQUIRED.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `set ${missing.join(", ")}: the URL of a running IAS and its super admin's credentials ` +
        "(tests/e2e/test_portal.py sets them)",
    );
  }
  const base = process.env.BASE_URL!.replace(/\/$/, "");
  let health: Response;
  try {
    health = await fetch(`${base}/health`);
  } catch (error) {
    throw new Error(`IAS does not answer at ${base}: ${String(error)}`);
  }
  if (!health.ok) throw new Error(`${base}/health answered ${health.status}`);
  const page = await fetch(`${base}/`, { headers: { accept: "text/html" } });
  const html = await page.text();
  if (page.status !== 200 || !html.includes('id="root"')) {
    throw new Error(`${base}/ does not serve the built portal (status ${page.status}): run \`make portal\``);
  }
}
