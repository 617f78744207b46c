# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Read manifests and image configs for the information modules.

An ``Inspector`` reads each index child and each config blob at most once per run. A
tag costs one manifest request even when its content was read before, because its
digest is unknown until the registry returns the manifest.
"""

from __future__ import annotations

import json

from ansible_collections.oci.registry.plugins.module_utils._client import (
    MEDIA_TYPE_DOCKER_LIST,
    MEDIA_TYPE_OCI_INDEX,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError, UnexpectedResponseError
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_digest

INDEX_MEDIA_TYPES = frozenset((MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_LIST))

# Config media types whose blob is an image config with a "created" field. Other
# configs (artifacts, Helm charts, the empty descriptor) are not downloaded.
IMAGE_CONFIG_MEDIA_TYPES = frozenset((
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
))

# An image config is a few kilobytes; a larger "config" is no image config.
CONFIG_BODY_LIMIT = 1024 * 1024

PLATFORM_KEYS = ("architecture", "os", "variant", "os.version", "os.features")


class Inspector(object):
    """Reader of manifests and image configs of one repository, with a cache by digest."""

    def __init__(self, client, repository):
        self.client = client
        self.repository = repository
        self._manifests = {}
        self._configs = {}

    def manifest(self, reference):
        """Return ``(Manifest, document dict)`` for a tag or digest, or ``(None, None)`` on 404."""
        if reference in self._manifests:
            return self._manifests[reference]
        manifest, body = self.client.get_manifest(self.repository, reference)
        if manifest is None:
            return None, None
        document = parse_document(body, "manifest %s in %s" % (reference, self.repository))
        self._manifests[manifest.digest] = (manifest, document)
        return manifest, document

    def config(self, document):
        """Return the image config dict of an image manifest document, or None.

        None when the config is not an image config (see IMAGE_CONFIG_MEDIA_TYPES), its
        digest is not valid (it is then not requested), or its blob is missing.
        """
        descriptor = document.get("config")
        if not isinstance(descriptor, dict) or descriptor.get("mediaType") not in IMAGE_CONFIG_MEDIA_TYPES:
            return None
        digest = descriptor.get("digest")
        if not isinstance(digest, str) or not _is_digest(digest):
            return None
        if digest not in self._configs:
            body = self.client.get_blob(self.repository, digest, limit=CONFIG_BODY_LIMIT)
            config = None
            if body is not None:
                config = parse_document(body, "image config %s in %s" % (digest, self.repository))
            self._configs[digest] = config
        return self._configs[digest]

    def created(self, manifest, document):
        """Return the ``created`` time of the image config, or None.

        For an index, the first child manifest's config counts; a child that is an
        index itself, or whose digest is not valid (and so is not requested), gives None.
        """
        if is_index(manifest, document):
            children = child_descriptors(document)
            if not children or not _is_digest(children[0]["digest"]):
                return None
            child, child_document = self.manifest(children[0]["digest"])
            if child is None or is_index(child, child_document):
                return None
            document = child_document
        config = self.config(document)
        if config is None:
            return None
        created = config.get("created")
        return created if isinstance(created, str) else None


def parse_document(body, what):
    """Parse a JSON object, or raise UnexpectedResponseError naming ``what``."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict):
        raise UnexpectedResponseError("the %s is not a JSON object." % what)
    return document


def with_body_media_type(manifest, body):
    """Return ``manifest`` with the ``mediaType`` field of ``body`` when the registry sent no Content-Type.

    The media type stays None when the body is no JSON object or declares none.
    """
    if manifest.media_type is not None:
        return manifest
    try:
        declared = parse_document(body, "manifest %s" % manifest.digest).get("mediaType")
    except UnexpectedResponseError:
        return manifest
    if not isinstance(declared, str):
        return manifest
    return manifest._replace(media_type=declared.strip().lower())


def is_index(manifest, document):
    if manifest.media_type in INDEX_MEDIA_TYPES:
        return True
    return manifest.media_type is None and isinstance(document.get("manifests"), list)


def child_descriptors(document):
    """Return the descriptors of an index's children that have a digest."""
    children = document.get("manifests")
    if not isinstance(children, list):
        return []
    return [child for child in children if isinstance(child, dict) and isinstance(child.get("digest"), str)]


def _is_digest(value):
    try:
        validate_digest(value)
    except InvalidInputError:
        return False
    return True


def platform_of(source):
    """Return the platform fields of an index child's ``platform`` or of an image config."""
    if not isinstance(source, dict):
        return {}
    return dict((key, source[key]) for key in PLATFORM_KEYS if key in source)
