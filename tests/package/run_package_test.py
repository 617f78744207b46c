# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build the collection tarball, install it into an empty collections path and use it.

Usage (from the repository root, with the project's venv)::

    .venv/bin/python tests/package/run_package_test.py

Steps, each of which must succeed:

1. ``ansible-galaxy collection build`` from the work tree, as a release would;
2. the tarball contains the files a user needs and none that ``build_ignore``
   leaves out (virtual environment, build and test output, caches);
3. ``ansible-galaxy collection install`` into a new temporary collections path;
4. ``ansible-doc`` finds every module there, not in the work tree;
5. tests/package/smoke.yml runs with that installed copy against a local registry
   in anonymous mode (``python -m tests.support.stack``): a delete in check mode,
   a real one, a repeated one, and one against a closed port.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile

import yaml

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
SMOKE_PLAYBOOK = os.path.join(REPOSITORY_ROOT, "tests", "package", "smoke.yml")

# Paths that must be in the tarball, besides every module.
REQUIRED_MEMBERS = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "CHANGELOG.md",
    "COPYING",
    "requirements.txt",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "changelogs/changelog.yaml",
)
# Top-level directories that build_ignore in galaxy.yml must keep out.
FORBIDDEN_PREFIXES = (".venv/", ".ansible/", ".pytest_cache/", "build/", "tests/output/")


class PackageTestError(Exception):
    """One step of the package test failed."""


def run(command, env=None):
    print("+ " + " ".join(command), flush=True)
    completed = subprocess.run(command, cwd=REPOSITORY_ROOT, env=env, check=False)
    if completed.returncode != 0:
        raise PackageTestError("%s exited with status %d" % (command[0], completed.returncode))


def collection_version():
    with open(os.path.join(REPOSITORY_ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)["version"]


def module_names():
    paths = glob.glob(os.path.join(REPOSITORY_ROOT, "plugins", "modules", "*.py"))
    return sorted("oci.registry." + os.path.splitext(os.path.basename(path))[0] for path in paths)


def build(output_dir):
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", output_dir, REPOSITORY_ROOT])
    tarball = os.path.join(output_dir, "oci-registry-%s.tar.gz" % collection_version())
    if not os.path.isfile(tarball):
        raise PackageTestError("ansible-galaxy did not write %s" % tarball)
    return tarball


def check_members(tarball):
    with tarfile.open(tarball) as archive:
        members = set(archive.getnames())
    required = list(REQUIRED_MEMBERS)
    required += ["plugins/modules/%s.py" % name.rsplit(".", 1)[1] for name in module_names()]
    missing = [path for path in required if path not in members]
    if missing:
        raise PackageTestError("the tarball lacks %s" % ", ".join(missing))
    unwanted = sorted(path for path in members if path.startswith(FORBIDDEN_PREFIXES) or "__pycache__" in path)
    if unwanted:
        raise PackageTestError("the tarball contains %s: add them to build_ignore in galaxy.yml" % ", ".join(unwanted))
    print("tarball: %d members, required present, ignored paths absent" % len(members), flush=True)


def installed_environment(collections_path):
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections_path,
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="true",
    )
    return env


def check_installed_docs(collections_path, env):
    command = [os.path.join(BIN, "ansible-doc"), "--json", "-t", "module"] + module_names()
    print("+ " + " ".join(command), flush=True)
    completed = subprocess.run(command, cwd=REPOSITORY_ROOT, env=env, check=False, stdout=subprocess.PIPE)
    if completed.returncode != 0:
        raise PackageTestError("ansible-doc exited with status %d" % completed.returncode)
    docs = json.loads(completed.stdout)
    for name in module_names():
        if name not in docs:
            raise PackageTestError("ansible-doc did not document %s" % name)
        filename = docs[name]["doc"]["filename"]
        if not filename.startswith(collections_path + os.sep):
            raise PackageTestError("ansible-doc found %s at %s, outside %s" % (name, filename, collections_path))
    print("ansible-doc: %d modules documented from the installed copy" % len(docs), flush=True)


def main():
    with tempfile.TemporaryDirectory(prefix="oci-registry-package-") as workdir:
        tarball = build(os.path.join(workdir, "dist"))
        check_members(tarball)

        collections_path = os.path.join(workdir, "collections")
        env = installed_environment(collections_path)
        # With the environment of the installed copy, ansible-galaxy does not see the
        # work tree that `make collection` links into the default collections path.
        run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "-p", collections_path, tarball],
            env=env)
        check_installed_docs(collections_path, env)

        playbook = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", SMOKE_PLAYBOOK]
        run([sys.executable, "-m", "tests.support.stack", "--mode", "anonymous", "--seed", "--"] + playbook, env=env)
    print("package test passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except PackageTestError as error:
        sys.stderr.write("package test failed: %s\n" % error)
        sys.exit(1)
