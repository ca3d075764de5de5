# SPDX-License-Identifier: GPL-2.0
"""A Python callback called from C: libc qsort with a Python comparator.

Every ctypes callback is a libffi closure, which needs a few bytes of
executable code made at run time.  Stock libffi gets them from writable +
executable memory (or a file mapped twice); under a W^X lockdown it cannot,
and ctypes raises MemoryError.  With LD_PRELOAD=libtrampfd-ffi.so the
closure's code is a kernel-made trampoline on a /dev/trampfd page.
"""
import ctypes
import os
import sys

libc = ctypes.CDLL("libc.so.6")
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                       ctypes.POINTER(ctypes.c_int))

preload = os.environ.get("LD_PRELOAD", "") or "none (stock libffi)"
print("  LD_PRELOAD: %s" % preload)
try:
    cmp = CMP(lambda a, b: (a[0] > b[0]) - (a[0] < b[0]))
except MemoryError:
    print("  CFUNCTYPE(...)(lambda) -> MemoryError: libffi found no executable memory")
    sys.exit(1)
vals = (ctypes.c_int * 8)(42, 7, 19, -3, 88, 0, 15, 4)
libc.qsort(vals, len(vals), ctypes.sizeof(ctypes.c_int), cmp)
print("  qsort with a Python comparator at %#x: %s"
      % (ctypes.cast(cmp, ctypes.c_void_p).value, list(vals)))
try:
    with open("/proc/self/maps") as f:
        maps = [ln.split()[-1] for ln in f if ln.split()[1][2] == "x"]
    print("  /dev/trampfd mapped: %s" % ("/dev/trampfd" in maps))
except OSError:
    print("  (/proc is not mounted here)")
