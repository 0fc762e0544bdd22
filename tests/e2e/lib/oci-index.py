#!/usr/bin/env python3
"""oci-index.py DIR NAME PLATFORM... — wrap the one image of the OCI layout DIR (as `berth
save --format oci-dir` writes it) in an image index named NAME, one entry per PLATFORM
("os/arch[/variant]", in that order).  The entry for the image's own architecture is the
image itself; any other is the same layers under a config that says that platform.  For the
registry tests, which push the index with `skopeo copy --all`."""
import hashlib
import json
import os
import sys

d, name, platforms = sys.argv[1], sys.argv[2], sys.argv[3:]
blobs = os.path.join(d, "blobs", "sha256")


def put(obj):
    body = json.dumps(obj).encode()
    h = hashlib.sha256(body).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(body)
    return "sha256:" + h, len(body)


def get(digest):
    with open(os.path.join(blobs, digest[7:])) as f:
        return json.load(f)


idx = json.load(open(os.path.join(d, "index.json")))
m = dict(idx["manifests"][0])
m.pop("annotations", None)
man = get(m["digest"])
cfg = get(man["config"]["digest"])
entries = []
for p in platforms:
    os_, arch, *variant = p.split("/")
    e = dict(m)
    if arch != cfg.get("architecture"):
        c = dict(cfg, os=os_, architecture=arch)
        if variant:
            c["variant"] = variant[0]
        mm = json.loads(json.dumps(man))
        mm["config"]["digest"], mm["config"]["size"] = put(c)
        e["digest"], e["size"] = put(mm)
    e["platform"] = {"os": os_, "architecture": arch}
    if variant:
        e["platform"]["variant"] = variant[0]
    entries.append(e)
digest, size = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": entries})
idx["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest,
                     "size": size, "annotations": {"org.opencontainers.image.ref.name": name}}]
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
