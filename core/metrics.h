/* Metrics registry and Prometheus text exposition (format 0.0.4). Control thread only. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Keep families[] in metrics.c in the same order. */
enum metric {
	METRIC_HTTP_REQUESTS,           /* counter {route, status} */
	METRIC_HTTP_REJECTED,           /* counter {reason} */
	METRIC_WS_CONNECTIONS,          /* gauge */
	METRIC_WS_CLOSED,               /* counter {reason} */
	METRIC_CONFIG_RELOADS,          /* counter {result} */
	METRIC_STUN_MESSAGES,           /* counter {result}, from the TURN workers */
	METRIC_TURN_PACKETS,            /* counter {side, direction} */
	METRIC_TURN_BYTES,              /* counter {side, direction} */
	METRIC_TURN_ALLOCATIONS,        /* counter {event} */
	METRIC_TURN_ALLOCATIONS_ACTIVE, /* gauge */
	METRIC_TURN_AUTH_FAILURES,      /* counter {reason} */
	METRIC_TURN_DENIED,             /* counter {reason} */
	METRIC_TURN_TCP_CONNECTIONS,    /* gauge */
	METRIC_TURN_GSO_DATAGRAMS,      /* counter {side}: sent within a UDP GSO send */
	METRIC_CONFIG_AUTH,             /* counter {result}: /config requests with Basic auth */
	METRIC_SIP_REGISTRATIONS,       /* gauge: flows registered now */
	METRIC_SIP_REGISTER,            /* counter {result} */
	METRIC_SIP_DROPPED,             /* counter {reason} */
	METRIC_SIP_PBX_UP,              /* gauge {target} */
	METRIC_SIP_CALLS,               /* gauge {state} */
	METRIC_SIP_CALLS_ENDED,         /* counter {reason} */
	METRIC_SIP_RESPONSES,           /* counter {code}: sent by the B2BUA */
	METRIC_MEDIA_SESSIONS,          /* gauge */
	METRIC_MEDIA_PACKETS,           /* counter {kind}, relayed */
	METRIC_MEDIA_BYTES,             /* counter {kind}, relayed */
	METRIC_MEDIA_DROPPED,           /* counter {reason} */
	METRIC_MEDIA_RTP_EXPECTED,      /* counter {leg}: RTP packets the peers' sequence numbers
	                                   promised */
	METRIC_MEDIA_RTP_LOST,          /* counter {leg}: of those, never received */
	METRIC_MEDIA_QUALITY,           /* counter {mos}: sessions ended, by MOS band */
	METRIC_COUNT,
};

#define METRIC_MAX_LABELS 3

struct metrics;

/* A registry with every family of enum metric and no series yet. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/*
 * Add delta to the series of family id with the given label values (as
 * many as the family has names; copied). Counters must only grow.
 */
void metrics_add(struct metrics *m, enum metric id, int64_t delta, const char *const *labels);

/* Set a gauge series. */
void metrics_set(struct metrics *m, enum metric id, int64_t value, const char *const *labels);

/*
 * Collectors copy state kept elsewhere (per-thread counters of the TURN
 * workers) into the registry; metrics_collect runs them, before a render.
 */
typedef void (*metrics_collector)(void *arg, struct metrics *m);
void metrics_add_collector(struct metrics *m, metrics_collector fn, void *arg);
void metrics_remove_collector(struct metrics *m, metrics_collector fn, void *arg);
void metrics_collect(struct metrics *m);

/* Current value of a series; 0 when it does not exist. */
int64_t metrics_get(const struct metrics *m, enum metric id, const char *const *labels);

/*
 * Append the exposition to out: build info for version, uptime and start
 * time (seconds), then every family in order with series sorted by labels.
 */
void metrics_render(const struct metrics *m, GString *out, const char *version, double uptime,
                    double start_time);

/* Escape a label value into out per the exposition format (\\, \", \n). */
void metrics_escape_label(GString *out, const char *value);
