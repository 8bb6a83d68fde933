/* main.c — steerdns: command line, --check, then the server (server/server.h). */
#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "server/config.h"
#include "server/server.h"
#include "server/zonedb.h"
#include "steerdns_version.h"

#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: steerdns -c FILE [--state-dir DIR] [--check] [--log-level L] [--syslog]\n"
	    "                [--user USER [--group GROUP]]\n"
	    "       steerdns --listen ADDR:PORT... [--zone NAME=PATH...] [--workers N]\n"
	    "                [--control PATH] [--state-dir DIR] [--check] [--log-level L]\n"
	    "                [--syslog]\n"
	    "       steerdns --version | --help\n"
	    "\n"
	    "An authoritative DNS server. Runs in the foreground and logs to stderr.\n"
	    "\n"
	    "  -c, --config FILE     YAML configuration (example: contrib/examples/steerdns.yaml)\n"
	    "      --check           validate the configuration and load every zone, print\n"
	    "                        file:line errors, exit 1 on any error; binds nothing\n"
	    "      --listen ADDR:PORT  serve UDP and TCP on this address (repeatable;\n"
	    "                        \"127.0.0.1:5353\", \"[::1]:5353\"); replaces -c\n"
	    "      --zone NAME=PATH  serve zone NAME from the master file PATH (repeatable)\n"
	    "      --workers N       worker threads, 0 = one per CPU (default 0)\n"
	    "      --control PATH    control socket for steerctl (default $XDG_RUNTIME_DIR/\n"
	    "                        steerdns.sock, or /tmp/steerdns-UID.sock)\n"
	    "      --state-dir DIR   where zone journals, snapshots and health overrides are\n"
	    "                        kept; created (mode 0700) at start when missing. With -c\n"
	    "                        it overrides server.state-dir (default: the config file's\n"
	    "                        directory); without -c the default is ./" SRV_STATE_DIR_QUICK
	    "\n"
	    "      --log-level L     error, warning, notice, info (default) or debug\n"
	    "      --syslog          log to syslog instead of stderr\n"
	    "      --user USER       started as root: bind the ports, open the state directory,\n"
	    "                        then run as USER (overrides server.user)\n"
	    "      --group GROUP     with --user: run as GROUP, not USER's primary group\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration and changed zone files; SIGTERM and\n"
	    "SIGINT stop. steerctl talks to the control socket (status, reload [ZONE],\n"
	    "health [--json], health force-down|force-up|unforce TARGET|pool:NAME).\n");
}

enum {
	OPT_CHECK = 256,
	OPT_LISTEN,
	OPT_ZONE,
	OPT_WORKERS,
	OPT_CONTROL,
	OPT_STATE_DIR,
	OPT_LOG_LEVEL,
	OPT_SYSLOG,
	OPT_USER,
	OPT_GROUP,
};

static const struct option options[] = {
    {"config", required_argument, NULL, 'c'},
    {"check", no_argument, NULL, OPT_CHECK},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"zone", required_argument, NULL, OPT_ZONE},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"user", required_argument, NULL, OPT_USER},
    {"group", required_argument, NULL, OPT_GROUP},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Fill cli from argv (the lists point into argv). Returns 0, 1 to exit successfully
 * (--help, --version) or a negative code on a usage error. */
static int parse_args(int argc, char **argv, srv_cli_t *cli, bool *check)
{
	int opt;
	while ((opt = getopt_long(argc, argv, "c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cli->config_file = optarg;
			break;
		case OPT_CHECK:
			*check = true;
			break;
		case OPT_LISTEN:
			cli->listen[cli->listen_count++] = optarg;
			break;
		case OPT_ZONE:
			cli->zones[cli->zone_count++] = optarg;
			break;
		case OPT_WORKERS:
			cli->workers = optarg;
			break;
		case OPT_CONTROL:
			cli->control = optarg;
			break;
		case OPT_STATE_DIR:
			if (optarg[0] == '\0') {
				fprintf(stderr, "steerdns: --state-dir: empty path\n");
				return SD_EPARSE;
			}
			cli->state_dir = optarg;
			break;
		case OPT_LOG_LEVEL:
			cli->log_level = optarg;
			break;
		case OPT_SYSLOG:
			cli->syslog = true;
			break;
		case OPT_USER:
			cli->user = optarg;
			break;
		case OPT_GROUP:
			cli->group = optarg;
			break;
		case 'V':
			printf("steerdns %s\n", STEERDNS_VERSION);
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return SD_EPARSE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "steerdns: unexpected argument '%s'\n", argv[optind]);
		return SD_EPARSE;
	}
	if (!cli->config_file && !cli->listen_count && !cli->zone_count) {
		fprintf(stderr, "steerdns: give -c FILE, or --listen and --zone (see --help)\n");
		return SD_EPARSE;
	}
	return 0;
}

/* --check: every configuration error and every zone error, nothing bound. */
static int run_check(const srv_cli_t *cli)
{
	srv_config_t *cfg = NULL;
	int ret = srv_config_load(cli, &cfg);
	int zret = cfg ? srv_zonedb_check(cfg) : 0;
	srv_config_free(cfg);
	if (ret < 0 || zret < 0) {
		log_error("event=check-failed");
		return 1;
	}
	log_notice("event=check-ok file=%s reason=\"configuration and zones are valid\"",
	           LOG_Q(cli->config_file ? cli->config_file : "command line"));
	return 0;
}

static int run_server(const srv_cli_t *cli)
{
	srv_config_t *cfg = NULL;
	int ret = srv_config_load(cli, &cfg);
	if (ret < 0) {
		srv_config_free(cfg);
		log_error("event=start-failed reason=\"the configuration has errors\"");
		return 1;
	}
	log_setup(cfg->log_syslog, cfg->log_level);
	signal(SIGPIPE, SIG_IGN); /* a peer that goes away is an error code, not a signal */
	srv_server_t *s = NULL;
	ret = srv_server_new(cfg, cli, &s);
	if (ret < 0) {
		log_error("event=start-failed reason=%s", LOG_Q(sd_strerror(ret)));
		return 1;
	}
	ret = srv_server_run(s);
	srv_server_free(s);
	log_notice("event=stop exit=%d", ret < 0 ? 1 : 0);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	srv_cli_t cli = {0};
	bool check = false;
#ifdef M_TOP_PAD
	/* ldns mallocs and frees scratch buffers of tens of KB for every RR it parses; with
	 * glibc's default 128 KB trim threshold each free at the top of the heap goes back to the
	 * kernel (brk) and the next RR takes it again, which makes loading a large zone several
	 * times slower. 1 MB kept at the top stops that (ASan's allocator ignores this). */
	(void)mallopt(M_TOP_PAD, 1 << 20);
#endif
	/* Each repeatable option takes at least two argv slots: argc bounds both lists. */
	const char **listen = calloc((size_t)argc, sizeof(*listen));
	const char **zones = calloc((size_t)argc, sizeof(*zones));
	int rc = 2;
	if (!listen || !zones)
		goto out;
	cli.listen = listen;
	cli.zones = zones;
	int ret = parse_args(argc, argv, &cli, &check);
	if (ret != 0) {
		rc = ret > 0 ? 0 : 2;
		goto out;
	}
	log_setup(cli.syslog, LOG_LEVEL_INFO);
	if (cli.log_level) {
		log_level_t level;
		if (log_level_parse(cli.log_level, &level) == 0)
			log_setup(cli.syslog, level);
	}
	rc = check ? run_check(&cli) : run_server(&cli);
out:
	free(listen);
	free(zones);
	return rc;
}
