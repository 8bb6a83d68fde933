/* cookie.c — DNS cookies; see cookie.h. */
/* rcu_dereference() inline on the query path (allowed under any license, liburcu README) */
#define URCU_INLINE_SMALL_FUNCTIONS
#include "server/cookie.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "contrib/base/bytes.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/addr.h"
#include "contrib/base/stat.h"

#define VERSION 1

void srv_cookie_make(const uint8_t secret[SRV_COOKIE_SECRET_LEN], const uint8_t client[8],
                     const struct sockaddr *addr, uint32_t now, uint8_t out[16])
{
	out[0] = VERSION;
	out[1] = out[2] = out[3] = 0;
	be32_put(out + 4, now);
	sd_siphash_t h;
	sd_siphash_init(&h, secret);
	sd_siphash_update(&h, client, 8);
	sd_siphash_update(&h, out, 8);
	const uint8_t *ip = NULL;
	size_t n = sd_addr_bytes(addr, &ip); /* RFC 9018 4.4: 4 bytes for an IPv4 client */
	if (n)
		sd_siphash_update(&h, ip, n);
	uint64_t hash = sd_siphash_final(&h);
	for (unsigned i = 0; i < 8; i++) /* the reference output: little-endian bytes */
		out[8 + i] = (uint8_t)(hash >> (8 * i));
}

/* The server cookie presented (16 bytes, version 1) is ours with secret. */
static bool made_with(const uint8_t secret[SRV_COOKIE_SECRET_LEN], const uint8_t *client,
                      const uint8_t *server, const struct sockaddr *addr)
{
	uint8_t want[16];
	srv_cookie_make(secret, client, addr, be32_get(server + 4), want);
	/* constant time: the hash must not leak byte by byte */
	uint8_t diff = 0;
	for (unsigned i = 8; i < 16; i++)
		diff |= want[i] ^ server[i];
	return diff == 0;
}

/* RFC 9018 4.3: the timestamp in serial number arithmetic (RFC 1982) against now. Returns
 * its age in seconds (negative: ahead), or false when outside the window. */
static bool fresh_enough(uint32_t ts, uint32_t now, int64_t *age)
{
	int32_t d = (int32_t)(now - ts);
	*age = d;
	return d <= SRV_COOKIE_MAX_AGE && d >= -SRV_COOKIE_MAX_AHEAD;
}

/* Which secret (0 none, 1 current, 2 previous) made the presented server cookie, if it is
 * still within its lifetime. */
static int verify(const srv_cookie_secrets_t *s, const srv_query_t *q, uint32_t now, int64_t *age)
{
	const uint8_t *client = q->msg + q->cookie_at;
	const uint8_t *server = client + 8;
	if (q->cookie_len != 8 + 16 || server[0] != VERSION || server[1] || server[2] ||
	    server[3] || !fresh_enough(be32_get(server + 4), now, age))
		return 0;
	if (made_with(s->current, client, server, q->client))
		return 1;
	if (s->has_previous && made_with(s->previous, client, server, q->client))
		return 2;
	return 0;
}

void srv_cookie_process(const srv_cookie_secrets_t *s, srv_query_t *q, uint32_t now,
                        srv_cookie_stats_t *st)
{
	if (s == NULL || !q->has_cookie)
		return;
	const uint8_t *client = q->msg + q->cookie_at;
	int64_t age = 0;
	int by = q->cookie_len > 8 ? verify(s, q, now, &age) : 0;
	q->cookie_valid = by != 0;
	q->cookie_reply = true;
	if (by == 1 && age >= 0 && age < SRV_COOKIE_REISSUE_AGE)
		memcpy(q->cookie_server, client + 8, 16); /* still young: echoed */
	else
		srv_cookie_make(s->current, client, q->client, now, q->cookie_server);
	if (by != 0)
		sd_stat_inc(&st->valid);
	else if (q->cookie_len > 8)
		sd_stat_inc(&st->invalid);
	else
		sd_stat_inc(&st->client_only);
	/* RFC 7873 5.2.3/5.2.4: a policy that requires a server cookie answers BADCOOKIE over
	 * UDP; TCP has proven the address already */
	if (s->require && by == 0 && !q->tcp) {
		q->cookie_badcookie = true;
		sd_stat_inc(&st->badcookie);
	}
}

/* --- secrets (control thread) --- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int srv_cookie_read_secret(const char *path, uint8_t out[SRV_COOKIE_SECRET_LEN])
{
	char buf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return sd_errno();
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int ret = n < 0 ? sd_errno() : 0;
	close(fd);
	if (ret < 0)
		return ret;
	buf[n] = '\0';
	const char *p = buf + strspn(buf, " \t\r\n");
	for (size_t i = 0; i < SRV_COOKIE_SECRET_LEN; i++) {
		int hi = hexval(p[2 * i]), lo = hi < 0 ? -1 : hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return SD_EPARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	p += 2 * SRV_COOKIE_SECRET_LEN;
	return p[strspn(p, " \t\r\n")] == '\0' ? 0 : SD_EPARSE;
}

/* A new secret: the file's, or random. */
static int new_secret(const srv_cookie_conf_t *conf, uint8_t out[SRV_COOKIE_SECRET_LEN])
{
	if (conf->secret_file != NULL) {
		int ret = srv_cookie_read_secret(conf->secret_file, out);
		if (ret < 0)
			log_error("event=cookie-secret-failed file=%s reason=%s",
			          LOG_Q(conf->secret_file),
			          LOG_Q(ret == SD_EPARSE
			                    ? "expected 32 hexadecimal digits (128 bits)"
			                    : sd_strerror(ret)));
		return ret;
	}
	if (getrandom(out, SRV_COOKIE_SECRET_LEN, 0) != SRV_COOKIE_SECRET_LEN) {
		log_error("event=cookie-secret-failed reason=%s", LOG_Q(sd_strerror(sd_errno())));
		return -EIO;
	}
	return 0;
}

static void publish(srv_cookies_t *c, srv_cookie_secrets_t *next)
{
	srv_cookie_secrets_t *prev = c->current;
	rcu_assign_pointer(c->current, next);
	synchronize_rcu(); /* no worker holds prev any more */
	free(prev);
}

int srv_cookies_init(srv_cookies_t *c, const srv_cookie_conf_t *conf)
{
	if (conf->mode == SRV_COOKIES_OFF)
		return 0;
	srv_cookie_secrets_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->require = conf->mode == SRV_COOKIES_REQUIRE;
	int ret = new_secret(conf, s->current);
	if (ret < 0) {
		free(s);
		return ret;
	}
	rcu_assign_pointer(c->current, s); /* before the workers start: nothing to wait for */
	return 0;
}

int srv_cookies_rotate(srv_cookies_t *c, const srv_cookie_conf_t *conf)
{
	const srv_cookie_secrets_t *cur = c->current;
	if (cur == NULL)
		return SD_ENOTFOUND; /* cookies are off */
	srv_cookie_secrets_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	*s = *cur;
	int ret = new_secret(conf, s->current);
	if (ret < 0) {
		free(s);
		return ret;
	}
	if (memcmp(s->current, cur->current, SRV_COOKIE_SECRET_LEN) != 0) {
		memcpy(s->previous, cur->current, SRV_COOKIE_SECRET_LEN);
		s->has_previous = true;
	}
	publish(c, s);
	c->rotations++;
	log_info("event=cookie-secret-rotated rotations=%llu hint=\"the previous one is still "
	         "accepted\"",
	         (unsigned long long)c->rotations);
	return 0;
}

void srv_cookies_fini(srv_cookies_t *c)
{
	free(c->current);
	*c = (srv_cookies_t){0};
}

const srv_cookie_secrets_t *srv_cookies_current(srv_cookies_t *c)
{
	return rcu_dereference(c->current);
}
