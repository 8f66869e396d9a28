"""Process-wide parts that every account and region shares: blob store, token authority, hosts.

Decorator mode keeps blobs in memory and names registries by their AWS host names; server mode
configures a folder and the server's own address with `configure()`.
"""

import dataclasses
import datetime
import os
import threading

from ecr_emulator.backend.auth import TokenAuthority
from ecr_emulator.storage.base import BlobStore
from ecr_emulator.storage.memory import MemoryBlobStore

# Every change to repositories, images and uploads holds this lock; streaming bytes does not.
STATE_LOCK = threading.RLock()


@dataclasses.dataclass
class Runtime:
    blob_store: BlobStore
    tokens: TokenAuthority
    # host[:port] that repositoryUri and proxyEndpoint name; None means the AWS host names.
    registry_host: str | None = None
    registry_scheme: str = "https"
    data_dir: str | None = None
    fsync: bool = False
    # How long UpdateImageStorageClass keeps a restored image ACTIVATING; ECR documents up to 20
    # minutes, and the emulator restores at once unless configured otherwise.
    restore_delay: datetime.timedelta = datetime.timedelta(0)
    # How long after a lifecycle policy is put, and after each run, its next run comes. ECR acts
    # within 24 hours of an image meeting a rule; zero runs due policies before every request.
    lifecycle_interval: datetime.timedelta = datetime.timedelta(hours=24)
    # An upload session not finished within this time is cancelled. Neither ECR nor the OCI
    # specification documents a limit; the reference registry purges after 7 days.
    upload_expiry: datetime.timedelta = datetime.timedelta(hours=24)
    # Reproduce ECR's known deviations from the OCI Distribution specification (see README).
    ecr_quirks: bool = False


_runtime = Runtime(blob_store=MemoryBlobStore(), tokens=TokenAuthority())


def current() -> Runtime:
    return _runtime


def configure(
    data_dir: str | None = None, registry_host: str | None = None, registry_scheme: str = "http", fsync: bool = False
) -> Runtime:
    """Use a folder for blobs and the token secret, and name registries by `registry_host`."""
    global _runtime
    if data_dir:
        from ecr_emulator.storage.filesystem import FilesystemBlobStore

        os.makedirs(data_dir, exist_ok=True)
        store: BlobStore = FilesystemBlobStore(data_dir, fsync=fsync)
        tokens = TokenAuthority(os.path.join(data_dir, "token-secret"))
    else:
        store, tokens = MemoryBlobStore(), TokenAuthority()
    _runtime = Runtime(store, tokens, registry_host, registry_scheme, data_dir, fsync)
    return _runtime


def reset_memory() -> None:
    """Start over with an empty memory store and a new token secret, as decorator mode does per test."""
    global _runtime
    _runtime = Runtime(blob_store=MemoryBlobStore(), tokens=TokenAuthority())


def registry_host(account_id: str, region: str) -> str:
    """Return the host[:port] of an account's registry in a region."""
    if _runtime.registry_host:
        return _runtime.registry_host
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account_id}.dkr.ecr.{region}.{suffix}"


def proxy_endpoint(account_id: str, region: str) -> str:
    scheme = _runtime.registry_scheme if _runtime.registry_host else "https"
    return f"{scheme}://{registry_host(account_id, region)}"
