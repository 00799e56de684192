"""The vllm chart: a GPU Deployment per model with the engine's knobs, a cache volume,
readiness on /health, and a Job that registers each model with the IAS control plane."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, Manifest, Render, RenderError, by_kind

CI = "ci/default-values.yaml"
EVERYTHING = "ci/everything-values.yaml"


@pytest.fixture(scope="module")
def everything(render: Render) -> list[Manifest]:
    return render("vllm", EVERYTHING)


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_a_gpu_deployment_per_model(everything: list[Manifest]) -> None:
    deployments = by_kind(everything, "Deployment")
    assert set(deployments) == {"vllm-llama-3-1-8b", "vllm-qwen-2-5-32b", "vllm-bge-m3"}
    qwen = deployments["vllm-qwen-2-5-32b"]["spec"]["template"]
    (container,) = qwen["spec"]["containers"]
    args = container["args"]
    assert args[0] == "Qwen/Qwen2.5-32B-Instruct"
    assert flag(args, "--served-model-name") == "qwen2.5-32b"
    assert flag(args, "--tensor-parallel-size") == "2"
    assert flag(args, "--max-model-len") == "32768"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["failureThreshold"] * 10 >= 1800
    assert qwen["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    labels = qwen["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "engine"
    assert labels["app.kubernetes.io/part-of"] == "ias"
    assert qwen["metadata"]["annotations"]["prometheus.io/port"] == "8000"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/models", "/dev/shm", "/tmp"} <= mounts  # noqa: S108 - mount paths


def test_the_model_cache_is_a_kept_claim_by_default(render: Render) -> None:
    manifests = render("vllm", CI)
    (claim,) = by_kind(manifests, "PersistentVolumeClaim").values()
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    (deployment,) = by_kind(manifests, "Deployment").values()
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]


def test_registration_jobs_for_registered_models(everything: list[Manifest]) -> None:
    jobs = by_kind(everything, "Job")
    assert set(jobs) == {"vllm-llama-3-1-8b-register", "vllm-bge-m3-register"}
    job = jobs["vllm-bge-m3-register"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["MODEL_NAME"]["value"] == "bge-m3"
    assert env["MODEL_KIND"]["value"] == "embedding"
    assert env["BACKEND_URL"]["value"] == "http://vllm-bge-m3.vllm.svc.cluster.local:8000/v1"
    assert env["IAS_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "ias-admin-login"
    assert env["IAS_BACKEND_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "vllm-api-key"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_registration_script_passes_shellcheck(
    everything: list[Manifest], tmp_path: Path
) -> None:
    shellcheck = shutil.which("shellcheck") or str(ROOT / ".venv-deploy/bin/shellcheck")
    if not Path(shellcheck).exists():
        pytest.skip("needs shellcheck (make check-deploy)")
    script = by_kind(everything, "ConfigMap")["vllm-register"]["data"]["register.sh"]
    path = tmp_path / "register.sh"
    path.write_text("#!/usr/bin/env bash\n" + script)
    done = subprocess.run([shellcheck, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_more_gpus_than_tensor_parallel_ranks_are_required(render: Render, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        "models:\n  - {name: big, model: org/big, servedModelName: big, tensorParallelSize: 4}\n"
    )
    with pytest.raises(RenderError, match=r"gpus \(1\) must be at least tensorParallelSize"):
        render("vllm", CI, str(values))


def test_registration_needs_the_control_plane_and_a_login(render: Render) -> None:
    with pytest.raises(RenderError, match=r"registration\.controlPlaneUrl"):
        render("vllm")
    assert not by_kind(render("vllm", set={"registration.enabled": "false"}), "Job")
