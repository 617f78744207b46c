# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is internal to the collection and may change without notice.

"""The Ansible side of a module run: AnsibleModule, the client, results and failures."""

from __future__ import annotations

import math
import os
import ssl
import stat
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.oci.registry.plugins.module_utils._argspec import shared_argument_spec
from ansible_collections.oci.registry.plugins.module_utils._client import ClientConfig, RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._credentials import find_credentials
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_registry

try:
    import requests  # noqa: F401, pylint: disable=unused-import
except ImportError:
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

# Upper bounds of the time options, stated in the doc fragments. They keep a typo such as
# 1e300 from reaching the socket layer, which cannot represent it, and from pausing a
# play for what amounts to ever.
MAX_TIMEOUT = 3600.0
MAX_RETRY_MAX_TIME = 86400.0


def check_readable_file(option, path, directory_allowed=False):
    """Raise RegistryError naming ``option`` unless ``path`` is a readable regular file.

    With ``directory_allowed``, a directory passes too (requests takes a directory of
    hashed CA certificates for ``ca_path``). Devices and FIFOs are rejected before any
    read, because reading them could block or never end.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise RegistryError("%s %s does not exist." % (option, path))
    except OSError as error:
        raise RegistryError("%s %s cannot be read (%s)." % (option, path, error.strerror or error))
    if directory_allowed and stat.S_ISDIR(mode):
        return
    if not stat.S_ISREG(mode):
        raise RegistryError("%s %s is not a regular file." % (option, path))
    if not os.access(path, os.R_OK):
        raise RegistryError("%s %s cannot be read (permission denied)." % (option, path))


def check_ca_bundle(path):
    """Raise RegistryError naming ca_path unless ``path`` contains at least one PEM certificate."""
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, OSError) as error:
        raise RegistryError(
            "ca_path %s contains no valid PEM certificate (%s): set it to the PEM file with "
            "the CA certificates that signed the registry's certificate." % (path, getattr(error, "reason", None) or error)
        )


class RegistryModule(object):
    """One module run: builds the AnsibleModule from the shared and the module's own
    argument spec, owns the RegistryClient, and reports results with request statistics."""

    def __init__(self, argument_spec, **kwargs):
        spec = shared_argument_spec()
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
        if REQUESTS_IMPORT_ERROR is not None:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.diff_mode = self.module._diff
        self.client = None
        # Human-readable steps taken so far; a failure reports them too.
        self.actions = []

    def connect(self):
        """Validate the connection options, look up credentials and create the client.

        No request is sent. Without username and password, credentials come from the
        docker and podman auth files (see _credentials.find_credentials).
        """
        params = self.params
        validate_registry(params["registry"])
        if params["client_key"] and not params["client_cert"]:
            raise RegistryError("client_key is set without client_cert: set both, or neither.")
        if params["retries"] < 0:
            raise RegistryError("retries is %d: set 0 or more." % params["retries"])
        timeout = params["timeout"]
        if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
            raise RegistryError("timeout is %s: set a number of seconds above 0 and at most %d."
                                % (timeout, MAX_TIMEOUT))
        retry_max_time = params["retry_max_time"]
        if not (math.isfinite(retry_max_time) and 0 <= retry_max_time <= MAX_RETRY_MAX_TIME):
            raise RegistryError("retry_max_time is %s: set a number of seconds from 0 to %d."
                                % (retry_max_time, MAX_RETRY_MAX_TIME))
        for option in ("ca_path", "client_cert", "client_key"):
            if params[option]:
                check_readable_file(option, params[option], directory_allowed=option == "ca_path")
        if params["ca_path"] and os.path.isfile(params["ca_path"]):
            check_ca_bundle(params["ca_path"])
        if bool(params["username"]) != bool(params["password"]):
            raise RegistryError("username and password go together: set both, or neither.")
        if not params["validate_certs"] and not params["plain_http"]:
            self.module.warn(
                "validate_certs is false: the registry's TLS certificate is not checked, so the "
                "connection can be intercepted. Prefer ca_path for a private CA."
            )

        username, password, identity_token = self._credentials()
        config = ClientConfig(
            registry=params["registry"],
            plain_http=params["plain_http"],
            validate_certs=params["validate_certs"],
            ca_path=params["ca_path"],
            client_cert=params["client_cert"],
            client_key=params["client_key"],
            timeout=params["timeout"],
            username=username,
            password=password,
            identity_token=identity_token,
            retries=params["retries"],
            retry_max_time=params["retry_max_time"],
        )
        self.client = RegistryClient(config, warn=self.module.warn, on_secret=self._mask)
        return self.client

    def _credentials(self):
        """Return ``(username, password, identity_token)`` from the options or the auth files."""
        params = self.params
        if params["username"]:
            return params["username"], params["password"], None
        found = find_credentials(params["registry"], config_path=params["config_path"], warn=self.module.warn)
        if found is None:
            return None, None, None
        for secret in (found.password, found.identity_token):
            if secret:
                self._mask(secret)
        self.actions.append("credentials for %s from %s" % (params["registry"], found.source))
        return found.username, found.password, found.identity_token

    def _mask(self, secret):
        self.module.no_log_values.add(secret)

    def request_stats(self):
        if self.client is None:
            return {"total": 0, "token": 0, "retries": 0, "by_method": {}, "by_status": {}}
        return self.client.stats.as_dict()

    def exit(self, **result):
        result.setdefault("actions", self.actions)
        result["requests"] = self.request_stats()
        self.module.exit_json(**result)

    def fail(self, msg, **result):
        result.setdefault("actions", self.actions)
        result["requests"] = self.request_stats()
        if self.client is not None:
            msg = self.client.redact(msg)
        self.module.fail_json(msg=msg, **result)

    def run(self, operation):
        """Call ``operation()`` and exit with its result dict; RegistryError becomes fail_json."""
        try:
            result = operation()
        except RegistryError as error:
            extra = {}
            if error.status is not None:
                extra["status"] = error.status
            if error.codes:
                extra["error_codes"] = error.codes
            self.fail(error.msg, **extra)
        self.exit(**result)
