"""Writes tiny IDX fixtures in the MNIST layout (run once; the tests never need Python).

3 images of 2 x 3 pixels, pixel (i, r, c) = 40 * i + 10 * r + c; labels 7, 0, 9.
The t10k files are gzipped, as Fashion-MNIST ships them.
"""
import gzip, struct
import numpy as np

imgs = np.array([[[40 * i + 10 * r + c for c in range(3)] for r in range(2)] for i in range(3)], np.uint8)
labels = np.array([7, 0, 9], np.uint8)
def idx(arr):
    return struct.pack(">BBBB", 0, 0, 8, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()
open("train-images-idx3-ubyte", "wb").write(idx(imgs))
open("train-labels-idx1-ubyte", "wb").write(idx(labels))
gzip.GzipFile("t10k-images-idx3-ubyte.gz", "wb", mtime=0).write(idx(imgs[:2]))
gzip.GzipFile("t10k-labels-idx1-ubyte.gz", "wb", mtime=0).write(idx(labels[:2]))
