/* test_container.c — container records: ids, unique names, lookup by id,
 * name and prefix, rename, listing order, locking, removal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/container.h"
#include "tap.h"

int main(void)
{
        char root[] = "/tmp/berth-test-container-XXXXXX";
        if (mkdtemp(root) == NULL)
                return 1;
        cleanup_free char *run = berth_xasprintf("%s/run", root);
        cleanup_free char *data = berth_xasprintf("%s/data", root);
        struct berth_paths p = {.run_dir = run, .data_dir = data};
        struct eng_ctx e;
        berth_error_t err = NULL;
        is_int(eng_ctx_init(&e, &p, &err), 0, "ctx init makes the state directories");

        struct eng_container *web = NULL, *c2 = NULL, *found = NULL;
        is_int(eng_container_new(&e, "web", &web, &err), 0, "new container named web");
        is_int(strlen(web->id), 64, "a 64-hex-digit id");
        is_str(eng_container_name(web), "web", "the name is kept without its slash");
        is_str(eng_container_status(web), "created", "a new record is `created`");
        ok(web->lock_fd >= 0, "a new record comes locked");
        json_object_set_new(web->doc, "Image", json_string("sha256:abc"));
        is_int(eng_container_save(web, &err), 0, "save");

        is_int(eng_container_new(&e, "web", &c2, &err), -1, "a taken name is refused");
        ok(err && err->status == 125 &&
                   strstr(berth_error_msg(err),
                          "Conflict. The container name \"/web\" is already in use by container") &&
                   strstr(berth_error_msg(err), web->id),
           "with Docker's Conflict message naming the holder");
        berth_error_release(&err);
        is_int(eng_container_new(&e, "-bad", &c2, &err), -1, "an invalid name is refused");
        ok(err && strstr(berth_error_msg(err), "Invalid container name (-bad)"),
           "with Docker's message");
        berth_error_release(&err);

        is_int(eng_container_new(&e, NULL, &c2, &err), 0, "a generated name");
        ok(strchr(eng_container_name(c2), '_') != NULL, "looks like adjective_noun");
        eng_container_save(c2, &err);

        is_int(eng_container_find(&e, "web", &found, &err), 0, "find by name");
        is_str(found->id, web->id, "the right one");
        is_str(json_string_value(json_object_get(found->doc, "Image")), "sha256:abc",
               "with its saved fields");
        eng_container_free(found);
        is_int(eng_container_find(&e, "/web", &found, &err), 0, "find by /name");
        eng_container_free(found);
        is_int(eng_container_find(&e, web->id, &found, &err), 0, "find by full id");
        eng_container_free(found);
        char prefix[13];
        memcpy(prefix, web->id, 12);
        prefix[12] = '\0';
        is_int(eng_container_find(&e, prefix, &found, &err), 0, "find by 12-char prefix");
        is_str(found->id, web->id, "prefix resolves to the right one");
        eng_container_free(found);
        is_int(eng_container_find(&e, "nosuch", &found, &err), -1, "unknown name");
        ok(err && err->status == 1 &&
                   strcmp(berth_error_msg(err), "No such container: nosuch") == 0,
           "Docker's message and status (1, as the docker CLI for a daemon error)");
        berth_error_release(&err);

        /* ambiguous prefix: find the common first hex digit of two ids, if any */
        if (web->id[0] == c2->id[0]) {
                char one[2] = {web->id[0], 0};
                is_int(eng_container_find(&e, one, &found, &err), -1, "ambiguous prefix refused");
                berth_error_release(&err);
        } else {
                char one[2] = {web->id[0], 0};
                is_int(eng_container_find(&e, one, &found, &err), 0,
                       "a 1-char unique prefix works");
                eng_container_free(found);
        }

        /* lock: a second opener blocks until the first unlocks */
        cleanup_free char *lockpath = berth_xasprintf("%s/lock", web->dir);
        int fd = open(lockpath, O_RDWR);
        ok(flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK, "the lock is really held");
        eng_container_unlock(web);
        ok(flock(fd, LOCK_EX | LOCK_NB) == 0, "and released by unlock");
        flock(fd, LOCK_UN);
        close(fd);

        /* state written by someone else is seen after lock */
        struct eng_container *other = NULL;
        eng_container_find(&e, "web", &other, &err);
        eng_container_lock(other, &err);
        json_object_set_new(eng_container_state(other), "Status", json_string("running"));
        eng_container_save_state(other, &err);
        eng_container_free(other);
        is_int(eng_container_lock(web, &err), 0, "relock");
        is_str(eng_container_status(web), "running", "lock reloads state written elsewhere");

        is_int(eng_container_rename(&e, web, "web2", &err), 0, "rename");
        is_int(eng_container_find(&e, "web", &found, &err), -1, "old name is free");
        berth_error_release(&err);
        is_int(eng_container_find(&e, "web2", &found, &err), 0, "new name finds it");
        eng_container_free(found);
        is_int(eng_container_rename(&e, web, eng_container_name(c2), &err), -1,
               "rename onto a taken name fails");
        berth_error_release(&err);
        is_int(eng_container_find(&e, "web2", &found, &err), 0, "and keeps the old name");
        eng_container_free(found);

        struct eng_container **all;
        size_t n;
        is_int(eng_container_list(&e, &all, &n, &err), 0, "list");
        is_int(n, 2, "two containers");
        ok(n == 2 && strcmp(all[0]->id, c2->id) == 0, "newest first");
        eng_container_list_free(all, n);

        is_int(eng_container_remove_record(&e, web, &err), 0, "remove");
        ok(access(web->dir, F_OK) < 0, "its directory is gone");
        is_int(eng_container_find(&e, "web2", &found, &err), -1, "its name is free");
        berth_error_release(&err);
        eng_container_free(web);
        eng_container_free(c2);
        eng_ctx_free(&e);
        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", root);
        ok(system(cmd) == 0, "cleanup");
        return tap_done();
}
