/* health_driver — a test-only program that runs the prober from a config file and takes
 * line commands on stdin, so system tests can exercise health/ without the daemon:
 *
 *   json | text            the report, followed by a line "."
 *   force NAME up|down|none
 *   add NAME ADDRESS PORT TEMPLATE
 *   remove NAME
 *   reload                 re-read the config file and apply it
 *   stats                  counters as one JSON line
 *   quit
 * Every other command answers one line: "ok ..." or "error: ...".
 */
#include <arpa/inet.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/base/conf.h"
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "health/health.h"

static int load(const char *path, health_conf_t **out)
{
	conf_doc_t *doc = NULL;
	int ret = conf_load(path, &doc);
	if (ret < 0)
		return ret;
	char *copy = strdup(path);
	conf_ctx_t ctx = {0};
	const conf_node_t *sec = conf_get(conf_root(doc), "health");
	ret = sec ? health_conf_parse(&ctx, sec, dirname(copy), out) : health_conf_empty(out);
	free(copy);
	conf_free(doc);
	return ret;
}

static void reply(int ret, const char *what)
{
	if (ret < 0)
		printf("error: %s\n", sd_strerror(ret));
	else
		printf("ok%s%s\n", what ? " " : "", what ? what : "");
}

static int do_add(health_t *h, char *args)
{
	char name[256], addr[64], tpl[256];
	unsigned port = 0;
	if (sscanf(args, "%255s %63s %u %255s", name, addr, &port, tpl) != 4)
		return SD_EPARSE;
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	} else {
		return SD_EPARSE;
	}
	uint32_t id = 0;
	int ret = health_target_add(h, name, (struct sockaddr *)&ss, tpl, &id);
	if (ret == 0)
		printf("ok %u\n", id);
	return ret;
}

static int do_force(health_t *h, char *args)
{
	char name[300], mode[16];
	if (sscanf(args, "%299s %15s", name, mode) != 2)
		return SD_EPARSE;
	health_force_t m = strcmp(mode, "up") == 0     ? HEALTH_FORCE_UP
	                   : strcmp(mode, "down") == 0 ? HEALTH_FORCE_DOWN
	                                               : HEALTH_FORCE_NONE;
	if (m == HEALTH_FORCE_NONE && strcmp(mode, "none") != 0)
		return SD_EPARSE;
	return health_force(h, name, m);
}

static int command(health_t *h, const char *conf_path, char *line)
{
	char *args = line + strcspn(line, " ");
	if (*args)
		*args++ = '\0';
	if (strcmp(line, "json") == 0 || strcmp(line, "text") == 0) {
		char *rep = NULL;
		size_t len = 0;
		int ret = health_report(h, line[0] == 'j', &rep, &len);
		if (ret == 0)
			printf("%s.\n", rep);
		free(rep);
		return ret;
	}
	if (strcmp(line, "force") == 0) {
		int ret = do_force(h, args);
		reply(ret, NULL);
		return 0;
	}
	if (strcmp(line, "add") == 0) {
		int ret = do_add(h, args);
		if (ret < 0)
			reply(ret, NULL);
		return 0;
	}
	if (strcmp(line, "remove") == 0) {
		uint32_t id = 0;
		int ret = health_target_id(h, args, &id);
		if (ret == 0)
			ret = health_target_remove(h, id);
		reply(ret, NULL);
		return 0;
	}
	if (strcmp(line, "reload") == 0) {
		health_conf_t *c = NULL;
		int ret = load(conf_path, &c);
		if (ret == 0)
			ret = health_apply(h, c);
		health_conf_free(c);
		reply(ret, NULL);
		return 0;
	}
	if (strcmp(line, "stats") == 0) {
		health_stats_t s;
		health_stats(h, &s);
		printf("{\"targets\":%u,\"started\":%llu,\"done\":%llu,\"failed\":%llu}\n",
		       s.targets, (unsigned long long)s.checks_started,
		       (unsigned long long)s.checks_done, (unsigned long long)s.checks_failed);
		return 0;
	}
	reply(SD_EPARSE, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CONFIG.yaml\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_setup(false, LOG_LEVEL_INFO);
	health_conf_t *conf = NULL;
	health_t *h = NULL;
	if (load(argv[1], &conf) < 0)
		return 1;
	int ret = health_new(conf, &h);
	health_conf_free(conf);
	if (ret == 0)
		ret = health_start(h);
	if (ret < 0) {
		fprintf(stderr, "health: %s\n", sd_strerror(ret));
		health_free(h);
		return 1;
	}
	printf("ready\n");
	char line[1024];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "quit") == 0)
			break;
		if (command(h, argv[1], line) < 0)
			printf("error\n");
	}
	health_free(h);
	return 0;
}
