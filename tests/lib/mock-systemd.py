#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for systemd's D-Bus API (org.freedesktop.systemd1) on a private bus.

Serves the calls nodeprep makes: Manager.LoadUnit/GetUnit, the Unit properties LoadState,
ActiveState, SubState and UnitFileState, and Manager.EnableUnitFiles/DisableUnitFiles/StartUnit/Reload with
JobRemoved signals. Units come from a JSON file {"iscsid.socket": {"UnitFileState": "enabled",
"ActiveState": "active", "SubState": "listening"}, ...}; every other name is "not-found".
Every call is appended to CALL_LOG (a file), one JSON line each, so tests can assert on them.

Usage: mock-systemd.py UNITS.json CALL_LOG   (DBUS_SYSTEM_BUS_ADDRESS names the bus)
"""
import json
import os
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

BUS = "org.freedesktop.systemd1"
PATH = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"
PROPS = "org.freedesktop.DBus.Properties"


def unit_path(name):
    return PATH + "/unit/" + "".join(c if c.isalnum() else "_%02x" % ord(c) for c in name)


class Unit(dbus.service.Object):
    def __init__(self, conn, name, state):
        super().__init__(conn, unit_path(name))
        self.name = name
        self.state = {
            "Id": name,
            "LoadState": "loaded",
            "ActiveState": "inactive",
            "SubState": "dead",
            "UnitFileState": "disabled",
        }
        self.state.update(state)

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface != UNIT or prop not in self.state:
            raise dbus.exceptions.DBusException(
                "org.freedesktop.DBus.Error.UnknownProperty", "no property " + prop)
        return dbus.String(self.state[prop])

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {k: dbus.String(v) for k, v in self.state.items()} if iface == UNIT else {}


class Manager(dbus.service.Object):
    def __init__(self, conn, units, log):
        super().__init__(conn, PATH)
        self.conn = conn
        self.units = {}
        self.log = log
        self.jobs = 0
        for name, state in units.items():
            self.units[name] = Unit(conn, name, state)

    def record(self, method, *args):
        with open(self.log, "a") as f:
            f.write(json.dumps({"method": method, "args": [str(a) for a in args]}) + "\n")

    def unit(self, name):
        name = str(name)
        if name not in self.units:
            self.units[name] = Unit(self.conn, name, {
                "LoadState": "not-found", "UnitFileState": "", "SubState": "dead"})
        return self.units[name]

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def LoadUnit(self, name):
        self.record("LoadUnit", name)
        return dbus.ObjectPath(self.unit(name).__dbus_object_path__)

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def GetUnit(self, name):
        self.record("GetUnit", name)
        u = self.unit(name)
        if u.state["LoadState"] == "not-found":
            raise dbus.exceptions.DBusException(
                "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded." % name)
        return dbus.ObjectPath(u.__dbus_object_path__)

    @dbus.service.method(MANAGER, in_signature="asbb", out_signature="ba(sss)")
    def EnableUnitFiles(self, files, runtime, force):
        self.record("EnableUnitFiles", ",".join(files), runtime, force)
        changes = []
        for f in files:
            u = self.unit(f)
            if u.state["LoadState"] == "not-found":
                raise dbus.exceptions.DBusException(
                    "org.freedesktop.systemd1.NoSuchUnit", "Unit file %s does not exist." % f)
            if u.state["UnitFileState"] != "enabled":
                u.state["UnitFileState"] = "enabled"
                changes.append(("symlink", "/etc/systemd/system/sockets.target.wants/" + f,
                                "/lib/systemd/system/" + f))
        return (False, changes)

    @dbus.service.method(MANAGER, in_signature="asb", out_signature="a(sss)")
    def DisableUnitFiles(self, files, runtime):
        self.record("DisableUnitFiles", ",".join(files), runtime)
        changes = []
        for f in files:
            u = self.unit(f)
            if u.state["UnitFileState"] == "enabled":
                u.state["UnitFileState"] = "disabled"
                changes.append(("unlink", "/etc/systemd/system/sockets.target.wants/" + f, ""))
        return changes

    @dbus.service.method(MANAGER, in_signature="", out_signature="")
    def Reload(self):
        self.record("Reload")

    @dbus.service.method(MANAGER, in_signature="ss", out_signature="o")
    def StartUnit(self, name, mode):
        self.record("StartUnit", name, mode)
        u = self.unit(name)
        self.jobs += 1
        job = dbus.ObjectPath("%s/job/%d" % (PATH, self.jobs))
        result = "done"
        if u.state["LoadState"] == "not-found":
            raise dbus.exceptions.DBusException(
                "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not found." % name)
        if u.state.get("FailToStart"):
            result = "failed"
        else:
            u.state["ActiveState"] = "active"
            u.state["SubState"] = "listening" if name.endswith(".socket") else "running"
        GLib.idle_add(lambda: self.JobRemoved(dbus.UInt32(self.jobs), job, name, result) and False)
        return job

    @dbus.service.signal(MANAGER, signature="uoss")
    def JobRemoved(self, job_id, job, unit, result):
        pass


def main():
    units = json.load(open(sys.argv[1]))
    log = sys.argv[2]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
    Manager(conn, units, log)
    name = dbus.service.BusName(BUS, conn)  # noqa: F841 (dropping it releases the name)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
