# SPDX-License-Identifier: GPL-2.0
# A file-heavy workload for the macro benchmark: create, write, stat, list,
# read back and delete 400 small files, then walk the standard library.
import os
import tempfile

with tempfile.TemporaryDirectory() as d:
    for i in range(400):
        with open(os.path.join(d, "f%03d" % i), "w") as f:
            f.write("x" * (i % 97) + "\n")
    total = 0
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        total += os.stat(p).st_size
        with open(p) as f:
            total -= len(f.read())
        os.unlink(p)
    assert total == 0
n = sum(len(files) for _, _, files in os.walk("/usr/lib/python3.11/json"))
print(n)
