# Entry points for people and CI. `make demo` and `make test` are the two
# commands the README promises to work on a fresh Debian machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The collection must sit under ansible_collections/<namespace>/<name> for
# ansible-playbook and ansible-test to find it; build/ holds that layout.
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/oci/registry
APT_PACKAGES := docker-registry apache2-utils
MODULE_NAMES := $(patsubst plugins/modules/%.py,oci.registry.%,$(wildcard plugins/modules/*.py))

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: all deps venv collection unit integration test demo clean \
	sanity lint docs-lint changelog-lint changelog package-test bench molecule

all: test

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): tests/requirements.txt tests/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r tests/requirements.txt -c tests/constraints.txt
	touch $@

venv: $(STAMP)

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

unit: venv collection
	$(BIN)/pytest -q tests/unit

integration: deps venv collection
	$(BIN)/pytest -q tests/integration

# Cheapest checks first, so a typo fails in seconds rather than after the registry tests.
test: changelog-lint package-test docs-lint lint unit sanity integration molecule

# ansible-test sanity on a copy of the collection under build/sanity, with the
# module tests (compile, import) on every pyenv Python from 3.9 on. See
# tests/sanity/run_sanity.py for why a copy and how it runs without downloads.
sanity: venv
	$(BIN)/python tests/sanity/run_sanity.py

lint: venv collection
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/ansible-lint

docs-lint: venv collection
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/antsibull-docs lint-collection-docs --plugin-docs $(COLLECTION_LINK)
	$(BIN)/ansible-doc -t module $(MODULE_NAMES) > /dev/null

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# Writes CHANGELOG.md and changelogs/changelog.yaml for the version in galaxy.yml and
# removes the fragments it used. Run again before tagging to fold fragments and
# modules added since into the same release.
changelog: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/antsibull-changelog release --reload-plugins --update-existing --cummulative-release

# Builds the collection tarball, installs it into a new temporary collections path
# and runs a delete against a local registry with the installed copy.
package-test: deps venv
	$(BIN)/python tests/package/run_package_test.py

# Molecule scenarios in extensions/molecule. Each one starts a token-auth registry on
# 127.0.0.1 in its create step, converges twice (the second run must change nothing),
# verifies over plain HTTP and stops the registry in its destroy step.
molecule: deps venv collection
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/molecule test --all

# Starts a token-auth registry on 127.0.0.1, pushes sample images, runs the example
# play twice (the second run must change nothing) and stops the registry again.
demo: deps venv collection
	$(BIN)/python -m tests.support.stack --mode token --seed -- \
	  sh -c 'for run in first second; do \
	    echo "== $$run run of examples/cleanup.yml"; \
	    ANSIBLE_PYTHON_INTERPRETER=$(CURDIR)/$(BIN)/python ANSIBLE_LOCALHOST_WARNING=false \
	      $(BIN)/ansible-playbook -i localhost, -c local examples/cleanup.yml || exit 1; \
	  done'

# Compares this collection with skopeo, oras-py and python-dxf on local registries
# and writes BENCHMARKS.md and bench/results.png. Not part of `make test`.
BENCH_BIN := bench/.venv/bin
BENCH_STAMP := bench/.venv/.installed

$(BENCH_STAMP): bench/requirements.txt
	$(PYTHON) -m venv bench/.venv
	$(BENCH_BIN)/pip install -q -r bench/requirements.txt
	touch $@

bench:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j3 deps venv $(BENCH_STAMP) APT_PACKAGES="$(APT_PACKAGES) skopeo" && \
	$(MAKE) --no-print-directory collection && \
	BENCH_STARTED=$$start $(BIN)/python -m bench.run && \
	echo "make bench took $$(( $$(date +%s) - start )) s in total"

clean:
	rm -rf build .pytest_cache
