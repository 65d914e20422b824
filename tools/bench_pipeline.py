#!/usr/bin/env python3
"""The pipeline benchmark's notebook side, run by tools/bench.sh.

The segmentation as an analyst writes it with pandas and scikit-learn: read
the invoices out of PostgreSQL, compute the same per-customer features and
transforms, standardize, fit k-means for k = 2..10 with the silhouette,
Davies-Bouldin and Calinski-Harabasz scores of each, choose k by the same
rule, and fit PCA and the profiles.  Prints its median time against
segment's create_segmentation and refresh_segmentation (same data, same
machine) and exits 1 when segment is not at least 8 times faster.
"""
import csv
import io
import os
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
import psycopg2
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
TARGET = 8.0


def signed_log1p(x):
    return np.sign(x) * np.log1p(np.abs(x))


def notebook(connection):
    """The whole job, from the table to the profiles; returns the chosen k."""
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        cursor.copy_expert("COPY invoices TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
    buffer.seek(0)
    lines = pd.read_csv(buffer, parse_dates=["invoice_date"])
    lines = lines[lines.customer_id.notna()].copy()
    lines["amount"] = lines.quantity * lines.unit_price
    as_of = lines.invoice_date.max()
    purchases = lines[lines.quantity > 0].copy()
    for unit, freq in (("hour", "H"), ("day", "D")):
        purchases[unit] = purchases.invoice_date.dt.floor(freq)
    purchases["month"] = purchases.invoice_date.dt.to_period("M")
    purchases["year"] = purchases.invoice_date.dt.year
    by_customer = purchases.groupby("customer_id")
    features = pd.DataFrame({
        "invoices": by_customer.invoice_no.nunique(),
        "first": by_customer.invoice_date.min(),
        "last": by_customer.invoice_date.max(),
        "purchase_amount": by_customer.amount.sum(),
        "active_hours": by_customer.hour.nunique(),
        "active_days": by_customer.day.nunique(),
        "active_months": by_customer.month.nunique(),
        "active_years": by_customer.year.nunique(),
    })
    features["total_amount"] = lines.groupby("customer_id").amount.sum()
    features["country"] = lines.groupby("customer_id").country.agg(lambda s: s.value_counts().idxmax())
    features["recency_days"] = (as_of - features["last"]).dt.total_seconds() / 86400
    tenure = (features["last"] - features["first"]).dt.total_seconds() / 86400
    features["mean_days_between"] = (tenure / (features.invoices - 1)).where(features.invoices > 1, features.recency_days)
    features["avg_invoice_amount"] = features.purchase_amount / features.invoices
    for unit in ("hours", "days", "months", "years"):
        features["invoices_per_" + unit[:-1]] = features.invoices / features["active_" + unit]

    raw = np.column_stack([
        np.log1p(features.recency_days.clip(lower=0)), np.log1p(features.invoices),
        np.log1p(features.invoices_per_hour), np.log1p(features.invoices_per_day),
        np.log1p(features.invoices_per_month), np.log1p(features.invoices_per_year),
        signed_log1p(features.total_amount), signed_log1p(features.avg_invoice_amount),
        np.log1p(features.mean_days_between.clip(lower=0))])
    domestic = (features.country == features.country.value_counts().idxmax()).astype(float)
    x = np.column_stack([StandardScaler().fit_transform(raw), domestic - domestic.mean()])

    scores = {}
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(x)
        shares = np.bincount(labels) / len(labels)
        scores[k] = (silhouette_score(x, labels), davies_bouldin_score(x, labels),
                     calinski_harabasz_score(x, labels), shares.min())
    candidates = [k for k in range(3, 9) if scores[k][3] >= 0.02]
    chosen = max(candidates, key=lambda k: scores[k][0]) if candidates else 3
    model = KMeans(n_clusters=chosen, n_init=10, random_state=0).fit(x)
    PCA(n_components=2).fit(x)
    features["cluster"] = model.labels_
    features.groupby("cluster").mean(numeric_only=True)
    return chosen


def main():
    directory, runs = sys.argv[1], int(sys.argv[2])
    segment = {}
    with open(os.path.join(directory, "segment_pipeline.csv")) as f:
        for query, ms in csv.reader(f):
            segment[query] = float(ms)
    connection = psycopg2.connect("")
    notebook(connection)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        notebook(connection)
        times.append((time.perf_counter() - started) * 1000)
    theirs = statistics.median(times)
    print("%-52s %10s %8s" % ("the whole segmentation of the bundled data", "median ms", "ratio"))
    print("%-52s %10.1f" % ("pandas + scikit-learn notebook", theirs))
    status = 0
    for query in ("create_segmentation", "refresh_segmentation"):
        ratio = theirs / segment[query]
        met = ratio >= TARGET
        status |= not met
        print("%-52s %10.1f %7.2fx  target >= %gx %s"
              % ("segment." + query, segment[query], ratio, TARGET, "met" if met else "MISSED"))
    cheap = "refresh_segmentation(refit => false)"
    print("%-52s %10.1f %7.2fx  (%.1fx faster than a refit)"
          % ("segment." + cheap, segment[cheap], theirs / segment[cheap],
             segment["refresh_segmentation"] / segment[cheap]))
    return status


if __name__ == "__main__":
    sys.exit(main())
