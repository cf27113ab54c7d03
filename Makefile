# Two commands a new user needs: `make up` (a local 3-cluster deployment) and `make test`.
.PHONY: test build up

build:
	scripts/install-deps
	swift build

test:
	scripts/test

up: build
	.build/debug/sns cluster up
