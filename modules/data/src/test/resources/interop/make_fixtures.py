"""Makes the interop golden files once (run with the project's .venv); the tests never need Python.

samples[i, j, c] = (i * 100 + j * 10 + c) / 1000 for N=3 items, k=2 samples, C=4 outputs.
"""
import numpy as np
from safetensors.numpy import save_file

i, j, c = np.meshgrid(np.arange(3), np.arange(2), np.arange(4), indexing="ij")
samples = ((i * 100 + j * 10 + c) / 1000).astype(np.float32)
np.savez("golden_f32.npz", samples=samples, other=np.arange(5))
np.savez_compressed("golden_f64_compressed.npz", samples=samples.astype(np.float64))
save_file({"samples": samples, "extra": np.zeros(3, np.float32)}, "golden.safetensors", metadata={"by": "numpy"})
save_file({"samples": samples.astype(np.float16)}, "golden_f16.safetensors")
