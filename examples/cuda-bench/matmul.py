#!/usr/bin/env python3
"""Times an n×n×n matrix product on the GPU with PyTorch and writes
$DTF_OUTPUT_DIR/metrics.json (the current directory when unset).

Usage: python3 matmul.py <bf16|fp32> <n>
"""
import json
import os
import sys

WARMUPS = 3
RUNS = 10
DTYPES = {"bf16": "bfloat16", "fp32": "float32"}


def main(argv):
    if len(argv) != 3 or argv[1] not in DTYPES or not argv[2].isdigit():
        print("usage: matmul.py <bf16|fp32> <n>", file=sys.stderr)
        return 2
    import torch

    if not torch.cuda.is_available():
        print("matmul.py: PyTorch sees no CUDA device", file=sys.stderr)
        return 1
    n = int(argv[2])
    dtype = getattr(torch, DTYPES[argv[1]])
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(WARMUPS):
        a @ b
    times_ms = []
    for _ in range(RUNS):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        a @ b
        end.record()
        torch.cuda.synchronize()
        times_ms.append(start.elapsed_time(end))
    times_ms.sort()
    median_ms = times_ms[len(times_ms) // 2]
    tflops = 2 * n**3 / (median_ms / 1e3) / 1e12
    metrics = {
        "tflops": {"value": round(tflops, 1), "unit": "TFLOP/s"},
        "median_ms": {"value": round(median_ms, 4), "unit": "ms"},
        "min_ms": {"value": round(times_ms[0], 4), "unit": "ms"},
    }
    out_dir = os.environ.get("DTF_OUTPUT_DIR", ".")
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f)
    print(f"{torch.cuda.get_device_name()} {argv[1]} n={n}: {tflops:.1f} TFLOP/s, median {median_ms:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
