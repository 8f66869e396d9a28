"""A threaded HTTP/1.1 server for the WSGI app, with keep-alive and streamed bodies both ways.

werkzeug's development server closes the connection after every response, which costs boto3 a new
TCP connection per call, and waitress reads a whole request body into a buffer before the app
receives it, which costs a push of a large layer an extra copy on disk. This server does neither:
each connection is served by one thread, request bodies (Content-Length or chunked) reach the app
as streams, and responses without a Content-Length are sent chunked.
"""

import io
import logging
import socketserver
import ssl
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler

LOG = logging.getLogger(__name__)

# Bytes of an unread request body the server reads and drops to keep a connection open; past
# this it closes the connection instead.
MAX_DRAIN = 1024 * 1024
# Seconds a TLS client has to finish its handshake.
HANDSHAKE_TIMEOUT = 30


class LimitedInput(io.RawIOBase):
    """The request body of a request with a Content-Length: at most `length` bytes of `stream`."""

    def __init__(self, stream, length: int):
        self._stream = stream
        self.remaining = length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
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
        count = self._stream.readinto(view[: min(len(view), self.remaining)])
        if not count:
            self.remaining = 0
            return 0
        self.remaining -= count
        return count


class ChunkedInput(io.RawIOBase):
    """The request body of a request sent with Transfer-Encoding: chunked, decoded."""

    def __init__(self, stream):
        self._stream = stream
        self._left_in_chunk = 0
        self.finished = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
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

    def __getattr__(self, name: str):
        # BaseHTTPRequestHandler looks up do_<METHOD>; every method goes to the WSGI app.
        if name.startswith("do_"):
            return self.run_app
        raise AttributeError(name)

    def run_app(self) -> None:
        body = self._body_stream()
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

    def _finish_body(self, body) -> None:
        """Read what the app left of the request body, or close the connection if that is too much."""
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
