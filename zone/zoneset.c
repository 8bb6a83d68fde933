/* zoneset.c — an immutable open-addressing hash from apex to zone (see zoneset.h). */
#include "zone/zoneset.h"
#include "contrib/base/err.h"

#include <stdlib.h>
#include <string.h>

struct zone_set {
	size_t count;
	uint32_t mask;
	unsigned max_labels; /* of the deepest apex: a longer suffix names no zone */
	zone_t **zones;      /* in the order given */
	uint8_t *apex_lens;  /* dname_len() of each zone's apex, measured once */
	uint32_t *slots;     /* index + 1, 0 = empty; mask + 1 entries */
};

static uint32_t probe(const zone_set_t *set, const uint8_t *name, size_t len)
{
	uint32_t i = dname_hash(name, len) & set->mask;
	for (;;) {
		uint32_t s = set->slots[i];
		if (s == 0)
			return 0;
		const uint8_t *apex = zone_apex(set->zones[s - 1]);
		if (apex[0] == name[0] && set->apex_lens[s - 1] == len &&
		    dname_bytes_equal(apex, name, len))
			return s;
		i = (i + 1) & set->mask;
	}
}

int zone_set_new(zone_t *const *zones, size_t count, zone_set_t **out)
{
	int ret = -ENOMEM;
	size_t cap = 8;
	while (cap < count * 2)
		cap *= 2;
	zone_set_t *set = calloc(1, sizeof(*set));
	if (!set)
		goto out;
	set->mask = (uint32_t)(cap - 1);
	set->zones = calloc(count ? count : 1, sizeof(*set->zones));
	set->apex_lens = calloc(count ? count : 1, sizeof(*set->apex_lens));
	set->slots = calloc(cap, sizeof(*set->slots));
	if (!set->zones || !set->apex_lens || !set->slots)
		goto out;
	for (size_t k = 0; k < count; k++) {
		const uint8_t *apex = zone_apex(zones[k]);
		size_t len = dname_len(apex);
		if (probe(set, apex, len) != 0) {
			ret = SD_EEXIST;
			goto out;
		}
		set->zones[k] = zones[k];
		set->apex_lens[k] = (uint8_t)len;
		uint32_t i = dname_hash(apex, len) & set->mask;
		while (set->slots[i] != 0)
			i = (i + 1) & set->mask;
		set->slots[i] = (uint32_t)k + 1;
		set->count = k + 1;
		unsigned labels = dname_labels(apex);
		if (labels > set->max_labels)
			set->max_labels = labels;
	}
	*out = set;
	set = NULL;
	ret = 0;
out:
	zone_set_free(set);
	return ret;
}

void zone_set_free(zone_set_t *set)
{
	if (!set)
		return;
	free(set->slots);
	free(set->apex_lens);
	free(set->zones);
	free(set);
}

zone_t *zone_set_find(const zone_set_t *set, const uint8_t *name)
{
	uint8_t offs[DNAME_LABELS_MAX];
	size_t len;
	unsigned labels = dname_label_offsets_len(name, offs, &len);
	return zone_set_find_at(set, name, len, offs, labels);
}

/* The one zone of a set of one, when the name lies at or below its apex: its suffix of the
 * apex's label count is the apex (no hash). */
static zone_t *find_only(const zone_set_t *set, const uint8_t *name, size_t len,
                         const uint8_t *offs, unsigned labels)
{
	const uint8_t *apex = zone_apex(set->zones[0]);
	unsigned al = set->max_labels;
	if (labels < al)
		return NULL;
	size_t at = labels == al ? 0 : al == 0 ? len - 1 : offs[labels - al];
	size_t alen = len - at;
	return apex[0] == name[at] && set->apex_lens[0] == alen &&
	               dname_bytes_equal(apex, name + at, alen)
	           ? set->zones[0]
	           : NULL;
}

zone_t *zone_set_find_at(const zone_set_t *set, const uint8_t *name, size_t len,
                         const uint8_t *offs, unsigned labels)
{
	if (set->count == 1)
		return find_only(set, name, len, offs, labels);
	/* longest match first: the full name (or its suffix as deep as the deepest apex), then
	 * one label less, down to the root */
	for (unsigned i = labels > set->max_labels ? labels - set->max_labels : 0; i <= labels;
	     i++) {
		size_t off = i < labels ? offs[i] : len - 1;
		uint32_t s = probe(set, name + off, len - off);
		if (s)
			return set->zones[s - 1];
	}
	return NULL;
}

zone_t *zone_set_get(const zone_set_t *set, const uint8_t *apex)
{
	uint32_t s = probe(set, apex, dname_len(apex));
	return s ? set->zones[s - 1] : NULL;
}

size_t zone_set_count(const zone_set_t *set)
{
	return set->count;
}

zone_t *zone_set_at(const zone_set_t *set, size_t i)
{
	return i < set->count ? set->zones[i] : NULL;
}
