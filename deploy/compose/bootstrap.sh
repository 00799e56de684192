#!/usr/bin/env bash
# One-shot set-up of the compose stack, safe to run again: the first super admin (straight on
# the database), then the demo model, served by the mock engine, through the control plane.
set -euo pipefail

: "${IAS_ADMIN_EMAIL:?set IAS_ADMIN_EMAIL}"
: "${IAS_ADMIN_PASSWORD:?set IAS_ADMIN_PASSWORD}"
control=${IAS_CONTROL_URL:-http://control:8000}
model=${IAS_DEMO_MODEL:-demo-chat}
backend=${IAS_DEMO_BACKEND:-http://mock-engine:8000/v1}

# Reads IAS_ADMIN_PASSWORD from the environment; an existing admin is left as it is.
ias-admin bootstrap create-super-admin --email "$IAS_ADMIN_EMAIL"

IAS_PASSWORD=$IAS_ADMIN_PASSWORD ias-admin login --url "$control" --email "$IAS_ADMIN_EMAIL"

# missing | no-backend | ok
state=$(ias-admin model list --json | python3 -c '
import json, sys
name, url = sys.argv[1], sys.argv[2].rstrip("/").lower()
for model in json.load(sys.stdin):
    if model["name"] == name:
        urls = {backend["url"].rstrip("/").lower() for backend in model["backends"]}
        print("ok" if url in urls else "no-backend")
        break
else:
    print("missing")
' "$model" "$backend")

case $state in
  missing)
    ias-admin model add "$model" --kind chat --upstream-model "$model" \
      --input-price-per-mtok 0.10 --output-price-per-mtok 0.40 --backend "$backend"
    ;;
  no-backend)
    ias-admin backend add "$model" "$backend"
    ;;
  ok)
    echo "model $model is already served by $backend"
    ;;
esac
ias-admin logout
