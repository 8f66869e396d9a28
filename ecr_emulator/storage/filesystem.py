"""A BlobStore in a folder, for server mode.

Layout under the root folder:

    blobs/sha256/<first two hex digits>/<hex digest>   committed blobs, never modified
    uploads/<upload id>                                bytes of an open upload session

A commit renames the upload into place (after an fsync when the store was made with
`fsync=True`), so a blob is either absent or complete: a crash during a push leaves at most a
stray file under uploads/. Sessions survive a restart; the first use of a resumed session hashes
its bytes again.

Uploads and blob reads bypass the page cache where the filesystem allows it (O_DIRECT). On the
2-core VMs this project is measured on, filling fresh page-cache pages cost more than the disk:
buffered writes of a 256 MiB upload ran at 400 to 1000 MiB/s and direct ones at about 1 GB/s.
Pulls read the disk directly as well, at 1.4 to 1.7 GB/s there, because a first read through
the page cache would pay for fresh pages in the same way.
"""

import collections
import concurrent.futures
import ctypes
import ctypes.util
import errno
import itertools
import logging
import mmap
import os
import queue
import re
import sys
import threading
from typing import BinaryIO, Iterator

from ecr_emulator.storage.base import CHUNK_SIZE, BlobNotFound, BlobStore, UploadNotFound, UploadSession, iter_chunks

# Chunks read ahead of the disk writer: memory for a push stays under this many chunks.
WRITE_QUEUE_CHUNKS = 4
# Buffers of one stream append: the queue, the chunk being written and the one being read.
RING_CHUNKS = WRITE_QUEUE_CHUNKS + 3
# Chunks a blob read may have in flight ahead of the one being sent.
READ_AHEAD_CHUNKS = 8
# Idle buffers a store keeps for the next uploads and reads: enough for two uploads at once.
POOLED_BUFFERS = 2 * RING_CHUNKS
# Disk space reserved ahead of a large upload's writes, and fallocate(2)'s flag that keeps the
# file's size (Linux).
RESERVE_STEP = 64 * 1024 * 1024
FALLOC_FL_KEEP_SIZE = 1
# O_DIRECT writes need their offset, length and buffer address aligned to the device's logical
# block size, which is 512 or 4096 on common devices. The flag exists on Linux only.
DIRECT_ALIGNMENT = 4096
O_DIRECT = getattr(os, "O_DIRECT", 0)

LOWER_HEX = re.compile(r"[0-9a-f]*")
UPLOAD_ID_CHARACTERS = re.compile(r"[0-9a-f-]*")

LOG = logging.getLogger(__name__)


def _load_fallocate():
    """Return libc's fallocate(2) through ctypes, or None where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        function = libc.fallocate
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
    return function


_fallocate = _load_fallocate()


class BufferPool:
    """Page-aligned buffers of CHUNK_SIZE bytes, reused from one upload to the next.

    Anonymous maps start on a page boundary, as O_DIRECT writes need. Reusing them spares each
    upload the page faults and zeroing of fresh memory.
    """

    def __init__(self, keep: int):
        self._keep = keep
        self._free: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def take(self) -> mmap.mmap:
        with self._lock:
            if self._free:
                return self._free.pop()
        return mmap.mmap(-1, CHUNK_SIZE)

    def give(self, buffer: mmap.mmap) -> None:
        """Return a buffer taken from the pool. Past `keep` idle buffers the pool drops it, and it is unmapped once unused."""
        with self._lock:
            if len(self._free) < self._keep:
                self._free.append(buffer)


class FilesystemUploadSession(UploadSession):
    def __init__(self, store: "FilesystemBlobStore", upload_id: str | None = None):
        super().__init__(upload_id)
        self._blob_store = store
        self.path = os.path.join(store.uploads_dir, self.id)
        if upload_id is None:
            self._file = open(self.path, "xb")
        else:
            self._file = open(self.path, "ab")
            self._rehash()

    def _rehash(self) -> None:
        with open(self.path, "rb") as stream:
            for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
                self._hash.update(chunk)
                self.size += len(chunk)

    def append(self, source, length: int | None = None) -> int:
        if hasattr(source, "readinto") and not isinstance(source, (bytes, bytearray, memoryview)):
            return self._append_into_buffers(source, length)
        return self._append_chunks(iter_chunks(source, length), length)

    def _append_into_buffers(self, source, length: int | None) -> int:
        """Append a stream read into a ring of reused buffers, so that no chunk is allocated anew.

        A buffer comes round again only after the writer has taken the ones queued after it, so
        the ring contains the queue, the chunk being written and the one being read. The ring's
        buffers come from the store's pool, and only as many as the upload needs.
        """
        ring: list[mmap.mmap] = []

        def chunks():
            remaining = length
            for index in itertools.count():
                if remaining is not None and remaining <= 0:
                    return
                if len(ring) < RING_CHUNKS:
                    ring.append(self._blob_store.buffers.take())
                view = memoryview(ring[index % RING_CHUNKS])
                if remaining is not None:
                    view = view[: min(CHUNK_SIZE, remaining)]
                filled = 0
                while filled < len(view):
                    count = source.readinto(view[filled:])
                    if not count:
                        break
                    filled += count
                if not filled:
                    return
                if remaining is not None:
                    remaining -= filled
                yield view[:filled]

        try:
            return self._append_chunks(chunks(), length, aligned_buffers=True)
        finally:
            for buffer in ring:
                self._blob_store.buffers.give(buffer)

    def _append_chunks(self, chunks, length: int | None, aligned_buffers: bool = False) -> int:
        """Append like UploadSession.append, writing in a second thread while this one reads and hashes.

        Reading the socket, hashing and writing the file all release the GIL, so the disk writes
        overlap the hashing instead of following it. With `aligned_buffers` (every chunk starts on
        a page boundary), the writer may bypass the page cache.
        """
        first = next(chunks, None)
        if first is None:
            return self.size
        reserved = self._reserve(self.size, length or len(first))
        writer = _ChunkWriter(self._file, self._open_direct() if aligned_buffers else None)
        second = next(chunks, None)
        if second is None:  # one chunk: write it in an I/O thread of the store while this one hashes it
            written = self._blob_store.io_threads.submit(writer.write, first)
            self._hash.update(first)
            self.size += len(first)
            failure = written.exception()
            self._finish_writes(writer, reserved)
            if failure is not None:
                self._cancel_after(failure)
            return self.size
        chunks = itertools.chain([first, second], chunks)

        pending: queue.Queue = queue.Queue(maxsize=WRITE_QUEUE_CHUNKS)
        failures: list[BaseException] = []
        thread = threading.Thread(target=self._write_queued, args=(writer, pending, failures), daemon=True)
        thread.start()
        try:
            for chunk in chunks:
                if failures:
                    break
                if self.size + len(chunk) > reserved:
                    reserved = self._reserve(reserved)
                pending.put(chunk)
                self._hash.update(chunk)
                self.size += len(chunk)
        finally:
            pending.put(None)
            thread.join()
            self._finish_writes(writer, reserved)
            if failures:
                # Raised even when reading failed too: the session must not outlive a failed write.
                self._cancel_after(failures[0])
        return self.size

    def _cancel_after(self, failure: BaseException) -> None:
        """Cancel the session after a failed write and raise `failure`.

        The hash already contains the bytes that were not written, so the session cannot commit a
        blob whose content matches its digest any more.
        """
        LOG.error("writing upload %s failed, so it is cancelled: %s", self.id, failure)
        self.cancel()
        raise failure

    def _finish_writes(self, writer: "_ChunkWriter", reserved: int) -> None:
        writer.close()
        if reserved > writer.offset:
            # Truncating to the written size frees the reserved blocks that were not written.
            os.ftruncate(self._file.fileno(), writer.offset)

    def _reserve(self, offset: int, size: int = RESERVE_STEP) -> int:
        """Reserve `size` bytes of disk blocks from `offset` on without changing the file's size; return the end.

        Writing into reserved blocks skips block allocation as the file grows, which is what makes
        large writes slow on ext4. A crash leaves the reservation past the end of file, unseen.
        """
        if _fallocate is not None and _fallocate(self._file.fileno(), FALLOC_FL_KEEP_SIZE, offset, size) != 0:
            LOG.debug("fallocate is not supported under %s; writing without reserving", self._blob_store.root)
        return offset + size

    def _open_direct(self) -> int | None:
        """Return a descriptor of the upload file that writes past the page cache, or None where the filesystem refuses one."""
        if not O_DIRECT:
            return None
        try:
            return os.open(self.path, os.O_WRONLY | O_DIRECT)
        except OSError as error:  # a filesystem without O_DIRECT support fails the open with EINVAL
            LOG.debug("O_DIRECT is not supported under %s (%s); writing through the page cache", self._blob_store.root, error)
            return None

    @staticmethod
    def _write_queued(writer: "_ChunkWriter", pending: queue.Queue, failures: list) -> None:
        while (chunk := pending.get()) is not None:
            if failures:
                continue
            try:
                writer.write(chunk)
            except BaseException as error:  # reported to the appending thread, which re-raises it
                failures.append(error)

    def _write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def _truncate(self, size: int) -> None:
        self._file.flush()
        os.ftruncate(self._file.fileno(), size)
        self._file.seek(size)

    def _flush(self) -> None:
        self._file.flush()

    def _store(self, digest: str) -> None:
        self._file.flush()
        if self._blob_store.fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        target = self._blob_store.path_of(digest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.exists(target):
            # The same content is stored already. Removing the copy waits on the filesystem's
            # journal, so an I/O thread removes it while the response goes out.
            self._blob_store.io_threads.submit(_remove_quietly, self.path)
        else:
            os.replace(self.path, target)
            if self._blob_store.fsync:
                _fsync_dir(os.path.dirname(target))
        self._blob_store._forget(self.id)

    def cancel(self) -> None:
        if not self._file.closed:
            self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self._blob_store._forget(self.id)


class _ChunkWriter:
    """The writes of one append, at the end of an upload file.

    With a `direct` descriptor (opened with O_DIRECT), the block-aligned part of each chunk that
    starts on a block boundary goes past the page cache, and the rest through it. Both write at
    explicit offsets, which match the end of the file even when it was opened for appending.
    """

    def __init__(self, file: BinaryIO, direct: int | None):
        file.flush()
        self._file = file
        self._direct = direct
        self.offset = file.tell()

    def write(self, chunk) -> None:
        view = memoryview(chunk)
        if self._direct is not None and self.offset % DIRECT_ALIGNMENT == 0:
            aligned = len(view) - len(view) % DIRECT_ALIGNMENT
            if aligned:
                try:
                    _pwrite_all(self._direct, view[:aligned], self.offset)
                except OSError as error:
                    if error.errno != errno.EINVAL:
                        raise
                    # A device whose logical blocks are larger than DIRECT_ALIGNMENT rejects the
                    # write. The page cache takes the chunk from its start at the same offset, so
                    # any part already written is written again with the same bytes.
                    LOG.warning("a direct write at offset %d failed (%s); writing through the page cache", self.offset, error)
                    os.close(self._direct)
                    self._direct = None
                else:
                    self.offset += aligned
                    view = view[aligned:]
        if view:
            _pwrite_all(self._file.fileno(), view, self.offset)
            self.offset += len(view)

    def close(self) -> None:
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None
        self._file.seek(self.offset)


class _BlobReader:
    """Reads of one committed blob, with O_DIRECT where the filesystem allows it and the offset is on a block."""

    def __init__(self, stream: BinaryIO, path: str):
        self._stream = stream
        self._direct = None
        if O_DIRECT:
            try:
                self._direct = os.open(path, os.O_RDONLY | O_DIRECT)
            except OSError as error:  # a filesystem without O_DIRECT support fails the open with EINVAL
                LOG.debug("O_DIRECT reads are not supported for %s (%s); reading through the page cache", path, error)

    def read_into(self, buffer: mmap.mmap, offset: int, length: int) -> int:
        """Read up to `length` bytes at `offset` into the start of `buffer` (page-aligned, CHUNK_SIZE); return the count."""
        view = memoryview(buffer)
        count = 0
        while count < length:
            position = offset + count
            if self._direct is not None and position % DIRECT_ALIGNMENT == 0 and count % DIRECT_ALIGNMENT == 0:
                # A direct read needs whole blocks. It may read past `length`, up to the end of the
                # file or of the buffer; the bytes past `length` are ignored.
                blocks = -(-(length - count) // DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT
                read = self._read_direct(view[count:count + blocks], position)
            else:
                read = os.preadv(self._stream.fileno(), [view[count:length]], position)
            if read == 0:
                break
            count += read
        return min(count, length)

    def _read_direct(self, view: memoryview, offset: int) -> int:
        try:
            return os.preadv(self._direct, [view], offset)
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
            # A device whose logical blocks are larger than DIRECT_ALIGNMENT rejects the read.
            LOG.warning("a direct read at offset %d failed (%s); reading through the page cache", offset, error)
            os.close(self._direct)
            self._direct = None
            return os.preadv(self._stream.fileno(), [view], offset)

    def close(self) -> None:
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None
        self._stream.close()


class FilesystemBlobStore(BlobStore):
    def __init__(self, root: str, fsync: bool = False):
        self.root = os.path.abspath(root)
        self.fsync = fsync
        self.blobs_dir = os.path.join(self.root, "blobs")
        self.uploads_dir = os.path.join(self.root, "uploads")
        os.makedirs(self.blobs_dir, exist_ok=True)
        os.makedirs(self.uploads_dir, exist_ok=True)
        self._lock = threading.Lock()
        self._sessions: dict[str, FilesystemUploadSession] = {}
        self.buffers = BufferPool(POOLED_BUFFERS)
        # Threads for disk work that overlaps a request's own: single-chunk writes, removals, reads ahead.
        self.io_threads = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="blob-io")

    def path_of(self, digest: str) -> str:
        algorithm, _, hex_digest = digest.partition(":")
        if algorithm != "sha256" or len(hex_digest) != 64 or not _is_hex(hex_digest):
            raise BlobNotFound(digest)
        return os.path.join(self.blobs_dir, algorithm, hex_digest[:2], hex_digest)

    def stat(self, digest: str) -> int | None:
        try:
            return os.stat(self.path_of(digest)).st_size
        except (FileNotFoundError, BlobNotFound):
            return None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path_of(digest), "rb")
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def read_chunks(self, digest: str, start: int = 0, stop: int | None = None) -> Iterator[memoryview]:
        """Read like BlobStore.read_chunks, past the page cache (O_DIRECT) where the filesystem allows it.

        Uploads bypass the page cache, so a pull would otherwise fill fresh page-cache pages. On
        the VMs this project is measured on, the first pull of a 256 MiB blob after its push ran
        at about 500 MiB/s that way, and at 1.4 to 1.7 GB/s with O_DIRECT. Serving cached bytes from
        the page cache is not attempted: a RWF_NOWAIT probe for them started readahead on Linux
        6.18, which filled the page cache anyway.
        """
        path = self.path_of(digest)
        try:
            stream = open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise BlobNotFound(digest) from None
        if stop is None:
            stop = os.fstat(stream.fileno()).st_size
        return self._read_chunks(stream, path, start, stop)

    def _read_chunks(self, stream: BinaryIO, path: str, start: int, stop: int) -> Iterator[memoryview]:
        """Yield the chunks of [start, stop), reading up to READ_AHEAD_CHUNKS ahead in I/O threads.

        Chunks end on CHUNK_SIZE boundaries, so every chunk after the first starts on a block. The
        caller has finished with a chunk when it requests the next, and only then does that
        chunk's buffer go back to the free ones that reads ahead fill.
        """
        # The reader's O_DIRECT descriptor is opened here, on the first chunk, so an iterator that
        # is never started holds only `stream`, which the garbage collector closes.
        reader = _BlobReader(stream, path)
        free = [self.buffers.take() for _ in range(READ_AHEAD_CHUNKS + 1)]
        in_flight: collections.deque = collections.deque()  # (future, buffer, expected count)
        next_offset = start
        yielded = None  # the buffer of the chunk the caller is using
        try:
            while True:
                while len(free) > 1 and next_offset < stop:
                    end = min(stop, (next_offset // CHUNK_SIZE + 1) * CHUNK_SIZE)
                    buffer = free.pop()
                    future = self.io_threads.submit(reader.read_into, buffer, next_offset, end - next_offset)
                    in_flight.append((future, buffer, end - next_offset))
                    next_offset = end
                if not in_flight:
                    return
                future, yielded, expected = in_flight.popleft()
                count = future.result()
                if count:
                    yield memoryview(yielded)[:count]
                free.append(yielded)
                yielded = None
                if count < expected:  # the file is shorter than its size at open
                    return
        finally:
            concurrent.futures.wait([future for future, _, _ in in_flight])
            reader.close()
            for buffer in free + [buffer for _, buffer, _ in in_flight] + ([yielded] if yielded is not None else []):
                self.buffers.give(buffer)

    def delete(self, digest: str) -> None:
        try:
            os.unlink(self.path_of(digest))
        except (FileNotFoundError, BlobNotFound):
            pass

    def digests(self) -> Iterator[str]:
        for folder, _, names in os.walk(os.path.join(self.blobs_dir, "sha256")):
            for name in names:
                yield "sha256:" + name

    def start_upload(self) -> UploadSession:
        session = FilesystemUploadSession(self)
        with self._lock:
            self._sessions[session.id] = session
        return session

    def upload_ids(self) -> Iterator[str]:
        return iter(sorted(name for name in os.listdir(self.uploads_dir) if _is_upload_id(name)))

    def discard_upload(self, upload_id: str) -> None:
        """Cancel a session without opening it, which would hash its bytes again."""
        with self._lock:
            session = self._sessions.get(upload_id)
        if session is not None:
            session.cancel()
        elif _is_upload_id(upload_id):
            try:
                os.unlink(os.path.join(self.uploads_dir, upload_id))
            except FileNotFoundError:
                pass

    def get_upload(self, upload_id: str) -> UploadSession:
        with self._lock:
            session = self._sessions.get(upload_id)
            if session is not None:
                return session
            if not _is_upload_id(upload_id) or not os.path.exists(os.path.join(self.uploads_dir, upload_id)):
                raise UploadNotFound(upload_id)
            session = FilesystemUploadSession(self, upload_id)
            self._sessions[upload_id] = session
            return session

    def _forget(self, upload_id: str) -> None:
        with self._lock:
            self._sessions.pop(upload_id, None)


def _is_hex(text: str) -> bool:
    return LOWER_HEX.fullmatch(text) is not None


def _is_upload_id(text: str) -> bool:
    return len(text) == 36 and UPLOAD_ID_CHARACTERS.fullmatch(text) is not None


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError as error:
        LOG.warning("removing the finished upload %s failed: %s", path, error)


def _pwrite_all(descriptor: int, chunk, offset: int) -> None:
    view = memoryview(chunk)
    while view:
        written = os.pwrite(descriptor, view, offset)
        view = view[written:]
        offset += written


def _fsync_dir(path: str) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
