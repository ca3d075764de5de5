#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Plot benchmark result tables (Markdown, as written by scripts/bench).

plot.py hooks RESULT.md OUT.png   overhead per syscall-hook mechanism
plot.py scale RESULT.md OUT.png   cost per trampfd vs live trampfds
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def rows(path):
    """Yield the cells of every Markdown table row that is not a header."""
    for line in open(path):
        if line.startswith("|") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            yield cells


def hooks(src, out):
    data = {}
    for c in rows(src):
        if len(c) == 6 and c[0] != "syscall" and not c[1].startswith("native"):
            data.setdefault(c[0], []).append((c[1], float(c[4])))
    fig, axes = plt.subplots(1, len(data), figsize=(6 * len(data), 4))
    for ax, (syscall, items) in zip(axes if len(data) > 1 else [axes], data.items()):
        names = [n.split(" (")[0].replace(" + rewritten call", "") for n, _ in items]
        ax.barh(names, [v for _, v in items], color="tab:blue")
        ax.set_xscale("log")
        ax.set_xlabel("overhead per syscall, ns (log)")
        ax.set_title(f"pass-through hook on {syscall}")
        for y, (_, v) in enumerate(items):
            ax.text(v, y, f" {v:.0f}", va="center")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def scale(src, out):
    pts = []
    for c in rows(src):
        if len(c) == 4 and c[0].isdigit():
            pts.append((int(c[0]), float(c[1])))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([p[0] for p in pts], [p[1] / 1000 for p in pts], marker="o")
    ax.set_xscale("log")
    ax.set_xlabel("live trampfds in one process (log)")
    ax.set_ylabel("µs per trampfd (open+configure+map+fault)")
    ax.set_title("trampfd creation cost vs. number of live trampfds")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    {"hooks": hooks, "scale": scale}[sys.argv[1]](sys.argv[2], sys.argv[3])
