"""Tests of the end-to-end harness, run against the reference registry in place of the emulator.

If these pass, docker, skopeo and the helpers in conftest.py work on this machine, so a failing
emulator test points at the emulator.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import build_scratch_image, fail_or_skip, read_image_file, run

# Debian's build of the CNCF distribution registry (package docker-registry).
REGISTRY_BINARY = Path("/usr/bin/docker-registry")
REGISTRY_START_TIMEOUT = 15

# The line `docker push` prints last, such as "v1: digest: sha256:... size: 524".
PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64}) size: \d+")
PULLED_DIGEST = re.compile(r"^Digest: (sha256:[0-9a-f]{64})$", re.MULTILINE)


def _wait_for_registry(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    """Poll GET /v2/ until the registry returns 200, or fail with its log."""
    # An empty ProxyHandler keeps a proxy set in the environment from seeing this request.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + REGISTRY_START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"docker-registry exited with code {process.returncode} during start-up; "
                f"log:\n{log_path.read_text(errors='replace')}"
            )
        try:
            with opener.open(f"http://127.0.0.1:{port}/v2/", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"docker-registry did not answer GET /v2/ on 127.0.0.1:{port} within "
                f"{REGISTRY_START_TIMEOUT}s; log:\n{log_path.read_text(errors='replace')}"
            )
        time.sleep(0.1)


@pytest.fixture
def reference_registry(tmp_path: Path) -> Iterator[str]:
    """Run docker-registry on a free port of 127.0.0.1 and yield its "host:port"."""
    if not REGISTRY_BINARY.exists():
        fail_or_skip(f"{REGISTRY_BINARY} not found; install it with: bash scripts/setup.sh --test")

    port = free_port()
    config_path = tmp_path / "registry.yml"
    config_path.write_text(
        "version: 0.1\n"
        "storage:\n"
        "  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'storage'}\n"
        "  delete:\n"
        "    enabled: true\n"
        "http:\n"
        f"  addr: 127.0.0.1:{port}\n"
    )
    # docker-registry reads every REGISTRY_* variable as a configuration override, and
    # REGISTRY_AUTH_FILE (meant for skopeo and podman) makes it reject its configuration.
    env = {name: value for name, value in os.environ.items() if not name.startswith("REGISTRY_")}

    log_path = tmp_path / "registry.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(REGISTRY_BINARY), "serve", str(config_path)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_registry(process, port, log_path)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_reference_registry_round_trip(
    docker_env: dict[str, str], skopeo_available: str, reference_registry: str
) -> None:
    # given a FROM scratch image with one file, tagged for the reference registry
    image = f"{reference_registry}/harness/hello:v1"
    content = b"hello from the e2e harness\n"
    build_scratch_image(docker_env, image, {"hello.txt": content})

    # when it is pushed, removed locally and pulled back
    pushed = run(["docker", "push", image], docker_env)
    pushed_match = PUSHED_DIGEST.search(pushed.stdout)
    assert pushed_match, f"no digest in docker push output:\n{pushed.stdout}"
    pushed_digest = pushed_match.group(1)

    run(["docker", "rmi", image], docker_env)
    after_rmi = run(["docker", "image", "inspect", image], docker_env, check=False)
    assert after_rmi.returncode != 0, "image still present after docker rmi"

    pulled = run(["docker", "pull", image], docker_env)

    # then docker and skopeo both see the pushed digest, and the file came back intact
    pulled_match = PULLED_DIGEST.search(pulled.stdout)
    assert pulled_match, f"no digest in docker pull output:\n{pulled.stdout}"
    assert pulled_match.group(1) == pushed_digest

    inspected = run(
        [skopeo_available, "inspect", "--tls-verify=false", f"docker://{image}"], docker_env
    )
    assert f'"Digest": "{pushed_digest}"' in inspected.stdout

    assert read_image_file(docker_env, image, "/hello.txt") == content

    run(["docker", "rmi", image], docker_env)


def test_run_failure_shows_output() -> None:
    with pytest.raises(AssertionError) as raised:
        run(["sh", "-c", "echo printed-on-stdout; echo printed-on-stderr >&2; exit 3"], os.environ)

    message = str(raised.value)
    assert "exit code 3" in message
    assert "sh -c 'echo printed-on-stdout; echo printed-on-stderr >&2; exit 3'" in message
    assert "--- stdout ---\nprinted-on-stdout\n" in message
    assert "--- stderr ---\nprinted-on-stderr\n" in message


def test_run_without_check_returns_result() -> None:
    result = run(["sh", "-c", "cat; exit 4"], os.environ, input="piped", check=False)

    assert result.returncode == 4
    assert result.stdout == "piped"


def test_run_reports_missing_command() -> None:
    with pytest.raises(AssertionError, match="command not found: no-such-command-ecr-emulator"):
        run(["no-such-command-ecr-emulator"], os.environ)


def test_run_reports_timeout() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0\.5s"):
        run(["sleep", "5"], os.environ, timeout=0.5)


@pytest.mark.parametrize("name", ["", "/", ".", "../escape", "a/../../escape"])
def test_build_scratch_image_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid file name"):
        build_scratch_image(os.environ, "unused:latest", {name: b"x"})


def test_build_scratch_image_rejects_no_files() -> None:
    with pytest.raises(ValueError, match="files is empty"):
        build_scratch_image(os.environ, "unused:latest", {})


def test_build_scratch_image_layer_per_file(docker_env: dict[str, str]) -> None:
    # given files in nested folders, one name with a space and one with a leading slash
    files = {
        "etc/app.conf": b"key = value\n",
        "/opt/data file.bin": bytes(range(256)),
        "empty": b"",
    }
    image = "ecr-emulator-harness/layers:v1"

    # when the image is built
    build_scratch_image(docker_env, image, files)

    # then each file has its own layer and reads back unchanged
    layers = run(["docker", "image", "inspect", "--format", "{{len .RootFS.Layers}}", image], docker_env)
    assert layers.stdout.strip() == "3"
    for name, content in files.items():
        assert read_image_file(docker_env, image, name) == content

    with pytest.raises(AssertionError, match="not found in any layer"):
        read_image_file(docker_env, image, "missing.txt")

    run(["docker", "rmi", image], docker_env)
