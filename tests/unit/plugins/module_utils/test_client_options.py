"""Connection and retry options that RegistryModule.connect checks before the client exists.

Each bad value must end in a RegistryError that names the option, never in a traceback
from the socket or TLS layer, and never in a hang on a FIFO.
"""

import os

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule

REGISTRY = "127.0.0.1:5000"


def connect(**options):
    args = dict(registry=REGISTRY, username="alice", password="secret", **options)
    with patch_module_args(args):
        registry_module = RegistryModule(argument_spec={})
    registry_module.connect()
    return registry_module


@pytest.mark.parametrize("value, shown", [
    ("nan", "nan"),
    ("inf", "inf"),
    (1e300, "1e+300"),
    (3600.5, "3600.5"),
    (0, "0.0"),
    (-1, "-1.0"),
], ids=["nan", "inf", "huge", "above_limit", "zero", "negative"])
def test_client_options_timeout_refused(value, shown):
    with pytest.raises(RegistryError) as raised:
        connect(timeout=value)

    assert raised.value.msg == "timeout is %s: set a number of seconds above 0 and at most 3600." % shown


def test_client_options_timeout_limit_accepted():
    assert connect(timeout=3600).client.config.timeout == 3600.0


@pytest.mark.parametrize("value, shown", [
    (-5, "-5.0"),
    ("nan", "nan"),
    ("inf", "inf"),
    (86401, "86401.0"),
], ids=["negative", "nan", "inf", "above_limit"])
def test_client_options_retry_max_time_refused(value, shown):
    with pytest.raises(RegistryError) as raised:
        connect(retry_max_time=value)

    assert raised.value.msg == "retry_max_time is %s: set a number of seconds from 0 to 86400." % shown


def test_client_options_retry_max_time_zero_accepted():
    assert connect(retry_max_time=0).client.config.retry_max_time == 0.0


@pytest.mark.parametrize("option", ["ca_path", "client_cert"])
def test_client_options_file_missing(tmp_path, option):
    path = str(tmp_path / "missing.pem")

    with pytest.raises(RegistryError) as raised:
        connect(**{option: path})

    assert raised.value.msg == "%s %s does not exist." % (option, path)


def test_client_options_client_key_missing(tmp_path, tls_files):
    path = str(tmp_path / "missing.key")

    with pytest.raises(RegistryError) as raised:
        connect(client_cert=tls_files["client_cert"], client_key=path)

    assert raised.value.msg == "client_key %s does not exist." % path


@pytest.mark.parametrize("option", ["ca_path", "client_cert"])
def test_client_options_fifo_refused(tmp_path, option):
    path = str(tmp_path / "pipe")
    os.mkfifo(path)

    with pytest.raises(RegistryError) as raised:
        connect(**{option: path})

    assert raised.value.msg == "%s %s is not a regular file." % (option, path)


def test_client_options_client_cert_directory_refused(tmp_path):
    with pytest.raises(RegistryError) as raised:
        connect(client_cert=str(tmp_path))

    assert raised.value.msg == "client_cert %s is not a regular file." % tmp_path


def test_client_options_ca_path_directory_accepted(tmp_path):
    assert connect(ca_path=str(tmp_path)).client.config.ca_path == str(tmp_path)


@pytest.mark.parametrize("content", [b"registry.example.com\n", b""], ids=["text", "empty"])
def test_client_options_ca_path_not_pem(tmp_path, content):
    path = tmp_path / "ca.pem"
    path.write_bytes(content)

    with pytest.raises(RegistryError) as raised:
        connect(ca_path=str(path))

    assert raised.value.msg.startswith("ca_path %s contains no valid PEM certificate (" % path)
    assert raised.value.msg.endswith(
        "): set it to the PEM file with the CA certificates that signed the registry's certificate."
    )


def test_client_options_ca_path_pem_accepted(tls_files):
    assert connect(ca_path=tls_files["ca"]).client.config.ca_path == tls_files["ca"]
