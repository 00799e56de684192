// Fails when src/lib/api/schema.d.ts is not what openapi-typescript makes of openapi.json now.
// `make web-client` regenerates both; CI runs this through `make web-test`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const committed = join(web, "src/lib/api/schema.d.ts");
const scratch = mkdtempSync(join(tmpdir(), "ias-client-"));
try {
  const fresh = join(scratch, "schema.d.ts");
  execFileSync(
    join(web, "node_modules/.bin/openapi-typescript"),
    [join(web, "openapi.json"), "--output", fresh],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) {
    console.error("src/lib/api/schema.d.ts is out of date with openapi.json: run `make web-client`");
    process.exit(1);
  }
  console.log("src/lib/api/schema.d.ts matches openapi.json");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
