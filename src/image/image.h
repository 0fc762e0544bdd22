/* image.h — berth's images: a content-addressable store with OCI image-layout
 * semantics, layers unpacked once per diffID, container root filesystems
 * (overlay or vfs), and the formats images travel in (rootfs tarballs,
 * docker-archive, OCI layout).
 *
 * On disk, under <data_dir>/images (one OCI image layout plus berth's own dirs):
 *
 *   oci-layout, index.json     the image table: one descriptor per image manifest,
 *                              one more per name ("org.opencontainers.image.ref.name")
 *   blobs/sha256/<hex>         manifests, configs, layers — visible only once verified
 *   layers/<hex of diffID>/    each layer unpacked once, shared by every image using it
 *   snapshots/<container id>/  a container's rootfs (overlay upper/work/rootfs, or a vfs copy)
 *   tmp/                       blobs and layers being written (same filesystem: rename)
 *   index.lock, gc.lock        writers of the table, and writers vs garbage collection
 */
#ifndef BERTH_IMAGE_IMAGE_H
#define BERTH_IMAGE_IMAGE_H

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define IMG_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL */

#define IMG_MT_OCI_MANIFEST      "application/vnd.oci.image.manifest.v1+json"
#define IMG_MT_OCI_INDEX         "application/vnd.oci.image.index.v1+json"
#define IMG_MT_OCI_CONFIG        "application/vnd.oci.image.config.v1+json"
#define IMG_MT_OCI_LAYER         "application/vnd.oci.image.layer.v1.tar"
#define IMG_MT_OCI_LAYER_GZIP    "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMG_MT_OCI_LAYER_ZSTD    "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMG_MT_DOCKER_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define IMG_MT_DOCKER_LIST       "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMG_MT_DOCKER_CONFIG     "application/vnd.docker.container.image.v1+json"
#define IMG_MT_DOCKER_LAYER      "application/vnd.docker.image.rootfs.diff.tar"
#define IMG_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

#define IMG_ANNOT_REF_NAME  "org.opencontainers.image.ref.name"
#define IMG_ANNOT_FULL_NAME "io.containerd.image.name"

/* ---- digests (digest.c) ---- */

struct img_sha256; /* incremental hashing (GNU Nettle) */
struct img_sha256 *img_sha256_new(void);
void img_sha256_update(struct img_sha256 *h, const void *buf, size_t len);
/* Writes "sha256:<hex>" and frees h. */
void img_sha256_final(struct img_sha256 *h, char out[IMG_DIGEST_MAX]);
void img_sha256_free(struct img_sha256 *h);
void img_sha256_digest(const void *buf, size_t len, char out[IMG_DIGEST_MAX]);
/* Standard base64 without line breaks, NUL-terminated (caller frees). */
char *img_base64_encode(const void *buf, size_t len);
/* Decoded, with a NUL after the *len bytes (caller frees); NULL if b64 is not base64. */
void *img_base64_decode(const char *b64, size_t *len);

/* "sha256:" followed by exactly 64 lowercase hex digits. */
bool img_digest_valid(const char *digest);
/* The hex part of a valid digest. */
const char *img_digest_hex(const char *digest);

/* ---- the store (store.c) ---- */

struct img_store {
        char *root; /* <data_dir>/images */
        int root_fd;
        int gc_lock_fd; /* shared while writing blobs, exclusive while collecting */
};

int img_store_open(struct img_store *s, const char *data_dir, berth_error_t *err);
void img_store_close(struct img_store *s);

/* flock(op) on <root>/name (created if missing); returns the fd holding it. */
int img_store_lock(struct img_store *s, const char *name, int op, berth_error_t *err);

/* Writers hold the gc lock shared from their first blob until the image that
 * references it is in the table, so that a collection never deletes a blob
 * that is about to be referenced. */
int img_store_writer_begin(struct img_store *s, berth_error_t *err);
void img_store_writer_end(struct img_store *s);

/* A blob being written: data goes to tmp/ and is hashed as it goes; commit
 * verifies the digest, fsyncs and renames it into blobs/sha256/. */
struct img_blob_writer {
        struct img_store *store;
        int fd;
        char *tmp_path;
        struct img_sha256 *hash;
        uint64_t size;
};

int img_blob_begin(struct img_store *s, struct img_blob_writer *w, berth_error_t *err);
int img_blob_write(struct img_blob_writer *w, const void *buf, size_t len, berth_error_t *err);
/* Copy fd, to its end, into the blob. */
int img_blob_write_fd(struct img_blob_writer *w, int fd, berth_error_t *err);
/* expected: the digest the data must have (NULL: whatever it is).  out may be NULL. */
int img_blob_commit(struct img_blob_writer *w, const char *expected, char out[IMG_DIGEST_MAX],
                    berth_error_t *err);
void img_blob_abort(struct img_blob_writer *w);

int img_blob_put(struct img_store *s, const void *buf, size_t len, const char *expected,
                 char out[IMG_DIGEST_MAX], berth_error_t *err);
/* Copies fd to its end into a blob. */
int img_blob_put_fd(struct img_store *s, int fd, const char *expected, char out[IMG_DIGEST_MAX],
                    uint64_t *size, berth_error_t *err);

bool img_blob_exists(struct img_store *s, const char *digest);
int img_blob_open(struct img_store *s, const char *digest, berth_error_t *err);
int img_blob_size(struct img_store *s, const char *digest, uint64_t *size, berth_error_t *err);
int img_blob_read(struct img_store *s, const char *digest, char **out, size_t *len,
                  berth_error_t *err);
char *img_blob_path(struct img_store *s, const char *digest);

/* ---- references (reference.c) ---- */

/* "busybox" → "busybox:latest"; "reg:5000/a/b@sha256:…" kept.  Refuses what
 * Docker refuses (upper case, empty parts, bad characters). */
int img_ref_normalize(const char *in, char **out, berth_error_t *err);
/* Split a normalized name: repository and tag ("<none>" when absent). */
void img_ref_split(const char *name, char **repo, char **tag);

/* ---- the image table (index.c) ---- */

struct img_entry {
        char manifest[IMG_DIGEST_MAX]; /* the image's manifest digest */
        char **names;                  /* normalized names pointing at it */
        size_t n_names;
        int64_t manifest_size;
        char *manifest_media_type;
};

struct img_table {
        struct img_entry *v;
        size_t n;
};

int img_table_load(struct img_store *s, struct img_table *t, berth_error_t *err);
void img_table_free(struct img_table *t);
struct img_entry *img_table_find_manifest(struct img_table *t, const char *manifest);

/* Under the table lock: add the image (if new) and move each name to it
 * (a name points at one image; the image it left keeps existing, dangling). */
int img_table_add(struct img_store *s, const char *manifest, const char *media_type, int64_t size,
                  const char *const *names, size_t n_names, berth_error_t *err);
/* Remove one name.  Returns 1 if removed, 0 if absent. */
int img_table_untag(struct img_store *s, const char *name, berth_error_t *err);
/* Remove an image and all its names. */
int img_table_remove(struct img_store *s, const char *manifest, berth_error_t *err);

/* ---- images (manifest.c) ---- */

struct img_desc {
        char *media_type;
        char digest[IMG_DIGEST_MAX];
        int64_t size;
};

struct img_image {
        char manifest_digest[IMG_DIGEST_MAX];
        json_t *manifest;
        struct img_desc config;
        struct img_desc *layers;
        size_t n_layers;
        json_t *cfg;             /* the image config */
        const char **diff_ids;   /* cfg.rootfs.diff_ids, one per layer (owned by cfg) */
        struct img_entry *entry; /* its row in the table the lookup used */
};

/* Resolve what a user typed: a name, name@digest, an ID (config digest, full or
 * a unique prefix of ≥ 1 hex char, with or without "sha256:") or a manifest digest. */
int img_lookup(struct img_store *s, struct img_table *t, const char *what, struct img_entry **out,
               berth_error_t *err);
int img_image_load(struct img_store *s, const char *manifest_digest, struct img_image *img,
                   berth_error_t *err);
void img_image_free(struct img_image *img);
/* Uncompressed size is not in the manifest; this is what the layers take in blobs. */
int64_t img_image_size(const struct img_image *img);

/* Store a manifest for a config and layers already in the store, and add it to
 * the table under names.  Writes the manifest digest to out. */
int img_image_commit(struct img_store *s, json_t *cfg, const struct img_desc *layers,
                     size_t n_layers, const char *const *names, size_t n_names,
                     char out[IMG_DIGEST_MAX], berth_error_t *err);

/* The same for a config already in the store (kept byte for byte: its digest is the ID). */
int img_manifest_commit(struct img_store *s, const struct img_desc *config,
                        const struct img_desc *layers, size_t n_layers, const char *const *names,
                        size_t n_names, char out[IMG_DIGEST_MAX], berth_error_t *err);

/* ---- layers (layer.c) ---- */

struct img_unpack_stats {
        uint64_t entries;
        uint64_t bytes;
        /* optional, given by the caller: told the compressed bytes read so far as the
         * unpack goes (gzip, zstd and plain layers) */
        void (*read_fn)(void *ctx, uint64_t done);
        void *read_ctx;
};

/* Unpack a layer (tar, gzip or zstd, detected; xz/bzip2 too) read from fd into the
 * directory dirfd, turning OCI whiteouts into overlayfs ones.  Entries that would land
 * outside dirfd are refused.  With want_diffid, the uncompressed stream must hash to
 * it (checked in the same pass) or the unpack fails. */
int img_layer_unpack(int fd, int dirfd, const char *want_diffid, struct img_unpack_stats *stats,
                     berth_error_t *err);

/* A layer's uncompressed stream, hashed as it is read (decompress.c): plain, gzip, zstd. */
struct img_decomp;
bool img_decomp_supported(int fd); /* false for xz and bzip2 */
int img_decomp_open(int fd, struct img_decomp **out, berth_error_t *err);
/* Next chunk (*buf valid until the next call); 0 at the end. */
ssize_t img_decomp_read(struct img_decomp *d, const void **buf, berth_error_t *err);
/* Read to the end; the stream's digest (the diffID) and size. */
int img_decomp_finish(struct img_decomp *d, char out[IMG_DIGEST_MAX], uint64_t *size,
                      berth_error_t *err);
void img_decomp_free(struct img_decomp *d);
/* sha256 of the uncompressed stream (the layer's diffID) and its size. */
int img_layer_diffid(int fd, char out[IMG_DIGEST_MAX], uint64_t *size, berth_error_t *err);
/* A stored uncompressed layer's diffID (its digest) must be want, the config's; a
 * compressed one is checked when unpacked.  Its media type (by its compression) is
 * returned in *media_type if not NULL. */
int img_layer_verify(struct img_store *s, const char *blob, const char *want, char **media_type,
                     berth_error_t *err);
/* Compression of a blob from its first bytes: the OCI layer media type to use. */
const char *img_layer_media_type(int fd);

/* ---- snapshots (snapshot.c) ---- */

enum img_driver {
        IMG_DRIVER_OVERLAY = 0,
        IMG_DRIVER_VFS = 1,
};

const char *img_driver_name(enum img_driver d);
int img_driver_parse(const char *s, enum img_driver *out, berth_error_t *err);
/* BERTH_STORAGE_DRIVER, else overlay if the kernel has it, else vfs. */
enum img_driver img_driver_default(void);

/* Make sure layers/<diffid hex>/diff exists for every layer of img (each unpacked
 * once; concurrent callers race safely). */
int img_layers_ensure(struct img_store *s, const struct img_image *img, berth_error_t *err);
/* One layer of it (blob, its diffID checked as it unpacks), unpacked unless it is already;
 * read_fn (or NULL) is told the blob's bytes read so far. */
int img_layer_ensure(struct img_store *s, const struct img_desc *blob, const char *diffid,
                     void (*read_fn)(void *ctx, uint64_t done), void *read_ctx, berth_error_t *err);

/* A container's root filesystem from an image: the overlay (read-only lowers,
 * its own upper and work) mounted, or the vfs copy made, at the path written to
 * *rootfs (snapshots/<id>/rootfs).  The snapshot pins the image's blobs and
 * layers against garbage collection until img_rootfs_remove. */
int img_rootfs_prepare(struct img_store *s, const char *image, const char *container_id,
                       enum img_driver driver, char **rootfs, berth_error_t *err);
/* Mount again after a reboot or in a new mount namespace (rootless berth's, made anew);
 * a no-op for vfs and for a rootfs that is mounted already. */
int img_rootfs_mount(struct img_store *s, const char *container_id, berth_error_t *err);
int img_rootfs_remove(struct img_store *s, const char *container_id, berth_error_t *err);
/* The snapshots directory, opened for reading its entries: 1, or 0 (*dir NULL) where there is
 * none yet. */
int img_snapshots_open(struct img_store *s, DIR **dir, berth_error_t *err);
/* Manifest digests pinned by snapshots (for rmi and gc). */
int img_snapshots_images(struct img_store *s, char ***manifests, size_t *n, berth_error_t *err);
/* The id of a container (a snapshot named by a 64-hex id) whose image is manifest, malloc'ed,
 * or NULL. */
char *img_snapshot_user(struct img_store *s, const char *manifest);

/* The tree at dirfd as a plain tar stream on outfd (`berth export`): entries sorted, sockets
 * and overlay's own xattrs left out, hard links kept. */
int img_tar_dir(int dirfd, int outfd, berth_error_t *err);

/* What a container changed (`berth diff`), as Docker's overlay2 driver reports it from the
 * snapshot's upper dir: kind 'A' (added), 'C' (changed), 'D' (deleted), paths absolute, in
 * Docker's order (a depth-first walk, names sorted; a changed file's directory before it).
 * Fails with ENOTSUP for a vfs snapshot, which keeps no upper dir. */
typedef void (*img_change_fn)(char kind, const char *path, void *ctx);
int img_rootfs_changes(struct img_store *s, const char *container_id, img_change_fn fn, void *ctx,
                       berth_error_t *err);

/* Copy a tree applying overlay whiteouts found in src (vfs driver). */
int img_vfs_apply(int srcfd, int dstfd, berth_error_t *err);

/* ---- garbage collection (gc.c) ---- */

struct img_gc_stats {
        uint64_t blobs;
        uint64_t layers;
        uint64_t bytes;
};

/* Delete blobs and unpacked layers no image in the table and no snapshot
 * references, and stale temporary files. */
int img_gc(struct img_store *s, struct img_gc_stats *stats, berth_error_t *err);

/* Forget `berth build`'s layer cache (the keys deleted appended to deleted, when given); the
 * images it kept go with the next img_gc unless something else names them. */
int img_build_cache_clear(struct img_store *s, json_t *deleted, berth_error_t *err);

/* ---- tree helpers (fsutil.c) ---- */

/* rm -rf of dirfd/name, never following symlinks. */
int img_rm_rf_at(int dirfd, const char *name, berth_error_t *err);

/* Overlay's own metadata.  Root marks opaque directories with trusted.overlay.opaque; in a
 * user namespace (rootless berth) trusted.* can't be set, so layers get user.overlay.opaque
 * and the overlay is mounted with `userxattr`.  Readers accept either. */
const char *img_opaque_xattr(void);
bool img_is_overlay_xattr(const char *name);
bool img_dir_is_opaque(int fd);
/* Remove everything inside the directory dirfd. */
int img_empty_dir(int dirfd, berth_error_t *err);
/* The names in the directory dirfd (without "." and ".."), sorted bytewise (tar and Docker's
 * change lists are in that order): *names and each name malloc'ed, free with
 * img_names_free.  rel names the directory in the error. */
int img_dir_sorted_names(int dirfd, const char *rel, char ***names, size_t *n, berth_error_t *err);
void img_names_free(char **names, size_t n);

/* ---- formats (import.c, archive.c) ---- */

struct img_change {
        const char *const *changes; /* Dockerfile-like lines: "CMD [\"sh\"]", "ENV A=b" */
        size_t n;
        const char *message; /* history comment */
        const char *author;  /* commit: the image's Author (none: Docker's "", not inherited) */
};

/* A rootfs tarball (any compression libarchive reads) from fd becomes a
 * one-layer image.  Writes the manifest digest. */
int img_import_rootfs(struct img_store *s, int fd, const char *name,
                      const struct img_change *change, char out[IMG_DIGEST_MAX],
                      berth_error_t *err);
/* A fresh image config: created now, this host's architecture, linux, no layers. */
json_t *img_config_new(void);
char *img_now_rfc3339(void);
/* Append a layer's diffID (unless NULL) to cfg's rootfs.diff_ids, making rootfs if the
 * config has none. */
void img_config_add_layer(json_t *cfg, const char *diffid);
/* This host's architecture in Go's (OCI's) names: "amd64", "arm64". */
const char *img_host_arch(void);

/* ---- platforms (platform.c) ---- */

#define IMG_PLATFORM_WORD 32
struct img_platform {
        char os[IMG_PLATFORM_WORD], arch[IMG_PLATFORM_WORD], variant[IMG_PLATFORM_WORD];
};
/* This host's: linux and its architecture, any variant. */
void img_platform_host(struct img_platform *p);
/* "os[/arch[/variant]]" or an architecture alone, normalised (x86_64 is amd64); a bad one is
 * containerd's error, exit status 1. */
int img_platform_parse(const char *s, struct img_platform *p, berth_error_t *err);
/* Does an index entry's os, architecture and variant (may be NULL) give what want asks for? */
bool img_platform_match(const struct img_platform *want, const char *os, const char *arch,
                        const char *variant);
void img_platform_format(const struct img_platform *p, char *buf, size_t len);
/* Apply one Dockerfile-style change to an image config. */
int img_config_apply_change(json_t *cfg, const char *change, berth_error_t *err);

enum img_archive_format {
        IMG_FMT_DOCKER_ARCHIVE = 0, /* docker save tar; also carries an OCI index (as Docker 25) */
        IMG_FMT_OCI_ARCHIVE = 1,    /* OCI image layout as a tar */
        IMG_FMT_OCI_DIR = 2,        /* OCI image layout as a directory */
};

int img_archive_format_parse(const char *s, enum img_archive_format *out, berth_error_t *err);

/* Write the images (names or IDs) to path ("-" = stdout for the tar formats). */
int img_save(struct img_store *s, const char *const *images, size_t n, enum img_archive_format fmt,
             const char *path, berth_error_t *err);

/* Load a docker-archive or OCI layout (tar or directory; "-" = stdin).  Calls
 * report once per loaded image with its name (or NULL) and manifest digest. */
typedef void (*img_load_report_fn)(void *ctx, const char *name, const char *manifest,
                                   const char *config);
int img_load(struct img_store *s, const char *path, img_load_report_fn report, void *ctx,
             berth_error_t *err);

/* ---- commit (commit.c) ---- */

/* Write the directory (an overlay upper dir) as a gzip layer blob: whiteouts and opaque
 * dirs become OCI ".wh." entries, entries sorted, owners/modes/xattrs/times kept. */
int img_layer_from_dir(struct img_store *s, int dirfd, struct img_desc *layer,
                       char diffid[IMG_DIGEST_MAX], berth_error_t *err);
/* A new image: the container's image plus its changes as one more layer (overlay
 * snapshots only), named name (may be NULL), with changes applied to the config. */
int img_commit(struct img_store *s, const char *container_id, const char *name,
               const struct img_change *change, char out[IMG_DIGEST_MAX], berth_error_t *err);

/* ---- registry client (registry.c, registry_http.c, auth.c) ---- */

struct img_registry_opts {
        int tls_verify;        /* 1: verify; 0: don't, and allow plain http; -1: verify except
                                  for localhost/127.0.0.0/8/::1, which may also be plain http */
        const char *cert_dir;  /* ca.crt (and client.cert/client.key) for the registry */
        const char *auth_file; /* credentials, Docker's config.json shape ("auths") */
        bool quiet;            /* no progress lines */
        int retries;           /* extra attempts on transient failures (default 3) */
        uint64_t chunk_size;   /* push blobs larger than this in PATCH chunks (0: one PUT) */
        /* credentials given with the request (the Engine API's X-Registry-Auth): they win
         * over auth_file's */
        const char *user, *password;
        /* progress lines to this function instead of stdout (the Engine API streams them as
         * JSON), each as the CLI prints it: "<id>: <status>" or "<status>" */
        void (*progress_fn)(void *ctx, const char *line);
        void *progress_ctx;
        /* pull: a layer's bytes so far (progress_ctx too), for dockerd's progressDetail; at
         * most one per 512 KiB and 100 ms, and always the last (current == total) */
        void (*bytes_fn)(void *ctx, const char *id, const char *status, int64_t current,
                         int64_t total);
        /* pull: the platform to pick from an image index ("os/arch[/variant]"; NULL: this
         * host's) */
        const char *platform;
        /* pull: every tag the registry lists for the repository (docker pull --all-tags) */
        bool all_tags;
        /* credentials per registry, the Engine API's X-Registry-Config: "HOST" (or
         * "https://HOST/v1/") → {"username", "password"}; used for the registry named after
         * user and password, before auth_file (borrowed; NULL: none) */
        json_t *auths;
};

/* Pull NAME[:TAG|@DIGEST] (host[:port]/path) into the store, verifying every digest
 * and diffID; the image is named by the reference.  Writes the manifest digest.  With
 * o->all_tags, NAME is a repository alone and each tag it has is pulled (out: the last's). */
int img_pull(struct img_store *s, const char *ref, const struct img_registry_opts *o,
             char out[IMG_DIGEST_MAX], berth_error_t *err);
/* Push a local image to dest (NULL: its own name); blobs the registry has are skipped. */
int img_push(struct img_store *s, const char *image, const char *dest,
             const struct img_registry_opts *o, char out[IMG_DIGEST_MAX], berth_error_t *err);
/* Check credentials against the registry, then store them (file mode 0600). */
int img_login(const char *registry, const char *user, const char *password,
              const struct img_registry_opts *o, berth_error_t *err);
/* Only check them (the Engine API's POST /auth stores nothing). */
int img_login_check(const char *registry, const char *user, const char *password,
                    const struct img_registry_opts *o, berth_error_t *err);
/* Store credentials without checking them. */
int img_auth_put(const char *auth_file, const char *registry, const char *user,
                 const char *password, berth_error_t *err);
/* Forget a registry's credentials.  Returns 1 if there were any, 0 if not. */
int img_logout(const char *auth_file, const char *registry, berth_error_t *err);
/* Look up stored credentials (both NULL when there are none). */
int img_auth_get(const char *auth_file, const char *registry, char **user, char **password,
                 berth_error_t *err);

/* ---- what front-ends show (describe.c) ---- */

/* Seconds since the epoch of an RFC 3339 time (0 if it isn't one); the image's creation. */
int64_t img_time_sec(const char *rfc3339);
int64_t img_created_sec(const struct img_image *img);
/* `docker image inspect`'s object for an image (e may be NULL: no names). */
json_t *img_inspect_json(const struct img_entry *e, const struct img_image *img);
/* "repo@sha256:…" for each repository naming the image, once each. */
json_t *img_repo_digests(const struct img_entry *e, const char *manifest_digest);
/* The history steps, newest first: [{CreatedAt (RFC 3339 or ""), CreatedBy, Comment, Size
 * (the layer the step made, 0 for none)}]. */
json_t *img_history(const struct img_image *img);
/* Docker's reference filter: the glob matches the name's repository or the whole name. */
bool img_ref_matches(const char *pattern, const char *name);
/* The normalized name if what (as typed) is one of e's names, else NULL (an ID, a digest). */
char *img_named_by(const struct img_entry *e, const char *what);

/* ---- removing and naming (remove.c) ---- */

/* kind "Untagged" with a name, or "Deleted" with an image ID, as each happens. */
typedef void (*img_remove_report_fn)(void *ctx, const char *kind, const char *value);
/* rmi of one argument: a name loses that name (the image goes with its last one); an ID
 * removes every name and the image.  pins: manifests containers use (img_snapshots_images):
 * refused unless force, and then only the names go.  Blobs stay until img_gc. */
int img_remove(struct img_store *s, const char *what, bool force, char *const *pins, size_t n_pins,
               img_remove_report_fn fn, void *ctx, berth_error_t *err);
/* Which prune candidates go (img is NULL when it could not be loaded). */
typedef bool (*img_prune_filter_fn)(void *ctx, const struct img_entry *e,
                                    const struct img_image *img);
/* Remove the dangling images (all: every image) no container uses and keep (if any) accepts.
 * Blobs stay until img_gc. */
int img_prune(struct img_store *s, bool all, img_prune_filter_fn keep, void *keep_ctx,
              img_remove_report_fn fn, void *ctx, berth_error_t *err);
/* Give the image source (a name or ID) the normalized name target. */
int img_tag(struct img_store *s, const char *source, const char *target, berth_error_t *err);

/* ---- events (events.c) ---- */

/* Log an image event (common/eventlog.h) for the image of manifest: Actor.ID its ID, its
 * labels and name (NULL: the ID, as dockerd names untag and delete events). */
void img_event(struct img_store *s, const char *manifest, const char *action, const char *name);

#endif
