# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""The registry client shared by every module: session, auth flow, retries and statistics.

One client serves one module run. Operations declare the scopes they need before the
first request, so the first Bearer challenge is answered with a single token that covers
the whole operation (for a delete: ``repository:<name>:delete,pull``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import socket
import ssl
import threading
import time
import warnings
from http.client import HTTPException, RemoteDisconnected
from collections import namedtuple
from email.utils import parsedate_to_datetime

from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from ansible_collections.oci.registry.plugins.module_utils._auth import (
    is_local_host,
    merge_scopes,
    parse_challenges,
    repository_scope,
    scopes_cover,
    select_challenge,
    unsafe_realm_reason,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    ConnectionFailedError,
    DeletionDisabledError,
    PermissionDeniedError,
    RegistryError,
    RequestTimeoutError,
    TLSFailedError,
    InvalidInputError,
    UnexpectedResponseError,
    echo,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    digest_algorithm,
    validate_digest,
    validate_tag,
)

try:
    import requests
    from requests.utils import get_environ_proxies
    from urllib3.exceptions import DecodeError, InsecureRequestWarning, ProtocolError, ReadTimeoutError
    from urllib3.exceptions import SSLError as Urllib3SSLError
except ImportError:
    requests = None

MEDIA_TYPE_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

# Sent on every manifest read: listing the index types makes the registry return the
# index itself (and its digest) for a multi-platform tag, not one platform's manifest.
MANIFEST_ACCEPT = (
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_OCI_MANIFEST,
    MEDIA_TYPE_DOCKER_LIST,
    MEDIA_TYPE_DOCKER_MANIFEST,
)

# Content types a HEAD on /manifests/ may carry for a real manifest. Anything else (a
# blob's application/octet-stream, for example) blocks a delete by digest.
MANIFEST_MEDIA_TYPES = frozenset(MANIFEST_ACCEPT + (
    "application/vnd.oci.artifact.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
))

# Actions a token must grant for each HTTP method on a repository.
METHOD_ACTIONS = {
    "GET": ("pull",),
    "HEAD": ("pull",),
    "DELETE": ("delete",),
    "PUT": ("pull", "push"),
    "POST": ("pull", "push"),
    "PATCH": ("pull", "push"),
}
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "DELETE"))
RETRY_STATUSES = frozenset((429, 502, 503, 504))
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
# Only reads follow a redirect. A DELETE or PUT sent on to the Location would act on
# whatever the registry names there, not on what the module reported.
REDIRECT_METHODS = frozenset(("GET", "HEAD"))

MAX_REDIRECTS = 5
# Each request handles at most this many challenges: the first one, one fresh
# challenge after a stale token, and one retry with the challenge's own scope.
MAX_AUTH_ROUNDS = 3
TOKEN_MIN_LIFETIME = 60
# A cached token is refreshed this many seconds before its stated expiry.
TOKEN_EXPIRY_MARGIN = 5
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0
ERROR_BODY_LIMIT = 64 * 1024
TOKEN_BODY_LIMIT = 1024 * 1024
MANIFEST_BODY_LIMIT = 4 * 1024 * 1024
SNIPPET_LENGTH = 200
# A tag or referrers list with more pages than this raises an error. At 100 tags a page,
# that is 100,000 tags. A Link header that names a new URL on every page is a loop, and
# without this limit the client would follow it forever.
MAX_LIST_PAGES = 1000
# The body of one response must arrive within this many times the timeout option,
# counted from its headers. With the default timeout, that leaves 2 minutes for the
# largest body the client reads (4 MiB, about 35 KB/s). A server that sends one byte at
# a time therefore cannot hold the run for hours.
BODY_TIME_FACTOR = 4
BODY_CHUNK_SIZE = 64 * 1024
# A bearer token as RFC 6750 section 2.1 defines it (b64token). Anything else, such as
# CR, LF or non-ASCII text, cannot go into an Authorization header.
_BEARER_TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/-]+=*")
# User name sent with an identity token when none is configured, as docker login does.
IDENTITY_TOKEN_USER = "<token>"

Manifest = namedtuple("Manifest", ["digest", "media_type", "size"])
"""A resolved manifest: its digest, the Content-Type the registry sent and its size."""


class Response(object):
    """A fully read HTTP response: status, headers (case-insensitive), bounded body."""

    def __init__(self, method, url, status, headers, body, truncated=False):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated
        # Why a retryable status was returned without (further) retries, for messages.
        self.retry_note = None
        # A likely cause the client adds to messages, such as a plain_http mismatch.
        self.hint = None
        # True when the logical request was sent more than once after a retryable status
        # or a closed connection, so an earlier attempt may have taken effect.
        self.retried = False

    def oci_errors(self):
        """Return the ``errors`` list of an OCI error body, or [] when there is none."""
        try:
            document = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return []
        errors = document.get("errors") if isinstance(document, dict) else None
        if not isinstance(errors, list):
            return []
        return [error for error in errors if isinstance(error, dict)]

    def error_codes(self):
        return [str(error.get("code")) for error in self.oci_errors() if error.get("code")]

    def describe(self, redact=None):
        """Return ``HTTP <status>`` plus the OCI error codes and messages, or a body snippet.

        ``redact`` masks secrets. It is applied to the whole body before the snippet is cut
        and its whitespace folded, so neither step can split a secret and let a part through.
        """
        redact = redact or (lambda text: text)
        details = []
        errors = self.oci_errors()
        if errors:
            details.append(redact("; ".join(
                "%s: %s" % (error.get("code", "?"), error.get("message", "")) for error in errors
            )))
        else:
            text = redact(self.body.decode("utf-8", "replace"))
            snippet = " ".join(text[:SNIPPET_LENGTH].split())
            if snippet:
                if len(text) > SNIPPET_LENGTH or self.truncated:
                    snippet += " ..."
                details.append("body: %r" % snippet)
        if self.retry_note:
            details.append(self.retry_note)
        if self.hint:
            details.append(self.hint)
        if not details:
            return "HTTP %d" % self.status
        return "HTTP %d (%s)" % (self.status, "; ".join(details))


class RequestStats(object):
    """Counts of every HTTP request the client sent, token service and retries included.

    Safe to update from several threads (oci_cleanup sends requests concurrently).
    """

    def __init__(self):
        self.total = 0
        self.token = 0
        self.retries = 0
        self.by_method = {}
        self.by_status = {}
        self._lock = threading.Lock()

    def record(self, method, status, token=False):
        """Count one request; ``status`` is None when no answer arrived."""
        key = "error" if status is None else str(status)
        with self._lock:
            self.total += 1
            if token:
                self.token += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1
            self.by_status[key] = self.by_status.get(key, 0) + 1

    def record_retry(self):
        with self._lock:
            self.retries += 1

    def as_dict(self):
        return {
            "total": self.total,
            "token": self.token,
            "retries": self.retries,
            "by_method": dict(sorted(self.by_method.items())),
            "by_status": dict(sorted(self.by_status.items())),
        }


class ClientConfig(object):
    """Connection, credential and retry settings for one client."""

    def __init__(self, registry, plain_http=False, validate_certs=True, ca_path=None,
                 client_cert=None, client_key=None, timeout=30.0, username=None,
                 password=None, identity_token=None, retries=3, retry_max_time=60.0):
        self.registry = registry
        self.plain_http = plain_http
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.client_cert = client_cert
        self.client_key = client_key
        self.timeout = timeout
        self.username = username
        self.password = password
        self.identity_token = identity_token
        self.retries = retries
        self.retry_max_time = retry_max_time

    @property
    def has_credentials(self):
        # An identity token needs no user name: credential helpers return it without one.
        return bool(self.identity_token or (self.username and self.password))


class _Token(object):
    """A cached token: the scopes it was requested for, its expiry on the client clock,
    and ``serial``, the order in which the client fetched it."""

    def __init__(self, value, scopes, expires_at, serial):
        self.value = value
        self.scopes = scopes
        self.expires_at = expires_at
        self.serial = serial


class RegistryClient(object):
    """HTTP client for one registry and one module run.

    ``warn`` receives warning strings, ``on_secret`` every token the client obtains (so
    the caller can mask it), ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(self, config, warn=None, on_secret=None, sleep=time.sleep, clock=time.monotonic):
        if requests is None:
            raise RegistryError("the Python library 'requests' is required but not installed.")
        self.config = config
        self.stats = RequestStats()
        self._warn = warn or (lambda message: None)
        self._on_secret = on_secret or (lambda secret: None)
        self._sleep = sleep
        self._clock = clock
        self._session = _Session()
        # Proxies still come from the environment (get_environ_proxies in _send_once);
        # .netrc is not read, so no Authorization header appears that the auth flow did
        # not choose.
        self._session.trust_env = False
        scheme = "http" if config.plain_http else "https"
        self.base_url = "%s://%s" % (scheme, config.registry)
        self.origin = _origin(self.base_url)
        self._declared_scopes = ()
        self._bearer_challenges = {}
        self._basic_origins = set()
        self._tokens = {}
        # Guards _tokens and _token_serial. It is held across a token fetch, so threads
        # that find no usable token wait for one fetch instead of each sending their own.
        self._token_lock = threading.RLock()
        self._token_serial = 0
        # Realms that answered 400 to the client's combined scopes: later tokens from
        # them are requested with the challenge's own scope only.
        self._narrow_realms = set()
        self._secrets = set(value for value in (config.password, config.identity_token) if value)
        for secret in (config.password, config.identity_token):
            if secret:
                # The encoded HTTP Basic form is masked too: an error body that echoes the
                # Authorization header would expose the credentials in it.
                encoded = _basic_header(config.username or IDENTITY_TOKEN_USER, secret).split(" ", 1)[1]
                self._secrets.add(encoded)
                self._on_secret(encoded)
        self._warned_plain_credentials = False
        # Whether any answer arrived yet, for the plain_http hint on the first one.
        self._answered = False

    # Scopes ---------------------------------------------------------------------------

    def declare(self, repository, actions):
        """Declare that the operation will perform ``actions`` on ``repository``.

        Call it before the first request, because the first token request covers every
        declared scope at once.
        """
        self._declared_scopes = merge_scopes(
            self._declared_scopes + (repository_scope(repository, actions),)
        )

    # Registry operations --------------------------------------------------------------

    def resolve_manifest(self, repository, reference, expected_digest=None):
        """Return the Manifest that ``reference`` (a tag or digest) names, or None on 404.

        Uses HEAD; when the registry sends no Docker-Content-Digest, falls back to a GET and
        hashes the exact bytes with the algorithm of ``expected_digest`` (sha256 otherwise).
        """
        reference = _checked_reference(reference, "resolve a manifest in %s" % repository)
        path = "/v2/%s/manifests/%s" % (repository, reference)
        headers = {"Accept": ", ".join(MANIFEST_ACCEPT)}
        algorithm = digest_algorithm(expected_digest) if expected_digest else "sha256"
        response = self.request("HEAD", path, repository, headers=headers)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._response_error(response, "resolve manifest %r in %s" % (reference, repository))
        media_type = _media_type(response.headers.get("Content-Type"))
        size = _int_or_none(response.headers.get("Content-Length"))
        digest = _usable_digest(response.headers.get("Docker-Content-Digest"), algorithm)
        # A digest reference also needs the media type, which distinguishes a manifest
        # from a blob. Some registries and proxies send no Content-Type on HEAD.
        if digest and (media_type or not expected_digest):
            return Manifest(digest, media_type, size)

        response = self.request("GET", path, repository, headers=headers, body_limit=MANIFEST_BODY_LIMIT)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._response_error(response, "read manifest %r in %s" % (reference, repository))
        if response.truncated:
            raise UnexpectedResponseError(
                "manifest %r in %s is larger than %d bytes; it cannot be hashed to find its digest."
                % (reference, repository, MANIFEST_BODY_LIMIT)
            )
        digest = "%s:%s" % (algorithm, hashlib.new(algorithm, response.body).hexdigest())
        media_type = (_media_type(response.headers.get("Content-Type")) or media_type
                      or _body_media_type(response.body))
        return Manifest(digest, media_type, len(response.body))

    def delete_manifest(self, repository, digest):
        """Delete the manifest ``digest``; return True if deleted, False if already absent."""
        digest = _checked_digest(digest, "delete a manifest in %s" % repository)
        path = "/v2/%s/manifests/%s" % (repository, digest)
        return self._delete(path, repository, "manifest", digest)

    def get_manifest(self, repository, reference):
        """Return ``(Manifest, body bytes)`` for a tag or digest, or ``(None, None)`` on 404.

        The digest is the registry's Docker-Content-Digest when that is a valid digest
        with the algorithm of ``reference`` (sha256 for a tag), else the hash of the
        exact bytes.
        """
        reference = _checked_reference(reference, "read a manifest in %s" % repository)
        path = "/v2/%s/manifests/%s" % (repository, reference)
        headers = {"Accept": ", ".join(MANIFEST_ACCEPT)}
        response = self.request("GET", path, repository, headers=headers, body_limit=MANIFEST_BODY_LIMIT)
        if response.status == 404:
            return None, None
        if response.status != 200:
            raise self._response_error(response, "read manifest %r in %s" % (reference, repository))
        if response.truncated:
            raise UnexpectedResponseError(
                "manifest %r in %s is larger than %d bytes." % (reference, repository, MANIFEST_BODY_LIMIT)
            )
        algorithm = _reference_algorithm(reference)
        digest = _usable_digest(response.headers.get("Docker-Content-Digest"), algorithm)
        if digest is None:
            digest = "%s:%s" % (algorithm, hashlib.new(algorithm, response.body).hexdigest())
        media_type = _media_type(response.headers.get("Content-Type"))
        return Manifest(digest, media_type, len(response.body)), response.body

    def get_blob(self, repository, digest, limit=MANIFEST_BODY_LIMIT):
        """Return the bytes of a small blob (an image config, for example), or None on 404.

        Follows the registry's redirect to blob storage; raises when the blob is larger
        than ``limit`` bytes.
        """
        digest = _checked_digest(digest, "read a blob in %s" % repository)
        path = "/v2/%s/blobs/%s" % (repository, digest)
        response = self.request("GET", path, repository, body_limit=limit)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._response_error(response, "read blob %s in %s" % (digest, repository))
        if response.truncated:
            raise UnexpectedResponseError(
                "blob %s in %s is larger than %d bytes; it is not read." % (digest, repository, limit)
            )
        return response.body

    def list_tags(self, repository, page_size=None):
        """Return every tag of ``repository``, following ``Link`` pagination; [] on 404.

        ``page_size`` sets the ``n`` parameter of the first request; the registry may
        return fewer and link to the next page. Only a 404 on the first page means an
        empty list. Anything that would leave the list incomplete raises
        UnexpectedResponseError: an error or a malformed body on any page, a ``tags``
        field that is not a list of valid tags, or a Link the client cannot follow.
        """
        path = "/v2/%s/tags/list" % repository
        if page_size:
            path += "?n=%d" % page_size
        what = "the tag list of %s" % repository
        tags = []

        def collect(document, response):
            page = document.get("tags")
            if page is None:
                return
            if not isinstance(page, list):
                raise UnexpectedResponseError(
                    "the registry %s sent %s with a 'tags' field that is not a list: %s."
                    % (self.config.registry, what, self._describe(response))
                )
            for tag in page:
                if not isinstance(tag, str) or not _is_valid_tag(tag):
                    raise UnexpectedResponseError(
                        "the registry %s listed %s in %s, which is not a valid tag; the tag list "
                        "cannot be trusted." % (self.config.registry, echo(tag), what)
                    )
                tags.append(tag)

        self._read_pages(path, repository, what, collect)
        return tags

    def put_manifest(self, repository, reference, body, media_type):
        """Upload manifest ``body`` under ``reference`` (a tag or digest); return its digest.

        The digest is the registry's Docker-Content-Digest when that is a valid digest
        with the algorithm of ``reference`` (sha256 for a tag), else the hash of ``body``.
        """
        reference = _checked_reference(reference, "put a manifest in %s" % repository)
        path = "/v2/%s/manifests/%s" % (repository, reference)
        headers = {"Content-Type": media_type}
        response = self.request("PUT", path, repository, headers=headers, data=body)
        if response.status not in (200, 201):
            raise self._response_error(response, "put manifest %r in %s" % (reference, repository))
        algorithm = _reference_algorithm(reference)
        digest = _usable_digest(response.headers.get("Docker-Content-Digest"), algorithm)
        return digest or "%s:%s" % (algorithm, hashlib.new(algorithm, body).hexdigest())

    def delete_tag(self, repository, tag):
        """Delete only the tag ``tag``; return True if deleted, False on 404.

        OCI distribution 1.1 allows DELETE on /manifests/<tag>. A registry that does not
        delete single tags returns 400 or 405 (CNCF Distribution 2.8: 400 DIGEST_INVALID).
        That raises UnexpectedResponseError with ``status`` and ``codes`` set, so the
        caller can choose a fallback. A 405 does not tell whether digest deletes work.
        A 404 after a retried DELETE counts as deleted, like in delete_manifest.
        """
        try:
            validate_tag(tag)
        except InvalidInputError as error:
            raise InvalidInputError("cannot delete a tag in %s: %s Nothing was sent." % (repository, error.msg))
        response = self.request("DELETE", "/v2/%s/manifests/%s" % (repository, tag), repository)
        if response.status in (200, 202, 204):
            return True
        if response.status == 404:
            return self._retried_delete_done(response, "tag %s" % tag, repository)
        raise self._response_error(response, "delete tag %r in %s" % (tag, repository))

    def check_manifest_deletion(self, repository):
        """Raise DeletionDisabledError unless the registry accepts manifest deletes by digest.

        Sends DELETE for a random sha256 digest that names no manifest, so nothing is
        deleted. 404 means deletes are enabled, 400 or 405 that they are disabled, as OCI
        distribution 1.1 specifies; CNCF Distribution 2.8 returns 404 or 405.
        """
        probe = "sha256:%064x" % random.getrandbits(256)
        response = self.request("DELETE", "/v2/%s/manifests/%s" % (repository, probe), repository)
        if response.status == 404:
            return
        if response.status in (400, 405):
            raise DeletionDisabledError(
                "the registry %s does not delete manifests in %s: DELETE of a manifest digest "
                "that does not exist returned %s instead of 404 (for CNCF Distribution, set "
                "storage.delete.enabled to true)."
                % (self.config.registry, repository, self._describe(response)),
                status=response.status, codes=response.error_codes(),
            )
        raise self._response_error(response, "check whether manifest deletion is enabled in %s" % repository)

    def upload_blob(self, repository, data):
        """Upload ``data`` as one blob with a POST and a monolithic PUT; return its digest."""
        digest = "sha256:%s" % hashlib.sha256(data).hexdigest()
        response = self.request("POST", "/v2/%s/blobs/uploads/" % repository, repository)
        if response.status != 202 or not response.headers.get("Location"):
            raise self._response_error(response, "start a blob upload in %s" % repository)
        try:
            location = _add_query(urljoin(response.url, response.headers["Location"]), [("digest", digest)])
        except ValueError as error:
            raise UnexpectedResponseError(
                "the registry %s answered the blob upload in %s with the Location %s, which is "
                "not a URL (%s)." % (self.config.registry, repository,
                                     echo(_strip_query(response.headers["Location"])), error)
            )
        response = self.request("PUT", location, repository, data=data,
                                headers={"Content-Type": "application/octet-stream"})
        if response.status not in (201, 204):
            raise self._response_error(response, "upload blob %s to %s" % (digest, repository))
        return digest

    def list_referrers(self, repository, digest):
        """Return the descriptors of the manifests whose ``subject`` is ``digest``.

        Uses the referrers API of OCI distribution 1.1 and follows ``Link`` pagination.
        Returns None when the first page is a 404. The spec reserves that status for a
        registry without the API (CNCF Distribution 2.8), so the caller reads the
        referrers tag schema instead. Every returned descriptor is a JSON object with a
        valid ``digest``. Anything that would leave the list incomplete raises
        UnexpectedResponseError, as in list_tags.
        """
        digest = _checked_digest(digest, "list referrers in %s" % repository)
        path = "/v2/%s/referrers/%s" % (repository, digest)
        headers = {"Accept": MEDIA_TYPE_OCI_INDEX}
        what = "the referrers of %s in %s" % (digest, repository)
        descriptors = []

        def collect(document, response):
            manifests = document.get("manifests", [])
            if not isinstance(manifests, list):
                raise UnexpectedResponseError(
                    "the registry %s sent a referrers list for %s in %s that is not an image index: %s."
                    % (self.config.registry, digest, repository, self._describe(response))
                )
            for item in manifests:
                problem = _descriptor_problem(item)
                if problem is not None:
                    raise UnexpectedResponseError(
                        "the registry %s listed %s in %s; the referrers list cannot be trusted."
                        % (self.config.registry, problem, what)
                    )
                descriptors.append(item)

        if not self._read_pages(path, repository, what, collect, headers=headers):
            return None
        return descriptors

    def blob_exists(self, repository, digest):
        """Return True when HEAD on the blob answers 200, False on 404."""
        digest = _checked_digest(digest, "check a blob in %s" % repository)
        path = "/v2/%s/blobs/%s" % (repository, digest)
        response = self.request("HEAD", path, repository)
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise self._response_error(response, "check blob %s in %s" % (digest, repository))

    def delete_blob(self, repository, digest):
        """Delete the blob ``digest``; return True if deleted, False if already absent."""
        digest = _checked_digest(digest, "delete a blob in %s" % repository)
        path = "/v2/%s/blobs/%s" % (repository, digest)
        return self._delete(path, repository, "blob", digest)

    def _delete(self, path, repository, kind, digest):
        response = self.request("DELETE", path, repository)
        if response.status in (200, 202, 204):
            return True
        if response.status == 404:
            return self._retried_delete_done(response, "%s %s" % (kind, digest), repository)
        if response.status == 405:
            raise DeletionDisabledError(
                "the registry %s refused to delete %s %s in %s with HTTP 405: deletion is "
                "disabled on this registry (for CNCF Distribution, set storage.delete.enabled "
                "to true). %s" % (self.config.registry, kind, digest, repository, self._describe(response)),
                status=405, codes=response.error_codes(),
            )
        raise self._response_error(response, "delete %s %s in %s" % (kind, digest, repository))

    def _retried_delete_done(self, response, target, repository):
        """Return whether a DELETE that answered 404 deleted ``target`` in this run.

        Callers resolve the target before they delete it. When the DELETE was sent again
        after a 5xx, a 429 or a closed connection, the earlier attempt most likely
        deleted it, so the 404 counts as this run's delete (True). Without a retry, the
        404 means another client deleted it first (False).
        """
        if not response.retried:
            return False
        self._warn(
            "DELETE %s answered 404 after a retry: the earlier attempt most likely deleted %s "
            "from %s, so it counts as deleted by this task." % (urlsplit(response.url).path, target, repository)
        )
        return True

    def _read_pages(self, path, repository, what, collect, headers=None):
        """Read every page of a paginated list, calling ``collect(document, response)`` for each.

        Returns False when the first page is a 404, True otherwise. Raises
        UnexpectedResponseError for anything that would make the list incomplete: a
        status other than 200 (a 404 included) after the first page, a body over the
        size limit or not a JSON object, a Link the client cannot follow, a page that
        links back to an earlier one, or more than MAX_LIST_PAGES pages.
        """
        seen_pages = set()
        while path is not None:
            if path in seen_pages:
                raise UnexpectedResponseError(
                    "the registry %s linked %s back to a page it already sent (%s)."
                    % (self.config.registry, what, echo(path))
                )
            if len(seen_pages) >= MAX_LIST_PAGES:
                raise UnexpectedResponseError(
                    "the registry %s sent more than %d pages of %s; the client stops there, "
                    "taking the Link headers for a loop." % (self.config.registry, MAX_LIST_PAGES, what)
                )
            first = not seen_pages
            seen_pages.add(path)
            response = self.request("GET", path, repository, headers=headers, body_limit=MANIFEST_BODY_LIMIT)
            if response.status == 404 and first:
                return False
            if response.status != 200:
                operation = "read %s" % what if first else "read page %d of %s" % (len(seen_pages), what)
                raise self._response_error(response, operation)
            if response.truncated:
                raise UnexpectedResponseError(
                    "page %d of %s from the registry %s is larger than %d bytes; it is not read."
                    % (len(seen_pages), what, self.config.registry, MANIFEST_BODY_LIMIT)
                )
            document = _json_object(response.body)
            if document is None:
                raise UnexpectedResponseError(
                    "the registry %s sent page %d of %s that is not a JSON object: %s."
                    % (self.config.registry, len(seen_pages), what, self._describe(response))
                )
            collect(document, response)
            try:
                path = _next_page(response.headers.get("Link"), response.url, self.base_url)
            except ValueError as error:
                raise UnexpectedResponseError(
                    "the registry %s sent a Link to the next page of %s that the client does not "
                    "follow: %s. Without that page the list would be incomplete."
                    % (self.config.registry, what, error)
                )
        return True

    def _response_error(self, response, operation):
        return UnexpectedResponseError(
            "failed to %s on %s: the registry answered %s to %s %s."
            % (operation, self.config.registry, self._describe(response),
               response.method, urlsplit(response.url).path),
            status=response.status, codes=response.error_codes(),
        )

    def _describe(self, response):
        """Return ``response.describe()`` with known secrets masked, because servers may echo headers."""
        return response.describe(self.redact)

    # Requests with auth ---------------------------------------------------------------

    def request(self, method, path, repository=None, headers=None, data=None,
                body_limit=ERROR_BODY_LIMIT):
        """Send one logical request, answering challenges and following redirects.

        Returns the final Response. Raises PermissionDeniedError on 403, or on 401 when a
        token that already asked for the needed actions is refused. Raises
        AuthenticationError when the auth flow does not finish within MAX_AUTH_ROUNDS.
        """
        try:
            url = _checked_url(urljoin(self.base_url, path))
        except ValueError as error:
            raise UnexpectedResponseError(
                "cannot send %s to %s on %s: %s." % (method, echo(_strip_query(path)), self.config.registry, error)
            )
        actions = METHOD_ACTIONS.get(method, ("pull",))
        # Tokens whose serial is at least this one were fetched during this request.
        first_serial = self._token_serial
        redirects = 0
        auth_rounds = 0
        rechallenged = False
        retried = False
        while True:
            origin = _origin(url)
            auth_header, token = self._authorization_for(origin, repository, actions)
            request_headers = dict(headers or {})
            if auth_header:
                request_headers["Authorization"] = auth_header
            response = self._send(method, url, request_headers, data, body_limit)
            retried = retried or response.retried
            self._note_first_response(response)

            if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
                url = self._redirect_target(response, redirects)
                redirects += 1
                continue

            if not _is_auth_failure(response, auth_header):
                break
            challenge = select_challenge(parse_challenges(response.headers.get("WWW-Authenticate", "")))
            if challenge is None and (auth_header is None or rechallenged):
                raise self._no_challenge_error(response, rechallenged)
            auth_rounds += 1
            if auth_rounds > MAX_AUTH_ROUNDS:
                raise AuthenticationError(
                    self.redact(
                        "authentication with %s failed after %d attempts for %s %s. The last "
                        "response was %s with WWW-Authenticate %r."
                        % (self.config.registry, MAX_AUTH_ROUNDS, method, path, self._describe(response),
                           response.headers.get("WWW-Authenticate", ""))
                    ),
                    status=response.status,
                )
            if challenge is not None:
                fresh = token is not None and token.serial >= first_serial
                self._answer_challenge(response, challenge, origin, repository, actions, token, fresh)
                continue
            # The credential was refused without a challenge (a revoked token, for
            # example): forget it and the origin's challenge, and ask once for a new one.
            rechallenged = True
            self._forget_origin(origin, token)

        if response.status == 403:
            raise PermissionDeniedError(
                "the registry %s denied %s %s (HTTP 403): the user %s is not allowed to %s "
                "on repository %r. %s"
                % (self.config.registry, method, path, self._who(), "/".join(actions),
                   repository, self._describe(response)),
                status=403, codes=response.error_codes(),
            )
        response.retried = retried
        return response

    def _redirect_target(self, response, redirects):
        """Return the URL a GET or HEAD redirect leads to, or raise UnexpectedResponseError.

        Any other method is never redirected: the registry would choose what a DELETE
        or PUT acts on, while the module reports the resource it named.
        """
        location = response.headers["Location"]
        method = response.method
        path = urlsplit(response.url).path
        if method not in REDIRECT_METHODS:
            raise UnexpectedResponseError(
                "the registry %s answered %s %s with HTTP %d and a redirect to %s. The client "
                "follows redirects only for GET and HEAD, so the %s was not sent there."
                % (self.config.registry, method, path, response.status, echo(_strip_query(location)), method),
                status=response.status,
            )
        if redirects >= MAX_REDIRECTS:
            raise UnexpectedResponseError(
                "the registry %s redirected %s %s more than %d times."
                % (self.config.registry, method, path, MAX_REDIRECTS),
                status=response.status,
            )
        try:
            return _checked_url(urljoin(response.url, location))
        except ValueError as error:
            raise UnexpectedResponseError(
                "the registry %s redirected %s %s to %s, which the client cannot follow: %s."
                % (self.config.registry, method, path, echo(_strip_query(location)), error),
                status=response.status,
            )

    def _note_first_response(self, response):
        """Add a plain_http hint to the first answer of the run when it looks like a TLS port.

        A TLS server that receives plain HTTP answers 400 without an OCI error body. The
        hint rests on the status and the missing error codes, never on the message text.
        """
        if self._answered:
            return
        self._answered = True
        if self.config.plain_http and response.status == 400 and not response.error_codes():
            response.hint = (
                "plain_http is true: if the registry serves HTTPS on this port, it answers plain "
                "HTTP requests with 400; then set plain_http to false"
            )

    def _who(self):
        return repr(self.config.username) if self.config.username else "(anonymous)"

    def _no_challenge_error(self, response, rechallenged):
        path = urlsplit(response.url).path
        if rechallenged:
            return AuthenticationError(
                "the registry %s returned HTTP %d for %s %s again after the client dropped the "
                "rejected credentials and started over. Check username and password."
                % (self.config.registry, response.status, response.method, path),
                status=response.status,
            )
        return AuthenticationError(
            self.redact(
                "the registry %s returned HTTP %d for %s %s without a challenge the client "
                "supports (WWW-Authenticate: %r). Only Bearer and Basic are supported."
                % (self.config.registry, response.status, response.method, path,
                   response.headers.get("WWW-Authenticate", ""))
            ),
            status=response.status,
        )

    def _authorization_for(self, origin, repository, actions):
        """Return ``(Authorization header or None, _Token or None)`` for a request."""
        if origin in self._basic_origins:
            return _basic_header(self.config.username, self.config.password), None
        challenge = self._bearer_challenges.get(origin)
        if challenge is None:
            return None, None
        token = self._cached_token(origin, repository, actions)
        if token is None and repository is not None and challenge.params.get("realm") not in self._narrow_realms:
            # The realm is known from an earlier challenge: fetch a token for this
            # request's scopes directly instead of spending a request on a fresh challenge.
            with self._token_lock:
                token = self._cached_token(origin, repository, actions)
                if token is None:
                    token = self._fetch_token(origin, challenge, self._token_scopes(None, repository, actions),
                                              from_challenge=False)
        if token is None:
            return None, None
        return "Bearer %s" % token.value, token

    def _cached_token(self, origin, repository, actions):
        now = self._clock()
        with self._token_lock:
            tokens = sorted(self._tokens.items(), key=lambda item: item[0])
        for (token_origin, _scopes), token in tokens:
            if token_origin != origin or token.expires_at - TOKEN_EXPIRY_MARGIN <= now:
                continue
            if repository is None or scopes_cover(token.scopes, repository, actions):
                return token
        return None

    def _token_scopes(self, challenge, repository, actions):
        """Return the sorted scopes to request: declared, this request's and the challenge's.

        A realm that rejected such a combination gets the challenge's own scope only.
        """
        challenge_scope = challenge.params.get("scope") if challenge is not None else None
        if challenge_scope and challenge.params.get("realm") in self._narrow_realms:
            return merge_scopes([challenge_scope])
        scopes = list(self._declared_scopes)
        if repository is not None:
            scopes.append(repository_scope(repository, actions))
        if challenge_scope:
            scopes.append(challenge_scope)
        return merge_scopes(scopes)

    def _answer_challenge(self, response, challenge, origin, repository, actions, token, fresh):
        """Prepare the credentials the next attempt sends, or raise when none will do.

        ``token`` is the token the refused request carried; ``fresh`` is True when it was
        fetched during the current request.
        """
        if challenge.scheme == "basic":
            self._answer_basic_challenge(response, origin)
            return

        self._basic_origins.discard(origin)
        scopes = self._token_scopes(challenge, repository, actions)
        if token is not None:
            error = challenge.params.get("error")
            # A token rejected for a lack of scope, or one just issued for every scope
            # this request needs, would come back the same, so the user lacks the
            # permission. A token from an earlier request may have expired early and is
            # replaced.
            permission_missing = error == "insufficient_scope" or (error != "invalid_token" and fresh)
            if set(scopes) <= set(token.scopes) and permission_missing:
                raise PermissionDeniedError(
                    "the registry %s refused %s %s: the token service did not grant user %s "
                    "the %s permission on repository %r (requested scope %s)."
                    % (self.config.registry, response.method, urlsplit(response.url).path,
                       self._who(), "/".join(actions), repository, " ".join(token.scopes)),
                    status=response.status,
                )
            self._forget_token(token)

        self._bearer_challenges[origin] = challenge
        self._fetch_token(origin, challenge, scopes)

    def _answer_basic_challenge(self, response, origin):
        if origin != self.origin:
            raise AuthenticationError(
                "%s asked for HTTP Basic credentials after a redirect from %s; credentials "
                "are only sent to the registry itself." % (origin, self.config.registry),
                status=response.status,
            )
        if not (self.config.username and self.config.password):
            raise AuthenticationError(
                "the registry %s requires credentials (HTTP Basic): set username and password."
                % self.config.registry,
                status=response.status,
            )
        if origin in self._basic_origins:
            raise AuthenticationError(
                "the registry %s rejected the credentials of user %s (HTTP %d). Check "
                "username and password." % (self.config.registry, self._who(), response.status),
                status=response.status,
            )
        self._bearer_challenges.pop(origin, None)
        self._basic_origins.add(origin)

    def _forget_token(self, token):
        with self._token_lock:
            for key, cached in list(self._tokens.items()):
                if cached is token:
                    del self._tokens[key]

    def _forget_origin(self, origin, token):
        """Drop the credentials sent to ``origin``, so the next request gets a fresh challenge."""
        self._basic_origins.discard(origin)
        self._bearer_challenges.pop(origin, None)
        if token is not None:
            self._forget_token(token)

    # Token service --------------------------------------------------------------------

    def _fetch_token(self, origin, challenge, scopes, from_challenge=True):
        """Ask the challenge's realm for one token covering ``scopes`` and cache it.

        ``from_challenge`` is False when the challenge came from an earlier request. Then a
        400 from the token service makes this return None, and the caller gets a fresh
        challenge from the registry. For a challenge of the current request, a 400 is
        retried once with the challenge's own scope.
        """
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthenticationError(
                "the registry %s sent a Bearer challenge without a realm; no token service to ask."
                % self.config.registry
            )
        self._check_realm(realm, origin)
        use_credentials = origin == self.origin and self.config.has_credentials
        service = challenge.params.get("service")
        response = self._token_request(realm, service, scopes, use_credentials)
        if response.status == 400:
            # Some token services reject actions they do not support, such as delete, or
            # several scopes in one request. They accept the registry's own scope for the
            # request it rejected.
            own_scopes = merge_scopes([challenge.params.get("scope", "")])
            if not from_challenge:
                self._narrow_realms.add(realm)
                return None
            if own_scopes and own_scopes != scopes:
                self._narrow_realms.add(realm)
                self._warn(
                    "The token service %s rejected the scope %s (HTTP 400); retrying with the "
                    "registry's own scope %s." % (_strip_query(realm), " ".join(scopes), " ".join(own_scopes))
                )
                scopes = own_scopes
                response = self._token_request(realm, service, scopes, use_credentials)
        value, lifetime = self._parse_token_response(response, realm)
        self._on_secret(value)
        self._secrets.add(value)
        with self._token_lock:
            token = _Token(value, scopes, self._clock() + lifetime, self._token_serial)
            self._token_serial += 1
            self._tokens[(origin, scopes)] = token
        return token

    def _token_request(self, realm, service, scopes, use_credentials):
        headers = {}
        if use_credentials and self.config.identity_token:
            response = self._oauth_token_request(realm, service, scopes)
            if response.status not in (404, 405):
                return response
            # The token service has no OAuth2 endpoint: send the identity token as the
            # password of HTTP Basic credentials on the GET request instead.
            headers["Authorization"] = _basic_header(
                self.config.username or IDENTITY_TOKEN_USER, self.config.identity_token
            )
        elif use_credentials:
            headers["Authorization"] = _basic_header(self.config.username, self.config.password)
        params = [("service", service)] if service else []
        params.extend(("scope", scope) for scope in scopes)
        url = _add_query(realm, params)
        return self._send("GET", url, headers, None, TOKEN_BODY_LIMIT, token=True)

    def _oauth_token_request(self, realm, service, scopes):
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.config.identity_token,
            "client_id": "oci.registry",
            "scope": " ".join(scopes),
        }
        if service:
            form["service"] = service
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self._send("POST", realm, headers, urlencode(form), TOKEN_BODY_LIMIT, token=True)

    def _parse_token_response(self, response, realm):
        if response.status == 401:
            raise AuthenticationError(
                "the token service %s rejected the credentials of user %s (HTTP 401). "
                "Check username and password." % (_strip_query(realm), self._who()),
                status=401,
            )
        if response.status != 200:
            raise AuthenticationError(
                "the token service %s failed to issue a token: the %s request returned %s."
                % (_strip_query(realm), response.method, self._describe(response)),
                status=response.status,
            )
        try:
            document = json.loads(response.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            document = None
        if not isinstance(document, dict):
            raise AuthenticationError(
                "the token service %s answered HTTP 200 without a JSON object: %s."
                % (_strip_query(realm), self._describe(response))
            )
        value = document.get("token") or document.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthenticationError(
                "the token service %s answered without a 'token' or 'access_token' field."
                % _strip_query(realm)
            )
        if not _BEARER_TOKEN_RE.fullmatch(value):
            # The value is not shown: it is a credential, even when malformed.
            raise AuthenticationError(
                "the token service %s issued a token that is not a valid bearer token (RFC 6750 "
                "allows letters, digits and -._~+/, then '=' padding); it was not used."
                % _strip_query(realm)
            )
        return value, _token_lifetime(document.get("expires_in"))

    def _check_realm(self, realm, origin):
        """Raise AuthenticationError before any request when ``realm`` is unsafe to ask."""
        reason = unsafe_realm_reason(realm, origin)
        if reason is None:
            try:
                _checked_url(realm)
            except ValueError as error:
                reason = str(error)
        if reason is not None:
            raise AuthenticationError(
                self.redact(
                    "the registry %s named the token realm %s, which the client does not "
                    "contact because %s; no credentials were sent."
                    % (self.config.registry, echo(_strip_query(realm)), reason)
                )
            )

    # Transport ------------------------------------------------------------------------

    def _send(self, method, url, headers, data, body_limit, token=False):
        """Send one HTTP request with bounded retries; every attempt is counted.

        Only GET, HEAD and DELETE are sent again, after a closed connection or a 429, 502,
        503 or 504 response. Retry-After sets the wait and is never shortened: when it
        would pass retry_max_time, the response is returned without a retry.
        """
        self._warn_plain_credentials(url, headers)
        path = urlsplit(url).path
        idempotent = method in IDEMPOTENT_METHODS
        deadline = self._clock() + self.config.retry_max_time
        attempt = 0
        while True:
            try:
                response = self._send_once(method, url, headers, data, body_limit)
            except ConnectionFailedError:
                # A refused connection, a timeout or a failed TLS handshake is counted and
                # never retried.
                self.stats.record(method, None, token=token)
                raise
            except _RetryableConnectionError as error:
                self.stats.record(method, None, token=token)
                failure = ("the connection to %s closed during %s %s (%s)"
                           % (_origin(url), method, path, error.reason))
                if not idempotent:
                    raise ConnectionFailedError("%s. It was not retried: a %s is not sent twice." % (failure, method))
                if attempt >= self.config.retries:
                    raise ConnectionFailedError("%s. The client %s." % (failure, _gave_up(attempt)))
                response = None
                retry_reason = "the connection closed (%s)" % error.reason
                delay = self._backoff(attempt)
            else:
                self.stats.record(method, response.status, token=token)
                response.retried = attempt > 0
                if response.status not in RETRY_STATUSES:
                    return response
                if not idempotent:
                    response.retry_note = "not retried: a %s is not sent twice" % method
                    return response
                if attempt >= self.config.retries:
                    if attempt:
                        response.retry_note = _gave_up(attempt)
                    return response
                retry_reason = "the server answered HTTP %d" % response.status
                delay = _retry_after(response.headers.get("Retry-After"))
                if delay is None:
                    delay = self._backoff(attempt)

            if self._clock() + delay > deadline:
                note = ("not retried: waiting %.1f s would pass retry_max_time (%s s)"
                        % (delay, self.config.retry_max_time))
                if response is None:
                    raise ConnectionFailedError("%s. It was %s." % (failure, note))
                response.retry_note = note
                self._warn("%s %s: %s." % (method, path, note))
                return response
            attempt += 1
            self.stats.record_retry()
            self._warn(
                "Retrying %s %s in %.1f s because %s (retry %d of %d)."
                % (method, path, delay, retry_reason, attempt, self.config.retries)
            )
            self._sleep(delay)

    def _send_once(self, method, url, headers, data, body_limit):
        config = self.config
        path = urlsplit(url).path
        verify = config.ca_path if (config.validate_certs and config.ca_path) else config.validate_certs
        cert = None
        if config.client_cert:
            cert = (config.client_cert, config.client_key) if config.client_key else config.client_cert
        try:
            with warnings.catch_warnings():
                # With validate_certs=false the module already warns once; urllib3 would
                # otherwise print InsecureRequestWarning to stderr for every request.
                warnings.simplefilter("ignore", InsecureRequestWarning)
                # NOTE: the timeout bounds each read, so headers that trickle in slowly are not cut off.
                raw = self._session.request(
                    method, url, headers=headers, data=data, timeout=config.timeout,
                    allow_redirects=False, stream=True, verify=verify, cert=cert,
                    proxies=get_environ_proxies(url),
                )
        except requests.exceptions.SSLError as error:
            raise self._tls_error(url, error)
        except requests.exceptions.Timeout:
            raise RequestTimeoutError(
                "%s %s timed out: no answer from %s within %s seconds (the timeout option)."
                % (method, path, _origin(url), config.timeout)
            )
        except requests.exceptions.ConnectionError as error:
            if _find_cause(error, (ConnectionResetError, BrokenPipeError)) is not None or \
                    _is_remote_disconnect(error):
                raise _RetryableConnectionError(_short_reason(error))
            invalid = _find_cause(error, (HTTPException,))
            if invalid is not None:
                raise ConnectionFailedError(
                    "the answer from %s to %s %s is not valid HTTP: %s."
                    % (_origin(url), method, path, echo(str(invalid)))
                )
            raise ConnectionFailedError(
                "cannot connect to %s: %s. Check the registry host and port, and that the "
                "registry is running." % (_origin(url), _short_reason(error))
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as error:
            raise ConnectionFailedError("invalid URL %r: %s" % (url, error))
        except (ValueError, requests.exceptions.RequestException) as error:
            # A header value HTTP does not allow (CR, LF, non-latin-1 text) ends here. The
            # error text may quote that value, which can be a credential: only its type is shown.
            raise RegistryError(
                "%s %s to %s was not sent: the request could not be built (%s)."
                % (method, path, _origin(url), type(error).__name__)
            )
        except OSError as error:
            # requests raises a plain OSError when ca_path, client_cert or client_key cannot be read.
            raise ConnectionFailedError(
                "%s %s to %s was not sent: %s." % (method, path, _origin(url), error.strerror or error)
            )
        deadline = self._clock() + BODY_TIME_FACTOR * config.timeout
        try:
            body, truncated = _read_limited(raw, 0 if method == "HEAD" else body_limit, deadline, self._clock)
        except _BodyTooSlow:
            raise RequestTimeoutError(
                "%s %s timed out: the body from %s did not arrive within %s seconds (%d times the "
                "timeout option)." % (method, path, _origin(url), BODY_TIME_FACTOR * config.timeout,
                                      BODY_TIME_FACTOR)
            )
        except requests.exceptions.ChunkedEncodingError as error:
            # The server closed the connection before the whole body arrived.
            raise _RetryableConnectionError(_short_reason(error))
        except requests.exceptions.ConnectionError as error:
            if _find_cause(error, (ReadTimeoutError,)) is not None:
                raise RequestTimeoutError(
                    "%s %s timed out: the body from %s stopped arriving for %s seconds (the "
                    "timeout option)." % (method, path, _origin(url), config.timeout)
                )
            raise ConnectionFailedError(
                "reading the answer to %s %s from %s failed: %s"
                % (method, path, _origin(url), _short_reason(error))
            )
        except requests.exceptions.RequestException as error:
            raise ConnectionFailedError(
                "reading the answer to %s %s from %s failed: %s"
                % (method, path, _origin(url), _short_reason(error))
            )
        finally:
            raw.close()
        return Response(method, url, raw.status_code, raw.headers, body, truncated)

    def _tls_error(self, url, error):
        if _find_cause(error, (ssl.SSLCertVerificationError,)) is not None:
            return TLSFailedError(
                "TLS certificate verification failed for %s: %s. Set ca_path to the CA bundle "
                "that signed the registry's certificate, or validate_certs=false to skip the "
                "check (insecure)." % (_origin(url), _short_reason(error))
            )
        return TLSFailedError(
            "the TLS handshake with %s failed: %s. If the registry serves plain HTTP, set "
            "plain_http=true; if it requires a client certificate, set client_cert and client_key."
            % (_origin(url), _short_reason(error))
        )

    def _backoff(self, attempt):
        """Exponential backoff with full jitter."""
        # The exponent is capped: 2 ** 1024 would not fit in a float, and the cap is reached long before.
        return random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * (2 ** min(attempt, 16))))

    def _warn_plain_credentials(self, url, headers):
        if self._warned_plain_credentials or "Authorization" not in headers:
            return
        parts = urlsplit(url)
        if parts.scheme == "http" and not is_local_host(parts.hostname):
            self._warned_plain_credentials = True
            self._warn(
                "Sending credentials over plain HTTP to %s: anyone on the network path can read "
                "them. Serve the registry over TLS and drop plain_http." % parts.hostname
            )

    def redact(self, text):
        """Mask every password and token the client knows of in ``text``."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "********")
        return text

    def set_max_connections(self, count):
        """Keep up to ``count`` connections per host open, one per concurrent request.

        The default pool of requests holds 10; with more threads, extra connections
        would be opened and dropped after each request.
        """
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, requests.adapters.HTTPAdapter(pool_maxsize=count))

    def close(self):
        self._session.close()


if requests is not None:
    class _Session(requests.Session):
        """A requests Session that leaves redirects to RegistryClient entirely."""

        def get_redirect_target(self, resp):
            # requests would parse the Location of every 3xx even with allow_redirects
            # off, and raise ValueError for one such as "http://[::1". The client checks
            # and follows Location itself (RegistryClient._redirect_target).
            return None


class _RetryableConnectionError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _origin(url):
    """Return ``scheme://host:port`` of ``url``; raises ValueError for a port out of range."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s:%d" % (parts.scheme, host, port)


def _checked_url(url):
    """Return ``url`` when it is an http or https URL with a host and a valid port.

    Raises ValueError with the reason otherwise, such as for ``ftp:`` URLs, port 99999
    or an unclosed IPv6 bracket.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("its scheme is %s, not http or https" % echo(parts.scheme))
    if not parts.hostname:
        raise ValueError("it names no host")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("its port is not a number from 1 to 65535")
    return url


def _checked_digest(digest, operation):
    """Return ``digest`` if it is valid, else raise InvalidInputError naming it.

    Digests go into URL paths, and some come from registry answers: a value such as
    ``../../other/manifests/<digest>`` must never reach a request.
    """
    if not isinstance(digest, str):
        raise InvalidInputError("cannot %s: the digest %s is not a string. Nothing was sent."
                                % (operation, echo(digest)))
    try:
        return validate_digest(digest)
    except InvalidInputError as error:
        raise InvalidInputError("cannot %s: %s Nothing was sent." % (operation, error.msg))


def _checked_reference(reference, operation):
    """Return ``reference`` if it is a valid digest (it has a colon) or tag, else raise InvalidInputError."""
    if isinstance(reference, str) and ":" in reference:
        return _checked_digest(reference, operation)
    if not isinstance(reference, str):
        raise InvalidInputError("cannot %s: the reference %s is not a string. Nothing was sent."
                                % (operation, echo(reference)))
    try:
        return validate_tag(reference)
    except InvalidInputError as error:
        raise InvalidInputError("cannot %s: %s Nothing was sent." % (operation, error.msg))


def _reference_algorithm(reference):
    """Return the digest algorithm of a digest reference, sha256 for a tag."""
    return digest_algorithm(reference) if ":" in reference else "sha256"


def _is_valid_tag(tag):
    try:
        validate_tag(tag)
    except InvalidInputError:
        return False
    return True


def _is_valid_digest(digest):
    try:
        validate_digest(digest)
    except InvalidInputError:
        return False
    return True


def _descriptor_problem(item):
    """Return what makes ``item`` unusable as a descriptor, or None when it has a valid digest."""
    if not isinstance(item, dict):
        return "the entry %s, which is not a JSON object" % echo(item)
    digest = item.get("digest")
    if not isinstance(digest, str):
        return "an entry whose digest is %s, not a string" % echo(digest)
    if not _is_valid_digest(digest):
        return "the invalid digest %s" % echo(digest)
    return None


def _json_object(body):
    """Return the JSON object in ``body``, or None when it is not one."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _strip_query(url):
    """Return ``url`` without query and fragment (a realm's query may carry tenant data)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _add_query(url, params):
    """Append ``params`` to the query of ``url``, keeping the existing query byte for byte."""
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(list(params))) if part)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _basic_header(username, password):
    raw = ("%s:%s" % (username, password)).encode("utf-8")
    return "Basic %s" % base64.b64encode(raw).decode("ascii")


def _media_type(content_type):
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower()


def _usable_digest(header_value, algorithm):
    """Return the Docker-Content-Digest value if it is a valid ``algorithm`` digest, else None.

    Some registries send a sha256 digest for a manifest requested by its sha512 digest,
    or a malformed value. The caller then hashes the manifest bytes itself.
    """
    if not header_value:
        return None
    try:
        validate_digest(header_value.strip())
    except InvalidInputError:
        return None
    if digest_algorithm(header_value.strip()) != algorithm:
        return None
    return header_value.strip()


def _body_media_type(body):
    """Return the ``mediaType`` field of a JSON manifest body, or None."""
    document = _json_object(body)
    media_type = document.get("mediaType") if document is not None else None
    return _media_type(media_type) if isinstance(media_type, str) else None


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _token_lifetime(expires_in):
    """Seconds a token stays usable: ``expires_in`` as number or string, at least 60."""
    try:
        seconds = int(float(expires_in))
    except (TypeError, ValueError, OverflowError):
        return TOKEN_MIN_LIFETIME
    return max(seconds, TOKEN_MIN_LIFETIME)


def _gave_up(retries):
    return "gave up after %d %s as set by the retries option" % (retries, "retry" if retries == 1 else "retries")


def _retry_after(value):
    """Parse Retry-After (seconds or an HTTP date) into seconds; None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value):
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _is_auth_failure(response, auth_header):
    """Return True for a 401, or a 400 that rejects the credentials the request carried."""
    if response.status == 401:
        return True
    return response.status == 400 and auth_header is not None and _is_auth_failure_400(response)


def _is_auth_failure_400(response):
    """Return True for a 400 that rejects credentials rather than the request itself."""
    codes = response.error_codes()
    return not codes or any(code in ("UNAUTHORIZED", "DENIED") for code in codes)


class _BodyTooSlow(Exception):
    """The body did not arrive before the deadline of _read_limited."""


def _read_limited(raw, limit, deadline=None, clock=time.monotonic):
    """Read at most ``limit`` bytes of the body; return ``(bytes, truncated)``.

    Raises _BodyTooSlow when ``clock()`` passes ``deadline`` before the body is complete.
    """
    if limit <= 0:
        return b"", False
    chunks = []
    size = 0
    for chunk in _body_chunks(raw):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
        if deadline is not None and clock() > deadline:
            raise _BodyTooSlow()
    return b"".join(chunks), False


def _body_chunks(raw):
    """Yield the decoded body of a streamed requests Response as it arrives.

    urllib3 2 offers ``read1``, which returns after one read from the socket, so the
    caller checks its deadline even when the server sends a byte at a time. urllib3 1
    lacks it and delivers a chunk only after 64 KiB or at the end of the body. Errors
    are mapped to the requests exceptions that ``iter_content`` raises.
    """
    read1 = getattr(raw.raw, "read1", None)
    if read1 is None:
        yield from raw.iter_content(chunk_size=BODY_CHUNK_SIZE)
        return
    try:
        while True:
            chunk = read1(BODY_CHUNK_SIZE, decode_content=True)
            if not chunk:
                return
            yield chunk
    except ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(error)
    except DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error)
    except ReadTimeoutError as error:
        raise requests.exceptions.ConnectionError(error)
    except Urllib3SSLError as error:
        raise requests.exceptions.SSLError(error)


def _find_cause(error, types):
    """Walk an exception's causes (including urllib3's ``reason``) for one of ``types``."""
    seen = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, types):
            return current
        # ssl.SSLError has a ``reason`` too, but it is a string.
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(getattr(current, "args", ()))
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return None


def _is_remote_disconnect(error):
    return _find_cause(error, (RemoteDisconnected,)) is not None


def _short_reason(error):
    """Return the innermost readable reason of a requests/urllib3 error."""
    refused = _find_cause(error, (ConnectionRefusedError,))
    if refused is not None:
        return "connection refused"
    resolution = _find_cause(error, (socket.gaierror,))
    if resolution is not None:
        return "host name lookup failed (%s)" % resolution
    tls = _find_cause(error, (ssl.SSLError,))
    if tls is not None:
        return str(tls)
    cause = _find_cause(error, (OSError,))
    return str(cause if cause is not None else error)


def _next_page(link_header, current_url, base_url):
    """Return the path of the ``rel="next"`` target of a Link header, or None.

    Distribution sends ``</v2/<name>/tags/list?last=x&n=y>; rel="next"``. Raises
    ValueError with the reason when the target is not a usable URL or lies on another
    origin than ``base_url``; the caller must not treat the list as complete then.
    """
    if not link_header:
        return None
    for part in link_header.split(","):
        section = part.strip()
        if not section.startswith("<") or ">" not in section:
            continue
        target, _separator, params = section[1:].partition(">")
        relations = [item.strip() for item in params.split(";") if item.strip()]
        if not any(item.replace(" ", "").lower() in ('rel="next"', "rel=next") for item in relations):
            continue
        try:
            absolute = _checked_url(urljoin(current_url, target))
        except ValueError as error:
            raise ValueError("%s is not a usable URL (%s)" % (echo(target), error))
        if _origin(absolute) != _origin(base_url):
            raise ValueError("%s is on %s, not on the registry's origin %s"
                             % (echo(_strip_query(absolute)), _origin(absolute), _origin(base_url)))
        parts = urlsplit(absolute)
        return parts.path + ("?" + parts.query if parts.query else "")
    return None
