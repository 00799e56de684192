"""The image: multi-stage, the portal built in, hash-checked dependencies, not root, no
build tools at run time; the build context leaves out what the image does not need."""

from __future__ import annotations

import re

from tests.deploy.conftest import DEPLOY, ROOT

DOCKERFILE = (DEPLOY / "docker" / "Dockerfile").read_text()


def stages() -> dict[str, str]:
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].split(" AS ")[1].strip(): part for part in parts}


def test_three_stages_from_pinned_bases() -> None:
    assert list(stages()) == ["portal", "python-build", "runtime"]
    for base in re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE):
        assert ":" in base, base
        assert not base.endswith(":latest"), base


def test_the_portal_is_built_from_the_lock_file() -> None:
    portal = stages()["portal"]
    assert "COPY web/package.json web/package-lock.json" in portal
    assert "npm ci" in portal
    assert "npm install" not in portal
    assert "COPY --from=portal /src/src/ias/portal/" in stages()["python-build"]


def test_dependencies_are_installed_by_hash() -> None:
    build = stages()["python-build"]
    assert "--require-hashes --no-deps -r requirements/main.lock" in build
    assert "--require-hashes --no-deps -r requirements/build.lock" in build


def test_the_runtime_is_small_and_not_root() -> None:
    runtime = stages()["runtime"]
    assert "COPY --from=python-build /opt/ias /opt/ias" in runtime
    for tool in ("apt-get", "gcc", "build-essential", "npm", "pip install"):
        assert tool not in runtime, tool
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["ias"]' in runtime
    assert "HEALTHCHECK" in runtime
    assert "IAS_MODE=production" in runtime
    assert not re.search(r"(SECRET|KEY|PASSWORD)=", runtime)


def test_the_build_context_is_an_allow_list() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"
    for needed in ("!src/", "!web/", "!requirements/main.lock", "!requirements/build.lock"):
        assert needed in lines
    for excluded in ("web/node_modules/", "src/ias/portal/"):
        assert excluded in lines
