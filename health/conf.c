/* conf.c — validation of the `health:` section into an immutable health_conf_t. */
#include "health/conf.h"
#include "health/tls.h"
#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const section_keys[] = {"state-file", "templates", "targets", NULL};
static const char *const tpl_keys[] = {
    "name",        "type",       "port",     "path",     "host",    "expect-status",
    "expect-body", "body-limit", "interval", "jitter",   "timeout", "rise",
    "fall",        "initial",    "ca-file",  "insecure", NULL};
static const char *const target_keys[] = {"name", "address", "probe-address", "port", "template",
                                          "pool", NULL};

static const char *const type_names[] = {"tcp", "http", "https"};

const char *health_check_type_name(health_check_type_t t)
{
	return (size_t)t < SD_ARRAY_LEN(type_names) ? type_names[t] : "?";
}

health_tpl_t *health_tpl_ref(health_tpl_t *t)
{
	atomic_fetch_add(&t->refs, 1);
	return t;
}

void health_tpl_unref(health_tpl_t *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->name);
	free(t->path);
	free(t->host);
	free(t->expect_body);
	free(t->kmp);
	free(t->ca_file);
	health_tls_ctx_free(t->ssl_ctx);
	free(t);
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool health_tpl_equal(const health_tpl_t *a, const health_tpl_t *b)
{
	return a->type == b->type && a->port == b->port && str_eq(a->path, b->path) &&
	       str_eq(a->host, b->host) && str_eq(a->expect_body, b->expect_body) &&
	       a->nstatus == b->nstatus &&
	       memcmp(a->status, b->status, a->nstatus * sizeof(a->status[0])) == 0 &&
	       a->body_limit == b->body_limit && a->interval_ms == b->interval_ms &&
	       a->jitter_pct == b->jitter_pct && a->timeout_ms == b->timeout_ms &&
	       a->rise == b->rise && a->fall == b->fall && a->initial_down == b->initial_down &&
	       a->insecure == b->insecure && str_eq(a->ca_file, b->ca_file);
}

const health_tpl_t *health_conf_tpl(const health_conf_t *c, const char *name)
{
	for (size_t i = 0; i < c->ntpl; i++) /* an erroneous template may have no name */
		if (c->tpls[i]->name && strcmp(c->tpls[i]->name, name) == 0)
			return c->tpls[i];
	return NULL;
}

bool health_conf_has_template(const health_conf_t *conf, const char *name)
{
	return health_conf_tpl(conf, name) != NULL;
}

bool health_tpl_status_ok(const health_tpl_t *t, unsigned status)
{
	for (size_t i = 0; i < t->nstatus; i++)
		if (status >= t->status[i].lo && status <= t->status[i].hi)
			return true;
	return false;
}

bool health_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > HEALTH_NAME_MAX || strncmp(name, "pool:", 5) == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)name[i]) || name[i] == '"' || name[i] == '\\')
			return false;
	return true;
}

void health_sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
	}
}

uint16_t health_sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

void health_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

bool health_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

void health_conf_free(health_conf_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntpl; i++)
		health_tpl_unref(c->tpls[i]);
	for (size_t i = 0; i < c->ntargets; i++) {
		free(c->targets[i].name);
		free(c->targets[i].pool);
		health_tpl_unref(c->targets[i].tpl);
	}
	free(c->tpls);
	free(c->targets);
	free(c->state_file);
	free(c);
}

int health_conf_empty(health_conf_t **out)
{
	health_conf_t *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

/* Only a special file is an error here: a file that cannot be read yet (permissions, a
 * directory still to be created) is reported when it is used. */
int health_conf_state_file_check(const char *path)
{
	int rc = sd_regular_or_absent(path);
	return rc == -EISDIR || rc == SD_EFIFO || rc == SD_EDEVICE || rc == SD_ENOTREG ? rc : 0;
}

int health_conf_default_state_file(health_conf_t *conf, const char *path)
{
	if (conf->state_file)
		return 0;
	conf->state_file = strdup(path);
	return conf->state_file ? health_conf_state_file_check(path) : -ENOMEM;
}

/* ---- scalar helpers ---- */

static char *path_join(const char *base_dir, const char *p)
{
	char *r = NULL;
	if (p[0] == '/' || !base_dir || !base_dir[0])
		return strdup(p);
	if (asprintf(&r, "%s/%s", base_dir, p) < 0)
		return NULL;
	return r;
}

/* A string free of spaces and control characters: it goes into a request line or header. */
static bool header_safe(const char *s)
{
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

static bool parse_addr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* "20%" or "20": a percentage in [0, 100]. */
static bool conf_percent(conf_ctx_t *ctx, const conf_node_t *n, uint32_t *out)
{
	const char *s = NULL;
	if (!conf_str(ctx, n, &s))
		return false;
	char *end = NULL;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || (*end && strcmp(end, "%") != 0) || v > 100) {
		conf_error(ctx, n, "expected a percentage from 0%% to 100%%, found '%s'", s);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_range(const char *s, health_range_t *r)
{
	char *end = NULL;
	unsigned long lo = strtoul(s, &end, 10), hi = lo;
	if (end == s)
		return false;
	if (*end == '-') {
		const char *h = end + 1;
		hi = strtoul(h, &end, 10);
		if (end == h)
			return false;
	}
	if (*end || lo < 100 || hi > 599 || lo > hi)
		return false;
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return true;
}

static void parse_status(conf_ctx_t *ctx, const conf_node_t *n, health_tpl_t *t)
{
	const char *items[HEALTH_MAX_RANGES];
	size_t count = 0;
	if (!conf_str_list(ctx, n, items, HEALTH_MAX_RANGES, &count))
		return;
	for (size_t i = 0; i < count; i++) {
		if (!parse_range(items[i], &t->status[i])) {
			conf_error(ctx, n, "'%s' is not a status code or range within 100-599",
			           items[i]);
			return;
		}
	}
	t->nstatus = count;
}

/* Default expect-status: 2xx and 304. Other 3xx are redirects, which a probe does not
 * follow (RFC 9110 §15.4), so they count as failures. */
static void default_status(health_tpl_t *t)
{
	t->status[0] = (health_range_t){200, 299};
	t->status[1] = (health_range_t){304, 304};
	t->nstatus = 2;
}

static int build_kmp(health_tpl_t *t)
{
	t->expect_len = strlen(t->expect_body);
	t->kmp = calloc(t->expect_len, sizeof(*t->kmp));
	if (!t->kmp)
		return -ENOMEM;
	uint32_t k = 0;
	for (size_t i = 1; i < t->expect_len; i++) {
		while (k > 0 && t->expect_body[i] != t->expect_body[k])
			k = t->kmp[k - 1];
		if (t->expect_body[i] == t->expect_body[k])
			k++;
		t->kmp[i] = k;
	}
	return 0;
}

/* ---- templates ---- */

static bool dup_str(conf_ctx_t *ctx, const conf_node_t *n, char **out)
{
	const char *s = NULL;
	if (!n || !conf_str(ctx, n, &s))
		return false;
	*out = strdup(s);
	return *out != NULL;
}

static void tpl_defaults(health_tpl_t *t)
{
	t->body_limit = 4096;
	t->interval_ms = 1000;
	t->jitter_pct = 10;
	t->timeout_ms = 2000;
	t->rise = 2;
	t->fall = 3;
	default_status(t);
}

static void tpl_type(conf_ctx_t *ctx, const conf_node_t *m, health_tpl_t *t)
{
	const conf_node_t *n = conf_get(m, "type");
	const char *s = NULL;
	if (!n) {
		conf_error(ctx, m, "missing key 'type' (tcp, http or https)");
		return;
	}
	if (!conf_str(ctx, n, &s))
		return;
	for (size_t i = 0; i < SD_ARRAY_LEN(type_names); i++) {
		if (strcmp(s, type_names[i]) == 0) {
			t->type = (health_check_type_t)i;
			return;
		}
	}
	conf_error(ctx, n, "unknown check type '%s' (tcp, http or https)", s);
}

/* Keys that make no sense for the template's type are errors, not silently ignored. */
static void tpl_reject(conf_ctx_t *ctx, const conf_node_t *m, const char *key, const char *why)
{
	const conf_node_t *n = conf_get(m, key);
	if (n)
		conf_error(ctx, n, "'%s' %s", key, why);
}

static void tpl_http(conf_ctx_t *ctx, const conf_node_t *m, health_tpl_t *t)
{
	const conf_node_t *n;
	if ((n = conf_get(m, "path")) && dup_str(ctx, n, &t->path) &&
	    (t->path[0] != '/' || !header_safe(t->path)))
		conf_error(ctx, n, "the path must start with '/' and contain no spaces");
	if (!t->path)
		t->path = strdup("/");
	if ((n = conf_get(m, "host")) && dup_str(ctx, n, &t->host) &&
	    (!t->host[0] || !header_safe(t->host)))
		conf_error(ctx, n, "the host must be a name without spaces");
	if ((n = conf_get(m, "expect-status")))
		parse_status(ctx, n, t);
	if ((n = conf_get(m, "expect-body")) && dup_str(ctx, n, &t->expect_body)) {
		if (!t->expect_body[0])
			conf_error(ctx, n, "expect-body must not be empty");
		else if (build_kmp(t) < 0)
			conf_error(ctx, n, "out of memory");
	}
	if ((n = conf_get(m, "body-limit")))
		conf_u32(ctx, n, 1, 1u << 20, &t->body_limit);
	if (t->expect_body && t->expect_len > t->body_limit)
		conf_error(ctx, m, "expect-body is longer than body-limit");
}

static void tpl_tls(conf_ctx_t *ctx, const conf_node_t *m, health_tpl_t *t, const char *base_dir)
{
	const conf_node_t *n;
	unsigned before = ctx->errors; /* ctx counts the whole file's errors, not only ours */
	if ((n = conf_get(m, "insecure")))
		conf_bool(ctx, n, &t->insecure);
	if ((n = conf_get(m, "ca-file"))) {
		const char *s = NULL;
		if (!conf_str(ctx, n, &s))
			return;
		if (t->insecure) {
			conf_error(ctx, n, "ca-file has no effect with insecure: true");
			return;
		}
		t->ca_file = path_join(base_dir, s);
		/* OpenSSL reads it next: a FIFO or device would block or never end there. */
		int fd = t->ca_file ? sd_open_regular(t->ca_file, O_RDONLY, 0) : 0;
		if (fd < 0) {
			conf_error(ctx, n, "cannot read '%s': %s", t->ca_file, sd_strerror(fd));
			return;
		}
		if (t->ca_file)
			close(fd);
	}
	if (ctx->errors != before)
		return;
	char err[256];
	if (health_tls_ctx_new(t->ca_file, t->insecure, &t->ssl_ctx, err, sizeof(err)) < 0)
		conf_error(ctx, n ? n : m, "TLS setup failed: %s", err);
}

static void tpl_timing(conf_ctx_t *ctx, const conf_node_t *m, health_tpl_t *t)
{
	const conf_node_t *n;
	uint64_t ms = 0;
	if ((n = conf_get(m, "port"))) {
		uint32_t p = 0;
		if (conf_u32(ctx, n, 1, 65535, &p))
			t->port = (uint16_t)p;
	}
	if ((n = conf_get(m, "interval")) && conf_duration_ms(ctx, n, 50, 3600000, &ms))
		t->interval_ms = (uint32_t)ms;
	if ((n = conf_get(m, "timeout")) && conf_duration_ms(ctx, n, 10, 600000, &ms))
		t->timeout_ms = (uint32_t)ms;
	if ((n = conf_get(m, "jitter")) && conf_percent(ctx, n, &t->jitter_pct) &&
	    t->jitter_pct > 50)
		conf_error(ctx, n, "jitter above 50%% would make checks bunch up");
	if ((n = conf_get(m, "rise")))
		conf_u32(ctx, n, 1, 1000, &t->rise);
	if ((n = conf_get(m, "fall")))
		conf_u32(ctx, n, 1, 1000, &t->fall);
	if ((n = conf_get(m, "initial"))) {
		const char *s = NULL;
		if (conf_str(ctx, n, &s) && strcmp(s, "up") != 0 && strcmp(s, "down") != 0)
			conf_error(ctx, n, "expected 'up' or 'down', found '%s'", s);
		t->initial_down = s && strcmp(s, "down") == 0;
	}
}

static health_tpl_t *parse_tpl(conf_ctx_t *ctx, const conf_node_t *m, const char *base_dir)
{
	if (!conf_expect_map(ctx, m, tpl_keys))
		return NULL;
	health_tpl_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	tpl_defaults(t);
	unsigned before = ctx->errors;
	if (!dup_str(ctx, conf_get(m, "name"), &t->name))
		conf_error(ctx, m, "a template needs a 'name'");
	else if (!health_name_valid(t->name))
		conf_error(ctx, conf_get(m, "name"), "invalid name '%s'", t->name);
	tpl_type(ctx, m, t);
	tpl_timing(ctx, m, t);
	if (t->type == HEALTH_CHECK_TCP) {
		static const char *const http_only[] = {"path", "host", "expect-status",
		                                        "expect-body", "body-limit"};
		for (size_t i = 0; i < SD_ARRAY_LEN(http_only); i++)
			tpl_reject(ctx, m, http_only[i], "applies to http and https checks only");
	} else {
		tpl_http(ctx, m, t);
		if (!t->port)
			t->port = t->type == HEALTH_CHECK_HTTPS ? 443 : 80;
	}
	if (t->type != HEALTH_CHECK_HTTPS) {
		tpl_reject(ctx, m, "ca-file", "applies to https checks only");
		tpl_reject(ctx, m, "insecure", "applies to https checks only");
	} else if (ctx->errors == before) {
		tpl_tls(ctx, m, t, base_dir);
	}
	return t;
}

/* ---- targets ---- */

static void parse_target(conf_ctx_t *ctx, const conf_node_t *m, health_conf_t *c, health_tdef_t *d)
{
	if (!conf_expect_map(ctx, m, target_keys))
		return;
	const conf_node_t *n;
	if (!dup_str(ctx, conf_get(m, "name"), &d->name))
		conf_error(ctx, m, "a target needs a 'name'");
	else if (!health_name_valid(d->name))
		conf_error(ctx, conf_get(m, "name"), "invalid name '%s'", d->name);
	const char *s = NULL;
	if (!(n = conf_get(m, "address")))
		conf_error(ctx, m, "a target needs an 'address'");
	else if (conf_str(ctx, n, &s) && !parse_addr(s, &d->addr))
		conf_error(ctx, n, "'%s' is not an IPv4 or IPv6 address", s);
	d->probe = d->addr;
	if ((n = conf_get(m, "probe-address")) && conf_str(ctx, n, &s) && !parse_addr(s, &d->probe))
		conf_error(ctx, n, "'%s' is not an IPv4 or IPv6 address", s);
	if ((n = conf_get(m, "pool")) && dup_str(ctx, n, &d->pool) && !health_name_valid(d->pool))
		conf_error(ctx, n, "invalid pool name '%s'", d->pool);
	const health_tpl_t *t = NULL;
	if (!(n = conf_get(m, "template")))
		conf_error(ctx, m, "a target needs a 'template'");
	else if (conf_str(ctx, n, &s) && !(t = health_conf_tpl(c, s)))
		conf_error(ctx, n, "no template named '%s'", s);
	if (t)
		d->tpl = health_tpl_ref((health_tpl_t *)t);
	uint32_t port = t ? t->port : 0;
	if ((n = conf_get(m, "port")))
		conf_u32(ctx, n, 1, 65535, &port);
	if (t && !port)
		conf_error(ctx, m, "no port: set one on the target or its template");
	health_sockaddr_set_port(&d->addr, (uint16_t)port);
	health_sockaddr_set_port(&d->probe, (uint16_t)port);
}

static void parse_templates(conf_ctx_t *ctx, const conf_node_t *n, health_conf_t *c,
                            const char *base_dir)
{
	if (!conf_expect_seq(ctx, n))
		return;
	c->tpls = calloc(n->count ? n->count : 1, sizeof(*c->tpls));
	if (!c->tpls) {
		conf_error(ctx, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->count; i++) {
		health_tpl_t *t = parse_tpl(ctx, n->items[i], base_dir);
		if (!t)
			continue;
		if (t->name && health_conf_tpl(c, t->name))
			conf_error(ctx, n->items[i], "duplicate template name '%s'", t->name);
		c->tpls[c->ntpl++] = t;
	}
}

static void parse_targets(conf_ctx_t *ctx, const conf_node_t *n, health_conf_t *c)
{
	if (!conf_expect_seq(ctx, n))
		return;
	c->targets = calloc(n->count ? n->count : 1, sizeof(*c->targets));
	if (!c->targets) {
		conf_error(ctx, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->count; i++) {
		health_tdef_t *d = &c->targets[c->ntargets++];
		parse_target(ctx, n->items[i], c, d);
		/* Quadratic, but only at config load and with short strcmp exits; 10,000
		 * targets cost well under a second. */
		for (size_t j = 0; d->name && j + 1 < c->ntargets; j++)
			if (c->targets[j].name && strcmp(c->targets[j].name, d->name) == 0) {
				conf_error(ctx, n->items[i], "duplicate target name '%s'", d->name);
				break;
			}
	}
}

int health_conf_parse(conf_ctx_t *ctx, const conf_node_t *section, const char *base_dir,
                      health_conf_t **out)
{
	unsigned before = ctx->errors;
	health_conf_t *c = NULL;
	int ret = health_conf_empty(&c);
	if (ret < 0)
		return ret;
	if (!conf_expect_map(ctx, section, section_keys))
		goto out;
	const conf_node_t *n;
	if ((n = conf_get(section, "state-file"))) {
		const char *s = NULL;
		if (conf_str(ctx, n, &s) && !(c->state_file = path_join(base_dir, s)))
			conf_error(ctx, n, "out of memory");
		int rc = c->state_file ? health_conf_state_file_check(c->state_file) : 0;
		if (rc < 0)
			conf_error(ctx, n, "state-file '%s' %s", c->state_file, sd_strerror(rc));
	}
	if ((n = conf_get(section, "templates")))
		parse_templates(ctx, n, c, base_dir);
	if ((n = conf_get(section, "targets")))
		parse_targets(ctx, n, c);
out:
	if (ctx->errors != before) {
		health_conf_free(c);
		return SD_ECONFIG;
	}
	*out = c;
	return 0;
}
