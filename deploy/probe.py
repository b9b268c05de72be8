"""Container health check: exit 0 when URL answers 2xx (compose.yaml's `healthcheck`).

    python deploy/probe.py URL [--host NAME] [--bearer-file PATH]

Standard library only: it runs in the image as it is, with no shell tools assumed.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--host", help="Host header (one of ALLOWED_HOSTS)")
    parser.add_argument("--bearer-file", help="a file holding a bearer token to send")
    args = parser.parse_args(argv)
    request = urllib.request.Request(args.url)
    if args.host:
        request.add_header("Host", args.host)
    if args.bearer_file:
        with open(args.bearer_file) as secret:
            request.add_header("Authorization", f"Bearer {secret.read().strip()}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if 200 <= response.status < 300 else 1
    except OSError as exc:  # URLError, HTTPError (non-2xx), refused, timed out
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
