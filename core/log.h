/* Logging: one macro family, per-subsystem levels, logfmt key=value lines on stderr. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_COUNT,
};

/* Keep log_sub_names[] in log.c in the same order. */
enum log_sub {
	LOG_CORE,
	LOG_CONF,
	LOG_HTTP,
	LOG_WS,
	LOG_STORE,
	LOG_TLS,
	LOG_LWS,
	LOG_SIP,
	LOG_ICE,
	LOG_DTLS,
	LOG_SRTP,
	LOG_TURN,
	LOG_RTP,
	LOG_CODEC,
	LOG_EMERGENCY,
	LOG_SUB_COUNT,
};

extern int log_levels[LOG_SUB_COUNT];

/*
 * log_info(LOG_HTTP, "listener open", "port=%u tls=%s", port, tls);
 * The level is checked before any argument is evaluated. The message is a
 * fixed phrase; the fields are key=value pairs. Never pass a secret: values
 * that came from a client go through log_quote() when they may hold spaces.
 */
#define log_at(lvl, sub, msg, ...)                                   \
	do {                                                         \
		if ((lvl) <= log_levels[(sub)])                      \
			log_write((lvl), (sub), (msg), __VA_ARGS__); \
	} while (0)
#define log_err(sub, msg, ...)   log_at(LOG_LVL_ERROR, sub, msg, __VA_ARGS__)
#define log_warn(sub, msg, ...)  log_at(LOG_LVL_WARN, sub, msg, __VA_ARGS__)
#define log_info(sub, msg, ...)  log_at(LOG_LVL_INFO, sub, msg, __VA_ARGS__)
#define log_debug(sub, msg, ...) log_at(LOG_LVL_DEBUG, sub, msg, __VA_ARGS__)

void log_write(enum log_level lvl, enum log_sub sub, const char *msg, const char *fields, ...)
        __attribute__((format(printf, 4, 5)));

/* Name of a level or subsystem; NULL when out of range. */
const char *log_level_name(enum log_level lvl);
const char *log_sub_name(enum log_sub sub);

/* Parse "info" into *out. Returns 0 or EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

/*
 * Parse "sip:debug,http:warn" over a base level into levels[LOG_SUB_COUNT].
 * On error returns EINVAL and, when err is not NULL, a newly allocated
 * reason in *err. levels is written only on success.
 */
int log_levels_parse(const char *base, const char *spec, int *levels, char **err);

/* Set every subsystem to info; call once at start, before threads. */
void log_init(void);

/* Install levels[LOG_SUB_COUNT] for every thread (atomic per entry). */
void log_levels_set(const int *levels);

/*
 * Quote a client-supplied value for a log field into buf (capacity cap):
 * wraps in "", escapes " and \, replaces control bytes with '?', and
 * truncates with "..." when it does not fit. Returns buf.
 */
const char *log_quote(char *buf, size_t cap, const char *s);
