"""Two gatehouse nodes on one PostgreSQL database, and kill -9 faults, as real processes.

    run.py --gatehouse BIN --work DIR --db-prefix PREFIX [--scenario NAME ...] [--list]

Prints one PASS/FAIL line per scenario and ends with `N passed, N failed`; exits 1 on any
failure. Databases are made on 127.0.0.1:5432 as PREFIX_* and dropped at the end; every
server's pid goes to DIR/pids for the calling script's trap. The PostgreSQL restart scenario
stops and starts a throw-away cluster of its own (cluster.py), listed in DIR/pg_clusters for
that trap, never the one on 5432.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from pathlib import Path

import faults
import pg_restart
import scenarios
from deployment import Deployment
from nodes import Databases

TWO_NODE = [
    ("sign-in on A, code redeemed at B, refresh at A", scenarios.sign_in_a_redeem_b_refresh_a),
    ("revoke on B, inactive at A", scenarios.revoke_b_inactive_a),
    ("user deactivated on A, refused at B", scenarios.deactivate_user_a_refused_b),
    ("app created on A, used on B", scenarios.new_app_on_a_used_on_b),
    ("key rotation on A, tokens of each node verify against the other's JWKS", scenarios.key_rotation_cross_jwks),
    ("kill -9 A between the sign-in page and the POST, POST finished on B", faults.kill9_between_form_and_post),
    ("kill -9 under write load, PostgreSQL (two nodes)", faults.kill9_under_load_postgres),
]
# Each on a database (or cluster) of its own: fn(binary, work, pid_file, databases).
OWN_DATABASE = [
    ("kill -9 under write load, SQLite (one node)", lambda b, w, p, _: faults.kill9_under_load_sqlite(b, w, p)),
    ("two nodes started at the same time on an empty database", faults.simultaneous_start),
    (
        "PostgreSQL restart under load, throw-away cluster (initdb): fail fast with 503, recover, keep acknowledged writes",
        lambda b, w, p, _: pg_restart.postgres_restart_under_load(b, w, p),
    ),
]


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gatehouse", required=True)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--db-prefix", required=True)
    parser.add_argument("--scenario", action="append", default=[], help="run only scenarios whose name contains this (see --list)")
    parser.add_argument("--list", action="store_true", help="print the scenario names and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(name for name, _ in TWO_NODE + OWN_DATABASE))
        return 0
    signal.signal(signal.SIGTERM, _terminate)  # so `timeout` still runs the cleanup below

    pid_file = args.work / "pids"
    databases = Databases(args.db_prefix)
    results: list[tuple[str, bool]] = []

    def wanted(name: str) -> bool:
        return not args.scenario or any(s.lower() in name.lower() for s in args.scenario)

    def run(name: str, fn, *fn_args) -> None:
        if not wanted(name):
            return
        start = time.monotonic()
        try:
            detail = fn(*fn_args)
        except AssertionError as exc:
            results.append((name, False))
            print(f"FAIL  {name} ({time.monotonic() - start:.1f}s): {exc}", flush=True)
            return
        except Exception as exc:  # an unexpected error is a failure too, with its trace
            results.append((name, False))
            print(f"FAIL  {name} ({time.monotonic() - start:.1f}s): {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc()
            return
        results.append((name, True))
        print(f"PASS  {name} ({time.monotonic() - start:.1f}s): {detail}", flush=True)

    deployment = None
    try:
        if any(wanted(name) for name, _ in TWO_NODE):
            deployment = Deployment(args.gatehouse, args.work, pid_file, databases)
            try:
                deployment.setup()
            except Exception as exc:
                results.append(("two-node setup", False))
                print(f"FAIL  two-node setup: {type(exc).__name__}: {exc}", flush=True)
                deployment.stop()
                deployment = None
            if deployment is not None:
                for name, fn in TWO_NODE:
                    if wanted(name):
                        try:
                            deployment.ensure_running()
                        except Exception as exc:
                            results.append((name, False))
                            print(f"FAIL  {name}: a node would not restart: {exc}", flush=True)
                            continue
                        run(name, fn, deployment)
                deployment.stop()
        for name, fn in OWN_DATABASE:
            run(name, fn, args.gatehouse, args.work, pid_file, databases)
    finally:
        if deployment is not None:
            deployment.stop()
        databases.drop_all()

    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    if failed:
        print("failed: " + "; ".join(name for name, ok in results if not ok))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
