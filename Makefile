# The README's commands. `make test` needs PostgreSQL and Redis on 127.0.0.1
# (see DEVELOPERS.md); .ci/run starts them when they are down, then runs it.
GO ?= go

.PHONY: build test vet demo-calendar bench-sync

build:
	$(GO) build -o bin/dvcwatch ./cmd/dvcwatch

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 ./...

# Until the demo exists, the run command shows the deadline calendar.
demo-calendar:
	$(GO) run ./cmd/dvcwatch calendar holidays --year 2026
	$(GO) run ./cmd/dvcwatch calendar due --received "2026-02-12 15:00" --limit 5wd

# Full sync of 1,000,000 simulated dossiers into PostgreSQL and SQLite, with a
# raw multi-row upsert of the same rows as the baseline (not a test).
bench-sync: build
	./bin/dvcwatch bench sync --dossiers 1000000
