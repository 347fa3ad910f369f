"""No import circle among the files of shared/src, and the five rooms'
arrows point down (model <- rules <- quota <- store; http above them).

A file depends on another when it names a path into it (`crate::a::b::X`,
`super::X`, `use crate::{a::b, c}`). A folder's mod.rs re-exporting its own
files (`pub use child::X`) is its facade, not a dependency, so it adds no edge.
"""

import re
import unittest
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "shared" / "src"

# Which room may depend on which (a room never on one listed after it).
ROOMS = ["model", "rules", "quota", "store", "http"]


def module_of(path: Path) -> list[str]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return parts


def file_of(module: list[str]) -> Path | None:
    """The file that defines the deepest prefix of `module` that is a file."""
    for n in range(len(module), 0, -1):
        base = SRC.joinpath(*module[:n])
        for candidate in (base.with_suffix(".rs"), base / "mod.rs"):
            if candidate.is_file():
                return candidate
    return None


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def expand_group(prefix: str, body: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> a::b, a::c::d, a::c::e."""
    out, depth, start = [], 0, 0
    items = []
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    for item in items:
        item = item.strip()
        if not item:
            continue
        m = re.match(r"^([\w:]*?)::\{(.*)\}$", item, flags=re.S)
        if m:
            out += expand_group(f"{prefix}::{m.group(1)}", m.group(2))
        else:
            out.append(f"{prefix}::{item.split(' as ')[0].strip()}")
    return out


def paths_in(text: str) -> list[str]:
    paths = []
    for m in re.finditer(r"\b((?:crate|super)(?:::super)*)::\{", text):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        paths += expand_group(m.group(1), text[m.end() : i - 1])
    paths += re.findall(r"\b(?:crate|super)(?:::\w+)+", text)
    return paths


def edges() -> dict[Path, set[Path]]:
    graph: dict[Path, set[Path]] = {}
    for path in sorted(SRC.rglob("*.rs")):
        text = strip_comments(path.read_text())
        here = module_of(path)
        is_facade = path.name in ("mod.rs", "lib.rs")
        targets = set()
        for p in paths_in(text):
            parts = p.split("::")
            if parts[0] == "crate":
                module = parts[1:]
            else:
                # super is the parent of this file's module (a mod.rs is its folder's module).
                base = list(here)
                while parts and parts[0] == "super":
                    base = base[:-1]
                    parts = parts[1:]
                module = base + parts
            target = file_of(module)
            if target and target != path:
                targets.add(target)
        if is_facade:
            # A facade only re-exports; what it names under itself is not a dependency.
            targets = {t for t in targets if not str(t).startswith(str(path.parent) + "/")}
        graph[path] = targets
    return graph


def find_cycle(graph: dict[Path, set[Path]]) -> list[Path] | None:
    state: dict[Path, int] = {}
    stack: list[Path] = []

    def visit(node: Path) -> list[Path] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def room(path: Path) -> str | None:
    first = path.relative_to(SRC).parts[0]
    return first if first in ROOMS else None


class ModuleGraph(unittest.TestCase):
    def test_the_parser_sees_grouped_and_relative_paths(self):
        self.assertEqual(
            paths_in("use crate::{a::b, c::{d, e as f}};"),
            ["crate::a::b", "crate::c::d", "crate::c::e"],
        )
        self.assertIn("super::super::x::Y", paths_in("let y = super::super::x::Y;"))

    def test_a_circle_is_found(self):
        a, b, c = Path("a"), Path("b"), Path("c")
        self.assertEqual(find_cycle({a: {b}, b: {c}, c: {a}}), [a, b, c, a])
        self.assertIsNone(find_cycle({a: {b}, b: {c}, c: set()}))

    def test_no_circle_among_the_files_of_shared_src(self):
        cycle = find_cycle(edges())
        self.assertIsNone(cycle, "import circle: " + " -> ".join(str(p.relative_to(SRC)) for p in cycle or []))

    def test_the_rooms_arrows_point_down(self):
        wrong = []
        for path, targets in edges().items():
            src = room(path)
            for t in targets:
                dst = room(t)
                if src and dst and ROOMS.index(dst) > ROOMS.index(src):
                    wrong.append(f"{path.relative_to(SRC)} -> {t.relative_to(SRC)}")
        self.assertEqual(wrong, [], "a lower room imports a higher one")


if __name__ == "__main__":
    unittest.main()
