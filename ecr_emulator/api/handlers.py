"""Import every operation family, which registers its handlers."""

from ecr_emulator.api import (  # noqa: F401
    access,
    auth,
    images,
    layers,
    lifecycle,
    policies,
    pull_through,
    replication,
    repositories,
    scanning,
    settings,
    templates,
)
