#!/usr/bin/env python3
"""The clustering benchmarks' scikit-learn side, run by tools/bench.sh.

Times scikit-learn as its users run it (numpy on the machine's BLAS) on the
matrices segment was timed on, the same operations with the same k and
n_init, and prints both medians, the ratios and the targets.  Exits 1 when
a target is missed.
"""
import csv
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_info

warnings.filterwarnings("ignore")
TARGETS = {"kmeans_fit": 3.0, "elbow": 5.0, "silhouette": 3.0}
WHAT = {
    "kmeans_fit": "k-means, k = 4, n_init = 10",
    "elbow": "elbow, k = 1..10, n_init = 10",
    "silhouette": "exact silhouette",
}


def median_ms(function, runs, warm_up):
    """Median wall time of runs calls, in milliseconds."""
    if warm_up:
        function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    directory, runs, runs_large = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    segment = {}
    with open(os.path.join(directory, "segment_timings.csv")) as f:
        for matrix, query, ms in csv.reader(f):
            segment[(matrix, query)] = float(ms)

    segment_inertia = {}
    with open(os.path.join(directory, "segment_inertia.csv")) as f:
        for matrix, inertia in csv.reader(f):
            segment_inertia[matrix] = float(inertia)

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if blas:
        print("scikit-learn: numpy on %s %s (%s kernel), %d threads"
              % (blas[0]["internal_api"], blas[0]["version"], blas[0].get("architecture"), blas[0]["num_threads"]))
    missed = []
    quality = []
    print()
    print("%-10s %-32s %12s %14s %9s %8s" % ("matrix", "operation", "segment ms", "scikit-learn ms", "ratio", "target"))
    for matrix, n_runs in (("bundled", runs), ("synthetic", runs_large)):
        data = np.loadtxt(os.path.join(directory, matrix + ".csv"), delimiter=",")
        x = np.ascontiguousarray(data[:, 2:])
        labels = data[:, 1].astype(np.int64)
        operations = {
            "kmeans_fit": lambda: KMeans(n_clusters=4, n_init=10, random_state=0).fit(x),
            "elbow": lambda: [KMeans(n_clusters=k, n_init=10, random_state=0).fit(x) for k in range(1, 11)],
            "silhouette": lambda: silhouette_score(x, labels),
        }
        theirs_inertia = KMeans(n_clusters=4, n_init=10, random_state=0).fit(x).inertia_
        quality.append("%s: k = 4 inertia, segment %.6g, scikit-learn %.6g (segment %+.3f %%)"
                       % (matrix, segment_inertia[matrix], theirs_inertia,
                          100 * (segment_inertia[matrix] / theirs_inertia - 1)))
        for name, function in operations.items():
            # a warm-up run only where a run is short
            theirs = median_ms(function, n_runs, warm_up=(matrix == "bundled"))
            ours = segment[(matrix, name)]
            ratio = theirs / ours
            met = ratio >= TARGETS[name]
            if not met:
                missed.append("%s %s" % (matrix, name))
            print("%-10s %-32s %12.1f %14.1f %8.2fx %6s %s"
                  % ("%s (%d x %d)" % (matrix, x.shape[0], x.shape[1]) if name == "kmeans_fit" else "",
                     WHAT[name], ours, theirs, ratio, ">= %gx" % TARGETS[name], "met" if met else "MISSED"))
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
