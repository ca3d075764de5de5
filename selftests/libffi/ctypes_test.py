# SPDX-License-Identifier: GPL-2.0
"""Python ctypes callbacks (libffi closures), TAP output, one behaviour per test.

    python3 ctypes_test.py [--mode=trampfd|stock]

Run with LD_PRELOAD=libtrampfd-ffi.so the closures live on /dev/trampfd
pages; --mode=trampfd then also checks (where /proc is mounted) that
/dev/trampfd is mapped.  --mode=stock (no preload, stock libffi) checks
instead that the closures are on an anonymous RWX mapping, which is what
stock libffi does whenever it may.  Exits 0 if every test passed, 1 otherwise; a
MemoryError from the first callback (stock libffi in the locked-down
process) ends the run early with "not ok" and exit status 3.
"""
import ctypes
import gc
import os
import sys
import threading

TESTS = []
MODE = "any"
for _a in sys.argv[1:]:
    if _a.startswith("--mode="):
        MODE = _a[len("--mode="):]


def test(fn):
    TESTS.append(fn)
    return fn


libc = ctypes.CDLL("libc.so.6")
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                       ctypes.POINTER(ctypes.c_int))
libc.qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, CMP]
libc.qsort.restype = None


def qsort_ints(values, cmp):
    arr = (ctypes.c_int * len(values))(*values)
    libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), cmp)
    return list(arr)


@test
def first_callback():
    """a callback can be created and called (MemoryError if no exec memory)"""
    f = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
    assert f(41) == 42


@test
def qsort_python_comparator():
    """libc qsort sorts 2000 ints through a Python comparator"""
    calls = [0]

    def cmp(a, b):
        calls[0] += 1
        return (a[0] > b[0]) - (a[0] < b[0])

    vals = [(i * 7919) % 2003 - 1000 for i in range(2000)]
    assert qsort_ints(vals, CMP(cmp)) == sorted(vals)
    assert calls[0] > 2000, calls[0]


@test
def qsort_descending_bound_state():
    """two comparators alive at once keep their own state"""
    def make(sign):
        return CMP(lambda a, b: sign * ((a[0] > b[0]) - (a[0] < b[0])))

    up, down = make(1), make(-1)
    vals = [5, 3, 9, 1, 7, 2]
    assert qsort_ints(vals, down) == sorted(vals, reverse=True)
    assert qsort_ints(vals, up) == sorted(vals)


@test
def many_live_callbacks():
    """500 live callbacks, distinct addresses, each called and checked"""
    T = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long)
    cbs = [T(lambda x, i=i: x * 1000 + i) for i in range(500)]
    addrs = {ctypes.cast(c, ctypes.c_void_p).value for c in cbs}
    assert len(addrs) == 500
    for rnd in range(2):
        for i, c in enumerate(cbs):
            assert c(rnd + 1) == (rnd + 1) * 1000 + i, (i, c(rnd + 1))
    # Called through a fresh function pointer made from the raw address.
    for i in (0, 123, 499):
        raw = T(ctypes.cast(cbs[i], ctypes.c_void_p).value)
        assert raw(7) == 7000 + i


@test
def callbacks_freed_and_reused():
    """5000 callbacks created, called and freed in turn"""
    T = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    for i in range(5000):
        c = T(lambda x, i=i: x ^ i)
        assert c(0x5555) == 0x5555 ^ i
        del c
    gc.collect()


@test
def threads_create_call_free():
    """8 threads create, call (direct and via qsort) and free callbacks"""
    T = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
    errors = []

    def worker(t):
        try:
            for i in range(300):
                c = T(lambda a, b, k=t * 1000 + i: a * b + k)
                got = c(i, 3)
                if got != i * 3 + t * 1000 + i:
                    errors.append((t, i, got))
                if i % 50 == 0:
                    vals = [(j * 31 + t) % 97 for j in range(64)]
                    cmp = CMP(lambda a, b: (a[0] > b[0]) - (a[0] < b[0]))
                    if qsort_ints(vals, cmp) != sorted(vals):
                        errors.append((t, i, "qsort"))
                del c
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((t, repr(e)))

    ths = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    assert not errors, errors[:5]


@test
def double_arguments():
    """a callback takes 10 doubles and an int and returns a double"""
    D = ctypes.c_double
    T = ctypes.CFUNCTYPE(D, D, D, D, D, D, D, D, D, D, D, ctypes.c_int)

    def f(*a):
        return sum(x * (i + 1) for i, x in enumerate(a[:10])) + a[10]

    c = T(f)
    args = [0.5 * i - 1.25 for i in range(10)]
    want = sum(x * (i + 1) for i, x in enumerate(args)) + 3
    assert abs(c(*args, 3) - want) < 1e-9, (c(*args, 3), want)


class Small(ctypes.Structure):
    _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_double)]


class Big(ctypes.Structure):
    _fields_ = [("x", ctypes.c_long * 4), ("d", ctypes.c_double)]


@test
def struct_arguments():
    """structs by value into a callback (in registers and in memory)"""
    T = ctypes.CFUNCTYPE(ctypes.c_double, Small, Big, ctypes.c_float,
                         ctypes.POINTER(Small))

    def f(s, b, fl, out):
        out[0].a = s.a + sum(b.x)
        out[0].b = s.b * b.d + fl
        return s.b + b.d + fl

    c = T(f)
    out = Small()
    r = c(Small(3, 1.5), Big((ctypes.c_long * 4)(10, 20, 30, 40), 2.0), 0.25,
          ctypes.byref(out))
    assert abs(r - 3.75) < 1e-9, r
    assert out.a == 103 and abs(out.b - 3.25) < 1e-9, (out.a, out.b)


@test
def callback_into_callback():
    """a callback that calls another callback through a function pointer"""
    T = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    inner = T(lambda x: x * 2)
    P = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, T)
    outer = P(lambda x, f: f(x) + 1)
    assert outer(20, inner) == 41


def exec_mappings():
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            perms = parts[1]
            path = parts[5].strip() if len(parts) > 5 else ""
            yield perms, path, line.strip()


def allowed_exec(path):
    preload = [p for p in os.environ.get("LD_PRELOAD", "").replace(":", " ").split() if p]
    if path in ("[vdso]", "[vsyscall]", "/dev/trampfd"):
        return True
    if path in preload or any(os.path.realpath(p) == path for p in preload):
        return True
    if "(deleted)" in path or path.startswith(("/memfd:", "/tmp", "/var/tmp",
                                               "/dev/shm", "/run")):
        return False
    return path.startswith(("/usr/", "/lib/", "/lib64/"))


def maps_rwx():
    return [ln for p, _, ln in exec_mappings() if "w" in p and "x" in p]


@test
def maps_writable_exec():
    """/proc/self/maps: no writable+exec mapping (--stock: stock libffi's RWX is there)"""
    if not os.path.exists("/proc/self/maps"):
        return "SKIP /proc is not mounted"
    if MODE == "stock":
        # What trampfd removes: stock libffi's closures on an RWX mapping.
        assert maps_rwx(), "stock libffi made no RWX mapping"
        return "stock libffi: %d RWX mapping(s), as expected" % len(maps_rwx())
    assert not maps_rwx(), maps_rwx()


@test
def maps_exec_only_files_vdso_trampfd():
    """/proc/self/maps: every exec mapping is /usr or /lib, [vdso] or /dev/trampfd"""
    if not os.path.exists("/proc/self/maps"):
        return "SKIP /proc is not mounted"
    bad = [ln for p, path, ln in exec_mappings()
           if "x" in p and not allowed_exec(path)
           and not (MODE == "stock" and "w" in p and not path)]
    assert not bad, bad
    if MODE == "trampfd":
        assert any(path == "/dev/trampfd" for _, path, _ in exec_mappings()), \
            "no /dev/trampfd mapping"


def main():
    print("1..%d" % len(TESTS))
    failed = 0
    for n, fn in enumerate(TESTS, 1):
        name = fn.__name__
        try:
            r = fn()
        except MemoryError:
            print("not ok %d %s # MemoryError" % (n, name))
            for m in range(n + 1, len(TESTS) + 1):
                print("not ok %d %s # not run" % (m, TESTS[m - 1].__name__))
            sys.stdout.flush()
            sys.exit(3)
        except Exception as e:  # noqa: BLE001 - a failing test
            failed += 1
            print("not ok %d %s # %s: %s" % (n, name, type(e).__name__, str(e)[:300]))
        else:
            if isinstance(r, str):
                print("ok %d %s # %s" % (n, name, r))
            else:
                print("ok %d %s" % (n, name))
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
