"""Content-addressed blob storage and resumable uploads.

A blob is stored once under its digest, whichever repositories reference it; which repository may
see which digest is the backend's business, not the store's. Every implementation passes the same
contract suite in tests/contract/.
"""

from ecr_emulator.storage.base import (
    BlobNotFound,
    BlobStore,
    DigestMismatch,
    UploadNotFound,
    UploadSession,
    digest_of,
)

__all__ = [
    "BlobNotFound",
    "BlobStore",
    "DigestMismatch",
    "UploadNotFound",
    "UploadSession",
    "digest_of",
]
