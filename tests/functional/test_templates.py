"""Repository creation templates: CRUD, validation, and the settings a new repository takes from them."""

import json

import pytest
from botocore.exceptions import ClientError

from ecr_emulator.api.errors import InvalidTagParameterException
from ecr_emulator.backend import lifecycle_policies, templates
from ecr_emulator.backend.registry import registry_for
from tests.conftest import advance_clock

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "us-east-1"

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecr-template-role"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# The lifecycle policy and repository policy of the user guide's CreateRepositoryCreationTemplate example.
LIFECYCLE_POLICY = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire images older than 14 days",
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
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
                "Sid": "AllowPushPullIAMRole",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/IAMusername"},
                "Action": ["ecr:BatchGetImage", "ecr:PutImage"],
            }
        ],
    }
)
EXCLUSION_FILTERS = [{"filterType": "WILDCARD", "filter": "latest"}, {"filterType": "WILDCARD", "filter": "beta*"}]


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def prefixes_of(ecr) -> list[str]:
    return [
        template["prefix"] for template in ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    ]



# The backend functions of these tests run in the test's process, which only decorator mode shares.
DECORATOR_ONLY = pytest.mark.parametrize("ecr_mode", ["decorator"], indirect=True)


def in_process_registry(ecr_mode):
    """Return the registry behind the `ecr` client; only decorator mode shares the test's process."""
    assert not hasattr(ecr_mode, "endpoint"), "mark the test @DECORATOR_ONLY: a server's state is in its own process"
    return registry_for(ACCOUNT, REGION)


# CreateRepositoryCreationTemplate


def test_create_template_defaults(ecr):
    # when
    response = ecr.create_repository_creation_template(prefix="prod", appliedFor=["PULL_THROUGH_CACHE"])

    # then: AES256 and MUTABLE apply when the request names no settings
    template = response["repositoryCreationTemplate"]
    assert response["registryId"] == ACCOUNT
    assert template["prefix"] == "prod"
    assert template["appliedFor"] == ["PULL_THROUGH_CACHE"]
    assert template["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert template["imageTagMutability"] == "MUTABLE"
    assert template["createdAt"] == template["updatedAt"]
    for absent in ("description", "repositoryPolicy", "lifecyclePolicy", "customRoleArn"):
        assert absent not in template


def test_create_template_all_settings(ecr):
    # given: the user guide's example template
    request = {
        "prefix": "prod",
        "description": "For repositories cached from my PTC rule and in my replication configuration",
        "appliedFor": ["PULL_THROUGH_CACHE", "REPLICATION"],
        "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": KMS_KEY_ARN},
        "resourceTags": [{"Key": "examplekey", "Value": "examplevalue"}],
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": EXCLUSION_FILTERS,
        "repositoryPolicy": REPOSITORY_POLICY,
        "lifecyclePolicy": LIFECYCLE_POLICY,
        "customRoleArn": ROLE_ARN,
    }

    # when
    created = ecr.create_repository_creation_template(**request)["repositoryCreationTemplate"]
    described = ecr.describe_repository_creation_templates(prefixes=["prod"])["repositoryCreationTemplates"]

    # then: both responses return every member as sent
    for template in (created, described[0]):
        for member, value in request.items():
            assert template[member] == value, member
    assert len(described) == 1


@pytest.mark.parametrize("prefix", ["ROOT", "prod/team", "team-a/app_1", "prod/"])
def test_create_template_valid_prefixes(ecr, prefix):
    template = ecr.create_repository_creation_template(prefix=prefix, appliedFor=["REPLICATION"])

    assert template["repositoryCreationTemplate"]["prefix"] == prefix


@pytest.mark.parametrize("prefix", ["Prod", "Root", "ROOT/team", "prod//team", "-prod", "prod/*"])
def test_create_template_invalid_prefix(ecr, prefix):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix=prefix, appliedFor=["REPLICATION"])

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith(
        "Invalid parameter at 'prefix' failed to satisfy constraint: 'must satisfy regular expression"
    )
    assert prefixes_of(ecr) == []


def test_create_template_twice(ecr):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])

    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix="prod", appliedFor=["PULL_THROUGH_CACHE"])

    assert error_of(raised)[0] == "TemplateAlreadyExistsException"
    assert ecr.describe_repository_creation_templates()["repositoryCreationTemplates"][0]["appliedFor"] == [
        "REPLICATION"
    ]


def test_create_template_implied_slash_duplicate(ecr):
    # given: `prod/` and `prod` are the same prefix, because a `/` is always implied at the end
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])

    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix="prod/", appliedFor=["REPLICATION"])

    assert error_of(raised)[0] == "TemplateAlreadyExistsException"


def test_create_template_without_applied_for(ecr_mode):
    unchecked = ecr_mode.client(parameter_validation=False)

    with pytest.raises(ClientError) as raised:
        unchecked.create_repository_creation_template(prefix="prod")

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must not be null'",
    )


def test_create_template_unknown_applied_for(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix="prod", appliedFor=["CREATE_REPOSITORY"])

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert "Member must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]" in message


def test_create_template_applied_for_deduplicated(ecr):
    template = ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION", "REPLICATION"])

    assert template["repositoryCreationTemplate"]["appliedFor"] == ["REPLICATION"]


@pytest.mark.parametrize(
    "kms_key", ["alias/my-key", "a1b2c3d4-5678-90ab-cdef-example11111", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/x"]
)
def test_create_template_kms_key_not_arn(ecr, kms_key):
    # given: the API reference requires the full ARN of a KMS key
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(
            prefix="prod",
            appliedFor=["REPLICATION"],
            encryptionConfiguration={"encryptionType": "KMS", "kmsKey": kms_key},
        )

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint")


def test_create_template_empty_kms_key(ecr):
    template = ecr.create_repository_creation_template(
        prefix="prod", appliedFor=["REPLICATION"], encryptionConfiguration={"encryptionType": "KMS", "kmsKey": ""}
    )["repositoryCreationTemplate"]

    assert template["encryptionConfiguration"]["encryptionType"] == "KMS"


@pytest.mark.parametrize("mutability", ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"])
def test_create_template_exclusion_mode_without_filters(ecr, mutability):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(
            prefix="prod", appliedFor=["REPLICATION"], imageTagMutability=mutability
        )

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
        f"'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as {mutability}'",
    )
    assert prefixes_of(ecr) == []


@pytest.mark.parametrize("mutability", [None, "MUTABLE", "IMMUTABLE"])
def test_create_template_filters_without_exclusion_mode(ecr, mutability):
    request = {"prefix": "prod", "appliedFor": ["REPLICATION"], "imageTagMutabilityExclusionFilters": EXCLUSION_FILTERS}
    if mutability:
        request["imageTagMutability"] = mutability

    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(**request)

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'imageTagMutabilityExclusionFilters'")


def test_create_template_invalid_exclusion_filter(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(
            prefix="prod",
            appliedFor=["REPLICATION"],
            imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "release/1"}],
        )

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert "imageTagMutabilityExclusionFilters.1.member.filter" in message


def test_create_template_invalid_lifecycle_policy(ecr):
    # given: a policy whose rule lacks its action
    policy = json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1},
                }
            ]
        }
    )

    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], lifecyclePolicy=policy)

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith(
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "
    )
    assert prefixes_of(ecr) == []


def test_create_template_lifecycle_policy_not_json(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], lifecyclePolicy="{rules")

    assert error_of(raised)[0] == "InvalidParameterException"


NO_PRINCIPAL_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:ListImages"}]}
)
UNKNOWN_ACTION_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:MakeCoffee"}]}
)


@pytest.mark.parametrize("policy", ["not json", "[1, 2]", '"text"', NO_PRINCIPAL_POLICY, UNKNOWN_ACTION_POLICY])
def test_create_template_invalid_repository_policy(ecr, policy):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], repositoryPolicy=policy)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
    )
    assert prefixes_of(ecr) == []


@pytest.mark.parametrize(
    "role_arn",
    [
        "not-an-arn",
        f"arn:aws:iam::{ACCOUNT}:user/someone",
        f"arn:aws:s3:::{ACCOUNT}-bucket",
        f"arn:aws:iam::{OTHER_ACCOUNT}:role/other",
    ],
)
def test_create_template_invalid_custom_role(ecr, role_arn):
    # given: the API reference requires a role in the registry's own account
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], customRoleArn=role_arn)

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'customRoleArn' failed to satisfy constraint:")
    assert prefixes_of(ecr) == []


def test_create_template_tags_without_role(ecr):
    # given: ECR accepts such a template and only fails when it creates a repository from it
    template = ecr.create_repository_creation_template(
        prefix="prod", appliedFor=["PULL_THROUGH_CACHE"], resourceTags=[{"Key": "Foo", "Value": "Bar"}]
    )["repositoryCreationTemplate"]

    assert template["resourceTags"] == [{"Key": "Foo", "Value": "Bar"}]
    assert "customRoleArn" not in template


def test_create_template_tag_too_long(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository_creation_template(
            prefix="prod",
            appliedFor=["REPLICATION"],
            resourceTags=[{"Key": "k" * 129, "Value": "v"}],
            customRoleArn=ROLE_ARN,
        )

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'resourceTags'")


def test_create_template_description_too_long(ecr_mode):
    unchecked = ecr_mode.client(parameter_validation=False)

    with pytest.raises(ClientError) as raised:
        unchecked.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], description="d" * 257)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'description' failed to satisfy constraint: 'Member must have length less than or equal to 256'",
    )


def test_templates_belong_to_account(ecr, ecr_mode):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])

    other = ecr_mode.client(access_key_id=OTHER_ACCOUNT)

    assert other.describe_repository_creation_templates()["repositoryCreationTemplates"] == []
    assert other.describe_repository_creation_templates()["registryId"] == OTHER_ACCOUNT


def test_templates_belong_to_region(ecr, ecr_mode):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])

    assert (
        ecr_mode.client(region="eu-west-1").describe_repository_creation_templates()["repositoryCreationTemplates"]
        == []
    )


# DescribeRepositoryCreationTemplates


def test_describe_templates_empty(ecr):
    response = ecr.describe_repository_creation_templates()

    assert response["registryId"] == ACCOUNT
    assert response["repositoryCreationTemplates"] == []
    assert "nextToken" not in response


def test_describe_templates_by_prefix(ecr):
    for prefix in ("prod", "dev", "ROOT"):
        ecr.create_repository_creation_template(prefix=prefix, appliedFor=["REPLICATION"])

    found = ecr.describe_repository_creation_templates(prefixes=["dev", "ROOT", "missing"])[
        "repositoryCreationTemplates"
    ]

    assert [template["prefix"] for template in found] == ["ROOT", "dev"]


def test_describe_templates_by_prefix_with_slash(ecr):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])

    found = ecr.describe_repository_creation_templates(prefixes=["prod/"])["repositoryCreationTemplates"]

    assert [template["prefix"] for template in found] == ["prod"]


def test_describe_templates_pages(ecr):
    names = [f"team-{index:02d}" for index in range(7)]
    for name in names:
        ecr.create_repository_creation_template(prefix=name, appliedFor=["REPLICATION"])

    # when: pages of three
    first = ecr.describe_repository_creation_templates(maxResults=3)
    second = ecr.describe_repository_creation_templates(maxResults=3, nextToken=first["nextToken"])
    third = ecr.describe_repository_creation_templates(maxResults=3, nextToken=second["nextToken"])

    # then
    pages = [first, second, third]
    assert [len(page["repositoryCreationTemplates"]) for page in pages] == [3, 3, 1]
    assert "nextToken" not in third
    assert [t["prefix"] for page in pages for t in page["repositoryCreationTemplates"]] == names


def test_describe_templates_paginator(ecr):
    for index in range(5):
        ecr.create_repository_creation_template(prefix=f"team-{index}", appliedFor=["REPLICATION"])

    paginator = ecr.get_paginator("describe_repository_creation_templates")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))

    assert len(pages) == 3
    assert sum(len(page["repositoryCreationTemplates"]) for page in pages) == 5


def test_describe_templates_max_results_too_large(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_repository_creation_templates(maxResults=1001)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'",
    )


def test_describe_templates_bad_token(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_repository_creation_templates(nextToken="not-a-token")

    assert error_of(raised)[0] == "InvalidParameterException"


# UpdateRepositoryCreationTemplate


def test_update_template_changes_named_members(ecr, ecr_mode):
    ecr.create_repository_creation_template(
        prefix="prod", appliedFor=["REPLICATION"], description="first", lifecyclePolicy=LIFECYCLE_POLICY
    )
    advance_clock(ecr_mode, 60)

    # when: only the mutability settings and appliedFor change
    updated = ecr.update_repository_creation_template(
        prefix="prod",
        appliedFor=["REPLICATION", "CREATE_ON_PUSH"],
        imageTagMutability="MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=EXCLUSION_FILTERS,
    )

    # then: the other members keep their values and updatedAt moves
    template = updated["repositoryCreationTemplate"]
    assert updated["registryId"] == ACCOUNT
    assert template["appliedFor"] == ["REPLICATION", "CREATE_ON_PUSH"]
    assert template["imageTagMutability"] == "MUTABLE_WITH_EXCLUSION"
    assert template["imageTagMutabilityExclusionFilters"] == EXCLUSION_FILTERS
    assert template["description"] == "first"
    assert template["lifecyclePolicy"] == LIFECYCLE_POLICY
    assert (template["updatedAt"] - template["createdAt"]).total_seconds() >= 60
    assert ecr.describe_repository_creation_templates()["repositoryCreationTemplates"][0] == template


def test_update_template_clears_with_empty_strings(ecr):
    ecr.create_repository_creation_template(
        prefix="prod",
        appliedFor=["REPLICATION"],
        description="first",
        lifecyclePolicy=LIFECYCLE_POLICY,
        repositoryPolicy=REPOSITORY_POLICY,
        customRoleArn=ROLE_ARN,
    )

    template = ecr.update_repository_creation_template(
        prefix="prod", description="", lifecyclePolicy="", repositoryPolicy="", customRoleArn=""
    )["repositoryCreationTemplate"]

    for cleared in ("description", "lifecyclePolicy", "repositoryPolicy", "customRoleArn"):
        assert cleared not in template


def test_update_template_leaving_exclusion_mode(ecr):
    ecr.create_repository_creation_template(
        prefix="prod",
        appliedFor=["REPLICATION"],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=EXCLUSION_FILTERS,
    )

    template = ecr.update_repository_creation_template(prefix="prod", imageTagMutability="IMMUTABLE")[
        "repositoryCreationTemplate"
    ]

    assert template["imageTagMutability"] == "IMMUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in template


def test_update_template_switching_exclusion_modes_keeps_filters(ecr):
    ecr.create_repository_creation_template(
        prefix="prod",
        appliedFor=["REPLICATION"],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=EXCLUSION_FILTERS,
    )

    template = ecr.update_repository_creation_template(prefix="prod", imageTagMutability="MUTABLE_WITH_EXCLUSION")[
        "repositoryCreationTemplate"
    ]

    assert template["imageTagMutabilityExclusionFilters"] == EXCLUSION_FILTERS


def test_update_template_filters_on_mutable_template(ecr):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])

    with pytest.raises(ClientError) as raised:
        ecr.update_repository_creation_template(prefix="prod", imageTagMutabilityExclusionFilters=EXCLUSION_FILTERS)

    assert error_of(raised)[0] == "InvalidParameterException"
    assert (
        ecr.describe_repository_creation_templates()["repositoryCreationTemplates"][0]["imageTagMutability"]
        == "MUTABLE"
    )


def test_update_missing_template(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.update_repository_creation_template(prefix="prod", description="new")

    assert error_of(raised)[0] == "TemplateNotFoundException"
    assert prefixes_of(ecr) == []


def test_update_template_invalid_lifecycle_policy_changes_nothing(ecr):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], description="first")

    with pytest.raises(ClientError) as raised:
        ecr.update_repository_creation_template(prefix="prod", description="second", lifecyclePolicy='{"rules": []}')

    assert error_of(raised)[0] == "InvalidParameterException"
    template = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"][0]
    assert template["description"] == "first"
    assert "lifecyclePolicy" not in template


def test_update_template_by_prefix_with_slash(ecr):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])

    template = ecr.update_repository_creation_template(prefix="prod/", description="new")["repositoryCreationTemplate"]

    assert template["prefix"] == "prod"
    assert template["description"] == "new"


# DeleteRepositoryCreationTemplate


def test_delete_template(ecr):
    created = ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], description="d")

    deleted = ecr.delete_repository_creation_template(prefix="prod")

    assert deleted["registryId"] == ACCOUNT
    assert deleted["repositoryCreationTemplate"] == created["repositoryCreationTemplate"]
    assert prefixes_of(ecr) == []


def test_delete_template_twice(ecr):
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])
    ecr.delete_repository_creation_template(prefix="prod/")

    with pytest.raises(ClientError) as raised:
        ecr.delete_repository_creation_template(prefix="prod")

    assert error_of(raised)[0] == "TemplateNotFoundException"


def test_delete_template_leaves_others(ecr):
    for prefix in ("prod", "prod/team", "ROOT"):
        ecr.create_repository_creation_template(prefix=prefix, appliedFor=["REPLICATION"])

    ecr.delete_repository_creation_template(prefix="prod")

    assert prefixes_of(ecr) == ["ROOT", "prod/team"]


# Templates applied to repositories that ECR creates


@pytest.fixture
def layered_templates(ecr):
    """ROOT, prod and prod/team templates, each for replication and pull through cache."""
    for prefix, mutability in (("ROOT", "MUTABLE"), ("prod", "IMMUTABLE"), ("prod/team", "IMMUTABLE")):
        ecr.create_repository_creation_template(
            prefix=prefix, appliedFor=["REPLICATION", "PULL_THROUGH_CACHE"], imageTagMutability=mutability
        )


@DECORATOR_ONLY
@pytest.mark.parametrize(
    ("repository_name", "expected_prefix"),
    [
        ("prod/team/app", "prod/team"),
        ("prod/app", "prod"),
        ("prod/teammate/app", "prod"),
        ("production/app", "ROOT"),
        ("prod", "ROOT"),
        ("app", "ROOT"),
    ],
)
def test_matching_template_longest_prefix(ecr_mode, layered_templates, repository_name, expected_prefix):
    registry = in_process_registry(ecr_mode)

    template = templates.matching_template(registry, repository_name, templates.REPLICATION)

    assert template.prefix == expected_prefix


@DECORATOR_ONLY
def test_matching_template_applied_for(ecr, ecr_mode):
    registry = in_process_registry(ecr_mode)
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"])
    ecr.create_repository_creation_template(prefix="ROOT", appliedFor=["PULL_THROUGH_CACHE"])

    assert templates.matching_template(registry, "prod/app", templates.REPLICATION).prefix == "prod"
    assert templates.matching_template(registry, "prod/app", templates.PULL_THROUGH_CACHE).prefix == "ROOT"
    assert templates.matching_template(registry, "prod/app", templates.CREATE_ON_PUSH) is None


@DECORATOR_ONLY
def test_matching_template_none(ecr_mode):
    registry = in_process_registry(ecr_mode)

    assert templates.matching_template(registry, "prod/app", templates.REPLICATION) is None
    assert templates.create_repository_settings(None) == {
        "image_tag_mutability": "MUTABLE",
        "image_tag_mutability_exclusion_filters": [],
        "encryption_configuration": {"encryptionType": "AES256"},
        "resource_tags": {},
        "repository_policy_text": None,
        "lifecycle_policy_text": None,
    }


@DECORATOR_ONLY
def test_repository_created_from_template(ecr, ecr_mode):
    # given: a template with every setting a repository takes from it
    registry = in_process_registry(ecr_mode)
    ecr.create_repository_creation_template(
        prefix="prod",
        appliedFor=["PULL_THROUGH_CACHE"],
        encryptionConfiguration={"encryptionType": "KMS", "kmsKey": KMS_KEY_ARN},
        resourceTags=[{"Key": "team", "Value": "platform"}],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=EXCLUSION_FILTERS,
        repositoryPolicy=REPOSITORY_POLICY,
        lifecyclePolicy=LIFECYCLE_POLICY,
        customRoleArn=ROLE_ARN,
    )

    # when: the backend creates a repository as a pull through cache would
    template = templates.matching_template(registry, "prod/app", templates.PULL_THROUGH_CACHE)
    settings = templates.create_repository_settings(template, registry)
    repository_policy = settings.pop("repository_policy_text")
    lifecycle_policy = settings.pop("lifecycle_policy_text")
    registry.create_repository("prod/app", **settings)
    lifecycle_policies.put_policy(registry, "prod/app", lifecycle_policy)

    # then: the API shows the template's settings on the new repository
    repository = ecr.describe_repositories(repositoryNames=["prod/app"])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repository["imageTagMutabilityExclusionFilters"] == EXCLUSION_FILTERS
    assert repository["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": KMS_KEY_ARN}
    assert ecr.get_lifecycle_policy(repositoryName="prod/app")["lifecyclePolicyText"] == LIFECYCLE_POLICY
    assert settings["resource_tags"] == {"team": "platform"}
    assert repository_policy == REPOSITORY_POLICY


@DECORATOR_ONLY
def test_template_kms_default_key(ecr, ecr_mode):
    # given: a template with KMS encryption that names no key
    registry = in_process_registry(ecr_mode)
    ecr.create_repository_creation_template(
        prefix="prod",
        appliedFor=["REPLICATION"],
        encryptionConfiguration={"encryptionType": "KMS"},
        customRoleArn=ROLE_ARN,
    )
    template = templates.matching_template(registry, "prod/app", templates.REPLICATION)

    # when
    settings = templates.create_repository_settings(template, registry)

    # then: the new repository reports the key that CreateRepository reports for KMS without a key
    created = ecr.create_repository(repositoryName="direct", encryptionConfiguration={"encryptionType": "KMS"})
    assert settings["encryption_configuration"] == created["repository"]["encryptionConfiguration"]


@DECORATOR_ONLY
def test_template_reserved_tag_fails_repository_creation(ecr, ecr_mode):
    # given: a tag key that repositories reject, because AWS reserves the `aws:` prefix
    registry = in_process_registry(ecr_mode)
    ecr.create_repository_creation_template(
        prefix="prod",
        appliedFor=["REPLICATION"],
        resourceTags=[{"Key": "aws:team", "Value": "x"}],
        customRoleArn=ROLE_ARN,
    )
    template = templates.matching_template(registry, "prod/app", templates.REPLICATION)

    with pytest.raises(InvalidTagParameterException):
        templates.create_repository_settings(template, registry)


@DECORATOR_ONLY
@pytest.mark.parametrize(
    "settings",
    [
        {"resourceTags": [{"Key": "team", "Value": "platform"}]},
        {"encryptionConfiguration": {"encryptionType": "KMS"}},
    ],
)
def test_template_without_role_fails_repository_creation(ecr, ecr_mode, settings):
    # given: the user guide says creation fails without a role when a template sets tags or KMS
    registry = in_process_registry(ecr_mode)
    ecr.create_repository_creation_template(prefix="prod", appliedFor=["REPLICATION"], **settings)
    template = templates.matching_template(registry, "prod/app", templates.REPLICATION)

    with pytest.raises(templates.TemplateNotApplicable):
        templates.create_repository_settings(template)
