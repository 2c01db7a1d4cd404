#!/usr/bin/env python3
"""One-off: copies the golden request/response frames out of the shared Kafka capture set.

Usage: extract_captures.py CAPTURES_DIR [OUT_DIR]
Reads CAPTURES_DIR/{kcat,kafka-python,kafkajs}.jsonl and writes OUT_DIR (default: this directory)
/<client>.jsonl keeping only the fields the codec tests use. Run once; the output is committed and
the tests never read the shared directory.
"""
import json
import os
import sys

KEEP = ["client", "flow", "conn", "api_key", "api_name", "api_version", "correlation_id",
        "request_hex", "response_hex"]


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    src = argv[1]
    dst = argv[2] if len(argv) == 3 else os.path.dirname(os.path.abspath(__file__))
    for client in ("kcat", "kafka-python", "kafkajs"):
        rows = []
        with open(os.path.join(src, client + ".jsonl"), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    d = json.loads(line)
                    rows.append({k: d[k] for k in KEEP})
        with open(os.path.join(dst, client + ".jsonl"), "w", encoding="utf-8") as f:
            for d in rows:
                f.write(json.dumps(d, separators=(",", ":")) + "\n")
        print("%s: %d frames" % (client, len(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
