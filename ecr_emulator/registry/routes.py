"""The /v2/ URL map. Repository names contain slashes, so they get a converter of their own."""

from werkzeug.routing import BaseConverter, Map, Rule

BASE = "base"
CATALOG = "catalog"
TAGS = "tags"
MANIFEST = "manifest"
BLOB = "blob"
UPLOADS = "uploads"
UPLOAD = "upload"
REFERRERS = "referrers"
LAYER_URL = "layer_url"


class RepositoryNameConverter(BaseConverter):
    """One or more path segments; the handler checks the name against ECR's grammar and answers NAME_INVALID."""

    # Empty segments match too (a//b), so that they get NAME_INVALID rather than a redirect.
    regex = r"[^/]*(?:/[^/]*)*?"
    weight = 200


URL_MAP = Map(
    [
        Rule("/v2/", endpoint=BASE),
        Rule("/v2/_catalog", endpoint=CATALOG),
        Rule("/v2/<repository:name>/tags/list", endpoint=TAGS),
        Rule("/v2/<repository:name>/manifests/<reference>", endpoint=MANIFEST),
        Rule("/v2/<repository:name>/blobs/uploads/", endpoint=UPLOADS),
        Rule("/v2/<repository:name>/blobs/uploads/<upload_id>", endpoint=UPLOAD),
        Rule("/v2/<repository:name>/blobs/<digest>", endpoint=BLOB),
        Rule("/v2/<repository:name>/referrers/<digest>", endpoint=REFERRERS),
        Rule("/_emulator/layers/<account_id>/<region>/<repository:name>/blobs/<digest>", endpoint=LAYER_URL),
    ],
    converters={"repository": RepositoryNameConverter},
    strict_slashes=False,
    merge_slashes=False,
)
