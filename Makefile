# The two commands of the README: `make run` serves the emulator, `make test` runs every test.
# Both install what they need first, so they work on a fresh machine.

PORT ?= 5000
DATA_DIR ?=
PYTHON ?= python

.PHONY: run test test-fast

run:
	bash scripts/setup.sh
	$(PYTHON) -m ecr_emulator serve --port $(PORT) $(if $(DATA_DIR),--data-dir $(DATA_DIR))

# Installs the Debian packages the end-to-end tests drive (docker.io, skopeo, podman,
# docker-registry, umoci), starts a private dockerd, and runs pytest. With CI set, a
# missing docker fails the end-to-end tests instead of skipping them.
test:
	bash scripts/setup.sh --test
	eval "$$(bash scripts/dockerd.sh start)" && \
	  ECR_EMULATOR_REQUIRE_DOCKER=$(if $(CI),1,0) $(PYTHON) -m pytest -ra

# Unit and functional tests only: no docker needed.
test-fast:
	$(PYTHON) -m pytest -ra tests/unit tests/functional tests/contract
