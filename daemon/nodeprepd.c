/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nodeprepd: keeps every profile's verdict current as the host changes and answers on a Varlink
 * socket (nodeprepd(8)). main() runs a fixed series of set-up steps, then the event loop.
 */

#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "daemon/log.h"
#include "daemon/manager.h"

typedef struct Args {
        const char *root;
        const char *config;
        const char *listen;
        bool debug;
        bool dump_watch_list;
} Args;

static void help(void)
{
        printf("Usage: nodeprepd [OPTIONS]\n\n"
               "Keep this host's readiness verdicts current and answer on a Varlink socket.\n\n"
               "  -r, --root DIR      read the host's files below DIR\n"
               "  -c, --config FILE   site file (default /etc/nodeprep/nodeprep.conf)\n"
               "      --listen PATH   listen on this socket instead of socket activation\n"
               "                      (default without activation: /run/nodeprep/io.nodeprep)\n"
               "  -d, --debug         log debug messages\n"
               "  -h, --help          show this help\n"
               "      --version       show the version\n");
}

/* 0 to run, 1 to exit successfully, -EINVAL on a usage error. */
static int parse_args(int argc, char **argv, Args *a)
{
        enum {
                OPT_VERSION = 0x100,
                OPT_LISTEN,
                OPT_DUMP_WATCH_LIST,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "root", required_argument, NULL, 'r' },
                { "config", required_argument, NULL, 'c' },
                { "listen", required_argument, NULL, OPT_LISTEN },
                { "debug", no_argument, NULL, 'd' },
                /* For tests: evaluate once, print the watches (area.c np_probe_watch_dump()). */
                { "dump-watch-list", no_argument, NULL, OPT_DUMP_WATCH_LIST },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "hr:c:d", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 1;
                case OPT_VERSION:
                        printf("nodeprepd %s\n", NP_VERSION);
                        return 1;
                case 'r':
                        a->root = optarg;
                        break;
                case 'c':
                        a->config = optarg;
                        break;
                case OPT_LISTEN:
                        a->listen = optarg;
                        break;
                case 'd':
                        a->debug = true;
                        break;
                case OPT_DUMP_WATCH_LIST:
                        a->dump_watch_list = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "nodeprepd: unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        /* An empty value (an unset shell variable) must not mean the default: "/" is the host. */
        if ((a->root && !*a->root) || (a->config && !*a->config) || (a->listen && !*a->listen)) {
                fprintf(stderr, "nodeprepd: %s\n",
                        a->root && !*a->root       ? "--root needs a directory"
                        : a->config && !*a->config ? "--config needs a file"
                                                   : "--listen needs a path");
                return -EINVAL;
        }
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void)s, (void)si;
        log_info("SIGHUP: reloading the configuration");
        manager_schedule_reload(userdata);
        return 0;
}

/* Each connection is a descriptor: allow as many as the hard limit says (systemd's default
 * hard limit is 524288; the soft one is 1024 for select()'s sake, which we do not use). */
static void bump_nofile(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int run(int argc, char **argv)
{
        _cleanup_(manager_freep) Manager *m = NULL;
        sd_event *event = NULL;
        Args a = {};
        sigset_t mask;
        int r;

        r = parse_args(argc, argv, &a);
        if (r != 0)
                return r > 0 ? 0 : -EINVAL;
        if (a.debug)
                log_set_max_level(LOG_DEBUG);

        /* One arena, big buffers mapped and unmapped: memory goes back after a burst. */
        (void)mallopt(M_ARENA_MAX, 1);
        (void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
        bump_nofile();

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* Blocked before any thread exists, so the worker threads never take them. */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "sigprocmask: %m");

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m");
        r = manager_new(event, a.root ? a.root : "/", a.config, &m);
        sd_event_unref(event); /* the manager holds it */
        if (r < 0)
                return log_error_errno(r, "Cannot set up (--root %s): %m", a.root ? a.root : "/");
        m->dump_watch_list = a.dump_watch_list;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
        if (r < 0)
                return log_error_errno(r, "Cannot handle signals: %m");
        /* WATCHDOG=1 at half of WatchdogSec=, from the loop itself. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Cannot set up the watchdog: %m");

        r = manager_varlink_init(m, a.listen);
        if (r == -EADDRINUSE)
                return log_error_errno(r,
                                       "Cannot listen on %s: a server answers on it (another "
                                       "nodeprepd?); not replacing a live socket",
                                       a.listen ? a.listen : "/run/nodeprep/io.nodeprep");
        if (r == -EEXIST)
                return log_error_errno(r,
                                       "Cannot listen on %s: it exists and is not a socket; "
                                       "not replacing it",
                                       a.listen ? a.listen : "/run/nodeprep/io.nodeprep");
        if (r < 0)
                return log_error_errno(r, "Cannot listen on %s: %m",
                                       a.listen ? a.listen : "the Varlink socket");
        r = manager_watch_init(m);
        if (r < 0)
                return r;
        r = manager_start(m);
        if (r < 0)
                return r;

        r = sd_event_loop(m->event);
        (void)sd_notify(false, "STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r > 0 ? -EIO : 0; /* --dump-watch-list failed */
}

int main(int argc, char **argv)
{
        int r = run(argc, argv);

        return r == -EINVAL ? 64 : r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
