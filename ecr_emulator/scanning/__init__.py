"""Basic image scanning without ECR's state: what an image contains and which advisories it matches.

- `inventory`: read an image's layers from the blob store and list its OS and OS packages.
- `advisories`: the OSV advisory database (`configure(path)` or ECR_EMULATOR_ADVISORY_DB).
- `findings`: match an inventory against the database and describe the findings as ECR does.
- `versions` and `cvss`: dpkg and apk version order, CVSS base scores.

The scan state that the API reports lives in `ecr_emulator.backend.scanning`.
"""

from ecr_emulator.scanning.advisories import ENVIRONMENT_VARIABLE, AdvisoryDatabase, configure, current, location
from ecr_emulator.scanning.findings import (
    UNSUPPORTED_IMAGE_DESCRIPTION,
    Finding,
    UnsupportedImage,
    find_vulnerabilities,
    severity_counts,
)
from ecr_emulator.scanning.inventory import Inventory, LayerReference, OperatingSystem, Package, read_layers

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "UNSUPPORTED_IMAGE_DESCRIPTION",
    "AdvisoryDatabase",
    "Finding",
    "Inventory",
    "LayerReference",
    "OperatingSystem",
    "Package",
    "UnsupportedImage",
    "configure",
    "current",
    "find_vulnerabilities",
    "location",
    "read_layers",
    "severity_counts",
]
