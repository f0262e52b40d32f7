"""Reads a distill4j cache (format v1) with pyarrow and numpy alone, checking every checksum.

    python read_cache.py CACHE_DIR

Prints the manifest's task and shapes and, for each item, a one-line summary. Import `read` to get arrays.
"""
import hashlib
import json
import sys
import zlib
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc


def read(cache_dir):
    """Yields (item, data) per item: dense tasks give a (k, width) float32 array; sequence tasks give
    {"prompt": ids, "samples": [{"tokens", "topk_ids" (T, K), "topk_logprobs" (T, K), "tail_logmass"}]}."""
    d = Path(cache_dir)
    m = json.loads((d / "manifest.json").read_text())
    k, width = m["k"], m["width"]
    for s in m["shards"]:
        raw = (d / s["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == s["sha256"], f"{s['file']}: SHA-256 differs"
        table = ipc.open_file(d / s["file"]).read_all()
        if m["task"] != "sequence":
            samples = table.column("samples").combine_chunks().flatten().flatten().to_numpy().reshape(-1, k, width)
            for row, (item, crc) in enumerate(zip(table.column("item").to_pylist(), table.column("crc32").to_pylist())):
                assert item == s["firstItem"] + row
                assert zlib.crc32(samples[row].astype("<f4").tobytes()) == crc, f"{s['file']}: row {row}: CRC-32"
                yield item, samples[row]
        else:
            K = m["sequence"]["topK"]
            id_dtype = "<u2" if m["sequence"]["idType"] == "uint16" else "<i4"
            cols = {name: table.column(name).to_pylist() for name in table.column_names}
            for row in range(table.num_rows):
                item, j = cols["item"][row], cols["sample"][row]
                assert (item, j) == (s["firstItem"] + row // k, row % k)
                prompt = np.array(cols["prompt"][row], "<i4")
                tokens = np.array(cols["tokens"][row], id_dtype)
                ids = np.array(cols["topk_ids"][row], id_dtype).reshape(-1, K)
                q = np.array(cols["topk_logprobs"][row], np.uint8).reshape(-1, K)
                top = np.array(cols["logprob_top"][row], "<f4")
                spread = np.array(cols["logprob_scale"][row], "<f4")
                tail = np.array(cols["tail_logmass"][row], "<f4")
                crc = zlib.crc32(b"".join(a.tobytes() for a in (prompt, tokens, ids, q, top, spread, tail)))
                assert crc == cols["crc32"][row], f"{s['file']}: row {row}: CRC-32"
                x = q.astype(np.float64) / 255.0
                logprobs = (top[:, None] - spread[:, None] * x * x).astype(np.float32)
                if j == 0:
                    current = {"prompt": prompt, "samples": []}
                current["samples"].append({"tokens": tokens, "topk_ids": ids, "topk_logprobs": logprobs,
                                           "tail_logmass": tail})
                if j == k - 1:
                    yield item, current


if __name__ == "__main__":
    m = json.loads((Path(sys.argv[1]) / "manifest.json").read_text())
    print(m["task"], "k =", m["k"], "width =", m["width"], "items =", m["items"])
    for item, data in read(sys.argv[1]):
        if m["task"] != "sequence":
            print(item, "mean of samples:", np.round(data.mean(axis=0), 6).tolist())
        else:
            print(item, "prompt", data["prompt"].tolist(), "lengths", [len(s["tokens"]) for s in data["samples"]],
                  "first top-1 logprob", [float(s["topk_logprobs"][0, 0]) if len(s["tokens"]) else None
                                           for s in data["samples"]])
