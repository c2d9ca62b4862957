# tickq — build, test, demo and benchmark entry points.
#
#   make            build build/tickq and build/tickq-python-host (the Python
#                   strategies' host, which tickq starts from beside itself)
#   make test       install deps, build, run unit + integration tests (real redis-server)
#   make demo       install deps, build, run a short demo against a private redis-server
#   make sanitize   ASan + UBSan build, then the whole test suite against it
#   make chaos      faults against the built binary, one JSON line per scenario
#                   (tests/chaos/chaos.py; CHAOS_SCALE, default 1: about 4 minutes)
#   make soak       steady mixed load, memory and keys flat (SOAK_SECONDS, default 600)
#   make hostile    the hostile strategy catalogue (tests/hostile/) alone, one line per entry
#   make fuzz       libFuzzer targets (fuzz/, clang), FUZZ_SECONDS (60) each; one JSON line each
#   make bench      every benchmark (one JSON line each): bench-queue, bench-data,
#                   bench-strategy (job times of backtests and screenings, Lua loop speed),
#                   bench-options (implied volatility and Greeks of 1 M contracts),
#                   bench-handlers (no-op jobs through a Python handler vs built-in noop),
#                   bench-http, bench-optimize, bench-memory (Redis bytes per waiting and
#                   per finished job), bench-redis-time (Redis time per job by function),
#                   bench-redis-floor (protocol 1's Redis CPU per job against a minimal queue),
#                   bench-redis-instructions (Redis's instructions per job, counted: BASE=REV compares)
#   make install PREFIX=/usr/local

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
PKGS    := hiredis jansson sqlite3 libpq lua5.4 libseccomp inih libcurl python3-embed libmicrohttpd openssl
BASE_PKGS := $(filter-out python3-embed,$(PKGS))
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
DEFS    := -D_GNU_SOURCE
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# tickq's libraries (BASE_LIBS); the unit tests, benchmarks and fuzz
# targets, which hold the Python host's objects too, add the shared libpython.
BASE_LIBS  = $(shell pkg-config --libs $(BASE_PKGS) 2>/dev/null || echo -lhiredis -ljansson -lsqlite3 -lpq -llua5.4 -lseccomp -linih -lcurl -lmicrohttpd -lssl -lcrypto) -lm
PKG_LIBS   = $(BASE_LIBS) $(shell pkg-config --libs python3-embed 2>/dev/null || echo -lpython3.11)
ALL_CFLAGS = $(WARN) $(DEFS) $(CFLAGS) $(PKG_CFLAGS) -Isrc -I$(BUILD)/gen -MMD -MP
LDLIBS  += $(PKG_LIBS)
# The Python host links the interpreter in, as Debian's /usr/bin/python3
# does: Debian's static libpython (not position-independent, so the host is
# not a PIE) runs pandas code about a tenth faster than libpython3.11.so, and
# tickq itself then never loads Python. The interpreter's symbols (Py*,
# _Py*) are exported for the extension modules (numpy, pandas) the host
# imports. A Debian update of python3.11 changes the static library (its
# size, inode or change time, in build/gen/libpython.id): make then links
# the host again (reinstall it, and restart the workers).
# PY_CONFIG: the static library's path, then the libraries it needs (empty
# without /usr/bin/python3 or its sysconfig).
PY_CONFIG := $(shell /usr/bin/python3 -c 'import sysconfig as s; v = lambda k: s.get_config_var(k) or ""; print(v("LIBPL") + "/" + v("LIBRARY"), v("LIBS"), v("MODLIBS"), v("SYSLIBS")) if v("LIBPL") and v("LIBRARY") else None' 2>/dev/null)
PY_STATIC := $(firstword $(PY_CONFIG))
PY_STATIC_LIBS := $(wordlist 2,$(words $(PY_CONFIG)),$(PY_CONFIG))
PY_EXPORTS := -Wl,--export-dynamic-symbol='Py*' -Wl,--export-dynamic-symbol='_Py*'

LUA_SRC  := $(filter-out src/lua/common.lua,$(wildcard src/lua/*.lua))
SRC      := $(filter-out src/cmd/main.c src/cmd/python_host_main.c,$(wildcard src/*/*.c))
OBJ      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC)) $(BUILD)/obj/lua_scripts.o
# The objects that call CPython: in the Python host, not in tickq.
PY_OBJ   := $(addprefix $(BUILD)/obj/strategy/,python_host.o python_memory.o python_module.o python_guard.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(patsubst tests/unit/%.c,$(BUILD)/obj/unit/%.o,$(UNIT_SRC))
BENCH    := $(BUILD)/bench_queue
BENCH_DATA := $(BUILD)/bench_data
BENCH_OPTIONS := $(BUILD)/bench_options

.PHONY: FORCE all setup test fuzz-syntax unit integration demo screenshots sanitize hostile chaos soak fuzz fuzz-build bench bench-queue bench-data bench-strategy bench-options bench-handlers bench-http bench-optimize bench-memory bench-redis-time bench-redis-floor bench-redis-instructions install clean

all: $(BUILD)/tickq $(BUILD)/tickq-python-host clients/python/tickq/library.lua

setup:
	@scripts/setup

$(BUILD)/tickq: $(BUILD)/obj/cmd/main.o $(filter-out $(PY_OBJ),$(OBJ))
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(BASE_LIBS)

# From an archive, so the host holds only the objects it uses.
$(BUILD)/libtickq.a: $(OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/gen/libpython.id: FORCE
	@mkdir -p $(dir $@)
	@stat -L -c '%n %s %i %Z' "$(PY_STATIC)" > $@.tmp 2>/dev/null || echo none > $@.tmp; \
	  if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/tickq-python-host: $(BUILD)/obj/cmd/python_host_main.o $(BUILD)/libtickq.a $(BUILD)/gen/libpython.id
	@test -f "$(PY_STATIC)" || { echo "no static libpython ('$(PY_STATIC)', from /usr/bin/python3's sysconfig): scripts/setup installs it with python3-dev" >&2; exit 1; }
	$(CC) $(CFLAGS) -no-pie $(PY_EXPORTS) -o $@ $(BUILD)/obj/cmd/python_host_main.o $(BUILD)/libtickq.a $(PY_STATIC) $(LDFLAGS) -Wl,--as-needed $(BASE_LIBS) $(PY_STATIC_LIBS)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/gen/lua_scripts.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# One recipe makes both files (grouped target), so parallel builds run it once.
$(BUILD)/gen/lua_scripts.c $(BUILD)/gen/lua_scripts.h $(BUILD)/gen/lua_library.lua &: scripts/embed-lua src/lua/common.lua $(LUA_SRC)
	@mkdir -p $(BUILD)/gen
	scripts/embed-lua $(BUILD)/gen src/lua/common.lua $(LUA_SRC)

# The function library's text for the Python client, which loads it into a
# Redis no tickq process has used yet (not tracked: made from src/lua).
clients/python/tickq/library.lua: $(BUILD)/gen/lua_scripts.c
	cp $(BUILD)/gen/lua_library.lua $@

# The Python strategy runner, compiled into the Python host.
$(BUILD)/gen/python_runner.h: scripts/embed-text src/strategy/python_runner.py
	@mkdir -p $(BUILD)/gen
	scripts/embed-text $@ python_runner_source src/strategy/python_runner.py

$(BUILD)/obj/strategy/python_host.o: $(BUILD)/gen/python_runner.h

# What a worker and its Python host check they share: a hash of the .c, .h
# and .py files under src/*/ (rewritten only when it changes).
$(BUILD)/gen/build_stamp.h: $(sort $(wildcard src/*/*.c src/*/*.h src/*/*.py))
	@mkdir -p $(dir $@)
	@stamp=$$(cat $^ | sha256sum | cut -c1-16); \
	  printf '#define TICKQ_BUILD_STAMP "%s"\n' "$$stamp" > $@.tmp; \
	  if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/obj/strategy/strategy_python.o $(BUILD)/obj/strategy/python_host.o: $(BUILD)/gen/build_stamp.h

# The dashboard: one page, inlined from its parts (src/http/dashboard/).
$(BUILD)/gen/dashboard_page.h: scripts/embed-text scripts/inline-includes $(wildcard src/http/dashboard/*)
	@mkdir -p $(dir $@)
	scripts/inline-includes src/http/dashboard/dashboard.html > $(BUILD)/gen/dashboard.html.tmp
	mv $(BUILD)/gen/dashboard.html.tmp $(BUILD)/gen/dashboard.html
	scripts/embed-text $@ dashboard_page_source $(BUILD)/gen/dashboard.html

$(BUILD)/obj/http/http_dashboard.o: $(BUILD)/gen/dashboard_page.h

# numpy's C API (its data-memory handler), for the Python host's memory accounting.
NUMPY_INCLUDE = $(shell /usr/bin/python3 -c 'import numpy; print(numpy.get_include())' 2>/dev/null)
$(BUILD)/obj/strategy/python_memory.o: ALL_CFLAGS += -I$(NUMPY_INCLUDE)

$(BUILD)/obj/lua_scripts.o: $(BUILD)/gen/lua_scripts.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/unit/%.o: tests/unit/%.c | $(BUILD)/gen/lua_scripts.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/unit_tests: $(UNIT_OBJ) $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# A test tool: a command run as on a kernel without Landlock.
$(BUILD)/without_landlock: tests/tools/without_landlock.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(DEFS) $(CFLAGS) -o $@ $< $(LDFLAGS) -lseccomp

$(BUILD)/obj/bench/%.o: bench/%.c | $(BUILD)/gen/lua_scripts.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BENCH): $(BUILD)/obj/bench/bench_queue.o $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BENCH_DATA): $(BUILD)/obj/bench/bench_data.o $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BENCH_OPTIONS): $(BUILD)/obj/bench/bench_options.o $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# Tests: setup is idempotent and quick when everything is installed.
test: setup
	@$(MAKE) --no-print-directory all $(BUILD)/unit_tests $(BENCH) $(BUILD)/without_landlock fuzz-syntax
	@tests/run $(BUILD)

# The fuzz targets compile against today's API (make fuzz builds them with
# clang and libFuzzer; this catches a rename in src/ that they missed).
fuzz-syntax: | $(BUILD)/gen/lua_scripts.h
	@$(CC) $(WARN) $(DEFS) $(PKG_CFLAGS) -Isrc -I$(BUILD)/gen -fsyntax-only $(wildcard fuzz/*.c)

unit: $(BUILD)/unit_tests
	@$(BUILD)/unit_tests

# The integration tests alone, as tests/run runs them (bench_queue too: test_ops runs it).
integration: all $(BENCH)
	@py=/usr/bin/python3; [ -x "$$py" ] || py=python3; \
	  TICKQ_BIN="$(abspath $(BUILD))/tickq" "$$py" tests/integration/run.py

demo:
	@scripts/setup --demo
	@$(MAKE) --no-print-directory all
	@scripts/demo $(BUILD)/tickq

# The dashboard's screenshots in docs/images/ (Debian's chromium, real jobs on a private Redis).
screenshots: setup
	@$(MAKE) --no-print-directory all
	@scripts/with-redis /usr/bin/python3 scripts/screenshots.py --tickq $(BUILD)/tickq

# The sanitizer build lives in its own directory so it never mixes objects
# with the normal build.
sanitize: setup
	@$(MAKE) --no-print-directory BUILD=build-san \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build-san/tickq build-san/tickq-python-host build-san/unit_tests build-san/bench_queue build-san/without_landlock \
	  clients/python/tickq/library.lua
	@scripts/sanitize-test build-san

# Chaos and soak (docs/operations.md): their own redis-servers on private
# sockets and loopback ports; the JSON lines go to stdout, progress to stderr.
# `make test` runs the chaos scenarios at scale 0.2 (test_chaos.py).
# SCENARIOS="kill_storm disk_full" runs some of them.
chaos:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all >&2
	@py=/usr/bin/python3; [ -x "$$py" ] || py=python3; \
	  "$$py" tests/chaos/chaos.py --tickq "$(BUILD)/tickq" $(SCENARIOS)

soak:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all >&2
	@py=/usr/bin/python3; [ -x "$$py" ] || py=python3; \
	  "$$py" tests/chaos/soak.py --tickq "$(BUILD)/tickq"

# The hostile strategy catalogue (also part of `make test`).
hostile: setup
	@$(MAKE) --no-print-directory all
	@py=/usr/bin/python3; [ -x "$$py" ] || py=python3; \
	  "$$py" tests/hostile/run.py --tickq $(BUILD)/tickq

# libFuzzer targets (fuzz/README.md): built with clang in their own
# directory, the project's objects with -fsanitize=fuzzer-no-link,address,
# undefined, each target linked with -fsanitize=fuzzer. Each runs for
# FUZZ_SECONDS over a copy of its corpus (FUZZ_JOBS at a time), against a
# private redis-server (list_import needs one); any crash fails.
FUZZ_BUILD   := build-fuzz
FUZZ_TARGETS ?= $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

$(BUILD)/obj/fuzz/%.o: fuzz/%.c fuzz/fuzz.h | $(BUILD)/gen/lua_scripts.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

.PRECIOUS: $(BUILD)/obj/fuzz/%.o
$(BUILD)/fuzz/%: $(BUILD)/obj/fuzz/%.o $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS) $(LDLIBS)

fuzz-build:
	@scripts/setup --fuzz >&2
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
	  $(addprefix $(FUZZ_BUILD)/fuzz/,$(FUZZ_TARGETS)) >&2

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) scripts/with-redis scripts/fuzz $(FUZZ_BUILD) $(FUZZ_TARGETS)

bench: bench-queue bench-data bench-strategy bench-options bench-handlers bench-http bench-optimize bench-memory bench-redis-time bench-redis-floor bench-redis-instructions

# Benchmarks keep stdout for their JSON line; build chatter goes to stderr.
bench-queue:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all $(BENCH) >&2
	@scripts/with-redis $(BENCH) --tickq $(BUILD)/tickq

bench-data:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory $(BENCH_DATA) >&2
	@scripts/with-postgres $(BENCH_DATA)

# Implied volatility and Greeks of 1 M contracts on one core (no server).
bench-options:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory $(BENCH_OPTIONS) >&2
	@$(BENCH_OPTIONS)

# Job times as a client sees them, cold and warm, of backtests and screenings
# run by one `tickq worker` (bench/bench_strategy.py; synthetic bars in a
# temp SQLite file).
bench-strategy:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_strategy.py --tickq $(BUILD)/tickq

# No-op jobs through a Python handler against the built-in noop: jobs/s with
# 2 workers, latency at 200 jobs/s, the overhead per job (bench/bench_handlers.py).
bench-handlers:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all $(BENCH) >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_handlers.py --tickq $(BUILD)/tickq --bench-queue $(BENCH)

# The HTTP server: /metrics scrape time with 100 queues, and the queue's
# processing rate with --http and a scraper against without (bench/bench_http.py).
bench-http:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all $(BENCH) >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_http.py --tickq $(BUILD)/tickq --bench-queue $(BENCH)

# Redis time per job, by phase and by function (bench/bench_redis_time.py).
bench-redis-time:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_redis_time.py --tickq $(BUILD)/tickq

# Redis CPU per job of protocol 1's enqueue, claim and finish against the
# least a Redis queue must write per job (bench/bench_redis_floor.py).
bench-redis-floor:
	@scripts/setup >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_redis_floor.py

# Redis's instructions per job (counted under valgrind's callgrind, so the
# same on every run): enqueue one a call and in batches, claim + finish, and
# a no-op function call for scale; and a worker child's per no-op job
# (bench/bench_redis_instructions.py). BASE=REV counts the library of git
# revision REV too, and the change.
bench-redis-instructions:
	@scripts/setup --valgrind >&2
	@$(MAKE) --no-print-directory all >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_redis_instructions.py --tickq $(BUILD)/tickq $(if $(BASE),--base $(BASE))

# Redis memory per waiting and per finished job (bench/bench_memory.py, docs/scaling.md).
bench-memory:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_memory.py --tickq $(BUILD)/tickq

# The optimize sweep on 2 workers beside pandas (docs/optimize.md).
bench-optimize:
	@scripts/setup >&2
	@$(MAKE) --no-print-directory all >&2
	@scripts/with-redis /usr/bin/python3 bench/bench_optimize.py --tickq $(BUILD)/tickq

install: $(BUILD)/tickq $(BUILD)/tickq-python-host clients/python/tickq/library.lua
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/tickq $(DESTDIR)$(PREFIX)/bin/tickq
	install -m 0755 $(BUILD)/tickq-python-host $(DESTDIR)$(PREFIX)/bin/tickq-python-host

clean:
	rm -rf build build-san build-fuzz

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d)
