"""Extract the sitemap documents of Scrapy's sitemap tests into files, with the ``<loc>`` URLs each test expects.

Scrapy keeps its sitemap cases as byte strings inside ``tests/test_utils_sitemap.py`` (``Sitemap`` itself) and
``tests/test_spider_sitemap.py`` (``SitemapSpider._parse_sitemap``). This reads those two files with ``ast``
(nothing of Scrapy is imported or run) and writes, into the output folder, one ``<module>__<test>.xml`` per test
whose document is a constant, and ``expected.json``: for each file its source test, the URL the test serves it
from, the root Scrapy reports (when asserted) and the URLs of the test's first list assertion, in order.

Tests whose expectation depends on a parameter (``sitemap_rules``, ``sitemap_follow``) or whose document is built
at run time (f-strings for a mock server) are left out, and so are the robots.txt cases (labourwatch does not
read sitemaps from robots.txt); each is named on the output with its reason.

Usage: python tests/corpus/extract_scrapy_sitemaps.py SCRAPY_CHECKOUT OUTPUT_DIR
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

MODULES = ("tests/test_utils_sitemap.py", "tests/test_spider_sitemap.py")
# The URL Sitemap() tests do not name; _parse_sitemap tests name theirs in TextResponse(url=...).
DEFAULT_URL = "http://www.example.com/sitemap.xml"


def _document(function: ast.FunctionDef) -> str | bytes | None:
    """The first constant that is an XML document (or empty, a Scrapy 'invalid sitemap' case)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value if isinstance(node.value, str) else node.value.decode("utf-8", "replace")
            if not text.strip() or text.lstrip().startswith("<"):
                return node.value
    return None


def _response_url(function: ast.FunctionDef) -> str:
    for node in ast.walk(function):
        if isinstance(node, ast.keyword) and node.arg == "url" and isinstance(node.value, ast.Constant):
            return str(node.value.value)
    return DEFAULT_URL


def _expected(function: ast.FunctionDef) -> tuple[list[str], str | None] | None:
    """The URLs of the first ``... == [...]`` assertion (dicts give their "loc") and the asserted ``s.type``;
    an ``assert not results`` first means no URLs."""
    root = None
    for node in ast.walk(function):
        if not isinstance(node, ast.Assert):
            continue
        test = node.test
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return [], root
        if not (isinstance(test, ast.Compare) and all(isinstance(op, ast.Eq) for op in test.ops)):
            continue
        target = test.comparators[-1]
        if isinstance(test.left, ast.Attribute) and test.left.attr == "type" and isinstance(target, ast.Constant):
            root = str(target.value)
        elif isinstance(target, ast.List):
            values = ast.literal_eval(target)
            return [value["loc"] if isinstance(value, dict) else value for value in values], root
    return None


def _why_left_out(function: ast.FunctionDef, document: str | bytes | None) -> str | None:
    source = ast.unparse(function)
    if "sitemap_urls_from_robots" in source or "robots" in function.name:
        return "robots.txt case: labourwatch does not read sitemaps from robots.txt"
    if "Sitemap(" not in source and "_parse_sitemap" not in source:
        return "not a sitemap-parsing test"
    if any(isinstance(d, ast.Call) and "parametrize" in ast.unparse(d.func) for d in function.decorator_list):
        return "expectation is a parameter (spider rules or follow patterns)"
    if document is None:
        return "document built at run time"
    return None


def extract(checkout: Path, output: Path) -> list[str]:
    """Write the files and expected.json; return the names of left-out tests with their reasons."""
    output.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    left_out = []
    for module in MODULES:
        tree = ast.parse((checkout / module).read_text(encoding="utf-8"))
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test")):
            document = _document(function)
            reason = _why_left_out(function, document)
            wanted = None if reason else _expected(function)
            if reason or wanted is None or document is None:
                left_out.append(f"{module}::{function.name}: {reason or 'no list assertion on its URLs'}")
                continue
            name = f"{Path(module).stem}__{function.name}.xml"
            (output / name).write_bytes(document.encode("utf-8") if isinstance(document, str) else document)
            expected[name] = {"source": f"{module}::{function.name}", "url": _response_url(function),
                              "root": wanted[1], "locs": wanted[0]}
    (output / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return left_out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    for line in extract(Path(sys.argv[1]), Path(sys.argv[2])):
        print("left out:", line)
