# SPDX-License-Identifier: GPL-2.0
"""Compare libsyscallhook.so's counter (SYSCALLHOOK=count) with strace -f.

    countcmp.py [--expect NR=N ...] [--threads] -- CMD [ARG...]

Runs CMD once, under `strace -f -n` and with the library preloaded, and
compares, per syscall number, the sum of the tables that every hooked
process prints at exit_group with what strace saw the same processes do in
the same run. Exit status 0 when they are equal (see below), 1 otherwise.

The method (so that the comparison is exact, not approximate):

* A process image is counted from the library's init on: the line where it
  switches Syscall User Dispatch on (prctl(PR_SET_SYSCALL_USER_DISPATCH));
  what the dynamic loader and earlier constructors do is before it, on both
  sides. `env`, which execs the program, never has the library loaded.
* The counter lives in process memory, and the model follows that memory:
  a thread or a CLONE_VM child (vfork, posix_spawn) adds to its parent's
  table; a fork child starts with a copy of its parent's table (the fork
  itself included: the hook counts before it calls the kernel); a successful
  execve starts a new, empty, not yet initialised image (the execve itself is
  counted in the old one). A table is printed when a thread of the process
  that owns the image (the one that exec'd or forked it) calls exit_group; a
  vfork child that exits without exec leaves the table to its parent;
  images replaced by execve never print, and neither are they summed here.
* The library's own raw syscalls are visible to strace but are not hooked
  calls: those made by the SIGSYS handler (between the `--- SIGSYS` line and
  its rt_sigreturn on that thread; the library makes a refused site's call
  after the rt_sigreturn, an ordinary counted call, but an older one
  emulated it in the handler: the last one before rt_sigreturn, with the
  trapped number, counted),
  whether that last call was the emulation (and not the library's own) is
  told by rt_sigreturn's value: the trapped number when the handler left
  the site to be re-executed, the call's result when it emulated it; when
  the result happens to equal the number, the next call of the thread
  decides (the re-executed site makes the same call again),
  the counter's own output (a write whose text starts with "syscallhook"),
  and whatever it does to arm new threads. For the last kind there is no
  marker, so the syscalls in OWN below (memory, signal and prctl plumbing,
  getpid/gettid, and the int3 protocol's membarrier and sched_yield) are
  printed but not compared; every other number must match
  exactly, and the --expect numbers must be present with exactly N calls.
  --threads also requires that the program created a thread (CLONE_THREAD).
* A syscall the kernel restarts is counted once, as the hook counts it: a
  `? ERESTARTSYS/NOINTR/NOHAND` line is counted only when the signal's
  handler returns with EINTR (rt_sigreturn = -1: not restarted); otherwise
  the restarted call is the one counted. An `ERESTART_RESTARTBLOCK` line is
  counted and the kernel's restart_syscall is not.

The comparison prints one line per syscall number that differs, and a summary.
"""
import os
import re
import subprocess
import sys
from collections import Counter

LIB = os.environ.get("HOOKLIB", "/t/libsyscallhook.so")
# Syscalls the library may make for itself, outside any marker: not compared.
OWN = {
    9: "mmap", 10: "mprotect", 11: "munmap", 13: "rt_sigaction",
    14: "rt_sigprocmask", 15: "rt_sigreturn", 28: "madvise", 39: "getpid",
    72: "fcntl", 131: "sigaltstack", 157: "prctl", 158: "arch_prctl",
    186: "gettid", 219: "restart_syscall", 234: "tgkill",
    # The int3 protocol (xmc.rs): membarrier registration and syncs, and
    # the sched_yield of a SIGTRAP handler waiting for a patch to end.
    24: "sched_yield", 324: "membarrier",
}
NR_EXECVE, NR_EXIT_GROUP, NR_RT_SIGRETURN = 59, 231, 15
CLONES = {56, 57, 58, 435}     # clone, fork, vfork, clone3

LINE = re.compile(r"^(\d+) +(.*)$")
CALL = re.compile(r"^\[ *(\d+)\] (\w+)\(")
RESUMED = re.compile(r"^\[ *(\d+)\] <\.\.\. (\w+) resumed>")
RESULT = re.compile(r"= (-?\d+|\?)[^=]*$")


def parse(path):
    """Yields (tid, nr, text, result) per syscall, with unfinished calls
    joined to their resumption (at the position of their start), and
    ('sig', tid, text) for signal lines."""
    events = []
    pending = {}
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            tid, rest = int(m.group(1)), m.group(2)
            if re.match(r"^(\[ *\d+\] )?---", rest):
                events.append(["sig", tid, rest])
                continue
            r = RESUMED.match(rest)
            if r:
                ev = pending.pop(tid, None)
                if ev is not None:
                    ev[2] += rest
                    res = RESULT.search(rest)
                    ev[3] = res.group(1) if res else "?"
                continue
            c = CALL.match(rest)
            if not c:
                continue
            ev = ["call", tid, rest, None, int(c.group(1))]
            if rest.endswith("<unfinished ...>"):
                pending[tid] = ev
            else:
                res = RESULT.search(rest)
                ev[3] = res.group(1) if res else "?"
            events.append(ev)
    return events


class Image:
    """One process image: whether the library is initialised, its table."""

    def __init__(self, owner, live=False, counts=None):
        self.owner = owner          # the thread group that prints the table
        self.live = live
        self.counts = counts if counts is not None else Counter()


def link_next(events):
    """Appends to every call event the next call event of the same thread
    (or None)."""
    nxt = {}
    for ev in reversed(events):
        if ev[0] == "call":
            ev.append(nxt.get(ev[1]))
            nxt[ev[1]] = ev
    return events


def exec_image(image, tgid, tid):
    """A successful execve: the other threads of the group are gone, the
    thread runs a new image (a vfork parent keeps the old one)."""
    for t in [t for t in image if t != tid and tgid.get(t) == tgid[tid]]:
        del image[t]
    image[tid] = Image(tgid[tid])


def model(events):
    """Replays the trace; returns the sum of the tables printed at exit_group
    and a list of notes."""
    image = {}          # tid -> Image (threads and CLONE_VM children share)
    tgid = {}           # tid -> thread group
    in_sigsys = {}      # tid -> [trapped nr, last call in the handler or None]
    restart = {}        # tid -> [nr of an ERESTART* call, handler seen, image]
    printed = Counter()
    notes = []
    tables = 0
    for ev in events:
        tid = ev[1]
        tgid.setdefault(tid, tid)
        img = image.setdefault(tid, Image(tgid[tid]))
        if ev[0] == "sig":
            if tid in restart:
                restart[tid][1] = True      # a handler runs before the restart
            if "SIGSYS" in ev[2] and "SYS_USER_DISPATCH" in ev[2]:
                nr = re.search(r"si_syscall=(\S+?),", ev[2])
                in_sigsys[tid] = [nr.group(1) if nr else None, None]
            continue
        text, result, nr = ev[2], ev[3], ev[4]
        if tid in restart:
            if nr == NR_RT_SIGRETURN and restart[tid][1] and tid not in in_sigsys:
                if result == "-1" and restart[tid][2].live:
                    restart[tid][2].counts[restart[tid][0]] += 1   # EINTR: not restarted
                del restart[tid]
            elif not restart[tid][1]:
                del restart[tid]            # restarted with no handler in between
        if tid in in_sigsys:
            win = in_sigsys[tid]
            if nr == NR_RT_SIGRETURN:
                last = win[1]
                del in_sigsys[tid]
                if last is not None and img.live and last[0] not in OWN and \
                        (win[0] is None or win[0].endswith("_" + last[1])):
                    again = ev[5] is not None and ev[5][4] == last[0]
                    if result != str(last[0]) or not again:
                        img.counts[last[0]] += 1    # emulated in the handler
            else:
                name = CALL.match(text).group(2)
                win[1] = (nr, name)
            continue
        if not img.live:
            if nr == 157 and ("PR_SET_SYSCALL_USER_DISPATCH" in text or "0x3b" in text):
                img.live = True
            elif nr in CLONES and result not in (None, "?") and int(result) > 0:
                child = int(result)
                image[child] = img if "CLONE_VM" in text or nr == 58 else Image(child)
                tgid[child] = tgid[tid] if "CLONE_THREAD" in text else child
            elif nr == NR_EXECVE and result == "0":
                exec_image(image, tgid, tid)
            continue
        if nr == 1 and '"syscallhook' in text:
            continue                    # the counter's own output
        if nr == 219:
            continue                    # restart_syscall: the kernel's
        if result == "?" and re.search(r"= \? ERESTART(SYS|NOINTR|NOHAND)", text):
            restart[tid] = [nr, False, img]
            notes.append("interrupted: " + text[-60:])
            continue
        img.counts[nr] += 1
        if nr in CLONES and result not in (None, "?") and int(result) > 0:
            child = int(result)
            if "CLONE_VM" in text or nr == 58:
                image[child] = img      # shares the counters' memory
            else:
                image[child] = Image(child, True, Counter(img.counts))
            tgid[child] = tgid[tid] if "CLONE_THREAD" in text else child
        elif nr == NR_EXECVE and result == "0":
            exec_image(image, tgid, tid)
        elif nr == NR_EXIT_GROUP and tgid[tid] == img.owner:
            printed.update(img.counts)
            tables += 1
    return printed, tables, notes


def hook_tables(path):
    counts = Counter()
    tables = 0
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("syscallhook"):
                continue
            if "syscall counts" in line:
                tables += 1
                continue
            m = re.match(r"^syscallhook\S*\s+(\d+)\s+(\d+)\s*$", line)
            if m:
                counts[int(m.group(1))] += int(m.group(2))
    return counts, tables


def main():
    args = sys.argv[1:]
    expect = {}
    need_threads = False
    while args and args[0] != "--":
        if args[0] == "--threads":
            need_threads = True
            args = args[1:]
        elif args[0] == "--expect":
            nr, n = args[1].split("=")
            expect[int(nr)] = int(n)
            args = args[2:]
        else:
            sys.exit("usage: countcmp.py [--expect NR=N ...] [--threads] -- CMD [ARG...]")
    cmd = args[1:]
    trace, err = "/tmp/countcmp.strace", "/tmp/countcmp.err"
    with open(err, "w") as e, open("/dev/null", "w") as null:
        rc = subprocess.call(["/usr/bin/strace", "-f", "-n", "-qq", "-s", "24",
                              "-o", trace, "/usr/bin/env", "LD_PRELOAD=" + LIB,
                              "SYSCALLHOOK=count"] + cmd, stdout=null, stderr=e)
    if rc != 0:
        print("command exited %d" % rc)
        return 1
    hook, htables = hook_tables(err)
    events = link_next(parse(trace))
    ref, stables, notes = model(events)
    for n in notes[:5]:
        print("note:", n)
    threads = sum(1 for e in events if e[0] == "call" and e[4] in (56, 435)
                  and "CLONE_THREAD" in e[2])
    print("threads created: %d" % threads)
    bad = 0
    if htables != stables:
        print("tables printed: hook %d, exit_group calls of hooked images %d" % (htables, stables))
        bad += 1
    for nr in sorted(set(hook) | set(ref)):
        h, s = hook.get(nr, 0), ref.get(nr, 0)
        if nr in OWN:
            if h != s:
                print("not compared (the library's own too): %3d %-16s hook %6d strace %6d" %
                      (nr, OWN[nr], h, s))
            continue
        if h != s:
            print("DIFFERS: syscall %3d: hook %6d strace %6d" % (nr, h, s))
            bad += 1
    for nr, n in sorted(expect.items()):
        if hook.get(nr, 0) != n or ref.get(nr, 0) != n:
            print("expected %d calls of %d: hook %d strace %d" %
                  (n, nr, hook.get(nr, 0), ref.get(nr, 0)))
            bad += 1
    if need_threads and not threads:
        print("the program created no thread")
        bad += 1
    compared = sum(v for k, v in ref.items() if k not in OWN)
    print("%d tables; %d syscall numbers, %d calls compared; %d differences" %
          (htables, len([k for k in ref if k not in OWN]), compared, bad))
    if compared == 0:
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
