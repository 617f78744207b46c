# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""Registry credentials from the auth files and credential helpers of docker and podman.

The lookup reads these files in order and stops at the first usable entry:

1. the file the module option ``config_path`` names,
2. ``$REGISTRY_AUTH_FILE``,
3. ``$XDG_RUNTIME_DIR/containers/auth.json``,
4. ``$XDG_CONFIG_HOME/containers/auth.json`` (default ``~/.config/containers/auth.json``),
5. ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``).

Inside one file it tries the ``auths`` entry of the registry, then the helper that
``credHelpers`` names for the registry, then the ``credsStore`` helper. A helper is the
program ``docker-credential-<name>``; it reads the server URL on stdin after the
argument ``get`` and prints ``{"ServerURL", "Username", "Secret"}`` as JSON.

Everything here takes the environment, the home directory, a warning callback and the
helper runner as arguments, so it runs without AnsibleModule.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
import subprocess
from collections import namedtuple

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
"""The key docker stores Docker Hub credentials under, and the URL its helpers receive."""

DOCKER_HUB_HOSTS = frozenset(("docker.io", "index.docker.io", "registry-1.docker.io"))

AUTH_FILE_MAX_SIZE = 1024 * 1024
"""Maximum size of an auth file in bytes. A real one has a few entries, and the limit
keeps a wrong path (a device such as /dev/zero, a log file) from filling the memory."""

HELPER_PREFIX = "docker-credential-"
HELPER_TIMEOUT = 30.0
"""Seconds a credential helper may run before the lookup gives up on it."""

# A helper returns this user name when Secret is an identity (refresh) token.
TOKEN_USERNAME = "<token>"
# Helpers report a missing entry with this text and a non-zero exit code
# (docker-credential-helpers prints "credentials not found in native keychain").
CREDENTIALS_NOT_FOUND = "credentials not found"

# Key paths that still name the whole registry: Docker Hub's legacy /v1/ and the API root.
_REGISTRY_WIDE_PATHS = frozenset(("", "v1", "v2"))
_HELPER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

Credentials = namedtuple("Credentials", ["username", "password", "identity_token", "source"])
"""Credentials for one registry and where they came from.

``identity_token`` is an OAuth2 refresh token for the token service. When it is set,
``password`` is None. ``source`` names the file or helper and never contains a secret.
"""

HelperResult = namedtuple("HelperResult", ["returncode", "stdout", "stderr"])
"""The exit code and the decoded output streams of one credential helper run."""


def find_credentials(registry, config_path=None, env=None, home=None, warn=None,
                     run_helper=None, helper_timeout=HELPER_TIMEOUT):
    """Look up credentials for ``registry`` (``host[:port]``) in the auth files.

    ``env`` defaults to ``os.environ`` and ``home`` to the user's home directory.
    ``warn`` receives a message for every file or helper that is skipped because it
    failed, but missing default files are skipped silently. ``run_helper`` has the
    signature of run_credential_helper. Returns Credentials, or None when no source
    has a usable entry.
    """
    lookup = _Lookup(
        registry,
        env=os.environ if env is None else env,
        warn=warn or (lambda message: None),
        run_helper=run_helper or run_credential_helper,
        helper_timeout=helper_timeout,
    )
    if lookup.key is None:
        return None
    home = os.path.expanduser("~") if home is None else home
    for path in auth_file_paths(config_path, lookup.env, home):
        document = _read_auth_file(path, lookup.warn, explicit=path == config_path)
        if document is None:
            continue
        found = lookup.search_document(document, path)
        if found is not None:
            return found
    return None


def auth_file_paths(config_path, env, home):
    """Return the auth files to read, in lookup order and without duplicates.

    Empty environment variables count as unset. Without ``home``, the two defaults
    below the home directory are left out.
    """
    paths = []
    if config_path:
        paths.append(config_path)
    if env.get("REGISTRY_AUTH_FILE"):
        paths.append(env["REGISTRY_AUTH_FILE"])
    if env.get("XDG_RUNTIME_DIR"):
        paths.append(os.path.join(env["XDG_RUNTIME_DIR"], "containers", "auth.json"))

    config_home = env.get("XDG_CONFIG_HOME") or (os.path.join(home, ".config") if home else None)
    if config_home:
        paths.append(os.path.join(config_home, "containers", "auth.json"))
    docker_config = env.get("DOCKER_CONFIG") or (os.path.join(home, ".docker") if home else None)
    if docker_config:
        paths.append(os.path.join(docker_config, "config.json"))

    unique = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return unique


def normalize_registry_key(key):
    """Return the lookup key of an auth file key or a registry host.

    Drops the scheme, a trailing slash and a ``/v1/`` or ``/v2/`` path, lower-cases the
    host and keeps the port. The Docker Hub hosts all map to DOCKER_HUB_KEY. Returns
    None for a key that is not a string or that has any other path.
    """
    if not isinstance(key, str):
        return None
    value = key.strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    host, _separator, path = value.partition("/")
    # NOTE: podman also accepts per-namespace keys such as "quay.io/team". Their path is
    # not a registry-wide path, so they never match and the lookup moves on.
    if path.strip("/") not in _REGISTRY_WIDE_PATHS:
        return None
    host = host.lower()
    if not host:
        return None
    if host in DOCKER_HUB_HOSTS:
        return DOCKER_HUB_KEY
    return host


def run_credential_helper(program, server_url, env, timeout):
    """Run ``<program> get`` with ``server_url`` on stdin and return a HelperResult.

    ``program`` is looked up on the PATH of ``env``. Raises OSError when the program
    cannot be started and subprocess.TimeoutExpired when it runs longer than ``timeout``
    seconds (the program is killed first).
    """
    completed = subprocess.run(
        [program, "get"], input=server_url, capture_output=True, env=dict(env),
        timeout=timeout, check=False, encoding="utf-8", errors="replace",
    )
    return HelperResult(completed.returncode, completed.stdout, completed.stderr)


class _Lookup(object):
    """State of one lookup, which is the registry key and the helpers already run."""

    def __init__(self, registry, env, warn, run_helper, helper_timeout):
        self.registry = registry
        self.key = normalize_registry_key(registry)
        self.env = env
        self.warn = warn
        self.run_helper = run_helper
        self.helper_timeout = helper_timeout
        # A helper named in several files runs once because it would return the same again.
        self.started_helpers = set()

    def search_document(self, document, path):
        """Return Credentials from one parsed auth file, or None."""
        auths = _mapping_field(document, "auths", path, self.warn)
        for raw_key, entry in auths.items():
            if normalize_registry_key(raw_key) != self.key:
                continue
            found = _credentials_from_entry(entry, raw_key, path, self.warn)
            if found is not None:
                return found

        helpers = _mapping_field(document, "credHelpers", path, self.warn)
        for raw_key, name in helpers.items():
            if normalize_registry_key(raw_key) != self.key:
                continue
            found = self.ask_helper(name, "credHelpers", path)
            if found is not None:
                return found

        store = document.get("credsStore")
        if store is not None:
            return self.ask_helper(store, "credsStore", path)
        return None

    def ask_helper(self, name, field, path):
        """Run the helper ``name`` from ``field`` of ``path`` and return Credentials or None."""
        if not isinstance(name, str) or not _HELPER_NAME_RE.match(name):
            self.warn(
                "Ignoring %s in %s: %r is not a credential helper name (expected letters, "
                "digits, '.', '_' and '-', as in 'pass' for docker-credential-pass)."
                % (field, path, name)
            )
            return None
        program = HELPER_PREFIX + name
        if program in self.started_helpers:
            return None
        self.started_helpers.add(program)

        server_url = self.key
        try:
            result = self.run_helper(program, server_url, self.env, self.helper_timeout)
        except subprocess.TimeoutExpired:
            self.warn(
                "Skipping credential helper %s (%s in %s): it did not finish within %s seconds."
                % (program, field, path, self.helper_timeout)
            )
            return None
        except OSError as error:
            self.warn(
                "Skipping credential helper %s (%s in %s): it cannot be run (%s). Install it on "
                "the PATH or remove it from %s." % (program, field, path, error.strerror or error, path)
            )
            return None
        source = "%s (%s in %s)" % (program, field, path)
        return _credentials_from_helper_result(result, program, server_url, source, self.warn)


def _read_auth_file(path, warn, explicit):
    """Return the JSON object in ``path``, or None when it is missing or unusable.

    Only a regular file of at most AUTH_FILE_MAX_SIZE bytes is read.
    """
    try:
        # O_NONBLOCK keeps the open of a FIFO from waiting for a writer. It has no effect
        # on a regular file.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        if explicit:
            warn("config_path %s does not exist; looking for credentials in the default files." % path)
        return None
    except OSError as error:
        warn("Skipping the auth file %s: it cannot be read (%s)." % (path, error.strerror or error))
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            warn("Skipping the auth file %s: it is not a regular file." % path)
            return None
        raw = _read_at_most(descriptor, AUTH_FILE_MAX_SIZE + 1)
    except OSError as error:
        warn("Skipping the auth file %s: it cannot be read (%s)." % (path, error.strerror or error))
        return None
    finally:
        os.close(descriptor)
    if len(raw) > AUTH_FILE_MAX_SIZE:
        warn("Skipping the auth file %s: it is larger than %d bytes." % (path, AUTH_FILE_MAX_SIZE))
        return None
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        # Only the reason and position are shown because the document may contain secrets.
        if isinstance(error, json.JSONDecodeError):
            reason = "%s at line %d column %d" % (error.msg, error.lineno, error.colno)
        else:
            reason = "not UTF-8"
        warn("Skipping the auth file %s: it is not valid JSON (%s)." % (path, reason))
        return None
    if not isinstance(document, dict):
        warn("Skipping the auth file %s: expected a JSON object at the top level." % path)
        return None
    return document


def _read_at_most(descriptor, size):
    """Read from ``descriptor`` until the end of the file or ``size`` bytes."""
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = os.read(descriptor, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _mapping_field(document, field, path, warn):
    value = document.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        warn("Ignoring %s in %s: expected a JSON object." % (field, path))
        return {}
    return value


def _credentials_from_entry(entry, key, path, warn):
    """Return Credentials from one ``auths`` entry, or None when it contains none."""
    if not isinstance(entry, dict):
        warn("Ignoring the auths entry %r in %s: expected a JSON object." % (key, path))
        return None
    username = password = None
    auth = _string_field(entry, "auth")
    if auth:
        decoded = _decode_auth(auth)
        if decoded is None:
            warn("Ignoring the 'auth' field of the auths entry %r in %s: it is not the base64 "
                 "encoding of 'username:password'." % (key, path))
        else:
            username, password = decoded
    if username is None:
        username = _string_field(entry, "username")
        password = _string_field(entry, "password")

    identity_token = _string_field(entry, "identitytoken")
    if identity_token:
        return Credentials(username or None, None, identity_token, path)
    if username and password:
        return Credentials(username, password, None, path)
    return None


def _decode_auth(auth):
    """Return ``(username, password)`` from base64 ``username:password``, or None.

    Only the first colon separates the two, so a password may contain colons.
    """
    padded = auth.strip() + "=" * (-len(auth.strip()) % 4)
    try:
        text = base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    username, separator, password = text.partition(":")
    if not separator:
        return None
    return username, password


def _credentials_from_helper_result(result, program, server_url, source, warn):
    if result.returncode != 0:
        output = "%s\n%s" % (result.stdout or "", result.stderr or "")
        if CREDENTIALS_NOT_FOUND in output.lower():
            return None
        # The helper's output is left out because a failing helper may still print a secret.
        warn(
            "Skipping credential helper %s for %s: it exited with code %d. Run "
            "'echo %s | %s get' to see its message." % (program, server_url, result.returncode, server_url, program)
        )
        return None
    try:
        document = json.loads(result.stdout)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        warn("Skipping credential helper %s for %s: its output is not a JSON object." % (program, server_url))
        return None
    username = _string_field(document, "Username")
    secret = _string_field(document, "Secret")
    if not secret:
        return None
    if username == TOKEN_USERNAME:
        return Credentials(None, None, secret, source)
    if not username:
        return None
    return Credentials(username, secret, None, source)


def _string_field(document, name):
    value = document.get(name)
    return value if isinstance(value, str) else None
