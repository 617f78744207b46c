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
import ipaddress
import json
import random
import socket
import ssl
import time
from http.client import RemoteDisconnected
from collections import namedtuple
from email.utils import parsedate_to_datetime

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from ansible_collections.oci.registry.plugins.module_utils._auth import (
    merge_scopes,
    parse_challenges,
    repository_scope,
    scopes_cover,
    select_challenge,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    ConnectionFailedError,
    DeletionDisabledError,
    PermissionDeniedError,
    RegistryError,
    RequestTimeoutError,
    TLSFailedError,
    UnexpectedResponseError,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import digest_algorithm

try:
    import requests
    from requests.utils import get_environ_proxies
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

MAX_REDIRECTS = 5
# Each request may answer at most this many challenges: the first one, one fresh
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

Manifest = namedtuple("Manifest", ["digest", "media_type", "size"])
"""A resolved manifest: its digest, the Content-Type the registry sent and its size."""


class Response(object):
    """A fully read HTTP answer: status, headers (case-insensitive), bounded body."""

    def __init__(self, method, url, status, headers, body, truncated=False):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated

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

    def describe(self):
        """Return ``HTTP <status>`` plus the OCI error codes and messages, or a body snippet."""
        errors = self.oci_errors()
        if errors:
            details = "; ".join(
                "%s: %s" % (error.get("code", "?"), error.get("message", "")) for error in errors
            )
            return "HTTP %d (%s)" % (self.status, details)
        snippet = self.body[:SNIPPET_LENGTH].decode("utf-8", "replace").strip()
        if snippet:
            return "HTTP %d (body: %r)" % (self.status, " ".join(snippet.split()))
        return "HTTP %d" % self.status


class RequestStats(object):
    """Counts of every HTTP request the client sent, token service and retries included."""

    def __init__(self):
        self.total = 0
        self.token = 0
        self.retries = 0
        self.by_method = {}
        self.by_status = {}

    def record(self, method, status, token=False):
        """Count one request; ``status`` is None when no answer arrived."""
        self.total += 1
        if token:
            self.token += 1
        self.by_method[method] = self.by_method.get(method, 0) + 1
        key = "error" if status is None else str(status)
        self.by_status[key] = self.by_status.get(key, 0) + 1

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
        return bool(self.username and (self.password or self.identity_token))


class _Token(object):
    def __init__(self, value, scopes, expires_at):
        self.value = value
        self.scopes = scopes
        self.expires_at = expires_at


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
        self._session = requests.Session()
        # Proxies still come from the environment (see _proxies_for); .netrc is not
        # consulted, so no Authorization header appears that the auth flow did not choose.
        self._session.trust_env = False
        scheme = "http" if config.plain_http else "https"
        self.base_url = "%s://%s" % (scheme, config.registry)
        self.origin = _origin(self.base_url)
        self._declared_scopes = ()
        self._bearer_challenges = {}
        self._basic_origins = set()
        self._tokens = {}
        self._secrets = set(value for value in (config.password, config.identity_token) if value)
        self._warned_plain_credentials = False

    # Scopes ---------------------------------------------------------------------------

    def declare(self, repository, actions):
        """Declare that the operation will perform ``actions`` on ``repository``.

        Call before the first request: the first token request asks for every declared
        scope at once.
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
        path = "/v2/%s/manifests/%s" % (repository, reference)
        headers = {"Accept": ", ".join(MANIFEST_ACCEPT)}
        response = self.request("HEAD", path, repository, headers=headers)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._response_error(response, "resolve manifest %r in %s" % (reference, repository))
        media_type = _media_type(response.headers.get("Content-Type"))
        size = _int_or_none(response.headers.get("Content-Length"))
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
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
        algorithm = digest_algorithm(expected_digest) if expected_digest else "sha256"
        digest = "%s:%s" % (algorithm, hashlib.new(algorithm, response.body).hexdigest())
        media_type = _media_type(response.headers.get("Content-Type")) or media_type
        return Manifest(digest, media_type, len(response.body))

    def delete_manifest(self, repository, digest):
        """Delete the manifest ``digest``; return True if deleted, False if already absent."""
        return self._delete("/v2/%s/manifests/%s" % (repository, digest), repository, "manifest", digest)

    def blob_exists(self, repository, digest):
        """Return True when HEAD on the blob answers 200, False on 404."""
        response = self.request("HEAD", "/v2/%s/blobs/%s" % (repository, digest), repository)
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise self._response_error(response, "check blob %s in %s" % (digest, repository))

    def delete_blob(self, repository, digest):
        """Delete the blob ``digest``; return True if deleted, False if already absent."""
        return self._delete("/v2/%s/blobs/%s" % (repository, digest), repository, "blob", digest)

    def _delete(self, path, repository, kind, digest):
        response = self.request("DELETE", path, repository)
        if response.status in (200, 202, 204):
            return True
        if response.status == 404:
            return False
        if response.status == 405:
            raise DeletionDisabledError(
                "the registry %s refused to delete %s %s in %s with HTTP 405: deletion is "
                "disabled on this registry (for CNCF Distribution, set storage.delete.enabled "
                "to true). %s" % (self.config.registry, kind, digest, repository, response.describe()),
                status=405, codes=response.error_codes(),
            )
        raise self._response_error(response, "delete %s %s in %s" % (kind, digest, repository))

    def _response_error(self, response, operation):
        return UnexpectedResponseError(
            self.redact("failed to %s on %s: the registry answered %s to %s %s."
                        % (operation, self.config.registry, response.describe(),
                           response.method, urlsplit(response.url).path)),
            status=response.status, codes=response.error_codes(),
        )

    # Requests with auth ---------------------------------------------------------------

    def request(self, method, path, repository=None, headers=None, data=None,
                body_limit=ERROR_BODY_LIMIT):
        """Send one logical request, answering challenges and following redirects.

        Returns the final Response. Raises PermissionDeniedError on 403, or on 401 when a
        token that already asked for the needed actions is refused.
        """
        url = urljoin(self.base_url, path)
        actions = METHOD_ACTIONS.get(method, ("pull",))
        redirects = 0
        auth_rounds = 0
        while True:
            origin = _origin(url)
            auth_header, token = self._authorization_for(origin, repository, actions)
            request_headers = dict(headers or {})
            if auth_header:
                request_headers["Authorization"] = auth_header
            response = self._send(method, url, request_headers, data, body_limit)

            if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise UnexpectedResponseError(
                        "the registry %s redirected %s %s more than %d times."
                        % (self.config.registry, method, path, MAX_REDIRECTS)
                    )
                url = urljoin(url, response.headers["Location"])
                if response.status == 303:
                    method = "GET"
                continue

            if response.status == 401 or (response.status == 400 and token is not None
                                           and _is_auth_failure_400(response)):
                auth_rounds += 1
                if auth_rounds > MAX_AUTH_ROUNDS:
                    raise AuthenticationError(
                        "authentication with %s failed after %d attempts for %s %s; giving up."
                        % (self.config.registry, MAX_AUTH_ROUNDS, method, path),
                        status=response.status,
                    )
                self._answer_challenge(response, origin, repository, actions, auth_header, token)
                continue

            if response.status == 403:
                raise PermissionDeniedError(
                    self.redact(
                        "the registry %s denied %s %s (HTTP 403): the user %s is not allowed to %s "
                        "on repository %r. %s"
                        % (self.config.registry, method, path, self._who(), "/".join(actions),
                           repository, response.describe())
                    ),
                    status=403, codes=response.error_codes(),
                )
            return response

    def _who(self):
        return repr(self.config.username) if self.config.username else "(anonymous)"

    def _authorization_for(self, origin, repository, actions):
        """Return ``(Authorization header or None, _Token or None)`` for a request."""
        if origin in self._basic_origins:
            return _basic_header(self.config.username, self.config.password), None
        challenge = self._bearer_challenges.get(origin)
        if challenge is None:
            return None, None
        token = self._cached_token(origin, repository, actions)
        if token is None and repository is not None:
            # The realm is known from an earlier challenge: fetch a token for this
            # repository directly instead of spending a request on a fresh challenge.
            scopes = self._scopes_for(repository, actions, challenge)
            token = self._fetch_token(origin, challenge, scopes)
        if token is None:
            return None, None
        return "Bearer %s" % token.value, token

    def _cached_token(self, origin, repository, actions):
        now = self._clock()
        for (token_origin, _), token in sorted(self._tokens.items()):
            if token_origin != origin or token.expires_at - TOKEN_EXPIRY_MARGIN <= now:
                continue
            if repository is None or scopes_cover(token.scopes, repository, actions):
                return token
        return None

    def _scopes_for(self, repository, actions, challenge):
        scopes = list(self._declared_scopes)
        if repository is not None:
            scopes.append(repository_scope(repository, actions))
        if challenge is not None and challenge.params.get("scope"):
            scopes.append(challenge.params["scope"])
        return merge_scopes(scopes)

    def _answer_challenge(self, response, origin, repository, actions, auth_header, token):
        challenge = select_challenge(parse_challenges(response.headers.get("WWW-Authenticate", "")))
        if challenge is None:
            if auth_header:
                # A stale or rejected credential without a challenge: drop it and ask again.
                self._forget_auth(origin, token)
                return
            raise AuthenticationError(
                "the registry %s answered %s to %s %s without a challenge the client can "
                "answer (WWW-Authenticate: %r); only Bearer and Basic are supported."
                % (self.config.registry, response.status, response.method,
                   urlsplit(response.url).path, response.headers.get("WWW-Authenticate", "")),
                status=response.status,
            )

        if challenge.scheme == "basic":
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
                    self.redact("the registry %s rejected the credentials of user %r (HTTP 401). "
                                "Check username and password." % (self.config.registry, self.config.username)),
                    status=response.status,
                )
            self._basic_origins.add(origin)
            return

        if token is not None:
            scopes = self._scopes_for(repository, actions, challenge)
            requested_all = set(scopes) <= set(token.scopes)
            if requested_all and challenge.params.get("error") != "invalid_token":
                # The token service was already asked for everything this request needs,
                # so a new token would grant the same: the user lacks the permission.
                raise PermissionDeniedError(
                    "the registry %s refused %s %s: the token service did not grant user %s "
                    "the %s permission on repository %r (requested scope %s)."
                    % (self.config.registry, response.method, urlsplit(response.url).path,
                       self._who(), "/".join(actions), repository, " ".join(token.scopes)),
                    status=response.status,
                )
            self._forget_auth(origin, token)

        self._bearer_challenges[origin] = challenge
        self._fetch_token(origin, challenge, self._scopes_for(repository, actions, challenge))

    def _forget_auth(self, origin, token):
        self._basic_origins.discard(origin)
        for key, cached in list(self._tokens.items()):
            if cached is token:
                del self._tokens[key]

    # Token service --------------------------------------------------------------------

    def _fetch_token(self, origin, challenge, scopes):
        """Ask the challenge's realm for one token covering ``scopes`` and cache it."""
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthenticationError(
                "the registry %s sent a Bearer challenge without a realm; no token service to ask."
                % self.config.registry
            )
        self._check_realm(realm, origin)
        use_credentials = origin == self.origin and self.config.has_credentials
        response = self._token_request(realm, challenge.params.get("service"), scopes, use_credentials)
        if response.status == 400 and any("delete" in scope for scope in scopes):
            # Some token services accept only pull, push and '*'. Ask once more with the
            # challenge's own scope; the registry then decides what the token allows.
            fallback = merge_scopes([challenge.params.get("scope", "")])
            if fallback and fallback != scopes:
                self._warn(
                    "The token service %s rejected the scope %s (HTTP 400); retrying with the "
                    "registry's own scope %s." % (realm, " ".join(scopes), " ".join(fallback))
                )
                scopes = fallback
                response = self._token_request(realm, challenge.params.get("service"), scopes, use_credentials)
        value, lifetime = self._parse_token_response(response, realm)
        self._on_secret(value)
        self._secrets.add(value)
        token = _Token(value, scopes, self._clock() + lifetime)
        self._tokens[(origin, scopes)] = token
        return token

    def _token_request(self, realm, service, scopes, use_credentials):
        headers = {}
        if use_credentials and self.config.identity_token:
            response = self._oauth_token_request(realm, service, scopes)
            if response.status not in (404, 405):
                return response
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
                self.redact("the token service %s rejected the credentials of user %s (HTTP 401). "
                            "Check username and password." % (_strip_query(realm), self._who())),
                status=401,
            )
        if response.status != 200:
            raise AuthenticationError(
                self.redact("the token service %s failed to issue a token: %s."
                            % (_strip_query(realm), response.describe())),
                status=response.status,
            )
        try:
            document = json.loads(response.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            document = None
        if not isinstance(document, dict):
            raise AuthenticationError(
                self.redact("the token service %s answered HTTP 200 without a JSON object: %s."
                            % (_strip_query(realm), response.describe()))
            )
        value = document.get("token") or document.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthenticationError(
                "the token service %s answered without a 'token' or 'access_token' field."
                % _strip_query(realm)
            )
        return value, _token_lifetime(document.get("expires_in"))

    def _check_realm(self, realm, origin):
        """Reject a realm that would leak credentials: a downgrade to http, or a local
        address handed out by a registry that is not itself local."""
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AuthenticationError(
                "the registry %s named the token realm %r, which is not an http(s) URL."
                % (self.config.registry, realm)
            )
        origin_parts = urlsplit(origin)
        if origin_parts.scheme == "https" and parts.scheme == "http":
            raise AuthenticationError(
                "the registry %s is served over https but named the token realm %s over plain "
                "http; credentials are not sent there." % (self.config.registry, _strip_query(realm))
            )
        if _is_local_host(parts.hostname) and not _is_local_host(origin_parts.hostname):
            raise AuthenticationError(
                "the registry %s named the token realm %s on a loopback or link-local address; "
                "credentials are not sent there." % (self.config.registry, _strip_query(realm))
            )

    # Transport ------------------------------------------------------------------------

    def _send(self, method, url, headers, data, body_limit, token=False):
        """Send one HTTP request with bounded retries; every attempt is counted."""
        self._warn_plain_credentials(url, headers)
        deadline = self._clock() + self.config.retry_max_time
        attempt = 0
        while True:
            try:
                response = self._send_once(method, url, headers, data, body_limit)
            except _RetryableConnectionError as error:
                self.stats.record(method, None, token=token)
                if method not in IDEMPOTENT_METHODS or attempt >= self.config.retries:
                    raise ConnectionFailedError(
                        "the connection to %s was reset during %s %s (%s) after %d retries."
                        % (_origin(url), method, urlsplit(url).path, error.reason, attempt)
                    )
                response = None
                retry_reason = "the connection was reset"
                delay = self._backoff(attempt)
            else:
                self.stats.record(method, response.status, token=token)
                if (response.status not in RETRY_STATUSES or method not in IDEMPOTENT_METHODS
                        or attempt >= self.config.retries):
                    return response
                retry_reason = "the server answered HTTP %d" % response.status
                delay = _retry_after(response.headers.get("Retry-After"))
                if delay is None:
                    delay = self._backoff(attempt)

            if self._clock() + delay > deadline:
                message = ("Not retrying %s %s: waiting %.1f s would pass retry_max_time (%s s)."
                           % (method, urlsplit(url).path, delay, self.config.retry_max_time))
                if response is None:
                    raise ConnectionFailedError(
                        "the connection to %s was reset during %s %s. %s"
                        % (_origin(url), method, urlsplit(url).path, message)
                    )
                self._warn(message)
                return response
            attempt += 1
            self.stats.retries += 1
            self._warn(
                "Retrying %s %s in %.1f s because %s (retry %d of %d)."
                % (method, urlsplit(url).path, delay, retry_reason, attempt, self.config.retries)
            )
            self._sleep(delay)

    def _send_once(self, method, url, headers, data, body_limit):
        config = self.config
        verify = config.ca_path if (config.validate_certs and config.ca_path) else config.validate_certs
        cert = None
        if config.client_cert:
            cert = (config.client_cert, config.client_key) if config.client_key else config.client_cert
        try:
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
                % (method, urlsplit(url).path, _origin(url), config.timeout)
            )
        except requests.exceptions.ConnectionError as error:
            if _find_cause(error, (ConnectionResetError, BrokenPipeError)) is not None or \
                    _is_remote_disconnect(error):
                raise _RetryableConnectionError(_short_reason(error))
            raise ConnectionFailedError(
                "cannot connect to %s: %s. Check the registry host and port, and that the "
                "registry is running." % (_origin(url), _short_reason(error))
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as error:
            raise ConnectionFailedError("invalid URL %r: %s" % (url, error))
        try:
            body, truncated = _read_limited(raw, 0 if method == "HEAD" else body_limit)
        except requests.exceptions.RequestException as error:
            raise ConnectionFailedError(
                "reading the answer to %s %s from %s failed: %s"
                % (method, urlsplit(url).path, _origin(url), _short_reason(error))
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
        return random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * (2 ** attempt)))

    def _warn_plain_credentials(self, url, headers):
        if self._warned_plain_credentials or "Authorization" not in headers:
            return
        parts = urlsplit(url)
        if parts.scheme == "http" and not _is_local_host(parts.hostname):
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

    def close(self):
        self._session.close()


class _RetryableConnectionError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _origin(url):
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s:%d" % (parts.scheme, host, port)


def _strip_query(url):
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _add_query(url, params):
    """Append ``params`` to ``url`` and keep any query the URL already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _basic_header(username, password):
    raw = ("%s:%s" % (username, password)).encode("utf-8")
    return "Basic %s" % base64.b64encode(raw).decode("ascii")


def _media_type(content_type):
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower()


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _token_lifetime(expires_in):
    """Seconds a token stays usable: ``expires_in`` as number or string, at least 60."""
    try:
        seconds = int(float(expires_in))
    except (TypeError, ValueError):
        return TOKEN_MIN_LIFETIME
    return max(seconds, TOKEN_MIN_LIFETIME)


def _retry_after(value):
    """Parse Retry-After (seconds or an HTTP date) into seconds; None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _is_auth_failure_400(response):
    """Return True for a 400 that rejects credentials rather than the request itself."""
    codes = response.error_codes()
    return not codes or any(code in ("UNAUTHORIZED", "DENIED") for code in codes)


def _is_local_host(hostname):
    if not hostname:
        return False
    if hostname.lower() == "localhost" or hostname.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_link_local


def _read_limited(raw, limit):
    """Read at most ``limit`` bytes of the body; return ``(bytes, truncated)``."""
    if limit <= 0:
        return b"", False
    chunks = []
    size = 0
    for chunk in raw.iter_content(chunk_size=65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


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
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
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

