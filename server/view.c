/* view.c — publishing the workers' view; see view.h. */
/* rcu_dereference() inline on the query path (allowed under any license, liburcu README) */
#define URCU_INLINE_SMALL_FUNCTIONS
#include "server/view.h"

#include <errno.h>
#include <stdlib.h>
#include <urcu-qsbr.h>

#include "server/xfr/zoneconf.h"

int srv_view_new(zone_set_t *zones, xfr_env_t *xfr, const srv_answer_conf_t *answer,
                 srv_view_t **out)
{
	srv_view_t *v = calloc(1, sizeof(*v));
	*out = v;
	if (v == NULL) {
		zone_set_free(zones);
		xfr_env_free(xfr);
		return -ENOMEM;
	}
	v->zones = zones;
	v->xfr = xfr;
	v->answer = answer;
	return 0;
}

void srv_view_free(srv_view_t *v)
{
	if (v == NULL)
		return;
	zone_set_free(v->zones);
	xfr_env_free(v->xfr);
	free(v);
}

void srv_view_swap(srv_views_t *views, srv_view_t *next)
{
	srv_view_t *prev = views->current;
	rcu_assign_pointer(views->current, next);
	synchronize_rcu(); /* no worker reads prev (or a zone only prev named) any more */
	srv_view_free(prev);
}

const srv_view_t *srv_view_current(srv_views_t *views)
{
	return rcu_dereference(views->current);
}
