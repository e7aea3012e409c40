#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write nodeprep-varlink(7) in scdoc from the interface description nodeprepd serves
(daemon/io.nodeprep.varlink): every method, error and type with its comments, and the whole
description verbatim. Usage: varlink-man.py INTERFACE.varlink OUTPUT.scd"""
import re
import sys


def parse(text):
    """Yield (kind, name, comment, fields_in, fields_out) for each member."""
    lines = text.splitlines()
    comment = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if line.startswith("#"):
            comment.append(line[1:].strip())
            continue
        if not line.strip():
            comment = []
            continue
        m = re.match(r"(method|error|type|interface)\s+([\w.]+)\s*(.*)$", line)
        if not m:
            continue
        kind, name, rest = m.groups()
        if kind == "interface":
            comment = []
            continue
        body = rest
        depth = body.count("(") - body.count(")")
        while depth > 0 and i < len(lines):
            body += "\n" + lines[i]
            depth += lines[i].count("(") - lines[i].count(")")
            i += 1
        # ") -> (" keeps the depth above zero, so the loop reads a method's return block too.
        parts = body.split("->")
        fin = fields(parts[0])
        fout = fields(parts[1]) if len(parts) > 1 else []
        yield kind, name, " ".join(comment), fin, fout
        comment = []


def fields(block):
    """[(name, type, comment)] of a ( ... ) block with "# comment" lines before each field."""
    out = []
    comment = []
    for raw in block.splitlines():
        s = raw.strip().rstrip(",")
        if s.startswith("#"):
            comment.append(s[1:].strip())
            continue
        m = re.match(r"\(?\s*(\w+)\s*:\s*(.+?)\s*\)?\s*$", s)
        if m:
            out.append((m.group(1), m.group(2).rstrip(",").strip(), " ".join(comment)))
            comment = []
    return out


def esc(s):
    return s.replace("*", "\\*").replace("_", "\\_")


def main():
    src, dst = sys.argv[1], sys.argv[2]
    text = open(src).read()
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[1:].strip())
    members = list(parse(text))
    out = []
    w = out.append
    w("nodeprep-varlink(7)\n\n# NAME\n\nnodeprep-varlink - the io.nodeprep Varlink interface of "
      "nodeprepd\n\n# DESCRIPTION\n")
    w(esc(" ".join(header)) + "\n\n")
    w("nodeprepd listens on _/run/nodeprep/io.nodeprep_ (socket-activated by *nodeprep.socket*) "
      "and speaks Varlink: one JSON object per message, each ended by a NUL byte; a call is "
      "*{\"method\": \"io.nodeprep.GetReport\", \"parameters\": {...}}*, with *\"more\": true* "
      "for streams (Watch) and *\"oneway\": true* when no answer is wanted; replies carry "
      "*\"parameters\"*, *\"continues\": true* while a stream goes on, or *\"error\"*. Replies "
      "come in call order. The standard *org.varlink.service* interface (*GetInfo*, "
      "*GetInterfaceDescription*) lets generic clients introspect the interface; "
      "*nodeprepctl call* makes raw calls.\n\n")
    w("Read-only methods are open to every local user. Methods that change the host (*Reload*, "
      "*Plan*, *Apply*, *Rollback*) need the caller to be root (checked with SO\\_PEERCRED) and "
      "answer *io.nodeprep.PermissionDenied* otherwise. Messages are limited to 16 MiB; "
      "connections are limited in total and per user, and closed when idle "
      "(*nodeprep.conf*(5), *[Daemon]*).\n")
    for title, kind in (("METHODS", "method"), ("ERRORS", "error"), ("TYPES", "type")):
        w("\n# " + title + "\n")
        for k, name, comment, fin, fout in members:
            if k != kind:
                continue
            sig = ", ".join(n for n, _, _ in fin)
            if kind == "method":
                ret = ", ".join(n for n, _, _ in fout)
                w("*%s*(%s) -> (%s)\n" % (name, esc(sig), esc(ret)))
            else:
                w("*%s*\n" % name)
            w("\t" + esc(comment) + "\n")
            for label, fs in (("Parameters", fin), ("Returns", fout)):
                if not fs:
                    continue
                if kind != "method":
                    label = "Fields"
                w("\n\t%s:\n" % label)
                for n, t, c in fs:
                    w("\t- *%s* (%s): %s\n" % (esc(n), esc(t), esc(c)))
            w("\n")
    w("# INTERFACE DESCRIPTION\n\nAs *org.varlink.service.GetInterfaceDescription* returns it:\n\n")
    w("```\n" + text.rstrip() + "\n```\n")
    w("\n# EXAMPLES\n\n```\nnodeprepctl call io.nodeprep.GetReport '{\"profiles\": [\"iomesh\"]}'\n"
      "nodeprepctl call io.nodeprep.Watch --more\nnodeprepctl call "
      "org.varlink.service.GetInterfaceDescription '{\"interface\": \"io.nodeprep\"}'\n```\n")
    w("\nWith python3-varlink:\n\n```\nimport varlink\nwith varlink.Client(address="
      "\"unix:/run/nodeprep/io.nodeprep\") as client:\n    with client.open(\"io.nodeprep\") as "
      "c:\n        print(c.GetReport()[\"report\"][\"ready\"])\n```\n")
    w("\n# SEE ALSO\n\n*nodeprepd*(8), *nodeprepctl*(8), *nodeprep.conf*(5)\n")
    with open(dst, "w") as f:
        f.write("".join(out))


if __name__ == "__main__":
    main()
