"""Registry-wide settings of one account in one region: account settings and scanning configuration.

Other feature modules read these through the functions here, never through the stored dicts.
"""

import dataclasses

from ecr_emulator.backend.registry import Registry

# The values a registry has before PutAccountSetting changes them.
DEFAULT_ACCOUNT_SETTINGS = {
    "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE",
    "REGISTRY_POLICY_SCOPE": "V2",
    "BLOB_MOUNTING": "DISABLED",
}


@dataclasses.dataclass
class RegistrySettings:
    account_settings: dict[str, str] = dataclasses.field(default_factory=lambda: dict(DEFAULT_ACCOUNT_SETTINGS))
    scanning_configuration: dict = dataclasses.field(default_factory=lambda: {"scanType": "BASIC", "rules": []})


def settings_of(registry: Registry) -> RegistrySettings:
    return registry.feature_state("settings", RegistrySettings)


def get_account_setting(registry: Registry, name: str) -> str:
    return settings_of(registry).account_settings[name]


def scanning_configuration(registry: Registry) -> dict:
    """Return the registry scanning configuration: `{"scanType": "BASIC"|"ENHANCED", "rules": [...]}`."""
    return settings_of(registry).scanning_configuration
