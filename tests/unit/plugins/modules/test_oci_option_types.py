"""Tag and repository options that YAML turned into numbers are rejected before any request.

An unquoted ``1.10`` in a playbook is the float 1.1, and ``010`` the integer 8. The
modules run as subprocesses: once with module arguments that hold such numbers, and
once through ansible-playbook with the unquoted YAML itself.
"""

import os
import subprocess
import sys

import pytest

from conftest import COLLECTIONS_PATH, module_environment
from memoryregistry import MemoryRegistry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPOSITORY = "team/app"
DIGEST = "sha256:" + "ab" * 32
NO_REQUESTS = {"total": 0, "token": 0, "retries": 0, "by_method": {}, "by_status": {}}

# (module, its arguments besides the connection, option name as the message shows it, value as shown)
CASES = [
    ("oci_manifest", {"repository": REPOSITORY, "tag": 1.1, "state": "absent"}, "tag", "the number 1.1"),
    ("oci_manifest", {"repository": REPOSITORY, "tag": 8, "state": "absent"}, "tag", "the number 8"),
    ("oci_manifest", {"repository": 8, "digest": DIGEST, "state": "absent"}, "repository", "the number 8"),
    ("oci_tag", {"repository": REPOSITORY, "tag": 1.1, "digest": DIGEST}, "tag", "the number 1.1"),
    ("oci_tag", {"repository": REPOSITORY, "tag": True, "state": "absent"}, "tag", "the boolean true"),
    ("oci_tag", {"repository": REPOSITORY, "tag": "v1", "source_tag": 1.1}, "source_tag", "the number 1.1"),
    ("oci_manifest_info", {"repository": REPOSITORY, "tag": 1.1}, "tag", "the number 1.1"),
    ("oci_tag_info", {"repository": 2024}, "repository", "the number 2024"),
    ("oci_blob", {"repository": 8, "digest": DIGEST, "state": "absent"}, "repository", "the number 8"),
    ("oci_cleanup", {"repositories": [REPOSITORY], "tags": ["1.10", 1.1]}, "tags[1]", "the number 1.1"),
    ("oci_cleanup", {"repositories": [REPOSITORY], "tags": 1.1}, "tags", "the number 1.1"),
    ("oci_cleanup", {"repositories": [REPOSITORY], "keep_last": 1, "protect": [8]}, "protect[0]", "the number 8"),
    ("oci_cleanup", {"repositories": [REPOSITORY], "include": [1.1]}, "include[0]", "the number 1.1"),
    ("oci_cleanup", {"repositories": [REPOSITORY], "include": ["v.*"], "exclude": [1.1]}, "exclude[0]",
     "the number 1.1"),
    ("oci_cleanup", {"repositories": [8], "tags": ["v1"]}, "repositories[0]", "the number 8"),
]


@pytest.mark.parametrize("name, args, option, shown", CASES,
                         ids=["%s-%s-%d" % (case[0], case[2], number) for number, case in enumerate(CASES)])
def test_module_number_option_rejected(name, args, option, shown, registry, module_runner):
    result = module_runner.run(name, dict(args, registry=registry.host, plain_http=True))

    assert result["rc"] == 1
    assert result["failed"] is True
    assert result["msg"].startswith("%s is %s, not a" % (option, shown))
    assert "Quote" in result["msg"]
    assert result["requests"] == NO_REQUESTS
    assert registry.requests == []


def test_module_quoted_number_tag_deleted(module_runner):
    with MemoryRegistry() as registry:
        digests = seed_numbered_tags(registry)
        args = dict(registry=registry.address, plain_http=True, repository=REPOSITORY, tag="1.10",
                    state="absent", shared_tags="ignore", referrers="ignore")

        result = module_runner.run("oci_manifest", args)

        assert result.get("failed") is not True, result.get("msg")
        assert result["digest"] == digests["1.10"]
        assert sorted(registry.repository(REPOSITORY).tags) == ["010", "1.1", "8"]


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Delete tag 1.10, written without quotes
      oci.registry.oci_manifest:
        registry: "{registry}"
        plain_http: true
        repository: team/app
        tag: 1.10
        state: absent
        shared_tags: ignore
        referrers: ignore
      ignore_errors: true
      register: unquoted_float

    - name: Delete tag 010, written without quotes
      oci.registry.oci_manifest:
        registry: "{registry}"
        plain_http: true
        repository: team/app
        tag: 010
        state: absent
        shared_tags: ignore
        referrers: ignore
      ignore_errors: true
      register: unquoted_octal

    - name: Show both results
      ansible.builtin.debug:
        msg: "RESULT float={{{{ unquoted_float.msg }}}} octal={{{{ unquoted_octal.msg }}}}"
"""


def seed_numbered_tags(registry):
    """Push one manifest per tag 1.1, 1.10, 8 and 010; return ``{tag: digest}``."""
    digests = {}
    for tag in ("1.1", "1.10", "8", "010"):
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [], "annotations": {"tag": tag}}
        digests[tag] = registry.add_manifest(REPOSITORY, document, tags=[tag])[0]
    return digests


def test_module_unquoted_yaml_tag_rejected(tmp_path):
    with MemoryRegistry() as registry:
        digests = seed_numbered_tags(registry)
        playbook = tmp_path / "playbook.yml"
        playbook.write_text(PLAYBOOK.format(registry=registry.address))
        environment = module_environment()
        environment.update({
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_PATH,
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_NOCOLOR": "true",
        })
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                   "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)]

        completed = subprocess.run(command, capture_output=True, text=True, check=False, env=environment,
                                   cwd=str(tmp_path), timeout=120)

        assert completed.returncode == 0, completed.stdout[-3000:]
        assert "RESULT float=tag is the number 1.1, not a string." in completed.stdout
        assert "octal=tag is the number 8, not a string." in completed.stdout
        assert registry.log == []
        assert registry.repository(REPOSITORY).tags == {tag: digests[tag] for tag in digests}
