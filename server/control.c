#include "server/control.h"

#include "contrib/base/err.h"
#include "contrib/base/escape.h"
#include "contrib/base/log.h"
#include "contrib/base/strbuf.h"
#include "server/ctlproto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_ARGS_MAX 16
/* Clients at once: a full table makes room by closing its oldest client that has not sent
 * its request yet (a client waiting for a reload's end is kept), so idle connections
 * cannot lock steerctl out. */
#define CTL_CLIENTS_MAX 32
/* A client that has not sent its request line within this time is closed. */
#define CTL_IDLE_MS 5000
/* A command handler's "the reply comes later" (a reload on the thread pool). */
#define CTL_PENDING 1

typedef struct ctl_client {
	uv_pipe_t pipe;
	uv_timer_t idle;  /* CTL_IDLE_MS to send the request line */
	unsigned handles; /* open handles: freed when both closed */
	bool closing;
	bool waiting; /* for an asynchronous command's end (CTL_PENDING) */
	uv_write_t wreq;
	srv_control_t *ctl;
	struct ctl_client *next, **pprev;
	char line[SRV_CTL_LINE_MAX + 1];
	size_t len;
	bool answered;
	sd_strbuf_t reply;
} ctl_client_t;

struct srv_control {
	uv_pipe_t server;
	srv_server_t *srv;
	char *path;
	ino_t ino; /* of the socket file we created: remove only that one */
	dev_t dev;
	ctl_client_t *clients;
	unsigned nclients; /* not closing */
	ctl_client_t *cur; /* the client whose command runs */
	bool server_open;
};

/* A command handler appends its reply text to out and returns 0, or a negative code for an
 * "error" reply. argv[0] is the command name. */
typedef int (*ctl_fn)(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);

static int cmd_status(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);
static void reload_done(void *arg, int ret, const sd_strbuf_t *text);
static int cmd_reload(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);
static int cmd_health(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);
static int cmd_zone(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);
static int cmd_steering(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);
static int cmd_help(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);
static int cmd_wait_sync(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);
static int cmd_cookie_rotate(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out);

/* The command table: one line per command. */
static const struct {
	const char *name;
	const char *args;
	const char *help;
	ctl_fn fn;
} commands[] = {
    {"status", "", "version, uptime, workers, zones and query counters", cmd_status},
    {"reload", "[ZONE]",
     "re-read the configuration and every changed zone file, or reload ZONE's file", cmd_reload},
    {"health", "[--json] | force-down|force-up|unforce TARGET|pool:NAME",
     "the prober's targets (state, forced, last result, reason, latency, last change), or set "
     "or remove an operator override (kept across restarts)",
     cmd_health},
    {"zone", "export ZONE [FILE]",
     "what ZONE serves (zone file and dynamic updates) as a master file, SOA first: in the "
     "reply, or written by the daemon to FILE (an absolute path; replaced atomically)",
     cmd_zone},
    {"zone", "diff ZONE [FILE]",
     "drift: \"+ RR\" served but not in FILE (default: the zone's file), \"- RR\" in FILE but "
     "not served, canonical order, SOA serial ignored; reply \"false\" when they differ",
     cmd_zone},
    {"zone", "history ZONE [--json] [--limit N]",
     "ZONE's change sets, newest first: serial from -> to, time (UTC), source (reload, "
     "update, health, rollback, unknown) and its detail, records removed and added",
     cmd_zone},
    {"zone", "show-change ZONE SERIAL [--json]",
     "the change set to SERIAL: \"- RR\" removed (the old SOA first), then \"+ RR\" added",
     cmd_zone},
    {"zone", "rollback ZONE SERIAL",
     "serve ZONE's content as it was at SERIAL, as one new change set with a new, higher "
     "serial (journaled, NOTIFYed, audited); the zone file is not written",
     cmd_zone},
    {"cookie-rotate", "",
     "a new DNS cookie secret now (the secret file read again), the current one still "
     "accepted",
     cmd_cookie_rotate},
    {"steering", "[NAME] [--client ADDR[/LEN]] [--json]",
     "steered names: pools, each member's health and weight, what an answer holds now "
     "(geo: for the client address or ECS subnet, with the rule, network and scope)",
     cmd_steering},
    {"wait-sync", "ZONE [SERIAL] [--timeout 10s]",
     "wait until every known secondary of ZONE (NOTIFY targets, transfer peers) serves SERIAL "
     "(default: the current one) or newer; reply \"false\" naming the laggards at the "
     "timeout (ms, s or m; at most 1h)",
     cmd_wait_sync},
    {"help", "", "list the commands", cmd_help},
};

static int cmd_cookie_rotate(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	if (argc != 1) {
		sd_strbuf_printf(out, "usage: cookie-rotate\n");
		return SD_EPARSE;
	}
	return srv_server_cookie_rotate(c->srv, out);
}

static int cmd_status(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	if (argc != 1) {
		sd_strbuf_printf(out, "usage: status\n");
		return SD_EPARSE;
	}
	srv_server_status(c->srv, out);
	return 0;
}

static int cmd_reload(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	if (argc > 2) {
		sd_strbuf_printf(out, "usage: reload [ZONE]\n");
		return SD_EPARSE;
	}
	int ret = srv_server_reload(c->srv, argc == 2 ? argv[1] : NULL, reload_done, c->cur, out);
	if (ret == CTL_PENDING)
		c->cur->waiting = true;
	return ret;
}

/* The grammar after the word "health" is health/ctl.c's: pass the words on as one line. */
static int cmd_health(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	char args[SRV_CTL_LINE_MAX + 1];
	size_t len = 0;
	args[0] = '\0';
	for (int i = 1; i < argc; i++) {
		/* The words came from one request line, so they fit into one again. */
		int n = snprintf(args + len, sizeof(args) - len, "%s%s", i > 1 ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(args) - len)
			return SD_ELIMIT;
		len += (size_t)n;
	}
	return srv_server_health_ctl(c->srv, args, out);
}

static bool parse_serial(const char *text, uint32_t *serial);

#define ZONE_USAGE                                                                                 \
	"usage: zone export ZONE [FILE] | zone diff ZONE [FILE] | zone history ZONE [--json] "     \
	"[--limit N] | zone show-change ZONE SERIAL [--json] | zone rollback ZONE SERIAL\n"

/* zone history ZONE [--json] [--limit N] | zone show-change ZONE SERIAL [--json]: the words
 * after the zone's name. */
static bool parse_hist_args(int argc, char **argv, bool want_serial, uint32_t *serial, bool *json,
                            size_t *limit)
{
	bool has_serial = false, ok = true;
	for (int i = 3; i < argc && ok; i++) {
		uint32_t n = 0;
		if (strcmp(argv[i], "--json") == 0 && !*json) {
			*json = true;
		} else if (!want_serial && strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			ok = parse_serial(argv[++i], &n) && n > 0;
			*limit = n;
		} else if (want_serial && !has_serial && argv[i][0] != '-') {
			ok = has_serial = parse_serial(argv[i], serial);
		} else {
			ok = false;
		}
	}
	return ok && has_serial == want_serial;
}

static int cmd_zone_hist(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	bool json = false;
	size_t limit = 0;
	uint32_t serial = 0;
	bool hist = strcmp(argv[1], "history") == 0, rollback = strcmp(argv[1], "rollback") == 0;
	if (rollback ? argc != 4 || !parse_serial(argv[3], &serial)
	             : !parse_hist_args(argc, argv, !hist, &serial, &json, &limit)) {
		sd_strbuf_printf(out, ZONE_USAGE);
		return SD_EPARSE;
	}
	if (hist)
		return srv_server_zone_history(c->srv, argv[2], limit, json, out);
	if (rollback)
		return srv_server_zone_rollback(c->srv, argv[2], serial, out);
	return srv_server_zone_show_change(c->srv, argv[2], serial, json, out);
}

static int cmd_zone(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	if (argc >= 3 && (strcmp(argv[1], "history") == 0 || strcmp(argv[1], "show-change") == 0 ||
	                  strcmp(argv[1], "rollback") == 0))
		return cmd_zone_hist(c, argc, argv, out);
	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "diff") == 0) {
		int ret = srv_server_zone_diff(c->srv, argv[2], argc == 4 ? argv[3] : NULL,
		                               reload_done, c->cur, out);
		if (ret == CTL_PENDING)
			c->cur->waiting = true;
		return ret;
	}
	if (argc < 3 || argc > 4 || strcmp(argv[1], "export") != 0) {
		sd_strbuf_printf(out, ZONE_USAGE);
		return SD_EPARSE;
	}
	return srv_server_zone_export(c->srv, argv[2], argc == 4 ? argv[3] : NULL, out);
}

static int cmd_steering(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	const char *name = NULL, *client = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && !json) {
			json = true;
		} else if (strcmp(argv[i], "--client") == 0 && !client && i + 1 < argc) {
			client = argv[++i];
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			sd_strbuf_printf(out,
			                 "usage: steering [NAME] [--client ADDR[/LEN]] [--json]\n");
			return SD_EPARSE;
		}
	}
	return srv_server_steering(c->srv, name, client, json, out);
}

/* A duration: digits and a unit, ms, s (the default) or m; 0 < d <= CTL_WAIT_MAX_MS. */
#define CTL_WAIT_MAX_MS     3600000ull
#define CTL_WAIT_DEFAULT_MS 10000ull
static bool parse_duration_ms(const char *text, uint64_t *ms)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (end == text || errno || text[0] == '-' || v > CTL_WAIT_MAX_MS)
		return false;
	uint64_t unit = strcmp(end, "ms") == 0                  ? 1
	                : strcmp(end, "s") == 0 || *end == '\0' ? 1000
	                : strcmp(end, "m") == 0                 ? 60000
	                                                        : 0;
	*ms = v * unit;
	return unit && *ms > 0 && *ms <= CTL_WAIT_MAX_MS;
}

static bool parse_serial(const char *text, uint32_t *serial)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	*serial = (uint32_t)v;
	return end != text && *end == '\0' && !errno && text[0] != '-' && v <= UINT32_MAX;
}

static int cmd_wait_sync(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	const char *zone = NULL;
	bool has_serial = false;
	uint32_t serial = 0;
	uint64_t timeout_ms = CTL_WAIT_DEFAULT_MS;
	bool ok = true;
	for (int i = 1; i < argc && ok; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			ok = parse_duration_ms(argv[++i], &timeout_ms);
		else if (strncmp(argv[i], "--timeout=", 10) == 0)
			ok = parse_duration_ms(argv[i] + 10, &timeout_ms);
		else if (!zone && argv[i][0] != '-')
			zone = argv[i];
		else if (!has_serial && argv[i][0] != '-')
			ok = has_serial = parse_serial(argv[i], &serial);
		else
			ok = false;
	}
	if (!ok || !zone) {
		sd_strbuf_printf(out, "usage: wait-sync ZONE [SERIAL] [--timeout DURATION (10s; "
		                      "ms, s or m, at most 1h)]\n");
		return SD_EPARSE;
	}
	int ret = srv_server_wait_sync(c->srv, zone, has_serial, serial, timeout_ms, reload_done,
	                               c->cur, out);
	if (ret == CTL_PENDING)
		c->cur->waiting = true;
	return ret;
}

static int cmd_help(srv_control_t *c, int argc, char **argv, sd_strbuf_t *out)
{
	for (size_t i = 0; i < SD_ARRAY_LEN(commands); i++)
		sd_strbuf_printf(out, "%s%s%s\n    %s\n", commands[i].name,
		                 commands[i].args[0] ? " " : "", commands[i].args,
		                 commands[i].help);
	return 0;
}

/* Split the request line into words and run its command. */
static int dispatch(srv_control_t *c, char *line, sd_strbuf_t *out)
{
	char *argv[CTL_ARGS_MAX];
	int argc = 0;
	for (char *save = NULL, *w = strtok_r(line, " \t\r", &save); w;
	     w = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CTL_ARGS_MAX) {
			sd_strbuf_printf(out, "too many arguments\n");
			return SD_ELIMIT;
		}
		argv[argc++] = w;
	}
	if (argc == 0) {
		sd_strbuf_printf(out, "empty command; try help\n");
		return SD_EPARSE;
	}
	for (size_t i = 0; i < SD_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, argv[0]) == 0)
			return commands[i].fn(c, argc, argv, out);
	sd_strbuf_printf(out, "unknown command '%s'; try help\n", argv[0]);
	return SD_ENOTFOUND;
}

static void client_closed(uv_handle_t *h)
{
	ctl_client_t *cl = h->data;
	if (--cl->handles > 0)
		return;
	if (cl->pprev) {
		*cl->pprev = cl->next;
		if (cl->next)
			cl->next->pprev = cl->pprev;
	}
	sd_strbuf_free(&cl->reply);
	free(cl);
}

static void client_close(ctl_client_t *cl)
{
	if (cl->closing)
		return;
	cl->closing = true;
	cl->ctl->nclients--;
	if (cl->waiting) /* nobody reads the command's answer any more */
		srv_server_forget(cl->ctl->srv, cl);
	uv_close((uv_handle_t *)&cl->pipe, client_closed);
	uv_close((uv_handle_t *)&cl->idle, client_closed);
}

static void client_written(uv_write_t *req, int status)
{
	client_close(req->data);
}

static void client_idle(uv_timer_t *t)
{
	client_close(t->data);
}

/* Send the status line and the reply text (escaped), then close. */
/* A failed command's event line: the command and the first line of its reply. */
static void log_failed(const ctl_client_t *cl, const sd_strbuf_t *body)
{
	if (memchr(cl->line, '\0', cl->len) != NULL) /* logged as rejected already */
		return;
	char first[256] = "";
	if (body->len) {
		const char *text = sd_strbuf_str(body);
		const char *nl = memchr(text, '\n', body->len);
		size_t n = nl ? (size_t)(nl - text) : body->len;
		snprintf(first, sizeof(first), "%.*s", (int)n, text);
	}
	log_notice("event=control-failed command=%s reason=%s", LOG_Q(cl->line), LOG_Q(first));
}

static void client_reply(ctl_client_t *cl, int ret, const sd_strbuf_t *body)
{
	if (ret < 0)
		log_failed(cl, body);
	sd_strbuf_printf(&cl->reply, "%s",
	                 ret < 0                    ? SRV_CTL_ERROR
	                 : ret == SRV_CTL_RET_FALSE ? SRV_CTL_FALSE
	                                            : SRV_CTL_OK);
	/* the reply echoes request words, zone-file text and error lines: nothing in it may
	 * reach steerctl's terminal as a control sequence (contrib/base/escape.h) */
	sd_strbuf_append_escaped(&cl->reply, sd_strbuf_str(body), body->len, SD_ESCAPE_KEEP_LF);
	if (cl->reply.oom) {
		client_close(cl);
		return;
	}
	uv_buf_t buf = uv_buf_init(cl->reply.buf, (unsigned)cl->reply.len);
	cl->wreq.data = cl;
	if (uv_write(&cl->wreq, (uv_stream_t *)&cl->pipe, &buf, 1, client_written) < 0)
		client_close(cl);
}

/* The end of an asynchronous command (reload, zone diff, wait-sync): its reply. */
static void reload_done(void *arg, int ret, const sd_strbuf_t *text)
{
	ctl_client_t *cl = arg;
	cl->waiting = false;
	if (!cl->closing)
		client_reply(cl, ret, text);
}

static void client_answer(ctl_client_t *cl)
{
	sd_strbuf_t body = {0};
	cl->answered = true;
	uv_timer_stop(&cl->idle);
	uv_read_stop((uv_stream_t *)&cl->pipe);
	cl->line[cl->len] = '\0';
	int ret;
	if (memchr(cl->line, '\0', cl->len) != NULL) { /* it would cut the words short */
		char shown[SRV_CTL_LINE_MAX * SD_ESCAPE_UNIT_MAX + 1];
		sd_escape(shown, sizeof(shown), cl->line, cl->len, 0);
		log_notice("event=control-command command=%s reason=\"rejected: a NUL byte\"",
		           LOG_Q(shown));
		sd_strbuf_printf(&body, "the request contains a NUL byte\n");
		ret = SD_EPARSE;
	} else {
		log_info("event=control-command command=%s", LOG_Q(cl->line)); /* escaped there */
		cl->ctl->cur = cl;
		ret = dispatch(cl->ctl, cl->line, &body);
		cl->ctl->cur = NULL;
	}
	if (ret != CTL_PENDING)
		client_reply(cl, ret, &body);
	sd_strbuf_free(&body);
}

static void client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	ctl_client_t *cl = h->data;
	buf->base = cl->line + cl->len;
	buf->len = SRV_CTL_LINE_MAX - cl->len;
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	ctl_client_t *cl = s->data;
	if (cl->answered || n == 0)
		return;
	if (n < 0) {
		if (n == UV_EOF && cl->len > 0) /* a request without its newline */
			client_answer(cl);
		else
			client_close(cl);
		return;
	}
	char *nl = memchr(cl->line + cl->len, '\n', (size_t)n);
	cl->len += (size_t)n;
	if (nl) {
		cl->len = (size_t)(nl - cl->line);
		client_answer(cl);
	} else if (cl->len == SRV_CTL_LINE_MAX) {
		cl->len = 0;
		cl->answered = true;
		sd_strbuf_printf(&cl->reply, SRV_CTL_ERROR "request longer than %d bytes\n",
		                 SRV_CTL_LINE_MAX);
		uv_buf_t out = uv_buf_init(cl->reply.buf, (unsigned)cl->reply.len);
		cl->wreq.data = cl;
		if (cl->reply.oom || uv_write(&cl->wreq, s, &out, 1, client_written) < 0)
			client_close(cl);
	}
}

/* The oldest client still to send its request (the list is newest first), or NULL. */
static ctl_client_t *oldest_idle(srv_control_t *c)
{
	ctl_client_t *found = NULL;
	for (ctl_client_t *cl = c->clients; cl; cl = cl->next)
		if (!cl->closing && !cl->answered)
			found = cl;
	return found;
}

static void on_connection(uv_stream_t *server, int status)
{
	srv_control_t *c = server->data;
	if (status < 0)
		return;
	ctl_client_t *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return; /* libuv keeps the connection pending; retried on the next one */
	cl->ctl = c;
	uv_pipe_init(server->loop, &cl->pipe, 0);
	uv_timer_init(server->loop, &cl->idle);
	cl->pipe.data = cl;
	cl->idle.data = cl;
	cl->handles = 2;
	cl->next = c->clients;
	cl->pprev = &c->clients;
	if (c->clients)
		c->clients->pprev = &cl->next;
	c->clients = cl;
	c->nclients++;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) < 0) {
		client_close(cl);
		return;
	}
	if (c->nclients > CTL_CLIENTS_MAX) {
		ctl_client_t *old = oldest_idle(c);
		if (old && old != cl) {
			log_notice(
			    "event=control-client-closed clients=%u reason=\"too many clients: "
			    "the oldest idle one is closed\"",
			    c->nclients - 1);
			client_close(old);
		} else { /* every other client waits for a reload: this one waits its turn */
			client_close(cl);
			return;
		}
	}
	if (uv_timer_start(&cl->idle, client_idle, CTL_IDLE_MS, 0) < 0 ||
	    uv_read_start((uv_stream_t *)&cl->pipe, client_alloc, client_read) < 0)
		client_close(cl);
}

/* Remove a socket file nobody listens on any more; refuse to steal a live one. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : sd_errno();
	if (!S_ISSOCK(st.st_mode)) {
		log_error("event=control-socket-failed file=%s reason=\"the file exists and is not "
		          "a socket\"",
		          LOG_Q(path));
		return -EEXIST;
	}
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return sd_errno();
	int live = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(probe);
	if (live) {
		log_error(
		    "event=control-socket-failed file=%s reason=\"another process is listening "
		    "on it (another steerdns?)\"",
		    LOG_Q(path));
		return -EADDRINUSE;
	}
	log_notice("event=control-socket-stale file=%s hint=\"removing it\"", LOG_Q(path));
	return unlink(path) == 0 ? 0 : sd_errno();
}

static int bind_socket(const char *path, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int ret = clear_stale(path, &sa);
	if (ret < 0)
		return ret;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sd_errno();
	/* Linux creates the socket file with the mode of the socket's inode (minus umask):
	 * restrict it before bind so the path is never reachable by others. */
	if (fchmod(fd, 0600) != 0 || bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0600) != 0 || listen(fd, 16) != 0) {
		ret = sd_errno();
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

int srv_control_new(uv_loop_t *loop, const char *path, srv_server_t *server, srv_control_t **out)
{
	srv_control_t *c = calloc(1, sizeof(*c));
	int fd = -1, ret = -ENOMEM;
	*out = NULL;
	if (!c || !(c->path = strdup(path)))
		goto out;
	c->srv = server;
	ret = bind_socket(path, &fd);
	if (ret < 0) {
		log_error("event=control-socket-failed file=%s reason=%s", LOG_Q(path),
		          LOG_Q(sd_strerror(ret)));
		goto out;
	}
	struct stat st;
	if (stat(path, &st) == 0) {
		c->ino = st.st_ino;
		c->dev = st.st_dev;
	}
	uv_pipe_init(loop, &c->server, 0);
	c->server.data = c;
	c->server_open = true;
	ret = uv_pipe_open(&c->server, fd);
	if (ret < 0) {
		close(fd);
	} else {
		ret = uv_listen((uv_stream_t *)&c->server, 16, on_connection);
	}
	if (ret < 0)
		log_error("event=control-socket-failed file=%s reason=%s", LOG_Q(path),
		          LOG_Q(uv_strerror(ret)));
out:
	if (ret < 0 && c && c->server_open) {
		srv_control_close(c); /* the caller runs the loop once and frees */
		*out = c;
		return ret;
	}
	if (ret < 0) {
		if (c)
			free(c->path);
		free(c);
		return ret;
	}
	log_info("event=control-socket-listening file=%s", LOG_Q(path));
	*out = c;
	return 0;
}

void srv_control_close(srv_control_t *c)
{
	if (!c)
		return;
	if (c->server_open && !uv_is_closing((uv_handle_t *)&c->server)) {
		uv_close((uv_handle_t *)&c->server, NULL);
		struct stat st;
		if (c->ino && stat(c->path, &st) == 0 && st.st_ino == c->ino && st.st_dev == c->dev)
			unlink(c->path);
	}
	for (ctl_client_t *cl = c->clients; cl; cl = cl->next)
		client_close(cl);
}

void srv_control_free(srv_control_t *c)
{
	if (!c)
		return;
	free(c->path);
	free(c);
}
