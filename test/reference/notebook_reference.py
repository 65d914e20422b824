#!/usr/bin/env python3
"""The seed notebook's matrix, built with pandas and scikit-learn alone.

Reads the bundled Online Retail CSV and computes, independently of
segment, what recipe => 'notebook' clusters: every customer with a line,
the nine raw features (recency_days, invoices, total_amount,
avg_invoice_amount, mean_days_between with one-off buyers at 0,
invoices_per_month, _day, _hour, _year; missing values 0) and one-hot
countries (each customer's most frequent country), standardized by
StandardScaler (population standard deviation).  Prints CSV rows that the
test loads into a table:

  vector,<customer>,<dimension>,<value>   the scaled matrix, one element a row
                                          (dimension: a feature, or
                                          "country: <name>")
  inertia,<seed>,,<value>                 KMeans(4, n_init=10, random_state=seed)
  sizes,<seed>,,<sizes>                   its cluster sizes, largest first
"""
import argparse
import csv
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
FEATURES = ["recency_days", "invoices", "total_amount", "avg_invoice_amount", "mean_days_between",
            "invoices_per_month", "invoices_per_day", "invoices_per_hour", "invoices_per_year"]


def features(lines):
    """Per-customer features, by the definitions of segment.customer_features."""
    lines = lines[lines["CustomerID"].notna()].copy()
    lines["amount"] = lines["Quantity"] * lines["UnitPrice"]
    as_of = lines["InvoiceDate"].max()
    purchases = lines[lines["Quantity"] > 0].copy()
    by_customer = lines.groupby("CustomerID")
    bought = purchases.groupby("CustomerID")
    out = pd.DataFrame(index=by_customer.size().index)
    out["invoices"] = bought["InvoiceNo"].nunique().reindex(out.index).fillna(0)
    out["total_amount"] = by_customer["amount"].sum()
    out["avg_invoice_amount"] = bought["amount"].sum().reindex(out.index) / out["invoices"].replace(0, np.nan)
    first = bought["InvoiceDate"].min().reindex(out.index)
    last = bought["InvoiceDate"].max().reindex(out.index)
    out["recency_days"] = (as_of - last).dt.total_seconds() / 86400
    tenure = (last - first).dt.total_seconds() / 86400
    out["mean_days_between"] = tenure / (out["invoices"] - 1).where(out["invoices"] >= 2)
    for unit, period in (("hour", "h"), ("day", "D"), ("month", "M"), ("year", "Y")):
        if period in ("h", "D"):
            key = purchases["InvoiceDate"].dt.floor(period)
        else:
            key = purchases["InvoiceDate"].dt.to_period(period)
        active = purchases.assign(key=key).groupby("CustomerID")["key"].nunique().reindex(out.index)
        out["invoices_per_" + unit] = out["invoices"] / active
    # the most frequent country; the first in sort order among equally frequent ones
    counts = lines.groupby(["CustomerID", "Country"]).size().rename("n").reset_index()
    counts = counts.sort_values(["CustomerID", "n", "Country"], ascending=[True, False, True])
    out["country"] = counts.drop_duplicates("CustomerID").set_index("CustomerID")["Country"]
    return out.fillna({name: 0 for name in FEATURES})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    lines = pd.read_csv(args.csv, dtype={"InvoiceNo": str, "StockCode": str, "Country": str},
                        parse_dates=["InvoiceDate"])
    f = features(lines)
    dummies = pd.get_dummies(f["country"], prefix="country: ", prefix_sep="").astype(float)
    raw = pd.concat([f[FEATURES].astype(float), dummies], axis=1)
    x = StandardScaler().fit_transform(raw.values)
    out = csv.writer(sys.stdout, lineterminator="\n")
    for customer, row in zip(raw.index.astype(np.int64), x):
        for name, value in zip(raw.columns, row):
            out.writerow(["vector", customer, name, repr(float(value))])
    for seed in range(args.seeds):
        model = KMeans(n_clusters=4, n_init=10, random_state=seed).fit(x)
        sizes = sorted(np.bincount(model.labels_, minlength=4).tolist(), reverse=True)
        out.writerow(["inertia", seed, "", repr(float(model.inertia_))])
        out.writerow(["sizes", seed, "", "{" + ",".join(map(str, sizes)) + "}"])


if __name__ == "__main__":
    main()
