"""examples/cleanup.yml, run twice through ansible-playbook against the token-auth registry.

The play sets the connection once with ``module_defaults`` for the action group
``group/oci.registry.registry``, so this also checks that oci_manifest and oci_blob take
their connection options from the group.
"""

import json
import os

from tests.support.images import manifest_status
from tests.support.runner import REPO_ROOT, run_playbook
from tests.support.stack import seed_demo

PLAYBOOK = os.path.join(REPO_ROOT, "examples", "cleanup.yml")
MODULE_TASKS = {
    "oci.registry.oci_manifest": 3,
    "oci.registry.oci_blob": 1,
}


def run_example(stack, facts_path):
    env = {
        "OCI_REGISTRY": stack.address,
        "OCI_USERNAME": stack.admin[0],
        "OCI_PASSWORD": stack.admin[1],
        "OCI_DEMO_FACTS": str(facts_path),
    }
    return run_playbook(PLAYBOOK, env=env)


def module_results(run):
    return [task for task in run["tasks"] if task["action"] in MODULE_TASKS]


def test_example_playbook_deletes_then_changes_nothing(token_registry, repository, tmp_path):
    images = seed_demo(token_registry, repository)
    facts_path = tmp_path / "facts.json"
    facts_path.write_text(json.dumps({"repository": repository, "images": images}))

    first = run_example(token_registry, facts_path)
    second = run_example(token_registry, facts_path)

    assert first["rc"] == 0, first["stderr"]
    assert [task["status"] for task in module_results(first)] == ["ok"] * 4
    assert [task["result"]["changed"] for task in module_results(first)] == [True] * 4
    assert [task["result"]["requests"]["token"] for task in module_results(first)] == [1] * 4
    assert module_results(first)[-1]["result"]["requests"]["total"] == 4
    assert manifest_status(token_registry, repository, "v1.0") == 404
    assert manifest_status(token_registry, repository, "multi") == 404
    assert manifest_status(token_registry, repository, "v1.1") == 200
    assert second["rc"] == 0, second["stderr"]
    assert [task["result"]["changed"] for task in module_results(second)] == [False] * 4
    assert second["stats"]["localhost"]["changed"] == 0
