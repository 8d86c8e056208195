/* Where SIP messages end in a byte stream (RFC 3261 §18.3, §7.5; RFC 5626 §4.4.1 keepalives). Pure.
 */
#include "signaling/sip_frame.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The end of the head, "\r\n\r\n", searched from *from; its offset after it, or 0. */
static size_t head_end(const char *buf, size_t len, size_t from)
{
	for (size_t i = from; i + 4 <= len; i++) {
		if (buf[i] == '\r' && memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return 0;
}

static bool name_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++) {
		char c = line[i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != name[i])
			return false;
	}
	/* the name, optional white space, ':' (RFC 3261 §7.3.1) */
	for (size_t i = k; i < n; i++) {
		if (line[i] == ':')
			return true;
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	}
	return false;
}

/* The value of a Content-Length line: digits between optional white space; EBADMSG or 0. */
static int length_value(const char *line, size_t n, uint64_t *out)
{
	const char *p = (const char *)memchr(line, ':', n) + 1, *end = line + n;
	uint64_t v = 0;
	bool digits = false;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		digits = true;
		if (v < UINT32_MAX)
			v = v * 10 + (uint64_t)(*p - '0');
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (!digits || p != end)
		return EBADMSG;
	*out = v;
	return 0;
}

/* The Content-Length of the head buf[len] (compact form "l" too, RFC 3261 §7.3.3). */
static int content_length(const char *buf, size_t len, uint64_t *out)
{
	bool found = false;

	for (size_t at = 0; at < len;) {
		const char *eol = memchr(buf + at, '\n', len - at);
		size_t n = (eol ? (size_t)(eol - buf) : len) - at;
		uint64_t v = 0;

		if (n && buf[at + n - 1] == '\r')
			n--;
		if (name_is(buf + at, n, "content-length") || name_is(buf + at, n, "l")) {
			if (length_value(buf + at, n, &v) != 0 || (found && v != *out))
				return EBADMSG;
			*out = v;
			found = true;
		}
		if (!eol)
			break;
		at = (size_t)(eol - buf) + 1;
	}
	return found ? 0 : EBADMSG;
}

int sip_frame_next(struct sip_frame *f, const char *buf, size_t len, size_t max,
                   struct sip_frame_out *out)
{
	size_t skip = 0, end;
	uint64_t body = 0;

	memset(out, 0, sizeof(*out));
	while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n')) {
		out->lf += buf[skip] == '\n';
		skip++;
	}
	out->skip = skip;
	buf += skip;
	len -= skip;
	/* resume where the last call stopped, less the three bytes a split "\r\n\r\n" may hold */
	end = head_end(buf, len, f->scanned > 3 ? f->scanned - 3 : 0);
	if (!end) {
		f->scanned = len;
		return len >= max ? EMSGSIZE : ENODATA;
	}
	if (end > max)
		return EMSGSIZE;
	if (content_length(buf, end, &body) != 0)
		return EBADMSG;
	if (body > max - end)
		return EMSGSIZE;
	if (len < end + body) {
		f->scanned = end - 1; /* the head is known to end there: find it again at once */
		return ENODATA;
	}
	f->scanned = 0;
	out->len = end + (size_t)body;
	return 0;
}
