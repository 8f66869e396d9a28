"""CVSS v2 and v3 base scores from their vector strings, and the NVD severity rating of a score.

The formulas and metric weights are those FIRST publishes for CVSS v2 and v3.1, and the tests
check them against well-known scores. CVSS v4 vectors are not scored, because a v4 score comes
from a lookup table of macro vectors that this module does not carry.
"""

import decimal
import math


class InvalidVector(ValueError):
    """The string is not a complete CVSS base vector of the expected version."""


_V3_WEIGHTS = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges Required weighs more when the scope changes.
_V3_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}

_V2_WEIGHTS = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}


def _metrics(vector: str) -> dict[str, str]:
    metrics = {}
    for part in vector.split("/"):
        name, separator, value = part.partition(":")
        if not separator or not name or not value:
            raise InvalidVector(f"invalid CVSS metric {part!r} in {vector!r}")
        metrics[name] = value
    return metrics


def v3_base_score(vector: str) -> float:
    """Return the base score of a CVSS v3.0 or v3.1 vector such as `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`."""
    metrics = _metrics(vector)
    if metrics.pop("CVSS", None) not in ("3.0", "3.1"):
        raise InvalidVector(f"not a CVSS v3 vector: {vector!r}")
    try:
        scope = metrics["S"]
        privileges = _V3_PRIVILEGES[scope][metrics["PR"]]
        weights = {name: _V3_WEIGHTS[name][metrics[name]] for name in _V3_WEIGHTS}
    except KeyError as missing:
        raise InvalidVector(f"missing or invalid CVSS v3 base metric {missing} in {vector!r}") from None

    impact_subscore = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    if scope == "U":
        impact = 6.42 * impact_subscore
    else:
        impact = 7.52 * (impact_subscore - 0.029) - 3.25 * (impact_subscore - 0.02) ** 15
    exploitability = 8.22 * weights["AV"] * weights["AC"] * privileges * weights["UI"]

    if impact <= 0:
        return 0.0
    if scope == "U":
        return _round_up(min(impact + exploitability, 10))
    return _round_up(min(1.08 * (impact + exploitability), 10))


def _round_up(value: float) -> float:
    """Round up to one decimal as CVSS v3.1 does, so that 4.000000001 from float error stays 4.0."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10


def v2_base_score(vector: str) -> float:
    """Return the base score of a CVSS v2 vector such as `AV:N/AC:L/Au:N/C:P/I:P/A:P`."""
    metrics = _metrics(vector.removeprefix("(").removesuffix(")"))
    metrics.pop("CVSS", None)
    try:
        weights = {name: _V2_WEIGHTS[name][metrics[name]] for name in _V2_WEIGHTS}
    except KeyError as missing:
        raise InvalidVector(f"missing or invalid CVSS v2 base metric {missing} in {vector!r}") from None

    impact = 10.41 * (1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"]))
    exploitability = 20 * weights["AV"] * weights["AC"] * weights["Au"]
    impact_factor = 0 if impact == 0 else 1.176
    score = (0.6 * impact + 0.4 * exploitability - 1.5) * impact_factor
    # The v2 guide rounds to one decimal, half up.
    return float(decimal.Decimal(str(score)).quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP))


def v3_severity(score: float) -> str:
    """Return ECR's severity for a CVSS v3 score, after the NVD v3 ratings (NVD's None is INFORMATIONAL here)."""
    if score == 0:
        return "INFORMATIONAL"
    if score < 4:
        return "LOW"
    if score < 7:
        return "MEDIUM"
    if score < 9:
        return "HIGH"
    return "CRITICAL"


def v2_severity(score: float) -> str:
    """Return ECR's severity for a CVSS v2 score, after the NVD v2 ratings (Low, Medium, High)."""
    if score < 4:
        return "LOW"
    if score < 7:
        return "MEDIUM"
    return "HIGH"
