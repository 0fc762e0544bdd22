/* worker.c — threads made ahead of need (worker.h). */
#include "vmm/worker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

void vmm_worker_init(struct vmm_worker *w, const char *name, enum vmm_thread_kind kind)
{
        memset(w, 0, sizeof(*w));
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        snprintf(w->name, sizeof(w->name), "%s", name);
        w->kind = kind;
}

static void *worker_main(void *arg)
{
        struct vmm_worker *w = arg;
        pthread_setname_np(pthread_self(), w->name); /* before the list: prctl is not on it */
        berth_error_t err = NULL;
        if (vmm_jail_thread(w->kind, &err) < 0) {
                log_error("thread %s: %s", w->name, berth_error_msg(err));
                berth_error_release(&err);
                pthread_mutex_lock(&w->lock);
                w->failed = true;
                pthread_cond_broadcast(&w->cond);
                pthread_mutex_unlock(&w->lock);
                return NULL;
        }
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (!w->job && !w->quit)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (!w->job)
                        break;
                void *(*job)(void *) = w->job;
                void *a = w->arg;
                pthread_mutex_unlock(&w->lock);
                job(a);
                pthread_mutex_lock(&w->lock);
                w->job = NULL;
                w->busy = false;
                pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

int vmm_worker_start(struct vmm_worker *w, berth_error_t *err)
{
        if (w->started)
                return 0;
        w->quit = w->failed = false;
        int r = pthread_create(&w->thread, NULL, worker_main, w);
        if (r != 0)
                return berth_fail(err, r, "start thread %s", w->name);
        w->started = true;
        return 0;
}

int vmm_worker_run(struct vmm_worker *w, void *(*job)(void *), void *arg, berth_error_t *err)
{
        if (vmm_worker_start(w, err) < 0)
                return -1;
        pthread_mutex_lock(&w->lock);
        int r = 0;
        if (w->failed)
                r = berth_fail(err, EPERM, "thread %s could not take its allow-list", w->name);
        else if (w->busy)
                r = berth_fail(err, EBUSY, "thread %s is busy", w->name);
        else {
                w->job = job;
                w->arg = arg;
                w->busy = true;
                pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

void vmm_worker_wait(struct vmm_worker *w)
{
        pthread_mutex_lock(&w->lock);
        while (w->busy && !w->failed)
                pthread_cond_wait(&w->cond, &w->lock);
        pthread_mutex_unlock(&w->lock);
}

void vmm_worker_stop(struct vmm_worker *w)
{
        if (!w->started)
                return;
        pthread_mutex_lock(&w->lock);
        w->quit = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        w->started = false;
}
