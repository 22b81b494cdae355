#!/usr/bin/env python3
"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives as a file.

  smtp_sink.py <maildir>    listens on 127.0.0.1:<free port>, prints "PORT <n>" once ready,
                            writes each message to <maildir>/<n>.eml, runs until killed.
"""

import asyncio
import itertools
import socket
import sys
from pathlib import Path

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, maildir: Path):
        self.maildir = maildir
        self.count = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        n = next(self.count)
        tmp = self.maildir / f".{n}.tmp"
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.maildir / f"{n}.eml")  # whole files only
        return "250 Message accepted for delivery"


def main() -> None:
    maildir = Path(sys.argv[1])
    maildir.mkdir(parents=True, exist_ok=True)
    # aiosmtpd cannot listen on port 0 (its start-up check connects to the port): take a free one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Keep(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"PORT {port}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
