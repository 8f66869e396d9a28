"""Fixtures and helpers for end-to-end tests that drive the real docker and skopeo clients.

`docker_env` finds or starts a docker daemon (see scripts/dockerd.sh) and returns the
environment to run the docker CLI with. When docker or skopeo is missing, the fixtures skip
the test on a developer's machine and fail it when ECR_EMULATOR_REQUIRE_DOCKER=1 or CI is
set, so CI never passes by skipping every end-to-end test.

The daemon that dockerd.sh starts has no network (--bridge=none), so the tests build FROM
scratch images, log in, push, pull, save and inspect, and run no containers.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERD_SCRIPT = REPO_ROOT / "scripts" / "dockerd.sh"
DOCKERD_ROOT = Path(os.environ.get("ECR_EMULATOR_DOCKER_ROOT", "/tmp/ecr-emulator-docker"))

# Seconds one command may take unless the caller passes its own timeout.
COMMAND_TIMEOUT = 120
# dockerd.sh waits up to 60 s for the daemon, plus up to 30 s to stop one that hangs.
DOCKERD_START_TIMEOUT = 120
DOCKER_INFO_TIMEOUT = 20
LOG_TAIL_LINES = 40
# dockerd.sh writes this line to the log before each start.
DOCKERD_START_MARKER = "=== dockerd.sh start at "


def docker_required() -> bool:
    """Return whether a missing docker or skopeo must fail the tests instead of skipping them."""
    if os.environ.get("ECR_EMULATOR_REQUIRE_DOCKER") == "1":
        return True
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def fail_or_skip(reason: str) -> NoReturn:
    """Fail the current test when docker is required, and skip it otherwise."""
    if docker_required():
        pytest.fail(
            f"{reason}\n(failing instead of skipping because ECR_EMULATOR_REQUIRE_DOCKER=1 or CI is set)",
            pytrace=False,
        )
    pytest.skip(reason)


def _as_text(output: str | bytes | None) -> str:
    if output is None:
        return ""
    if isinstance(output, bytes):
        return output.decode("utf-8", errors="replace")
    return output


def run(
    cmd: Sequence[str],
    env: Mapping[str, str],
    input: str | None = None,
    check: bool = True,
    timeout: float = COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` with `env` and return the completed process with its stdout and stderr as text.

    Raises AssertionError showing the command, exit code, stdout and stderr when the command
    is not found, times out after `timeout` seconds, or (with `check`) exits non-zero.
    """
    command_line = shlex.join(cmd)
    try:
        result = subprocess.run(
            list(cmd),
            env=dict(env),
            input=input,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
    except FileNotFoundError:
        raise AssertionError(f"command not found: {cmd[0]} (running: {command_line})") from None
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"command timed out after {timeout}s: {command_line}\n"
            f"--- stdout ---\n{_as_text(error.stdout)}\n"
            f"--- stderr ---\n{_as_text(error.stderr)}"
        ) from None

    if check and result.returncode != 0:
        raise AssertionError(
            f"command failed with exit code {result.returncode}: {command_line}\n"
            f"--- stdout ---\n{result.stdout}\n"
            f"--- stderr ---\n{result.stderr}"
        )
    return result


def _image_path(name: str) -> PurePosixPath:
    """Return `name` as a path relative to the image root, or raise ValueError if it escapes it."""
    path = PurePosixPath(name.lstrip("/"))
    if not path.parts or path == PurePosixPath(".") or ".." in path.parts:
        raise ValueError(f"invalid file name for an image: {name!r}; expected a path such as 'etc/app.conf'")
    return path


def build_scratch_image(env: Mapping[str, str], tag: str, files: dict[str, bytes]) -> None:
    """Build a FROM scratch image tagged `tag` that contains `files` (path in the image -> content).

    Each file gets its own COPY instruction, so the image has one layer per file, in the order
    of `files`. Paths may start with "/" or not. The classic builder is used (DOCKER_BUILDKIT=0)
    because no buildx plugin is installed.
    """
    if not files:
        raise ValueError("files is empty; a FROM scratch image needs at least one file")

    with tempfile.TemporaryDirectory(prefix="ecr-emulator-build-") as context:
        context_dir = Path(context)
        dockerfile_lines = ["FROM scratch"]
        for name, content in files.items():
            relative = _image_path(name)
            source = context_dir / "rootfs" / relative
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_bytes(content)
            # The JSON form of COPY keeps spaces in file names intact.
            dockerfile_lines.append("COPY " + json.dumps([f"rootfs/{relative}", f"/{relative}"]))
        (context_dir / "Dockerfile").write_text("\n".join(dockerfile_lines) + "\n")

        run(["docker", "build", "--tag", tag, str(context_dir)], dict(env, DOCKER_BUILDKIT="0"))


def _layer_member_name(name: str) -> str:
    if name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def read_image_file(env: Mapping[str, str], image: str, path: str) -> bytes:
    """Return the content of `path` in the local image `image`, read from `docker save` output.

    The top-most layer that contains the file wins. Whiteout files are not interpreted, so a file
    deleted in a later layer is still found.
    """
    target_name = str(_image_path(path))
    with tempfile.TemporaryDirectory(prefix="ecr-emulator-save-") as scratch:
        archive_path = Path(scratch) / "image.tar"
        run(["docker", "save", "--output", str(archive_path), image], env)

        content = None
        with tarfile.open(archive_path) as archive:
            manifest = json.load(archive.extractfile("manifest.json"))
            for layer_name in manifest[0]["Layers"]:
                with tarfile.open(fileobj=archive.extractfile(layer_name)) as layer:
                    for member in layer.getmembers():
                        if member.isfile() and _layer_member_name(member.name) == target_name:
                            content = layer.extractfile(member).read()

    if content is None:
        raise AssertionError(f"file {path!r} not found in any layer of image {image}")
    return content


def _docker_responds(env: Mapping[str, str]) -> bool:
    try:
        result = subprocess.run(
            ["docker", "info"], env=dict(env), capture_output=True, timeout=DOCKER_INFO_TIMEOUT
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _dockerd_log_tail() -> str:
    """Return the last lines that the latest dockerd.sh start wrote to the dockerd log."""
    log_path = DOCKERD_ROOT / "dockerd.log"
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError as error:
        return f"(no dockerd log: {error})"

    starts = [index for index, line in enumerate(lines) if line.startswith(DOCKERD_START_MARKER)]
    if starts:
        lines = lines[starts[-1] :]
    return f"last lines of {log_path}:\n" + "\n".join(lines[-LOG_TAIL_LINES:])


def _start_dockerd(env: Mapping[str, str]) -> str:
    """Start dockerd with scripts/dockerd.sh and return its DOCKER_HOST, or fail or skip the test."""
    command = ["bash", str(DOCKERD_SCRIPT), "start"]
    try:
        result = subprocess.run(
            command,
            env=dict(env),
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=DOCKERD_START_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        fail_or_skip(
            f"{shlex.join(command)} timed out after {DOCKERD_START_TIMEOUT}s\n{_dockerd_log_tail()}"
        )

    # On failure dockerd.sh prints the reason and, if dockerd ran, its log tail to stderr.
    if result.returncode != 0:
        fail_or_skip(f"docker is not available: {shlex.join(command)} exited {result.returncode}\n{result.stderr}")

    for line in result.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and words[1].startswith("DOCKER_HOST="):
            return words[1].removeprefix("DOCKER_HOST=")
    fail_or_skip(f"{shlex.join(command)} printed no export DOCKER_HOST line; stdout:\n{result.stdout}")


@pytest.fixture(scope="session")
def docker_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return an environment for running the docker CLI against a live daemon.

    It is a copy of os.environ in which DOCKER_HOST names a daemon that responds to `docker info`:
    the caller's DOCKER_HOST if it responds, or else the daemon that scripts/dockerd.sh starts
    (it stays running after the session, for reuse). DOCKER_CONFIG and REGISTRY_AUTH_FILE
    point into a fresh folder, so `docker login`, `skopeo login` and `podman login` never touch
    the user's credentials. DOCKER_BUILDKIT=0 selects the classic builder. The dict is shared by
    the whole session: copy it before changing it.
    """
    env = dict(os.environ)
    config_dir = tmp_path_factory.mktemp("docker-config")
    env["DOCKER_CONFIG"] = str(config_dir)
    # Read by skopeo and podman. docker-registry treats every REGISTRY_* variable as a
    # configuration override, so start it without them.
    env["REGISTRY_AUTH_FILE"] = str(config_dir / "containers-auth.json")
    env["DOCKER_BUILDKIT"] = "0"

    if shutil.which("docker", path=env.get("PATH")) is None:
        fail_or_skip("docker client not found on PATH; install it with: bash scripts/setup.sh --test")

    if env.get("DOCKER_HOST") and _docker_responds(env):
        return env

    env["DOCKER_HOST"] = _start_dockerd(env)
    if not _docker_responds(env):
        fail_or_skip(
            f"dockerd.sh reported {env['DOCKER_HOST']} ready, but `docker info` failed there\n"
            f"{_dockerd_log_tail()}"
        )
    return env


@pytest.fixture(scope="session")
def skopeo_available() -> str:
    """Return the path of a skopeo binary that runs, or fail or skip the test."""
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        fail_or_skip("skopeo not found on PATH; install it with: bash scripts/setup.sh --test")

    try:
        result = subprocess.run(
            [skopeo, "--version"], capture_output=True, encoding="utf-8", errors="replace", timeout=30
        )
    except subprocess.TimeoutExpired:
        fail_or_skip(f"{skopeo} --version timed out")
    if result.returncode != 0:
        fail_or_skip(f"{skopeo} --version exited {result.returncode}: {result.stderr}")
    return skopeo
