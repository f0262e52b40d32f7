"""Compares two linear-regression reports cell by cell: the committed one (OLS students solved inside the experiment,
its own noise draws) and one made through the pipeline (ols students fitted in closed form by Distillation runs on a
teacher cache, OutputNoiseTeacher's draws). The draws differ, so the two agree within seed noise, not to rounding.

Per cell (a, k, target), with n students each:
- mean test MSE: the difference new - old against the half-width of its 95% Welch t interval (scipy.stats.t), from
  each run's mean, variance of test MSE and n;
- inter-student variances (of test MSE, of predictions, of parameters): the ratio new / old against the central 95%
  range of F(n - 1, n - 1), the ratio of two independent sample variances of equal truth. For the variance of
  predictions and of parameters (means over test items or parameters of per-column variances) the range is
  conservative; for the variance of test MSE (not Gaussian) it is approximate.
The slopes and the closed-form ratios are listed side by side.

Run: python3 compare_reproduction.py OLD/report.json NEW/report.json ["title"] > reproduction.md
"""
import json
import math
import sys

from scipy import stats


def welch(m1, v1, n1, m2, v2, n2):
    a, b = v1 / n1, v2 / n2
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1)) if se > 0 else n1 + n2 - 2
    return m2 - m1, stats.t.ppf(0.975, df) * se


old = json.load(open(sys.argv[1]))
new = json.load(open(sys.argv[2]))
n = old["config"]["students"]
assert new["config"] == old["config"], "the two reports ran different configurations"
lo, hi = stats.f.ppf(0.025, n - 1, n - 1), stats.f.ppf(0.975, n - 1, n - 1)
print("# " + (sys.argv[3] if len(sys.argv) > 3 else "linear-regression: the pipeline run against the committed run")
      + "\n")
print(f"Made by `compare_reproduction.py` (scipy {__import__('scipy').__version__}); n = {n} students per cell. Test "
      "MSE: difference new - old ± the half-width of its 95% Welch t interval. Variances: ratio new / old, flagged when "
      f"outside [{lo:.3f}, {hi:.3f}], the central 95% range of F({n - 1}, {n - 1}). The two runs draw different teacher "
      "noise, so they are compared as independent samples.\n")
print(f"OLS teacher test MSE: old {old['teacherTestMse']:.10f}, new {new['teacherTestMse']:.10f}.\n")
print("| a | k | target | test MSE old | new | difference | var of test MSE new / old | var of predictions new / old"
      " | var of parameters new / old |")
print("|---|---|---|---|---|---|---|---|---|")
key = lambda c: (c["a"], c["k"], c["method"])
newc = {key(c): c for c in new["cells"]}
outside = {"mse": 0, "mseVar": 0, "predVar": 0, "paramVar": 0}
ratios = {"mseVar": [], "predVar": [], "paramVar": []}
for c in old["cells"]:
    d = newc[key(c)]
    diff, h = welch(c["mseMean"], c["mseVar"], n, d["mseMean"], d["mseVar"], n)
    flag = abs(diff) > h
    outside["mse"] += flag
    cols = []
    for v in ("mseVar", "predVar", "paramVar"):
        r = d[v] / c[v]
        ratios[v].append(r)
        out = not (lo <= r <= hi)
        outside[v] += out
        cols.append(f"{r:.3f}{' **outside**' if out else ''}")
    print(f"| {c['a']} | {c['k']} | {c['method']} | {c['mseMean']:.5f} | {d['mseMean']:.5f} | {diff:+.5f} ± {h:.5f}"
          f"{' **outside**' if flag else ''} | " + " | ".join(cols) + " |")
cells = len(old["cells"])
print(f"\nOutside their 95% range, of {cells} cells: test MSE {outside['mse']}, variance of test MSE "
      f"{outside['mseVar']}, of predictions {outside['predVar']}, of parameters {outside['paramVar']} (about "
      f"{0.05 * cells:.0f} each expected by chance if the cells were independent; the three targets of one (a, k) share "
      "their draws, and at k = 1 they are the same target). Ratios: " + "; ".join(
          f"{v} {min(r):.3f} to {max(r):.3f}" for v, r in ratios.items()) + ".\n")
print("## Slopes of log(inter-student variance of predictions) against log(k)\n")
print("| series | old | new |")
print("|---|---|---|")
for k, v in old["slopes"].items():
    print(f"| {k} | {v:.3f} | {new['slopes'][k]:.3f} |")
print("\n## Measured over closed form (mean target), prediction variance\n")
print("| a | k | old ratio | new ratio |")
print("|---|---|---|---|")
for co, cn in zip(old["closedForm"], new["closedForm"]):
    mo = [c for c in old["cells"] if c["a"] == co["a"] and c["k"] == co["k"] and c["method"] == "mean"][0]
    mn = newc[(cn["a"], cn["k"], "mean")]
    print(f"| {co['a']} | {co['k']} | {mo['predVar'] / co['predVar']:.3f} | {mn['predVar'] / cn['predVar']:.3f} |")
print(f"\nFailed claims: old {old['failedClaims']}, new {new['failedClaims']}.")
