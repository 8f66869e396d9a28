"""One WSGI application: /v2/ goes to the registry, ECR API requests to the ECR dispatcher, and
every other AWS request to moto's server, so that Secrets Manager, KMS, IAM and STS respond on the
same port with the same state that ECR reads (pull-through cache secrets, keys of other accounts).

Each request is logged once, on the `ecr_emulator.access` logger, with its method, path, status,
the API operation where there is one, and the time to the response's first byte.
"""

import datetime
import json
import logging
import time
from http import HTTPStatus

from moto.core.base_backend import BackendDict
from werkzeug.wrappers import Request, Response

from ecr_emulator import __version__
from ecr_emulator.backend import garbage, lifecycle_policies, persistence, registry, runtime
from ecr_emulator.core import clock
from ecr_emulator.core.context import context_from_authorization
from ecr_emulator.protocol import dispatch, spec
from ecr_emulator.protocol.errors import MissingAuthenticationToken
from ecr_emulator.protocol.serializer import CONTENT_TYPE, serialize_error
from ecr_emulator.registry.handlers import STATE_CHANGED, RegistryApp

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("ecr_emulator.access")


class EmulatorApp:
    def __init__(self, data_dir: str | None = None):
        self.data_dir = data_dir
        dispatch.load_handlers()
        self.registry = RegistryApp()
        self._moto_app = None

    def __call__(self, environ, start_response):
        started = time.monotonic()
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        target = environ.get("HTTP_X_AMZ_TARGET")
        logged = []

        def logging_start_response(status, headers, exc_info=None):
            operation = target.rpartition(".")[2] if target else "-"
            elapsed_ms = (time.monotonic() - started) * 1000
            ACCESS_LOG.info("%s %s %s %s %.1fms", method, path, status.split(" ", 1)[0], operation, elapsed_ms)
            logged.append(status)
            return start_response(status, headers, exc_info)

        try:
            ecr_request = path.startswith("/v2") or _is_ecr_api_request(environ, target)
            changed = False
            if ecr_request:
                changed = lifecycle_policies.run_due() > 0
            response = self.route(environ, method, path, target)(environ, logging_start_response)
            if ecr_request:
                changed = garbage.collect_if_needed() > 0 or changed
            changed = changed or environ.get(STATE_CHANGED, False)
            if self.data_dir and (changed or _may_change_state(method, path, target)):
                persistence.save(self.data_dir, fsync=runtime.current().fsync)
            return response
        except Exception:
            LOG.exception("unhandled error on %s %s", method, path)
            body = json.dumps({"__type": "InternalFailure", "message": "The emulator failed; see its log"})
            return Response(body, status=500, content_type="application/json")(environ, logging_start_response)

    def route(self, environ, method: str, path: str, target: str | None):
        if path.startswith("/v2") or path.startswith("/_emulator/layers/"):
            return self.registry
        if path.startswith("/_emulator/"):
            return self.emulator_endpoint(path, method)
        if _is_ecr_api_request(environ, target):
            return self.api
        if environ.get("HTTP_AUTHORIZATION") or target is not None or path != "/":
            return self.other_services()
        return self.info

    def other_services(self):
        """Return moto's server app, created on first use because it imports every moto service."""
        if self._moto_app is None:
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

            self._moto_app = DomainDispatcherApplication(create_backend_app)
        return self._moto_app

    def api(self, environ, start_response):
        # The environ is read directly rather than through werkzeug's Request and Response, whose
        # construction showed up in profiles of scripts/bench_api.py's small calls.
        authorization = environ.get("HTTP_AUTHORIZATION")
        if not authorization:
            error = MissingAuthenticationToken("Request is missing Authentication Token")
            return Response(serialize_error(error), status=error.status, content_type=CONTENT_TYPE)(environ, start_response)
        context = context_from_authorization(authorization)
        status, headers, body = dispatch.handle(context, environ.get("HTTP_X_AMZ_TARGET"), _request_body(environ))
        start_response(f"{status} {HTTPStatus(status).phrase}", [*headers.items(), ("Content-Length", str(len(body)))])
        return [body]

    def emulator_endpoint(self, path: str, method: str):
        """Return the handler of one of the emulator's own endpoints, or one that responds with 404 or 405."""
        endpoints = {"/_emulator/reset": ("POST", self.reset), "/_emulator/clock": (None, self.clock),
                     "/_emulator/lifecycle/run": ("POST", self.run_lifecycle)}
        if path not in endpoints:
            return lambda environ, start_response: _json(
                environ, start_response, {"message": f"{path} is not an endpoint of the emulator."}, status=404
            )
        allowed, handler = endpoints[path]
        if allowed is not None and method != allowed:
            return lambda environ, start_response: _json(
                environ, start_response, {"message": f"Use {allowed} on {path}."}, status=405, headers={"Allow": allowed}
            )
        return handler

    def reset(self, environ, start_response):
        """Empty every account's state (ECR's and that of the moto services served here), its blobs, and the clock."""
        BackendDict.reset()
        registry.registries.reset()
        clock.reset()
        garbage.collect_garbage(grace=datetime.timedelta(0))
        return Response(json.dumps({"reset": True}), content_type="application/json")(environ, start_response)

    def clock(self, environ, start_response):
        """GET: the emulator's time. POST {"advanceSeconds": N}: move it forward by N seconds."""
        request = Request(environ)
        if request.method == "POST":
            body = request.get_json(force=True, silent=True)
            seconds = body.get("advanceSeconds") if isinstance(body, dict) else None
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_CLOCK_ADVANCE:
                message = (
                    f'The body must be the JSON object {{"advanceSeconds": N}} with a number N from 0 to '
                    f"{MAX_CLOCK_ADVANCE}; got {request.get_data(as_text=True)[:100]!r}."
                )
                return _json(environ, start_response, {"message": message}, status=400)
            clock.advance(datetime.timedelta(seconds=seconds))
            lifecycle_policies.run_due()
        elif request.method != "GET":
            return _json(
                environ, start_response, {"message": "Use GET to read the clock or POST to move it."}, status=405,
                headers={"Allow": "GET, POST"},
            )
        body = json.dumps({"now": clock.now().isoformat(), "offsetSeconds": clock.offset().total_seconds()})
        return Response(body, content_type="application/json")(environ, start_response)

    def run_lifecycle(self, environ, start_response):
        """Run every stored lifecycle policy now, whatever its schedule."""
        count = lifecycle_policies.run_due(force=True)
        return Response(json.dumps({"policiesRun": count}), content_type="application/json")(environ, start_response)

    def info(self, environ, start_response):
        body = json.dumps({"service": "ecr-emulator", "version": __version__})
        return Response(body, status=200, content_type="application/json")(environ, start_response)


def _request_body(environ) -> bytes:
    """Return the request body: Content-Length bytes, or the whole stream of a chunked request."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    return stream.read() if environ.get("wsgi.input_terminated") else b""


def _is_ecr_api_request(environ, target: str | None) -> bool:
    """Tell ECR API requests from those of other AWS services: by X-Amz-Target, else by the signing scope."""
    if target is not None:
        return target.startswith(spec.TARGET_PREFIX + ".")
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    return environ.get("REQUEST_METHOD") == "POST" and "/ecr/aws4_request" in authorization


# The maximum the clock may move in one request: a hundred years, in seconds.
MAX_CLOCK_ADVANCE = 100 * 365 * 24 * 3600


def _json(environ, start_response, body: dict, status: int = 200, headers: dict | None = None):
    response = Response(json.dumps(body), status=status, content_type="application/json", headers=headers)
    return response(environ, start_response)


# API operations that only read state. Pull times that BatchGetImage records are saved with the
# next change, as ECR too records them lazily.
_READ_ONLY_PREFIXES = ("Describe", "Get", "List", "BatchGet", "BatchCheck")


def _may_change_state(method: str, path: str, target: str | None) -> bool:
    if path.startswith("/v2") or path.startswith("/_emulator/layers/"):
        # Blob uploads change the blob store and the repository's records of its layers, which
        # are saved with the manifest push that completes the image. A kill -9 before that loses
        # only a push no client saw succeed, and the next start removes what it left behind.
        return method == "DELETE" or (method == "PUT" and "/manifests/" in path)
    if path.startswith("/_emulator/"):
        return method == "POST"
    if target and target.startswith(spec.TARGET_PREFIX + "."):
        return not target.rpartition(".")[2].startswith(_READ_ONLY_PREFIXES)
    return False
