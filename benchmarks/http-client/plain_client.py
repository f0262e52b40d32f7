"""The plain client of issue 13: k seeded /v1/completions requests per prompt with top-K logprobs, CONCURRENCY in
flight, parsed with json. Prints completions and seconds. Usage: python3 plain_client.py URL PROMPTS K CONCURRENCY
MAX_TOKENS TOP_LOGPROBS"""
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

url, prompts_file, k, conc, max_tokens, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    int(sys.argv[5]), int(sys.argv[6])
prompts = [p.strip() for p in open(prompts_file) if p.strip()]


def one(job):
    prompt, seed = job
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 1.0, "logprobs": top,
                       "seed": seed, "stream": False}).encode()
    req = urllib.request.Request(url + "/v1/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        choice = json.loads(r.read())["choices"][0]
    return [(t["id"], [(a["id"], a["logprob"]) for a in t["top_logprobs"]]) for t in choice["logprobs"]["content"]]


jobs = [(p, q * k + j) for q, p in enumerate(prompts) for j in range(k)]
start = time.perf_counter()
with ThreadPoolExecutor(conc) as ex:
    done = sum(1 for _ in ex.map(one, jobs))
seconds = time.perf_counter() - start
print("plain %d completions %.3f s %.1f completions/s" % (done, seconds, done / seconds))
