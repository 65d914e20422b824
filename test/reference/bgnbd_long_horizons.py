#!/usr/bin/python3
"""BG/NBD expected purchases over long horizons with mpmath at 40 digits,
for sql/bgnbd.sql: where the hypergeometric series of equation 10 of Fader,
Hardie and Lee (2005) converges slowest (z = h / (alpha + t + h) near 1)
and where x is large.

Usage: bgnbd_long_horizons.py PARAMETERS.csv

PARAMETERS.csv holds one line r,alpha,a,b.  Prints CSV rows horizon, x,
t_x, t, expected purchases.
"""
import csv
import sys

import mpmath as mp

CASES = [(3900, 0, 0, 38), (39000, 5, 20, 38), (390000, 30, 37, 38), (39, 200, 38, 38), (1e7, 1, 1, 1)]


def main():
    mp.mp.dps = 40
    with open(sys.argv[1]) as f:
        r, alpha, a, b = (mp.mpf(v) for v in next(csv.reader(f)))
    out = csv.writer(sys.stdout)
    for horizon, x, t_x, t in CASES:
        z = horizon / (alpha + t + horizon)
        value = (a + b + x - 1) / (a - 1) * (1 - ((alpha + t) / (alpha + t + horizon)) ** (r + x) * mp.hyp2f1(r + x, b + x, a + b + x - 1, z))
        if x > 0:
            value /= 1 + a / (b + x - 1) * ((alpha + t) / (alpha + t_x)) ** (r + x)
        out.writerow([horizon, x, t_x, t, mp.nstr(value, 20)])


if __name__ == "__main__":
    main()
