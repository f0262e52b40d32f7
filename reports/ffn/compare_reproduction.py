"""Compares two ffn reports cell by cell: the one made on the old stacked path (DJL's Trainer and optimizer,
trainer/StackedTraining, commit b01e157) and the one made on StackedStudents (TrainingEngine + the project's AdamW).

Per cell, the difference of the mean test MSE (regression, 50 students) or of the mean accuracy (classification,
10 students) gets a 95% Welch t interval from each run's mean, standard deviation and n (scipy.stats.t). Runs that
share seeds, initialisations and teacher draws make the independent-samples interval conservative (wider than a
paired one would be); since the regression students went through the pipeline (d9bc4b2) their teacher draws are
OutputNoiseTeacher's, so regression cells of a run before and one after differ by seed noise. The inter-student
variance of regression predictions has no per-student values in the reports: its ratio new / old is flagged when
outside the central 95% range of F(n - 1, n - 1), the ratio of two independent sample variances of equal truth
(conservative for a mean over test items of per-item variances); the fitted slopes are listed.

Run: python3 compare_reproduction.py OLD/report.json NEW/report.json ["title"] > reproduction.md
(an old report that has accuracyStd per classification cell is read with it; the first reports had only a
1.96-sd interval, from which the sd is recovered)
"""
import json
import math
import sys

from scipy import stats


def welch(m1, s1, n1, m2, s2, n2):
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1)) if se > 0 else n1 + n2 - 2
    return m2 - m1, stats.t.ppf(0.975, df) * se


old = json.load(open(sys.argv[1]))
new = json.load(open(sys.argv[2]))
nr = old["config"]["regression"]["students"]
nc = old["config"]["classification"]["students"]
print("# " + (sys.argv[3] if len(sys.argv) > 3 else "ffn: the StackedStudents run against the committed StackedTraining run")
      + "\n")
flo, fhi = stats.f.ppf(0.025, nr - 1, nr - 1), stats.f.ppf(0.975, nr - 1, nr - 1)
print(f"Made by `compare_reproduction.py` (scipy {__import__('scipy').__version__}). Difference = new - old; ± is the "
      "half-width of the 95% Welch t interval of the difference of the two runs' means (each run's own students: "
      f"n = {nr} per regression cell, n = {nc} per classification cell), taken as independent samples (conservative "
      "where the runs share seeds and draws). Regression prediction variances: the ratio new / old, flagged when "
      f"outside [{flo:.2f}, {fhi:.2f}], the central 95% range of F({nr - 1}, {nr - 1}).\n")
print("## Regression: test MSE\n")
print("| dataset | a | k | target | old | new | difference | outside the interval | pred. variance new / old |")
print("|---|---|---|---|---|---|---|---|---|")
out_r = 0
out_rv = 0
key = lambda c: (c["dataset"], c["a"], c["k"], c["method"])
newr = {key(c): c for c in new["regression"]}
ratios = []
for c in old["regression"]:
    d = newr[key(c)]
    diff, h = welch(c["mseMean"], math.sqrt(c["mseVar"]), nr, d["mseMean"], math.sqrt(d["mseVar"]), nr)
    out = abs(diff) > h
    out_r += out
    ratio = d["predVar"] / c["predVar"]
    ratios.append(ratio)
    out_v = not (flo <= ratio <= fhi)
    out_rv += out_v
    print(f"| {c['dataset']} | {c['a']} | {c['k']} | {c['method']} | {c['mseMean']:.4f} | {d['mseMean']:.4f} | "
          f"{diff:+.4f} ± {h:.4f} | {'**yes**' if out else 'no'} | {ratio:.2f}{' **outside**' if out_v else ''} |")
print(f"\n{out_r} of {len(old['regression'])} regression differences fall outside their 95% interval. Ratio of the "
      f"inter-student variance of predictions: {min(ratios):.2f} to {max(ratios):.2f}, {out_rv} outside the F range.\n")
print("| slope | old | new |")
print("|---|---|---|")
for k, v in old.items():
    if k.startswith("slope "):
        print(f"| {k[6:]} | {v:.3f} | {new[k]:.3f} |")
print("\n## Classification: accuracy\n")
print("| dataset | target | old | new | difference | outside the interval | inter-student variance old | new | new / old |")
print("|---|---|---|---|---|---|---|---|---|")
out_c = 0
newc = {(c["dataset"], c["method"]): c for c in new["classification"]}
z = stats.norm.ppf(0.975)
for c in old["classification"]:
    d = newc[(c["dataset"], c["method"])]
    # the first reports' interval was 1.96 sd / sqrt(n); later ones keep the sd
    s_old = c["accuracyStd"] if "accuracyStd" in c else c["accuracyCi95"] * math.sqrt(nc) / z
    diff, h = welch(c["accuracyMean"], s_old, nc, d["accuracyMean"], d["accuracyStd"], nc)
    out = abs(diff) > h
    out_c += out
    print(f"| {c['dataset']} | {c['method']} | {c['accuracyMean']:.4f} | {d['accuracyMean']:.4f} | {diff:+.4f} ± {h:.4f} | "
          f"{'**yes**' if out else 'no'} | {c['interStudentVariance']:.3e} | {d['interStudentVariance']:.3e} "
          f"[{d['interStudentVarianceLow']:.2e}, {d['interStudentVarianceHigh']:.2e}] | "
          f"{d['interStudentVariance'] / c['interStudentVariance']:.2f} |")
inside = sum(1 for c in old["classification"]
             if newc[(c["dataset"], c["method"])]["interStudentVarianceLow"] <= c["interStudentVariance"]
             <= newc[(c["dataset"], c["method"])]["interStudentVarianceHigh"])
print(f"\n{out_c} of {len(old['classification'])} accuracy differences fall outside their 95% interval; the old "
      f"inter-student variance lies inside the new run's 95% bootstrap interval (over test items) in {inside} of "
      f"{len(old['classification'])} cells. Failed claims: old {old['failedClaims']}, new {new['failedClaims']}.")
