# Two commands a new user needs: `make up` (a local 3-cluster deployment) and `make test`.
.PHONY: test build up course

build:
	scripts/install-deps
	swift build

test:
	scripts/test

up: build
	.build/debug/sns cluster up

# Links named coordinator, tsd, tsc and synchronizer in .build/course, for the course's own command lines.
course: build
	.build/debug/sns course install .build/course
