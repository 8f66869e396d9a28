"""Keep the whole ECR state in the data folder, so that a restarted server has it all again.

After every request that may have changed state, the server appends a snapshot of every account's
registries (repositories, images, tags, policies, settings, uploads in progress) and the clock's
offset to the journal `state.journal`, in one `write` call, before it sends the response. So an
image whose manifest PUT returned 201 survives a `kill -9` of the server. Blob uploads on /v2/
are saved with the manifest push that follows them; `_may_change_state` in server/app.py lists
the requests that save. Each record is framed with its length and a checksum. On start the last complete record wins, and a record cut short
by a crash of the machine is ignored. When the journal grows past `COMPACT_SIZE`, its
last record is written to a new file that replaces it.

Nothing is fsynced unless `fsync=True`: the kernel keeps what a process wrote when the process
dies, and only a crash of the machine itself loses what was not yet on disk. Blobs live beside
the journal in the blob store, which commits them by rename.

Records are pickles: load only data folders this emulator wrote.
"""

import hashlib
import logging
import os
import pickle
import struct
import threading

from ecr_emulator.backend.registry import registries
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock

LOG = logging.getLogger(__name__)

FILE_NAME = "state.journal"
FORMAT_VERSION = 2
# A record is: 8-byte length, 8 bytes of the payload's sha256, then the payload.
HEADER = struct.Struct(">Q8s")
# Past this size the journal is rewritten with its last record only.
COMPACT_SIZE = 64 * 1024 * 1024

_lock = threading.Lock()
_journals: dict[str, int] = {}  # data folder -> file descriptor of its journal, opened for appending


def state_path(data_dir: str) -> str:
    return os.path.join(data_dir, FILE_NAME)


def save(data_dir: str, fsync: bool = False) -> None:
    """Append a consistent snapshot of all state to the data folder's journal."""
    with _lock:
        with STATE_LOCK:
            snapshot = {"version": FORMAT_VERSION, "registries": list(registries.items()), "clock_offset": clock.offset()}
            payload = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        record = HEADER.pack(len(payload), hashlib.sha256(payload).digest()[:8]) + payload

        descriptor = _journal(data_dir)
        if os.fstat(descriptor).st_size + len(record) > COMPACT_SIZE:
            descriptor = _compact(data_dir, record, fsync)
        else:
            os.write(descriptor, record)
        if fsync:
            os.fsync(descriptor)


def _journal(data_dir: str) -> int:
    descriptor = _journals.get(data_dir)
    if descriptor is None:
        descriptor = os.open(state_path(data_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        _journals[data_dir] = descriptor
    return descriptor


def _compact(data_dir: str, record: bytes, fsync: bool) -> int:
    """Replace the journal by one that contains `record` only; return the new journal's descriptor."""
    path = state_path(data_dir)
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as stream:
        stream.write(record)
        if fsync:
            stream.flush()
            os.fsync(stream.fileno())
    os.replace(temporary, path)
    os.close(_journals.pop(data_dir))
    LOG.info("compacted the state journal %s", path)
    return _journal(data_dir)


def close(data_dir: str) -> None:
    with _lock:
        descriptor = _journals.pop(data_dir, None)
        if descriptor is not None:
            os.close(descriptor)


def load(data_dir: str) -> int:
    """Replace the in-memory state with the journal's last complete record, if any; return the registries loaded."""
    path = state_path(data_dir)
    payload = _last_record(path)
    if payload is None:
        return 0
    snapshot = pickle.loads(payload)
    if snapshot.get("version") != FORMAT_VERSION:
        raise RuntimeError(f"{path} has state format {snapshot.get('version')}, this emulator reads {FORMAT_VERSION}")
    with STATE_LOCK:
        registries.reset()
        for account_id, region, registry in snapshot["registries"]:
            registries.put(account_id, region, registry)
        clock.reset()
        if snapshot["clock_offset"]:
            clock.advance(snapshot["clock_offset"])
    from ecr_emulator.backend import lifecycle_policies

    lifecycle_policies.reschedule()
    LOG.info("loaded the state of %d registries from %s", len(snapshot["registries"]), path)
    return len(snapshot["registries"])


def _last_record(path: str) -> bytes | None:
    """Return the payload of the journal's last complete, intact record."""
    if not os.path.exists(path):
        return None
    last = None
    with open(path, "rb") as stream:
        while True:
            header = stream.read(HEADER.size)
            if len(header) < HEADER.size:
                break
            length, checksum = HEADER.unpack(header)
            payload = stream.read(length)
            if len(payload) < length or hashlib.sha256(payload).digest()[:8] != checksum:
                LOG.warning("ignoring a cut-off record at the end of %s", path)
                break
            last = payload
    return last
