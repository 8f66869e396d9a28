"""Feature state kept per image, keyed by (repository name, image digest), that goes with its image."""

from typing import Callable

from ecr_emulator.backend.registry import Registry, registry_for
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import events


def drop_with_images(entries_of: Callable[[Registry], dict]) -> None:
    """Remove an image's entry from `entries_of(registry)` when the image or its repository is deleted."""

    def forget_image(event: events.ImageDeleted) -> None:
        with STATE_LOCK:
            entries_of(registry_for(event.account_id, event.region)).pop((event.repository_name, event.image_digest), None)

    def forget_repository(event: events.RepositoryDeleted) -> None:
        with STATE_LOCK:
            entries = entries_of(registry_for(event.account_id, event.region))
            for key in [key for key in entries if key[0] == event.repository_name]:
                del entries[key]

    events.subscribe(events.ImageDeleted, forget_image)
    events.subscribe(events.RepositoryDeleted, forget_repository)
