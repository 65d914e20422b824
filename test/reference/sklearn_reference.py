#!/usr/bin/env python3
"""Reference values from scikit-learn for the clustering tests.

Reads a CSV of rows "id,cluster,x1,x2,..." (the vectors as segment saw them
and segment's cluster labels) and prints CSV rows "metric,index,value" that
the tests load into a table and compare with segment's results:

  scaler_mean / scaler_scale  StandardScaler on the vectors, per element
  silhouette, davies_bouldin, calinski_harabasz
                              the scores of the given labels
  silhouette_sample           per row id
  kmeans_inertia              KMeans(k, n_init=10, random_state=s) for each
                              k in --k and s < --seeds (index = 100 k + s)
  pca_ratio / pca_variance    PCA(n_components, svd_solver="full")
  pca_component               component c, element j: index = c * 1000 + j
  lloyd_label / lloyd_inertia Lloyd's iterations from the centres of --init
                              (KMeans(init=..., n_init=1, algorithm="lloyd",
                              tol=0): until no label changes), per row id
  lloyd_empty_at_start        clusters the first assignment leaves empty
"""
import argparse
import sys
import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import (calinski_harabasz_score, davies_bouldin_score,
                             silhouette_samples, silhouette_score)
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--k", default="", help="comma-separated k for KMeans")
    parser.add_argument("--seeds", type=int, default=1, help="random states per k")
    parser.add_argument("--pca", type=int, default=0, help="PCA components")
    parser.add_argument("--scaler", action="store_true")
    parser.add_argument("--scores", action="store_true")
    parser.add_argument("--init", default="", help="CSV of starting centres for Lloyd's iterations")
    args = parser.parse_args()

    data = np.loadtxt(args.csv, delimiter=",", ndmin=2)
    ids = data[:, 0].astype(np.int64)
    labels = data[:, 1].astype(np.int64)
    x = data[:, 2:]
    out = sys.stdout

    def emit(metric, index, value):
        out.write("%s,%d,%r\n" % (metric, index, float(value)))

    if args.scaler:
        scaler = StandardScaler().fit(x)
        for j, value in enumerate(scaler.mean_):
            emit("scaler_mean", j + 1, value)
        for j, value in enumerate(scaler.scale_):
            emit("scaler_scale", j + 1, value)
    if args.scores:
        emit("silhouette", 0, silhouette_score(x, labels))
        emit("davies_bouldin", 0, davies_bouldin_score(x, labels))
        emit("calinski_harabasz", 0, calinski_harabasz_score(x, labels))
        for row_id, value in zip(ids, silhouette_samples(x, labels)):
            emit("silhouette_sample", row_id, value)
    for k in [int(k) for k in args.k.split(",") if k]:
        for seed in range(args.seeds):
            model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
            emit("kmeans_inertia", 100 * k + seed, model.inertia_)
    if args.init:
        centres = np.loadtxt(args.init, delimiter=",", ndmin=2)
        first = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        emit("lloyd_empty_at_start", 0, len(centres) - len(np.unique(first)))
        model = KMeans(n_clusters=len(centres), init=centres, n_init=1, algorithm="lloyd", tol=0).fit(x)
        emit("lloyd_inertia", 0, model.inertia_)
        for row_id, label in zip(ids, model.labels_):
            emit("lloyd_label", row_id, label)
    if args.pca:
        pca = PCA(n_components=args.pca, svd_solver="full").fit(x)
        for c in range(args.pca):
            emit("pca_ratio", c + 1, pca.explained_variance_ratio_[c])
            emit("pca_variance", c + 1, pca.explained_variance_[c])
            component = pca.components_[c]
            # the sign rule of segment: the loading of largest magnitude is positive
            if component[np.argmax(np.abs(component))] < 0:
                component = -component
            for j, value in enumerate(component):
                emit("pca_component", (c + 1) * 1000 + j + 1, value)


if __name__ == "__main__":
    main()
