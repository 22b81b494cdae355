#!/usr/bin/env python3
"""Reads the sink's mails: `mail.py <maildir> <to> <path-prefix> [after-count]` waits (up to 20 s)
for a mail to <to> whose text part has a link containing <path-prefix> (e.g. /welcome/), among
the messages numbered above after-count, and prints `LINK <url>` and `SUBJECT <subject>`.
`mail.py <maildir> count` prints how many mails have arrived."""

import email
import email.policy
import re
import sys
import time
from pathlib import Path


def messages(maildir: Path):
    files = sorted(maildir.glob("*.eml"), key=lambda p: int(p.stem))
    for f in files:
        yield int(f.stem), email.message_from_bytes(f.read_bytes(), policy=email.policy.default)


def main() -> int:
    maildir = Path(sys.argv[1])
    if sys.argv[2] == "count":
        print(len(list(maildir.glob("*.eml"))))
        return 0
    to, prefix = sys.argv[2], sys.argv[3]
    after = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    deadline = time.time() + 20
    while time.time() < deadline:
        for n, msg in messages(maildir):
            if n <= after or to not in str(msg["To"]):
                continue
            text = msg.get_body(preferencelist=("plain",)).get_content()
            html = msg.get_body(preferencelist=("html",)).get_content()
            links = re.findall(r"https?://\S+", text)
            link = next((u for u in links if prefix in u), None)
            if link and link in html:
                print(f"LINK {link}")
                print(f"SUBJECT {msg['Subject']}")
                print(f"NUMBER {n}")
                return 0
        time.sleep(0.2)
    print(f"FAIL no mail to {to} with a {prefix} link")
    return 1


if __name__ == "__main__":
    sys.exit(main())
