# Makefile for the segment extension (PGXS)
#
#   make && make install      build and install into the server of $(PG_CONFIG)
#   make test                 install what is missing, then run every test in a throwaway cluster
#   make demo                 segment the bundled Online Retail data (DEMO_DB=... to use your own database)
#   make bench                benchmarks on the bundled data

EXTENSION = segment
MODULE_big = segment
OBJS = \
	src/features.o \
	src/keyset.o \
	src/segment.o

DATA = $(wildcard install/segment--*.sql)

REGRESS = \
	load_data \
	features_cases \
	features_errors \
	features_data \
	features_parallel

PG_CONFIG ?= pg_config
# -Wextra on top of the server's -Wall; its headers trip -Wunused-parameter
PG_CFLAGS += -Wextra -Wno-unused-parameter

EXTRA_CLEAN = results regression.diffs regression.out out

# Without the server headers only the targets below work: they install them.
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server headers not found for $(PG_CONFIG): run 'make test' or 'make demo', which install them, or install postgresql-server-dev-<major>" >&2
	@exit 1
endif

.PHONY: test demo bench
test:
	@tools/test.sh
demo:
	@tools/demo.sh
bench:
	@tools/bench.sh
