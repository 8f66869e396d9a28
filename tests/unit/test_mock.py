"""mock_ecr as a decorator, a context manager and a fixture; alone and inside moto's mock_aws."""

import os
import subprocess
import sys
import unittest

import boto3
import pytest
from moto import mock_aws

from ecr_emulator import mock_ecr


def make_client():
    return boto3.client("ecr", region_name="us-east-1")


@mock_ecr
def test_decorated_function():
    make_client().create_repository(repositoryName="decorated")

    assert [r["repositoryName"] for r in make_client().describe_repositories()["repositories"]] == ["decorated"]


def test_state_is_clean_each_time():
    with mock_ecr():
        make_client().create_repository(repositoryName="first")
    with mock_ecr():
        assert make_client().describe_repositories()["repositories"] == []


def test_fake_credentials_while_active(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")

    with mock_ecr():
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"

    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALKEY"


def test_nested_activation_keeps_state():
    with mock_ecr():
        make_client().create_repository(repositoryName="outer")
        with mock_ecr():
            make_client().create_repository(repositoryName="inner")
        names = [r["repositoryName"] for r in make_client().describe_repositories()["repositories"]]

    assert names == ["inner", "outer"]


def test_inside_moto_mock_aws():
    with mock_aws(), mock_ecr():
        # given: moto handles the other services, ecr-emulator handles ECR
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="moto-bucket")
        make_client().create_repository(repositoryName="ours")
        image_manifest_missing_layers = '{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"digest": "sha256:aa", "size": 1}, "layers": []}'

        # then: PutImage checks layers, which moto does not
        with pytest.raises(make_client().exceptions.LayersNotFoundException):
            make_client().put_image(repositoryName="ours", imageManifest=image_manifest_missing_layers, imageTag="v1")
        assert boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"][0]["Name"] == "moto-bucket"


def test_account_from_moto_sts():
    with mock_aws(), mock_ecr():
        # given: credentials that moto's STS issued for a role in another account
        sts = boto3.client("sts", region_name="us-east-1")
        credentials = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/ci", RoleSessionName="ci")["Credentials"]
        client = boto3.client(
            "ecr",
            region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

        # when
        repository = client.create_repository(repositoryName="from-role")["repository"]

        # then
        assert repository["registryId"] == "210987654321"


def test_moto_account_id_variable(monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "333333333333")

    with mock_ecr():
        repository = make_client().create_repository(repositoryName="env")["repository"]

    assert repository["registryId"] == "333333333333"


@mock_ecr
class TestDecoratedClass:
    def test_one(self):
        make_client().create_repository(repositoryName="one")
        assert len(make_client().describe_repositories()["repositories"]) == 1

    def test_two(self):
        assert make_client().describe_repositories()["repositories"] == []


@mock_ecr
class DecoratedTestCase(unittest.TestCase):
    def setUp(self):
        make_client().create_repository(repositoryName="from-setup")

    def test_sees_setup(self):
        names = [r["repositoryName"] for r in make_client().describe_repositories()["repositories"]]
        self.assertEqual(names, ["from-setup"])


def test_fixture(ecr_mock):
    make_client().create_repository(repositoryName="fixture")

    assert make_client().describe_repositories()["repositories"][0]["repositoryName"] == "fixture"


def test_operation_without_handler_names_itself(monkeypatch):
    # given: an operation whose handler is missing
    from ecr_emulator.protocol import dispatch

    with mock_ecr():
        monkeypatch.delitem(dispatch.HANDLERS, "DescribeRepositories")
        client = make_client()

        # when
        with pytest.raises(client.exceptions.ClientError) as raised:
            client.describe_repositories()

    # then: a clear 501 that names the operation, not a 404 or a 500
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert raised.value.response["Error"]["Code"] == "NotImplemented"
    assert "DescribeRepositories" in raised.value.response["Error"]["Message"]


def test_client_made_after_earlier_default_session():
    # given: a process whose boto3 default session exists before ecr_emulator is imported
    script = (
        "import boto3\n"
        "boto3.client('ecr', region_name='us-east-1')\n"
        "from ecr_emulator import mock_ecr\n"
        "with mock_ecr():\n"
        "    print(boto3.client('ecr', region_name='us-east-1').create_repository(repositoryName='late')"
        "['repository']['registryId'])\n"
    )

    # when
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)

    # then: the client made inside the mock reached the emulator, not AWS
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "123456789012"


def test_moto_does_not_also_handle_ecr():
    with mock_aws(), mock_ecr():
        # given: an operation moto does not implement
        client = make_client()

        # when
        rule = client.create_pull_through_cache_rule(ecrRepositoryPrefix="quay-cache", upstreamRegistryUrl="quay.io")

        # then: ecr-emulator handled it, and moto, which would raise NotImplementedError, was not called
        assert rule["upstreamRegistry"] == "quay"
