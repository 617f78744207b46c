"""Push referrers (signature- and SBOM-like artifacts) to a RegistryStack.

A referrer is an OCI image manifest with ``artifactType`` and a ``subject``
descriptor that names another manifest. Distribution 2.8.2 has no referrers
API, so ``push_referrers_index`` also writes what a client pushes there
instead: an image index under the referrers tag schema tag ``sha256-<hex>``
of the subject, listing the referrers.
"""

import json

from tests.support.images import OCI_INDEX, OCI_MANIFEST, AdminClient, Image, SeedError, push_blob, sha256_digest

EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1+json"
SBOM_TYPE = "application/vnd.example.sbom.v1+json"


def referrers_tag(digest):
    algorithm, encoded = digest.split(":", 1)
    return "%s-%s" % (algorithm, encoded[:64])


def push_referrer(stack, repository, subject, artifact_type, payload, tags=()):
    """Push an artifact whose ``subject`` is the Image ``subject``; return it as an Image.

    The config is the empty descriptor and the one layer contains ``payload`` (bytes)
    with ``artifact_type`` as its media type.
    """
    empty_digest = push_blob(stack, repository, b"{}")
    layer_digest = push_blob(stack, repository, payload)
    manifest_bytes = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": empty_digest, "size": 2},
            "layers": [{"mediaType": artifact_type, "digest": layer_digest, "size": len(payload)}],
            "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
            "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
        },
        indent=2,
    ).encode()
    digest = put_manifest(stack, repository, OCI_MANIFEST, manifest_bytes, list(tags))
    return Image(digest=digest, media_type=OCI_MANIFEST, manifest_bytes=manifest_bytes,
                 config_digest=empty_digest, layer_digests=(layer_digest,))


def push_referrers_index(stack, repository, subject, referrers, artifact_types):
    """Tag an image index listing ``referrers`` as ``sha256-<hex>`` of ``subject``; return it.

    ``artifact_types`` gives each referrer's ``artifactType``, in the same order.
    """
    descriptors = []
    for referrer, artifact_type in zip(referrers, artifact_types):
        descriptor = {"mediaType": referrer.media_type, "digest": referrer.digest, "size": referrer.size}
        if artifact_type:
            descriptor["artifactType"] = artifact_type
        descriptors.append(descriptor)
    manifest_bytes = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}).encode()
    digest = put_manifest(stack, repository, OCI_INDEX, manifest_bytes, [referrers_tag(subject.digest)])
    return Image(digest=digest, media_type=OCI_INDEX, manifest_bytes=manifest_bytes, children=tuple(referrers))


def put_manifest(stack, repository, media_type, manifest_bytes, tags):
    """PUT the manifest under each tag, or by digest when ``tags`` is empty; return its digest."""
    digest = sha256_digest(manifest_bytes)
    with AdminClient(stack, repository) as client:
        for reference in list(tags) or [digest]:
            response = client.request("PUT", "/manifests/" + reference, data=manifest_bytes,
                                      headers={"Content-Type": media_type})
            if response.status_code != 201:
                raise SeedError("PUT manifest %s returned %d: %s" % (reference, response.status_code, response.text[:500]))
    return digest
