"""Every operation of the installed ECR model handles a valid request without a generic error.

The table below has one valid request per operation, in an order where each finds the state it
needs (a repository, an image, a policy, a rule). The test fails if the model gains an operation
that the table lacks, if any answer is an error the operation does not model, or if a response
breaks its output shape (the serializer checks shapes while tests run).
"""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import push_image

REPO = "every/app"
ACCOUNT = "123456789012"
LIFECYCLE_POLICY = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "keep the ten newest images of any kind",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
                "action": {"type": "expire"},
            }
        ]
    }
)
REPOSITORY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowPull",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ],
    }
)
REGISTRY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowReplication",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*",
            }
        ],
    }
)
SIGNING_PROFILE = f"arn:aws:signer:us-east-1:{ACCOUNT}:/signing-profiles/every_profile"
EXCLUDED_PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/ci"


def requests_in_order(image_digest: str) -> list[tuple[str, dict]]:
    image_id = {"imageDigest": image_digest}
    return [
        ("DescribeRegistry", {}),
        ("GetAuthorizationToken", {}),
        ("DescribeRepositories", {}),
        ("ListImages", {"repositoryName": REPO}),
        ("DescribeImages", {"repositoryName": REPO}),
        ("BatchGetImage", {"repositoryName": REPO, "imageIds": [image_id]}),
        ("BatchCheckLayerAvailability", {"repositoryName": REPO, "layerDigests": [image_digest]}),
        ("ListImageReferrers", {"repositoryName": REPO, "subjectId": image_id}),
        ("InitiateLayerUpload", {"repositoryName": REPO}),
        ("PutImageTagMutability", {"repositoryName": REPO, "imageTagMutability": "MUTABLE"}),
        ("PutImageScanningConfiguration", {"repositoryName": REPO, "imageScanningConfiguration": {"scanOnPush": False}}),
        ("TagResource", {"resourceArn": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{REPO}", "tags": [{"Key": "team", "Value": "a"}]}),
        ("ListTagsForResource", {"resourceArn": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{REPO}"}),
        ("UntagResource", {"resourceArn": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{REPO}", "tagKeys": ["team"]}),
        ("SetRepositoryPolicy", {"repositoryName": REPO, "policyText": REPOSITORY_POLICY}),
        ("GetRepositoryPolicy", {"repositoryName": REPO}),
        ("DeleteRepositoryPolicy", {"repositoryName": REPO}),
        ("PutRegistryPolicy", {"policyText": REGISTRY_POLICY}),
        ("GetRegistryPolicy", {}),
        ("DeleteRegistryPolicy", {}),
        ("PutLifecyclePolicy", {"repositoryName": REPO, "lifecyclePolicyText": LIFECYCLE_POLICY}),
        ("GetLifecyclePolicy", {"repositoryName": REPO}),
        ("StartLifecyclePolicyPreview", {"repositoryName": REPO}),
        ("GetLifecyclePolicyPreview", {"repositoryName": REPO}),
        ("DeleteLifecyclePolicy", {"repositoryName": REPO}),
        ("PutAccountSetting", {"name": "BASIC_SCAN_TYPE_VERSION", "value": "AWS_NATIVE"}),
        ("GetAccountSetting", {"name": "BASIC_SCAN_TYPE_VERSION"}),
        ("PutRegistryScanningConfiguration", {"scanType": "BASIC", "rules": []}),
        ("GetRegistryScanningConfiguration", {}),
        ("BatchGetRepositoryScanningConfiguration", {"repositoryNames": [REPO]}),
        ("StartImageScan", {"repositoryName": REPO, "imageId": image_id}),
        ("DescribeImageScanFindings", {"repositoryName": REPO, "imageId": image_id}),
        ("PutReplicationConfiguration", {"replicationConfiguration": {"rules": [{"destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}]}]}}),
        ("DescribeImageReplicationStatus", {"repositoryName": REPO, "imageId": image_id}),
        ("StartReplicationBackfill", {"destination": {"region": "eu-west-1", "registryId": ACCOUNT}}),
        ("ListReplicationBackfills", {}),
        ("PutSigningConfiguration", {"signingConfiguration": {"rules": [{"signingProfileArn": SIGNING_PROFILE}]}}),
        ("GetSigningConfiguration", {}),
        ("DescribeImageSigningStatus", {"repositoryName": REPO, "imageId": image_id}),
        ("DeleteSigningConfiguration", {}),
        ("RegisterPullTimeUpdateExclusion", {"principalArn": EXCLUDED_PRINCIPAL}),
        ("ListPullTimeUpdateExclusions", {}),
        ("DeregisterPullTimeUpdateExclusion", {"principalArn": EXCLUDED_PRINCIPAL}),
        ("CreateRepositoryCreationTemplate", {"prefix": "every", "appliedFor": ["CREATE_ON_PUSH"]}),
        ("DescribeRepositoryCreationTemplates", {}),
        ("UpdateRepositoryCreationTemplate", {"prefix": "every", "description": "templates for every/"}),
        ("DeleteRepositoryCreationTemplate", {"prefix": "every"}),
        ("CreatePullThroughCacheRule", {"ecrRepositoryPrefix": "quay-cache", "upstreamRegistryUrl": "quay.io", "upstreamRegistry": "quay"}),
        ("DescribePullThroughCacheRules", {}),
        ("ValidatePullThroughCacheRule", {"ecrRepositoryPrefix": "quay-cache"}),
        ("DeletePullThroughCacheRule", {"ecrRepositoryPrefix": "quay-cache"}),
        ("UpdateImageStorageClass", {"repositoryName": REPO, "imageId": image_id, "targetStorageClass": "ARCHIVE"}),
        ("UpdateImageStorageClass", {"repositoryName": REPO, "imageId": image_id, "targetStorageClass": "STANDARD"}),
        ("PutImage", {"repositoryName": REPO, "imageManifest": None, "imageTag": "v2"}),
        ("BatchDeleteImage", {"repositoryName": REPO, "imageIds": [{"imageTag": "v2"}]}),
        ("CreateRepository", {"repositoryName": "every/other"}),
        ("DeleteRepository", {"repositoryName": "every/other"}),
    ]


# Operations whose valid request needs state the table cannot set up in one call: each
# returns its own modelled error, which the test checks.
EXPECTED_ERRORS = {
    "UploadLayerPart": "UploadNotFoundException",
    "CompleteLayerUpload": "UploadNotFoundException",
    "GetDownloadUrlForLayer": "LayerInaccessibleException",
    "StopReplicationBackfill": "ReplicationBackfillNotFoundException",
    "DescribeReplicationBackfillResults": "ReplicationBackfillNotFoundException",
    "UpdatePullThroughCacheRule": "PullThroughCacheRuleNotFoundException",
}
UNKNOWN_ID = "0f0e0d0c-0b0a-0908-0706-050403020100"


def test_every_operation_answers(ecr):
    # given: a repository with one image
    ecr.create_repository(repositoryName=REPO)
    image = push_image(ecr, REPO, tag="v1")
    table = requests_in_order(image["imageId"]["imageDigest"])
    model = ecr.meta.service_model
    covered = {name for name, _ in table} | set(EXPECTED_ERRORS)
    assert covered == set(model.operation_names), f"table lacks {set(model.operation_names) - covered}"

    # when / then: each valid request succeeds
    for name, params in table:
        if name == "PutImage":
            params = {**params, "imageManifest": image["imageManifest"]}
        method = getattr(ecr, _snake(name))
        try:
            method(**params)
        except ClientError as error:
            pytest.fail(f"{name} answered {error.response['Error']['Code']}: {error.response['Error']['Message']}")

    # and: the operations that need state of their own return their modelled error
    special = {
        "UploadLayerPart": {"repositoryName": REPO, "uploadId": UNKNOWN_ID, "partFirstByte": 0, "partLastByte": 0, "layerPartBlob": b"x"},
        "CompleteLayerUpload": {"repositoryName": REPO, "uploadId": UNKNOWN_ID, "layerDigests": [image["imageId"]["imageDigest"]]},
        "GetDownloadUrlForLayer": {"repositoryName": REPO, "layerDigest": _unreferenced_layer(ecr)},
        "StopReplicationBackfill": {"replicationBackfillId": UNKNOWN_ID},
        "DescribeReplicationBackfillResults": {"replicationBackfillId": UNKNOWN_ID},
        "UpdatePullThroughCacheRule": {"ecrRepositoryPrefix": "missing", "credentialArn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ecr-pullthroughcache/missing-AbCdEf"},
    }
    for name, code in EXPECTED_ERRORS.items():
        with pytest.raises(ClientError) as raised:
            getattr(ecr, _snake(name))(**special[name])
        assert raised.value.response["Error"]["Code"] == code, name
        assert code in {shape.name for shape in model.operation_model(name).error_shapes}


def _unreferenced_layer(ecr) -> str:
    from tests.helpers import upload_blob

    return upload_blob(ecr, REPO, b"a layer no image references")["digest"]


def _snake(name: str) -> str:
    from botocore import xform_name

    return xform_name(name)
