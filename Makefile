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

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: all deps venv collection unit integration test demo clean

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

test: unit integration

# Starts a token-auth registry on 127.0.0.1, pushes sample images, runs the example
# play twice (the second run must change nothing) and stops the registry again.
demo: deps venv collection
	$(BIN)/python -m tests.support.stack --mode token --seed -- \
	  sh -c 'for run in first second; do \
	    echo "== $$run run of examples/cleanup.yml"; \
	    ANSIBLE_PYTHON_INTERPRETER=$(CURDIR)/$(BIN)/python ANSIBLE_LOCALHOST_WARNING=false \
	      $(BIN)/ansible-playbook -i localhost, -c local examples/cleanup.yml || exit 1; \
	  done'

clean:
	rm -rf build .pytest_cache
