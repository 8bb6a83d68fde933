/* steerctl — send one command to a running steerdns over its control socket
 * (protocol: server/ctlproto.h) and print the reply.
 * Exit: 0 ok, 1 error reply (or a malformed one) or a "false" answer (zone diff: they
 * differ; wait-sync: a secondary lags), 2 cannot connect or usage error. */
#include "server/ctlproto.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_TIMEOUT_S 120 /* a reload of a very large zone takes a while */
/* wait-sync answers by its own deadline (at most 1 h, server/control.c), then some */
#define WAIT_SYNC_REPLY_TIMEOUT_S (3600 + 60)

static void usage(FILE *f)
{
	char def[sizeof(((struct sockaddr_un *)0)->sun_path)];
	srv_ctl_default_path(def, sizeof(def));
	fprintf(
	    f,
	    "usage: steerctl [-s SOCKET] COMMAND [ARGS...]\n"
	    "\n"
	    "Commands:\n"
	    "  status          version, uptime, workers, zones (serial, records, loaded at,\n"
	    "                  last error) and query counters\n"
	    "  reload          re-read the configuration and every changed zone file\n"
	    "  reload ZONE     reload ZONE's file even if it looks unchanged\n"
	    "  health [--json] the health prober's targets: state, forced, last result and\n"
	    "                  reason, latency, time of the last transition (--json: one\n"
	    "                  object {\"targets\":[...]} for scripts)\n"
	    "  health force-down TARGET|pool:NAME\n"
	    "                  answer as if the target (or every member of the pool) were\n"
	    "                  down, whatever its checks say (drain); kept across restarts\n"
	    "  health force-up TARGET|pool:NAME\n"
	    "                  answer as if it were up, whatever its checks say\n"
	    "  health unforce TARGET|pool:NAME\n"
	    "                  remove the override; the checks decide again (a target's own\n"
	    "                  override wins over its pool's)\n"
	    "  zone export ZONE [FILE]\n"
	    "                  what ZONE serves now (its file plus every dynamic update) as\n"
	    "                  a master file, SOA first: to stdout, or to FILE, which the\n"
	    "                  daemon itself writes (a relative FILE is taken from the current\n"
	    "                  directory; the daemon needs write access to its directory; the\n"
	    "                  file is replaced atomically). Prefer FILE for large zones: to\n"
	    "                  stdout the whole text passes through the daemon's memory.\n"
	    "  zone diff ZONE [FILE]\n"
	    "                  drift between FILE (default: the zone's configured file, as\n"
	    "                  kept in git) and what ZONE serves now. One record a line in\n"
	    "                  master-file form, in canonical order: \"+ RR\" served but not in\n"
	    "                  the file (e.g. a dynamic update), \"- RR\" in the file but not\n"
	    "                  served; a TTL change is both. \";\" lines are comments (the\n"
	    "                  serials, the counts). The SOA serial is not compared. Exit 0\n"
	    "                  equal, 1 they differ (or FILE does not parse: file:line on\n"
	    "                  stderr). FILE is read by the daemon (a relative FILE is taken\n"
	    "                  from the current directory).\n"
	    "  zone history ZONE [--json] [--limit N]\n"
	    "                  ZONE's change sets, newest first: serial from -> to, time\n"
	    "                  (ISO 8601 UTC; \"-\" unknown), source (reload with the file,\n"
	    "                  update with the TSIG keys or client addresses, health with the\n"
	    "                  steered names, rollback, unknown) and the records removed and\n"
	    "                  added, as secondaries see them. With --limit N the newest N\n"
	    "                  only; with --json one object for scripts\n"
	    "  zone show-change ZONE SERIAL [--json]\n"
	    "                  the change set that led to SERIAL: \"- RR\" removed (the old\n"
	    "                  SOA first), then \"+ RR\" added (the new SOA first), in\n"
	    "                  master-file form\n"
	    "  zone rollback ZONE SERIAL\n"
	    "                  serve ZONE's content as it was at SERIAL again: one new change\n"
	    "                  set with a new, higher serial (never a lower one), journaled,\n"
	    "                  sent to secondaries (NOTIFY, IXFR) and audited. The zone file\n"
	    "                  is not written (zone diff then shows the difference); the\n"
	    "                  steering transfer view stays with health. Exit 1 when SERIAL\n"
	    "                  is older than the journal reaches (the oldest one is named)\n"
	    "  wait-sync ZONE [SERIAL] [--timeout 10s]\n"
	    "                  a deploy's propagation gate: wait until every known secondary\n"
	    "                  of ZONE serves SERIAL (default: the serial served now) or a\n"
	    "                  newer one (RFC 1982). Known secondaries: the zone's NOTIFY\n"
	    "                  targets, asked for their SOA, and addresses that transferred\n"
	    "                  the zone (within its SOA expire). Exit 0 when they all do, 1 at\n"
	    "                  the timeout (ms, s or m; at most 1h) with the ones that lag\n"
	    "                  on stdout. steerctl status shows each one's serial and lag.\n"
	    "  cookie-rotate   a new DNS cookie secret now (the secret file read again); the\n"
	    "                  current one is still accepted until the next rotation\n"
	    "  steering [NAME] [--client ADDR[/LEN]] [--json]\n"
	    "                  steered names: pools, each member's address, weight and\n"
	    "                  health, and what an A and an AAAA answer hold now; for a geo\n"
	    "                  policy and --client, what that client (an ECS subnet with\n"
	    "                  /LEN) gets: the rule it matches, the database network and\n"
	    "                  scope, the pool list, the pool chosen now and the records\n"
	    "  help            list the commands the running daemon knows\n"
	    "\n"
	    "  -s, --socket SOCKET  the daemon's control socket (default %s)\n"
	    "  -h, --help           print this help\n"
	    "\n"
	    "Exit status: 0 success, 1 the daemon answered with an error or \"no\" (zone diff:\n"
	    "they differ; wait-sync: a secondary lags at the timeout), 2 no connection.\n",
	    def);
}

/* Join the words into one request line; words may not contain blanks or newlines. */
static int build_line(int argc, char **argv, char *line, size_t size)
{
	size_t len = 0;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n == 0 || strpbrk(argv[i], " \t\r\n")) {
			fprintf(stderr, "steerctl: argument '%s' is empty or has blanks\n",
			        argv[i]);
			return -1;
		}
		if (len + n + 2 > size) {
			fprintf(stderr, "steerctl: command longer than %zu bytes\n", size - 2);
			return -1;
		}
		memcpy(line + len, argv[i], n);
		len += n;
		line[len++] = i + 1 < argc ? ' ' : '\n';
	}
	line[len] = '\0';
	return (int)len;
}

/* path made absolute against the current directory (malloc'd), or NULL (reported). */
static char *absolute(const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "steerctl: the current directory: %s\n", strerror(errno));
		return NULL;
	}
	size_t n = strlen(cwd) + strlen(path) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", cwd, path);
	return out;
}

static int connect_to(const char *path, int timeout_s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "steerctl: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr,
		        "steerctl: cannot connect to %s: %s (is steerdns running? -s SOCKET)\n",
		        path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = {.tv_sec = timeout_s};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the whole reply (the daemon closes after it) into a malloc'd string. */
static char *read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 1 == cap) {
			char *more = realloc(buf, cap * 2);
			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "steerctl: reading the reply: %s\n", strerror(errno));
			break;
		}
		if (n == 0) {
			buf[len] = '\0';
			return buf;
		}
		len += (size_t)n;
	}
	free(buf);
	return NULL;
}

static int print_reply(const char *reply)
{
	size_t ok = strlen(SRV_CTL_OK), err = strlen(SRV_CTL_ERROR), no = strlen(SRV_CTL_FALSE);
	if (strncmp(reply, SRV_CTL_OK, ok) == 0) {
		fputs(reply + ok, stdout);
		return 0;
	}
	if (strncmp(reply, SRV_CTL_FALSE, no) == 0) { /* an answer, not a failure: stdout */
		fputs(reply + no, stdout);
		return 1;
	}
	if (strncmp(reply, SRV_CTL_ERROR, err) == 0) {
		fputs(reply + err, stderr);
		return 1;
	}
	fprintf(stderr, "steerctl: malformed reply from the daemon\n");
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	srv_ctl_default_path(path, sizeof(path));
	const char *socket_path = path;
	int opt;
	while ((opt = getopt_long(argc, argv, "+s:h", options, NULL)) != -1) {
		if (opt == 's') {
			socket_path = optarg;
		} else if (opt == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	char *abs = NULL;
	if (argc - optind == 4 && strcmp(argv[optind], "zone") == 0 &&
	    (strcmp(argv[optind + 1], "export") == 0 || strcmp(argv[optind + 1], "diff") == 0)) {
		/* the daemon writes (reads) FILE: it must not depend on the daemon's working
		 * directory */
		if ((abs = absolute(argv[optind + 3])) == NULL)
			return 2;
		argv[optind + 3] = abs;
	}
	char line[SRV_CTL_LINE_MAX + 1];
	int len = build_line(argc - optind, argv + optind, line, sizeof(line));
	free(abs);
	if (len < 0)
		return 2;
	bool wait_sync = strcmp(argv[optind], "wait-sync") == 0;
	int fd = connect_to(socket_path, wait_sync ? WAIT_SYNC_REPLY_TIMEOUT_S : REPLY_TIMEOUT_S);
	if (fd < 0)
		return 2;
	char *reply = NULL;
	if (send_all(fd, line, (size_t)len) == 0)
		reply = read_all(fd);
	else
		fprintf(stderr, "steerctl: sending the command: %s\n", strerror(errno));
	close(fd);
	int rc = reply ? print_reply(reply) : 1;
	free(reply);
	return rc;
}
