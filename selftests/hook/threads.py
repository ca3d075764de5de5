# SPDX-License-Identifier: GPL-2.0
# A small multi-threaded, file-using Python program with deterministic output.
import hashlib
import json
import os
import subprocess
import tempfile
import threading

results = {}


def work(n):
    h = hashlib.sha256()
    for i in range(200):
        h.update(f"{n}:{i}".encode())
    with tempfile.NamedTemporaryFile("w+", delete=True) as f:
        f.write(h.hexdigest())
        f.flush()
        f.seek(0)
        results[n] = f.read()[:16]


threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(results, sort_keys=True))
print(sorted(os.listdir("/t"))[:3])
# stdout only: the child's stderr (where a hooked child prints its counter
# table) stays this process's stderr.
child = subprocess.run(["/usr/bin/echo", "from a child"], stdout=subprocess.PIPE, text=True)
print(child.stdout.strip(), child.returncode)
