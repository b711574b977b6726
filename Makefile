# The README's commands. `make test` needs PostgreSQL and Redis on 127.0.0.1
# (see DEVELOPERS.md); .ci/run starts them when they are down, then runs it.
GO ?= go

.PHONY: build test vet fuzz chaos demo bench-sync bench-detect bench-notify bench-report bench-soak

build:
	$(GO) build -o bin/dvcwatch ./cmd/dvcwatch

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

# Every fuzz target for FUZZTIME each (configuration, cron, both decoders, the
# admin API's bodies and query strings); a crash leaves its input in the
# package's testdata/fuzz to commit with the fix.
FUZZTIME ?= 10s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./.ci/fuzz

# The fault matrix (internal/chaos): its own PostgreSQL cluster and Redis, the
# simulator, a mail server and two serve processes, broken one part at a time;
# prints a table of lost and duplicated emails. About 18 minutes; not in `test`.
chaos:
	$(GO) test -tags chaos -count=1 -v -timeout 40m ./internal/chaos/

# The README's run command: the real jobs on an embedded stack for two minutes.
demo:
	$(GO) run ./cmd/dvcwatch demo --for 2m

# Full sync of 1,000,000 simulated dossiers into PostgreSQL and SQLite, with a
# raw multi-row upsert of the same rows in the same pages as the baseline (not
# a test).
bench-sync: build
	./bin/dvcwatch bench sync --dossiers 1000000

# A full detection pass over 1,000,000 simulated dossiers in PostgreSQL and
# SQLite, with a plain SELECT of the rows it reads as the baseline, then an
# incremental pass and a repeated full sweep (not a test).
bench-detect: build
	./bin/dvcwatch bench detect --dossiers 1000000

# Outbox → asynq → SMTP delivery of 2,000 emails against raw asynq on the same
# Redis (127.0.0.1:6379, database 15, which it flushes), then the digests'
# composition (not a test).
bench-notify: build
	./bin/dvcwatch bench notify --emails 2000

# A month's results of one agency over 1,000,000 simulated dossiers at every
# level, against hand-written GROUP BYs of the same counts (not a test).
bench-report: build
	./bin/dvcwatch bench report --dossiers 1000000

# serve's schedules for 10 minutes over 1,000,000 simulated dossiers with the
# simulated time moving, on SQLite and the in-process Redis: RSS over time,
# pass durations, queue latency, emails, and whether memory stays flat (not a
# test; --postgres URL --redis 127.0.0.1:6379 for the other stack, database 13).
bench-soak: build
	./bin/dvcwatch bench soak --dossiers 1000000 --for 10m
