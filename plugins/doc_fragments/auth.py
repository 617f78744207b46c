# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Options of the auth group (AUTH_ARGSPEC in module_utils/_argspec.py)."""

    DOCUMENTATION = r"""
options:
  username:
    description:
      - User name for the registry.
      - With token authentication, sent to the token service as HTTP Basic credentials;
        with HTTP Basic authentication, sent to the registry.
      - Without O(username) and O(password), the module looks up credentials for
        O(registry) in the auth files of docker and podman. It reads O(config_path), then
        E(REGISTRY_AUTH_FILE), then C($XDG_RUNTIME_DIR/containers/auth.json), then
        C($XDG_CONFIG_HOME/containers/auth.json) (default C(~/.config/containers/auth.json)),
        then C($DOCKER_CONFIG/config.json) (default C(~/.docker/config.json)).
      - In each file it tries the C(auths) entry of the registry (C(auth), C(username) and
        C(password), or C(identitytoken)), then the helper C(docker-credential-<name>) that
        C(credHelpers) names for the registry, then the C(credsStore) helper. The first
        entry with credentials wins, and RV(actions) names the file or helper it came
        from. Entries without credentials, missing files and helpers that have no entry
        for the registry are passed over.
      - An identity token (C(identitytoken) in C(auths), or a helper answer with the user
        name C(<token>)) is sent to the token service as an OAuth2 refresh token. When the
        token service returns HTTP 404 or 405 for that request, the identity token is sent
        as the password of HTTP Basic credentials on a GET request instead.
      - Keys in C(auths) and C(credHelpers) match without scheme, trailing slash and C(/v1/)
        or C(/v2/) path, and the host is compared case-insensitively with its port. C(docker.io),
        C(index.docker.io) and C(registry-1.docker.io) all match the Docker Hub key
        C(https://index.docker.io/v1/). Keys with a repository path, as podman allows,
        are not used.
      - Files that cannot be read or are not valid JSON, and helpers that fail or run
        longer than 30 seconds, are skipped with a warning.
      - Without O(username) and O(password) and without an entry for the registry, requests
        are anonymous.
    type: str
  password:
    description:
      - Password or access token of O(username).
      - Never shown in results, warnings or error messages. Passwords and identity tokens
        found in auth files or returned by credential helpers are masked the same way.
    type: str
  config_path:
    description:
      - Path of a docker C(config.json) or podman C(auth.json) file, read first when the
        module looks up credentials (see O(username)).
      - A missing O(config_path) gives a warning; the lookup then continues with the
        default files.
      - Ignored when O(username) and O(password) are set.
    type: path
"""
