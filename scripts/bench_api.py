"""Benchmark the ECR API against moto: the same boto3 workload, in server mode and in decorator mode.

Both peers run in the same invocation, so the ratios hold however busy the machine is. The
workload is the API side of a CI pipeline: PutImage of a new tag, DescribeImages, ListImages,
BatchGetImage, DescribeRepositories, GetAuthorizationToken, creating and deleting a repository,
and BatchDeleteImage of the tag. The image's blobs are uploaded once before timing, because moto
does not check that they exist and ecr-emulator does.

Usage: python scripts/bench_api.py [--rounds N]   (target: ecr-emulator at least 3x moto in both modes)
"""

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
import botocore.config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.helpers import image_manifest, upload_blob  # noqa: E402

TARGET_RATIO = 3.0
REPOSITORY = "bench/app"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=1).read()
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def client(endpoint: str | None):
    return boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def prepare(ecr, needs_blobs: bool) -> str:
    """Create the repository and return a manifest whose blobs the repository holds."""
    ecr.create_repository(repositoryName=REPOSITORY)
    config_bytes = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    layer_bytes = b"benchmark layer " * 64
    if needs_blobs:
        config = upload_blob(ecr, REPOSITORY, config_bytes)
        layer = upload_blob(ecr, REPOSITORY, layer_bytes)
    else:
        from tests.helpers import sha256

        config = {"digest": sha256(config_bytes), "size": len(config_bytes)}
        layer = {"digest": sha256(layer_bytes), "size": len(layer_bytes)}
    return image_manifest(config, [layer]).decode()


def workload(ecr, manifest: str, rounds: int) -> float:
    """Run the timed calls; return the seconds they took."""
    started = time.perf_counter()
    for index in range(rounds):
        tag = f"build-{index}"
        ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest, imageTag=tag)
        ecr.describe_images(repositoryName=REPOSITORY)
        ecr.list_images(repositoryName=REPOSITORY)
        ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])
        ecr.describe_repositories(repositoryNames=[REPOSITORY])
        ecr.get_authorization_token()
        ecr.create_repository(repositoryName=f"bench/tmp-{index}")
        ecr.delete_repository(repositoryName=f"bench/tmp-{index}")
        ecr.batch_delete_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])
    return time.perf_counter() - started


def server_mode(rounds: int, repeats: int) -> tuple[float, float]:
    """Start both servers, time them `repeats` times, alternating, and keep each one's best run."""
    moto_port, ours_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        moto_process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-p", str(moto_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        our_process = subprocess.Popen(
            [sys.executable, "-m", "ecr_emulator", "serve", "--port", str(ours_port), "--data-dir", data_dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{moto_port}/moto-api/", moto_process)
            wait_until_up(f"http://127.0.0.1:{ours_port}/", our_process)
            moto = client(f"http://127.0.0.1:{moto_port}")
            ours = client(f"http://127.0.0.1:{ours_port}")
            moto_manifest = prepare(moto, needs_blobs=False)
            our_manifest = prepare(ours, needs_blobs=True)
            moto_times, our_times = [], []
            for _ in range(repeats):
                moto_times.append(workload(moto, moto_manifest, rounds))
                our_times.append(workload(ours, our_manifest, rounds))
        finally:
            for process in (moto_process, our_process):
                process.terminate()
                process.wait(timeout=10)
    return min(moto_times), min(our_times)


def decorator_mode(rounds: int, repeats: int) -> tuple[float, float]:
    """Time both mocks `repeats` times, alternating, and keep each one's best run."""
    from moto import mock_aws

    from ecr_emulator import mock_ecr

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    moto_times, our_times = [], []
    for _ in range(repeats):
        with mock_aws():
            ecr = client(None)
            manifest = prepare(ecr, needs_blobs=False)
            workload(ecr, manifest, 3)
            moto_times.append(workload(ecr, manifest, rounds))
        with mock_ecr():
            ecr = client(None)
            manifest = prepare(ecr, needs_blobs=True)
            workload(ecr, manifest, 3)
            our_times.append(workload(ecr, manifest, rounds))
    return min(moto_times), min(our_times)


def report(mode: str, moto: float, ours: float, calls: int) -> None:
    ratio = moto / ours
    status = "" if ratio >= TARGET_RATIO else "  MISSED"
    print(
        f"{mode:9} moto {moto:6.2f}s ({calls / moto:7.0f} calls/s)   ecr-emulator {ours:6.2f}s "
        f"({calls / ours:7.0f} calls/s)   speed ratio {ratio:5.2f} (target >= {TARGET_RATIO}){status}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="workload rounds of 9 calls each (default: 100)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each peer; the best counts (default: 3)")
    args = parser.parse_args()
    calls = args.rounds * 9

    report("server", *server_mode(args.rounds, args.repeats), calls)
    report("decorator", *decorator_mode(args.rounds, args.repeats), calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
