/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What is secret, decided in one place. Secret values never leave the probe: the parsers keep
 * the key and store NP_REDACTED as its value, problems quote a redacted line, and diffs show a
 * line that holds a secret redacted (the edit itself still writes the real bytes).
 *
 * A key is secret when its last dot-separated component contains "password" (any case): every
 * CHAP secret open-iscsi 2.1.11 knows (usr/idbm.c marks exactly these IDBM_MASKED, or IDBM_HIDE
 * for their lengths): node.session.auth.password, .password_in, discovery.sendtargets.auth.
 * password, .password_in, host.auth.password, .password_in, flashnode.session.password, and
 * their *_length companions, and whatever a later version or another program adds with such a
 * name. Usernames are not secret (open-iscsi prints them: IDBM_SHOW).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NP_REDACTED "<redacted>"

bool np_secret_key(const char *key);
/*
 * One line of a "key = value" or "key=value" file (commented out or not) as it may be shown: NULL
 * when it holds no secret, else a copy that keeps everything up to the end of the key and
 * replaces the rest with " = <redacted>" (and the '\n' when the line had one).
 */
char *np_secret_redact_line(const char *line, size_t len);
