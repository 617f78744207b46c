# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Tag operations built on the client verbs: the tags a delete affects, and removing a single tag.

CNCF Distribution 2.8 deletes manifests only by digest, and a delete by digest removes
every tag that points to the digest. Removing one tag there takes a detour: point the
tag at a tiny placeholder manifest of its own, then delete the placeholder by digest.
"""

from __future__ import annotations

import hashlib
import json
from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._client import MEDIA_TYPE_OCI_MANIFEST
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    ConnectionFailedError,
    InvalidInputError,
    RegistryError,
    UnexpectedResponseError,
)
from ansible_collections.oci.registry.plugins.module_utils._inspect import (
    INDEX_MEDIA_TYPES,
    child_descriptors,
    parse_document,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_tag
from ansible_collections.oci.registry.plugins.module_utils._referrers import is_referrers_tag

# The empty descriptor of the OCI image spec 1.1: a 2-byte blob holding "{}".
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_DATA = b"{}"
EMPTY_DIGEST = "sha256:" + hashlib.sha256(EMPTY_DATA).hexdigest()

PLACEHOLDER_ARTIFACT_TYPE = "application/vnd.oci-registry.tag-placeholder.v1"
PLACEHOLDER_TAG_ANNOTATION = "oci.registry.placeholder.tag"

# Responses to DELETE /manifests/<tag> that mean "this registry does not delete single
# tags". The OCI distribution spec allows 400 and 405, and CNCF Distribution 2.8 sends
# 400 with DIGEST_INVALID because it expects a digest there.
TAG_DELETE_UNSUPPORTED_CODES = frozenset(("DIGEST_INVALID", "UNSUPPORTED"))

Untagged = namedtuple("Untagged", ["method", "placeholder_digest"])
"""The outcome of removing a tag: ``method`` is "delete", "placeholder", or None when it was already gone."""


class TagDeletionUnsupported(RegistryError):
    """The registry rejected DELETE on a tag, and no fallback was allowed."""


TagCheck = namedtuple("TagCheck", ["shared", "parent_indexes", "all_tags"])
"""Result of check_tags: the other tags on the digest (sorted), the ParentIndexes that list
it as a child (sorted by tag), and every tag of the repository."""

ParentIndex = namedtuple("ParentIndex", ["tag", "digest"])
"""An image index under ``tag``, with digest ``digest``, that lists a manifest as a child."""


def check_tags(client, repository, digest, tag):
    """Return the TagCheck of deleting ``digest``, which ``tag`` resolved to.

    Costs one tag list request (more when the registry paginates), one HEAD per other
    tag, and one GET per distinct image index among them. Tags of the referrers tag
    schema (``sha256-<hex>``) are not resolved: they hold an index of referrers, never
    the manifest itself or an image index over it. Only the direct children of an index
    count, not the children of an index that it lists.

    Fails closed: a tag list without ``tag``, a listed name that is not a valid tag, or
    an index whose body cannot be read as one raises UnexpectedResponseError, because
    the check could not rule out what it looks for.
    """
    all_tags = client.list_tags(repository)
    if tag not in all_tags:
        raise UnexpectedResponseError(
            "the tag list of %s that the registry returned does not contain tag %s, although "
            "the tag resolved to %s a moment before. The list is incomplete or out of date, so "
            "other tags on that manifest cannot be ruled out. Nothing was deleted. Run the task "
            "again, or set shared_tags=ignore to delete without this check." % (repository, tag, digest)
        )
    shared = []
    parents = []
    children_by_index = {}
    for other in all_tags:
        if other == tag or is_referrers_tag(other):
            continue
        _require_listed_tag(repository, other)
        manifest = client.resolve_manifest(repository, other)
        if manifest is None:
            continue
        if manifest.digest == digest:
            shared.append(other)
            continue
        # A registry that sends no Content-Type leaves the media type unknown, so the
        # manifest is read as a possible index too.
        if manifest.media_type is not None and manifest.media_type not in INDEX_MEDIA_TYPES:
            continue
        if manifest.digest not in children_by_index:
            children_by_index[manifest.digest] = _index_children(client, repository, other, manifest)
        if digest in children_by_index[manifest.digest]:
            parents.append(ParentIndex(other, manifest.digest))
    return TagCheck(sorted(shared), sorted(parents), all_tags)


def _require_listed_tag(repository, tag):
    try:
        validate_tag(tag)
    except InvalidInputError:
        raise UnexpectedResponseError(
            "the tag list of %s contains %r, which is not a valid tag, so the manifest it points "
            "to cannot be checked. Nothing was deleted." % (repository, tag)
        )


def _index_children(client, repository, tag, manifest):
    """Return the child digests of the index ``manifest`` (tagged ``tag``), read by its digest.

    An empty set when the index is gone, or when a manifest of unknown media type turns
    out not to be an index.
    """
    indexed, body = client.get_manifest(repository, manifest.digest)
    if indexed is None:
        return frozenset()
    described = "manifest %s (tag %s) in %s" % (manifest.digest, tag, repository)
    unreadable = ("It may be an image index that lists the manifest to delete, so nothing was "
                  "deleted. Set shared_tags=ignore to delete without this check.")
    try:
        document = parse_document(body, described)
    except UnexpectedResponseError as error:
        raise UnexpectedResponseError("%s %s" % (error.msg, unreadable))
    if not isinstance(document.get("manifests"), list):
        if manifest.media_type is None:
            return frozenset()
        raise UnexpectedResponseError(
            "the %s has the media type %s of an image index, but no 'manifests' list. %s"
            % (described, manifest.media_type, unreadable)
        )
    return frozenset(child["digest"] for child in child_descriptors(document))


def placeholder_manifest(tag):
    """Return the bytes of the placeholder manifest for ``tag``.

    The bytes depend only on the tag, so a rerun after a failure reuses the same
    placeholder instead of leaving a second one behind.
    """
    empty = {"mediaType": EMPTY_MEDIA_TYPE, "digest": EMPTY_DIGEST, "size": len(EMPTY_DATA)}
    document = {
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "artifactType": PLACEHOLDER_ARTIFACT_TYPE,
        "config": empty,
        "layers": [empty],
        "annotations": {
            PLACEHOLDER_TAG_ANNOTATION: tag,
            "org.opencontainers.image.description": (
                "Placeholder that let oci.registry remove the tag %s alone; safe to delete." % tag
            ),
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def placeholder_digest(tag):
    return "sha256:" + hashlib.sha256(placeholder_manifest(tag)).hexdigest()


def is_tag_delete_unsupported(error):
    """Return True when a failed tag DELETE means the registry does not delete single tags."""
    if error.status == 405:
        return True
    return error.status == 400 and bool(TAG_DELETE_UNSUPPORTED_CODES.intersection(error.codes))


class TagRemover(object):
    """Remove one tag and keep the manifest it points to, with its other tags.

    ``actions`` is the list the module reports; each step appends what it did.
    """

    def __init__(self, client, repository, actions):
        self.client = client
        self.repository = repository
        self.actions = actions

    def remove(self, tag, current_digest, fallback):
        """Remove ``tag``, which points to ``current_digest``; return an Untagged.

        ``fallback`` is "none" or "placeholder", the choice for a registry that rejects
        DELETE on a tag. Every error raised after the first change states what the
        registry now contains.
        """
        try:
            deleted = self.client.delete_tag(self.repository, tag)
        except RegistryError as error:
            if not is_tag_delete_unsupported(error):
                raise
            if fallback != "placeholder":
                hint = ""
                if error.status == 405:
                    hint = " A 405 can also mean that the registry deletes nothing at all."
                raise TagDeletionUnsupported(
                    "the registry rejected the deletion of only the tag %s in %s (%s). Nothing was "
                    "changed.%s Set untag_fallback=placeholder to point the tag at a small "
                    "placeholder manifest and delete that by digest, which keeps %s and its "
                    "other tags; or delete the manifest itself with oci.registry.oci_manifest, "
                    "which removes every tag that points to it."
                    % (tag, self.repository, _short_status(error), hint, current_digest),
                    status=error.status, codes=error.codes,
                )
            self.actions.append(
                "the registry rejected the deletion of only the tag %s (%s); using a placeholder manifest"
                % (tag, _short_status(error))
            )
            return self._remove_with_placeholder(tag, current_digest)
        if deleted:
            self.actions.append("deleted tag %s from %s" % (tag, self.repository))
        else:
            self.actions.append("tag %s was already deleted from %s by another client" % (tag, self.repository))
        return Untagged("delete" if deleted else None, None)

    def _remove_with_placeholder(self, tag, current_digest):
        client = self.client
        repository = self.repository
        body = placeholder_manifest(tag)
        digest = placeholder_digest(tag)
        unchanged = "Nothing was changed: tag %s still points to %s." % (tag, current_digest)

        # A 405 must be known before the tag moves, or the tag would end up on the
        # placeholder with no way to delete it.
        _run(lambda: client.check_manifest_deletion(repository), unchanged)
        self.actions.append("checked that %s accepts manifest deletes" % repository)

        if current_digest != digest:
            if not _run(lambda: client.blob_exists(repository, EMPTY_DIGEST), unchanged):
                _run(lambda: client.upload_blob(repository, EMPTY_DATA), unchanged)
                self.actions.append("uploaded the empty config blob %s to %s" % (EMPTY_DIGEST, repository))
            stored = _run(lambda: client.put_manifest(repository, tag, body, MEDIA_TYPE_OCI_MANIFEST),
                          unchanged,
                          "The tag %s may still point to %s, or already to the placeholder %s; "
                          "run the task again." % (tag, current_digest, digest))
            if stored != digest:
                raise RegistryError(
                    "the registry stored the placeholder for tag %s in %s as %s, expected %s. "
                    "The tag %s now points to %s; %s and its other tags are unchanged. Delete "
                    "%s by digest to remove the tag." % (tag, repository, stored, digest, tag,
                                                         stored, current_digest, stored)
                )
            self.actions.append("pointed tag %s at the placeholder manifest %s" % (tag, digest))

        moved = ("The tag %s now points to the placeholder manifest %s instead of %s; %s and its "
                 "other tags are unchanged. Run the task again, or delete %s by digest with "
                 "oci.registry.oci_manifest." % (tag, digest, current_digest, current_digest, digest))
        _run(lambda: client.delete_manifest(repository, digest), moved,
             "The delete may have reached the registry before the connection failed. If tag %s "
             "still exists, it points to the placeholder manifest %s instead of %s; %s and its "
             "other tags are unchanged. Run the task again." % (tag, digest, current_digest, current_digest))
        self.actions.append("deleted the placeholder manifest %s, and with it tag %s" % (digest, tag))
        return Untagged("placeholder", digest)


def _run(step, state, state_without_answer=None):
    """Run ``step``; on RegistryError raise the same kind of error with the registry state appended.

    ``state_without_answer`` replaces ``state`` when the request got no response, so the
    registry may or may not have applied it.
    """
    try:
        return step()
    except RegistryError as error:
        if state_without_answer is not None and isinstance(error, ConnectionFailedError):
            state = state_without_answer
        raise type(error)("%s %s" % (error.msg, state), status=error.status, codes=error.codes)


def _short_status(error):
    if error.codes:
        return "HTTP %s %s" % (error.status, ", ".join(error.codes))
    return "HTTP %s" % error.status
