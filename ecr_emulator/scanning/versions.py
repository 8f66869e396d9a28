"""Version order of the package managers whose packages basic scanning matches: dpkg and apk.

Debian and Ubuntu versions use python-debian's implementation of dpkg's order (epoch, upstream
version with `~` sorting first, Debian revision). Alpine versions follow apk's order, implemented
in `ApkVersion`.
"""

import functools
import re

from debian.debian_support import Version as DebianVersion

DPKG = "dpkg"
APK = "apk"


class InvalidVersion(ValueError):
    """The string is not a version of the package manager's syntax."""


def parse_version(manager: str, text: str):
    """Return an orderable key for `text` in the version order of `manager` (`dpkg` or `apk`).

    Raises InvalidVersion when the string is not a version of that package manager.
    """
    if manager == DPKG:
        try:
            return DebianVersion(text)
        except ValueError as error:
            raise InvalidVersion(f"invalid dpkg version {text!r}: {error}") from None
    if manager == APK:
        return ApkVersion(text)
    raise ValueError(f"unknown package manager {manager!r}")


# apk's pre-release suffixes sort before a version without suffix, and its post-release suffixes
# after it, in the order Gentoo also uses.
_PRE_RELEASE_SUFFIXES = ("alpha", "beta", "pre", "rc")
_POST_RELEASE_SUFFIXES = ("cvs", "svn", "git", "hg", "p")
_SUFFIX_RANKS = {name: rank for rank, name in enumerate(_PRE_RELEASE_SUFFIXES)}
_NO_SUFFIX_RANK = len(_PRE_RELEASE_SUFFIXES)
_SUFFIX_RANKS.update({name: _NO_SUFFIX_RANK + 1 + rank for rank, name in enumerate(_POST_RELEASE_SUFFIXES)})

_APK_VERSION = re.compile(
    r"^(?P<numbers>\d+(?:\.\d+)*)"
    r"(?P<letter>[a-z]?)"
    r"(?P<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)"
    r"(?:~(?P<hash>[0-9a-f]+))?"
    r"(?:-r(?P<revision>\d+))?$"
)
_APK_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")


@functools.total_ordering
class ApkVersion:
    """An Alpine package version such as `1.36.1-r15`, `3.0.12_rc1-r0` or `1.2.3a_p2-r1`.

    Order: the dot-separated numbers, then the letter, then the suffixes (`_alpha` < `_beta` <
    `_pre` < `_rc` < no suffix < `_cvs` < `_svn` < `_git` < `_hg` < `_p`), then the `-r` revision.
    A number after the first that starts with `0` compares as a decimal fraction, as apk does, so
    `1.01` < `1.1`.
    """

    def __init__(self, text: str):
        match = _APK_VERSION.match(text)
        if match is None:
            raise InvalidVersion(f"invalid apk version {text!r}")
        self.text = text
        self._numbers = match["numbers"].split(".")
        self._letter = match["letter"]
        self._suffixes = [(_SUFFIX_RANKS[name], int(number or 0)) for name, number in _APK_SUFFIX.findall(match["suffixes"])]
        self._hash = match["hash"] or ""
        self._revision = int(match["revision"] or 0)

    def _compare(self, other: "ApkVersion") -> int:
        for comparison in (
            _compare_numbers(self._numbers, other._numbers),
            _compare(self._letter, other._letter),
            _compare_suffixes(self._suffixes, other._suffixes),
            _compare(self._hash, other._hash),
            _compare(self._revision, other._revision),
        ):
            if comparison:
                return comparison
        return 0

    def __eq__(self, other) -> bool:
        if not isinstance(other, ApkVersion):
            return NotImplemented
        return self._compare(other) == 0

    def __lt__(self, other) -> bool:
        if not isinstance(other, ApkVersion):
            return NotImplemented
        return self._compare(other) < 0

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"ApkVersion({self.text!r})"

    def __str__(self) -> str:
        return self.text


def _compare(left, right) -> int:
    return (left > right) - (left < right)


def _compare_numbers(left: list[str], right: list[str]) -> int:
    for index, (mine, theirs) in enumerate(zip(left, right)):
        if index > 0 and (mine.startswith("0") or theirs.startswith("0")):
            # Leading zeros: compare as the digits of a decimal fraction.
            comparison = _compare(mine.rstrip("0"), theirs.rstrip("0"))
        else:
            comparison = _compare(int(mine), int(theirs))
        if comparison:
            return comparison
    # With equal leading numbers, the version with more numbers is the later one: 1.2.1 > 1.2.
    return _compare(len(left), len(right))


def _compare_suffixes(left: list[tuple[int, int]], right: list[tuple[int, int]]) -> int:
    for index in range(max(len(left), len(right))):
        mine = left[index] if index < len(left) else (_NO_SUFFIX_RANK, 0)
        theirs = right[index] if index < len(right) else (_NO_SUFFIX_RANK, 0)
        comparison = _compare(mine, theirs)
        if comparison:
            return comparison
    return 0
