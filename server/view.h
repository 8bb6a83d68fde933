/* view.h — the one published view the workers answer from.
 *
 * Everything a worker reads that the control thread may change lives in one immutable
 * srv_view_t, published through ONE rcu pointer (srv_views_t). The control thread builds a
 * new view whenever any part changes (zone set membership, config reload, keys, transfer
 * settings) and swaps it in one place, srv_view_swap(): rcu_assign_pointer, one
 * synchronize_rcu, then the old view is freed. Workers load the pointer once per I/O
 * callback with srv_view_current() while QSBR-online and use that view for the whole
 * callback, so a request never sees a zone set from one generation and keys from another.
 *
 *   control thread                                  workers (QSBR readers)
 *   srv_view_new(zones, xfr, answer) ─▶ next         srv_view_current() ─▶ view
 *   srv_view_swap(views, next) ─ publish ─ synchronize_rcu ─ srv_view_free(previous)
 *
 * Ownership: a view OWNS its zone_set_t (the shell: the zone_t in it are borrowed from the
 * zone registry, server/zonedb.h, which frees a removed zone only after the swap that
 * retired the last view naming it) and its transfer environment (xfr_env_t: keys, per-zone
 * ACLs; the IXFR history pointers and counters in it are borrowed from the registry's
 * xfr_zone_t the same way). It BORROWS the answer settings (identity, UDP payload: fixed
 * while the workers run; changing them needs a restart), the steering publisher (its
 * snapshot — policies and candidate map — is swapped on its own RCU pointer after every zone
 * commit, server/steer.h, so a commit does not rebuild the view) and the health handle;
 * both live as long as the server.
 */
#pragma once

#include "contrib/base/compiler.h"
#include "server/engine/answer.h"
#include "server/xfr/serve.h"
#include "steering/snap.h"
#include "zone/zoneset.h"

typedef struct srv_view {
	zone_set_t *zones;               /* owned; NULL: no zone served (REFUSED) */
	xfr_env_t *xfr;                  /* owned; NULL: no keys, transfers refused */
	const srv_answer_conf_t *answer; /* borrowed */
	const steer_pub_t *steering;     /* borrowed: the steering snapshot's publisher (NULL:
	                                    no steering); server/steer.h */
	const health_t *health;          /* borrowed: the prober whose state words steer */
} srv_view_t;

/* The one published pointer; the server owns it and hands it to the zone registry (writer)
 * and the workers (readers). Zero-initialised: nothing published. */
typedef struct srv_views {
	srv_view_t *current;
} srv_views_t;

/* A view over zones and xfr (ownership of both passes to the view, also on failure).
 * Control thread. */
int srv_view_new(zone_set_t *zones, xfr_env_t *xfr, const srv_answer_conf_t *answer,
                 srv_view_t **out) SD_NONNULL(4) SD_WUR;
void srv_view_free(srv_view_t *v);

/* Control thread, QSBR-offline (registered with liburcu): make next (may be NULL) the view
 * the workers see, wait for a grace period and free the previous view. */
void srv_view_swap(srv_views_t *views, srv_view_t *next) SD_NONNULL(1);

/* Workers, QSBR-online: the current view or NULL; valid until the thread's next quiescent
 * state. One rcu_dereference, no allocation, no lock. */
const srv_view_t *srv_view_current(srv_views_t *views) SD_NONNULL(1);
