#include "server/xfr/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"

#define SECRET_FILE_MAX 4096

const char *const xfr_zone_conf_keys[] = {
    "serial-policy", "notify", "transfer-acl", "journal-max-size", "journal-max-depth", NULL,
};

/* ---------------------------------------------------------------- keys */

static bool read_secret_file(conf_ctx_t *ctx, const conf_node_t *n, const char *dir,
                             const char *path, char *buf)
{
	char full[4096];
	if (path[0] == '/' || strcmp(dir, ".") == 0)
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", dir, path);
	int fd = sd_open_regular(full, O_RDONLY, 0); /* never a FIFO or device (fsutil.h) */
	if (fd < 0) {
		conf_error(ctx, n, "cannot read '%s': %s", full, sd_strerror(fd));
		return false;
	}
	size_t len = 0;
	while (len < SECRET_FILE_MAX - 1) {
		ssize_t r = read(fd, buf + len, SECRET_FILE_MAX - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			conf_error(ctx, n, "cannot read '%s': %s", full, sd_strerror(sd_errno()));
			close(fd);
			return false;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return true;
}

static void key_entry(conf_ctx_t *ctx, const conf_node_t *item, const char *dir, xfr_keys_t *out)
{
	static const char *const allowed[] = {"name", "algorithm", "secret", "secret-file", NULL};
	if (!conf_expect_map(ctx, item, allowed))
		return;
	const conf_node_t *name = conf_get(item, "name"), *alg = conf_get(item, "algorithm");
	const conf_node_t *sec = conf_get(item, "secret"), *file = conf_get(item, "secret-file");
	const char *name_s = NULL, *alg_s = "hmac-sha256", *sec_s = NULL;
	char buf[SECRET_FILE_MAX];
	if (name == NULL || (sec == NULL) == (file == NULL)) {
		conf_error(ctx, item, "a key needs 'name' and one of 'secret' or 'secret-file'");
		return;
	}
	if (!conf_str(ctx, name, &name_s) || (alg != NULL && !conf_str(ctx, alg, &alg_s)))
		return;
	if (sec != NULL && !conf_str(ctx, sec, &sec_s))
		return;
	if (file != NULL) {
		const char *path = NULL;
		if (!conf_str(ctx, file, &path) || !read_secret_file(ctx, file, dir, path, buf))
			return;
		sec_s = buf;
	}
	tsig_alg_t a;
	if (tsig_alg_parse(alg_s, &a) != 0) {
		conf_error(ctx, alg ? alg : item,
		           "unknown algorithm '%s' (hmac-sha1, hmac-sha224, "
		           "hmac-sha256, hmac-sha384, hmac-sha512)",
		           alg_s);
		return;
	}
	tsig_key_t *k = &out->keys[out->count];
	int rc = tsig_key_init(k, name_s, alg_s, sec_s);
	memset(buf, 0, sizeof(buf));
	if (rc != 0) {
		conf_error(ctx, item, "key '%s': bad name or secret (%s)", name_s, sd_strerror(rc));
		return;
	}
	if (xfr_keys_find(out, k->name) != NULL) {
		conf_error(ctx, name, "key '%s' is defined twice", name_s);
		return;
	}
	out->count++;
}

int xfr_conf_keys(conf_ctx_t *ctx, const conf_node_t *node, const char *dir, xfr_keys_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!conf_expect_seq(ctx, node))
		return 0;
	out->keys = calloc(node->count ? node->count : 1, sizeof(*out->keys));
	if (out->keys == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < node->count; i++)
		key_entry(ctx, node->items[i], dir, out);
	return 0;
}

void xfr_keys_free(xfr_keys_t *keys)
{
	if (keys == NULL)
		return;
	if (keys->keys != NULL)
		memset(keys->keys, 0, keys->count * sizeof(*keys->keys)); /* secrets */
	free(keys->keys);
	memset(keys, 0, sizeof(*keys));
}

const tsig_key_t *xfr_keys_find(const xfr_keys_t *keys, const uint8_t *name)
{
	for (size_t i = 0; i < keys->count; i++)
		if (dname_equal(keys->keys[i].name, name))
			return &keys->keys[i];
	return NULL;
}

/* ---------------------------------------------------------------- zones */

const tsig_key_t *xfr_conf_key_ref(conf_ctx_t *ctx, const conf_node_t *n, const xfr_keys_t *keys)
{
	const char *s = NULL;
	uint8_t name[DNAME_MAX];
	if (!conf_str(ctx, n, &s))
		return NULL;
	const tsig_key_t *k = dname_from_str(s, NULL, name) >= 0 ? xfr_keys_find(keys, name) : NULL;
	if (k == NULL)
		conf_error(ctx, n, "key '%s' is not defined under 'keys'", s);
	return k;
}

static void notify_entry(conf_ctx_t *ctx, const conf_node_t *item, const xfr_keys_t *keys,
                         xfr_zone_conf_t *out)
{
	static const char *const allowed[] = {"address", "key", NULL};
	const conf_node_t *addr = item, *key = NULL;
	if (item->kind == CONF_MAP) {
		if (!conf_expect_map(ctx, item, allowed))
			return;
		addr = conf_get(item, "address");
		key = conf_get(item, "key");
		if (addr == NULL) {
			conf_error(ctx, item, "missing key 'address'");
			return;
		}
	}
	const char *s = NULL;
	xfr_notify_target_t *t = &out->notify[out->notify_count];
	if (!conf_str(ctx, addr, &s))
		return;
	if (xfr_notify_target_parse(s, t) != 0) {
		conf_error(ctx, addr, "'%s' is not ADDRESS, ADDRESS:PORT or [IPV6]:PORT", s);
		return;
	}
	if (key != NULL) {
		const tsig_key_t *k = xfr_conf_key_ref(ctx, key, keys);
		if (k == NULL)
			return;
		out->notify_keys[out->notify_count] = *k;
		t->key = &out->notify_keys[out->notify_count];
	}
	out->notify_count++;
}

static void acl_entry(conf_ctx_t *ctx, const conf_node_t *item, const xfr_keys_t *keys,
                      xfr_zone_conf_t *out)
{
	static const char *const allowed[] = {"address", "key", NULL};
	if (!conf_expect_map(ctx, item, allowed))
		return;
	const conf_node_t *addr = conf_get(item, "address"), *key = conf_get(item, "key");
	xfr_acl_rule_t *r = &out->acl[out->acl_count];
	memset(r, 0, sizeof(*r));
	if (addr == NULL && key == NULL) {
		conf_error(ctx, item, "a transfer-acl rule needs 'address', 'key' or both");
		return;
	}
	const char *s = NULL;
	if (addr != NULL) {
		if (!conf_str(ctx, addr, &s))
			return;
		if (xfr_acl_rule_set_addr(r, s) != 0) {
			conf_error(ctx, addr,
			           "'%s' is not an address or prefix (host bits must be 0)", s);
			return;
		}
	}
	if (key != NULL) {
		const tsig_key_t *k = xfr_conf_key_ref(ctx, key, keys);
		if (k == NULL)
			return;
		xfr_acl_rule_set_key(r, k->name);
	}
	out->acl_count++;
}

/* A sequence (or, for notify, a single entry) of n items; arrays sized to the count. */
static int zone_lists(conf_ctx_t *ctx, const conf_node_t *zone, const xfr_keys_t *keys,
                      xfr_zone_conf_t *out)
{
	const conf_node_t *n = conf_get(zone, "notify");
	if (n != NULL && conf_expect_seq(ctx, n)) {
		out->notify = calloc(n->count + 1, sizeof(*out->notify));
		out->notify_keys = calloc(n->count + 1, sizeof(*out->notify_keys));
		if (out->notify == NULL || out->notify_keys == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n->count; i++)
			notify_entry(ctx, n->items[i], keys, out);
	}
	const conf_node_t *a = conf_get(zone, "transfer-acl");
	if (a != NULL && conf_expect_seq(ctx, a)) {
		out->acl = calloc(a->count + 1, sizeof(*out->acl));
		if (out->acl == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < a->count; i++)
			acl_entry(ctx, a->items[i], keys, out);
	}
	return 0;
}

int xfr_conf_zone(conf_ctx_t *ctx, const conf_node_t *zone, const xfr_keys_t *keys,
                  xfr_zone_conf_t *out)
{
	memset(out, 0, sizeof(*out));
	const conf_node_t *n = conf_get(zone, "serial-policy");
	const char *s = NULL;
	if (n != NULL && conf_str(ctx, n, &s) && zone_serial_policy_parse(s, &out->policy) != 0)
		conf_error(ctx, n, "'%s' is not increment, unixtime or dateserial", s);
	uint32_t v = 0;
	n = conf_get(zone, "journal-max-size");
	if (n != NULL && conf_u32(ctx, n, 4096, UINT32_MAX, &v))
		out->limits.max_size = v;
	n = conf_get(zone, "journal-max-depth");
	if (n != NULL && conf_u32(ctx, n, 2, 1000000, &v))
		out->limits.max_depth = v;
	return zone_lists(ctx, zone, keys, out);
}

int xfr_zone_conf_copy(const xfr_zone_conf_t *from, xfr_zone_conf_t *to)
{
	*to = *from;
	to->notify = calloc(from->notify_count + 1, sizeof(*to->notify));
	to->notify_keys = calloc(from->notify_count + 1, sizeof(*to->notify_keys));
	to->acl = calloc(from->acl_count + 1, sizeof(*to->acl));
	if (to->notify == NULL || to->notify_keys == NULL || to->acl == NULL) {
		xfr_zone_conf_free(to);
		return -ENOMEM;
	}
	for (size_t i = 0; i < from->notify_count; i++) {
		to->notify[i] = from->notify[i];
		if (from->notify[i].key != NULL) {
			to->notify_keys[i] = *from->notify[i].key;
			to->notify[i].key = &to->notify_keys[i];
		}
	}
	if (from->acl_count)
		memcpy(to->acl, from->acl, from->acl_count * sizeof(*to->acl));
	return 0;
}

void xfr_zone_conf_free(xfr_zone_conf_t *c)
{
	if (c == NULL)
		return;
	free(c->notify);
	if (c->notify_keys != NULL)
		memset(c->notify_keys, 0, c->notify_count * sizeof(*c->notify_keys));
	free(c->notify_keys);
	free(c->acl);
	memset(c, 0, sizeof(*c));
}
