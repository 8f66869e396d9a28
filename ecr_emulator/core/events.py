"""Synchronous publish/subscribe of domain events.

The backend publishes events such as `ImagePushed` after it changes state; features such as
scanning, replication and lifecycle subscribe. Delivery is synchronous and in subscription order,
so tests see every consequence of a call when the call returns.
"""

import dataclasses
import logging
from collections import defaultdict
from typing import Any, Callable

LOG = logging.getLogger(__name__)

_subscribers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)


def subscribe(event_type: type, callback: Callable[[Any], None]) -> None:
    """Call `callback(event)` for every published event of `event_type`."""
    if callback not in _subscribers[event_type]:
        _subscribers[event_type].append(callback)


def unsubscribe(event_type: type, callback: Callable[[Any], None]) -> None:
    if callback in _subscribers[event_type]:
        _subscribers[event_type].remove(callback)


def publish(event: Any) -> None:
    """Deliver `event` to its subscribers; a failing subscriber is logged and does not stop the rest."""
    for callback in list(_subscribers[type(event)]):
        try:
            callback(event)
        except Exception:
            LOG.exception("subscriber %r failed on %s", callback, type(event).__name__)


@dataclasses.dataclass(frozen=True)
class ImagePushed:
    account_id: str
    region: str
    repository_name: str
    image_digest: str
    image_tag: str | None


@dataclasses.dataclass(frozen=True)
class ImagePulled:
    account_id: str
    region: str
    repository_name: str
    image_digest: str


@dataclasses.dataclass(frozen=True)
class ImageDeleted:
    account_id: str
    region: str
    repository_name: str
    image_digest: str


@dataclasses.dataclass(frozen=True)
class RepositoryCreated:
    account_id: str
    region: str
    repository_name: str


@dataclasses.dataclass(frozen=True)
class RepositoryDeleted:
    account_id: str
    region: str
    repository_name: str
    # The blobs the repository held, which may have no other repository now.
    layer_digests: tuple[str, ...] = ()
