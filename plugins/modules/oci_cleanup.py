#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_cleanup
short_description: Apply a tag retention policy to repositories in an OCI or Docker registry
version_added: 0.1.0
description:
  - Deletes the tags of one or more repositories that a retention policy selects, in one
    task. The policy looks at the tags named in O(tags) or matched by O(include), minus
    O(exclude) and O(protect), and O(keep_last) and O(older_than) decide which of them go.
  - Deleting a tag means deleting the manifest it points to, which removes B(every) tag
    on that digest. The module therefore never deletes a digest that a kept or protected
    tag points to, or that the index of a kept tag lists. Such tags are reported in
    RV(skipped) with the reason.
  - The module sends one tag list request per repository (more when the registry pages
    the list) and one C(HEAD) per selected tag. When O(keep_last) or O(older_than) is set,
    it sends a C(GET) of each selected tag's manifest instead, plus one C(GET) of each
    image config, read once per digest. When anything is to be deleted, it sends one
    C(HEAD) per other tag (to protect shared digests), then one C(DELETE) per digest.
  - With token authentication the module asks the token service once for C(pull) and
    C(delete) on every repository, so one token covers the whole run.
  - Requests run concurrently on O(workers) threads that share one connection pool and
    one token. A failure on one tag does not stop the others. The task fails at the end
    if any tag failed, and the failure result carries the same lists as a success.
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
      - Sends the same reads as a real run and returns the full plan in RV(deleted),
        RV(kept) and RV(skipped); sends no C(DELETE).
      - Asks the token service for C(pull) only, so a read-only user can plan.
  diff_mode:
    support: full
    details:
      - The diff lists the tags of each repository before and after the cleanup.
  idempotent:
    support: full
    details:
      - A second run on the state the first one left deletes nothing, unless O(older_than)
        lets more tags age past the limit in between.
options:
  repositories:
    description:
      - Repositories to clean, for example V(team/app), without the registry host.
      - The same policy applies to each repository separately; O(keep_last) counts per
        repository.
      - Must be a list of strings (a single string is split at commas). Quote entries that
        YAML reads as numbers or booleans, for example V("1.10"), which unquoted is the
        number 1.1, or V("010"), which is 8. Any other type is rejected before the first
        request.
    type: raw
    required: true
  tags:
    description:
      - Delete exactly these tags (those that exist), for bulk deletes of named tags.
      - Combines with the other options. O(include) and O(exclude) filter this list
        further, and O(keep_last) and O(older_than) decide among what remains.
      - Tags that do not exist are ignored, so a rerun changes nothing.
      - Must be a list of strings (a single string is split at commas). Quote entries that
        YAML reads as numbers or booleans, for example V("1.10"), which unquoted is the
        number 1.1, or V("010"), which is 8. Any other type is rejected before the first
        request.
    type: raw
  include:
    description:
      - Regular expressions (Python syntax) that select the tags the policy applies to.
        A tag is selected when one expression matches the B(whole) tag, so V(v1) does
        not select V(v10); write V(v1.*) for that.
      - Without O(include) every tag (or every tag in O(tags)) is selected.
      - Must be a list of strings (a single string is split at commas). Quote entries that
        YAML reads as numbers or booleans, for example V("1.10"), which unquoted is the
        number 1.1, or V("010"), which is 8. Any other type is rejected before the first
        request.
    type: raw
  exclude:
    description:
      - Regular expressions (Python syntax) for tags the policy never touches. An
        expression must match the B(whole) tag.
      - Excluded tags are kept and do not count in O(keep_last).
      - Must be a list of strings (a single string is split at commas). Quote entries that
        YAML reads as numbers or booleans, for example V("1.10"), which unquoted is the
        number 1.1, or V("010"), which is 8. Any other type is rejected before the first
        request.
    type: raw
  keep_last:
    description:
      - Keep the O(keep_last) newest selected tags of each repository, by the C(created)
        time of their image config, and delete the older ones.
      - For an image index, the time is the newest C(created) of its images. An
        C(org.opencontainers.image.created) annotation on the manifest takes precedence.
      - Tags created at the same second are ordered by name; the tag that sorts last
        counts as newer.
      - Tags whose creation time cannot be read are kept and do not count.
      - With O(older_than) as well, a tag is deleted only when it is outside the newest
        O(keep_last) B(and) older than O(older_than).
    type: int
  older_than:
    description:
      - Delete selected tags created longer ago than this duration.
      - A number with a unit, V(s), V(m), V(h), V(d) (24 hours) or V(w) (7 days), and
        several such parts in a row, for example V(30d), V(12h), V(90m) or V(1w2d).
      - Tags whose creation time cannot be read are kept.
    type: str
  protect:
    description:
      - Tag names that are never deleted, for example V(latest) or V(stable).
      - Their digests are protected too, so a selected tag on the same digest is
        skipped.
      - Protected tags do not count in O(keep_last).
      - Must be a list of strings (a single string is split at commas). Quote entries that
        YAML reads as numbers or booleans, for example V("1.10"), which unquoted is the
        number 1.1, or V("010"), which is 8. Any other type is rejected before the first
        request.
    type: raw
  workers:
    description:
      - Number of requests sent at the same time, from 1 to 32.
    type: int
    default: 4
notes:
  - At least one of O(tags), O(include), O(keep_last) and O(older_than) is required, so
    that a task with only O(repositories) cannot delete everything.
  - A registry answers C(405) when deletion is disabled; for CNCF Distribution set
    C(storage.delete.enabled=true).
  - Deleting manifests does not free storage until the registry runs garbage collection.
  - Only one level of image index is followed, both to find creation times and to
    protect the images a kept index lists.
  - A selected tag that the registry reports with a media type that is not a manifest
    media type, such as a C(text/html) page, fails, and nothing in its repository is
    deleted. A C(HEAD) response without C(Content-Type) costs one C(GET) more, to read
    the media type from the manifest.
  - The role C(oci.registry.registry_cleanup) runs this module for a list of policies.
seealso:
  - module: oci.registry.oci_manifest
"""

EXAMPLES = r"""
- name: Keep the 10 newest release tags and protect latest
  oci.registry.oci_cleanup:
    registry: registry.example.com
    username: ci-cleaner
    password: "{{ registry_password }}"
    repositories:
      - team/app
      - team/worker
    include:
      - 'v\d+\.\d+\.\d+'
    keep_last: 10
    protect:
      - latest

- name: Delete branch builds older than 30 days, but keep the 5 newest in any case
  oci.registry.oci_cleanup:
    registry: registry.example.com
    repositories: [team/app]
    include: ['branch-.*']
    exclude: ['branch-main-.*']
    older_than: 30d
    keep_last: 5

- name: Delete a list of named tags
  oci.registry.oci_cleanup:
    registry: registry.example.com
    repositories: [team/app]
    tags: [pr-101, pr-102, pr-117]
    workers: 8

- name: Show what a policy would delete
  oci.registry.oci_cleanup:
    registry: registry.example.com
    repositories: [team/app]
    older_than: 12w
  check_mode: true
  register: plan

- name: Print the plan
  ansible.builtin.debug:
    msg: "{{ plan.deleted | map(attribute='tag') | list }} would go; {{ plan.skipped | length }} skipped"
"""

RETURN = r"""
deleted:
  description:
    - Tags deleted, or in check mode tags that would be deleted, with the reason the
      policy chose them.
  returned: always
  type: list
  elements: dict
  contains: &entry
    repository:
      description: Repository of the tag.
      type: str
      sample: team/app
    tag:
      description: The tag. V(null) in RV(failures) when a whole repository failed.
      type: str
      sample: v1.2.0
    digest:
      description:
        - Digest the tag points to.
        - V(null) when the module did not need to resolve the tag (a kept tag when
          nothing is deleted), or could not.
      type: str
      sample: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
    created:
      description: Creation time used by O(keep_last) and O(older_than), V(null) when not read.
      type: str
      sample: "2024-05-01T12:00:00Z"
    reason:
      description: Why the tag was deleted, kept, skipped or not cleaned.
      type: str
      sample: not one of the 10 newest (rank 12)
  sample:
    - repository: team/app
      tag: v1.2.0
      digest: sha256:4f0c0d3e9b1a33b2bd1a5b1b5e7d1f3c6a0e2d9c8b7a6f5e4d3c2b1a0f9e8d7c
      created: "2024-05-01T12:00:00Z"
      reason: not one of the 10 newest (rank 12)
kept:
  description: Tags that stay, with the reason.
  returned: always
  type: list
  elements: dict
  contains: *entry
skipped:
  description:
    - Tags the policy selected that were not deleted, because a kept tag shares their
      digest, a kept index lists their manifest, a kept tag of the repository could not
      be read (so a shared digest cannot be ruled out), or another client deleted the
      manifest first.
  returned: always
  type: list
  elements: dict
  contains: *entry
failures:
  description:
    - Tags (or whole repositories, with RV(failures[].tag) V(null)) that could not be read
      or deleted, with the error. The task fails when this list is not empty.
    - Named C(failures) because Ansible reserves C(failed) for the task status.
  returned: always
  type: list
  elements: dict
  contains: *entry
repositories:
  description: Counts per repository, in the order of O(repositories).
  returned: always
  type: list
  elements: dict
  contains:
    repository:
      description: Repository name.
      type: str
    tags:
      description: Tags the repository had when listed.
      type: int
    deleted:
      description: Tags deleted (in check mode, to be deleted).
      type: int
    manifests_deleted:
      description: Manifests deleted (in check mode, to be deleted), one C(DELETE) each.
      type: int
    kept:
      description: Tags kept.
      type: int
    skipped:
      description: Tags skipped.
      type: int
    failed:
      description: Tags that failed; 1 with no tags when the tag list could not be read.
      type: int
  sample:
    - {repository: team/app, tags: 40, deleted: 28, manifests_deleted: 25, kept: 11, skipped: 1, failed: 0}
elapsed:
  description: Seconds the cleanup took, from validating the options to the last request.
  returned: always
  type: float
  sample: 1.284
actions:
  description: What the module did or, in check mode, would do, in plain words.
  returned: always
  type: list
  elements: str
  sample:
    - "team/app: 40 tags, 28 deleted (25 manifests), 11 kept, 1 skipped, 0 failed"
    - deleted 25 manifests (28 tags) from team/app
requests:
  description: HTTP requests this module run sent, counted as they went on the wire.
  returned: always
  type: dict
  contains:
    total:
      description: Every request, token service and retries included.
      type: int
      sample: 58
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
      sample: {"DELETE": 25, "GET": 32, "HEAD": 40}
    by_status:
      description: Request count per HTTP status; V(error) counts requests that got no answer.
      type: dict
      sample: {"200": 72, "202": 25, "401": 1}
"""

import datetime
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci.registry.plugins.module_utils._client import (
    MANIFEST_MEDIA_TYPES,
    MEDIA_TYPE_DOCKER_LIST,
    MEDIA_TYPE_OCI_INDEX,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils._inspect import with_body_media_type
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule
from ansible_collections.oci.registry.plugins.module_utils._options import text_list_option
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_repository, validate_tag
from ansible_collections.oci.registry.plugins.module_utils._retention import (
    RetentionPolicy,
    TagState,
    config_created,
    format_timestamp,
    group_by_digest,
    manifest_facts,
    parse_duration,
    protect_shared_digests,
)

MAX_WORKERS = 32
INDEX_MEDIA_TYPES = frozenset((MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_LIST))


class RepositoryRun(object):
    """State of one repository's cleanup: the tags found and the decisions, filled in phase by phase."""

    def __init__(self, repository):
        self.repository = repository
        self.tags = []
        self.scope = []
        self.kept_by_name = {}
        self.states = {}
        self.vanished = []
        self.delete = []
        self.keep = []
        self.skipped = []
        self.deleted = []
        self.failed = []
        # Tags whose digest (or index children) could not be read. They block every deletion.
        self.incomplete = set()
        # Manifest bodies by digest, read when the policy needs creation times.
        self.bodies = {}
        # Child manifest digest to the tags of the indexes that list it.
        self.children = {}
        # The part of ``children`` that kept tags hold.
        self.references = {}
        self.manifests_deleted = 0
        self.listed = False

    def entry(self, state, reason):
        return {
            "repository": self.repository,
            "tag": state.tag,
            "digest": state.digest,
            "created": format_timestamp(state.created),
            "reason": reason,
        }

    def fail_tag(self, tag, reason, digest=None):
        self.failed.append(self.entry(TagState(tag, digest), reason))


class RetentionCleaner(object):
    """Plan a retention policy for every repository, then delete what it selects."""

    def __init__(self, registry_module):
        self.registry_module = registry_module
        self.params = registry_module.params
        self.client = None
        self.check_mode = registry_module.check_mode
        # Creation time per manifest digest. Many tags, even in several repositories, share one.
        self.created_by_digest = {}

    def run(self):
        started = time.monotonic()
        policy = self._policy()
        runs = [RepositoryRun(repository) for repository in self._repositories()]
        workers = self.params["workers"]
        if not 1 <= workers <= MAX_WORKERS:
            raise InvalidInputError("workers is %d: set a number from 1 to %d." % (workers, MAX_WORKERS))

        self.client = self.registry_module.connect()
        # Check mode deletes nothing, so a user with pull rights alone can plan.
        actions = ("pull",) if self.check_mode else ("pull", "delete")
        for run in runs:
            self.client.declare(run.repository, actions)
        self.client.set_max_connections(workers)
        now = datetime.datetime.now(datetime.timezone.utc)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            self._list_tags(pool, runs, policy)
            self._resolve_scope(pool, runs, policy)
            if policy.needs_created:
                self._read_created(pool, runs)
            for run in runs:
                run.delete, run.keep = policy.decide([run.states[tag] for tag in run.scope if tag in run.states], now)
            self._resolve_kept(pool, runs)
            for run in runs:
                kept_states = [state for state, reason in run.keep]
                kept_states.extend(run.states[tag] for tag in run.kept_by_name if tag in run.states)
                run.delete, skipped = protect_shared_digests(run.delete, kept_states, run.references, run.incomplete)
                run.skipped.extend(run.entry(state, reason) for state, reason in skipped)
            self._delete(pool, runs)

        return self._finish(runs, round(time.monotonic() - started, 3))

    # Options ------------------------------------------------------------------------

    def _policy(self):
        params = self.params
        lists = dict((option, text_list_option(params, option)) for option in ("tags", "include", "exclude", "protect"))
        for option in ("tags", "protect"):
            for tag in lists[option] or ():
                validate_tag(tag)
        older_than = parse_duration(params["older_than"]) if params["older_than"] is not None else None
        return RetentionPolicy(
            tags=lists["tags"],
            include=lists["include"],
            exclude=lists["exclude"],
            keep_last=params["keep_last"],
            older_than=older_than,
            protect=lists["protect"],
        )

    def _repositories(self):
        repositories = []
        for repository in text_list_option(self.params, "repositories"):
            validate_repository(repository)
            if repository not in repositories:
                repositories.append(repository)
        if not repositories:
            raise InvalidInputError("repositories is empty: name at least one repository, for example 'team/app'.")
        return repositories

    # Phases -------------------------------------------------------------------------

    def _parallel(self, pool, function, jobs):
        """Call ``function(*job)`` for every job on the pool and return ``[(job, value, error)]`` in job order.

        A RegistryError becomes the error message of its job, and the other jobs go on.
        """
        def attempt(job):
            try:
                return function(*job), None
            except RegistryError as error:
                return None, self.client.redact(error.msg)

        return [(job, value, error) for job, (value, error) in zip(jobs, pool.map(attempt, jobs))]

    def _list_tags(self, pool, runs, policy):
        # The first list request runs alone. It receives the registry's challenge and, with
        # token auth, fetches the one token (for every declared repository) that the rest reuse.
        outcomes = self._parallel(pool, self.client.list_tags, [(runs[0].repository,)])
        outcomes += self._parallel(pool, self.client.list_tags, [(run.repository,) for run in runs[1:]])
        for run, (job, tags, error) in zip(runs, outcomes):
            if error is not None:
                run.fail_tag(None, error)
                continue
            run.listed = True
            run.tags = sorted(set(tags))
            run.scope, run.kept_by_name = policy.select(run.tags)
            if policy.tags is not None:
                missing = sorted(policy.tags - set(run.tags))
                if missing:
                    self.registry_module.actions.append(
                        "%s: %d named tag(s) not found: %s" % (run.repository, len(missing), ", ".join(missing))
                    )

    def _resolve_scope(self, pool, runs, policy):
        """Resolve every tag in scope to its digest, and with a time policy read the manifests too."""
        jobs = [(run, tag) for run in runs for tag in run.scope]
        if policy.needs_created:
            outcomes = self._parallel(pool, self._get_manifest, jobs)
        else:
            outcomes = self._parallel(pool, self._head_manifest, jobs)
        for (run, tag), found, error in outcomes:
            if error is not None:
                run.fail_tag(tag, error)
                # Its digest is unknown, so it may share one with a tag to delete.
                run.incomplete.add(tag)
            elif found is None:
                run.vanished.append(tag)
            elif found[0].media_type not in MANIFEST_MEDIA_TYPES:
                run.fail_tag(tag, "not deleted: the registry reports the media type %r for it, which is not a "
                                  "manifest media type" % found[0].media_type, found[0].digest)
                # A registry that returns anything but a manifest for a tag cannot be trusted with deletes.
                run.incomplete.add(tag)
            else:
                manifest, body = found
                run.states[tag] = TagState(tag, manifest.digest, None, manifest.media_type)
                if body is not None:
                    self._remember_children(run, tag, manifest, body)
                    run.bodies[manifest.digest] = body

    def _read_created(self, pool, runs):
        """Read the creation time of every distinct digest in scope, once per digest."""
        jobs = []
        seen = set()
        for run in runs:
            for digest, body in sorted(run.bodies.items()):
                if digest not in seen:
                    seen.add(digest)
                    jobs.append((run.repository, digest, body))
        failures = {}
        for job, created, error in self._parallel(pool, self._created, jobs):
            if error is not None:
                failures[job[1]] = error
        for run in runs:
            for tag, state in sorted(run.states.items()):
                if state.digest in failures:
                    del run.states[tag]
                    run.fail_tag(tag, failures[state.digest], state.digest)
                    run.incomplete.add(tag)
                else:
                    run.states[tag] = state._replace(created=self.created_by_digest.get(state.digest))

    def _resolve_kept(self, pool, runs):
        """Resolve the tags kept by name in repositories that have something to delete.

        Their digests, and the children of kept indexes, are what protect_shared_digests
        checks the deletions against.
        """
        jobs = [(run, tag) for run in runs if run.delete for tag in sorted(run.kept_by_name)]
        for (run, tag), found, error in self._parallel(pool, self._head_manifest, jobs):
            if error is not None:
                self._fail_kept(run, tag, error)
            elif found is not None:
                manifest = found[0]
                run.states[tag] = TagState(tag, manifest.digest, None, manifest.media_type)

        # Indexes kept by the policy were read already, but kept-by-name ones need their body.
        index_jobs = []
        for run in runs:
            if not run.delete:
                continue
            for tag in sorted(run.kept_by_name):
                state = run.states.get(tag)
                if state is not None and state.media_type in INDEX_MEDIA_TYPES:
                    index_jobs.append((run, tag))
        for (run, tag), found, error in self._parallel(pool, self._get_manifest, index_jobs):
            if error is not None:
                self._fail_kept(run, tag, error)
            elif found is not None:
                manifest, body = found
                self._remember_children(run, tag, manifest, body)
        for run in runs:
            kept_tags = set(state.tag for state, reason in run.keep) | set(run.kept_by_name)
            run.references = dict(
                (digest, sorted(tags & kept_tags)) for digest, tags in run.children.items() if tags & kept_tags
            )

    @staticmethod
    def _fail_kept(run, tag, error):
        """Report a kept tag that could not be read. It holds back every deletion in its repository."""
        del run.kept_by_name[tag]
        run.states.pop(tag, None)
        run.incomplete.add(tag)
        run.fail_tag(tag, "kept, but could not be read to protect its digest: %s" % error)

    def _delete(self, pool, runs):
        jobs = []
        for run in runs:
            for digest, states in group_by_digest(run.delete):
                jobs.append((run, digest, states))
        reasons = dict(((run.repository, state.tag), reason) for run in runs for state, reason in run.delete)

        if self.check_mode:
            outcomes = [(job, True, None) for job in jobs]
        else:
            outcomes = self._parallel(pool, self._delete_manifest, [(run, digest) for run, digest, states in jobs])
        for (run, digest, states), (job, deleted, error) in zip(jobs, outcomes):
            for state in states:
                reason = reasons[(run.repository, state.tag)]
                if error is not None:
                    run.failed.append(run.entry(state, error))
                elif deleted:
                    run.deleted.append(run.entry(state, reason))
                else:
                    run.skipped.append(run.entry(state, "the manifest was already deleted by another client"))
            if error is None and deleted:
                run.manifests_deleted += 1

    # Requests -----------------------------------------------------------------------

    def _head_manifest(self, run, tag):
        manifest = self.client.resolve_manifest(run.repository, tag)
        if manifest is None:
            return None
        if manifest.media_type is None:
            # The HEAD response had no Content-Type, so the body is read for the media type.
            return self._get_manifest(run, manifest.digest)
        return manifest, None

    def _get_manifest(self, run, reference):
        manifest, body = self.client.get_manifest(run.repository, reference)
        return None if manifest is None else (with_body_media_type(manifest, body), body)

    def _delete_manifest(self, run, digest):
        return self.client.delete_manifest(run.repository, digest)

    def _created(self, repository, digest, body, nested=False):
        """Return the creation time of manifest ``digest`` (None when unknown), reading its config.

        An index takes the newest time of the images it lists. Nested indexes are not followed.
        """
        if digest in self.created_by_digest:
            return self.created_by_digest[digest]
        facts = manifest_facts(body)
        created = facts.created
        if created is None and facts.config_digest is not None:
            config = self.client.get_blob(repository, facts.config_digest)
            created = config_created(config) if config is not None else None
        elif created is None and facts.children and not nested:
            times = []
            for child in facts.children:
                manifest, child_body = self.client.get_manifest(repository, child)
                if manifest is not None:
                    times.append(self._created(repository, child, child_body, nested=True))
            times = [moment for moment in times if moment is not None]
            created = max(times) if times else None
        self.created_by_digest[digest] = created
        return created

    @staticmethod
    def _remember_children(run, tag, manifest, body):
        if manifest.media_type not in INDEX_MEDIA_TYPES:
            return
        for child in manifest_facts(body).children:
            run.children.setdefault(child, set()).add(tag)

    # Result -------------------------------------------------------------------------

    def _finish(self, runs, elapsed):
        result = {
            "changed": any(run.manifests_deleted for run in runs),
            "deleted": [],
            "kept": [],
            "skipped": [],
            "failures": [],
            "repositories": [],
            "elapsed": elapsed,
        }
        actions = self.registry_module.actions
        for run in runs:
            kept = [run.entry(state, reason) for state, reason in run.keep]
            for tag, reason in run.kept_by_name.items():
                state = run.states.get(tag, TagState(tag))
                kept.append(run.entry(state._replace(created=self.created_by_digest.get(state.digest)), reason))
            kept.sort(key=lambda entry: entry["tag"])
            deleted = sorted(run.deleted, key=lambda entry: entry["tag"])
            skipped = sorted(run.skipped, key=lambda entry: entry["tag"])
            failed = sorted(run.failed, key=lambda entry: entry["tag"] or "")
            result["deleted"].extend(deleted)
            result["kept"].extend(kept)
            result["skipped"].extend(skipped)
            result["failures"].extend(failed)
            result["repositories"].append({
                "repository": run.repository,
                "tags": len(run.tags),
                "deleted": len(deleted),
                "manifests_deleted": run.manifests_deleted,
                "kept": len(kept),
                "skipped": len(skipped),
                "failed": len(failed),
            })
            actions.extend(self._describe(run, deleted, kept, skipped, failed))

        if self.registry_module.diff_mode:
            result["diff"] = self._diff(runs)
        if result["failures"]:
            first = result["failures"][0]
            where = first["repository"] if first["tag"] is None else "%s:%s" % (first["repository"], first["tag"])
            self.registry_module.fail(
                "the cleanup failed for %d tag(s) or repositories, listed in 'failures'. The first, %s: %s"
                % (len(result["failures"]), where, first["reason"]),
                **result
            )
        return result

    def _describe(self, run, deleted, kept, skipped, failed):
        if not run.listed:
            return ["%s: the tag list could not be read" % run.repository]
        lines = [
            "%s: %d tags, %d %s (%d manifests), %d kept, %d skipped, %d failed"
            % (run.repository, len(run.tags), len(deleted), "to delete" if self.check_mode else "deleted",
               run.manifests_deleted, len(kept), len(skipped), len(failed))
        ]
        if run.vanished:
            lines.append("%s: %d tag(s) disappeared while the cleanup ran: %s"
                         % (run.repository, len(run.vanished), ", ".join(run.vanished)))
        if run.manifests_deleted:
            verb = "would delete" if self.check_mode else "deleted"
            lines.append("%s %d manifests (%d tags) from %s%s"
                         % (verb, run.manifests_deleted, len(deleted), run.repository,
                            " (check mode)" if self.check_mode else ""))
        return lines

    def _diff(self, runs):
        before = {}
        after = {}
        for run in runs:
            gone = set(entry["tag"] for entry in run.deleted)
            before[run.repository] = list(run.tags)
            after[run.repository] = [tag for tag in run.tags if tag not in gone]
        return {"before": before, "after": after}


def main():
    registry_module = RegistryModule(
        argument_spec=dict(
            repositories=dict(type="raw", required=True),
            tags=dict(type="raw"),
            include=dict(type="raw"),
            exclude=dict(type="raw"),
            keep_last=dict(type="int"),
            older_than=dict(type="str"),
            protect=dict(type="raw"),
            workers=dict(type="int", default=4),
        ),
        required_one_of=[("tags", "include", "keep_last", "older_than")],
    )
    registry_module.run(RetentionCleaner(registry_module).run)


if __name__ == "__main__":
    main()
