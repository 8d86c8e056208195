/*
 * Call quality on the media worker: per leg, what the peer's RTP looked like
 * on arrival (loss, jitter: RFC 3550 A.3, A.8), the round trip to the peer
 * from the SR/RR pairs relayed through us (§6.4.1), the loss the peer
 * reported, and an E-model MOS (ITU-T G.107) for the call.
 */
#include <glib.h>
#include <string.h>

#include "relay/rtp_bytes.h"
#include "relay/rtp_priv.h"

#define LOAD(x)     atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

void media_quality_init(struct media_session *s)
{
	s->clock = 8000;
	for (int l = 0; l < MEDIA_LEG_COUNT; l++) {
		struct media_quality_leg *q = &s->quality[l];

		memset(&q->rx, 0, sizeof(q->rx));
		STORE(q->rtt_us, -1);
		STORE(q->peer_fraction, -1);
	}
}

static void publish(struct media_quality_leg *q)
{
	STORE(q->expected, q->old_expected + rtp_rx_expected(&q->rx));
	STORE(q->received, q->old_received + q->rx.received);
	STORE(q->jitter_us, rtp_rx_jitter_us(&q->rx));
}

void media_quality_rtp(struct media_session *s, int leg, const uint8_t *p, size_t len, int64_t now)
{
	struct media_quality_leg *q = &s->quality[leg];
	uint32_t ssrc;

	if (len < 12)
		return;
	ssrc = rtp_get32(p + 8);
	if (ssrc != q->rx.ssrc || !q->rx.clock) {
		/* a new source (re-INVITE, another media server): keep the old one's totals */
		q->old_expected += rtp_rx_expected(&q->rx);
		q->old_received += q->rx.received;
		rtp_rx_init(&q->rx, ssrc, s->clock);
	}
	rtp_rx_update(&q->rx, (uint16_t)(p[2] << 8 | p[3]), rtp_get32(p + 4), now);
	publish(q); /* three relaxed stores: the control thread may read at any time */
}

/*
 * RTCP from leg `from`'s peer on its way to leg `to`'s peer, read once: its
 * report blocks about what we relay to `from` give the round trip (when they
 * name an SR we sent that way) and the loss it sees; its SR, if any, is
 * remembered for `to`'s round trip.
 */
void media_quality_rtcp(struct media_session *s, int from, int to, const uint8_t *p, size_t len,
                        int64_t now)
{
	struct media_quality_leg *q = &s->quality[from];
	struct rtcp_info in;

	if (rtcp_read(p, len, &in) != 0)
		return;
	for (unsigned i = 0; i < in.n_blocks; i++) {
		int64_t rtt = rtcp_sr_rtt(&q->sr, in.block[i].lsr, in.block[i].dlsr, now);

		if (rtt >= 0)
			STORE(q->rtt_us, rtt);
		STORE(q->peer_fraction, in.block[i].fraction);
	}
	publish(q);
	if (in.has_sr)
		rtcp_sr_sent(&s->quality[to].sr, in.sr_ntp, now);
}

static void leg_quality(const struct media_quality_leg *q, struct media_leg_quality *out)
{
	uint64_t expected = LOAD(q->expected), received = LOAD(q->received);
	int_fast32_t frac = LOAD(q->peer_fraction);

	out->expected = expected;
	out->lost = expected > received ? expected - received : 0;
	out->loss_pct = expected ? 100.0 * (double)out->lost / (double)expected : 0;
	out->jitter_us = (unsigned)LOAD(q->jitter_us);
	out->rtt_us = LOAD(q->rtt_us);
	out->peer_loss_pct = frac < 0 ? -1 : 100.0 * (double)frac / 256;
}

void media_session_quality(const struct media_session *s, struct media_quality *out)
{
	struct media_leg_quality *a = &out->leg[MEDIA_LEG_A], *b = &out->leg[MEDIA_LEG_B];
	double loss, delay_ms = 0, jitter_ms;

	memset(out, 0, sizeof(*out));
	leg_quality(&s->quality[MEDIA_LEG_A], a);
	leg_quality(&s->quality[MEDIA_LEG_B], b);
	if (!a->expected && !b->expected)
		return;
	/* a direction's loss: what one peer's stream lost on the way to us, plus what the
	 * other peer reports lost from us onward; the call is as good as its worse direction */
	loss = MAX(a->loss_pct + MAX(b->peer_loss_pct, 0), b->loss_pct + MAX(a->peer_loss_pct, 0));
	if (a->rtt_us > 0)
		delay_ms += (double)a->rtt_us / 2000;
	if (b->rtt_us > 0)
		delay_ms += (double)b->rtt_us / 2000;
	/* a jitter buffer of about twice the jitter adds to the mouth-to-ear delay */
	jitter_ms = MAX(a->jitter_us, b->jitter_us) / 1000.0;
	out->mos = rtp_quality_mos(loss, delay_ms + 2 * jitter_ms);
}

void media_session_quality_text(const struct media_session *s, char *buf, size_t cap)
{
	struct media_quality q;
	GString *t = g_string_sized_new(128);

	media_session_quality(s, &q);
	for (int l = 0; l < MEDIA_LEG_COUNT; l++) {
		const struct media_leg_quality *lq = &q.leg[l];

		g_string_append_printf(t, " %c_loss=%.2f%% %c_jitter_ms=%.1f %c_rtt_ms=", 'a' + l,
		                       lq->loss_pct, 'a' + l, lq->jitter_us / 1000.0, 'a' + l);
		if (lq->rtt_us >= 0)
			g_string_append_printf(t, "%.1f", (double)lq->rtt_us / 1000);
		else
			g_string_append(t, "-");
	}
	g_string_append_printf(t, " mos=%.2f", q.mos);
	g_strlcpy(buf, t->str, cap);
	g_string_free(t, TRUE);
}
