"""Import every operation family, which registers its handlers."""

from ecr_emulator.api import auth, images, layers, repositories  # noqa: F401
