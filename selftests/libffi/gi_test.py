# SPDX-License-Identifier: GPL-2.0
"""PyGObject (python3-gi) callbacks into C: libffi closures made by
gobject-introspection (g_callable_info_prepare_closure, which Debian 12's
PyGObject 3.42 calls and GI 1.74 serves from g_callable_info_create_closure).
TAP output, one behaviour per test.

    python3 gi_test.py [--mode=trampfd|stock]

Every test passes a Python function to a C function that takes a callback
(GCompareDataFunc, GSourceFunc, GAsyncReadyCallback) and checks
that the callback ran and the C function's result is right.  Where /proc is
mounted, --mode=trampfd checks that no closure is on writable+executable
memory and that /dev/trampfd got mapped by the callbacks (so the closures
came from the drop-in); --mode=stock that stock libffi's RWX mapping is
there.  Locked down (no /proc), stock libffi has no executable memory: the
first callback fails (GI: "could not allocate closure", and PyGObject
passes NULL on), the other tests are not run (their main loops would never
quit), exit status 3.  An alarm ends a run that hangs anyway (SIGALRM).
"""
import os
import signal
import sys

MODE = "any"
for _a in sys.argv[1:]:
    if _a.startswith("--mode="):
        MODE = _a[len("--mode="):]

import gi  # noqa: E402

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib, GObject  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def maps():
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            yield parts[1], parts[5].strip() if len(parts) > 5 else "", line.strip()


def trampfd_mapped():
    return any(path == "/dev/trampfd" for _, path, _ in maps())


class Item(GObject.Object):
    value = GObject.Property(type=int)


def store_values(store):
    return [store.get_item(i).props.value for i in range(store.get_n_items())]


BEFORE = None
if os.path.exists("/proc/self/maps"):
    BEFORE = trampfd_mapped()


@test
def list_store_sort():
    """Gio.ListStore.sort: 300 items through a Python GCompareDataFunc"""
    store = Gio.ListStore.new(Item)
    vals = [(i * 7919) % 1009 for i in range(300)]
    for v in vals:
        store.append(Item(value=v))
    calls = [0]

    def cmp(a, b, *data):
        calls[0] += 1
        return (a.props.value > b.props.value) - (a.props.value < b.props.value)

    store.sort(cmp)
    assert store_values(store) == sorted(vals), store_values(store)[:10]
    assert calls[0] >= 299, calls[0]


@test
def list_store_insert_sorted():
    """Gio.ListStore.insert_sorted: 100 inserts, one closure each, descending"""
    store = Gio.ListStore.new(Item)
    vals = [(i * 37) % 101 for i in range(100)]
    for v in vals:
        store.insert_sorted(Item(value=v),
                            lambda a, b, *d: (b.props.value > a.props.value)
                            - (b.props.value < a.props.value))
    assert store_values(store) == sorted(vals, reverse=True)


@test
def idle_and_timeout_sources():
    """GLib.idle_add (200 sources) and GLib.timeout_add run in a MainLoop"""
    loop = GLib.MainLoop()
    seen = []

    def idle(n):
        seen.append(n)
        return GLib.SOURCE_REMOVE

    for n in range(200):
        GLib.idle_add(idle, n)

    def done():
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.timeout_add(50, done)
    GLib.timeout_add(5000, lambda: loop.quit() or GLib.SOURCE_REMOVE)
    loop.run()
    assert seen == list(range(200)), seen[:10]


@test
def repeating_source():
    """a GSourceFunc returning SOURCE_CONTINUE is called again, 50 times"""
    loop = GLib.MainLoop()
    count = [0]

    def tick():
        count[0] += 1
        if count[0] == 50:
            loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    GLib.idle_add(tick)
    GLib.timeout_add(5000, lambda: loop.quit() or GLib.SOURCE_REMOVE)
    loop.run()
    assert count[0] == 50, count[0]


@test
def gio_async_callback():
    """Gio.File.load_contents_async: the GAsyncReadyCallback gets the file"""
    loop = GLib.MainLoop()
    got = []
    path = os.path.abspath(__file__)

    def ready(f, res, *data):
        ok, contents, _etag = f.load_contents_finish(res)
        got.append((ok, contents))
        loop.quit()

    Gio.File.new_for_path(path).load_contents_async(None, ready)
    GLib.timeout_add(10000, lambda: loop.quit() or GLib.SOURCE_REMOVE)
    loop.run()
    with open(path, "rb") as f:
        want = f.read()
    assert got and got[0][0] and got[0][1] == want, got[:1]


@test
def maps_closures_from_trampfd():
    """/proc/self/maps: no RWX; /dev/trampfd mapped by the callbacks (--stock: RWX)"""
    if BEFORE is None:
        return "SKIP /proc is not mounted"
    rwx = [ln for p, _, ln in maps() if "w" in p and "x" in p]
    if MODE == "stock":
        assert rwx, "stock libffi made no RWX mapping"
        return "stock libffi: %d RWX mapping(s)" % len(rwx)
    assert not rwx, rwx
    if MODE == "trampfd":
        assert not BEFORE, "/dev/trampfd was mapped before the first callback"
        assert trampfd_mapped(), "no /dev/trampfd mapping"


def main():
    signal.alarm(600)
    print("1..%d" % len(TESTS))
    failed = 0
    for n, fn in enumerate(TESTS, 1):
        try:
            r = fn()
        except Exception as e:  # noqa: BLE001 - a failing test
            failed += 1
            print("not ok %d %s # %s: %s" % (n, fn.__name__, type(e).__name__, str(e)[:300]))
            if n == 1:
                # No closure: the main loop tests would wait forever.
                for m in range(2, len(TESTS) + 1):
                    print("not ok %d %s # not run" % (m, TESTS[m - 1].__name__))
                sys.stdout.flush()
                sys.exit(3)
        else:
            print("ok %d %s%s" % (n, fn.__name__, " # " + r if isinstance(r, str) else ""))
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
