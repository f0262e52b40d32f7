"""Per-task sampling rates from a Spark event log of `distill4j sample --engine` (issue 14, item 5).

Usage: python3 task_rates.py ITEMS ROWS_PER_SHARD EVENT_LOG...   (uncompressed, non-rolling event logs)

Task i samples shard i: min(ROWS_PER_SHARD, ITEMS - i * ROWS_PER_SHARD) items. The first task of each executor also
builds that executor's teacher and rows (DJL's start, the data, the weights); the later ones only sample. Prints, per
log: the job's submission to its first task (executors starting), each executor's first task, and the steady rate:
items of the later tasks over their summed run time, per executor and summed over executors.
"""
import json
import sys

items, rps = int(sys.argv[1]), int(sys.argv[2])
for path in sys.argv[3:]:
    submitted = None
    tasks = []
    for line in open(path):
        e = json.loads(line)
        if e["Event"] == "SparkListenerJobStart":
            submitted = e["Submission Time"]
        elif e["Event"] == "SparkListenerTaskEnd" and e["Task End Reason"]["Reason"] == "Success":
            i = e["Task Info"]
            tasks.append((i["Executor ID"], i["Launch Time"], i["Finish Time"], i["Index"]))
    by_exec = {}
    for t in sorted(tasks, key=lambda t: t[1]):
        by_exec.setdefault(t[0], []).append(t)
    first_launch = min(t[1] for t in tasks)
    steady = []
    firsts = []
    for ex, ts in sorted(by_exec.items()):
        firsts.append((ts[0][2] - ts[0][1]) / 1000)
        later = ts[1:]
        if later:
            n = sum(min(rps, items - t[3] * rps) for t in later)
            s = sum((t[2] - t[1]) / 1000 for t in later)
            steady.append(n / s)
    print(f"{path.split('/')[-1]}: {len(by_exec)} executor(s); job to first task {(first_launch - submitted) / 1000:.1f} s;"
          f" first task per executor {', '.join(f'{x:.1f}' for x in firsts)} s; steady items/s per executor "
          f"{', '.join(f'{x:.0f}' for x in steady)} (sum {sum(steady):.0f})")
