# Makefile for the segment extension (PGXS)
#
#   make && make install      build and install into the server of $(PG_CONFIG)
#   make test                 install what is missing, then run every test in a throwaway cluster
#   make test-citus           the Citus suite alone (a coordinator and two workers of its own)
#   make demo                 segment the bundled Online Retail data (DEMO_DB=... to use your own database)
#   make bench                benchmarks on the bundled data
#   make bench-citus          SCALE=25 on a Citus cluster of its own against a single node
#   make browser-check        render the demo's pictures in headless Chromium, fail if blank or clipped
#   make valgrind-check       regression tests with the server under valgrind memcheck (slow)

EXTENSION = segment
MODULE_big = segment
OBJS = \
	src/aggregate.o \
	src/bgnbd.o \
	src/boxplot.o \
	src/customer_value.o \
	src/dependency.o \
	src/distance.o \
	src/elbow.o \
	src/evaluate.o \
	src/features.o \
	src/gamma_gamma.o \
	src/keyset.o \
	src/kmeans.o \
	src/matching.o \
	src/minimize.o \
	src/metrics.o \
	src/most_frequent.o \
	src/owner.o \
	src/model.o \
	src/parallel.o \
	src/pca.o \
	src/progress.o \
	src/scaler.o \
	src/segment.o \
	src/source.o \
	src/vector.o

# The SQL layer is written as one file per concern under src/sql, in the
# order of the data path; make assembles the install script of the current
# version from them, and the update script from the previous version from its
# own first part, the files whose functions it replaces (written as
# CREATE OR REPLACE, so that both scripts can include them) and its own last
# part.
# Released scripts are frozen in install/.
EXTVERSION = 0.4
SQL_SOURCES = \
	src/sql/schema.sql \
	src/sql/features.sql \
	src/sql/most_frequent.sql \
	src/sql/boxplot.sql \
	src/sql/scaler.sql \
	src/sql/kmeans.sql \
	src/sql/evaluate.sql \
	src/sql/parallel.sql \
	src/sql/metrics.sql \
	src/sql/pca.sql \
	$(ADDED_SQL_SOURCES) \
	src/sql/owner.sql \
	src/sql/registry.sql \
	src/sql/registry_access.sql \
	src/sql/marketing.sql \
	$(REPLACED_SQL_SOURCES)
# the files of objects new in this version, created by both scripts
ADDED_SQL_SOURCES = \
	src/sql/aggregates.sql \
	src/sql/citus.sql \
	src/sql/progress.sql \
	src/sql/bgnbd.sql \
	src/sql/gamma_gamma.sql \
	src/sql/customer_value.sql
# the files whose functions the update from the previous version creates or
# replaces, in both scripts
REPLACED_SQL_SOURCES = \
	src/sql/dependency.sql \
	$(PIPELINE_SQL_SOURCES) \
	src/sql/labels.sql \
	src/sql/plots.sql \
	src/sql/report.sql

# the segmentation pipeline, a file per function or small concern, in the
# order they are assembled (a function's helpers before it)
PIPELINE_SQL_SOURCES = \
	src/sql/pipeline/match_clusters.sql \
	src/sql/pipeline/rfm_vector.sql \
	src/sql/pipeline/checks.sql \
	src/sql/pipeline/source_queries.sql \
	src/sql/pipeline/customer_value.sql \
	src/sql/pipeline/segmentation_query.sql \
	src/sql/pipeline/tables.sql \
	src/sql/pipeline/fit.sql \
	src/sql/pipeline/history.sql \
	src/sql/pipeline/refresh.sql \
	src/sql/pipeline/create.sql \
	src/sql/pipeline/alter.sql \
	src/sql/pipeline/drop.sql \
	src/sql/pipeline/set_label.sql \
	src/sql/pipeline/trim_history.sql

DATA = \
	install/segment--0.1.sql \
	install/segment--0.1--0.2.sql \
	install/segment--0.3.sql \
	install/segment--0.2--0.3.sql
DATA_built = \
	install/segment--$(EXTVERSION).sql \
	install/segment--0.3--$(EXTVERSION).sql

REGRESS = \
	load_data \
	features_cases \
	features_errors \
	features_data \
	features_parallel \
	most_frequent \
	boxplot \
	clustering_cases \
	clustering_errors \
	clustering_data \
	evaluate \
	aggregates \
	bgnbd \
	customer_value \
	value_holdout \
	marketing \
	pipeline \
	pipeline_drop \
	pipeline_registry \
	pipeline_arguments \
	pipeline_real_world \
	pipeline_over_time \
	pipeline_value \
	pipeline_rules \
	pipeline_production \
	replication \
	plots \
	fuzz \
	interrupts \
	parallel \
	pipeline_concurrency \
	pipeline_cron \
	security

PG_CONFIG ?= pg_config
# -Wextra on top of the server's -Wall; its headers trip -Wunused-parameter
# and -Wsign-compare.
# No contraction to fused multiply-add, so k-means gives the same bits on
# every machine; no errno from sqrt, so distance loops vectorize.
PG_CFLAGS += -Wextra -Wno-unused-parameter -Wno-sign-compare -ffp-contract=off -fno-math-errno
# LAPACKE is opened at run time (see src/pca.c); its header is needed to build
LAPACKE_LIBRARY ?= liblapacke.so.3
PG_CPPFLAGS += -DSEGMENT_LAPACKE_LIBRARY='"$(LAPACKE_LIBRARY)"'
SHLIB_LINK += -ldl

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

install/segment--$(EXTVERSION).sql: $(SQL_SOURCES)
	{ echo '-- segment $(EXTVERSION): built by make from the files under src/sql; edit those'; cat $^; } > $@

install/segment--0.3--$(EXTVERSION).sql: src/sql/update--0.3--$(EXTVERSION).sql $(ADDED_SQL_SOURCES) src/sql/update--0.3--$(EXTVERSION).registry.sql src/sql/owner.sql $(REPLACED_SQL_SOURCES) src/sql/update--0.3--$(EXTVERSION).finish.sql
	{ echo '-- segment 0.3 to $(EXTVERSION): built by make from the files under src/sql; edit those'; cat $^; } > $@

.PHONY: test test-citus demo bench bench-citus browser-check valgrind-check
test:
	@tools/test.sh
test-citus:
	@tools/test-citus.sh
demo:
	@tools/demo.sh
bench:
	@tools/bench.sh
bench-citus:
	@tools/bench_citus.sh
browser-check:
	@tools/browser-check.sh
valgrind-check:
	@tools/valgrind-check.sh

# The bitcode for JIT inlining gets the same floating-point rules
override BITCODE_CFLAGS += -ffp-contract=off -fno-math-errno
