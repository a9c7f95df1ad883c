#!/usr/bin/env python3
"""Prints the fault campaign's figures (target/chaos/*.json) as a markdown table."""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parents[2]
files = sorted((root / "target" / "chaos").glob("*.json"))
if not files:
    sys.exit("no figures in target/chaos: run `make chaos` (or `make test`) first")


def show(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        if value and all(isinstance(v, float) for v in value):
            return f"{len(value)} values, max {max(value):.2f}"
        return ", ".join(map(str, value)) or "none"
    return str(value)


print("| scenario | run | figures |")
print("|---|---|---|")
for path in files:
    data = json.loads(path.read_text())
    figures = "; ".join(f"{k} {show(v)}" for k, v in data["figures"].items())
    print(f"| {data['scenario']} | {data['mode']} | {figures} |")
