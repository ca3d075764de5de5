#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Plot benchmark result tables (Markdown, as written by scripts/bench).

plot.py hooks RESULT.md OUT.png   overhead per syscall-hook mechanism
plot.py scale RESULT.md OUT.png   cost per trampfd vs live trampfds
plot.py macro RESULT.md OUT.png   real programs: hooked / native wall time
plot.py ffi RESULT.md OUT.png     libffi closures on trampfd / stock, per metric
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


def macro(src, out):
    progs, lazy, eager = [], [], []
    for c in rows(src):
        if len(c) == 6 and c[3].endswith("x"):
            progs.append(c[0].split(" (")[0])
            lazy.append(float(c[3][:-1]))
            eager.append(float(c[5][:-1]))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ys = range(len(progs))
    ax.barh([y - 0.2 for y in ys], lazy, height=0.4, label="lazy (SUD, then rewritten)")
    ax.barh([y + 0.2 for y in ys], eager, height=0.4, label="eager (rewritten at load)")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(list(ys), progs)
    ax.invert_yaxis()
    ax.set_xlabel("wall time hooked / native (median)")
    ax.set_title("real programs, hooked / native")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=100, bbox_inches="tight")


def ffi(src, out):
    """Ratios to stock libffi, one panel per metric section of the file."""
    panels, cur = [], None
    for line in open(src):
        if line.startswith("## "):
            cur = (line[3:].split(" (")[0].strip(), [], [])
            panels.append(cur)
        elif cur and line.startswith("|") and not line.startswith("| ---"):
            c = [x.strip() for x in line.strip().strip("|").split("|")]
            if len(c) == 3 and c[2].endswith("x") and c[0] != "stock libffi":
                cur[1].append("call")
                cur[2].append((float(c[2][:-1]), None))
            elif len(c) == 7 and c[0].isdigit():
                cur[1].append(f"create x{c[0]}, {c[1].split(' ')[0]}")
                cur[2].append((float(c[4][:-1]), float(c[6][:-1])))
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.5))
    for ax, (title, names, vals) in zip(axes if len(panels) > 1 else [axes], panels):
        ys = range(len(names))
        ax.barh([y - 0.2 for y in ys], [v[0] for v in vals], height=0.4,
                label="libffi on trampfd / stock")
        ax.barh([y + 0.2 for y in ys], [v[1] or 0 for v in vals], height=0.4,
                label="libtrampfd alone / stock")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(list(ys), names)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("ratio to stock libffi (log; < 1 is faster)")
        ax.set_title(title)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=100, bbox_inches="tight")


if __name__ == "__main__":
    {"hooks": hooks, "scale": scale, "macro": macro, "ffi": ffi}[sys.argv[1]](sys.argv[2], sys.argv[3])
