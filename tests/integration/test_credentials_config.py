"""Modules that find their credentials in a docker config.json instead of module options."""

import base64
import json

from tests.support.images import manifest_status, push_image
from tests.support.runner import run_module

# Empty values count as unset, so only DOCKER_CONFIG points at a file.
NO_OTHER_AUTH_FILES = {"REGISTRY_AUTH_FILE": "", "XDG_RUNTIME_DIR": "", "XDG_CONFIG_HOME": ""}


def write_docker_config(directory, registry, username, password, **extra):
    auth = base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {"http://%s/" % registry: dict(extra, auth=auth)}}))
    return path


def config_environment(tmp_path, docker_config):
    home = tmp_path / "home"
    home.mkdir()
    return dict(NO_OTHER_AUTH_FILES, HOME=str(home), DOCKER_CONFIG=str(docker_config))


def test_credentials_config_delete(token_registry, repository, tmp_path):
    image = push_image(token_registry, repository, ["v1"])
    docker_config = tmp_path / "docker"
    docker_config.mkdir()
    username, password = token_registry.admin
    path = write_docker_config(docker_config, token_registry.address, username, password)
    token_registry.proxy.reset()

    result = run_module(
        "oci_manifest",
        dict(registry=token_registry.address, plain_http=True, repository=repository, tag="v1", state="absent"),
        env=config_environment(tmp_path, docker_config),
    )

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["requests"]["token"] == 1
    assert result["actions"][0] == "credentials for %s from %s" % (token_registry.address, path)
    assert password not in json.dumps(result)
    assert manifest_status(token_registry, repository, image.digest) == 404


def test_credentials_config_other_host_anonymous(token_registry, repository, tmp_path):
    push_image(token_registry, repository, ["v1"])
    docker_config = tmp_path / "docker"
    docker_config.mkdir()
    write_docker_config(docker_config, "other.example.com", "admin", "unused")

    result = run_module(
        "oci_manifest",
        dict(registry=token_registry.address, plain_http=True, repository=repository, tag="v1", state="absent"),
        env=config_environment(tmp_path, docker_config),
    )

    assert result["failed"] is True
    assert result["status"] == 401
    assert "user (anonymous)" in result["msg"]
    assert not any(action.startswith("credentials for") for action in result["actions"])


def test_credentials_config_identity_token(token_registry, repository, tmp_path):
    image = push_image(token_registry, repository, ["v1"])
    docker_config = tmp_path / "docker"
    docker_config.mkdir()
    username = token_registry.admin[0]
    refresh_token = token_registry.token_service.issue_refresh_token(username)
    write_docker_config(docker_config, token_registry.address, username, "", identitytoken=refresh_token)
    token_registry.proxy.reset()

    result = run_module(
        "oci_manifest",
        dict(registry=token_registry.address, plain_http=True, repository=repository, tag="v1", state="absent"),
        env=config_environment(tmp_path, docker_config),
    )

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["requests"]["token"] == 1
    assert [record.method for record in token_registry.proxy.log if record.upstream == "token"] == ["POST"]
    assert refresh_token not in json.dumps(result)
    assert manifest_status(token_registry, repository, image.digest) == 404
