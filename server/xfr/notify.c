#include "server/xfr/notify.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/soa.h"
#include "zone/version.h"

#define BODY_MAX 1024
#define SEND_MAX (BODY_MAX + TSIG_RR_MAX)
/* Compression targets of one NOTIFY: the question and the names of the SOA. */
#define COMP_ENTRIES 16

/* One per (zone, target) ever notified: pending while it sends and waits, then kept with its
 * outcome (acknowledged, rejected, gave up) for steerctl status until the notifier closes.
 * Bounded by the configured zone x target pairs; the timer runs only while pending. */
typedef struct pending pending_t;
struct pending {
	pending_t *next;
	xfr_notifier_t *n;
	uv_timer_t timer;
	uint8_t apex[DNAME_MAX];
	uint32_t serial;
	xfr_notify_target_t target; /* .key points to key below while pending, else NULL */
	tsig_key_t key;             /* a copy: a reload may free the configuration's */
	xfr_notify_state_t state;
	uint8_t rcode;         /* of a rejection */
	bool has_acked;        /* acked_serial is valid */
	uint32_t acked_serial; /* the latest serial this target acknowledged */
	uint16_t id;
	unsigned sent;
	xfr_notify_stats_t stats; /* this (zone, target)'s part of the notifier's */
	tsig_ctx_t tsig;          /* of the latest send: a response must verify against its MAC */
	size_t body_len;
	uint8_t body[BODY_MAX]; /* the unsigned NOTIFY, ID included */
};

struct xfr_notifier {
	uv_loop_t *loop;
	unsigned base_ms, tries;
	uv_udp_t sock[2]; /* [0] IPv4, [1] IPv6 */
	bool sock_open[2];
	pending_t *head;  /* every record, pending or finished */
	size_t npending;  /* records in XFR_NOTIFY_PENDING */
	unsigned handles; /* open handles; the struct goes with the last close */
	bool closing;
	xfr_notify_stats_t stats;
	dns_comp_t comp; /* for the message being built */
	uint8_t rbuf[65536];
};

/* ---------------------------------------------------------------- targets */

int xfr_notify_target_parse(const char *text, xfr_notify_target_t *t)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_text = NULL;
	size_t hl;
	const char *colon = strrchr(text, ':');
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return SD_EPARSE;
		hl = (size_t)(close - text - 1);
		text++;
		port_text = close[1] == ':' ? close + 2 : NULL;
	} else if (colon != NULL && strchr(text, ':') == colon) {
		hl = (size_t)(colon - text); /* IPv4:port */
		port_text = colon + 1;
	} else {
		hl = strlen(text); /* bare IPv4 or IPv6 */
	}
	if (hl == 0 || hl >= sizeof(host))
		return SD_EPARSE;
	memcpy(host, text, hl);
	host[hl] = '\0';
	unsigned long port = 53;
	if (port_text != NULL) {
		char *end = NULL;
		port = strtoul(port_text, &end, 10);
		if (port_text[0] < '0' || port_text[0] > '9' || *end != '\0' || port == 0 ||
		    port > 65535)
			return SD_EPARSE;
	}
	memset(t, 0, sizeof(*t));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->addr;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		t->addr_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		t->addr_len = sizeof(*s6);
	} else {
		return SD_EPARSE;
	}
	return 0;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

void xfr_notify_target_str(const xfr_notify_target_t *t, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (t->addr.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&t->addr;
		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)&t->addr;
		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
	}
	snprintf(buf, size, t->addr.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

/* ---------------------------------------------------------------- pending list */

static void notifier_handle_closed(xfr_notifier_t *n)
{
	if (--n->handles == 0 && n->closing) {
		dns_comp_fini(&n->comp);
		free(n);
	}
}

static void pending_closed(uv_handle_t *h)
{
	pending_t *p = h->data;
	xfr_notifier_t *n = p->n;
	free(p);
	notifier_handle_closed(n);
}

/* Unlink and free a record (notifier closing). */
static void pending_remove(pending_t *p)
{
	xfr_notifier_t *n = p->n;
	for (pending_t **pp = &n->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (p->state == XFR_NOTIFY_PENDING)
		n->npending--;
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, pending_closed);
}

/* A pending record got its outcome: no more sends, kept for status. */
static void pending_finish(pending_t *p, xfr_notify_state_t state)
{
	if (p->state == XFR_NOTIFY_PENDING)
		p->n->npending--;
	p->state = state;
	p->target.key = NULL;
	memset(&p->key, 0, sizeof(p->key)); /* no secret kept longer than needed */
	uv_timer_stop(&p->timer);
}

static pending_t *pending_find(xfr_notifier_t *n, const uint8_t *apex, const xfr_notify_target_t *t)
{
	for (pending_t *p = n->head; p != NULL; p = p->next)
		if (dname_equal(p->apex, apex) &&
		    same_addr((const void *)&t->addr, &p->target.addr))
			return p;
	return NULL;
}

/* ---------------------------------------------------------------- sending */

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags);

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	xfr_notifier_t *n = h->data;
	*buf = uv_buf_init((char *)n->rbuf, sizeof(n->rbuf));
}

static void sock_closed(uv_handle_t *h)
{
	notifier_handle_closed(h->data);
}

static int sock_open(xfr_notifier_t *n, int family)
{
	int i = family == AF_INET6;
	if (n->sock_open[i])
		return 0;
	struct sockaddr_storage any = {0};
	any.ss_family = (sa_family_t)family;
	int rc = uv_udp_init(n->loop, &n->sock[i]);
	if (rc != 0)
		return rc;
	n->sock[i].data = n;
	n->handles++;
	n->sock_open[i] = true;
	rc = uv_udp_bind(&n->sock[i], (const struct sockaddr *)&any, 0);
	if (rc == 0)
		rc = uv_udp_recv_start(&n->sock[i], on_alloc, on_recv);
	return rc;
}

static void pending_send(pending_t *p)
{
	xfr_notifier_t *n = p->n;
	uint8_t msg[SEND_MAX];
	size_t len = p->body_len;
	memcpy(msg, p->body, len);
	int rc = 0;
	if (p->target.key != NULL) {
		tsig_ctx_init(&p->tsig, p->target.key);
		rc = tsig_sign_request(&p->tsig, msg, &len, sizeof(msg), time(NULL));
	}
	if (rc == 0)
		rc = sock_open(n, p->target.addr.ss_family);
	if (rc == 0) {
		uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
		int sent = uv_udp_try_send(&n->sock[p->target.addr.ss_family == AF_INET6], &b, 1,
		                           (const struct sockaddr *)&p->target.addr);
		rc = sent < 0 ? sent : 0; /* a failed send is a lost datagram: the timer retries */
	}
	if (rc != 0) {
		char t[INET6_ADDRSTRLEN + 10];
		xfr_notify_target_str(&p->target, t, sizeof(t));
		log_debug("notify: send to %s failed: %s", t,
		          rc < -4096 ? sd_strerror(rc) : uv_strerror(rc));
	}
	if (p->sent == 0 && rc == 0) {
		char zone[DNAME_MAX * 4 + 1], t[INET6_ADDRSTRLEN + 10], key[DNAME_MAX * 4 + 8] = "";
		dname_to_str_nodot(p->apex, zone, sizeof(zone));
		xfr_notify_target_str(&p->target, t, sizeof(t));
		if (p->target.key) {
			memcpy(key, " key=", 5);
			dname_to_str_nodot(p->target.key->name, key + 5, sizeof(key) - 5);
		}
		log_info("event=notify-sent zone=%s serial=%u peer=%s%s", zone, p->serial, t, key);
	}
	p->sent++;
	p->stats.sent++;
	n->stats.sent++;
}

static void on_timer(uv_timer_t *t);

static void pending_send_and_arm(pending_t *p)
{
	pending_send(p);
	uint64_t wait = (uint64_t)p->n->base_ms << (p->sent - 1);
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, on_timer, wait, 0);
}

static void on_timer(uv_timer_t *t)
{
	pending_t *p = t->data;
	xfr_notifier_t *n = p->n;
	if (p->sent < n->tries) {
		pending_send_and_arm(p);
		return;
	}
	char zone[DNAME_MAX * 4 + 1], tgt[INET6_ADDRSTRLEN + 10];
	dname_to_str_nodot(p->apex, zone, sizeof(zone));
	xfr_notify_target_str(&p->target, tgt, sizeof(tgt));
	log_warning("event=notify-failed zone=%s serial=%u peer=%s tries=%u reason=\"no "
	            "response\"",
	            zone, p->serial, tgt, p->sent);
	n->stats.failed++;
	p->stats.failed++;
	pending_finish(p, XFR_NOTIFY_FAILED);
}

static int build_body(pending_t *p, uint32_t ttl, const uint8_t *soa, uint16_t soa_len)
{
	uint8_t q[DNAME_MAX + 4];
	size_t al = dname_len(p->apex);
	memcpy(q, p->apex, al);
	be16_put(q + al, DNS_TYPE_SOA);
	be16_put(q + al + 2, DNS_CLASS_IN);
	dns_msg_t m;
	uint16_t flags = (uint16_t)(DNS_OPCODE_NOTIFY << 11) | DNS_FLAG_AA;
	dns_msg_init(&m, p->body, sizeof(p->body), &p->n->comp, DNS_MSG_EXACT);
	int rc = dns_msg_header(&m, p->id, flags);
	if (rc == 0)
		rc = dns_msg_question(&m, q, al + 4);
	/* RFC 1996 3.7: the answer section may carry the new SOA as a hint */
	if (rc == 0)
		rc = dns_msg_rr(&m, p->apex, DNS_TYPE_SOA, DNS_CLASS_IN, ttl, soa, soa_len);
	if (rc == 0)
		dns_msg_count_add(&m, DNS_SEC_AN, 1);
	p->body_len = m.pos;
	return rc;
}

static int notify_one(xfr_notifier_t *n, const uint8_t *apex, uint32_t ttl, const uint8_t *soa,
                      uint16_t soa_len, const xfr_notify_target_t *t)
{
	pending_t *p = pending_find(n, apex, t);
	if (p == NULL) {
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		p->n = n;
		memcpy(p->apex, apex, dname_len(apex));
		p->target = *t;
		uv_timer_init(n->loop, &p->timer);
		p->timer.data = p;
		n->handles++;
		p->next = n->head;
		n->head = p;
	}
	if (p->state != XFR_NOTIFY_PENDING)
		n->npending++;
	p->state = XFR_NOTIFY_PENDING;
	p->serial = dns_soa_serial(soa, soa_len);
	p->target.key = NULL;
	if (t->key != NULL) {
		p->key = *t->key;
		p->target.key = &p->key;
	}
	p->id = dns_msg_random_id();
	p->sent = 0;
	int rc = build_body(p, ttl, soa, soa_len);
	if (rc != 0) {
		pending_remove(p);
		return rc;
	}
	pending_send_and_arm(p);
	return 0;
}

int xfr_notify_zone(xfr_notifier_t *n, const uint8_t *apex, uint32_t ttl, const uint8_t *soa_rdata,
                    uint16_t soa_rdlen, const xfr_notify_target_t *targets, size_t count)
{
	if (soa_rdlen < DNS_SOA_MIN_LEN)
		return SD_EPARSE;
	for (size_t i = 0; i < count; i++) {
		int rc = notify_one(n, apex, ttl, soa_rdata, soa_rdlen, &targets[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- responses */

/* The response names our zone in its one question (RFC 1996 3.7: it echoes the NOTIFY). */
static bool response_matches(const pending_t *p, const uint8_t *m, size_t len)
{
	uint8_t qname[DNAME_MAX];
	dns_rr_iter_t it;
	dns_rr_t q;
	if (dns_rr_iter_init(&it, m, len) < 0 || it.count[DNS_SEC_QD] != 1 ||
	    dns_rr_iter_next(&it, &q) < 0)
		return false;
	size_t pos = q.owner;
	if (dname_parse(m, len, &pos, qname) < 0)
		return false;
	dname_lower(qname);
	return dname_equal(qname, p->apex);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
	xfr_notifier_t *n = h->data;
	const uint8_t *m = (const uint8_t *)buf->base;
	if (nread < DNS_HEADER_LEN || from == NULL)
		return;
	size_t len = (size_t)nread;
	uint16_t fl = be16_get(m + 2);
	if (!(fl & DNS_FLAG_QR) || ((fl >> 11) & 0xf) != DNS_OPCODE_NOTIFY)
		return;
	pending_t *p = n->head;
	while (p != NULL && !(p->state == XFR_NOTIFY_PENDING && p->id == be16_get(m) &&
	                      same_addr(from, &p->target.addr)))
		p = p->next;
	if (p == NULL || !response_matches(p, m, len))
		return;
	if (p->target.key != NULL && tsig_verify_response(&p->tsig, m, len, time(NULL)) != 0) {
		log_debug("notify: response with a bad or missing TSIG ignored");
		return;
	}
	char zone[DNAME_MAX * 4 + 1], tgt[INET6_ADDRSTRLEN + 10];
	dname_to_str_nodot(p->apex, zone, sizeof(zone));
	xfr_notify_target_str(&p->target, tgt, sizeof(tgt));
	unsigned rcode = fl & 0xf;
	if (rcode == 0) {
		n->stats.acked++;
		p->stats.acked++;
		p->has_acked = true;
		p->acked_serial = p->serial;
		log_info("event=notify-acked zone=%s serial=%u peer=%s tries=%u", zone, p->serial,
		         tgt, p->sent);
	} else {
		n->stats.rejected++;
		p->stats.rejected++;
		p->rcode = (uint8_t)rcode;
		char rc[DNS_RCODE_NAME_LEN];
		log_warning("event=notify-rejected zone=%s serial=%u peer=%s rcode=%s", zone,
		            p->serial, tgt, dns_rcode_name(rcode, rc));
	}
	pending_finish(p, rcode == 0 ? XFR_NOTIFY_ACKED : XFR_NOTIFY_REJECTED);
}

/* ---------------------------------------------------------------- lifecycle */

int xfr_notifier_new(uv_loop_t *loop, unsigned base_ms, unsigned tries, xfr_notifier_t **out)
{
	xfr_notifier_t *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	int rc = dns_comp_init(&n->comp, COMP_ENTRIES);
	if (rc != 0) {
		free(n);
		return rc;
	}
	n->loop = loop;
	n->base_ms = base_ms ? base_ms : 1000;
	n->tries = tries ? tries : 5;
	*out = n;
	return 0;
}

int xfr_notifier_target_status(const xfr_notifier_t *n, const uint8_t *apex,
                               const xfr_notify_target_t *t, xfr_notify_status_t *out)
{
	memset(out, 0, sizeof(*out));
	const pending_t *p = pending_find((xfr_notifier_t *)(uintptr_t)n, apex, t);
	if (p == NULL)
		return SD_ENOTFOUND;
	out->state = p->state;
	out->serial = p->serial;
	out->has_acked = p->has_acked;
	out->acked_serial = p->acked_serial;
	out->rcode = p->rcode;
	out->sends_left =
	    p->state == XFR_NOTIFY_PENDING && p->sent < n->tries ? n->tries - p->sent : 0;
	return 0;
}

const char *xfr_notify_state_name(xfr_notify_state_t state)
{
	switch (state) {
	case XFR_NOTIFY_PENDING:
		return "pending";
	case XFR_NOTIFY_ACKED:
		return "acknowledged";
	case XFR_NOTIFY_REJECTED:
		return "rejected";
	case XFR_NOTIFY_FAILED:
		return "gave up";
	default:
		return "none";
	}
}

size_t xfr_notifier_pending(const xfr_notifier_t *n)
{
	return n->npending;
}

const xfr_notify_stats_t *xfr_notifier_stats(const xfr_notifier_t *n)
{
	return &n->stats;
}

void xfr_notifier_zone_stats(const xfr_notifier_t *n, const uint8_t *apex, xfr_notify_stats_t *out)
{
	memset(out, 0, sizeof(*out));
	for (const pending_t *p = n->head; p != NULL; p = p->next) {
		if (!dname_equal(p->apex, apex))
			continue;
		out->sent += p->stats.sent;
		out->acked += p->stats.acked;
		out->rejected += p->stats.rejected;
		out->failed += p->stats.failed;
	}
}

void xfr_notifier_close(xfr_notifier_t *n)
{
	if (n == NULL)
		return;
	n->closing = true;
	n->handles++; /* hold the struct while closing */
	while (n->head != NULL)
		pending_remove(n->head);
	for (int i = 0; i < 2; i++) {
		if (n->sock_open[i]) {
			n->sock_open[i] = false;
			uv_close((uv_handle_t *)&n->sock[i], sock_closed);
		}
	}
	notifier_handle_closed(n);
}
