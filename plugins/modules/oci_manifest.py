#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_manifest
short_description: Delete a manifest from an OCI or Docker registry
version_added: 0.1.0
description:
  - Deletes an image manifest or image index from a registry that implements the OCI
    distribution API, found by O(tag) or by O(digest).
  - The module first resolves the reference with one C(HEAD) request and deletes by digest.
    With token authentication it asks the token service once for C(pull) and C(delete)
    together, so with O(shared_tags=ignore) and O(referrers=ignore) a delete by tag costs
    four requests in total.
  - Deleting by tag deletes the manifest the tag points to, and with it B(every tag) that
    points to the same digest. CNCF Distribution 2.8 cannot remove a single tag; use
    M(oci.registry.oci_tag) with O(oci.registry.oci_tag#module:state=absent) for that.
  - Before it deletes, the module looks for other tags on the same manifest (O(shared_tags))
    and for manifests that refer to it, such as signatures and SBOMs (O(referrers),
    O(delete_referrers)). Both checks cost requests; the defaults warn, and V(ignore)
    skips them.
author:
  - oci.registry maintainers (!UNKNOWN)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.auth
  - oci.registry.retries
  - oci.registry.attributes
attributes:
  check_mode:
    support: full
    details:
      - Resolves the tag or digest, runs the O(shared_tags) and O(referrers) checks, and
        reports what would be deleted, referrers included; sends no C(DELETE).
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  repository:
    description:
      - Repository name inside the registry, for example V(team/app).
      - Lowercase path components separated by V(/), without the registry host or a tag.
      - Must be a string. A name that YAML reads as a number, such as V(010), must be
        quoted; any other type is rejected before the first request.
    type: raw
    required: true
  tag:
    description:
      - Tag that points to the manifest to delete.
      - The manifest is deleted by its digest, which removes every tag pointing to it.
      - Must be a string. Quote tags that YAML reads as numbers or booleans, for example
        V("1.10"), which unquoted is the number 1.1, or V("010"), which is 8. Any other
        type is rejected before the first request.
      - The registry must report a manifest media type for the tag; an answer of another
        type, such as C(text/html) from a web server, fails and deletes nothing. When the
        C(HEAD) response has no C(Content-Type), one C(GET) reads the manifest's type.
      - Exactly one of O(tag) and O(digest) is required.
    type: raw
  digest:
    description:
      - Digest of the manifest or index to delete, for example V(sha256:) followed by 64
        hex digits.
      - The module deletes only when the registry confirms with C(HEAD) that the digest
        names a manifest. A digest of a config or layer blob is rejected, because
        CNCF Distribution 2.8 would unlink that blob and break every image that uses it.
      - Exactly one of O(tag) and O(digest) is required.
    type: str
  state:
    description:
      - V(absent) deletes the manifest if it exists.
    type: str
    required: true
    choices: [absent]
  shared_tags:
    description:
      - What to do when other tags point to the same manifest as O(tag), or to an image
        index that lists the manifest as a child (a multi-platform image). Deleting the
        manifest deletes those tags too, and leaves those indexes pointing at a manifest
        that is gone. Applies only to deletion by O(tag); a deletion by O(digest) removes
        every tag on that digest by definition, and is not checked against indexes.
      - V(warn) deletes and warns with the names of the other tags and indexes; V(fail)
        deletes nothing and fails; both return them in RV(shared_tags) and
        RV(parent_indexes).
      - V(ignore) skips the check and its requests.
      - The check lists the repository's tags (one C(GET), more when the registry paginates)
        and resolves each other tag with one C(HEAD), because the distribution API has no
        request that returns the tags of a digest. Each distinct image index among those
        tags costs one more C(GET), to read the digests it lists. Only the index's direct
        children count; an index inside an index is not opened. Tags of the referrers tag
        schema (C(sha256-<hex>)) are skipped, because they hold an index of referrers, not
        an image.
      - The check fails closed. When the tag list does not contain O(tag), when it holds a
        name that is not a valid tag, or when an index cannot be read, the module fails
        and deletes nothing.
    type: str
    choices: [ignore, warn, fail]
    default: warn
  referrers:
    description:
      - What to do when manifests refer to the manifest to delete through their C(subject)
        field (signatures, SBOMs, attestations) and O(delete_referrers=false). Deleting
        the subject leaves them behind, pointing at nothing.
      - V(warn) deletes and warns; V(fail) deletes nothing and fails; both return the
        referrers in RV(referrers).
      - V(ignore) skips the lookup and its requests.
      - The lookup costs one C(GET) on the referrers API. A registry without that API, such
        as CNCF Distribution 2.8, answers C(404), and the module reads the referrers tag
        schema instead, which costs one more C(GET) unless the O(shared_tags) check already
        showed that the tag does not exist, and one C(GET) per referrer listed there.
      - Ignored when O(delete_referrers=true).
    type: str
    choices: [ignore, warn, fail]
    default: warn
  delete_referrers:
    description:
      - Delete the manifests that refer to the manifest to delete, and the manifests that
        refer to those, depth first, before the manifest itself.
      - Referrers come from the referrers API, or from the image index under the referrers
        tag schema (tag C(<alg>-<hex>)) when the API answers C(404). A manifest listed in
        that index is deleted only when its own C(subject) names the manifest to delete.
        The index itself is deleted after the referrers it lists.
      - Costs the lookup described under O(referrers) for the manifest and for each
        referrer, and one C(DELETE) per referrer and per index.
    type: bool
    default: false
notes:
  - A registry answers C(405) when deletion is disabled; for CNCF Distribution set
    C(storage.delete.enabled=true).
  - Check mode reports C(changed=true) even on a registry where deletion is disabled,
    because only a C(DELETE) request shows that, and check mode sends none.
  - Two runs that delete the same manifest at the same time may both report
    C(changed=true). CNCF Distribution 2.8.2 sometimes answers C(202) to both of two
    simultaneous C(DELETE) requests for one digest, so neither run can tell that the
    other deleted it.
  - Deleting a manifest does not free storage until the registry runs garbage collection.
  - Deleting a manifest that itself has a C(subject) does not update the referrers tag
    schema index of that subject; the index keeps a descriptor of the deleted manifest.
seealso:
  - module: oci.registry.oci_blob
  - module: oci.registry.oci_tag
  - module: oci.registry.oci_manifest_info
"""

EXAMPLES = r"""
- name: Delete the manifest tagged v1.2.0 (and every other tag on it)
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    tag: v1.2.0
    state: absent
    username: ci-cleaner
    password: "{{ registry_password }}"

- name: Delete a manifest by digest
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    digest: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
    state: absent

- name: Delete a release only if no other tag points to it
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    tag: v1.2.0
    state: absent
    shared_tags: fail

- name: Delete an image with its signatures and SBOMs
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    digest: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
    state: absent
    delete_referrers: true

- name: Delete by tag with the fewest requests, skipping both checks
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    tag: build-1234
    state: absent
    shared_tags: ignore
    referrers: ignore

- name: Show what would be deleted, without deleting
  oci.registry.oci_manifest:
    registry: registry.example.com
    repository: team/app
    tag: nightly
    state: absent
  check_mode: true
  register: planned

- name: Print the request statistics
  ansible.builtin.debug:
    msg: "{{ planned.digest }} cost {{ planned.requests.total }} requests"
"""

RETURN = r"""
digest:
  description:
    - Digest of the manifest that was deleted, or would be deleted in check mode.
    - Absent when the tag or digest did not exist.
  returned: when the manifest existed
  type: str
  sample: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
media_type:
  description: Media type the registry reported for the manifest.
  returned: when the manifest existed
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
shared_tags:
  description:
    - The other tags that point to the same manifest as O(tag), and so were deleted with
      it, or would be in check mode. An empty list when there are none.
  returned: when deleting by O(tag) with O(shared_tags=warn) or O(shared_tags=fail), and the tag existed
  type: list
  elements: str
  sample: [latest, stable]
parent_indexes:
  description:
    - The tagged image indexes that list the manifest as a child, and so point at a
      manifest that is gone after the delete. An empty list when there are none.
  returned: when deleting by O(tag) with O(shared_tags=warn) or O(shared_tags=fail), and the tag existed
  type: list
  elements: dict
  contains:
    tag:
      description: A tag of the index.
      type: str
    digest:
      description: Digest of the index.
      type: str
  sample:
    - tag: "1.0"
      digest: sha256:6e3b...
referrers:
  description:
    - The manifests that refer to the deleted manifest. With O(delete_referrers=true),
      every referrer at every depth in the order they were deleted; otherwise the direct
      referrers, which were not deleted.
  returned: when the manifest existed and O(delete_referrers=true) or O(referrers) is not V(ignore)
  type: list
  elements: dict
  contains:
    digest:
      description: Digest of the referrer.
      type: str
    media_type:
      description: Media type of the referrer manifest.
      type: str
    artifact_type:
      description: Its C(artifactType), or the media type of its config when it has none.
      type: str
    subject:
      description: Digest of the manifest it refers to.
      type: str
  sample:
    - digest: sha256:7d2e...
      media_type: application/vnd.oci.image.manifest.v1+json
      artifact_type: application/vnd.dev.cosign.artifact.sig.v1+json
      subject: sha256:4f0c...
referrers_indexes:
  description: Image indexes under the referrers tag schema that were deleted with the referrers they list.
  returned: when O(delete_referrers=true) and the manifest existed
  type: list
  elements: dict
  contains:
    tag:
      description: The referrers tag, C(<alg>-<hex>) of the subject.
      type: str
    digest:
      description: Digest of the index.
      type: str
    subject:
      description: Digest of the manifest whose referrers the index lists.
      type: str
  sample:
    - tag: sha256-4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
      digest: sha256:1b9a...
      subject: sha256:4f0c...
actions:
  description: What the module did or, in check mode, would do, in plain words.
  returned: always
  type: list
  elements: str
  sample:
    - resolved tag v1.2.0 in team/app to sha256:4f0c...
    - no other tag points to sha256:4f0c...
    - deleted manifest sha256:4f0c... from team/app
requests:
  description: HTTP requests this module run sent, counted as they went on the wire.
  returned: always
  type: dict
  contains:
    total:
      description: Every request, token service and retries included.
      type: int
      sample: 4
    token:
      description: Requests to the token service.
      type: int
      sample: 1
    retries:
      description: Requests that repeated an earlier one after a 429, 502, 503, 504 or reset.
      type: int
      sample: 0
    by_method:
      description: Request count per HTTP method.
      type: dict
      sample: {"DELETE": 1, "GET": 1, "HEAD": 2}
    by_status:
      description: Request count per HTTP status; V(error) counts requests that got no answer.
      type: dict
      sample: {"200": 2, "202": 1, "401": 1}
"""

from ansible_collections.oci.registry.plugins.module_utils._client import MANIFEST_MEDIA_TYPES
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError, UnexpectedResponseError
from ansible_collections.oci.registry.plugins.module_utils._inspect import with_body_media_type
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule
from ansible_collections.oci.registry.plugins.module_utils._options import text_option
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_repository,
    validate_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._referrers import ReferrerFinder
from ansible_collections.oci.registry.plugins.module_utils._tags import check_tags


class ManifestDeleter(object):
    """Resolve a tag or digest to a manifest, check what else goes with it, delete it by digest."""

    def __init__(self, registry_module):
        self.registry_module = registry_module
        self.params = registry_module.params
        self.actions = registry_module.actions

    def run(self):
        params = self.params
        repository = text_option(params, "repository")
        tag = text_option(params, "tag")
        digest = params["digest"]
        validate_repository(repository)
        if tag is not None:
            validate_tag(tag)
        else:
            validate_digest(digest)
        client = self.registry_module.connect()
        client.declare(repository, ("pull", "delete"))
        actions = self.actions

        reference = tag if tag is not None else digest
        manifest = self._resolve(client, repository, reference, digest)
        if manifest is None:
            actions.append("%s %s not found in %s; nothing to delete" % (self._kind(), reference, repository))
            return self._result(changed=False)
        self._check_is_manifest(repository, manifest)
        if tag is not None:
            actions.append("resolved tag %s in %s to %s" % (tag, repository, manifest.digest))

        tag_check = self._check_tags(client, repository, manifest)
        all_tags = tag_check.all_tags if tag_check is not None else None
        referrers, indexes = self._check_referrers(client, repository, manifest, all_tags)
        result = self._result(changed=True, manifest=manifest, tag_check=tag_check, referrers=referrers,
                              indexes=indexes)
        if self.registry_module.check_mode:
            if params["delete_referrers"]:
                for referrer in referrers:
                    actions.append("would delete referrer %s of %s (check mode)" % (referrer.digest, referrer.subject))
                for index in indexes:
                    actions.append("would delete referrers index %s (tag %s) (check mode)" % (index.digest, index.tag))
            actions.append("would delete manifest %s from %s (check mode)" % (manifest.digest, repository))
            return result

        deleted_referrers = 0
        if params["delete_referrers"]:
            deleted_referrers = self._delete_referrers(client, repository, manifest, referrers, indexes)
        try:
            deleted = client.delete_manifest(repository, manifest.digest)
        except RegistryError as error:
            if not deleted_referrers:
                raise
            raise type(error)(
                "%s The %d referrers and indexes listed in actions were deleted; %s is still present."
                % (error.msg, deleted_referrers, manifest.digest), status=error.status, codes=error.codes,
            )
        if deleted:
            actions.append("deleted manifest %s from %s" % (manifest.digest, repository))
            return result
        actions.append("manifest %s was already deleted from %s by another client" % (manifest.digest, repository))
        result["changed"] = deleted_referrers > 0
        return result

    def _resolve(self, client, repository, reference, digest):
        try:
            manifest = client.resolve_manifest(repository, reference, expected_digest=digest)
            if manifest is not None and manifest.media_type is None and digest is None:
                manifest = self._read_media_type(client, repository, manifest)
            return manifest
        except UnexpectedResponseError as error:
            hint = ""
            if digest is not None and error.status == 500:
                # CNCF Distribution 2.8 answers HEAD /manifests/<digest of a blob> with 500.
                hint = (" The digest may name a blob (a config or layer), not a manifest: use "
                        "oci.registry.oci_blob to delete blobs.")
            raise UnexpectedResponseError(
                "%s Nothing was deleted.%s" % (error.msg, hint), status=error.status, codes=error.codes
            )

    @staticmethod
    def _read_media_type(client, repository, manifest):
        """Return ``manifest`` with the media type of its body, or None when it is gone.

        The client resolves a tag without a GET when the HEAD response carries a digest,
        so a registry that sends no Content-Type leaves the media type unknown.
        """
        found, body = client.get_manifest(repository, manifest.digest)
        if found is None:
            return None
        return with_body_media_type(manifest._replace(media_type=found.media_type), body)

    def _check_tags(self, client, repository, manifest):
        """Find the other tags and the tagged indexes the delete affects, then warn or fail per shared_tags.

        Returns the TagCheck, or None when the check is off.
        """
        tag = self.params["tag"]
        mode = self.params["shared_tags"]
        if tag is None or mode == "ignore":
            return None
        tag_check = check_tags(client, repository, manifest.digest, tag)
        problems = []
        warnings = []
        hints = []
        if tag_check.shared:
            names = _tag_phrase(tag_check.shared)
            self.actions.append("%s also point%s to %s" % (names, _verb_s(tag_check.shared), manifest.digest))
            problems.append("%s in %s point%s to the same manifest %s as tag %s, so deleting it "
                            "would delete %s too" % (names, repository, _verb_s(tag_check.shared), manifest.digest,
                                                     tag, _pronoun(tag_check.shared)))
            warnings.append("Deleting tag %s in %s deletes %s too, because %s point%s to the same manifest %s."
                            % (tag, repository, names, _pronoun(tag_check.shared, subject=True),
                               _verb_s(tag_check.shared), manifest.digest))
            hints.append("To remove only tag %s, use oci.registry.oci_tag with state=absent." % tag)
        else:
            self.actions.append("no other tag points to %s" % manifest.digest)
        if tag_check.parent_indexes:
            listing = ", ".join("%s (%s)" % (parent.tag, parent.digest) for parent in tag_check.parent_indexes)
            self.actions.append("the image indexes tagged %s list %s as a child" % (listing, manifest.digest))
            problems.append("the image indexes tagged %s in %s list the manifest %s of tag %s as a child, so "
                            "deleting it would break them" % (listing, repository, manifest.digest, tag))
            warnings.append("Deleting tag %s in %s breaks the image indexes tagged %s: they list the manifest "
                            "%s as a child." % (tag, repository, listing, manifest.digest))
            hints.append("Delete or update those indexes first.")
        if not problems:
            return tag_check

        if mode == "fail":
            raise RegistryError(
                "%s. Nothing was deleted. %s To delete the manifest anyway, set shared_tags=warn."
                % (". Also, ".join(problems), " ".join(hints))
            )
        for warning in warnings:
            self.registry_module.module.warn(warning)
        return tag_check

    def _check_referrers(self, client, repository, manifest, all_tags):
        """Find the referrers and warn or fail as referrers says, unless delete_referrers is set.

        Returns ``(referrers, referrers indexes)``, or ``(None, None)`` without a lookup.
        """
        params = self.params
        finder = ReferrerFinder(client, repository, known_tags=all_tags)
        if params["delete_referrers"]:
            referrers, indexes = finder.tree(manifest.digest)
            self.actions.append("found %d referrers and %d referrers indexes of %s"
                                % (len(referrers), len(indexes), manifest.digest))
            return referrers, indexes
        if params["referrers"] == "ignore":
            return None, None

        referrers = finder.direct(manifest.digest)
        if not referrers:
            self.actions.append("no manifest refers to %s" % manifest.digest)
            return referrers, None
        listing = ", ".join("%s (%s)" % (item.digest, item.artifact_type or "no artifact type")
                            for item in referrers)
        self.actions.append("found %d referrers of %s: %s" % (len(referrers), manifest.digest, listing))
        if params["referrers"] == "fail":
            raise RegistryError(
                "%d manifests in %s refer to %s (%s); deleting it would leave them without their "
                "subject. Nothing was deleted. Set delete_referrers=true to delete them too, or "
                "referrers=warn to delete only the manifest." % (len(referrers), repository, manifest.digest, listing)
            )
        self.registry_module.module.warn(
            "Deleting %s in %s leaves %d manifests that refer to it without their subject: %s. "
            "Set delete_referrers=true to delete them too." % (manifest.digest, repository, len(referrers), listing)
        )
        return referrers, None

    def _delete_referrers(self, client, repository, manifest, referrers, indexes):
        """Delete the referrers, then the referrers indexes; return how many were deleted.

        An error reports how many were deleted before it.
        """
        steps = [("referrer", item.digest) for item in referrers]
        steps.extend(("referrers index", index.digest) for index in indexes)
        deleted_count = 0
        for kind, digest in steps:
            try:
                deleted = client.delete_manifest(repository, digest)
            except RegistryError as error:
                if deleted_count:
                    state = ("%d of %d referrers and indexes were deleted before (see actions); %s and "
                             "the rest are still present. Run the task again to finish."
                             % (deleted_count, len(steps), manifest.digest))
                else:
                    state = "Nothing was deleted."
                raise type(error)("%s %s" % (error.msg, state), status=error.status, codes=error.codes)
            if deleted:
                deleted_count += 1
                self.actions.append("deleted %s %s from %s" % (kind, digest, repository))
            else:
                self.actions.append("%s %s was already deleted from %s" % (kind, digest, repository))
        return deleted_count

    def _kind(self):
        return "tag" if self.params["tag"] is not None else "manifest"

    def _check_is_manifest(self, repository, manifest):
        """Raise unless ``manifest`` has a manifest media type and, by digest, the digest requested."""
        tag = self.params["tag"]
        digest = self.params["digest"]
        if manifest.media_type not in MANIFEST_MEDIA_TYPES:
            if tag is not None:
                raise UnexpectedResponseError(
                    "tag %s in %s does not name a manifest: the registry reports the media type %r. "
                    "Nothing was deleted. Check that %s is an OCI registry and not a web server or "
                    "proxy that answers every path." % (tag, repository, manifest.media_type, self.params["registry"])
                )
            raise UnexpectedResponseError(
                "%s in %s is not a manifest (the registry reports the media type %r); nothing "
                "was deleted. Use oci.registry.oci_blob to delete a blob."
                % (digest, repository, manifest.media_type)
            )
        if tag is None and manifest.digest != digest:
            raise UnexpectedResponseError(
                "the registry resolved %s in %s to a different digest, %s; nothing was deleted."
                % (digest, repository, manifest.digest)
            )

    def _result(self, changed, manifest=None, tag_check=None, referrers=None, indexes=None):
        result = {"changed": changed}
        if manifest is not None:
            result["digest"] = manifest.digest
            result["media_type"] = manifest.media_type
        if tag_check is not None:
            result["shared_tags"] = tag_check.shared
            result["parent_indexes"] = [dict(parent._asdict()) for parent in tag_check.parent_indexes]
        if referrers is not None:
            result["referrers"] = [dict(item._asdict()) for item in referrers]
        if self.params["delete_referrers"] and manifest is not None:
            result["referrers_indexes"] = [dict(index._asdict()) for index in indexes or []]
        if self.registry_module.diff_mode:
            result["diff"] = self._diff(manifest, tag_check, referrers)
        return result

    def _diff(self, manifest, tag_check, referrers):
        before = {"state": "absent"}
        if manifest is not None:
            before = {"state": "present", "digest": manifest.digest, "media_type": manifest.media_type}
            if tag_check is not None:
                before["tags"] = sorted([self.params["tag"]] + tag_check.shared)
            if referrers is not None and self.params["delete_referrers"]:
                before["referrers"] = [item.digest for item in referrers]
        return {
            "before_header": self._diff_header(),
            "after_header": self._diff_header(),
            "before": before,
            "after": {"state": "absent"},
        }

    def _diff_header(self):
        params = self.params
        reference = ":" + params["tag"] if params["tag"] is not None else "@" + params["digest"]
        return "%s/%s%s" % (params["registry"], params["repository"], reference)


def _tag_phrase(tags):
    """Return "the tag a" or "the tags a, b"."""
    return "the tag%s %s" % ("" if len(tags) == 1 else "s", ", ".join(tags))


def _verb_s(tags):
    return "s" if len(tags) == 1 else ""


def _pronoun(tags, subject=False):
    if len(tags) == 1:
        return "it"
    return "they" if subject else "them"


def main():
    registry_module = RegistryModule(
        argument_spec=dict(
            repository=dict(type="raw", required=True),
            tag=dict(type="raw"),
            digest=dict(type="str"),
            state=dict(type="str", required=True, choices=["absent"]),
            shared_tags=dict(type="str", default="warn", choices=["ignore", "warn", "fail"]),
            referrers=dict(type="str", default="warn", choices=["ignore", "warn", "fail"]),
            delete_referrers=dict(type="bool", default=False),
        ),
        required_one_of=[("tag", "digest")],
        mutually_exclusive=[("tag", "digest")],
    )
    registry_module.run(ManifestDeleter(registry_module).run)


if __name__ == "__main__":
    main()
