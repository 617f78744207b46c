"""meta/runtime.yml agrees with the plugins the collection ships."""

import os

import yaml

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES_DIR = os.path.join(REPOSITORY_ROOT, "plugins", "modules")


def load_runtime():
    with open(os.path.join(REPOSITORY_ROOT, "meta", "runtime.yml")) as handle:
        return yaml.safe_load(handle)


def module_files():
    return set(
        os.path.splitext(name)[0]
        for name in os.listdir(MODULES_DIR)
        if name.endswith(".py") and not name.startswith("_")
    )


def test_action_group_lists_every_module():
    group = load_runtime()["action_groups"]["registry"]

    assert module_files() - set(group) == set(), "modules missing from action_groups.registry"


def test_action_group_names_only_modules():
    group = load_runtime()["action_groups"]["registry"]

    assert set(group) - module_files() == set(), "action_groups.registry names modules that do not exist"


def test_action_group_has_no_duplicates():
    group = load_runtime()["action_groups"]["registry"]

    assert sorted(group) == sorted(set(group))
