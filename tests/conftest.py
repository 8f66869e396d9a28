"""Fixtures shared by every test folder: a live emulator server and ECR clients in both modes.

Functional tests take the `ecr` fixture, which runs each test twice: once in decorator mode
(`mock_ecr`, in-process) and once against a live `ecr-emulator serve` on 127.0.0.1.
"""

import contextlib
import datetime
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
import pytest

from ecr_emulator.core import clock
from ecr_emulator.mock import MockECR
from ecr_emulator.protocol import serializer

# Every handler's result is checked against its output shape while the tests run.
serializer.STRICT = True

REGION = "us-east-1"
SERVER_START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """An `ecr-emulator serve` subprocess on 127.0.0.1 with its own data folder."""

    def __init__(self, data_dir: str, extra_args: tuple[str, ...] = ()):
        self.port = free_port()
        self.tls_port = free_port()
        self.data_dir = data_dir
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        # The same server over HTTPS, with a self-signed certificate.
        self.tls_host = f"127.0.0.1:{self.tls_port}"
        self.log_path = os.path.join(data_dir, "server.log")
        command = [
            sys.executable, "-m", "ecr_emulator", "serve", "--port", str(self.port), "--data-dir", data_dir,
            "--tls-port", str(self.tls_port), *extra_args,
        ]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.endpoint + "/", timeout=1).read()
                return
            time.sleep(0.1)
        raise RuntimeError(f"the emulator did not answer within {SERVER_START_TIMEOUT}s:\n{self.log()}")

    def log(self) -> str:
        with open(self.log_path, errors="replace") as stream:
            return stream.read()

    def reset(self) -> None:
        request = urllib.request.Request(self.endpoint + "/_emulator/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=5).read()

    def client(self, access_key_id: str = "testing", region: str = REGION, parameter_validation: bool = True):
        return boto3.client(
            "ecr",
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key_id,
            aws_secret_access_key="testing",
            config=botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=parameter_validation),
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def live_server():
    with tempfile.TemporaryDirectory(prefix="ecr-emulator-server-") as data_dir:
        server = LiveServer(data_dir)
        try:
            yield server
        finally:
            server.stop()


class DecoratorMode:
    """The in-process counterpart of LiveServer for the `ecr` fixture."""

    def client(self, access_key_id: str = "testing", region: str = REGION, parameter_validation: bool = True):
        return boto3.client(
            "ecr",
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key="testing",
            config=botocore.config.Config(parameter_validation=parameter_validation),
        )


@pytest.fixture(params=["decorator", "server"])
def ecr_mode(request):
    """The emulator in decorator mode, or a live server reset for this test."""
    if request.param == "decorator":
        with MockECR():
            yield DecoratorMode()
    else:
        server = request.getfixturevalue("live_server")
        server.reset()
        yield server


@pytest.fixture
def ecr(ecr_mode):
    """A boto3 ECR client of the default account, in decorator mode and against a live server."""
    return ecr_mode.client()


def advance_clock(ecr_mode, seconds: float) -> None:
    """Move the emulator's clock forward: through POST /_emulator/clock on a server, directly in-process."""
    if hasattr(ecr_mode, "endpoint"):
        request = urllib.request.Request(
            ecr_mode.endpoint + "/_emulator/clock",
            method="POST",
            data=json.dumps({"advanceSeconds": seconds}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()
    else:
        clock.advance(datetime.timedelta(seconds=seconds))
