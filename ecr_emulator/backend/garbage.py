"""Garbage collection of layers and blobs that no image references any more.

A repository keeps a layer while one of its images references it, or for `grace` after the layer
was uploaded, so the blobs of a push in progress (uploaded, manifest not yet put) survive. A blob
is deleted from the store when no repository of any account keeps it. The whole pass holds the
state lock, and upload commits take the same lock, so a collection never races a push.
"""

import datetime
import logging

from ecr_emulator.backend import runtime
from ecr_emulator.backend.registry import registries
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock, events

LOG = logging.getLogger(__name__)

# How long an uploaded layer that no manifest references is kept.
DEFAULT_GRACE = datetime.timedelta(hours=1)


def collect_garbage(grace: datetime.timedelta = DEFAULT_GRACE, candidates: set[str] | None = None) -> int:
    """Drop unreferenced layers older than `grace` and delete blobs nothing keeps; return the blobs deleted.

    Without `candidates` every blob of the store is checked. With them, only those and the layers
    this pass drops are checked, so a delete does not walk the whole store.
    """
    store = runtime.current().blob_store
    cutoff = clock.now() - grace
    deleted = 0
    with STATE_LOCK:
        kept: set[str] = set()
        dropped: set[str] = set()
        for _, _, registry in registries.items():
            for repository in registry.repositories.values():
                referenced = {digest for image in repository.images.values() for digest in image.parsed.blob_digests}
                for digest, layer in list(repository.layers.items()):
                    if digest not in referenced and layer.added_at < cutoff:
                        del repository.layers[digest]
                        dropped.add(digest)
                kept.update(repository.layers)
        checked = list(store.digests()) if candidates is None else candidates | dropped
        for digest in checked:
            if digest not in kept and store.stat(digest) is not None:
                store.delete(digest)
                deleted += 1
    if deleted:
        LOG.info("garbage collection deleted %d blobs", deleted)
    return deleted


def collect_after_restart() -> int:
    """Remove what an earlier run of the server left behind; return the uploads and blobs removed.

    Blob uploads are saved with the next save of the state, so after a crash the store may keep
    upload files of sessions no registry records, and blobs no repository keeps. Sessions past
    the upload expiry are cancelled too: only a request to one would cancel it otherwise.
    """
    store = runtime.current().blob_store
    cutoff = clock.now() - runtime.current().upload_expiry
    with STATE_LOCK:
        known = {upload_id for _, _, registry in registries.items() for upload_id in registry.uploads}
        stray = [upload_id for upload_id in store.upload_ids() if upload_id not in known]
        for upload_id in stray:
            store.discard_upload(upload_id)
        expired = [
            (registry, upload_id)
            for _, _, registry in registries.items()
            for upload_id, started_at in registry.upload_started_at.items()
            if started_at < cutoff
        ]
        for registry, upload_id in expired:
            registry.cancel_upload(upload_id)
    if stray or expired:
        LOG.info("removed %d uploads that no registry records and %d expired ones after a restart", len(stray), len(expired))
    return len(stray) + len(expired) + collect_garbage()


_pending = False
_candidates: set[str] = set()


def _note_image_deletion(event: events.ImageDeleted) -> None:
    global _pending
    _pending = True


def _note_repository_deletion(event: events.RepositoryDeleted) -> None:
    global _pending
    _pending = True
    _candidates.update(event.layer_digests)


def collect_if_needed() -> int:
    """Collect garbage once after requests that deleted images or repositories; return the blobs deleted."""
    global _pending
    if not _pending:
        return 0
    _pending = False
    candidates = set(_candidates)
    _candidates.clear()
    return collect_garbage(candidates=candidates)


events.subscribe(events.ImageDeleted, _note_image_deletion)
events.subscribe(events.RepositoryDeleted, _note_repository_deletion)
