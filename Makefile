# dsr_diff_ros developer entry points. `make setup` then `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# ROS isolation for tests: random domain, localhost-only discovery, shared-memory Fast DDS profile.
ROS_ENV = ROS_DOMAIN_ID=$${ROS_DOMAIN_ID:-$$(( RANDOM % 200 + 1 ))} \
	ROS_AUTOMATIC_DISCOVERY_RANGE=$${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST} \
	FASTDDS_DEFAULT_PROFILES_FILE=$${FASTDDS_DEFAULT_PROFILES_FILE:-$(CURDIR)/config/fastdds_shm.xml} \
	RMW_IMPLEMENTATION=$${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}
PYTEST_ARGS ?=

.PHONY: setup test test-fast demo bench colcon-check clean-build

setup:
	bash scripts/setup.sh

test: setup
	$(ROS_ENV) $(PY) -m pytest $(or $(TESTS),test) $(PYTEST_ARGS)

test-fast: setup
	$(ROS_ENV) $(PY) -m pytest $(or $(TESTS),test) -m "not slow" $(PYTEST_ARGS)

demo: setup
	$(ROS_ENV) $(VENV)/bin/dsr-diff-demo

bench:
	$(ROS_ENV) $(VENV)/bin/dsr-diff-bench

colcon-check:
	bash scripts/check_colcon.sh

clean-build:
	rm -rf build/venv_msgs build/venv_stage $(VENV)/.dsr_setup
