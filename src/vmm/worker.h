/* worker.h — a thread made ahead of need that runs one job at a time.  A
 * jailed VMM may not create threads once its main thread's allow-list is in
 * place (no clone), so a live migration's sender and its auto-converge
 * throttle are started with the VM and wait for work; unjailed, they start
 * with their first job.  Each installs its allow-list (jail.h) before it
 * takes one. */
#ifndef BERTH_VMM_WORKER_H
#define BERTH_VMM_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "common/error.h"
#include "vmm/jail.h"

struct vmm_worker {
        pthread_t thread;
        bool started, failed, quit, busy;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        void *(*job)(void *arg);
        void *arg;
        char name[16];
        enum vmm_thread_kind kind;
};

/* name: the thread's (at most 15 characters); kind: its allow-list. */
void vmm_worker_init(struct vmm_worker *w, const char *name, enum vmm_thread_kind kind);
int vmm_worker_start(struct vmm_worker *w, berth_error_t *err);
/* Run job(arg) on the worker, started now if it was not; EBUSY while a job runs. */
int vmm_worker_run(struct vmm_worker *w, void *(*job)(void *), void *arg, berth_error_t *err);
/* Until the last job posted is done. */
void vmm_worker_wait(struct vmm_worker *w);
/* After its job (if any), the thread ends; the worker can be started again. */
void vmm_worker_stop(struct vmm_worker *w);

#endif
