/* Receiver statistics of one RTP source (RFC 3550 A.1, A.3, A.8) and a MOS estimate (G.107). Pure.
 */
#include "relay/rtp_rx.h"

#include <string.h>

#define SEQ_MOD        (1u << 16)
#define MAX_DROPOUT    3000 /* A.1: a forward jump larger than this is suspicious */
#define MAX_MISORDER   100
#define MIN_SEQUENTIAL 2

void rtp_rx_init(struct rtp_rx *r, uint32_t ssrc, uint32_t clock)
{
	memset(r, 0, sizeof(*r));
	r->ssrc = ssrc;
	r->clock = clock ? clock : 8000;
	r->probation = MIN_SEQUENTIAL;
}

/* A new (or restarted) sequence from seq on (A.1 init_seq). */
static void restart(struct rtp_rx *r, uint16_t seq)
{
	r->base_seq = seq;
	r->max_seq = seq;
	r->bad_seq = SEQ_MOD + 1; /* so seq == bad_seq is false */
	r->cycles = 0;
	r->received = 0;
	r->expected_prior = 0;
	r->received_prior = 0;
}

/* A.1 update_seq: whether the packet counts. */
static bool seq_ok(struct rtp_rx *r, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - r->max_seq);

	if (!r->started) {
		restart(r, seq);
		r->max_seq = (uint16_t)(seq - 1);
		r->started = true;
	}
	if (r->probation) {
		/* a new source is valid after MIN_SEQUENTIAL packets in a row */
		if (seq == (uint16_t)(r->max_seq + 1)) {
			r->probation--;
			r->max_seq = seq;
			if (r->probation == 0) {
				restart(r, seq);
				return true;
			}
		} else {
			r->probation = MIN_SEQUENTIAL - 1;
			r->max_seq = seq;
		}
		return false;
	}
	if (udelta < MAX_DROPOUT) {
		if (seq < r->max_seq)
			r->cycles += SEQ_MOD; /* wrapped */
		r->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		/* a very large jump: a restart when the next packet follows it */
		if (seq == r->bad_seq) {
			restart(r, seq);
			r->resets++;
		} else {
			r->bad_seq = (uint32_t)((seq + 1) & (SEQ_MOD - 1));
			return false;
		}
	} else {
		r->duplicates_or_late++; /* duplicate or reordered */
	}
	return true;
}

bool rtp_rx_update(struct rtp_rx *r, uint16_t seq, uint32_t rtp_ts, int64_t arrival_us)
{
	int64_t arrival, transit, d;

	if (!seq_ok(r, seq))
		return false;
	r->received++;
	/* A.8: arrival in the source's clock units; only differences matter */
	arrival = arrival_us * (int64_t)r->clock / 1000000;
	transit = arrival - (int64_t)rtp_ts;
	if (r->received > 1) {
		d = transit - r->transit;
		if (d < 0)
			d = -d;
		/* J += (|D| - J) / 16, kept ×16 */
		r->jitter_q4 += (uint64_t)d - ((r->jitter_q4 + 8) >> 4);
	}
	r->transit = transit;
	return true;
}

uint32_t rtp_rx_ext_max(const struct rtp_rx *r)
{
	return r->cycles + r->max_seq;
}

uint32_t rtp_rx_expected(const struct rtp_rx *r)
{
	return r->received ? rtp_rx_ext_max(r) - r->base_seq + 1 : 0;
}

int64_t rtp_rx_lost(const struct rtp_rx *r)
{
	return (int64_t)rtp_rx_expected(r) - r->received;
}

uint32_t rtp_rx_jitter_us(const struct rtp_rx *r)
{
	return r->clock ? (uint32_t)((r->jitter_q4 >> 4) * 1000000 / r->clock) : 0;
}

void rtp_rx_block(struct rtp_rx *r, struct rtcp_block *out)
{
	uint32_t expected = rtp_rx_expected(r);
	uint32_t exp_int = expected - r->expected_prior;
	uint32_t rec_int = r->received - r->received_prior;
	int64_t lost_int = (int64_t)exp_int - rec_int;
	int64_t lost = rtp_rx_lost(r);

	memset(out, 0, sizeof(*out));
	out->ssrc = r->ssrc;
	/* A.3: fraction of the interval, 0 when duplicates outnumber losses */
	out->fraction = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0;
	out->lost = (int32_t)(lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : lost);
	out->ext_seq = rtp_rx_ext_max(r);
	out->jitter = (uint32_t)(r->jitter_q4 >> 4);
	r->expected_prior = expected;
	r->received_prior = r->received;
}

/*
 * E-model, G.107 with the usual simplifications for VoIP monitoring:
 *   R = 93.2 - Id - Ie,eff
 *   Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)           (d: one-way ms)
 *   Ie,eff = Ie + (95 - Ie) Ppl / (Ppl + Bpl)               (G.107 §7.4)
 *   MOS = 1 + 0.035 R + R (R - 60)(100 - R) 7e-6, 0 < R < 100 (G.107 Annex B)
 */
double rtp_quality_mos(double loss_pct, double delay_ms)
{
	const double ie = 0.0, bpl = 25.1;
	double id, ie_eff, r;

	if (loss_pct < 0)
		loss_pct = 0;
	if (loss_pct > 100)
		loss_pct = 100;
	if (delay_ms < 0)
		delay_ms = 0;
	id = 0.024 * delay_ms + (delay_ms > 177.3 ? 0.11 * (delay_ms - 177.3) : 0);
	ie_eff = ie + (95 - ie) * loss_pct / (loss_pct + bpl);
	r = 93.2 - id - ie_eff;
	if (r <= 0)
		return 1.0;
	if (r >= 100)
		return 4.5;
	return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}
