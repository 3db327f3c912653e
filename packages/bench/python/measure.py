"""Runs one command and prints its wall time and peak resident memory as JSON.

Usage: measure.py -- CMD ARGS...  The peak is the child's ru_maxrss (the
largest resident set of the process tree's biggest process: worker threads
count, they share the process), read with getrusage(RUSAGE_CHILDREN) after it
exits. The command's stdout is discarded; its stderr is passed through.
"""
import json
import resource
import subprocess
import sys
import time

if __name__ == "__main__":
    args = sys.argv[sys.argv.index("--") + 1:]
    start = time.perf_counter()
    proc = subprocess.run(args, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"exit": proc.returncode, "seconds": wall, "peakBytes": peak_kib * 1024}))
