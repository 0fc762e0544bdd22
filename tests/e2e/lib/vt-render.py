#!/usr/bin/env python3
"""vt-render.py < RAW — the screen a terminal shows after RAW, for the few sequences a
progress display uses: CR, LF, ESC[nA (up), ESC[nB (down), ESC[2K and ESC[K (erase line).
Any other escape sequence is an error (exit 1), so a test sees what it did not expect."""
import re
import sys

data = sys.stdin.buffer.read().decode("utf-8", "replace")
rows, row, col = [[]], 0, 0
i = 0
while i < len(data):
    c = data[i]
    if c == "\x1b":
        m = re.match(r"\x1b\[(\d*)([ABK])", data[i:])
        if not m:
            sys.exit("unexpected escape sequence %r" % data[i:i + 8])
        n = int(m.group(1) or 1)
        if m.group(2) == "A":
            row = max(0, row - n)
        elif m.group(2) == "B":
            row += n
        while len(rows) <= row:
            rows.append([])
        if m.group(2) == "K" and m.group(1) in ("", "0"):
            del rows[row][col:]
        elif m.group(2) == "K":
            rows[row] = []
        i += m.end()
        continue
    if c == "\r":
        col = 0
    elif c == "\n":
        row += 1
        col = 0
        while len(rows) <= row:
            rows.append([])
    else:
        line = rows[row]
        while len(line) < col:
            line.append(" ")
        if col < len(line):
            line[col] = c
        else:
            line.append(c)
        col += 1
    i += 1
print("\n".join("".join(r).rstrip() for r in rows).rstrip("\n"))
