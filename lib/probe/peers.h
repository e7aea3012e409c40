/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The peer probe (lib/probe/peers.c): np_probe_peers() is declared in probe.h; these are its pure
 * parts, for tests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

/* Echo requests per peer for the round-trip time, sent this far apart. */
#define NP_PEER_SMALL_COUNT        5
#define NP_PEER_SMALL_SPACING_USEC (20ULL * 1000ULL)
/* Sizes tried at once in each round of the search for the largest size that passes. */
#define NP_PEER_SEARCH_WAYS 8

/* IP header + ICMP header: the packet size of an echo with no data. */
unsigned np_peer_overhead(int family) _const_;
/* ping's default size: 56 bytes of data (84 for IPv4, 104 for IPv6). */
unsigned np_peer_small_size(int family) _const_;

/*
 * The sizes to try in a search round, strictly between lo (known to pass) and hi (known to
 * fail), ascending, at most max: in the first round the MTUs networks commonly use (1500, 9000,
 * 1450 for VXLAN, 1492 for PPPoE, ...), then NP_PEER_SEARCH_WAYS sizes evenly spread. Returns how
 * many.
 */
size_t np_peer_search_sizes(unsigned lo, unsigned hi, bool first, unsigned *ret, size_t max);

/* The median of n values (sorts v in place); 0 for none. */
uint64_t np_median_usec(uint64_t *v, size_t n);

/* How long to wait for an answer to a larger probe once small ones came back: three round trips
 * and 20 ms, at least 50 ms and at most 1 s. */
uint64_t np_peer_grace_usec(uint64_t rtt_max_usec) _const_;
