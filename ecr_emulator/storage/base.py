"""The BlobStore and UploadSession contracts."""

import abc
import hashlib
import uuid
from typing import BinaryIO, Iterable, Iterator

# Bytes read at a time while streaming: large enough to keep hashing fast, small enough that a
# 1 GiB layer never sits in memory.
CHUNK_SIZE = 1024 * 1024


class BlobNotFound(KeyError):
    """No blob is stored under the digest."""


class UploadNotFound(KeyError):
    """No upload session has the id; it was never started, or it was committed or cancelled."""


class DigestMismatch(ValueError):
    """The uploaded bytes hash to another digest than the one the client named."""

    def __init__(self, expected: str, actual: str):
        super().__init__(f"expected {expected}, computed {actual}")
        self.expected = expected
        self.actual = actual


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def iter_chunks(source: BinaryIO | bytes | Iterable[bytes], length: int | None = None) -> Iterator[bytes]:
    """Yield the bytes of `source` in chunks; with `length`, stop after that many bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source) if length is None else bytes(source)[:length]
        for start in range(0, len(data), CHUNK_SIZE):
            yield data[start:start + CHUNK_SIZE]
        return
    if not hasattr(source, "read"):
        yield from source
        return
    remaining = length
    while remaining is None or remaining > 0:
        chunk = source.read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


class UploadSession(abc.ABC):
    """A blob being uploaded in one or more appends, then committed under its digest.

    The session hashes bytes as they arrive, so `commit` does not read the upload again.
    """

    def __init__(self, upload_id: str | None = None):
        self.id = upload_id or str(uuid.uuid4())
        self.size = 0
        self._hash = hashlib.sha256()

    def append(self, source: BinaryIO | bytes | Iterable[bytes], length: int | None = None) -> int:
        """Append the bytes of `source` (at most `length` of them) and return the new size."""
        for chunk in iter_chunks(source, length):
            self._write(chunk)
            self._hash.update(chunk)
            self.size += len(chunk)
        self._flush()
        return self.size

    def checkpoint(self) -> tuple:
        """Return a mark of the session's current bytes, for `rewind`."""
        return self.size, self._hash.copy()

    def rewind(self, checkpoint: tuple) -> None:
        """Drop the bytes appended since `checkpoint` was taken."""
        size, hash_state = checkpoint
        if size == self.size:
            return
        self._truncate(size)
        self.size, self._hash = size, hash_state

    @property
    def digest(self) -> str:
        """The digest of the bytes appended so far."""
        return "sha256:" + self._hash.hexdigest()

    def commit(self, expected_digest: str | None = None) -> str:
        """Store the upload as a blob and end the session; return the blob's digest.

        Raises DigestMismatch, and stores nothing, when the content does not hash to
        `expected_digest`; the session then stays open, so the client can append or cancel.
        """
        actual = self.digest
        if expected_digest is not None and expected_digest != actual:
            raise DigestMismatch(expected_digest, actual)
        self._store(actual)
        return actual

    @abc.abstractmethod
    def cancel(self) -> None:
        """Discard the bytes and end the session."""

    @abc.abstractmethod
    def _write(self, chunk: bytes) -> None: ...

    @abc.abstractmethod
    def _truncate(self, size: int) -> None:
        """Keep only the first `size` bytes."""

    def _flush(self) -> None:
        """Make appended bytes durable; memory sessions have nothing to do."""

    @abc.abstractmethod
    def _store(self, digest: str) -> None: ...


class BlobStore(abc.ABC):
    """Blobs by digest, and the upload sessions that create them."""

    @abc.abstractmethod
    def stat(self, digest: str) -> int | None:
        """Return the blob's size in bytes, or None when no blob has the digest."""

    @abc.abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """Return a binary file object positioned at the blob's first byte; raise BlobNotFound."""

    def read_chunks(self, digest: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """Return an iterator over the blob's bytes from `start` to `stop` (the end by default), in chunks.

        Raises BlobNotFound at once, not when iterated. A chunk may be a view of a buffer that the
        next chunk reuses, so use each one before requesting the next.
        """
        return _chunks_of(self.open(digest), start, stop)

    @abc.abstractmethod
    def delete(self, digest: str) -> None:
        """Remove the blob; removing a missing blob does nothing."""

    @abc.abstractmethod
    def digests(self) -> Iterator[str]:
        """Yield the digest of every stored blob."""

    @abc.abstractmethod
    def start_upload(self) -> UploadSession:
        """Start an empty upload session."""

    @abc.abstractmethod
    def get_upload(self, upload_id: str) -> UploadSession:
        """Return the open session with `upload_id`; raise UploadNotFound."""

    @abc.abstractmethod
    def upload_ids(self) -> Iterator[str]:
        """Return an iterator over the ids of every open upload session, including those a restart left on disk."""

    def discard_upload(self, upload_id: str) -> None:
        """Cancel the upload session `upload_id`; discarding an unknown one does nothing."""
        try:
            self.get_upload(upload_id).cancel()
        except UploadNotFound:
            pass

    def put(self, source: BinaryIO | bytes | Iterable[bytes], expected_digest: str | None = None) -> str:
        """Store the bytes of `source` as one blob and return its digest."""
        session = self.start_upload()
        try:
            session.append(source)
            return session.commit(expected_digest)
        except BaseException:
            session.cancel()
            raise

    def read(self, digest: str) -> bytes:
        """Return a whole blob; for small blobs such as image configurations."""
        with self.open(digest) as stream:
            return stream.read()


def _chunks_of(stream: BinaryIO, start: int, stop: int | None) -> Iterator[bytes]:
    with stream:
        stream.seek(start)
        yield from iter_chunks(stream, None if stop is None else stop - start)
