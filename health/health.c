/* health.c — the prober object: registry, overrides, the health thread and reports. */
#include "health/internal.h"
#include "contrib/base/clock.h"
#include "contrib/base/err.h"
#include "contrib/base/escape.h"
#include "contrib/base/rand.h"
#include "contrib/base/log.h"
#include "contrib/base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const res_names[] = {
    [HEALTH_RES_NONE] = "none",
    [HEALTH_RES_OK] = "ok",
    [HEALTH_RES_REFUSED] = "refused",
    [HEALTH_RES_CONNECT] = "connect",
    [HEALTH_RES_TIMEOUT] = "timeout",
    [HEALTH_RES_TLS] = "tls",
    [HEALTH_RES_TLS_VERIFY] = "tls-verify",
    [HEALTH_RES_HTTP_STATUS] = "http-status",
    [HEALTH_RES_BODY] = "body",
    [HEALTH_RES_CLOSED] = "closed",
    [HEALTH_RES_PROTO] = "protocol",
};

const char *health_res_name(health_res_t r)
{
	return (size_t)r < SD_ARRAY_LEN(res_names) ? res_names[r] : "?";
}

uint64_t health_rand(struct health *h)
{
	/* the health thread's only randomness is schedule spreading */
	return sd_xorshift64s(&h->rng);
}

/* ---- state words ---- */

static _Atomic uint32_t *word_slot(const health_t *h, uint32_t id)
{
	if (id >= HEALTH_CHUNK * HEALTH_CHUNKS)
		return NULL;
	_Atomic uint32_t *c = atomic_load_explicit(
	    &((health_t *)h)->chunks[id >> HEALTH_CHUNK_BITS], memory_order_acquire);
	return c ? &c[id & (HEALTH_CHUNK - 1)] : NULL;
}

uint32_t health_target_state(const health_t *h, uint32_t id)
{
	_Atomic uint32_t *w = word_slot(h, id);
	return w ? atomic_load_explicit(w, memory_order_acquire) : HEALTH_STATE_DOWN;
}

const _Atomic uint32_t *health_target_word(const health_t *h, uint32_t id)
{
	static _Atomic uint32_t down = HEALTH_STATE_DOWN; /* never written */
	_Atomic uint32_t *w = word_slot(h, id);
	return w ? w : &down;
}

uint64_t health_generation(const health_t *h)
{
	return atomic_load_explicit(&((health_t *)h)->gen, memory_order_acquire);
}

/* Store a state word, then bump the generation: a reader that saw the new generation reads
 * the new word. Under mu. */
static void store_word(health_t *h, uint32_t id, uint32_t w)
{
	_Atomic uint32_t *slot = word_slot(h, id);
	if (atomic_load_explicit(slot, memory_order_relaxed) == w)
		return; /* unchanged (a check that confirmed the verdict): no generation */
	atomic_store_explicit(slot, w, memory_order_release);
	atomic_fetch_add_explicit(&h->gen, 1, memory_order_release);
}

/* Under mu. */
static void publish(health_t *h, const health_target_t *t)
{
	uint32_t w = health_word_pack(t->thr.down, t->force);
	store_word(h, t->id, t->thr.decided ? w : w | HEALTH_STATE_PENDING);
}

/* ---- registry (all under mu) ---- */

static uint32_t name_hash(const char *s)
{
	uint32_t x = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 16777619u;
	return x;
}

static health_target_t *find_name(health_t *h, const char *name)
{
	if (!h->nbuckets)
		return NULL;
	health_target_t *t = h->buckets[name_hash(name) & (h->nbuckets - 1)];
	while (t && strcmp(t->name, name) != 0)
		t = t->hnext;
	return t;
}

static int grow_buckets(health_t *h)
{
	uint32_t n = h->nbuckets ? h->nbuckets * 2 : 256;
	health_target_t **b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->nbuckets; i++) {
		health_target_t *t = h->buckets[i];
		while (t) {
			health_target_t *next = t->hnext;
			uint32_t k = name_hash(t->name) & (n - 1);
			t->hnext = b[k];
			b[k] = t;
			t = next;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = n;
	return 0;
}

static void unlink_name(health_t *h, health_target_t *t)
{
	health_target_t **p = &h->buckets[name_hash(t->name) & (h->nbuckets - 1)];
	while (*p && *p != t)
		p = &(*p)->hnext;
	if (*p)
		*p = t->hnext;
	t->hnext = NULL;
}

static void link_name(health_t *h, health_target_t *t)
{
	uint32_t k = name_hash(t->name) & (h->nbuckets - 1);
	t->hnext = h->buckets[k];
	h->buckets[k] = t;
}

/* A fresh id with a state-word slot (chunks are allocated once, never freed early). */
static int alloc_id(health_t *h, uint32_t *id)
{
	if (h->nfree) {
		*id = h->free_ids[--h->nfree];
		return 0;
	}
	uint32_t i = h->id_used;
	if (i >= HEALTH_CHUNK * HEALTH_CHUNKS)
		return SD_ELIMIT;
	if (!h->chunks[i >> HEALTH_CHUNK_BITS]) {
		_Atomic uint32_t *c = malloc(HEALTH_CHUNK * sizeof(*c));
		if (!c)
			return -ENOMEM;
		for (uint32_t k = 0; k < HEALTH_CHUNK; k++)
			atomic_init(&c[k], HEALTH_STATE_DOWN);
		atomic_store_explicit(&h->chunks[i >> HEALTH_CHUNK_BITS], c, memory_order_release);
	}
	if (i >= h->id_cap) {
		uint32_t cap = h->id_cap ? h->id_cap * 2 : 1024;
		health_target_t **v = realloc(h->by_id, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + h->id_cap, 0, (cap - h->id_cap) * sizeof(*v));
		h->by_id = v;
		h->id_cap = cap;
	}
	h->id_used++;
	*id = i;
	return 0;
}

static int release_id(health_t *h, uint32_t id)
{
	if (h->nfree == h->free_cap) {
		uint32_t cap = h->free_cap ? h->free_cap * 2 : 256;
		uint32_t *v = realloc(h->free_ids, cap * sizeof(*v));
		if (!v)
			return -ENOMEM; /* the id leaks; harmless */
		h->free_ids = v;
		h->free_cap = cap;
	}
	h->free_ids[h->nfree++] = id;
	return 0;
}

static const health_override_t *find_override(const health_t *h, const char *name, bool pool)
{
	for (size_t i = 0; i < h->novr; i++)
		if (h->ovr[i].pool == pool && strcmp(h->ovr[i].name, name) == 0)
			return &h->ovr[i];
	return NULL;
}

/* The target's own override wins over its pool's. */
static void refresh_force(health_t *h, health_target_t *t)
{
	const health_override_t *o = find_override(h, t->name, false);
	if (!o && t->pool)
		o = find_override(h, t->pool, true);
	t->force = o ? o->mode : HEALTH_FORCE_NONE;
	publish(h, t);
}

static void queue_cmd(health_t *h, health_cmd_t *c)
{
	c->next = NULL;
	*h->cmd_tail = c;
	h->cmd_tail = &c->next;
}

static int post(health_t *h, health_cmd_type_t type, health_target_t *t)
{
	health_cmd_t *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->type = type;
	c->t = t;
	queue_cmd(h, c);
	return 0;
}

static void wake(health_t *h)
{
	if (atomic_load(&h->running))
		uv_async_send(&h->async);
}

void health_target_free(health_target_t *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->pool);
	free(t->req);
	health_tpl_unref(t->tpl);
	free(t);
}

static health_target_t *target_new(health_t *h, const char *name, const char *pool,
                                   const struct sockaddr_storage *addr,
                                   const struct sockaddr_storage *probe, health_tpl_t *tpl)
{
	health_target_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->h = h;
	t->name = strdup(name);
	t->pool = pool ? strdup(pool) : NULL;
	t->addr = *addr;
	t->probe = *probe;
	t->tpl = health_tpl_ref(tpl);
	t->thr = health_thr_init(tpl->initial_down);
	if (!t->name || (pool && !t->pool) || health_check_build_request(t) < 0) {
		health_target_free(t);
		return NULL;
	}
	return t;
}

/* Insert t under id (fresh or inherited) and queue its START. */
static int insert_target(health_t *h, health_target_t *t)
{
	if ((h->ntargets + 1) * 2 > h->nbuckets) {
		int ret = grow_buckets(h);
		if (ret < 0)
			return ret;
	}
	int ret = post(h, HEALTH_CMD_START, t);
	if (ret < 0)
		return ret;
	h->by_id[t->id] = t;
	link_name(h, t);
	h->ntargets++;
	refresh_force(h, t);
	return 0;
}

/* Take t out of the registry; its id is kept when keep_id (a replacement follows). */
static void remove_target(health_t *h, health_target_t *t, bool keep_id)
{
	unlink_name(h, t);
	h->by_id[t->id] = NULL;
	h->ntargets--;
	t->removed = true;
	if (!keep_id) {
		store_word(h, t->id, HEALTH_STATE_DOWN);
		(void)release_id(h, t->id);
	}
	if (post(h, HEALTH_CMD_STOP, t) < 0 && !t->started)
		health_target_free(t); /* cannot happen on a started prober without memory */
}

static int add_def(health_t *h, const health_tdef_t *d, uint32_t id, const health_target_t *old)
{
	health_target_t *t = target_new(h, d->name, d->pool, &d->addr, &d->probe, d->tpl);
	if (!t)
		return -ENOMEM;
	t->from_conf = true;
	t->id = id;
	if (old) { /* a changed target keeps its verdict and history under its id */
		t->thr = health_thr_init(old->thr.down);
		t->last_res = old->last_res;
		memcpy(t->reason, old->reason, sizeof(t->reason));
		t->last_change_ms = old->last_change_ms;
		t->checks = old->checks;
	}
	int ret = insert_target(h, t);
	if (ret < 0)
		health_target_free(t);
	return ret;
}

static bool def_same(const health_target_t *t, const health_tdef_t *d)
{
	return health_sockaddr_equal(&t->addr, &d->addr) &&
	       health_sockaddr_equal(&t->probe, &d->probe) && health_tpl_equal(t->tpl, d->tpl);
}

static int set_pool(health_target_t *t, const char *pool)
{
	if ((!pool && !t->pool) || (pool && t->pool && strcmp(pool, t->pool) == 0))
		return 0;
	char *p = pool ? strdup(pool) : NULL;
	if (pool && !p)
		return -ENOMEM;
	free(t->pool);
	t->pool = p;
	return 0;
}

static int apply_def(health_t *h, const health_tdef_t *d)
{
	health_target_t *old = find_name(h, d->name);
	if (old && def_same(old, d)) {
		old->from_conf = true;
		int ret = set_pool(old, d->pool);
		refresh_force(h, old);
		return ret;
	}
	if (old) {
		uint32_t id = old->id;
		remove_target(h, old, true);
		return add_def(h, d, id, old);
	}
	uint32_t id = 0;
	int ret = alloc_id(h, &id);
	if (ret < 0)
		return ret;
	ret = add_def(h, d, id, NULL);
	if (ret < 0)
		(void)release_id(h, id);
	return ret;
}

static bool conf_has(const health_conf_t *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return true;
	return false;
}

static void set_templates(health_t *h, const health_conf_t *c)
{
	for (size_t i = 0; i < h->ntpl; i++)
		health_tpl_unref(h->tpls[i]);
	h->ntpl = 0;
	health_tpl_t **v = realloc(h->tpls, (c->ntpl ? c->ntpl : 1) * sizeof(*v));
	if (!v)
		return;
	h->tpls = v;
	for (size_t i = 0; i < c->ntpl; i++)
		h->tpls[h->ntpl++] = health_tpl_ref(c->tpls[i]);
}

static int apply_locked(health_t *h, const health_conf_t *c)
{
	int ret = 0;
	set_templates(h, c);
	for (uint32_t i = 0; i < h->id_used; i++) {
		health_target_t *t = i < h->id_cap ? h->by_id[i] : NULL;
		if (t && t->from_conf && !conf_has(c, t->name))
			remove_target(h, t, false);
	}
	for (size_t i = 0; i < c->ntargets && ret == 0; i++)
		ret = apply_def(h, &c->targets[i]);
	if (c->state_file && (!h->state_file || strcmp(c->state_file, h->state_file) != 0)) {
		free(h->state_file);
		h->state_file = strdup(c->state_file);
	}
	return ret;
}

int health_apply(health_t *h, const health_conf_t *c)
{
	pthread_mutex_lock(&h->mu);
	int ret = apply_locked(h, c);
	pthread_mutex_unlock(&h->mu);
	wake(h);
	if (ret < 0)
		log_error("event=health-config-failed reason=%s", LOG_Q(sd_strerror(ret)));
	return ret;
}

/* ---- results (health thread) ---- */

const uint32_t health_lat_bounds_ms[HEALTH_LAT_BUCKETS] = {5,   10,   25,   50,   100,  250,
                                                           500, 1000, 2500, 5000, 10000};

/* One finished check's latency into the histogram; under mu. */
static void lat_record(health_t *h, uint32_t ms)
{
	size_t i = 0;
	while (i < HEALTH_LAT_BUCKETS && ms > health_lat_bounds_ms[i])
		i++;
	h->st_lat[i]++;
	h->st_lat_count++;
	h->st_lat_sum_ms += ms;
}

void health_record(health_target_t *t, bool ok, health_res_t res, const char *reason,
                   uint32_t latency_ms)
{
	health_t *h = t->h;
	const health_tpl_t *tpl = t->tpl;
	pthread_mutex_lock(&h->mu);
	bool changed = false;
	t->thr = health_thr_next(t->thr, ok, tpl->rise, tpl->fall, &changed);
	t->last_res = res;
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	t->latency_ms = latency_ms;
	t->checks++;
	h->st_done++;
	h->st_failed += !ok;
	lat_record(h, latency_ms);
	if (changed) {
		t->last_change_ms = sd_clock_ms(CLOCK_REALTIME);
		h->st_transitions++;
	}
	if (!t->removed)
		publish(h, t);
	pthread_mutex_unlock(&h->mu);
	if (changed && !t->removed) {
		char addr[64];
		health_sockaddr_str(&t->probe, addr, sizeof(addr));
		log_notice("event=health-%s target=%s%s%s check=%s peer=%s %s=%u reason=%s",
		           t->thr.down ? "down" : "up", LOG_Q(t->name), t->pool ? " pool=" : "",
		           t->pool ? LOG_Q(t->pool) : "", health_check_type_name(tpl->type), addr,
		           t->thr.down ? "failures" : "successes",
		           t->thr.down ? t->thr.fail_run : t->thr.ok_run, LOG_Q(reason));
	}
}

/* ---- the health thread ---- */

static health_cmd_t *take_cmds(health_t *h)
{
	pthread_mutex_lock(&h->mu);
	health_cmd_t *c = h->cmd_head;
	h->cmd_head = NULL;
	h->cmd_tail = &h->cmd_head;
	pthread_mutex_unlock(&h->mu);
	return c;
}

static void run_cmds(health_t *h)
{
	health_cmd_t *c = take_cmds(h);
	while (c) {
		health_cmd_t *next = c->next;
		if (c->type == HEALTH_CMD_START && !h->stopping)
			health_check_begin(c->t);
		else if (c->type == HEALTH_CMD_STOP)
			health_check_end(c->t);
		free(c);
		c = next;
	}
}

static void async_cb(uv_async_t *a)
{
	health_t *h = a->data;
	run_cmds(h);
	if (!h->stopping)
		return;
	pthread_mutex_lock(&h->mu);
	for (uint32_t i = 0; i < h->id_used; i++)
		if (i < h->id_cap && h->by_id[i])
			health_check_shutdown(h->by_id[i]);
	pthread_mutex_unlock(&h->mu);
	uv_close((uv_handle_t *)&h->async, NULL);
}

static void *thread_main(void *arg)
{
	health_t *h = arg;
	pthread_setname_np(pthread_self(), "sd-health");
	run_cmds(h);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	return NULL;
}

/* ---- lifecycle ---- */

static void load_overrides(health_t *h)
{
	if (!h->state_file)
		return;
	health_override_t *v = NULL;
	size_t n = 0;
	int ret = health_overrides_load(h->state_file, &v, &n);
	if (ret < 0) {
		log_error("event=health-state-file-ignored file=%s reason=%s", LOG_Q(h->state_file),
		          LOG_Q(sd_strerror(ret)));
		return;
	}
	h->ovr = v;
	h->novr = n;
	if (n)
		log_notice("event=health-overrides-restored count=%zu file=%s", n,
		           LOG_Q(h->state_file));
}

int health_new(const health_conf_t *conf, health_t **out)
{
	health_t *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->file_mu, NULL);
	h->cmd_tail = &h->cmd_head;
	h->rng = (sd_clock_ms(CLOCK_REALTIME) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)h;
	if (!h->rng)
		h->rng = 1;
	int ret = uv_loop_init(&h->loop);
	if (ret == 0)
		ret = uv_async_init(&h->loop, &h->async, async_cb);
	if (ret < 0) {
		free(h);
		return ret;
	}
	h->async.data = h;
	if (conf->state_file && !(h->state_file = strdup(conf->state_file)))
		ret = -ENOMEM;
	if (ret == 0) {
		load_overrides(h);
		pthread_mutex_lock(&h->mu);
		ret = apply_locked(h, conf);
		pthread_mutex_unlock(&h->mu);
	}
	if (ret < 0) {
		health_free(h);
		return ret;
	}
	*out = h;
	return 0;
}

int health_start(health_t *h)
{
	if (atomic_load(&h->running))
		return SD_EEXIST;
	/* Set first: a command posted while the thread starts must wake it. */
	atomic_store(&h->running, true);
	int ret = -pthread_create(&h->thread, NULL, thread_main, h);
	if (ret < 0)
		atomic_store(&h->running, false);
	return ret;
}

void health_stop(health_t *h)
{
	if (!h || !atomic_load(&h->running))
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_mutex_unlock(&h->mu);
	uv_async_send(&h->async);
	pthread_join(h->thread, NULL);
	atomic_store(&h->running, false);
}

void health_free(health_t *h)
{
	if (!h)
		return;
	health_stop(h);
	if (!h->stopping) { /* never started: close the async handle on this thread */
		h->stopping = true;
		uv_close((uv_handle_t *)&h->async, NULL);
	}
	run_cmds(h); /* STOPs of never-started targets free them */
	uv_run(&h->loop, UV_RUN_DEFAULT);
	(void)uv_loop_close(&h->loop);
	for (uint32_t i = 0; i < h->id_cap; i++)
		health_target_free(h->by_id[i]);
	for (size_t i = 0; i < HEALTH_CHUNKS; i++)
		free((void *)h->chunks[i]);
	for (size_t i = 0; i < h->ntpl; i++)
		health_tpl_unref(h->tpls[i]);
	health_overrides_free(h->ovr, h->novr);
	free(h->tpls);
	free(h->by_id);
	free(h->free_ids);
	free(h->buckets);
	free(h->state_file);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->file_mu);
	free(h);
}

/* ---- run-time targets ---- */

int health_target_id(health_t *h, const char *name, uint32_t *id)
{
	pthread_mutex_lock(&h->mu);
	const health_target_t *t = find_name(h, name);
	if (t)
		*id = t->id;
	pthread_mutex_unlock(&h->mu);
	return t ? 0 : SD_ENOTFOUND;
}

static health_tpl_t *find_tpl(health_t *h, const char *name)
{
	for (size_t i = 0; i < h->ntpl; i++)
		if (strcmp(h->tpls[i]->name, name) == 0)
			return h->tpls[i];
	return NULL;
}

int health_target_add(health_t *h, const char *name, const struct sockaddr *addr,
                      const char *template_name, uint32_t *id)
{
	return health_target_add_opts(h, name, addr, template_name, NULL, id);
}

int health_target_add_opts(health_t *h, const char *name, const struct sockaddr *addr,
                           const char *template_name, const health_add_opts_t *opts, uint32_t *id)
{
	const char *pool = opts ? opts->pool : NULL;
	if (pool && !health_name_valid(pool))
		return SD_EPARSE;
	struct sockaddr_storage ss = {0};
	if (!health_name_valid(name))
		return SD_EPARSE;
	if (addr->sa_family == AF_INET)
		memcpy(&ss, addr, sizeof(struct sockaddr_in));
	else if (addr->sa_family == AF_INET6)
		memcpy(&ss, addr, sizeof(struct sockaddr_in6));
	else
		return SD_EPARSE;
	pthread_mutex_lock(&h->mu);
	int ret = 0;
	health_target_t *t = find_name(h, name);
	health_tpl_t *tpl = find_tpl(h, template_name);
	if (t) {
		*id = t->id;
		ret = SD_EEXIST;
		goto out;
	}
	if (!tpl) {
		ret = SD_ENOTFOUND;
		goto out;
	}
	if (!health_sockaddr_port(&ss))
		health_sockaddr_set_port(&ss, tpl->port);
	if (!health_sockaddr_port(&ss)) {
		ret = SD_EPARSE;
		goto out;
	}
	t = target_new(h, name, pool, &ss, &ss, tpl);
	if (t && opts && opts->initial_down)
		t->thr = health_thr_init(true);
	if (!t || (ret = alloc_id(h, &t->id)) < 0) {
		health_target_free(t);
		ret = ret < 0 ? ret : -ENOMEM;
		goto out;
	}
	ret = insert_target(h, t);
	if (ret < 0) {
		(void)release_id(h, t->id);
		health_target_free(t);
		goto out;
	}
	*id = t->id;
out:
	pthread_mutex_unlock(&h->mu);
	if (ret == 0)
		wake(h);
	return ret;
}

int health_target_remove(health_t *h, uint32_t id)
{
	pthread_mutex_lock(&h->mu);
	health_target_t *t = id < h->id_cap ? h->by_id[id] : NULL;
	if (t)
		remove_target(h, t, false);
	pthread_mutex_unlock(&h->mu);
	if (t)
		wake(h);
	return t ? 0 : SD_ENOTFOUND;
}

/* ---- overrides ---- */

static bool pool_has_members(const health_t *h, const char *pool)
{
	for (uint32_t i = 0; i < h->id_used; i++) {
		const health_target_t *t = i < h->id_cap ? h->by_id[i] : NULL;
		if (t && t->pool && strcmp(t->pool, pool) == 0)
			return true;
	}
	return false;
}

static int set_override(health_t *h, const char *name, bool pool, health_force_t mode)
{
	health_override_t *o = (health_override_t *)find_override(h, name, pool);
	if (mode == HEALTH_FORCE_NONE) {
		if (o) {
			free(o->name);
			*o = h->ovr[--h->novr];
		}
		return 0;
	}
	if (o) {
		o->mode = mode;
		return 0;
	}
	health_override_t *v = realloc(h->ovr, (h->novr + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->ovr = v;
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	h->ovr[h->novr++] = (health_override_t){.name = copy, .pool = pool, .mode = mode};
	return 0;
}

/* Under mu: check, record and publish one override. */
static int force_locked(health_t *h, const char *name, bool pool, health_force_t mode)
{
	bool known = pool ? pool_has_members(h, name) : find_name(h, name) != NULL;
	if (!known && !(mode == HEALTH_FORCE_NONE && find_override(h, name, pool)))
		return SD_ENOTFOUND;
	int ret = set_override(h, name, pool, mode);
	if (ret < 0)
		return ret;
	for (uint32_t i = 0; i < h->id_used; i++) {
		health_target_t *t = i < h->id_cap ? h->by_id[i] : NULL;
		if (t &&
		    (pool ? (t->pool && strcmp(t->pool, name) == 0) : strcmp(t->name, name) == 0))
			refresh_force(h, t);
	}
	return 0;
}

int health_force(health_t *h, const char *what, health_force_t mode)
{
	bool pool = strncmp(what, "pool:", 5) == 0;
	const char *name = pool ? what + 5 : what;
	if (!health_name_valid(name) || mode > HEALTH_FORCE_DOWN)
		return SD_EPARSE;
	pthread_mutex_lock(&h->file_mu); /* one writer at a time, in the order of the changes */
	pthread_mutex_lock(&h->mu);
	int ret = force_locked(h, name, pool, mode);
	health_override_t *snap = NULL;
	size_t n = h->novr;
	char *path = h->state_file ? strdup(h->state_file) : NULL;
	if (ret == 0 && path && (snap = calloc(n ? n : 1, sizeof(*snap)))) {
		for (size_t i = 0; i < n; i++) {
			snap[i] = h->ovr[i];
			snap[i].name = strdup(h->ovr[i].name);
		}
	}
	pthread_mutex_unlock(&h->mu);
	if (ret == 0) {
		static const char *const what_mode[] = {"none", "forced-up", "forced-down"};
		log_notice("event=health-override %s=%s state=%s", pool ? "pool" : "target",
		           LOG_Q(name), what_mode[mode]);
	}
	if (ret == 0 && path)
		ret = snap ? health_overrides_save(path, snap, n) : -ENOMEM;
	pthread_mutex_unlock(&h->file_mu);
	if (snap)
		health_overrides_free(snap, n);
	free(path);
	return ret;
}

/* ---- reports ---- */

static void fmt_time(uint64_t ms, char *buf, size_t size)
{
	if (!ms) {
		snprintf(buf, size, "never");
		return;
	}
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *force_name(health_force_t f)
{
	return f == HEALTH_FORCE_UP ? "up" : f == HEALTH_FORCE_DOWN ? "down" : "none";
}

static void report_json(sd_strbuf_t *b, const health_target_t *t, bool first)
{
	char addr[64], probe[64], when[32];
	health_sockaddr_str(&t->addr, addr, sizeof(addr));
	health_sockaddr_str(&t->probe, probe, sizeof(probe));
	fmt_time(t->last_change_ms, when, sizeof(when));
	uint32_t w = health_word_pack(t->thr.down, t->force);
	sd_strbuf_printf(b, "%s\n{\"id\":%u,\"name\":", first ? "" : ",", t->id);
	sd_strbuf_json_str(b, t->name);
	sd_strbuf_printf(b, ",\"address\":\"%s\",\"probe\":\"%s\",\"type\":\"%s\",\"pool\":", addr,
	                 probe, health_check_type_name(t->tpl->type));
	if (t->pool)
		sd_strbuf_json_str(b, t->pool);
	else
		sd_strbuf_printf(b, "null");
	sd_strbuf_printf(b,
	                 ",\"state\":\"%s\",\"checked\":\"%s\",\"forced\":%s,\"force\":\"%s\","
	                 "\"last_result\":\"%s\",\"reason\":",
	                 health_state_is_down(w) ? "down" : "up", t->thr.down ? "down" : "up",
	                 t->force ? "true" : "false", force_name(t->force),
	                 health_res_name(t->last_res));
	sd_strbuf_json_str(b, t->reason);
	sd_strbuf_printf(b,
	                 ",\"latency_ms\":%u,\"last_change\":\"%s\",\"last_change_ms\":%llu,"
	                 "\"ok_run\":%u,\"fail_run\":%u,\"checks\":%llu}",
	                 t->latency_ms, when, (unsigned long long)t->last_change_ms, t->thr.ok_run,
	                 t->thr.fail_run, (unsigned long long)t->checks);
}

static void report_text(sd_strbuf_t *b, const health_target_t *t)
{
	char addr[64], probe[64], when[32];
	health_sockaddr_str(&t->addr, addr, sizeof(addr));
	health_sockaddr_str(&t->probe, probe, sizeof(probe));
	fmt_time(t->last_change_ms, when, sizeof(when));
	uint32_t w = health_word_pack(t->thr.down, t->force);
	sd_strbuf_printf(b, "%-20s %-22s %-5s %-4s%s %-11s %5ums ok=%u fail=%u since %s", t->name,
	                 addr, health_check_type_name(t->tpl->type),
	                 health_state_is_down(w) ? "DOWN" : "up", t->force ? " (forced)" : "",
	                 health_res_name(t->last_res), t->latency_ms, t->thr.ok_run,
	                 t->thr.fail_run, when);
	if (strcmp(addr, probe) != 0)
		sd_strbuf_printf(b, " probe=%s", probe);
	if (t->pool)
		sd_strbuf_printf(b, " pool=%s", t->pool);
	sd_strbuf_printf(b, "%s%s\n", t->reason[0] ? " : " : "", t->reason);
}

int health_report(health_t *h, bool json, char **out, size_t *len)
{
	sd_strbuf_t b = SD_STRBUF_INIT;
	sd_strbuf_printf(&b, "%s", json ? "{\"targets\":[" : "");
	pthread_mutex_lock(&h->mu);
	bool first = true;
	for (uint32_t i = 0; i < h->id_used; i++) {
		const health_target_t *t = i < h->id_cap ? h->by_id[i] : NULL;
		if (!t)
			continue;
		if (json)
			report_json(&b, t, first);
		else
			report_text(&b, t);
		first = false;
	}
	pthread_mutex_unlock(&h->mu);
	sd_strbuf_printf(&b, "%s", json ? "\n]}\n" : "");
	return sd_strbuf_take(&b, out, len);
}

void health_stats(health_t *h, health_stats_t *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&h->mu);
	out->targets = h->ntargets;
	for (uint32_t i = 0; i < h->id_used; i++) {
		const health_target_t *t = i < h->id_cap ? h->by_id[i] : NULL;
		if (!t)
			continue;
		if (t->force == HEALTH_FORCE_UP)
			out->forced_up++;
		else if (t->force == HEALTH_FORCE_DOWN)
			out->forced_down++;
		else if (t->thr.down)
			out->down++;
		else
			out->up++;
	}
	out->checks_done = h->st_done;
	out->checks_failed = h->st_failed;
	out->transitions = h->st_transitions;
	memcpy(out->lat_hist, h->st_lat, sizeof(out->lat_hist));
	out->lat_count = h->st_lat_count;
	out->lat_sum_ms = h->st_lat_sum_ms;
	pthread_mutex_unlock(&h->mu);
	/* Read after the lock: a check counted done was started before its result took the
	 * lock, so a scrape never shows more checks done than started. */
	out->checks_started = atomic_load_explicit(&h->st_started, memory_order_relaxed);
	for (size_t i = 0; i < 10; i++)
		out->start_hist[i] = atomic_load_explicit(&h->st_hist[i], memory_order_relaxed);
}
