/* container.c — the container records on disk (see container.h). */
#include "engine/container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"
#include "engine/events.h"
#include "engine/links.h"
#include "engine/names.h"
#include "engine/summary.h"

int eng_ctx_init(struct eng_ctx *e, const struct berth_paths *p, berth_error_t *err)
{
        memset(e, 0, sizeof(*e));
        e->data_dir = berth_xstrdup(p->data_dir);
        e->containers_dir = berth_path_join(p->data_dir, "containers");
        e->names_dir = berth_path_join(e->containers_dir, ".names");
        e->run_dir = berth_path_join(p->run_dir, "containers");
        e->oci_root = berth_path_join(p->run_dir, "oci");
        e->rootless = p->rootless;
        e->uid = p->uid;
        const char *dirs[] = {e->names_dir, e->run_dir, e->oci_root};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++) {
                if (berth_mkdir_p(dirs[i], 0700, err) < 0) {
                        eng_ctx_free(e);
                        return berth_wrap(err, "prepare the container state directories");
                }
        }
        return 0;
}

void eng_ctx_free(struct eng_ctx *e)
{
        free(e->data_dir);
        free(e->containers_dir);
        free(e->names_dir);
        free(e->run_dir);
        free(e->oci_root);
        memset(e, 0, sizeof(*e));
}

bool eng_name_valid(const char *name)
{
        if (name == NULL || !isalnum((unsigned char) name[0]) || name[1] == '\0')
                return false;
        for (const char *p = name + 1; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return strlen(name) <= 253;
}

char *eng_now_rfc3339(void)
{
        char buf[64];
        berth_rfc3339(berth_now_ns(), false, buf, sizeof(buf));
        return berth_xstrdup(buf);
}

static void random_id(char id[ENG_ID_LEN + 1])
{
        unsigned char b[ENG_ID_LEN / 2];
        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b)) {
                /* getrandom on Linux ≥ 3.17 does not fail for 32 bytes; be safe anyway */
                for (size_t i = 0; i < sizeof(b); i++)
                        /* NOLINTNEXTLINE(cert-msc30-c,cert-msc50-cpp): ids need not be secret */
                        b[i] = (unsigned char) (rand() ^ (int) getpid());
        }
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(id + 2 * i, 3, "%02x", b[i]);
        /* Docker avoids all-digit short ids: they would parse as numbers */
        bool digits = true;
        for (int i = 0; i < 12; i++)
                digits &= isdigit((unsigned char) id[i]) != 0;
        if (digits)
                id[0] = 'a';
}

void eng_test_crash_point(const char *where)
{
        /* BERTH_TEST_CRASH_AT=<point>: for the crash tests (tests/e2e/crash.bats) only, so
         * that they can leave exactly what a `kill -9` at that moment leaves.  Points:
         * record-made, name-reserved, container-json-written (here), snapshot-made
         * (create.c). */
        const char *at = getenv("BERTH_TEST_CRASH_AT");
        if (at && strcmp(at, where) == 0)
                raise(SIGKILL);
}

bool eng_id_valid(const char *s)
{
        if (strlen(s) != ENG_ID_LEN)
                return false;
        for (const char *p = s; *p; p++)
                if (!isxdigit((unsigned char) *p) || isupper((unsigned char) *p))
                        return false;
        return true;
}

/* A record dir that lost its lock file is one a remover is finishing (it unlinks the lock
 * just before the rmdir) or one whose remover died; after this long, the latter. */
#define ENG_UNLOCKED_GRACE_S 10

int eng_record_stale(struct eng_ctx *e, const char *id, int *lock_fd)
{
        *lock_fd = -1;
        if (!eng_id_valid(id))
                return 0;
        cleanup_free char *dir = berth_path_join(e->containers_dir, id);
        cleanup_free char *doc = berth_path_join(dir, "container.json");
        cleanup_free char *state = berth_path_join(dir, "state.json");
        cleanup_free char *lock = berth_path_join(dir, "lock");
        struct stat st;
        if (lstat(dir, &st) < 0)
                return errno == ENOENT; /* a name left pointing at nothing */
        /* complete: both files (the maker writes container.json, then state.json) */
        if (access(doc, F_OK) == 0 && access(state, F_OK) == 0)
                return 0;
        int fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT && time(NULL) - st.st_mtime > ENG_UNLOCKED_GRACE_S;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                close(fd); /* its creator or remover is alive and at work */
                return 0;
        }
        /* the maker writes both files before it lets the lock go */
        if (access(doc, F_OK) == 0 && access(state, F_OK) == 0) {
                close(fd);
                return 0;
        }
        *lock_fd = fd;
        return 1;
}

static bool record_stale(struct eng_ctx *e, const char *id)
{
        int fd;
        bool stale = eng_record_stale(e, id, &fd) == 1;
        if (fd >= 0)
                close(fd);
        return stale;
}

/* Drop LINK when it still names a stale holder.  Reservations are plain symlink(2)s, so
 * they need no lock; reclaimers take one on the names directory so that two of them can't
 * both find the same dead holder and each drop the other's fresh reservation. */
static int reclaim_name(struct eng_ctx *e, const char *link, berth_error_t *err)
{
        cleanup_close int dfd = open(e->names_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return berth_fail(err, errno, "open `%s`", e->names_dir);
        while (flock(dfd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return berth_fail(err, errno, "lock `%s`", e->names_dir);
        char holder[ENG_ID_LEN + 1];
        ssize_t n = readlink(link, holder, ENG_ID_LEN);
        if (n < 0)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "read `%s`", link);
        holder[n] = '\0';
        if (record_stale(e, holder) && unlink(link) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", link);
        return 0;
}

/* 0: reserved; 1: taken (*holder gets the id holding it); -1: error.  A name whose holder
 * died before it made its record (or whose record is gone) is taken back. */
static int reserve_name(struct eng_ctx *e, const char *name, const char *id,
                        char holder[ENG_ID_LEN + 1], berth_error_t *err)
{
        cleanup_free char *link = berth_path_join(e->names_dir, name);
        for (int attempt = 0;; attempt++) {
                if (symlink(id, link) == 0)
                        return 0;
                if (errno != EEXIST)
                        return berth_fail(err, errno, "reserve name `%s`", name);
                holder[0] = '\0';
                ssize_t n = readlink(link, holder, ENG_ID_LEN);
                if (n > 0)
                        holder[n] = '\0';
                if (attempt > 0 || n <= 0 || !record_stale(e, holder))
                        return 1;
                if (reclaim_name(e, link, err) < 0)
                        return -1;
        }
}

static int name_conflict(const char *name, const char *holder, berth_error_t *err)
{
        return berth_fail_status(err, 125, 0,
                                 "Conflict. The container name \"/%s\" is already in use by "
                                 "container \"%s\". You have to remove (or rename) that "
                                 "container to be able to reuse that name.",
                                 name, holder);
}

static void release_name(struct eng_ctx *e, const char *name, const char *id)
{
        cleanup_free char *link = berth_path_join(e->names_dir, name);
        char cur[ENG_ID_LEN + 1] = "";
        ssize_t n = readlink(link, cur, ENG_ID_LEN);
        if (n > 0)
                cur[n] = '\0';
        if (strcmp(cur, id) == 0)
                unlink(link);
}

static struct eng_container *container_alloc(struct eng_ctx *e, const char *id)
{
        struct eng_container *c = berth_xcalloc(1, sizeof(*c));
        snprintf(c->id, sizeof(c->id), "%s", id);
        c->dir = berth_path_join(e->containers_dir, id);
        c->run_dir = berth_path_join(e->run_dir, id);
        c->lock_fd = -1;
        return c;
}

static int lock_fd_open_at(struct eng_container *c, const char *dir, berth_error_t *err)
{
        cleanup_free char *path = berth_path_join(dir, "lock");
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", path);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return berth_fail(err, e, "lock `%s`", path);
                }
        }
        c->lock_fd = fd;
        return 0;
}

static int lock_fd_open(struct eng_container *c, berth_error_t *err)
{
        return lock_fd_open_at(c, c->dir, err);
}

/* The record directory appears under its id already locked: made as .new-<id>, locked, then
 * renamed into place, so that no one ever sees an unlocked record without container.json
 * that is not stale (eng_record_stale).  A .new-<id> left by a crash is swept by prune. */
static int record_dir_make(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        cleanup_free char *tmp = berth_xasprintf("%s/.new-%s", e->containers_dir, c->id);
        if (mkdir(tmp, 0700) < 0)
                return berth_fail(err, errno, "mkdir `%s`", tmp);
        if (lock_fd_open_at(c, tmp, err) < 0 || rename(tmp, c->dir) < 0) {
                if (c->lock_fd >= 0)
                        berth_fail(err, errno, "rename `%s` to `%s`", tmp, c->dir);
                eng_container_unlock(c);
                cleanup_free char *lock = berth_path_join(tmp, "lock");
                unlink(lock);
                rmdir(tmp);
                return -1;
        }
        return 0;
}

static void record_dir_unmake(struct eng_container *c)
{
        cleanup_free char *lock = berth_path_join(c->dir, "lock");
        unlink(lock);
        rmdir(c->dir);
        eng_container_unlock(c);
}

static json_t *fresh_state(void)
{
        return json_pack("{s:{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}, s:i}",
                         "State", "Status", "created", "Running", 0, "Paused", 0, "Restarting", 0,
                         "OOMKilled", 0, "Dead", 0, "RemovalInProgress", 0, "Pid", 0, "ExitCode", 0,
                         "Error", "", "StartedAt", ENG_ZERO_TIME, "FinishedAt", ENG_ZERO_TIME,
                         "RestartCount", 0);
}

int eng_container_new(struct eng_ctx *e, const char *name, struct eng_container **out,
                      berth_error_t *err)
{
        if (name && !eng_name_valid(name))
                return berth_fail_status(
                        err, 125, 0,
                        "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                        "are allowed",
                        name);
        char id[ENG_ID_LEN + 1];
        random_id(id);
        /* the record first, locked, then the name pointing at it: a name whose record is
         * missing or unlocked without container.json has a dead holder and may be reclaimed */
        struct eng_container *c = container_alloc(e, id);
        if (record_dir_make(e, c, err) < 0) {
                eng_container_free(c);
                return -1;
        }
        eng_test_crash_point("record-made");
        char gen[128];
        char holder[ENG_ID_LEN + 1];
        int r = 0;
        if (name == NULL) {
                for (unsigned attempt = 0;; attempt++) {
                        eng_name_random(gen, sizeof(gen), attempt);
                        r = reserve_name(e, gen, id, holder, err);
                        if (r <= 0)
                                break;
                        if (attempt > 20) {
                                r = name_conflict(gen, holder, err);
                                break;
                        }
                }
                name = gen;
        } else {
                r = reserve_name(e, name, id, holder, err);
                if (r > 0)
                        r = name_conflict(name, holder, err);
        }
        if (r < 0) {
                record_dir_unmake(c);
                eng_container_free(c);
                return -1;
        }
        eng_test_crash_point("name-reserved");
        cleanup_free char *created = eng_now_rfc3339();
        cleanup_free char *slash_name = berth_xasprintf("/%s", name);
        cleanup_free char *log = berth_xasprintf("%s/%s-json.log", c->dir, id);
        c->doc = json_pack("{s:s, s:s, s:s, s:s}", "Id", id, "Created", created, "Name", slash_name,
                           "LogPath", log);
        c->state = fresh_state();
        *out = c;
        return 0;
}

/* Read DIR/FILE as JSON; *stamp: which version of the file that was (fstat of the fd read). */
static int load_json(const char *dir, const char *file, json_t **out, struct eng_stamp *stamp,
                     berth_error_t *err)
{
        cleanup_free char *path = berth_path_join(dir, file);
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_fail(err, errno, "read `%s`", path);
        if (st.st_size > (off_t) (64u << 20))
                return berth_fail(err, EFBIG, "read `%s`: larger than 64 MiB", path);
        size_t cap = (size_t) st.st_size + 1, n = 0;
        cleanup_free char *text = berth_xmalloc(cap);
        for (;;) {
                if (n == cap) { /* grew since the fstat: a writer that doesn't replace */
                        if (cap > (64u << 20))
                                return berth_fail(err, EFBIG, "read `%s`: larger than 64 MiB",
                                                  path);
                        cap *= 2;
                        text = berth_xrealloc(text, cap);
                }
                ssize_t r = read(fd, text + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return berth_fail(err, errno, "read `%s`", path);
                n += (size_t) r;
                /* a regular file reads short only at its end: no read(2) just to see 0 */
                if (r == 0 || n < cap)
                        break;
        }
        json_error_t jerr;
        json_t *j = json_loadb(text, n, 0, &jerr);
        if (j == NULL)
                return berth_fail(err, EINVAL, "parse `%s`: %s (line %d)", path, jerr.text,
                                  jerr.line);
        eng_stamp_of(&st, stamp);
        *out = j;
        return 0;
}

static int load_doc(struct eng_container *c, berth_error_t *err)
{
        json_t *j = NULL;
        if (load_json(c->dir, "container.json", &j, &c->doc_stamp, err) < 0)
                return -1;
        json_decref(c->doc);
        c->doc = j;
        return 0;
}

static int load_state(struct eng_container *c, berth_error_t *err)
{
        json_t *j = NULL;
        if (load_json(c->dir, "state.json", &j, &c->state_stamp, err) < 0)
                return -1;
        json_decref(c->state);
        c->state = j;
        return 0;
}

/* The summary of C's records (summary.h), when C holds them whole.  A failed write leaves
 * the previous summary, which names older records: readers pass it by. */
static void summary_write(struct eng_container *c)
{
        if (c->partial)
                return;
        json_t *sum = eng_summary_make(c->doc, c->state, &c->doc_stamp, &c->state_stamp);
        if (sum == NULL)
                return;
        cleanup_free char *text = json_dumps(sum, JSON_COMPACT);
        json_decref(sum);
        cleanup_free char *path = berth_path_join(c->dir, "summary.json");
        berth_error_t werr = NULL;
        if (text && berth_write_file_replace(path, text, strlen(text), 0600, &werr) < 0)
                berth_error_release(&werr);
}

/* C's fields from its summary, when there is one made from the records now on disk.  DFD: the
 * containers directory (paths under it walk two names, not the whole of c->dir). */
static bool summary_read(struct eng_container *c, int dfd)
{
        char path[ENG_ID_LEN + 32];
        snprintf(path, sizeof(path), "%s/summary.json", c->id);
        cleanup_close int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return false;
        /* one read(2): a summary is ~1 KiB; a larger one (labels, many networks) reads on */
        size_t cap = 8192, len = 0;
        cleanup_free char *text = berth_xmalloc(cap);
        for (;;) {
                ssize_t r = read(fd, text + len, cap - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return false;
                len += (size_t) r;
                if (r == 0 || len < cap)
                        break;
                if (cap >= (1u << 20))
                        return false; /* no summary is that large: read the records */
                cap *= 2;
                text = berth_xrealloc(text, cap);
        }
        json_t *sum = eng_summary_parse(text, len);
        json_t *doc = NULL, *state = NULL;
        struct eng_stamp ds, ss, now;
        int r = eng_summary_split(sum, &doc, &state, &ds, &ss);
        json_decref(sum);
        if (r < 0)
                return false;
        struct stat st;
        snprintf(path, sizeof(path), "%s/container.json", c->id);
        bool fresh = fstatat(dfd, path, &st, 0) == 0 &&
                     (eng_stamp_of(&st, &now), eng_stamp_eq(&ds, &now));
        snprintf(path, sizeof(path), "%s/state.json", c->id);
        fresh = fresh && fstatat(dfd, path, &st, 0) == 0 &&
                (eng_stamp_of(&st, &now), eng_stamp_eq(&ss, &now));
        if (!fresh) {
                json_decref(doc);
                json_decref(state);
                return false;
        }
        c->doc = doc;
        c->state = state;
        c->doc_stamp = ds;
        c->state_stamp = ss;
        c->partial = true;
        return true;
}

static int container_load(struct eng_ctx *e, const char *id, struct eng_container **out,
                          berth_error_t *err)
{
        struct eng_container *c = container_alloc(e, id);
        if (load_doc(c, err) < 0 || load_state(c, err) < 0) {
                eng_container_free(c);
                return -1;
        }
        *out = c;
        return 0;
}

/* A reader's summary_write: only under the record's lock, and only when no one else holds it,
 * so that its temporary file never lands in a directory a remover is emptying (it holds the
 * lock, and unlinks the lock file last). */
static void summary_write_unlocked(struct eng_container *c)
{
        cleanup_free char *path = berth_path_join(c->dir, "lock");
        cleanup_close int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                return; /* the next reader will */
        summary_write(c);
}

/* From the summary when it is fresh; else from the records, and the summary made again. */
static int container_load_brief(struct eng_ctx *e, int dfd, const char *id,
                                struct eng_container **out, berth_error_t *err)
{
        struct eng_container *c = container_alloc(e, id);
        if (!summary_read(c, dfd)) {
                if (load_doc(c, err) < 0 || load_state(c, err) < 0) {
                        eng_container_free(c);
                        return -1;
                }
                summary_write_unlocked(c);
        }
        *out = c;
        return 0;
}

int eng_container_full(struct eng_container *c, berth_error_t *err)
{
        if (!c->partial)
                return 0;
        if (load_doc(c, err) < 0 || load_state(c, err) < 0)
                return berth_wrap(err, "read container %.12s", c->id);
        c->partial = false;
        return 0;
}

int eng_container_find(struct eng_ctx *e, const char *what, struct eng_container **out,
                       berth_error_t *err)
{
        if (what == NULL || *what == '\0')
                return berth_fail_status(err, 125, 0, "container name or ID must not be empty");
        const char *name = what[0] == '/' ? what + 1 : what;
        /* 1. a full id */
        if (eng_id_valid(what)) {
                cleanup_free char *dir = berth_path_join(e->containers_dir, what);
                if (access(dir, F_OK) == 0)
                        return container_load(e, what, out, err);
        }
        /* 2. a name */
        if (eng_name_valid(name)) {
                cleanup_free char *link = berth_path_join(e->names_dir, name);
                char id[ENG_ID_LEN + 1];
                ssize_t n = readlink(link, id, ENG_ID_LEN);
                if (n == ENG_ID_LEN) {
                        id[n] = '\0';
                        /* a reservation whose maker died is no container: free the name */
                        if (!record_stale(e, id))
                                return container_load(e, id, out, err);
                        if (reclaim_name(e, link, err) < 0)
                                return -1;
                }
        }
        /* 3. a unique id prefix */
        size_t plen = strlen(what);
        bool hex = plen > 0 && plen < ENG_ID_LEN;
        for (const char *p = what; *p && hex; p++)
                hex = isxdigit((unsigned char) *p) && !isupper((unsigned char) *p);
        if (hex) {
                cleanup_dir DIR *d = opendir(e->containers_dir);
                char found[ENG_ID_LEN + 1] = "";
                int matches = 0;
                struct dirent *de;
                while (d && (de = readdir(d)) != NULL) {
                        if (eng_id_valid(de->d_name) && strncmp(de->d_name, what, plen) == 0) {
                                matches++;
                                memcpy(found, de->d_name, ENG_ID_LEN + 1);
                        }
                }
                if (matches > 1)
                        return berth_fail_status(
                                err, 1, 0, "multiple IDs found with provided prefix: %s", what);
                if (matches == 1)
                        return container_load(e, found, out, err);
        }
        return berth_fail_status(err, 1, 0, "No such container: %s", what);
}

int eng_container_lock(struct eng_container *c, berth_error_t *err)
{
        if (c->lock_fd >= 0)
                return 0;
        if (lock_fd_open(c, err) < 0)
                return -1;
        if (load_state(c, err) < 0 || (c->partial && load_doc(c, err) < 0)) {
                eng_container_unlock(c);
                return -1;
        }
        c->partial = false;
        return 0;
}

void eng_container_unlock(struct eng_container *c)
{
        berth_closep(&c->lock_fd); /* closing drops the flock */
}

/* container.json is written to disk for good; state.json, rewritten at every
 * transition and reconciled with reality by every call, only atomically.  The one way records
 * are written: the summary follows (unless SUMMARY is false: another write follows at once). */
static int save_record(struct eng_container *c, bool doc, bool sync, bool summary,
                       berth_error_t *err)
{
        const char *file = doc ? "container.json" : "state.json";
        if (c->partial) /* a summary's fields would replace the record's */
                return berth_fail(err, EINVAL, "write %s of container %.12s: read it whole first",
                                  file, c->id);
        cleanup_free char *path = berth_path_join(c->dir, file);
        cleanup_free char *text =
                json_dumps(doc ? c->doc : c->state, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL)
                return berth_fail(err, ENOMEM, "serialize `%s`", path);
        struct stat st;
        if (berth_write_file_stat(path, text, strlen(text), 0600, sync, &st, err) < 0)
                return -1;
        eng_stamp_of(&st, doc ? &c->doc_stamp : &c->state_stamp);
        if (summary)
                summary_write(c);
        return 0;
}

int eng_container_save_state(struct eng_container *c, berth_error_t *err)
{
        return save_record(c, false, false, true, err);
}

int eng_container_save(struct eng_container *c, berth_error_t *err)
{
        if (save_record(c, true, true, false, err) < 0)
                return -1;
        eng_test_crash_point("container-json-written");
        return eng_container_save_state(c, err);
}

int eng_container_save_runtime(struct eng_container *c, berth_error_t *err)
{
        return save_record(c, true, false, true, err);
}

static int cmp_created_desc(const void *a, const void *b)
{
        const struct eng_container *x = *(struct eng_container *const *) a;
        const struct eng_container *y = *(struct eng_container *const *) b;
        const char *cx = json_string_value(json_object_get(x->doc, "Created"));
        const char *cy = json_string_value(json_object_get(y->doc, "Created"));
        return strcmp(cy ? cy : "", cx ? cx : "");
}

static int container_list(struct eng_ctx *e, bool brief, struct eng_container ***out, size_t *n,
                          berth_error_t *err)
{
        *out = NULL;
        *n = 0;
        cleanup_dir DIR *d = opendir(e->containers_dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open `%s`", e->containers_dir);
        struct dirent *de;
        size_t cap = 0;
        while ((de = readdir(d)) != NULL) {
                if (!eng_id_valid(de->d_name))
                        continue;
                struct eng_container *c;
                berth_error_t lerr = NULL;
                /* a record being created or removed right now may be half there: skip it */
                if ((brief ? container_load_brief(e, dirfd(d), de->d_name, &c, &lerr)
                           : container_load(e, de->d_name, &c, &lerr)) < 0) {
                        berth_error_release(&lerr);
                        continue;
                }
                if (*n == cap) {
                        cap = cap ? cap * 2 : 16;
                        *out = berth_xrealloc(*out, cap * sizeof(struct eng_container *));
                }
                (*out)[(*n)++] = c;
        }
        if (*n)
                qsort(*out, *n, sizeof(struct eng_container *), cmp_created_desc);
        return 0;
}

int eng_container_list(struct eng_ctx *e, struct eng_container ***out, size_t *n,
                       berth_error_t *err)
{
        return container_list(e, false, out, n, err);
}

int eng_container_list_brief(struct eng_ctx *e, struct eng_container ***out, size_t *n,
                             berth_error_t *err)
{
        return container_list(e, true, out, n, err);
}

void eng_container_list_free(struct eng_container **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                eng_container_free(v[i]);
        free(v);
}

int eng_container_rename(struct eng_ctx *e, struct eng_container *c, const char *new_name,
                         berth_error_t *err)
{
        if (!eng_name_valid(new_name))
                return berth_fail_status(
                        err, 125, 0,
                        "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                        "are allowed",
                        new_name);
        cleanup_free char *old = berth_xstrdup(eng_container_name(c));
        if (strcmp(old, new_name) == 0)
                return berth_fail_status(err, 125, 0,
                                         "Renaming a container with the same name as its current "
                                         "name");
        char holder[ENG_ID_LEN + 1];
        int taken = reserve_name(e, new_name, c->id, holder, err);
        if (taken != 0) {
                if (taken > 0)
                        name_conflict(new_name, holder, err);
                /* dockerd's words for a rename's conflict */
                return berth_wrap(err, "Error when allocating new name");
        }
        cleanup_free char *slash = berth_xasprintf("/%s", new_name);
        json_object_set_new(c->doc, "Name", json_string(slash));
        if (save_record(c, true, true, true, err) < 0) {
                release_name(e, new_name, c->id);
                cleanup_free char *back = berth_xasprintf("/%s", old);
                json_object_set_new(c->doc, "Name", json_string(back));
                return -1;
        }
        release_name(e, old, c->id);
        /* those linking to it follow the rename, as Docker's links do */
        eng_links_renamed(e, c, old);
        eng_event_container(e, c, "rename", json_pack("{s:s+}", "oldName", "/", old));
        return 0;
}

/* Remove PATH and all below it; at the top, KEEP (when not NULL) is left for the caller. */
static int rm_tree_keep(const char *path, const char *keep, berth_error_t *err)
{
        cleanup_dir DIR *d = opendir(path);
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open `%s`", path);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    (keep && strcmp(de->d_name, keep) == 0))
                        continue;
                cleanup_free char *child = berth_path_join(path, de->d_name);
                if (de->d_type == DT_DIR) {
                        if (rm_tree_keep(child, NULL, err) < 0)
                                return -1;
                } else if (unlink(child) < 0 && errno != ENOENT) {
                        return berth_fail(err, errno, "remove `%s`", child);
                }
        }
        if (keep == NULL && rmdir(path) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", path);
        return 0;
}

static int rm_tree(const char *path, berth_error_t *err)
{
        return rm_tree_keep(path, NULL, err);
}

/* The record directory: container.json first (from then on the record is half-made, which
 * the lock held tells from a crash), the lock file last, just before the directory. */
static int rm_record_dir(const char *dir, berth_error_t *err)
{
        cleanup_free char *doc = berth_path_join(dir, "container.json");
        cleanup_free char *lock = berth_path_join(dir, "lock");
        if (unlink(doc) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", doc);
        if (rm_tree_keep(dir, "lock", err) < 0)
                return -1;
        if (unlink(lock) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", lock);
        if (rmdir(dir) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", dir);
        return 0;
}

/* Every name that points at ID. */
static void release_names_of(struct eng_ctx *e, const char *id)
{
        cleanup_dir DIR *d = opendir(e->names_dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                release_name(e, de->d_name, id);
        }
}

int eng_record_remove_half(struct eng_ctx *e, const char *id, berth_error_t *err)
{
        cleanup_free char *dir = berth_path_join(e->containers_dir, id);
        cleanup_free char *run = berth_path_join(e->run_dir, id);
        if (rm_tree(run, err) < 0)
                return -1;
        release_names_of(e, id);
        return rm_record_dir(dir, err);
}

int eng_names_sweep(struct eng_ctx *e, berth_error_t *err)
{
        cleanup_dir DIR *d = opendir(e->names_dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open `%s`", e->names_dir);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                cleanup_free char *link = berth_path_join(e->names_dir, de->d_name);
                char id[ENG_ID_LEN + 1];
                ssize_t n = readlink(link, id, ENG_ID_LEN);
                if (n <= 0)
                        continue;
                id[n] = '\0';
                if (record_stale(e, id) && reclaim_name(e, link, err) < 0)
                        return -1;
        }
        return 0;
}

int eng_new_dirs_sweep(struct eng_ctx *e, berth_error_t *err)
{
        cleanup_dir DIR *d = opendir(e->containers_dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open `%s`", e->containers_dir);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (strncmp(de->d_name, ".new-", 5) != 0)
                        continue;
                cleanup_free char *tmp = berth_path_join(e->containers_dir, de->d_name);
                struct stat st;
                /* the few instructions between mkdir and rename: only older ones are left over */
                if (lstat(tmp, &st) < 0 || time(NULL) - st.st_mtime <= ENG_UNLOCKED_GRACE_S)
                        continue;
                if (rm_tree(tmp, err) < 0)
                        return -1;
        }
        return 0;
}

int eng_container_remove_record(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        if (rm_tree(c->run_dir, err) < 0)
                return -1;
        release_name(e, eng_container_name(c), c->id);
        /* the directory last: until it is gone, a retry can find the record */
        return rm_record_dir(c->dir, err);
}

void eng_container_free(struct eng_container *c)
{
        if (c == NULL)
                return;
        eng_container_unlock(c);
        json_decref(c->doc);
        json_decref(c->state);
        free(c->dir);
        free(c->run_dir);
        free(c);
}

const char *eng_container_name(const struct eng_container *c)
{
        const char *n = json_string_value(json_object_get(c->doc, "Name"));
        return n ? (n[0] == '/' ? n + 1 : n) : "";
}

json_t *eng_container_state(struct eng_container *c)
{
        return json_object_get(c->state, "State");
}

bool eng_status_live(const char *status)
{
        return strcmp(status, "running") == 0 || strcmp(status, "paused") == 0 ||
               strcmp(status, "restarting") == 0;
}

const char *eng_container_status(struct eng_container *c)
{
        const char *s = json_string_value(json_object_get(eng_container_state(c), "Status"));
        return s ? s : "unknown";
}
