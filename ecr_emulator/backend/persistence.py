"""Keep the whole ECR state in the data folder, so that a restarted server has it all again.

After every request that may have changed state, the server writes a snapshot of every account's
registries (repositories, images, tags, policies, settings, uploads in progress) and the clock's
offset to `state.pickle`: to a temporary file first, fsynced, then renamed over the old one. The
server writes it before it sends the response, so an image whose manifest PUT was answered 201
survives a `kill -9`, and a crash mid-write leaves the previous snapshot in place. Blobs live
beside it in the blob store, which commits them the same way.

The file is a pickle: load only data folders this emulator wrote.
"""

import logging
import os
import pickle
import threading

from ecr_emulator.backend.registry import registries
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock

LOG = logging.getLogger(__name__)

FILE_NAME = "state.pickle"
FORMAT_VERSION = 1

_save_lock = threading.Lock()


def state_path(data_dir: str) -> str:
    return os.path.join(data_dir, FILE_NAME)


def save(data_dir: str) -> None:
    """Write a consistent snapshot of all state to the data folder."""
    with _save_lock:
        with STATE_LOCK:
            snapshot = {
                "version": FORMAT_VERSION,
                "registries": list(registries.items()),
                "clock_offset": clock.offset(),
            }
            data = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        path = state_path(data_dir)
        temporary = f"{path}.tmp"
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        descriptor = os.open(data_dir, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def load(data_dir: str) -> int:
    """Replace the in-memory state with the data folder's snapshot, if any; return the registries loaded."""
    path = state_path(data_dir)
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as stream:
        snapshot = pickle.load(stream)
    if snapshot.get("version") != FORMAT_VERSION:
        raise RuntimeError(f"{path} has state format {snapshot.get('version')}, this emulator reads {FORMAT_VERSION}")
    with STATE_LOCK:
        registries.reset()
        for account_id, region, registry in snapshot["registries"]:
            registries.put(account_id, region, registry)
        clock.reset()
        if snapshot["clock_offset"]:
            clock.advance(snapshot["clock_offset"])
    LOG.info("loaded the state of %d registries from %s", len(snapshot["registries"]), path)
    return len(snapshot["registries"])
