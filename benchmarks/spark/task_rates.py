"""Per-task sampling rates from a Spark event log of `distill4j sample --engine` (issue 14, item 5).

Usage: python3 task_rates.py RUN_LOG EVENT_LOG      (the command's output; an uncompressed, non-rolling event log)

The run's log says how the job was cut: "N rows, S shards of R: 0 in the manifest, 0 committed by an interrupted run,
S to sample on MASTER, G shard(s) a task (T tasks)"; task i samples shards [i G, (i + 1) G), each R items but the
last shard (N - (S - 1) R). The first task of each executor also builds that executor's teacher and rows (DJL's
start, the data, the weights); the later ones only sample. Prints the job's submission to its first task (executors
starting), each executor's first task, and the steady rate: items of the later tasks over their summed run time,
per executor and summed over executors.
"""
import json
import re
import sys

run_log, path = sys.argv[1], sys.argv[2]
m = None
for line in open(run_log):
    m = re.search(r"(\d+) rows, (\d+) shards of (\d+): 0 in the manifest, 0 committed by an interrupted run, \d+ to "
                  r"sample on .*, (\d+) shard\(s\) a task", line) or m
if m is None:
    sys.exit(f"{run_log}: no line saying how the job was cut (a fresh cache is needed)")
items, shards, rps, per_task = (int(g) for g in m.groups())


def task_items(index):
    first, last = index * per_task, min(shards, (index + 1) * per_task)
    return sum(min(rps, items - s * rps) for s in range(first, last))


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
        n = sum(task_items(t[3]) for t in later)
        s = sum((t[2] - t[1]) / 1000 for t in later)
        steady.append(n / s)
print(f"{path.split('/')[-1]}: {len(by_exec)} executor(s), {len(tasks)} tasks of {per_task} shard(s); job to first "
      f"task {(first_launch - submitted) / 1000:.1f} s; first task per executor {', '.join(f'{x:.1f}' for x in firsts)}"
      f" s; steady items/s per executor {', '.join(f'{x:.0f}' for x in steady) or 'n/a: one task each'}"
      f" (sum {sum(steady):.0f})")
