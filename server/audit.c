/* audit.c — the UPDATE audit log (see audit.h). */
#include "server/audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/msg.h"
#include "contrib/base/err.h"
#include "contrib/base/escape.h"
#include "contrib/base/log.h"
#include "dns/name.h"
#include "zone/dump.h"

/* Presentation form of one record: most fit here; a large RDATA (up to 64 KiB as hex or
 * \# generic text) gets a buffer of its size. */
#define RR_TEXT_SMALL 1024
#define RR_TEXT_LARGE (4 * 65536 + 2 * DNAME_MAX * 4 + 64)

struct srv_audit {
	int fd; /* -1: the daemon log */
	char *path;
	uint64_t lines, failed;
	bool failing; /* the last write failed: log the next failure only after a success */
};

static int open_sink(const char *path, int *fd)
{
	*fd = -1;
	if (path == NULL)
		return 0;
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (*fd < 0) {
		int ret = sd_errno();
		log_error("event=audit-log-failed file=%s reason=%s", LOG_Q(path),
		          LOG_Q(sd_strerror(ret)));
		return ret;
	}
	return 0;
}

int srv_audit_new(const char *path, srv_audit_t **out)
{
	srv_audit_t *a = calloc(1, sizeof(*a));
	*out = NULL;
	if (a == NULL || (path != NULL && (a->path = strdup(path)) == NULL)) {
		free(a);
		return -ENOMEM;
	}
	int ret = open_sink(path, &a->fd);
	if (ret < 0) {
		free(a->path);
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

int srv_audit_reopen(srv_audit_t *a, const char *path)
{
	/* path may be a->path itself: copied before the old one is freed */
	char *copy = path != NULL ? strdup(path) : NULL;
	if (path != NULL && copy == NULL)
		return -ENOMEM;
	int fd = -1, ret = open_sink(path, &fd);
	if (ret < 0) {
		free(copy);
		return ret;
	}
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	a->fd = fd;
	a->path = copy;
	a->failing = false;
	return 0;
}

void srv_audit_free(srv_audit_t *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
}

const char *srv_audit_path(const srv_audit_t *a)
{
	return a->path;
}

void srv_audit_counts(const srv_audit_t *a, uint64_t *lines, uint64_t *failed)
{
	*lines = a->lines;
	*failed = a->failed;
}

static void json_name(sd_strbuf_t *b, const uint8_t *name)
{
	char text[DNAME_MAX * 4 + 1];
	if (name == NULL) {
		sd_strbuf_printf(b, "null");
		return;
	}
	dname_to_str(name, text, sizeof(text));
	sd_strbuf_json_str(b, text);
}

static void json_time(sd_strbuf_t *b, const struct timespec *ts)
{
	struct tm tm;
	char when[32] = "1970-01-01T00:00:00";
	time_t sec = ts->tv_sec;
	if (gmtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	sd_strbuf_printf(b, "\"%s.%03ldZ\"", when, (long)(ts->tv_nsec / 1000000));
}

static void json_client(sd_strbuf_t *b, const struct sockaddr *sa)
{
	char addr[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
	}
	if (addr[0])
		sd_strbuf_printf(b, "\"client\":\"%s\",\"port\":%u", addr, port);
	else
		sd_strbuf_printf(b, "\"client\":null,\"port\":null");
}

/* One record as a JSON string; a record that cannot be formatted is written as what it is
 * (owner and type), so the line still counts it. */
/* The master-file form separates fields with tabs; the line reads "owner TTL IN TYPE rdata"
 * with single spaces (a tab inside RDATA text is escaped as \009 by the formatter). */
static void json_rr_text(sd_strbuf_t *b, char *text)
{
	for (char *p = strchr(text, '\t'); p != NULL; p = strchr(p + 1, '\t'))
		*p = ' ';
	sd_strbuf_json_str(b, text);
}

static void json_rr(sd_strbuf_t *b, const zone_rr_t *rr)
{
	char small[RR_TEXT_SMALL];
	int n = zone_rr_format(rr, small, sizeof(small));
	if (n >= 0) {
		json_rr_text(b, small);
		return;
	}
	char *big = n == -ENOSPC ? malloc(RR_TEXT_LARGE) : NULL;
	if (big != NULL && zone_rr_format(rr, big, RR_TEXT_LARGE) >= 0) {
		json_rr_text(b, big);
		free(big);
		return;
	}
	free(big);
	char owner[DNAME_MAX * 4 + 1], type[16], text[sizeof(owner) + 64];
	dname_to_str(rr->owner, owner, sizeof(owner));
	snprintf(text, sizeof(text), "%s %u IN %s (unprintable: %s)", owner, rr->ttl,
	         zone_type_to_str(rr->type, type), sd_strerror(n));
	sd_strbuf_json_str(b, text);
}

static void json_rrs(sd_strbuf_t *b, const zone_changeset_t *cs, bool added)
{
	sd_strbuf_putc(b, '[');
	if (cs != NULL) {
		zone_rr_iter_t it;
		zone_rr_t rr;
		if (added)
			zone_changeset_added(cs, &it);
		else
			zone_changeset_removed(cs, &it);
		for (bool first = true; zone_rr_iter_next(&it, &rr); first = false) {
			if (!first)
				sd_strbuf_putc(b, ',');
			json_rr(b, &rr);
		}
	}
	sd_strbuf_putc(b, ']');
}

static const char *outcome(const srv_audit_rec_t *r)
{
	if (r->rcode != 0)
		return "refused";
	return r->changed ? "applied" : "unchanged";
}

void srv_audit_format(const srv_audit_rec_t *r, sd_strbuf_t *b)
{
	char rcode[DNS_RCODE_NAME_LEN];
	sd_strbuf_printf(b, "{\"time\":");
	json_time(b, &r->when);
	sd_strbuf_printf(b, ",\"zone\":");
	json_name(b, r->zone);
	sd_strbuf_putc(b, ',');
	json_client(b, r->client);
	sd_strbuf_printf(b, ",\"key\":");
	json_name(b, r->key);
	sd_strbuf_printf(b, ",\"transport\":\"%s\",\"outcome\":\"%s\",\"rcode\":\"%s\",\"reason\":",
	                 r->source ? "control"
	                 : r->tcp  ? "tcp"
	                           : "udp",
	                 outcome(r), dns_rcode_name(r->rcode, rcode));
	sd_strbuf_json_str(b, r->reason ? r->reason : "");
	if (r->has_serials)
		sd_strbuf_printf(b, ",\"serial_from\":%u,\"serial_to\":%u", r->serial_from,
		                 r->serial_to);
	else
		sd_strbuf_printf(b, ",\"serial_from\":null,\"serial_to\":null");
	sd_strbuf_printf(b, ",\"removed\":");
	json_rrs(b, r->change, false);
	sd_strbuf_printf(b, ",\"added\":");
	json_rrs(b, r->change, true);
	if (r->source) {
		sd_strbuf_printf(b, ",\"source\":");
		sd_strbuf_json_str(b, r->source);
	}
	sd_strbuf_putc(b, '}');
}

static int write_line(int fd, const char *buf, size_t len)
{
	while (len > 0) { /* a regular file takes it in one write; a short one goes on */
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_errno();
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void srv_audit_write(srv_audit_t *a, const srv_audit_rec_t *r)
{
	sd_strbuf_t b = {0};
	srv_audit_format(r, &b);
	if (b.oom) {
		a->failed++;
		log_error("event=audit-failed reason=\"out of memory\" hint=\"a request went "
		          "unrecorded\"");
		sd_strbuf_free(&b);
		return;
	}
	if (a->fd < 0) {
		log_notice("audit: %s", sd_strbuf_str(&b));
		a->lines++;
		sd_strbuf_free(&b);
		return;
	}
	sd_strbuf_putc(&b, '\n');
	int ret = b.oom ? -ENOMEM : write_line(a->fd, b.buf, b.len);
	if (ret == 0) {
		a->lines++;
		a->failing = false;
	} else {
		a->failed++;
		if (!a->failing)
			log_error(
			    "event=audit-log-failed file=%s reason=%s hint=\"the audit lines go "
			    "to this log instead\"",
			    LOG_Q(a->path), LOG_Q(sd_strerror(ret)));
		a->failing = true;
		b.buf[b.len - 1] = '\0';
		log_notice("audit: %s", b.buf);
	}
	sd_strbuf_free(&b);
}
