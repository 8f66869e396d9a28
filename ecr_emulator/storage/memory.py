"""A BlobStore in memory, for decorator mode and tests."""

import io
import threading
from typing import BinaryIO, Iterator

from ecr_emulator.storage.base import BlobNotFound, BlobStore, UploadNotFound, UploadSession


class MemoryUploadSession(UploadSession):
    def __init__(self, store: "MemoryBlobStore"):
        super().__init__()
        self._store_ref = store
        self._parts: list[bytes] = []

    def _write(self, chunk: bytes) -> None:
        self._parts.append(chunk)

    def _truncate(self, size: int) -> None:
        self._parts = [b"".join(self._parts)[:size]]

    def _store(self, digest: str) -> None:
        with self._store_ref._lock:
            self._store_ref._blobs.setdefault(digest, b"".join(self._parts))
            self._store_ref._uploads.pop(self.id, None)
        self._parts = []

    def cancel(self) -> None:
        with self._store_ref._lock:
            self._store_ref._uploads.pop(self.id, None)
        self._parts = []


class MemoryBlobStore(BlobStore):
    def __init__(self):
        self._lock = threading.Lock()
        self._blobs: dict[str, bytes] = {}
        self._uploads: dict[str, MemoryUploadSession] = {}

    def stat(self, digest: str) -> int | None:
        blob = self._blobs.get(digest)
        return None if blob is None else len(blob)

    def open(self, digest: str) -> BinaryIO:
        try:
            return io.BytesIO(self._blobs[digest])
        except KeyError:
            raise BlobNotFound(digest) from None

    def delete(self, digest: str) -> None:
        with self._lock:
            self._blobs.pop(digest, None)

    def digests(self) -> Iterator[str]:
        return iter(list(self._blobs))

    def start_upload(self) -> UploadSession:
        session = MemoryUploadSession(self)
        with self._lock:
            self._uploads[session.id] = session
        return session

    def upload_ids(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._uploads))

    def get_upload(self, upload_id: str) -> UploadSession:
        try:
            return self._uploads[upload_id]
        except KeyError:
            raise UploadNotFound(upload_id) from None
