#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Plot benchmark result tables (Markdown, as written by scripts/bench).

plot.py hooks RESULT.md OUT.png   overhead per syscall-hook mechanism
plot.py scale RESULT.md OUT.png   guest paths through the module, live trampfds
plot.py macro RESULT.md OUT.png   real programs: hooked / native
plot.py ffi RESULT.md OUT.png     libffi closures on trampfd / stock

Guest results files have a "## Guest instructions" (-icount) and a
"## TCG wall time" section; every guest plot has one panel (or column of
panels) per section, so both metrics are shown side by side.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402


def rows(path):
    """Yield the cells of every Markdown table row that is not a header."""
    for line in open(path):
        if line.startswith("|") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            yield cells


def sections(path):
    """[(title, unit, rows)] per "## " section of a guest results file (one
    for guest instructions under -icount, one for TCG wall time); a file
    without sections is one untitled section in ns."""
    out, cur = [], None
    for line in open(path):
        if line.startswith("## "):
            title = line[3:].split(" (")[0].strip()
            cur = (title, "instructions" if "instruction" in title.lower() else "ns", [])
            out.append(cur)
        elif line.startswith("|") and not line.startswith("| ---"):
            if cur is None:
                cur = ("", "ns", [])
                out.append(cur)
            cur[2].append([c.strip() for c in line.strip().strip("|").split("|")])
    return out


def grid(nrows, ncols, w, h):
    """A figure with an nrows x ncols list of lists of axes."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), squeeze=False)
    return fig, axes


def hooks(src, out):
    """Overhead per mechanism: one row of panels per metric, one column per
    syscall."""
    secs = []
    for title, unit, rs in sections(src):
        data = {}
        bynum = []      # (number, page, library) of the by-number table
        for c in rs:
            if len(c) == 6 and c[0] != "syscall" and not c[1].startswith("native") \
                    and c[4] != "n/a":
                data.setdefault(c[0], []).append((c[1], float(c[4])))
            elif len(c) == 3 and c[0].isdigit():
                val = [float(x.split(" ")[0]) if x != "n/a" else None for x in c[1:]]
                bynum.append((int(c[0]), val[0], val[1]))
        if data:
            secs.append((title, unit, data, bynum))
    ncols = max(len(d) + (1 if b else 0) for _, _, d, b in secs)
    fig, axes = grid(len(secs), ncols, 6.5, 4)
    for row, (title, unit, data, bynum) in zip(axes, secs):
        if bynum:
            ax = row[len(data)]
            for k, label in ((1, "page, hook returns at once"),
                             (2, "libsyscallhook.so, callback answers")):
                pts = [(b[0], b[k]) for b in bynum if b[k] is not None]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
            ax.set_xlabel("syscall number")
            ax.set_ylabel(f"{unit} to reach the hook and return")
            ax.set_ylim(bottom=0)
            ax.set_title(f"{title + ': ' if title else ''}by syscall number", fontsize=10)
            ax.legend(fontsize=8)
        for ax, (syscall, items) in zip(row, data.items()):
            names = [n.split(" (")[0].replace(" + rewritten call", "") for n, _ in items]
            vals = [max(v, 0.1) for _, v in items]  # log axis: clip noise <= 0
            ax.barh(names, vals, color="tab:blue" if unit == "ns" else "tab:green")
            ax.set_xscale("log")
            ax.invert_yaxis()
            ax.set_xlabel(f"overhead per syscall, {unit} (log)")
            ax.set_title(f"{title + ': ' if title else ''}{syscall}", fontsize=10)
            for y, (_, v) in enumerate(items):
                ax.text(max(v, 0.1), y, f" {v:.0f}", va="center")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def scale(src, out):
    """Per metric (column): the single measurements (top) and the cost per
    trampfd against the number of live trampfds (bottom)."""
    secs = sections(src)
    fig, axes = grid(2, len(secs), 7, 4)
    for col, (title, unit, rs) in enumerate(secs):
        bars = [(c[0].split(" (")[0].split(",")[0], float(c[1]))
                for c in rs if len(c) == 4 and not c[0][0].isdigit()
                and c[1].replace(".", "", 1).isdigit()]
        pts = [(int(c[0]), float(c[1])) for c in rs if len(c) == 4 and c[0].isdigit()]
        color = "tab:blue" if unit == "ns" else "tab:green"
        ax = axes[0][col]
        ax.barh([b[0] for b in bars], [b[1] for b in bars], color=color)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.invert_yaxis()
        ax.set_xlabel(f"median, {unit} (log)")
        ax.set_title(title or "paths through the module", fontsize=10)
        for y, (_, v) in enumerate(bars):
            ax.text(v, y, f" {v:.0f}", va="center")
        ax = axes[1][col]
        ax.plot([p[0] for p in pts], [p[1] / 1000 for p in pts], marker="o", color=color)
        ax.set_xscale("log")
        ax.set_xlabel("live trampfds in one process (log)")
        ax.set_ylabel(("µs" if unit == "ns" else "thousand instructions") + " per trampfd")
        ax.set_title("open+configure+map+fault vs. live trampfds", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def macro(src, out):
    """Hooked / native per program, one panel per metric."""
    secs = sections(src)
    fig, axes = grid(1, len(secs), 8, 4.5)
    for ax, (title, unit, rs) in zip(axes[0], secs):
        progs, lazy, eager = [], [], []
        for c in rs:
            if len(c) == 6 and c[3].endswith("x"):
                progs.append(c[0].split(" (")[0])
                lazy.append(float(c[3][:-1]))
                eager.append(float(c[5][:-1]))
        ys = range(len(progs))
        ax.barh([y - 0.2 for y in ys], lazy, height=0.4, label="lazy (SUD, then rewritten)")
        ax.barh([y + 0.2 for y in ys], eager, height=0.4, label="eager (rewritten at load)")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(list(ys), progs)
        ax.invert_yaxis()
        ax.set_xlabel(("guest instructions" if unit != "ns" else "wall time")
                      + " hooked / native (median)")
        ax.set_title(title or "real programs, hooked / native", fontsize=10)
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
