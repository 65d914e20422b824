#!/usr/bin/env python3
"""The mutation probe: how strong are the tests?

Plants one plausible bug at a time (tools/mutations.tsv: a concern, the kind
of bug, a file, an exact piece of its text and what replaces it, the tests
that state the rule), builds the extension, installs it into a private copy
of the PostgreSQL installation (so the system's is never touched), runs the
listed tests against a private cluster, and records whether they caught it.
Never part of the extension: a developer's tool.

    tools/mutation_probe.py [--only ID,ID] [--all-tests] [--report FILE]

A mutation is "caught" when a listed test fails ("stale" when its text is
no longer in the file or it does not build: not scored); --all-tests runs every
pg_regress and pgTAP test and the shell suites (test/*/*.sh: clients, dump,
load, walk-through) for each mutation instead, all that make test runs
(slower, the honest upper bound).  A listed test may be a shell suite too.
The private cluster preloads pg_cron and listens on loopback, as make
test's does.  The unmutated tree must pass first.  Prints one line per
mutation and a score by concern; --report writes them as Markdown.
Runs as root (the cluster runs as the postgres user).
"""
import argparse
import glob
import collections
import csv
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_MAJOR = os.environ.get("PG_MAJOR", "15")
SYSTEM_LIB = "/usr/lib/postgresql/%s" % PG_MAJOR
SYSTEM_SHARE = "/usr/share/postgresql/%s" % PG_MAJOR
PORT = os.environ.get("PROBE_PORT", "5611")


def run(command, cwd=None, env=None, check=True, user=None, timeout=1800):
    """Run a command, return (status, output)."""
    if user:
        command = ["su", user, "-s", "/bin/sh", "-c", " ".join(command)]
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(command), result.stdout[-3000:]))
    return result.returncode, result.stdout


class Installation:
    """A private, relocated copy of the PostgreSQL installation and a cluster of it."""

    def __init__(self, base):
        self.base = base
        self.lib = base + SYSTEM_LIB
        self.share = base + SYSTEM_SHARE
        self.data = os.path.join(base, "data")
        self.socket = os.path.join(base, "socket")
        # PostgreSQL finds its share and lib directories relative to its own
        # binary, so a copy of both trees is a working installation
        shutil.copytree(SYSTEM_LIB, self.lib, symlinks=True)
        shutil.copytree(SYSTEM_SHARE, self.share, symlinks=True)
        os.makedirs(self.socket)
        run(["chown", "-R", "postgres", base])
        run(["chmod", "755", base])
        run([self.lib + "/bin/initdb", "-D", self.data, "-A", "trust", "-U", "postgres"], user="postgres")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            # pg_cron as make test preloads it, for the tests that schedule
            # loopback for the load test's pgbench and the clients' drivers
            conf.write("port = %s\nunix_socket_directories = '%s'\nlisten_addresses = '127.0.0.1'\n"
                       "max_worker_processes = 16\nfsync = off\n"
                       "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'contrib_regression'\n"
                       "cron.use_background_workers = on\n"
                       % (PORT, self.socket))

    def env(self):
        # PG_CONFIG for the shell suites that start clusters of their own
        # (subscriber, Citus): the relocated copy's, so they run the mutant
        env = dict(os.environ, PGHOST=self.socket, PGPORT=PORT, PGUSER="postgres",
                   PG_CONFIG=self.lib + "/bin/pg_config")
        env.pop("PGDATABASE", None)
        return env

    def restart(self):
        """(Re)start the server, so that it loads the newly installed library."""
        run([self.lib + "/bin/pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.base, "log"), "restart"
             if os.path.exists(os.path.join(self.data, "postmaster.pid")) else "start"], user="postgres")

    def stop(self):
        run([self.lib + "/bin/pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop"], user="postgres", check=False)


def load_mutations(path):
    """The rows of tools/mutations.tsv (lines starting with # are comments)."""
    with open(path) as f:
        rows = [line for line in f if line.strip() and not line.startswith("#")]
    mutations = []
    for row in csv.reader(rows, delimiter="\t"):
        identifier, concern, kind, file, old, new, tests = row
        mutations.append(dict(id=identifier, concern=concern, kind=kind, file=file,
                              old=old.encode().decode("unicode_escape"), new=new.encode().decode("unicode_escape"),
                              tests=tests.split()))
    return mutations


def all_tests():
    """Every pg_regress test in schedule order, every pgTAP file, then the
    shell suites that make test runs after them (clients, dump, load,
    walk-through: test/*/*.sh), so that "caught" means what make test
    would catch."""
    with open(os.path.join(ROOT, "Makefile")) as f:
        text = f.read()
    block = text.split("REGRESS = \\\n", 1)[1].split("\n\n", 1)[0]
    regress = [t.strip(" \t\\") for t in block.splitlines() if t.strip(" \t\\") not in ("", "load_data")]
    tap = sorted("test/" + f for f in os.listdir(os.path.join(ROOT, "test")) if f.endswith(".sql"))
    suites = sorted(os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, "test", "*", "*.sh")))
    return regress + tap + suites


def run_tests(tree, installation, tests):
    """Run the tests in tree against the installation; returns the failed ones."""
    env = installation.env()
    failed = []
    regress = [t for t in tests if "/" not in t]
    others = [t for t in tests if "/" in t]
    if regress:
        status, output = run(["make", "-s", "installcheck", "PG_CONFIG=%s/bin/pg_config" % SYSTEM_LIB,
                              "REGRESS=load_data " + " ".join(regress)], cwd=tree, env=env, check=False)
        for line in output.splitlines():
            if "FAILED" in line and line.startswith("test "):
                failed.append(line.split()[1])
        if status != 0 and not failed:
            failed.append("pg_regress (did not run: %s)" % " ".join(output.splitlines()[-3:])[-200:])
    for test in others:
        if test.endswith(".sql"):
            run(["dropdb", "--if-exists", "segment_probe_tap"], env=env, check=False)
            run(["createdb", "segment_probe_tap"], env=env)
            status, _ = run(["pg_prove", "-d", "segment_probe_tap", test], cwd=tree, env=env, check=False)
        else:
            status, output = run([test], cwd=tree, env=env, check=False)
            status = status or ("not ok" in output)
        if status:
            failed.append(test)
    return failed


def build_and_install(tree, installation):
    """Build the tree and install it into the private installation."""
    run(["make", "-s", "-j2", "PG_CONFIG=%s/bin/pg_config" % SYSTEM_LIB], cwd=tree)
    run(["make", "-s", "install", "PG_CONFIG=%s/bin/pg_config" % SYSTEM_LIB, "DESTDIR=" + installation.base], cwd=tree)
    # pg_cron's launcher keeps a connection to the database pg_regress drops
    # and does not come back after a forced drop: drop it before the restart,
    # so that the new launcher waits for the database pg_regress makes
    run(["dropdb", "--force", "--if-exists", "contrib_regression"], env=installation.env(), check=False)
    installation.restart()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--all-tests", action="store_true")
    parser.add_argument("--report", default="")
    parser.add_argument("--mutations", default=os.path.join(ROOT, "tools", "mutations.tsv"))
    args = parser.parse_args()
    mutations = load_mutations(args.mutations)
    if args.only:
        wanted = set(args.only.split(","))
        mutations = [m for m in mutations if m["id"] in wanted]
    base = tempfile.mkdtemp(prefix="segment_probe_")
    os.chmod(base, 0o755)  # the cluster runs as postgres
    tree = os.path.join(base, "tree")
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", "results", "*.o", "*.bc", "*.so", "out"))
    installation = Installation(os.path.join(base, "pg"))
    results = []
    try:
        every_test = all_tests()
        tests_of = (lambda m: every_test) if args.all_tests else (lambda m: m["tests"])
        baseline_tests = sorted({t for m in mutations for t in tests_of(m)})
        build_and_install(tree, installation)
        failed = run_tests(tree, installation, baseline_tests)
        if failed:
            sys.exit("the unmutated tree fails %s: fix that first" % ", ".join(failed))
        print("baseline: %d tests pass" % len(baseline_tests), flush=True)
        for m in mutations:
            path = os.path.join(tree, m["file"])
            with open(path) as f:
                original = f.read()
            if original.count(m["old"]) != 1:
                results.append((m, "stale", "the text to change occurs %d times" % original.count(m["old"])))
                print("%-6s %-12s stale" % (m["id"], m["concern"]), flush=True)
                continue
            with open(path, "w") as f:
                f.write(original.replace(m["old"], m["new"]))
            try:
                build_and_install(tree, installation)
                failed = run_tests(tree, installation, tests_of(m))
                verdict = "caught" if failed else "LIVED"
                results.append((m, verdict, ", ".join(failed)))
            except SystemExit as error:
                # a bug that does not build is no bug the tests could miss
                results.append((m, "stale", "does not build: %s" % str(error)[:80]))
                verdict = "stale"
            finally:
                with open(path, "w") as f:
                    f.write(original)
            print("%-6s %-12s %-7s %s" % (m["id"], m["concern"], verdict, results[-1][2]), flush=True)
    finally:
        installation.stop()
    scored = [r for r in results if r[1] != "stale"]
    by_concern = collections.OrderedDict()
    for m, verdict, _ in scored:
        caught, total = by_concern.get(m["concern"], (0, 0))
        by_concern[m["concern"]] = (caught + (verdict == "caught"), total + 1)
    caught = sum(c for c, _ in by_concern.values())
    print("\n%d of %d caught (%.0f %%)" % (caught, len(scored), 100.0 * caught / max(1, len(scored))))
    for concern, (c, t) in by_concern.items():
        print("  %-14s %d / %d" % (concern, c, t))
    if args.report:
        with open(args.report, "w") as f:
            f.write("| id | concern | planted bug | verdict | caught by |\n|---|---|---|---|---|\n")
            for m, verdict, detail in results:
                f.write("| %s | %s | %s | %s | %s |\n" % (m["id"], m["concern"], m["kind"], verdict, detail))
            f.write("\n**%d of %d caught (%.0f %%)**\n" % (caught, len(scored), 100.0 * caught / max(1, len(scored))))
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
