/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One evaluation: probe what the profiles need, run their checks, make the report. */
#pragma once

#include <stdint.h>

#include "profile/profile.h"
#include "report/report.h"
#include "util/root.h"

/* The probe request for a configuration (every profile's checks). */
int np_config_probe_request(const NpConfig *config, NpProbeRequest *ret);
int np_evaluate(const NpRoot *root, const NpConfig *config, uint64_t now_usec, NpReport **ret);
/* CLOCK_REALTIME in microseconds. */
uint64_t np_now_usec(void);
