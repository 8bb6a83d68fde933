/* config.h — the daemon's configuration: one YAML file, or the quick-mode command line.
 *
 * The file is validated completely before anything is applied: every problem is logged as
 * "file:line: path: message" (contrib/base/conf.h) and loading goes on so an operator sees
 * all of them at once. The top level is a dispatch table of {key, parse function}
 * (config.c: `sections[]`); a new section (health, keys, acl, policies) is one line there plus
 * its fields here. Unknown top-level keys are errors.
 *
 *   srv_config_t ── listen[]  (server.listen or --listen)
 *                ├─ zones[]   (zones or --zone; file paths resolved against the config dir;
 *                │             each with its update-policy, server/update_policy.h)
 *                ├─ health    (health: templates and targets, health/health.h)
 *                ├─ steering  (steering: policies bound to names, steering/conf.h)
 *                └─ scalars   (workers, identity, udp-payload, tcp-*, control-socket, ...)
 *
 * Everything in a srv_config_t is owned by it and freed by srv_config_free(). Control thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/log.h"
#include "health/health.h"
#include "server/update_policy.h"
#include "server/xfr/conf.h"
#include "server/cookie.h"
#include "server/privdrop.h"
#include "server/rrl.h"
#include "server/sock.h"
#include "steering/conf.h"
#include "steering/policy.h"
#include "dns/name.h"

#define SRV_WORKERS_MAX 256

/* State directory without a config file (quick mode) and without --state-dir: relative to
 * the working directory, so journals do not land beside the zone files. */
#define SRV_STATE_DIR_QUICK "steerdns-state"

typedef struct srv_listen_conf {
	srv_addr_t addr;
	char *text;  /* as written, for messages */
	char *where; /* "file:line" or "command line" */
} srv_listen_conf_t;

typedef struct srv_zone_conf {
	char *name;                     /* presentation, as written */
	uint8_t apex[DNAME_MAX];        /* lowercased wire form */
	char *file;                     /* resolved against the config file's directory */
	char *where;                    /* "file:line" of the entry, or "command line" */
	xfr_zone_conf_t xfr;            /* serial policy, journal limits, notify, transfer-acl */
	srv_upd_policy_t update_policy; /* RFC 2136 UPDATE (server/update_policy.h); none:
	                                 * every UPDATE is REFUSED */
} srv_zone_conf_t;

typedef struct srv_config {
	char *file; /* the config file, NULL in quick mode */
	char *dir;  /* its directory ("." in quick mode): base of relative paths */

	srv_listen_conf_t *listen;
	size_t listen_count;
	unsigned workers;       /* 0 = one per CPU (see srv_config_workers) */
	char *identity;         /* NULL = off */
	uint16_t udp_payload;   /* 512..4096, default 1232 (DNS flag day 2020) */
	uint64_t udp_wait_us;   /* server.udp-batch-wait (server/udp.h), 0..1000, default 100 */
	uint64_t tcp_idle_ms;   /* default 10 s */
	uint64_t tcp_msg_ms;    /* a whole message in, or a response out; default 5 s */
	uint32_t tcp_max_conns; /* over all workers, default 1024 */
	char *control_socket;   /* resolved path */
	char *state_dir;        /* resolved path; created by the daemon at start (0700) */
	char *audit_log;        /* resolved path of the UPDATE audit log; NULL: the daemon log */
	log_level_t log_level;
	bool log_syslog;
	/* server.metrics-listen: the Prometheus endpoint (server/metrics.h); off by default. */
	bool metrics_set;
	srv_addr_t metrics_addr;

	srv_zone_conf_t *zones;
	size_t zone_count;

	/* The `health:` section (relative paths against dir; the state file defaults to
	 * <state-dir>/health.state). Never NULL once loaded: empty without the section. */
	health_conf_t *health;

	xfr_keys_t keys; /* the `keys:` section: TSIG keys (server/xfr/conf.h) */

	/* Abuse resistance (issue 14): server.user/group (or --user/--group, which override
	 * them), resolved to ids at load (server/privdrop.h). */
	srv_priv_t priv;
	/* server.rrl: response rate limiting (server/rrl.h); rate 0 = off (the default). */
	srv_rrl_conf_t rrl;
	/* server.cookies: DNS cookies (server/cookie.h); on by default. */
	srv_cookie_conf_t cookies;
	/* The `steering:` section: policies bound to owner names (steering/conf.h); NULL
	 * without the section. */
	steer_table_t *steering;
	/* The `geoip:` section: the MaxMind databases, opened at load (steering/conf.h). */
	steer_conf_geo_t geoip;
} srv_config_t;

/* What main() read from argv. In file mode (config_file set) log_level and syslog override
 * the file; listen/zones/workers/control are quick mode and exclude a file. */
typedef struct srv_cli {
	const char *config_file;
	const char **listen;
	size_t listen_count;
	const char **zones; /* "NAME=PATH" */
	size_t zone_count;
	const char *workers;
	const char *control;
	const char *state_dir; /* --state-dir: both modes (overrides server.state-dir) */
	const char *log_level;
	bool syslog;
	const char *user;  /* --user: both modes (overrides server.user) */
	const char *group; /* --group: both modes (overrides server.group) */
} srv_cli_t;

/* Build a configuration from a file or from the command line, logging every error.
 * Returns 0; SD_ECONFIG when something was invalid (all of it logged; *out then holds what
 * was valid, for --check to go on with the zones); SD_EPARSE on a YAML syntax error or a
 * negated errno (*out NULL). The caller owns and frees *out in every case. */
int srv_config_load(const srv_cli_t *cli, srv_config_t **out) SD_NONNULL(1, 2) SD_WUR;

/* Same from YAML text (unit tests); name stands for the file name, dir for its directory. */
int srv_config_load_string(const char *text, const char *name, srv_config_t **out)
    SD_NONNULL(1, 2, 3) SD_WUR;

void srv_config_free(srv_config_t *cfg);

/* Number of worker threads to start: cfg->workers, or one per CPU this process may run on. */
unsigned srv_config_workers(const srv_config_t *cfg) SD_NONNULL(1);

/* Zone entry by apex, or NULL. */
const srv_zone_conf_t *srv_config_zone(const srv_config_t *cfg, const uint8_t *apex)
    SD_NONNULL(1, 2);
