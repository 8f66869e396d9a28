"""A threaded HTTP/1.1 server for the WSGI app, with keep-alive and streamed bodies both ways.

werkzeug's development server closes the connection after every response, which costs boto3 a new
TCP connection per call, and waitress reads a whole request body into a buffer before the app
receives it, which costs a push of a large layer an extra copy on disk. This server does neither:
each connection is served by one thread, request bodies (Content-Length or chunked) reach the app
as streams, and responses without a Content-Length are sent chunked.
"""

import io
import logging
import re
import socketserver
import ssl
import sys
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

LOG = logging.getLogger(__name__)

# Bytes of an unread request body the server reads and drops to keep a connection open; past
# this it closes the connection instead.
MAX_DRAIN = 1024 * 1024
# Seconds a TLS client has to finish its handshake.
HANDSHAKE_TIMEOUT = 30
# Limits on a request's header section, the same as Python's http.server applies.
MAX_HEADER_LINE = 65536
MAX_HEADERS = 100
HTTP_VERSION = re.compile(r"HTTP/(\d{1,10})\.(\d{1,10})")


class RequestBody(io.RawIOBase):
    """A request body; `before_first_read`, when set, runs once before its first read."""

    before_first_read = None

    def readable(self) -> bool:
        return True

    def _starting(self) -> None:
        if self.before_first_read is not None:
            callback, self.before_first_read = self.before_first_read, None
            callback()


class LimitedInput(RequestBody):
    """The request body of a request with a Content-Length: at most `length` bytes of `stream`."""

    def __init__(self, stream, length: int):
        self._stream = stream
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        self._starting()
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self._stream.read(size)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        if self.remaining <= 0 or not len(view):
            return 0
        self._starting()
        count = self._stream.readinto(view[: min(len(view), self.remaining)])
        if not count:
            self.remaining = 0
            return 0
        self.remaining -= count
        return count


class ChunkedInput(RequestBody):
    """The request body of a request sent with Transfer-Encoding: chunked, decoded."""

    def __init__(self, stream):
        self._stream = stream
        self._left_in_chunk = 0
        self.finished = False

    def read(self, size: int = -1) -> bytes:
        self._starting()
        parts = []
        requested = sys.maxsize if size is None or size < 0 else size
        while requested > 0 and not self.finished:
            if self._left_in_chunk == 0:
                self._start_chunk()
                continue
            data = self._stream.read(min(requested, self._left_in_chunk))
            if not data:
                raise ConnectionError("the client closed the connection inside a chunk")
            parts.append(data)
            requested -= len(data)
            self._left_in_chunk -= len(data)
            if self._left_in_chunk == 0:
                self._stream.readline()  # the CRLF after the chunk's data
        return b"".join(parts)

    def readinto(self, buffer) -> int:
        """Read into `buffer` without an intermediate bytes object; stop at the end of a chunk."""
        view = memoryview(buffer).cast("B")
        self._starting()
        while self._left_in_chunk == 0 and not self.finished:
            self._start_chunk()
        if self.finished or not len(view):
            return 0
        count = self._stream.readinto(view[: min(len(view), self._left_in_chunk)])
        if not count:
            raise ConnectionError("the client closed the connection inside a chunk")
        self._left_in_chunk -= count
        if self._left_in_chunk == 0:
            self._stream.readline()  # the CRLF after the chunk's data
        return count

    def _start_chunk(self) -> None:
        line = self._stream.readline(1024)
        if not line:
            raise ConnectionError("the client closed the connection before the last chunk")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ValueError(f"invalid chunk size line {line[:40]!r}") from None
        if size == 0:
            while self._stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields, which the app does not need
            self.finished = True
        self._left_in_chunk = size


class RequestHeaders:
    """The header fields of a request, in the order received; lookups by name ignore case."""

    def __init__(self):
        self._fields: list[tuple[str, str]] = []
        self._first: dict[str, str] = {}  # lower-case name -> value of its first field

    def add(self, name: str, value: str) -> None:
        self._fields.append((name, value))
        self._first.setdefault(name.lower(), value)

    def get(self, name: str, default=None):
        """Return the value of the first field called `name`, or `default`."""
        return self._first.get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self._fields if key.lower() == lowered]

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def __getitem__(self, name: str):
        return self._first.get(name.lower())

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._first

    def __len__(self) -> int:
        return len(self._fields)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A request line that cannot be read (such as a TLS handshake from docker, which tries HTTPS
    # first) gets an HTTP/1.0 400, not HTTP/0.9's bare body, so Go clients fall back
    # to plain HTTP.
    default_request_version = "HTTP/1.0"
    server_version = "ecr-emulator"
    sys_version = ""
    # Small responses go out at once instead of waiting for the client's delayed ACK.
    disable_nagle_algorithm = True

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            # The handshake happens here, in the connection's thread, not in the accepting one.
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as error:
                LOG.debug("TLS handshake with %s failed: %s", self.client_address[0], error)
                raise ConnectionError(str(error)) from None
            self.request.settimeout(None)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except ConnectionError as error:
            LOG.debug("connection from %s ended: %s", self.client_address[0], error)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError) as error:
            LOG.debug("connection from %s ended: %s", self.client_address[0], error)
            self.close_connection = True

    def parse_request(self) -> bool:
        """Parse the request line and header section into command, path, request_version and headers.

        This does what BaseHTTPRequestHandler.parse_request does, except HTTP/0.9, but splits the
        header fields itself: the email package's parser, which the standard one uses, took about
        four times as long for a typical header section of a push.
        """
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        self._continue_pending = False
        self._body = None
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        if len(words) != 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Invalid request line {self.requestline[:100]!r}")
            return False
        command, path, version = words
        match = HTTP_VERSION.fullmatch(version)
        if match is None:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Invalid HTTP version {version[:20]!r}")
            return False
        version_number = (int(match[1]), int(match[2]))
        if version_number >= (2, 0):
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"HTTP version {version} is not supported")
            return False
        self.request_version = version
        self.close_connection = version_number < (1, 1)
        # A path that starts with // would read as a host in a Location header built from it.
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        self.command, self.path = command, path

        headers = self._read_headers()
        if headers is None:
            return False
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if headers.get("Expect", "").lower() == "100-continue" and version_number >= (1, 1):
            return self.handle_expect_100()
        return True

    def handle_expect_100(self) -> bool:
        """Defer 100 Continue to the app's first read of the body, so a request the app rejects from its headers gets no 100."""
        self._continue_pending = True
        return True

    def _send_continue(self) -> None:
        if self._continue_pending:
            self._continue_pending = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_headers(self) -> RequestHeaders | None:
        """Read the header section up to its empty line; send an error and return None if it is invalid."""
        headers = RequestHeaders()
        while True:
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"A header line is longer than {MAX_HEADER_LINE} bytes")
                return None
            if line in (b"\r\n", b"\n", b""):
                return headers
            if len(headers) == MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"More than {MAX_HEADERS} header fields")
                return None
            name, colon, value = str(line, "iso-8859-1").partition(":")
            # RFC 9112 section 5: a server rejects whitespace before the colon and obsolete
            # line folding (a line that starts with whitespace) with 400.
            if not colon or not name or name != name.strip():
                self.send_error(HTTPStatus.BAD_REQUEST, f"Invalid header line {line[:100]!r}")
                return None
            headers.add(name, value.strip())

    def __getattr__(self, name: str):
        # BaseHTTPRequestHandler looks up do_<METHOD>; every method goes to the WSGI app.
        if name.startswith("do_"):
            return self.run_app
        raise AttributeError(name)

    def run_app(self) -> None:
        body = self._body = self._body_stream()
        if body is None:
            return
        environ = self._environ(body)
        state = {"status": None, "headers": None, "sent": False, "chunked": False}

        def start_response(status, headers, exc_info=None):
            if exc_info and state["sent"]:
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return lambda data: self._write(state, data)

        result = self.server.app(environ, start_response)
        try:
            for data in result:
                if data:
                    self._write(state, data)
            if not state["sent"]:
                self._send_headers(state, body_length=0)
            if state["chunked"]:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            if hasattr(result, "close"):
                result.close()
        self._finish_body(body)

    def _body_stream(self):
        body = self._unread_body_stream()
        if isinstance(body, LimitedInput) and body.remaining == 0:
            self._continue_pending = False  # there is no body to wait for
        if body is not None and self._continue_pending:
            body.before_first_read = self._send_continue
        return body

    def _unread_body_stream(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return ChunkedInput(self.rfile)
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length else 0
            if size < 0:
                raise ValueError
        except ValueError:
            self.send_error(400, f"Invalid Content-Length {length!r}")
            return None
        return LimitedInput(self.rfile, size)

    def _environ(self, body) -> dict:
        path, _, query = self.path.partition("?")
        if "://" in path:  # an absolute-form request target
            path = urllib.parse.urlsplit(path).path
        host, port = self.server.server_address[:2]
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote(path, errors="surrogateescape").encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if isinstance(self.request, ssl.SSLSocket) else "http",
            "wsgi.input": body,
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if self.headers.get("Content-Type"):
            environ["CONTENT_TYPE"] = self.headers["Content-Type"]
        if self.headers.get("Content-Length"):
            environ["CONTENT_LENGTH"] = self.headers["Content-Length"]
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            # Repeated header lines (skopeo sends one Accept line per media type) are joined.
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _send_headers(self, state: dict, body_length: int | None = None) -> None:
        code, _, reason = state["status"].partition(" ")
        self.send_response_only(int(code), reason)
        names = set()
        for name, value in state["headers"]:
            self.send_header(name, value)
            names.add(name.lower())
        if "content-length" not in names and self.command != "HEAD" and int(code) not in (204, 304):
            if body_length is not None:
                self.send_header("Content-Length", str(body_length))
            else:
                self.send_header("Transfer-Encoding", "chunked")
                state["chunked"] = True
        if self._body_left_unread() and "connection" not in names:
            # The rest of the body is not read, so the connection cannot carry another request.
            self.send_header("Connection", "close")
            self.close_connection = True
        state["sent"] = True
        if body_length is not None:
            self.end_headers()

    def _write(self, state: dict, data: bytes) -> None:
        head = b""
        if not state["sent"]:
            # The status line and headers go out in the same write as the first body bytes.
            self._send_headers(state)
            head = b"".join(self._headers_buffer) + b"\r\n"
            self._headers_buffer = []
        if self.command == "HEAD":
            if head:
                self.wfile.write(head)
            return
        if state["chunked"]:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(head + data if head else data)

    def _body_left_unread(self) -> bool:
        """Tell whether the response leaves request body bytes that _finish_body will not read."""
        body = self._body
        if self._continue_pending:
            return True  # the client may send the body or not, so the next bytes are unknown
        if isinstance(body, LimitedInput):
            return body.remaining > MAX_DRAIN
        return isinstance(body, ChunkedInput) and not body.finished

    def _finish_body(self, body) -> None:
        """Read what the app left of the request body, or close the connection if that is too much."""
        if self._continue_pending:
            self.close_connection = True
            return
        if isinstance(body, LimitedInput):
            if body.remaining > MAX_DRAIN:
                self.close_connection = True
                return
            while body.read(64 * 1024):
                pass
        elif not body.finished:
            self.close_connection = True

    def log_request(self, code="-", size="-"):
        pass  # the app writes the access log

    def log_error(self, format, *args):
        LOG.debug("rejected a request from %s: " + format, self.client_address[0], *args)


class ThreadedServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One thread per connection; threads do not keep the process alive."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app):
        self.app = app
        super().__init__(address, RequestHandler)


class TLSServer(ThreadedServer):
    """The same server over TLS; each connection's handshake runs in its own thread."""

    def __init__(self, address: tuple[str, int], app, context: ssl.SSLContext):
        self.context = context
        super().__init__(address, app)

    def get_request(self):
        connection, address = self.socket.accept()
        return self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        LOG.debug("TLS connection from %s failed", client_address[0], exc_info=True)


def make_server(host: str, port: int, app, context: ssl.SSLContext | None = None) -> ThreadedServer:
    if context is not None:
        return TLSServer((host, port), app, context)
    return ThreadedServer((host, port), app)
