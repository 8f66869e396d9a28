"""templates operations."""

from ecr_emulator.protocol.dispatch import handler  # noqa: F401
