/* images.h — what the image endpoints' two files (images.c, images_xfer.c) share. */
#ifndef BERTH_API_IMAGES_H
#define BERTH_API_IMAGES_H

#include "api/api_internal.h"
#include "image/image.h"

/* Open the store (and load its table unless t is NULL); on failure a reply is queued. */
int api_img_open(struct api_req *r, struct img_store *s, struct img_table *t);
/* Look what up and load it; on failure dockerd's 404 ("No such image: busybox:latest") or
 * another error is queued. */
int api_img_find(struct api_req *r, struct img_store *s, struct img_table *t, const char *what,
                 struct img_entry **e, struct img_image *img);
void api_img_no_such(struct api_req *r, const char *what);

/* images_xfer.c */
/* A header that carries base64url JSON (X-Registry-Auth, X-Registry-Config), decoded; NULL
 * when absent or not that. */
json_t *api_header_json(struct api_req *r, const char *name);
/* The registry credentials berth login stores, which pulls and pushes use. */
char *api_auth_file(const struct berth_paths *p);
/* "<id>: <status>" or "<status>", as the registry client words a progress line for the CLI,
 * to dockerd's JSON message. */
json_t *api_progress_json(const char *line);
void api_images_create(struct api_req *r); /* pull (fromImage) or import (fromSrc) */
void api_images_push(struct api_req *r);
void api_images_get(struct api_req *r); /* save: a docker-archive tarball */
void api_images_load(struct api_req *r);
void api_commit(struct api_req *r); /* POST /commit: a container's changes as an image */

#endif
