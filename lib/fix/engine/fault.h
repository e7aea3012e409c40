/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection for the crash-safety tests: only in builds configured with
 * -Dfault-injection=true; otherwise np_fault_point() is an empty inline function.
 *
 *   NODEPREP_FAULT=N          SIGKILL at the N-th point reached (1-based, counting all points)
 *   NODEPREP_FAULT=NAME[:K]   SIGKILL at the K-th time (default 1) point NAME is reached
 *   NODEPREP_FAULT_LOG=FILE   append "N NAME" for every point reached
 */
#pragma once

#include "config.h"

#if NP_FAULT_INJECTION
void np_fault_point(const char *name);
#else
static inline void np_fault_point(const char *name)
{
        (void)name;
}
#endif
