"""Seed a RegistryStack with real images, and read registry state out of band.

This client is deliberately separate from the collection's own client, so
seeding and checks never depend on the code under test. It uses ``requests``
with the simplest auth that works in each mode: Basic as admin, or a Bearer
token fetched as admin for ``pull,push,delete``.

Every call goes through the stack's counting proxy. Call
``stack.proxy.reset()`` after seeding so a test counts only its module's requests.
"""

import datetime
import gzip
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_MEDIA_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)

# Config and layer media types that go with each image manifest media type.
_PART_MEDIA_TYPES = {
    OCI_MANIFEST: ("application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"),
    DOCKER_MANIFEST: (
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ),
}
_INDEX_FOR_IMAGE = {OCI_INDEX: OCI_MANIFEST, DOCKER_MANIFEST_LIST: DOCKER_MANIFEST}

REQUEST_TIMEOUT = 30


class SeedError(RuntimeError):
    """The registry rejected a seeding request."""


@dataclass(frozen=True)
class Image:
    """A manifest pushed by this module (an image, or an index when ``children`` is set)."""

    digest: str
    media_type: str
    manifest_bytes: bytes
    config_digest: str | None = None
    layer_digests: tuple = ()
    platform: dict | None = None
    children: tuple = ()

    @property
    def size(self):
        return len(self.manifest_bytes)

    def descriptor(self):
        """Return the OCI descriptor that points at this manifest."""
        document = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            document["platform"] = dict(self.platform)
        return document


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class AdminClient:
    """A requests session authenticated as admin for one repository, for seeding and checks."""

    def __init__(self, stack, repository):
        self.base = "%s/v2/%s" % (stack.url, repository)
        self.session = requests.Session()
        if stack.mode == "basic":
            self.session.auth = stack.admin
        elif stack.mode == "token":
            response = self.session.get(
                stack.url + "/token",
                params={"service": stack.token_service.service, "scope": "repository:%s:pull,push,delete" % repository},
                auth=stack.admin,
                timeout=REQUEST_TIMEOUT,
            )
            _check(response, 200)
            self.session.headers["Authorization"] = "Bearer " + response.json()["token"]

    def request(self, method, path_or_url, **kwargs):
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        return self.session.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _check(response, *expected):
    if response.status_code not in expected:
        raise SeedError(
            "%s %s returned %d, expected %s: %s"
            % (response.request.method, response.url, response.status_code, expected, response.text[:500])
        )
    return response


def _upload_blob(client, data):
    """Upload ``data`` with one POST and one monolithic PUT, and return its digest."""
    digest = sha256_digest(data)
    started = _check(client.request("POST", "/blobs/uploads/"), 202)
    location = urljoin(started.url, started.headers["Location"])
    _check(
        client.request(
            "PUT", location, params={"digest": digest}, data=data,
            headers={"Content-Type": "application/octet-stream"},
        ),
        201,
    )
    return digest


def _put_manifest(client, media_type, manifest_bytes, tags):
    """PUT the manifest under each tag, or by digest when ``tags`` is empty."""
    digest = sha256_digest(manifest_bytes)
    for reference in list(tags) or [digest]:
        response = _check(
            client.request("PUT", "/manifests/" + reference, data=manifest_bytes, headers={"Content-Type": media_type}),
            201,
        )
        if response.headers.get("Docker-Content-Digest") != digest:
            raise SeedError(
                "registry stored %s as %s, expected %s"
                % (reference, response.headers.get("Docker-Content-Digest"), digest)
            )
    return digest


def _layer_bytes(rng, index, size):
    """Return one gzip'd tar layer holding a single file of ``size`` random bytes."""
    payload = rng.randbytes(size)
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        member = tarfile.TarInfo("layer-%d.bin" % index)
        member.size = len(payload)
        member.mtime = 0
        archive.addfile(member, io.BytesIO(payload))
    tar_bytes = tar_buffer.getvalue()
    return tar_bytes, gzip.compress(tar_bytes, mtime=0)


def _as_tags(tags):
    return [tags] if isinstance(tags, str) else list(tags or ())


def _created_text(created):
    if created is None:
        created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    if isinstance(created, datetime.datetime):
        return created.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return created


def push_blob(stack, repository, data):
    """Upload ``data`` as a blob of ``repository`` and return its digest."""
    with AdminClient(stack, repository) as client:
        return _upload_blob(client, data)


def push_image(stack, repository, tags, *, layers=1, seed=None, media_type=OCI_MANIFEST,
               architecture="amd64", os="linux", created=None, layer_size=1024):
    """Push a complete image (config, ``layers`` gzip'd tar layers, manifest) and tag it.

    ``tags`` is a tag, a list of tags, or empty to push by digest only.
    ``media_type`` is OCI_MANIFEST or DOCKER_MANIFEST. ``created`` is a datetime
    or an RFC 3339 string and defaults to now. Layer bytes come from
    ``random.Random(seed)``, so the same seed and ``created`` give the same digests.
    """
    if media_type not in _PART_MEDIA_TYPES:
        raise ValueError("media_type must be %s or %s, got %r" % (OCI_MANIFEST, DOCKER_MANIFEST, media_type))
    config_media_type, layer_media_type = _PART_MEDIA_TYPES[media_type]
    rng = random.Random(seed)
    created_text = _created_text(created)

    with AdminClient(stack, repository) as client:
        layer_descriptors = []
        diff_ids = []
        for index in range(layers):
            tar_bytes, compressed = _layer_bytes(rng, index, layer_size)
            diff_ids.append(sha256_digest(tar_bytes))
            layer_descriptors.append(
                {"mediaType": layer_media_type, "digest": _upload_blob(client, compressed), "size": len(compressed)}
            )
        config_bytes = json.dumps(
            {
                "created": created_text,
                "architecture": architecture,
                "os": os,
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
                "history": [{"created": created_text, "created_by": "tests.support.images"}] * layers,
            },
            sort_keys=True,
        ).encode()
        config_digest = _upload_blob(client, config_bytes)
        manifest_bytes = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media_type,
                "config": {"mediaType": config_media_type, "digest": config_digest, "size": len(config_bytes)},
                "layers": layer_descriptors,
            },
            indent=3,
        ).encode()
        digest = _put_manifest(client, media_type, manifest_bytes, _as_tags(tags))

    return Image(
        digest=digest,
        media_type=media_type,
        manifest_bytes=manifest_bytes,
        config_digest=config_digest,
        layer_digests=tuple(layer["digest"] for layer in layer_descriptors),
        platform={"architecture": architecture, "os": os},
    )


def push_index(stack, repository, tags, children, *, media_type=OCI_INDEX):
    """Push a multi-platform index (OCI_INDEX or DOCKER_MANIFEST_LIST) of ``children``.

    The children must already be in ``repository``: push them with
    ``push_image(..., tags=[])`` and distinct ``architecture`` values.
    """
    if media_type not in _INDEX_FOR_IMAGE:
        raise ValueError("media_type must be %s or %s, got %r" % (OCI_INDEX, DOCKER_MANIFEST_LIST, media_type))
    manifest_bytes = json.dumps(
        {"schemaVersion": 2, "mediaType": media_type, "manifests": [child.descriptor() for child in children]},
        indent=3,
    ).encode()
    with AdminClient(stack, repository) as client:
        digest = _put_manifest(client, media_type, manifest_bytes, _as_tags(tags))
    return Image(digest=digest, media_type=media_type, manifest_bytes=manifest_bytes, children=tuple(children))


def manifest_status(stack, repository, reference):
    """Return the status code of HEAD on the manifest ``reference`` (tag or digest)."""
    with AdminClient(stack, repository) as client:
        return client.request("HEAD", "/manifests/" + reference, headers={"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}).status_code


def blob_status(stack, repository, digest):
    """Return the status code of HEAD on the blob ``digest``."""
    with AdminClient(stack, repository) as client:
        return client.request("HEAD", "/blobs/" + digest).status_code


def tag_list(stack, repository):
    """Return the repository's tags in registry order, or [] when it has none.

    Distribution 2.8.2 returns ``{"tags": null}`` once every tag is deleted, and
    404 NAME_UNKNOWN for a repository that was never pushed.
    """
    with AdminClient(stack, repository) as client:
        response = _check(client.request("GET", "/tags/list"), 200, 404)
    if response.status_code == 404:
        codes = [error.get("code") for error in response.json().get("errors", [])]
        if codes != ["NAME_UNKNOWN"]:
            raise SeedError("GET tags/list returned 404 with errors %s" % codes)
        return []
    return response.json().get("tags") or []
