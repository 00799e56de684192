"""The IAS chart renders what production needs: probes, limits, non-root pods, a routed
Ingress, migrations before the pods, a spool that outlives the container, scrape metadata."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import Manifest, Render, RenderError, by_kind, workloads

CI = "ci/default-values.yaml"
EVERYTHING = "ci/everything-values.yaml"


@pytest.fixture(scope="module")
def default(render: Render) -> list[Manifest]:
    return render("ias", CI)


@pytest.fixture(scope="module")
def everything(render: Render) -> list[Manifest]:
    return render("ias", EVERYTHING)


def long_running(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in ("Deployment", "StatefulSet")]


def test_every_component_is_rendered(default: list[Manifest], everything: list[Manifest]) -> None:
    assert set(by_kind(default, "StatefulSet")) == {"ias-router"}
    assert set(by_kind(default, "Deployment")) == {"ias-control", "ias-analytics"}
    assert set(by_kind(everything, "Deployment")) == {
        "ias-router",
        "ias-control",
        "ias-analytics",
        "ias-usage-worker",
    }


@pytest.mark.parametrize("values", [CI, EVERYTHING])
def test_every_pod_is_hardened(render: Render, values: str) -> None:
    for workload in workloads(render("ias", values)):
        pod = workload["spec"]["template"]["spec"]
        name = workload["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert security["runAsUser"] >= 10000, name
            assert {"requests", "limits"} <= set(container["resources"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts, name  # noqa: S108 - a mount path, not a file


@pytest.mark.parametrize("values", [CI, EVERYTHING])
def test_long_running_pods_have_probes_and_scrape_metadata(render: Render, values: str) -> None:
    for workload in long_running(render("ias", values)):
        template = workload["spec"]["template"]
        (container,) = template["spec"]["containers"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert probe in container, (workload["metadata"]["name"], probe)
        labels, annotations = template["metadata"]["labels"], template["metadata"]["annotations"]
        assert labels["app.kubernetes.io/part-of"] == "ias"
        assert labels["app.kubernetes.io/component"] in {
            "router",
            "control",
            "analytics",
            "usage-worker",
        }
        assert annotations["prometheus.io/scrape"] == "true"
        ports = {port["containerPort"] for port in container["ports"]}
        assert int(annotations["prometheus.io/port"]) in ports
        if "httpGet" in container["readinessProbe"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/health"
            ready = container["readinessProbe"]["httpGet"]["path"]
            # The router serves through store outages (spool, local limiter, key cache):
            # readiness on /ready would empty its Service exactly then.
            expected = "/health" if labels["app.kubernetes.io/component"] == "router" else "/ready"
            assert ready == expected, workload["metadata"]["name"]


def test_the_ingress_routes_v1_to_the_router_and_the_rest_to_the_control_plane(
    default: list[Manifest],
) -> None:
    (ingress,) = by_kind(default, "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {"/v1": "ias-router", "/api": "ias-control", "/": "ias-control"}
    services = by_kind(default, "Service")
    for name in routes.values():
        assert name in services


def test_migrations_run_before_install_and_upgrade(default: list[Manifest]) -> None:
    job = by_kind(default, "Job")["ias-migrate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    # What the Job reads must exist before it: hooks with a lower weight.
    for kind, name in (("Secret", "ias-env"), ("ConfigMap", "ias-config")):
        hooked = by_kind(default, kind)[name]["metadata"]["annotations"]
        assert hooked["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(hooked["helm.sh/hook-weight"]) < 0


def test_the_router_spool_is_a_volume_per_pod(default: list[Manifest]) -> None:
    router = by_kind(default, "StatefulSet")["ias-router"]
    (claim,) = router["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "spool"
    (container,) = router["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["IAS_ROUTER__SPOOL_DIR"] == "/var/lib/ias/spool"
    assert int(env["IAS_ROUTER__SPOOL_MAX_BYTES"]) > 0
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["spool"] == "/var/lib/ias/spool"
    assert router["spec"]["serviceName"] in by_kind(default, "Service")


def test_without_persistence_the_spool_is_an_empty_dir(everything: list[Manifest]) -> None:
    router = by_kind(everything, "Deployment")["ias-router"]
    volumes = {v["name"]: v for v in router["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes["spool"]


@pytest.mark.parametrize("values", [CI, EVERYTHING])
def test_autoscalers_and_budgets_select_real_workloads(render: Render, values: str) -> None:
    manifests = render("ias", values)
    targets = {(m["kind"], m["metadata"]["name"]): m for m in long_running(manifests)}
    hpas = by_kind(manifests, "HorizontalPodAutoscaler").values()
    assert hpas
    for hpa in hpas:
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["kind"], ref["name"]) in targets
    pdbs = by_kind(manifests, "PodDisruptionBudget").values()
    assert len(pdbs) == len(targets)
    for pdb in pdbs:
        selector = pdb["spec"]["selector"]["matchLabels"]
        matches = [
            t
            for t in targets.values()
            if selector.items() <= t["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, pdb["metadata"]["name"]


def test_service_monitors_scrape_named_service_ports(everything: list[Manifest]) -> None:
    services = by_kind(everything, "Service")
    monitors = by_kind(everything, "ServiceMonitor")
    assert set(monitors) == {"ias-router", "ias-control", "ias-analytics", "ias-usage-worker"}
    for name, monitor in monitors.items():
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics"
        assert endpoint["port"] in {p["name"] for p in services[name]["spec"]["ports"]}
        assert monitor["spec"]["selector"]["matchLabels"].items() <= (
            services[name]["spec"]["selector"].items()
        )


def test_an_existing_secret_replaces_the_charts_own(everything: list[Manifest]) -> None:
    assert not by_kind(everything, "Secret")
    control = by_kind(everything, "Deployment")["ias-control"]
    (container,) = control["spec"]["template"]["spec"]["containers"]
    assert {"secretRef": {"name": "ias-env"}} in container["envFrom"]
    assert "@sha256:" in container["image"]


def test_no_secret_value_is_rendered_outside_the_secret(default: list[Manifest]) -> None:
    secret = by_kind(default, "Secret")["ias-env"]["stringData"]
    others = [m for m in default if m["kind"] != "Secret"]
    text = repr(others)
    for value in secret.values():
        assert value not in text


def test_missing_secrets_stop_the_render(render: Render) -> None:
    with pytest.raises(RenderError, match=r"secrets\.databaseUrl"):
        render("ias")
    with pytest.raises(RenderError, match="at least 32 characters"):
        render("ias", CI, set={"secrets.jwtSecret": "short"})


def test_the_values_schema_refuses_typos(render: Render) -> None:
    with pytest.raises(RenderError, match="Additional property routr is not allowed"):
        render("ias", CI, set={"routr.replicas": "3"})
    with pytest.raises(RenderError, match="runAsNonRoot"):
        render("ias", CI, set={"podSecurityContext.runAsNonRoot": "false"})
