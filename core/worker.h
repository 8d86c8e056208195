/* Media worker threads: one GMainContext, GMainLoop and GThread each (DESIGN.md "Threads"). */
#pragma once

#include <glib.h>

struct worker;
struct worker_pool;

typedef void (*worker_fn)(void *data);

/*
 * Start n (>= 1) threads named "<name>-<i>", each running its own loop.
 * Never fails (GLib aborts when a thread cannot be made). Free with
 * worker_pool_free. Control thread.
 */
struct worker_pool *worker_pool_new(const char *name, int n);

/*
 * Post a stop to every worker, run what was posted before it, join the
 * threads and free the pool. NULL is fine. Control thread.
 */
void worker_pool_free(struct worker_pool *p);

int worker_pool_size(const struct worker_pool *p);
struct worker *worker_pool_get(const struct worker_pool *p, int i);

/* The worker's own context: sources attached to it run on its thread only. */
GMainContext *worker_context(const struct worker *w);
int worker_index(const struct worker *w);

/*
 * Run fn(data) on the worker's thread, after everything posted to it before
 * (FIFO). data is the callee's from here on. Any thread; the only way
 * another thread may act on what a worker owns.
 */
void worker_post(struct worker *w, worker_fn fn, void *data);

/*
 * Block until the worker has run everything posted to it before this call.
 * For tests and shutdown; never from the worker itself.
 */
void worker_sync(struct worker *w);
