#include "server/config.h"

#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "server/ctlproto.h"
#include "server/worker.h"
#include "steering/conf.h"
#include "zone/zone.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_MAX 64

/* A top-level section parser: reports problems through ctx (and goes on); returns a negative
 * code only when it could not continue at all (out of memory). */
typedef int (*section_fn)(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg);

static int parse_server(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg);
static int parse_zones(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg);
static int parse_keys(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg);
static int parse_health(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg);
static int parse_geoip(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg);
static int parse_steering(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg);

/* The top-level dispatch table: one line per section. */
static const struct {
	const char *key;
	section_fn parse;
} sections[] = {
    {"server", parse_server},
    {"keys", parse_keys}, /* before zones: zones refer to keys by name */
    {"zones", parse_zones},
    {"health", parse_health},
    {"geoip", parse_geoip},       /* before steering: geo policies name databases */
    {"steering", parse_steering}, /* after zones and health: policies name both */
};

static char *path_join(const char *dir, const char *path)
{
	if (path[0] == '/' || strcmp(dir, ".") == 0)
		return strdup(path);
	size_t n = strlen(dir) + strlen(path) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, path);
	return out;
}

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	if (!slash)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

static char *where_of(const conf_node_t *n)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s:%u", n->file, n->line);
	return strdup(buf);
}

/* The state directory holds files named after the zones (zone_state_name_max, at most
 * NAME_MAX: checked per zone): a directory path longer than this would make their paths
 * exceed PATH_MAX, and every write of a journal, snapshot or base copy fail. */
#define STATE_DIR_MAX (PATH_MAX - 2 - NAME_MAX)

static bool state_dir_fits(const char *path)
{
	return strlen(path) <= STATE_DIR_MAX;
}

static bool zone_name_fits(const uint8_t *apex, size_t *len)
{
	*len = zone_state_name_max(apex);
	return *len <= NAME_MAX;
}

static void abuse_defaults(srv_config_t *cfg);

static void set_defaults(srv_config_t *cfg)
{
	cfg->udp_payload = 1232;
	cfg->udp_wait_us = 100;
	cfg->tcp_idle_ms = 10000;
	cfg->tcp_msg_ms = 5000;
	cfg->tcp_max_conns = 1024;
	cfg->log_level = LOG_LEVEL_INFO;
	abuse_defaults(cfg);
}

/* --- server: one parser per key --- */

typedef int (*key_fn)(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg);

static int add_listen(srv_config_t *cfg, const char *text, const char *where, srv_addr_t *addr)
{
	srv_listen_conf_t *l = &cfg->listen[cfg->listen_count];
	l->addr = *addr;
	l->text = strdup(text);
	l->where = strdup(where);
	if (!l->text || !l->where) {
		free(l->text);
		free(l->where);
		return -ENOMEM;
	}
	cfg->listen_count++;
	return 0;
}

static bool listen_dup(const srv_config_t *cfg, const srv_addr_t *a)
{
	for (size_t i = 0; i < cfg->listen_count; i++)
		if (cfg->listen[i].addr.len == a->len &&
		    memcmp(&cfg->listen[i].addr.ss, &a->ss, a->len) == 0)
			return true;
	return false;
}

static int key_listen(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *list[LISTEN_MAX];
	size_t count = 0;
	if (!conf_str_list(ctx, n, list, LISTEN_MAX, &count))
		return 0;
	cfg->listen = calloc(count ? count : 1, sizeof(*cfg->listen));
	if (!cfg->listen)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const conf_node_t *item = n->kind == CONF_SEQ ? n->items[i] : n;
		srv_addr_t addr;
		if (srv_addr_parse(list[i], &addr) < 0) {
			conf_error(ctx, item,
			           "'%s' is not an address (\"127.0.0.1:53\", \"[::1]:53\")",
			           list[i]);
			continue;
		}
		if (listen_dup(cfg, &addr)) {
			conf_error(ctx, item, "'%s' is listed twice", list[i]);
			continue;
		}
		char *where = where_of(item);
		int ret = where ? add_listen(cfg, list[i], where, &addr) : -ENOMEM;
		free(where);
		if (ret < 0)
			return ret;
	}
	if (count == 0)
		conf_error(ctx, n, "at least one address is required");
	return 0;
}

static int key_workers(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	uint32_t v;
	if (conf_u32(ctx, n, 0, SRV_WORKERS_MAX, &v))
		cfg->workers = v;
	return 0;
}

static int key_identity(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *s;
	if (!conf_str(ctx, n, &s))
		return 0;
	if (!n->quoted &&
	    (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
		return 0;
	if (s[0] == '\0' || strlen(s) > 255) {
		/* The identity is one TXT character-string (RFC 1035 3.3.14). */
		conf_error(ctx, n, "expected off or a text of 1 to 255 characters");
		return 0;
	}
	free(cfg->identity);
	cfg->identity = strdup(s);
	return cfg->identity ? 0 : -ENOMEM;
}

static int key_udp_payload(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	uint32_t v;
	/* RFC 6891 6.2.5: values below 512 are treated as 512. */
	if (conf_u32(ctx, n, 512, 4096, &v))
		cfg->udp_payload = (uint16_t)v;
	return 0;
}

static int key_udp_wait(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	(void)conf_duration_us(ctx, n, 0, 1000, &cfg->udp_wait_us);
	return 0;
}

static int key_tcp_idle(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	(void)conf_duration_ms(ctx, n, 100, 3600000, &cfg->tcp_idle_ms);
	return 0;
}

static int key_tcp_msg(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	(void)conf_duration_ms(ctx, n, 100, 3600000, &cfg->tcp_msg_ms);
	return 0;
}

static int key_tcp_max(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	(void)conf_u32(ctx, n, 1, 1000000, &cfg->tcp_max_conns);
	return 0;
}

static int key_control(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *s;
	if (!conf_str(ctx, n, &s))
		return 0;
	char *path = path_join(cfg->dir, s);
	if (!path)
		return -ENOMEM;
	if (s[0] == '\0' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		conf_error(ctx, n, "expected a socket path of at most %zu bytes",
		           sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		free(path);
		return 0;
	}
	free(cfg->control_socket);
	cfg->control_socket = path;
	return 0;
}

/* The directory need not exist yet: the daemon creates it at start (server.c), --check
 * creates nothing. Something else at that path is an error now. */
static int key_state_dir(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *s;
	if (!conf_str(ctx, n, &s))
		return 0;
	if (s[0] == '\0') {
		conf_error(ctx, n, "expected a directory path");
		return 0;
	}
	char *path = path_join(cfg->dir, s);
	if (!path)
		return -ENOMEM;
	struct stat st;
	if (!state_dir_fits(path)) {
		conf_error(ctx, n,
		           "'%.40s...' is %zu bytes long: at most %d leave room for the "
		           "zones' file names within PATH_MAX (%d)",
		           path, strlen(path), STATE_DIR_MAX, PATH_MAX);
		free(path);
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		conf_error(ctx, n, "'%s' exists and is not a directory", path);
		free(path);
		return 0;
	}
	free(cfg->state_dir);
	cfg->state_dir = path;
	return 0;
}

/* The UPDATE audit log (server/audit.h): the daemon opens it (O_APPEND, 0640) at start and
 * at every reload; only its directory must exist. */
static int key_audit_log(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *s;
	if (!conf_str(ctx, n, &s))
		return 0;
	if (s[0] == '\0') {
		conf_error(ctx, n, "expected a file path");
		return 0;
	}
	char *path = path_join(cfg->dir, s);
	if (!path)
		return -ENOMEM;
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		conf_error(ctx, n, "'%s' exists and is not a regular file", path);
		free(path);
		return 0;
	}
	free(cfg->audit_log);
	cfg->audit_log = path;
	return 0;
}

/* server.metrics-listen: "ADDRESS:PORT" of the Prometheus endpoint (server/metrics.h); the
 * port is required (there is no conventional one to default to); "off" or absent: none. */
static int key_metrics_listen(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *s;
	if (!conf_str(ctx, n, &s))
		return 0;
	if (!n->quoted && (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 ||
	                   strcmp(s, "no") == 0 || strcmp(s, "none") == 0)) {
		cfg->metrics_set = false;
		return 0;
	}
	const char *port = s[0] == '[' ? strstr(s, "]:") : strchr(s, ':');
	if (s[0] != '[' && port && strchr(port + 1, ':'))
		port = NULL; /* a bare IPv6 address: no port */
	if (!port || srv_addr_parse(s, &cfg->metrics_addr) < 0) {
		conf_error(ctx, n,
		           "'%s' is not an address with a port (\"127.0.0.1:9153\", "
		           "\"[::1]:9153\") or off",
		           s);
		return 0;
	}
	cfg->metrics_set = true;
	return 0;
}

static int key_log_level(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *s;
	if (conf_str(ctx, n, &s) && log_level_parse(s, &cfg->log_level) < 0)
		conf_error(ctx, n, "expected error, warning, notice, info or debug");
	return 0;
}

static int key_log_target(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	const char *s;
	if (!conf_str(ctx, n, &s))
		return 0;
	if (strcmp(s, "stderr") == 0 || strcmp(s, "syslog") == 0)
		cfg->log_syslog = s[1] == 'y';
	else
		conf_error(ctx, n, "expected stderr or syslog");
	return 0;
}

/* --- server: abuse resistance (issue 14): user, group --- */

static int key_name(conf_ctx_t *ctx, const conf_node_t *n, char **out)
{
	const char *s;
	if (!conf_str(ctx, n, &s))
		return 0;
	if (s[0] == '\0') {
		conf_error(ctx, n, "expected a name");
		return 0;
	}
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* The names are kept in priv until finish_priv() resolves them (the command line may
 * override them). */
static int key_user(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	return key_name(ctx, n, &cfg->priv.user);
}

static int key_group(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	return key_name(ctx, n, &cfg->priv.group);
}

static void abuse_defaults(srv_config_t *cfg)
{
	cfg->rrl = (srv_rrl_conf_t){
	    .slip = 2, .ipv4_prefix = 24, .ipv6_prefix = 56, .table_size = SRV_RRL_TABLE_DEF};
	cfg->cookies =
	    (srv_cookie_conf_t){.mode = SRV_COOKIES_ON, .rotate_ms = SRV_COOKIE_ROTATE_DEF};
}

#define RRL_WHITELIST_MAX 256

static int rrl_whitelist(conf_ctx_t *ctx, const conf_node_t *n, srv_rrl_conf_t *r)
{
	const char *list[RRL_WHITELIST_MAX];
	size_t count = 0;
	if (!conf_str_list(ctx, n, list, RRL_WHITELIST_MAX, &count))
		return 0;
	free(r->whitelist);
	r->nwhitelist = 0;
	r->whitelist = calloc(count ? count : 1, sizeof(*r->whitelist));
	if (!r->whitelist)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		xfr_acl_rule_t *rule = &r->whitelist[r->nwhitelist];
		if (xfr_acl_rule_set_addr(rule, list[i]) == 0)
			r->nwhitelist++;
		else
			conf_error(ctx, n->kind == CONF_SEQ ? n->items[i] : n,
			           "'%s' is not an address or prefix (\"192.0.2.0/24\", "
			           "\"2001:db8::/32\"; host bits clear)",
			           list[i]);
	}
	return 0;
}

/* server.rrl (server/rrl.h): rate 0 (the default) turns it off. */
static int key_rrl(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	static const char *const keys[] = {"rate",      "slip",     "ipv4-prefix", "ipv6-prefix",
	                                   "whitelist", "log-only", "table-size",  NULL};
	srv_rrl_conf_t *r = &cfg->rrl;
	uint32_t v;
	if (!conf_expect_map(ctx, n, keys))
		return 0;
	const conf_node_t *k;
	if ((k = conf_get(n, "rate")))
		(void)conf_u32(ctx, k, 0, 1000000, &r->rate);
	if ((k = conf_get(n, "slip")))
		(void)conf_u32(ctx, k, 0, SRV_RRL_SLIP_MAX, &r->slip);
	if ((k = conf_get(n, "ipv4-prefix")) && conf_u32(ctx, k, 8, 32, &v))
		r->ipv4_prefix = (uint8_t)v;
	if ((k = conf_get(n, "ipv6-prefix")) && conf_u32(ctx, k, 16, 128, &v))
		r->ipv6_prefix = (uint8_t)v;
	if ((k = conf_get(n, "log-only")))
		(void)conf_bool(ctx, k, &r->log_only);
	if ((k = conf_get(n, "table-size")))
		(void)conf_u32(ctx, k, SRV_RRL_TABLE_MIN, SRV_RRL_TABLE_MAX, &r->table_size);
	if ((k = conf_get(n, "whitelist")))
		return rrl_whitelist(ctx, k, r);
	return 0;
}

/* server.cookies (server/cookie.h). The secret file is checked here, so --check reports a
 * bad one; it is read again at start and at each rotation. */
static int key_cookies(conf_ctx_t *ctx, const conf_node_t *n, srv_config_t *cfg)
{
	static const char *const keys[] = {"mode", "rotate-interval", "secret-file", NULL};
	srv_cookie_conf_t *c = &cfg->cookies;
	const conf_node_t *k;
	const char *s;
	if (!conf_expect_map(ctx, n, keys))
		return 0;
	if ((k = conf_get(n, "mode")) && conf_str(ctx, k, &s)) {
		if (strcmp(s, "off") == 0)
			c->mode = SRV_COOKIES_OFF;
		else if (strcmp(s, "on") == 0)
			c->mode = SRV_COOKIES_ON;
		else if (strcmp(s, "require") == 0)
			c->mode = SRV_COOKIES_REQUIRE;
		else
			conf_error(ctx, k, "expected off, on or require");
	}
	if ((k = conf_get(n, "rotate-interval")))
		(void)conf_duration_ms(ctx, k, 0, 366ull * 24 * 3600 * 1000, &c->rotate_ms);
	if (!(k = conf_get(n, "secret-file")) || !conf_str(ctx, k, &s))
		return 0;
	free(c->secret_file);
	c->secret_file = path_join(cfg->dir, s);
	if (!c->secret_file)
		return -ENOMEM;
	uint8_t secret[SRV_COOKIE_SECRET_LEN];
	int ret = srv_cookie_read_secret(c->secret_file, secret);
	if (ret < 0)
		conf_error(ctx, k, "%s: %s", c->secret_file,
		           ret == SD_EPARSE ? "expected 32 hexadecimal digits (a 128-bit secret)"
		                            : sd_strerror(ret));
	return 0;
}

/* Resolve the user and group (user/group: the command line's, NULL: the file's) to ids. */
static int finish_priv(srv_config_t *cfg, const char *user, const char *group)
{
	char *u = strdup(user ? user : cfg->priv.user ? cfg->priv.user : "");
	char *g = group || cfg->priv.group ? strdup(group ? group : cfg->priv.group) : NULL;
	const char *where = cfg->file ? cfg->file : "command line";
	int ret = u && (g || !(group || cfg->priv.group)) ? 0 : -ENOMEM;
	srv_priv_fini(&cfg->priv);
	if (ret == 0 && u[0] == '\0' && g != NULL) {
		log_error("%s: server.group %s needs server.user", where, g);
		ret = SD_ECONFIG;
	} else if (ret == 0 && u[0] != '\0') {
		const char *what = NULL;
		ret = srv_priv_resolve(u, g, &cfg->priv, &what);
		if (ret == SD_ENOTFOUND) {
			log_error("%s: server.%s: no %s named '%s' on this system", where,
			          what == u ? "user" : "group", what == u ? "user" : "group", what);
			ret = SD_ECONFIG;
		}
	}
	free(u);
	free(g);
	return ret;
}

static const struct {
	const char *key;
	key_fn parse;
} server_keys[] = {
    {"listen", key_listen},
    {"workers", key_workers},
    {"identity", key_identity},
    {"udp-payload", key_udp_payload},
    {"udp-batch-wait", key_udp_wait},
    {"tcp-idle-timeout", key_tcp_idle},
    {"tcp-max-connections", key_tcp_max},
    {"tcp-message-timeout", key_tcp_msg},
    {"control-socket", key_control},
    {"state-dir", key_state_dir},
    {"audit-log", key_audit_log},
    {"metrics-listen", key_metrics_listen},
    {"log-level", key_log_level},
    {"log-target", key_log_target},
    {"user", key_user},
    {"group", key_group},
    {"rrl", key_rrl},
    {"cookies", key_cookies},
};

static int parse_server(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg)
{
	const char *allowed[SD_ARRAY_LEN(server_keys) + 1] = {NULL};
	for (size_t i = 0; i < SD_ARRAY_LEN(server_keys); i++)
		allowed[i] = server_keys[i].key;
	if (!conf_expect_map(ctx, node, allowed))
		return 0;
	for (size_t k = 0; k < SD_ARRAY_LEN(server_keys); k++) {
		const conf_node_t *n = conf_get(node, server_keys[k].key);
		int ret = n ? server_keys[k].parse(ctx, n, cfg) : 0;
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* --- zones --- */

static const srv_zone_conf_t *zone_dup(const srv_config_t *cfg, const uint8_t *apex)
{
	return srv_config_zone(cfg, apex);
}

static int zone_entry(conf_ctx_t *ctx, const conf_node_t *item, srv_config_t *cfg)
{
	/* name, file, update-policy + the transfer keys (server/xfr/conf.h) */
	const char *keys[4 + 8] = {"name", "file", "update-policy"};
	for (size_t i = 0; xfr_zone_conf_keys[i] && i < 8; i++)
		keys[3 + i] = xfr_zone_conf_keys[i];
	if (!conf_expect_map(ctx, item, keys))
		return 0;
	const conf_node_t *name = conf_get(item, "name");
	const conf_node_t *file = conf_get(item, "file");
	const char *name_s = NULL, *file_s = NULL;
	srv_zone_conf_t *z = &cfg->zones[cfg->zone_count];
	if (!name)
		conf_error(ctx, item, "missing key 'name'");
	if (!file)
		conf_error(ctx, item, "missing key 'file'");
	if (!name || !file || !conf_str(ctx, name, &name_s) || !conf_str(ctx, file, &file_s))
		return 0;
	if (dname_from_str(name_s, NULL, z->apex) < 0) {
		conf_error(ctx, name, "'%s' is not a domain name", name_s);
		return 0;
	}
	size_t fl;
	if (!zone_name_fits(z->apex, &fl)) {
		conf_error(ctx, name,
		           "zone '%.40s...' is too long for its state files: their names would "
		           "take %zu bytes, more than NAME_MAX (%d)",
		           name_s, fl, NAME_MAX);
		return 0;
	}
	const srv_zone_conf_t *other = zone_dup(cfg, z->apex);
	if (other) {
		conf_error(ctx, name, "zone '%s' is already defined at %s", name_s, other->where);
		return 0;
	}
	z->name = strdup(name_s);
	z->file = path_join(cfg->dir, file_s);
	z->where = where_of(item);
	cfg->zone_count++; /* counted before the check so srv_config_free releases it */
	if (!z->name || !z->file || !z->where)
		return -ENOMEM;
	int ret = xfr_conf_zone(ctx, item, &cfg->keys, &z->xfr);
	const conf_node_t *up = conf_get(item, "update-policy");
	if (ret == 0 && up)
		ret = srv_upd_policy_parse(ctx, up, z->apex, &cfg->keys, &z->update_policy);
	return ret;
}

static int parse_keys(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg)
{
	return xfr_conf_keys(ctx, node, cfg->dir, &cfg->keys);
}

static int parse_zones(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg)
{
	if (!conf_expect_seq(ctx, node))
		return 0;
	cfg->zones = calloc(node->count ? node->count : 1, sizeof(*cfg->zones));
	if (!cfg->zones)
		return -ENOMEM;
	for (size_t i = 0; i < node->count; i++) {
		int ret = zone_entry(ctx, node->items[i], cfg);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* --- health --- */

/* Relative paths in the section (state-file, ca-file) are relative to the config file. */
static int parse_health(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg)
{
	int ret = health_conf_parse(ctx, node, cfg->dir, &cfg->health);
	return ret == SD_ECONFIG ? 0 : ret; /* reported through ctx, counted in ctx.errors */
}

/* MaxMind databases for geo steering, opened now (steering/conf.h): a missing or corrupt
 * file fails the start, or the reload (which keeps what runs). */
static int parse_geoip(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg)
{
	int ret = steer_conf_geoip(ctx, node, cfg->dir, &cfg->geoip);
	return ret == SD_ECONFIG ? 0 : ret; /* reported through ctx, counted in ctx.errors */
}

/* Policies are bound to served zones and probed with health templates (steering/conf.h). */
static int parse_steering(conf_ctx_t *ctx, const conf_node_t *node, srv_config_t *cfg)
{
	const uint8_t **apexes = calloc(cfg->zone_count ? cfg->zone_count : 1, sizeof(*apexes));
	if (!apexes)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->zone_count; i++)
		apexes[i] = cfg->zones[i].apex;
	steer_conf_env_t env = {.zones = apexes,
	                        .nzones = cfg->zone_count,
	                        .health = cfg->health,
	                        .dbs = cfg->geoip.dbs,
	                        .ndbs = cfg->geoip.ndbs};
	int ret = steer_conf_parse(ctx, node, &env, &cfg->steering);
	free(apexes);
	return ret == SD_ECONFIG ? 0 : ret; /* reported through ctx, counted in ctx.errors */
}

/* Without `health:` the prober runs with no targets; without health.state-file the
 * overrides go to <state-dir>/health.state so a forced target stays forced after a restart. */
static int finish_health(srv_config_t *cfg)
{
	if (!cfg->health) {
		int ret = health_conf_empty(&cfg->health);
		if (ret < 0)
			return ret;
	}
	char *path = path_join(cfg->state_dir, "health.state");
	if (!path)
		return -ENOMEM;
	int ret = health_conf_default_state_file(cfg->health, path);
	if (ret < 0 && ret != -ENOMEM) {
		log_error("%s: health state file '%s' %s", cfg->file ? cfg->file : "command line",
		          path, sd_strerror(ret));
		ret = SD_ECONFIG;
	}
	free(path);
	return ret;
}

/* --- whole documents --- */

/* state_dir: --state-dir (NULL: none), relative to the working directory; it overrides
 * server.state-dir. The default is the config file's directory, SRV_STATE_DIR_QUICK without
 * a file. */
static int finish(srv_config_t *cfg, const char *state_dir)
{
	if (!cfg->control_socket) {
		char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
		srv_ctl_default_path(buf, sizeof(buf));
		cfg->control_socket = strdup(buf);
	}
	if (state_dir) {
		free(cfg->state_dir);
		cfg->state_dir = strdup(state_dir);
	} else if (!cfg->state_dir) {
		cfg->state_dir = strdup(cfg->file ? cfg->dir : SRV_STATE_DIR_QUICK);
	}
	if (!cfg->control_socket || !cfg->state_dir)
		return -ENOMEM;
	if (!state_dir_fits(cfg->state_dir)) { /* server.state-dir was checked where it is */
		log_error("%s: state directory '%.40s...' is %zu bytes long: at most %d leave room "
		          "for the zones' file names within PATH_MAX (%d)",
		          state_dir ? "command line: --state-dir" : cfg->file, cfg->state_dir,
		          strlen(cfg->state_dir), STATE_DIR_MAX, PATH_MAX);
		return SD_ECONFIG;
	}
	return finish_health(cfg);
}

/* Every worker reserves its share of tcp-max-connections up front (server/worker.h): a
 * value the machine cannot reserve is an error here, in --check and before a start, rather
 * than a worker failing to start. */
static void check_tcp_pool(conf_ctx_t *ctx, const conf_node_t *root, srv_config_t *cfg)
{
	unsigned nw = srv_config_workers(cfg);
	uint32_t per = cfg->tcp_max_conns / nw ? cfg->tcp_max_conns / nw : 1; /* as server.c */
	size_t bytes = 0;
	int rc = srv_worker_pool_try(per, nw, &bytes);
	if (rc == 0)
		return;
	const conf_node_t *server = conf_get(root, "server");
	const conf_node_t *n = server ? conf_get(server, "tcp-max-connections") : NULL;
	conf_error(ctx,
	           n        ? n
	           : server ? server
	                    : root,
	           "%u connections (%u per worker, %u worker%s) reserve %zu MiB of "
	           "buffers up front, which this machine cannot reserve: %s; lower it",
	           cfg->tcp_max_conns, per, nw, nw == 1 ? "" : "s", bytes >> 20, sd_strerror(rc));
}

static int parse_doc(const conf_doc_t *doc, const char *state_dir, srv_config_t *cfg)
{
	conf_ctx_t ctx = {0};
	const conf_node_t *root = conf_root(doc);
	const char *allowed[SD_ARRAY_LEN(sections) + 1] = {NULL};
	for (size_t i = 0; i < SD_ARRAY_LEN(sections); i++)
		allowed[i] = sections[i].key;
	if (!conf_expect_map(&ctx, root, allowed))
		return SD_ECONFIG;
	for (size_t i = 0; i < SD_ARRAY_LEN(sections); i++) {
		const conf_node_t *n = conf_get(root, sections[i].key);
		int ret = n ? sections[i].parse(&ctx, n, cfg) : 0;
		if (ret < 0)
			return ret;
	}
	if (cfg->listen_count == 0 && !conf_get(conf_get(root, "server"), "listen")) {
		const conf_node_t *at = conf_get(root, "server") ? conf_get(root, "server") : root;
		conf_error(&ctx, at, "server.listen is required (at least one address)");
	}
	int ret = finish(cfg, state_dir);
	if (ret < 0)
		return ret;
	check_tcp_pool(&ctx, root, cfg);
	return ctx.errors ? SD_ECONFIG : 0;
}

static int load_doc(conf_doc_t *doc, const char *name, const char *state_dir, srv_config_t **out)
{
	srv_config_t *cfg = calloc(1, sizeof(*cfg));
	int ret = -ENOMEM;
	if (!cfg)
		goto out;
	set_defaults(cfg);
	cfg->file = strdup(name);
	cfg->dir = dir_of(name);
	if (!cfg->file || !cfg->dir)
		goto out;
	ret = parse_doc(doc, state_dir, cfg);
out:
	if (ret < 0 && ret != SD_ECONFIG) { /* an invalid config is returned for --check */
		srv_config_free(cfg);
		cfg = NULL;
	}
	*out = cfg;
	return ret;
}

int srv_config_load_string(const char *text, const char *name, srv_config_t **out)
{
	conf_doc_t *doc = NULL;
	*out = NULL;
	int ret = conf_load_string(text, name, &doc);
	if (ret < 0)
		return ret;
	ret = load_doc(doc, name, NULL, out);
	conf_free(doc);
	int ret2 = *out ? finish_priv(*out, NULL, NULL) : 0;
	return ret < 0 ? ret : ret2;
}

/* --- quick mode: the command line stands for the file --- */

static int cli_listen(const srv_cli_t *cli, srv_config_t *cfg, unsigned *errors)
{
	cfg->listen = calloc(cli->listen_count ? cli->listen_count : 1, sizeof(*cfg->listen));
	if (!cfg->listen)
		return -ENOMEM;
	for (size_t i = 0; i < cli->listen_count; i++) {
		srv_addr_t addr;
		if (srv_addr_parse(cli->listen[i], &addr) < 0 || listen_dup(cfg, &addr)) {
			log_error("command line: --listen %s: not an address, or given twice",
			          cli->listen[i]);
			(*errors)++;
			continue;
		}
		int ret = add_listen(cfg, cli->listen[i], "command line", &addr);
		if (ret < 0)
			return ret;
	}
	if (cli->listen_count == 0) {
		log_error("command line: --listen ADDR:PORT is required without -c");
		(*errors)++;
	}
	return 0;
}

static int cli_zone(const char *arg, srv_config_t *cfg, unsigned *errors)
{
	srv_zone_conf_t *z = &cfg->zones[cfg->zone_count];
	const char *eq = strchr(arg, '=');
	char name[DNAME_MAX * 4 + 1];
	size_t n = eq ? (size_t)(eq - arg) : 0;
	if (!eq || n == 0 || n >= sizeof(name) || eq[1] == '\0') {
		log_error("command line: --zone %s: expected NAME=PATH", arg);
		(*errors)++;
		return 0;
	}
	memcpy(name, arg, n);
	name[n] = '\0';
	if (dname_from_str(name, NULL, z->apex) < 0 || srv_config_zone(cfg, z->apex)) {
		log_error("command line: --zone %s: '%s' is not a domain name, or given twice", arg,
		          name);
		(*errors)++;
		return 0;
	}
	size_t fl;
	if (!zone_name_fits(z->apex, &fl)) {
		log_error("command line: --zone %.40s...: too long for its state files (%zu bytes, "
		          "more than NAME_MAX %d)",
		          arg, fl, NAME_MAX);
		(*errors)++;
		return 0;
	}
	z->name = strdup(name);
	z->file = strdup(eq + 1);
	z->where = strdup("command line");
	cfg->zone_count++;
	return z->name && z->file && z->where ? 0 : -ENOMEM;
}

static int cli_scalars(const srv_cli_t *cli, srv_config_t *cfg, unsigned *errors)
{
	if (cli->workers) {
		char *end = NULL;
		unsigned long v = strtoul(cli->workers, &end, 10);
		if (cli->workers[0] < '0' || cli->workers[0] > '9' || *end || v > SRV_WORKERS_MAX) {
			log_error("command line: --workers %s: expected 0 to %d", cli->workers,
			          SRV_WORKERS_MAX);
			(*errors)++;
		}
		cfg->workers = (unsigned)v;
	}
	if (cli->control) {
		if (cli->control[0] == '\0' ||
		    strlen(cli->control) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			log_error("command line: --control: path empty or too long");
			(*errors)++;
		}
		cfg->control_socket = strdup(cli->control);
		if (!cfg->control_socket)
			return -ENOMEM;
	}
	return 0;
}

static int load_cli(const srv_cli_t *cli, srv_config_t *cfg)
{
	unsigned errors = 0;
	cfg->dir = strdup(".");
	cfg->zones = calloc(cli->zone_count ? cli->zone_count : 1, sizeof(*cfg->zones));
	if (!cfg->dir || !cfg->zones)
		return -ENOMEM;
	int ret = cli_listen(cli, cfg, &errors);
	for (size_t i = 0; ret == 0 && i < cli->zone_count; i++)
		ret = cli_zone(cli->zones[i], cfg, &errors);
	if (ret == 0)
		ret = cli_scalars(cli, cfg, &errors);
	if (ret == 0)
		ret = finish(cfg, cli->state_dir);
	if (ret < 0)
		return ret;
	return errors ? SD_ECONFIG : 0;
}

static int cli_overrides(const srv_cli_t *cli, srv_config_t *cfg)
{
	if (cli->syslog)
		cfg->log_syslog = true;
	if (cli->log_level && log_level_parse(cli->log_level, &cfg->log_level) < 0) {
		log_error("command line: --log-level %s: expected error, warning, notice, info or "
		          "debug",
		          cli->log_level);
		return SD_ECONFIG;
	}
	return 0;
}

/* The command line's overrides, and the names resolved (both modes). */
static int finish_cli(const srv_cli_t *cli, srv_config_t *cfg)
{
	int ret = cli_overrides(cli, cfg);
	int ret2 = finish_priv(cfg, cli->user, cli->group);
	return ret < 0 ? ret : ret2;
}

int srv_config_load(const srv_cli_t *cli, srv_config_t **out)
{
	*out = NULL;
	if (cli->config_file &&
	    (cli->listen_count || cli->zone_count || cli->workers || cli->control)) {
		log_error(
		    "command line: --listen, --zone, --workers and --control replace -c FILE; "
		    "give one or the other");
		return SD_ECONFIG;
	}
	if (cli->config_file) {
		conf_doc_t *doc = NULL;
		int ret = conf_load(cli->config_file, &doc);
		if (ret < 0)
			return ret;
		ret = load_doc(doc, cli->config_file, cli->state_dir, out);
		conf_free(doc);
		int ret2 = *out ? finish_cli(cli, *out) : 0;
		return ret < 0 ? ret : ret2;
	}
	srv_config_t *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	set_defaults(cfg);
	int ret = load_cli(cli, cfg);
	if (ret < 0 && ret != SD_ECONFIG) {
		srv_config_free(cfg);
		return ret;
	}
	int ret2 = finish_cli(cli, cfg);
	*out = cfg;
	return ret < 0 ? ret : ret2;
}

void srv_config_free(srv_config_t *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->listen_count; i++) {
		free(cfg->listen[i].text);
		free(cfg->listen[i].where);
	}
	for (size_t i = 0; i < cfg->zone_count; i++) {
		free(cfg->zones[i].name);
		free(cfg->zones[i].file);
		free(cfg->zones[i].where);
		xfr_zone_conf_free(&cfg->zones[i].xfr);
		srv_upd_policy_free(&cfg->zones[i].update_policy);
	}
	xfr_keys_free(&cfg->keys);
	srv_priv_fini(&cfg->priv);
	free(cfg->rrl.whitelist);
	free(cfg->cookies.secret_file);
	free(cfg->listen);
	free(cfg->zones);
	health_conf_free(cfg->health);
	steer_table_unref(cfg->steering);
	steer_conf_geo_fini(&cfg->geoip);
	free(cfg->identity);
	free(cfg->control_socket);
	free(cfg->state_dir);
	free(cfg->audit_log);
	free(cfg->file);
	free(cfg->dir);
	free(cfg);
}

unsigned srv_config_workers(const srv_config_t *cfg)
{
	if (cfg->workers)
		return cfg->workers;
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	return n > SRV_WORKERS_MAX ? SRV_WORKERS_MAX : (unsigned)n;
}

const srv_zone_conf_t *srv_config_zone(const srv_config_t *cfg, const uint8_t *apex)
{
	for (size_t i = 0; i < cfg->zone_count; i++)
		if (dname_equal(cfg->zones[i].apex, apex))
			return &cfg->zones[i];
	return NULL;
}
