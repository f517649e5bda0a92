#!/usr/bin/env python3
"""Put a benchmark's section into docs/benchmarks.md: replace what stands between the
`<!-- NAME:begin` and `<!-- NAME:end -->` markers, or append the section when they are missing.

    scripts/bench-doc.py NAME DOC SECTION_FILE
"""
import re
import sys

name, doc_path, section_path = sys.argv[1:4]
doc = open(doc_path, encoding="utf-8").read()
section = open(section_path, encoding="utf-8").read().rstrip("\n")
pattern = re.compile(r"<!-- %s:begin.*?<!-- %s:end -->" % (re.escape(name), re.escape(name)), re.S)
doc = pattern.sub(lambda _: section, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + section + "\n"
open(doc_path, "w", encoding="utf-8").write(doc)
