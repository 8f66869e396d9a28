"""OCI error codes, and the one table that maps domain errors to them.

A /v2/ response error is `{"errors": [{"code", "message", "detail"}]}` with the status that the
OCI Distribution specification gives the code. Handlers raise `RegistryError` or let a domain
error of `ecr_emulator.api.errors` through; `to_registry_error` translates the latter here only.
"""

import json

from ecr_emulator.protocol.errors import ServiceError

# OCI Distribution 1.1 error codes with their HTTP status.
STATUS = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 404,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
    "RANGE_INVALID": 416,
}

# Domain error -> OCI code, as ECR returns them to docker. The domain error's message is kept.
DOMAIN_CODES = {
    "RepositoryNotFoundException": "NAME_UNKNOWN",
    "ImageNotFoundException": "MANIFEST_UNKNOWN",
    "LayersNotFoundException": "MANIFEST_BLOB_UNKNOWN",
    "ReferencedImagesNotFoundException": "MANIFEST_BLOB_UNKNOWN",
    "ImageTagAlreadyExistsException": "TAG_INVALID",
    "ImageDigestDoesNotMatchException": "DIGEST_INVALID",
    "InvalidParameterException": "MANIFEST_INVALID",
    "LimitExceededException": "DENIED",
    "UploadNotFoundException": "BLOB_UPLOAD_UNKNOWN",
}

# ECR returns codes outside the OCI list with these statuses.
EXTRA_STATUS = {"TAG_INVALID": 400}


class RegistryError(Exception):
    def __init__(self, code: str, message: str, detail=None, status: int | None = None, headers: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail
        self.status = status or STATUS.get(code) or EXTRA_STATUS.get(code, 400)
        self.headers = headers or {}

    def body(self) -> bytes:
        error = {"code": self.code, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return json.dumps({"errors": [error]}).encode()


def to_registry_error(error: ServiceError) -> RegistryError:
    """Translate a domain error into the OCI error that ECR's registry returns."""
    code = DOMAIN_CODES.get(error.code)
    if code is None:
        return RegistryError("UNSUPPORTED", error.message, status=400)
    return RegistryError(code, error.message)
