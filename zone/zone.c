/* zone.c — a served zone and the RCU publication of its versions (see zone.h). */
#include "zone/zone.h"
#include "zone/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct zone {
	zone_version_t *current; /* RCU-published */
	char *file;
	uint8_t apex[DNAME_MAX];
};

int zone_new(const uint8_t *apex, const char *file, zone_t **out)
{
	zone_t *z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	if (file) {
		z->file = strdup(file);
		if (!z->file) {
			free(z);
			return -ENOMEM;
		}
	}
	memcpy(z->apex, apex, dname_len(apex));
	*out = z;
	return 0;
}

void zone_free(zone_t *z)
{
	if (!z)
		return;
	zone_version_unref(z->current);
	free(z->file);
	free(z);
}

const uint8_t *zone_apex(const zone_t *z)
{
	return z->apex;
}

const char *zone_file(const zone_t *z)
{
	return z->file;
}

const zone_version_t *zone_current(const zone_t *z)
{
	return rcu_dereference(z->current);
}

static void version_reclaim(struct rcu_head *head)
{
	zone_version_unref(caa_container_of(head, zone_version_t, rcu));
}

void zone_publish(zone_t *z, zone_version_t *v)
{
	zone_version_t *old = rcu_xchg_pointer(&z->current, v);
	if (old)
		call_rcu(&old->rcu, version_reclaim);
}
