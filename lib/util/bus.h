/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system bus, with a limit on the connection as well as on each call. */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

/* sd_bus_open_system() with each method call limited to timeout_usec, and the connection too:
 * sd_bus_call() waits for the broker's authentication and Hello without any limit
 * (bus_ensure_running()), so a bus socket that accepts and never answers (dbus.service whose
 * start is queued behind ours, a hung dbus-daemon) would hang the caller for good. -ETIMEDOUT
 * then. */
int np_bus_open_system(sd_bus **ret, uint64_t timeout_usec);
