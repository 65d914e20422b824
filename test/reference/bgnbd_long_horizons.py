#!/usr/bin/python3
"""BG/NBD expected purchases with mpmath at 40 digits, for sql/bgnbd.sql:
where the hypergeometric series of equation 10 of Fader, Hardie and Lee
(2005) converges slowest (z = h / (alpha + t + h) near 1), where x is large,
near the model's no-drop-out limit (a near 0, b near 10^6, where the
paper's form loses six digits to cancellation), and near its limit of one
drop-out probability for all (a and b near 10^6 and 10^7).

Usage: bgnbd_long_horizons.py PARAMETERS.csv

PARAMETERS.csv holds one line r,alpha,a,b (a fitted model).  Prints CSV rows
r, alpha, a, b, horizon, x, t_x, t, expected purchases: the cases below at
that model, then at the fixed models of NEAR_LIMIT.
"""
import csv
import sys

import mpmath as mp

CASES = [(3900, 0, 0, 38), (39000, 5, 20, 38), (390000, 30, 37, 38), (39, 200, 38, 38), (1e7, 1, 1, 1)]
NEAR_LIMIT = [(("1.095", "93.75", "0.000129", "1527676.18"), (365.25, 3, 100, 300)),
              (("1.095", "93.75", "0.000129", "1527676.18"), (365.25, 0, 0, 10)),
              (("0.83", "68.9", "1e-9", "329.0"), (365.25, 40, 350, 360)),
              (("0.1398", "1.8954", "840772.92", "11300217.2"), (365.25, 5, 20, 30)),
              (("0.1398", "1.8954", "840772.92", "11300217.2"), (365.25, 0, 0, 0))]


def hyp2f1(a, b, c, z):
    """mpmath's 2F1, or where its transformations give up (a, b and c near
    10^6 and 10^7, z not near 1) its Gauss series summed term by term"""
    try:
        return mp.hyp2f1(a, b, c, z)
    except mp.libmp.libhyper.NoConvergence:
        total, term, n = mp.mpf(0), mp.mpf(1), 0
        while abs(term) > mp.mpf(10) ** -45 * abs(total) or n < 10:
            total += term
            term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
            n += 1
        return total


def expected(r, alpha, a, b, horizon, x, t_x, t):
    z = horizon / (alpha + t + horizon)
    value = (a + b + x - 1) / (a - 1) * (1 - ((alpha + t) / (alpha + t + horizon)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    if x > 0:
        value /= 1 + a / (b + x - 1) * ((alpha + t) / (alpha + t_x)) ** (r + x)
    return value


def main():
    mp.mp.dps = 40
    with open(sys.argv[1]) as f:
        model = next(csv.reader(f))
    out = csv.writer(sys.stdout)
    for parameters, (horizon, x, t_x, t) in [(model, case) for case in CASES] + NEAR_LIMIT:
        value = expected(*(mp.mpf(v) for v in parameters), mp.mpf(horizon), x, mp.mpf(t_x), mp.mpf(t))
        out.writerow(list(parameters) + [horizon, x, t_x, t, mp.nstr(value, 20)])


if __name__ == "__main__":
    main()
