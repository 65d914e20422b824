#!/usr/bin/python3
"""The Gamma-Gamma model and the customer value computed independently with
scipy, for sql/customer_value.sql.

Usage: gamma_gamma_reference.py CUSTOMERS.csv PARAMETERS.csv HORIZON RATE

CUSTOMERS.csv holds customer_id,x,t_x,t,mean_value (x repeat transactions,
mean_value their mean, 0 when x = 0) and PARAMETERS.csv one line
r,alpha,a,b,p,q,gamma (segment's fits; no headers).  Prints CSV rows (kind,
key, value): the maximum-likelihood Gamma-Gamma fit by scipy.optimize
(Nelder-Mead on the log-parameters, from 1, 1, 1) over the customers with
x > 0, its log-likelihood; and, at the given parameters, the log-likelihood,
each customer's expected spend and its customer value over HORIZON time
units, discounted at RATE per unit, summed by period as lifetimes'
customer_lifetime_value does (expected purchases of BG/NBD's equation 10 with
scipy.special.hyp2f1, from bgnbd_reference.py).
"""
import csv
import math
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from bgnbd_reference import expected_purchases


def log_likelihood(params, x, m):
    p, q, gamma = params
    return np.sum(gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma) + (p * x - 1) * np.log(m)
                  + p * x * np.log(x) - (p * x + q) * np.log(gamma + m * x))


def main():
    horizon, rate = float(sys.argv[3]), float(sys.argv[4])
    with open(sys.argv[2]) as f:
        r, alpha, a, b, p, q, gamma = map(float, next(csv.reader(f)))
    ids, x, t_x, t, m = [], [], [], [], []
    with open(sys.argv[1]) as f:
        for row in csv.reader(f):
            ids.append(row[0])
            x.append(int(row[1]))
            t_x.append(float(row[2]))
            t.append(float(row[3]))
            m.append(float(row[4]))
    x, t_x, t, m = np.array(x), np.array(t_x), np.array(t), np.array(m)
    repeat = x > 0
    fit = minimize(lambda theta: -log_likelihood(np.exp(theta), x[repeat], m[repeat]), np.zeros(3), method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 100000, "maxfev": 100000})
    out = csv.writer(sys.stdout)
    for name, value in zip(["p", "q", "gamma"], np.exp(fit.x)):
        out.writerow(["fit", name, repr(float(value))])
    out.writerow(["fit", "log_likelihood", repr(float(-fit.fun))])
    out.writerow(["at", "log_likelihood", repr(float(log_likelihood((p, q, gamma), x[repeat], m[repeat])))])
    # lifetimes' conditional_expected_average_profit
    weight = p * x / (p * x + q - 1)
    spend = (1 - weight) * gamma * p / (q - 1) + weight * m
    for i, s in zip(ids, spend):
        out.writerow(["spend", i, repr(float(s))])
    # lifetimes' customer_lifetime_value, by period of one time unit
    value = np.zeros(len(x))
    for k in range(1, math.ceil(horizon) + 1):
        step = expected_purchases((r, alpha, a, b), min(k, horizon), x, t_x, t) \
            - expected_purchases((r, alpha, a, b), k - 1, x, t_x, t)
        value += spend * step / (1 + rate) ** k
    for i, v in zip(ids, value):
        out.writerow(["value", i, repr(float(v))])


if __name__ == "__main__":
    main()
