/* Unit tests for core/worker: posted work runs on the worker's thread, in order, and sync waits. */
#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/worker.h"

struct record {
	GMutex lock;
	GArray *order; /* int */
	GThread *seen_thread;
	bool owner; /* the worker's context was owned by the thread that ran the work */
	struct worker *w;
};

struct item {
	struct record *r;
	int n;
};

static void note(void *data)
{
	struct item *it = data;

	g_mutex_lock(&it->r->lock);
	g_array_append_val(it->r->order, it->n);
	it->r->seen_thread = g_thread_self();
	it->r->owner = g_main_context_is_owner(worker_context(it->r->w));
	g_mutex_unlock(&it->r->lock);
	g_free(it);
}

static void post_n(struct record *r, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		struct item *it = g_new(struct item, 1);

		it->r = r;
		it->n = i;
		worker_post(r->w, note, it);
	}
}

static void test_fifo_on_worker(void)
{
	struct worker_pool *p = worker_pool_new("t", 2);
	struct record r = { .order = g_array_new(FALSE, FALSE, sizeof(int)) };

	g_mutex_init(&r.lock);
	g_assert_cmpint(worker_pool_size(p), ==, 2);
	r.w = worker_pool_get(p, 1);
	g_assert_cmpint(worker_index(r.w), ==, 1);
	post_n(&r, 0, 1000);
	worker_sync(r.w);
	/* sync returned: everything posted before has run, in order */
	g_assert_cmpuint(r.order->len, ==, 1000);
	for (int i = 0; i < 1000; i++)
		g_assert_cmpint(g_array_index(r.order, int, i), ==, i);
	g_assert_true(r.seen_thread != g_thread_self());
	g_assert_true(r.owner);
	/* what was posted before the pool is freed still runs */
	post_n(&r, 1000, 10);
	worker_pool_free(p);
	g_assert_cmpuint(r.order->len, ==, 1010);
	g_assert_cmpint(g_array_index(r.order, int, 1009), ==, 1009);
	g_array_unref(r.order);
	g_mutex_clear(&r.lock);
}

struct poster {
	struct record *r;
	int base;
};

static gpointer poster_main(gpointer data)
{
	struct poster *ps = data;

	post_n(ps->r, ps->base, 500);
	return NULL;
}

/* Several threads post at once: nothing is lost, each thread's own order is kept. */
static void test_many_posters(void)
{
	struct worker_pool *p = worker_pool_new("t", 1);
	struct record r = { .order = g_array_new(FALSE, FALSE, sizeof(int)) };
	struct poster ps[4];
	GThread *t[4];
	int last[4] = { -1, -1, -1, -1 };

	g_mutex_init(&r.lock);
	r.w = worker_pool_get(p, 0);
	for (int i = 0; i < 4; i++) {
		ps[i] = (struct poster){ &r, i * 10000 };
		t[i] = g_thread_new("poster", poster_main, &ps[i]);
	}
	for (int i = 0; i < 4; i++)
		g_thread_join(t[i]);
	worker_sync(r.w);
	g_assert_cmpuint(r.order->len, ==, 2000);
	for (guint i = 0; i < r.order->len; i++) {
		int v = g_array_index(r.order, int, i);

		g_assert_cmpint(v % 10000, >, last[v / 10000]);
		last[v / 10000] = v % 10000;
	}
	worker_pool_free(p);
	g_array_unref(r.order);
	g_mutex_clear(&r.lock);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/worker/fifo-on-worker", test_fifo_on_worker);
	g_test_add_func("/worker/many-posters", test_many_posters);
	return g_test_run();
}
