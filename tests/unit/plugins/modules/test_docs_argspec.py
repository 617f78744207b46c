"""Every module's documented options agree with the argument spec it runs with.

The documentation is what ``ansible-doc --json`` prints, so doc fragments are merged by
Ansible itself. The argument spec is what the module passes to ``AnsibleModule``: the
test replaces ``AnsibleModule`` in module_utils/_module.py with a recorder that stops
the run once it has the keyword arguments, so no module code is skipped or faked
before that point.
"""

import importlib
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.basic import PASSWORD_MATCH

from ansible_collections.oci.registry.plugins.module_utils import _argspec
from ansible_collections.oci.registry.plugins.module_utils import _module

# This file is tests/unit/plugins/modules/test_docs_argspec.py.
REPOSITORY_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
COLLECTIONS_PATH = os.path.join(REPOSITORY_ROOT, "build", "collections")
MODULE_NAMES = sorted(
    os.path.splitext(name)[0]
    for name in os.listdir(os.path.join(REPOSITORY_ROOT, "plugins", "modules"))
    if name.endswith(".py") and not name.startswith("_")
)
FRAGMENTS_DIR = os.path.join(REPOSITORY_ROOT, "plugins", "doc_fragments")
# Fragments that document attributes, not options, and so have no argument spec group.
NON_OPTION_FRAGMENTS = {"attributes"}
# Option names on which validate-modules requires an explicit no_log (True or False).
SECRET_LOOKING_NAME = re.compile(r"pass(?!ive)|secret|token|key", re.IGNORECASE)


class ArgumentSpecCaptured(Exception):
    """Raised by the recorder to stop a module run once AnsibleModule was called."""

    def __init__(self, kwargs):
        super().__init__("AnsibleModule called")
        self.kwargs = kwargs


def record_ansible_module(**kwargs):
    raise ArgumentSpecCaptured(kwargs)


def module_argument_spec(name, monkeypatch):
    """Run the module's main() until it builds AnsibleModule and return that argument spec."""
    module = importlib.import_module("ansible_collections.oci.registry.plugins.modules." + name)
    monkeypatch.setattr(_module, "AnsibleModule", record_ansible_module)
    if hasattr(module, "AnsibleModule"):
        monkeypatch.setattr(module, "AnsibleModule", record_ansible_module)
    with pytest.raises(ArgumentSpecCaptured) as captured:
        module.main()
    return captured.value.kwargs["argument_spec"]


class ModuleDocs(object):
    """The merged documentation of each module, from one ``ansible-doc`` run per module.

    One run per module keeps a module with broken documentation from hiding the others,
    because ``ansible-doc --json`` prints nothing when any of its modules fails.
    """

    def __init__(self):
        self.docs = {}

    def options(self, name):
        if name not in self.docs:
            self.docs[name] = self._load(name)
        return self.docs[name].get("options") or {}

    @staticmethod
    def _load(name):
        ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_NOCOLOR="true")
        command = [ansible_doc, "--json", "-t", "module", "oci.registry." + name]
        completed = subprocess.run(command, env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert completed.returncode == 0, "ansible-doc failed on %s: %s" % (name, completed.stderr.decode("utf-8", "replace"))
        return json.loads(completed.stdout)["oci.registry." + name]["doc"]


@pytest.fixture(scope="module")
def module_docs():
    return ModuleDocs()


def normalize_spec(option):
    """Return the argument spec entry with AnsibleModule's implicit values filled in."""
    return {
        "type": option.get("type", "str"),
        "elements": option.get("elements"),
        "required": bool(option.get("required", False)),
        "default": option.get("default"),
        "choices": sorted(option["choices"]) if option.get("choices") is not None else None,
        "aliases": sorted(option.get("aliases", [])),
        "options": normalize_all(option.get("options"), normalize_spec),
    }


def normalize_doc(option):
    """Return the documented option in the same shape as normalize_spec()."""
    return {
        "type": option.get("type", "str"),
        "elements": option.get("elements"),
        "required": bool(option.get("required", False)),
        "default": option.get("default"),
        "choices": sorted(option["choices"]) if option.get("choices") is not None else None,
        "aliases": sorted(option.get("aliases", [])),
        "options": normalize_all(option.get("suboptions"), normalize_doc),
    }


def normalize_all(options, normalize):
    if not options:
        return None
    return dict((name, normalize(option)) for name, option in options.items())


def load_fragment_options(fragment_name):
    module = importlib.import_module("ansible_collections.oci.registry.plugins.doc_fragments." + fragment_name)
    return yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION).get("options") or {}


def option_fragment_names():
    return sorted(
        os.path.splitext(name)[0]
        for name in os.listdir(FRAGMENTS_DIR)
        if name.endswith(".py") and not name.startswith("_") and os.path.splitext(name)[0] not in NON_OPTION_FRAGMENTS
    )


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_option_names_match_spec(name, module_docs, monkeypatch):
    spec = module_argument_spec(name, monkeypatch)

    assert sorted(module_docs.options(name)) == sorted(spec)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_option_details_match_spec(name, module_docs, monkeypatch):
    spec = module_argument_spec(name, monkeypatch)
    options = module_docs.options(name)

    for option in sorted(set(options) & set(spec)):
        assert normalize_doc(options[option]) == normalize_spec(spec[option]), "option %s of %s" % (option, name)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_spec_includes_shared_options(name, monkeypatch):
    spec = module_argument_spec(name, monkeypatch)
    shared = _argspec.shared_argument_spec()

    for option in sorted(shared):
        assert spec.get(option) == shared[option], "shared option %s of %s" % (option, name)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_password_options_no_log(name, module_docs, monkeypatch):
    spec = module_argument_spec(name, monkeypatch)
    options = module_docs.options(name)

    password_options = sorted(option for option in spec if PASSWORD_MATCH.search(option))
    for option in password_options:
        assert option in options, "password option %s of %s is not documented" % (option, name)
        assert spec[option].get("no_log") is True, "password option %s of %s" % (option, name)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_secret_names_explicit_no_log(name, monkeypatch):
    spec = module_argument_spec(name, monkeypatch)

    for option in sorted(option for option in spec if SECRET_LOOKING_NAME.search(option)):
        assert "no_log" in spec[option], "option %s of %s needs an explicit no_log" % (option, name)


def test_shared_password_option_no_log():
    assert _argspec.AUTH_ARGSPEC["password"]["no_log"] is True


def test_fragment_files_cover_option_groups():
    assert option_fragment_names() == sorted(_argspec.OPTION_GROUPS)


@pytest.mark.parametrize("group", sorted(_argspec.OPTION_GROUPS))
def test_fragment_matches_option_group(group):
    options = load_fragment_options(group)
    spec = _argspec.OPTION_GROUPS[group]

    assert sorted(options) == sorted(spec)
    for option in sorted(set(options) & set(spec)):
        assert normalize_doc(options[option]) == normalize_spec(spec[option]), "option %s of %s" % (option, group)
