/* privdrop.h — running the network code without root (server.user / server.group, --user /
 * --group; issue 14).
 *
 * The names are resolved to ids when the configuration loads (a missing user is a config
 * error, --check reports it). At start, as root:
 *
 *   srv_priv_assume ── effective ids become the user's (supplementary groups: its group
 *   │                  only): the state directory, journals, snapshots and health state are
 *   │                  created by the user, and the zone, key and config files are read with
 *   │                  its rights, exactly as every later reload reads them
 *   srv_priv_regain ── effective root again: bind the DNS ports, create the control socket
 *   srv_priv_drop   ── setgroups/setgid/setuid for good: real, effective and saved ids are the
 *                      user's, no capability is left; checked by trying to get root back.
 *                      Before the workers start: no query is ever answered as root
 *
 * glibc applies set*id to every thread of the process, so threads already running (the
 * health prober) change with the control thread. Started as a user already, nothing changes
 * (a different server.user is then an error); started as root without server.user, one
 * warning. Control thread, at start only.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "contrib/base/compiler.h"

typedef struct srv_priv {
	bool set; /* server.user (or --user) given */
	uid_t uid;
	gid_t gid;   /* server.group, or the user's primary group */
	char *user;  /* as given, for messages; owned */
	char *group; /* as given, or NULL (the primary group) */
} srv_priv_t;

/* Resolve user (and group, NULL: the user's primary group) into p, which owns copies of the
 * names. Returns 0, SD_ENOTFOUND (no such user or group; *what names it) or -ENOMEM. */
int srv_priv_resolve(const char *user, const char *group, srv_priv_t *p, const char **what)
    SD_NONNULL(1, 3, 4) SD_WUR;
void srv_priv_fini(srv_priv_t *p);

/* True when start-up runs as root and p asks for a user: the three steps below apply. */
bool srv_priv_active(const srv_priv_t *p) SD_NONNULL(1);

/* The checks that need no privilege: not root with server.user naming another user is an
 * error (nothing to switch with); root without server.user is the one warning. Returns 0 or
 * -EPERM (logged). */
int srv_priv_check(const srv_priv_t *p) SD_NONNULL(1) SD_WUR;

/* Effective ids become p's (see above). Returns 0 or a negative errno (logged). */
int srv_priv_assume(const srv_priv_t *p) SD_NONNULL(1) SD_WUR;
/* Effective root again, after srv_priv_assume. */
int srv_priv_regain(void) SD_WUR;
/* All ids become p's for good. Returns 0 or a negative errno (logged; the caller stops). */
int srv_priv_drop(const srv_priv_t *p) SD_NONNULL(1) SD_WUR;

/* The state directory dir for user p: created now (created: it did not exist) it is handed
 * to the user; an existing one must belong to the user already (it may hold journals root
 * wrote: chown -R is the operator's call, not ours). Returns 0 or -EPERM (logged). Call as
 * root, before srv_priv_assume. */
int srv_priv_state_dir(const srv_priv_t *p, const char *dir, bool created) SD_NONNULL(1, 2) SD_WUR;
