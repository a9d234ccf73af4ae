"""A container health check without a shell or curl in the image:
`python -m shared.healthz http://127.0.0.1:8080/healthz` exits 0 when the URL answers 2xx.
(One argument without spaces: some engines split a health command's arguments on them.)"""

import sys
import urllib.request


def main(argv: list[str]) -> int:
    try:
        with urllib.request.urlopen(argv[0], timeout=3) as response:
            return 0 if 200 <= response.status < 300 else 1
    except OSError as exc:
        print(f"{argv[0]}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
