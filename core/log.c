/* Logging: logfmt lines on stderr, one write(2) per line, journald priority prefix. */
#include "core/log.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int log_levels[LOG_SUB_COUNT];

static const char *const level_names[LOG_LVL_COUNT] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/* syslog priorities for the "<N>" prefix journald understands */
static const int level_prio[LOG_LVL_COUNT] = { 3, 4, 6, 7 };

static const char *const sub_names[LOG_SUB_COUNT] = {
	[LOG_CORE] = "core", [LOG_CONF] = "conf",   [LOG_HTTP] = "http",
	[LOG_WS] = "ws",     [LOG_STORE] = "store", [LOG_TLS] = "tls",
	[LOG_LWS] = "lws",   [LOG_SIP] = "sip",     [LOG_ICE] = "ice",
	[LOG_DTLS] = "dtls", [LOG_SRTP] = "srtp",   [LOG_TURN] = "turn",
	[LOG_RTP] = "rtp",   [LOG_CODEC] = "codec", [LOG_EMERGENCY] = "emergency",
};

const char *log_level_name(enum log_level lvl)
{
	return (unsigned)lvl < LOG_LVL_COUNT ? level_names[lvl] : NULL;
}

const char *log_sub_name(enum log_sub sub)
{
	return (unsigned)sub < LOG_SUB_COUNT ? sub_names[sub] : NULL;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < LOG_LVL_COUNT; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return EINVAL;
}

static int sub_parse(const char *s, enum log_sub *out)
{
	for (int i = 0; i < LOG_SUB_COUNT; i++) {
		if (strcmp(s, sub_names[i]) == 0) {
			*out = (enum log_sub)i;
			return 0;
		}
	}
	return EINVAL;
}

int log_levels_parse(const char *base, const char *spec, int *levels, char **err)
{
	int tmp[LOG_SUB_COUNT];
	enum log_level lvl;
	gchar **items = NULL;
	int rc = 0;

	if (log_level_parse(base, &lvl)) {
		if (err)
			*err = g_strdup_printf("unknown level '%s' (error, warn, info, debug)",
			                       base);
		return EINVAL;
	}
	for (int i = 0; i < LOG_SUB_COUNT; i++)
		tmp[i] = (int)lvl;

	items = g_strsplit(spec, ",", -1);
	for (gchar **it = items; *it; it++) {
		gchar *item = g_strstrip(*it);
		gchar *colon = strchr(item, ':');
		enum log_sub sub;

		if (*item == '\0')
			continue;
		if (!colon) {
			if (err)
				*err = g_strdup_printf("'%s' is not subsystem:level", item);
			rc = EINVAL;
			goto out;
		}
		*colon = '\0';
		if (sub_parse(g_strstrip(item), &sub)) {
			if (err)
				*err = g_strdup_printf("unknown subsystem '%s'", item);
			rc = EINVAL;
			goto out;
		}
		if (log_level_parse(g_strstrip(colon + 1), &lvl)) {
			if (err)
				*err = g_strdup_printf("unknown level '%s' for %s", colon + 1,
				                       item);
			rc = EINVAL;
			goto out;
		}
		tmp[sub] = (int)lvl;
	}
	memcpy(levels, tmp, sizeof(tmp));
out:
	g_strfreev(items);
	return rc;
}

void log_init(void)
{
	for (int i = 0; i < LOG_SUB_COUNT; i++)
		log_levels[i] = LOG_LVL_INFO;
}

void log_levels_set(const int *levels)
{
	for (int i = 0; i < LOG_SUB_COUNT; i++)
		g_atomic_int_set(&log_levels[i], levels[i]);
}

const char *log_quote(char *buf, size_t cap, const char *s)
{
	size_t o = 0;

	if (cap < 6) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = (c == '"' || c == '\\') ? 2 : 1;

		/* room for this char, plus ..." and NUL */
		if (o + need + 5 > cap) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 2)
			buf[o++] = '\\';
		buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/*
 * systemd sets JOURNAL_STREAM=<dev>:<inode> of the stream it connected; a
 * child that inherited the variable but writes elsewhere must not use the
 * journal format, so compare with what stderr really is.
 */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_write(enum log_level lvl, enum log_sub sub, const char *msg, const char *fields, ...)
{
	static int journal = -1;
	char line[2048];
	size_t n = 0, cap = sizeof(line) - 1;
	va_list ap;
	int r;

	if (journal < 0)
		journal = stderr_is_journal();

	if (journal) {
		r = snprintf(line, cap, "<%d>level=%s sub=%s msg=\"%s\"", level_prio[lvl],
		             level_names[lvl], sub_names[sub], msg);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		r = snprintf(line, cap,
		             "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s sub=%s msg=\"%s\"",
		             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		             tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl], sub_names[sub],
		             msg);
	}
	n = r < 0 ? 0 : ((size_t)r < cap ? (size_t)r : cap);

	if (fields && *fields && n + 1 < cap) {
		line[n++] = ' ';
		va_start(ap, fields);
		r = vsnprintf(line + n, cap - n, fields, ap);
		va_end(ap);
		if (r > 0)
			n += (size_t)r < cap - n ? (size_t)r : cap - n - 1;
	}
	line[n++] = '\n';
	/* one write per line, so lines from several threads never interleave */
	(void)!write(STDERR_FILENO, line, n);
}
