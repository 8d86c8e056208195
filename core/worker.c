/* Media worker threads: a GMainLoop per thread and a FIFO mailbox drained by one GSource. */
#include "core/worker.h"

#include <stdbool.h>

struct msg {
	worker_fn fn;
	void *data;
};

/* The mailbox: a GSource that is ready while the queue holds messages. */
struct mailbox {
	GSource source;
	GAsyncQueue *queue; /* struct msg */
};

struct worker {
	int index;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	struct mailbox *mbox;
};

struct worker_pool {
	int n;
	struct worker *w;
};

static gboolean mbox_prepare(GSource *s, gint *timeout)
{
	*timeout = -1;
	return g_async_queue_length(((struct mailbox *)s)->queue) > 0;
}

static gboolean mbox_check(GSource *s)
{
	return g_async_queue_length(((struct mailbox *)s)->queue) > 0;
}

static gboolean mbox_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	struct mailbox *mb = (struct mailbox *)s;
	struct msg *m;

	(void)cb;
	(void)data;
	/* only what is queued now: a message posting another does not starve the packets */
	for (gint n = g_async_queue_length(mb->queue); n > 0; n--) {
		m = g_async_queue_try_pop(mb->queue);
		if (!m)
			break;
		m->fn(m->data);
		g_free(m);
	}
	return G_SOURCE_CONTINUE;
}

static void mbox_finalize(GSource *s)
{
	g_async_queue_unref(((struct mailbox *)s)->queue);
}

static GSourceFuncs mbox_funcs = {
	.prepare = mbox_prepare,
	.check = mbox_check,
	.dispatch = mbox_dispatch,
	.finalize = mbox_finalize,
};

static gpointer worker_main(gpointer data)
{
	struct worker *w = data;

	g_main_context_push_thread_default(w->ctx);
	g_main_loop_run(w->loop);
	g_main_context_pop_thread_default(w->ctx);
	return NULL;
}

struct worker_pool *worker_pool_new(const char *name, int n)
{
	struct worker_pool *p = g_new0(struct worker_pool, 1);

	p->n = n;
	p->w = g_new0(struct worker, n);
	for (int i = 0; i < n; i++) {
		struct worker *w = &p->w[i];
		gchar *tname = g_strdup_printf("%s-%d", name, i);

		w->index = i;
		w->ctx = g_main_context_new();
		w->loop = g_main_loop_new(w->ctx, FALSE);
		w->mbox = (struct mailbox *)g_source_new(&mbox_funcs, sizeof(struct mailbox));
		w->mbox->queue = g_async_queue_new();
		/* ahead of the packets: a close must not wait behind a flood */
		g_source_set_priority(&w->mbox->source, G_PRIORITY_HIGH);
		g_source_attach(&w->mbox->source, w->ctx);
		w->thread = g_thread_new(tname, worker_main, w);
		g_free(tname);
	}
	return p;
}

int worker_pool_size(const struct worker_pool *p)
{
	return p->n;
}

struct worker *worker_pool_get(const struct worker_pool *p, int i)
{
	return &p->w[i];
}

GMainContext *worker_context(const struct worker *w)
{
	return w->ctx;
}

int worker_index(const struct worker *w)
{
	return w->index;
}

void worker_post(struct worker *w, worker_fn fn, void *data)
{
	struct msg *m = g_new(struct msg, 1);

	m->fn = fn;
	m->data = data;
	g_async_queue_push(w->mbox->queue, m);
	g_main_context_wakeup(w->ctx);
}

struct sync {
	GMutex lock;
	GCond cond;
	bool done;
};

static void sync_reached(void *data)
{
	struct sync *s = data;

	g_mutex_lock(&s->lock);
	s->done = true;
	g_cond_signal(&s->cond);
	g_mutex_unlock(&s->lock);
}

void worker_sync(struct worker *w)
{
	struct sync s = { .done = false };

	g_mutex_init(&s.lock);
	g_cond_init(&s.cond);
	worker_post(w, sync_reached, &s);
	g_mutex_lock(&s.lock);
	while (!s.done)
		g_cond_wait(&s.cond, &s.lock);
	g_mutex_unlock(&s.lock);
	g_mutex_clear(&s.lock);
	g_cond_clear(&s.cond);
}

static void quit(void *data)
{
	g_main_loop_quit(data);
}

void worker_pool_free(struct worker_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n; i++)
		worker_post(&p->w[i], quit, p->w[i].loop);
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];

		g_thread_join(w->thread);
		g_source_destroy(&w->mbox->source);
		g_source_unref(&w->mbox->source);
		g_main_loop_unref(w->loop);
		g_main_context_unref(w->ctx);
	}
	g_free(p->w);
	g_free(p);
}
