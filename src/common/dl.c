/* dl.c — shared libraries loaded on first use (dl.h says why). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/dl.h"

static void load_locked(struct berth_dl *l)
{
        /* RTLD_LOCAL: nothing else binds to the library's own dependencies by accident */
        void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
                snprintf(l->error, sizeof(l->error), "%s", dlerror());
                __atomic_store_n(&l->state, -1, __ATOMIC_RELEASE);
                return;
        }
        for (size_t i = 0; i < l->n; i++) {
                l->syms[i] = dlsym(h, l->names[i]);
                if (l->syms[i] == NULL) {
                        snprintf(l->error, sizeof(l->error), "%s: no symbol %s", l->soname,
                                 l->names[i]);
                        dlclose(h);
                        __atomic_store_n(&l->state, -1, __ATOMIC_RELEASE);
                        return;
                }
        }
        /* the handle stays open for the process's lifetime, as a linked library would */
        __atomic_store_n(&l->state, 1, __ATOMIC_RELEASE);
}

int berth_dl_load(struct berth_dl *l, berth_error_t *err)
{
        int state = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
        if (state == 0) {
                pthread_mutex_lock(&l->lock);
                if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == 0)
                        load_locked(l);
                pthread_mutex_unlock(&l->lock);
                state = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
        }
        if (state < 0)
                return berth_fail(err, ELIBACC, "load %s: %s", l->soname, l->error);
        return 0;
}

void *berth_dl_sym(struct berth_dl *l, size_t i)
{
        if (__builtin_expect(__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == 1, 1))
                return l->syms[i];
        berth_error_t err = NULL;
        if (berth_dl_load(l, &err) < 0) {
                /* no caller of a linked library expects its calls to fail for want of it */
                dprintf(STDERR_FILENO, "%s\n", berth_error_msg(err));
                _exit(127);
        }
        return l->syms[i];
}
