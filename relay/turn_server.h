/* The STUN/TURN listeners: worker threads with SO_REUSEPORT sockets (DESIGN.md "Threads"). */
#pragma once

struct turn_conf;
struct metrics;
struct turn_server;

/*
 * Bind one UDP socket per worker on conf->port (SO_REUSEPORT, so a client's
 * 5-tuple always reaches the same worker) and start the workers. Returns 0
 * and the server in *out, or a positive errno and a reason in *why (g_free).
 * With conf->port 0 nothing is started and *out is NULL.
 */
int turn_server_start(const struct turn_conf *conf, struct metrics *metrics,
                      struct turn_server **out, char **why);

/* Stop and join the workers, close the sockets. NULL is fine. */
void turn_server_stop(struct turn_server *ts);
