"""The contract every BlobStore implementation passes: memory and filesystem alike."""

import io
import os
import resource
import signal

import pytest

from ecr_emulator.storage import BlobNotFound, DigestMismatch, UploadNotFound, digest_of
from ecr_emulator.storage.filesystem import FilesystemBlobStore, _BlobReader, _ChunkWriter
from ecr_emulator.storage.memory import MemoryBlobStore


@pytest.fixture(params=["memory", "filesystem"])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryBlobStore()
    return FilesystemBlobStore(str(tmp_path / "store"))


def test_put_then_read(store):
    digest = store.put(b"hello")

    assert digest == digest_of(b"hello")
    assert store.stat(digest) == 5
    assert store.read(digest) == b"hello"


def test_missing_blob(store):
    missing = digest_of(b"missing")

    assert store.stat(missing) is None
    with pytest.raises(BlobNotFound):
        store.open(missing)


def test_upload_in_chunks(store):
    session = store.start_upload()

    session.append(b"abc")
    session.append(io.BytesIO(b"defg"))
    digest = session.commit(digest_of(b"abcdefg"))

    assert session.size == 7
    assert store.read(digest) == b"abcdefg"
    with pytest.raises(UploadNotFound):
        store.get_upload(session.id)


def test_append_with_length(store):
    session = store.start_upload()

    session.append(io.BytesIO(b"0123456789"), length=4)

    assert session.size == 4
    assert session.commit() == digest_of(b"0123")


def test_wrong_digest_stores_nothing(store):
    session = store.start_upload()
    session.append(b"content")

    with pytest.raises(DigestMismatch) as raised:
        session.commit(digest_of(b"other"))

    assert raised.value.actual == digest_of(b"content")
    assert store.stat(digest_of(b"content")) is None
    assert store.get_upload(session.id) is session


def test_cancel_discards(store):
    session = store.start_upload()
    session.append(b"discard me")

    session.cancel()

    with pytest.raises(UploadNotFound):
        store.get_upload(session.id)
    assert store.stat(digest_of(b"discard me")) is None


def test_same_content_twice(store):
    first = store.put(b"same")
    second = store.put(b"same")

    assert first == second
    assert list(store.digests()) == [first]


def test_delete(store):
    digest = store.put(b"gone")

    store.delete(digest)
    store.delete(digest)

    assert store.stat(digest) is None


def test_large_blob_streams(store):
    chunk = os.urandom(1024 * 1024)
    session = store.start_upload()
    for _ in range(8):
        session.append(io.BytesIO(chunk))

    digest = session.commit()

    with store.open(digest) as stream:
        assert stream.read(len(chunk)) == chunk
    assert store.stat(digest) == 8 * len(chunk)


def test_unknown_upload(store):
    with pytest.raises(UploadNotFound):
        store.get_upload("00000000-0000-0000-0000-000000000000")


def test_filesystem_upload_survives_restart(tmp_path):
    # given: an upload left open when the process stopped
    root = str(tmp_path / "store")
    session = FilesystemBlobStore(root).start_upload()
    session.append(b"first half,")

    # when: a new store on the same folder resumes it
    resumed = FilesystemBlobStore(root).get_upload(session.id)
    resumed.append(b" second half")
    digest = resumed.commit(digest_of(b"first half, second half"))

    # then
    assert FilesystemBlobStore(root).read(digest) == b"first half, second half"


def test_filesystem_rejects_path_tricks(tmp_path):
    store = FilesystemBlobStore(str(tmp_path / "store"))

    assert store.stat("sha256:../../etc/passwd") is None
    with pytest.raises(UploadNotFound):
        store.get_upload("../../etc/passwd")


def test_filesystem_frees_unused_reservation(tmp_path):
    # given: an upload of several chunks, for which the store reserves disk space ahead
    store = FilesystemBlobStore(str(tmp_path / "store"))
    chunk = os.urandom(1024 * 1024)
    session = store.start_upload()

    # when
    session.append(io.BytesIO(chunk * 3))

    # then: the upload file holds exactly its bytes, and no reserved block outlives the append
    upload_path = os.path.join(store.uploads_dir, session.id)
    assert os.path.getsize(upload_path) == 3 * len(chunk)
    assert os.stat(upload_path).st_blocks * 512 <= 3 * len(chunk) + 64 * 1024
    assert store.read(session.commit()) == chunk * 3


@pytest.mark.parametrize("head_size", [0, 1000])
def test_stream_append_at_any_offset(store, head_size):
    # given: an upload that starts with `head_size` bytes, so a stream appended next starts on a
    # block boundary or off one, and a stream whose last chunk is not a whole block
    head = os.urandom(head_size)
    body = os.urandom(3 * 1024 * 1024 + 17)
    session = store.start_upload()
    session.append(head)

    # when
    session.append(io.BytesIO(body))
    session.append(io.BytesIO(body[:5000]))
    digest = session.commit(digest_of(head + body + body[:5000]))

    # then
    assert store.read(digest) == head + body + body[:5000]


def test_filesystem_without_o_direct(tmp_path, monkeypatch):
    # given: a platform without O_DIRECT, which only Linux has
    monkeypatch.setattr("ecr_emulator.storage.filesystem.O_DIRECT", 0)
    store = FilesystemBlobStore(str(tmp_path / "store"))
    body = os.urandom(4 * 1024 * 1024 + 3)

    # when
    digest = store.put(io.BytesIO(body))

    # then
    assert store.read(digest) == body


@pytest.mark.parametrize("size", [512 * 1024, 4 * 1024 * 1024])
def test_filesystem_failed_write_cancels_upload(tmp_path, size):
    # given: a file size limit (RLIMIT_FSIZE) under the upload's size, so its writes fail with EFBIG
    store = FilesystemBlobStore(str(tmp_path / "store"))
    session = store.start_upload()
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, limits[1]))
    try:
        # when
        with pytest.raises(OSError):
            session.append(io.BytesIO(os.urandom(size)))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)

    # then: the session and its bytes are gone, so no blob can be committed from a partial file
    with pytest.raises(UploadNotFound):
        store.get_upload(session.id)
    assert os.listdir(store.uploads_dir) == []
    assert list(store.digests()) == []


def test_upload_ids_and_discard(store):
    # given: two open uploads
    remaining = store.start_upload()
    remaining.append(b"remaining bytes")
    discarded = store.start_upload()
    discarded.append(b"discarded bytes")

    # when
    store.discard_upload(discarded.id)
    store.discard_upload("00000000-0000-0000-0000-000000000000")  # unknown: nothing happens

    # then: only the other upload is listed, and it can still be finished
    assert list(store.upload_ids()) == [remaining.id]
    with pytest.raises(UploadNotFound):
        store.get_upload(discarded.id)
    assert store.read(store.get_upload(remaining.id).commit()) == b"remaining bytes"
    assert list(store.upload_ids()) == []


def test_filesystem_discards_upload_left_by_restart(tmp_path):
    # given: an upload file left by an earlier process, which this store has not opened
    root = str(tmp_path / "store")
    left = FilesystemBlobStore(root).start_upload()
    left.append(b"left behind")
    store = FilesystemBlobStore(root)

    # when
    listed = list(store.upload_ids())
    store.discard_upload(left.id)

    # then
    assert listed == [left.id]
    assert list(store.upload_ids()) == []
    assert os.listdir(store.uploads_dir) == []


def test_rewind_drops_bytes_since_checkpoint(store):
    # given: an upload with a checkpoint after its first bytes, then more bytes
    session = store.start_upload()
    session.append(b"kept ")
    checkpoint = session.checkpoint()
    session.append(io.BytesIO(os.urandom(2 * 1024 * 1024 + 5)))

    # when
    session.rewind(checkpoint)
    session.append(b"and more")

    # then: the blob has the bytes before the checkpoint and after the rewind only
    assert session.size == len(b"kept and more")
    assert store.read(session.commit(digest_of(b"kept and more"))) == b"kept and more"


def test_filesystem_direct_write_rejected_falls_back(tmp_path):
    # given: an upload whose chunk sits one byte past a page boundary in memory, which O_DIRECT
    # writes reject with EINVAL on filesystems that enforce the buffer's alignment (ext4 does)
    store = FilesystemBlobStore(str(tmp_path / "store"))
    session = store.start_upload()
    body = os.urandom(3 * 4096)
    misaligned = memoryview(bytearray(b"\0" + body))[1:]
    writer = _ChunkWriter(session._file, session._open_direct())

    # when
    writer.write(misaligned)
    writer.write(body)
    writer.close()

    # then: every byte reached the file, in order
    with open(session.path, "rb") as stream:
        assert stream.read() == body + body


@pytest.mark.parametrize(
    ("start", "stop"),
    [(0, None), (0, 3 * 1024 * 1024 + 17), (1, 4097), (4096, 2 * 1024 * 1024), (1024 * 1024 - 5, 1024 * 1024 + 5), (3 * 1024 * 1024 + 16, None)],
)
def test_read_chunks_of_a_range(store, start, stop):
    # given: a blob of 3 MiB + 17 bytes
    body = os.urandom(3 * 1024 * 1024 + 17)
    digest = store.put(io.BytesIO(body))

    # when: the range is read, each chunk copied before the next is requested
    pieces = [bytes(piece) for piece in store.read_chunks(digest, start, stop)]

    # then
    assert b"".join(pieces) == body[start:stop]
    assert all(len(piece) <= 1024 * 1024 for piece in pieces)


def test_read_chunks_of_missing_and_empty_blobs(store):
    empty = store.put(b"")

    with pytest.raises(BlobNotFound):
        store.read_chunks(digest_of(b"never stored"))
    assert list(store.read_chunks(empty)) == []


def test_filesystem_reads_without_o_direct(tmp_path, monkeypatch):
    # given: a blob written with O_DIRECT, read on a platform without it
    store = FilesystemBlobStore(str(tmp_path / "store"))
    body = os.urandom(2 * 1024 * 1024 + 3)
    digest = store.put(io.BytesIO(body))
    monkeypatch.setattr("ecr_emulator.storage.filesystem.O_DIRECT", 0)

    # when
    pieces = [bytes(piece) for piece in store.read_chunks(digest, 5, None)]

    # then
    assert b"".join(pieces) == body[5:]


def test_filesystem_direct_read_rejected_falls_back(tmp_path):
    # given: a stored blob, and a buffer one byte past a page boundary, which O_DIRECT reads
    # reject with EINVAL on filesystems that enforce the buffer's alignment (ext4 does)
    store = FilesystemBlobStore(str(tmp_path / "store"))
    body = os.urandom(3 * 4096)
    digest = store.put(body)
    misaligned = memoryview(bytearray(len(body) + 4096 + 1))[1:]
    path = store.path_of(digest)
    reader = _BlobReader(open(path, "rb", buffering=0), path)

    # when
    count = reader.read_into(misaligned, 0, len(body))
    reader.close()

    # then
    assert count == len(body)
    assert bytes(misaligned[:count]) == body
