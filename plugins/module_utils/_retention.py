# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Retention planning for oci_cleanup, free of any I/O so it can be tested without a registry.

A repository is planned in three steps:

1. ``RetentionPolicy.select`` splits the tag names into the scope (tags the policy may
   delete) and tags kept by name (not named in ``tags``, not matched by ``include``,
   matched by ``exclude``, or protected).
2. ``RetentionPolicy.decide`` ranks the scope by creation time and picks the tags to
   delete (``keep_last``, ``older_than``).
3. ``protect_shared_digests`` moves back every deletion whose digest a kept tag also
   carries, because deleting a manifest deletes every tag that points to it.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_digest

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_RE = re.compile(r"^(?:\d+[smhdw])+$")
_DURATION_PART_RE = re.compile(r"(\d+)([smhdw])")

# RFC 3339 as image builders write it: Go writes up to nine fractional digits.
_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)

# The annotation an image index or manifest may carry instead of a config `created`.
CREATED_ANNOTATION = "org.opencontainers.image.created"

# At most this many tag names are spelled out in a reason. The rest are counted.
REASON_TAG_LIMIT = 5

TagState = namedtuple("TagState", ["tag", "digest", "created", "media_type"], defaults=(None, None, None))
"""One tag: its name, the digest it points to (None if not resolved), the creation time
of that manifest (an aware datetime, or None when unknown) and its media type."""

ManifestFacts = namedtuple("ManifestFacts", ["created", "config_digest", "children"])
"""Creation-time data of a manifest body: ``created`` from an annotation or a schema 1
history, else the digest of the config blob to read, else the digests of an index's children.
Digests that are not valid are left out, so they are never requested."""


def parse_duration(text):
    """Return the number of seconds in a duration such as ``30d``, ``12h``, ``90m`` or ``1w2d``.

    Units are s, m, h, d (24 hours) and w (7 days). Raise InvalidInputError for anything
    else, and for a total of zero.
    """
    value = str(text).strip().lower()
    if not _DURATION_RE.match(value):
        raise InvalidInputError(
            "older_than %r is invalid: expected a number followed by a unit (s, m, h, d or w), "
            "for example '30d', '12h' or '1w2d'." % (text,)
        )
    seconds = sum(int(number) * DURATION_UNITS[unit] for number, unit in _DURATION_PART_RE.findall(value))
    if seconds == 0:
        raise InvalidInputError("older_than %r is zero: give a duration above zero, for example '30d'." % (text,))
    return seconds


def parse_timestamp(text):
    """Return the RFC 3339 timestamp ``text`` as an aware UTC datetime, or None if it is not one.

    Fractional seconds beyond microseconds are cut, since image configs written by Go
    carry nanoseconds.
    """
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    if offset in ("Z", "z"):
        zone = datetime.timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        zone = datetime.timezone(sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                                   microsecond, tzinfo=zone)
    except ValueError:
        return None
    return moment.astimezone(datetime.timezone.utc)


def format_timestamp(moment):
    """Return an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ``, or None for None."""
    if moment is None:
        return None
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(seconds):
    """Return ``seconds`` in the largest unit that divides it, for example ``2w`` or ``90m``."""
    for unit in ("w", "d", "h", "m"):
        if seconds % DURATION_UNITS[unit] == 0:
            return "%d%s" % (seconds // DURATION_UNITS[unit], unit)
    return "%ds" % seconds


def manifest_facts(body):
    """Return the ManifestFacts of a manifest or index body (bytes), with all fields empty when unreadable."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return ManifestFacts(None, None, ())
    if not isinstance(document, dict):
        return ManifestFacts(None, None, ())

    annotations = document.get("annotations")
    if isinstance(annotations, dict):
        created = parse_timestamp(annotations.get(CREATED_ANNOTATION))
        if created is not None:
            return ManifestFacts(created, None, ())

    config = document.get("config")
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        return ManifestFacts(None, config["digest"] if _is_digest(config["digest"]) else None, ())

    manifests = document.get("manifests")
    if isinstance(manifests, list):
        children = tuple(
            child["digest"] for child in manifests if isinstance(child, dict) and _is_digest(child.get("digest"))
        )
        return ManifestFacts(None, None, children)

    # Docker schema 1 keeps the config of the top layer as a JSON string in the history.
    history = document.get("history")
    if isinstance(history, list) and history and isinstance(history[0], dict):
        return ManifestFacts(config_created(history[0].get("v1Compatibility", "")), None, ())
    return ManifestFacts(None, None, ())


def _is_digest(value):
    if not isinstance(value, str):
        return False
    try:
        validate_digest(value)
    except InvalidInputError:
        return False
    return True


def config_created(body):
    """Return the ``created`` time of an image config (bytes or str), or None when it has none."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        document = json.loads(body)
    except (TypeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    return parse_timestamp(document.get("created"))


def compile_patterns(patterns, option):
    """Compile a list of regular expressions, raising InvalidInputError that names ``option`` for an invalid one."""
    compiled = []
    for pattern in patterns or ():
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise InvalidInputError("%s pattern %r is not a valid regular expression: %s." % (option, pattern, error))
    return compiled


def _matches(patterns, tag):
    return any(pattern.fullmatch(tag) for pattern in patterns)


def _name_list(tags):
    names = sorted(tags)
    shown = ", ".join(names[:REASON_TAG_LIMIT])
    if len(names) > REASON_TAG_LIMIT:
        shown += " and %d more" % (len(names) - REASON_TAG_LIMIT)
    return shown


class RetentionPolicy(object):
    """The options of one oci_cleanup run that decide which tags go.

    ``include`` and ``exclude`` are regular expressions that must match the whole tag.
    ``older_than`` is in seconds. Protected tags are kept and are not counted in
    ``keep_last``.
    """

    def __init__(self, tags=None, include=None, exclude=None, keep_last=None, older_than=None, protect=None):
        if keep_last is not None and keep_last < 1:
            raise InvalidInputError(
                "keep_last is %d: set 1 or more. To delete every matching tag, leave keep_last unset." % keep_last
            )
        if tags is None and not include and keep_last is None and older_than is None:
            raise InvalidInputError(
                "no tag is selected for deletion: set at least one of tags, include, keep_last and older_than."
            )
        self.tags = None if tags is None else frozenset(tags)
        self.include = compile_patterns(include, "include")
        self.exclude = compile_patterns(exclude, "exclude")
        self.keep_last = keep_last
        self.older_than = older_than
        self.protect = frozenset(protect or ())

    @property
    def needs_created(self):
        """True when the decision depends on creation times, so configs must be read."""
        return self.keep_last is not None or self.older_than is not None

    def select(self, tags):
        """Split tag names into ``(scope, kept)``: a sorted list, and a dict of tag to reason."""
        scope = []
        kept = {}
        for tag in sorted(set(tags)):
            if tag in self.protect:
                kept[tag] = "protected"
            elif self.tags is not None and tag not in self.tags:
                kept[tag] = "not named in tags"
            elif self.include and not _matches(self.include, tag):
                kept[tag] = "matches no include pattern"
            elif _matches(self.exclude, tag):
                kept[tag] = "matches an exclude pattern"
            else:
                scope.append(tag)
        return scope, kept

    def decide(self, states, now):
        """Split the TagStates of the scope into ``(delete, keep)``, two lists of ``(TagState, reason)``.

        Without keep_last and older_than every tag of the scope is deleted. With them, a
        tag whose creation time is unknown is kept and does not take a keep_last place.
        With both, a tag is deleted only when it is outside the newest ``keep_last`` and
        older than ``older_than``.
        """
        if not self.needs_created:
            return [(state, self._selection_reason()) for state in states], []

        dated = [state for state in states if state.created is not None]
        keep = [(state, "creation time unknown") for state in states if state.created is None]
        # Newest first. At equal times the tag that sorts last counts as newer.
        dated.sort(key=lambda state: (state.created, state.tag), reverse=True)
        cutoff = None
        if self.older_than is not None:
            cutoff = now - datetime.timedelta(seconds=self.older_than)

        delete = []
        for rank, state in enumerate(dated, start=1):
            reasons_to_keep = []
            reasons_to_delete = []
            if self.keep_last is not None:
                if rank <= self.keep_last:
                    reasons_to_keep.append("one of the %d newest (rank %d)" % (self.keep_last, rank))
                else:
                    reasons_to_delete.append("not one of the %d newest (rank %d)" % (self.keep_last, rank))
            if cutoff is not None:
                age = "created %s" % format_timestamp(state.created)
                if state.created < cutoff:
                    reasons_to_delete.append("%s, more than %s ago" % (age, format_duration(self.older_than)))
                else:
                    reasons_to_keep.append("%s, less than %s ago" % (age, format_duration(self.older_than)))
            if reasons_to_keep:
                keep.append((state, "; ".join(reasons_to_keep)))
            else:
                delete.append((state, "; ".join(reasons_to_delete)))
        return delete, keep

    def _selection_reason(self):
        if self.tags is not None and self.include:
            return "named in tags and matches an include pattern"
        if self.tags is not None:
            return "named in tags"
        return "matches an include pattern"


def protect_shared_digests(delete, kept_states, references=None, incomplete=()):
    """Drop the deletions that would remove or break a kept tag, and return ``(delete, skipped)``.

    ``delete`` is a list of ``(TagState, reason)`` and ``kept_states`` lists every
    TagState that stays. ``references`` maps a manifest digest to the kept tags whose
    index lists it as a child. ``incomplete`` names kept tags that could not be read in
    full (digest or index children unknown): they may carry any digest, so they block
    every deletion. Skipped entries are ``(TagState, reason)`` too.
    """
    references = references or {}
    unknown = sorted(set(incomplete) | set(state.tag for state in kept_states if state.digest is None))
    if unknown and delete:
        reason = ("not deleted: kept tag(s) %s could not be read completely, so they may point to or "
                  "reference the same manifest" % _name_list(unknown))
        return [], [(state, reason) for state, _reason in delete]

    kept_by_digest = {}
    for state in kept_states:
        kept_by_digest.setdefault(state.digest, []).append(state.tag)
    remaining = []
    skipped = []
    for state, reason in delete:
        holders = kept_by_digest.get(state.digest)
        referrers = references.get(state.digest)
        if holders:
            skipped.append((state, "not deleted: its digest is also tagged %s, which is kept; deleting the "
                                   "manifest would delete those tags too" % _name_list(holders)))
        elif referrers:
            skipped.append((state, "not deleted: the index tagged %s, which is kept, lists this manifest; "
                                   "deleting it would break that index" % _name_list(referrers)))
        else:
            remaining.append((state, reason))
    return remaining, skipped


def group_by_digest(delete):
    """Return the deletions grouped by digest: a sorted list of ``(digest, [TagState, ...])``."""
    groups = {}
    for state, _reason in delete:
        groups.setdefault(state.digest, []).append(state)
    return sorted(groups.items())
