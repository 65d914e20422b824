#!/usr/bin/env python3
"""The clustering benchmarks, run by tools/bench.sh.

Times segment (through psycopg2, in one backend with its default parallel
workers) and scikit-learn as its users run it (numpy on the machine's
BLAS, its default threads) in this one process, interleaved: each run
times every operation on both sides before the next run starts, on the
matrices tools/bench_clustering.sql made (the same rows on both sides).
Prints the medians, the ratios and the targets with the CPU and its vector
width, and exits 1 when a target is missed.
"""
import csv
import os
import statistics
import sys
import time
import warnings

import numpy as np
import psycopg2
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_info

warnings.filterwarnings("ignore")
# (matrix, operation): the least ratio of scikit-learn's time to segment's
TARGETS = {("bundled", "kmeans_fit"): 5.0, ("bundled", "elbow"): 6.0, ("bundled", "silhouette"): 5.0,
           ("synthetic", "kmeans_fit"): 2.0}
K = {"bundled": 4, "synthetic": 8}
SEGMENT_SQL = {
    "kmeans_fit": "SELECT segment.kmeans_fit('SELECT id, vec FROM {matrix}', {k}, 10)",
    "elbow": "SELECT count(*) FROM segment.elbow('SELECT id, vec FROM {matrix}', 1, 10, 10)",
    "silhouette": "SELECT segment.silhouette('SELECT v.id, v.vec, l.cluster FROM {matrix} v "
                  "JOIN {matrix}_labels l USING (id)')",
}


def what(name, matrix):
    """The operation as the table prints it."""
    return {"kmeans_fit": "k-means, k = %d, n_init = 10" % K[matrix],
            "elbow": "elbow, k = 1..10, n_init = 10",
            "silhouette": "exact silhouette"}[name]


def cpu():
    """The CPU's model name and its widest vector extension."""
    model, flags = "unknown CPU", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    width = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE/other"
    return "%s, %d cores, %s" % (model, os.cpu_count(), width)


def timed_ms(function, warm):
    """Wall time of one call, in milliseconds, after a pause that lets the
    other side's threads (OpenBLAS spins a while after its work) go idle and,
    when warm, an untimed call that brings the caches and clock back up."""
    time.sleep(0.2)
    if warm:
        function()
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def main():
    directory, runs, runs_large = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    connection = psycopg2.connect("")
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute("SET max_parallel_workers_per_gather = 0; SET maintenance_work_mem = '1GB'")
    cursor.execute("SHOW max_parallel_maintenance_workers")
    workers = cursor.fetchone()[0]

    def segment(sql):
        cursor.execute(sql)
        cursor.fetchall()

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    print("CPU: %s" % cpu())
    print("segment: max_parallel_maintenance_workers = %s" % workers)
    if blas:
        print("scikit-learn: numpy on %s %s (%s kernel), %d threads"
              % (blas[0]["internal_api"], blas[0]["version"], blas[0].get("architecture"), blas[0]["num_threads"]))
    missed = []
    quality = []
    print()
    print("%-22s %-30s %11s %15s %8s %8s" % ("matrix", "operation", "segment ms", "scikit-learn ms", "ratio", "target"))
    for matrix, n_runs in (("bundled", runs), ("synthetic", runs_large)):
        data = np.loadtxt(os.path.join(directory, matrix + ".csv"), delimiter=",")
        x = np.ascontiguousarray(data[:, 2:])
        labels = data[:, 1].astype(np.int64)
        k = K[matrix]
        theirs_ops = {
            "kmeans_fit": lambda: KMeans(n_clusters=k, n_init=10, random_state=0).fit(x),
            "elbow": lambda: [KMeans(n_clusters=j, n_init=10, random_state=0).fit(x) for j in range(1, 11)],
            "silhouette": lambda: silhouette_score(x, labels),
        }
        ours_sql = {name: sql.format(matrix=matrix, k=k) for name, sql in SEGMENT_SQL.items()}
        times = {(side, name): [] for side in ("segment", "scikit-learn") for name in theirs_ops}
        # where a run is short, each timed call follows an untimed one
        warm = matrix == "bundled"
        for _ in range(n_runs):
            for name in theirs_ops:
                times[("segment", name)].append(timed_ms(lambda: segment(ours_sql[name]), warm))
                times[("scikit-learn", name)].append(timed_ms(theirs_ops[name], warm))
        cursor.execute("SELECT (segment.kmeans_fit('SELECT id, vec FROM %s', %d, 10)).inertia" % (matrix, k))
        ours_inertia = cursor.fetchone()[0]
        theirs_inertia = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x).inertia_
        quality.append("%s: k = %d inertia, segment %.6g, scikit-learn %.6g (segment %+.3f %%)"
                       % (matrix, k, ours_inertia, theirs_inertia, 100 * (ours_inertia / theirs_inertia - 1)))
        for name in theirs_ops:
            ours = statistics.median(times[("segment", name)])
            theirs = statistics.median(times[("scikit-learn", name)])
            ratio = theirs / ours
            target = TARGETS.get((matrix, name))
            verdict = "" if target is None else "met" if ratio >= target else "MISSED"
            if verdict == "MISSED":
                missed.append("%s %s" % (matrix, name))
            print("%-22s %-30s %11.1f %15.1f %7.2fx %8s %s"
                  % ("%s (%d x %d)" % (matrix, x.shape[0], x.shape[1]) if name == "kmeans_fit" else "",
                     what(name, matrix), ours, theirs, ratio, ">= %gx" % target if target else "-", verdict))
    print()
    for line in quality:
        print(line)
    print()
    if missed:
        print("targets missed: " + ", ".join(missed))
        return 1
    print("all clustering targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
