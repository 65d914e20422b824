#!/usr/bin/python3
"""The BG/NBD model computed independently with scipy, for sql/bgnbd.sql.

Usage: bgnbd_reference.py CUSTOMERS.csv PARAMETERS.csv HORIZON

CUSTOMERS.csv holds customer_id,x,t_x,t and PARAMETERS.csv one line
r,alpha,a,b (segment's fit; no headers).  Prints CSV rows (kind, key,
value): the maximum-likelihood fit by scipy.optimize (Nelder-Mead on the
log-parameters, from 1, 1, 1, 1), its log-likelihood; and, at the given
parameters, the log-likelihood, each customer's probability
alive and expected repeat purchases in the next HORIZON (equation 10 as
lifetimes writes it, with scipy.special.hyp2f1), and a new customer's probability of n = 0..10 repeat purchases in
(0, HORIZON], from the formulas of Fader, Hardie and Lee (2005) written with
scipy.special.
"""
import csv
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1, logsumexp


def log_likelihood(params, x, t_x, t):
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    never = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t)
    after = np.where(x > 0, betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - betaln(a, b) - (r + x) * np.log(alpha + t_x), -np.inf)
    return np.sum(common + logsumexp(np.vstack([never, after]), axis=0))


def expected_purchases(params, horizon, x, t_x, t):
    """Equation 10 as lifetimes writes it, with scipy.special.hyp2f1"""
    r, alpha, a, b = params
    if horizon == 0:
        return np.zeros(len(x))
    z = horizon / (alpha + t + horizon)
    value = (a + b + x - 1) / (a - 1) * (1 - ((alpha + t) / (alpha + t + horizon)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    return value / (1 + np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + t) / (alpha + t_x)) ** (r + x), 0.0))


def main():
    path, horizon = sys.argv[1], float(sys.argv[3])
    with open(sys.argv[2]) as f:
        r, alpha, a, b = map(float, next(csv.reader(f)))
    ids, x, t_x, t = [], [], [], []
    with open(path) as f:
        for row in csv.reader(f):
            ids.append(row[0])
            x.append(int(row[1]))
            t_x.append(float(row[2]))
            t.append(float(row[3]))
    x, t_x, t = np.array(x), np.array(t_x), np.array(t)
    fit = minimize(lambda theta: -log_likelihood(np.exp(theta), x, t_x, t), np.zeros(4), method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 100000, "maxfev": 100000})
    out = csv.writer(sys.stdout)
    for name, value in zip(["r", "alpha", "a", "b"], np.exp(fit.x)):
        out.writerow(["fit", name, repr(float(value))])
    out.writerow(["fit", "log_likelihood", repr(float(-fit.fun))])
    out.writerow(["at", "log_likelihood", repr(float(log_likelihood((r, alpha, a, b), x, t_x, t)))])
    alive = np.where(x > 0, 1.0 / (1.0 + a / np.maximum(b + x - 1, 1e-300) * ((alpha + t) / (alpha + t_x)) ** (r + x)), 1.0)
    for i, p in zip(ids, alive):
        out.writerow(["alive", i, repr(float(p))])
    expected = expected_purchases((r, alpha, a, b), horizon, x, t_x, t)
    for i, e in zip(ids, expected):
        out.writerow(["expected", i, repr(float(e))])
    share, rest = alpha / (alpha + horizon), horizon / (alpha + horizon)
    for n in range(11):
        first = np.exp(betaln(a, b + n) - betaln(a, b) + gammaln(r + n) - gammaln(r) - gammaln(n + 1)) * share ** r * rest ** n
        if n > 0:
            partial = sum(np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1)) * rest ** j for j in range(n)) * share ** r
            first += np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * (1 - partial)
        out.writerow(["purchases", str(n), repr(float(first))])


if __name__ == "__main__":
    main()
