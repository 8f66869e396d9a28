#!/usr/bin/env python3
"""Measure /v2/ push and pull throughput of ecr-emulator against Debian's reference registry.

Starts `ecr-emulator serve` (blobs in a temporary --data-dir) and Debian's `docker-registry`
(distribution 2.8, filesystem storage in a temporary folder) on free 127.0.0.1 ports, then runs
the same client on both:

- one 256 MiB blob: POST, one PATCH streamed from a generator, PUT ?digest=; pulled back
  streamed and hashed;
- one image of 20 layers of 1 MiB, a config and a manifest, pushed and pulled as docker does
  (HEAD, POST, PATCH, PUT for each blob);
- the emulator's peak resident memory (VmHWM of /proc/<pid>/status) while a 1 GiB layer is
  pushed the same way; the reference's is printed beside it for comparison.

The blob and image measurements run --rounds times (default 5), alternating which registry goes
first, and the median is reported, with the pull ratios of the first round beside it: that pull
reads what the push has just written, which is the case a median would hide. It prints MiB/s for each registry, the emulator/reference
ratios and the targets beside them (push >= 2.0x, pull >= 0.9x, peak RSS < 100 MiB), with
MISSED next to any target missed. It is a measurement, so it exits 0 whether the targets are met
or not. It exits 1 only when a registry cannot be started or returns a wrong response to an
upload or a download. Both servers and the client share this machine's cores and disk, so the
numbers vary from run to run. A run with the defaults writes about 2.7 GiB to a temporary folder
and takes under a minute on a 2-core machine with a local disk.

    python scripts/bench_registry.py [--blob-mib 256] [--layers 20] [--large-mib 1024] [--rounds 3]

Authenticates to the emulator with a token from GetAuthorizationToken (boto3); the reference
registry runs without authentication.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import boto3
import botocore.config
import requests

MIB = 1024 * 1024
CHUNK = os.urandom(MIB)
START_TIMEOUT = 30
REQUEST_TIMEOUT = 600
PUSH_TARGET = 2.0
PULL_TARGET = 0.9
RSS_TARGET_MIB = 100
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REPOSITORIES = ("bench/large-blob", "bench/layered-image", "bench/huge-layer")
REFERENCE_CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


class BenchmarkError(Exception):
    """A registry could not be started, or returned a wrong response to a push or a pull."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Registry:
    """One running registry: its process, base URL, an HTTP session that carries its credentials,
    and how to create a repository in it (the reference creates one on the first push)."""

    name: str
    process: subprocess.Popen
    url: str
    session: requests.Session
    log_path: str
    create_repository: Callable[[str], object]

    def peak_rss_mib(self) -> float:
        """Return VmHWM of the server process in MiB: its peak resident memory since the last reset."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise BenchmarkError(f"no VmHWM line in /proc/{self.process.pid}/status")

    def reset_peak_rss(self) -> bool:
        """Reset VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0 or later); return whether it worked."""
        try:
            with open(f"/proc/{self.process.pid}/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
        except OSError:
            return False
        return True


def wait_until_ready(process: subprocess.Popen, url: str, log_path: str, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"{name} exited with code {process.returncode}; its log is {log_path}:\n{read_tail(log_path)}")
        with contextlib.suppress(requests.ConnectionError):
            requests.get(url + "/v2/", timeout=1)
            return
        time.sleep(0.1)
    raise BenchmarkError(
        f"{name} did not respond on {url} within {START_TIMEOUT}s; its log is {log_path}:\n{read_tail(log_path)}"
    )


def read_tail(path: str, lines: int = 20) -> str:
    with open(path, errors="replace") as stream:
        return "".join(stream.readlines()[-lines:])


def emulator_command() -> list[str]:
    installed = shutil.which("ecr-emulator")
    return [installed] if installed else [sys.executable, "-m", "ecr_emulator"]


@contextlib.contextmanager
def start_emulator(folder: str) -> Iterator[Registry]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = os.path.join(folder, "emulator.log")
    data_dir = os.path.join(folder, "emulator-data")
    os.makedirs(data_dir)
    command = [*emulator_command(), "serve", "--port", str(port), "--data-dir", data_dir, "--log-level", "WARNING"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(process, url, log_path, "ecr-emulator")
        ecr = boto3.client(
            "ecr",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        session = requests.Session()
        session.headers["Authorization"] = f"Basic {token}"
        yield Registry("ecr-emulator", process, url, session, log_path, lambda name: ecr.create_repository(repositoryName=name))
    finally:
        stop(process)


@contextlib.contextmanager
def start_reference(folder: str) -> Iterator[Registry]:
    binary = shutil.which("docker-registry")
    if binary is None:
        raise BenchmarkError("docker-registry not found on PATH; install it with: apt-get install docker-registry")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    root = os.path.join(folder, "reference-data")
    os.makedirs(root)
    config_path = os.path.join(folder, "reference.yml")
    with open(config_path, "w") as config:
        config.write(REFERENCE_CONFIG.format(root=root, port=port))
    log_path = os.path.join(folder, "reference.log")
    # docker-registry reads every REGISTRY_* variable as a configuration override.
    env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([binary, "serve", config_path], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_ready(process, url, log_path, "docker-registry")
        yield Registry("docker-registry", process, url, requests.Session(), log_path, lambda name: None)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def repeated_chunks(size: int) -> Iterator[bytes]:
    """Yield `size` bytes as 1 MiB chunks of one random block, so the client holds one chunk only."""
    remaining = size
    while remaining > 0:
        piece = CHUNK[: min(MIB, remaining)]
        remaining -= len(piece)
        yield piece


def digest_of_chunks(size: int) -> str:
    digest = hashlib.sha256()
    for piece in repeated_chunks(size):
        digest.update(piece)
    return "sha256:" + digest.hexdigest()


def check(response: requests.Response, status: int, step: str) -> requests.Response:
    if response.status_code != status:
        raise BenchmarkError(f"{step}: expected HTTP {status}, got {response.status_code}: {response.text[:500]}")
    return response


def absolute(registry: Registry, location: str) -> str:
    return location if location.startswith("http") else registry.url + location


def push_blob(registry: Registry, repository: str, body, digest: str, check_first: bool = False) -> None:
    """Upload one blob as docker does: optional HEAD, POST, one PATCH with the whole body, PUT ?digest=."""
    session = registry.session
    if check_first:
        session.head(f"{registry.url}/v2/{repository}/blobs/{digest}", timeout=REQUEST_TIMEOUT)
    started = check(session.post(f"{registry.url}/v2/{repository}/blobs/uploads/", timeout=REQUEST_TIMEOUT), 202, "POST upload")
    patched = check(
        session.patch(
            absolute(registry, started.headers["Location"]),
            data=body,
            headers={"Content-Type": "application/octet-stream"},
            timeout=REQUEST_TIMEOUT,
        ),
        202,
        "PATCH upload",
    )
    location = absolute(registry, patched.headers["Location"])
    separator = "&" if "?" in location else "?"
    check(session.put(f"{location}{separator}digest={digest}", timeout=REQUEST_TIMEOUT), 201, "PUT upload")


def pull_blob(registry: Registry, repository: str, digest: str) -> int:
    """Download one blob streamed, hash it, and return its size; raise if the content does not match."""
    hasher = hashlib.sha256()
    size = 0
    with registry.session.get(f"{registry.url}/v2/{repository}/blobs/{digest}", stream=True, timeout=REQUEST_TIMEOUT) as response:
        check(response, 200, f"GET blob {digest}")
        for piece in response.iter_content(MIB):
            hasher.update(piece)
            size += len(piece)
    if "sha256:" + hasher.hexdigest() != digest:
        raise BenchmarkError(f"{registry.name} returned content of digest sha256:{hasher.hexdigest()} for {digest}")
    return size


def timed(function, *args) -> float:
    """Return the seconds `function(*args)` takes, after writing back dirty pages.

    Without the sync, the kernel may throttle a step's writes to flush what the previous step
    wrote, and which registry pays for it depends on the order.
    """
    os.sync()
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def bench_large_blob(registry: Registry, size: int, digest: str) -> tuple[float, float]:
    """Return (push MiB/s, pull MiB/s) of one blob of `size` bytes."""
    repository = "bench/large-blob"
    push_seconds = timed(push_blob, registry, repository, repeated_chunks(size), digest)
    pull_seconds = timed(pull_blob, registry, repository, digest)
    return size / MIB / push_seconds, size / MIB / pull_seconds


def layer_blobs(count: int) -> list[bytes]:
    """Return `count` distinct 1 MiB layers: one random block with the layer's number in front."""
    return [index.to_bytes(8, "big") + CHUNK[8:] for index in range(count)]


def push_image(registry: Registry, repository: str, config: bytes, layers: list[bytes]) -> None:
    for blob in (*layers, config):
        push_blob(registry, repository, blob, sha256(blob), check_first=True)
    manifest = image_manifest(config, layers)
    response = registry.session.put(
        f"{registry.url}/v2/{repository}/manifests/v1",
        data=manifest,
        headers={"Content-Type": DOCKER_MANIFEST},
        timeout=REQUEST_TIMEOUT,
    )
    check(response, 201, "PUT manifest")


def pull_image(registry: Registry, repository: str, config: bytes, layers: list[bytes]) -> None:
    response = registry.session.get(
        f"{registry.url}/v2/{repository}/manifests/v1", headers={"Accept": DOCKER_MANIFEST}, timeout=REQUEST_TIMEOUT
    )
    check(response, 200, "GET manifest")
    if response.content != image_manifest(config, layers):
        raise BenchmarkError(f"{registry.name} returned a manifest other than the one pushed")
    for blob in (config, *layers):
        pull_blob(registry, repository, sha256(blob))


def bench_image(registry: Registry, layer_count: int) -> tuple[float, float]:
    """Return (push MiB/s, pull MiB/s) of an image of `layer_count` 1 MiB layers."""
    repository = "bench/layered-image"
    layers = layer_blobs(layer_count)
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    total_mib = (sum(len(layer) for layer in layers) + len(config)) / MIB
    push_seconds = timed(push_image, registry, repository, config, layers)
    pull_seconds = timed(pull_image, registry, repository, config, layers)
    return total_mib / push_seconds, total_mib / pull_seconds


def bench_peak_rss(registry: Registry, size: int, digest: str) -> tuple[float, bool]:
    """Push a blob of `size` bytes; return the server's peak RSS in MiB during it and whether the peak was reset first."""
    repository = "bench/huge-layer"
    was_reset = registry.reset_peak_rss()
    push_blob(registry, repository, repeated_chunks(size), digest)
    return registry.peak_rss_mib(), was_reset


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_manifest(config: bytes, layers: list[bytes]) -> bytes:
    body = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": sha256(config)},
        "layers": [{"mediaType": DOCKER_LAYER, "size": len(layer), "digest": sha256(layer)} for layer in layers],
    }
    return json.dumps(body, indent=3).encode()


def verdict(ratio: float, target: float) -> str:
    return f"target >= {target:.1f}x" + ("" if ratio >= target else "  MISSED")


def measure(registries: tuple[Registry, Registry], args: argparse.Namespace, digests: dict[str, str]) -> dict:
    """Run every measurement on both registries; return MiB/s lists per registry and case, and peak RSS."""
    results = {registry.name: {"blob": [], "image": []} for registry in registries}
    for registry in registries:
        for repository in REPOSITORIES:
            registry.create_repository(repository)
    for round_number in range(1, args.rounds + 1):
        # Alternate which registry goes first, so a drift in the machine's load hits both alike.
        ordered = registries if round_number % 2 else registries[::-1]
        for registry in ordered:
            blob = bench_large_blob(registry, args.blob_mib * MIB, digests["blob"])
            image = bench_image(registry, args.layers)
            print(
                f"round {round_number}/{args.rounds} {registry.name:>15}: blob push {blob[0]:6.1f} pull {blob[1]:6.1f}, "
                f"image push {image[0]:6.1f} pull {image[1]:6.1f} MiB/s",
                flush=True,
            )
            results[registry.name]["blob"].append(blob)
            results[registry.name]["image"].append(image)
    for registry in registries:
        print(f"{registry.name}: {args.large_mib} MiB layer for peak memory", flush=True)
        results[registry.name]["rss"] = bench_peak_rss(registry, args.large_mib * MIB, digests["large"])
    return results


def report(results: dict, args: argparse.Namespace) -> None:
    ours_all, theirs_all = results["ecr-emulator"], results["docker-registry"]
    print()
    print(f"median of {args.rounds} rounds; MiB/s unless noted")
    print(f"{'':34} {'ecr-emulator':>14} {'docker-registry':>16} {'ratio':>8}")
    for key, label in (("blob", f"{args.blob_mib} MiB blob"), ("image", f"{args.layers} x 1 MiB image")):
        for index, direction, target in ((0, "push", PUSH_TARGET), (1, "pull", PULL_TARGET)):
            ours = statistics.median(rates[index] for rates in ours_all[key])
            theirs = statistics.median(rates[index] for rates in theirs_all[key])
            ratio = ours / theirs
            print(f"{label + ' ' + direction:34} {ours:14.1f} {theirs:16.1f} {ratio:7.2f}x  {verdict(ratio, target)}")
    # The median hides a slow first pull, which reads what the push just wrote.
    first_pulls = [
        f"{label} {ours_all[key][0][1] / theirs_all[key][0][1]:.2f}x"
        for key, label in (("blob", f"{args.blob_mib} MiB blob"), ("image", f"{args.layers} x 1 MiB image"))
    ]
    print(f"{'first-round pulls':34} {', '.join(first_pulls)}")
    peak, was_reset = ours_all["rss"]
    reference_peak = theirs_all["rss"][0]
    missed = "" if peak < RSS_TARGET_MIB else "  MISSED"
    name = f"peak RSS, {args.large_mib} MiB push (MiB)"
    print(f"{name:34} {peak:14.1f} {reference_peak:16.1f} {'':8}  target < {RSS_TARGET_MIB} MiB{missed}")
    if not was_reset:
        print("note: /proc/<pid>/clear_refs could not be written, so the peak RSS covers the whole run")


def run(args: argparse.Namespace) -> None:
    print(f"hashing the test data ({args.blob_mib} MiB and {args.large_mib} MiB blobs)...", flush=True)
    digests = {"blob": digest_of_chunks(args.blob_mib * MIB), "large": digest_of_chunks(args.large_mib * MIB)}
    with tempfile.TemporaryDirectory(prefix="ecr-emulator-bench-") as folder:
        with start_emulator(folder) as emulator, start_reference(folder) as reference:
            for registry in (emulator, reference):
                print(f"{registry.name}: {registry.url}", flush=True)
            results = measure((emulator, reference), args, digests)
    report(results, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blob-mib", type=int, default=256, help="size of the single-blob push and pull, in MiB (default: 256)")
    parser.add_argument("--layers", type=int, default=20, help="number of 1 MiB layers of the image (default: 20)")
    parser.add_argument(
        "--large-mib", type=int, default=1024, help="size of the layer pushed for peak memory, in MiB (default: 1024)"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of the blob and image measurements; the median is reported (default: 5)"
    )
    args = parser.parse_args(argv)
    for name in ("blob_mib", "layers", "large_mib", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be 1 or more, not {getattr(args, name)}")
    try:
        run(args)
    except (BenchmarkError, requests.RequestException) as error:
        print(f"bench_registry: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
