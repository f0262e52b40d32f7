#!/usr/bin/env python3
"""Runs a command under /usr/bin/time -v and reports its wall time, CPU time (user + system) and peak resident memory
as one JSON line.

Besides time's "Maximum resident set size" (anonymous and file-backed pages together), it polls the command's
/proc/PID/status every 0.2 s for the largest RssAnon (heap, native tensors) and RssFile (pages of memory-mapped files,
such as the cache's shards, which the kernel can drop at any time). Usage:
    measure.py LABEL OUT.jsonl -- COMMAND ARGS...
"""
import json
import os
import re
import subprocess
import sys
import time


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("RssAnon:", "RssFile:", "VmRSS:")):
                    k, v = line.split(":")
                    out[k] = int(v.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def main():
    label, out = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    err = f"/tmp/measure-{os.getpid()}.time"
    start = time.time()
    p = subprocess.Popen(["/usr/bin/time", "-v", "-o", err] + cmd)
    peak = {"RssAnon": 0.0, "RssFile": 0.0}
    while p.poll() is None:
        for c in children(p.pid):
            s = status(c)
            for k in peak:
                peak[k] = max(peak[k], s.get(k, 0.0))
        time.sleep(0.2)
    wall = time.time() - start
    text = open(err).read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    user = re.search(r"User time \(seconds\): ([0-9.]+)", text)
    system = re.search(r"System time \(seconds\): ([0-9.]+)", text)
    rec = {"label": label, "rc": p.returncode, "wall_s": round(wall, 1),
           "cpu_s": round(float(user.group(1)) + float(system.group(1)), 1) if user and system else None,
           "max_rss_mib": round(int(m.group(1)) / 1024.0, 1) if m else None,
           "max_rss_anon_mib": round(peak["RssAnon"], 1), "max_rss_file_mib": round(peak["RssFile"], 1),
           "command": " ".join(cmd), "time": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(start))}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(json.dumps(rec))
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
