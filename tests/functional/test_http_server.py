"""The HTTP/1.1 server under the app, over raw sockets: request lines, header sections, bodies and keep-alive."""

import json
import socket
import threading

import pytest

from ecr_emulator.server.http import MAX_HEADERS, make_server


def echo_app(environ, start_response):
    """Return what the server passed to the app: method, path, selected headers and the body.

    On /reject it responds with 416 without reading the body, as a handler that rejects a request from
    its headers does.
    """
    if environ["PATH_INFO"] == "/reject":
        start_response("416 Range Not Satisfiable", [("Content-Length", "0")])
        return [b""]
    body = environ["wsgi.input"].read()
    answer = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "accept": environ.get("HTTP_ACCEPT"),
        "content_type": environ.get("CONTENT_TYPE"),
        "body": body.decode("latin-1"),
    }
    data = json.dumps(answer).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


@pytest.fixture(scope="module")
def address():
    server = make_server("127.0.0.1", 0, echo_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def exchange(address, raw: bytes) -> bytes:
    """Send `raw` on a new connection and return everything the server sends until it closes the connection."""
    with socket.create_connection(address, timeout=5) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def responses_of(received: bytes) -> list[tuple[str, dict]]:
    """Split the bytes of one or more responses with a Content-Length into (status line, JSON body) pairs."""
    parsed = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines[1:])
        length = int(fields.get("Content-Length", "0"))
        body, received = rest[:length], rest[length:]
        parsed.append((lines[0], json.loads(body) if fields.get("Content-Type") == "application/json" else body))
    return parsed


def test_keep_alive_serves_requests_in_turn(address):
    raw = b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n" b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    responses = responses_of(exchange(address, raw))

    assert [status for status, _ in responses] == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]
    assert [body["path"] for _, body in responses] == ["/one", "/two"]


def test_http_1_0_closes_after_response(address):
    responses = responses_of(exchange(address, b"GET /only HTTP/1.0\r\nHost: x\r\n\r\n"))

    assert len(responses) == 1
    assert responses[0][1]["path"] == "/only"


def test_header_names_ignore_case(address):
    raw = b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-TYPE: text/plain\r\nCONTENT-LENGTH: 5\r\nConnection: close\r\n\r\nhello"

    (status, body), = responses_of(exchange(address, raw))

    assert status == "HTTP/1.1 200 OK"
    assert body["content_type"] == "text/plain"
    assert body["body"] == "hello"


def test_repeated_header_lines_joined(address):
    raw = b"GET /x HTTP/1.1\r\nAccept: a/b\r\nAccept: c/d\r\nConnection: close\r\n\r\n"

    (_, body), = responses_of(exchange(address, raw))

    assert body["accept"] == "a/b,c/d"


def test_chunked_body_decoded(address):
    raw = (
        b"PATCH /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\nTrailer: ignored\r\n\r\n"
    )

    (_, body), = responses_of(exchange(address, raw))

    assert body["body"] == "hello, world"


def test_expect_continue_answered_first(address):
    raw = b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nok"

    received = exchange(address, raw)

    assert received.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    "rejected",
    [
        # a body that the client sends only after 100 Continue, which never comes
        b"PUT /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
        # a body larger than the server drains
        b"PATCH /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 1000,
    ],
)
def test_unread_body_closes_connection(address, rejected):
    received = exchange(address, rejected)

    assert received.startswith(b"HTTP/1.1 416 ")
    assert b"100 Continue" not in received
    assert b"\r\nConnection: close\r\n" in received


@pytest.mark.parametrize(
    "rejected",
    [
        # Expect: 100-continue with no body to come
        b"PUT /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n",
        # a small body, which the server reads and drops
        b"PATCH /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    ],
)
def test_rejected_request_keeps_connection(address, rejected):
    next_request = b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    received = exchange(address, rejected + next_request)

    assert received.startswith(b"HTTP/1.1 416 ")
    assert b"Connection: close" not in received.split(b"\r\n\r\n", 1)[0]
    assert b'"path": "/next"' in received


def test_double_slash_path_reduced(address):
    (_, body), = responses_of(exchange(address, b"GET //evil.example/x HTTP/1.1\r\nConnection: close\r\n\r\n"))

    assert body["path"] == "/evil.example/x"


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET /x\r\n\r\n", "400"),  # HTTP/0.9 is not served
        (b"GET /x HTTP/1.1 extra\r\n\r\n", "400"),
        (b"GET /x HTTPS/1.1\r\n\r\n", "400"),
        (b"GET /x HTTP/1\r\n\r\n", "400"),
        (b"GET /x HTTP/2.0\r\n\r\n", "505"),
        (b"GET /x HTTP/1.1\r\nHost : x\r\n\r\n", "400"),  # whitespace before the colon
        (b"GET /x HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "400"),  # obsolete line folding
        (b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n", "400"),
        (b"GET /x HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", "431"),
        (b"GET /x HTTP/1.1\r\n" + b"X-Many: 1\r\n" * (MAX_HEADERS + 1) + b"\r\n", "431"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls client hello\r\n\r\n", "400"),
    ],
)
def test_invalid_request_rejected(address, raw, status):
    received = exchange(address, raw)

    status_line = received.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.")
    assert status_line.split(" ")[1] == status


def test_connection_survives_rejected_neighbour(address):
    # A rejected request on one connection leaves the server serving others.
    exchange(address, b"GET /x HTTP/9.9\r\n\r\n")

    (status, body), = responses_of(exchange(address, b"GET /after HTTP/1.1\r\nConnection: close\r\n\r\n"))

    assert status == "HTTP/1.1 200 OK"
    assert body["path"] == "/after"
