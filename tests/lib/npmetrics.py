# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Prometheus text format as the tests read it: the fleet test and the VM suite share it."""
import re


def parse_metrics(text):
    """{(name, frozenset(labels)): value} from the text format (no escapes in our label values).
    An unparsable sample line raises AssertionError."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if not m:
            raise AssertionError("unparsable sample %r" % line)
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def sample(metrics, name, **labels):
    """The value of one sample of parse_metrics()'s result, or None."""
    return metrics.get((name, frozenset(labels.items())))
