#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A wire between pairs of taps in (possibly different) network namespaces, for tests.

    tapwire.py NS1:TAP1=NS2:TAP2 ...

Each tap must exist (ip tuntap add mode tap). The wire holds both open (so both have carrier,
operstate "unknown" with LOWER_UP, as a tap under a VM has) and copies every frame one side
sends to the other, unchanged: a cable. The MTU on the way is the kernel's (a bridge drops a
frame larger than the port it leaves by). Prints READY, runs until SIGTERM or stdin closes.
"""
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def open_tap(ns, name):
    setns("/run/netns/" + ns)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    home = "/proc/self/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    other = {}
    for arg in sys.argv[1:]:
        a, b = arg.split("=")
        fa = open_tap(*a.split(":"))
        fb = open_tap(*b.split(":"))
        other[fa], other[fb] = fb, fa
    libc.setns(home_fd, CLONE_NEWNET)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("READY", flush=True)
    poll = select.poll()
    for fd in other:
        poll.register(fd, select.POLLIN)
    poll.register(sys.stdin.fileno(), select.POLLIN | select.POLLHUP)
    while True:
        for fd, _ in poll.poll():
            if fd == sys.stdin.fileno():
                if not os.read(fd, 4096):
                    return
                continue
            while True:
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                try:
                    os.write(other[fd], frame)
                except OSError:
                    pass  # the other side's queue is full or it is down: a lost frame


if __name__ == "__main__":
    main()
