"""Reference values for io.distill4j.trainer.stats tests (StatsTest), from scipy and numpy.

Run: python3 reference.py   (scipy 1.17.1, numpy 2.4.6 made the values pasted into StatsTest.java)
"""
import itertools

import numpy as np
from scipy import stats

print("scipy", __import__("scipy").__version__, "numpy", np.__version__)

# Student-t two-sided quantiles t_{(1+c)/2, df}
for c, df in [(0.95, 1), (0.95, 2), (0.95, 4), (0.95, 9), (0.95, 29), (0.95, 100), (0.90, 4), (0.99, 4)]:
    print(f"t.ppf({(1 + c) / 2}, {df}) = {stats.t.ppf((1 + c) / 2, df)!r}")

# Summary of five accuracies: mean, std (ddof 1) and the 95% t interval of the mean
acc = np.array([0.9466, 0.9481, 0.9452, 0.9470, 0.9460])
lo, hi = stats.t.interval(0.95, len(acc) - 1, loc=acc.mean(), scale=stats.sem(acc))
print("acc mean", repr(acc.mean()), "std", repr(acc.std(ddof=1)), "interval", repr(lo), repr(hi))

# numpy's default (linear) quantiles of a small sample
v = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
for p in [0.025, 0.3, 0.5, 0.975]:
    print(f"quantile({p}) = {np.quantile(v, p)!r}")

# The exact bootstrap distribution of the mean of x (all 5^5 ordered resamples, equally likely):
# the inverse CDF at p - 0.005 and p + 0.005 brackets a Monte Carlo percentile bootstrap with many resamples.
x = np.array([0.2, 0.5, 0.9, 1.4, 3.0])
means = np.sort([np.mean(x[list(idx)]) for idx in itertools.product(range(5), repeat=5)])
def inv_cdf(p):
    return means[int(np.ceil(p * len(means))) - 1]
for p in [0.025, 0.975]:
    print(f"exact bootstrap of the mean: inverse CDF at {p - 0.005:.3f} {inv_cdf(p - 0.005)!r}, at {p + 0.005:.3f} {inv_cdf(p + 0.005)!r}")

# Least squares: log-log slope, and floor + c / k
k = np.array([1.0, 2.0, 5.0, 10.0, 20.0])
var = np.array([3.402e-02, 2.309e-02, 1.396e-02, 1.254e-02, 1.053e-02])
print("log-log slope", repr(np.polyfit(np.log(k), np.log(var), 1)[0]))
c1, c0 = np.polyfit(1 / k, var, 1)
print("floor", repr(c0), "c", repr(c1))
