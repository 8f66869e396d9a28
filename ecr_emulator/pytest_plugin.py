"""The pytest plugin of ecr-emulator: the `ecr_mock` fixture."""

import pytest

from ecr_emulator.mock import MockECR


@pytest.fixture
def ecr_mock():
    """Serve boto3's ECR calls in-process for one test, from empty state, with fake credentials."""
    with MockECR() as mock:
        yield mock
