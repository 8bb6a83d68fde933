/* conf.h — the `steering:` section of the configuration: a list of policies.
 *
 * Every key, its default and its meaning are documented once, in the example configuration
 * contrib/examples/steerdns.yaml (section `steering:`); keep that file and this parser in
 * step. Names become indices here (STYLE.md 5): the owner is resolved to the zone it is bound
 * in, the template must exist, the pools' addresses and prefixes are parsed and checked for
 * overlaps. Every problem is reported through conf_error (file:line: path: message) and
 * counted in ctx; validation goes on after an error.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/conf.h"
#include "health/health.h"
#include "steering/policy.h"

/* The zones a policy may be bound in (lowercased wire apexes) and the health configuration
 * its template must belong to (NULL: no templates at all). */
typedef struct steer_conf_env {
	const uint8_t *const *zones;
	size_t nzones;
	const health_conf_t *health;
	/* the `geoip:` databases a policy's geo.database may name (the table takes a
	 * reference to each) */
	struct steer_geo_db *const *dbs;
	size_t ndbs;
} steer_conf_env_t;

/* The `geoip:` section: the databases, opened (steering/geo.h). */
typedef struct steer_conf_geo {
	struct steer_geo_db **dbs; /* references */
	size_t ndbs;
} steer_conf_geo_t;

/* Parse the section and open every database (file relative to dir, the config file's
 * directory); a file that cannot be opened is a config error naming the path and
 * libmaxminddb's reason. Returns 0, SD_ECONFIG (reported; what opened is in *out, for
 * steer_conf_geo_fini) or -ENOMEM. Any thread (the server: the control thread). */
int steer_conf_geoip(conf_ctx_t *ctx, const conf_node_t *section, const char *dir,
                     steer_conf_geo_t *out) SD_NONNULL(1, 2, 4) SD_WUR;
void steer_conf_geo_fini(steer_conf_geo_t *g) SD_NONNULL(1);

/* Parse the section into a new table (ids 1.. in the order written). Returns 0, SD_ECONFIG
 * (reported; *out NULL) or -ENOMEM. Caller owns *out (steer_table_unref). Any thread. */
int steer_conf_parse(conf_ctx_t *ctx, const conf_node_t *section, const steer_conf_env_t *env,
                     steer_table_t **out) SD_NONNULL(1, 2, 3, 4) SD_WUR;
