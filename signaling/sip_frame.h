/* Where SIP messages end in a byte stream (RFC 3261 §18.3, §7.5; RFC 5626 §4.4.1 keepalives). Pure.
 */
#pragma once

#include <stddef.h>

/*
 * What the framer keeps between calls for the message being received.
 * Zero it for a new stream; sip_frame_next resets it after each message.
 */
struct sip_frame {
	size_t scanned; /* bytes of the head searched for its end without finding it */
};

/* One step of the framer over buf[len], the bytes received and not yet consumed. */
struct sip_frame_out {
	size_t skip; /* CR and LF bytes before a message: consume them in any case */
	unsigned lf; /* the LFs among them: two or more make a keepalive ping, one a pong */
	size_t len;  /* on 0: the message is buf[skip .. skip + len) */
};

/*
 * Find the next message in buf[len]: CRLFs before it are skipped (RFC 3261
 * §7.5), the head ends at the first empty line, and its Content-Length
 * (mandatory on streams) gives the body. Returns 0 with a whole message,
 * ENODATA when more bytes are needed, EBADMSG when Content-Length is
 * missing, repeated with another value or not a number, EMSGSIZE when the
 * message would pass max bytes. out->skip and out->lf are valid whatever
 * the result; the stream cannot go on after EBADMSG or EMSGSIZE.
 */
int sip_frame_next(struct sip_frame *f, const char *buf, size_t len, size_t max,
                   struct sip_frame_out *out);
