#!/usr/bin/env python3
"""Reads distill4j's run-tracking files with their own readers and checks them against what the trainer saw.

Usage: read_tracking.py DIR   (DIR as written by TrackingTest with -Ddistill4j.tracking.keep=DIR)

For each run (straight: one uninterrupted run; resumed: a run resumed from update 5 into the same folder):
  * TensorBoard's EventAccumulator (tensorboard.backend.event_processing), the reader behind
    `tensorboard --logdir`, must list the scalar tags, one train/loss point per update 1..12 (the resumed run's
    restart marker purges the points the interrupted run wrote after its checkpoint) equal, as float32, to the
    losses the Java listener saw, and validation/nll at updates 4, 8, 12;
  * pandas-free JSONL: every line parses with json.loads and the step losses equal the listener's exactly.
Prints one line per check and exits non-zero on the first mismatch.
"""
import json
import struct
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def check(root: Path, name: str, model: str) -> None:
    expected = json.loads((root / f"{name}-expected.json").read_text())
    run = root / name / model
    acc = EventAccumulator(str(run))
    acc.Reload()
    tags = sorted(acc.Tags()["scalars"])
    want_tags = ["train/grad_norm", "train/items_per_second", "train/learning_rate", "train/loss", "validation/nll"]
    assert tags == want_tags, f"{name}: tags {tags}"
    loss = acc.Scalars("train/loss")
    steps = [e.step for e in loss]
    assert steps == list(range(1, 13)), f"{name}: train/loss steps {steps}"
    for e in loss:
        want = f32(expected["loss"][str(e.step)])
        assert e.value == want, f"{name}: update {e.step}: TensorBoard {e.value!r}, trainer {want!r}"
    val = {e.step: e.value for e in acc.Scalars("validation/nll")}
    want_val = {int(k): f32(v) for k, v in expected["validation"].items()}
    assert val == want_val, f"{name}: validation {val} vs {want_val}"
    print(f"{name}: TensorBoard EventAccumulator read {len(tags)} tags, train/loss at updates 1..12 equal to the "
          f"trainer's (float32), validation/nll {sorted(val)}")

    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    step_loss = {d["step"]: d["loss"] for d in lines if d["event"] == "step"}
    assert sorted(step_loss) == list(range(1, 13)), f"{name}: JSONL steps {sorted(step_loss)}"
    for k, v in step_loss.items():
        assert v == expected["loss"][str(k)], f"{name}: JSONL update {k}: {v!r} vs {expected['loss'][str(k)]!r}"
    events = [d["event"] for d in lines]
    print(f"{name}: JSONL {len(lines)} lines ({', '.join(f'{events.count(e)} {e}' for e in dict.fromkeys(events))}),"
          f" losses equal to the trainer's")


def main() -> int:
    root = Path(sys.argv[1])
    check(root, "straight", "tracked_seed_7")
    check(root, "resumed", "run")
    print("2 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
