"""The exception every error answered on the wire derives from, and the protocol's own errors."""


class ServiceError(Exception):
    """An error with an AWS wire code, an HTTP status and a message.

    Extra members of the error shape (such as `lastValidByteReceived`) travel in `fields` and are
    serialized beside `__type` and `message`.
    """

    code = "ServiceError"
    status = 400
    sender_fault = True

    def __init__(self, message: str = "", **fields):
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class SerializationException(ServiceError):
    """The request body is not JSON, or a member has the wrong JSON type."""

    code = "SerializationException"


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"


class MissingTargetError(ServiceError):
    """The request has no X-Amz-Target header, so no operation can be chosen."""

    code = "MissingAuthenticationTokenException"
    status = 403


class InternalFailure(ServiceError):
    """A bug in the emulator: the request was valid, but handling it raised."""

    code = "InternalFailure"
    status = 500
    sender_fault = False


class NotEmulatedError(ServiceError):
    """An operation of the model that has no handler yet."""

    code = "NotImplemented"
    status = 501
    sender_fault = False


class AccessDeniedException(ServiceError):
    """AWS's common error for a caller that no policy allows; ECR's model does not list it."""

    code = "AccessDeniedException"


class MissingAuthenticationToken(ServiceError):
    """The request carries no SigV4 Authorization header, as `aws --no-sign-request` sends it."""

    code = "MissingAuthenticationTokenException"
