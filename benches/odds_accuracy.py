#!/usr/bin/env python3
"""Accuracy spot check: accord's and scipy's ln P(miss) against mpmath at 60 digits.

Usage: python3 benches/odds_accuracy.py [path/to/accord] [cases]
Draws non-trivial random (N, R, K) with N up to 10^9 (seeded), asks `accord inspect odds`
for each, and prints the worst relative error of each against mpmath's lnΓ formula.
"""
import json
import subprocess
import sys

import numpy as np
from mpmath import loggamma, mp
from scipy.stats import hypergeom

mp.dps = 60
exe = sys.argv[1] if len(sys.argv) > 1 else "target/release/accord"
cases = int(sys.argv[2]) if len(sys.argv) > 2 else 300
rng = np.random.default_rng(5)
worst = {"accord": (0.0, None), "scipy": (0.0, None)}
done = 0
while done < cases:
    n = int(max(2, round(10 ** rng.uniform(0, 9))))
    r = int(rng.integers(1, n))
    k = int(rng.integers(1, n - r + 1))
    o = json.loads(subprocess.run([exe, "inspect", "odds", "--population", str(n), "--violations", str(r),
                                   "--samples", str(k), "--json"], capture_output=True, text=True, check=True).stdout)
    ours = o["log10_p_miss"] * float(np.log(10))
    exact = float(loggamma(n - r + 1) + loggamma(n - k + 1) - loggamma(n + 1) - loggamma(n - r - k + 1))
    theirs = float(hypergeom.logpmf(0, n, r, k))
    for name, v in (("accord", ours), ("scipy", theirs)):
        e = abs(v - exact) / abs(exact)
        if e > worst[name][0]:
            worst[name] = (e, (n, r, k))
    done += 1
print(json.dumps({"cases": cases, "worst_relative_error_vs_mpmath": {k: {"error": v[0], "at": v[1]} for k, v in worst.items()}}))
