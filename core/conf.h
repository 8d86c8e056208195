/* Configuration: one table of keys (core/conf_table.c), an INI loader over GKeyFile, validation. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/log.h"

struct http_conf {
	char *address; /* "" = all interfaces */
	int port;      /* 0 = listener off */
	int tls_port;  /* 0 = listener off */
	char *cert;    /* "" = self-signed in state_dir */
	char *key;
	char **allowed_origins; /* NULL-terminated; empty = same origin only */
	char *web_root;
	int max_header_bytes;
	int max_body_bytes;
	int ws_max_message;
	int ws_max_connections;
	int ws_ping_interval; /* seconds of silence before a WebSocket ping; 0 = never */
	int ws_ping_timeout;  /* seconds then without a pong before the flow is closed */
	int header_timeout;   /* seconds until a silent client gets 408 */
	int idle_timeout;     /* seconds an idle keep-alive connection is kept */
	char *api_token;      /* bearer token of /api/v1; "" = API off */
};

struct log_conf {
	char *level;
	char *levels;
	int resolved[LOG_SUB_COUNT]; /* derived from level + levels */
};

struct turn_conf {
	char *address; /* "" = all interfaces, IPv4 and IPv6 */
	int port;      /* STUN/TURN over UDP and TCP; 0 = off */
	int tls_port;  /* TURN over TLS; 0 = off */
	int workers;   /* 0 = one per core */
	char *io;      /* "io_uring" or "syscalls" */
	int udp_gso;   /* 1: consecutive datagrams to one destination leave as one send */
	char *realm;
	char **secrets; /* TURN REST shared secrets, newest first */
	char **users;   /* "user:password" for long-term credentials */
	char *relay_ports;
	char *allowed_peers;
	char *denied_peers;
	int max_lifetime;
	int nonce_lifetime;
	int max_allocations;
	int max_allocations_per_user;
	int max_connections_per_ip; /* TURN TCP/TLS connections from one client IP */
	int credential_lifetime;    /* seconds a /config TURN credential is valid */
	int request_rate;           /* unauthenticated requests per second per source IP */
	int max_bandwidth;          /* kbit/s relayed per allocation, both ways; 0 = unlimited */
	char *alternate_server;     /* "" or ip:port, answered to Allocate with 300 */
};

struct sip_conf {
	char *realm; /* "" = the host name */
	char **pbx;  /* "udp|tcp|tls:host:port" targets in order; empty: the built-in demo target */
	char *outbound_proxy; /* "" or a target every request toward the PBX goes through */
	char *tls_ca;         /* "" = the system store */
	int tls_verify;       /* 1: the PBX certificate is checked */
	char *tls_cert, *tls_key;
	int keepalive_interval; /* seconds between CRLF pings on TCP/TLS; 0 = none */
	char *address;          /* where the PBX-side SIP socket listens; "" = every address */
	int port;               /* that socket's port (UDP) */
	int options_interval;   /* seconds between OPTIONS pings of each PBX target */
	int invite_timeout;     /* seconds an INVITE may wait for a final answer (timer C) */
};

struct media_conf {
	char *ports;          /* "lo-hi" */
	int workers;          /* 0 = one per core */
	char *public_address; /* "" = the local address toward each peer */
	char *dtls_cert;      /* "" = a self-signed ECDSA P-256 certificate made at start */
	char *dtls_key;
	char *ice_mode;      /* "lite" or "full" */
	int consent_timeout; /* seconds without consent before the browser leg is gone */
	int ice_timeout;     /* seconds for ICE and DTLS to complete */
	char *io;            /* "io_uring" or "syscalls" */
};

struct conf {
	char *state_dir;
	struct log_conf log;
	struct http_conf http;
	struct turn_conf turn;
	struct sip_conf sip;
	struct media_conf media;
};

enum conf_type {
	CONF_STR,
	CONF_INT,
	CONF_LIST, /* comma-separated, stored as a NULL-terminated char ** */
};

enum conf_flags {
	CONF_LIVE = 1 << 0,   /* SIGHUP applies it; others need a restart */
	CONF_SECRET = 1 << 1, /* value never logged */
};

struct conf_key {
	const char *section;
	const char *name;
	enum conf_type type;
	const char *def;
	long long min, max; /* CONF_INT bounds, inclusive */
	size_t offset;      /* into struct conf */
	unsigned flags;
	/* extra check of the textual value; returns 0 or EINVAL and a reason */
	int (*check)(const char *value, char **reason);
	const char *doc;
};

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/*
 * Load path (NULL: defaults only) and apply overrides ("section.key=value",
 * NULL-terminated, may be NULL). On success returns 0 and a new conf in *out
 * (free with conf_free). On failure returns EINVAL and appends one line per
 * error to errors ("source: section.key: reason"); *out is not written.
 */
int conf_load(const char *path, const char *const *overrides, struct conf **out, GPtrArray *errors);

/* As conf_load, from INI text in memory; source names it in errors. */
int conf_load_data(const char *data, size_t len, const char *source, const char *const *overrides,
                   struct conf **out, GPtrArray *errors);

void conf_free(struct conf *conf);

/*
 * For a reload: every key without CONF_LIVE that differs between next and
 * cur is reset in next to cur's value, and its "section.key" is appended to
 * kept (so the running process stays consistent until a restart). Every
 * CONF_LIVE key that differs is appended to applied.
 */
void conf_merge_reload(struct conf *next, const struct conf *cur, GPtrArray *kept,
                       GPtrArray *applied);

/* The commented example file for every key, from the table. */
void conf_write_example(GString *out);
