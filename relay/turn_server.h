/* The STUN/TURN listeners: worker threads with SO_REUSEPORT sockets (DESIGN.md "Threads"). */
#pragma once

struct conf;
struct metrics;
struct turn_server;

/*
 * Bind one UDP socket per worker on turn.port (SO_REUSEPORT, so a client's
 * 5-tuple always reaches the same worker) and start the workers with an
 * immutable snapshot of [turn] (credentials, peer policy, quotas), and with
 * turn.tls_port a TLS listener too, with cert and key (PEM paths). Returns 0
 * and the server in *out, or a positive errno and a reason in *why (g_free).
 * With turn.port 0 nothing is started and *out is NULL.
 */
int turn_server_start(const struct conf *conf, const char *cert, const char *key,
                      struct metrics *metrics, struct turn_server **out, char **why);

/*
 * SIGHUP (control thread): build a new snapshot from conf and publish it to
 * the workers atomically; the old one is freed once every worker has moved
 * past it. Keys that need new sockets (ports, address, workers, relay
 * ports) are not conf's to change here (conf_merge_reload keeps them). 0, or
 * a positive errno with a reason in *why (the old snapshot stays). NULL is fine.
 */
int turn_server_reconf(struct turn_server *ts, const struct conf *conf, char **why);

/* Stop and join the workers, close the sockets. NULL is fine. */
void turn_server_stop(struct turn_server *ts);
