#!/usr/bin/env python3
"""Guard: gatehouse-core's module import graph has no cycle.

Granularity: a node is one source file, named by its module path (`src/provider.rs` is
`provider`, `src/services/system_log.rs` is `services::system_log`, `src/oauth2/mod.rs` is
`oauth2`, `src/lib.rs` is `crate`). Inline `mod x { ... }` blocks belong to their file.

Edges: from a file to every module file it names through a `crate::` path, in `use crate::...`
statements (braces expanded) and in inline `crate::a::b::` paths in code. A path resolves to the
longest prefix that is a module file; when that file is a `mod.rs`/`lib.rs` that re-exports the
next name (`pub use child::Name`), the edge goes on to the file that defines it, so importing
`crate::Provider` is an edge to `provider`. Relative paths (`super::`, `self::`) are not counted:
a parent and its private children form one unit by design. Comments and `#[cfg(test)]`
modules are included (a test that needs a higher module is still a dependency worth seeing).

A strongly connected component with more than one file is a cycle: the script prints its files
and, for each edge inside it, the lines that make it, and exits 1. Exit 0 means no cycle.
Stdlib only; run from anywhere: `python3 scripts/check_module_cycles.py [src-dir]`.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "crates" / "gatehouse-core" / "src"


def module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts == ["lib"]:
        return "crate"
    if parts[-1] == "mod":
        parts = parts[:-1]
    return "::".join(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def expand(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> [`a::b`, `a::c::d`, `a::c::e`]."""
    tree = re.sub(r"\s+", "", tree)
    out: list[str] = []

    def walk(prefix: str, s: str) -> None:
        i = s.find("{")
        if i < 0:
            name = s.split(" as ")[0]
            out.append(prefix + name)
            return
        head, body = s[:i], s[i + 1 : s.rfind("}")]
        depth, start, items = 0, 0, []
        for j, ch in enumerate(body):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(body[start:j])
                start = j + 1
        items.append(body[start:])
        for item in items:
            if item:
                walk(prefix + head, item)

    walk("", tree)
    return out


USE_RE = re.compile(r"\buse\s+(crate::[^;]*);", re.S)
INLINE_RE = re.compile(r"\bcrate((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
REEXPORT_RE = re.compile(r"\bpub\s+use\s+([^;]*);", re.S)


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    files = sorted(root.rglob("*.rs"))
    mods = {module_of(f, root): f for f in files}
    texts = {m: strip_comments(f.read_text()) for m, f in mods.items()}

    # Re-exports from a module file: name -> absolute path it stands for.
    reexports: dict[str, dict[str, str]] = {}
    for m, text in texts.items():
        base = "" if m == "crate" else m + "::"
        table = {}
        for stmt in REEXPORT_RE.findall(text):
            for p in expand(stmt):
                if p.startswith("crate::"):
                    full = p[len("crate::") :]
                elif p.startswith("self::"):
                    full = base + p[len("self::") :]
                elif p.startswith("super::"):
                    continue
                else:
                    full = base + p
                table[full.split("::")[-1]] = full
        reexports[m] = table

    def resolve(path: str, seen: int = 0) -> str | None:
        segs = path.split("::")
        for n in range(len(segs), 0, -1):
            cand = "::".join(segs[:n])
            if cand in mods:
                rest = segs[n:]
                if rest and seen < 8 and rest[0] in reexports.get(cand, {}):
                    target = reexports[cand][rest[0]]
                    return resolve("::".join([target] + rest[1:]), seen + 1) or cand
                return cand
        if segs and seen < 8 and segs[0] in reexports["crate"]:
            target = reexports["crate"][segs[0]]
            return resolve("::".join([target] + segs[1:]), seen + 1)
        return "crate" if path else None

    edges: dict[str, dict[str, list[str]]] = {m: {} for m in mods}
    for m, f in mods.items():
        text = texts[m]
        found: list[tuple[str, str]] = []
        for stmt in USE_RE.findall(text):
            for p in expand(stmt):
                found.append((p[len("crate::") :], "use " + re.sub(r"\s+", " ", stmt) + ";"))
        for mt in INLINE_RE.finditer(USE_RE.sub("", text)):
            p = mt.group(1)[2:]
            line = text[: mt.start()].count("\n")
            found.append((p, "crate::" + p))
        for p, why in found:
            target = resolve(p)
            if target and target != m:
                reasons = edges[m].setdefault(target, [])
                if why not in reasons:
                    reasons.append(why)

    # Tarjan's strongly connected components (iterative, so deep graphs do not recurse).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    sccs: list[list[str]] = []
    counter = 0
    for start in mods:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    sccs.append(sorted(comp))

    total = sum(len(e) for e in edges.values())
    print(f"gatehouse-core: {len(mods)} module files, {total} import edges")
    if not sccs:
        print("no import cycles")
        return 0
    for n, comp in enumerate(sccs, 1):
        members = set(comp)
        print(f"\ncycle {n}: {len(comp)} files")
        for m in comp:
            print(f"  {mods[m].relative_to(root)}")
        print("  edges inside the cycle:")
        for m in comp:
            for target in sorted(edges[m]):
                if target in members:
                    print(f"    {m} -> {target}")
                    for why in edges[m][target][:3]:
                        print(f"        {why}")
    print(f"\n{len(sccs)} cycle(s) found")
    return 1


if __name__ == "__main__":
    sys.exit(main())
