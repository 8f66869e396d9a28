"""ecr-emulator: a local stand-in for Amazon Elastic Container Registry.

The public surface is `mock_ecr` for boto3 tests and the `ecr-emulator serve` command.
"""

__version__ = "0.1.0"

from ecr_emulator.mock import mock_ecr  # noqa: E402

__all__ = ["mock_ecr", "__version__"]
