"""Handlers of the /v2/ API: version check, blobs, uploads, manifests, tags, referrers, catalog.

Every request but a presigned layer download carries Basic credentials made from a token of
GetAuthorizationToken; the token names the account and region whose registry serves the request. Handlers
call only the backend's public methods, and errors leave through `registry/errors.py`.
"""

import json
import logging
import re

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from ecr_emulator.api import access
from ecr_emulator.backend import manifests, policies, runtime, templates
from ecr_emulator.backend.auth import ExpiredToken, InvalidToken, Token
from ecr_emulator.backend.images import negotiate
from ecr_emulator.backend.registry import API_TAG_PATTERN, MIN_LAYER_PART_SIZE, Registry, registry_for
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.protocol.errors import ServiceError
from ecr_emulator.registry import routes
from ecr_emulator.registry.errors import RegistryError, to_registry_error
from ecr_emulator.storage.base import BlobNotFound, DigestMismatch, digest_of

LOG = logging.getLogger(__name__)

API_VERSION_HEADERS = {"Docker-Distribution-Api-Version": "registry/2.0"}
# The WSGI environ key a handler sets when its request changed state that the server must save
# before it responds, although requests of its kind usually do not (see server/app.py).
STATE_CHANGED = "ecr_emulator.state_changed"
# ECR's registry hosts: <account>.dkr.ecr.<region>.amazonaws.com, the FIPS and dual-stack
# (<account>.dkr-ecr.<region>.on.aws) forms, and any other domain after the region.
REGISTRY_HOST = re.compile(r"^(\d{12})\.dkr[.-]ecr(?:-fips)?\.([a-zA-Z0-9-]+)\.[^:]+(?::\d+)?$")
# The IAM action that each route and method needs, as ECR checks them against repository policies.
ACTIONS = {
    (routes.TAGS, "GET"): "ecr:ListImages",
    (routes.MANIFEST, "GET"): "ecr:BatchGetImage",
    (routes.MANIFEST, "HEAD"): "ecr:BatchGetImage",
    (routes.MANIFEST, "PUT"): "ecr:PutImage",
    (routes.MANIFEST, "DELETE"): "ecr:BatchDeleteImage",
    (routes.BLOB, "GET"): "ecr:GetDownloadUrlForLayer",
    (routes.BLOB, "HEAD"): "ecr:BatchCheckLayerAvailability",
    (routes.BLOB, "DELETE"): "ecr:BatchDeleteImage",
    (routes.UPLOADS, "POST"): "ecr:InitiateLayerUpload",
    (routes.UPLOAD, "GET"): "ecr:UploadLayerPart",
    (routes.UPLOAD, "PATCH"): "ecr:UploadLayerPart",
    (routes.UPLOAD, "PUT"): "ecr:CompleteLayerUpload",
    (routes.UPLOAD, "DELETE"): "ecr:UploadLayerPart",
    (routes.REFERRERS, "GET"): "ecr:BatchGetImage",
}
REPOSITORY_NAME = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
# The OCI tag grammar; tags that ECR's API accepts beyond it (up to 300 characters) are served too.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
MAX_API_TAG_LENGTH = 300
# ECR's limit on a manifest's size (the imageManifest member of PutImage).
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
# ECR caps tags/list and _catalog pages at 1000 entries.
MAX_PAGE_SIZE = 1000
OCTET_STREAM = "application/octet-stream"


class RegistryApp:
    """The WSGI application for /v2/ (and the presigned layer URLs of GetDownloadUrlForLayer)."""

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except RegistryError as error:
            response = _error_response(error)
        except ServiceError as error:
            response = _error_response(to_registry_error(error))
        except HTTPException as error:
            response = _error_response(_http_error(error))
        response.headers.update(API_VERSION_HEADERS)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = routes.URL_MAP.bind_to_environ(request.environ)
        endpoint, arguments = adapter.match()
        if endpoint == routes.LAYER_URL:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
            return self.layer_url(request, **arguments)

        registry, token = self.authenticate(request)
        if endpoint == routes.BASE:
            return _json_response({})
        if endpoint == routes.CATALOG:
            self._authorize(registry, token, None, "ecr:DescribeRepositories")
            return self.catalog(request, registry)

        name = arguments.pop("name")
        if not REPOSITORY_NAME.fullmatch(name) or len(name) > 256:
            raise RegistryError("NAME_INVALID", f"Invalid repository name '{name}'")
        method = getattr(self, f"{endpoint}_{request.method.lower()}", None)
        if method is None:
            raise MethodNotAllowed()
        self._authorize(registry, token, name, ACTIONS[(endpoint, request.method)])
        return method(request, registry, name, **arguments)

    def _authorize(self, registry: Registry, token: Token, name: str | None, action: str) -> None:
        """Let a caller of another account in only where the registry's policies allow the action.

        The caller of a token is its account's root principal; the checks are the API's
        (api/access.py). Callers of the registry's own account are allowed, as IAM identity
        policies are not emulated.
        """
        if token.account_id == registry.account_id:
            return
        principal = policies.caller_principal(registry.partition, token.account_id)
        try:
            access.check(registry, principal, action, name)
        except ServiceError as error:
            raise RegistryError("DENIED", getattr(error, "registry_message", error.message)) from None

    def authenticate(self, request: Request) -> tuple[Registry, Token]:
        """Return the registry a request addresses and its caller's token, or raise 401 with ECR's challenge.

        A host of the form `<account>.dkr.ecr.<region>.<domain>` names the registry, as in ECR;
        any other host (such as 127.0.0.1:5000) means the token's own registry. A token is valid in
        the region it was issued for only.
        """
        authorization = request.headers.get("Authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        try:
            if scheme.lower() != "basic":
                raise InvalidToken("no Basic credentials")
            token = runtime.current().tokens.verify_basic(credentials.strip())
            account_id, region = token.account_id, token.region
            host = REGISTRY_HOST.match(request.host.lower())
            if host is not None:
                account_id, region = host.group(1), host.group(2).lower()
                if region != token.region:
                    raise InvalidToken(f"the token was issued for {token.region}, not {region}")
        except ExpiredToken as error:
            # ECR rejects an expired token with 403 and this message (as docker shows it), not with 401.
            LOG.debug("registry request refused: %s", error)
            raise RegistryError("DENIED", "Your authorization token has expired. Reauthenticate and try again.") from None
        except InvalidToken as error:
            LOG.debug("registry request refused: %s", error)
            raise _unauthorized(request) from None
        return registry_for(account_id, region), token

    # Blobs

    def blob_head(self, request, registry, name, digest):
        layer = self._layer(registry, name, digest)
        return Response(status=200, headers=_blob_headers(digest, layer.size), content_type=OCTET_STREAM)

    def blob_get(self, request, registry, name, digest):
        layer = self._layer(registry, name, digest)
        return _blob_response(request, digest, layer.size)

    def _layer(self, registry: Registry, name: str, digest: str):
        if not manifests.DIGEST_PATTERN.match(digest):
            raise RegistryError("DIGEST_INVALID", f"Invalid digest '{digest}'")
        layer = registry.layer(name, digest)
        if layer is None:
            raise RegistryError("BLOB_UNKNOWN", f"The blob {digest} does not exist in the repository '{name}'")
        return layer

    def layer_url(self, request, account_id, region, name, digest):
        path = request.path
        try:
            runtime.current().tokens.verify_layer_url(
                path, request.args.get("Expires", ""), request.args.get("Signature", "")
            )
        except InvalidToken as error:
            raise RegistryError("DENIED", f"Access denied: {error}") from None
        layer = self._layer(registry_for(account_id, region), name, digest)
        return _blob_response(request, digest, layer.size)

    # Uploads

    def uploads_post(self, request, registry, name):
        if self._create_on_push(registry, name):
            request.environ[STATE_CHANGED] = True
        mount, source = request.args.get("mount"), request.args.get("from")
        if mount and source:
            if not manifests.DIGEST_PATTERN.match(mount):
                raise RegistryError("DIGEST_INVALID", f"Invalid digest '{mount}'")
            if registry.mount_blob(name, mount, source):
                headers = {"Location": f"/v2/{name}/blobs/{mount}", "Docker-Content-Digest": mount, "Content-Length": "0"}
                return Response(status=201, headers=headers)
        digest = request.args.get("digest")
        if digest is not None:
            _check_digest(digest)
        session = registry.start_upload(name)
        if digest is None:
            return _upload_response(name, session, status=202)
        # A monolithic upload: the whole blob is the body of the POST. The client never learns
        # this session's location, so a failed one is cancelled.
        try:
            session.append(request.stream, request.content_length)
            return self._finish(registry, name, session, digest)
        except BaseException:
            registry.cancel_upload(session.id)
            raise

    def _create_on_push(self, registry: Registry, name: str) -> bool:
        """Create a missing repository from a CREATE_ON_PUSH template, as ECR does; return whether it was created.

        Without a template the push gets NAME_UNKNOWN.
        """
        if name in registry.repositories:
            return False
        try:
            templates.create_from_template(registry, name, "CREATE_ON_PUSH")
        except ServiceError as error:
            if error.code != "RepositoryAlreadyExistsException":  # a parallel push created it first
                raise
            return False
        return True

    def upload_get(self, request, registry, name, upload_id):
        session = self._session(registry, name, upload_id)
        return _upload_response(name, session, status=204)

    def upload_patch(self, request, registry, name, upload_id):
        session = self._session(registry, name, upload_id)
        self._check_content_range(request, session)
        self._check_chunk_sizes(registry, upload_id)
        before = session.size
        session.append(request.stream, request.content_length)
        registry.part_sizes.setdefault(upload_id, []).append(session.size - before)
        # ECR responds to a chunk with 201 Created where the OCI specification requires 202 Accepted.
        return _upload_response(name, session, status=201 if runtime.current().ecr_quirks else 202)

    def upload_put(self, request, registry, name, upload_id):
        session = self._session(registry, name, upload_id)
        digest = request.args.get("digest")
        if not digest:
            raise RegistryError("DIGEST_INVALID", "The digest query parameter is required to finish an upload")
        _check_digest(digest)
        checkpoint = session.checkpoint()
        if request.content_length or request.headers.get("Transfer-Encoding"):
            self._check_content_range(request, session)
            self._check_chunk_sizes(registry, upload_id)
            session.append(request.stream, request.content_length)
        try:
            return self._finish(registry, name, session, digest)
        except RegistryError:
            # The session stays open as it was before this request, so the client can retry it.
            session.rewind(checkpoint)
            raise

    def _check_chunk_sizes(self, registry: Registry, upload_id: str) -> None:
        """With ECR's quirks, refuse more bytes after a chunk under 5 MiB, which only the last chunk may be."""
        if not runtime.current().ecr_quirks:
            return
        sizes = registry.part_sizes.get(upload_id, [])
        if sizes and sizes[-1] < MIN_LAYER_PART_SIZE:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                f"A chunk of {sizes[-1]} bytes was not the last one; every chunk but the last must be at least "
                f"{MIN_LAYER_PART_SIZE} bytes",
            )

    def upload_delete(self, request, registry, name, upload_id):
        self._session(registry, name, upload_id)
        registry.cancel_upload(upload_id)
        return Response(status=204)

    def _session(self, registry: Registry, name: str, upload_id: str):
        registry.get_repository(name)
        session = registry.get_upload(name, upload_id)
        if session is None:
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", f"The upload '{upload_id}' does not exist in the repository '{name}'")
        return session

    def _check_content_range(self, request: Request, session) -> None:
        content_range = request.headers.get("Content-Range")
        if not content_range:
            return
        match = re.fullmatch(r"(?:bytes )?(\d+)-(\d+)(?:/(\d+|\*))?", content_range.strip())
        if match is None:
            raise RegistryError("BLOB_UPLOAD_INVALID", f"Invalid Content-Range '{content_range}'")
        start, end = int(match.group(1)), int(match.group(2))
        total = match.group(3)
        if start != session.size:
            raise RegistryError(
                "RANGE_INVALID",
                f"The chunk starts at byte {start}, but the upload has {session.size} bytes",
                headers=_range_headers(session),
            )
        # A chunk sent with Transfer-Encoding: chunked has no length to compare before it is read.
        length = request.content_length
        if end < start or (length is not None and end - start + 1 != length) or (total and total != "*" and int(total) <= end):
            raise RegistryError(
                "RANGE_INVALID",
                f"Content-Range '{content_range}' does not describe a chunk of {length} bytes at byte {start}",
                headers=_range_headers(session),
            )

    def _finish(self, registry: Registry, name: str, session, digest: str) -> Response:
        try:
            registry.finish_upload(name, session, digest)
        except DigestMismatch as mismatch:
            raise RegistryError(
                "DIGEST_INVALID", f"The uploaded content has digest {mismatch.actual}, not {mismatch.expected}"
            ) from None
        headers = {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest, "Content-Length": "0"}
        return Response(status=201, headers=headers)

    # Manifests

    def manifest_put(self, request, registry, name, reference):
        self._create_on_push(registry, name)
        body = request.stream.read(MAX_MANIFEST_SIZE + 1)
        if len(body) > MAX_MANIFEST_SIZE:
            raise RegistryError("SIZE_INVALID", f"The manifest is larger than {MAX_MANIFEST_SIZE} bytes")
        media_type = (request.mimetype or "").strip() or None
        tag, expected_digest = _split_reference(reference)
        image = registry.put_image(
            name, body, media_type=media_type, tag=tag, expected_digest=expected_digest, idempotent=True
        )
        headers = {
            "Location": f"/v2/{name}/manifests/{image.digest}",
            "Docker-Content-Digest": image.digest,
            "Content-Length": "0",
        }
        if image.subject_digest:
            headers["OCI-Subject"] = image.subject_digest
        return Response(status=201, headers=headers)

    def manifest_get(self, request, registry, name, reference):
        image = self._image(registry, name, reference)
        registry.record_pull(name, image)
        return _manifest_response(request, image, reference, with_body=True)

    def manifest_head(self, request, registry, name, reference):
        return _manifest_response(request, self._image(registry, name, reference), reference, with_body=False)

    def manifest_delete(self, request, registry, name, reference):
        tag, digest = _split_reference(reference)
        image_id = {"imageTag": tag} if tag else {"imageDigest": digest}
        _, failures = registry.delete_image_ids(name, [image_id])
        if failures:
            failure = failures[0]
            if failure["failureCode"] == "ImageNotFound":
                raise RegistryError("MANIFEST_UNKNOWN", failure["failureReason"])
            raise RegistryError("UNSUPPORTED", failure["failureReason"], status=400)
        return Response(status=202)

    def _image(self, registry: Registry, name: str, reference: str):
        tag, digest = _split_reference(reference)
        image_id = {"imageTag": tag} if tag else {"imageDigest": digest}
        try:
            image = registry.get_image(name, image_id)
        except ServiceError as error:
            if error.code == "ImageNotFoundException":
                raise RegistryError("MANIFEST_UNKNOWN", "Requested image not found") from None
            raise
        if image.status != "ACTIVE":
            raise RegistryError("MANIFEST_UNKNOWN", "Requested image not found")
        return image

    # Tags, referrers and the catalog

    def tags_get(self, request, registry, name):
        repository = registry.get_repository(name)
        with STATE_LOCK:
            # The OCI specification requires lexical order, but ECR returns tags unsorted.
            tags = list(repository.tags) if runtime.current().ecr_quirks else sorted(repository.tags)
        page, link = _page(request, tags, f"/v2/{name}/tags/list")
        return _json_response({"name": name, "tags": page}, link=link)

    def referrers_get(self, request, registry, name, digest):
        repository = registry.get_repository(name)
        if not manifests.DIGEST_PATTERN.match(digest):
            raise RegistryError("DIGEST_INVALID", f"Invalid digest '{digest}'")
        artifact_type = request.args.get("artifactType")
        descriptors = []
        with STATE_LOCK:
            for image in repository.images.values():
                if image.subject_digest != digest or image.status != "ACTIVE":
                    continue
                if artifact_type and image.parsed.artifact_media_type != artifact_type:
                    continue
                descriptor = {
                    "mediaType": image.media_type,
                    "digest": image.digest,
                    "size": len(image.manifest),
                    "artifactType": image.parsed.artifact_media_type,
                }
                if image.parsed.annotations:
                    descriptor["annotations"] = image.parsed.annotations
                descriptors.append(descriptor)
        index = {"schemaVersion": 2, "mediaType": manifests.OCI_INDEX, "manifests": descriptors}
        response = _json_response(index, content_type=manifests.OCI_INDEX)
        if artifact_type:
            response.headers["OCI-Filters-Applied"] = "artifactType"
        return response

    def catalog(self, request, registry: Registry) -> Response:
        with STATE_LOCK:
            names = sorted(registry.repositories)
        page, link = _page(request, names, "/v2/_catalog")
        return _json_response({"repositories": page}, link=link)


def _check_digest(digest: str) -> None:
    """Raise DIGEST_INVALID for a digest the registry cannot compare uploaded bytes with."""
    if not manifests.DIGEST_PATTERN.match(digest):
        raise RegistryError("DIGEST_INVALID", f"Invalid digest '{digest}'")
    algorithm, _, encoded = digest.partition(":")
    if algorithm != "sha256":
        raise RegistryError("DIGEST_INVALID", f"Unsupported digest algorithm '{algorithm}': uploads are verified with sha256")
    if not SHA256_HEX.fullmatch(encoded):
        raise RegistryError("DIGEST_INVALID", f"Invalid digest '{digest}': a sha256 digest has 64 lower-case hex digits")


def _split_reference(reference: str) -> tuple[str | None, str | None]:
    """Return (tag, None) or (None, digest) for a manifest reference; raise for an invalid one."""
    if ":" in reference:
        if not manifests.DIGEST_PATTERN.match(reference):
            raise RegistryError("DIGEST_INVALID", f"Invalid digest '{reference}'")
        return None, reference
    if not (TAG.fullmatch(reference) or (API_TAG_PATTERN.fullmatch(reference) and len(reference) <= MAX_API_TAG_LENGTH)):
        raise RegistryError("TAG_INVALID", f"Invalid tag '{reference}'")
    return reference, None


def _page(request: Request, items: list[str], path: str) -> tuple[list[str], str | None]:
    """Apply the `n` and `last` parameters of tags/list and _catalog; return the page and a Link header."""
    last = request.args.get("last")
    if last and last in items:
        items = items[items.index(last) + 1:]
    elif last:
        # `last` is gone since the previous page: in lexical order the rest still follows it.
        items = [item for item in items if item > last]
    count = request.args.get("n")
    size = MAX_PAGE_SIZE if count is None else _page_size(count)
    page = items[:size]
    link = None
    if len(items) > size:
        link = f'<{path}?n={size}&last={page[-1]}>; rel="next"'
    return page, link


def _page_size(count: str) -> int:
    """Return the page size that `n` requests; ECR maps it to maxResults, which must be 1 to 1000."""
    try:
        size = int(count)
    except ValueError:
        raise RegistryError("UNSUPPORTED", f"Invalid parameter at 'maxResults': '{count}' is not a number", status=400) from None
    if size < 1 or size > MAX_PAGE_SIZE:
        bound = "greater than or equal to 1" if size < 1 else f"less than or equal to {MAX_PAGE_SIZE}"
        raise RegistryError(
            "UNSUPPORTED",
            f"Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value {bound}'",
            status=400,
        )
    return size


def _json_response(body, link: str | None = None, content_type: str = "application/json") -> Response:
    response = Response(json.dumps(body), content_type=content_type)
    if link:
        response.headers["Link"] = link
    return response


def _manifest_response(request: Request, image, reference: str, with_body: bool) -> Response:
    """Serve a manifest: by digest the stored bytes, by tag in a media type the client accepts."""
    manifest, media_type = image.manifest, image.media_type
    if ":" not in reference:
        accepted = [value for value, _ in request.accept_mimetypes if value != "*/*"]
        manifest, media_type = negotiate(image, accepted)
    headers = {"Docker-Content-Digest": digest_of(manifest), "Content-Length": str(len(manifest))}
    response = Response(manifest if with_body else b"", status=200, headers=headers, content_type=media_type)
    if not with_body:
        response.headers["Content-Length"] = str(len(manifest))
    return response


def _blob_response(request: Request, digest: str, size: int) -> Response:
    headers = _blob_headers(digest, size)
    span = _requested_span(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != headers["ETag"]:
        # RFC 9110 section 13.1.5: a validator other than the current entity tag (another tag or
        # a date, as blobs have no Last-Modified) means the whole blob is sent.
        span = None
    if span is UNSATISFIABLE:
        raise RegistryError(
            "RANGE_INVALID", "The requested range is not satisfiable", headers={"Content-Range": f"bytes */{size}"}
        )
    start, stop = span or (0, size)
    try:
        body = runtime.current().blob_store.read_chunks(digest, start, stop)
    except BlobNotFound:
        LOG.error("blob %s has a layer record but is missing from the blob store", digest)
        raise RegistryError("BLOB_UNKNOWN", f"The blob {digest} is missing from the blob store", status=404) from None
    headers["Content-Length"] = str(stop - start)
    if span is None:
        return Response(body, status=200, headers=headers, content_type=OCTET_STREAM, direct_passthrough=True)
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return Response(body, status=206, headers=headers, content_type=OCTET_STREAM, direct_passthrough=True)


def _blob_headers(digest: str, size: int) -> dict:
    """Return the headers that a blob's HEAD and full GET share; a blob never changes, so its digest is its entity tag."""
    return {"Docker-Content-Digest": digest, "Accept-Ranges": "bytes", "ETag": f'"{digest}"', "Content-Length": str(size)}


UNSATISFIABLE = "unsatisfiable"
BYTE_RANGE = re.compile(r"(\d*)-(\d*)")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _requested_span(header: str | None, size: int):
    """Return the (start, stop) that a Range header requests of `size` bytes, None to send them all, or UNSATISFIABLE.

    Follows RFC 9110 section 14: a server may ignore a Range it does not support (another unit,
    several ranges) or cannot parse, and it serves a suffix longer than the blob as the whole blob.
    """
    if header is None:
        return None
    unit, _, specs = header.partition("=")
    # The unit is case-insensitive and empty list elements are allowed (RFC 9110 sections 14.1 and 5.6.1).
    ranges = [spec.strip() for spec in specs.split(",") if spec.strip()]
    if unit.strip().lower() != "bytes" or len(ranges) != 1:
        return None
    match = BYTE_RANGE.fullmatch(ranges[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(size - suffix, 0), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return start, size if not last else min(int(last) + 1, size)


def _upload_response(name: str, session, status: int) -> Response:
    headers = {
        "Location": f"/v2/{name}/blobs/uploads/{session.id}",
        "Docker-Upload-UUID": session.id,
        "Content-Length": "0",
        **_range_headers(session),
    }
    return Response(status=status, headers=headers)


def _range_headers(session) -> dict:
    # The Range of an upload names its last byte; docker expects 0-0 for an empty upload.
    return {"Range": f"0-{max(session.size - 1, 0)}"}


def _unauthorized(request: Request) -> RegistryError:
    error = RegistryError("UNAUTHORIZED", "Not Authorized", status=401)
    error.headers = {"WWW-Authenticate": f'Basic realm="{request.host_url}",service="ecr.amazonaws.com"'}
    return error


def _error_response(error: RegistryError) -> Response:
    if error.status == 401:
        response = Response("Not Authorized", status="401 Unauthorized", content_type="text/plain; charset=utf-8")
    else:
        response = Response(error.body(), status=error.status, content_type="application/json")
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException) -> RegistryError:
    if isinstance(error, NotFound):
        return RegistryError("NAME_UNKNOWN", "The requested path is not a route of the registry API", status=404)
    if isinstance(error, MethodNotAllowed):
        return RegistryError("UNSUPPORTED", "The method is not allowed on this route", status=405)
    return RegistryError("UNSUPPORTED", error.description or str(error), status=error.code or 400)
