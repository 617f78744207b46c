# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Find the manifests that refer to a subject: signatures, SBOMs, attestations.

OCI distribution 1.1 lists them with ``GET /v2/<name>/referrers/<digest>``. A registry
without that API (CNCF Distribution 2.8) returns 404, and clients that push referrers
there keep an image index under the referrers tag schema instead: the tag
``<alg>-<first 64 characters of the hex digest>`` (spec section "Referrers Tag Schema").
"""

from __future__ import annotations

import json
import re
from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError, UnexpectedResponseError
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_digest

# Referrer chains deeper than this are treated as a broken repository, not walked.
MAX_REFERRER_DEPTH = 32

# Referrers tag schema tags for the digest algorithms the collection accepts (see _reference).
_REFERRERS_TAG_RE = re.compile(r"^(sha256|sha512)-[0-9a-f]{64}$")

Referrer = namedtuple("Referrer", ["digest", "media_type", "artifact_type", "subject"])
"""A manifest whose ``subject`` field names the digest ``subject``."""

ReferrersIndex = namedtuple("ReferrersIndex", ["tag", "digest", "subject"])
"""An image index under the referrers tag schema that lists the referrers of ``subject``."""


def referrers_tag(digest):
    """Return the referrers tag schema tag of ``digest``, for example ``sha256-<hex>``."""
    algorithm, encoded = digest.split(":", 1)
    return "%s-%s" % (algorithm[:32], encoded[:64])


def is_referrers_tag(tag):
    """Return True when ``tag`` has the form of a referrers tag schema tag."""
    return bool(_REFERRERS_TAG_RE.match(tag))


class ReferrerFinder(object):
    """Look up referrers in one repository, with the referrers API or the tag schema.

    The first 404 from the referrers API switches the finder to the tag schema for
    every later lookup, so a registry without the API costs that 404 once. When
    ``known_tags`` (the repository's full tag list) is given, a referrers tag that is
    not in it is not requested at all.

    Every digest the registry lists, and the digest of each referrers tag schema index,
    must be a valid digest before it is read or returned for deletion. Any other value
    raises UnexpectedResponseError, so the lookup stops before anything is deleted.
    """

    def __init__(self, client, repository, known_tags=None):
        self.client = client
        self.repository = repository
        self.known_tags = None if known_tags is None else frozenset(known_tags)
        self.api_available = None

    def direct(self, digest):
        """Return the Referrers of ``digest`` (one level), in the order the registry lists them."""
        return self._lookup(digest)[0]

    def tree(self, digest):
        """Return ``(referrers, indexes)`` of ``digest`` at every depth, in deletion order.

        Each referrer comes after its own referrers, and each referrers tag schema index
        after the referrers it lists, so deleting in this order never leaves a referrer
        whose subject is already gone.
        """
        ordered = []
        indexes = []
        self._visit(digest, {digest}, ordered, indexes, 1)
        return ordered, indexes

    def _visit(self, subject, seen, ordered, indexes, depth):
        if depth > MAX_REFERRER_DEPTH:
            raise UnexpectedResponseError(
                "the referrers of %s in %s nest deeper than %d levels; nothing was deleted."
                % (subject, self.repository, MAX_REFERRER_DEPTH)
            )
        referrers, index = self._lookup(subject)
        for referrer in referrers:
            if referrer.digest in seen:
                continue
            seen.add(referrer.digest)
            self._visit(referrer.digest, seen, ordered, indexes, depth + 1)
            ordered.append(referrer)
        if index is not None:
            indexes.append(index)

    def _lookup(self, digest):
        """Return ``(referrers, ReferrersIndex or None)`` of ``digest``, one level deep."""
        if self.api_available is not False:
            descriptors = self.client.list_referrers(self.repository, digest)
            if descriptors is not None:
                self.api_available = True
                for descriptor in descriptors:
                    self._require_digest(descriptor["digest"], "the referrers API lists for %s" % digest)
                return [_referrer(descriptor, digest) for descriptor in descriptors], None
            self.api_available = False

        tag = referrers_tag(digest)
        if self.known_tags is not None and tag not in self.known_tags:
            return [], None
        manifest, body = self.client.get_manifest(self.repository, tag)
        if manifest is None:
            return [], None
        descriptors = _index_descriptors(body)
        if descriptors is None:
            # The spec: a tag that contains no valid image index means no referrers.
            return [], None
        self._require_digest(manifest.digest, "the registry reports as the digest of the referrers index %s" % tag)
        for descriptor in descriptors:
            self._require_digest(descriptor["digest"], "the referrers index %s lists" % tag)
        referrers = []
        for descriptor in descriptors:
            referrer = self._verified(descriptor, digest)
            if referrer is not None:
                referrers.append(referrer)
        return referrers, ReferrersIndex(tag, manifest.digest, digest)

    def _require_digest(self, value, source):
        """Raise UnexpectedResponseError unless ``value``, which ``source`` names, is a valid digest."""
        try:
            validate_digest(value)
        except InvalidInputError:
            raise UnexpectedResponseError(
                "the value %r that %s in %s is not a valid digest, so it is neither read nor "
                "deleted. Nothing was deleted." % (value, source, self.repository)
            )

    def _verified(self, descriptor, subject):
        """Return the Referrer when the listed manifest exists and names ``subject``, else None.

        Clients maintain the tag schema index themselves, so an entry can be stale or point
        at an unrelated manifest. Only a manifest whose own ``subject`` matches is returned.
        """
        manifest, body = self.client.get_manifest(self.repository, descriptor["digest"])
        if manifest is None:
            return None
        document = _json_object(body)
        if document is None:
            return None
        declared = document.get("subject")
        if not isinstance(declared, dict) or declared.get("digest") != subject:
            return None
        artifact_type = document.get("artifactType")
        if not artifact_type and isinstance(document.get("config"), dict):
            artifact_type = document["config"].get("mediaType")
        return Referrer(descriptor["digest"], manifest.media_type or descriptor.get("mediaType"),
                        artifact_type, subject)


def _referrer(descriptor, subject):
    return Referrer(descriptor["digest"], descriptor.get("mediaType"), descriptor.get("artifactType"), subject)


def _json_object(body):
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _index_descriptors(body):
    """Return the descriptors of an image index with a digest each, or None if it is no index."""
    document = _json_object(body)
    if document is None or not isinstance(document.get("manifests"), list):
        return None
    return [item for item in document["manifests"] if isinstance(item, dict) and isinstance(item.get("digest"), str)]
