"""Fixtures that give integration tests a real registry on 127.0.0.1.

Each auth mode has one session-scoped stack (registry, token service in token
mode, counting proxy). A stack starts the first time a test requests it and
stops at the end of the session. Measured start times, with
``tests/integration/test_support_stack.py`` on the development container:
about 0.04 s for basic and anonymous and 0.15 s for token (most of it is
generating the 2048-bit RSA signing key).

``registry`` runs a test once per mode. Seed with ``tests.support.images``,
then call ``registry.proxy.reset()`` so the test counts only its own requests.
"""

import secrets

import pytest

from tests.support.registry import MODES, RegistryStack, credentials as stack_credentials


def _session_stack(mode, tmp_path_factory):
    stack = RegistryStack(mode, tmp_path_factory.mktemp("registry-%s-" % mode))
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory):
    yield from _session_stack("token", tmp_path_factory)


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory):
    yield from _session_stack("basic", tmp_path_factory)


@pytest.fixture(scope="session")
def anonymous_registry(tmp_path_factory):
    yield from _session_stack("anonymous", tmp_path_factory)


@pytest.fixture(params=MODES, ids=list(MODES))
def registry(request):
    """The session stack of each auth mode in turn, with an empty proxy log."""
    stack = request.getfixturevalue("%s_registry" % request.param)
    stack.proxy.reset()
    return stack


@pytest.fixture
def registry_factory(tmp_path_factory):
    """Start extra stacks with options, e.g. ``registry_factory("basic", tls=True)``; stopped after the test."""
    stacks = []

    def start(mode, **options):
        stack = RegistryStack(mode, tmp_path_factory.mktemp("registry-%s-" % mode), **options)
        stacks.append(stack)
        return stack

    yield start
    for stack in stacks:
        stack.stop()


@pytest.fixture
def repository():
    """A repository name no other test uses, such as ``it/3f9a0c1d2e4b``."""
    return "it/%s" % secrets.token_hex(6)


@pytest.fixture
def credentials():
    """``credentials(stack, user="admin")``: module args ``username``/``password``, or {} when anonymous."""
    return stack_credentials
