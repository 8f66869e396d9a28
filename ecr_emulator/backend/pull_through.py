"""Pull through cache rules: which upstream registry a repository namespace caches, and how.

A rule maps the repositories under `ecrRepositoryPrefix` (with an implied trailing `/`, or every
repository for `ROOT`) to an upstream registry. Upstreams authenticate in one of three ways, as
the ECR user guide page "Sync an upstream registry with an Amazon ECR private registry" lists:

* none: Amazon ECR Public, the Kubernetes registry and Quay;
* a Secrets Manager secret whose name starts with `ecr-pullthroughcache/`, in the rule's own
  account and Region: Docker Hub, GitHub, GitLab, Azure and Chainguard;
* an IAM role (`customRoleArn`), needed for an Amazon ECR upstream in another account.

Secrets are read in-process from moto's Secrets Manager backend of the rule's account and
Region. This module keeps the rules and checks them; fetching images from an upstream registry
is not part of it.
"""

import dataclasses
import datetime
import json
import logging
import re

from ecr_emulator.api.errors import (
    ECRError,
    InvalidParameterException,
    LimitExceededException,
    PullThroughCacheRuleAlreadyExistsException,
    PullThroughCacheRuleNotFoundException,
    SecretNotFoundException,
    UnableToAccessSecretException,
    UnableToDecryptSecretValueException,
    UnsupportedUpstreamRegistryException,
    ValidationException,
)
from ecr_emulator.backend.registry import Registry
from ecr_emulator.backend.templates import prefix_key
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock

LOG = logging.getLogger(__name__)

ROOT = "ROOT"

# ECR's quota "Pull through cache rules per registry" (not adjustable).
MAX_RULES = 50

NO_AUTHENTICATION = "none"
SECRET = "secret"
IAM_ROLE = "role"


@dataclasses.dataclass(frozen=True)
class Upstream:
    """An UpstreamRegistry value of the model: the registry URLs it accepts and how it authenticates."""

    name: str
    url: re.Pattern
    authentication: str


def _host(host: str) -> re.Pattern:
    return re.compile(re.escape(host))


# The upstreamRegistryUrl syntax of each upstream, from the CreatePullThroughCacheRule API
# reference; Chainguard's `cgr.dev` is from the user guide.
UPSTREAMS = {
    upstream.name: upstream
    for upstream in (
        Upstream("ecr", re.compile(r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com"), IAM_ROLE),
        Upstream("ecr-public", _host("public.ecr.aws"), NO_AUTHENTICATION),
        Upstream("k8s", _host("registry.k8s.io"), NO_AUTHENTICATION),
        Upstream("quay", _host("quay.io"), NO_AUTHENTICATION),
        Upstream("docker-hub", _host("registry-1.docker.io"), SECRET),
        Upstream("github-container-registry", _host("ghcr.io"), SECRET),
        Upstream("gitlab-container-registry", _host("registry.gitlab.com"), SECRET),
        Upstream("azure-container-registry", re.compile(r"[a-zA-Z0-9-]+\.azurecr\.io"), SECRET),
        Upstream("chainguard", _host("cgr.dev"), SECRET),
    )
}

SECRET_ARN = re.compile(r"arn:(aws[\w-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}")

# Secrets Manager's own key, the only one ECR can decrypt a pull through cache secret with.
DEFAULT_SECRETS_KEY = "alias/aws/secretsmanager"

# Keys of the secret's JSON that the user guide asks for, for every upstream that takes a secret.
SECRET_KEYS = ("username", "accessToken")


@dataclasses.dataclass
class PullThroughCacheRule:
    ecr_repository_prefix: str
    upstream_registry_url: str
    upstream_registry: str
    registry_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    credential_arn: str | None = None
    custom_role_arn: str | None = None
    upstream_repository_prefix: str = ROOT

    @property
    def key(self) -> str:
        return prefix_key(self.ecr_repository_prefix)


@dataclasses.dataclass
class RuleState:
    # prefix_key(ecrRepositoryPrefix) -> rule
    rules: dict[str, PullThroughCacheRule] = dataclasses.field(default_factory=dict)


def rules_of(registry: Registry) -> RuleState:
    return registry.feature_state("pull_through_cache", RuleState)




# Operations


def create_rule(
    registry: Registry,
    ecr_repository_prefix: str,
    upstream_registry_url: str,
    upstream_registry: str | None = None,
    credential_arn: str | None = None,
    custom_role_arn: str | None = None,
    upstream_repository_prefix: str | None = None,
) -> PullThroughCacheRule:
    upstream = resolve_upstream(upstream_registry_url, upstream_registry)
    if upstream_repository_prefix is not None and upstream_repository_prefix != ROOT and ecr_repository_prefix == ROOT:
        raise ValidationException(
            "The upstreamRepositoryPrefix can only be specified when the ecrRepositoryPrefix is not ROOT"
        )
    _check_credential_use(upstream, credential_arn)
    _check_role_use(registry, upstream, upstream_registry_url, custom_role_arn)
    if credential_arn is not None:
        check_secret(registry, credential_arn)

    now = clock.now()
    rule = PullThroughCacheRule(
        ecr_repository_prefix=ecr_repository_prefix,
        upstream_registry_url=upstream_registry_url,
        upstream_registry=upstream.name,
        registry_id=registry.account_id,
        created_at=now,
        updated_at=now,
        credential_arn=credential_arn,
        custom_role_arn=custom_role_arn,
        upstream_repository_prefix=upstream_repository_prefix or ROOT,
    )
    with STATE_LOCK:
        rules = rules_of(registry).rules
        if rule.key in rules:
            raise PullThroughCacheRuleAlreadyExistsException(
                f"A pull through cache rule with prefix '{ecr_repository_prefix}' already exists in the registry "
                f"with id '{registry.account_id}'"
            )
        if len(rules) >= MAX_RULES:
            raise LimitExceededException(
                f"The maximum number of pull through cache rules ({MAX_RULES}) in the registry with id "
                f"'{registry.account_id}' has been reached"
            )
        rules[rule.key] = rule
    LOG.info(
        "pull through cache rule %s -> %s created in %s/%s",
        ecr_repository_prefix,
        upstream_registry_url,
        registry.account_id,
        registry.region_name,
    )
    return rule


def get_rule(registry: Registry, ecr_repository_prefix: str) -> PullThroughCacheRule:
    rule = rules_of(registry).rules.get(prefix_key(ecr_repository_prefix))
    if rule is None:
        raise PullThroughCacheRuleNotFoundException(
            f"The pull through cache rule with prefix '{ecr_repository_prefix}' does not exist in the registry "
            f"with id '{registry.account_id}'"
        )
    return rule


def list_rules(registry: Registry, ecr_repository_prefixes: list[str] | None = None) -> list[PullThroughCacheRule]:
    """Return the rules ordered by prefix, or with `ecr_repository_prefixes` exactly those rules.

    Raises PullThroughCacheRuleNotFoundException when a named prefix has no rule.
    """
    if ecr_repository_prefixes:
        found = {rule.key: rule for rule in (get_rule(registry, prefix) for prefix in ecr_repository_prefixes)}
        selected = list(found.values())
    else:
        selected = list(rules_of(registry).rules.values())
    return sorted(selected, key=lambda rule: rule.ecr_repository_prefix)


def update_rule(
    registry: Registry,
    ecr_repository_prefix: str,
    credential_arn: str | None = None,
    custom_role_arn: str | None = None,
) -> PullThroughCacheRule:
    """Change the secret or the role of a rule, the only members that UpdatePullThroughCacheRule takes."""
    rule = get_rule(registry, ecr_repository_prefix)
    if credential_arn is None and custom_role_arn is None:
        raise ValidationException("Specify a credentialArn or a customRoleArn to update the pull through cache rule")
    upstream = UPSTREAMS[rule.upstream_registry]
    if credential_arn is not None:
        _check_credential_use(upstream, credential_arn)
    if custom_role_arn is not None:
        _check_role_use(registry, upstream, rule.upstream_registry_url, custom_role_arn)
    if credential_arn is not None:
        check_secret(registry, credential_arn)

    with STATE_LOCK:
        rule = get_rule(registry, ecr_repository_prefix)
        if credential_arn is not None:
            rule.credential_arn = credential_arn
        if custom_role_arn is not None:
            rule.custom_role_arn = custom_role_arn
        rule.updated_at = clock.now()
    LOG.info(
        "pull through cache rule %s updated in %s/%s", ecr_repository_prefix, registry.account_id, registry.region_name
    )
    return rule


def delete_rule(registry: Registry, ecr_repository_prefix: str) -> PullThroughCacheRule:
    with STATE_LOCK:
        rule = get_rule(registry, ecr_repository_prefix)
        del rules_of(registry).rules[rule.key]
    LOG.info(
        "pull through cache rule %s deleted in %s/%s", ecr_repository_prefix, registry.account_id, registry.region_name
    )
    return rule


def validate_rule(registry: Registry, ecr_repository_prefix: str) -> tuple[PullThroughCacheRule, str | None]:
    """Run the checks of ECR that need no upstream registry, and return the rule and its failure or None.

    For a rule with a secret: the secret exists in the rule's account and Region, is not marked
    for deletion, is encrypted with Secrets Manager's own key, and contains a JSON object with
    the string members `username` and `accessToken`. Other rules have nothing to check here.
    """
    rule = get_rule(registry, ecr_repository_prefix)
    if rule.credential_arn is None:
        return rule, None
    try:
        check_secret(registry, rule.credential_arn)
        failure = _secret_content_problem(registry, rule.credential_arn)
    except ECRError as error:
        failure = error.message
    if failure:
        LOG.info("pull through cache rule %s failed validation: %s", ecr_repository_prefix, failure)
    return rule, failure


# Lookups for the pull through cache itself


def rule_for_repository(registry: Registry, repository_name: str) -> PullThroughCacheRule | None:
    """Return the rule whose prefix, followed by `/`, starts `repository_name`; the longest prefix wins.

    A ROOT rule applies to every name that no other rule matches.
    """
    best, root = None, None
    for rule in rules_of(registry).rules.values():
        if rule.key == ROOT:
            root = rule
        elif repository_name.startswith(rule.key + "/") and (best is None or len(rule.key) > len(best.key)):
            best = rule
    return best or root


def upstream_repository_name(rule: PullThroughCacheRule, repository_name: str) -> str:
    """Map a cache repository name to the upstream repository it caches.

    With the prefixes `my-app` and `upstream-app`, `my-app/image1` maps to `upstream-app/image1`;
    with `ecr-public` and ROOT, `ecr-public/my-app/image1` maps to `my-app/image1`.
    """
    path = repository_name if rule.key == ROOT else repository_name[len(rule.key) + 1 :]
    upstream_prefix = prefix_key(rule.upstream_repository_prefix)
    return path if upstream_prefix == ROOT else f"{upstream_prefix}/{path}"


# Checks


def resolve_upstream(url: str, name: str | None) -> Upstream:
    """Return the upstream that `url` names, checking it against the upstreamRegistry `name` if given."""
    candidates = [UPSTREAMS[name]] if name else UPSTREAMS.values()
    for upstream in candidates:
        if upstream.url.fullmatch(url):
            return upstream
    raise UnsupportedUpstreamRegistryException(
        f"The upstream registry URL {url} is invalid. Specify a valid upstream registry URL and try again"
    )


def _check_credential_use(upstream: Upstream, credential_arn: str | None) -> None:
    # The message for a missing secret is ECR's. The message for a rejected one is ours.
    if upstream.authentication == SECRET and credential_arn is None:
        raise UnsupportedUpstreamRegistryException(
            "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN and try again"
        )
    if upstream.authentication != SECRET and credential_arn is not None:
        raise UnsupportedUpstreamRegistryException(
            f"The upstream registry {upstream.name} does not authenticate with a Secrets Manager secret. "
            "Remove the credentialArn and try again"
        )


def _check_role_use(registry: Registry, upstream: Upstream, url: str, custom_role_arn: str | None) -> None:
    # NOTE: ECR does not document which error each of these cases returns. The rules themselves
    # are the API reference's. The role is for Amazon ECR upstreams, must be in the registry's own
    # account, and is needed when the upstream registry belongs to another account.
    if custom_role_arn is not None and upstream.authentication != IAM_ROLE:
        raise ValidationException("The customRoleArn can only be specified for an upstream Amazon ECR registry")
    if custom_role_arn is not None:
        match = ROLE_ARN.fullmatch(custom_role_arn)
        if match is None:
            raise InvalidParameterException(
                f"Invalid parameter at 'customRoleArn' failed to satisfy constraint: "
                f"'The customRoleArn '{custom_role_arn}' is not a valid IAM role ARN'"
            )
        if match.group(1) != registry.account_id:
            raise InvalidParameterException(
                f"Invalid parameter at 'customRoleArn' failed to satisfy constraint: "
                f"'The customRoleArn '{custom_role_arn}' must be a role in the registry's account "
                f"'{registry.account_id}''"
            )
    if upstream.authentication == IAM_ROLE and custom_role_arn is None:
        upstream_account = upstream.url.fullmatch(url).group(1)
        if upstream_account != registry.account_id:
            raise ValidationException(
                f"A customRoleArn is required to pull through cache from the Amazon ECR registry of account "
                f"'{upstream_account}'"
            )


def check_secret(registry: Registry, credential_arn: str) -> None:
    """Raise as ECR does when it cannot use the secret: absent, out of reach, or not decryptable."""
    match = SECRET_ARN.fullmatch(credential_arn)
    if match is None:
        raise SecretNotFoundException(
            f"The secret '{credential_arn}' specified in the pull through cache rule was not found"
        )
    partition, region, account_id, _ = match.groups()
    # NOTE: the user guide requires the rule's account and Region. Reporting another one as an
    # access failure is our reading of UnableToAccessSecretException.
    if (partition, region, account_id) != (registry.partition, registry.region_name, registry.account_id):
        raise UnableToAccessSecretException(
            f"The secret '{credential_arn}' is unable to be accessed. The secret must be in the account "
            f"'{registry.account_id}' and the Region '{registry.region_name}' of the pull through cache rule"
        )

    secret = _find_secret(registry, credential_arn)
    if secret is None:
        raise SecretNotFoundException(
            f"The secret '{credential_arn}' specified in the pull through cache rule was not found"
        )
    if secret.is_deleted():
        raise UnableToAccessSecretException(
            f"The secret '{credential_arn}' is unable to be accessed because it is scheduled for deletion"
        )
    key = getattr(secret, "kms_key_id", None)
    if key not in (None, DEFAULT_SECRETS_KEY):
        raise UnableToDecryptSecretValueException(
            f"The secret '{credential_arn}' is accessible but is unable to be decrypted. It must be encrypted with "
            f"the {DEFAULT_SECRETS_KEY} key, not '{key}'"
        )


def _find_secret(registry: Registry, credential_arn: str):
    """Return moto's secret named by a full or partial ARN in the registry's account and Region, or None."""
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        backend = secretsmanager_backends[registry.account_id][registry.region_name]
    except KeyError:  # moto's Secrets Manager has no backend, and so no secrets, for this Region
        return None
    return backend.secrets.get(credential_arn)


def _secret_content_problem(registry: Registry, credential_arn: str) -> str | None:
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[registry.account_id][registry.region_name]
    try:
        value = backend.get_secret_value(credential_arn, None, None)
    except Exception as error:  # moto raises one class per Secrets Manager error, and each means "no value"
        LOG.debug("secret %s has no readable value: %s", credential_arn, error)
        return f"The secret '{credential_arn}' has no secret value"

    try:
        document = json.loads(value.get("SecretString") or "")
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return f"The secret '{credential_arn}' is not a JSON object with the keys {' and '.join(SECRET_KEYS)}"
    missing = [key for key in SECRET_KEYS if not isinstance(document.get(key), str) or not document[key]]
    if missing:
        return f"The secret '{credential_arn}' has no {' and no '.join(missing)}"
    return None
