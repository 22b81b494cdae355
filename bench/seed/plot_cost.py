#!/usr/bin/env python3
"""Plots the cost curve from bench/cost.mjs's own JSON: p99 of every API query against the
number of users (one line per query and backend), and the sign-in and refresh rates.

    plot_cost.py target/bench/cost/cost.json target/bench/cost/cost.png

Needs matplotlib (scripts/bench.sh --cost installs it into a venv under target/).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

QUERIES = [
    "users_search_email_sw", "users_search_lastname_eq", "users_filter_status_after", "users_q",
    "users_last_page", "group_users_last_page", "logs_window", "logs_filter", "logs_window_desc",
    "logs_target",
]


def main(src, dst):
    report = json.load(open(src))
    runs = [r for r in report["runs"] if r.get("results")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 6))
    for backend, style in (("sqlite", "-"), ("postgres", "--")):
        rs = sorted((r for r in runs if r["backend"] == backend), key=lambda r: r["users"])
        if not rs:
            continue
        xs = [r["users"] for r in rs]
        for q in QUERIES:
            ys = [r["results"].get(q, {}).get("p99_ms") for r in rs]
            if any(y is not None for y in ys):
                ax1.plot(xs, ys, style, marker="o", label=f"{q} ({backend})")
        for key in ("signin", "refresh"):
            ys = [r["results"].get(key, {}).get("rate") for r in rs]
            ax2.plot(xs, ys, style, marker="o", label=f"{key} ({backend})")
    ax1.axhline(25, color="red", linewidth=0.8, label="target p99 25 ms")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("users")
        ax.grid(True, which="both", alpha=0.3)
    ax1.set_yscale("log")
    ax1.set_ylabel("p99 latency, ms")
    ax1.set_title("Management API queries: p99 vs directory size")
    ax1.legend(fontsize=6, ncol=2)
    ax2.set_ylabel("requests/s")
    ax2.set_title("Sign-in flow and refresh rate vs directory size")
    ax2.legend(fontsize=7)
    title = "Gatehouse cost curve" + (" (smoke: figures mean nothing)" if report.get("smoke") else "")
    fig.suptitle(f"{title}, {report['date'][:10]}")
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print(f"[plot] wrote {dst}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
