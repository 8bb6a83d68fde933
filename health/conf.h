/* conf.h — the prober's validated configuration (internal to health/).
 *
 * A health_conf_t is immutable once parsed. Templates are reference counted because targets
 * outlive the configuration they came from: a reload keeps an unchanged target on its old
 * template object, and run-time targets (health_target_add) keep theirs until removed.
 */
#pragma once

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "contrib/base/compiler.h"
#include "health/health.h"

typedef enum {
	HEALTH_CHECK_TCP = 0,
	HEALTH_CHECK_HTTP,
	HEALTH_CHECK_HTTPS,
} health_check_type_t;

#define HEALTH_MAX_RANGES 16
#define HEALTH_NAME_MAX   255

typedef struct {
	uint16_t lo, hi; /* inclusive */
} health_range_t;

typedef struct health_tpl {
	atomic_uint refs;
	char *name;
	health_check_type_t type;
	uint16_t port; /* 0: the target must give one (tcp) */
	char *path;    /* http(s), starts with '/' */
	char *host;    /* Host header, SNI and certificate name; NULL: the probed address */
	char *expect_body;
	size_t expect_len;
	uint32_t *kmp; /* failure function of expect_body, for streaming search */
	health_range_t status[HEALTH_MAX_RANGES];
	size_t nstatus;
	uint32_t body_limit;
	uint32_t interval_ms;
	uint32_t jitter_pct; /* each delay is interval * (1 +- jitter/2) */
	uint32_t timeout_ms; /* covers connect + TLS + response */
	uint32_t rise, fall;
	bool initial_down;
	bool insecure;
	char *ca_file;
	void *ssl_ctx; /* SSL_CTX *, one per https template, shared by all its checks */
} health_tpl_t;

typedef struct {
	char *name;
	char *pool;                    /* NULL when unlabelled */
	struct sockaddr_storage addr;  /* the service address, with the effective port */
	struct sockaddr_storage probe; /* what is connected to, with the effective port */
	health_tpl_t *tpl;             /* a reference owned by the conf */
} health_tdef_t;

struct health_conf {
	char *state_file; /* NULL: overrides live in memory only */
	health_tpl_t **tpls;
	size_t ntpl;
	health_tdef_t *targets;
	size_t ntargets;
};

health_tpl_t *health_tpl_ref(health_tpl_t *t) SD_NONNULL(1);
void health_tpl_unref(health_tpl_t *t);
/* Same probing behaviour (name aside): a reload may keep the running schedule. */
bool health_tpl_equal(const health_tpl_t *a, const health_tpl_t *b) SD_NONNULL(1, 2);
const health_tpl_t *health_conf_tpl(const health_conf_t *c, const char *name) SD_NONNULL(1, 2);

/* Status code accepted by the template's expect-status list. */
bool health_tpl_status_ok(const health_tpl_t *t, unsigned status) SD_NONNULL(1);

/* A printable name without spaces, at most HEALTH_NAME_MAX bytes, not starting "pool:". */
bool health_name_valid(const char *name) SD_NONNULL(1);

const char *health_check_type_name(health_check_type_t t);

/* "192.0.2.1:80" or "[2001:db8::1]:443". */
void health_sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t size)
    SD_NONNULL(1, 2);
uint16_t health_sockaddr_port(const struct sockaddr_storage *ss) SD_NONNULL(1);
void health_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port) SD_NONNULL(1);
bool health_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
    SD_NONNULL(1, 2);
