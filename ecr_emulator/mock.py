"""`mock_ecr`: serve boto3's ECR calls in-process, as a decorator or a context manager.

A handler on botocore's `before-send` event responds to every request addressed to an AWS ECR API
endpoint from the same dispatcher the server uses, so no request leaves the process. The handler
is placed first among botocore's built-in handlers, before moto's, so `mock_ecr` inside moto's
`mock_aws` answers ECR itself while moto answers the other services. Clients must be created
after this module is imported (importing `ecr_emulator` is enough) or while the mock is active.

Each activation starts from empty state and sets fake credentials, so a test can never reach
real AWS; both are restored when the outermost activation ends.
"""

import datetime
import functools
import inspect
import os
import re
import threading
import unittest

import boto3
import botocore
from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

from ecr_emulator.backend import garbage, lifecycle_policies, registry, runtime
from ecr_emulator.core import clock
from ecr_emulator.core.context import RequestContext, account_for_access_key, context_from_authorization
from ecr_emulator.protocol import dispatch, spec

# The ECR control-plane hosts of botocore's endpoint rules, in every partition.
ECR_API_HOST = re.compile(
    r"^(?:api\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?|ecr(?:-fips)?\.[a-z0-9-]+\.api\.aws|"
    r"api\.ecr(?:-fips)?\.[a-z0-9-]+\.(?:api\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov))(?::\d+)?$"
)

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class _RawBody:
    """The minimal raw response botocore reads a mocked body from."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **kwargs):
        yield self._body

    def read(self, *args, **kwargs) -> bytes:
        body, self._body = self._body, b""
        return body


# A request header that carries the caller's access key and region from before-call to before-send.
CALLER_HEADER = "X-Ecr-Emulator-Caller"
_MOCKED = "ecr_emulator_mocked"


class _BeforeSendHandler:
    """Responds to ECR requests in-process while at least one mock is active.

    Three botocore events work together: before-call marks a request to an AWS ECR endpoint and
    notes the caller's access key and region, choose-signer skips SigV4 signing for marked
    requests (nothing checks the signature, and signing is a large share of a call's cost), and
    before-send answers the request from the dispatcher.
    """

    def __init__(self):
        self.active = 0

    def before_call(self, params, request_signer, **kwargs):
        if not self.active:
            return None
        host = params["url"].split("://", 1)[-1].split("/", 1)[0]
        if not ECR_API_HOST.match(host):
            return None
        credentials = getattr(request_signer, "_credentials", None)
        access_key = credentials.get_frozen_credentials().access_key if credentials is not None else ""
        params["context"][_MOCKED] = True
        params["headers"][CALLER_HEADER] = f"{access_key}/{request_signer.region_name}"
        return None

    def choose_signer(self, context, **kwargs):
        if self.active and context.get(_MOCKED):
            return botocore.UNSIGNED
        return None

    def __call__(self, request, **kwargs):
        if not self.active:
            return None
        target = _text(request.headers.get("X-Amz-Target"))
        host = request.url.split("://", 1)[-1].split("/", 1)[0]
        if not target or not target.startswith(spec.TARGET_PREFIX) or not ECR_API_HOST.match(host):
            return None

        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()

        caller = _text(request.headers.get(CALLER_HEADER))
        if caller:
            access_key, _, region = caller.rpartition("/")
            context = RequestContext(account_id=account_for_access_key(access_key), region=region, access_key_id=access_key)
        else:
            context = context_from_authorization(_text(request.headers.get("Authorization")))

        lifecycle_policies.run_due()
        status, headers, payload = dispatch.handle(context, target, body)
        garbage.collect_if_needed()
        return AWSResponse(request.url, status, headers, _RawBody(payload))


def _moto_passthrough_services() -> list[str]:
    from moto.core.config import default_user_config

    passthrough = default_user_config.setdefault("core", {}).setdefault("passthrough", {})
    return passthrough.setdefault("services", [])


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


_before_send = _BeforeSendHandler()
BUILTIN_HANDLERS.insert(0, ("before-send", _before_send))
BUILTIN_HANDLERS.insert(0, ("choose-signer.ecr", _before_send.choose_signer))
BUILTIN_HANDLERS.insert(0, ("before-call.ecr", _before_send.before_call))


class MockECR:
    """One `mock_ecr` activation; use it through `mock_ecr`, also as a decorator.

    `lifecycle_interval` sets when a lifecycle policy runs: that long after it is put and after
    each of its runs. The default is 24 hours on the emulator's clock, because ECR acts within a
    day; zero runs due policies before every request. `ecr_quirks=True` reproduces ECR's deviations from the OCI
    specification, as `ecr-emulator serve --ecr-quirks` does.
    """

    _lock = threading.RLock()
    _saved_environment: dict[str, str | None] = {}
    _saved_session = None
    _added_passthrough = False

    def __init__(self, lifecycle_interval: datetime.timedelta | float | None = None, ecr_quirks: bool | None = None):
        if isinstance(lifecycle_interval, (int, float)):
            lifecycle_interval = datetime.timedelta(seconds=lifecycle_interval)
        self.lifecycle_interval = lifecycle_interval
        self.ecr_quirks = ecr_quirks

    def start(self) -> "MockECR":
        with self._lock:
            if _before_send.active == 0:
                self._begin()
            if self.lifecycle_interval is not None:
                runtime.current().lifecycle_interval = self.lifecycle_interval
            if self.ecr_quirks is not None:
                runtime.current().ecr_quirks = self.ecr_quirks
            _before_send.active += 1
        return self

    def __call__(self, target):
        """Decorate a function or a test class, as `@mock_ecr(lifecycle_interval=0)` does."""
        return _decorate(target, {"lifecycle_interval": self.lifecycle_interval, "ecr_quirks": self.ecr_quirks})

    def stop(self) -> None:
        with self._lock:
            if _before_send.active == 0:
                return
            _before_send.active -= 1
            if _before_send.active == 0:
                self._end()

    def _begin(self) -> None:
        dispatch.load_handlers()
        MockECR._saved_environment = {name: os.environ.get(name) for name in FAKE_CREDENTIALS}
        os.environ.update(FAKE_CREDENTIALS)
        # boto3's default session copied botocore's handlers when it was made, maybe before this
        # module was imported. So while the mock is active, boto3.client() builds a new one.
        MockECR._saved_session = boto3.DEFAULT_SESSION
        boto3.DEFAULT_SESSION = None
        # botocore calls every before-send handler, so inside mock_aws moto would handle ECR
        # requests too; moto passes through the services its configuration lists.
        passthrough = _moto_passthrough_services()
        MockECR._added_passthrough = "ecr" not in passthrough
        if MockECR._added_passthrough:
            passthrough.append("ecr")
        reset()

    def _end(self) -> None:
        for name, value in MockECR._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        boto3.DEFAULT_SESSION = MockECR._saved_session
        if MockECR._added_passthrough and "ecr" in _moto_passthrough_services():
            _moto_passthrough_services().remove("ecr")
        reset()

    def __enter__(self) -> "MockECR":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def reset() -> None:
    """Empty every account's ECR state and put the clock back on the system time."""
    registry.registries.reset()
    runtime.reset_memory()
    clock.reset()


def mock_ecr(
    target=None, *, lifecycle_interval: datetime.timedelta | float | None = None, ecr_quirks: bool | None = None
):
    """Serve ECR in-process: `@mock_ecr` on a function or a test class, or `with mock_ecr():`.

    `mock_ecr(lifecycle_interval=0)` makes lifecycle policies act at the next request, and
    `mock_ecr(ecr_quirks=True)` reproduces ECR's deviations from the OCI specification; see MockECR.
    """
    options = {"lifecycle_interval": lifecycle_interval, "ecr_quirks": ecr_quirks}
    if target is None:
        return MockECR(**options)
    return _decorate(target, options)


def _decorate(target, options: dict):
    if inspect.isclass(target):
        return _decorate_class(target, options)
    return _decorate_function(target, options)


def _decorate_function(function, options: dict):
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def async_wrapper(*args, **kwargs):
            with MockECR(**options):
                return await function(*args, **kwargs)

        return async_wrapper

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with MockECR(**options):
            return function(*args, **kwargs)

    return wrapper


def _decorate_class(cls, options: dict):
    """Activate the mock around every test method, and around setUp/tearDown for unittest classes."""
    if issubclass(cls, unittest.TestCase):
        original_setup = cls.setUp

        def setUp(self):
            self._ecr_mock = MockECR(**options).start()
            self.addCleanup(self._ecr_mock.stop)
            original_setup(self)

        cls.setUp = setUp
        return cls

    for name, member in list(vars(cls).items()):
        if name.startswith("test") and callable(member):
            setattr(cls, name, _decorate_function(member, options))
    return cls
